//! Every single-byte change, at every position of an exported ledger of a
//! few dozen entries, makes verification fail.

mod common;

use custody::{Error, VerifyOptions};

fn exported_ledger() -> (tempfile::TempDir, Vec<u8>) {
    let f = common::Fixture::new();
    let mut lines = Vec::new();
    for i in 0..10 {
        lines.push(format!(
            r#"{{"type":"artifact","id":"d{i}","kind":"data","digest":"{}","size":{}}}"#,
            common::digest(char::from(b'0' + i as u8)),
            1000 + i
        ));
        lines.push(format!(
            r#"{{"type":"custody","artifact":"d{i}","from":"source {i}","to":"team"}}"#
        ));
    }
    lines.push(r#"{"type":"artifact","id":"merged","kind":"data"}"#.into());
    lines.push(r#"{"type":"transformation","operation":"filter","inputs":["d0","d1"],"outputs":["merged"],"parameters":{"min_len":0.5}}"#.into());
    lines.push(
        r#"{"type":"license","artifact":"merged","license":"ODC-By-1.0 AND CC-BY-4.0"}"#.into(),
    );
    lines.push(r#"{"type":"release","artifact":"merged","access":"public"}"#.into());
    f.append_ok("appender.key", &lines.join("\n"));
    f.append_ok(
        "owner.key",
        r#"{"type":"component","component":"pretraining-data","artifacts":["merged"]}"#,
    );
    assert_eq!(
        common::custody(f.dir(), &["export", "L", "--out", "x.cbor"]).code,
        0
    );
    let bytes = std::fs::read(f.path("x.cbor")).unwrap();
    let tmp = f.tmp;
    (tmp, bytes)
}

#[test]
fn every_single_byte_change_is_detected() {
    let (_tmp, bytes) = exported_ledger();
    let v = custody::verify_bytes(&bytes, &VerifyOptions::default()).unwrap();
    assert_eq!(v.entries(), 27);
    // Three changes per position: the low bit, the high bit, and all bits.
    let flips = [0x01u8, 0x80, 0xff];
    let positions: Vec<usize> = (0..bytes.len()).collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let missed: Vec<(usize, u8)> = std::thread::scope(|s| {
        positions
            .chunks(positions.len().div_ceil(threads))
            .map(|part| {
                let bytes = &bytes;
                s.spawn(move || {
                    let mut missed = Vec::new();
                    let mut copy = bytes.clone();
                    for &i in part {
                        for flip in flips {
                            copy[i] ^= flip;
                            match custody::verify_bytes(&copy, &VerifyOptions::default()) {
                                Err(Error::Invalid(_)) => {}
                                _ => missed.push((i, flip)),
                            }
                            copy[i] ^= flip;
                        }
                    }
                    missed
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        missed.is_empty(),
        "undetected changes (position, xor): {missed:?}"
    );
}

#[test]
fn the_cli_exits_1_for_changed_bytes() {
    let (tmp, bytes) = exported_ledger();
    // A sample across the file through the binary; the library test above covers all.
    for i in (0..bytes.len()).step_by(bytes.len() / 12) {
        let mut copy = bytes.clone();
        copy[i] ^= 0x04;
        let path = tmp.path().join("t.cbor");
        std::fs::write(&path, &copy).unwrap();
        let r = common::custody(tmp.path(), &["verify", "t.cbor"]);
        assert_eq!(r.code, 1, "position {i}: {}", r.stderr);
        assert!(
            r.stderr.contains("ledger invalid at entry "),
            "{}",
            r.stderr
        );
    }
}
