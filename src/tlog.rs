//! The ledger as a transparency log: checkpoints of its Merkle tree,
//! inclusion and consistency proofs, and checks against earlier checkpoints.

use crate::checkpoint::{sign_note, Checkpoint, TlogProof, VerifierKey};
use crate::entry::{decode_entry, Hash};
use crate::error::{Error, Invalid, Reason, VerifyError};
use crate::event::EventKind;
use crate::merkle::{self, CompactRange, MemoryTree, Nodes, TreeHash};
use crate::store::Store;
use crate::verify::{VerifiedLedger, VerifyOptions};
use ed25519_dalek::SigningKey;
use std::path::Path;

/// The origin a ledger's checkpoints carry unless told otherwise:
/// `custody/<name, reduced to [a-z0-9-]>/<first 16 hex digits of the id>`.
pub fn default_origin(name: &str, id: &Hash) -> String {
    let mut slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while slug.contains("--") {
        slug = slug.replace("--", "-");
    }
    let slug = slug.trim_matches('-');
    let slug = if slug.is_empty() { "ledger" } else { slug };
    format!("custody/{slug}/{}", &hex::encode(id)[..16])
}

/// A ledger's Merkle tree: a ledger directory's stored nodes (nothing else
/// is read), or the tree of an exported file (verified and read whole).
pub struct LedgerTree {
    nodes: Box<dyn Nodes>,
    size: u64,
    name: String,
    id: Hash,
}

impl LedgerTree {
    /// Opens the tree of a ledger directory or exported file.
    pub fn open(path: &Path) -> Result<LedgerTree, Error> {
        open_tree(path)
    }
    /// Number of leaves (entries).
    pub fn size(&self) -> u64 {
        self.size
    }
    /// The leaf hash of entry `index`.
    pub fn leaf(&self, index: u64) -> Result<TreeHash, Error> {
        self.nodes.node(0, index).map_err(tree_err)
    }
    /// The root of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<TreeHash, Error> {
        merkle::root(self.nodes.as_ref(), size).map_err(tree_err)
    }
    /// The inclusion proof of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<TreeHash>, Error> {
        merkle::inclusion_proof(self.nodes.as_ref(), index, size).map_err(tree_err)
    }
    /// The consistency proof from `m` leaves to `n`.
    pub fn consistency_proof(&self, m: u64, n: u64) -> Result<Vec<TreeHash>, Error> {
        merkle::consistency_proof(self.nodes.as_ref(), m, n).map_err(tree_err)
    }
}

type Tree = LedgerTree;

fn open_tree(path: &Path) -> Result<Tree, Error> {
    if path.is_dir() {
        let store = Store::open(path)?;
        let (size, _) = store
            .head()?
            .ok_or_else(|| Error::Store("the ledger has no head record".into()))?;
        if store.tree_size()? != size {
            return Err(Error::Usage(format!(
                "{}: the ledger's Merkle tree is not up to date; append to it (even an empty batch) \
                 or re-import it to build the tree",
                path.display()
            )));
        }
        let genesis = store
            .entry(0)?
            .ok_or_else(|| Error::Store("entry 0 is missing".into()))?;
        let g = decode_entry(&genesis).map_err(|e| Error::Store(format!("entry 0: {e}")))?;
        let EventKind::Genesis { name } = &g.event().kind else {
            return Err(Error::Store("entry 0 is not a genesis entry".into()));
        };
        let name = name.clone();
        let id = *g.hash();
        return Ok(Tree {
            nodes: Box::new(store),
            size,
            name,
            id,
        });
    }
    // A file must be read whole: verify it and build its tree on the way.
    let mut tree = MemoryTree::default();
    let v = crate::ledger::verify(path, &VerifyOptions::default(), |e| {
        tree.push(merkle::leaf_hash(e.bytes()));
        Ok(())
    })?;
    Ok(Tree {
        size: tree.size(),
        nodes: Box::new(tree),
        name: v.name().to_string(),
        id: *v.id(),
    })
}

fn tree_err(e: String) -> Error {
    Error::Store(format!("Merkle tree: {e}"))
}

