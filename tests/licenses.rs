//! The license registry (schemas/licenses.json, schemas/LICENSES.md): its
//! classification of well-known licenses, the licenses of registry version
//! 2 kept as they were, canonical spelling and suggestions at append, and
//! the `custody licenses` command.

mod common;

use common::{custody, Fixture};
use custody::{registry, Kind, CRITERIA};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Rows of a tab-separated test data file, comments left out.
fn rows(name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(root().join("tests/data").join(name)).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// `Y`/`N` per criterion, in rubric order.
fn rights(id: &str) -> String {
    let l = registry()
        .get(id)
        .unwrap_or_else(|| panic!("{id} is not in the registry"));
    CRITERIA
        .iter()
        .map(|c| if l.reason(c).is_some() { 'N' } else { 'Y' })
        .collect()
}

#[test]
fn the_committed_registry_is_what_the_generator_makes() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let out = Command::new(&python)
        .arg(root().join("schemas/registry/generate.py"))
        .arg("--check")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (python3, standard library only): {e}"));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn well_known_licenses_are_classified_as_expected() {
    let table = rows("well-known-licenses.tsv");
    assert!(table.len() >= 40);
    let mut wrong = Vec::new();
    for row in &table {
        let (id, class, want) = (&row[0], &row[1], &row[2]);
        let l = registry()
            .get(id)
            .unwrap_or_else(|| panic!("{id} is not in the registry"));
        if &l.class != class || &rights(id) != want {
            wrong.push(format!(
                "{id}: class {} rights {}, want {class} {want}",
                l.class,
                rights(id)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_licenses_of_registry_version_2_keep_their_criteria() {
    let table = rows("registry-v2-criteria.tsv");
    assert_eq!(table.len(), 66);
    for row in &table {
        assert_eq!(rights(&row[0]), row[1], "{}", row[0]);
    }
}

#[test]
fn every_withheld_right_has_a_reason_naming_no_placeholder() {
    let reg = registry();
    assert_eq!(reg.version(), 3);
    assert_eq!(reg.spdx_license_list(), "3.29.0");
    assert!(reg.licenses().len() >= 746, "{}", reg.licenses().len());
    assert!(reg.exceptions().len() >= 86);
    for l in reg.licenses() {
        assert!(reg.class(&l.class).is_some(), "{}: class {}", l.id, l.class);
        for c in CRITERIA {
            if let Some(why) = l.reason(c) {
                assert!(!why.trim().is_empty(), "{}: {c}", l.id);
                assert!(!why.contains('{'), "{}: {c}: {why}", l.id);
            }
        }
        assert_eq!(l.reasons.len(), 5 - usize::from(l.points()), "{}", l.id);
    }
    let nc = reg.get("CC-BY-NC-4.0").unwrap();
    assert_eq!(
        nc.reason("commercial"),
        Some("NonCommercial: no use primarily intended for commercial advantage.")
    );
    let nc3 = reg.get("cc-by-nc-3.0").unwrap();
    assert_eq!(
        nc3.reason("commercial"),
        Some("CC-BY-NC-3.0 forbids commercial use.")
    );
}

#[test]
fn deprecated_ids_are_accepted_and_scored_like_their_successor() {
    let reg = registry();
    let deprecated: Vec<_> = reg.licenses().iter().filter(|l| l.deprecated).collect();
    assert!(deprecated.len() >= 30);
    for l in deprecated {
        let successor = l
            .source
            .strip_prefix("deprecated SPDX id, scored as ")
            .unwrap_or_else(|| panic!("{}: {}", l.id, l.source));
        assert_eq!(rights(&l.id), rights(successor), "{}", l.id);
    }
    assert_eq!(rights("GPL-2.0+"), rights("GPL-2.0-or-later"));
}

#[test]
fn levels_follow_points() {
    let reg = registry();
    for (id, code, data) in [
        ("MIT", "C5", "D5"),
        ("GPL-3.0-only", "C4", "D4"),
        ("CC-BY-NC-4.0", "C3", "D3"),
        ("CC-BY-ND-4.0", "C3", "D3"),
        ("CC-BY-NC-ND-4.0", "C2", "D3"),
    ] {
        let l = reg.get(id).unwrap();
        assert_eq!(l.level(Kind::Code).to_string(), code, "{id}");
        assert_eq!(l.level(Kind::Data).to_string(), data, "{id}");
        assert_eq!(l.level(Kind::Weights).to_string(), data, "{id}");
    }
}

const ARTIFACT: &str = r#"{"type":"artifact","id":"a","kind":"code"}"#;

fn license_line(expr: &str) -> String {
    serde_json::json!({"type": "license", "artifact": "a", "license": expr}).to_string()
}

#[test]
fn ids_are_stored_in_their_canonical_case() {
    let f = Fixture::new();
    f.append_ok("owner.key", ARTIFACT);
    f.append_ok(
        "owner.key",
        &license_line("(apache-2.0 OR mit) AND gpl-2.0+ WITH classpath-EXCEPTION-2.0 AND ofl-1.1"),
    );
    let r = custody(f.dir(), &["log", "L", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let last: Value = serde_json::from_str(r.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(
        last["license"],
        "(Apache-2.0 OR MIT) AND GPL-2.0+ WITH Classpath-exception-2.0 AND OFL-1.1"
    );
    let r = custody(f.dir(), &["verify", "L"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn spdx_ids_outside_the_old_registry_are_accepted() {
    let f = Fixture::new();
    f.append_ok("owner.key", ARTIFACT);
    for expr in [
        "OFL-1.1",
        "BUSL-1.1",
        "GPL-2.0-with-classpath-exception",
        "MPL-2.0 WITH Swift-exception",
    ] {
        f.append_ok("owner.key", &license_line(expr));
    }
}

#[test]
fn names_and_mistyped_ids_get_a_suggestion() {
    let f = Fixture::new();
    f.append_ok("owner.key", ARTIFACT);
    for (written, meant) in [
        ("Apache 2.0", "Apache-2.0"),
        ("Apache License 2.0", "Apache-2.0"),
        ("apache2", "Apache-2.0"),
        ("Apache2.0", "Apache-2.0"),
        ("GPLv3", "GPL-3.0-only"),
        ("CC BY-NC 4.0", "CC-BY-NC-4.0"),
        ("cc by-sa 4.0", "CC-BY-SA-4.0"),
        ("MIT License", "MIT"),
        ("SIL Open Font License 1.1", "OFL-1.1"),
    ] {
        let r = f.append("owner.key", &license_line(written));
        assert_eq!(r.code, 2, "{written}");
        assert!(
            r.stderr.contains(&format!("did you mean `{meant}`?")),
            "{written}: {}",
            r.stderr
        );
    }
    let r = f.append("owner.key", &license_line("Not-A-License-1.0"));
    assert_eq!(r.code, 2);
    assert!(!r.stderr.contains("did you mean"), "{}", r.stderr);
    let r = f.append(
        "owner.key",
        &license_line("GPL-2.0-only WITH LicenseRef-Custom-exception"),
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("exception `LicenseRef-Custom-exception`"));
}

fn width(s: &str) -> usize {
    use unicode_width::UnicodeWidthStr;
    s.width()
}

#[test]
fn licenses_lists_the_registry_in_80_columns() {
    let dir = tempfile::tempdir().unwrap();
    let r = custody(dir.path(), &["licenses"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with("custody-licenses/3: 770 licenses (SPDX License List 3.29.0)"),
        "{}",
        lines[0]
    );
    for l in &lines {
        assert!(width(l) <= 80, "{} columns: {l}", width(l));
    }
    let row = |id: &str| {
        lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no row for {id}"))
            .to_string()
    };
    assert_eq!(
        row("MIT"),
        format!("{:<36} RCMDO    5 C5   D5   MIT", "MIT")
    );
    assert_eq!(
        row("CC-BY-NC-ND-4.0"),
        format!(
            "{:<36} R----    1 C2   D3   CC BY-NC-ND 4.0",
            "CC-BY-NC-ND-4.0"
        )
    );
    assert!(row("GPL-3.0-or-later").contains(" RCMD-    4 C4   D4   "));
    // Long names are cut, not wrapped.
    assert!(row("AGPL-1.0-or-later").ends_with('…'));
    assert_eq!(lines.len(), 5 + 770);
}

#[test]
fn licenses_explains_one_license() {
    let dir = tempfile::tempdir().unwrap();
    let r = custody(dir.path(), &["licenses", "cc-by-nc-4.0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let o = &r.stdout;
    assert!(o.starts_with("CC-BY-NC-4.0: CC BY-NC 4.0\n"), "{o}");
    assert!(
        o.contains("  class:    non-commercial (Non-commercial): "),
        "{o}"
    );
    assert!(o.contains("    research                  granted\n"), "{o}");
    assert!(
        o.contains("    commercial                withheld: NonCommercial: no use primarily"),
        "{o}"
    );
    assert!(o.contains("  points:   3 of 5\n"), "{o}");
    assert!(
        o.contains("  levels:   C3 for code, D3 for data or weights, when released publicly\n"),
        "{o}"
    );
    assert!(
        o.contains("  source:   custody scoring of the license text\n"),
        "{o}"
    );
    for l in o.lines() {
        assert!(width(l) <= 80, "{l}");
    }

    let r = custody(dir.path(), &["licenses", "GPL-2.0+"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("deprecated SPDX id"), "{}", r.stdout);
    assert!(
        r.stdout.contains("scored as GPL-2.0-or-later"),
        "{}",
        r.stdout
    );

    let r = custody(dir.path(), &["licenses", "llvm-exception"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("LLVM-exception: an SPDX exception"));
}

#[test]
fn licenses_json() {
    let dir = tempfile::tempdir().unwrap();
    let r = custody(dir.path(), &["licenses", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["registry"], "custody-licenses/3");
    assert_eq!(v["spdx_license_list"], "3.29.0");
    let all = v["licenses"].as_array().unwrap();
    assert_eq!(all.len(), 770);
    let mit = all.iter().find(|l| l["id"] == "MIT").unwrap();
    assert_eq!(mit["points"], 5);
    assert_eq!(mit["code"], "C5");
    assert_eq!(mit["criteria"]["commercial"], true);

    let r = custody(dir.path(), &["licenses", "busl-1.1", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["id"], "BUSL-1.1");
    assert_eq!(v["class"], "source-available");
    assert_eq!(v["criteria"]["commercial"], false);
    assert!(v["reasons"]["commercial"]
        .as_str()
        .unwrap()
        .starts_with("BUSL-1.1 forbids production use"));
    assert_eq!(v["points"], 3);
    assert_eq!(v["data"], "D3");
}

#[test]
fn licenses_of_an_unknown_id_exits_2_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let r = custody(dir.path(), &["licenses", "Apache 2.0"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr.trim_end(),
        "custody: license `Apache 2.0` is not in the license registry (custody-licenses/3): \
         did you mean `Apache-2.0`?"
    );
    let r = custody(dir.path(), &["licenses", "Not-A-License-1.0"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("run `custody licenses` to list them"),
        "{}",
        r.stderr
    );
}
