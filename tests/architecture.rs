//! The shape of the code: `custody-core` (format, verification, rules,
//! openness, Merkle tree) does no I/O and depends on no store, server or
//! client crate; everything else is built on it, never the reverse.

use std::path::Path;

fn core() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/custody-core")
}

#[test]
fn the_core_opens_no_file_or_socket() {
    let mut checked = 0;
    for e in std::fs::read_dir(core().join("src")).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        for banned in [
            "std::fs",
            "std::net",
            "std::process",
            "std::env",
            "File::",
            "TcpStream",
            "custody::",
        ] {
            assert!(
                !text.contains(banned),
                "{} uses `{banned}`: the core does no I/O",
                p.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} core files found");
}

#[test]
fn the_core_depends_on_no_store_server_or_client() {
    let manifest = std::fs::read_to_string(core().join("Cargo.toml")).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .expect("the core's manifest lists its dependencies");
    for banned in [
        "sled", "postgres", "tokio", "axum", "ureq", "tempfile", "clap", "custody",
    ] {
        assert!(
            !deps
                .lines()
                .any(|l| l.split('=').next().unwrap().trim() == banned),
            "custody-core depends on {banned}"
        );
    }
}
