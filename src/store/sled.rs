//! The embedded store: a sled database in a directory.
//!
//! Entries live under `e` + big-endian sequence number, and the head record
//! (size and hash of the last entry) under `head`. A batch of entries and its
//! new head record go in as one sled batch, followed by a flush, so an append
//! is all or nothing across crashes and durable once it returns.

use super::{Batch, Store};
use crate::entry::Hash;
use crate::error::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const FORMAT_KEY: &[u8] = b"format";
/// Written last when a ledger directory is created: a directory without it
/// (an interrupted `init` or `import`) is never opened as a ledger.
const FORMAT_VALUE: &[u8] = b"custody-ledger-v2";
const HEAD_KEY: &[u8] = b"head";
const TREE_KEY: &[u8] = b"tree";
/// Prefix of each signing key's verification record (`record`).
const RECORD_PREFIX: u8 = b'r';
/// How long to wait for another process to release the ledger.
const LOCK_WAIT: Duration = Duration::from_secs(3);

/// How long to wait for a ledger another process holds, in milliseconds.
static LOCK_WAIT_MS: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(LOCK_WAIT.as_millis() as u64);
/// Called once per open that has to wait (the CLI says it is waiting).
static LOCK_NOTICE: std::sync::OnceLock<fn(&Path, Duration)> = std::sync::OnceLock::new();

/// Sets how long opening a ledger directory that another process holds
/// waits before giving up with [`Error::Locked`] (3 seconds by default),
/// and a function called once when an open starts waiting, with the
/// ledger and the time it will wait. For the process as a whole.
pub fn set_lock_wait(wait: Duration, notice: Option<fn(&Path, Duration)>) {
    LOCK_WAIT_MS.store(
        wait.as_millis().min(u64::MAX as u128) as u64,
        std::sync::atomic::Ordering::Relaxed,
    );
    if let Some(n) = notice {
        let _ = LOCK_NOTICE.set(n);
    }
}

/// How long opening a ledger waits for another process to release it.
pub(crate) fn lock_wait() -> Duration {
    Duration::from_millis(LOCK_WAIT_MS.load(std::sync::atomic::Ordering::Relaxed))
}

/// An open ledger directory. Holding it holds the ledger's lock.
pub(crate) struct Sled {
    db: sled::Db,
    path: PathBuf,
    /// Entries read one by one (not by a scan): what proofs cost.
    reads: std::sync::atomic::AtomicU64,
}

