//! What `verify` and `log` print.

use crate::Failure;
use custody::{Assignment, Error, EventKind, License, VerifiedEntry, VerifiedLedger};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;

/// Text for a terminal: control, bidirectional and invisible characters
/// (which could move the cursor, recolour, or forge a line) shown as
/// `\u{..}` escapes instead of being sent raw.
pub fn safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(custody::is_hidden_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if custody::is_hidden_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A JSON text with every hidden character (`custody::is_hidden_char`)
/// written as a `\\u` escape: JSON allows them raw inside strings, but a
/// terminal showing the JSON would obey them. They can only occur inside
/// strings, where the escape means the same character.
pub fn json_safe(text: &str) -> Cow<'_, str> {
    custody::json_safe(text)
}

/// Text for one Markdown table cell or list item: every character Markdown
/// or HTML could read as syntax is escaped, hidden characters shown as
/// escapes, and what GitHub's renderer would turn into a link
/// (`scheme://`, `www.`, `name@host.domain`) or a mention broken by
/// escaping the `:`, `@` and dots that would make it one, so ledger text can neither shift
/// a table's columns nor add links, markup or lines.
pub fn md(s: &str) -> String {
    let text = safe(s);
    let chars: Vec<char> = text.chars().collect();
    let email = text.contains('@');
    let after_www = |i: usize| {
        i >= 3
            && chars[i - 3..i]
                .iter()
                .map(|c| c.to_ascii_lowercase())
                .eq("www".chars())
    };
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '~' | '(' | ')'
            | '{' | '}' | '@' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '.' if email || after_www(i) => out.push_str("\\."),
            // `scheme://` is what makes a URL a link.
            ':' if chars.get(i + 1..i + 3) == Some(&['/', '/'][..]) => out.push_str("\\:"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// Prints a verification result; invalid ledgers end in `Failure::Reported`.
pub fn verify(
    out: &mut impl Write,
    source: &Path,
    pinned: bool,
    result: Result<VerifiedLedger, Error>,
    as_json: bool,
) -> Result<(), Failure> {
    match result {
        Ok(v) => {
            if as_json {
                let obj = json!({
                    "source": shown(source),
                    "valid": true,
                    "name": v.name(),
                    "ledger": hex::encode(v.id()),
                    "entries": v.entries(),
                    "head": hex::encode(v.head()),
                    "owner": hex::encode(v.owner()),
                    "pinned": v.pinned(),
                    "withheld": v.withheld(),
                    "partial": v.disclosure().map(custody::partial_json),
                });
                writeln!(out, "{}", json_safe(&obj.to_string()))?;
            } else {
                let src = shown(source);
                if let Some(d) = v.disclosure() {
                    writeln!(
                        out,
                        "{}: valid partial export of \"{}\": {} of {} entries disclosed, {} withheld",
                        safe(&src),
                        safe(v.name()),
                        v.entries() - v.withheld(),
                        v.entries(),
                        v.withheld()
                    )?;
                    writeln!(
                        out,
                        "  disclosed under: {}",
                        safe(
                            &d.selectors
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    )?;
                    writeln!(out, "  publisher: {} (an owner)", hex::encode(d.publisher))?;
                    writeln!(
                        out,
                        "  checkpoint: `{}`, {} entries, root {}",
                        safe(&d.checkpoint.origin),
                        d.checkpoint.size,
                        hex::encode(d.checkpoint.root)
                    )?;
                } else {
                    writeln!(out, "{}: valid ledger \"{}\"", safe(&src), safe(v.name()))?;
                }
                writeln!(out, "  entries:   {}", v.entries())?;
                writeln!(out, "  head:      {}", hex::encode(v.head()))?;
                writeln!(out, "  ledger id: {}", hex::encode(v.id()))?;
                writeln!(out, "  owner:     {}", hex::encode(v.owner()))?;
                if v.pinned() {
                    writeln!(out, "  the owner key matches the pinned key")?;
                } else {
                    writeln!(
                        out,
                        "  the root key is not pinned: compare the owner key above with the one its owner \
                         published, or pass --owner KEY"
                    )?;
                }
            }
            Ok(())
        }
        Err(Error::Invalid(inv)) if as_json => {
            let obj = json!({
                "source": custody::Location::from(source).to_string(),
                "valid": false,
                "entries": inv.entries,
                "head": inv.head.map(hex::encode),
                "owner": inv.owner.map(hex::encode),
                "pinned": pinned && inv.owner.is_some() && inv.error.reason != custody::Reason::OwnerMismatch,
                "error": {
                    "seq": inv.error.seq,
                    "reason": inv.error.reason.code(),
                    "detail": inv.error.detail,
                },
            });
            writeln!(out, "{}", json_safe(&obj.to_string()))?;
            Err(Failure::Reported)
        }
        Err(e) => Err(Failure::Lib(e)),
    }
}

/// Prints one verified entry of `log`.
pub fn log_entry(out: &mut impl Write, e: &VerifiedEntry, as_json: bool) -> io::Result<()> {
    log_line(
        out,
        LogLine {
            seq: e.seq(),
            time: e.time(),
            signer: e.signer(),
            hash: e.hash(),
            event: e.event(),
            json: e.event_json(),
        },
        as_json,
    )
}

/// What a log line shows of an entry.
pub struct LogLine<'a> {
    pub seq: u64,
    pub time: u64,
    pub signer: &'a [u8; 32],
    pub hash: &'a custody::Hash,
    pub event: &'a custody::Event,
    pub json: &'a Value,
}

/// One line of `custody log`: text, or the event as JSON with seq, hash,
/// signer and time.
pub fn log_line(out: &mut impl Write, e: LogLine<'_>, as_json: bool) -> io::Result<()> {
    if as_json {
        let mut obj = e.json.clone();
        if let Value::Object(m) = &mut obj {
            m.insert("seq".into(), json!(e.seq));
            m.insert("hash".into(), json!(hex::encode(e.hash)));
            m.insert("signer".into(), json!(hex::encode(e.signer)));
            m.insert("time".into(), json!(custody::rfc3339(e.time)));
        }
        return writeln!(out, "{}", json_safe(&obj.to_string()));
    }
    writeln!(
        out,
        "{:>6}  {}  {}  {:<14}  {}",
        e.seq,
        custody::rfc3339(e.time),
        &hex::encode(e.signer)[..12],
        e.event.type_name(),
        safe(&summary(&e.event.kind))
    )
}

pub fn summary(k: &EventKind) -> String {
    match k {
        EventKind::Genesis { name } => format!("ledger \"{name}\""),
        EventKind::Artifact { id, kind, .. } => format!("{id} ({})", kind.as_str()),
        EventKind::Custody {
            artifact,
            from,
            to,
            key,
        } => format!(
            "{artifact}: {from} -> {to}{}",
            key.map(|k| format!(" (authority to {})", &hex::encode(k)[..12]))
                .unwrap_or_default()
        ),
        EventKind::Transformation {
            operation,
            inputs,
            outputs,
            ..
        } => format!(
            "{operation}: {} -> {}",
            inputs.join(", "),
            outputs.join(", ")
        ),
        EventKind::Augmentation {
            method,
            inputs,
            outputs,
            generator,
            ..
        } => format!(
            "{method}: {} -> {}{}",
            inputs.join(", "),
            outputs.join(", "),
            generator
                .as_ref()
                .map(|g| format!(" (generated by {g})"))
                .unwrap_or_default()
        ),
        EventKind::License { artifact, license } => match license {
            License::Spdx(s) => format!("{artifact}: {s}"),
            License::Inline { name, .. } => format!("{artifact}: {name} (self-declared terms)"),
        },
        EventKind::Release { artifact, access } => format!("{artifact}: {}", access.as_str()),
        EventKind::Component {
            component,
            assignment,
        } => match assignment {
            Assignment::Artifacts(ids) => format!("{component}: {}", ids.join(", ")),
            Assignment::Replace(ids) => format!("{component}: now only {}", ids.join(", ")),
            Assignment::NotApplicable => format!("{component}: not applicable"),
        },
        EventKind::Grant { key, role } => format!("{} as {}", hex::encode(key), role.as_str()),
        EventKind::Revoke { key } => hex::encode(key),
        _ => String::new(),
    }
}

/// What a downloaded copy was downloaded from, by its temporary path.
static DOWNLOADED: std::sync::Mutex<Vec<(std::path::PathBuf, String)>> =
    std::sync::Mutex::new(Vec::new());

/// Notes that `copy` holds what was downloaded from `url`.
pub fn downloaded(copy: &Path, url: &str) {
    if let Ok(mut d) = DOWNLOADED.lock() {
        d.push((copy.to_path_buf(), url.to_string()));
    }
}

/// A source as the user named it: a served ledger's URL rather than the
/// temporary file it was downloaded to.
pub fn shown(source: &Path) -> String {
    DOWNLOADED
        .lock()
        .ok()
        .and_then(|d| d.iter().find(|(p, _)| p == source).map(|(_, u)| u.clone()))
        .unwrap_or_else(|| custody::Location::from(source).to_string())
}
