//! The event vocabulary: what a ledger entry records.
//!
//! Events arrive as JSON objects and are stored as the same object in CBOR.
//! `Event::from_json` is the one parser for both directions, so the append
//! path and the verifier accept exactly the same events. Checks that need the
//! rest of the ledger (declared artifacts, roles, lineage) live in `rules`.

use serde_json::{Map, Value as Json};
use std::fmt;

/// The twelve pipeline components of the openness taxonomy, in table order.
pub const COMPONENTS: [&str; 12] = [
    "pretraining-code",
    "finetuning-code",
    "alignment-code",
    "pretraining-data",
    "sft-data",
    "alignment-data",
    "eval-code",
    "safety-eval-code",
    "benchmark-data",
    "safety-eval-data",
    "inference-code",
    "weights",
];

/// An event field failed a check; `field` names it (`inputs[2]`, `license.terms.modify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field at fault, empty when the event as a whole is.
    pub field: String,
    /// What is wrong and, where useful, what would be right.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "field `{}`: {}", self.field, self.message)
        }
    }
}

/// What an artifact is; it decides which components it may stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    /// Source code.
    Code,
    /// A dataset.
    Data,
    /// Model weights.
    Weights,
}

impl Kind {
    /// The name used in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Code => "code",
            Kind::Data => "data",
            Kind::Weights => "weights",
        }
    }
}

/// How an artifact is made available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Access {
    /// Not released in any form.
    None,
    /// Only through a paid API.
    PaidApi,
    /// Publicly.
    Public,
}

impl Access {
    /// The name used in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::None => "none",
            Access::PaidApi => "paid-api",
            Access::Public => "public",
        }
    }
}

/// A role granted by an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Role {
    /// May append any event but `grant` and `revoke`.
    Appender,
    /// May append any event.
    Owner,
}

impl Role {
    /// The name used in events.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Appender => "appender",
            Role::Owner => "owner",
        }
    }
}

/// The five rights of the license rubric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Terms {
    /// May be used for research.
    pub research: bool,
    /// May be used for any commercial purpose.
    pub commercial: bool,
    /// May be modified.
    pub modify: bool,
    /// A derivative may be copyrighted by its author.
    pub copyright_derivative: bool,
    /// A shared derivative may take another license.
    pub other_license_derivative: bool,
}

/// A license as recorded: an SPDX expression or an inline set of terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum License {
    /// An SPDX identifier or expression (ids may be `LicenseRef-...`).
    Spdx(String),
    /// A license described in the ledger itself.
    Inline {
        /// Its name.
        name: String,
        /// What it grants.
        terms: Terms,
    },
}

/// What a `component` event says of a pipeline component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    /// These artifacts make up the component (added to any assigned before).
    Artifacts(Vec<String>),
    /// These artifacts, and only these, make up the component: an owner's
    /// correction of what was assigned before.
    Replace(Vec<String>),
    /// The stage does not exist in this pipeline.
    NotApplicable,
}

impl Assignment {
    /// The artifacts it names (none when not applicable).
    pub fn artifacts(&self) -> &[String] {
        match self {
            Assignment::Artifacts(ids) | Assignment::Replace(ids) => ids,
            Assignment::NotApplicable => &[],
        }
    }
}

/// One event of the vocabulary.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventKind {
    /// The first entry: names the ledger; its signer becomes the first owner.
    Genesis {
        /// The ledger's name.
        name: String,
    },
    /// Declares an artifact.
    Artifact {
        /// Unique id within the ledger.
        id: String,
        /// Code, data or weights.
        kind: Kind,
        /// `sha256:` and 64 lowercase hex digits.
        digest: Option<String>,
        /// Where it can be found.
        uri: Option<String>,
        /// Size in bytes.
        size: Option<u64>,
        /// Free text.
        description: Option<String>,
    },
    /// A change of holder.
    Custody {
        /// The artifact id.
        artifact: String,
        /// Previous holder.
        from: String,
        /// New holder.
        to: String,
        /// The new holder's key, when authority over the artifact passes to it.
        key: Option<[u8; 32]>,
    },
    /// Outputs derived from inputs by an operation.
    Transformation {
        /// `dedup`, `filter`, `tokenize`...
        operation: String,
        /// Artifact ids consumed.
        inputs: Vec<String>,
        /// Artifact ids produced.
        outputs: Vec<String>,
        /// The tool that did it.
        tool: Option<String>,
        /// Its parameters.
        parameters: Option<Map<String, Json>>,
    },
    /// Data added by augmentation, possibly generated by a model.
    Augmentation {
        /// `synthetic`, `paraphrase`...
        method: String,
        /// Artifact ids consumed.
        inputs: Vec<String>,
        /// Artifact ids produced.
        outputs: Vec<String>,
        /// The model artifact that generated the data.
        generator: Option<String>,
        /// Its parameters.
        parameters: Option<Map<String, Json>>,
    },
    /// The license an artifact is released under (the latest counts).
    License {
        /// The artifact id.
        artifact: String,
        /// The license.
        license: License,
    },
    /// How an artifact is released (the latest counts).
    Release {
        /// The artifact id.
        artifact: String,
        /// The access.
        access: Access,
    },
    /// Which artifacts make up a pipeline component.
    Component {
        /// One of [`COMPONENTS`].
        component: String,
        /// Its artifacts, or not applicable.
        assignment: Assignment,
    },
    /// Gives a key a role.
    Grant {
        /// The key.
        key: [u8; 32],
        /// The role.
        role: Role,
    },
    /// Takes a key's role away.
    Revoke {
        /// The key.
        key: [u8; 32],
    },
}

