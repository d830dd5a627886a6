//! What a newcomer meets in the first hour: outputs that never replace a
//! file unasked, messages that say what to do, and the small commands
//! (pubkey, one-entry log, completions, man page) the walk-through uses.

mod common;

use common::{custody, custody_in, snapshot, Fixture};
use std::os::unix::fs::PermissionsExt;

fn joined(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn export_refuses_to_replace_a_file_and_writes_to_standard_output() {
    let f = Fixture::new();
    std::fs::write(f.path("events.jsonl"), "precious events\n").unwrap();
    let r = custody(f.dir(), &["export", "L", "--out", "events.jsonl"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("already exists; give --force"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(f.path("events.jsonl")).unwrap(),
        "precious events\n"
    );
    let r = custody(
        f.dir(),
        &["export", "L", "--out", "events.jsonl", "--force"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    // `-` is standard output: the same bytes as the file, the summary on stderr.
    let r = std::process::Command::new(common::bin())
        .args(["export", &common::ledger_arg(f.dir(), "L"), "--out", "-"])
        .current_dir(f.dir())
        .env("CUSTODY_STATE_DIR", f.path(".custody-state"))
        .output()
        .unwrap();
    assert!(r.status.success());
    assert_eq!(r.stdout, std::fs::read(f.path("events.jsonl")).unwrap());
    assert!(String::from_utf8_lossy(&r.stderr).contains("to standard output"));
    assert!(!f.path("-").exists());

    // Created for publishing: 0666 less the umask (022 here), not 0600.
    let mode = std::process::Command::new("sh")
        .args([
            "-c",
            &format!(
                "umask 022 && {} export '{}' --out pub.custody",
                common::bin(),
                common::ledger_arg(f.dir(), "L")
            ),
        ])
        .current_dir(f.dir())
        .env("CUSTODY_STATE_DIR", f.path(".custody-state"))
        .status()
        .unwrap();
    assert!(mode.success());
    let m = std::fs::metadata(f.path("pub.custody"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(m & 0o777, 0o644);
}

#[test]
fn empty_input_is_refused_unless_asked() {
    let f = Fixture::new();
    let before = snapshot(&f.path("L"));
    let r = custody_in(f.dir(), &["append", "L", "--key", "owner.key"], "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("holds no events"), "{}", r.stderr);
    assert!(before == snapshot(&f.path("L")));
    let r = custody_in(f.dir(), &["append", "L", "--key", "owner.key"], "\n\n");
    assert_eq!(r.code, 2);
    let r = custody_in(
        f.dir(),
        &["append", "L", "--key", "owner.key", "--allow-empty"],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("appended 0 entries"), "{}", r.stdout);
}

#[test]
fn messages_say_what_to_do() {
    let f = Fixture::new();
    // A pretty-printed event.
    let r = f.append(
        "owner.key",
        "{\n  \"type\": \"artifact\",\n  \"id\": \"a\"\n}",
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("line 1:") && r.stderr.contains("one JSON object on one line"),
        "{}",
        r.stderr
    );
    // An unknown field: the allowed ones, and the close match.
    let r = f.append(
        "owner.key",
        r#"{"type":"artifact","id":"a","kind":"data","digets":"x"}"#,
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("field `digets`"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean `digest`?"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("description, digest, id, kind, note, size, type, uri"),
        "{}",
        r.stderr
    );
    // A public key where the private one is needed.
    let r = custody_in(f.dir(), &["append", "L", "--key", "owner.key.pub"], "{}");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("this is a public key") && r.stderr.contains("(probably owner.key)"),
        "{}",
        r.stderr
    );
    // Appending to an export: import it first.
    assert_eq!(
        custody(f.dir(), &["export", "L", "--out", "x.custody"]).code,
        0
    );
    let r = custody_in(
        f.dir(),
        &["append", "x.custody", "--key", "owner.key"],
        "{}",
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("custody import x.custody DIR"),
        "{}",
        r.stderr
    );
    // No such ledger: how to make one.
    let r = custody(f.dir(), &["verify", "nowhere"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("custody init nowhere"), "{}", r.stderr);
    // A ledger bad from its first entry: nothing verified.
    std::fs::write(f.path("junk.custody"), b"\x82\x41\x00\x41\x00").unwrap();
    let r = custody(f.dir(), &["verify", "junk.custody"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no entry verified"), "{}", r.stderr);
    assert!(!r.stderr.contains("after entry 0"), "{}", r.stderr);
}

#[test]
fn a_checkpoint_from_another_key_of_the_same_name_is_named_as_such() {
    let f = Fixture::new();
    let cp = custody(f.dir(), &["checkpoint", "L", "--key", "stranger.key"]).stdout;
    std::fs::write(f.path("cp.txt"), &cp).unwrap();
    let origin = cp.lines().next().unwrap().to_string();
    let vkey = custody(f.dir(), &["vkey", "--key", "owner.key", "--name", &origin]).stdout;
    std::fs::write(f.path("owner.vkey"), vkey.trim()).unwrap();
    let r = custody(
        f.dir(),
        &[
            "verify",
            "L",
            "--checkpoint",
            "cp.txt",
            "--vkey",
            "owner.vkey",
        ],
    );
    assert_ne!(r.code, 0);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(all.contains("different key of the same name"), "{all}");
}

#[test]
fn pubkey_prints_the_public_half_of_an_openssl_key() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("k.pem");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/openssl-ed25519.TEST-KEY-PUBLIC.pem"
        ),
        &key,
    )
    .unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = custody(tmp.path(), &["pubkey", "k.pem"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // `openssl pkey -pubout` agrees: the raw key is the last 32 bytes of its DER.
    let der = std::process::Command::new("openssl")
        .args(["pkey", "-in", "k.pem", "-pubout", "-outform", "DER"])
        .current_dir(tmp.path())
        .output()
        .expect("openssl is installed");
    assert!(der.status.success());
    assert_eq!(
        r.stdout.trim(),
        hex::encode(&der.stdout[der.stdout.len() - 32..])
    );
}

#[test]
fn one_entry_file_prints_and_checks_against_a_proof() {
    let f = Fixture::new();
    f.append_ok(
        "appender.key",
        r#"{"type":"artifact","id":"ds","kind":"data"}"#,
    );
    let r = custody(f.dir(), &["log", "L", "--seq", "2", "--out", "e2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = custody(f.dir(), &["log", "e2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("artifact") && r.stdout.contains("ds (data)"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("one entry, not a ledger"), "{}", r.stderr);
    let r = custody(f.dir(), &["log", "e2", "--json"]);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(v["seq"], 2);
    assert_eq!(v["id"], "ds");

    let cp = custody(f.dir(), &["checkpoint", "L", "--key", "owner.key"]).stdout;
    std::fs::write(f.path("cp"), &cp).unwrap();
    let origin = cp.lines().next().unwrap().to_string();
    let vkey = custody(f.dir(), &["vkey", "--key", "owner.key", "--name", &origin]).stdout;
    std::fs::write(f.path("vk"), vkey.trim()).unwrap();
    let r = custody(
        f.dir(),
        &[
            "prove",
            "inclusion",
            "L",
            "--seq",
            "2",
            "--checkpoint",
            "cp",
            "--out",
            "p2",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = custody(f.dir(), &["log", "e2", "--proof", "p2", "--vkey", "vk"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("is in the log"), "{}", r.stderr);
    // Another entry against that proof: refused, exit 1.
    assert_eq!(
        custody(f.dir(), &["log", "L", "--seq", "1", "--out", "e1"]).code,
        0
    );
    let r = custody(f.dir(), &["log", "e1", "--proof", "p2", "--vkey", "vk"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    // A tampered entry: its signature fails.
    let mut b = std::fs::read(f.path("e2")).unwrap();
    let n = b.len();
    b[n - 1] ^= 1;
    std::fs::write(f.path("e2bad"), b).unwrap();
    let r = custody(f.dir(), &["log", "e2bad"]);
    assert_ne!(r.code, 0);
}

#[test]
fn completions_and_man_pages_come_from_the_cli_definition() {
    let tmp = tempfile::tempdir().unwrap();
    let r = custody(tmp.path(), &["completions", "bash"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("openness") && r.stdout.contains("verify-proof"));
    std::fs::write(tmp.path().join("c.bash"), &r.stdout).unwrap();
    let ok = std::process::Command::new("bash")
        .args(["-n", "c.bash"])
        .current_dir(tmp.path())
        .status()
        .unwrap();
    assert!(ok.success(), "the bash completion script does not parse");
    for shell in ["zsh", "fish"] {
        let r = custody(tmp.path(), &["completions", shell]);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("pubkey"), "{shell}");
    }
    let r = custody(tmp.path(), &["man"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains(".TH custody 1"), "{}", r.stdout);
    let r = custody(tmp.path(), &["man", "openness"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains(".TH custody-openness 1"), "{}", r.stdout);
    // The page names the twelve components.
    assert!(
        joined(&r.stdout.replace("\\-", "-")).contains("pretraining-data, sft-data"),
        "{}",
        r.stdout
    );
    assert_eq!(custody(tmp.path(), &["man", "nope"]).code, 2);
}

#[test]
fn help_names_the_twelve_components() {
    let tmp = tempfile::tempdir().unwrap();
    let r = custody(tmp.path(), &["openness", "--help"]);
    for c in custody::COMPONENTS {
        assert!(
            r.stdout.contains(c),
            "{c} missing from --help:\n{}",
            r.stdout
        );
    }
}
