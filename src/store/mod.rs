//! Where a ledger's entries are kept: a sled directory (the embedded
//! default) or a PostgreSQL database. The verifier, the rules, the Merkle
//! tree and openness never know which; they see the [`Store`] interface.
//!
//! What every store keeps, and the rules they share:
//!
//! - the entries, by sequence number, exactly as signed;
//! - a head record: the number of entries and the hash of the last;
//! - every fourth level of the Merkle tree's nodes (see `STRIDE`), and how
//!   many leaves they cover;
//! - per signing key, its sealed record of how far it verified the ledger.
//!
//! A batch (entries, head, nodes, record) is written all at once or not at
//! all. Nothing a store holds is trusted: whoever can write it can change
//! it, so everything that signs or proves verifies what it reads (see
//! `record`). Appenders take turns: a store opened to write holds the
//! ledger's lock (sled's file lock, a row lock on PostgreSQL) until it is
//! finished, so the head cannot move between verifying and writing.

mod postgres;
mod sled;

use crate::entry::Hash;
use crate::error::Error;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub(crate) use self::sled::looks_like_store;
pub use self::sled::set_lock_wait;

/// Where a ledger is: a path (a sled ledger directory, or an exported file
/// where a source is read) or a PostgreSQL URL,
/// `postgres://USER@HOST:PORT/DB?ledger=NAME` (or `postgresql://`), whose
/// `ledger` parameter picks one of the ledgers that database holds
/// (`default` when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A ledger directory or exported file.
    Path(PathBuf),
    /// A ledger in a PostgreSQL database, by URL.
    Postgres(String),
}

impl Location {
    /// Reads a location as a user gives it: a URL when it starts with
    /// `postgres://` or `postgresql://`, else a path.
    pub fn parse(s: &str) -> Location {
        if is_postgres_url(s) {
            Location::Postgres(s.to_string())
        } else {
            Location::Path(PathBuf::from(s))
        }
    }

    /// The path, for a path.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Location::Path(p) => Some(p),
            Location::Postgres(_) => None,
        }
    }

    /// What names this ledger's place for the key's records of it: a
    /// directory's absolute path, a URL without its password.
    pub(crate) fn binding_names(&self) -> Vec<String> {
        match self {
            // The directory itself, links in the path before it followed
            // (so `A/`, `x/../A` and `//A` are one name) and a link in its
            // own place not: a link put there, pointing at another ledger,
            // is caught by this name; another way to the same directory by
            // the second, where the links lead.
            Location::Path(p) => {
                // A relative path from where the shell says it is ($PWD,
                // links and all), so that a directory swapped for a link
                // after `cd` into it still goes by the name it had.
                let pwd = std::env::var_os("PWD")
                    .map(PathBuf::from)
                    .filter(|d| d.is_absolute() && p.is_relative())
                    // Only if it is where this process is (a parent may
                    // have set it and moved the child elsewhere).
                    .filter(|d| std::fs::canonicalize(d).ok() == std::env::current_dir().ok());
                let lexical = match pwd {
                    Some(d) => d.join(p),
                    None => std::path::absolute(p).unwrap_or_else(|_| p.clone()),
                };
                let own = match (lexical.parent(), lexical.file_name()) {
                    (Some(parent), Some(name)) => std::fs::canonicalize(parent)
                        .map(|d| d.join(name))
                        .unwrap_or_else(|_| lexical.components().collect()),
                    _ => lexical.components().collect(),
                };
                let real = std::fs::canonicalize(p).unwrap_or_else(|_| own.clone());
                let mut v = vec![own.display().to_string()];
                if real != own {
                    v.push(real.display().to_string());
                }
                v
            }
            Location::Postgres(u) => vec![postgres::binding_name(u)],
        }
    }

    /// Whether this names a ledger directory that exists, or a database
    /// ledger (which may or may not exist yet).
    pub(crate) fn is_store(&self) -> bool {
        match self {
            Location::Path(p) => p.is_dir(),
            Location::Postgres(_) => true,
        }
    }
}

fn is_postgres_url(s: &str) -> bool {
    let l = s.get(..13).unwrap_or(s).to_ascii_lowercase();
    l.starts_with("postgres://") || l.starts_with("postgresql://")
}

