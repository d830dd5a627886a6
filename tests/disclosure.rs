//! Partial exports: what they disclose verifies, and every way of lying
//! with one is caught.

mod common;

use common::{custody, Fixture};
use serde_json::Value;

/// Splits a partial export into its header and items.
fn split(bytes: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut r = bytes;
    let _: ciborium::value::Value = ciborium::de::from_reader(&mut r).unwrap();
    let hlen = bytes.len() - r.len();
    let mut items = Vec::new();
    let mut i = hlen;
    while i < bytes.len() {
        let len = if bytes[i] == 0x58 {
            34
        } else {
            let (hl, bl) = match bytes[i + 1] {
                b @ 0x40..=0x57 => (1, (b - 0x40) as usize),
                0x58 => (2, bytes[i + 2] as usize),
                0x59 => (3, u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize),
                _ => panic!("unexpected head"),
            };
            1 + hl + bl + 2 + 64
        };
        items.push(bytes[i..i + len].to_vec());
        i += len;
    }
    (bytes[..hlen].to_vec(), items)
}

fn join(header: &[u8], items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = header.to_vec();
    for i in items {
        out.extend_from_slice(i);
    }
    out
}

/// A small pipeline ledger and a partial export of it disclosing licenses and releases.
fn setup() -> (Fixture, Vec<u8>) {
    let f = Fixture::new();
    f.append_ok(
        "appender.key",
        &[
            r#"{"type":"artifact","id":"raw","kind":"data","uri":"s3://private/raw"}"#,
            r#"{"type":"custody","artifact":"raw","from":"vendor","to":"data team"}"#,
            r#"{"type":"license","artifact":"raw","license":"LicenseRef-OPT-Data"}"#,
            r#"{"type":"artifact","id":"clean","kind":"data"}"#,
            r#"{"type":"transformation","operation":"filter","inputs":["raw"],"outputs":["clean"],"tool":"secret-filter"}"#,
            r#"{"type":"license","artifact":"clean","license":"CC-BY-4.0"}"#,
            r#"{"type":"release","artifact":"clean","access":"public"}"#,
            r#"{"type":"component","component":"pretraining-data","artifacts":["clean"]}"#,
            r#"{"type":"component","component":"weights","applicable":false}"#,
        ]
        .join("\n"),
    );
    let r = custody(
        f.dir(),
        &[
            "export",
            "L",
            "--out",
            "p.custody",
            "--disclose",
            "openness",
            "--key",
            "owner.key",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("8 of 11 entries disclosed, 3 withheld"),
        "{}",
        r.stdout
    );
    let bytes = std::fs::read(f.path("p.custody")).unwrap();
    (f, bytes)
}

fn verify(f: &Fixture, bytes: &[u8]) -> (i32, Value) {
    std::fs::write(f.path("x.custody"), bytes).unwrap();
    let r = custody(f.dir(), &["verify", "x.custody", "--json"]);
    (
        r.code,
        serde_json::from_str(&r.stdout).unwrap_or(Value::Null),
    )
}

#[test]
fn a_partial_export_verifies_and_gives_the_same_openness() {
    let (f, bytes) = setup();
    let (code, v) = verify(&f, &bytes);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["withheld"], 3);
    assert_eq!(v["entries"], 11);
    let full = custody(f.dir(), &["openness", "L", "--json"]).stdout;
    let part = custody(f.dir(), &["openness", "p.custody", "--json"]).stdout;
    let (mut full, mut part): (Value, Value) = (
        serde_json::from_str(&full).unwrap(),
        serde_json::from_str(&part).unwrap(),
    );
    assert_eq!(part["withheld"], 3);
    for v in [&mut full, &mut part] {
        let m = v.as_object_mut().unwrap();
        m.remove("withheld");
        m.remove("source");
    }
    // The propagated restriction survives: the lineage was disclosed, the custody and declarations were not.
    assert_eq!(full, part);
    assert_eq!(part["components"]["pretraining-data"]["level"], "D3");
    let text = custody(f.dir(), &["openness", "p.custody"]).stdout;
    assert!(
        text.contains("a partial export, 3 of 11 entries withheld"),
        "{text}"
    );
    // The private details are not in the file.
    let s = String::from_utf8_lossy(&bytes);
    assert!(
        !s.contains("s3://private/raw") && !s.contains("vendor") && s.contains("secret-filter")
    );
    // Commands that need whole entries refuse it.
    assert_eq!(custody(f.dir(), &["log", "p.custody"]).code, 2);
    assert_eq!(custody(f.dir(), &["import", "p.custody", "M"]).code, 2);
}

