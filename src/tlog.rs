//! The ledger as a transparency log: checkpoints of its Merkle tree,
//! inclusion and consistency proofs, and checks against earlier checkpoints.

pub use crate::checkpoint::default_origin;
use crate::checkpoint::{sign_note, Checkpoint, TlogProof, VerifierKey};
use crate::entry::{decode_entry, Hash};
use crate::error::{Error, Invalid, Reason, VerifyError};
use crate::merkle::{self, MemoryTree, Nodes, TreeHash};
use crate::store::{Location, Mode, Store, StoredTree};
use crate::verify::{VerifiedLedger, VerifyOptions};
use ed25519_dalek::SigningKey;

/// A ledger's Merkle tree: a ledger directory's stored nodes, as they are on
/// disk (NOT verified: whoever can write the directory can change them), or
/// the tree of an exported file (verified and read whole). `checkpoint` and
/// `prove_*` check what they take from it against a verified root.
pub struct LedgerTree {
    nodes: Backing,
    size: u64,
}

/// Where a tree's nodes come from.
enum Backing {
    Store(Box<dyn Store>),
    Memory(MemoryTree),
}

impl Backing {
    fn nodes(&self) -> NodesRef<'_> {
        match self {
            Backing::Store(s) => NodesRef::Store(StoredTree(s.as_ref())),
            Backing::Memory(m) => NodesRef::Memory(m),
        }
    }
}

enum NodesRef<'a> {
    Store(StoredTree<'a>),
    Memory(&'a MemoryTree),
}

impl Nodes for NodesRef<'_> {
    fn node(&self, level: u8, index: u64) -> Result<TreeHash, String> {
        match self {
            NodesRef::Store(s) => s.node(level, index),
            NodesRef::Memory(m) => m.node(level, index),
        }
    }
}

impl LedgerTree {
    /// Opens the tree of a ledger (directory or database) or exported file.
    pub fn open(ledger: impl Into<Location>) -> Result<LedgerTree, Error> {
        open_tree(&ledger.into())
    }
    /// Number of leaves (entries).
    pub fn size(&self) -> u64 {
        self.size
    }
    /// The leaf hash of entry `index`.
    pub fn leaf(&self, index: u64) -> Result<TreeHash, Error> {
        self.nodes.nodes().node(0, index).map_err(tree_err)
    }
    /// The root of the first `size` leaves.
    pub fn root(&self, size: u64) -> Result<TreeHash, Error> {
        merkle::root(&self.nodes.nodes(), size).map_err(tree_err)
    }
    /// The inclusion proof of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<TreeHash>, Error> {
        merkle::inclusion_proof(&self.nodes.nodes(), index, size).map_err(tree_err)
    }
    /// The consistency proof from `m` leaves to `n`.
    pub fn consistency_proof(&self, m: u64, n: u64) -> Result<Vec<TreeHash>, Error> {
        merkle::consistency_proof(&self.nodes.nodes(), m, n).map_err(tree_err)
    }
}

type Tree = LedgerTree;

/// The stored tree of a ledger directory, as it is on disk (not verified:
/// checkpoints and proofs check what they take from it against a verified
/// root), or the tree of an exported file, verified and held in memory.
fn open_tree(loc: &Location) -> Result<Tree, Error> {
    if loc.is_store() {
        let store = crate::store::open(loc, Mode::Read)?;
        return stored_tree(loc, store);
    }
    // A file must be read whole: verify it and build its tree on the way.
    let mut tree = MemoryTree::default();
    crate::verifying::verify_whole(loc, &VerifyOptions::default(), false, None, |e| {
        tree.push(merkle::leaf_hash(e.bytes()));
        Ok(())
    })?;
    Ok(Tree {
        size: tree.size(),
        nodes: Backing::Memory(tree),
    })
}

fn stored_tree(loc: &Location, store: Box<dyn Store>) -> Result<Tree, Error> {
    let (size, _) = store
        .head()?
        .ok_or_else(|| Error::Store("the ledger has no head record".into()))?;
    if store.tree_size()? != size {
        return Err(Error::Usage(format!(
            "{loc}: the ledger's Merkle tree is not up to date; append to it (even an empty batch) \
             or re-import it to build the tree"
        )));
    }
    Ok(Tree {
        nodes: Backing::Store(store),
        size,
    })
}

fn tree_err(e: String) -> Error {
    Error::Store(format!("Merkle tree: {e}"))
}

