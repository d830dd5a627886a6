//! Verifies arbitrary bytes as a partial export (header, then entries and
//! withheld leaf hashes). Must never panic; what it accepts has a disclosed
//! genesis and last entry, and a publisher who is an owner.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    // Steer most inputs to the partial-export path (a map first).
    if let Some(b) = bytes.first_mut() {
        *b = 0xa0 | (*b & 0x1f);
    }
    let opts = custody::VerifyOptions::default();
    if let Ok(ledger) = custody::verify_bytes(&bytes, &opts) {
        assert!(ledger.entries() >= 1);
        assert!(ledger.withheld() + 2 <= ledger.entries() || ledger.entries() == 1);
        assert!(ledger.disclosure().is_some());
    }
});
