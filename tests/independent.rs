//! Runs the independent Python verifier (written from `schemas/FORMAT.md`
//! alone) over the test vectors and over edge-case ledgers beside `custody
//! verify`, checks `schemas/event.schema.json` against what `custody
//! append` accepts, and every command's JSON output against its schema in
//! `schemas/output/`.
//!
//! They need python3 with the packages of tests/python-requirements.txt,
//! so they are ignored by a plain `cargo test`, which lists them as
//! ignored with the reason. `tests/setup-python.sh` makes `.venv`; then
//! `cargo test -- --include-ignored` runs them (CI does). Asked to run
//! without the packages, they fail: they never pass without running.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const NEEDS: &str = "needs python3 with cbor2, PyNaCl, jsonschema: run tests/setup-python.sh, then cargo test -- --include-ignored";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python interpreter to use: $PYTHON, else the repository's .venv,
/// else python3. It must have every package the scripts need.
fn python(test: &str) -> String {
    let venv = root().join(".venv/bin/python");
    let exe = std::env::var("PYTHON").unwrap_or_else(|_| {
        if venv.exists() {
            venv.to_string_lossy().into_owned()
        } else {
            "python3".to_string()
        }
    });
    let ok = Command::new(&exe)
        .args(["-c", "import cbor2, nacl.signing, jsonschema"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "{test}: `{exe}` lacks the packages: {NEEDS}");
    exe
}

fn run(python: &str, script: &Path, args: &[&Path]) {
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(
        out.status.success(),
        "{} failed ({}):\n{stdout}\n{stderr}",
        script.display(),
        out.status
    );
}

#[test]
#[ignore = "needs python3 with cbor2, PyNaCl, jsonschema: run tests/setup-python.sh, then cargo test -- --include-ignored"]
fn python_verifier_agrees_with_every_vector() {
    let py = python("python_verifier_agrees_with_every_vector");
    let dir = root();
    run(
        &py,
        &dir.join("tests/independent/verify.py"),
        &[&dir.join("tests/vectors")],
    );
}

#[test]
#[ignore = "needs python3 with cbor2, PyNaCl, jsonschema: run tests/setup-python.sh, then cargo test -- --include-ignored"]
fn edge_cases_get_the_documented_verdict_from_both_verifiers() {
    let py = python("edge_cases_get_the_documented_verdict_from_both_verifiers");
    run(
        &py,
        &root().join("tests/independent/differential.py"),
        &[Path::new(env!("CARGO_BIN_EXE_custody"))],
    );
}

#[test]
#[ignore = "needs python3 with cbor2, PyNaCl, jsonschema: run tests/setup-python.sh, then cargo test -- --include-ignored"]
fn event_schema_agrees_with_append() {
    let py = python("event_schema_agrees_with_append");
    let dir = root();
    run(
        &py,
        &dir.join("tests/independent/check_schema.py"),
        &[Path::new(env!("CARGO_BIN_EXE_custody"))],
    );
}

#[test]
#[ignore = "needs python3 with cbor2, PyNaCl, jsonschema: run tests/setup-python.sh, then cargo test -- --include-ignored"]
fn every_json_output_matches_its_schema() {
    let py = python("every_json_output_matches_its_schema");
    let dir = root();
    run(
        &py,
        &dir.join("tests/independent/check_outputs.py"),
        &[Path::new(env!("CARGO_BIN_EXE_custody"))],
    );
}