impl std::fmt::Display for Location {
    /// A path as given; a URL without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Path(p) => write!(f, "{}", p.display()),
            Location::Postgres(u) => f.write_str(&postgres::redact(u)),
        }
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Location {
        match p.to_str() {
            Some(s) if is_postgres_url(s) => Location::Postgres(s.to_string()),
            _ => Location::Path(p.to_path_buf()),
        }
    }
}

impl From<&PathBuf> for Location {
    fn from(p: &PathBuf) -> Location {
        Location::from(p.as_path())
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Location {
        Location::from(p.as_path())
    }
}

impl From<&str> for Location {
    fn from(s: &str) -> Location {
        Location::parse(s)
    }
}

impl From<&Location> for Location {
    fn from(l: &Location) -> Location {
        l.clone()
    }
}

/// What a store is opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Reading a consistent view; never blocks writers on PostgreSQL.
    Read,
    /// Writing: holds the ledger's lock until `finish`.
    Write,
}

/// Stored tree nodes by (level, index).
pub(crate) type TreeNodes = Vec<((u8, u64), [u8; 32])>;

/// One atomic write.
pub(crate) struct Batch<'a> {
    /// Sequence number of the first entry.
    pub first: u64,
    pub entries: &'a [Vec<u8>],
    /// The head after the batch (unused when `entries` is empty).
    pub head: Hash,
    /// Stored tree nodes the entries complete, and the tree's new size;
    /// `None` leaves the tree behind.
    pub tree: Option<(TreeNodes, u64)>,
    /// A signing key's new verification record.
    pub record: Option<(&'a [u8; 32], &'a [u8])>,
}

/// A ledger's storage. See the module documentation for what it keeps.
pub(crate) trait Store: Send + Sync {
    /// The head record: number of entries and hash of the last.
    fn head(&self) -> Result<Option<(u64, Hash)>, Error>;
    /// One entry's bytes.
    fn entry(&self, seq: u64) -> Result<Option<Vec<u8>>, Error>;
    /// The entries' bytes in sequence order, from `first`.
    fn entries_from(&self, first: u64) -> Box<dyn Iterator<Item = Result<Vec<u8>, Error>> + '_>;
    /// A signing key's verification record.
    fn record(&self, key: &[u8; 32]) -> Result<Option<Vec<u8>>, Error>;
    /// Leaves covered by the stored tree nodes.
    fn tree_size(&self) -> Result<u64, Error>;
    /// A stored tree node (levels that are multiples of `STRIDE`, above 0).
    fn stored_node(&self, level: u8, index: u64) -> Result<Option<[u8; 32]>, Error>;
    /// Writes a batch, all of it or none. Durable once `finish` returns.
    fn write(&self, batch: &Batch<'_>) -> Result<(), Error>;
    /// Ends a store opened to write: commits, releases the lock.
    fn finish(self: Box<Self>) -> Result<(), Error>;
    /// What the store itself says it is, when the location's spelling
    /// cannot (a database: its server's system identifier, database and
    /// ledger name), to remember which ledger a key built on there.
    fn place(&self) -> Option<String> {
        None
    }
}

/// Opens an existing ledger.
pub(crate) fn open(loc: &Location, mode: Mode) -> Result<Box<dyn Store>, Error> {
    match loc {
        Location::Path(p) => Ok(Box::new(self::sled::Sled::open(p)?)),
        Location::Postgres(url) => Ok(Box::new(self::postgres::Pg::open(url, mode)?)),
    }
}

/// Creates a new ledger and fills it: on any failure nothing is left (a
/// sled directory is built under a temporary name and renamed; a
/// PostgreSQL ledger is created in one transaction).
pub(crate) fn build(
    loc: &Location,
    fill: impl FnOnce(&dyn Store) -> Result<(), Error>,
) -> Result<(), Error> {
    match loc {
        Location::Path(p) => self::sled::build_dir(p, |s| fill(s)),
        Location::Postgres(url) => self::postgres::build(url, |s| fill(s)),
    }
}

/// Creates or updates the PostgreSQL schema custody uses; returns the
/// schema version. A path has nothing to migrate.
pub fn migrate(loc: &Location) -> Result<u32, Error> {
    match loc {
        Location::Path(p) => Err(Error::usage(format!(
            "{}: a ledger directory has no database schema to migrate; give a postgres:// URL",
            p.display()
        ))),
        Location::Postgres(url) => self::postgres::migrate_url(url),
    }
}

/// Appends `entries` as numbers `first..` with their head, the tree nodes
/// they complete (unless `tree` is false) and a record, as one batch.
pub(crate) fn append_entries(
    store: &dyn Store,
    first: u64,
    entries: &[Vec<u8>],
    head: Hash,
    tree: bool,
    record: Option<(&[u8; 32], &[u8])>,
) -> Result<(), Error> {
    let leaves: Vec<_> = entries
        .iter()
        .map(|e| crate::merkle::leaf_hash(e))
        .collect();
    append_leaves(store, first, entries, &leaves, head, tree, record)
}

/// As [`append_entries`], with the entries' leaf hashes already computed.
pub(crate) fn append_leaves(
    store: &dyn Store,
    first: u64,
    entries: &[Vec<u8>],
    leaves: &[crate::merkle::TreeHash],
    head: Hash,
    tree: bool,
    record: Option<(&[u8; 32], &[u8])>,
) -> Result<(), Error> {
    let tree = if tree {
        Some(tree_nodes(store, first, leaves)?)
    } else {
        None
    };
    store.write(&Batch {
        first,
        entries,
        head,
        tree,
        record,
    })
}

/// Tree levels stored: every fourth (16, 256, 4096... leaves per node).
/// The levels between are recomputed from at most 8 nodes of the stored
/// level below, and leaves from the entries themselves, so the tree adds
/// about one small record per 16 entries.
pub(crate) const STRIDE: u8 = 4;

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

/// A store's Merkle tree, as stored (not verified).
pub(crate) struct StoredTree<'a>(pub &'a dyn Store);

