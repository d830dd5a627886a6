//! The Python package (python/, built with maturin from the library):
//! its pytest suite, and examples/pipeline.py, run against this build of
//! the custody command, with a throwaway PostgreSQL cluster for the suite's
//! PostgreSQL test. Needs the package installed in .venv (.ci/run does
//! it): ignored by a plain `cargo test`, run by `--include-ignored`. A
//! skipped Python test fails the run: nothing it needs may be missing.

mod common;

use common::pg::Cluster;
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
    let pg = Cluster::get();
    let out = Command::new(python())
        .args(["-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"])
        .arg(root().join("python/tests"))
        .env("CUSTODY_BIN", env!("CARGO_BIN_EXE_custody"))
        .env("CUSTODY_STATE_DIR", tmp.path().join("state"))
        .env("CUSTODY_TEST_PG_URL", pg.url(""))
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{report}");
    let summary = report
        .lines()
        .rev()
        .find(|l| l.contains(" passed"))
        .unwrap_or("");
    assert!(
        !summary.contains("skipped") && !summary.contains("deselected"),
        "every Python test must run: {report}"
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

/// The Python blocks of the README's "From Python" section, in order.
fn readme_python() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split("\n## From Python\n")
        .nth(1)
        .expect("README has a `## From Python` section");
    let section = section.split("\n## ").next().unwrap();
    let mut code = String::new();
    let mut inside = false;
    for line in section.lines() {
        match (inside, line.trim_end()) {
            (false, "```python") => inside = true,
            (true, "```") => inside = false,
            (true, l) => {
                code.push_str(l);
                code.push('\n');
            }
            _ => {}
        }
    }
    assert!(code.contains("custody.record"), "{code}");
    code
}

#[test]
#[ignore = "needs the custody package in .venv (.ci/run installs it): cargo test -- --include-ignored"]
fn the_readmes_python_guide_runs_as_written() {
    installed();
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(python())
        .args(["-c", &readme_python()])
        .env("CUSTODY_STATE_DIR", tmp.path().join("state"))
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[..2], ["True 8 None None", "D5"], "{stdout}");
    assert_eq!(lines[2], "old 8", "{stdout}");
    // What it wrote checks out with the command.
    let v = Command::new(env!("CARGO_BIN_EXE_custody"))
        .args(["verify", "release.ledger"])
        .current_dir(tmp.path())
        .env("CUSTODY_STATE_DIR", tmp.path().join("state"))
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}
