//! Verifies arbitrary bytes as a partial export (header, then entries and
//! withheld leaf hashes). Must never panic; what it accepts has a genesis
//! entry and no more withheld entries than entries.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = custody::VerifyOptions::default();
    if let Ok(ledger) = custody::verify_partial(data, &opts, None, None) {
        assert!(ledger.entries() >= 1);
        assert!(ledger.withheld() < ledger.entries());
    }
});
