//! The verifier: streams entries, checks each one's encoding, place in the
//! chain, signature and authorization, and only then hands it out as a
//! [`VerifiedEntry`].
//!
//! Entries are taken in chunks. Within a chunk the cheap checks run in
//! order, the signatures are checked on all cores (`signature`), and then the
//! rules are applied in order; the first failing entry, by sequence number,
//! is the one reported, with the reason the documented check order gives.

use crate::entry::SIGNATURE_DOMAIN;
use crate::entry::{Hash, ParsedEntry};
use crate::error::{Error, Invalid, Reason, VerifyError};
use crate::event::{Event, EventKind};
use crate::merkle::{CompactRange, TreeHash};
use crate::rules::State;
use crate::signature::{Batch, KeyCache, Pending, Workers};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// Entries per chunk, and bytes per chunk, before signatures are checked.
/// A parsed entry takes several times its bytes (each id is held as text
/// in the event and in its JSON), so chunks of large entries are kept
/// small: two chunks of 1 MiB are in flight at most.
const CHUNK_ENTRIES: usize = 2048;
const FIRST_CHUNK_ENTRIES: usize = 64;
const CHUNK_BYTES: usize = 1024 * 1024;

/// One item of a ledger source: entry bytes, a withheld entry's leaf hash
/// (partial exports), or a framing failure at this position (after which
/// the source yields nothing more).
pub enum Frame {
    Bytes(Vec<u8>),
    Withheld(TreeHash),
    Bad(Reason, String),
}

/// What to check beyond the ledger's own consistency.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The owner (genesis) key the caller expects, obtained out of band.
    pub owner: Option<[u8; 32]>,
}

/// An entry that passed every check. Only the verifier makes these.
#[derive(Debug, Clone)]
pub struct VerifiedEntry {
    seq: u64,
    hash: Hash,
    signer: [u8; 32],
    time: u64,
    event: Event,
    event_json: Json,
    bytes: Vec<u8>,
}

impl VerifiedEntry {
    /// Sequence number.
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// Entry hash.
    pub fn hash(&self) -> &Hash {
        &self.hash
    }
    /// The signer's public key.
    pub fn signer(&self) -> &[u8; 32] {
        &self.signer
    }
    /// Signing time, seconds since the Unix epoch (UTC).
    pub fn time(&self) -> u64 {
        self.time
    }
    /// The event.
    pub fn event(&self) -> &Event {
        &self.event
    }
    /// The event as the JSON object that was appended.
    pub fn event_json(&self) -> &Json {
        &self.event_json
    }
    /// The entry's bytes as stored.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A ledger that verified end to end.
#[derive(Debug, Clone)]
pub struct VerifiedLedger {
    pub name: String,
    pub id: Hash,
    pub owner: [u8; 32],
    pub entries: u64,
    pub head: Hash,
    pub pinned: bool,
    pub state: State,
    /// Entries of a partial export given only as leaf hashes (0 for a whole ledger).
    pub withheld: u64,
    /// What the publisher of a partial export signed.
    pub disclosure: Option<crate::disclosure::Disclosure>,
}

impl VerifiedLedger {
    /// The ledger's name, from its genesis entry.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The ledger id: the genesis entry's hash.
    pub fn id(&self) -> &Hash {
        &self.id
    }
    /// The genesis (first owner) key.
    pub fn owner(&self) -> &[u8; 32] {
        &self.owner
    }
    /// Number of entries.
    pub fn entries(&self) -> u64 {
        self.entries
    }
    /// Hash of the last entry.
    pub fn head(&self) -> &Hash {
        &self.head
    }
    /// Whether an expected owner key was given and matched.
    pub fn pinned(&self) -> bool {
        self.pinned
    }
    /// For a partial export, how many entries were withheld (0 otherwise).
    pub fn withheld(&self) -> u64 {
        self.withheld
    }
    /// For a partial export, what its publisher signed: the checkpoint of
    /// the whole ledger, the selectors and the publisher's key.
    pub fn disclosure(&self) -> Option<&crate::disclosure::Disclosure> {
        self.disclosure.as_ref()
    }
}

/// A prefix of a ledger that was verified before (a writer's authenticated
/// record, see `record`): verification resumes after it.
#[derive(Debug, Clone)]
pub struct Resume {
    pub state: State,
    pub entries: u64,
    pub head: Hash,
    pub id: Hash,
    pub owner: [u8; 32],
    pub tree: CompactRange,
}

impl Resume {
    /// The state a verification ended in, to resume from.
    pub fn from_verified(v: Verified) -> Resume {
        Resume {
            state: v.ledger.state,
            entries: v.ledger.entries,
            head: v.ledger.head,
            id: v.ledger.id,
            owner: v.ledger.owner,
            tree: v.tree.unwrap_or_default(),
        }
    }
}

/// What a partial export adds to the checks: which positions were disclosed.
pub struct DisclosureMap {
    hasher: Sha256,
    byte: u8,
    bits: u8,
}

impl Default for DisclosureMap {
    fn default() -> Self {
        Self::new()
    }
}

impl DisclosureMap {
    pub fn new() -> Self {
        let mut hasher = Sha256::new();
        hasher.update(crate::disclosure::MAP_DOMAIN);
        DisclosureMap {
            hasher,
            byte: 0,
            bits: 0,
        }
    }

