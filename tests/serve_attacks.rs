//! Attacks on `custody serve` and its remote client, each found by an
//! outside review and each refused here: a ledger swapped in at a URL a
//! key built on, a rolled-back served ledger, an answer lost after the
//! batch was stored (a retry must not store it twice), work cut off by the
//! body deadline, another key's note suppressing an OpenLineage event, a
//! run naming more datasets than an entry holds, and URLs carrying
//! secrets. Ledger directories (the server's handling does not depend on
//! the store; `serve_on_postgres` runs the shared flows on PostgreSQL).

mod common;

use common::server::Server;
use common::{custody, custody_in, Fixture};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;

fn batch(tag: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"type\":\"artifact\",\"id\":\"{tag}-{i}\",\"kind\":\"data\"}}\n"))
        .collect()
}

fn entries(d: &Path, source: &str) -> u64 {
    let v = custody(d, &["verify", source, "--json"]);
    assert_eq!(v.code, 0, "{}", v.stderr);
    serde_json::from_str::<Value>(&v.stdout).unwrap()["entries"]
        .as_u64()
        .unwrap()
}

fn count_ids(d: &Path, source: &str, prefix: &str) -> usize {
    let log = custody(d, &["log", source, "--json"]);
    assert_eq!(log.code, 0, "{}", log.stderr);
    log.stdout
        .lines()
        .filter(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .is_some_and(|id| id.starts_with(prefix))
        })
        .count()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A ledger of another owner, of the same name, granting the victim's
