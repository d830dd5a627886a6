//! Runs the independent Python verifier (written from `schemas/FORMAT.md`
//! alone) over the test vectors and over edge-case ledgers beside `custody
//! verify`, and checks `schemas/event.schema.json` against what `custody
//! append` accepts.
//!
//! Needs python3 with cbor2, PyNaCl and jsonschema. Without them the test
//! prints why it was skipped and passes, unless CUSTODY_REQUIRE_PYTHON is
//! set, in which case it fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SKIP_HINT: &str = "skipped: pip install cbor2 pynacl jsonschema";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python interpreter to use, when it has every package the scripts need.
fn python() -> Option<String> {
    let exe = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let ok = Command::new(&exe)
        .args(["-c", "import cbor2, nacl.signing, jsonschema"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    ok.then_some(exe)
}

/// Returns the interpreter, or None after reporting a skip; panics instead
/// when CUSTODY_REQUIRE_PYTHON is set.
fn python_or_skip(test: &str) -> Option<String> {
    match python() {
        Some(p) => Some(p),
        None if std::env::var_os("CUSTODY_REQUIRE_PYTHON").is_some() => panic!(
            "{test}: CUSTODY_REQUIRE_PYTHON is set but python3 with cbor2, PyNaCl and \
             jsonschema is not available (pip install cbor2 pynacl jsonschema)"
        ),
        None => {
            // Straight to the process's stderr, past the test harness's
            // capture, so that the skip shows in a normal `cargo test` run.
            let _ = writeln!(std::io::stderr(), "{test}: {SKIP_HINT}");
            None
        }
    }
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
fn python_verifier_agrees_with_every_vector() {
    let Some(py) = python_or_skip("python_verifier_agrees_with_every_vector") else {
        return;
    };
    let dir = root();
    run(
        &py,
        &dir.join("tests/independent/verify.py"),
        &[&dir.join("tests/vectors")],
    );
}

#[test]
fn edge_cases_get_the_documented_verdict_from_both_verifiers() {
    let Some(py) = python_or_skip("edge_cases_get_the_documented_verdict_from_both_verifiers")
    else {
        return;
    };
    run(
        &py,
        &root().join("tests/independent/differential.py"),
        &[Path::new(env!("CARGO_BIN_EXE_custody"))],
    );
}

#[test]
fn event_schema_agrees_with_append() {
    let Some(py) = python_or_skip("event_schema_agrees_with_append") else {
        return;
    };
    let dir = root();
    run(
        &py,
        &dir.join("tests/independent/check_schema.py"),
        &[Path::new(env!("CARGO_BIN_EXE_custody"))],
    );
}
