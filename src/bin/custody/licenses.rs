//! `custody licenses`: the built-in license registry, listed or explained
//! one license at a time.

use crate::output::{json_safe, safe};
use crate::Failure;
use custody::{registry, Error, Kind, RegistryLicense, CRITERIA};
use serde_json::{json, Value};
use std::io::Write;
use unicode_width::UnicodeWidthChar;

/// Width of the text list.
const WIDTH: usize = 80;
/// Width of the id column: the longest ids of the registry fit.
const ID_WIDTH: usize = 36;

/// One mark per criterion, in [`CRITERIA`] order, when granted.
const MARKS: [char; 5] = ['R', 'C', 'M', 'D', 'O'];

/// Lists the registry, or explains license `id`.
pub fn run(out: &mut impl Write, id: Option<&str>, as_json: bool) -> Result<(), Failure> {
    let reg = registry();
    let Some(id) = id else {
        return if as_json {
            list_json(out)
        } else {
            list_text(out)
        };
    };
    if let Some(l) = reg.get(id) {
        return if as_json {
            let v = explain_json(l);
            put(out, &v)
        } else {
            explain_text(out, l)
        };
    }
    if let Some(e) = reg.exception(id) {
        if as_json {
            return put(
                out,
                &json!({
                    "exception": e,
                    "registry": reg.label(),
                    "adds_permissions_only": true,
                }),
            );
        }
        writeln!(
            out,
            "{}: an SPDX exception the registry ({}) knows to add permissions only;\n\
             `LICENSE WITH {}` has the rights of LICENSE",
            safe(e),
            reg.label(),
            safe(e)
        )?;
        return Ok(());
    }
    let hint = match reg.suggest(id) {
        Some(l) => format!(": did you mean `{}`?", l.id),
        None => "; run `custody licenses` to list them".to_string(),
    };
    Err(Failure::Lib(Error::Usage(format!(
        "license `{}` is not in the license registry ({}){hint}",
        safe(id),
        reg.label()
    ))))
}

/// `RCMDO` with `-` for each right withheld.
fn marks(l: &RegistryLicense) -> String {
    MARKS
        .iter()
        .zip(CRITERIA)
        .map(|(&m, c)| if l.reason(c).is_some() { '-' } else { m })
        .collect()
}

