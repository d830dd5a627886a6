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
use crate::checkpoint::Checkpoint;
use crate::error::Error;
use crate::event::{EventKind, COMPONENTS};
use crate::merkle::TreeHash;
use ciborium::value::Value;

/// The partial export's format name, in its header.
pub const FORMAT: &str = "custody-partial/v2";
/// Prefixed to the statement bytes to form the message its signature covers.
pub const STATEMENT_DOMAIN: &[u8] = b"custody/v2/partial-export\0";
/// Prefixed to the disclosure bitmap to form its digest.
pub const MAP_DOMAIN: &[u8] = b"custody/v2/disclosure-map\0";
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
pub fn named(kind: &EventKind) -> Vec<&str> {
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

/// The signed statement of a partial export.
pub struct Statement {
    pub origin: String,
    pub size: u64,
    pub root: TreeHash,
    pub map: [u8; 32],
    pub selectors: Vec<String>,
}

impl Statement {
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
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

    pub fn decode(bytes: &[u8]) -> Result<Statement, String> {
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
pub struct Fields {
    entries: Vec<(Value, Value)>,
    what: &'static str,
}

impl Fields {
    pub fn new(v: Value, what: &'static str) -> Result<Fields, String> {
        match v {
            Value::Map(entries) => Ok(Fields { entries, what }),
            _ => Err(format!("the {what} is not a map")),
        }
    }
    pub fn take(&mut self, key: &str) -> Result<Value, String> {
        let pos = self
            .entries
            .iter()
            .position(|(k, _)| k.as_text() == Some(key))
            .ok_or_else(|| format!("the {} lacks `{key}`", self.what))?;
        Ok(self.entries.swap_remove(pos).1)
    }
    pub fn text(&mut self, key: &str) -> Result<String, String> {
        match self.take(key)? {
            Value::Text(t) => Ok(t),
            _ => Err(format!("`{key}` of the {} is not text", self.what)),
        }
    }
    pub fn uint(&mut self, key: &str) -> Result<u64, String> {
        match self.take(key)? {
            Value::Integer(i) => u64::try_from(i128::from(i)).ok(),
            _ => None,
        }
        .ok_or_else(|| format!("`{key}` of the {} is not an unsigned integer", self.what))
    }
    pub fn bytes(&mut self, key: &str, len: usize) -> Result<Vec<u8>, String> {
        match self.take(key)? {
            Value::Bytes(b) if b.len() == len => Ok(b),
            _ => Err(format!("`{key}` of the {} is not {len} bytes", self.what)),
        }
    }
    pub fn bytes32(&mut self, key: &str) -> Result<[u8; 32], String> {
        let b = self.bytes(key, 32)?;
        let mut out = [0u8; 32];
        out.copy_from_slice(&b);
        Ok(out)
    }
    pub fn finish(self) -> Result<(), String> {
        match self.entries.first() {
            None => Ok(()),
            Some((k, _)) => Err(format!("unknown field {k:?} in the {}", self.what)),
        }
    }
}

/// Whether a file's first byte starts a partial export (a CBOR map) rather
/// than a whole one (an entry, `82`).
pub fn is_partial(first: &[u8]) -> bool {
    first.first().is_some_and(|b| b >> 5 == 5)
}
