//! The ledger entry: its bytes, what is hashed and what is signed.
//!
//! An entry is the CBOR array `[body, signature]`: `body` a byte string
//! holding the deterministic CBOR of the body map, `signature` the 64-byte
//! Ed25519 signature over `SIGNATURE_DOMAIN || body`. The entry's hash is
//! SHA-256 over `HASH_DOMAIN || entry bytes`. Both are computed over the
//! bytes as stored, never over a re-encoding.

use crate::cbor::{self, CborError};
use crate::error::Reason;
use crate::event::Event;
use ciborium::value::Value;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// The body format version this crate writes and reads.
pub const FORMAT_VERSION: u64 = 2;
/// Largest entry, in bytes, that is written or accepted.
pub const MAX_ENTRY_SIZE: usize = 64 * 1024;
/// The fewest bytes an entry adds around its encoded event.
pub const MIN_OVERHEAD: usize = 220;
/// Prefixed to the body bytes to form the signed message.
pub const SIGNATURE_DOMAIN: &[u8] = b"custody/v1/entry-signature\0";
/// Prefixed to the entry bytes to form the hashed message.
pub const HASH_DOMAIN: &[u8] = b"custody/v1/entry-hash\0";

/// An entry hash.
pub type Hash = [u8; 32];

/// The hash of an entry's bytes.
pub fn entry_hash(bytes: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(HASH_DOMAIN);
    h.update(bytes);
    h.finalize().into()
}

/// An entry that parsed and is canonical, but whose signature, place in the
/// chain and authorization have not been checked: only `verify` makes an
/// entry a [`crate::VerifiedEntry`].
#[derive(Debug, Clone)]
pub struct ParsedEntry {
    pub bytes: Vec<u8>,
    /// Where the body lies within `bytes`.
    pub body: std::ops::Range<usize>,
    pub signature: [u8; 64],
    pub seq: u64,
    pub prev: Option<Hash>,
    pub ledger: Option<Hash>,
    pub time: u64,
    pub roles: u64,
    pub signer: [u8; 32],
    pub event: Event,
    pub event_json: Json,
    pub hash: Hash,
}

/// A rejected entry: the reason class and details.
pub type Rejection = (Reason, String);

fn cbor_rejection(e: CborError, what: &str) -> Rejection {
    match e {
        CborError::Malformed(m) => (Reason::Malformed, format!("{what}: {m}")),
        CborError::NonCanonical => (
            Reason::NonCanonical,
            format!("{what} is not deterministic CBOR (RFC 8949 section 4.2.1)"),
        ),
        CborError::Unencodable(m) => (Reason::NonCanonical, format!("{what}: {m}")),
    }
}

/// The body and signature of an entry encoded exactly as the canonical
/// `[bytes, bytes .size 64]`: array head, body with its shortest length
/// head, the 64-byte signature, nothing after. `None` for anything else.
fn canonical_parts(b: &[u8]) -> Option<(std::ops::Range<usize>, [u8; 64])> {
    if b.first() != Some(&0x82) {
        return None;
    }
    let ai = *b.get(1)?;
    if ai >> 5 != 2 {
        return None;
    }
    let (len, start): (usize, usize) = match ai & 31 {
        n @ 0..=23 => (usize::from(n), 2),
        24 => (usize::from(*b.get(2)?), 3),
        25 => (
            usize::from(u16::from_be_bytes(b.get(2..4)?.try_into().ok()?)),
            4,
        ),
        26 => (
            u32::from_be_bytes(b.get(2..6)?.try_into().ok()?) as usize,
            6,
        ),
        _ => return None,
    };
    // The shortest head only.
    let shortest = match len {
        0..=23 => 2,
        24..=255 => 3,
        256..=65535 => 4,
        _ => 6,
    };
    if start != shortest {
        return None;
    }
    let end = start.checked_add(len)?;
    b.get(start..end)?;
    if b.get(end..end + 2)? != [0x58, 0x40] || b.len() != end + 66 {
        return None;
    }
    let sig: [u8; 64] = b.get(end + 2..)?.try_into().ok()?;
    Some((start..end, sig))
}

