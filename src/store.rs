//! The working ledger: a sled database in a directory.
//!
//! Entries live under `e` + big-endian sequence number, and the head record
//! (size and hash of the last entry) under `head`. A batch of entries and its
//! new head record go in as one sled batch, followed by a flush, so an append
//! is all or nothing across crashes and durable once it returns.

use crate::entry::Hash;
use crate::error::Error;
use std::collections::HashMap;
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

/// An open ledger directory. Holding it holds the ledger's lock.
pub(crate) struct Store {
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

impl Store {
    /// Creates the database of a new ledger directory at `path`, which must
    /// not exist. It is not a ledger until `mark_ready`.
    pub fn create(path: &Path) -> Result<Store, Error> {
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
    pub fn open(path: &Path) -> Result<Store, Error> {
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

    fn open_db(path: &Path) -> Result<Store, Error> {
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
                    return Ok(Store {
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
        let Store { db, path, .. } = self;
        drop(db);
        drop(Self::open_db(&path)?);
        Ok(())
    }

    /// The stored head record: number of entries and hash of the last.
    pub fn head(&self) -> Result<Option<(u64, Hash)>, Error> {
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

    /// Iterates the stored entries' bytes in sequence order, from `first`.
    pub fn entries_from(&self, first: u64) -> impl Iterator<Item = Result<Vec<u8>, Error>> + '_ {
        self.db
            .range(entry_key(first)..=entry_key(u64::MAX))
            .map(|r| r.map(|(_, v)| v.to_vec()).map_err(store_err))
    }

    /// Appends `entries` as numbers `first..`, with the new head and the
    /// Merkle tree nodes they complete, atomically and durably.
    pub fn append(&self, first: u64, entries: &[Vec<u8>], head: Hash) -> Result<(), Error> {
        self.append_with(first, entries, head, true, None)
    }

    /// The verification record of a signing key (`record`), if any.
    pub fn record(&self, key: &[u8; 32]) -> Result<Option<Vec<u8>>, Error> {
        Ok(self
            .db
            .get(record_key(key))
            .map_err(store_err)?
            .map(|v| v.to_vec()))
    }

    /// Replaces a signing key's verification record, durably.
    pub fn put_record(&self, key: &[u8; 32], bytes: &[u8]) -> Result<(), Error> {
        self.db.insert(record_key(key), bytes).map_err(store_err)?;
        self.db.flush().map_err(store_err)?;
        Ok(())
    }

    /// As `append`; without `tree`, the Merkle tree is left behind, to be
    /// caught up by the next append that keeps it.
    pub fn append_with(
        &self,
        first: u64,
        entries: &[Vec<u8>],
        head: Hash,
        tree: bool,
        record: Option<(&[u8; 32], &[u8])>,
    ) -> Result<(), Error> {
        let mut batch = sled::Batch::default();
        if let Some((key, bytes)) = record {
            batch.insert(&record_key(key)[..], bytes);
        }
        if tree {
            self.tree_nodes(first, entries, &mut batch)?;
        }
        for (i, e) in entries.iter().enumerate() {
            batch.insert(&entry_key(first + i as u64)[..], e.as_slice());
        }
        let size = first + entries.len() as u64;
        let mut h = Vec::with_capacity(40);
        h.extend_from_slice(&size.to_be_bytes());
        h.extend_from_slice(&head);
        batch.insert(HEAD_KEY, h);
        self.db.apply_batch(batch).map_err(store_err)?;
        self.db.flush().map_err(store_err)?;
        Ok(())
    }

    /// Adds to `batch` the tree nodes that entries `first..` complete (and
    /// any the tree lacks before them), and the new tree size.
    fn tree_nodes(
        &self,
        first: u64,
        entries: &[Vec<u8>],
        batch: &mut sled::Batch,
    ) -> Result<(), Error> {
        // A ledger written before the tree was kept catches up first.
        let start = self.tree_size()?.min(first);
        let mut w = NodeWriter {
            store: self,
            fresh: HashMap::new(),
        };
        for seq in start..first {
            let e = self
                .entry(seq)?
                .ok_or_else(|| Error::Store(format!("entry {seq} is missing")))?;
            w.add_leaf(seq, crate::merkle::leaf_hash(&e))?;
        }
        for (i, e) in entries.iter().enumerate() {
            w.add_leaf(first + i as u64, crate::merkle::leaf_hash(e))?;
        }
        for ((level, index), hash) in w.fresh {
            if level > 0 {
                batch.insert(&node_key(level, index)[..], &hash[..]);
            }
        }
        let size = first + entries.len() as u64;
        batch.insert(TREE_KEY, &size.to_be_bytes()[..]);
        Ok(())
    }

    /// Number of leaves whose tree nodes are stored.
    pub fn tree_size(&self) -> Result<u64, Error> {
        match self.db.get(TREE_KEY).map_err(store_err)? {
            None => Ok(0),
            Some(v) => <[u8; 8]>::try_from(v.as_ref())
                .map(u64::from_be_bytes)
                .map_err(|_| Error::Store("tree record has the wrong length".into())),
        }
    }

    /// One entry's bytes.
    pub fn entry(&self, seq: u64) -> Result<Option<Vec<u8>>, Error> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(self
            .db
            .get(entry_key(seq))
            .map_err(store_err)?
            .map(|v| v.to_vec()))
    }
}

/// Tree levels stored: every fourth (16, 256, 4096... leaves per node).
/// The levels between are recomputed from at most 8 nodes of the stored
/// level below, and leaves from the entries themselves, so the tree adds
/// about one small record per 16 entries.
const STRIDE: u8 = 4;

fn node_key(level: u8, index: u64) -> [u8; 10] {
    let mut k = [0u8; 10];
    k[0] = b'm';
    k[1] = level;
    k[2..].copy_from_slice(&index.to_be_bytes());
    k
}

/// Hashes `2^span` consecutive nodes of one level up to their common root.
fn fold(mut hashes: Vec<[u8; 32]>) -> [u8; 32] {
    while hashes.len() > 1 {
        hashes = hashes
            .chunks(2)
            .map(|p| crate::merkle::node_hash(&p[0], &p[1]))
            .collect();
    }
    hashes[0]
}

impl crate::merkle::Nodes for Store {
    fn node(&self, level: u8, index: u64) -> Result<crate::merkle::TreeHash, String> {
        if level == 0 {
            let e = self
                .entry(index)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("entry {index} is missing"))?;
            return Ok(crate::merkle::leaf_hash(&e));
        }
        if level % STRIDE == 0 {
            let v = self
                .db
                .get(node_key(level, index))
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("tree node {level}/{index} is missing"))?;
            return <[u8; 32]>::try_from(v.as_ref())
                .map_err(|_| format!("tree node {level}/{index} is damaged"));
        }
        let span = level % STRIDE;
        let base = level - span;
        let first = index << span;
        let children = (first..first + (1u64 << span))
            .map(|i| self.node(base, i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(fold(children))
    }
}

/// Computes the stored nodes new leaves complete.
struct NodeWriter<'a> {
    store: &'a Store,
    /// Nodes of this batch by (level, index); leaves (level 0) are kept in
    /// memory only.
    fresh: HashMap<(u8, u64), [u8; 32]>,
}

impl NodeWriter<'_> {
    fn get(&self, level: u8, index: u64) -> Result<[u8; 32], Error> {
        if let Some(h) = self.fresh.get(&(level, index)) {
            return Ok(*h);
        }
        crate::merkle::Nodes::node(self.store, level, index).map_err(Error::Store)
    }

    fn add_leaf(&mut self, index: u64, leaf: [u8; 32]) -> Result<(), Error> {
        self.fresh.insert((0, index), leaf);
        let (mut level, mut idx) = (0u8, index);
        let block = (1u64 << STRIDE) - 1;
        // Each completed block of 16 nodes gives one node STRIDE levels up.
        while idx & block == block {
            let first = idx - block;
            let children = (first..=idx)
                .map(|i| self.get(level, i))
                .collect::<Result<Vec<_>, _>>()?;
            level += STRIDE;
            idx >>= STRIDE;
            self.fresh.insert((level, idx), fold(children));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{self, Nodes};
    use std::sync::atomic::Ordering;

    /// A proof from a ledger of 2^20 entries reads a few dozen of them, not
    /// the ledger: the stored subtrees answer for the rest.
    #[test]
    fn a_proof_from_a_million_entries_reads_a_handful() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("L");
        let store = Store::create(&path).unwrap();
        store.mark_ready().unwrap();
        let n: u64 = 1 << 20;
        let entry = |i: u64| i.to_be_bytes().repeat(4);
        let batch = 1 << 16;
        for first in (0..n).step_by(batch as usize) {
            let entries: Vec<Vec<u8>> = (first..first + batch).map(entry).collect();
            store.append(first, &entries, [0; 32]).unwrap();
        }
        assert_eq!(store.tree_size().unwrap(), n);
        store.reads.store(0, Ordering::Relaxed);
        let size = n - 3;
        let root = merkle::root(&store, size).unwrap();
        for &i in &[0, 1, 12_345, 524_287, 524_288, size - 1] {
            let proof = merkle::inclusion_proof(&store, i, size).unwrap();
            merkle::verify_inclusion(i, size, &merkle::leaf_hash(&entry(i)), &proof, &root)
                .unwrap();
        }
        let old = merkle::root(&store, 700_001).unwrap();
        let proof = merkle::consistency_proof(&store, 700_001, size).unwrap();
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
        assert_eq!(store.node(8, 0).unwrap(), t.node(8, 0).unwrap());
    }
}