/// An event with its optional note.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// Free text any event may carry.
    pub note: Option<String>,
}

/// At append, before the event is checked and signed: the license ids of
/// a `license` event's SPDX expression written in their registry case, so
/// that the signed event spells each known id one way (`mit` is stored as
/// `MIT`, `gpl-2.0+ WITH classpath-exception-2.0` as `GPL-2.0+ WITH
/// Classpath-exception-2.0`). SPDX ids are case-insensitive, so the meaning
/// is the same; a verifier still accepts any case. A malformed expression
/// is left as written, for [`Event::from_json`] to refuse.
pub fn canonical_spelling(json: &mut Json) {
    let Json::Object(obj) = json else {
        return;
    };
    if obj.get("type").and_then(Json::as_str) != Some("license") {
        return;
    }
    if let Some(Json::String(s)) = obj.get_mut("license") {
        if crate::license::check_expression(s).is_ok() {
            *s = crate::registry::registry().canonical_expression(s);
        }
    }
}

impl Event {
    /// The event's `type` name.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            EventKind::Genesis { .. } => "genesis",
            EventKind::Artifact { .. } => "artifact",
            EventKind::Custody { .. } => "custody",
            EventKind::Transformation { .. } => "transformation",
            EventKind::Augmentation { .. } => "augmentation",
            EventKind::License { .. } => "license",
            EventKind::Release { .. } => "release",
            EventKind::Component { .. } => "component",
            EventKind::Grant { .. } => "grant",
            EventKind::Revoke { .. } => "revoke",
        }
    }

    /// Parses and checks one event object. Genesis events are accepted only
    /// when `genesis` is true: `init` writes them and the verifier reads them,
    /// but they are never appended.
    pub fn from_json(value: &Json, genesis: bool) -> Result<Event, FieldError> {
        let Json::Object(obj) = value else {
            return Err(FieldError::new("", "an event must be a JSON object"));
        };
        if crate::json::depth(value) > crate::json::MAX_EVENT_DEPTH {
            return Err(FieldError::new(
                "",
                format!(
                    "nested more than {} levels deep",
                    crate::json::MAX_EVENT_DEPTH
                ),
            ));
        }
        let mut f = Fields::new(obj);
        let ty = f.req_ref("type")?;
        let note = f.opt_str("note")?;
        let kind = match ty {
            "genesis" if genesis => EventKind::Genesis {
                name: f.req_nonempty("name")?,
            },
            "genesis" => {
                return Err(FieldError::new(
                    "type",
                    "`genesis` is written by `custody init` only",
                ))
            }
            "artifact" => EventKind::Artifact {
                id: f.req_nonempty("id")?,
                kind: match f.req_ref("kind")? {
                    "code" => Kind::Code,
                    "data" => Kind::Data,
                    "weights" => Kind::Weights,
                    other => {
                        return Err(FieldError::new(
                            "kind",
                            format!("`{other}` is not one of `code`, `data`, `weights`"),
                        ))
                    }
                },
                digest: match f.opt_str("digest")? {
                    Some(d) => Some(check_digest(d)?),
                    None => None,
                },
                uri: f.opt_str("uri")?,
                size: f.opt_u64("size")?,
                description: f.opt_str("description")?,
            },
            "custody" => EventKind::Custody {
                artifact: f.req_nonempty("artifact")?,
                from: f.req_nonempty("from")?,
                to: f.req_nonempty("to")?,
                key: if f.has("key") {
                    Some(f.key("key")?)
                } else {
                    None
                },
            },
            "transformation" => EventKind::Transformation {
                operation: f.req_nonempty("operation")?,
                inputs: f.req_ids("inputs")?,
                outputs: f.req_ids("outputs")?,
                tool: f.opt_str("tool")?,
                parameters: f.opt_object("parameters")?,
            },
            "augmentation" => EventKind::Augmentation {
                method: f.req_nonempty("method")?,
                inputs: f.req_ids("inputs")?,
                outputs: f.req_ids("outputs")?,
                generator: match f.opt_str("generator")? {
                    Some(g) if g.is_empty() => {
                        return Err(FieldError::new("generator", "must not be empty"))
                    }
                    g => g,
                },
                parameters: f.opt_object("parameters")?,
            },
            "license" => EventKind::License {
                artifact: f.req_nonempty("artifact")?,
                license: f.license()?,
            },
            "release" => EventKind::Release {
                artifact: f.req_nonempty("artifact")?,
                access: match f.req_ref("access")? {
                    "none" => Access::None,
                    "paid-api" => Access::PaidApi,
                    "public" => Access::Public,
                    other => {
                        return Err(FieldError::new(
                            "access",
                            format!("`{other}` is not one of `none`, `paid-api`, `public`"),
                        ))
                    }
                },
            },
            "component" => {
                let component = f.req_str("component")?;
                if !COMPONENTS.contains(&component.as_str()) {
                    return Err(FieldError::new(
                        "component",
                        format!(
                            "`{component}` is not a pipeline component; use one of: {}",
                            COMPONENTS.join(", ")
                        ),
                    ));
                }
                let has_artifacts = f.has("artifacts");
                let applicable = f.opt_bool("applicable")?;
                let replace = match f.opt_bool("replace")? {
                    None => false,
                    Some(true) if has_artifacts => true,
                    Some(true) => {
                        return Err(FieldError::new(
                            "replace",
                            "only goes with `artifacts`: the artifacts that replace the component's",
                        ))
                    }
                    Some(false) => {
                        return Err(FieldError::new(
                            "replace",
                            "may only be `true`; leave it out to add artifacts to the component",
                        ))
                    }
                };
                let assignment = match (has_artifacts, applicable) {
                    (true, None) if replace => Assignment::Replace(f.req_ids("artifacts")?),
                    (true, None) => Assignment::Artifacts(f.req_ids("artifacts")?),
                    (false, Some(false)) => Assignment::NotApplicable,
                    (false, Some(true)) => {
                        return Err(FieldError::new(
                            "applicable",
                            "may only be `false`; to say the component exists, list its `artifacts`",
                        ))
                    }
                    (true, Some(_)) => {
                        return Err(FieldError::new(
                            "applicable",
                            "give either `artifacts` or `applicable: false`, not both",
                        ))
                    }
                    (false, None) => {
                        return Err(FieldError::new(
                            "artifacts",
                            "missing: give `artifacts` (a list of artifact ids) or `applicable: false`",
                        ))
                    }
                };
                EventKind::Component {
                    component,
                    assignment,
                }
            }
            "grant" => EventKind::Grant {
                key: f.key("key")?,
                role: match f.req_ref("role")? {
                    "appender" => Role::Appender,
                    "owner" => Role::Owner,
                    other => {
                        return Err(FieldError::new(
                            "role",
                            format!("`{other}` is not one of `appender`, `owner`"),
                        ))
                    }
                },
            },
            "revoke" => EventKind::Revoke { key: f.key("key")? },
            other => {
                return Err(FieldError::new(
                    "type",
                    format!(
                        "unknown event type `{other}`; known types: artifact, custody, transformation, \
                         augmentation, license, release, component, grant, revoke"
                    ),
                ))
            }
        };
        f.finish()?;
        Ok(Event { kind, note })
    }
}