impl ParsedEntry {
    /// Parses entry bytes. Never panics, whatever the bytes.
    pub fn parse(bytes: Vec<u8>) -> Result<ParsedEntry, Rejection> {
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err((
                Reason::TooLarge,
                format!("{} bytes, more than {MAX_ENTRY_SIZE}", bytes.len()),
            ));
        }
        // Nearly every entry is the one canonical shape: take it apart
        // without decoding and re-encoding the whole entry; anything else
        // goes the general way, which names what is wrong with it.
        if let Some((body, signature)) = canonical_parts(&bytes) {
            return Self::parse_body(bytes, body, signature);
        }
        let outer = cbor::decode_canonical(&bytes).map_err(|e| cbor_rejection(e, "entry"))?;
        let Value::Array(items) = outer else {
            return Err((Reason::Malformed, "entry is not a CBOR array".into()));
        };
        let [Value::Bytes(body), Value::Bytes(sig)] =
            <[Value; 2]>::try_from(items).map_err(|_| {
                (
                    Reason::Malformed,
                    "entry is not a 2-element array".to_string(),
                )
            })?
        else {
            return Err((
                Reason::Malformed,
                "entry is not [body bytes, signature bytes]".into(),
            ));
        };
        let signature: [u8; 64] = sig.as_slice().try_into().map_err(|_| {
            (
                Reason::Malformed,
                format!("signature is {} bytes, not 64", sig.len()),
            )
        })?;
        // The entry is canonical, so its body lies right after the two heads.
        let mut head = vec![0x82];
        cbor::head(2, body.len() as u64, &mut head);
        let range = head.len()..head.len() + body.len();
        if bytes.get(range.clone()) != Some(&body[..]) {
            return Err((Reason::Malformed, "entry body out of place".into()));
        }
        Self::parse_body(bytes, range, signature)
    }

    fn parse_body(
        bytes: Vec<u8>,
        body: std::ops::Range<usize>,
        signature: [u8; 64],
    ) -> Result<ParsedEntry, Rejection> {
        let body_bytes = &bytes[body.clone()];
        // Nearly every body is a canonical one of this version: read it in
        // one pass, without a CBOR tree. Anything that pass does not take
        // goes the long way, which says what is wrong; debug builds check
        // that both agree on every body the pass takes.
        let body_fields = match Body::fast(body_bytes) {
            Some(b) => {
                #[cfg(debug_assertions)]
                assert_eq!(
                    Body::slow(body_bytes).as_ref(),
                    Ok(&b),
                    "the one-pass body reader took what the long way does not"
                );
                b
            }
            None => Body::slow(body_bytes)?,
        };
        let event_json = body_fields.event;
        let event =
            Event::from_json(&event_json, true).map_err(|e| (Reason::BadEvent, e.to_string()))?;
        let hash = entry_hash(&bytes);
        Ok(ParsedEntry {
            hash,
            bytes,
            body,
            signature,
            seq: body_fields.seq,
            prev: body_fields.prev,
            ledger: body_fields.ledger,
            time: body_fields.time,
            roles: body_fields.roles,
            signer: body_fields.signer,
            event,
            event_json,
        })
    }

    /// The message the signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        signed_message(self.body())
    }

    /// The body bytes the signature covers, after its domain.
    pub fn body(&self) -> &[u8] {
        &self.bytes[self.body.clone()]
    }
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNATURE_DOMAIN.len() + body.len());
    m.extend_from_slice(SIGNATURE_DOMAIN);
    m.extend_from_slice(body);
    m
}

const BODY_KEYS: [&str; 8] = [
    "v", "seq", "prev", "time", "event", "roles", "ledger", "signer",
];

