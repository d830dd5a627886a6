//! The Python package (python/, built with maturin from the library):
//! its pytest suite, and examples/pipeline.py, run against this build of
//! the custody command. Needs the package installed in .venv (.ci/run does
//! it): ignored by a plain `cargo test`, run by `--include-ignored`.

mod common;

use common::python;
use std::path::Path;
use std::process::Command;

const NEEDS: &str = "needs the custody package in .venv: run tests/setup-python.sh, then PATH=$PWD/.venv/bin:$PATH .venv/bin/pip install --no-build-isolation ./python (.ci/run does both)";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn installed() {
    let ok = Command::new(python())
        .args(["-c", "import custody, pytest"])
        .status()
        .unwrap_or_else(|e| panic!("{NEEDS}: {e}"));
    assert!(ok.success(), "{NEEDS}");
}

#[test]
#[ignore = "needs the custody package in .venv (.ci/run installs it): cargo test -- --include-ignored"]
fn the_python_package_passes_its_tests() {
    installed();
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(python())
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(root().join("python/tests"))
        .env("CUSTODY_BIN", env!("CARGO_BIN_EXE_custody"))
        .env("CUSTODY_STATE_DIR", tmp.path().join("state"))
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "needs the custody package in .venv (.ci/run installs it): cargo test -- --include-ignored"]
fn the_example_pipeline_runs_and_verifies_with_the_cli() {
    installed();
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let out = Command::new(python())
        .arg(root().join("examples/pipeline.py"))
        .arg(&work)
        .env("CUSTODY_STATE_DIR", tmp.path().join("state"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("6 entries, valid: True"));
    let v = Command::new(env!("CARGO_BIN_EXE_custody"))
        .args(["verify", "pipeline.ledger"])
        .current_dir(&work)
        .env("CUSTODY_STATE_DIR", tmp.path().join("state"))
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}
