//! Generates the ledger test vectors in this directory from fixed keys.
//!
//! Run `cargo run --example make-vectors` to rewrite them; the `vectors`
//! test regenerates them in memory and insists the files are identical, so
//! a vector can never drift from this program.
//!
//! THE KEYS BELOW ARE FIXED ON PURPOSE AND PUBLIC: test keys, never to be
//! used for anything else.

use custody::{entry_hash, sign_entry, EntryHeader, Hash, SigningKey, SIGNATURE_DOMAIN};
use ed25519_dalek::Signer;
use serde_json::{json, Value};

/// Fixed test keys (seed bytes all 1, 2, 3, 4).
pub fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

/// 2026-01-01T00:00:00Z, plus the entry number, as every vector's clock.
const T0: u64 = 1_767_225_600;

/// One vector: its name, its bytes and what a verifier must say.
pub struct Case {
    pub name: &'static str,
    pub description: &'static str,
    pub bytes: Vec<u8>,
    pub expect: Value,
}

fn pubhex(k: &SigningKey) -> String {
    hex::encode(k.verifying_key().as_bytes())
}

/// Builds a chain of correctly linked, correctly signed entries, each event
/// signed by the key given beside it. No ledger rule is checked here.
fn chain(events: &[(u8, Value)]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut prev: Option<Hash> = None;
    let mut id: Option<Hash> = None;
    for (seq, (signer, event)) in events.iter().enumerate() {
        let header = EntryHeader {
            seq: seq as u64,
            prev,
            ledger: id,
            time: T0 + seq as u64,
        };
        let bytes = sign_entry(&key(*signer), &header, event).expect("vector entry");
        let h = entry_hash(&bytes);
        prev = Some(h);
        id = id.or(Some(h));
        out.push(bytes);
    }
    out
}

/// The events of the main valid ledger: a small pipeline with an appender
/// that is later revoked. Key 1 is the owner, key 2 the appender.
fn pipeline() -> Vec<(u8, Value)> {
    let d = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    vec![
        (1, json!({"type": "genesis", "name": "vector ledger"})),
        (
            1,
            json!({"type": "grant", "key": pubhex(&key(2)), "role": "appender"}),
        ),
        (
            2,
            json!({"type": "artifact", "id": "raw", "kind": "data", "digest": d('a'), "uri": "https://data.example/raw", "size": 1024}),
        ),
        (
            2,
            json!({"type": "custody", "artifact": "raw", "from": "https://data.example", "to": "data team"}),
        ),
        (
            2,
            json!({"type": "artifact", "id": "clean", "kind": "data", "digest": d('b')}),
        ),
        (
            2,
            json!({"type": "transformation", "operation": "dedup", "inputs": ["raw"], "outputs": ["clean"], "tool": "dedup 1.0", "parameters": {"threshold": 0.85, "shingle": 5}}),
        ),
        (
            2,
            json!({"type": "artifact", "id": "teacher", "kind": "weights"}),
        ),
        (
            2,
            json!({"type": "artifact", "id": "synthetic", "kind": "data"}),
        ),
        (
            2,
            json!({"type": "augmentation", "method": "synthetic", "inputs": ["clean"], "outputs": ["synthetic"], "generator": "teacher"}),
        ),
        (
            2,
            json!({"type": "license", "artifact": "raw", "license": "ODC-By-1.0"}),
        ),
        (
            2,
            json!({"type": "license", "artifact": "teacher", "license": {"name": "Teacher terms", "terms": {"research": true, "commercial": false, "modify": true, "copyright_derivative": true, "other_license_derivative": false}}}),
        ),
        (
            2,
            json!({"type": "release", "artifact": "clean", "access": "public", "note": "mirrored"}),
        ),
        (
            2,
            json!({"type": "component", "component": "pretraining-data", "artifacts": ["clean", "synthetic"]}),
        ),
        (
            2,
            json!({"type": "component", "component": "alignment-data", "applicable": false}),
        ),
        (1, json!({"type": "revoke", "key": pubhex(&key(2))})),
        (
            1,
            json!({"type": "release", "artifact": "raw", "access": "none"}),
        ),
    ]
}

fn cat(entries: &[Vec<u8>]) -> Vec<u8> {
    entries.concat()
}

/// Wraps already-encoded body bytes into a signed entry, bypassing the
/// encoder (for the non-canonical and bad-body vectors).
fn raw_entry(k: &SigningKey, body: &[u8]) -> Vec<u8> {
    let mut msg = SIGNATURE_DOMAIN.to_vec();
    msg.extend_from_slice(body);
    let sig = k.sign(&msg).to_bytes();
    let mut out = vec![0x82];
    bstr_head(body.len(), &mut out);
    out.extend_from_slice(body);
    out.extend_from_slice(&[0x58, 0x40]);
    out.extend_from_slice(&sig);
    out
}