/// `s` cut to `width` terminal columns, ending in `…` when cut.
fn fit(s: &str, width: usize) -> String {
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width {
        return s.to_string();
    }
    let mut used = 0;
    let mut out = String::new();
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

fn list_text(out: &mut impl Write) -> Result<(), Failure> {
    let reg = registry();
    writeln!(
        out,
        "{}: {} licenses (SPDX License List {}), {} exceptions",
        reg.label(),
        reg.licenses().len(),
        reg.spdx_license_list(),
        reg.exceptions().len()
    )?;
    writeln!(
        out,
        "rights: R research, C commercial, M modify, D copyright over derivatives,"
    )?;
    writeln!(
        out,
        "O another license for derivatives; - withheld. Levels if released publicly."
    )?;
    writeln!(out)?;
    let head = format!("{:<ID_WIDTH$} RIGHTS PTS CODE DATA ", "ID");
    writeln!(out, "{head}NAME")?;
    let name_width = WIDTH - head.chars().count();
    for l in reg.licenses() {
        let id = safe(&l.id);
        // An id longer than its column pushes the rest along; the name
        // still ends by column 80.
        let row = format!(
            "{:<ID_WIDTH$} {:<6} {:>3} {:<4} {:<4} ",
            id,
            marks(l),
            l.points(),
            l.level(Kind::Code).to_string(),
            l.level(Kind::Data).to_string()
        );
        let room = WIDTH.saturating_sub(row.chars().count()).min(name_width);
        writeln!(out, "{row}{}", fit(&safe(&l.name), room.max(1)))?;
    }
    Ok(())
}

/// Words, wrapped to [`WIDTH`] with `indent` spaces before every line but
/// the first.
fn wrap(text: &str, first: usize, indent: usize) -> String {
    let mut out = String::new();
    let mut col = first;
    for word in text.split_whitespace() {
        let w = word.chars().count();
        if col > indent && col + 1 + w > WIDTH {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            col = indent;
        } else if col > first || !out.is_empty() {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += w;
    }
    out
}

fn explain_text(out: &mut impl Write, l: &RegistryLicense) -> Result<(), Failure> {
    let reg = registry();
    writeln!(out, "{}: {}", safe(&l.id), safe(&l.name))?;
    if l.deprecated {
        writeln!(
            out,
            "  deprecated SPDX id: still accepted, scored like the id that replaces it"
        )?;
    }
    let class = reg.class(&l.class);
    let label = "  class:    ";
    let class_text = match class {
        Some(c) => format!("{} ({}): {}", c.id, c.name, c.description),
        None => l.class.clone(),
    };
    writeln!(out, "{label}{}", wrap(&safe(&class_text), label.len(), 12))?;
    let label = "  source:   ";
    writeln!(out, "{label}{}", wrap(&safe(&l.source), label.len(), 12))?;
    if !l.aliases.is_empty() {
        let label = "  also:     ";
        let names = l
            .aliases
            .iter()
            .map(|a| safe(a).into_owned())
            .collect::<Vec<_>>()
            .join("; ");
        writeln!(out, "{label}{}", wrap(&names, label.len(), 12))?;
    }
    writeln!(out, "  rights:")?;
    for c in CRITERIA {
        let head = format!("    {c:<26}");
        match l.reason(c) {
            None => writeln!(out, "{head}granted")?,
            Some(why) => {
                let text = format!("withheld: {}", safe(why));
                writeln!(out, "{head}{}", wrap(&text, head.len(), 30))?;
            }
        }
    }
    writeln!(out, "  points:   {} of 5", l.points())?;
    writeln!(
        out,
        "  levels:   {} for code, {} for data or weights, when released publicly",
        l.level(Kind::Code),
        l.level(Kind::Data)
    )?;
    writeln!(
        out,
        "  registry: {} (SPDX License List {})",
        reg.label(),
        reg.spdx_license_list()
    )?;
    Ok(())
}

fn criteria_json(l: &RegistryLicense) -> Value {
    Value::Object(
        CRITERIA
            .iter()
            .map(|c| (c.to_string(), Value::Bool(l.reason(c).is_none())))
            .collect(),
    )
}

fn list_json(out: &mut impl Write) -> Result<(), Failure> {
    let reg = registry();
    let licenses: Vec<Value> = reg
        .licenses()
        .iter()
        .map(|l| {
            json!({
                "id": l.id,
                "name": l.name,
                "class": l.class,
                "deprecated": l.deprecated,
                "criteria": criteria_json(l),
                "points": l.points(),
                "code": l.level(Kind::Code).to_string(),
                "data": l.level(Kind::Data).to_string(),
            })
        })
        .collect();
    let v = json!({
        "registry": reg.label(),
        "spdx_license_list": reg.spdx_license_list(),
        "licenses": licenses,
        "exceptions": reg.exceptions(),
    });
    put(out, &v)
}

fn explain_json(l: &RegistryLicense) -> Value {
    let reg = registry();
    let class = reg.class(&l.class);
    json!({
        "registry": reg.label(),
        "spdx_license_list": reg.spdx_license_list(),
        "id": l.id,
        "name": l.name,
        "aliases": l.aliases,
        "class": l.class,
        "class_name": class.map(|c| c.name.as_str()),
        "class_description": class.map(|c| c.description.as_str()),
        "deprecated": l.deprecated,
        "source": l.source,
        "criteria": criteria_json(l),
        "reasons": Value::Object(
            CRITERIA
                .iter()
                .filter_map(|c| l.reason(c).map(|r| (c.to_string(), Value::from(r))))
                .collect(),
        ),
        "points": l.points(),
        "code": l.level(Kind::Code).to_string(),
        "data": l.level(Kind::Data).to_string(),
    })
}

/// Writes one JSON value and a newline, hidden characters escaped.
fn put(out: &mut impl Write, v: &Value) -> Result<(), Failure> {
    let text = serde_json::to_string(v).map_err(std::io::Error::from)?;
    out.write_all(json_safe(&text).as_bytes())?;
    writeln!(out)?;
    Ok(())
}