fn check_digest(d: String) -> Result<String, FieldError> {
    // A file's SHA-256, or a directory's manifest digest (schemas/FORMAT.md).
    let hex = d
        .strip_prefix("sha256:")
        .or_else(|| d.strip_prefix("sha256-manifest:"));
    let ok = hex.is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if ok {
        Ok(d)
    } else {
        Err(FieldError::new(
            "digest",
            "must be `sha256:` (a file) or `sha256-manifest:` (a directory) followed by 64 \
             lowercase hex digits",
        ))
    }
}

/// Walks an object's fields, remembering which were read so that unknown
/// ones can be refused at the end.
struct Fields<'a> {
    obj: &'a Map<String, Json>,
    seen: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    fn new(obj: &'a Map<String, Json>) -> Self {
        Fields {
            obj,
            // Room for every field an event kind reads: one allocation.
            seen: Vec::with_capacity(16),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.obj.contains_key(name)
    }

    fn get(&mut self, name: &'static str) -> Option<&'a Json> {
        self.seen.push(name);
        self.obj.get(name)
    }

    fn req(&mut self, name: &'static str) -> Result<&'a Json, FieldError> {
        self.get(name)
            .ok_or_else(|| FieldError::new(name, "missing (it is required)"))
    }

    /// A required string only matched against, not kept: checked as
    /// `req_str` checks it, without the copy.
    fn req_ref(&mut self, name: &'static str) -> Result<&'a str, FieldError> {
        match self.req(name)? {
            Json::String(s) => check_text(name, s).map(|()| s.as_str()),
            other => Err(wrong_type(name, "a string", other)),
        }
    }

    fn req_str(&mut self, name: &'static str) -> Result<String, FieldError> {
        match self.req(name)? {
            Json::String(s) => checked_text(name, s),
            other => Err(wrong_type(name, "a string", other)),
        }
    }

    fn req_nonempty(&mut self, name: &'static str) -> Result<String, FieldError> {
        let s = self.req_str(name)?;
        if s.is_empty() {
            return Err(FieldError::new(name, "must not be empty"));
        }
        Ok(s)
    }

    fn opt_str(&mut self, name: &'static str) -> Result<Option<String>, FieldError> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::String(s)) => checked_text(name, s).map(Some),
            Some(other) => Err(wrong_type(name, "a string", other)),
        }
    }

    fn opt_bool(&mut self, name: &'static str) -> Result<Option<bool>, FieldError> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(wrong_type(name, "true or false", other)),
        }
    }

    fn opt_u64(&mut self, name: &'static str) -> Result<Option<u64>, FieldError> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
            Some(other) => Err(wrong_type(name, "a non-negative integer", other)),
        }
    }

    fn opt_object(&mut self, name: &'static str) -> Result<Option<Map<String, Json>>, FieldError> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::Object(o)) => Ok(Some(o.clone())),
            Some(other) => Err(wrong_type(name, "a JSON object", other)),
        }
    }

    fn req_ids(&mut self, name: &'static str) -> Result<Vec<String>, FieldError> {
        let Json::Array(items) = self.req(name)? else {
            return Err(wrong_type(
                name,
                "a list of artifact ids",
                self.obj.get(name).unwrap_or(&Json::Null),
            ));
        };
        if items.is_empty() {
            return Err(FieldError::new(name, "must list at least one artifact id"));
        }
        let mut out: Vec<String> = Vec::with_capacity(items.len());
        // Long lists are checked for repeats by a set; short ones, the
        // common case, by a scan that allocates nothing.
        let mut seen =
            (items.len() > 16).then(|| std::collections::HashSet::with_capacity(items.len()));
        for (i, item) in items.iter().enumerate() {
            // Named only for an error: formatting it for every item would
            // cost an allocation each.
            let field = || format!("{name}[{i}]");
            match item {
                Json::String(s) if s.is_empty() => {
                    return Err(FieldError::new(field(), "must not be empty"))
                }
                Json::String(s) => {
                    let repeated = match &mut seen {
                        Some(set) => !set.insert(s.as_str()),
                        None => out.iter().any(|o| o == s),
                    };
                    if repeated {
                        return Err(FieldError::new(field(), format!("`{s}` is listed twice")));
                    }
                    // `inputs[0]` and the like are neither free text nor a
                    // uri: checked as any id is.
                    check_text(LIST_ITEM, s).map_err(|e| FieldError::new(field(), e.message))?;
                    out.push(s.clone());
                }
                other => return Err(wrong_type(&field(), "an artifact id (a string)", other)),
            }
        }
        Ok(out)
    }

    fn key(&mut self, name: &'static str) -> Result<[u8; 32], FieldError> {
        let s = self.req_str(name)?;
        let k = crate::signature::parse_public_hex(&s).map_err(|m| FieldError::new(name, m))?;
        // A key that is not a usable Ed25519 key could never sign: refuse it.
        match ed25519_dalek::VerifyingKey::from_bytes(&k) {
            Ok(vk) if !vk.is_weak() => Ok(k),
            _ => Err(FieldError::new(
                name,
                "is not a usable Ed25519 public key (not a curve point, or of small order)",
            )),
        }
    }

    fn license(&mut self) -> Result<License, FieldError> {
        match self.req("license")? {
            Json::String(s) => {
                check_length("license", s)?;
                crate::license::check_expression(s).map_err(|m| FieldError::new("license", m))?;
                Ok(License::Spdx(s.clone()))
            }
            Json::Object(o) => {
                let mut f = Fields::new(o);
                let name = f.req_nonempty("name").map_err(|e| prefix("license", e))?;
                let Json::Object(t) = f.req("terms").map_err(|e| prefix("license", e))? else {
                    return Err(FieldError::new(
                        "license.terms",
                        "must be an object of five booleans",
                    ));
                };
                f.finish().map_err(|e| prefix("license", e))?;
                let mut tf = Fields::new(t);
                let mut b = |n: &'static str| -> Result<bool, FieldError> {
                    match tf.req(n) {
                        Ok(Json::Bool(v)) => Ok(*v),
                        Ok(other) => Err(wrong_type(n, "true or false", other)),
                        Err(e) => Err(e),
                    }
                    .map_err(|e| prefix("license.terms", e))
                };
                let terms = Terms {
                    research: b("research")?,
                    commercial: b("commercial")?,
                    modify: b("modify")?,
                    copyright_derivative: b("copyright_derivative")?,
                    other_license_derivative: b("other_license_derivative")?,
                };
                tf.finish().map_err(|e| prefix("license.terms", e))?;
                Ok(License::Inline { name, terms })
            }
            other => Err(wrong_type(
                "license",
                "an SPDX expression (a string) or an object {\"name\", \"terms\"}",
                other,
            )),
        }
    }

    fn finish(&self) -> Result<(), FieldError> {
        for k in self.obj.keys() {
            if !self.seen.contains(&k.as_str()) {
                let mut allowed: Vec<&str> = self.seen.clone();
                allowed.sort_unstable();
                allowed.dedup();
                let close = allowed
                    .iter()
                    .map(|a| (crate::registry::distance(&k.to_lowercase(), a), *a))
                    .filter(|(d, a)| *d <= 2.max(a.len() / 3))
                    .min();
                let hint = match close {
                    Some((_, a)) => format!("did you mean `{a}`? "),
                    None => String::new(),
                };
                return Err(FieldError::new(
                    k.clone(),
                    format!(
                        "unknown field for this event type; {hint}its fields are: {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Fields of free text, which may hold any character; every other string
/// (ids, names, holders, operations...) may not hold invisible or control
/// characters, which could make one id look like another or rewrite what
/// a terminal shows.
const FREE_TEXT: [&str; 2] = ["note", "description"];
/// The name list items are checked under (any name but these and `uri`).
const LIST_ITEM: &str = "item";

/// Whether `c` is a control, bidirectional-formatting, invisible or
/// line-separating character: the C0 and C1 controls and DEL, U+2028,
/// U+2029, the interlinear annotation characters U+FFF9–U+FFFB, and every
/// Default_Ignorable_Code_Point of Unicode 15.1 (soft hyphen, joiners,
/// bidirectional controls, variation selectors, Hangul fillers, tags...).
pub fn is_hidden_char(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{ad}'
        | '\u{34f}'
        | '\u{61c}'
        | '\u{115f}'..='\u{1160}'
        | '\u{17b4}'..='\u{17b5}'
        | '\u{180b}'..='\u{180f}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{3164}'
        | '\u{fe00}'..='\u{fe0f}'
        | '\u{feff}'
        | '\u{ffa0}'
        | '\u{fff0}'..='\u{fffb}'
        | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0000}'..='\u{e0fff}')
}

/// The longest a `uri` may be, in bytes.
pub const MAX_URI: usize = 2048;
/// The longest any other string that is not free text may be (ids, names,
/// license expressions and names, operations, holders...), in bytes. Ids
/// and names are repeated in what is derived from a ledger (each
/// restriction of each artifact names its source and license): bounded,
/// they keep that output within a constant factor of the ledger's size.
pub const MAX_NAME: usize = 256;

fn checked_text(name: &str, s: &str) -> Result<String, FieldError> {
    check_text(name, s)?;
    Ok(s.to_string())
}

/// What `checked_text` checks, without the copy.
fn check_text(name: &str, s: &str) -> Result<(), FieldError> {
    if !FREE_TEXT.contains(&name) {
        check_length(name, s)?;
        if let Some(c) = s.chars().find(|&c| is_hidden_char(c)) {
            return Err(FieldError::new(
                name,
                format!(
                    "holds the control or invisible character U+{:04X}, which ids and names may not hold",
                    c as u32
                ),
            ));
        }
    }
    Ok(())
}

fn check_length(name: &str, s: &str) -> Result<(), FieldError> {
    let max = if name == "uri" { MAX_URI } else { MAX_NAME };
    if s.len() > max {
        return Err(FieldError::new(
            name,
            format!(
                "{} bytes long; ids, names and license expressions may be at most {MAX_NAME} bytes, \
                 a uri {MAX_URI} (free text belongs in `description` or `note`)",
                s.len()
            ),
        ));
    }
    Ok(())
}

fn prefix(p: &str, e: FieldError) -> FieldError {
    FieldError::new(format!("{p}.{}", e.field), e.message)
}

fn wrong_type(name: &str, want: &str, got: &Json) -> FieldError {
    let got = match got {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    };
    FieldError::new(name, format!("must be {want}, not {got}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Event, FieldError> {
        Event::from_json(&serde_json::from_str(s).unwrap(), false)
    }

    #[test]
    fn artifact_parses() {
        let e = parse(r#"{"type":"artifact","id":"a","kind":"data","size":3,"note":"n"}"#).unwrap();
        assert_eq!(e.type_name(), "artifact");
        assert_eq!(e.note.as_deref(), Some("n"));
    }

    /// Lists are checked item by item, short ones by a scan and long ones
    /// by a set, and a fault names the item.
    #[test]
    fn list_items_checked_and_named_whatever_the_length() {
        let list = |items: &[String]| {
            parse(
                &serde_json::json!({"type": "transformation", "operation": "dedup",
                    "inputs": items, "outputs": ["out"]})
                .to_string(),
            )
        };
        for n in [2usize, 16, 17, 40] {
            let mut items: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
            assert!(list(&items).is_ok(), "{n} distinct ids");
            items[n - 1] = "a0".into();
            let e = list(&items).unwrap_err();
            assert_eq!(e.field, format!("inputs[{}]", n - 1));
            assert!(e.message.contains("`a0` is listed twice"), "{}", e.message);
            items[n - 1] = format!("a{}\u{200b}", n - 1);
            let e = list(&items).unwrap_err();
            assert_eq!(e.field, format!("inputs[{}]", n - 1));
            assert!(e.message.contains("U+200B"), "{}", e.message);
            items[n - 1] = "x".repeat(MAX_NAME + 1);
            let e = list(&items).unwrap_err();
            assert_eq!(e.field, format!("inputs[{}]", n - 1));
            assert!(e.message.contains("at most 256 bytes"), "{}", e.message);
            items[0] = String::new();
            assert_eq!(list(&items).unwrap_err().field, "inputs[0]");
        }
        // A kind is checked as text, like the id it sits beside.
        let e = parse(r#"{"type":"artifact","id":"a","kind":"da\u0007ta"}"#).unwrap_err();
        assert_eq!(e.field, "kind");
        assert!(e.message.contains("U+0007"), "{}", e.message);
    }

    #[test]
    fn unknown_field_named() {
        let e = parse(r#"{"type":"artifact","id":"a","kind":"data","colour":"red"}"#).unwrap_err();
        assert_eq!(e.field, "colour");
    }

    #[test]
    fn inline_license_terms_checked() {
        let e = parse(
            r#"{"type":"license","artifact":"a","license":{"name":"x","terms":{"research":true}}}"#,
        )
        .unwrap_err();
        assert_eq!(e.field, "license.terms.commercial");
    }

    #[test]
    fn component_needs_exactly_one_form() {
        assert!(parse(r#"{"type":"component","component":"weights","applicable":false}"#).is_ok());
        assert_eq!(
            parse(
                r#"{"type":"component","component":"weights","applicable":false,"artifacts":["a"]}"#
            )
            .unwrap_err()
            .field,
            "applicable"
        );
        assert_eq!(
            parse(r#"{"type":"component","component":"weights"}"#)
                .unwrap_err()
                .field,
            "artifacts"
        );
    }

    #[test]
    fn genesis_only_when_asked() {
        assert!(parse(r#"{"type":"genesis","name":"x"}"#).is_err());
        let v = serde_json::from_str(r#"{"type":"genesis","name":"x"}"#).unwrap();
        assert!(Event::from_json(&v, true).is_ok());
    }
}