    pub fn push(&mut self, disclosed: bool) {
        if disclosed {
            self.byte |= 1 << self.bits;
        }
        self.bits += 1;
        if self.bits == 8 {
            self.hasher.update([self.byte]);
            self.byte = 0;
            self.bits = 0;
        }
    }

    /// SHA-256 over the domain and the bitmap (bit i of byte i/8, least
    /// significant first, set when entry i is disclosed).
    pub fn finish(mut self) -> [u8; 32] {
        if self.bits > 0 {
            self.hasher.update([self.byte]);
        }
        self.hasher.finalize().into()
    }
}

/// How far a long operation has gone, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Entries verified so far (by verify, export, import, openness, and
    /// before an append or checkpoint builds on the ledger).
    Verified(u64),
    /// Entries of the batch being appended signed so far.
    Signed(u64),
}

static PROGRESS: std::sync::OnceLock<fn(Progress)> = std::sync::OnceLock::new();

/// Sets a function told how far long operations have gone, at most every
/// few thousand entries; for the process as a whole, set once.
pub fn set_progress(f: fn(Progress)) {
    let _ = PROGRESS.set(f);
}

pub fn report(p: Progress) {
    if let Some(f) = PROGRESS.get() {
        f(p);
    }
}

pub struct Chain {
    opts: VerifyOptions,
    state: State,
    count: u64,
    head: Option<Hash>,
    id: Option<Hash>,
    owner: Option<[u8; 32]>,
    keys: KeyCache,
    /// The Merkle tree's right border, when the caller needs roots.
    tree: Option<CompactRange>,
    /// A tree size at which to note the root and the head.
    watch: Option<u64>,
    watched: Option<(TreeHash, Option<Hash>)>,
    map: Option<DisclosureMap>,
    withheld: u64,
    resumed: bool,
}

impl Chain {
    pub fn new(opts: VerifyOptions) -> Chain {
        Chain {
            opts,
            state: State::default(),
            count: 0,
            head: None,
            id: None,
            owner: None,
            keys: KeyCache::default(),
            tree: None,
            watch: None,
            watched: None,
            map: None,
            withheld: 0,
            resumed: false,
        }
    }

    /// Continues after a prefix verified before.
    pub fn resume(opts: VerifyOptions, r: Resume) -> Chain {
        let mut c = Chain::new(opts);
        c.state = r.state;
        c.count = r.entries;
        c.head = Some(r.head);
        c.id = Some(r.id);
        c.owner = Some(r.owner);
        c.tree = Some(r.tree);
        c.resumed = true;
        c
    }

    /// Keeps the Merkle tree's border while verifying.
    pub fn with_tree(mut self) -> Chain {
        if self.tree.is_none() {
            self.tree = Some(CompactRange::default());
        }
        self
    }

