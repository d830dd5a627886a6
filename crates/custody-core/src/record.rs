//! A writer's record of how far it verified a ledger directory.
//!
//! Whoever can write a ledger directory can put anything in it: a forged
//! entry, an edited state. So nothing that signs or proves (`append`,
//! `checkpoint`, `prove`) builds on what it finds there without verifying
//! it. To avoid verifying the whole ledger on every call, each signing key
//! keeps a record beside the entries: the entries it verified (count and
//! head), the rules state and the Merkle tree border at that point,
//! authenticated with an HMAC whose key is derived from the signing key.
//! Someone who can only write the directory cannot forge it; the next call
//! with that key verifies only the entries after it, signatures included.

use crate::entry::Hash;
use crate::merkle::{CompactRange, TreeHash};
use crate::rules::State;
use crate::verify::Resume;
use ed25519_dalek::SigningKey;
use hmac::digest::generic_array::GenericArray;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::digest::KeyInit;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Domain of the HMAC key derived from a signing key.
const MAC_KEY_DOMAIN: &[u8] = b"custody/v2/verified-record-key\0";
/// Domain of the authenticated bytes; `.1`: the content in postcard rather
/// than CBOR (an older record fails its MAC and is simply not used).
const MAC_DOMAIN: &[u8] = b"custody/v2.1/verified-record\0";

#[derive(Serialize, Deserialize)]
struct Stored {
    entries: u64,
    head: Hash,
    id: Hash,
    owner: [u8; 32],
    tree: Vec<TreeHash>,
    state: State,
}

/// `Stored` as it is written: borrowed, so that sealing does not copy the
/// whole rules state first (serde writes a reference as its value, so the
/// bytes are `Stored`'s).
#[derive(Serialize)]
struct StoredRef<'a> {
    entries: u64,
    head: Hash,
    id: Hash,
    owner: [u8; 32],
    tree: &'a [TreeHash],
    state: &'a State,
}

fn mac(key: &SigningKey, content: &[u8]) -> [u8; 32] {
    // HMAC-SHA256 keyed with SHA-256(domain || secret key), zero-padded to
    // the block size exactly as HMAC pads a 32-byte key.
    let mut k = Zeroizing::new([0u8; 64]);
    let mut h = Sha256::new();
    h.update(MAC_KEY_DOMAIN);
    h.update(key.as_bytes());
    k[..32].copy_from_slice(&h.finalize());
    let mut m = <Hmac<Sha256> as KeyInit>::new(GenericArray::from_slice(k.as_ref()));
    m.update(MAC_DOMAIN);
    m.update(content);
    m.finalize().into_bytes().into()
}

/// Seals what verification established, for `key`'s next call.
pub fn seal(key: &SigningKey, r: &Resume) -> Option<Vec<u8>> {
    let stored = StoredRef {
        entries: r.entries,
        head: r.head,
        id: r.id,
        owner: r.owner,
        tree: r.tree.hashes(),
        state: &r.state,
    };
    // postcard: compact (no field names), since a record holds the whole
    // rules state and is rewritten with every batch.
    let mut bytes = postcard::to_stdvec(&stored).ok()?;
    let tag = mac(key, &bytes);
    bytes.extend_from_slice(&tag);
    Some(bytes)
}

/// Opens a record sealed with `key`; `None` when it is missing, damaged or
/// was not sealed with this key.
pub fn open(key: &SigningKey, bytes: &[u8]) -> Option<Resume> {
    let split = bytes.len().checked_sub(32)?;
    let (content, tag) = bytes.split_at(split);
    let want = mac(key, content);
    // Constant-time comparison, as for any MAC.
    let mut diff = 0u8;
    for (a, b) in want.iter().zip(tag) {
        diff |= a ^ b;
    }
    if diff != 0 {
        return None;
    }
    let s: Stored = postcard::from_bytes(content).ok()?;
    let tree = CompactRange::from_parts(s.entries, s.tree)?;
    Some(Resume {
        state: s.state,
        entries: s.entries,
        head: s.head,
        id: s.id,
        owner: s.owner,
        tree,
    })
}
