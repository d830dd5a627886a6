//! `custody openness`: the openness table of one or more ledgers.

use crate::output::{json_safe, md, safe};
use crate::Failure;
use custody::{ComponentLevel, Error, Level, LicenseInfo, Openness, VerifyOptions, COMPONENTS};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

/// The paper's column titles, for tables meant for model cards.
const TITLES: [&str; 12] = [
    "Pre-training code",
    "Fine-tuning code",
    "Alignment code",
    "Pre-training data",
    "Supervised FT data",
    "Alignment data",
    "Eval code",
    "Safety eval code",
    "Benchmark data",
    "Safety eval data",
    "Inference code",
    "Weights",
];

const LEGEND: &str = "C1/D1: not released; D2: paid API only; C2: public, highly restrictive license (0-1 points); \
C3: public, moderately restrictive (2-3); D3: public, highly or moderately restrictive (0-3); \
C4/D4: public, slightly restrictive (4); C5/D5: public, restriction-free (5); N/A: no such stage; \
?: exists, but the ledger does not say how it is released, or a license on its lineage is unknown. \
Points: one per right granted (research, commercial use, modification, copyright of derivatives, \
another license for derivatives). A self-declared license states its own terms in the ledger; its \
name is no registry license's. Levels after Eiras et al., \"Near to Mid-term Risks and Opportunities \
of Open Source Generative AI\" (2024).";

/// Output format.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// The cell of a component: level, with the license in brackets when
/// public, and `*` when it may rest on withheld entries. Not escaped.
pub fn cell(c: &ComponentLevel) -> String {
    let mut s = match (&c.level, &c.license) {
        (Level::Graded { .. }, Some(l)) => format!("{} ({})", c.level, l.label()),
        (level, _) => level.to_string(),
    };
    if c.may_depend_on_withheld {
        s.push('*');
    }
    s
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

fn artifact_json(a: &custody::ArtifactLevel) -> Value {
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

/// Writes one JSON value, hidden characters escaped.
fn put(out: &mut impl Write, v: &impl serde::Serialize) -> std::io::Result<()> {
    let text = serde_json::to_string(v)?;
    out.write_all(json_safe(&text).as_bytes())
}

/// Writes one ledger's openness as JSON, piece by piece: a ledger with
/// tens of thousands of artifacts never becomes one tree in memory.
fn write_json(out: &mut impl Write, source: &str, o: &Openness) -> std::io::Result<()> {
    let partial = o.disclosure.as_ref().map(|d| {
        json!({
            "checkpoint": {
                "origin": d.checkpoint.origin,
                "size": d.checkpoint.size,
                "root": hex::encode(d.checkpoint.root),
            },
            "selectors": d.selectors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "publisher": hex::encode(d.publisher),
        })
    });
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
        out.write_all(b"}")?;
    }
    out.write_all(b"}}")
}

pub fn run(
    out: &mut impl Write,
    sources: &[PathBuf],
    format: Format,
    owner: Option<[u8; 32]>,
) -> Result<(), Failure> {
    let mut results: Vec<(String, Result<Openness, Error>)> = Vec::new();
    let opts = VerifyOptions { owner };
    for s in sources {
        let r = custody::verify_any(s, &opts).map(|v| custody::openness(&v));
        // Usage and I/O errors stop everything; an invalid ledger is reported and skipped.
        match r {
            Err(Error::Invalid(inv)) => {
                results.push((s.display().to_string(), Err(Error::Invalid(inv))))
            }
            Err(e) => return Err(e.into()),
            Ok(o) => results.push((s.display().to_string(), Ok(o))),
        }
    }
    let any_invalid = results.iter().any(|(_, r)| r.is_err());
    match format {
        Format::Json => {
            let several = results.len() > 1;
            if several {
                out.write_all(b"[")?;
            }
            for (n, (src, r)) in results.iter().enumerate() {
                if n > 0 {
                    out.write_all(b",")?;
                }
                match r {
                    Ok(o) => write_json(out, src, o)?,
                    Err(Error::Invalid(inv)) => {
                        let v = json!({
                            "source": src,
                            "valid": false,
                            "error": {"seq": inv.error.seq, "reason": inv.error.reason.code(), "detail": inv.error.detail},
                        });
                        write!(out, "{}", json_safe(&v.to_string()))?;
                    }
                    Err(_) => out.write_all(b"null")?,
                }
            }
            if several {
                out.write_all(b"]")?;
            }
            writeln!(out)?;
        }
        Format::Text | Format::Markdown => {
            let ok: Vec<&Openness> = results
                .iter()
                .filter_map(|(_, r)| r.as_ref().ok())
                .collect();
            if format == Format::Markdown {
                markdown(out, &ok)?;
            } else {
                text(out, &ok)?;
            }
        }
    }
    for (src, r) in &results {
        if let Err(Error::Invalid(inv)) = r {
            eprintln!(
                "custody: {}: ledger invalid at {}; no levels for it",
                safe(src),
                safe(&inv.error.to_string())
            );
        }
    }
    if any_invalid {
        return Err(Failure::Reported);
    }
    Ok(())
}

/// Who signed the ledger, and whether the reader pinned that key.
fn identity(o: &Openness) -> String {
    format!(
        "ledger id {}, owner key {} ({})",
        hex::encode(o.ledger),
        hex::encode(o.owner),
        if o.pinned {
            "pinned: it matches the key given with --owner"
        } else {
            "NOT pinned: compare it with the key the owner published, or pass --owner KEY"
        }
    )
}

/// What a partial export withholds, and under what it was disclosed.
fn partial_note(o: &Openness) -> Option<String> {
    let d = o.disclosure.as_ref()?;
    Some(format!(
        "a partial export: {} of {} entries withheld; disclosed under {} by owner {}; checkpoint `{}` \
         of {} entries, root {}",
        o.withheld,
        o.entries,
        d.selectors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        hex::encode(d.publisher),
        d.checkpoint.origin,
        d.checkpoint.size,
        hex::encode(d.checkpoint.root)
    ))
}

pub fn text(out: &mut impl Write, ledgers: &[&Openness]) -> std::io::Result<()> {
    if ledgers.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<Vec<String>> = vec![std::iter::once("ledger".to_string())
        .chain(COMPONENTS.iter().map(|c| c.to_string()))
        .collect()];
    for o in ledgers {
        rows.push(
            std::iter::once(safe(&o.name).into_owned())
                .chain(o.components.iter().map(|c| safe(&cell(c)).into_owned()))
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| width(&r[i])).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            // Padded by the columns a terminal draws, not by characters:
            // wide characters cannot shift a value under another heading.
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - width(c))))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    writeln!(out)?;
    for o in ledgers {
        writeln!(out, "{}: {}", safe(&o.name), identity(o))?;
        if let Some(p) = partial_note(o) {
            writeln!(
                out,
                "{}: {}; * marks levels that may rest on withheld entries",
                safe(&o.name),
                safe(&p)
            )?;
        }
    }
    let mut first = true;
    for o in ledgers {
        for c in &o.components {
            for w in &c.warnings {
                if first {
                    writeln!(out, "\nwarnings:")?;
                    first = false;
                }
                writeln!(out, "  {}: {}: {}", safe(&o.name), c.name, safe(w))?;
            }
        }
    }
    if ledgers.len() > 1 {
        writeln!(out, "\ndistribution over {} ledgers:", ledgers.len())?;
        for (i, name) in COMPONENTS.iter().enumerate() {
            writeln!(out, "  {name:<17} {}", distribution(ledgers, i))?;
        }
    }
    writeln!(out, "\nlicense registry: {}", ledgers[0].registry)?;
    Ok(())
}