/// Signs a checkpoint of the ledger at its current size.
pub fn checkpoint(path: &Path, key: &SigningKey, origin: Option<&str>) -> Result<String, Error> {
    let tree = open_tree(path)?;
    let root = merkle::root(tree.nodes.as_ref(), tree.size).map_err(tree_err)?;
    let origin = origin.map_or_else(|| default_origin(&tree.name, &tree.id), str::to_string);
    let cp = Checkpoint {
        origin: origin.clone(),
        size: tree.size,
        root,
    };
    sign_note(&cp.text(), &origin, key).map_err(Error::Usage)
}

/// Where the checkpoint of a proof comes from.
pub enum ProofCheckpoint<'a> {
    /// An existing signed checkpoint note, whose tree the ledger must contain.
    Note(&'a str),
    /// Sign a fresh one at the ledger's current size.
    Sign(&'a SigningKey, Option<&'a str>),
}

/// Proves that entry `seq` is in the checkpointed tree.
pub fn prove_inclusion(path: &Path, seq: u64, cp: ProofCheckpoint<'_>) -> Result<TlogProof, Error> {
    let tree = open_tree(path)?;
    let (note, size) = match cp {
        ProofCheckpoint::Note(note) => {
            let c = Checkpoint::parse_unverified(note)
                .map_err(|m| Error::Usage(format!("checkpoint: {m}")))?;
            if c.size > tree.size {
                return Err(Error::Usage(format!(
                    "the checkpoint is of {} entries, the ledger has only {}",
                    c.size, tree.size
                )));
            }
            let root = merkle::root(tree.nodes.as_ref(), c.size).map_err(tree_err)?;
            if root != c.root {
                return Err(Error::Usage(
                    "the checkpoint's root is not this ledger's tree at that size (another ledger, or a fork)".into(),
                ));
            }
            (note.to_string(), c.size)
        }
        ProofCheckpoint::Sign(key, origin) => {
            let root = merkle::root(tree.nodes.as_ref(), tree.size).map_err(tree_err)?;
            let origin =
                origin.map_or_else(|| default_origin(&tree.name, &tree.id), str::to_string);
            let c = Checkpoint {
                origin: origin.clone(),
                size: tree.size,
                root,
            };
            (
                sign_note(&c.text(), &origin, key).map_err(Error::Usage)?,
                tree.size,
            )
        }
    };
    if seq >= size {
        return Err(Error::Usage(format!(
            "entry {seq} is not in the checkpointed tree of {size} entries"
        )));
    }
    let hashes = merkle::inclusion_proof(tree.nodes.as_ref(), seq, size).map_err(tree_err)?;
    Ok(TlogProof {
        index: seq,
        hashes,
        checkpoint: note,
    })
}

/// The consistency proof from an older checkpoint's tree to the ledger's
/// current tree (or to `to`'s), in the body format of a c2sp.org/tlog-witness
/// add-checkpoint request: `old N`, the proof hashes, and when `to` is given
/// a blank line and that checkpoint.
pub fn prove_consistency(path: &Path, from: &str, to: Option<&str>) -> Result<String, Error> {
    let tree = open_tree(path)?;
    let old = Checkpoint::parse_unverified(from)
        .map_err(|m| Error::Usage(format!("old checkpoint: {m}")))?;
    let new_size = match to {
        Some(t) => {
            let c = Checkpoint::parse_unverified(t)
                .map_err(|m| Error::Usage(format!("new checkpoint: {m}")))?;
            let root =
                merkle::root(tree.nodes.as_ref(), c.size.min(tree.size)).map_err(tree_err)?;
            if c.size > tree.size || root != c.root {
                return Err(Error::Usage(
                    "the new checkpoint is not of this ledger".into(),
                ));
            }
            c.size
        }
        None => tree.size,
    };
    if old.size > new_size {
        return Err(Error::Usage(format!(
            "the old checkpoint has {} entries, more than the {new_size} of the new tree",
            old.size
        )));
    }
    let root = merkle::root(tree.nodes.as_ref(), old.size).map_err(tree_err)?;
    if root != old.root {
        return Err(Error::Usage(
            "the old checkpoint's root is not this ledger's tree at that size (another ledger, or a fork)".into(),
        ));
    }
    let proof =
        merkle::consistency_proof(tree.nodes.as_ref(), old.size, new_size).map_err(tree_err)?;
    let mut out = format!("old {}\n", old.size);
    for h in proof {
        use base64::Engine;
        out.push_str(&base64::engine::general_purpose::STANDARD.encode(h));
        out.push('\n');
    }
    if let Some(t) = to {
        out.push('\n');
        out.push_str(t);
    }
    Ok(out)
}