    /// Notes the root (and the head) when the tree reaches `size` entries.
    pub fn watch(mut self, size: u64) -> Chain {
        self.watch = Some(size);
        if size == 0 {
            self.watched = Some((crate::merkle::empty_root(), None));
        }
        self.with_tree()
    }

    /// Accepts withheld items and hashes the disclosure map.
    pub fn partial(mut self) -> Chain {
        self.map = Some(DisclosureMap::new());
        self.with_tree()
    }

    fn fail(&self, seq: u64, reason: Reason, detail: impl Into<String>) -> Error {
        Error::Invalid(Box::new(Invalid {
            error: VerifyError {
                seq,
                reason,
                detail: detail.into(),
            },
            entries: self.count,
            head: self.head,
            owner: self.owner,
        }))
    }

    /// Runs the whole source through the checks, handing each verified
    /// entry to `sink` in order.
    ///
    /// A pipeline: while the signatures of one chunk are checked on the
    /// worker threads, this thread applies the rules to the chunk before
    /// and parses the chunk after.
    pub fn run<I>(
        mut self,
        source: I,
        mut sink: impl FnMut(VerifiedEntry) -> Result<(), Error>,
    ) -> Result<Verified, Error>
    where
        I: Iterator<Item = Result<Frame, Error>>,
    {
        let mut source = source.peekable();
        if source.peek().is_none() && !self.resumed {
            return Err(self.fail(0, Reason::Empty, "the ledger has no entries"));
        }
        let mut reader = ChunkReader {
            next_seq: self.count,
            prev: self.head,
            id: self.id,
            partial: self.map.is_some(),
            roles: self.state.roles(),
            last_disclosed: None,
            chunk_entries: FIRST_CHUNK_ENTRIES,
        };
        std::thread::scope(|s| -> Result<(), Error> {
            // Dropped when this closure returns, which ends the workers.
            let workers = Workers::start(s);
            let mut pending = None;
            loop {
                let chunk = match reader.read(&mut source) {
                    Ok(c) => c,
                    Err(e) => {
                        // A read error comes after every entry already read:
                        // finish those first, so an earlier bad entry wins.
                        if let Some((prev, prev_handle)) = pending.take() {
                            self.finish(prev, prev_handle, &mut sink)?;
                        }
                        return Err(e);
                    }
                };
                let mut jobs = Batch::with_capacity(chunk.items.len(), chunk.bytes);
                for i in &chunk.items {
                    if let Item::Entry(p) = i {
                        jobs.push(
                            self.keys.get(&p.signer),
                            &[SIGNATURE_DOMAIN, p.body()],
                            p.signature,
                        );
                    }
                }
                let handle = workers.submit(jobs);
                if let Some((prev, prev_handle)) = pending.take() {
                    self.finish(prev, prev_handle, &mut sink)?;
                }
                let last = chunk.stop.is_some() || chunk.done;
                pending = Some((chunk, handle));
                if last {
                    break;
                }
            }
            if let Some((prev, prev_handle)) = pending.take() {
                self.finish(prev, prev_handle, &mut sink)?;
            }
            Ok(())
        })?;
        let (Some(head), Some(id), Some(owner)) = (self.head, self.id, self.owner) else {
            return Err(self.fail(0, Reason::Empty, "the ledger has no entries"));
        };
        Ok(Verified {
            ledger: VerifiedLedger {
                name: self.state.name.clone(),
                id,
                owner,
                entries: self.count,
                head,
                pinned: self.opts.owner.is_some(),
                state: self.state,
                withheld: self.withheld,
                disclosure: None,
            },
            tree: self.tree,
            watched: self.watched,
            map: self.map.map(DisclosureMap::finish),
            last_disclosed: reader.last_disclosed,
        })
    }

