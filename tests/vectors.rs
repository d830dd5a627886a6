//! Checks every ledger vector in tests/vectors: the library and the CLI give
//! the stated outcome, and the generator still produces the files exactly.

mod common;

#[path = "vectors/generate.rs"]
#[allow(dead_code)]
mod generate;

use custody::{Error, VerifyOptions};
use serde_json::Value;
use std::path::Path;

fn dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors"))
}

fn expectations() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".expect.json") {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            out.push((stem.to_string(), v));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_vector_gives_its_stated_outcome() {
    let cases = expectations();
    assert!(cases.len() >= 20, "only {} vectors", cases.len());
    for (name, want) in &cases {
        let bytes = std::fs::read(dir().join(format!("{name}.ledger"))).unwrap();
        let got = custody::verify_bytes(&bytes, &VerifyOptions::default());
        match (want["valid"].as_bool().unwrap(), got) {
            (true, Ok(v)) => {
                assert_eq!(v.entries(), want["entries"].as_u64().unwrap(), "{name}");
                assert_eq!(
                    hex::encode(v.head()),
                    want["head"].as_str().unwrap(),
                    "{name}"
                );
            }
            (false, Err(Error::Invalid(inv))) => {
                assert_eq!(
                    inv.error.seq,
                    want["seq"].as_u64().unwrap(),
                    "{name}: {}",
                    inv.error
                );
                assert_eq!(
                    inv.error.reason.code(),
                    want["reason"].as_str().unwrap(),
                    "{name}: {}",
                    inv.error
                );
                assert_eq!(inv.entries, want["entries"].as_u64().unwrap(), "{name}");
            }
            (valid, got) => panic!("{name}: expected valid={valid}, got {got:?}"),
        }
    }
}

#[test]
fn the_cli_reports_every_vector_with_its_exit_status() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, want) in expectations() {
        let file = dir().join(format!("{name}.ledger"));
        let r = common::custody(tmp.path(), &["verify", file.to_str().unwrap(), "--json"]);
        let out: Value =
            serde_json::from_str(&r.stdout).unwrap_or_else(|_| panic!("{name}: {}", r.stdout));
        if want["valid"].as_bool().unwrap() {
            assert_eq!(r.code, 0, "{name}");
            assert_eq!(out["valid"], true);
        } else {
            assert_eq!(r.code, 1, "{name}: {}", r.stderr);
            assert_eq!(out["valid"], false);
            assert_eq!(out["error"]["seq"], want["seq"], "{name}");
            assert_eq!(out["error"]["reason"], want["reason"], "{name}");
            // Without --json the reason and the entry are on stderr.
            let r = common::custody(tmp.path(), &["verify", file.to_str().unwrap()]);
            assert_eq!(r.code, 1);
            let needle = format!(
                "entry {}: {}",
                want["seq"],
                want["reason"].as_str().unwrap()
            );
            assert!(r.stderr.contains(&needle), "{name}: {}", r.stderr);
        }
    }
}

#[test]
fn the_files_are_exactly_what_the_generator_makes() {
    let cases = generate::cases();
    let on_disk = expectations();
    let names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        on_disk.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()
    );
    for c in cases {
        let bytes = std::fs::read(dir().join(format!("{}.ledger", c.name))).unwrap();
        assert!(
            bytes == c.bytes,
            "{}: regenerate with `cargo run --example make-vectors`",
            c.name
        );
        let (_, want) = on_disk.iter().find(|(n, _)| n == c.name).unwrap();
        let mut expect = c.expect.clone();
        expect["description"] = serde_json::json!(c.description);
        assert_eq!(&expect, want, "{}", c.name);
    }
}

#[test]
fn tlog_vectors_give_their_stated_outcome() {
    let text = std::fs::read_to_string(dir().join("tlog.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v,
        generate::tlog_vectors(),
        "regenerate with `cargo run --example make-vectors`"
    );
    for o in v["origins"].as_array().unwrap() {
        let mut id = [0u8; 32];
        hex::decode_to_slice(o["ledger"].as_str().unwrap(), &mut id).unwrap();
        assert_eq!(
            custody::default_origin(o["name"].as_str().unwrap(), &id),
            o["origin"].as_str().unwrap()
        );
    }
    // ASCII lowercasing only: the Kelvin sign is not a letter here.
    assert!(v["origins"][3]["origin"]
        .as_str()
        .unwrap()
        .starts_with("custody/elvin/"));
    for n in v["notes"].as_array().unwrap() {
        let vkey = custody::VerifierKey::parse(n["vkey"].as_str().unwrap()).unwrap();
        let got = custody::Checkpoint::open(n["note"].as_str().unwrap(), &vkey);
        assert_eq!(
            got.is_ok(),
            n["valid"].as_bool().unwrap(),
            "{}: {got:?}",
            n["description"]
        );
    }
    for c in v["checkpoints"].as_array().unwrap() {
        let vkey = custody::VerifierKey::parse(c["vkey"].as_str().unwrap()).unwrap();
        let path = dir().join(c["ledger"].as_str().unwrap());
        let got = custody::verify_with_checkpoint(
            &path,
            &VerifyOptions::default(),
            c["note"].as_str().unwrap(),
            &vkey,
            None,
        );
        let want = &c["expect"];
        match (want["valid"].as_bool().unwrap(), got) {
            (true, Ok(_)) => {}
            (false, Err(Error::Invalid(inv))) => {
                assert_eq!(
                    inv.error.seq,
                    want["seq"].as_u64().unwrap(),
                    "{}",
                    c["description"]
                );
                assert_eq!(
                    inv.error.reason.code(),
                    want["reason"],
                    "{}",
                    c["description"]
                );
                assert_eq!(inv.entries, want["entries"].as_u64().unwrap());
            }
            (valid, got) => panic!("{}: expected valid={valid}, got {got:?}", c["description"]),
        }
    }
}
