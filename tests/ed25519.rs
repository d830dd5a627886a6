//! The signature path must accept and reject exactly what `verify_strict`
//! does, on every C2SP/CCTV edge-case vector (tests/data/ed25519).

use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;

fn arr<const N: usize>(h: &str) -> [u8; N] {
    hex::decode(h).unwrap().try_into().unwrap()
}

#[test]
fn custody_matches_verify_strict_on_every_vector() {
    let text = include_str!("data/ed25519/ed25519vectors.json");
    let vectors: Vec<Value> = serde_json::from_str(text).unwrap();
    assert_eq!(vectors.len(), 914);
    let parsed: Vec<([u8; 32], Vec<u8>, [u8; 64])> = vectors
        .iter()
        .map(|v| {
            (
                arr::<32>(v["key"].as_str().unwrap()),
                v["msg"].as_str().unwrap().as_bytes().to_vec(),
                arr::<64>(v["sig"].as_str().unwrap()),
            )
        })
        .collect();
    let items: Vec<custody::SignatureItem<'_>> = parsed
        .iter()
        .map(|(k, m, s)| (k, m.as_slice(), s))
        .collect();
    // All at once (the parallel path) and one by one (the small-batch path).
    let together = custody::verify_signatures(&items);
    let mut accepted = 0;
    for (i, (k, m, s)) in parsed.iter().enumerate() {
        let strict = VerifyingKey::from_bytes(k)
            .map(|vk| vk.verify_strict(m, &Signature::from_bytes(s)).is_ok())
            .unwrap_or(false);
        assert_eq!(
            together[i], strict,
            "vector {i} ({:?})",
            vectors[i]["flags"]
        );
        assert_eq!(
            custody::verify_signatures(&items[i..=i])[0],
            strict,
            "vector {i} alone"
        );
        accepted += usize::from(strict);
    }
    // The vectors exercise both outcomes.
    assert!(
        accepted > 0 && accepted < parsed.len(),
        "accepted {accepted}"
    );
}