#[test]
fn a_tampered_disclosed_entry_is_rejected() {
    let (f, bytes) = setup();
    let (header, mut items) = split(&bytes);
    let pos = items
        .iter()
        .position(|i| i[0] == 0x82 && String::from_utf8_lossy(i).contains("CC-BY-4.0"))
        .unwrap();
    let n = items[pos].len();
    items[pos][n - 70] ^= 0x01;
    let (code, v) = verify(&f, &join(&header, &items));
    assert_eq!(code, 1);
    assert_eq!(v["error"]["seq"], pos);
}

#[test]
fn an_altered_withheld_hash_is_rejected() {
    let (f, bytes) = setup();
    let (header, mut items) = split(&bytes);
    let pos = items.iter().position(|i| i[0] == 0x58).unwrap();
    items[pos][10] ^= 0x80;
    let (code, v) = verify(&f, &join(&header, &items));
    assert_eq!(code, 1);
    assert_eq!(v["error"]["reason"], "bad-disclosure");
    // Dropping one, or adding one, is caught the same way.
    let mut fewer = items.clone();
    fewer.remove(pos);
    assert_eq!(verify(&f, &join(&header, &fewer)).0, 1);
}

#[test]
fn a_withheld_entry_claimed_disclosed_is_rejected() {
    let (f, bytes) = setup();
    let (header, mut items) = split(&bytes);
    // Withheld entry 3 (the custody event) replaced by a made-up entry, correctly signed by
    // the appender at that position, of this ledger: everything checks but the tree.
    assert_eq!(items[3][0], 0x58);
    let key = custody::read_signing_key(&f.path("appender.key")).unwrap();
    assert_eq!(
        custody(f.dir(), &["log", "L", "--seq", "2", "--out", "e2"]).code,
        0
    );
    let decoded = custody::decode_entry(&std::fs::read(f.path("e2")).unwrap()).unwrap();
    let fake = custody::sign_entry(
        &key,
        &custody::EntryHeader {
            seq: 3,
            prev: Some(*decoded.hash()),
            ledger: decoded.ledger().copied(),
            time: decoded.time(),
        },
        &serde_json::json!({"type":"custody","artifact":"raw","from":"someone else","to":"data team"}),
    )
    .unwrap();
    items[3] = fake;
    let (code, v) = verify(&f, &join(&header, &items));
    assert_eq!(code, 1, "{v}");
    // The next entry, disclosed, names the real entry 3 as its predecessor;
    // were it withheld too, the tree's root would not match.
    assert!(
        ["bad-prev", "bad-disclosure"].contains(&v["error"]["reason"].as_str().unwrap()),
        "{v}"
    );
}

#[test]
fn a_wrong_checkpoint_is_rejected() {
    let (f, bytes) = setup();
    let (_header, items) = split(&bytes);
    // A checkpoint of the same ledger by a key that is not its owner's.
    let r = custody(
        f.dir(),
        &[
            "export",
            "L",
            "--out",
            "q.custody",
            "--disclose",
            "openness",
            "--key",
            "stranger.key",
        ],
    );
    assert_eq!(r.code, 0);
    let (header_q, _) = split(&std::fs::read(f.path("q.custody")).unwrap());
    let (code, v) = verify(&f, &join(&header_q, &items));
    assert_eq!(code, 1);
    assert_eq!(v["error"]["reason"], "bad-disclosure");
    // A checkpoint of the ledger as it was later: another size, another root.
    f.append_ok(
        "owner.key",
        r#"{"type":"artifact","id":"later","kind":"code"}"#,
    );
    let r = custody(
        f.dir(),
        &[
            "export",
            "L",
            "--out",
            "later.custody",
            "--disclose",
            "openness",
            "--key",
            "owner.key",
        ],
    );
    assert_eq!(r.code, 0);
    let (header_later, _) = split(&std::fs::read(f.path("later.custody")).unwrap());
    let (code, v) = verify(&f, &join(&header_later, &items));
    assert_eq!(code, 1);
    assert_eq!(v["error"]["reason"], "bad-disclosure");
}