/// key, served later at the URL the key appended to: nothing is signed
/// into it.
#[test]
fn a_key_signs_into_no_other_ledger_served_at_the_same_url() {
    let f = Fixture::new();
    let d = f.dir();
    let s = Server::start(&f, &[]);
    let (base, addr) = (s.base.clone(), s.addr.clone());
    let r = custody_in(
        d,
        &["append", &base, "--key", "appender.key"],
        &batch("a", 3),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    s.stop();
    // The look-alike: same name, owned by the stranger, longer.
    assert_eq!(
        custody(
            d,
            &["init", "B", "--key", "stranger.key", "--name", "fixture"]
        )
        .code,
        0
    );
    let grant = format!(
        "{{\"type\":\"grant\",\"key\":\"{}\",\"role\":\"appender\"}}\n{}",
        f.appender,
        batch("filler", 20)
    );
    let r = custody_in(d, &["append", "B", "--key", "stranger.key"], &grant);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = entries(d, "B");
    let evil = Server::start_on(&f, "B", &addr, &[]);
    assert_eq!(evil.base, base);
    let r = custody_in(
        d,
        &["append", &base, "--key", "appender.key"],
        &batch("b", 1),
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("this key built on there"), "{}", r.stderr);
    evil.stop();
    assert_eq!(entries(d, "B"), before);
}

/// A served ledger rolled back below what this key verified there is
/// refused at once, not retried as if the head were only moving.
#[test]
fn a_rolled_back_served_ledger_is_refused_at_once() {
    let f = Fixture::new();
    let d = f.dir();
    copy_dir(&d.join("L"), &d.join("L.old"));
    let s = Server::start(&f, &[]);
    let (base, addr) = (s.base.clone(), s.addr.clone());
    let r = custody_in(
        d,
        &["append", &base, "--key", "appender.key"],
        &batch("a", 3),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    s.stop();
    let old = Server::start_on(&f, "L.old", &addr, &[]);
    let t = std::time::Instant::now();
    let r = custody_in(
        d,
        &["append", &base, "--key", "appender.key"],
        &batch("b", 1),
    );
    assert_ne!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("rolled back") || r.stderr.contains("fork"),
        "{}",
        r.stderr
    );
    assert!(
        t.elapsed() < std::time::Duration::from_secs(10),
        "retried for {:?}",
        t.elapsed()
    );
    old.stop();
    assert_eq!(entries(d, "L.old"), 2);
}

/// Reads one HTTP/1.1 message (head and a Content-Length body) from `r`.
fn read_message(r: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let len = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    head.extend_from_slice(&body);
    Some(head)
}

/// A front that forwards everything to `server`, but answers the first
/// batch it forwards with a 502 after the server stored it: the answer
/// the client gets is not the server's.
fn lossy_front(server: String) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let lost = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(c) = c else { return };
            let server = server.clone();
            let lost = lost.clone();
            std::thread::spawn(move || {
                let mut w = c.try_clone().unwrap();
                let mut r = BufReader::new(c);
                while let Some(req) = read_message(&mut r) {
                    let mut up = TcpStream::connect(&server).unwrap();
                    up.write_all(&req).unwrap();
                    let answer = read_message(&mut BufReader::new(up)).unwrap();
                    if req.starts_with(b"POST ")
                        && !lost.swap(true, std::sync::atomic::Ordering::SeqCst)
                    {
                        let _ = w.write_all(
                            b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        );
                        return;
                    }
                    if w.write_all(&answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// The batch reached the server and was stored, but the client never
/// heard so: it says the outcome is unknown, and the same append run again
/// finds the batch instead of storing it a second time.
#[test]
fn an_answer_lost_after_the_batch_was_stored_does_not_store_it_twice() {
    let f = Fixture::new();
    let d = f.dir();
    let s = Server::start(&f, &[]);
    let front = lossy_front(s.addr.clone());
    let url = format!("http://{front}/v1/fixture");
    let events = batch("once", 5);
    let r = custody_in(d, &["append", &url, "--key", "appender.key"], &events);
    assert_ne!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("run the same append again"),
        "{}",
        r.stderr
    );
    assert_eq!(count_ids(d, &s.base, "once-"), 5, "stored by the server");
    let again = custody_in(d, &["append", &url, "--key", "appender.key"], &events);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("already in"), "{}", again.stdout);
    assert_eq!(count_ids(d, &s.base, "once-"), 5, "stored once");
    // And the next batch goes on as usual.
    let next = custody_in(
        d,
        &["append", &url, "--key", "appender.key"],
        &batch("next", 2),
    );
    assert_eq!(next.code, 0, "{}{}", next.stdout, next.stderr);
    assert_eq!(count_ids(d, &s.base, "next-"), 2);
    s.stop();
}

/// The deadline is for the body's arrival: a batch that takes the server
/// longer than that to check and store is answered with what happened,
/// not "timeout" while it is stored anyway.
#[test]
fn the_body_deadline_does_not_cut_off_work_under_way() {
    let f = Fixture::new();
    let d = f.dir();
    let s = Server::start(&f, &["--body-timeout", "1"]);
    let n = 60_000;
    let r = custody_in(
        d,
        &["append", &s.base, "--key", "appender.key"],
        &batch("big", n),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("appended {n} entries")),
        "{}",
        r.stdout
    );
    let (code, log) = s.stop();
    assert_eq!(code, Some(0), "{log}");
    // It did take longer than the deadline, or the test shows nothing.
    let ms: f64 = log
        .lines()
        .find(|l| l.contains("POST /v1/fixture/entries 200"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|t| t.trim_end_matches("ms").parse().ok())
        .unwrap_or_else(|| panic!("{log}"));
    assert!(ms > 1000.0, "the batch took {ms} ms: make it larger");
    assert_eq!(entries(d, "L"), 2 + n as u64);
}

fn lineage_server(f: &Fixture) -> (Server, String) {
    let d = f.dir();
    let k = custody(d, &["keygen", "--out", "ingest.key"]);
    assert_eq!(k.code, 0);
    f.append_ok(
        "owner.key",
        &format!(
            r#"{{"type":"grant","key":"{}","role":"appender"}}"#,
            k.stdout.trim()
        ),
    );
    std::fs::write(d.join("token"), "0123456789abcdef0123456789abcdef\n").unwrap();
    let s = Server::start(f, &["--ingest-key", "ingest.key", "--token-file", "token"]);
    let url = format!("http://{}/api/v1/lineage", s.addr);
    (s, url)
}

fn post_event(url: &str, body: &[u8]) -> (u16, Value) {
    let mut resp = ureq::post(url)
        .config()
        .http_status_as_error(false)
        .build()
        .header("authorization", "Bearer 0123456789abcdef0123456789abcdef")
        .send(body)
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Another appender's entry whose note names an event's hash does not
/// make the server take that event for recorded.
#[test]
fn another_keys_note_does_not_suppress_an_event() {
    let f = Fixture::new();
    let event = br#"{"eventType":"COMPLETE","eventTime":"2026-11-29T10:00:00Z","run":{"runId":"r1"},"job":{"namespace":"n","name":"j"},"producer":"p","inputs":[],"outputs":[{"namespace":"n","name":"x"}]}"#;
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(event));
    f.append_ok(
        "appender.key",
        &format!(
            r#"{{"type":"artifact","id":"decoy","kind":"data","note":"openlineage-event:{hash}"}}"#
        ),
    );
    let (s, url) = lineage_server(&f);
    let (st, v) = post_event(&url, event);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["recorded"], 1, "{v}");
    // Sent again, it is the ingest key's record that makes it a duplicate.
    let (st, v) = post_event(&url, event);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["duplicate"], true, "{v}");
    s.stop();
}

/// A run naming more datasets than one entry can hold is refused at once
/// (it used to be checked in time growing with the square of its size,
/// holding the ledger meanwhile), and the server goes on.
#[test]
fn a_run_with_more_datasets_than_an_entry_holds_is_refused_at_once() {
    let f = Fixture::new();
    let (s, url) = lineage_server(&f);
    let ds = |p: &str, n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| serde_json::json!({"namespace": "n", "name": format!("{p}{i}")}))
            .collect()
    };
    let event = serde_json::json!({
        "eventType": "COMPLETE", "eventTime": "2026-11-29T10:00:00Z",
        "run": {"runId": "big"}, "job": {"namespace": "n", "name": "big"}, "producer": "p",
        "inputs": ds("i", 100_000), "outputs": ds("o", 100_000),
    });
    let t = std::time::Instant::now();
    let (st, v) = post_event(&url, &serde_json::to_vec(&event).unwrap());
    assert_eq!(st, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("at most"), "{v}");
    assert!(t.elapsed() < std::time::Duration::from_secs(10));
    let (st, _) = post_event(
        &url,
        br#"{"eventType":"COMPLETE","eventTime":"2026-11-29T10:00:00Z","run":{"runId":"r"},"job":{"namespace":"n","name":"j"},"producer":"p","inputs":[],"outputs":[{"namespace":"n","name":"x"}]}"#,
    );
    assert_eq!(st, 200);
    s.stop();
}

/// A URL with credentials or a query is refused, and not repeated in the
/// message; TLS URLs are refused with the reason.
#[test]
fn urls_carrying_secrets_are_refused_without_being_repeated() {
    let f = Fixture::new();
    let d = f.dir();
    for url in [
        "http://alice:S3cretPW@127.0.0.1:1/v1/fixture",
        "http://127.0.0.1:1/v1/fixture?token=S3cretPW",
    ] {
        for args in [
            vec!["verify", url],
            vec!["append", url, "--key", "appender.key"],
        ] {
            let r = custody_in(d, &args, &batch("x", 1));
            assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
            assert!(!r.stderr.contains("S3cretPW"), "{}", r.stderr);
            assert!(!r.stdout.contains("S3cretPW"), "{}", r.stdout);
        }
    }
    let r = custody(d, &["verify", "https://127.0.0.1:1/v1/fixture"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("plain HTTP"), "{}", r.stderr);
}
