//! Verifies arbitrary bytes as an exported ledger (a CBOR sequence of
//! entries). `verify_bytes` must never panic, and a ledger it accepts has
//! at least its genesis entry.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = custody::VerifyOptions::default();
    if let Ok(ledger) = custody::verify_bytes(data, &opts) {
        assert!(ledger.entries() >= 1, "accepted a ledger with no entries");
    }
});
