//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub mod crafted;
#[path = "pg.rs"]
pub mod pg;
pub mod server;

/// The Python of the cross-checks: `$PYTHON`, else `.venv` at the
/// repository root (tests/setup-python.sh makes it).
pub fn python() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::var("PYTHON")
        .unwrap_or_else(|_| root.join(".venv/bin/python").to_string_lossy().into_owned())
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_custody")
}

/// Whether this test binary keeps its ledgers in PostgreSQL: a test target
/// named `..._on_postgres`, a link to the file of its sled twin, so that
/// the same flows run against both stores.
pub fn on_postgres() -> bool {
    env!("CARGO_CRATE_NAME").ends_with("_on_postgres")
}

/// The ledger a test calls `L` in `dir`: the directory `L`, or on
/// PostgreSQL a ledger of the test cluster named after `dir`.
pub fn ledger_arg(dir: &Path, arg: &str) -> String {
    if arg == "L" && on_postgres() {
        pg::Cluster::get().url(&ledger_name(dir))
    } else {
        arg.to_string()
    }
}

/// The ledger a test calls `L` in `dir`, for calls into the library.
pub fn ledger_location(dir: &Path) -> custody::Location {
    if on_postgres() {
        custody::Location::parse(&ledger_arg(dir, "L"))
    } else {
        custody::Location::Path(dir.join("L"))
    }
}

fn ledger_name(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

fn finish(o: Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs custody with `args` in `dir`, feeding `stdin`.
pub fn custody_in(dir: &Path, args: &[&str], stdin: &str) -> Run {
    let args: Vec<String> = args.iter().map(|a| ledger_arg(dir, a)).collect();
    let mut child = Command::new(bin())
        .args(&args)
        .current_dir(dir)
        // Each test's own high-water marks, not the user's.
        .env("CUSTODY_STATE_DIR", dir.join(".custody-state"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn custody");
    // The command may stop reading early (a refused line); that is its right.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    finish(child.wait_with_output().unwrap())
}

/// Runs custody in `cwd`, as given (no ledger mapped), with its marks in
/// `state` (another machine's, in effect) and `env` besides.
pub fn custody_at(
    cwd: &Path,
    state: &Path,
    env: &[(&str, &Path)],
    args: &[&str],
    stdin: &str,
) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(cwd)
        .env("CUSTODY_STATE_DIR", state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn custody");
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    finish(child.wait_with_output().unwrap())
}

pub fn custody(dir: &Path, args: &[&str]) -> Run {
    custody_in(dir, args, "")
}

/// A scratch directory with an owner key, an appender key, a stranger key
/// and a ledger `L` whose appender has been granted.
pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub owner: String,
    pub appender: String,
    pub stranger: String,
}

impl Fixture {
    pub fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let mut pubs = Vec::new();
        for k in ["owner.key", "appender.key", "stranger.key"] {
            let r = custody(d, &["keygen", "--out", k]);
            assert_eq!(r.code, 0, "{}", r.stderr);
            pubs.push(r.stdout.trim().to_string());
        }
        let r = custody(d, &["init", "L", "--key", "owner.key", "--name", "fixture"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let f = Fixture {
            tmp,
            owner: pubs[0].clone(),
            appender: pubs[1].clone(),
            stranger: pubs[2].clone(),
        };
        f.append_ok(
            "owner.key",
            &format!(
                r#"{{"type":"grant","key":"{}","role":"appender"}}"#,
                f.appender
            ),
        );
        f
    }

    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    pub fn append(&self, key: &str, lines: &str) -> Run {
        custody_in(self.dir(), &["append", "L", "--key", key], lines)
    }

    pub fn append_ok(&self, key: &str, lines: &str) -> Run {
        let r = self.append(key, lines);
        assert_eq!(r.code, 0, "append failed: {}", r.stderr);
        r
    }
}

/// Every file under `dir` with its bytes, to compare a directory before and
/// after; for the ledger `L` on PostgreSQL, every row custody keeps of it.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    if on_postgres() && dir.file_name().is_some_and(|n| n == "L") {
        let name = ledger_name(dir.parent().unwrap());
        for (i, row) in pg::Cluster::get().rows(&name).into_iter().enumerate() {
            out.insert(PathBuf::from(format!("row {i}")), row.into_bytes());
        }
        assert!(!out.is_empty(), "no rows for ledger {name}");
        return out;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

pub fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}
