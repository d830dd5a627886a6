//! What is particular to a ledger directory: its files, its lock, and
//! attacks by whoever can write it (records edited, the directory rolled
//! back). The other test files run against both stores (their
//! `_on_postgres` twins); tests/postgres.rs covers the same ground for the
//! PostgreSQL tables.

mod common;

use common::crafted::key;
use common::{custody, digest, snapshot, Fixture};
use custody::{entry_hash, sign_entry, EntryHeader};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Opens a ledger directory's database as an attacker with write access
/// to the directory would, with sled itself.
fn parse(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

fn raw_db(dir: &Path) -> sled::Db {
    sled::Config::new().path(dir).open().unwrap()
}

fn entry_key(seq: u64) -> Vec<u8> {
    let mut k = vec![b'e'];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// Attack 8: the directory restored from an older copy, its records with
/// it, to undo a revocation: the keys that built on the newer history
/// refuse to build on the older one.
#[test]
fn a_rolled_back_directory_is_not_built_on() {
    let f = Fixture::new();
    copy_dir(&f.path("L"), &f.path("snapshot"));
    f.append_ok(
        "owner.key",
        &format!(r#"{{"type":"revoke","key":"{}"}}"#, f.appender),
    );
    let cp = custody(f.dir(), &["checkpoint", "L", "--key", "owner.key"]);
    assert_eq!(cp.code, 0);
    std::fs::remove_dir_all(f.path("L")).unwrap();
    copy_dir(&f.path("snapshot"), &f.path("L"));
    // The revoked appender's own mark is older: it may append to this copy.
    f.append_ok(
        "appender.key",
        r#"{"type":"artifact","id":"backdoor","kind":"data"}"#,
    );
    // The owner built on three entries: it refuses the fork, for each command.
    let r = f.append(
        "owner.key",
        r#"{"type":"artifact","id":"next","kind":"data"}"#,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("fork: the ledger's first 3 entries are another history"),
        "{}",
        r.stderr
    );
    let r = custody(f.dir(), &["checkpoint", "L", "--key", "owner.key"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("would sign a fork"), "{}", r.stderr);
    // A partial export signs a checkpoint too: of the fork, never.
    let partial = [
        "export",
        "L",
        "--out",
        "p.custody",
        "--disclose",
        "openness",
        "--key",
        "owner.key",
    ];
    let r = custody(f.dir(), &partial);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("would sign a fork"), "{}", r.stderr);
    assert!(!f.path("p.custody").exists());
    // Nor of the fork exported to a file.
    assert_eq!(
        custody(f.dir(), &["export", "L", "--out", "fork.custody"]).code,
        0
    );
    let r = custody(
        f.dir(),
        &["checkpoint", "fork.custody", "--key", "owner.key"],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("would sign a fork"), "{}", r.stderr);
    // Cut back to fewer entries than the owner saw: refused as truncated.
    std::fs::remove_dir_all(f.path("L")).unwrap();
    copy_dir(&f.path("snapshot"), &f.path("L"));
    let r = custody(f.dir(), &["checkpoint", "L", "--key", "owner.key"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("truncated: the ledger holds 2 entries"),
        "{}",
        r.stderr
    );
    let r = custody(f.dir(), &partial);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("truncated"), "{}", r.stderr);
}

/// A record from past the key's mark (written by the same key after the
/// mark, in an attempt the store then undid, or on another machine) is
/// only resumed if the entries between chain back to the marked head; a
/// record of a fork is not, and the fork is found.
#[test]
fn a_record_past_the_mark_must_hold_the_mark() {
    let f = Fixture::new();
    // The fork: the same two entries, then the owner's batch on them.
    copy_dir(&f.path("L"), &f.path("fork"));
    let state = f.dir().join(".fork-state");
    // Built with marks of its own, as on another machine.
    let in_fork = |args: &[&str], input: &str| {
        let r = common::custody_at(f.dir(), &state, &[], args, input);
        (Some(r.code), r.stderr)
    };
    let (code, err) = in_fork(
        &["append", "fork", "--key", "owner.key"],
        r#"{"type":"artifact","id":"in-the-fork","kind":"data"}"#,
    );
    assert_eq!(code, Some(0), "{err}");
    // The real ledger moves on: the owner's mark is at 3 entries there.
    f.append_ok(
        "owner.key",
        r#"{"type":"artifact","id":"real","kind":"data"}"#,
    );
    // One entry more in the fork, so that the owner's record there is past
    // its mark, then the fork put in the real one's place.
    let (code, err) = in_fork(
        &["append", "fork", "--key", "owner.key"],
        r#"{"type":"artifact","id":"fork-2","kind":"data"}"#,
    );
    assert_eq!(code, Some(0), "{err}");
    std::fs::remove_dir_all(f.path("L")).unwrap();
    copy_dir(&f.path("fork"), &f.path("L"));
    let r = f.append(
        "owner.key",
        r#"{"type":"artifact","id":"next","kind":"data"}"#,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("would sign a fork"), "{}", r.stderr);
}

/// The same rollback, with entry 0 of the old copy replaced so that the
/// key's mark (kept per ledger id) is not found: the key's record of the
/// real ledger is then not resumed either, and verifying from entry 0
/// stops at the junk; with the genesis put back, the mark is found again.
#[test]
fn a_rolled_back_directory_with_another_entry_0_is_not_built_on() {
    let f = Fixture::new();
    copy_dir(&f.path("L"), &f.path("snapshot"));
    f.append_ok(
        "owner.key",
        &format!(r#"{{"type":"revoke","key":"{}"}}"#, f.appender),
    );
    std::fs::remove_dir_all(f.path("L")).unwrap();
    copy_dir(&f.path("snapshot"), &f.path("L"));
    let set_entry0 = |bytes: &[u8]| {
        let db = sled::open(f.path("L")).unwrap();
        let mut k = [0u8; 9];
        k[0] = b'e';
        let old = db.insert(k, bytes).unwrap().unwrap().to_vec();
        db.flush().unwrap();
        old
    };
    let genesis = set_entry0(b"junk");
    let r = f.append(
        "owner.key",
        r#"{"type":"artifact","id":"next","kind":"data"}"#,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("at entry 0"), "{}", r.stderr);
    let r = custody(f.dir(), &["checkpoint", "L", "--key", "owner.key"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    set_entry0(&genesis);
    let r = f.append(
        "owner.key",
        r#"{"type":"artifact","id":"next","kind":"data"}"#,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("would sign a fork"), "{}", r.stderr);
}

/// Attack 8: the saved record edited to make a stranger an owner.
#[test]
fn an_edited_record_is_not_believed() {
    let f = Fixture::new();
    f.append_ok("owner.key", r#"{"type":"artifact","id":"a","kind":"data"}"#);
    // The attacker copies the owner's record under the stranger's key, and
    // flips bytes in the owner's: neither authenticates.
    let owner_pub: Vec<u8> = hex::decode(&f.owner).unwrap();
    let stranger_pub: Vec<u8> = hex::decode(&f.stranger).unwrap();
    {
        let db = raw_db(&f.path("L"));
        let mut k = vec![b'r'];
        k.extend_from_slice(&owner_pub);
        let mut rec = db.get(&k).unwrap().expect("the owner's record").to_vec();
        let mut k2 = vec![b'r'];
        k2.extend_from_slice(&stranger_pub);
        db.insert(k2, rec.clone()).unwrap();
        let n = rec.len();
        rec[n / 2] ^= 1;
        db.insert(k, rec).unwrap();
        db.flush().unwrap();
    }
    let r = f.append(
        "stranger.key",
        r#"{"type":"artifact","id":"b","kind":"data"}"#,
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("may not append"), "{}", r.stderr);
    // The owner, its record damaged, verifies from the start and goes on.
    f.append_ok("owner.key", r#"{"type":"artifact","id":"c","kind":"data"}"#);
    assert_eq!(custody(f.dir(), &["verify", "L"]).code, 0);
}

/// Attack 8: a forged entry (a made-up signature) put into a ledger
/// directory by someone who can write it but holds no key.
#[test]
fn nothing_signs_proves_or_builds_on_a_forged_entry() {
    let f = Fixture::new();
    f.append_ok("owner.key", r#"{"type":"artifact","id":"a","kind":"data"}"#);
    // Honest use first, so the owner has a verification record.
    let cp = custody(f.dir(), &["checkpoint", "L", "--key", "owner.key"]);
    assert_eq!(cp.code, 0, "{}", cp.stderr);
    std::fs::write(f.path("cp.txt"), &cp.stdout).unwrap();
    // The forgery: entry 3, well linked, with a random signature, and the
    // head record moved to it.
    let e2 = {
        let db = raw_db(&f.path("L"));
        let v = db.get(entry_key(2)).unwrap().unwrap().to_vec();
        drop(db);
        v
    };
    let good = sign_entry(
        &key(9),
        &EntryHeader {
            seq: 3,
            prev: Some(entry_hash(&e2)),
            ledger: custody::decode_entry(&e2).unwrap().ledger().copied(),
            time: 1,
            roles: 2,
        },
        &json!({"type": "component", "component": "weights", "applicable": false}),
    )
    .unwrap();
    let mut forged = good.clone();
    let n = forged.len();
    for b in &mut forged[n - 64..] {
        *b ^= 0x5a;
    }
    {
        let db = raw_db(&f.path("L"));
        db.insert(entry_key(3), forged.clone()).unwrap();
        let mut head = 4u64.to_be_bytes().to_vec();
        head.extend_from_slice(&entry_hash(&forged));
        db.insert("head", head).unwrap();
        db.insert("tree", &4u64.to_be_bytes()[..]).unwrap();
        db.flush().unwrap();
    }
    // Verification finds it (and lets sled settle the files it reopens).
    let r = custody(f.dir(), &["verify", "L"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("entry 3: bad-signature"), "{}", r.stderr);
    let before = snapshot(&f.path("L"));
    let r = custody(f.dir(), &["checkpoint", "L", "--key", "owner.key"]);
    assert_eq!(
        r.code, 1,
        "checkpoint signed over a forged entry: {}",
        r.stdout
    );
    assert!(r.stderr.contains("entry 3: bad-signature"), "{}", r.stderr);
    let r = custody(
        f.dir(),
        &[
            "prove",
            "inclusion",
            "L",
            "--seq",
            "3",
            "--key",
            "owner.key",
            "--out",
            "p",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!f.path("p").exists());
    let r = custody(
        f.dir(),
        &[
            "prove",
            "inclusion",
            "L",
            "--seq",
            "3",
            "--checkpoint",
            "cp.txt",
            "--out",
            "p",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = f.append("owner.key", r#"{"type":"artifact","id":"b","kind":"data"}"#);
    assert_eq!(r.code, 1, "append built on a forged entry: {}", r.stdout);
    assert!(r.stderr.contains("entry 3: bad-signature"), "{}", r.stderr);
    assert!(
        before == snapshot(&f.path("L")),
        "a refused command changed the directory"
    );
    // verify-proof checks the entry's own signature: a proof made for the
    // forged entry (with a tree computed by the attacker) does not hold.
    std::fs::write(f.path("forged.entry"), &forged).unwrap();
    let origin = cp.stdout.lines().next().unwrap().to_string();
    let owner = custody::read_signing_key(&f.path("owner.key")).unwrap();
    let mut range = custody::CompactRange::default();
    let mut leaves = Vec::new();
    {
        let db = raw_db(&f.path("L"));
        for seq in 0..4 {
            let e = db.get(entry_key(seq)).unwrap().unwrap().to_vec();
            leaves.push(custody::leaf_hash(&e));
        }
    }
    let mut tree = custody::MemoryTree::default();
    for l in &leaves {
        range.push(*l);
        tree.push(*l);
    }
    let note = custody::sign_note(
        &custody::Checkpoint {
            origin: origin.clone(),
            size: 4,
            root: range.root(),
        }
        .text(),
        &origin,
        &owner,
    )
    .unwrap();
    let proof = custody::TlogProof {
        index: 3,
        hashes: custody::inclusion_proof(&tree, 3, 4).unwrap(),
        checkpoint: note,
    };
    std::fs::write(f.path("forged.proof"), proof.encode()).unwrap();
    let vkey = custody(f.dir(), &["vkey", "--key", "owner.key", "--name", &origin]).stdout;
    let r = custody(
        f.dir(),
        &[
            "verify-proof",
            "forged.proof",
            "--entry",
            "forged.entry",
            "--vkey",
            vkey.trim(),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains("signature does not verify"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_killed_append_leaves_all_or_nothing() {
    let f = Fixture::new();
    let batch: String = (0..3000)
        .map(|i| {
            format!(
                "{{\"type\":\"artifact\",\"id\":\"ID{i}\",\"kind\":\"data\",\"digest\":\"{}\"}}\n",
                digest('d')
            )
        })
        .collect();
    std::fs::write(f.path("batch.jsonl"), &batch).unwrap();
    let mut expected = 2u64;
    let mut outcomes = (0, 0);
    for (round, delay_ms) in [
        2u64, 5, 10, 20, 30, 40, 50, 60, 80, 100, 150, 200, 300, 400, 600, 1000,
    ]
    .iter()
    .enumerate()
    {
        // Each round appends fresh ids so a surviving batch does not clash.
        let renamed = batch.replace("ID", &format!("r{round}-"));
        std::fs::write(f.path("batch.jsonl"), &renamed).unwrap();
        let mut child = Command::new(common::bin())
            .args(["append", "L", "--key", "owner.key", "batch.jsonl"])
            .current_dir(f.dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(*delay_ms));
        let _ = child.kill();
        let status = child.wait().unwrap();
        // Either killed, or it had finished: never refused for its input.
        assert!(
            status.code().is_none() || status.success(),
            "round {round}: {status:?}"
        );
        let r = custody(f.dir(), &["verify", "L", "--json"]);
        assert_eq!(r.code, 0, "round {round}: {} {}", r.stdout, r.stderr);
        let n = parse(&r.stdout)["entries"].as_u64().unwrap();
        if n == expected + 3000 {
            outcomes.1 += 1;
            expected = n;
        } else {
            assert_eq!(
                n, expected,
                "round {round} (exit {status:?}): a partial batch survived"
            );
            outcomes.0 += 1;
        }
    }
    eprintln!("interrupted (nothing kept), completed: {outcomes:?}");
    // Some batches were cut off, and the ledger took appends afterwards.
    assert!(outcomes.0 > 0, "no append was interrupted: {outcomes:?}");
    f.append_ok(
        "owner.key",
        r#"{"type":"artifact","id":"after","kind":"data"}"#,
    );
}

#[test]
fn a_second_writer_gets_a_clear_message_not_a_corrupt_ledger() {
    let f = Fixture::new();
    // The first writer holds the ledger while it waits for its input.
    let mut first = Command::new(common::bin())
        .args(["append", "L", "--key", "owner.key", "-"])
        .current_dir(f.dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let r = f.append(
        "appender.key",
        r#"{"type":"artifact","id":"second","kind":"data"}"#,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("in use by another custody process"),
        "{}",
        r.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    {
        use std::io::Write;
        let mut stdin = first.stdin.take().unwrap();
        stdin
            .write_all(br#"{"type":"artifact","id":"first","kind":"data"}"#)
            .unwrap();
    }
    let out = first.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = parse(&custody(f.dir(), &["verify", "L", "--json"]).stdout);
    assert_eq!(v["entries"], 3);
}

#[test]
fn a_writer_waits_as_long_as_asked_and_says_so() {
    let f = Fixture::new();
    // Hold the ledger with a slow reader: a log into a pipe nobody reads
    // would finish; instead open it from a second append that blocks on stdin.
    let mut holder = std::process::Command::new(common::bin())
        .args(["append", "L", "--key", "owner.key"])
        .current_dir(f.dir())
        .env("CUSTODY_STATE_DIR", f.path(".custody-state"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let t = std::time::Instant::now();
    let r = custody(f.dir(), &["verify", "L", "--wait", "1.5"]);
    let waited = t.elapsed();
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("waiting up to 1.5 s"), "{}", r.stderr);
    assert!(r.stderr.contains("--wait SECONDS"), "{}", r.stderr);
    assert!(
        waited >= std::time::Duration::from_millis(1400),
        "{waited:?}"
    );
    drop(holder.stdin.take());
    let _ = holder.wait();
}

/// The ledger directory replaced by a link to another ledger (one that
/// names the appender and the owner, whose public keys are public):
/// however the path is written, nothing is signed into it.
#[cfg(unix)]
#[test]
fn a_link_put_in_a_ledgers_place_is_not_signed_into() {
    let f = Fixture::new();
    let d = f.dir();
    f.append_ok(
        "appender.key",
        r#"{"type":"artifact","id":"a1","kind":"data"}"#,
    );
    assert_eq!(
        custody(d, &["checkpoint", "L", "--key", "owner.key"]).code,
        0
    );
    // The attacker's ledger, built with marks of its own.
    let evil_state = d.join(".evil-state");
    let run = |args: &[&str], input: &str| {
        let r = common::custody_at(d, &evil_state, &[], args, input);
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    run(&["keygen", "--out", "evil.key"], "");
    run(&["init", "B", "--key", "evil.key", "--name", "tinylm"], "");
    run(
        &["append", "B", "--key", "evil.key"],
        &format!(
            "{{\"type\":\"grant\",\"key\":\"{}\",\"role\":\"appender\"}}\n\
             {{\"type\":\"grant\",\"key\":\"{}\",\"role\":\"owner\"}}\n",
            f.appender, f.owner
        ),
    );
    std::fs::rename(f.path("L"), f.path("L.real")).unwrap();
    std::os::unix::fs::symlink(f.path("B"), f.path("L")).unwrap();
    std::fs::create_dir(f.path("x")).unwrap();
    let abs = f.path("L").display().to_string();
    let doubled = format!("/{abs}");
    for spelling in ["L", "L/", "./L", "x/../L", abs.as_str(), doubled.as_str()] {
        let r = common::custody_in(
            d,
            &["append", spelling, "--key", "appender.key"],
            r#"{"type":"artifact","id":"z","kind":"data"}"#,
        );
        assert_eq!(r.code, 2, "{spelling}: {}", r.stdout);
        assert!(r.stderr.contains("not ledger"), "{spelling}: {}", r.stderr);
        let r = custody(d, &["checkpoint", spelling, "--key", "owner.key"]);
        assert_eq!(r.code, 2, "{spelling}: {}", r.stdout);
        let r = custody(
            d,
            &[
                "export",
                spelling,
                "--out",
                "p.custody",
                "--disclose",
                "openness",
                "--key",
                "owner.key",
            ],
        );
        assert_eq!(r.code, 2, "{spelling}: {}", r.stdout);
        assert!(!f.path("p.custody").exists());
    }
}

/// Working from inside the ledger directory (`append .`), which is then
/// swapped for a link to another ledger: the shell's $PWD still names the
/// place, and nothing is signed into the other ledger.
#[cfg(unix)]
#[test]
fn a_ledger_swapped_under_a_working_directory_is_not_signed_into() {
    let f = Fixture::new();
    let d = f.dir();
    let state = d.join(".custody-state");
    let logical = f.path("L");
    let key = f.path("appender.key").display().to_string();
    let inside = |args: &[&str], cwd: &Path| {
        let r = common::custody_at(
            cwd,
            &state,
            &[("PWD", &logical)],
            args,
            r#"{"type":"artifact","id":"w","kind":"data"}"#,
        );
        (Some(r.code), r.stderr)
    };
    let (code, err) = inside(&["append", ".", "--key", &key], &logical);
    assert_eq!(code, Some(0), "{err}");
    // Another ledger that names the appender, put where L was.
    let evil_state = d.join(".evil-state");
    let grant = format!(
        r#"{{"type":"grant","key":"{}","role":"appender"}}"#,
        f.appender
    );
    for (args, input) in [
        (vec!["keygen", "--out", "evil.key"], ""),
        (
            vec!["init", "B", "--key", "evil.key", "--name", "fixture"],
            "",
        ),
        (vec!["append", "B", "--key", "evil.key"], grant.as_str()),
    ] {
        let r = common::custody_at(d, &evil_state, &[], &args, input);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    std::fs::rename(f.path("L"), f.path("L.real")).unwrap();
    std::os::unix::fs::symlink(f.path("B"), f.path("L")).unwrap();
    // The shell is still "in" L; the process's directory is B.
    let (code, err) = inside(&["append", ".", "--key", &key], &f.path("B"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not ledger"), "{err}");
}
