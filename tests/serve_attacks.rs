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

/// What a front does to the first batch posted through it.
#[derive(Clone, Copy, PartialEq)]
enum Lie {
    /// Forwards it (the server stores it), answers 502.
    StoredThen502,
    /// Forwards it (the server stores it), answers 422 as if refused.
    StoredThen422,
    /// Drops it, answers 200 as if stored.
    DroppedThen200,
}

/// A front that forwards everything to `server` but lies about the first
/// batch posted through it: the answer the client gets is not the
/// server's.
fn lying_front(server: String, lie: Lie) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let lied = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(c) = c else { return };
            let server = server.clone();
            let lied = lied.clone();
            std::thread::spawn(move || {
                let mut w = c.try_clone().unwrap();
                let mut r = BufReader::new(c);
                while let Some(req) = read_message(&mut r) {
                    let first_batch = req.starts_with(b"POST ")
                        && !lied.swap(true, std::sync::atomic::Ordering::SeqCst);
                    if first_batch && lie == Lie::DroppedThen200 {
                        let body = br#"{"appended":1,"entries":999,"head":"00"}"#;
                        let _ = w.write_all(
                            format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                                body.len()
                            )
                            .as_bytes(),
                        );
                        let _ = w.write_all(body);
                        continue;
                    }
                    let mut up = TcpStream::connect(&server).unwrap();
                    up.write_all(&req).unwrap();
                    let answer = read_message(&mut BufReader::new(up)).unwrap();
                    if first_batch && lie == Lie::StoredThen502 {
                        let _ = w.write_all(
                            b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        );
                        return;
                    }
                    if first_batch && lie == Lie::StoredThen422 {
                        let body = br#"{"error":"bad-event","message":"refused"}"#;
                        let _ = w.write_all(
                            format!(
                                "HTTP/1.1 422 Unprocessable Entity\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                                body.len()
                            )
                            .as_bytes(),
                        );
                        let _ = w.write_all(body);
                        continue;
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
    let front = lying_front(s.addr.clone(), Lie::StoredThen502);
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

/// A front that drops the batch and answers 200 does not get the client
/// to count it stored (nor raise its mark to a head that exists nowhere);
/// one that stores it and answers 422 is found out on the next append.
#[test]
fn a_front_lying_about_a_batch_is_not_believed() {
    let f = Fixture::new();
    let d = f.dir();
    let s = Server::start(&f, &[]);
    let front = lying_front(s.addr.clone(), Lie::DroppedThen200);
    let url = format!("http://{front}/v1/fixture");
    let r = custody_in(
        d,
        &["append", &url, "--key", "appender.key"],
        &batch("lost", 2),
    );
    assert_ne!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("not in the ledger"), "{}", r.stderr);
    assert_eq!(count_ids(d, &s.base, "lost-"), 0);
    // Sent again, the same events are stored (the mark was not raised
    // past what the ledger holds).
    let r = custody_in(
        d,
        &["append", &url, "--key", "appender.key"],
        &batch("lost", 2),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(count_ids(d, &s.base, "lost-"), 2);

    let front = lying_front(s.addr.clone(), Lie::StoredThen422);
    let url = format!("http://{front}/v1/fixture");
    let r = custody_in(
        d,
        &["append", &url, "--key", "appender.key"],
        &batch("said-no", 2),
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let r = custody_in(
        d,
        &["append", &url, "--key", "appender.key"],
        &batch("other", 1),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("in the ledger after all"), "{}", r.stderr);
    s.stop();
}

/// Clients that open requests with chunked bodies and send nothing more
/// hold no room for bodies: other clients append at once.
#[test]
fn idle_chunked_requests_do_not_hold_back_appends() {
    let f = Fixture::new();
    let d = f.dir();
    let s = Server::start(&f, &[]);
    let idle: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut c = TcpStream::connect(&s.addr).unwrap();
            c.write_all(
                b"POST /v1/nothere/entries HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n",
            )
            .unwrap();
            c
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let t = std::time::Instant::now();
    let r = custody_in(
        d,
        &["append", &s.base, "--key", "appender.key"],
        &batch("now", 2),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        t.elapsed() < std::time::Duration::from_secs(10),
        "waited {:?}",
        t.elapsed()
    );
    drop(idle);
    s.stop();
}

/// The URL a key appended through, spelt another way (host name for
/// address, an encoded letter), still names the ledger the key built on.
#[test]
fn another_spelling_of_a_url_is_the_same_place() {
    let f = Fixture::new();
    let d = f.dir();
    let s = Server::start(&f, &[]);
    let (base, addr) = (s.base.clone(), s.addr.clone());
    let r = custody_in(
        d,
        &["append", &base, "--key", "appender.key"],
        &batch("a", 1),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    s.stop();
    assert_eq!(
        custody(
            d,
            &["init", "B", "--key", "stranger.key", "--name", "fixture"]
        )
        .code,
        0
    );
    let grant = format!(
        "{{\"type\":\"grant\",\"key\":\"{}\",\"role\":\"appender\"}}\n",
        f.appender
    );
    assert_eq!(
        custody_in(d, &["append", "B", "--key", "stranger.key"], &grant).code,
        0
    );
    let before = entries(d, "B");
    let evil = Server::start_on(&f, "B", &addr, &[]);
    let port = addr.rsplit(':').next().unwrap();
    for url in [
        format!("http://localhost:{port}/v1/fixture"),
        format!("http://LOCALHOST:{port}/v1/fixture"),
        format!("http://127.0.0.1:{port}/v1/%66ixture"),
        format!("http://127.0.0.1:0{port}/fixture/"),
        format!("http://[::ffff:127.0.0.1]:{port}/fixture"),
        format!("http://[::FFFF:7f00:1]:{port}/fixture"),
        format!("http://0.0.0.0:{port}/fixture"),
    ] {
        let r = custody_in(
            d,
            &["append", &url, "--key", "appender.key"],
            &batch("b", 1),
        );
        assert_eq!(r.code, 2, "{url}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("this key built on there"),
            "{url}: {}",
            r.stderr
        );
    }
    evil.stop();
    assert_eq!(entries(d, "B"), before);
}

/// A source run's license facets are recorded even when its datasets
/// are declared already; deep job facets are left out, not the event.
#[test]
fn what_an_event_says_is_recorded_or_left_out_as_documented() {
    let f = Fixture::new();
    let d = f.dir();
    let (s, url) = lineage_server(&f);
    let source = |run: &str, facets: &str| {
        format!(
            r#"{{"eventType":"COMPLETE","eventTime":"2026-11-29T10:00:00Z","run":{{"runId":"{run}"}},"job":{{"namespace":"n","name":"j","facets":{facets}}},"producer":"p","inputs":[],"outputs":[{{"namespace":"n","name":"x","facets":{{"custody_license":{{"license":"CC-BY-4.0"}}}}}}]}}"#
        )
    };
    let (st, v) = post_event(&url, source("r1", "{}").as_bytes());
    assert_eq!(st, 200, "{v}");
    let (st, v) = post_event(&url, source("r2", r#"{"k":{"v":1}}"#).as_bytes());
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["recorded"], 1, "the license again: {v}");
    let deep = format!("{}1{}", "{\"a\":".repeat(20), "}".repeat(20));
    let reads = format!(
        r#"{{"eventType":"COMPLETE","eventTime":"2026-11-29T10:00:00Z","run":{{"runId":"r3"}},"job":{{"namespace":"n","name":"deep","facets":{{"x":{deep}}}}},"producer":"p","inputs":[{{"namespace":"n","name":"x"}}],"outputs":[{{"namespace":"n","name":"y"}}]}}"#
    );
    let (st, v) = post_event(&url, reads.as_bytes());
    assert_eq!(st, 200, "{v}");
    s.stop();
    let log = custody(d, &["log", "L", "--json"]);
    let licenses = log
        .stdout
        .lines()
        .filter(|l| l.contains("\"type\":\"license\"") && l.contains("\"artifact\":\"n/x\""))
        .count();
    assert_eq!(licenses, 2, "{}", log.stdout);
    assert!(log.stdout.contains("n/deep"), "{}", log.stdout);
    assert!(
        !log.stdout.contains("job_facets\":{\"x\""),
        "{}",
        log.stdout
    );
}
