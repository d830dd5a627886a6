//! `custody card`: the Hugging Face model card metadata and section, read
//! back with huggingface_hub's ModelCard (from PyPI), and the Model
//! Openness Framework file, read with PyYAML; an invalid ledger gets no
//! card.

mod common;

use common::{custody, custody_in, python, Fixture};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const NEEDS: &str = "needs .venv with huggingface_hub: run tests/setup-python.sh, then cargo test -- --include-ignored";

/// A fine-tune of a Hub base model on Hub datasets, released on the Hub.
fn release(f: &Fixture) {
    f.append_ok(
        "appender.key",
        r#"{"type":"artifact","id":"base","kind":"weights","uri":"https://huggingface.co/example-org/base-7b"}
{"type":"license","artifact":"base","license":"LicenseRef-Llama-3"}
{"type":"release","artifact":"base","access":"public"}
{"type":"artifact","id":"web","kind":"data","uri":"https://huggingface.co/datasets/example-org/web-text"}
{"type":"license","artifact":"web","license":"ODC-By-1.0"}
{"type":"release","artifact":"web","access":"public"}
{"type":"artifact","id":"sft","kind":"data","uri":"hf://datasets/example-org/sft-mix"}
{"type":"license","artifact":"sft","license":"CC-BY-4.0"}
{"type":"release","artifact":"sft","access":"public"}
{"type":"artifact","id":"private-notes","kind":"data","uri":"s3://lab/notes"}
{"type":"release","artifact":"private-notes","access":"none"}
{"type":"artifact","id":"trainer","kind":"code","uri":"https://git.example.org/trainer"}
{"type":"license","artifact":"trainer","license":"Apache-2.0"}
{"type":"release","artifact":"trainer","access":"public"}
{"type":"artifact","id":"tuned","kind":"weights","uri":"https://huggingface.co/example-org/tuned-7b"}
{"type":"transformation","operation":"fine-tune","inputs":["base","sft","private-notes","trainer"],"outputs":["tuned"]}
{"type":"license","artifact":"tuned","license":"LicenseRef-Llama-3"}
{"type":"release","artifact":"tuned","access":"public"}"#,
    );
    f.append_ok(
        "owner.key",
        r#"{"type":"component","component":"weights","artifacts":["tuned"]}
{"type":"component","component":"pretraining-data","artifacts":["web"]}
{"type":"component","component":"sft-data","artifacts":["sft","private-notes"]}
{"type":"component","component":"finetuning-code","artifacts":["trainer"]}"#,
    );
}

