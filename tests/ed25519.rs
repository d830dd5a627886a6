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

/// Why custody does not use batch verification: on these vectors its
/// accept/reject decisions differ from `verify_strict`'s, even after the
/// weak-key check the dalek README recommends. If this ever stops failing
/// to agree, batching could be reconsidered.
#[test]
fn batch_verification_disagrees_with_verify_strict() {
    let text = include_str!("data/ed25519/ed25519vectors.json");
    let vectors: Vec<Value> = serde_json::from_str(text).unwrap();
    let mut disagree = 0;
    for v in &vectors {
        let k = arr::<32>(v["key"].as_str().unwrap());
        let m = v["msg"].as_str().unwrap().as_bytes();
        let s = Signature::from_bytes(&arr::<64>(v["sig"].as_str().unwrap()));
        let Ok(vk) = VerifyingKey::from_bytes(&k) else {
            continue;
        };
        if vk.is_weak() {
            continue;
        }
        let strict = vk.verify_strict(m, &s).is_ok();
        let batch = ed25519_dalek::verify_batch(&[m], &[s], &[vk]).is_ok();
        disagree += usize::from(strict != batch);
    }
    eprintln!("batch and verify_strict disagree on {disagree} vectors with non-weak keys");
    assert!(disagree > 0);
}

/// A concrete case beyond the vectors: a signer who adds an order-8 point
/// to R makes a signature `verify_strict` rejects, yet batch verification,
/// even after every cheap pre-check (key not weak, R not of small order),
/// accepts it for about one message in eight. Exactness would need a
/// subgroup check of every R, which costs more than batching saves.
#[test]
fn batch_accepts_a_mixed_order_r_that_strict_rejects() {
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
    use curve25519_dalek::scalar::Scalar;
    use sha2::{Digest, Sha512};

    let a = Scalar::from_bytes_mod_order([7u8; 32]);
    let big_a = (a * B).compress();
    let vk = VerifyingKey::from_bytes(big_a.as_bytes()).unwrap();
    assert!(!vk.is_weak());
    let r = Scalar::from_bytes_mod_order([9u8; 32]);
    let big_r = r * B + EIGHT_TORSION[1];
    assert!(!big_r.is_small_order() && !big_r.is_torsion_free());
    let r_bytes = big_r.compress();
    let mut found = None;
    for n in 0u32..256 {
        let msg = format!("message {n}");
        let k = Scalar::from_hash(
            Sha512::new()
                .chain_update(r_bytes.as_bytes())
                .chain_update(big_a.as_bytes())
                .chain_update(msg.as_bytes()),
        );
        let s = r + k * a;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(r_bytes.as_bytes());
        sig[32..].copy_from_slice(s.as_bytes());
        let sig = Signature::from_bytes(&sig);
        assert!(
            vk.verify_strict(msg.as_bytes(), &sig).is_err(),
            "strict must reject"
        );
        // custody's path agrees with strict.
        let key = vk.to_bytes();
        assert_eq!(
            custody::verify_signatures(&[(&key, msg.as_bytes(), &sig.to_bytes())]),
            vec![false]
        );
        if ed25519_dalek::verify_batch(&[msg.as_bytes()], &[sig], &[vk]).is_ok() {
            found = Some(n);
            break;
        }
    }
    assert!(
        found.is_some(),
        "batch verification should accept one of these"
    );
}