/// The root of a ledger's first `size` entries as verification established
/// it, with its name and id. For a directory the verification resumes from
/// `key`'s record (and the record is brought up to date); without a key, or
/// for a file, the whole ledger is verified.
struct VerifiedTree {
    size: u64,
    root: TreeHash,
    name: String,
    id: Hash,
    /// For a directory: its stored tree, for proof paths.
    stored: Option<Tree>,
}

fn verified_tree(loc: &Location, key: Option<&SigningKey>) -> Result<VerifiedTree, Error> {
    if loc.is_store() {
        if let Some(key) = key {
            let store = crate::store::open(loc, Mode::Write)?;
            let (v, from) = crate::ledger::verified_for(store.as_ref(), key)?;
            let at = crate::store::binding_names(loc, store.as_ref());
            crate::highwater::check_binding(&key.verifying_key().to_bytes(), &at, &v.ledger.id)?;
            let range = v.tree.unwrap_or_default();
            let root = range.root();
            if from != Some(v.ledger.entries) {
                let resume = crate::verify::Resume {
                    state: v.ledger.state.clone(),
                    entries: v.ledger.entries,
                    head: v.ledger.head,
                    id: v.ledger.id,
                    owner: v.ledger.owner,
                    tree: range,
                };
                if let Some(rec) = crate::record::seal(key, &resume) {
                    // Failing to save it only costs the next call a longer check.
                    let _ = store.write(&crate::store::Batch {
                        first: v.ledger.entries,
                        entries: &[],
                        head: v.ledger.head,
                        tree: None,
                        record: Some((&key.verifying_key().to_bytes(), &rec)),
                    });
                }
            }
            // As after an append: a later command that fails then leaves
            // the directory byte for byte as it was.
            store.finish()?;
            let store = crate::store::open(loc, Mode::Read)?;
            // What this key signs now, it must never sign a fork of.
            crate::highwater::write(
                &key.verifying_key().to_bytes(),
                &v.ledger.id,
                v.ledger.entries,
                &v.ledger.head,
            )?;
            crate::highwater::bind(&key.verifying_key().to_bytes(), &at, &v.ledger.id)?;
            let tree = stored_tree(loc, store)?;
            return Ok(VerifiedTree {
                size: v.ledger.entries,
                root,
                name: v.ledger.name,
                id: v.ledger.id,
                stored: Some(tree),
            });
        }
    }
    // A key signing about an export file is held to its mark all the same.
    let mut watch = key.map(crate::ledger::MarkWatch::new);
    let v = crate::verifying::verify_whole(loc, &VerifyOptions::default(), true, None, |e| {
        if let Some(w) = watch.as_mut() {
            w.see(e.seq(), e.hash());
        }
        Ok(())
    })?;
    if let Some(w) = watch {
        w.settle(&v.ledger)?;
    }
    let root = v.tree.map(|t| t.root()).unwrap_or_else(merkle::empty_root);
    Ok(VerifiedTree {
        size: v.ledger.entries,
        root,
        name: v.ledger.name,
        id: v.ledger.id,
        stored: None,
    })
}

