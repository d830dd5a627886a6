//! `custody attest`: in-toto attestations in DSSE envelopes, checked with
//! securesystemslib and the in-toto attestation library from PyPI (and the
//! predicate against its JSON Schema); refused for an invalid ledger, a
//! ledger with nothing to attest, or a checkpoint of another ledger.

mod common;

use common::{custody, custody_in, python, Fixture};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const NEEDS: &str = "needs .venv with securesystemslib and in-toto-attestation: run tests/setup-python.sh, then cargo test -- --include-ignored";

fn release(f: &Fixture) {
    f.append_ok(
        "appender.key",
        &format!(
            r#"{{"type":"artifact","id":"raw","kind":"data","digest":"{}"}}
{{"type":"artifact","id":"clean","kind":"data","digest":"{}"}}
{{"type":"transformation","operation":"dedup","tool":"dedup 1.0","inputs":["raw"],"outputs":["clean"],"parameters":{{"threshold":0.8}}}}
{{"type":"artifact","id":"teacher","kind":"weights","uri":"https://models.example.org/teacher"}}
{{"type":"artifact","id":"synth","kind":"data"}}
{{"type":"augmentation","method":"synthetic","inputs":["clean"],"outputs":["synth"],"generator":"teacher"}}
{{"type":"artifact","id":"model","kind":"weights","digest":"{}"}}
{{"type":"transformation","operation":"train","inputs":["clean","synth"],"outputs":["model"]}}
{{"type":"license","artifact":"model","license":"Apache-2.0"}}
{{"type":"release","artifact":"model","access":"public"}}"#,
            common::digest('a'),
            common::digest('b'),
            common::digest('c')
        ),
    );
    f.append_ok(
        "owner.key",
        r#"{"type":"component","component":"weights","artifacts":["model"]}"#,
    );
}

