//! Selective disclosure: a partial export that shows some entries whole and
//! the others only as their Merkle leaf hashes, under a signed checkpoint of
//! the whole ledger.
//!
//! File: a CBOR sequence. First a header map `{"checkpoint": <signed note>,
//! "format": "custody-partial/v1"}`, then one item per entry, in order:
//! the entry itself (a 2-element array) when disclosed, or a 32-byte byte
//! string, its leaf hash, when withheld. Genesis, `grant` and `revoke`
//! entries are always disclosed, so that every disclosed signer's authority
//! can be checked.

use crate::cbor;
use crate::checkpoint::{sign_note, Checkpoint, VerifierKey};
use crate::entry::{entry_hash, Hash, ParsedEntry, MAX_ENTRY_SIZE};
use crate::error::{Error, Invalid, Reason, VerifyError};
use crate::event::{Assignment, EventKind};
use crate::merkle::{leaf_hash, CompactRange};
use crate::rules::State;
use crate::tlog::default_origin;
use crate::verify::{VerifiedLedger, VerifyOptions};
use ciborium::value::Value;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use std::collections::HashSet;
use std::path::Path;

const FORMAT: &str = "custody-partial/v1";

/// What to disclose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every event of this type.
    Type(String),
    /// Every event naming this artifact.
    Artifact(String),
    /// The component's events, and the license, release and producing
    /// events of its artifacts and of all their ancestors: everything its
    /// openness level rests on.
    Component(String),
}

impl Selector {
    /// Parses `type:NAME`, `artifact:ID`, `component:NAME`, or `openness`
    /// (all twelve components).
    pub fn parse_all(s: &str) -> Result<Vec<Selector>, String> {
        if s == "openness" {
            return Ok(crate::event::COMPONENTS
                .iter()
                .map(|c| Selector::Component(c.to_string()))
                .collect());
        }
        Self::parse(s).map(|x| vec![x])
    }

    /// Parses `type:NAME`, `artifact:ID` or `component:NAME`.
    pub fn parse(s: &str) -> Result<Selector, String> {
        match s.split_once(':') {
            Some(("type", t)) if !t.is_empty() => Ok(Selector::Type(t.to_string())),
            Some(("artifact", a)) if !a.is_empty() => Ok(Selector::Artifact(a.to_string())),
            Some(("component", c)) if crate::event::COMPONENTS.contains(&c) => Ok(Selector::Component(c.to_string())),
            _ => Err(format!(
                "`{s}` is not a selector: use type:NAME, artifact:ID, component:NAME (one of the twelve components) or openness"
            )),
        }
    }
}