impl Body<Value> {
    /// The fields of a body map; `v` must be this version.
    fn from_value(v: Value) -> Result<Body<Value>, Rejection> {
        let bad = |m: String| (Reason::BadBody, m);
        let Value::Map(entries) = v else {
            return Err(bad("body is not a CBOR map".into()));
        };
        let mut v = None;
        let mut seq = None;
        let mut prev = None;
        let mut ledger = None;
        let mut time = None;
        let mut roles = None;
        let mut signer = None;
        let mut event = None;
        for (k, val) in entries {
            let Value::Text(k) = k else {
                return Err(bad("body key is not a text string".into()));
            };
            match k.as_str() {
                "v" => v = Some(uint(&val, "v")?),
                "seq" => seq = Some(uint(&val, "seq")?),
                "time" => time = Some(uint(&val, "time")?),
                "roles" => roles = Some(uint(&val, "roles")?),
                "prev" => prev = Some(opt_hash(&val, "prev")?),
                "ledger" => ledger = Some(opt_hash(&val, "ledger")?),
                "signer" => {
                    signer = Some(match opt_hash(&val, "signer")? {
                        Some(k) => k,
                        None => return Err(bad("`signer` must be 32 bytes, not null".into())),
                    })
                }
                "event" => {
                    if !matches!(val, Value::Map(_)) {
                        return Err(bad("`event` is not a map".into()));
                    }
                    event = Some(val)
                }
                other => return Err(bad(format!("unknown body field `{other}`"))),
            }
        }
        let missing = |n: &str| {
            bad(format!(
                "body lacks `{n}` (it needs {})",
                BODY_KEYS.join(", ")
            ))
        };
        let v = v.ok_or_else(|| missing("v"))?;
        if v != FORMAT_VERSION {
            return Err(unsupported(v));
        }
        Ok(Body {
            seq: seq.ok_or_else(|| missing("seq"))?,
            prev: prev.ok_or_else(|| missing("prev"))?,
            ledger: ledger.ok_or_else(|| missing("ledger"))?,
            time: time.ok_or_else(|| missing("time"))?,
            roles: roles.ok_or_else(|| missing("roles"))?,
            signer: signer.ok_or_else(|| missing("signer"))?,
            event: event.ok_or_else(|| missing("event"))?,
        })
    }
}

/// A body of this format version, its event as JSON (or, on the long
/// way, first as CBOR).
#[derive(Debug, PartialEq)]
struct Body<E = Json> {
    seq: u64,
    prev: Option<Hash>,
    ledger: Option<Hash>,
    time: u64,
    roles: u64,
    signer: [u8; 32],
    event: E,
}

impl Body {
    /// The one pass: `None` unless the body is a canonical map of exactly
    /// the body keys, of this version, with an event JSON can hold.
    fn fast(bytes: &[u8]) -> Option<Body> {
        let mut f = cbor::Fast::new(bytes);
        let n = f.map(1)?;
        let mut last = None;
        let (mut v, mut seq, mut prev, mut ledger, mut time, mut roles, mut signer, mut event) =
            (None, None, None, None, None, None, None, None);
        for _ in 0..n {
            match f.key(&mut last)? {
                "v" => v = Some(f.uint()?),
                "seq" => seq = Some(f.uint()?),
                "time" => time = Some(f.uint()?),
                "roles" => roles = Some(f.uint()?),
                "prev" => prev = Some(f.null_or_32()?),
                "ledger" => ledger = Some(f.null_or_32()?),
                "signer" => signer = Some(f.null_or_32()??),
                "event" => {
                    // Only a map: peek at its head without taking it.
                    if f.peek_major()? != 5 {
                        return None;
                    }
                    event = Some(f.json(2, 0)?)
                }
                _ => return None,
            }
        }
        if !f.at_end() || v? != FORMAT_VERSION {
            return None;
        }
        Some(Body {
            seq: seq?,
            prev: prev?,
            ledger: ledger?,
            time: time?,
            roles: roles?,
            signer: signer?,
            event: event?,
        })
    }

    /// The long way: the whole CBOR tree, then its fields; every fault named.
    fn slow(bytes: &[u8]) -> Result<Body, Rejection> {
        let map = cbor::decode_canonical(bytes).map_err(|e| cbor_rejection(e, "body"))?;
        // The version decides the body's schema, so it is read first.
        let v = match &map {
            Value::Map(m) => m.iter().find_map(|(k, v)| match (k, v) {
                (Value::Text(k), Value::Integer(i)) if k == "v" => {
                    u64::try_from(i128::from(*i)).ok()
                }
                _ => None,
            }),
            _ => None,
        };
        if let Some(v) = v.filter(|&v| v != FORMAT_VERSION) {
            return Err(unsupported(v));
        }
        let f = Body::from_value(map)?;
        let event = crate::json::from_cbor(f.event, 0)
            .map_err(|m| (Reason::BadEvent, format!("event: {m}")))?;
        Ok(Body {
            seq: f.seq,
            prev: f.prev,
            ledger: f.ledger,
            time: f.time,
            roles: f.roles,
            signer: f.signer,
            event,
        })
    }
}