    /// Applies the signature verdicts and the rules to a parsed chunk, in
    /// order, and hands out its entries.
    fn finish(
        &mut self,
        chunk: Chunk,
        verdicts: Pending,
        sink: &mut impl FnMut(VerifiedEntry) -> Result<(), Error>,
    ) -> Result<(), Error> {
        // A worker that failed fails its signatures, never passes them.
        let mut sig_ok = verdicts;
        for item in chunk.items {
            let p = match item {
                Item::Withheld(leaf) => {
                    self.count += 1;
                    self.withheld += 1;
                    self.note_leaf(leaf, false);
                    continue;
                }
                Item::Entry(p) => p,
            };
            let seq = p.seq;
            if !sig_ok.next().unwrap_or(false) {
                return Err(self.fail(seq, Reason::BadSignature, "the signature does not verify"));
            }
            if seq == 0 {
                if let Some(pin) = self.opts.owner {
                    if pin != p.signer {
                        return Err(self.fail(
                            0,
                            Reason::OwnerMismatch,
                            format!(
                                "the owner key is {}, not the pinned {}",
                                hex::encode(p.signer),
                                hex::encode(pin)
                            ),
                        ));
                    }
                }
            }
            if let Err(e) = self.state.apply(seq, &p.signer, &p.event) {
                return Err(self.fail(seq, e.reason, e.error.to_string()));
            }
            if seq == 0 {
                self.id = Some(p.hash);
                self.owner = Some(p.signer);
            }
            self.count += 1;
            self.head = Some(p.hash);
            if self.tree.is_some() {
                self.note_leaf(crate::merkle::leaf_hash(&p.bytes), true);
            }
            sink(VerifiedEntry {
                seq,
                hash: p.hash,
                signer: p.signer,
                time: p.time,
                event: p.event,
                event_json: p.event_json,
                bytes: p.bytes,
            })?;
        }
        if let Some((seq, r, d)) = chunk.stop {
            return Err(self.fail(seq, r, d));
        }
        report(Progress::Verified(self.count));
        Ok(())
    }

    fn note_leaf(&mut self, leaf: TreeHash, disclosed: bool) {
        if let Some(map) = &mut self.map {
            map.push(disclosed);
        }
        if let Some(t) = &mut self.tree {
            t.push(leaf);
            if Some(t.size()) == self.watch {
                self.watched = Some((t.root(), self.head));
            }
        }
    }
}

/// What a verification run established: the ledger, and what the caller
/// asked to be kept on the way.
pub struct Verified {
    pub ledger: VerifiedLedger,
    /// The tree's right border after the last entry, when kept.
    pub tree: Option<CompactRange>,
    /// Root and head at the watched size, once reached.
    pub watched: Option<(TreeHash, Option<Hash>)>,
    /// The disclosure map digest of a partial export.
    pub map: Option<[u8; 32]>,
    /// Position of the last entry read whole (not withheld).
    pub last_disclosed: Option<u64>,
}

/// One item of a chunk: an entry to check, or a withheld position.
// Entries are the common case; boxing them would cost an allocation each.
#[allow(clippy::large_enum_variant)]
enum Item {
    Entry(ParsedEntry),
    Withheld(TreeHash),
}

/// A run of parsed, linked entries, and the framing or linking failure
/// that ended it, if any.
struct Chunk {
    items: Vec<Item>,
    /// Bytes of the entries in `items`.
    bytes: usize,
    stop: Option<(u64, Reason, String)>,
    done: bool,
}

/// Parses entries and checks their place in the chain, ahead of the rules.
struct ChunkReader {
    next_seq: u64,
    /// Hash of the entry before, unless it was withheld.
    prev: Option<Hash>,
    id: Option<Hash>,
    partial: bool,
    /// Genesis, grant and revoke entries among those read so far.
    roles: u64,
    last_disclosed: Option<u64>,
    /// Entries in the next chunk: small at first, so that the signature
    /// workers start early, then doubling up to `CHUNK_ENTRIES`.
    chunk_entries: usize,
}