/// Columns a terminal gives `s` (wide characters count two).
fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

fn distribution(ledgers: &[&Openness], i: usize) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for o in ledgers {
        let c = &o.components[i];
        let mut l = c.level.to_string();
        if c.may_depend_on_withheld {
            l.push('*');
        }
        *counts.entry(l).or_default() += 1;
    }
    counts
        .iter()
        .map(|(l, n)| format!("{l}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn markdown(out: &mut impl Write, ledgers: &[&Openness]) -> std::io::Result<()> {
    if ledgers.is_empty() {
        return Ok(());
    }
    writeln!(out, "| Model | {} |", TITLES.join(" | "))?;
    writeln!(out, "|---|{}", "---|".repeat(TITLES.len()))?;
    for o in ledgers {
        let cells: Vec<String> = o.components.iter().map(|c| md(&cell(c))).collect();
        writeln!(out, "| {} | {} |", md(&o.name), cells.join(" | "))?;
    }
    if ledgers.len() > 1 {
        writeln!(out, "\n| Level | {} |", TITLES.join(" | "))?;
        writeln!(out, "|---|{}", "---|".repeat(TITLES.len()))?;
        let cells: Vec<String> = (0..COMPONENTS.len())
            .map(|i| md(&distribution(ledgers, i)))
            .collect();
        writeln!(out, "| Ledgers per level | {} |", cells.join(" | "))?;
    }
    writeln!(out)?;
    for o in ledgers {
        writeln!(out, "- {}: {}", md(&o.name), md(&identity(o)))?;
        if let Some(p) = partial_note(o) {
            writeln!(
                out,
                "- {}: {}; \\* marks levels that may rest on withheld entries",
                md(&o.name),
                md(&p)
            )?;
        }
    }
    let warnings: Vec<String> = ledgers
        .iter()
        .flat_map(|o| {
            o.components.iter().flat_map(move |c| {
                c.warnings
                    .iter()
                    .map(move |w| format!("- {}, {}: {}", md(&o.name), c.name, md(w)))
            })
        })
        .collect();
    if !warnings.is_empty() {
        writeln!(out, "\nWarnings:\n\n{}", warnings.join("\n"))?;
    }
    writeln!(out, "\n{LEGEND}")?;
    writeln!(
        out,
        "Derived by custody from the verified ledger{}, license registry {}.",
        if ledgers.len() == 1 {
            format!(" (head `{}`)", hex::encode(ledgers[0].head))
        } else {
            "s".to_string()
        },
        ledgers[0].registry
    )?;
    Ok(())
}
