//! Partial exports: what they disclose verifies, and every way of lying
//! with one is caught: re-redacting, made-up leaves, a publisher that is no
//! owner (or no longer one), a withheld revocation, mixed forks.

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

/// The withheld form of an entry: its leaf hash as a 32-byte string.
fn withheld(entry: &[u8]) -> Vec<u8> {
    let mut w = vec![0x58, 0x20];
    w.extend_from_slice(&custody::leaf_hash(entry));
    w
}

fn export(f: &Fixture, out: &str, key: &str, selectors: &[&str]) -> common::Run {
    let mut args = vec!["export", "L", "--out", out, "--key", key];
    for s in selectors {
        args.extend(["--disclose", s]);
    }
    custody(f.dir(), &args)
}

/// A small pipeline: an appender's data with a restrictive upstream
/// license, and the owner's weights (not released) and component map.
/// Entries: 0 genesis, 1 grant, 2 raw, 3 custody (private), 4 license raw,
/// 5 clean, 6 transformation, 7 license clean, 8 release clean, 9 weights,
/// 10 release weights, 11 and 12 components.
fn setup() -> (Fixture, Vec<u8>) {
    let f = Fixture::new();
    f.append_ok(
        "appender.key",
        &[
            r#"{"type":"artifact","id":"raw","kind":"data"}"#,
            r#"{"type":"custody","artifact":"raw","from":"vendor-secret","to":"data team"}"#,
            r#"{"type":"license","artifact":"raw","license":"LicenseRef-OPT-Data"}"#,
            r#"{"type":"artifact","id":"clean","kind":"data"}"#,
            r#"{"type":"transformation","operation":"filter","inputs":["raw"],"outputs":["clean"],"tool":"secret-filter"}"#,
            r#"{"type":"license","artifact":"clean","license":"CC-BY-4.0"}"#,
            r#"{"type":"release","artifact":"clean","access":"public"}"#,
        ]
        .join("\n"),
    );
    f.append_ok(
        "owner.key",
        &[
            r#"{"type":"artifact","id":"w","kind":"weights"}"#,
            r#"{"type":"release","artifact":"w","access":"none"}"#,
            r#"{"type":"component","component":"pretraining-data","artifacts":["clean"]}"#,
            r#"{"type":"component","component":"weights","artifacts":["w"]}"#,
        ]
        .join("\n"),
    );
    let r = export(&f, "p.custody", "owner.key", &["openness"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("12 of 13 entries disclosed, 1 withheld"),
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

fn openness(f: &Fixture, bytes: &[u8]) -> (i32, Value) {
    std::fs::write(f.path("o.custody"), bytes).unwrap();
    let r = custody(f.dir(), &["openness", "o.custody", "--json"]);
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
    assert_eq!(v["withheld"], 1);
    assert_eq!(v["entries"], 13);
    assert_eq!(v["partial"]["selectors"], serde_json::json!(["openness"]));
    assert_eq!(v["partial"]["checkpoint"]["size"], 13);
    let full = custody(f.dir(), &["openness", "L", "--json"]).stdout;
    let part = custody(f.dir(), &["openness", "p.custody", "--json"]).stdout;
    let (mut full, mut part): (Value, Value) = (
        serde_json::from_str(&full).unwrap(),
        serde_json::from_str(&part).unwrap(),
    );
    assert_eq!(part["withheld"], 1);
    for v in [&mut full, &mut part] {
        let m = v.as_object_mut().unwrap();
        for k in ["withheld", "source", "partial"] {
            m.remove(k);
        }
    }
    // Every component is covered by `openness`: the levels, evidence and
    // warnings are the whole ledger's, none marked as resting on withheld entries.
    assert_eq!(full, part);
    assert_eq!(part["components"]["pretraining-data"]["level"], "D3");
    assert_eq!(part["components"]["weights"]["level"], "D1");
    // The text says what was withheld, under which selectors, and the checkpoint.
    let text = custody(f.dir(), &["verify", "p.custody"]).stdout;
    assert!(
        text.contains("12 of 13 entries disclosed, 1 withheld"),
        "{text}"
    );
    assert!(text.contains("disclosed under: openness"), "{text}");
    assert!(text.contains("checkpoint: `custody/fixture/"), "{text}");
    assert!(text.contains("13 entries, root "), "{text}");
    let md = custody(f.dir(), &["openness", "p.custody", "--markdown"]).stdout;
    assert!(
        md.contains("a partial export: 1 of 13 entries withheld"),
        "{md}"
    );
    // The private hand-over is not in the file; the lineage is.
    let s = String::from_utf8_lossy(&bytes);
    assert!(!s.contains("vendor-secret") && s.contains("secret-filter"));
    // `log` lists the disclosed entries; commands that need every entry refuse it.
    let r = custody(f.dir(), &["log", "p.custody"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 12);
    assert_eq!(custody(f.dir(), &["import", "p.custody", "M"]).code, 2);
    assert_eq!(
        custody(f.dir(), &["export", "p.custody", "--out", "w.custody"]).code,
        2
    );
}

/// Attack 1: re-redacting a genuine partial export, with no key, to hide
/// what lowers a level.
#[test]
fn re_redacting_a_partial_export_fails_and_raises_nothing() {
    let (f, bytes) = setup();
    let (header, items) = split(&bytes);
    // Withhold raw's license (entry 4): its restriction would vanish.
    let mut it = items.clone();
    it[4] = withheld(&items[4]);
    let (code, v) = verify(&f, &join(&header, &it));
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["reason"], "bad-disclosure");
    assert_eq!(v["error"]["seq"], 13);
    assert_eq!(v["entries"], 13);
    let (code, o) = openness(&f, &join(&header, &it));
    assert_eq!(code, 1);
    assert!(o.get("components").is_none());
    // Withhold the weights' release (10): D1 would become `?`.
    let mut it = items.clone();
    it[10] = withheld(&items[10]);
    assert_eq!(
        verify(&f, &join(&header, &it)).1["error"]["reason"],
        "bad-disclosure"
    );
}

/// Attack 1: a partial export built from scratch from a whole export and a
/// checkpoint the owner published, by someone without the owner's key.
#[test]
fn a_partial_export_forged_from_a_published_checkpoint_fails() {
    let (f, bytes) = setup();
    let (_, items) = split(&bytes);
    // The stranger's own export of the same ledger (it can read it).
    let r = export(&f, "q.custody", "stranger.key", &["openness"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("is not an owner"), "{}", r.stderr);
    assert!(!f.path("q.custody").exists());
    // Crafted by hand: the owner's published checkpoint, the stranger's statement.
    let cp = custody(f.dir(), &["checkpoint", "L", "--key", "owner.key"]).stdout;
    let stranger = custody::read_signing_key(&f.path("stranger.key")).unwrap();
    let header = craft_header(&cp, &items, &stranger, &["openness"]);
    let mut it = items.clone();
    it[4] = withheld(&items[4]);
    let (code, v) = verify(&f, &join(&header, &it));
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["reason"], "bad-disclosure");
}

/// A header written from TRANSPARENCY.md §7: the checkpoint note as given,
/// a statement of `items`' disclosure map signed by `key`.
fn craft_header(
    note: &str,
    items: &[Vec<u8>],
    key: &custody::SigningKey,
    sels: &[&str],
) -> Vec<u8> {
    use ciborium::value::Value as C;
    use ed25519_dalek::Signer;
    use sha2::{Digest, Sha256};
    let cp = custody::Checkpoint::parse_unverified(note).unwrap();
    let mut bits = vec![0u8; items.len().div_ceil(8)];
    for (i, it) in items.iter().enumerate() {
        if it[0] == 0x82 {
            bits[i / 8] |= 1 << (i % 8);
        }
    }
    let mut h = Sha256::new();
    h.update(b"custody/v2/disclosure-map\0");
    h.update(&bits);
    let map: [u8; 32] = h.finalize().into();
    // Keys in deterministic order (shorter first).
    let statement = cbor(&C::Map(vec![
        (C::Text("map".into()), C::Bytes(map.to_vec())),
        (C::Text("root".into()), C::Bytes(cp.root.to_vec())),
        (C::Text("size".into()), C::Integer(cp.size.into())),
        (C::Text("origin".into()), C::Text(cp.origin.clone())),
        (
            C::Text("selectors".into()),
            C::Array(sels.iter().map(|s| C::Text(s.to_string())).collect()),
        ),
    ]));
    let mut signed = b"custody/v2/partial-export\0".to_vec();
    signed.extend_from_slice(&statement);
    let sig = key.sign(&signed).to_bytes();
    cbor(&C::Map(vec![
        (
            C::Text("format".into()),
            C::Text("custody-partial/v2".into()),
        ),
        (
            C::Text("publisher".into()),
            C::Bytes(key.verifying_key().to_bytes().to_vec()),
        ),
        (C::Text("signature".into()), C::Bytes(sig.to_vec())),
        (C::Text("statement".into()), C::Bytes(statement)),
        (C::Text("checkpoint".into()), C::Text(note.to_string())),
    ]))
}

fn cbor(v: &ciborium::value::Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).unwrap();
    out
}

/// Attack 1: made-up withheld leaves, and entries from two forks.
#[test]
fn made_up_leaves_and_mixed_forks_fail() {
    let (f, bytes) = setup();
    let (header, items) = split(&bytes);
    let pos = items.iter().position(|i| i[0] == 0x58).unwrap();
    let mut it = items.clone();
    it[pos][10] ^= 0x80;
    let (code, v) = verify(&f, &join(&header, &it));
    assert_eq!(code, 1);
    assert_eq!(v["error"]["reason"], "bad-disclosure");
    // Dropping one item shifts the entries after it; adding one exceeds
    // the checkpoint's size.
    let mut fewer = items.clone();
    fewer.remove(pos);
    assert_eq!(
        verify(&f, &join(&header, &fewer)).1["error"]["reason"],
        "bad-sequence"
    );
    let mut more = items.clone();
    more.push(items[pos].clone());
    assert_eq!(
        verify(&f, &join(&header, &more)).1["error"]["reason"],
        "bad-disclosure"
    );
    // A made-up entry in the withheld position (signed by the appender, of
    // this ledger, well linked): everything checks but the tree.
    let key = custody::read_signing_key(&f.path("appender.key")).unwrap();
    let e2 = custody::decode_entry(&items[2]).unwrap();
    let fake = custody::sign_entry(
        &key,
        &custody::EntryHeader {
            seq: 3,
            prev: Some(*e2.hash()),
            ledger: e2.ledger().copied(),
            time: e2.time(),
            roles: 2,
        },
        &serde_json::json!({"type":"custody","artifact":"raw","from":"someone else","to":"data team"}),
    )
    .unwrap();
    let mut it = items.clone();
    it[3] = fake;
    let (code, v) = verify(&f, &join(&header, &it));
    assert_eq!(code, 1, "{v}");
    assert!(
        ["bad-prev", "bad-disclosure"].contains(&v["error"]["reason"].as_str().unwrap()),
        "{v}"
    );
}

/// Attack 2: after A grants B ownership and B revokes A, B's partial
/// exports verify and A's do not, even with the revocation hidden.
#[test]
fn a_revoked_owner_no_longer_controls_partial_exports() {
    let (f, _) = setup();
    let r = custody(f.dir(), &["keygen", "--out", "b.key"]);
    let b = r.stdout.trim().to_string();
    f.append_ok(
        "owner.key",
        &format!(r#"{{"type":"grant","key":"{b}","role":"owner"}}"#),
    );
    f.append_ok(
        "b.key",
        &format!(r#"{{"type":"revoke","key":"{}"}}"#, f.owner),
    );
    f.append_ok(
        "b.key",
        r#"{"type":"release","artifact":"w","access":"paid-api"}"#,
    );
    // B, an owner granted after genesis, publishes: it verifies.
    let r = export(&f, "b.custody", "b.key", &["openness"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bytes = std::fs::read(f.path("b.custody")).unwrap();
    let (code, v) = verify(&f, &bytes);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["partial"]["publisher"], b);
    let (_, o) = openness(&f, &bytes);
    assert_eq!(o["components"]["weights"]["level"], "D2");
    // A, revoked, cannot export.
    let r = export(&f, "a.custody", "owner.key", &["openness"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not an owner"), "{}", r.stderr);
    // A crafts one by hand, hiding its revocation (entry 14): the last
    // entry's `roles` counts it.
    let (_, items) = split(&bytes);
    let mut it = items.clone();
    it[14] = withheld(&items[14]);
    let a = custody::read_signing_key(&f.path("owner.key")).unwrap();
    let bcp = custody::Checkpoint::parse_unverified(
        &custody(f.dir(), &["checkpoint", "L", "--key", "b.key"]).stdout,
    )
    .unwrap();
    let cp = custody::sign_note(&bcp.text(), &bcp.origin, &a).unwrap();
    let header = craft_header(&cp, &it, &a, &["openness"]);
    let (code, v) = verify(&f, &join(&header, &it));
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["reason"], "bad-roles");
    // Hiding the last entry too is refused: the last entry is always disclosed.
    let mut it2 = it.clone();
    let last = it2.len() - 1;
    it2[last] = withheld(&items[last]);
    let header = craft_header(&cp, &it2, &a, &["openness"]);
    let (code, v) = verify(&f, &join(&header, &it2));
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["reason"], "bad-disclosure");
    // Without hiding anything, A is simply not an owner at that size.
    let header = craft_header(&cp, &items, &a, &["openness"]);
    let (code, v) = verify(&f, &join(&header, &items));
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["reason"], "bad-disclosure");
    assert!(
        v["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("is not an owner"),
        "{v}"
    );
}

/// Levels that withheld entries could change are marked, in every form.
#[test]
fn levels_that_could_rest_on_withheld_entries_are_marked() {
    let (f, _) = setup();
    let r = export(
        &f,
        "t.custody",
        "owner.key",
        &["type:license", "component:weights"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = custody(f.dir(), &["openness", "t.custody", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["partial"]["selectors"],
        serde_json::json!(["type:license", "component:weights"])
    );
    let pd = &v["components"]["pretraining-data"];
    assert_eq!(pd["may_depend_on_withheld"], true);
    assert!(pd["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("partial export")));
    assert_eq!(v["components"]["weights"]["may_depend_on_withheld"], false);
    assert_eq!(v["components"]["weights"]["level"], "D1");
    let text = custody(f.dir(), &["openness", "t.custody"]).stdout;
    assert!(text.contains("D1  ") || text.contains("D1\n"), "{text}");
    assert!(text.contains("?*"), "{text}");
    assert!(text.contains("type:license, component:weights"), "{text}");
    let md = custody(f.dir(), &["openness", "t.custody", "--markdown"]).stdout;
    assert!(md.contains("?\\*"), "{md}");
    assert!(md.contains("withheld"), "{md}");
}

/// The exporter never writes what would not verify.
#[test]
fn the_exporter_refuses_what_would_not_verify() {
    let (f, _) = setup();
    let r = export(&f, "a.custody", "appender.key", &["openness"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not an owner"), "{}", r.stderr);
    assert!(!f.path("a.custody").exists());
    let r = custody(
        f.dir(),
        &[
            "export",
            "L",
            "--out",
            "o.custody",
            "--disclose",
            "openness",
            "--key",
            "owner.key",
            "--origin",
            "x",
        ],
    );
    assert_eq!(r.code, 2, "--origin is not an option of export");
    let r = export(&f, "s.custody", "owner.key", &["nonsense"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not a selector"), "{}", r.stderr);
}

/// Attack 7: a partial export is checked against a checkpoint the third
/// party holds.
#[test]
fn a_partial_export_is_checked_against_a_held_checkpoint() {
    let (f, bytes) = setup();
    std::fs::write(f.path("p.custody"), &bytes).unwrap();
    let cp = custody(f.dir(), &["checkpoint", "L", "--key", "owner.key"]).stdout;
    std::fs::write(f.path("cp.txt"), &cp).unwrap();
    let origin = cp.lines().next().unwrap().to_string();
    let vkey = custody(f.dir(), &["vkey", "--key", "owner.key", "--name", &origin])
        .stdout
        .trim()
        .to_string();
    let r = custody(
        f.dir(),
        &[
            "verify",
            "p.custody",
            "--checkpoint",
            "cp.txt",
            "--vkey",
            &vkey,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("consistent with the checkpoint of 13 entries"),
        "{}",
        r.stdout
    );
    // A fork of the held checkpoint: a ledger grown differently from entry 5.
    f.append_ok(
        "owner.key",
        r#"{"type":"artifact","id":"later","kind":"code"}"#,
    );
    let later = custody(f.dir(), &["checkpoint", "L", "--key", "owner.key"]).stdout;
    std::fs::write(f.path("later.txt"), &later).unwrap();
    let r = custody(
        f.dir(),
        &[
            "verify",
            "p.custody",
            "--checkpoint",
            "later.txt",
            "--vkey",
            &vkey,
            "--json",
        ],
    );
    assert_eq!(r.code, 1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["error"]["reason"], "truncated");
    assert_eq!(v["error"]["seq"], 13);
    assert_eq!(v["entries"], 13);
}