/// Signs a checkpoint of the ledger at its current size. The root signed
/// is the one verification gives (resumed from `key`'s record of an
/// earlier verification of this directory), never a stored one.
pub fn checkpoint(
    ledger: impl Into<Location>,
    key: &SigningKey,
    origin: Option<&str>,
) -> Result<String, Error> {
    let t = verified_tree(&ledger.into(), Some(key))?;
    let origin = origin.map_or_else(|| default_origin(&t.name, &t.id), str::to_string);
    let cp = Checkpoint {
        origin: origin.clone(),
        size: t.size,
        root: t.root,
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

/// Proves that entry `seq` is in the checkpointed tree. The proof is
/// checked before it is returned: its path must lead from the entry's leaf
/// to the checkpoint's root, and the entry's own signature must verify, so
/// no proof of a forged or damaged entry ever leaves this function.
pub fn prove_inclusion(
    ledger: impl Into<Location>,
    seq: u64,
    cp: ProofCheckpoint<'_>,
) -> Result<TlogProof, Error> {
    let path = &ledger.into();
    let (note, size, root, tree) = match cp {
        ProofCheckpoint::Note(note) => {
            let c = Checkpoint::parse_unverified(note)
                .map_err(|m| Error::Usage(format!("checkpoint: {m}")))?;
            let tree = open_tree(path)?;
            if c.size > tree.size {
                return Err(Error::Usage(format!(
                    "the checkpoint is of {} entries, the ledger has only {}",
                    c.size, tree.size
                )));
            }
            (note.to_string(), c.size, c.root, tree)
        }
        ProofCheckpoint::Sign(key, origin) => {
            let t = verified_tree(path, Some(key))?;
            let origin = origin.map_or_else(|| default_origin(&t.name, &t.id), str::to_string);
            let c = Checkpoint {
                origin: origin.clone(),
                size: t.size,
                root: t.root,
            };
            let note = sign_note(&c.text(), &origin, key).map_err(Error::Usage)?;
            let tree = match t.stored {
                Some(tree) => tree,
                None => open_tree(path)?,
            };
            (note, t.size, t.root, tree)
        }
    };
    if seq >= size {
        return Err(Error::Usage(format!(
            "entry {seq} is not in the checkpointed tree of {size} entries"
        )));
    }
    let hashes = merkle::inclusion_proof(&tree.nodes.nodes(), seq, size).map_err(tree_err)?;
    let leaf = tree.leaf(seq)?;
    if merkle::verify_inclusion(seq, size, &leaf, &hashes, &root).is_err() {
        return Err(Error::Usage(
            "the checkpoint's root is not this ledger's tree at that size (another ledger, a fork, \
             or a damaged ledger directory: run `custody verify`)"
                .into(),
        ));
    }
    if let Backing::Store(store) = &tree.nodes {
        // The path leads from this leaf to a root an owner signed over
        // verified entries; the entry's own signature is checked too.
        let bytes = store
            .entry(seq)?
            .ok_or_else(|| Error::Store(format!("entry {seq} is missing")))?;
        if merkle::leaf_hash(&bytes) != leaf {
            return Err(Error::Store(format!(
                "entry {seq} changed while it was proved"
            )));
        }
        check_entry_signature(&bytes).map_err(|m| {
            Error::Usage(format!(
                "entry {seq} of the ledger directory does not verify ({m}); run `custody verify`"
            ))
        })?;
    }
    Ok(TlogProof {
        index: seq,
        hashes,
        checkpoint: note,
    })
}

/// Decodes an entry and checks its own signature.
/// Decodes one entry (a file written by `custody log --seq N --out`) and
/// checks its own signature. Says nothing of the ledger around it: whether
/// its signer held the role it needed, or that it is in any ledger, takes
/// the ledger or an inclusion proof ([`verify_proof`]).
pub fn check_entry(bytes: &[u8]) -> Result<crate::entry::UnverifiedEntry, String> {
    check_entry_signature(bytes)
}

fn check_entry_signature(bytes: &[u8]) -> Result<crate::entry::UnverifiedEntry, String> {
    let e = decode_entry(bytes).map_err(|e| e.detail)?;
    let ok = ed25519_dalek::VerifyingKey::from_bytes(e.signer())
        .map(|k| {
            k.verify_strict(
                &e.0.signed_message(),
                &ed25519_dalek::Signature::from_bytes(&e.0.signature),
            )
            .is_ok()
        })
        .unwrap_or(false);
    if ok {
        Ok(e)
    } else {
        Err("its signature does not verify".into())
    }
}

/// The consistency proof from an older checkpoint's tree to the ledger's
/// current tree (or to `to`'s), in the body format of a c2sp.org/tlog-witness
/// add-checkpoint request: `old N`, the proof hashes, and when `to` is given
/// a blank line and that checkpoint. The proof is checked against both
/// roots before it is returned.
pub fn prove_consistency(
    ledger: impl Into<Location>,
    from: &str,
    to: Option<&str>,
) -> Result<String, Error> {
    prove_consistency_with(ledger, from, to, None)
}

/// As [`prove_consistency`], the current tree verified from `key`'s record
/// of an earlier verification (held to its mark) rather than from the
/// first entry: what a server that signs checkpoints with `key` does.
pub fn prove_consistency_with(
    ledger: impl Into<Location>,
    from: &str,
    to: Option<&str>,
    key: Option<&SigningKey>,
) -> Result<String, Error> {
    let path = &ledger.into();
    let old = Checkpoint::parse_unverified(from)
        .map_err(|m| Error::Usage(format!("old checkpoint: {m}")))?;
    // The current root is verified before the stored tree is opened: a
    // ledger directory is opened by one reader at a time.
    let mut current = match to {
        Some(_) => None,
        None => Some(verified_tree(path, key)?),
    };
    // Verifying from a key's record leaves the stored tree open: that one.
    let tree = match current.as_mut().and_then(|t| t.stored.take()) {
        Some(t) => t,
        None => open_tree(path)?,
    };
    let (new_size, new_root) = match (to, current) {
        (Some(t), _) => {
            let c = Checkpoint::parse_unverified(t)
                .map_err(|m| Error::Usage(format!("new checkpoint: {m}")))?;
            if c.size > tree.size {
                return Err(Error::Usage(
                    "the new checkpoint is not of this ledger (it has more entries)".into(),
                ));
            }
            (c.size, c.root)
        }
        // The current tree's root as verification gives it, not as stored.
        (None, Some(t)) => {
            if t.size != tree.size {
                return Err(Error::usage(
                    "the ledger changed while the proof was being made; run the command again",
                ));
            }
            (t.size, t.root)
        }
        (None, None) => return Err(Error::Store("internal: no current tree".into())),
    };
    if old.size > new_size {
        return Err(Error::Usage(format!(
            "the old checkpoint has {} entries, more than the {new_size} of the new tree",
            old.size
        )));
    }
    let proof =
        merkle::consistency_proof(&tree.nodes.nodes(), old.size, new_size).map_err(tree_err)?;
    if merkle::verify_consistency(old.size, new_size, &proof, &old.root, &new_root).is_err() {
        return Err(Error::Usage(
            "the checkpoints are not of this ledger's tree (another ledger, a fork, or a damaged \
             ledger directory: run `custody verify`)"
                .into(),
        ));
    }
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

/// Verifies a ledger end to end (a whole ledger or a partial export) and,
/// in addition, that it is consistent with an earlier checkpoint signed by
/// `vkey`: not truncated, not rewritten, and of the same log (origin). A
/// checkpoint of size 0 is consistent with every ledger of its origin.
pub fn verify_with_checkpoint(
    source: impl Into<Location>,
    opts: &VerifyOptions,
    note: &str,
    vkey: &VerifierKey,
    origin: Option<&str>,
) -> Result<VerifiedLedger, Error> {
    let cp = Checkpoint::open(note, vkey).map_err(|m| Error::Usage(format!("checkpoint: {m}")))?;
    let v = crate::verifying::check(&source.into(), opts, Some(cp.size), |_| Ok(()))?;
    let l = &v.ledger;
    let seq = cp.size.min(l.entries);
    let head = match v.watched {
        _ if seq == l.entries => Some(l.head),
        Some((_, h)) => h,
        None => None,
    };
    let fail = |reason: Reason, detail: String| {
        Error::Invalid(Box::new(Invalid {
            error: VerifyError {
                seq,
                reason,
                detail,
            },
            entries: seq,
            head: if seq == 0 { None } else { head },
            owner: Some(l.owner),
        }))
    };
    let want = origin.map_or_else(|| default_origin(l.name(), l.id()), str::to_string);
    if cp.origin != want {
        return Err(fail(
            Reason::ForeignCheckpoint,
            format!(
                "the checkpoint is of `{}`, this ledger is `{want}`",
                cp.origin
            ),
        ));
    }
    match v.watched {
        _ if cp.size > l.entries => Err(fail(
            Reason::Truncated,
            format!(
                "the checkpoint covers {} entries, the ledger has only {}: entries were cut off its end",
                cp.size, l.entries
            ),
        )),
        Some((root, _)) if root == cp.root => Ok(v.ledger),
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
    /// The entry, decoded, its own signature checked. Whether its signer
    /// held the role and authority the event needs depends on the entries
    /// before it, which a proof does not carry: the checkpoint's signer
    /// vouches for that, having verified the ledger.
    pub entry: crate::entry::UnverifiedEntry,
}

/// Checks offline that `entry` (its bytes) is in the checkpointed ledger,
/// given the proof and the log's verifier key, and that the entry's own
/// signature verifies.
pub fn verify_proof(proof: &str, entry: &[u8], vkey: &VerifierKey) -> Result<ProvenEntry, String> {
    let p = TlogProof::parse(proof)?;
    let cp = Checkpoint::open(&p.checkpoint, vkey).map_err(|m| format!("checkpoint: {m}"))?;
    let decoded =
        check_entry_signature(entry).map_err(|m| format!("the entry does not verify: {m}"))?;
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
