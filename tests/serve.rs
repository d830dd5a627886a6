//! `custody serve` over real HTTP on loopback: remote appends by
//! concurrent CLI clients (on PostgreSQL, through two servers sharing one
//! ledger), hostile requests, and a graceful stop. Its `_on_postgres` twin
//! serves a ledger of the test cluster.

mod common;

use common::server::Server;
use common::{custody, custody_in, on_postgres, Fixture};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};

fn get_json(url: &str) -> Value {
    let body = ureq::get(url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

fn post(url: &str, body: &[u8]) -> (u16, Value) {
    let mut resp = ureq::post(url)
        .config()
        .http_status_as_error(false)
        .build()
        .send(body)
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn batch(tag: &str) -> String {
    (0..10)
        .map(|i| format!("{{\"type\":\"artifact\",\"id\":\"{tag}-{i}\",\"kind\":\"data\"}}\n"))
        .collect()
}

#[test]
fn concurrent_remote_appends_are_each_stored_once_and_whole() {
    let f = Fixture::new();
    let d = f.dir();
    // Eight appender keys, granted by the owner.
    let mut grants = String::new();
    for p in 0..8 {
        let k = custody(d, &["keygen", "--out", &format!("r{p}.key")]);
        assert_eq!(k.code, 0);
        grants.push_str(&format!(
            "{{\"type\":\"grant\",\"key\":\"{}\",\"role\":\"appender\"}}\n",
            k.stdout.trim()
        ));
    }
    f.append_ok("owner.key", &grants);
    let before = get_entries(&f);
    // On PostgreSQL, two servers share the ledger; a directory has one.
    let servers: Vec<Server> = (0..if on_postgres() { 2 } else { 1 })
        .map(|_| Server::start(&f, &[]))
        .collect();
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let results: Vec<(String, common::Run)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|p| {
                let base = bases[p % bases.len()].clone();
                s.spawn(move || {
                    let mut out = Vec::new();
                    for b in 0..4 {
                        let tag = format!("r{p}b{b}");
                        let r = custody_in(
                            d,
                            &["append", &base, "--key", &format!("r{p}.key")],
                            &batch(&tag),
                        );
                        out.push((tag, r));
                    }
                    out
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    for (tag, r) in &results {
        assert_eq!(r.code, 0, "{tag}: {}{}", r.stdout, r.stderr);
    }
    // A third party verifies through the server, and the log says where
    // each batch went: every one once, its ten entries together.
    let v = custody(d, &["verify", &bases[0], "--json"]);
    assert_eq!(v.code, 0, "{}", v.stderr);
    let v: Value = serde_json::from_str(&v.stdout).unwrap();
    assert_eq!(v["entries"].as_u64().unwrap(), before + 32 * 10);
    let log = custody(d, &["log", &bases[0], "--json"]);
    assert_eq!(log.code, 0, "{}", log.stderr);
    let mut seqs: std::collections::HashMap<String, Vec<u64>> = Default::default();
    for line in log.stdout.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        if let Some(id) = e["id"].as_str() {
            if let Some((tag, _)) = id.rsplit_once('-') {
                seqs.entry(tag.to_string())
                    .or_default()
                    .push(e["seq"].as_u64().unwrap());
            }
        }
    }
    for (tag, _) in &results {
        let s = &seqs[tag];
        assert_eq!(s.len(), 10, "{tag}: {s:?}");
        assert!(s.windows(2).all(|w| w[1] == w[0] + 1), "{tag}: {s:?}");
    }
    for s in servers {
        let (code, log) = s.stop();
        assert_eq!(code, Some(0), "{log}");
        assert!(log.contains("POST /v1/fixture/entries 200"), "{log}");
        // A client's later batches download only what came since its last.
        assert!(log.contains("GET /v1/fixture/entries 200"), "{log}");
    }
    // The same ledger, read where it lives.
    assert_eq!(custody(d, &["verify", "L"]).code, 0);
}

fn get_entries(f: &Fixture) -> u64 {
    let v = custody(f.dir(), &["verify", "L", "--json"]);
    assert_eq!(v.code, 0, "{}", v.stderr);
    serde_json::from_str::<Value>(&v.stdout).unwrap()["entries"]
        .as_u64()
        .unwrap()
}

#[test]
fn hostile_requests_change_nothing_and_the_server_goes_on() {
    let f = Fixture::new();
    let d = f.dir();
    let s = Server::start(&f, &[]);
    let summary = get_json(&s.base);
    assert_eq!(summary["name"], "fixture");
    let n = summary["entries"].as_u64().unwrap();
    let head = summary["head"].clone();
    let entries = format!("{}/entries", s.base);
    // Not entries at all.
    let (st, v) = post(&entries, b"{\"type\":\"artifact\"}");
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["error"], "malformed");
    // Nothing.
    assert_eq!(post(&entries, b"").0, 400);
    // Too large: refused on its declared length, before it is read (a
    // client still sending would see its connection closed).
    let addr = s
        .base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut big = std::net::TcpStream::connect(&addr).unwrap();
    big.write_all(
        format!(
            "POST /v1/fixture/entries HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\nab",
            65u64 << 20
        )
        .as_bytes(),
    )
    .unwrap();
    let mut status = String::new();
    BufReader::new(&big).read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    drop(big);
    // Signed by a key the ledger never granted: the client refuses to
    // sign it, so the test signs it as an attacker would.
    let stranger = custody_in(
        d,
        &["append", &s.base, "--key", "stranger.key"],
        &batch("x"),
    );
    assert_eq!(stranger.code, 2, "{}", stranger.stdout);
    assert!(
        stranger.stderr.contains("may not append"),
        "{}",
        stranger.stderr
    );
    let forged = forge(&f, &summary, "stranger.key");
    let (st, v) = post(&entries, &forged);
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["error"], "unauthorized", "{v}");
    // A batch that went in, posted again: built on a head that moved.
    let ok = custody_in(
        d,
        &["append", &s.base, "--key", "appender.key"],
        &batch("a"),
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let replay = forge(&f, &summary, "appender.key");
    let (st, v) = post(&entries, &replay);
    assert_eq!(st, 409, "{v}");
    assert_eq!(v["entries"].as_u64().unwrap(), n + 10);
    // Another ledger's entries.
    let other = tempfile::tempdir().unwrap();
    let r = custody(other.path(), &["keygen", "--out", "k.key"]);
    assert_eq!(r.code, 0);
    assert_eq!(
        custody(
            other.path(),
            &["init", "M", "--key", "k.key", "--name", "m"]
        )
        .code,
        0
    );
    assert_eq!(
        custody(other.path(), &["export", "M", "--out", "m.custody"]).code,
        0
    );
    let m = std::fs::read(other.path().join("m.custody")).unwrap();
    let (st, _) = post(&entries, &m);
    assert!(st == 409 || st == 422, "{st}");
    // A slow client that never finishes its request holds nobody up.
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    slow.write_all(
        b"POST /v1/fixture/entries HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab",
    )
    .unwrap();
    let again = get_json(&s.base);
    assert_eq!(again["entries"].as_u64().unwrap(), n + 10);
    assert_ne!(again["head"], head);
    // Nothing but the one good batch went in.
    drop(slow);
    let (code, log) = s.stop();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(get_entries(&f), n + 10);
}

/// Entries signed with `key` on top of the ledger as `summary` describes
/// it, bypassing the client's checks: what a hostile client could send.
fn forge(f: &Fixture, summary: &Value, key: &str) -> Vec<u8> {
    let key = custody::read_signing_key(&f.path(key)).unwrap();
    let mut head = [0u8; 32];
    hex::decode_to_slice(summary["head"].as_str().unwrap(), &mut head).unwrap();
    let mut id = [0u8; 32];
    hex::decode_to_slice(summary["ledger"].as_str().unwrap(), &mut id).unwrap();
    let mut out = Vec::new();
    let mut prev = head;
    let n = summary["entries"].as_u64().unwrap();
    for i in 0..10u64 {
        let event = serde_json::json!({"type": "artifact", "id": format!("a-{i}"), "kind": "data"});
        let header = custody::EntryHeader {
            seq: n + i,
            prev: Some(prev),
            ledger: Some(id),
            time: 1_800_000_000,
            roles: 2,
        };
        let bytes = custody::sign_entry(&key, &header, &event).unwrap();
        prev = custody::entry_hash(&bytes);
        out.extend_from_slice(&bytes);
    }
    out
}

/// schemas/openapi.yaml documents exactly the routes the server has, and
/// every status the append route answers with.
#[test]
fn the_openapi_file_matches_the_routes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let api = std::fs::read_to_string(root.join("schemas/openapi.yaml")).unwrap();
    let code = std::fs::read_to_string(root.join("src/bin/custody/serve.rs")).unwrap();
    let documented: std::collections::BTreeSet<String> = api
        .lines()
        .filter(|l| l.starts_with("  /"))
        .map(|l| l.trim().trim_end_matches(':').to_string())
        .collect();
    let served: std::collections::BTreeSet<String> = code
        .split(".route(\"")
        .skip(1)
        .map(|r| r.split('"').next().unwrap().to_string())
        .collect();
    assert!(!served.is_empty());
    assert_eq!(documented, served);
    let entries = api.split("  /v1/{ledger}/entries:").nth(1).unwrap();
    for status in [
        "\"200\"", "\"400\"", "\"409\"", "\"413\"", "\"422\"", "\"503\"",
    ] {
        assert!(entries.contains(status), "{status} undocumented");
    }
}

/// A server killed with SIGKILL while clients append, then started again:
/// every batch a client was told is stored is there, whole; no batch is
/// there in part.
#[test]
fn a_killed_server_loses_no_acknowledged_batch() {
    let f = Fixture::new();
    let d = f.dir();
    let mut grants = String::new();
    for p in 0..4 {
        let k = custody(d, &["keygen", "--out", &format!("k{p}.key")]);
        grants.push_str(&format!(
            "{{\"type\":\"grant\",\"key\":\"{}\",\"role\":\"appender\"}}\n",
            k.stdout.trim()
        ));
    }
    f.append_ok("owner.key", &grants);
    let server = std::sync::Mutex::new(Server::start(&f, &[]));
    let base = std::sync::RwLock::new(server.lock().unwrap().base.clone());
    let running = std::sync::atomic::AtomicBool::new(true);
    let results: Vec<(String, i32)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|p| {
                let (base, running) = (&base, &running);
                s.spawn(move || {
                    let mut out = Vec::new();
                    let mut b = 0;
                    while running.load(std::sync::atomic::Ordering::SeqCst) {
                        let tag = format!("k{p}b{b}");
                        b += 1;
                        let url = base.read().unwrap().clone();
                        let r = custody_in(
                            d,
                            &["append", &url, "--key", &format!("k{p}.key")],
                            &batch(&tag),
                        );
                        out.push((tag, r.code));
                    }
                    out
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        {
            let mut srv = server.lock().unwrap();
            let _ = srv.child.kill();
            let _ = srv.child.wait();
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        let again = Server::start(&f, &[]);
        *base.write().unwrap() = again.base.clone();
        *server.lock().unwrap() = again;
        std::thread::sleep(std::time::Duration::from_millis(1500));
        running.store(false, std::sync::atomic::Ordering::SeqCst);
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let url = base.read().unwrap().clone();
    let log = custody(d, &["log", &url, "--json"]);
    assert_eq!(log.code, 0, "{}", log.stderr);
    let mut seqs: std::collections::HashMap<String, Vec<u64>> = Default::default();
    for line in log.stdout.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        if let Some((tag, _)) = e["id"].as_str().and_then(|id| id.rsplit_once('-')) {
            seqs.entry(tag.to_string())
                .or_default()
                .push(e["seq"].as_u64().unwrap());
        }
    }
    let mut acked = 0;
    for (tag, code) in &results {
        let s = seqs.get(tag).map(Vec::as_slice).unwrap_or(&[]);
        assert!(
            s.is_empty() || s.len() == 10,
            "{tag} is there in part: {s:?}"
        );
        if *code == 0 {
            assert_eq!(s.len(), 10, "acknowledged {tag} was lost");
            acked += 1;
        } else {
            assert_eq!(*code, 2, "{tag}");
        }
    }
    assert!(acked >= 4, "too few batches got through: {acked}");
    assert!(
        results.iter().any(|r| r.1 != 0),
        "the kill met no append under way"
    );
    let (code, errs) = server.into_inner().unwrap().stop();
    assert_eq!(code, Some(0), "{errs}");
}

fn text(method: &str, url: &str, body: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = match method {
        "GET" => agent.get(url).call(),
        _ => agent.post(url).send(body),
    }
    .unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap_or_default())
}

/// Proofs over HTTP check out offline with the checkpoint key's verifier
/// key alone; a client proves against a served ledger it verified itself;
/// a server without a checkpoint key says so.
#[test]
fn proofs_from_a_server_check_out_offline() {
    let f = Fixture::new();
    let d = f.dir();
    assert_eq!(custody(d, &["keygen", "--out", "cp.key"]).code, 0);
    f.append_ok("appender.key", &batch("first"));

    let plain = Server::start(&f, &[]);
    let (st, body) = text("GET", &format!("{}/proof/inclusion?seq=2", plain.base), "");
    assert_eq!(st, 404, "{body}");
    assert!(body.contains("no-checkpoint-key"), "{body}");
    plain.stop();

    let s = Server::start(&f, &["--checkpoint-key", "cp.key"]);
    let (st, body) = text("GET", &format!("{}/proof/inclusion", s.base), "");
    assert_eq!(st, 400, "{body}");
    let (st, old) = text("GET", &format!("{}/checkpoint", s.base), "");
    assert_eq!(st, 200, "{old}");
    // The verifier key is named for the log (the checkpoint's origin).
    let origin = old.lines().next().unwrap();
    let vkey = custody(d, &["vkey", "--key", "cp.key", "--name", origin]);
    assert_eq!(vkey.code, 0, "{}", vkey.stderr);
    let vkey = vkey.stdout.trim().to_string();
    let r = custody_in(
        d,
        &["append", &s.base, "--key", "appender.key"],
        &batch("second"),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    // Inclusion: the proof and the entry, checked offline.
    let (st, proof) = text("GET", &format!("{}/proof/inclusion?seq=4", s.base), "");
    assert_eq!(st, 200, "{proof}");
    std::fs::write(d.join("p4"), &proof).unwrap();
    let e = custody(d, &["log", &s.base, "--seq", "4", "--out", "e4"]);
    assert_eq!(e.code, 0, "{}", e.stderr);
    let ok = custody(d, &["verify-proof", "p4", "--entry", "e4", "--vkey", &vkey]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(ok.stdout.contains("entry 4 "), "{}", ok.stdout);
    // Another entry's bytes do not pass for it.
    assert_eq!(
        custody(d, &["log", &s.base, "--seq", "5", "--out", "e5"]).code,
        0
    );
    let bad = custody(d, &["verify-proof", "p4", "--entry", "e5", "--vkey", &vkey]);
    assert_eq!(bad.code, 1, "{}{}", bad.stdout, bad.stderr);
    let (st, body) = text("GET", &format!("{}/proof/inclusion?seq=999", s.base), "");
    assert_eq!(st / 100, 4, "{body}");

    // Consistency from the older checkpoint to the tree now.
    let (st, cons) = text("POST", &format!("{}/proof/consistency", s.base), &old);
    assert_eq!(st, 200, "{cons}");
    let old_size: u64 = old.lines().nth(1).unwrap().parse().unwrap();
    assert_eq!(cons.lines().next().unwrap(), format!("old {old_size}"));
    assert!(cons.lines().count() > 1, "{cons}");
    let (st, body) = text(
        "POST",
        &format!("{}/proof/consistency", s.base),
        "not a note",
    );
    assert_eq!(st, 400, "{body}");

    // The client proves against the server's checkpoint from a copy it
    // verified itself; it signs no checkpoint of a served ledger.
    std::fs::write(d.join("old.cp"), &old).unwrap();
    let p = custody(
        d,
        &[
            "prove",
            "inclusion",
            &s.base,
            "--seq",
            "2",
            "--checkpoint",
            "old.cp",
            "--out",
            "p2",
        ],
    );
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert_eq!(
        custody(d, &["log", &s.base, "--seq", "2", "--out", "e2"]).code,
        0
    );
    let ok = custody(d, &["verify-proof", "p2", "--entry", "e2", "--vkey", &vkey]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    let c = custody(d, &["prove", "consistency", &s.base, "--from", "old.cp"]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert_eq!(c.stdout, cons);
    let refused = custody(
        d,
        &[
            "prove",
            "inclusion",
            &s.base,
            "--seq",
            "2",
            "--key",
            "appender.key",
            "--out",
            "p",
        ],
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("signed by its server"),
        "{}",
        refused.stderr
    );
    let (code, log) = s.stop();
    assert_eq!(code, Some(0), "{log}");
}
