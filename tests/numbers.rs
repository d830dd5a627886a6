//! How `custody append` stores JSON numbers: every case of
//! tests/vectors/numbers.json, through the CLI, byte for byte.

mod common;

use common::Fixture;
use serde_json::Value;

#[test]
fn every_number_is_stored_as_the_vector_says_or_refused() {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/vectors/numbers.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 30);
    let f = Fixture::new();
    f.append_ok("owner.key", r#"{"type":"artifact","id":"a","kind":"data"}"#);
    let mut seq = 3; // genesis, grant, `a`
    for (i, c) in cases.iter().enumerate() {
        let number = c["number"].as_str().unwrap();
        let lines = format!(
            "{{\"type\":\"artifact\",\"id\":\"out{i}\",\"kind\":\"data\"}}\n\
             {{\"type\":\"transformation\",\"operation\":\"x\",\"inputs\":[\"a\"],\"outputs\":[\"out{i}\"],\"parameters\":{{\"n\":{number}}}}}"
        );
        let before = common::snapshot(&f.path("L"));
        let r = f.append("owner.key", &lines);
        match c.get("cbor") {
            Some(cbor) => {
                assert_eq!(r.code, 0, "{number}: {}", r.stderr);
                let out = format!("e{i}");
                let s = (seq + 1).to_string();
                let l = common::custody(f.dir(), &["log", "L", "--seq", &s, "--out", &out]);
                assert_eq!(l.code, 0, "{}", l.stderr);
                let entry = hex::encode(std::fs::read(f.path(&out)).unwrap());
                // "parameters": {"n": <value>}
                let want = format!("a1616e{}", cbor.as_str().unwrap());
                assert!(entry.contains(&want), "{number}: want {want} in {entry}");
                seq += 2;
            }
            None => {
                assert_eq!(r.code, 2, "{number} was accepted");
                assert!(r.stderr.contains("line 2: "), "{number}: {}", r.stderr);
                assert!(before == common::snapshot(&f.path("L")), "{number}");
            }
        }
    }
}