#[test]
#[ignore = "needs .venv with securesystemslib and in-toto-attestation: run tests/setup-python.sh, then cargo test -- --include-ignored"]
fn attestations_verify_with_securesystemslib_and_in_toto() {
    let f = Fixture::new();
    let d = f.dir();
    release(&f);
    assert_eq!(
        custody(d, &["export", "L", "--out", "release.custody"]).code,
        0
    );
    let cp = custody(d, &["checkpoint", "release.custody", "--key", "owner.key"]);
    assert_eq!(cp.code, 0, "{}", cp.stderr);
    std::fs::write(d.join("cp"), &cp.stdout).unwrap();
    let origin = cp.stdout.lines().next().unwrap();
    let vkey = custody(d, &["vkey", "--key", "owner.key", "--name", origin]);
    assert_eq!(vkey.code, 0, "{}", vkey.stderr);
    let r = custody(
        d,
        &[
            "attest",
            "release.custody",
            "--key",
            "owner.key",
            "--out",
            "release.intoto.jsonl",
            "--slsa",
            "--checkpoint",
            "cp",
            "--checkpoint-vkey",
            vkey.stdout.trim(),
            "--owner",
            "owner.key.pub",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let check = |file: &str| {
        Command::new(python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/attest/check.py"))
            .args([d.join(file).to_str().unwrap(), &f.owner])
            .output()
            .unwrap_or_else(|e| panic!("{NEEDS}: {e}"))
    };
    let out = check("release.intoto.jsonl");
    assert!(
        out.status.success(),
        "{NEEDS}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        r.stdout.contains(v["keyid"].as_str().unwrap()),
        "{}",
        r.stdout
    );
    let st = v["statements"].as_array().unwrap();
    // The openness statement, then one provenance per production whose
    // outputs have digests (dedup and train; the augmentation's output has
    // none).
    assert_eq!(st.len(), 3, "{v}");
    assert_eq!(st[0]["predicateType"], "urn:custody:predicate:openness:v1");
    assert_eq!(
        st[0]["subject"],
        serde_json::json!(["model", "release.custody"])
    );
    let p = &st[0]["predicate"];
    assert_eq!(p["ledger"]["owner_pinned"], true);
    assert_eq!(p["checkpoint"].as_str().unwrap(), cp.stdout);
    let weights = p["openness"]["components"]["weights"]["level"]
        .as_str()
        .unwrap();
    assert!(weights.starts_with('D'), "{p}");
    assert_eq!(st[1]["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(st[1]["subject"], serde_json::json!(["clean"]));
    let deps = &st[2]["predicate"]["buildDefinition"]["resolvedDependencies"];
    assert_eq!(deps[0]["name"], "clean");
    assert_eq!(deps[1]["name"], "synth");
    assert!(
        deps[1]["uri"].as_str().unwrap().starts_with("urn:custody:"),
        "{deps}"
    );
    // An envelope whose payload was changed does not verify.
    let text = std::fs::read_to_string(d.join("release.intoto.jsonl")).unwrap();
    let mut first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let payload = first["payload"].as_str().unwrap().to_string();
    let flipped = if payload.starts_with('e') { "f" } else { "e" };
    first["payload"] = Value::String(format!("{flipped}{}", &payload[1..]));
    std::fs::write(d.join("bad.jsonl"), format!("{first}\n")).unwrap();
    assert!(!check("bad.jsonl").status.success());
}

#[test]
fn attest_refuses_what_it_cannot_vouch_for() {
    let f = Fixture::new();
    let d = f.dir();
    // Nothing to attest: no weights with a digest, and a directory.
    let r = custody(
        d,
        &["attest", "L", "--key", "owner.key", "--out", "a.jsonl"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nothing to attest"), "{}", r.stderr);
    assert!(!d.join("a.jsonl").exists());
    release(&f);
    assert_eq!(custody(d, &["export", "L", "--out", "x.custody"]).code, 0);
    // A checkpoint of another ledger.
    assert_eq!(
        custody(d, &["init", "M", "--key", "owner.key", "--name", "other"]).code,
        0
    );
    let other = custody(d, &["checkpoint", "M", "--key", "owner.key"]);
    std::fs::write(d.join("other.cp"), &other.stdout).unwrap();
    let attest_with = |cp: &str, vkey: &str| {
        custody(
            d,
            &[
                "attest",
                "x.custody",
                "--key",
                "owner.key",
                "--out",
                "a.jsonl",
                "--checkpoint",
                cp,
                "--checkpoint-vkey",
                vkey,
            ],
        )
    };
    let vkey_of = |name: &str| {
        custody(d, &["vkey", "--key", "owner.key", "--name", name])
            .stdout
            .trim()
            .to_string()
    };
    let r = attest_with("other.cp", &vkey_of(other.stdout.lines().next().unwrap()));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not of this ledger"), "{}", r.stderr);
    // This ledger's checkpoint, but checked against a key of another name
    // (a log it does not claim to be): refused, not carried.
    let own = custody(d, &["checkpoint", "x.custody", "--key", "owner.key"]);
    std::fs::write(d.join("own.cp"), &own.stdout).unwrap();
    let r = attest_with("own.cp", &vkey_of("meta.example/official"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    // A checkpoint without the key to check it: refused.
    let r = custody(
        d,
        &[
            "attest",
            "x.custody",
            "--key",
            "owner.key",
            "--out",
            "a.jsonl",
            "--checkpoint",
            "own.cp",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!d.join("a.jsonl").exists());
    // An invalid ledger: exit 1, no file.
    let mut bytes = std::fs::read(d.join("x.custody")).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 1;
    std::fs::write(d.join("x.custody"), bytes).unwrap();
    let r = custody_in(
        d,
        &[
            "attest",
            "x.custody",
            "--key",
            "owner.key",
            "--out",
            "a.jsonl",
        ],
        "",
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(!d.join("a.jsonl").exists());
}