fn unsupported(v: u64) -> Rejection {
    let why = if v == 1 {
        ": format 1 let any appender license, release or assign any artifact, \
         so its levels cannot be trusted; re-create the ledger with this custody"
    } else {
        ""
    };
    (
        Reason::UnsupportedVersion,
        format!("format version {v} (this verifier knows {FORMAT_VERSION}){why}"),
    )
}

fn uint(v: &Value, name: &str) -> Result<u64, Rejection> {
    match v {
        Value::Integer(i) => u64::try_from(i128::from(*i)).ok(),
        _ => None,
    }
    .ok_or_else(|| {
        (
            Reason::BadBody,
            format!("`{name}` is not an unsigned integer"),
        )
    })
}

fn opt_hash(v: &Value, name: &str) -> Result<Option<[u8; 32]>, Rejection> {
    match v {
        Value::Null => Ok(None),
        Value::Bytes(b) if b.len() == 32 => {
            let mut out = [0u8; 32];
            out.copy_from_slice(b);
            Ok(Some(out))
        }
        _ => Err((Reason::BadBody, format!("`{name}` is not 32 bytes or null"))),
    }
}

/// What goes into a new entry besides the event.
pub struct Header {
    pub seq: u64,
    pub prev: Option<Hash>,
    pub ledger: Option<Hash>,
    pub time: u64,
    /// Genesis, grant and revoke entries among entries 0 to `seq`.
    pub roles: u64,
}

/// Encodes an event for an entry body: the deterministic CBOR of its JSON.
pub fn encode_event(event: &Json) -> Vec<u8> {
    let mut out = Vec::new();
    cbor::encode_json(event, &mut out);
    out
}

/// Encodes and signs a new entry. Returns its bytes, or a message when the
/// result would exceed [`MAX_ENTRY_SIZE`].
pub fn build(key: &SigningKey, header: &Header, event: &Json) -> Result<Vec<u8>, String> {
    build_encoded(
        key,
        &key.verifying_key().to_bytes(),
        header,
        &encode_event(event),
    )
}

/// As [`build`], for an event already encoded by [`encode_event`]. The body
/// map is written directly, its keys in deterministic order: v, seq, prev,
/// time, event, roles, ledger, signer.
pub fn build_encoded(
    key: &SigningKey,
    signer: &[u8; 32],
    header: &Header,
    event: &[u8],
) -> Result<Vec<u8>, String> {
    let size = SIGNATURE_DOMAIN.len() + event.len() + 170;
    if size > MAX_ENTRY_SIZE + SIGNATURE_DOMAIN.len() {
        return Err(too_large(size - SIGNATURE_DOMAIN.len()));
    }
    // The signed message, with the body right after the domain prefix.
    let mut msg = Vec::with_capacity(size);
    msg.extend_from_slice(SIGNATURE_DOMAIN);
    let text = |s: &str, out: &mut Vec<u8>| {
        cbor::head(3, s.len() as u64, out);
        out.extend_from_slice(s.as_bytes());
    };
    let hash = |h: Option<Hash>, out: &mut Vec<u8>| match h {
        Some(h) => {
            cbor::head(2, 32, out);
            out.extend_from_slice(&h);
        }
        None => out.push(0xf6),
    };
    cbor::head(5, 8, &mut msg);
    text("v", &mut msg);
    cbor::head(0, FORMAT_VERSION, &mut msg);
    text("seq", &mut msg);
    cbor::head(0, header.seq, &mut msg);
    text("prev", &mut msg);
    hash(header.prev, &mut msg);
    text("time", &mut msg);
    cbor::head(0, header.time, &mut msg);
    text("event", &mut msg);
    msg.extend_from_slice(event);
    text("roles", &mut msg);
    cbor::head(0, header.roles, &mut msg);
    text("ledger", &mut msg);
    hash(header.ledger, &mut msg);
    text("signer", &mut msg);
    cbor::head(2, 32, &mut msg);
    msg.extend_from_slice(signer);
    let sig = key.sign(&msg);
    let body = &msg[SIGNATURE_DOMAIN.len()..];
    let mut entry = Vec::with_capacity(body.len() + 72);
    cbor::head(4, 2, &mut entry);
    cbor::head(2, body.len() as u64, &mut entry);
    entry.extend_from_slice(body);
    cbor::head(2, 64, &mut entry);
    entry.extend_from_slice(&sig.to_bytes());
    if entry.len() > MAX_ENTRY_SIZE {
        return Err(too_large(entry.len()));
    }
    Ok(entry)
}