fn bstr_head(n: usize, out: &mut Vec<u8>) {
    match n {
        0..=23 => out.push(0x40 | n as u8),
        24..=255 => out.extend_from_slice(&[0x58, n as u8]),
        256..=65535 => {
            out.push(0x59);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(0x5a);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
}

/// The body bytes of an entry made by the encoder (its first byte string).
fn body_of(entry: &[u8]) -> Vec<u8> {
    let (start, len) = match entry[1] {
        b @ 0x40..=0x57 => (2, (b - 0x40) as usize),
        0x58 => (3, entry[2] as usize),
        0x59 => (4, u16::from_be_bytes([entry[2], entry[3]]) as usize),
        _ => panic!("unexpected body head"),
    };
    entry[start..start + len].to_vec()
}

fn replace_once(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let pos = hay
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present");
    [&hay[..pos], with, &hay[pos + needle.len()..]].concat()
}

fn valid(entries: &[Vec<u8>]) -> Value {
    json!({
        "valid": true,
        "entries": entries.len(),
        "head": hex::encode(entry_hash(entries.last().expect("entries"))),
    })
}

fn invalid(seq: u64, reason: &str) -> Value {
    json!({"valid": false, "seq": seq, "reason": reason, "entries": seq})
}

/// Every vector.
pub fn cases() -> Vec<Case> {
    let good = chain(&pipeline());
    let mut cases = Vec::new();
    let mut add = |name, description, bytes: Vec<u8>, expect| {
        cases.push(Case {
            name,
            description,
            bytes,
            expect,
        })
    };

    let genesis_only = chain(&pipeline()[..1]);
    add(
        "valid-genesis-only",
        "a ledger holding only its genesis entry",
        cat(&genesis_only),
        valid(&genesis_only),
    );
    add("valid-pipeline", "a small pipeline: grant, artifacts, custody, dedup, synthetic augmentation, licenses, releases, components, revoke", cat(&good), valid(&good));

    let mut e = good.clone();
    // Flip one byte of the event text ("raw" in the uri), keeping the CBOR valid.
    let body = body_of(&e[2]);
    let changed = replace_once(&body, b"data.example", b"data.exbmple");
    e[2] = replace_once(&e[2], &body, &changed);
    add(
        "changed-event-byte",
        "one byte of entry 2's event changed; still canonical CBOR",
        cat(&e),
        invalid(2, "bad-signature"),
    );

    let mut e = good.clone();
    let n = e[3].len();
    e[3][n - 1] ^= 0x01;
    add(
        "changed-signature",
        "the last byte of entry 3's signature changed",
        cat(&e),
        invalid(3, "bad-signature"),
    );

    let mut e = good.clone();
    let body = body_of(&e[4]);
    let prev = entry_hash(&e[3]);
    let mut wrong = prev;
    wrong[0] ^= 0x01;
    let changed = replace_once(&body, &prev, &wrong);
    e[4] = replace_once(&e[4], &body, &changed);
    add(
        "changed-prev",
        "one byte of entry 4's previous-entry hash changed",
        cat(&e),
        invalid(4, "bad-prev"),
    );

    let mut e = good.clone();
    e.remove(5);
    add(
        "dropped-entry",
        "entry 5 removed",
        cat(&e),
        invalid(5, "bad-sequence"),
    );

    let mut e = good.clone();
    e.swap(5, 6);
    add(
        "reordered",
        "entries 5 and 6 swapped",
        cat(&e),
        invalid(5, "bad-sequence"),
    );

    let mut e = good.clone();
    let dup = e[5].clone();
    e.insert(6, dup);
    add(
        "duplicated",
        "entry 5 appears twice",
        cat(&e),
        invalid(6, "bad-sequence"),
    );

    // Another ledger, same keys and events but another name: its entries carry another ledger id.
    let mut other_events = pipeline();
    other_events[0].1 = json!({"type": "genesis", "name": "another ledger"});
    let other = chain(&other_events);
    let mut e = good.clone();
    e[1] = other[1].clone();
    add(
        "spliced",
        "entry 1 taken from another ledger with the same keys",
        cat(&e),
        invalid(1, "bad-ledger-id"),
    );

    let mut e = good.clone();
    // "v": 1 written as a two-byte integer, and signed that way.
    let body = body_of(&e[3]);
    let nc = replace_once(&body, &[0x61, b'v', 0x01], &[0x61, b'v', 0x18, 0x01]);
    e[3] = raw_entry(&key(2), &nc);
    add(
        "non-canonical",
        "entry 3's body encodes an integer in a longer form than needed, and is signed so",
        cat(&e),
        invalid(3, "non-canonical"),
    );

    let mut e = good.clone();
    let body = body_of(&e[3]);
    // Body map of 7 pairs (0xa7) grows to 8 with an extra "x": 0 pair right
    // after "v": 1, so the keys stay in deterministic order.
    assert_eq!(&body[..4], &[0xa7, 0x61, b'v', 0x01]);
    let extra = [
        &[0xa8u8, 0x61, b'v', 0x01, 0x61, b'x', 0x00][..],
        &body[4..],
    ]
    .concat();
    e[3] = raw_entry(&key(2), &extra);
    add(
        "bad-body",
        "entry 3's body carries an unknown field",
        cat(&e),
        invalid(3, "bad-body"),
    );

    let mut e = good.clone();
    let body = body_of(&e[3]);
    let v2 = replace_once(&body, &[0x61, b'v', 0x01], &[0x61, b'v', 0x02]);
    e[3] = raw_entry(&key(2), &v2);
    add(
        "unsupported-version",
        "entry 3 claims format version 2",
        cat(&e),
        invalid(3, "unsupported-version"),
    );

    let mut ev = pipeline();
    ev[3].0 = 3;
    add(
        "unauthorized-signer",
        "entry 3 is signed by a key that was never granted a role",
        cat(&chain(&ev)),
        invalid(3, "unauthorized"),
    );

    let mut ev = pipeline();
    ev.insert(
        3,
        (
            2,
            json!({"type": "grant", "key": pubhex(&key(3)), "role": "owner"}),
        ),
    );
    add(
        "appender-grants",
        "an appender signs a grant",
        cat(&chain(&ev)),
        invalid(3, "unauthorized"),
    );

    let mut ev = pipeline();
    ev.push((
        2,
        json!({"type": "release", "artifact": "synthetic", "access": "public"}),
    ));
    let n = ev.len() as u64 - 1;
    add(
        "revoked-signer",
        "the appender signs after its key was revoked",
        cat(&chain(&ev)),
        invalid(n, "revoked"),
    );

    let mut ev = pipeline();
    ev[0].1 = json!({"type": "artifact", "id": "raw0", "kind": "data"});
    add(
        "bad-genesis",
        "the first entry is not a genesis event",
        cat(&chain(&ev)),
        invalid(0, "bad-genesis"),
    );

    let mut ev = pipeline();
    ev.insert(2, (1, json!({"type": "genesis", "name": "again"})));
    add(
        "second-genesis",
        "a genesis event at entry 2",
        cat(&chain(&ev)),
        invalid(2, "bad-genesis"),
    );

    let mut ev = pipeline();
    ev.insert(
        4,
        (
            2,
            json!({"type": "custody", "artifact": "nowhere", "from": "a", "to": "b"}),
        ),
    );
    add(
        "unknown-artifact",
        "entry 4 names an artifact never declared",
        cat(&chain(&ev)),
        invalid(4, "rule-violation"),
    );

    let mut ev = pipeline();
    ev.insert(7, (2, json!({"type": "transformation", "operation": "filter", "inputs": ["clean"], "outputs": ["raw"]})));
    add(
        "lineage-cycle",
        "entry 7 derives `raw` from its own descendant",
        cat(&chain(&ev)),
        invalid(7, "rule-violation"),
    );

    let mut ev = pipeline();
    ev.insert(3, (2, json!({"type": "teleport", "artifact": "raw"})));
    add(
        "bad-event",
        "entry 3's event has an unknown type",
        cat(&chain(&ev)),
        invalid(3, "bad-event"),
    );

    add(
        "empty",
        "a file with no entries",
        Vec::new(),
        invalid(0, "empty"),
    );

    let mut b = cat(&good);
    b.truncate(b.len() - 10);
    add(
        "truncated",
        "the file ends in the middle of the last entry",
        b,
        invalid(good.len() as u64 - 1, "malformed"),
    );

    let mut b = cat(&good);
    b.push(0x00);
    add(
        "trailing-byte",
        "one stray byte after the last entry",
        b,
        invalid(good.len() as u64, "malformed"),
    );

    let mut b = cat(&good[..3]);
    b.extend_from_slice(&[0x82, 0x5a, 0x00, 0x01, 0x00, 0x00]);
    add(
        "too-large",
        "entry 3 declares a body larger than the entry size limit",
        b,
        invalid(3, "too-large"),
    );

    cases
}

#[allow(dead_code)]
fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    for c in cases() {
        std::fs::write(dir.join(format!("{}.ledger", c.name)), &c.bytes).expect("write vector");
        let mut expect = c.expect.clone();
        expect["description"] = json!(c.description);
        let text = serde_json::to_string_pretty(&expect).expect("json") + "\n";
        std::fs::write(dir.join(format!("{}.expect.json", c.name)), text)
            .expect("write expectation");
        println!("{}", c.name);
    }
}
