//! `custody openness`: the openness table of one or more ledgers.

use crate::output::{json_safe, md, safe};
use crate::Failure;
use custody::{Cause, ComponentLevel, Error, Level, Openness, VerifyOptions, COMPONENTS};
use serde_json::json;
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
    // The license named is the one the level comes from: a restriction on
    // the lineage, when one lowered it, not the artifact's own license.
    let upstream = match c.because.cause {
        Cause::Lineage => c.because.withheld.first().map(|w| match &w.license {
            Some(l) => format!("{}, upstream", l.label()),
            None => "unlicensed source upstream".to_string(),
        }),
        _ => None,
    };
    let mut s = match (&c.level, upstream, &c.license) {
        (Level::Graded { .. }, Some(u), _) => format!("{} ({u})", c.level),
        (Level::Graded { .. }, None, Some(l)) => format!("{} ({})", c.level, l.label()),
        (level, _, _) => level.to_string(),
    };
    if c.may_depend_on_withheld {
        s.push('*');
    }
    s
}

/// Writes one ledger's openness as JSON (the library's writer, shared
/// with the server and the Python package).
pub fn write_json(out: &mut impl Write, source: &str, o: &Openness) -> std::io::Result<()> {
    custody::write_openness_json(out, source, o)
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
            Err(Error::Invalid(inv)) => results.push((
                custody::Location::from(s).to_string(),
                Err(Error::Invalid(inv)),
            )),
            Err(e) => return Err(e.into()),
            Ok(o) => results.push((custody::Location::from(s).to_string(), Ok(o))),
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

/// The width the text output keeps to.
const COLUMNS: usize = 80;

/// One block per ledger, a row per component with the reason for its
/// level, wrapped to 80 columns.
pub fn text(out: &mut impl Write, ledgers: &[&Openness]) -> std::io::Result<()> {
    if ledgers.is_empty() {
        return Ok(());
    }
    for (n, o) in ledgers.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", safe(&o.name))?;
        writeln!(out, "  ledger id  {}", hex::encode(o.ledger))?;
        writeln!(out, "  owner key  {}", hex::encode(o.owner))?;
        writeln!(
            out,
            "             {}",
            if o.pinned {
                "pinned: it matches the key given with --owner"
            } else {
                "NOT pinned: compare with the owner's published key; --owner pins it"
            }
        )?;
        writeln!(out, "  head       {}", hex::encode(o.head))?;
        writeln!(out, "  entries    {}", o.entries)?;
        if let Some(p) = partial_note(o) {
            wrap(
                out,
                "  ",
                "             ",
                &format!(
                    "partial    {}; * marks levels that may rest on withheld entries",
                    safe(&p)
                ),
            )?;
        }
        writeln!(out)?;
        writeln!(out, "  {:<18}{:<7}why", "component", "level")?;
        for c in &o.components {
            let mut level = c.level.to_string();
            if c.may_depend_on_withheld {
                level.push('*');
            }
            let first = format!("  {:<18}{:<7}", c.name, level);
            wrap(out, &first, &" ".repeat(27), &safe(&c.because.text))?;
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
                let prefix = if ledgers.len() > 1 {
                    format!("{}: {}: ", safe(&o.name), c.name)
                } else {
                    format!("{}: ", c.name)
                };
                wrap(out, "  - ", "    ", &format!("{prefix}{}", safe(w)))?;
            }
        }
    }
    if ledgers.len() > 1 {
        writeln!(out, "\ndistribution over {} ledgers:", ledgers.len())?;
        for (i, name) in COMPONENTS.iter().enumerate() {
            wrap(
                out,
                &format!("  {name:<18}"),
                &" ".repeat(20),
                &distribution(ledgers, i),
            )?;
        }
    }
    writeln!(out, "\nlicense registry: {}", ledgers[0].registry)?;
    Ok(())
}

/// Writes `text` after `first`, wrapped at word boundaries to fit
/// [`COLUMNS`], continuation lines after `rest`. A word longer than the
/// line (a hash) stays whole.
fn wrap(out: &mut impl Write, first: &str, rest: &str, text: &str) -> std::io::Result<()> {
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !empty && width(&line) + 1 + width(word) > COLUMNS {
            writeln!(out, "{}", line.trim_end())?;
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    writeln!(out, "{}", line.trim_end())
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

pub fn markdown(out: &mut impl Write, ledgers: &[&Openness]) -> std::io::Result<()> {
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
        let below: Vec<&ComponentLevel> = o
            .components
            .iter()
            .filter(|c| c.because.cause != Cause::Unrestricted)
            .collect();
        if below.is_empty() {
            continue;
        }
        if ledgers.len() > 1 {
            writeln!(out, "Why {} is not more open:\n", md(&o.name))?;
        } else {
            writeln!(out, "Why not more open:\n")?;
        }
        for c in below {
            let i = COMPONENTS.iter().position(|n| *n == c.name).unwrap_or(0);
            writeln!(
                out,
                "- {} ({}): {}",
                TITLES[i],
                md(&cell(c)),
                md(&c.because.text.replace('`', ""))
            )?;
        }
        writeln!(out)?;
    }
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
    let heads: Vec<String> = ledgers
        .iter()
        .map(|o| {
            if ledgers.len() == 1 {
                format!("head `{}`, {} entries", hex::encode(o.head), o.entries)
            } else {
                format!(
                    "{}: head `{}`, {} entries",
                    md(&o.name),
                    hex::encode(o.head),
                    o.entries
                )
            }
        })
        .collect();
    writeln!(
        out,
        "Derived by custody from the verified ledger{} ({}), license registry {}.",
        if ledgers.len() == 1 { "" } else { "s" },
        heads.join("; "),
        ledgers[0].registry
    )?;
    Ok(())
}