fn too_large(n: usize) -> String {
    format!(
        "the entry would be {n} bytes, more than the {MAX_ENTRY_SIZE}-byte limit; \
         reference large content by digest and uri instead of embedding it"
    )
}

/// An entry decoded from bytes: canonical and well formed, but its
/// signature, place in a chain and authorization are NOT checked. Use
/// [`crate::verify`] for that.
#[derive(Debug, Clone)]
pub struct UnverifiedEntry(pub ParsedEntry);

impl UnverifiedEntry {
    /// The bytes it was decoded from.
    pub fn bytes(&self) -> &[u8] {
        &self.0.bytes
    }
    /// The claimed sequence number.
    pub fn seq(&self) -> u64 {
        self.0.seq
    }
    /// The claimed previous-entry hash.
    pub fn prev(&self) -> Option<&Hash> {
        self.0.prev.as_ref()
    }
    /// The claimed ledger id.
    pub fn ledger(&self) -> Option<&Hash> {
        self.0.ledger.as_ref()
    }
    /// The claimed signer.
    pub fn signer(&self) -> &[u8; 32] {
        &self.0.signer
    }
    /// The claimed signing time.
    pub fn time(&self) -> u64 {
        self.0.time
    }
    /// The claimed number of genesis, grant and revoke entries up to this one.
    pub fn roles(&self) -> u64 {
        self.0.roles
    }
    /// The event.
    pub fn event(&self) -> &Event {
        &self.0.event
    }
    /// The event as JSON.
    pub fn event_json(&self) -> &Json {
        &self.0.event_json
    }
    /// The entry hash.
    pub fn hash(&self) -> &Hash {
        &self.0.hash
    }
}

