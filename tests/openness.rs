//! Openness levels: one test per rule of the derivation, through the CLI.

mod common;

use common::{custody, Fixture};
use serde_json::Value;

/// A ledger holding `lines` (appended by the owner), and its openness JSON.
fn openness(lines: &[&str]) -> (Fixture, Value) {
    let f = Fixture::new();
    f.append_ok("owner.key", &lines.join("\n"));
    let r = custody(f.dir(), &["openness", "L", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    (f, v)
}

fn level<'a>(v: &'a Value, component: &str) -> &'a str {
    v["components"][component]["level"].as_str().unwrap()
}

const DATA_A: &str = r#"{"type":"artifact","id":"a","kind":"data"}"#;
const DATA_B: &str = r#"{"type":"artifact","id":"b","kind":"data"}"#;

#[test]
fn never_named_is_unknown_and_not_applicable_is_na() {
    let (_f, v) =
        openness(&[r#"{"type":"component","component":"alignment-data","applicable":false}"#]);
    assert_eq!(level(&v, "alignment-data"), "N/A");
    assert_eq!(level(&v, "weights"), "?");
    assert_eq!(v["components"].as_object().unwrap().len(), 12);
    assert!(v["registry"]
        .as_str()
        .unwrap()
        .starts_with("custody-licenses/"));
}

#[test]
fn the_strictest_source_sets_the_level() {
    let (_f, v) = openness(&[
        DATA_A,
        DATA_B,
        r#"{"type":"license","artifact":"a","license":"CC0-1.0"}"#,
        r#"{"type":"release","artifact":"a","access":"public"}"#,
        r#"{"type":"license","artifact":"b","license":"LicenseRef-OPT-Data"}"#,
        r#"{"type":"release","artifact":"b","access":"public"}"#,
        r#"{"type":"component","component":"pretraining-data","artifacts":["a","b"]}"#,
    ]);
    let c = &v["components"]["pretraining-data"];
    assert_eq!(c["level"], "D3");
    assert_eq!(c["license"]["id"], "LicenseRef-OPT-Data");
    assert_eq!(c["license"]["name"], "OPT Data");
    assert_eq!(c["license"]["self_declared"], false);
    assert_eq!(c["artifacts"][0]["level"], "D5");
    assert_eq!(c["artifacts"][1]["level"], "D3");
    assert_eq!(c["artifacts"][1]["effective_points"], 1);
    // An artifact's own evidence: its declaration, license and release.
    assert_eq!(c["artifacts"][1]["evidence"], serde_json::json!([3, 6, 7]));
    // The component's: everything its level rests on.
    assert_eq!(c["evidence"], serde_json::json!([2, 3, 4, 5, 6, 7, 8]));
    assert_eq!(c["unknown_artifacts"], serde_json::json!([]));
}

#[test]
fn an_unknown_artifact_makes_the_component_unknown() {
    let (_f, v) = openness(&[
        DATA_A,
        DATA_B,
        r#"{"type":"release","artifact":"a","access":"none"}"#,
        r#"{"type":"component","component":"sft-data","artifacts":["a","b"]}"#,
    ]);
    let c = &v["components"]["sft-data"];
    assert_eq!(c["level"], "?");
    assert_eq!(c["unknown_artifacts"], serde_json::json!(["b"]));
    assert_eq!(c["artifacts"][0]["level"], "D1");
}

#[test]
fn paid_api_is_c1_for_code_and_d2_for_data() {
    let (_f, v) = openness(&[
        r#"{"type":"artifact","id":"srv","kind":"code"}"#,
        r#"{"type":"artifact","id":"w","kind":"weights"}"#,
        r#"{"type":"release","artifact":"srv","access":"paid-api"}"#,
        r#"{"type":"release","artifact":"w","access":"paid-api"}"#,
        r#"{"type":"component","component":"inference-code","artifacts":["srv"]}"#,
        r#"{"type":"component","component":"weights","artifacts":["w"]}"#,
    ]);
    assert_eq!(level(&v, "inference-code"), "C1");
    assert_eq!(level(&v, "weights"), "D2");
}

#[test]
fn public_without_a_license_grants_nothing() {
    let (_f, v) = openness(&[
        r#"{"type":"artifact","id":"c","kind":"code"}"#,
        r#"{"type":"release","artifact":"c","access":"public"}"#,
        r#"{"type":"component","component":"eval-code","artifacts":["c"]}"#,
        DATA_A,
        r#"{"type":"release","artifact":"a","access":"public"}"#,
        r#"{"type":"component","component":"benchmark-data","artifacts":["a"]}"#,
    ]);
    assert_eq!(level(&v, "eval-code"), "C2");
    assert_eq!(level(&v, "benchmark-data"), "D3");
    let w = v["components"]["eval-code"]["warnings"][0]
        .as_str()
        .unwrap();
    assert!(
        w.contains("public without a license") && w.contains("0 points"),
        "{w}"
    );
}

#[test]
fn or_and_with_in_expressions() {
    let (_f, v) = openness(&[
        r#"{"type":"artifact","id":"p","kind":"code"}"#,
        r#"{"type":"license","artifact":"p","license":"LicenseRef-OPT-Data OR MIT"}"#,
        r#"{"type":"release","artifact":"p","access":"public"}"#,
        r#"{"type":"component","component":"pretraining-code","artifacts":["p"]}"#,
        r#"{"type":"artifact","id":"f","kind":"code"}"#,
        r#"{"type":"license","artifact":"f","license":"mit AND LicenseRef-Llama-2"}"#,
        r#"{"type":"release","artifact":"f","access":"public"}"#,
        r#"{"type":"component","component":"finetuning-code","artifacts":["f"]}"#,
        r#"{"type":"artifact","id":"g","kind":"code"}"#,
        r#"{"type":"license","artifact":"g","license":"GPL-3.0-or-later WITH GCC-exception-3.1"}"#,
        r#"{"type":"release","artifact":"g","access":"public"}"#,
        r#"{"type":"component","component":"alignment-code","artifacts":["g"]}"#,
        r#"{"type":"artifact","id":"i","kind":"code"}"#,
        r#"{"type":"license","artifact":"i","license":"GPL-2.0+"}"#,
        r#"{"type":"release","artifact":"i","access":"public"}"#,
        r#"{"type":"component","component":"inference-code","artifacts":["i"]}"#,
    ]);
    assert_eq!(level(&v, "pretraining-code"), "C5");
    assert_eq!(level(&v, "finetuning-code"), "C3");
    assert_eq!(level(&v, "alignment-code"), "C4");
    assert_eq!(level(&v, "inference-code"), "C4");
}

#[test]
fn inline_terms_are_scored() {
    let (_f, v) = openness(&[
        r#"{"type":"artifact","id":"w","kind":"weights"}"#,
        r#"{"type":"license","artifact":"w","license":{"name":"Acme Model License","terms":{"research":true,"commercial":false,"modify":true,"copyright_derivative":true,"other_license_derivative":true}}}"#,
        r#"{"type":"release","artifact":"w","access":"public"}"#,
        r#"{"type":"component","component":"weights","artifacts":["w"]}"#,
    ]);
    assert_eq!(level(&v, "weights"), "D4");
    let l = &v["components"]["weights"]["license"];
    assert_eq!(l["name"], "Acme Model License");
    assert_eq!(l["id"], serde_json::Value::Null);
    assert_eq!(l["self_declared"], true);
    let r = custody(_f.dir(), &["openness", "L"]);
    let text = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains(
            "weights D4 `w` is public under the self-declared license \"Acme Model License\", \
             which withholds: no commercial use"
        ),
        "{}",
        r.stdout
    );
    let md = custody(_f.dir(), &["openness", "L", "--markdown"]).stdout;
    assert!(
        md.contains("D4 \\(Acme Model License, self-declared\\)"),
        "{md}"
    );
}

#[test]
fn the_latest_license_and_release_count() {
    let (_f, v) = openness(&[
        DATA_A,
        r#"{"type":"license","artifact":"a","license":"MIT"}"#,
        r#"{"type":"release","artifact":"a","access":"none"}"#,
        r#"{"type":"component","component":"sft-data","artifacts":["a"]}"#,
        r#"{"type":"license","artifact":"a","license":"CC-BY-NC-4.0"}"#,
        r#"{"type":"release","artifact":"a","access":"public"}"#,
    ]);
    let c = &v["components"]["sft-data"];
    assert_eq!(c["level"], "D3");
    assert_eq!(c["artifacts"][0]["license"]["id"], "CC-BY-NC-4.0");
    assert_eq!(c["artifacts"][0]["license"]["entry"], 6);
    assert_eq!(c["artifacts"][0]["evidence"], serde_json::json!([2, 6, 7]));
}

#[test]
fn an_unknown_license_id_is_refused_with_a_suggestion() {
    let f = Fixture::new();
    f.append_ok("owner.key", DATA_A);
    let before = common::snapshot(&f.path("L"));
    let r = f.append(
        "owner.key",
        r#"{"type":"license","artifact":"a","license":"Apache2.0"}"#,
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "line 1: field `license`: license `Apache2.0` is not in the license registry"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("(custody-licenses/3): did you mean `Apache-2.0`? For a license"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("\"terms\""), "{}", r.stderr);
    assert!(before == common::snapshot(&f.path("L")));
}

#[test]
fn restrictions_propagate_through_two_transformations() {
    let (_f, v) = openness(&[
        r#"{"type":"artifact","id":"raw","kind":"data"}"#,
        r#"{"type":"license","artifact":"raw","license":"LicenseRef-OPT-Data"}"#,
        r#"{"type":"artifact","id":"mid","kind":"data"}"#,
        r#"{"type":"transformation","operation":"dedup","inputs":["raw"],"outputs":["mid"]}"#,
        r#"{"type":"artifact","id":"final","kind":"data"}"#,
        r#"{"type":"transformation","operation":"filter","inputs":["mid"],"outputs":["final"]}"#,
        r#"{"type":"license","artifact":"final","license":"CC0-1.0"}"#,
        r#"{"type":"release","artifact":"final","access":"public"}"#,
        r#"{"type":"component","component":"pretraining-data","artifacts":["final"]}"#,
    ]);
    let c = &v["components"]["pretraining-data"];
    let a = &c["artifacts"][0];
    assert_eq!(a["declared_points"], 5);
    assert_eq!(a["effective_points"], 1);
    assert_eq!(c["level"], "D3");
    // final's own entries: declaration, production, license, release.
    assert_eq!(a["evidence"], serde_json::json!([6, 7, 8, 9]));
    // The component's: also raw's license and both transformations.
    assert_eq!(
        c["evidence"],
        serde_json::json!([2, 3, 4, 5, 6, 7, 8, 9, 10])
    );
    // The restriction is traced to the license that causes it, not to `mid`.
    assert_eq!(a["restricted_by"][0]["artifact"], "raw");
    assert_eq!(a["restricted_by"][0]["license"]["entry"], 3);
    assert_eq!(
        a["restricted_by"][0]["withholds"],
        serde_json::json!([
            "commercial",
            "modify",
            "copyright_derivative",
            "other_license_derivative"
        ])
    );
    let w = c["warnings"][0].as_str().unwrap();
    assert!(
        w.starts_with("license-conflict: final")
            && w.contains("`raw` (OPT Data: no commercial use"),
        "{w}"
    );
}

#[test]
fn restrictions_propagate_from_an_augmentation_generator() {
    let (_f, v) = openness(&[
        r#"{"type":"artifact","id":"teacher","kind":"weights"}"#,
        r#"{"type":"license","artifact":"teacher","license":"LicenseRef-Llama-2"}"#,
        r#"{"type":"artifact","id":"seed","kind":"data"}"#,
        r#"{"type":"license","artifact":"seed","license":"CC0-1.0"}"#,
        r#"{"type":"artifact","id":"syn","kind":"data"}"#,
        r#"{"type":"augmentation","method":"synthetic","inputs":["seed"],"outputs":["syn"],"generator":"teacher"}"#,
        r#"{"type":"license","artifact":"syn","license":"CC-BY-4.0"}"#,
        r#"{"type":"release","artifact":"syn","access":"public"}"#,
        r#"{"type":"component","component":"sft-data","artifacts":["syn"]}"#,
    ]);
    let c = &v["components"]["sft-data"];
    assert_eq!(c["artifacts"][0]["effective_points"], 3);
    assert_eq!(c["level"], "D3");
    let w = c["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("`teacher` (LLaMA-2") && !w.contains("seed"),
        "{w}"
    );
}

#[test]
fn a_parent_that_allows_relicensing_imposes_nothing() {
    let (_f, v) = openness(&[
        r#"{"type":"artifact","id":"raw","kind":"data"}"#,
        r#"{"type":"license","artifact":"raw","license":"Apache-2.0"}"#,
        r#"{"type":"artifact","id":"out","kind":"data"}"#,
        r#"{"type":"transformation","operation":"tokenize","inputs":["raw"],"outputs":["out"]}"#,
        r#"{"type":"license","artifact":"out","license":"CC-BY-SA-4.0"}"#,
        r#"{"type":"release","artifact":"out","access":"public"}"#,
        r#"{"type":"component","component":"pretraining-data","artifacts":["out"]}"#,
    ]);
    let c = &v["components"]["pretraining-data"];
    assert_eq!(c["level"], "D4");
    assert_eq!(c["artifacts"][0]["effective_points"], 4);
    assert_eq!(c["warnings"], serde_json::json!([]));
    // raw imposes nothing: no restriction is named.
    assert_eq!(c["artifacts"][0]["restricted_by"], serde_json::json!([]));
    assert_eq!(
        c["artifacts"][0]["evidence"],
        serde_json::json!([4, 5, 6, 7])
    );
}

#[test]
fn an_invalid_ledger_gets_no_levels() {
    let f = Fixture::new();
    assert_eq!(
        custody(f.dir(), &["export", "L", "--out", "good.cbor"]).code,
        0
    );
    let mut bytes = std::fs::read(f.path("good.cbor")).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 0x10;
    std::fs::write(f.path("bad.cbor"), &bytes).unwrap();
    let r = custody(f.dir(), &["openness", "bad.cbor"]);
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains("weights"), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("ledger invalid at entry 1: bad-signature"),
        "{}",
        r.stderr
    );
    // With a valid one beside it: levels for the valid one only, still exit 1.
    let r = custody(f.dir(), &["openness", "good.cbor", "bad.cbor", "--json"]);
    assert_eq!(r.code, 1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["valid"], true);
    assert_eq!(v[1]["valid"], false);
    assert!(v[1].get("components").is_none());
    assert_eq!(v[1]["error"]["reason"], "bad-signature");
}

#[test]
fn text_and_markdown_tables_with_a_distribution() {
    let f = Fixture::new();
    f.append_ok(
        "owner.key",
        r#"{"type":"component","component":"weights","applicable":false}"#,
    );
    assert_eq!(
        custody(f.dir(), &["export", "L", "--out", "one.cbor"]).code,
        0
    );
    let r = custody(f.dir(), &["openness", "L", "one.cbor"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("distribution over 2 ledgers"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("weights") && l.contains("N/A: 2")),
        "{}",
        r.stdout
    );
    let r = custody(f.dir(), &["openness", "L", "--markdown"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.starts_with("| Model | Pre-training code |"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("| fixture | ? |"), "{}", r.stdout);
    assert!(r.stdout.contains("Eiras et al."));
}
