//! The ten worked examples: `examples/build-ledgers.sh` builds a ledger per
//! model from what the paper knew, and each ledger's openness row equals
//! the paper's row (examples/models/openness-sample.tsv).

mod common;

use serde_json::Value;
use std::process::Command;

#[test]
fn each_example_ledger_reproduces_the_papers_row() {
    let root = env!("CARGO_MANIFEST_DIR");
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(format!("{root}/examples/build-ledgers.sh"))
        .arg(tmp.path())
        // Found on PATH, as after `cargo install --path .`.
        .env_remove("CUSTODY")
        .env(
            "PATH",
            format!(
                "{}:{}",
                std::path::Path::new(common::bin())
                    .parent()
                    .unwrap()
                    .display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("distribution over 10 ledgers"), "{table}");

    let index = std::fs::read_to_string(format!("{root}/examples/models/index.tsv")).unwrap();
    let slugs: Vec<(&str, &str)> = index.lines().map(|l| l.split_once('\t').unwrap()).collect();
    let tsv =
        std::fs::read_to_string(format!("{root}/examples/models/openness-sample.tsv")).unwrap();
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let mut checked = 0;
    for row in lines {
        let cells: Vec<&str> = row.split('\t').collect();
        let slug = slugs.iter().find(|(_, name)| *name == cells[0]).unwrap().0;
        let r = common::custody(tmp.path(), &["openness", slug, "--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["name"], cells[0]);
        for (component, paper) in header[1..].iter().zip(&cells[1..]) {
            let got = &v["components"][component];
            // The paper's `?` may carry a guess in brackets; the ledger records nothing then.
            let (want_level, want_license) = match paper.split_once(" (") {
                Some(("?", _)) => ("?", None),
                Some((l, lic)) => (l, Some(lic.trim_end_matches(')'))),
                None => (*paper, None),
            };
            assert_eq!(got["level"], want_level, "{} {component}", cells[0]);
            assert_eq!(
                got["license"]["name"].as_str(),
                want_license,
                "{} {component}",
                cells[0]
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 120);
}