fn entry_key(seq: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = b'e';
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

fn record_key(key: &[u8; 32]) -> [u8; 33] {
    let mut k = [0u8; 33];
    k[0] = RECORD_PREFIX;
    k[1..].copy_from_slice(key);
    k
}

fn store_err(e: sled::Error) -> Error {
    Error::Store(e.to_string())
}

/// Whether `path` looks like a ledger directory (without opening it).
pub(crate) fn looks_like_store(path: &Path) -> bool {
    path.join("db").is_file() && path.join("conf").is_file()
}

impl Sled {
    /// Creates the database of a new ledger directory at `path`, which must
    /// not exist. It is not a ledger until `mark_ready`.
    pub fn create(path: &Path) -> Result<Sled, Error> {
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(Error::usage(format!(
                "{} already exists; a new ledger never touches an existing path",
                path.display()
            )));
        }
        Self::open_db(path)
    }

    /// Marks a newly created ledger directory complete, durably.
    pub fn mark_ready(&self) -> Result<(), Error> {
        self.db
            .insert(FORMAT_KEY, FORMAT_VALUE)
            .map_err(store_err)?;
        self.db.flush().map_err(store_err)?;
        Ok(())
    }

    /// Opens an existing ledger directory, waiting briefly if another
    /// process holds it.
    pub fn open(path: &Path) -> Result<Sled, Error> {
        if !path.exists() {
            return Err(Error::usage(format!(
                "{}: no such ledger (`custody init {} --key KEY --name NAME` creates one)",
                path.display(),
                path.display()
            )));
        }
        if !looks_like_store(path) {
            return Err(Error::usage(format!(
                "{}: not a custody ledger directory",
                path.display()
            )));
        }
        let store = Self::open_db(path)?;
        match store.db.get(FORMAT_KEY).map_err(store_err)? {
            Some(v) if v.as_ref() == FORMAT_VALUE => Ok(store),
            Some(v) if v.as_ref() == b"custody-ledger-v1" => Err(Error::usage(format!(
                "{}: a ledger of format 1, whose rules let any appender license, release or assign \
                 any artifact; this custody reads format 2 only: re-create the ledger",
                path.display()
            ))),
            Some(_) => Err(Error::usage(format!(
                "{}: a database, but not a custody ledger",
                path.display()
            ))),
            None => Err(Error::usage(format!(
                "{}: an unfinished ledger directory (an interrupted `init` or `import`); \
                 delete it and run the command again",
                path.display()
            ))),
        }
    }

    fn open_db(path: &Path) -> Result<Sled, Error> {
        let start = Instant::now();
        let mut noticed = false;
        loop {
            let res = sled::Config::new()
                .path(path)
                .cache_capacity(32 * 1024 * 1024)
                // Durability comes from the explicit flush after each batch.
                .flush_every_ms(None)
                .open();
            match res {
                Ok(db) => {
                    return Ok(Sled {
                        db,
                        path: path.to_path_buf(),
                        reads: std::sync::atomic::AtomicU64::new(0),
                    })
                }
                Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                    let wait = Duration::from_millis(
                        LOCK_WAIT_MS.load(std::sync::atomic::Ordering::Relaxed),
                    );
                    if start.elapsed() >= wait {
                        return Err(Error::Locked(path.to_path_buf()));
                    }
                    // Said only when the wait is noticeable: a lock held
                    // for a moment (a process closing it) is not news.
                    if !noticed && start.elapsed() >= Duration::from_millis(500) {
                        noticed = true;
                        if let Some(n) = LOCK_NOTICE.get() {
                            n(path, wait);
                        }
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(sled::Error::Io(e)) => return Err(Error::io(path, e)),
                Err(e) => return Err(store_err(e)),
            }
        }
    }

    /// Closes the store after a write, leaving it in the state that a later
    /// open reads without writing anything.
    ///
    /// sled writes its recovery snapshot when it opens a log that has grown
    /// since the last snapshot. Opening once more here, inside the command
    /// that wrote, means a later command that fails (a refused append) leaves
    /// the directory byte for byte as it found it.
    pub fn close_after_write(self) -> Result<(), Error> {
        let Sled { db, path, .. } = self;
        drop(db);
        drop(Self::open_db(&path)?);
        Ok(())
    }
}

impl Store for Sled {
    fn head(&self) -> Result<Option<(u64, Hash)>, Error> {
        let Some(v) = self.db.get(HEAD_KEY).map_err(store_err)? else {
            return Ok(None);
        };
        if v.len() != 40 {
            return Err(Error::Store("head record has the wrong length".into()));
        }
        let mut n = [0u8; 8];
        n.copy_from_slice(&v[..8]);
        let mut h = [0u8; 32];
        h.copy_from_slice(&v[8..]);
        Ok(Some((u64::from_be_bytes(n), h)))
    }

    fn entries_from(&self, first: u64) -> Box<dyn Iterator<Item = Result<Vec<u8>, Error>> + '_> {
        Box::new(
            self.db
                .range(entry_key(first)..=entry_key(u64::MAX))
                .map(|r| r.map(|(_, v)| v.to_vec()).map_err(store_err)),
        )
    }

    fn record(&self, key: &[u8; 32]) -> Result<Option<Vec<u8>>, Error> {
        Ok(self
            .db
            .get(record_key(key))
            .map_err(store_err)?
            .map(|v| v.to_vec()))
    }

    fn write(&self, b: &Batch<'_>) -> Result<(), Error> {
        let mut batch = sled::Batch::default();
        if let Some((key, bytes)) = b.record {
            batch.insert(&record_key(key)[..], bytes);
        }
        if let Some((nodes, size)) = &b.tree {
            for ((level, index), hash) in nodes {
                batch.insert(&node_key(*level, *index)[..], &hash[..]);
            }
            batch.insert(TREE_KEY, &size.to_be_bytes()[..]);
        }
        for (i, e) in b.entries.iter().enumerate() {
            batch.insert(&entry_key(b.first + i as u64)[..], e.as_slice());
        }
        if !b.entries.is_empty() {
            let size = b.first + b.entries.len() as u64;
            let mut h = Vec::with_capacity(40);
            h.extend_from_slice(&size.to_be_bytes());
            h.extend_from_slice(&b.head);
            batch.insert(HEAD_KEY, h);
        }
        self.db.apply_batch(batch).map_err(store_err)?;
        self.db.flush().map_err(store_err)?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), Error> {
        self.close_after_write()
    }

    fn tree_size(&self) -> Result<u64, Error> {
        match self.db.get(TREE_KEY).map_err(store_err)? {
            None => Ok(0),
            Some(v) => <[u8; 8]>::try_from(v.as_ref())
                .map(u64::from_be_bytes)
                .map_err(|_| Error::Store("tree record has the wrong length".into())),
        }
    }

    fn stored_node(&self, level: u8, index: u64) -> Result<Option<[u8; 32]>, Error> {
        match self.db.get(node_key(level, index)).map_err(store_err)? {
            None => Ok(None),
            Some(v) => <[u8; 32]>::try_from(v.as_ref())
                .map(Some)
                .map_err(|_| Error::Store(format!("tree node {level}/{index} is damaged"))),
        }
    }

    fn entry(&self, seq: u64) -> Result<Option<Vec<u8>>, Error> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(self
            .db
            .get(entry_key(seq))
            .map_err(store_err)?
            .map(|v| v.to_vec()))
    }
}

