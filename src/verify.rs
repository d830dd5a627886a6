//! The verifier: streams entries, checks each one's encoding, place in the
//! chain, signature and authorization, and only then hands it out as a
//! [`VerifiedEntry`].
//!
//! Entries are taken in chunks. Within a chunk the cheap checks run in
//! order, the signatures are checked on all cores (`signature`), and then the
//! rules are applied in order; the first failing entry, by sequence number,
//! is the one reported, with the reason the documented check order gives.

use crate::entry::{Hash, ParsedEntry};
use crate::error::{Error, Invalid, Reason, VerifyError};
use crate::event::{Event, EventKind};
use crate::rules::State;
use crate::signature::{verify_jobs, Job, KeyCache};
use serde_json::Value as Json;

/// Entries per chunk, and bytes per chunk, before signatures are checked.
const CHUNK_ENTRIES: usize = 2048;
const CHUNK_BYTES: usize = 8 * 1024 * 1024;

/// One item of a ledger source: entry bytes, or a framing failure at this
/// position (after which the source yields nothing more).
pub(crate) enum Frame {
    Bytes(Vec<u8>),
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
    pub(crate) name: String,
    pub(crate) id: Hash,
    pub(crate) owner: [u8; 32],
    pub(crate) entries: u64,
    pub(crate) head: Hash,
    pub(crate) pinned: bool,
    pub(crate) state: State,
    /// Entries of a partial export given only as leaf hashes (0 for a whole ledger).
    pub(crate) withheld: u64,
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
}

/// Whether signatures are checked: always when verifying; a writer replaying
/// its own locked store to rebuild the state may skip them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signatures {
    Check,
    Skip,
}

pub(crate) struct Chain {
    opts: VerifyOptions,
    signatures: Signatures,
    state: State,
    count: u64,
    head: Option<Hash>,
    id: Option<Hash>,
    owner: Option<[u8; 32]>,
    keys: KeyCache,
}

impl Chain {
    pub fn new(opts: VerifyOptions, signatures: Signatures) -> Chain {
        Chain {
            opts,
            signatures,
            state: State::default(),
            count: 0,
            head: None,
            id: None,
            owner: None,
            keys: KeyCache::default(),
        }
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
    ) -> Result<VerifiedLedger, Error>
    where
        I: Iterator<Item = Result<Frame, Error>>,
    {
        let mut source = source.peekable();
        if source.peek().is_none() {
            return Err(self.fail(0, Reason::Empty, "the ledger has no entries"));
        }
        let mut reader = ChunkReader {
            next_seq: 0,
            prev: None,
            id: None,
        };
        std::thread::scope(|s| -> Result<(), Error> {
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
                let jobs: Option<Vec<Job>> = match self.signatures {
                    Signatures::Check => Some(
                        chunk
                            .entries
                            .iter()
                            .map(|p| Job {
                                key: self.keys.get(&p.signer),
                                message: p.signed_message(),
                                signature: p.signature,
                            })
                            .collect(),
                    ),
                    Signatures::Skip => None,
                };
                let handle = jobs.map(|jobs| s.spawn(move || verify_jobs(&jobs)));
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
        Ok(VerifiedLedger {
            name: self.state.name.clone(),
            id,
            owner,
            entries: self.count,
            head,
            pinned: self.opts.owner.is_some(),
            state: self.state,
            withheld: 0,
        })
    }

    /// Applies the signature verdicts and the rules to a parsed chunk, in
    /// order, and hands out its entries.
    fn finish(
        &mut self,
        chunk: Chunk,
        verdicts: Option<std::thread::ScopedJoinHandle<'_, Vec<bool>>>,
        sink: &mut impl FnMut(VerifiedEntry) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let n = chunk.entries.len();
        let sig_ok = match verdicts {
            // A worker that panicked fails its signatures, never passes them.
            Some(h) => h.join().unwrap_or_else(|_| vec![false; n]),
            None => vec![true; n],
        };
        for (p, ok) in chunk.entries.into_iter().zip(sig_ok) {
            let seq = p.seq;
            if !ok {
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
        Ok(())
    }
}

/// A run of parsed, linked entries, and the framing or linking failure
/// that ended it, if any.
struct Chunk {
    entries: Vec<ParsedEntry>,
    stop: Option<(u64, Reason, String)>,
    done: bool,
}

/// Parses entries and checks their place in the chain, ahead of the rules.
struct ChunkReader {
    next_seq: u64,
    prev: Option<Hash>,
    id: Option<Hash>,
}

impl ChunkReader {
    fn read<I: Iterator<Item = Result<Frame, Error>>>(
        &mut self,
        source: &mut I,
    ) -> Result<Chunk, Error> {
        let mut entries: Vec<ParsedEntry> = Vec::new();
        let mut bytes = 0usize;
        while entries.len() < CHUNK_ENTRIES && bytes < CHUNK_BYTES {
            let seq = self.next_seq;
            let raw = match source.next() {
                None => {
                    return Ok(Chunk {
                        entries,
                        stop: None,
                        done: true,
                    })
                }
                Some(frame) => match frame? {
                    Frame::Bytes(b) => b,
                    Frame::Bad(r, d) => {
                        return Ok(Chunk {
                            entries,
                            stop: Some((seq, r, d)),
                            done: true,
                        })
                    }
                },
            };
            bytes += raw.len();
            let parsed = match ParsedEntry::parse(raw) {
                Ok(p) => p,
                Err((r, d)) => {
                    return Ok(Chunk {
                        entries,
                        stop: Some((seq, r, d)),
                        done: true,
                    })
                }
            };
            if let Err((r, d)) = link(&parsed, seq, self.prev, self.id) {
                return Ok(Chunk {
                    entries,
                    stop: Some((seq, r, d)),
                    done: true,
                });
            }
            self.prev = Some(parsed.hash);
            self.id = self.id.or(Some(parsed.hash));
            self.next_seq += 1;
            entries.push(parsed);
        }
        Ok(Chunk {
            entries,
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
    if p.prev != prev {
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
