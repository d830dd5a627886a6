//! `custody digest`: a file's SHA-256, a directory's OpenSSF model-signing
//! manifest and root (checked against the `model-signing` package from
//! PyPI), `--check` against what a verified ledger records, and `path` in
//! an `artifact` event line.

mod common;

use common::{custody, custody_in, python, Fixture};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const NEEDS: &str = "needs .venv with model-signing: run tests/setup-python.sh, then cargo test -- --include-ignored";

/// A model directory whose names order differently by string and by path
/// component, with git's files at the top and deeper down.
fn model(dir: &Path) {
    for (f, body) in [
        ("config.json", b"{}".to_vec()),
        ("a/b", b"1".to_vec()),
        ("a-c", b"2".to_vec()),
        ("données/é.txt", "é".as_bytes().to_vec()),
        ("weights/part-00001.bin", vec![7u8; 3 << 20]),
        ("weights/part-00002.bin", vec![]),
        (".gitignore", b"*.tmp".to_vec()),
        (".gitattributes", b"*.bin lfs".to_vec()),
        (".git/HEAD", b"ref".to_vec()),
        (".github/workflows/ci.yml", b"on: push".to_vec()),
        (
            "sub/.gitignore",
            b"kept: only the top's are left out".to_vec(),
        ),
    ] {
        let p = dir.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
}

#[test]
#[ignore = "needs .venv with model-signing: run tests/setup-python.sh, then cargo test -- --include-ignored"]
fn a_directory_digest_is_the_one_model_signing_computes() {
    let f = Fixture::new();
    let d = f.dir();
    model(&d.join("model"));
    let ours = custody(d, &["digest", "--format", "json", "model"]);
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    let ours: Value = serde_json::from_str(&ours.stdout).unwrap();
    let theirs = Command::new(python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/digest/oms_root.py"))
        .arg(d.join("model"))
        .output()
        .unwrap_or_else(|e| panic!("{NEEDS}: {e}"));
    assert!(
        theirs.status.success(),
        "{NEEDS}\n{}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    let theirs: Value = serde_json::from_slice(&theirs.stdout).unwrap();
    assert_eq!(ours["oms_root"], theirs["root"]);
    assert!(ours["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256-manifest:"));
    let pairs = |v: &Value| -> Vec<(String, String)> {
        v["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["sha256"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(pairs(&ours), pairs(&theirs));
    assert_eq!(pairs(&ours).len(), 7, "{ours}");
}

#[test]
fn digests_check_against_the_ledger_and_come_from_paths_in_events() {
    let f = Fixture::new();
    let d = f.dir();
    model(&d.join("model"));
    std::fs::write(d.join("card.md"), "# model").unwrap();
    let dir = custody(d, &["digest", "model"]);
    assert_eq!(dir.code, 0, "{}", dir.stderr);
    let dir_digest = dir.stdout.split_whitespace().next().unwrap().to_string();
    // A file's digest is its SHA-256, as sha256sum gives it.
    let file = custody(d, &["digest", "card.md"]);
    let bare = Command::new("sha256sum")
        .arg(d.join("card.md"))
        .output()
        .unwrap();
    assert_eq!(
        file.stdout.split_whitespace().next().unwrap(),
        format!(
            "sha256:{}",
            String::from_utf8_lossy(&bare.stdout)
                .split_whitespace()
                .next()
                .unwrap()
        )
    );
    // `sha256sum --format` lines check with sha256sum itself.
    let sums = custody(d, &["digest", "--format", "sha256sum", "model"]);
    std::fs::write(d.join("SUMS"), &sums.stdout).unwrap();
    let c = Command::new("sha256sum")
        .args(["-c", "SUMS"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stdout));

    // `path` in an artifact line: the digest computed at append time, the
    // path not stored; stored as the uri when asked.
    f.append_ok(
        "appender.key",
        r#"{"type":"artifact","id":"w","kind":"weights","path":"model"}"#,
    );
    let r = custody_in(
        d,
        &["append", "L", "--key", "appender.key", "--record-paths"],
        r#"{"type":"artifact","id":"card","kind":"code","path":"card.md"}"#,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let log = custody(d, &["log", "L", "--json"]);
    let entries: Vec<Value> = log
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let w = entries.iter().find(|e| e["id"] == "w").unwrap();
    assert_eq!(w["digest"], dir_digest.as_str());
    assert!(w.get("path").is_none() && w.get("uri").is_none(), "{w}");
    let card = entries.iter().find(|e| e["id"] == "card").unwrap();
    assert!(
        card["uri"].as_str().unwrap().starts_with("file:///")
            && card["uri"].as_str().unwrap().ends_with("/card.md"),
        "{card}"
    );
    // A digest given beside a path must be the path's.
    let before = common::snapshot(&d.join("L"));
    let r = custody_in(
        d,
        &["append", "L", "--key", "appender.key"],
        &format!(
            r#"{{"type":"artifact","id":"x","kind":"data","path":"card.md","digest":"sha256:{}"}}"#,
            "0".repeat(64)
        ),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("line 1") && r.stderr.contains("digest"),
        "{}",
        r.stderr
    );
    assert_eq!(common::snapshot(&d.join("L")), before);

    // --check: 0 the same, 1 different, 2 an error.
    let ok = custody(d, &["digest", "--check", "w", "L", "model"]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    std::fs::write(d.join("model/config.json"), "{\"changed\":1}").unwrap();
    let changed = custody(d, &["digest", "--check", "w", "L", "model"]);
    assert_eq!(changed.code, 1, "{}{}", changed.stdout, changed.stderr);
    assert!(changed.stdout.contains("differs"), "{}", changed.stdout);
    let unknown = custody(d, &["digest", "--check", "nope", "L", "model"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    // The same bytes under other names are another directory.
    std::fs::write(d.join("model/config.json"), "{}").unwrap();
    assert_eq!(
        custody(d, &["digest", "--check", "w", "L", "model"]).code,
        0
    );
    std::fs::rename(d.join("model/config.json"), d.join("model/settings.json")).unwrap();
    let renamed = custody(d, &["digest", "--check", "w", "L", "model"]);
    assert_eq!(renamed.code, 1, "{}{}", renamed.stdout, renamed.stderr);
    // Pinned to another owner, the ledger is not believed (exit 1);
    // unpinned, the check says so.
    std::fs::rename(d.join("model/settings.json"), d.join("model/config.json")).unwrap();
    let pinned = custody(
        d,
        &[
            "digest",
            "--check",
            "w",
            "L",
            "model",
            "--owner",
            "stranger.key.pub",
        ],
    );
    assert_eq!(pinned.code, 1, "{}{}", pinned.stdout, pinned.stderr);
    let unpinned = custody(d, &["digest", "--check", "w", "L", "model"]);
    assert_eq!(unpinned.code, 0, "{}", unpinned.stderr);
    assert!(
        unpinned.stderr.contains("not pinned"),
        "{}",
        unpinned.stderr
    );
    let pinned = custody(
        d,
        &[
            "digest",
            "--check",
            "w",
            "L",
            "model",
            "--owner",
            "owner.key.pub",
        ],
    );
    assert_eq!(pinned.code, 0, "{}{}", pinned.stdout, pinned.stderr);
}

#[cfg(unix)]
#[test]
fn links_and_odd_files_are_refused_unless_asked() {
    let f = Fixture::new();
    let d = f.dir();
    model(&d.join("model"));
    std::os::unix::fs::symlink(d.join("model/config.json"), d.join("model/link.json")).unwrap();
    let r = custody(d, &["digest", "model"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    let r = custody(
        d,
        &["digest", "--follow-symlinks", "--format", "json", "model"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), 8);
    let all = custody(
        d,
        &[
            "digest",
            "--follow-symlinks",
            "--include-git",
            "--format",
            "json",
            "model",
        ],
    );
    let all: Value = serde_json::from_str(&all.stdout).unwrap();
    assert_eq!(all["files"].as_array().unwrap().len(), 12);
    let missing = custody(d, &["digest", "nothing-here"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
}

/// The vector in tests/vectors/digest-directory.json (its OMS root made
/// with model-signing 1.1.1 agreeing): the files it lists give its
/// manifest, its manifest digest and its OMS root.
#[test]
fn the_directory_digest_vector_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/vectors/digest-directory.json")).unwrap(),
    )
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    for f in v["files"].as_array().unwrap() {
        let p = dir.join(f["path"].as_str().unwrap());
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, f["content"].as_str().unwrap()).unwrap();
    }
    let r = custody(tmp.path(), &["digest", "--format", "json", "m"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ours: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(ours["digest"], v["digest"]);
    assert_eq!(ours["oms_root"], v["oms_root"]);
    assert_eq!(ours["files"], v["manifest"]);
}
