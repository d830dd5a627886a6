//! Checkpoints, proofs and consistency with earlier checkpoints.

mod common;

use base64::Engine;
use common::{custody, Fixture};
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn artifacts(f: &Fixture, from: usize, to: usize) {
    let lines: Vec<String> = (from..to)
        .map(|i| format!(r#"{{"type":"artifact","id":"x{i}","kind":"data"}}"#))
        .collect();
    f.append_ok("owner.key", &lines.join("\n"));
}

fn write_out(f: &Fixture, args: &[&str], file: &str) -> String {
    let r = custody(f.dir(), args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    std::fs::write(f.path(file), &r.stdout).unwrap();
    r.stdout
}

/// A ledger of 2 + 10 entries, a checkpoint of it, and its verifier key.
fn checkpointed() -> (Fixture, String, String) {
    let f = Fixture::new();
    artifacts(&f, 0, 10);
    let note = write_out(&f, &["checkpoint", "L", "--key", "owner.key"], "cp12");
    let origin = note.lines().next().unwrap().to_string();
    let vkey = write_out(
        &f,
        &["vkey", "--key", "owner.key", "--name", &origin],
        "vkey",
    );
    (f, note, vkey.trim().to_string())
}

#[test]
fn a_checkpoint_verifies_by_the_specs_formulas() {
    let (f, note, vkey) = checkpointed();
    // c2sp.org/signed-note, done by hand: text, blank line, "— name base64(keyid || sig)".
    let (text, sigs) = note.split_at(note.rfind("\n\n").unwrap() + 1);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("custody/fixture/"));
    assert_eq!(lines[1], "12");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(lines[2])
            .unwrap()
            .len(),
        32
    );
    let sig_line = sigs.trim_start_matches('\n').trim_end();
    let rest = sig_line.strip_prefix("\u{2014} ").unwrap();
    let (name, b64) = rest.split_once(' ').unwrap();
    assert_eq!(name, lines[0]);
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let public: [u8; 32] = hex::decode(&f.owner).unwrap().try_into().unwrap();
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0a, 0x01]);
    h.update(public);
    assert_eq!(
        &raw[..4],
        &h.finalize()[..4],
        "key id = SHA-256(name || 0x0A || 0x01 || key)[:4]"
    );
    let sig = Signature::from_bytes(&raw[4..].try_into().unwrap());
    VerifyingKey::from_bytes(&public)
        .unwrap()
        .verify_strict(text.as_bytes(), &sig)
        .unwrap();
    // The vkey is name+hex(id)+base64(0x01 || key).
    let mut k = vec![1u8];
    k.extend_from_slice(&public);
    assert_eq!(
        vkey,
        format!(
            "{name}+{}+{}",
            hex::encode(&raw[..4]),
            base64::engine::general_purpose::STANDARD.encode(k)
        )
    );
    // The root is the RFC 6962 root of the ledger's entry bytes.
    assert_eq!(
        custody(f.dir(), &["export", "L", "--out", "x.cbor"]).code,
        0
    );
    let bytes = std::fs::read(f.path("x.cbor")).unwrap();
    let mut range = custody::CompactRange::default();
    let mut i = 0;
    while i < bytes.len() {
        // Each entry is 0x82, a byte string head and body, then 0x58 0x40 and 64 bytes.
        let (hl, bl) = match bytes[i + 1] {
            b @ 0x40..=0x57 => (1, (b - 0x40) as usize),
            0x58 => (2, bytes[i + 2] as usize),
            0x59 => (3, u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize),
            _ => panic!("unexpected head"),
        };
        let len = 1 + hl + bl + 2 + 64;
        range.push(custody::leaf_hash(&bytes[i..i + len]));
        i += len;
    }
    assert_eq!(range.size(), 12);
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(range.root()),
        lines[2]
    );
}

