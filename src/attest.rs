//! DSSE envelopes (github.com/secure-systems-lab/dsse, protocol v1.0)
//! signed with Ed25519, for in-toto attestations (Statement v1) of a
//! verified ledger. The statements themselves are built by the caller.

use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};

/// The payload type of an in-toto statement in a DSSE envelope.
pub const INTOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// DSSE's pre-authentication encoding: what is signed.
pub fn dsse_pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The key id securesystemslib gives an Ed25519 public key: the SHA-256
/// of the canonical JSON of `{"keytype", "keyval": {"public"}, "scheme"}`.
pub fn dsse_keyid(public: &[u8; 32]) -> String {
    let canonical = format!(
        r#"{{"keytype":"ed25519","keyval":{{"public":"{}"}},"scheme":"ed25519"}}"#,
        hex::encode(public)
    );
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// A DSSE envelope of `payload` (of type `payload_type`), signed by `key`,
/// as the JSON object DSSE defines.
pub fn dsse_envelope(payload_type: &str, payload: &[u8], key: &SigningKey) -> serde_json::Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    let sig = key.sign(&dsse_pae(payload_type, payload));
    serde_json::json!({
        "payloadType": payload_type,
        "payload": b64.encode(payload),
        "signatures": [{
            "keyid": dsse_keyid(&key.verifying_key().to_bytes()),
            "sig": b64.encode(sig.to_bytes()),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the DSSE protocol document.
    #[test]
    fn pae_is_the_protocols() {
        assert_eq!(
            dsse_pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn an_envelope_verifies_over_its_pae() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let env = dsse_envelope(INTOTO_PAYLOAD_TYPE, b"{}", &key);
        let b64 = base64::engine::general_purpose::STANDARD;
        let sig = b64
            .decode(env["signatures"][0]["sig"].as_str().unwrap())
            .unwrap();
        let sig = ed25519_dalek::Signature::from_slice(&sig).unwrap();
        key.verifying_key()
            .verify_strict(&dsse_pae(INTOTO_PAYLOAD_TYPE, b"{}"), &sig)
            .unwrap();
        assert_eq!(env["payload"], "e30=");
    }
}
