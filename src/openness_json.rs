//! `custody openness --json`: one ledger's openness as a JSON document
//! (schemas/output/openness.schema.json), written piece by piece so that a
//! ledger of tens of thousands of artifacts never becomes one tree in
//! memory. Shared by the command, the server and the Python package.

use crate::openness::{ArtifactLevel, Because, LicenseInfo, Openness};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::io::Write;

/// JSON text with every hidden character (controls, bidi, invisible)
/// escaped as `\uXXXX`, so that no ledger text reaches a terminal or a
/// reader unseen.
pub fn json_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(crate::event::is_hidden_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if crate::event::is_hidden_char(c) {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn license_json(l: &LicenseInfo) -> Value {
    json!({
        "id": l.id,
        "name": l.name,
        "self_declared": l.self_declared,
        "resembles": l.resembles,
        "points": l.points,
        "entry": l.entry,
    })
}

fn artifact_json(a: &ArtifactLevel) -> Value {
    let restricted: Vec<Value> = a
        .restricted_by
        .iter()
        .map(|r| {
            json!({
                "artifact": r.artifact,
                "license": r.license.as_ref().map(license_json),
                "withholds": r.withholds,
                "reasons": r.reasons,
            })
        })
        .collect();
    json!({
        "id": a.id,
        "level": a.level.to_string(),
        "access": a.access.map(|x| x.as_str()),
        "license": a.license.as_ref().map(license_json),
        "declared_points": a.declared_points,
        "effective_points": a.effective_points,
        "restricted_by": restricted,
        "evidence": a.evidence,
    })
}

fn because_json(b: &Because) -> Value {
    json!({
        "cause": b.cause.as_str(),
        "artifact": b.artifact,
        "text": b.text,
        "withheld": b.withheld.iter().map(|w| json!({
            "right": w.right,
            "artifact": w.artifact,
            "license": w.license.as_ref().map(license_json),
            "reason": w.reason,
        })).collect::<Vec<_>>(),
    })
}

/// Writes one JSON value, hidden characters escaped.
fn put(out: &mut impl Write, v: &impl serde::Serialize) -> std::io::Result<()> {
    let text = serde_json::to_string(v)?;
    out.write_all(json_safe(&text).as_bytes())
}

/// What a partial export's publisher signed, as the `partial` field of
/// every JSON output gives it (schemas/output/common.schema.json).
pub fn partial_json(d: &crate::disclosure::Disclosure) -> serde_json::Value {
    json!({
        "checkpoint": {
            "origin": d.checkpoint.origin,
            "size": d.checkpoint.size,
            "root": hex::encode(d.checkpoint.root),
        },
        "selectors": d.selectors.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "publisher": hex::encode(d.publisher),
    })
}

/// Writes one ledger's openness as JSON, piece by piece.
pub fn write_openness_json(
    out: &mut impl Write,
    source: &str,
    o: &Openness,
) -> std::io::Result<()> {
    let partial = o.disclosure.as_ref().map(partial_json);
    let head = json!({
        "source": source,
        "valid": true,
        "name": o.name,
        "ledger": hex::encode(o.ledger),
        "owner": hex::encode(o.owner),
        "pinned": o.pinned,
        "head": hex::encode(o.head),
        "entries": o.entries,
        "withheld": o.withheld,
        "partial": partial,
        "registry": o.registry,
    });
    let text = head.to_string();
    // The object above without its closing brace, then the components;
    // serde_json's own errors here are I/O errors of `out`.
    out.write_all(json_safe(&text[..text.len() - 1]).as_bytes())?;
    out.write_all(b",\"components\":{")?;
    for (n, c) in o.components.iter().enumerate() {
        if n > 0 {
            out.write_all(b",")?;
        }
        put(out, &c.name)?;
        out.write_all(b":{\"level\":")?;
        put(out, &c.level.to_string())?;
        out.write_all(b",\"license\":")?;
        put(out, &c.license.as_ref().map(license_json))?;
        out.write_all(b",\"artifacts\":[")?;
        for (k, a) in c.artifacts.iter().enumerate() {
            if k > 0 {
                out.write_all(b",")?;
            }
            put(out, &artifact_json(a))?;
        }
        out.write_all(b"],\"unknown_artifacts\":")?;
        put(out, &c.unknown_artifacts)?;
        out.write_all(b",\"evidence\":")?;
        put(out, &c.evidence)?;
        out.write_all(b",\"may_depend_on_withheld\":")?;
        put(out, &c.may_depend_on_withheld)?;
        out.write_all(b",\"warnings\":")?;
        put(out, &c.warnings)?;
        out.write_all(b",\"because\":")?;
        put(out, &because_json(&c.because))?;
        out.write_all(b"}")?;
    }
    out.write_all(b"}}")
}