#[test]
fn a_grown_ledger_is_consistent_with_its_checkpoint() {
    let (f, _note, vkey) = checkpointed();
    artifacts(&f, 10, 25);
    let r = custody(
        f.dir(),
        &[
            "verify",
            "L",
            "--checkpoint",
            "cp12",
            "--vkey",
            &vkey,
            "--json",
        ],
    );
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    // And the file form too, with the vkey in a file.
    assert_eq!(
        custody(f.dir(), &["export", "L", "--out", "L.cbor"]).code,
        0
    );
    let r = custody(
        f.dir(),
        &["verify", "L.cbor", "--checkpoint", "cp12", "--vkey", "vkey"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The consistency proof from the old checkpoint to a new one verifies.
    let new = write_out(&f, &["checkpoint", "L", "--key", "owner.key"], "cp27");
    let body = write_out(
        &f,
        &[
            "prove",
            "consistency",
            "L",
            "--from",
            "cp12",
            "--to",
            "cp27",
        ],
        "cons",
    );
    let (head, checkpoint) = body.split_once("\n\n").unwrap();
    assert_eq!(checkpoint, new);
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("old 12"));
    let proof: Vec<[u8; 32]> = lines
        .map(|l| {
            base64::engine::general_purpose::STANDARD
                .decode(l)
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect();
    let root = |note: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(note.lines().nth(2).unwrap())
            .unwrap()
    };
    let old = std::fs::read_to_string(f.path("cp12")).unwrap();
    custody::verify_consistency(12, 27, &proof, &root(&old), &root(&new)).unwrap();
    assert!(custody::verify_consistency(12, 27, &proof, &root(&new), &root(&old)).is_err());
}

fn verdict(f: &Fixture, source: &str, vkey: &str, checkpoint: &str) -> (i32, Value) {
    let r = custody(
        f.dir(),
        &[
            "verify",
            source,
            "--checkpoint",
            checkpoint,
            "--vkey",
            vkey,
            "--json",
        ],
    );
    (
        r.code,
        serde_json::from_str(&r.stdout).unwrap_or(Value::Null),
    )
}

#[test]
fn truncation_fork_and_foreign_checkpoints_are_detected() {
    let f = Fixture::new();
    artifacts(&f, 0, 5);
    assert_eq!(
        custody(f.dir(), &["export", "L", "--out", "early.cbor"]).code,
        0
    );
    artifacts(&f, 5, 10);
    let note = write_out(&f, &["checkpoint", "L", "--key", "owner.key"], "cp");
    let origin = note.lines().next().unwrap().to_string();
    let vkey = write_out(
        &f,
        &["vkey", "--key", "owner.key", "--name", &origin],
        "vkey",
    )
    .trim()
    .to_string();

    // Truncated: the early export lacks the checkpoint's last entries.
    let (code, v) = verdict(&f, "early.cbor", &vkey, "cp");
    assert_eq!(code, 1);
    assert_eq!(v["error"]["reason"], "truncated");

    // Fork: the same start, another history after it. The owner's key
    // refuses to build it (it built on the longer history)...
    assert_eq!(custody(f.dir(), &["import", "early.cbor", "F"]).code, 0);
    let lines: Vec<String> = (0..5)
        .map(|i| format!(r#"{{"type":"artifact","id":"other{i}","kind":"code"}}"#))
        .collect();
    let r = common::custody_in(
        f.dir(),
        &["append", "F", "--key", "owner.key"],
        &lines.join("\n"),
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stderr.contains("would sign a fork"), "{}", r.stderr);
    // ...unless told to, by deleting its high-water marks.
    std::fs::remove_dir_all(f.path(".custody-state")).unwrap();
    let r = common::custody_in(
        f.dir(),
        &["append", "F", "--key", "owner.key"],
        &lines.join("\n"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (code, v) = verdict(&f, "F", &vkey, "cp");
    assert_eq!(code, 1);
    assert_eq!(v["error"]["reason"], "fork");

    // Foreign: a valid checkpoint of another ledger.
    let r = custody(
        f.dir(),
        &["init", "M", "--key", "owner.key", "--name", "another"],
    );
    assert_eq!(r.code, 0);
    let other = write_out(&f, &["checkpoint", "M", "--key", "owner.key"], "cpm");
    let other_origin = other.lines().next().unwrap().to_string();
    let other_vkey = write_out(
        &f,
        &["vkey", "--key", "owner.key", "--name", &other_origin],
        "vkm",
    )
    .trim()
    .to_string();
    let (code, v) = verdict(&f, "L", &other_vkey, "cpm");
    assert_eq!(code, 1);
    assert_eq!(v["error"]["reason"], "foreign-checkpoint");

    // A checkpoint that does not verify with the key given is bad input.
    let (code, _) = verdict(&f, "L", &other_vkey, "cp");
    assert_eq!(code, 2);
    let tampered = note.replace("\n12\n", "\n11\n");
    assert_ne!(tampered, note);
    std::fs::write(f.path("cpx"), tampered).unwrap();
    let (code, _) = verdict(&f, "L", &vkey, "cpx");
    assert_eq!(code, 2);
}

#[test]
fn inclusion_proofs_verify_offline_and_catch_tampering() {
    let (f, _note, vkey) = checkpointed();
    artifacts(&f, 10, 20);
    for (source, seq) in [("L", 0u64), ("L", 7), ("L", 11), ("L.cbor", 7)] {
        if source == "L.cbor" {
            assert_eq!(
                custody(f.dir(), &["export", "L", "--out", "L.cbor"]).code,
                0
            );
        }
        let s = seq.to_string();
        // Against the earlier checkpoint, of 12 entries.
        let r = custody(
            f.dir(),
            &[
                "prove",
                "inclusion",
                source,
                "--seq",
                &s,
                "--checkpoint",
                "cp12",
                "--out",
                "proof",
                "--force",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let r = custody(
            f.dir(),
            &["log", source, "--seq", &s, "--out", "entry", "--force"],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let r = custody(
            f.dir(),
            &["verify-proof", "proof", "--entry", "entry", "--vkey", &vkey],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stdout.contains(&format!("entry {seq} ")) && r.stdout.contains("tree size 12"),
            "{}",
            r.stdout
        );
        // A changed entry byte, a changed proof hash, another entry: each refused.
        let entry = std::fs::read(f.path("entry")).unwrap();
        let mut bad = entry.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        std::fs::write(f.path("bad-entry"), &bad).unwrap();
        assert_eq!(
            custody(
                f.dir(),
                &[
                    "verify-proof",
                    "proof",
                    "--entry",
                    "bad-entry",
                    "--vkey",
                    &vkey
                ]
            )
            .code,
            1
        );
        let proof = std::fs::read_to_string(f.path("proof")).unwrap();
        let line = proof.lines().nth(2).unwrap().to_string();
        let flipped = if line.starts_with('A') {
            line.replacen('A', "B", 1)
        } else {
            format!("A{}", &line[1..])
        };
        std::fs::write(f.path("bad-proof"), proof.replacen(&line, &flipped, 1)).unwrap();
        assert_eq!(
            custody(
                f.dir(),
                &[
                    "verify-proof",
                    "bad-proof",
                    "--entry",
                    "entry",
                    "--vkey",
                    &vkey
                ]
            )
            .code,
            1
        );
    }
    // Entry 15 is not in the 12-entry checkpoint.
    let r = custody(
        f.dir(),
        &[
            "prove",
            "inclusion",
            "L",
            "--seq",
            "15",
            "--checkpoint",
            "cp12",
            "--out",
            "p",
        ],
    );
    assert_eq!(r.code, 2);
    // A fresh checkpoint can be signed for the proof instead.
    let r = custody(
        f.dir(),
        &[
            "prove",
            "inclusion",
            "L",
            "--seq",
            "15",
            "--key",
            "owner.key",
            "--out",
            "p",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        custody(f.dir(), &["log", "L", "--seq", "15", "--out", "e15"]).code,
        0
    );
    assert_eq!(
        custody(
            f.dir(),
            &["verify-proof", "p", "--entry", "e15", "--vkey", &vkey]
        )
        .code,
        0
    );
}

#[test]
fn a_lagging_tree_is_refused_then_caught_up() {
    let f = Fixture::new();
    // This test's own high-water marks for the appends made in-process.
    std::env::set_var("CUSTODY_STATE_DIR", f.path(".custody-state"));
    let key = custody::read_signing_key(&f.path("owner.key")).unwrap();
    let ledger = common::ledger_location(f.dir());
    let lines: String = (0..40)
        .map(|i| format!("{{\"type\":\"artifact\",\"id\":\"t{i}\",\"kind\":\"data\"}}\n"))
        .collect();
    custody::append_with(
        &ledger,
        &key,
        lines.as_bytes(),
        &custody::AppendOptions {
            merkle_tree: false,
            ..Default::default()
        },
    )
    .unwrap();
    let r = custody(f.dir(), &["checkpoint", "L", "--key", "owner.key"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not up to date"), "{}", r.stderr);
    // An empty append catches the tree up; its root is then the entries' root.
    custody::append_with(
        &ledger,
        &key,
        &b""[..],
        &custody::AppendOptions {
            allow_empty: true,
            ..Default::default()
        },
    )
    .unwrap();
    let mut range = custody::CompactRange::default();
    custody::verify(&ledger, &Default::default(), |e| {
        range.push(custody::leaf_hash(e.bytes()));
        Ok(())
    })
    .unwrap();
    let tree = custody::LedgerTree::open(&ledger).unwrap();
    assert_eq!(tree.size(), 42);
    assert_eq!(tree.root(42).unwrap(), range.root());
    for size in [1u64, 15, 16, 17, 33, 42] {
        for i in [0, size / 2, size - 1] {
            let p = tree.inclusion_proof(i, size).unwrap();
            custody::verify_inclusion(
                i,
                size,
                &tree.leaf(i).unwrap(),
                &p,
                &tree.root(size).unwrap(),
            )
            .unwrap();
        }
    }
}