impl crate::merkle::Nodes for StoredTree<'_> {
    fn node(&self, level: u8, index: u64) -> Result<crate::merkle::TreeHash, String> {
        if level == 0 {
            let e = self
                .0
                .entry(index)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("entry {index} is missing"))?;
            return Ok(crate::merkle::leaf_hash(&e));
        }
        if level % STRIDE == 0 {
            return self
                .0
                .stored_node(level, index)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("tree node {level}/{index} is missing"));
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

/// The stored nodes that entries `first..` complete (and any the tree
/// lacks before them), and the tree's new size.
fn tree_nodes(
    store: &dyn Store,
    first: u64,
    leaves: &[crate::merkle::TreeHash],
) -> Result<(TreeNodes, u64), Error> {
    // A ledger written before the tree was kept catches up first.
    let start = store.tree_size()?.min(first);
    let mut w = NodeWriter {
        tree: StoredTree(store),
        fresh: HashMap::new(),
    };
    for seq in start..first {
        let e = store
            .entry(seq)?
            .ok_or_else(|| Error::Store(format!("entry {seq} is missing")))?;
        w.add_leaf(seq, crate::merkle::leaf_hash(&e))?;
    }
    for (i, l) in leaves.iter().enumerate() {
        w.add_leaf(first + i as u64, *l)?;
    }
    let nodes = w.fresh.into_iter().filter(|((l, _), _)| *l > 0).collect();
    Ok((nodes, first + leaves.len() as u64))
}

/// Computes the stored nodes new leaves complete.
struct NodeWriter<'a> {
    tree: StoredTree<'a>,
    /// Nodes of this batch by (level, index); leaves (level 0) are kept in
    /// memory only.
    fresh: HashMap<(u8, u64), [u8; 32]>,
}

impl NodeWriter<'_> {
    fn get(&self, level: u8, index: u64) -> Result<[u8; 32], Error> {
        if let Some(h) = self.fresh.get(&(level, index)) {
            return Ok(*h);
        }
        crate::merkle::Nodes::node(&self.tree, level, index).map_err(Error::Store)
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

/// The names under which a key remembers which ledger it built on at
/// `loc`, opened as `store`.
pub(crate) fn binding_names(loc: &Location, store: &dyn Store) -> Vec<String> {
    match store.place() {
        Some(p) => vec![p],
        None => loc.binding_names(),
    }
}

/// As [`binding_names`], for a location not open yet.
pub(crate) fn names_at(loc: &Location) -> Result<Vec<String>, Error> {
    match loc {
        Location::Path(_) => Ok(loc.binding_names()),
        Location::Postgres(_) => Ok(binding_names(loc, open(loc, Mode::Read)?.as_ref())),
    }
}