#[test]
#[ignore = "needs .venv with huggingface_hub: run tests/setup-python.sh, then cargo test -- --include-ignored"]
fn the_card_reads_back_with_huggingface_hub() {
    let f = Fixture::new();
    let d = f.dir();
    release(&f);
    assert_eq!(
        custody(d, &["export", "L", "--out", "tuned.custody"]).code,
        0
    );
    let card = custody(d, &["card", "tuned.custody", "--out", "README.md"]);
    assert_eq!(card.code, 0, "{}", card.stderr);
    let mof = custody(d, &["card", "tuned.custody", "--mof", "--out", "mof.yml"]);
    assert_eq!(mof.code, 0, "{}", mof.stderr);
    let out = Command::new(python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/card/parse.py"))
        .args([d.join("README.md"), d.join("mof.yml")])
        .output()
        .unwrap_or_else(|e| panic!("{NEEDS}: {e}"));
    assert!(
        out.status.success(),
        "{NEEDS}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let data = &v["data"];
    assert_eq!(data["license"], "llama3", "{data}");
    assert_eq!(
        data["datasets"],
        serde_json::json!(["example-org/sft-mix", "example-org/web-text"]),
        "{data}"
    );
    assert_eq!(data["base_model"], "example-org/base-7b", "{data}");
    assert_eq!(data["base_model_relation"], "finetune", "{data}");
    let text = v["text"].as_str().unwrap();
    assert!(text.contains("| Model |"), "{text}");
    assert!(text.contains("private-notes is not released"), "{text}");
    assert!(
        text.contains("custody verify tuned.custody --owner"),
        "{text}"
    );
    // The MOF file: its components by the framework's names.
    let comps = v["mof"]["release"]["components"].as_array().unwrap();
    let by = |n: &str| comps.iter().find(|c| c["name"] == n).cloned();
    assert_eq!(
        by("Model parameters (Final)").unwrap()["license"],
        "LicenseRef-Llama-3"
    );
    assert_eq!(by("Training code").unwrap()["license"], "Apache-2.0");
    assert_eq!(
        by("Datasets").unwrap()["license"],
        "ODC-By-1.0 AND CC-BY-4.0"
    );
    assert!(by("Model card").is_none(), "not recorded in the ledger");
    assert_eq!(v["mof"]["framework"]["name"], "Model Openness Framework");
}

#[test]
fn licenses_outside_the_hub_list_and_invalid_ledgers() {
    let f = Fixture::new();
    let d = f.dir();
    f.append_ok(
        "appender.key",
        r#"{"type":"artifact","id":"m","kind":"weights"}
{"type":"license","artifact":"m","license":{"name":"Lab Model Terms","terms":{"research":true,"commercial":false,"modify":true,"copyright_derivative":true,"other_license_derivative":false}}}
{"type":"release","artifact":"m","access":"public"}"#,
    );
    f.append_ok(
        "owner.key",
        r#"{"type":"component","component":"weights","artifacts":["m"]}"#,
    );
    let card = custody(d, &["card", "L"]);
    assert_eq!(card.code, 0, "{}", card.stderr);
    assert!(
        card.stdout
            .starts_with("---\nlicense: other\nlicense_name: \"lab-model-terms\"\n"),
        "{}",
        card.stdout
    );
    // An export with a byte changed: no card, exit 1, as verify says.
    assert_eq!(custody(d, &["export", "L", "--out", "x.custody"]).code, 0);
    let mut bytes = std::fs::read(d.join("x.custody")).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 1;
    std::fs::write(d.join("x.custody"), bytes).unwrap();
    let bad = custody_in(d, &["card", "x.custody"], "");
    assert_eq!(bad.code, 1, "{}{}", bad.stdout, bad.stderr);
    assert!(bad.stdout.is_empty(), "{}", bad.stdout);
}

/// Hostile names and uris: no markup out of a ledger's name, no Hub
/// repository out of a path that is not one, no raw character YAML
/// forbids, no link that is not a web address.
#[test]
fn hostile_names_and_uris_do_not_reach_the_card_as_they_are() {
    let f = Fixture::new();
    let d = f.dir();
    let evil = "x` <img src=https://evil.example/p.png> [verify here](https://evil.example/c) `";
    assert_eq!(
        custody(d, &["init", "E", "--key", "owner.key", "--name", evil]).code,
        0
    );
    let events = [
        r#"{"type":"artifact","id":"m\uffff","kind":"weights","uri":"javascript:alert(1)"}"#,
        r#"{"type":"release","artifact":"m\uffff","access":"public"}"#,
        r#"{"type":"license","artifact":"m\uffff","license":"MIT"}"#,
        r#"{"type":"artifact","id":"b1","kind":"weights","uri":"https://huggingface.co//datasets/evil/x"}"#,
        r#"{"type":"artifact","id":"b2","kind":"weights","uri":"https://huggingface.co/collections/meta/llama"}"#,
        r#"{"type":"artifact","id":"d1","kind":"data","uri":"https://huggingface.co/datasets/../../x"}"#,
        r#"{"type":"artifact","id":"t","kind":"weights"}"#,
        r#"{"type":"transformation","operation":"merge","inputs":["b1","b2","d1","m\uffff"],"outputs":["t"]}"#,
        r#"{"type":"component","component":"weights","artifacts":["t"]}"#,
        r#"{"type":"component","component":"pretraining-code","artifacts":[]}"#,
    ];
    let r = custody_in(
        d,
        &["append", "E", "--key", "owner.key"],
        &events[..9].join("\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let card = custody(d, &["card", "E"]);
    assert_eq!(card.code, 0, "{}", card.stderr);
    assert!(!card.stdout.contains("](https://evil"), "{}", card.stdout);
    // (escaped, `\<img` is text)
    assert!(
        !card.stdout.replace("\\<", "").contains("<img"),
        "{}",
        card.stdout
    );
    assert!(!card.stdout.contains("base_model"), "{}", card.stdout);
    assert!(!card.stdout.contains("datasets:"), "{}", card.stdout);
    // The MOF file lists the released weights' component.
    let r = custody_in(
        d,
        &["append", "E", "--key", "owner.key"],
        r#"{"type":"component","component":"weights","artifacts":["m\uffff"],"replace":true}"#,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mof = custody(d, &["card", "E", "--mof"]);
    assert_eq!(mof.code, 0, "{}", mof.stderr);
    assert!(
        mof.stdout.contains("Model parameters (Final)"),
        "{}",
        mof.stdout
    );
    assert!(!mof.stdout.contains('\u{ffff}'), "{}", mof.stdout);
    assert!(mof.stdout.contains("\\uffff"), "{}", mof.stdout);
    assert!(!mof.stdout.contains("javascript:"), "{}", mof.stdout);
}
