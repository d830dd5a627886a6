//! `custody openness`: the openness table of one or more ledgers.

use crate::Failure;
use custody::{ComponentLevel, Error, Level, Openness, VerifyOptions, COMPONENTS};
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
?: exists, but the ledger does not say how it is released. Points: one per right granted (research, \
commercial use, modification, copyright of derivatives, another license for derivatives). \
Levels after Eiras et al., \"Near to Mid-term Risks and Opportunities of Open Source Generative AI\" (2024).";

/// Output format.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// The cell of a component: level, with the license in brackets when public.
pub fn cell(c: &ComponentLevel) -> String {
    match (&c.level, &c.license_name) {
        (Level::Graded { .. }, Some(l)) => format!("{} ({l})", c.level),
        (level, _) => level.to_string(),
    }
}

fn to_json(source: &str, o: &Openness) -> Value {
    let components: serde_json::Map<String, Value> = o
        .components
        .iter()
        .map(|c| {
            let artifacts: Vec<Value> = c
                .artifacts
                .iter()
                .map(|a| {
                    json!({
                        "id": a.id,
                        "level": a.level.to_string(),
                        "access": a.access.map(|x| x.as_str()),
                        "license": a.license,
                        "declared_points": a.declared_points,
                        "effective_points": a.effective_points,
                        "evidence": a.evidence,
                    })
                })
                .collect();
            let mut obj = json!({
                "level": c.level.to_string(),
                "license": c.license_name,
                "artifacts": artifacts,
                "evidence": c.evidence,
                "warnings": c.warnings,
            });
            if c.level == Level::Unknown {
                let unknown: Vec<&str> = c
                    .artifacts
                    .iter()
                    .filter(|a| a.level == Level::Unknown)
                    .map(|a| a.id.as_str())
                    .collect();
                obj["unknown_artifacts"] = json!(unknown);
            }
            (c.name.to_string(), obj)
        })
        .collect();
    json!({
        "source": source,
        "valid": true,
        "ledger": o.ledger,
        "head": hex::encode(o.head),
        "entries": o.entries,
        "registry": o.registry,
        "withheld": o.withheld,
        "components": components,
    })
}

pub fn run(out: &mut impl Write, sources: &[PathBuf], format: Format) -> Result<(), Failure> {
    let mut results: Vec<(String, Result<Openness, Error>)> = Vec::new();
    for s in sources {
        let r = custody::verify_any(s, &VerifyOptions::default()).map(|v| custody::openness(&v));
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
            let items: Vec<Value> = results
                .iter()
                .map(|(src, r)| match r {
                    Ok(o) => to_json(src, o),
                    Err(Error::Invalid(inv)) => json!({
                        "source": src,
                        "valid": false,
                        "error": {"seq": inv.error.seq, "reason": inv.error.reason.code(), "detail": inv.error.detail},
                    }),
                    Err(_) => Value::Null,
                })
                .collect();
            let v = if items.len() == 1 {
                items.into_iter().next().unwrap_or(Value::Null)
            } else {
                Value::Array(items)
            };
            writeln!(out, "{v}")?;
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
                "custody: {src}: ledger invalid at {}; no levels for it",
                inv.error
            );
        }
    }
    if any_invalid {
        return Err(Failure::Reported);
    }
    Ok(())
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
            std::iter::once(o.ledger.clone())
                .chain(o.components.iter().map(cell))
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(out, "{}", line.join("  ").trim_end())?;
    }
    let mut first = true;
    for o in ledgers {
        for c in &o.components {
            for w in &c.warnings {
                if first {
                    writeln!(out, "\nwarnings:")?;
                    first = false;
                }
                writeln!(out, "  {}: {}: {w}", o.ledger, c.name)?;
            }
        }
    }
    if ledgers.len() > 1 {
        writeln!(out, "\ndistribution over {} ledgers:", ledgers.len())?;
        for (i, name) in COMPONENTS.iter().enumerate() {
            writeln!(out, "  {name:<17} {}", distribution(ledgers, i))?;
        }
    }
    for o in ledgers.iter().filter(|o| o.withheld > 0) {
        writeln!(
            out,
            "\n{}: a partial export, {} of {} entries withheld: these levels rest on the disclosed entries only",
            o.ledger, o.withheld, o.entries
        )?;
    }
    if let Some(o) = ledgers.first() {
        writeln!(out, "\nlicense registry: {}", o.registry)?;
    }
    Ok(())
}

fn distribution(ledgers: &[&Openness], i: usize) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for o in ledgers {
        *counts.entry(o.components[i].level.to_string()).or_default() += 1;
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
        let cells: Vec<String> = o.components.iter().map(cell).collect();
        writeln!(
            out,
            "| {} | {} |",
            o.ledger.replace('|', "\\|"),
            cells.join(" | ")
        )?;
    }
    if ledgers.len() > 1 {
        writeln!(out, "\n| Level | {} |", TITLES.join(" | "))?;
        writeln!(out, "|---|{}", "---|".repeat(TITLES.len()))?;
        let cells: Vec<String> = (0..COMPONENTS.len())
            .map(|i| distribution(ledgers, i))
            .collect();
        writeln!(out, "| Ledgers per level | {} |", cells.join(" | "))?;
    }
    let warnings: Vec<String> = ledgers
        .iter()
        .flat_map(|o| {
            o.components.iter().flat_map(move |c| {
                c.warnings
                    .iter()
                    .map(move |w| format!("- {}, {}: {w}", o.ledger, c.name))
            })
        })
        .collect();
    if !warnings.is_empty() {
        writeln!(out, "\nWarnings:\n\n{}", warnings.join("\n"))?;
    }
    writeln!(out, "\n{LEGEND}")?;
    if let Some(o) = ledgers.first() {
        writeln!(
            out,
            "Derived by custody from the verified ledger (head `{}`), license registry {}.",
            hex::encode(o.head),
            o.registry
        )?;
    }
    Ok(())
}
