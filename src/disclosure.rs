//! Selective disclosure: a partial export that shows some entries whole and
//! the others only as their Merkle leaf hashes, under a checkpoint of the
//! whole ledger and a statement, signed by an owner, of exactly which
//! positions are disclosed and under which selectors.
//!
//! File (`schemas/TRANSPARENCY.md` §7): a CBOR sequence. First a header map
//! `{"checkpoint", "format", "publisher", "signature", "statement"}`, then
//! one item per entry, in order: the entry itself (framed as in a whole
//! export) when disclosed, or a 32-byte byte string, its leaf hash, when
//! withheld. The statement binds the disclosure map (which positions are
//! disclosed), so nobody but an owner can withhold more, or other, entries.

use crate::cbor;
use crate::checkpoint::{open_note, sign_note, Checkpoint, VerifierKey};
use crate::entry::Hash;
use crate::error::{Error, Invalid, Reason, VerifyError};
use crate::event::{EventKind, COMPONENTS};
use crate::files::Output;
use crate::merkle::{leaf_hash, TreeHash};
use crate::source::FileFrames;
use crate::tlog::default_origin;
use crate::verify::{Chain, DisclosureMap, Verified, VerifiedEntry, VerifyOptions};
use ciborium::value::Value;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

const FORMAT: &str = "custody-partial/v2";
/// Prefixed to the statement bytes to form the message its signature covers.
pub const STATEMENT_DOMAIN: &[u8] = b"custody/v2/partial-export\0";
/// Prefixed to the disclosure bitmap to form its digest.
pub(crate) const MAP_DOMAIN: &[u8] = b"custody/v2/disclosure-map\0";
/// Largest header accepted.
pub const MAX_HEADER: usize = 65536;

/// The event types a `type:` selector may name.
const EVENT_TYPES: [&str; 10] = [
    "genesis",
    "artifact",
    "custody",
    "transformation",
    "augmentation",
    "license",
    "release",
    "component",
    "grant",
    "revoke",
];

/// What to disclose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every event of this type.
    Type(String),
    /// Every event naming this artifact.
    Artifact(String),
    /// The component's events, and every entry its openness level rests on:
    /// the declaration, hand-overs to a key, license, release and producing
    /// entry of each of its artifacts and of all their ancestors.
    Component(String),
    /// All twelve components.
    Openness,
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selector::Type(t) => write!(f, "type:{t}"),
            Selector::Artifact(a) => write!(f, "artifact:{a}"),
            Selector::Component(c) => write!(f, "component:{c}"),
            Selector::Openness => f.write_str("openness"),
        }
    }
}

impl Selector {
    /// Parses `type:NAME`, `artifact:ID`, `component:NAME` or `openness`.
    /// A selector holds no hidden character (`is_hidden_char`), nor `,`,
    /// which would make a list of selectors read as another list.
    pub fn parse(s: &str) -> Result<Selector, String> {
        if s.chars()
            .any(|c| crate::event::is_hidden_char(c) || c == ',')
        {
            return Err(format!(
                "`{}` is not a selector: it holds a comma or a control or invisible character",
                s.escape_debug()
            ));
        }
        match s.split_once(':') {
            _ if s == "openness" => Ok(Selector::Openness),
            Some(("type", t)) if EVENT_TYPES.contains(&t) => Ok(Selector::Type(t.to_string())),
            Some(("artifact", a)) if !a.is_empty() => Ok(Selector::Artifact(a.to_string())),
            Some(("component", c)) if COMPONENTS.contains(&c) => Ok(Selector::Component(c.to_string())),
            _ => Err(format!(
                "`{s}` is not a selector: use type:NAME (an event type), artifact:ID, component:NAME (one of the twelve components) or openness"
            )),
        }
    }

    /// Whether this selector discloses everything `component`'s level rests on.
    pub fn covers(&self, component: &str) -> bool {
        match self {
            Selector::Openness => true,
            Selector::Component(c) => c == component,
            _ => false,
        }
    }
}