/// Decodes one entry's bytes, checking everything but its signature and
/// its place in a ledger. Never panics, whatever the bytes.
pub fn decode_entry(bytes: &[u8]) -> Result<UnverifiedEntry, crate::error::VerifyError> {
    ParsedEntry::parse(bytes.to_vec())
        .map(UnverifiedEntry)
        .map_err(|(reason, detail)| crate::error::VerifyError {
            seq: 0,
            reason,
            detail,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The general way: decode, re-encode, compare.
    fn general(b: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        match cbor::decode_canonical(b).ok()? {
            Value::Array(items) => match <[Value; 2]>::try_from(items).ok()? {
                [Value::Bytes(body), Value::Bytes(sig)] if sig.len() == 64 => Some((body, sig)),
                _ => None,
            },
            _ => None,
        }
    }

    /// The shortcut takes apart exactly what the general way accepts as
    /// `[bytes, 64 bytes]`, and nothing else.
    #[test]
    fn the_shortcut_agrees_with_the_general_way() {
        let sig = [7u8; 64];
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for len in [0usize, 1, 23, 24, 255, 256, 65535, 65536] {
            let body = vec![0xa0u8; len];
            let v = cbor::encode(&Value::Array(vec![
                Value::Bytes(body),
                Value::Bytes(sig.to_vec()),
            ]))
            .unwrap();
            cases.push(v.clone());
            // Mutations of the framing: every byte of the first 8 and the
            // last 67, set to a few values, and lengths cut or extended.
            for i in (0..8.min(v.len())).chain(v.len().saturating_sub(67)..v.len()) {
                for x in [
                    0x00u8, 0x18, 0x19, 0x1a, 0x40, 0x41, 0x58, 0x5f, 0x82, 0x9f, 0xff,
                ] {
                    let mut m = v.clone();
                    m[i] = x;
                    cases.push(m);
                }
            }
            cases.push(v[..v.len() - 1].to_vec());
            let mut longer = v.clone();
            longer.push(0);
            cases.push(longer);
        }
        // Non-shortest length heads of a short body.
        cases.push([&[0x82, 0x58, 0x01, 0xa0][..], &[0x58, 0x40], &sig].concat());
        cases.push([&[0x82, 0x59, 0x00, 0x01, 0xa0][..], &[0x58, 0x40], &sig].concat());
        cases.push([&[0x82, 0x41, 0xa0][..], &[0x59, 0x00, 0x40], &sig].concat());
        let mut taken = 0;
        for c in &cases {
            if let Some((body, s)) = canonical_parts(c) {
                taken += 1;
                let (gb, gs) = general(c).expect("the general way accepts what the shortcut takes");
                assert_eq!(&c[body], gb.as_slice());
                assert_eq!(s.as_slice(), gs.as_slice());
            }
        }
        assert!(taken >= 8, "the shortcut took only {taken} cases");
    }

    /// The one-pass body reader takes exactly the bodies the long way
    /// accepts, as the same fields and event: checked on real bodies and
    /// on every single-byte mutation, cut and extension of them.
    #[test]
    fn the_one_pass_body_reader_agrees_with_the_long_way() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let events = [
            serde_json::json!({"type": "artifact", "id": "ds", "kind": "data"}),
            serde_json::json!({"type": "transformation", "operation": "filter",
                "inputs": ["a", "b"], "outputs": ["c"],
                "parameters": {"t": 0.5, "n": -3, "big": 18446744073709551615u64,
                    "neg": -9223372036854775808i64, "deep": [[{"x": null, "y": true}]],
                    "f": 1.0e-7, "s": "déjà vu", "no": false}}),
        ];
        let headers = [
            Header {
                seq: 0,
                prev: None,
                ledger: None,
                time: 1,
                roles: 1,
            },
            Header {
                seq: 300,
                prev: Some([1; 32]),
                ledger: Some([2; 32]),
                time: 1 << 40,
                roles: 7,
            },
        ];
        let mut cases = 0;
        let mut taken = 0;
        for (e, h) in events.iter().zip(&headers) {
            let bytes = build(&key, h, e).unwrap();
            let (range, _) = canonical_parts(&bytes).unwrap();
            let body = bytes[range].to_vec();
            assert!(
                Body::fast(&body).is_some(),
                "the pass takes a body of this version"
            );
            let mut mutants = vec![
                body.clone(),
                body[..body.len() - 1].to_vec(),
                [&body[..], &[0]].concat(),
            ];
            for k in 0..body.len() {
                for x in [
                    0x00u8, 0x01, 0x02, 0x03, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x20, 0x38, 0x3b,
                    0x40, 0x41, 0x58, 0x5f, 0x60, 0x61, 0x7f, 0x80, 0x81, 0x9f, 0xa0, 0xa1, 0xbf,
                    0xc0, 0xd8, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa, 0xfb, 0xff,
                ] {
                    let mut m = body.clone();
                    m[k] = x;
                    mutants.push(m);
                }
                let mut m = body.clone();
                m[k] ^= 0x80;
                mutants.push(m);
                let mut m = body.clone();
                m[k] = m[k].wrapping_add(1);
                mutants.push(m);
            }
            for m in mutants {
                cases += 1;
                let fast = Body::fast(&m);
                taken += usize::from(fast.is_some());
                assert_eq!(fast, Body::slow(&m).ok(), "{}", hex::encode(&m));
            }
        }
        assert!(
            cases > 10_000 && taken > 100,
            "{cases} cases, {taken} taken"
        );

        // Crafted bodies: events of every CBOR shape, at and past the
        // depth limit, and body fields of the wrong kinds.
        let t = |s: &str| Value::Text(s.into());
        let int = |n: i128| Value::Integer(ciborium::value::Integer::try_from(n).unwrap());
        let nest = |depth: usize| {
            let mut v = int(1);
            for _ in 0..depth {
                v = Value::Map(vec![(t("a"), v)]);
            }
            v
        };
        let body = |fields: Vec<(&str, Value)>| {
            let mut all = vec![
                ("v", int(FORMAT_VERSION as i128)),
                ("seq", int(1)),
                ("prev", Value::Bytes(vec![1; 32])),
                ("ledger", Value::Bytes(vec![2; 32])),
                ("time", int(5)),
                ("roles", int(1)),
                ("signer", Value::Bytes(vec![3; 32])),
                ("event", Value::Map(vec![(t("type"), t("artifact"))])),
            ];
            for (k, v) in fields {
                all.retain(|(n, _)| *n != k);
                if !matches!(v, Value::Tag(0, _)) {
                    all.push((k, v));
                }
            }
            let map = Value::Map(all.into_iter().map(|(k, v)| (t(k), v)).collect());
            cbor::encode(&map).unwrap()
        };
        let absent = Value::Tag(0, Box::new(Value::Null));
        let mut crafted = vec![body(vec![])];
        for d in 14..22 {
            crafted.push(body(vec![("event", nest(d))]));
            crafted.push(body(vec![(
                "event",
                Value::Map(vec![(t("x"), Value::Array(vec![nest(d)]))]),
            )]));
        }
        for ev in [
            t("artifact"),
            Value::Array(vec![t("type")]),
            int(3),
            Value::Null,
            Value::Bytes(vec![1]),
            Value::Map(vec![(int(1), t("x"))]),
            Value::Map(vec![(t("b"), Value::Bytes(vec![0]))]),
            Value::Map(vec![(t("n"), int(-(1i128 << 63) - 1))]),
            Value::Map(vec![(t("n"), int(-(1i128 << 63)))]),
            Value::Map(vec![(t("n"), int((1i128 << 64) - 1))]),
            Value::Map(vec![(t("f"), Value::Float(-0.0))]),
        ] {
            crafted.push(body(vec![("event", ev)]));
        }
        for (k, v) in [
            ("v", int(1)),
            ("v", int(3)),
            ("v", absent.clone()),
            ("seq", int(-1)),
            ("seq", absent.clone()),
            ("prev", Value::Null),
            ("prev", Value::Bytes(vec![1; 31])),
            ("ledger", Value::Null),
            ("ledger", t("x")),
            ("signer", Value::Null),
            ("signer", Value::Bytes(vec![1; 33])),
            ("time", Value::Float(1.5)),
            ("roles", absent.clone()),
            ("event", absent.clone()),
            ("extra", int(0)),
        ] {
            crafted.push(body(vec![(k, v)]));
        }
        // NaN and infinity, which the encoder refuses to write: 1.5 is the
        // half-precision f9 3e 00, patched.
        let half = body(vec![(
            "event",
            Value::Map(vec![(t("f"), Value::Float(1.5))]),
        )]);
        let at = half
            .windows(3)
            .position(|w| w == [0xf9, 0x3e, 0x00])
            .unwrap();
        for patch in [[0xf9, 0x7e, 0x00], [0xf9, 0x7c, 0x00], [0xf9, 0xfc, 0x00]] {
            let mut m = half.clone();
            m[at..at + 3].copy_from_slice(&patch);
            crafted.push(m);
        }
        // 1.5 in longer forms than its shortest.
        for long in [
            &[0xfa, 0x3f, 0xc0, 0, 0][..],
            &[0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
        ] {
            crafted.push([&half[..at], long, &half[at + 3..]].concat());
        }
        // A tag, which the encoder refuses too: {"t": 5} made {"t": 1(5)}.
        let plain = body(vec![("event", Value::Map(vec![(t("t"), int(5))]))]);
        let at = plain
            .windows(3)
            .position(|w| w == [0x61, b't', 0x05])
            .unwrap();
        crafted.push([&plain[..at + 2], &[0xc1], &plain[at + 2..]].concat());
        let mut crafted_taken = 0;
        for m in &crafted {
            let fast = Body::fast(m);
            crafted_taken += usize::from(fast.is_some());
            assert_eq!(fast, Body::slow(m).ok(), "{}", hex::encode(m));
        }
        assert!(crafted_taken >= 10, "took {crafted_taken} crafted bodies");
    }
}
