//! Ledgers signed straight with the library, bypassing `append`'s checks:
//! what an attacker with its own tools writes.
#![allow(dead_code)]

use custody::{entry_hash, sign_entry, EntryHeader, SigningKey};
use serde_json::{json, Value};

/// Fixed test keys, public on purpose (seed bytes all `n`).
pub fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

pub fn pubhex(n: u8) -> String {
    hex::encode(key(n).verifying_key().as_bytes())
}

/// Signs a chain of events (signer, event) as a whole export, bypassing
/// `append`'s checks: what an attacker with its own tools writes.
pub fn crafted(events: &[(u8, Value)]) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut prev, mut id, mut roles) = (None, None, 0u64);
    for (seq, (signer, event)) in events.iter().enumerate() {
        roles += u64::from(matches!(
            event["type"].as_str(),
            Some("genesis" | "grant" | "revoke")
        ));
        let bytes = sign_entry(
            &key(*signer),
            &EntryHeader {
                seq: seq as u64,
                prev,
                ledger: id,
                time: 1_767_225_600,
                roles,
            },
            event,
        )
        .unwrap();
        let h = entry_hash(&bytes);
        prev = Some(h);
        id = id.or(Some(h));
        out.extend_from_slice(&bytes);
    }
    out
}

pub fn genesis() -> Vec<(u8, Value)> {
    vec![
        (1, json!({"type": "genesis", "name": "crafted"})),
        (
            1,
            json!({"type": "grant", "key": pubhex(2), "role": "appender"}),
        ),
        (
            1,
            json!({"type": "grant", "key": pubhex(3), "role": "appender"}),
        ),
    ]
}
