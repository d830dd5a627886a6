//! The command-line contract, end to end.

mod common;

use common::{custody, custody_in, digest, snapshot, Fixture};
use serde_json::Value;
use std::process::{Command, Stdio};

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

#[test]
fn keygen_writes_a_private_pem_and_a_public_hex_file() {
    let tmp = tempfile::tempdir().unwrap();
    let r = custody(tmp.path(), &["keygen", "--out", "k"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let public = r.stdout.trim();
    assert_eq!(public.len(), 64);
    let pem = std::fs::read_to_string(tmp.path().join("k")).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("k.pub")).unwrap(),
        format!("{public}\n")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tmp.path().join("k"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never overwrites a key.
    let r = custody(tmp.path(), &["keygen", "--out", "k"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("already exists"));
    assert_eq!(std::fs::read_to_string(tmp.path().join("k")).unwrap(), pem);
}

#[test]
fn an_openssl_key_signs() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/openssl-ed25519.TEST-KEY-PUBLIC.pem"
    );
    // As `openssl genpkey` leaves it under a usual umask: readable by all.
    let key = tmp.path().join("openssl.pem");
    std::fs::copy(src, &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let key = key.to_str().unwrap();
    let r = custody(
        tmp.path(),
        &["init", "L", "--key", key, "--name", "from openssl"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("permissions 0644 are too open")
            && r.stderr.contains(&format!("run `chmod 600 {key}`")),
        "{}",
        r.stderr
    );
    assert!(!tmp.path().join("L").exists());
    std::fs::set_permissions(key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = custody(
        tmp.path(),
        &["init", "L", "--key", key, "--name", "from openssl"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = custody(tmp.path(), &["verify", "L", "--json"]);
    assert_eq!(json(&r.stdout)["valid"], true);
}

#[test]
fn init_refuses_an_existing_path_and_bad_keys() {
    let f = Fixture::new();
    let before = snapshot(&f.path("L"));
    let r = custody(
        f.dir(),
        &["init", "L", "--key", "owner.key", "--name", "again"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert!(before == snapshot(&f.path("L")));
    std::fs::create_dir(f.path("empty")).unwrap();
    assert_eq!(
        custody(
            f.dir(),
            &["init", "empty", "--key", "owner.key", "--name", "x"]
        )
        .code,
        2
    );
    std::fs::write(f.path("bad.key"), "not a key").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(f.path("bad.key"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    }
    let r = custody(f.dir(), &["init", "M", "--key", "bad.key", "--name", "x"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("PKCS#8"), "{}", r.stderr);
    assert!(!f.path("M").exists());
    let r = custody(
        f.dir(),
        &["init", "M", "--key", "missing.key", "--name", "x"],
    );
    assert_eq!(r.code, 2);
    assert!(!f.path("M").exists());
}

#[test]
fn append_verify_export_import_log_round_trip() {
    let f = Fixture::new();
    let events = [
        format!(r#"{{"type":"artifact","id":"corpus","kind":"data","digest":"{}","uri":"https://data.example/corpus","size":42}}"#, digest('c')),
        r#"{"type":"custody","artifact":"corpus","from":"https://data.example","to":"data team","note":"mirrored"}"#.to_string(),
        r#"{"type":"artifact","id":"clean","kind":"data"}"#.to_string(),
        r#"{"type":"transformation","operation":"dedup","inputs":["corpus"],"outputs":["clean"],"parameters":{"threshold":0.9,"keep":"first"}}"#.to_string(),
        r#"{"type":"license","artifact":"corpus","license":"CC-BY-4.0"}"#.to_string(),
        r#"{"type":"release","artifact":"clean","access":"public"}"#.to_string(),
    ];
    std::fs::write(f.path("events.jsonl"), events.join("\n") + "\n").unwrap();
    let r = custody(
        f.dir(),
        &["append", "L", "--key", "appender.key", "events.jsonl"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("appended 6 entries; the ledger has 8 entries; head "),
        "{}",
        r.stdout
    );

    let r = custody(f.dir(), &["verify", "L"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("valid ledger \"fixture\""));
    assert!(r.stdout.contains("not pinned"), "{}", r.stdout);
    assert!(r.stdout.contains(&f.owner));

    let v = json(&custody(f.dir(), &["verify", "L", "--json"]).stdout);
    assert_eq!(v["valid"], true);
    assert_eq!(v["entries"], 8);
    assert_eq!(v["owner"], f.owner.as_str());
    assert_eq!(v["pinned"], false);
    let head = v["head"].as_str().unwrap().to_string();

    let r = custody(f.dir(), &["export", "L", "--out", "L.cbor"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(
        &custody(
            f.dir(),
            &["verify", "L.cbor", "--json", "--owner", &f.owner],
        )
        .stdout,
    );
    assert_eq!(
        (v["valid"].clone(), v["pinned"].clone(), v["head"].as_str()),
        (Value::Bool(true), Value::Bool(true), Some(head.as_str()))
    );

    let r = custody(f.dir(), &["import", "L.cbor", "L2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(
        &custody(
            f.dir(),
            &["verify", "L2", "--json", "--owner", "owner.key.pub"],
        )
        .stdout,
    );
    assert_eq!(v["head"], head.as_str());
    assert_eq!(v["pinned"], true);

    // The log is the same whichever form is read, and shows each event as appended.
    let log = custody(f.dir(), &["log", "L", "--json"]).stdout;
    assert_eq!(log, custody(f.dir(), &["log", "L.cbor", "--json"]).stdout);
    assert_eq!(log, custody(f.dir(), &["log", "L2", "--json"]).stdout);
    let lines: Vec<Value> = log.lines().map(json).collect();
    assert_eq!(lines.len(), 8);
    for (i, ev) in events.iter().enumerate() {
        let mut got = lines[i + 2].clone();
        let m = got.as_object_mut().unwrap();
        assert_eq!(m.remove("seq"), Some(Value::from(i as u64 + 2)));
        assert_eq!(m.remove("signer").unwrap(), f.appender.as_str());
        assert_eq!(m.remove("hash").unwrap().as_str().unwrap().len(), 64);
        assert!(m.remove("time").unwrap().as_str().unwrap().ends_with('Z'));
        assert_eq!(got, json(ev));
    }
    assert_eq!(lines.last().unwrap()["hash"], head.as_str());
    let text = custody(f.dir(), &["log", "L"]).stdout;
    assert!(
        text.contains("transformation") && text.contains("dedup: corpus -> clean"),
        "{text}"
    );
}

#[test]
fn pinning_the_wrong_owner_fails_verification() {
    let f = Fixture::new();
    let r = custody(f.dir(), &["verify", "L", "--owner", &f.stranger, "--json"]);
    assert_eq!(r.code, 1);
    let v = json(&r.stdout);
    assert_eq!(v["error"]["reason"], "owner-mismatch");
    assert_eq!(v["error"]["seq"], 0);
    let r = custody(f.dir(), &["verify", "L", "--owner", "zz"]);
    assert_eq!(r.code, 2);
}

#[test]
fn grants_and_revocations_are_honoured() {
    let f = Fixture::new();
    let art = r#"{"type":"artifact","id":"a1","kind":"code"}"#;
    // A stranger may not append.
    let r = f.append("stranger.key", art);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("never granted"), "{}", r.stderr);
    // The appender may.
    f.append_ok("appender.key", art);
    // Granting the stranger ownership lets it grant and revoke.
    f.append_ok(
        "owner.key",
        &format!(
            r#"{{"type":"grant","key":"{}","role":"owner"}}"#,
            f.stranger
        ),
    );
    f.append_ok(
        "stranger.key",
        &format!(r#"{{"type":"revoke","key":"{}"}}"#, f.appender),
    );
    // The revoked appender is refused from then on.
    let r = f.append(
        "appender.key",
        r#"{"type":"artifact","id":"a2","kind":"code"}"#,
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("revoked"), "{}", r.stderr);
    // An owner may revoke another owner, but never the last one.
    f.append_ok(
        "stranger.key",
        &format!(r#"{{"type":"revoke","key":"{}"}}"#, f.owner),
    );
    let r = f.append(
        "stranger.key",
        &format!(r#"{{"type":"revoke","key":"{}"}}"#, f.stranger),
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("last owner"));
    // The original owner is now refused; the ledger verifies throughout.
    assert_eq!(
        f.append(
            "owner.key",
            r#"{"type":"artifact","id":"a3","kind":"code"}"#
        )
        .code,
        2
    );
    let v = json(&custody(f.dir(), &["verify", "L", "--json"]).stdout);
    assert_eq!(v["valid"], true);
    assert_eq!(v["entries"], 6);
}

#[test]
fn missing_sources_and_wrong_kinds_are_usage_errors() {
    let f = Fixture::new();
    for args in [
        vec!["verify", "nowhere"],
        vec!["log", "nowhere"],
        vec!["export", "nowhere", "--out", "x"],
        vec!["import", "L", "L3"],
        vec!["append", "nowhere", "--key", "owner.key"],
    ] {
        let r = custody(f.dir(), &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("custody: "), "{args:?}: {}", r.stderr);
    }
    // An ordinary directory is not taken for a ledger, and is left alone.
    std::fs::create_dir(f.path("plain")).unwrap();
    let r = custody(f.dir(), &["verify", "plain"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a custody ledger"));
    assert_eq!(std::fs::read_dir(f.path("plain")).unwrap().count(), 0);
    // Random bytes are an invalid ledger, not a crash.
    std::fs::write(f.path("junk"), b"\x00\x01\x02 junk").unwrap();
    let r = custody(f.dir(), &["verify", "junk"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("entry 0: malformed"), "{}", r.stderr);
}

#[test]
fn an_invalid_file_is_neither_imported_nor_exported() {
    let f = Fixture::new();
    assert_eq!(
        custody(f.dir(), &["export", "L", "--out", "good.cbor"]).code,
        0
    );
    let mut bytes = std::fs::read(f.path("good.cbor")).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0x20;
    std::fs::write(f.path("bad.cbor"), &bytes).unwrap();
    let r = custody(f.dir(), &["import", "bad.cbor", "L4"]);
    assert_eq!(r.code, 1);
    assert!(!f.path("L4").exists());
    let r = custody(f.dir(), &["export", "bad.cbor", "--out", "again.cbor"]);
    assert_eq!(r.code, 1);
    assert!(!f.path("again.cbor").exists());
}

#[test]
fn log_stops_at_the_first_bad_entry() {
    let f = Fixture::new();
    f.append_ok("owner.key", r#"{"type":"artifact","id":"a","kind":"data"}"#);
    assert_eq!(
        custody(f.dir(), &["export", "L", "--out", "x.cbor"]).code,
        0
    );
    let mut bytes = std::fs::read(f.path("x.cbor")).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    std::fs::write(f.path("x.cbor"), &bytes).unwrap();
    let r = custody(f.dir(), &["log", "x.cbor", "--json"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout.lines().count(),
        2,
        "only the verified entries are shown"
    );
    assert!(r.stderr.contains("entry 2: bad-signature"), "{}", r.stderr);
}

#[test]
fn stdin_dash_and_absent_file_read_standard_input() {
    let f = Fixture::new();
    let r = custody_in(
        f.dir(),
        &["append", "L", "--key", "owner.key", "-"],
        "{\"type\":\"artifact\",\"id\":\"s1\",\"kind\":\"data\"}\n\n",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("appended 1 entry"));
    let r = custody_in(
        f.dir(),
        &["append", "L", "--key", "owner.key"],
        "{\"type\":\"artifact\",\"id\":\"s2\",\"kind\":\"data\"}",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("the ledger has 4 entries"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let f = Fixture::new();
    let lines: String = (0..300)
        .map(|i| format!("{{\"type\":\"artifact\",\"id\":\"p{i}\",\"kind\":\"data\"}}\n"))
        .collect();
    f.append_ok("owner.key", &lines);
    let mut child = Command::new(common::bin())
        .args(["log", &common::ledger_arg(f.dir(), "L")])
        .current_dir(f.dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