/// Verifies a ledger end to end and, in addition, that it is consistent
/// with an earlier checkpoint signed by `vkey`: not truncated, not
/// rewritten, and of the same log (origin).
pub fn verify_with_checkpoint(
    path: &Path,
    opts: &VerifyOptions,
    note: &str,
    vkey: &VerifierKey,
    origin: Option<&str>,
) -> Result<VerifiedLedger, Error> {
    let cp = Checkpoint::open(note, vkey).map_err(|m| Error::Usage(format!("checkpoint: {m}")))?;
    let mut range = CompactRange::default();
    let mut at_size: Option<TreeHash> = None;
    let v = crate::ledger::verify(path, opts, |e| {
        range.push(merkle::leaf_hash(e.bytes()));
        if range.size() == cp.size {
            at_size = Some(range.root());
        }
        Ok(())
    })?;
    let fail = |reason: Reason, detail: String| {
        Error::Invalid(Box::new(Invalid {
            error: VerifyError {
                seq: cp.size.min(v.entries()),
                reason,
                detail,
            },
            entries: v.entries(),
            head: Some(*v.head()),
            owner: Some(*v.owner()),
        }))
    };
    let want = origin.map_or_else(|| default_origin(v.name(), v.id()), str::to_string);
    if cp.origin != want {
        return Err(fail(
            Reason::ForeignCheckpoint,
            format!(
                "the checkpoint is of `{}`, this ledger is `{want}`",
                cp.origin
            ),
        ));
    }
    match at_size {
        _ if cp.size > v.entries() => Err(fail(
            Reason::Truncated,
            format!(
                "the checkpoint covers {} entries, the ledger has only {}: entries were cut off its end",
                cp.size,
                v.entries()
            ),
        )),
        Some(root) if root == cp.root => Ok(v),
        _ => Err(fail(
            Reason::Fork,
            format!(
                "the ledger's first {} entries do not have the checkpoint's root: its history was rewritten",
                cp.size
            ),
        )),
    }
}

/// What `verify_proof` established.
#[derive(Debug, Clone)]
pub struct ProvenEntry {
    /// The checkpoint the entry is proved against.
    pub checkpoint: Checkpoint,
    /// The entry, decoded (its signature and authorization are those the
    /// log's verifiers checked; inclusion is what this proves).
    pub entry: crate::entry::UnverifiedEntry,
}

/// Checks offline that `entry` (its bytes) is in the checkpointed ledger,
/// given the proof and the log's verifier key.
pub fn verify_proof(proof: &str, entry: &[u8], vkey: &VerifierKey) -> Result<ProvenEntry, String> {
    let p = TlogProof::parse(proof)?;
    let cp = Checkpoint::open(&p.checkpoint, vkey).map_err(|m| format!("checkpoint: {m}"))?;
    let decoded =
        decode_entry(entry).map_err(|e| format!("the entry does not decode: {}", e.detail))?;
    if decoded.seq() != p.index {
        return Err(format!(
            "the entry says it is number {}, the proof is for index {}",
            decoded.seq(),
            p.index
        ));
    }
    merkle::verify_inclusion(
        p.index,
        cp.size,
        &merkle::leaf_hash(entry),
        &p.hashes,
        &cp.root,
    )
    .map_err(|e| e.to_string())?;
    Ok(ProvenEntry {
        checkpoint: cp,
        entry: decoded,
    })
}
