//! `custody report`: one self-contained HTML page of verified ledgers: who
//! signed them and with which keys, the openness table coloured by level
//! (each cell linking to its evidence), the lineage drawn as SVG, and each
//! artifact's custody timeline. No script, font, style or image is fetched
//! from anywhere: a Content-Security-Policy in the page forbids it.

use crate::card::{verified, Lineage};
use crate::output::safe;
use crate::Failure;
use custody::{Error, Kind, Level, Openness};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::PathBuf;

/// A hand-over: artifact, from, to, seq, time.
type HandOver = (String, String, String, u64, u64);

/// Artifacts drawn per column of the lineage graph; the rest are counted
/// in a "+N more" box, so that a ledger of many thousands stays legible.
const PER_COLUMN: usize = 24;
/// Columns of the lineage graph: a deeper lineage is folded into them.
const MAX_COLUMNS: usize = 16;
/// Edges drawn; the rest are counted.
const MAX_EDGES: usize = 1500;

/// `s` cut to `n` characters, with an ellipsis when cut.
fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Rows of the entries table and custody timelines shown before the rest
/// is summarised.
const MAX_ROWS: usize = 2000;

fn esc(s: &str) -> String {
    let s = safe(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The colour of a level, after the paper's figure 4: red for closed, to
/// green for restriction-free; grey when not applicable or unknown.
fn colour(l: &Level) -> (&'static str, &'static str) {
    match l {
        Level::Graded { level: 1, .. } => ("#d7191c", "#fff"),
        Level::Graded { level: 2, .. } => ("#fdae61", "#000"),
        Level::Graded { level: 3, .. } => ("#ffffbf", "#000"),
        Level::Graded { level: 4, .. } => ("#a6d96a", "#000"),
        Level::Graded { .. } => ("#1a9641", "#fff"),
        Level::NotApplicable => ("#eeeeee", "#555"),
        Level::Unknown => ("#cccccc", "#000"),
    }
}

const STYLE: &str = "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2330;background:#f6f7f9}\
main{max-width:1200px;margin:0 auto;padding:24px 32px 64px}\
h1{font-size:26px;margin:8px 0 4px}h2{font-size:19px;margin:36px 0 10px;border-bottom:1px solid #dde;padding-bottom:4px}\
.ok{display:inline-block;background:#1a9641;color:#fff;border-radius:4px;padding:2px 10px;font-weight:600}\
.meta{color:#555}code,.mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:13px}\
table{border-collapse:collapse;background:#fff;width:100%}th,td{border:1px solid #dde;padding:5px 8px;text-align:left;vertical-align:top}\
th{background:#eef0f4;font-weight:600}td.level{text-align:center;font-weight:700;white-space:nowrap}\
td.level a{color:inherit;text-decoration:none;display:block}.why{font-size:13px;color:#333}\
.legend span{display:inline-block;padding:1px 8px;margin:2px;border-radius:3px;font-size:12px}\
svg{background:#fff;border:1px solid #dde;max-width:100%;height:auto}svg text{font:12px system-ui,sans-serif}\
details{background:#fff;border:1px solid #dde;margin:6px 0;padding:4px 10px}summary{cursor:pointer;font-weight:600}\
.small{font-size:12px;color:#666}tr:target{background:#fff6c8}";

pub fn run(
    out: &mut Vec<u8>,
    sources: &[PathBuf],
    shown: &[String],
    owner: Option<[u8; 32]>,
) -> Result<(), Failure> {
    let mut ledgers = Vec::new();
    for (s, name) in sources.iter().zip(shown) {
        match verified(s, owner) {
            Ok(x) => ledgers.push((name.clone(), x)),
            Err(Error::Invalid(inv)) => {
                eprintln!(
                    "custody: {}: ledger invalid at {}; no report",
                    safe(name),
                    safe(&inv.error.to_string())
                );
                return Err(Failure::Reported);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let mut h = String::new();
    let title = ledgers
        .iter()
        .map(|(_, (o, _))| o.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Provenance and openness: {}</title><style>{STYLE}</style></head><body><main>",
        esc(&title)
    );
    for (n, (src, (o, l))) in ledgers.iter().enumerate() {
        ledger_section(&mut h, n, src, o, l);
    }
    let _ = writeln!(
        h,
        "<p class=\"small\">Written by custody from the verified ledger{} alone. Levels after Eiras et al., \
         \"Near to Mid-term Risks and Opportunities of Open Source Generative AI\" (2024).</p></main></body></html>",
        if ledgers.len() > 1 { "s" } else { "" }
    );
    out.extend_from_slice(h.as_bytes());
    Ok(())
}

fn ledger_section(h: &mut String, n: usize, src: &str, o: &Openness, l: &Lineage) {
    let id = |seq: u64| format!("l{n}-e{seq}");
    let _ = write!(
        h,
        "<section id=\"ledger-{n}\"><h1>{}</h1><p><span class=\"ok\">verified</span> \
         <span class=\"meta\">{} entries &middot; every hash, signature, authorization and rule checked &middot; \
         source <code>{}</code></span></p>\
         <p class=\"meta\">ledger id <code>{}</code><br>head <code>{}</code><br>owner key <code>{}</code> {}<br>license registry {}</p>",
        esc(&o.name),
        o.entries,
        esc(src),
        hex::encode(o.ledger),
        hex::encode(o.head),
        hex::encode(o.owner),
        if o.pinned {
            "(pinned: it is the key the reader expected)"
        } else {
            "(not pinned: compare it with the key the owner publishes)"
        },
        esc(&o.registry)
    );

    // Signers.
    let mut signed: HashMap<[u8; 32], u64> = HashMap::new();
    for e in &l.entries {
        *signed.entry(e.2).or_default() += 1;
    }
    let _ = write!(
        h,
        "<h2>Signed by</h2><table class=\"signers\"><thead><tr><th>key</th><th>role</th><th>granted</th><th>revoked</th><th>entries signed</th></tr></thead><tbody>"
    );
    for (key, role, from, until) in &l.roles {
        let _ = write!(
            h,
            "<tr><td class=\"mono\">{}</td><td>{role}</td><td><a href=\"#{}\">entry {from}</a></td><td>{}</td><td>{}</td></tr>",
            hex::encode(key),
            id(*from),
            until.map_or("".into(), |u| format!("<a href=\"#{}\">entry {u}</a>", id(u))),
            signed.get(key).copied().unwrap_or(0)
        );
    }
    h.push_str("</tbody></table>");

    // Openness.
    let _ = write!(
        h,
        "<h2>Openness of each pipeline component</h2><table class=\"openness\"><thead><tr><th>component</th><th>level</th><th>artifacts</th><th>why not more open</th></tr></thead><tbody>"
    );
    for c in &o.components {
        let (bg, fg) = colour(&c.level);
        let link = c
            .evidence
            .first()
            .map(|e| format!("#{}", id(*e)))
            .unwrap_or_default();
        let arts = c
            .artifacts
            .iter()
            .map(|a| {
                format!(
                    "<code>{}</code> {}{}",
                    esc(&a.id),
                    a.level,
                    a.license
                        .as_ref()
                        .map(|li| format!(" ({})", esc(li.id.as_deref().unwrap_or(&li.name))))
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("<br>");
        let evidence = c
            .evidence
            .iter()
            .map(|e| format!("<a href=\"#{}\">{e}</a>", id(*e)))
            .collect::<Vec<_>>()
            .join(", ");
        let top = matches!(c.level, Level::Graded { level: 5, .. });
        let _ = write!(
            h,
            "<tr><th>{}</th><td class=\"level\" style=\"background:{bg};color:{fg}\"><a href=\"{link}\">{}</a></td><td>{arts}</td><td class=\"why\">{}{}</td></tr>",
            esc(c.name),
            c.level,
            if top { String::new() } else { esc(&c.because.text) },
            if evidence.is_empty() {
                String::new()
            } else {
                format!("<br><span class=\"small\">evidence: entries {evidence}</span>")
            }
        );
    }
    h.push_str("</tbody></table><p class=\"legend small\">");
    for (label, lv) in [
        (
            "1: not released",
            Level::Graded {
                kind: Kind::Data,
                level: 1,
            },
        ),
        (
            "2: paid API / highly restrictive",
            Level::Graded {
                kind: Kind::Data,
                level: 2,
            },
        ),
        (
            "3: restrictive",
            Level::Graded {
                kind: Kind::Data,
                level: 3,
            },
        ),
        (
            "4: slightly restrictive",
            Level::Graded {
                kind: Kind::Data,
                level: 4,
            },
        ),
        (
            "5: restriction-free",
            Level::Graded {
                kind: Kind::Data,
                level: 5,
            },
        ),
        ("N/A", Level::NotApplicable),
        ("? unknown", Level::Unknown),
    ] {
        let (bg, fg) = colour(&lv);
        let _ = write!(
            h,
            "<span style=\"background:{bg};color:{fg}\">{label}</span>"
        );
    }
    h.push_str("</p>");

    lineage_svg(h, n, o, l);

    // Custody timelines.
    let mut by_artifact: BTreeMap<&str, Vec<&HandOver>> = BTreeMap::new();
    for c in &l.custody {
        by_artifact.entry(c.0.as_str()).or_default().push(c);
    }
    let _ = write!(
        h,
        "<h2>Custody</h2><p class=\"small\">{} changed hands; each timeline in ledger order.</p>",
        match by_artifact.len() {
            1 => "1 artifact".to_string(),
            n => format!("{n} artifacts"),
        }
    );
    for (shown, (a, events)) in by_artifact.iter().enumerate() {
        if shown == MAX_ROWS {
            let _ = write!(
                h,
                "<p class=\"small\">and {} more artifacts (<code>custody log</code> lists them)</p>",
                by_artifact.len() - MAX_ROWS
            );
            break;
        }
        let _ = write!(
            h,
            "<details class=\"custody\"><summary><code>{}</code>: {} hand-over{}</summary><ol>",
            esc(a),
            events.len(),
            if events.len() == 1 { "" } else { "s" }
        );
        for (_, from, to, seq, time) in events {
            let _ = write!(
                h,
                "<li>{} &mdash; from {} to {} (<a href=\"#{}\">entry {seq}</a>)</li>",
                custody::rfc3339(*time),
                esc(from),
                esc(to),
                id(*seq)
            );
        }
        h.push_str("</ol></details>");
    }

    // Entries, for the evidence links.
    let _ = write!(
        h,
        "<h2>Entries</h2><details class=\"entries\" open><summary>{} entries</summary><table><thead><tr><th>#</th><th>time</th><th>signer</th><th>event</th><th>what it says</th></tr></thead><tbody>",
        l.entries.len()
    );
    let evidence: HashSet<u64> = o
        .components
        .iter()
        .flat_map(|c| c.evidence.iter().copied())
        .collect();
    for (k, (seq, time, signer, ty, what)) in l.entries.iter().enumerate() {
        // Past the first rows, only the entries the table links to.
        if k >= MAX_ROWS && !evidence.contains(seq) {
            continue;
        }
        let _ = write!(
            h,
            "<tr id=\"{}\"><td>{seq}</td><td class=\"small\">{}</td><td class=\"mono\">{}</td><td>{ty}</td><td>{}</td></tr>",
            id(*seq),
            custody::rfc3339(*time),
            &hex::encode(signer)[..12],
            esc(what)
        );
    }
    h.push_str("</tbody></table>");
    if l.entries.len() > MAX_ROWS {
        let _ = write!(
            h,
            "<p class=\"small\">The first {MAX_ROWS} entries and every entry the table cites are shown; <code>custody log</code> lists all.</p>"
        );
    }
    h.push_str("</details></section>");
}

/// The lineage as columns: sources on the left, then each production
/// (transformations and augmentations, with their generator models) and
/// what it made, down to the components' artifacts; licenses on the edges.
fn lineage_svg(h: &mut String, n: usize, o: &Openness, l: &Lineage) {
    // Depth of each artifact: 0 for one nobody produced, else one more
    // than its deepest parent (ledger order makes parents come first).
    let mut depth: HashMap<&str, usize> = HashMap::new();
    let order: Vec<&str> = l.order.iter().map(String::as_str).collect();
    for id in &order {
        depth.insert(id, 0);
    }
    for p in &l.productions {
        let d = p
            .inputs
            .iter()
            .chain(p.generator.iter())
            .filter_map(|i| depth.get(i.as_str()))
            .max()
            .map_or(0, |d| d + 1);
        for out in &p.outputs {
            if let Some(x) = depth.get_mut(out.as_str()) {
                *x = (*x).max(d);
            }
        }
    }
    let assigned: HashMap<&str, &str> = o
        .components
        .iter()
        .flat_map(|c| c.artifacts.iter().map(move |a| (a.id.as_str(), c.name)))
        .collect();
    let levels: HashMap<&str, &Level> = o
        .components
        .iter()
        .flat_map(|c| c.artifacts.iter().map(|a| (a.id.as_str(), &a.level)))
        .collect();
    let deepest = depth.values().copied().max().unwrap_or(0);
    // A lineage deeper than the page is wide is folded: depths share
    // columns, in order.
    let column = |d: usize| {
        if deepest < MAX_COLUMNS {
            d
        } else {
            d * (MAX_COLUMNS - 1) / deepest
        }
    };
    let columns = column(deepest) + 1;
    let mut cols: Vec<Vec<&str>> = vec![Vec::new(); columns];
    for id in &order {
        cols[column(depth[id])].push(id);
    }
    // Components' artifacts first in each column, so they are never the
    // ones folded into "+N more".
    for c in cols.iter_mut() {
        c.sort_by_key(|id| !assigned.contains_key(id));
    }
    let (w, bh, gap, colw) = (170.0, 34.0, 12.0, 235.0);
    let shown_rows = cols
        .iter()
        .map(|c| c.len().min(PER_COLUMN + 1))
        .max()
        .unwrap_or(0);
    let height = 40.0 + shown_rows as f64 * (bh + gap);
    let width = 40.0 + columns as f64 * colw;
    let mut pos: HashMap<&str, (f64, f64)> = HashMap::new();
    let mut boxes = String::new();
    let mut drawn = 0usize;
    for (ci, col) in cols.iter().enumerate() {
        let x = 20.0 + ci as f64 * colw;
        for (ri, id) in col.iter().enumerate() {
            let y = 20.0 + ri as f64 * (bh + gap);
            if ri == PER_COLUMN && col.len() > PER_COLUMN + 1 {
                let _ = write!(
                    boxes,
                    "<g class=\"more\"><rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{bh}\" rx=\"6\" fill=\"#f0f0f0\" stroke=\"#999\" stroke-dasharray=\"4 3\"/><text x=\"{}\" y=\"{}\">+{} more</text></g>",
                    x + 10.0,
                    y + 21.0,
                    col.len() - PER_COLUMN
                );
                break;
            }
            pos.insert(id, (x, y));
            let kind = match l.artifacts.get(*id).map(|a| a.0) {
                Some(Kind::Code) => "code",
                Some(Kind::Weights) => "weights",
                _ => "data",
            };
            let (bg, fg) = levels.get(id).map_or(("#ffffff", "#000"), |lv| colour(lv));
            let label = cut(id, 22);
            let comp = assigned
                .get(id)
                .map(|c| format!(" &middot; {c}"))
                .unwrap_or_default();
            let _ = write!(
                boxes,
                "<g class=\"node\"><title>{}</title><rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{bh}\" rx=\"6\" fill=\"{bg}\" stroke=\"{}\" stroke-width=\"{}\"/>\
                 <text x=\"{}\" y=\"{}\" fill=\"{fg}\">{}</text><text x=\"{}\" y=\"{}\" fill=\"{fg}\" font-size=\"10\">{kind}{comp}</text></g>",
                esc(&cut(id, 200)),
                if kind == "weights" { "#333" } else { "#889" },
                if assigned.contains_key(id) { 2 } else { 1 },
                x + 8.0,
                y + 14.0,
                esc(&label),
                x + 8.0,
                y + 27.0,
            );
            drawn += 1;
        }
    }
    let mut edges = String::new();
    let (mut drawn_edges, mut more_edges) = (0usize, 0usize);
    for p in &l.productions {
        for out in &p.outputs {
            let Some(&(ox, oy)) = pos.get(out.as_str()) else {
                continue;
            };
            let parents = p
                .inputs
                .iter()
                .map(|i| (i, false))
                .chain(p.generator.iter().map(|g| (g, true)));
            for (i, generator) in parents {
                let Some(&(ix, iy)) = pos.get(i.as_str()) else {
                    continue;
                };
                if drawn_edges == MAX_EDGES {
                    more_edges += 1;
                    continue;
                }
                drawn_edges += 1;
                let (x1, y1, x2, y2) = (ix + w, iy + bh / 2.0, ox, oy + bh / 2.0);
                let label = l
                    .licenses
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| "no license".into());
                let _ = write!(
                    edges,
                    "<g class=\"edge\"><title>{} {} {} ({})</title><path d=\"M{x1},{y1} C{},{y1} {},{y2} {x2},{y2}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.4\"{}/>\
                     <text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#555\">{}{}</text></g>",
                    esc(&cut(i, 120)),
                    if generator { "generated data for" } else { "went into" },
                    esc(&cut(out, 120)),
                    esc(&cut(&p.operation, 80)),
                    x1 + 40.0,
                    x2 - 40.0,
                    if generator { "#b2182b" } else { "#7a8599" },
                    if generator { " stroke-dasharray=\"6 4\"" } else { "" },
                    x1 + 6.0,
                    y1 - 4.0,
                    esc(&cut(&label, 22)),
                    if generator { " (generator)" } else { "" },
                );
            }
        }
    }
    let _ = write!(
        h,
        "<h2>Lineage</h2><p class=\"small\">{} artifacts, {} productions. Sources on the left; each arrow is an input (solid) or a \
         generator model (dashed) of a transformation or augmentation, labelled with the license of what it carries. \
         Boxes are coloured by level where the artifact is a component's; thick borders mark components' artifacts. \
         Columns show at most {PER_COLUMN} artifacts (components' first), the rest counted{}.</p>\
         <svg id=\"lineage-{n}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" data-nodes=\"{drawn}\">{edges}{boxes}</svg>",
        l.artifacts.len(),
        l.productions.len(),
        {
            let mut notes = String::new();
            if deepest >= MAX_COLUMNS {
                notes.push_str(&format!(
                    "; {} steps deep, folded into {MAX_COLUMNS} columns",
                    deepest + 1
                ));
            }
            if more_edges > 0 {
                notes.push_str(&format!("; {more_edges} more arrows are not drawn"));
            }
            notes
        }
    );
}
