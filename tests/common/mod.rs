//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_custody")
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
    let mut child = Command::new(bin())
        .args(args)
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

/// Every file under `dir` with its bytes, to compare a directory before and after.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
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