impl ChunkReader {
    fn read<I: Iterator<Item = Result<Frame, Error>>>(
        &mut self,
        source: &mut I,
    ) -> Result<Chunk, Error> {
        let limit = self.chunk_entries;
        let mut items: Vec<Item> = Vec::with_capacity(limit);
        let mut bytes = 0usize;
        self.chunk_entries = (limit * 2).min(CHUNK_ENTRIES);
        let stop = |items, seq, r, d| {
            Ok(Chunk {
                items,
                bytes: 0,
                stop: Some((seq, r, d)),
                done: true,
            })
        };
        while items.len() < limit && bytes < CHUNK_BYTES {
            let seq = self.next_seq;
            let raw = match source.next() {
                None => {
                    return Ok(Chunk {
                        items,
                        bytes,
                        stop: None,
                        done: true,
                    })
                }
                Some(frame) => match frame? {
                    Frame::Bytes(b) => b,
                    Frame::Withheld(leaf) if self.partial => {
                        if seq == 0 {
                            return stop(
                                items,
                                0,
                                Reason::BadGenesis,
                                "the genesis entry is withheld; a partial export always discloses it"
                                    .into(),
                            );
                        }
                        self.prev = None;
                        self.next_seq += 1;
                        items.push(Item::Withheld(leaf));
                        continue;
                    }
                    Frame::Withheld(_) => {
                        return stop(
                            items,
                            seq,
                            Reason::Malformed,
                            "a withheld entry in a whole ledger".into(),
                        )
                    }
                    Frame::Bad(r, d) => return stop(items, seq, r, d),
                },
            };
            bytes += raw.len();
            let parsed = match ParsedEntry::parse(raw) {
                Ok(p) => p,
                Err((r, d)) => return stop(items, seq, r, d),
            };
            // After a withheld entry the chain link cannot be checked; the
            // Merkle tree binds every position instead.
            let prev_known = seq == 0 || self.prev.is_some() || !self.partial;
            if let Err((r, d)) = link(&parsed, seq, self.prev, self.id, prev_known) {
                return stop(items, seq, r, d);
            }
            let roles = self.roles
                + u64::from(matches!(
                    parsed.event.kind,
                    EventKind::Genesis { .. } | EventKind::Grant { .. } | EventKind::Revoke { .. }
                ));
            if parsed.roles != roles {
                let detail = format!(
                    "`roles` says {} genesis, grant and revoke entries up to this one, but there are {roles}{}",
                    parsed.roles,
                    if self.partial {
                        " disclosed: one was withheld, or is missing"
                    } else {
                        ": one is missing, or was added"
                    }
                );
                return stop(items, seq, Reason::BadRoles, detail);
            }
            self.roles = roles;
            self.last_disclosed = Some(seq);
            self.prev = Some(parsed.hash);
            self.id = self.id.or(Some(parsed.hash));
            self.next_seq += 1;
            items.push(Item::Entry(parsed));
        }
        Ok(Chunk {
            items,
            bytes,
            stop: None,
            done: false,
        })
    }
}

/// The checks that place an entry in the chain.
fn link(
    p: &ParsedEntry,
    seq: u64,
    prev: Option<Hash>,
    id: Option<Hash>,
    prev_known: bool,
) -> Result<(), (Reason, String)> {
    if p.seq != seq {
        return Err((
            Reason::BadSequence,
            format!(
                "the entry says it is number {} but stands at position {seq}",
                p.seq
            ),
        ));
    }
    let is_genesis = matches!(p.event.kind, EventKind::Genesis { .. });
    if seq == 0 {
        if p.prev.is_some() || p.ledger.is_some() {
            return Err((
                Reason::BadGenesis,
                "the genesis entry must have null `prev` and `ledger`".into(),
            ));
        }
        if !is_genesis {
            return Err((
                Reason::BadGenesis,
                "the first entry is not a genesis event".into(),
            ));
        }
        return Ok(());
    }
    if p.ledger != id {
        return Err((
            Reason::BadLedgerId,
            "the entry belongs to another ledger (its ledger id is not this ledger's genesis hash)"
                .into(),
        ));
    }
    if prev_known && p.prev != prev {
        return Err((
            Reason::BadPrev,
            "`prev` is not the hash of the entry before".into(),
        ));
    }
    if is_genesis {
        return Err((
            Reason::BadGenesis,
            "a genesis event after the first entry".into(),
        ));
    }
    Ok(())
}
