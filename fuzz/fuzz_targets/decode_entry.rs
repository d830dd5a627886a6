//! Decodes arbitrary bytes as one entry. `decode_entry` must never panic;
//! when it accepts the bytes, the entry keeps exactly those bytes and its
//! event survives a round trip through its JSON form.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(entry) = custody::decode_entry(data) else {
        return;
    };
    assert_eq!(
        entry.bytes(),
        data,
        "decoded entry does not keep its input bytes"
    );
    let again = custody::Event::from_json(entry.event_json(), true)
        .expect("the event of a decoded entry is rejected when parsed from its own JSON");
    assert_eq!(
        &again,
        entry.event(),
        "event changed in a round trip through its JSON"
    );
});