/// What the publisher of a partial export signed, as its verifier read it.
#[derive(Debug, Clone)]
pub struct Disclosure {
    /// The checkpoint of the whole ledger (origin, size, root).
    pub checkpoint: Checkpoint,
    /// The checkpoint as a signed note, to keep and check later ledgers against.
    pub note: String,
    /// The selectors the entries were disclosed under.
    pub selectors: Vec<Selector>,
    /// The publisher's key: an owner of the ledger at the checkpoint's size.
    pub publisher: [u8; 32],
}

impl Disclosure {
    /// Whether the selectors disclose everything `component`'s level rests
    /// on; when they do not, the level may depend on withheld entries.
    pub fn covers(&self, component: &str) -> bool {
        self.selectors.iter().any(|s| s.covers(component))
    }
}

/// The artifact ids an event names.
pub(crate) fn named(kind: &EventKind) -> Vec<&str> {
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
        EventKind::Component { assignment, .. } => {
            assignment.artifacts().iter().map(String::as_str).collect()
        }
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

/// What the exporter keeps of each entry to decide what to disclose.
struct Brief {
    type_name: &'static str,
    /// Artifacts named (interned).
    named: Vec<u32>,
    /// For a production: its outputs (interned).
    outputs: Vec<u32>,
    /// For a component event: its component.
    component: Option<&'static str>,
    /// A hand-over that moves authority, or a declaration.
    authority: bool,
    role: bool,
}

/// Verifies `source` and writes a partial export of it to `out`, disclosing
/// the selected entries, with a checkpoint of the whole ledger and a
/// disclosure statement signed by `key`, which must be an owner's.
///
/// Besides the selected entries, genesis, every `grant` and `revoke`, the
/// last entry, and for every artifact a disclosed entry names its
/// declaration and every hand-over of it to a key are disclosed, so that every disclosed entry's
/// signer can be checked to hold the role and the authority it needed.
/// The file is verified before it is kept: an export that would not verify
/// is never written.
pub fn export_partial(
    source: impl Into<crate::store::Location>,
    out: Output<'_>,
    selectors: &[Selector],
    key: &SigningKey,
) -> Result<PartialReport, Error> {
    if selectors.is_empty() {
        return Err(Error::usage("give at least one selector to disclose"));
    }
    if let Output::File { path, overwrite } = &out {
        crate::files::refuse_existing(path, *overwrite)?;
    }
    // Pass 1: verify, and keep a brief of every entry.
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut intern = |s: &str| -> u32 {
        let n = ids.len() as u32;
        *ids.entry(s.to_string()).or_insert(n)
    };
    let mut briefs: Vec<Brief> = Vec::new();
    let source = &source.into();
    // The checkpoint inside is signed by `key`: held to its mark, as any
    // other checkpoint it signs.
    let mut watch = crate::ledger::MarkWatch::new(key);
    let v = crate::ledger::verify_whole(source, &VerifyOptions::default(), false, None, |e| {
        watch.see(e.seq(), e.hash());
        let kind = &e.event().kind;
        let named: Vec<u32> = named(kind).into_iter().map(&mut intern).collect();
        let outputs = match kind {
            EventKind::Transformation { outputs, .. } | EventKind::Augmentation { outputs, .. } => {
                outputs.iter().map(|o| intern(o)).collect()
            }
            _ => Vec::new(),
        };
        let component = match kind {
            EventKind::Component { component, .. } => {
                COMPONENTS.iter().copied().find(|c| c == component)
            }
            _ => None,
        };
        briefs.push(Brief {
            type_name: e.event().type_name(),
            named,
            outputs,
            component,
            authority: matches!(
                kind,
                EventKind::Artifact { .. } | EventKind::Custody { key: Some(_), .. }
            ),
            role: matches!(
                kind,
                EventKind::Genesis { .. } | EventKind::Grant { .. } | EventKind::Revoke { .. }
            ),
        });
        Ok(())
    })?;
    let publisher = key.verifying_key().to_bytes();
    if !v.ledger.state.is_owner(&publisher) {
        return Err(Error::usage(format!(
            "the key {} is not an owner of this ledger at its {} entries; a partial export must be \
             signed by an owner, or its readers could not trust what it withholds",
            hex::encode(publisher),
            v.ledger.entries
        )));
    }
    let at = if source.is_store() {
        crate::store::names_at(source)?
    } else {
        Vec::new()
    };
    crate::highwater::check_binding(&publisher, &at, &v.ledger.id)?;
    watch.settle(&v.ledger)?;
    crate::highwater::bind(&publisher, &at, &v.ledger.id)?;
    let lookup = |s: &str| ids.get(s).copied();
    // The lineage of the selected components: their artifacts and all ancestors.
    let mut producer_of: HashMap<u32, usize> = HashMap::new();
    for (seq, b) in briefs.iter().enumerate() {
        for &o in &b.outputs {
            producer_of.insert(o, seq);
        }
    }
    let mut lineage: HashSet<u32> = HashSet::new();
    let mut stack: Vec<u32> = Vec::new();
    let covered = |c: &str| selectors.iter().any(|s| s.covers(c));
    for b in &briefs {
        if b.component.is_some_and(covered) {
            stack.extend(&b.named);
        }
    }
    // Each production's parents are pushed once, however many outputs.
    let mut expanded: HashSet<usize> = HashSet::new();
    while let Some(a) = stack.pop() {
        if !lineage.insert(a) {
            continue;
        }
        if let Some(&p) = producer_of.get(&a) {
            if expanded.insert(p) {
                let outs: HashSet<u32> = briefs[p].outputs.iter().copied().collect();
                stack.extend(briefs[p].named.iter().filter(|x| !outs.contains(x)));
            }
        }
    }
    let wanted: HashSet<u32> = selectors
        .iter()
        .filter_map(|s| match s {
            Selector::Artifact(a) => lookup(a),
            _ => None,
        })
        .collect();
    let mut disclose: Vec<bool> = briefs
        .iter()
        .enumerate()
        .map(|(seq, b)| {
            b.role
                || b.named.iter().any(|a| wanted.contains(a))
                || selectors.iter().any(|s| match s {
                    Selector::Type(t) => t == b.type_name,
                    _ => false,
                })
                || b.component.is_some_and(covered)
                || (b.type_name != "transformation"
                    && b.type_name != "augmentation"
                    && b.type_name != "component"
                    && b.type_name != "custody"
                    && b.named.iter().any(|a| lineage.contains(a)))
                || (b.authority && b.named.iter().any(|a| lineage.contains(a)))
                || b.outputs
                    .iter()
                    .any(|o| lineage.contains(o) && producer_of.get(o) == Some(&seq))
        })
        .collect();
    // The last entry is always disclosed: its `roles` count shows that no
    // grant or revocation was withheld.
    if let Some(last) = disclose.last_mut() {
        *last = true;
    }
    // Whatever a disclosed entry names, its declaration and hand-overs to a
    // key are disclosed too: the verifier checks authority with them.
    let mut needed: HashSet<u32> = HashSet::new();
    for (b, d) in briefs.iter().zip(&disclose) {
        if *d {
            needed.extend(&b.named);
        }
    }
    for (b, d) in briefs.iter().zip(disclose.iter_mut()) {
        if b.authority && b.named.iter().any(|a| needed.contains(a)) {
            *d = true;
        }
    }
    // Pass 2: write the items, from the same entries (the head must not
    // have moved), and compute the tree and the map on the way.
    let n = v.ledger.entries;
    let mut items: Vec<u8> = Vec::new();
    let mut range = crate::merkle::CompactRange::default();
    let mut map = DisclosureMap::new();
    let mut disclosed = 0u64;
    let mut seen = 0u64;
    let mut head = None;
    crate::ledger::verify_whole(source, &VerifyOptions::default(), false, None, |e| {
        let seq = e.seq();
        if seq >= n {
            return Ok(());
        }
        let leaf = leaf_hash(e.bytes());
        range.push(leaf);
        let d = disclose[seq as usize];
        map.push(d);
        if d {
            items.extend_from_slice(e.bytes());
            disclosed += 1;
        } else {
            cbor::head(2, 32, &mut items);
            items.extend_from_slice(&leaf);
        }
        seen += 1;
        head = Some(*e.hash());
        Ok(())
    })?;
    if seen != n || head != Some(v.ledger.head) {
        return Err(Error::usage(
            "the ledger changed while it was being exported; run the export again",
        ));
    }
    let origin = default_origin(v.ledger.name(), v.ledger.id());
    let cp = Checkpoint {
        origin: origin.clone(),
        size: n,
        root: range.root(),
    };
    let note = sign_note(&cp.text(), &origin, key).map_err(Error::Usage)?;
    let statement = Statement {
        origin,
        size: n,
        root: cp.root,
        map: map.finish(),
        selectors: selectors.iter().map(ToString::to_string).collect(),
    }
    .encode()?;
    let mut signed = STATEMENT_DOMAIN.to_vec();
    signed.extend_from_slice(&statement);
    let signature = key.sign(&signed).to_bytes();
    let header = cbor::encode(&Value::Map(vec![
        (Value::Text("format".into()), Value::Text(FORMAT.into())),
        (Value::Text("checkpoint".into()), Value::Text(note)),
        (Value::Text("statement".into()), Value::Bytes(statement)),
        (
            Value::Text("publisher".into()),
            Value::Bytes(publisher.to_vec()),
        ),
        (
            Value::Text("signature".into()),
            Value::Bytes(signature.to_vec()),
        ),
    ]))
    .map_err(|e| Error::Usage(format!("cannot encode the header: {e:?}")))?;
    if header.len() > MAX_HEADER {
        return Err(Error::usage(format!(
            "the selectors make a header of {} bytes, more than {MAX_HEADER}; use fewer selectors",
            header.len()
        )));
    }
    let mut file = header;
    file.extend_from_slice(&items);
    // What is written must verify, as anyone will check it.
    let mut r = file.as_slice();
    verify_partial(
        Path::new("<partial export>"),
        &mut r,
        &VerifyOptions::default(),
        None,
        |_| Ok(()),
    )
    .map_err(|e| match e {
        Error::Invalid(inv) => Error::Usage(format!(
            "the partial export would not verify ({}); nothing was written",
            inv.error
        )),
        other => other,
    })?;
    out.write(&file)?;
    Ok(PartialReport {
        entries: n,
        disclosed,
    })
}

/// The signed statement of a partial export.
struct Statement {
    origin: String,
    size: u64,
    root: TreeHash,
    map: [u8; 32],
    selectors: Vec<String>,
}

impl Statement {
    fn encode(&self) -> Result<Vec<u8>, Error> {
        cbor::encode(&Value::Map(vec![
            (
                Value::Text("origin".into()),
                Value::Text(self.origin.clone()),
            ),
            (Value::Text("size".into()), Value::Integer(self.size.into())),
            (Value::Text("root".into()), Value::Bytes(self.root.to_vec())),
            (Value::Text("map".into()), Value::Bytes(self.map.to_vec())),
            (
                Value::Text("selectors".into()),
                Value::Array(
                    self.selectors
                        .iter()
                        .map(|s| Value::Text(s.clone()))
                        .collect(),
                ),
            ),
        ]))
        .map_err(|e| Error::Usage(format!("cannot encode the statement: {e:?}")))
    }

    fn decode(bytes: &[u8]) -> Result<Statement, String> {
        let v = cbor::decode_canonical(bytes).map_err(|e| format!("statement: {e:?}"))?;
        let mut m = Fields::new(v, "statement")?;
        let origin = m.text("origin")?;
        let size = m.uint("size")?;
        let root = m.bytes32("root")?;
        let map = m.bytes32("map")?;
        let selectors = match m.take("selectors")? {
            Value::Array(items) if !items.is_empty() => items
                .into_iter()
                .map(|i| match i {
                    Value::Text(t) => Ok(t),
                    _ => Err("statement: a selector is not text".to_string()),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err("statement: `selectors` is not a non-empty array".into()),
        };
        m.finish()?;
        Ok(Statement {
            origin,
            size,
            root,
            map,
            selectors,
        })
    }
}

/// Reads the fields of a header or statement map: exactly the keys asked for.
struct Fields {
    entries: Vec<(Value, Value)>,
    what: &'static str,
}

impl Fields {
    fn new(v: Value, what: &'static str) -> Result<Fields, String> {
        match v {
            Value::Map(entries) => Ok(Fields { entries, what }),
            _ => Err(format!("the {what} is not a map")),
        }
    }
    fn take(&mut self, key: &str) -> Result<Value, String> {
        let pos = self
            .entries
            .iter()
            .position(|(k, _)| k.as_text() == Some(key))
            .ok_or_else(|| format!("the {} lacks `{key}`", self.what))?;
        Ok(self.entries.swap_remove(pos).1)
    }
    fn text(&mut self, key: &str) -> Result<String, String> {
        match self.take(key)? {
            Value::Text(t) => Ok(t),
            _ => Err(format!("`{key}` of the {} is not text", self.what)),
        }
    }
    fn uint(&mut self, key: &str) -> Result<u64, String> {
        match self.take(key)? {
            Value::Integer(i) => u64::try_from(i128::from(i)).ok(),
            _ => None,
        }
        .ok_or_else(|| format!("`{key}` of the {} is not an unsigned integer", self.what))
    }
    fn bytes(&mut self, key: &str, len: usize) -> Result<Vec<u8>, String> {
        match self.take(key)? {
            Value::Bytes(b) if b.len() == len => Ok(b),
            _ => Err(format!("`{key}` of the {} is not {len} bytes", self.what)),
        }
    }
    fn bytes32(&mut self, key: &str) -> Result<[u8; 32], String> {
        let b = self.bytes(key, 32)?;
        let mut out = [0u8; 32];
        out.copy_from_slice(&b);
        Ok(out)
    }
    fn finish(self) -> Result<(), String> {
        match self.entries.first() {
            None => Ok(()),
            Some((k, _)) => Err(format!("unknown field {k:?} in the {}", self.what)),
        }
    }
}

/// Whether a file's first byte starts a partial export (a CBOR map) rather
/// than a whole one (an entry, `82`).
pub(crate) fn is_partial(first: &[u8]) -> bool {
    first.first().is_some_and(|b| b >> 5 == 5)
}

fn invalid(
    seq: u64,
    reason: Reason,
    detail: String,
    head: Option<Hash>,
    owner: Option<[u8; 32]>,
) -> Error {
    Error::Invalid(Box::new(Invalid {
        error: VerifyError {
            seq,
            reason,
            detail,
        },
        entries: seq,
        head,
        owner,
    }))
}

/// Reads the header of a partial export and checks both signatures on it.
fn read_header<R: Read>(path: &Path, r: &mut R) -> Result<(Disclosure, [u8; 32], Vec<u8>), Error> {
    let bad = |m: String| {
        invalid(
            0,
            Reason::BadDisclosure,
            format!("partial export header: {m}"),
            None,
            None,
        )
    };
    let mut buf = Vec::new();
    r.take(MAX_HEADER as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    let len = cbor::item_len(&buf).map_err(|e| {
        bad(match e {
            cbor::CborError::Malformed(m) => m,
            other => format!("{other:?}"),
        })
    })?;
    if len > MAX_HEADER {
        return Err(bad(format!("longer than {MAX_HEADER} bytes")));
    }
    let rest = buf.split_off(len);
    let value = cbor::decode_canonical(&buf).map_err(|e| bad(format!("{e:?}")))?;
    let mut h = Fields::new(value, "header").map_err(bad)?;
    let format = h.text("format").map_err(bad)?;
    if format != FORMAT {
        return Err(bad(format!("format `{format}`, not `{FORMAT}`")));
    }
    let note = h.text("checkpoint").map_err(bad)?;
    let statement_bytes = match h.take("statement").map_err(bad)? {
        Value::Bytes(b) => b,
        _ => return Err(bad("`statement` is not a byte string".into())),
    };
    let publisher: [u8; 32] = h.bytes32("publisher").map_err(bad)?;
    let signature: [u8; 64] = h
        .bytes("signature", 64)
        .map_err(bad)?
        .try_into()
        .map_err(|_| bad("`signature` is not 64 bytes".into()))?;
    h.finish().map_err(bad)?;
    let mut signed = STATEMENT_DOMAIN.to_vec();
    signed.extend_from_slice(&statement_bytes);
    let ok = VerifyingKey::from_bytes(&publisher)
        .map(|k| {
            k.verify_strict(&signed, &Signature::from_bytes(&signature))
                .is_ok()
        })
        .unwrap_or(false);
    if !ok {
        return Err(bad(
            "the publisher's signature on the statement does not verify".into(),
        ));
    }
    let st = Statement::decode(&statement_bytes).map_err(bad)?;
    let mut selectors = Vec::with_capacity(st.selectors.len());
    for s in &st.selectors {
        selectors.push(Selector::parse(s).map_err(bad)?);
    }
    let vkey = VerifierKey::from_public(&st.origin, &publisher).map_err(bad)?;
    let cp = open_note(&note, &vkey)
        .and_then(Checkpoint::parse_text)
        .map_err(|m| bad(format!("checkpoint: {m}")))?;
    if cp.origin != st.origin || cp.size != st.size || cp.root != st.root {
        return Err(bad(
            "the checkpoint and the statement name different trees".into()
        ));
    }
    Ok((
        Disclosure {
            checkpoint: cp,
            note,
            selectors,
            publisher,
        },
        st.map,
        rest,
    ))
}

/// Verifies a partial export read from `r`: the header's signatures, every
/// disclosed entry exactly as in a whole export (encoding, position, chain
/// where both neighbours are disclosed, signature, role, authority, rules),
/// then that the items give the checkpoint's tree and the signed disclosure
/// map, that the publisher is an owner at the checkpoint's size as the
/// disclosed grants and revokes establish, and that the checkpoint is of
/// this ledger (its origin). Disclosed entries go to `sink` in order.
pub(crate) fn verify_partial<R: Read>(
    path: &Path,
    r: &mut R,
    opts: &VerifyOptions,
    watch: Option<u64>,
    sink: impl FnMut(VerifiedEntry) -> Result<(), Error>,
) -> Result<Verified, Error> {
    let (disclosure, map, rest) = read_header(path, r)?;
    let size = disclosure.checkpoint.size;
    let mut items = std::io::Cursor::new(rest).chain(r);
    let frames = FileFrames {
        path: path.to_path_buf(),
        r: &mut items,
        done: false,
        partial: Some((size, 0)),
    };
    let mut chain = Chain::new(opts.clone()).partial();
    if let Some(w) = watch {
        chain = chain.watch(w);
    }
    let mut v = chain.run(frames, sink)?;
    let l = &v.ledger;
    let fail =
        |reason, detail: String| invalid(l.entries, reason, detail, Some(l.head), Some(l.owner));
    if l.entries != size {
        return Err(fail(
            Reason::BadDisclosure,
            format!(
                "{} items, but the checkpoint is of {size} entries",
                l.entries
            ),
        ));
    }
    // The last entry's `roles` counts every grant and revocation before it,
    // so with it disclosed none can be withheld unseen.
    if v.last_disclosed != Some(size - 1) {
        return Err(invalid(
            size - 1,
            Reason::BadDisclosure,
            "the last entry is withheld; a partial export discloses it, so that its `roles` \
             shows no grant or revocation was withheld"
                .into(),
            Some(l.head),
            Some(l.owner),
        ));
    }
    let root = v.tree.as_ref().map(|t| t.root());
    if root != Some(disclosure.checkpoint.root) {
        return Err(fail(
            Reason::BadDisclosure,
            format!(
                "the {} disclosed entries and {} withheld hashes do not give the checkpoint's tree",
                l.entries - l.withheld,
                l.withheld
            ),
        ));
    }
    if v.map != Some(map) {
        return Err(fail(
            Reason::BadDisclosure,
            "the disclosed and withheld positions are not those the publisher signed".into(),
        ));
    }
    if !l.state.is_owner(&disclosure.publisher) {
        return Err(fail(
            Reason::BadDisclosure,
            format!(
                "the publisher {} is not an owner at the checkpoint's size, as the disclosed grants and revocations establish",
                hex::encode(disclosure.publisher)
            ),
        ));
    }
    let want = default_origin(l.name(), l.id());
    if disclosure.checkpoint.origin != want {
        return Err(fail(
            Reason::ForeignCheckpoint,
            format!(
                "the checkpoint is of `{}`, this ledger is `{want}`",
                disclosure.checkpoint.origin
            ),
        ));
    }
    v.ledger.disclosure = Some(disclosure);
    Ok(v)
}