/// The artifact ids an event names.
fn named(kind: &EventKind) -> Vec<&str> {
    match kind {
        EventKind::Artifact { id, .. } => vec![id.as_str()],
        EventKind::Custody { artifact, .. }
        | EventKind::License { artifact, .. }
        | EventKind::Release { artifact, .. } => vec![artifact.as_str()],
        EventKind::Transformation {
            inputs, outputs, ..
        } => inputs.iter().chain(outputs).map(String::as_str).collect(),
        EventKind::Augmentation {
            inputs,
            outputs,
            generator,
            ..
        } => inputs
            .iter()
            .chain(outputs)
            .chain(generator.iter())
            .map(String::as_str)
            .collect(),
        EventKind::Component {
            assignment: Assignment::Artifacts(ids),
            ..
        } => ids.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

/// What `export_partial` wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialReport {
    /// Entries in the ledger.
    pub entries: u64,
    /// Entries disclosed whole.
    pub disclosed: u64,
}

/// Verifies `source` and writes a partial export of it to `out`, disclosing
/// the selected entries, with a checkpoint of the whole ledger signed by
/// `key` (under `origin`, by default the ledger's).
pub fn export_partial(
    source: &Path,
    out: &Path,
    selectors: &[Selector],
    key: &SigningKey,
    origin: Option<&str>,
) -> Result<PartialReport, Error> {
    let mut entries = Vec::new();
    let v = crate::ledger::verify(source, &VerifyOptions::default(), |e| {
        entries.push(e);
        Ok(())
    })?;
    // Every artifact an `artifact:` selector names, and for `component:`
    // selectors the component's artifacts and all their ancestors: what the
    // component's openness rests on.
    let mut wanted: HashSet<&str> = HashSet::new();
    let mut lineage: HashSet<&str> = HashSet::new();
    let producers: Vec<(&[String], Vec<&str>)> = entries
        .iter()
        .filter_map(|e| match &e.event().kind {
            EventKind::Transformation {
                inputs, outputs, ..
            } => Some((
                outputs.as_slice(),
                inputs.iter().map(String::as_str).collect(),
            )),
            EventKind::Augmentation {
                inputs,
                outputs,
                generator,
                ..
            } => Some((
                outputs.as_slice(),
                inputs
                    .iter()
                    .chain(generator.iter())
                    .map(String::as_str)
                    .collect(),
            )),
            _ => None,
        })
        .collect();
    for sel in selectors {
        match sel {
            Selector::Artifact(a) => {
                wanted.insert(a);
            }
            Selector::Component(c) => {
                let mut stack: Vec<&str> = Vec::new();
                for e in &entries {
                    if let EventKind::Component {
                        component,
                        assignment: Assignment::Artifacts(ids),
                    } = &e.event().kind
                    {
                        if component == c {
                            stack.extend(ids.iter().map(String::as_str));
                        }
                    }
                }
                while let Some(a) = stack.pop() {
                    if !lineage.insert(a) {
                        continue;
                    }
                    for (outputs, parents) in &producers {
                        if outputs.iter().any(|o| o == a) {
                            stack.extend(parents.iter().copied());
                        }
                    }
                }
            }
            Selector::Type(_) => {}
        }
    }
    let disclose = |kind: &EventKind, type_name: &str| -> bool {
        let lineage_event = match kind {
            EventKind::License { artifact, .. } | EventKind::Release { artifact, .. } => {
                lineage.contains(artifact.as_str())
            }
            EventKind::Transformation { outputs, .. } | EventKind::Augmentation { outputs, .. } => {
                outputs.iter().any(|o| lineage.contains(o.as_str()))
            }
            _ => false,
        };
        matches!(
            kind,
            EventKind::Genesis { .. } | EventKind::Grant { .. } | EventKind::Revoke { .. }
        ) || lineage_event
            || named(kind).iter().any(|a| wanted.contains(a))
            || selectors.iter().any(|s| match s {
                Selector::Type(t) => t == type_name,
                Selector::Component(c) => {
                    matches!(kind, EventKind::Component { component, .. } if component == c)
                }
                Selector::Artifact(_) => false,
            })
    };
    let mut range = CompactRange::default();
    let mut items: Vec<u8> = Vec::new();
    let mut disclosed = 0;
    for e in &entries {
        range.push(leaf_hash(e.bytes()));
        if disclose(&e.event().kind, e.event().type_name()) {
            items.extend_from_slice(e.bytes());
            disclosed += 1;
        } else {
            cbor::head(2, 32, &mut items);
            items.extend_from_slice(&leaf_hash(e.bytes()));
        }
    }
    let origin = origin.map_or_else(|| default_origin(v.name(), v.id()), str::to_string);
    let cp = Checkpoint {
        origin: origin.clone(),
        size: range.size(),
        root: range.root(),
    };
    let note = sign_note(&cp.text(), &origin, key).map_err(Error::Usage)?;
    let header = cbor::encode(&Value::Map(vec![
        (Value::Text("format".into()), Value::Text(FORMAT.into())),
        (Value::Text("checkpoint".into()), Value::Text(note)),
    ]))
    .map_err(|e| Error::Usage(format!("cannot encode the header: {e:?}")))?;
    let mut file = header;
    file.extend_from_slice(&items);
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    std::io::Write::write_all(&mut tmp, &file).map_err(|e| Error::io(out, e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(out, e))?;
    tmp.persist(out).map_err(|e| Error::io(out, e.error))?;
    Ok(PartialReport {
        entries: range.size(),
        disclosed,
    })
}

/// Whether `bytes` start like a partial export (a map, not an entry array).
pub(crate) fn is_partial(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(|b| b >> 5 == 5)
}

/// Verifies a partial export: every disclosed entry's encoding, position,
/// signature and authorization (as far as the disclosed entries allow),
/// the root the disclosed bytes and withheld hashes give against the signed
/// checkpoint, and the checkpoint's signature: by `vkey` if given, else by
/// the genesis key under the checkpoint's origin, which must be the
/// ledger's (or `origin`).
pub fn verify_partial(
    bytes: &[u8],
    opts: &VerifyOptions,
    vkey: Option<&VerifierKey>,
    origin: Option<&str>,
) -> Result<VerifiedLedger, Error> {
    let mut state = State::default();
    state.partial = true;
    let mut st = Partial {
        state,
        count: 0,
        last: None,
        id: None,
        owner: None,
    };
    let bad = |st: &Partial, seq: u64, reason: Reason, detail: String| st.fail(seq, reason, detail);
    let hlen = cbor::item_len(bytes).map_err(|e| {
        bad(
            &st,
            0,
            Reason::Malformed,
            format!("partial export header: {e:?}"),
        )
    })?;
    let header = cbor::decode_canonical(&bytes[..hlen]).map_err(|e| {
        bad(
            &st,
            0,
            Reason::Malformed,
            format!("partial export header: {e:?}"),
        )
    })?;
    let note = match &header {
        Value::Map(m) if m.len() == 2 => {
            let get = |k: &str| {
                m.iter()
                    .find(|(key, _)| key.as_text() == Some(k))
                    .and_then(|(_, v)| v.as_text())
            };
            match (get("format"), get("checkpoint")) {
                (Some(FORMAT), Some(note)) => note.to_string(),
                _ => {
                    return Err(bad(
                        &st,
                        0,
                        Reason::Malformed,
                        format!("not a {FORMAT} header"),
                    ))
                }
            }
        }
        _ => {
            return Err(bad(
                &st,
                0,
                Reason::Malformed,
                format!("not a {FORMAT} header"),
            ))
        }
    };
    let mut range = CompactRange::default();
    let mut withheld = 0u64;
    let mut prev_disclosed: Option<Hash> = None;
    let mut i = hlen;
    while i < bytes.len() {
        let seq = range.size();
        let len = cbor::item_len(&bytes[i..])
            .map_err(|e| bad(&st, seq, Reason::Malformed, format!("{e:?}")))?;
        let item = &bytes[i..i + len];
        i += len;
        if item.len() == 34 && item[0] == 0x58 && item[1] == 32 {
            range.push(item[2..].try_into().unwrap_or([0; 32]));
            withheld += 1;
            prev_disclosed = None;
            st.count += 1;
            continue;
        }
        if item.len() > MAX_ENTRY_SIZE {
            return Err(bad(
                &st,
                seq,
                Reason::TooLarge,
                format!("{} bytes", item.len()),
            ));
        }
        let p = ParsedEntry::parse(item.to_vec()).map_err(|(r, d)| bad(&st, seq, r, d))?;
        st.check(&p, seq, prev_disclosed, opts)?;
        prev_disclosed = Some(entry_hash(item));
        range.push(leaf_hash(item));
    }
    let (Some(id), Some(owner)) = (st.id, st.owner) else {
        return Err(bad(
            &st,
            0,
            Reason::BadGenesis,
            "the genesis entry is not disclosed".into(),
        ));
    };
    let want_origin = origin.map_or_else(|| default_origin(&st.state.name, &id), str::to_string);
    let derived;
    let vkey = match vkey {
        Some(k) => k,
        None => {
            derived = VerifierKey::from_public(&want_origin, &owner).map_err(Error::Usage)?;
            &derived
        }
    };
    let cp = Checkpoint::open(&note, vkey).map_err(|m| {
        bad(
            &st,
            range.size(),
            Reason::BadDisclosure,
            format!("checkpoint: {m}"),
        )
    })?;
    if cp.origin != want_origin {
        return Err(bad(
            &st,
            range.size(),
            Reason::ForeignCheckpoint,
            format!(
                "the checkpoint is of `{}`, this ledger is `{want_origin}`",
                cp.origin
            ),
        ));
    }
    if cp.size != range.size() || cp.root != range.root() {
        return Err(bad(
            &st,
            range.size(),
            Reason::BadDisclosure,
            format!(
                "the {} disclosed entries and {withheld} withheld hashes do not give the checkpoint's tree of {} entries",
                range.size() - withheld,
                cp.size
            ),
        ));
    }
    Ok(VerifiedLedger {
        name: st.state.name.clone(),
        id,
        owner,
        entries: range.size(),
        head: st.last.unwrap_or(id),
        pinned: opts.owner.is_some(),
        state: st.state,
        withheld,
    })
}

struct Partial {
    state: State,
    count: u64,
    last: Option<Hash>,
    id: Option<Hash>,
    owner: Option<[u8; 32]>,
}

impl Partial {
    fn fail(&self, seq: u64, reason: Reason, detail: String) -> Error {
        Error::Invalid(Box::new(Invalid {
            error: VerifyError {
                seq,
                reason,
                detail,
            },
            entries: self.count,
            head: self.last,
            owner: self.owner,
        }))
    }

    fn check(
        &mut self,
        p: &ParsedEntry,
        seq: u64,
        prev: Option<Hash>,
        opts: &VerifyOptions,
    ) -> Result<(), Error> {
        if p.seq != seq {
            return Err(self.fail(
                seq,
                Reason::BadSequence,
                format!("the entry says it is number {}", p.seq),
            ));
        }
        let genesis = matches!(p.event.kind, EventKind::Genesis { .. });
        if seq == 0 {
            if !genesis || p.prev.is_some() || p.ledger.is_some() {
                return Err(self.fail(
                    0,
                    Reason::BadGenesis,
                    "entry 0 is not a well-formed genesis entry".into(),
                ));
            }
        } else {
            if self.id.is_none() {
                return Err(self.fail(
                    0,
                    Reason::BadGenesis,
                    "the genesis entry is not disclosed".into(),
                ));
            }
            if p.ledger != self.id {
                return Err(self.fail(
                    seq,
                    Reason::BadLedgerId,
                    "the entry belongs to another ledger".into(),
                ));
            }
            // The chain can only be checked between neighbours both disclosed;
            // the tree binds every position regardless.
            if prev.is_some() && p.prev != prev {
                return Err(self.fail(
                    seq,
                    Reason::BadPrev,
                    "`prev` is not the hash of the entry before".into(),
                ));
            }
        }
        let ok = VerifyingKey::from_bytes(&p.signer)
            .map(|k| {
                k.verify_strict(&p.signed_message(), &Signature::from_bytes(&p.signature))
                    .is_ok()
            })
            .unwrap_or(false);
        if !ok {
            return Err(self.fail(
                seq,
                Reason::BadSignature,
                "the signature does not verify".into(),
            ));
        }
        if seq == 0 {
            if let Some(pin) = opts.owner {
                if pin != p.signer {
                    return Err(self.fail(
                        0,
                        Reason::OwnerMismatch,
                        "the owner key is not the pinned one".into(),
                    ));
                }
            }
        }
        self.state
            .apply(seq, &p.signer, &p.event)
            .map_err(|e| self.fail(seq, e.reason, e.error.to_string()))?;
        if seq == 0 {
            self.id = Some(p.hash);
            self.owner = Some(p.signer);
        }
        self.count += 1;
        self.last = Some(p.hash);
        Ok(())
    }
}