fn node_key(level: u8, index: u64) -> [u8; 10] {
    let mut k = [0u8; 10];
    k[0] = b'm';
    k[1] = level;
    k[2..].copy_from_slice(&index.to_be_bytes());
    k
}

/// Builds a new ledger directory under a temporary name beside `path`,
/// marks it complete and renames it to `path`. On any failure nothing is
/// left at `path`.
pub(crate) fn build_dir(
    path: &Path,
    fill: impl FnOnce(&Sled) -> Result<(), Error>,
) -> Result<(), Error> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(Error::usage(format!(
            "{} already exists; a new ledger never touches an existing path",
            path.display()
        )));
    }
    crate::files::check_output(path)?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".custody-new-")
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))?;
    let dir = tmp.path().join("ledger");
    let store = Sled::create(&dir)?;
    fill(&store)?;
    store.mark_ready()?;
    store.close_after_write()?;
    // Checked again just before the rename, which would replace an empty
    // directory created meanwhile.
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(Error::usage(format!(
            "{} appeared while the ledger was being built; nothing was written",
            path.display()
        )));
    }
    std::fs::rename(&dir, path).map_err(|e| Error::io(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{self, Nodes};
    use crate::store::{append_entries, StoredTree, STRIDE};
    use std::sync::atomic::Ordering;

    /// A proof from a ledger of 2^20 entries reads a few dozen of them, not
    /// the ledger: the stored subtrees answer for the rest.
    #[test]
    fn a_proof_from_a_million_entries_reads_a_handful() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("L");
        let store = Sled::create(&path).unwrap();
        store.mark_ready().unwrap();
        let n: u64 = 1 << 20;
        let entry = |i: u64| i.to_be_bytes().repeat(4);
        let batch = 1 << 16;
        for first in (0..n).step_by(batch as usize) {
            let entries: Vec<Vec<u8>> = (first..first + batch).map(entry).collect();
            append_entries(&store, first, &entries, [0; 32], true, None).unwrap();
        }
        assert_eq!(store.tree_size().unwrap(), n);
        store.reads.store(0, Ordering::Relaxed);
        let size = n - 3;
        let tree = StoredTree(&store);
        let root = merkle::root(&tree, size).unwrap();
        for &i in &[0, 1, 12_345, 524_287, 524_288, size - 1] {
            let proof = merkle::inclusion_proof(&tree, i, size).unwrap();
            merkle::verify_inclusion(i, size, &merkle::leaf_hash(&entry(i)), &proof, &root)
                .unwrap();
        }
        let old = merkle::root(&tree, 700_001).unwrap();
        let proof = merkle::consistency_proof(&tree, 700_001, size).unwrap();
        merkle::verify_consistency(700_001, size, &proof, &old, &root).unwrap();
        let reads = store.reads.load(Ordering::Relaxed);
        assert!(
            reads < 600,
            "{reads} entries read for 6 proofs, 2 roots and a consistency proof"
        );
        // A stored node is what the leaves give.
        let mut t = merkle::MemoryTree::default();
        for i in 0..256 {
            t.push(merkle::leaf_hash(&entry(i)));
        }
        assert_eq!(tree.node(2 * STRIDE, 0).unwrap(), t.node(8, 0).unwrap());
    }
}
