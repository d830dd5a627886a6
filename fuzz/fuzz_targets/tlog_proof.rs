//! Parses arbitrary text as a tlog proof and a checkpoint note, and checks
//! it against arbitrary entry bytes. Must never panic; a proof that parses
//! encodes back to what was read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Fuzzing key only; a fixed public test key.
    let key = custody::SigningKey::from_bytes(&[7; 32]);
    let vkey = custody::VerifierKey::new("fuzz.example/log", &key).unwrap();
    let split = data.iter().position(|&b| b == 0xff).unwrap_or(data.len());
    let (text, entry) = data.split_at(split);
    let Ok(text) = std::str::from_utf8(text) else { return };
    let _ = custody::Checkpoint::open(text, &vkey);
    let _ = custody::VerifierKey::parse(text);
    if let Ok(p) = custody::TlogProof::parse(text) {
        assert_eq!(custody::TlogProof::parse(&p.encode()).as_ref(), Ok(&p));
    }
    let _ = custody::verify_proof(text, entry, &vkey);
});
