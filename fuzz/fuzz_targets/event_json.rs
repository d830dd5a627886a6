//! Parses arbitrary UTF-8 as JSON and checks it as an appended event.
//! `Event::from_json` must never panic, whatever the value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let _ = custody::Event::from_json(&value, false);
});
