//! The PostgreSQL store against a real server: a throwaway cluster this
//! test binary starts (see common/pg.rs). Every flow that makes sense for a
//! store runs against sled and PostgreSQL alike; then what only a shared
//! database has: concurrent appenders, killed appenders, a server restarted
//! mid-append, and rows edited behind custody's back.

mod common;

use common::pg::Cluster;
use common::{custody, custody_in, Run};
use serde_json::Value;
use std::path::Path;

fn ok(r: Run) -> Run {
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    r
}

fn json(r: &Run) -> Value {
    serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

/// Keys `owner.key` and `appender.key` in `dir`; returns their public hex.
fn keys(dir: &Path) -> (String, String) {
    let o = ok(custody(dir, &["keygen", "--out", "owner.key"]));
    let a = ok(custody(dir, &["keygen", "--out", "appender.key"]));
    (o.stdout.trim().into(), a.stdout.trim().into())
}

fn events(tag: &str) -> String {
    let mut lines = Vec::new();
    for i in 0..6 {
        lines.push(format!(
            r#"{{"type":"artifact","id":"{tag}-d{i}","kind":"data","digest":"sha256:{}"}}"#,
            format!("{i:x}").repeat(64)
        ));
        lines.push(format!(
            r#"{{"type":"license","artifact":"{tag}-d{i}","license":"CC-BY-4.0"}}"#
        ));
    }
    lines.push(format!(
        r#"{{"type":"artifact","id":"{tag}-mix","kind":"data"}}"#
    ));
    lines.push(format!(
        r#"{{"type":"transformation","operation":"dedup","inputs":["{tag}-d0","{tag}-d1"],"outputs":["{tag}-mix"],"tool":"dedup 1.0"}}"#
    ));
    lines.push(format!(
        r#"{{"type":"license","artifact":"{tag}-mix","license":"CC-BY-4.0"}}"#
    ));
    lines.push(format!(
        r#"{{"type":"release","artifact":"{tag}-mix","access":"public"}}"#
    ));
    lines.join("\n") + "\n"
}

/// The flow a user runs, against one ledger location. (Ledgers with the
/// same owner, name and second of creation are one ledger, so each
/// location gets its own name.)
fn flow(dir: &Path, ledger: &str, name: &str, appender: &str) {
    ok(custody(
        dir,
        &["init", ledger, "--key", "owner.key", "--name", name],
    ));
    ok(custody_in(
        dir,
        &["append", ledger, "--key", "owner.key"],
        &format!(r#"{{"type":"grant","key":"{appender}","role":"appender"}}"#),
    ));
    let r = ok(custody_in(
        dir,
        &["append", ledger, "--key", "appender.key"],
        &events("x"),
    ));
    assert!(
        r.stdout
            .contains("appended 16 entries; the ledger has 18 entries"),
        "{}",
        r.stdout
    );
    ok(custody_in(
        dir,
        &["append", ledger, "--key", "owner.key"],
        r#"{"type":"component","component":"pretraining-data","artifacts":["x-mix"]}"#,
    ));
    let v = json(&ok(custody(dir, &["verify", ledger, "--json"])));
    assert_eq!(v["valid"], true);
    assert_eq!(v["entries"], 19);
    let log = ok(custody(dir, &["log", ledger, "--json"]));
    assert_eq!(log.stdout.lines().count(), 19);
    let out = format!("{}.custody", ledger.len());
    ok(custody(dir, &["export", ledger, "--out", &out, "--force"]));
    let cp = ok(custody(dir, &["checkpoint", ledger, "--key", "owner.key"]));
    std::fs::write(dir.join("cp.txt"), &cp.stdout).unwrap();
    ok(custody(
        dir,
        &[
            "prove",
            "inclusion",
            ledger,
            "--seq",
            "7",
            "--checkpoint",
            "cp.txt",
            "--out",
            "p.txt",
            "--force",
        ],
    ));
    ok(custody(
        dir,
        &["prove", "consistency", ledger, "--from", "cp.txt"],
    ));
    let o = json(&ok(custody(dir, &["openness", ledger, "--json"])));
    assert!(o.to_string().contains("pretraining-data"), "{o}");
    // A refused line: exit 2, the line named, nothing written.
    let r = custody_in(
        dir,
        &["append", ledger, "--key", "appender.key"],
        "{\"type\":\"artifact\",\"id\":\"ok\",\"kind\":\"data\"}\n{\"type\":\"artifact\",\"id\":\"bad\",\"kind\":\"nope\"}\n",
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("line 2"), "{}", r.stderr);
    let v = json(&ok(custody(dir, &["verify", ledger, "--json"])));
    assert_eq!(v["entries"], 19);
}

#[test]
fn the_cli_flow_runs_on_postgres_as_on_sled() {
    let c = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (_, appender) = keys(d);
    flow(d, "L", "flow on sled", &appender);
    flow(d, &c.url("flow"), "flow on postgres", &appender);
}

#[test]
fn an_export_goes_in_and_comes_out_byte_for_byte() {
    let c = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (_, appender) = keys(d);
    ok(custody(
        d,
        &["init", "L", "--key", "owner.key", "--name", "same"],
    ));
    ok(custody_in(
        d,
        &["append", "L", "--key", "owner.key"],
        &format!(r#"{{"type":"grant","key":"{appender}","role":"appender"}}"#),
    ));
    ok(custody_in(
        d,
        &["append", "L", "--key", "appender.key"],
        &events("y"),
    ));
    ok(custody(d, &["export", "L", "--out", "sled.custody"]));
    let url = c.url("imported");
    let r = ok(custody(d, &["import", "sled.custody", &url]));
    assert!(
        r.stdout.contains("imported 18 verified entries"),
        "{}",
        r.stdout
    );
    ok(custody(d, &["export", &url, "--out", "pg.custody"]));
    assert_eq!(
        std::fs::read(d.join("sled.custody")).unwrap(),
        std::fs::read(d.join("pg.custody")).unwrap()
    );
    // Both stores say the same of the same entries.
    let a = json(&ok(custody(d, &["openness", "L", "--json"])));
    let b = json(&ok(custody(d, &["openness", &url, "--json"])));
    assert_eq!(a["components"], b["components"]);
    // An appender carries on from the import, on either store.
    ok(custody_in(
        d,
        &["append", &url, "--key", "appender.key"],
        &events("z"),
    ));
    let v = json(&ok(custody(d, &["verify", &url, "--json"])));
    assert_eq!(v["entries"], 34);
    // Importing twice under one name is refused, and leaves the first.
    let r = custody(d, &["import", "sled.custody", &url]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert_eq!(
        json(&ok(custody(d, &["verify", &url, "--json"])))["entries"],
        34
    );
}

#[test]
fn schema_ledger_names_and_missing_ledgers() {
    let c = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    keys(d);
    let base = c.url("x");
    let base = base.split('?').next().unwrap();
    let r = ok(custody(d, &["db", "migrate", base]));
    assert!(r.stdout.contains("schema version 1"), "{}", r.stdout);
    ok(custody(d, &["db", "migrate", base]));
    let url = c.url("named%20ledger");
    ok(custody(
        d,
        &["init", &url, "--key", "owner.key", "--name", "n"],
    ));
    let r = custody(d, &["init", &url, "--key", "owner.key", "--name", "n"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    let mut client = c.client();
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM custody_ledgers WHERE name = 'named ledger'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let r = custody(d, &["verify", &c.url("nobody")]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no ledger named \"nobody\""),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("custody init"), "{}", r.stderr);
    let r = custody(
        d,
        &["verify", "postgres://custody@127.0.0.1:1/postgres?ledger=x"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot connect"), "{}", r.stderr);
}

#[test]
fn refused_input_leaves_every_row_as_it_was() {
    let c = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (_, appender) = keys(d);
    ok(custody(d, &["keygen", "--out", "stranger.key"]));
    let url = c.url("refused");
    ok(custody(
        d,
        &["init", &url, "--key", "owner.key", "--name", "r"],
    ));
    ok(custody_in(
        d,
        &["append", &url, "--key", "owner.key"],
        &format!(r#"{{"type":"grant","key":"{appender}","role":"appender"}}"#),
    ));
    ok(custody_in(
        d,
        &["append", &url, "--key", "appender.key"],
        &events("r"),
    ));
    let before = c.rows("refused");
    assert!(before.len() > 19, "{before:?}");
    let bad = [
        (
            "appender.key",
            "{\"type\":\"artifact\",\"id\":\"n\",\"kind\":\"data\"}\nnot json\n",
        ),
        (
            "appender.key",
            "{\"type\":\"license\",\"artifact\":\"nowhere\",\"license\":\"MIT\"}\n",
        ),
        (
            "appender.key",
            "{\"type\":\"artifact\",\"id\":\"r-d0\",\"kind\":\"data\"}\n",
        ),
        (
            "stranger.key",
            "{\"type\":\"artifact\",\"id\":\"s\",\"kind\":\"data\"}\n",
        ),
        ("appender.key", ""),
    ];
    for (key, lines) in bad {
        let r = custody_in(d, &["append", &url, "--key", key], lines);
        assert_eq!(r.code, 2, "{lines:?}: {}", r.stderr);
        assert_eq!(c.rows("refused"), before, "{lines:?} changed the tables");
    }
}

/// The entries of a ledger as stored, by seq.
fn stored(c: &Cluster, name: &str) -> Vec<(i64, Vec<u8>)> {
    c.client()
        .query(
            "SELECT seq, bytes FROM custody_entries WHERE ledger = \
             (SELECT ledger FROM custody_ledgers WHERE name = $1) ORDER BY seq",
            &[&name],
        )
        .unwrap()
        .into_iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[test]
fn edited_rows_fail_as_an_edited_export_does() {
    let c = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (_, appender) = keys(d);
    ok(custody(
        d,
        &["init", "L", "--key", "owner.key", "--name", "t"],
    ));
    ok(custody_in(
        d,
        &["append", "L", "--key", "owner.key"],
        &format!(r#"{{"type":"grant","key":"{appender}","role":"appender"}}"#),
    ));
    ok(custody_in(
        d,
        &["append", "L", "--key", "appender.key"],
        &events("t"),
    ));
    ok(custody(d, &["export", "L", "--out", "t.custody"]));
    type Edit = fn(&mut postgres::Client, i64, &mut Vec<Vec<u8>>);
    let edits: [(&str, Edit); 3] = [
        ("byte", |db, id, e| {
            e[5][20] ^= 0x01;
            db.execute(
                "UPDATE custody_entries SET bytes = $3 WHERE ledger = $1 AND seq = $2",
                &[&id, &5i64, &e[5]],
            )
            .unwrap();
        }),
        ("delete", |db, id, e| {
            e.remove(6);
            db.execute(
                "DELETE FROM custody_entries WHERE ledger = $1 AND seq = 6",
                &[&id],
            )
            .unwrap();
        }),
        ("swap", |db, id, e| {
            e.swap(3, 4);
            for seq in [3i64, 4] {
                db.execute(
                    "UPDATE custody_entries SET bytes = $3 WHERE ledger = $1 AND seq = $2",
                    &[&id, &seq, &e[seq as usize]],
                )
                .unwrap();
            }
        }),
    ];
    for (name, edit) in edits {
        let ledger = format!("tampered-{name}");
        let url = c.url(&ledger);
        ok(custody(d, &["import", "t.custody", &url]));
        let mut entries: Vec<Vec<u8>> = stored(c, &ledger).into_iter().map(|(_, b)| b).collect();
        let mut db = c.client();
        let id: i64 = db
            .query_one(
                "SELECT ledger FROM custody_ledgers WHERE name = $1",
                &[&ledger],
            )
            .unwrap()
            .get(0);
        edit(&mut db, id, &mut entries);
        std::fs::write(d.join("edited.custody"), entries.concat()).unwrap();
        let from_db = custody(d, &["verify", &url, "--json"]);
        let from_file = custody(d, &["verify", "edited.custody", "--json"]);
        assert_eq!(from_db.code, 1, "{name}: {}", from_db.stdout);
        assert_eq!(from_file.code, 1, "{name}: {}", from_file.stdout);
        let (a, b) = (json(&from_db), json(&from_file));
        assert_eq!(
            a["error"]["reason"], b["error"]["reason"],
            "{name}: {a} / {b}"
        );
        assert_eq!(a["error"]["seq"], b["error"]["seq"], "{name}: {a} / {b}");
        // Nothing is built on an edited ledger.
        let r = custody_in(
            d,
            &["append", &url, "--key", "appender.key"],
            &events("after"),
        );
        assert_eq!(r.code, 1, "{name}: {}", r.stderr);
    }
}

/// A batch of 20 events whose ids name it: 10 artifacts and their licenses.
fn batch(tag: &str) -> String {
    let mut s = String::new();
    for i in 0..10 {
        s.push_str(&format!(
            "{{\"type\":\"artifact\",\"id\":\"{tag}-{i}\",\"kind\":\"data\"}}\n"
        ));
    }
    for i in 0..10 {
        s.push_str(&format!(
            "{{\"type\":\"license\",\"artifact\":\"{tag}-{i}\",\"license\":\"MIT\"}}\n"
        ));
    }
    s
}

/// Where each batch's events are in the ledger: tag -> sorted seqs.
fn placed(dir: &Path, url: &str) -> std::collections::HashMap<String, Vec<u64>> {
    let log = ok(custody(dir, &["log", url, "--json"]));
    let mut out: std::collections::HashMap<String, Vec<u64>> = Default::default();
    for line in log.stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let id = v["id"].as_str().or(v["artifact"].as_str()).unwrap_or("");
        if let Some((tag, _)) = id.rsplit_once('-') {
            out.entry(tag.to_string())
                .or_default()
                .push(v["seq"].as_u64().unwrap());
        }
    }
    for seqs in out.values_mut() {
        seqs.sort();
    }
    out
}

/// Whole: 20 entries in a row.
fn whole(seqs: &[u64]) -> bool {
    seqs.len() == 20 && seqs.windows(2).all(|w| w[1] == w[0] + 1)
}

#[test]
fn eight_appenders_and_an_owner_at_once() {
    let c = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    keys(d);
    let url = c.url("many");
    ok(custody(
        d,
        &["init", &url, "--key", "owner.key", "--name", "many"],
    ));
    let mut grants = String::new();
    for p in 0..8 {
        let k = ok(custody(d, &["keygen", "--out", &format!("a{p}.key")]));
        grants.push_str(&format!(
            "{{\"type\":\"grant\",\"key\":\"{}\",\"role\":\"appender\"}}\n",
            k.stdout.trim()
        ));
    }
    let a7 = std::fs::read_to_string(d.join("a7.key.pub")).unwrap();
    ok(custody_in(
        d,
        &["append", &url, "--key", "owner.key"],
        &grants,
    ));
    let extra = ok(custody(d, &["keygen", "--out", "extra.key"]))
        .stdout
        .trim()
        .to_string();

    let done7 = std::sync::atomic::AtomicU32::new(0);
    let running = std::sync::atomic::AtomicBool::new(true);
    type Outcome = (String, i32, String);
    let (outcomes, owner_outcomes, reads) = std::thread::scope(|s| {
        let appenders: Vec<_> = (0..8)
            .map(|p| {
                let (url, done7) = (&url, &done7);
                s.spawn(move || {
                    let mut out: Vec<Outcome> = Vec::new();
                    // Appender 7 goes on until its revocation turns it
                    // away, however late the owner's turn comes.
                    for b in 0.. {
                        let tag = format!("a{p}b{b}");
                        let r = custody_in(
                            d,
                            &["append", url, "--key", &format!("a{p}.key")],
                            &batch(&tag),
                        );
                        let refused = r.code != 0;
                        out.push((tag, r.code, r.stderr));
                        if p == 7 {
                            done7.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        if b >= 49 && (p != 7 || refused || b >= 400) {
                            break;
                        }
                    }
                    out
                })
            })
            .collect();
        // The owner, meanwhile: grants and revokes among its own entries,
        // and revokes appender 7 once it is under way.
        let owner = {
            let (url, done7, extra, a7) = (&url, &done7, &extra, &a7);
            s.spawn(move || {
                let mut out: Vec<Outcome> = Vec::new();
                for b in 0..10 {
                    let mut lines = batch(&format!("ob{b}"));
                    lines.push_str(&if b % 2 == 0 {
                        format!(
                            "{{\"type\":\"grant\",\"key\":\"{extra}\",\"role\":\"appender\"}}\n"
                        )
                    } else {
                        format!("{{\"type\":\"revoke\",\"key\":\"{extra}\"}}\n")
                    });
                    if b == 4 {
                        while done7.load(std::sync::atomic::Ordering::SeqCst) < 10 {
                            std::thread::sleep(std::time::Duration::from_millis(20));
                        }
                        lines.push_str(&format!(
                            "{{\"type\":\"revoke\",\"key\":\"{}\"}}\n",
                            a7.trim()
                        ));
                    }
                    let r = custody_in(d, &["append", url, "--key", "owner.key"], &lines);
                    out.push((format!("ob{b}"), r.code, r.stderr));
                }
                out
            })
        };
        // And a reader, verifying over and over: never held up, never
        // seeing half a batch.
        let reader = {
            let (url, running) = (&url, &running);
            s.spawn(move || {
                let mut n = 0;
                while running.load(std::sync::atomic::Ordering::SeqCst) {
                    let r = custody(d, &["verify", url, "--json"]);
                    assert_eq!(r.code, 0, "a verify during the appends: {}", r.stderr);
                    let entries = json(&r)["entries"].as_u64().unwrap();
                    // 1 genesis + 1 grant batch of 8, then whole batches
                    // of 20 (appenders) or 21-22 (owner).
                    assert!(entries >= 9, "{entries}");
                    n += 1;
                }
                n
            })
        };
        let outcomes: Vec<Outcome> = appenders
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let owner_outcomes = owner.join().unwrap();
        running.store(false, std::sync::atomic::Ordering::SeqCst);
        (outcomes, owner_outcomes, reader.join().unwrap())
    });
    assert!(reads > 0);
    for (tag, code, err) in &owner_outcomes {
        assert_eq!(*code, 0, "owner batch {tag}: {err}");
    }
    let places = placed(d, &url);
    let mut refused7 = 0;
    for (tag, code, err) in &outcomes {
        let seqs = places.get(tag).map(Vec::as_slice).unwrap_or(&[]);
        match code {
            0 => assert!(
                whole(seqs),
                "acknowledged batch {tag} is not whole: {seqs:?}"
            ),
            2 if tag.starts_with("a7") => {
                assert!(err.contains("may not append"), "{tag}: {err}");
                assert!(
                    seqs.is_empty(),
                    "refused batch {tag} is in the ledger: {seqs:?}"
                );
                refused7 += 1;
            }
            _ => panic!("batch {tag} exited {code}: {err}"),
        }
    }
    assert!(
        refused7 > 0,
        "appender 7 was never refused after its revocation"
    );
    let first_refused = outcomes
        .iter()
        .filter(|o| o.0.starts_with("a7") && o.1 == 2)
        .filter_map(|o| o.0.trim_start_matches("a7b").parse::<u32>().ok())
        .min()
        .unwrap();
    assert!(
        first_refused >= 10,
        "appender 7 was refused before its revocation, at batch {first_refused}"
    );
    let acked = outcomes.iter().filter(|o| o.1 == 0).count() as u64;
    let v = json(&ok(custody(d, &["verify", &url, "--json"])));
    // genesis, 8 grants, the appenders' batches, the owner's 10 batches of
    // 21 (22 with the revocation).
    assert_eq!(
        v["entries"].as_u64().unwrap(),
        1 + 8 + 20 * acked + 10 * 21 + 1
    );
}

/// A tiny deterministic generator: the seed is printed, so a failure can
/// be replayed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn killed_appenders_and_a_restarted_server_lose_nothing_acknowledged() {
    // Its own server: the others' must not restart under them.
    let owned = Cluster::own();
    let c: &Cluster = &owned;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (_, _) = keys(d);
    let url = c.url("faults");
    ok(custody(
        d,
        &["init", &url, "--key", "owner.key", "--name", "faults"],
    ));
    let mut grants = String::new();
    for p in 0..4 {
        let k = ok(custody(d, &["keygen", "--out", &format!("f{p}.key")]));
        grants.push_str(&format!(
            "{{\"type\":\"grant\",\"key\":\"{}\",\"role\":\"appender\"}}\n",
            k.stdout.trim()
        ));
    }
    ok(custody_in(
        d,
        &["append", &url, "--key", "owner.key"],
        &grants,
    ));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("fault schedule seed: {seed}");
    #[derive(Debug)]
    enum End {
        Exit(i32, String),
        Killed,
    }
    let running = std::sync::atomic::AtomicBool::new(true);
    let retried = std::sync::atomic::AtomicU32::new(0);
    let (ends, restarts) = std::thread::scope(|s| {
        let appenders: Vec<_> = (0..4)
            .map(|p| {
                let (url, running, retried) = (&url, &running, &retried);
                s.spawn(move || {
                    let mut rng = Lcg(seed ^ (p as u64 + 1).wrapping_mul(0x9e37_79b9));
                    let mut out = Vec::new();
                    let mut b = 0;
                    while running.load(std::sync::atomic::Ordering::SeqCst) || b < 8 {
                        let tag = format!("f{p}b{b}");
                        b += 1;
                        let mut child = std::process::Command::new(common::bin())
                            .args(["append", url, "--key", &format!("f{p}.key")])
                            .current_dir(d)
                            .env("CUSTODY_STATE_DIR", d.join(".custody-state"))
                            .stdin(std::process::Stdio::piped())
                            .stdout(std::process::Stdio::piped())
                            .stderr(std::process::Stdio::piped())
                            .spawn()
                            .unwrap();
                        {
                            use std::io::Write;
                            let mut stdin = child.stdin.take().unwrap();
                            let _ = stdin.write_all(batch(&tag).as_bytes());
                        }
                        // One batch in four is killed at a random moment.
                        if rng.next(4) == 0 {
                            std::thread::sleep(std::time::Duration::from_millis(rng.next(120)));
                            let _ = child.kill();
                            let o = child.wait_with_output().unwrap();
                            if o.status.code().is_none() {
                                out.push((tag, End::Killed));
                            } else {
                                let err = String::from_utf8_lossy(&o.stderr).into_owned();
                                out.push((tag, End::Exit(o.status.code().unwrap(), err)));
                            }
                        } else {
                            let o = child.wait_with_output().unwrap();
                            let err = String::from_utf8_lossy(&o.stderr).into_owned();
                            if String::from_utf8_lossy(&o.stdout).contains("retr") {
                                retried.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            }
                            out.push((tag, End::Exit(o.status.code().unwrap_or(-1), err)));
                        }
                    }
                    out
                })
            })
            .collect();
        // The server, meanwhile, crashes and comes back twice.
        let mut restarts = 0;
        for _ in 0..2 {
            std::thread::sleep(std::time::Duration::from_millis(1500));
            c.restart_immediate();
            restarts += 1;
        }
        std::thread::sleep(std::time::Duration::from_millis(1500));
        running.store(false, std::sync::atomic::Ordering::SeqCst);
        let ends: Vec<(String, End)> = appenders
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        (ends, restarts)
    });
    assert_eq!(restarts, 2);
    let v = json(&ok(custody(d, &["verify", &url, "--json"])));
    assert_eq!(v["valid"], true);
    let places = placed(d, &url);
    let (mut acked, mut killed, mut failed, mut present) = (0, 0, 0, 0u64);
    for (tag, end) in &ends {
        let seqs = places.get(tag).map(Vec::as_slice).unwrap_or(&[]);
        assert!(
            seqs.is_empty() || whole(seqs),
            "batch {tag} is partial: {seqs:?}"
        );
        present += u64::from(!seqs.is_empty());
        match end {
            End::Exit(0, _) => {
                assert!(whole(seqs), "acknowledged batch {tag} was lost: {seqs:?}");
                acked += 1;
            }
            End::Exit(2, err) => {
                assert!(
                    err.contains("ledger database unavailable")
                        || err.contains("not signed again automatically")
                        // After a killed batch of its own, at the same place.
                        || err.contains("two histories"),
                    "{tag}: an unclear failure: {err}"
                );
                assert!(seqs.is_empty(), "failed batch {tag} is in the ledger");
                eprintln!("{tag} failed: {err}");
                failed += 1;
            }
            End::Exit(code, err) => panic!("batch {tag} exited {code}: {err}"),
            End::Killed => killed += 1,
        }
    }
    let retried = retried.load(std::sync::atomic::Ordering::SeqCst);
    eprintln!(
        "{acked} acknowledged ({retried} after retrying), {killed} killed, {failed} failed of {}",
        ends.len()
    );
    // The restarts hit appenders at work: some retried, or gave up clearly.
    assert!(retried + failed > 0, "no append met a restart");
    assert!(acked >= 8, "too few batches got through: {acked}");
    assert_eq!(v["entries"].as_u64().unwrap(), 1 + 4 + 20 * present);
}

/// The README's PostgreSQL section, run as written, with the example
/// server's address replaced by this test's.
#[test]
fn the_readme_postgres_section_runs_as_written() {
    let c = Cluster::get();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("## Many machines")
        .expect("README has a PostgreSQL section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let mut script = String::from("set -euo pipefail\n");
    let mut inside = false;
    let mut blocks = 0;
    for line in section.lines() {
        match (inside, line.trim_end()) {
            (false, "```sh") => {
                inside = true;
                blocks += 1;
            }
            (true, "```") => inside = false,
            (true, l) => {
                script.push_str(l);
                script.push('\n');
            }
            _ => {}
        }
    }
    assert!(blocks >= 2, "{blocks} sh blocks");
    assert!(
        script.contains("db.example.org:5432"),
        "the example address changed"
    );
    let script = script.replace("db.example.org:5432", &format!("127.0.0.1:{}", c.port));
    let mut db = c.client();
    let exists: bool = db
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'provenance')",
            &[],
        )
        .unwrap()
        .get(0);
    if !exists {
        db.batch_execute("CREATE DATABASE provenance").unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(common::bin()).parent().unwrap();
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(tmp.path())
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("CUSTODY_STATE_DIR", tmp.path().join(".state"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README's PostgreSQL section failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("valid ledger \"tinylm\""), "{stdout}");
    assert!(stdout.contains("imported 4 verified entries"), "{stdout}");
}

#[test]
fn another_ledger_under_the_same_name_is_not_signed_into() {
    let c = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (owner, appender) = keys(d);
    let evil = ok(custody(d, &["keygen", "--out", "evil.key"]))
        .stdout
        .trim()
        .to_string();
    let grant = format!(r#"{{"type":"grant","key":"{appender}","role":"appender"}}"#);
    let (prod, other) = (c.url("prod"), c.url("other"));
    ok(custody(
        d,
        &["init", &prod, "--key", "owner.key", "--name", "tinylm"],
    ));
    ok(custody_in(
        d,
        &["append", &prod, "--key", "owner.key"],
        &grant,
    ));
    ok(custody_in(
        d,
        &["append", &prod, "--key", "appender.key"],
        &batch("p1"),
    ));
    ok(custody(
        d,
        &["init", &other, "--key", "evil.key", "--name", "tinylm"],
    ));
    // It names the real owner an owner too, so that the owner key may
    // sign for it.
    ok(custody_in(
        d,
        &["append", &other, "--key", "evil.key"],
        &format!("{grant}\n{{\"type\":\"grant\",\"key\":\"{owner}\",\"role\":\"owner\"}}"),
    ));
    // Someone with write access to the tables swaps the two names.
    c.client()
        .execute(
            "UPDATE custody_ledgers SET name = CASE name WHEN 'prod' THEN 'prod-old' \
             ELSE 'prod' END WHERE name IN ('prod', 'other')",
            &[],
        )
        .unwrap();
    let before = c.rows("prod");
    let r = custody_in(d, &["append", &prod, "--key", "appender.key"], &batch("p2"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not ledger"), "{}", r.stderr);
    // However the same place is spelled.
    for spelling in [
        prod.replacen("postgres://", "POSTGRESQL://", 1),
        prod.replacen("custody@", "custody:any@", 1),
        format!("{prod}&application_name=x"),
        prod.replacen("/postgres?", "/postgres?connect_timeout=5&", 1),
        prod.replacen("127.0.0.1", "localhost", 1),
        prod.replacen("127.0.0.1", "nohost.invalid", 1) + "&hostaddr=127.0.0.1",
        prod.replacen("127.0.0.1", "127.1", 1),
    ] {
        let r = custody_in(
            d,
            &["append", &spelling, "--key", "appender.key"],
            &batch("p2"),
        );
        assert_eq!(r.code, 2, "{spelling}: {}", r.stderr);
        assert!(r.stderr.contains("not ledger"), "{spelling}: {}", r.stderr);
    }
    // A type of the role's own on its search_path (what the role's
    // `ALTER ROLE ... SET search_path` would give every session) does not
    // change what the server says it is.
    c.client()
        .batch_execute(
            "CREATE SCHEMA IF NOT EXISTS evil; \
             DO $$ BEGIN CREATE DOMAIN evil.text AS bigint; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$;",
        )
        .unwrap();
    let shadowed = format!("{prod}&options=-csearch_path%3Devil,pg_catalog,public");
    let r = custody_in(
        d,
        &["append", &shadowed, "--key", "appender.key"],
        &batch("p2"),
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("not ledger"), "{}", r.stderr);
    let partial = [
        "export",
        &prod,
        "--out",
        "p.custody",
        "--disclose",
        "openness",
        "--key",
        "owner.key",
    ];
    let r = custody(d, &partial);
    assert_eq!(r.code, 2, "a partial export was signed: {}", r.stdout);
    assert!(r.stderr.contains("not ledger"), "{}", r.stderr);
    let r = custody(d, &["checkpoint", &prod, "--key", "owner.key"]);
    assert_eq!(
        r.code, 2,
        "the owner key signed another ledger's root: {}",
        r.stdout
    );
    assert_eq!(c.rows("prod"), before);
    // On a machine that never appended there, --owner pins the ledger.
    let fresh = d.join("fresh-state");
    let pinned = |owner: &str| {
        let mut child = std::process::Command::new(common::bin())
            .args(["append", &prod, "--key", "appender.key", "--owner", owner])
            .current_dir(d)
            .env("CUSTODY_STATE_DIR", &fresh)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(batch("p3").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let o = pinned("owner.key.pub");
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("owner-mismatch")
            || String::from_utf8_lossy(&o.stderr).contains("pinned")
    );
    assert_eq!(c.rows("prod"), before);
    assert_eq!(pinned(&evil).status.code(), Some(0));
}

#[test]
fn passwords_never_appear_in_output() {
    let c = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    keys(d);
    // The test cluster trusts loopback, so any password connects.
    let in_user = format!(
        "postgres://custody:hun/ter2@127.0.0.1:{}/postgres?ledger=secret",
        c.port
    );
    let in_query = format!(
        "postgres://custody@127.0.0.1:{}/postgres?password=hunter2&ledger=secret",
        c.port
    );
    let mut runs = vec![custody(
        d,
        &["init", &in_user, "--key", "owner.key", "--name", "s"],
    )];
    for url in [&in_user, &in_query] {
        runs.push(custody(d, &["verify", url]));
        runs.push(custody(d, &["verify", url, "--json"]));
        runs.push(custody(d, &["openness", url, "--json"]));
        runs.push(custody(d, &["db", "migrate", url]));
        runs.push(custody(d, &["verify", &url.replace("secret", "nobody")]));
    }
    runs.push(custody(
        d,
        &[
            "verify",
            "postgres://custody:hunter2@127.0.0.1:1/postgres?ledger=x",
        ],
    ));
    // Spellings a password can hide in: a %-encoded parameter name, a raw
    // `?` in the user information (refused, without its password).
    for url in [
        format!(
            "postgres://custody@127.0.0.1:{}/postgres?pass%77ord=hunter2&ledger=secret",
            c.port
        ),
        format!(
            "postgres://custody:hun?ter2@127.0.0.1:{}/postgres?ledger=secret",
            c.port
        ),
        format!(
            "postgres://custody:hunter2@127.0.0.1:{}/postgres?ledger=a@b",
            c.port
        ),
    ] {
        runs.push(custody(d, &["verify", &url]));
        runs.push(custody(d, &["log", &url]));
    }
    for r in &runs {
        for secret in ["hunter2", "hun/ter2", "ter2"] {
            assert!(
                !r.stdout.contains(secret) && !r.stderr.contains(secret),
                "{}{}",
                r.stdout,
                r.stderr
            );
        }
    }
    assert!(runs.iter().filter(|r| r.code == 0).count() >= 8);
}

/// A table writer's trigger lets an attempt's rows in, keeps a copy, and
/// makes the database give the attempt up (a serialisation failure): the
/// appender tries again on the same head, and what it signs then is byte
/// for byte what it signed before, so that the copy is no second history.
#[test]
fn an_attempt_undone_after_its_rows_were_sent_signs_nothing_new() {
    let c = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    keys(d);
    let url = c.url("undone");
    ok(custody(
        d,
        &["init", &url, "--key", "owner.key", "--name", "undone"],
    ));
    let mut admin = c.client();
    let id: i64 = admin
        .query_one(
            "SELECT ledger FROM custody_ledgers WHERE name = 'undone'",
            &[],
        )
        .unwrap()
        .get(0);
    // The copy must outlive the rollback: the server's log does. The
    // retry comes more than a second later, as after a real outage.
    admin
        .batch_execute(&format!(
            "CREATE SEQUENCE undone_count; \
             CREATE FUNCTION undo_once() RETURNS trigger LANGUAGE plpgsql AS $$ \
             DECLARE r record; \
             BEGIN \
               IF EXISTS (SELECT 1 FROM n WHERE ledger = {id}) \
                  AND nextval('undone_count') = 1 THEN \
                 FOR r IN SELECT seq, bytes FROM n ORDER BY seq LOOP \
                   RAISE LOG 'custody-undone % %', r.seq, encode(r.bytes, 'hex'); \
                 END LOOP; \
                 PERFORM pg_sleep(1.1); \
                 RAISE EXCEPTION 'undone' USING ERRCODE = '40001'; \
               END IF; \
               RETURN NULL; \
             END $$; \
             CREATE TRIGGER undo_once AFTER INSERT ON custody_entries \
             REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION undo_once();"
        ))
        .unwrap();
    let r = ok(custody_in(
        d,
        &["append", &url, "--key", "owner.key"],
        &batch("u1"),
    ));
    admin
        .batch_execute("DROP TRIGGER undo_once ON custody_entries; DROP FUNCTION undo_once()")
        .unwrap();
    assert!(r.stdout.contains("after 1 retr"), "{}", r.stdout);
    let log = std::fs::read_to_string(c.dir.join("log")).unwrap();
    let stolen: Vec<(i64, Vec<u8>)> = log
        .lines()
        .filter_map(|l| l.split("custody-undone ").nth(1))
        .map(|l| {
            let (seq, hex) = l.trim().split_once(' ').unwrap();
            (seq.parse().unwrap(), hex::decode(hex).unwrap())
        })
        .collect();
    assert_eq!(stolen.len(), 20, "{log}");
    let kept = stored(c, "undone");
    assert_eq!(kept.len(), 21);
    assert_eq!(
        stolen,
        kept[1..].to_vec(),
        "the attempt that was undone and the one that stands differ"
    );
}

#[test]
fn oversized_or_altered_rows_are_refused_without_a_panic() {
    let c = Cluster::get();
    let mut admin = c.client();
    admin
        .batch_execute("DROP DATABASE IF EXISTS altered")
        .unwrap();
    admin.batch_execute("CREATE DATABASE altered").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    keys(d);
    let url = format!("postgres://custody@127.0.0.1:{}/altered?ledger=x", c.port);
    ok(custody(
        d,
        &["init", &url, "--key", "owner.key", "--name", "x"],
    ));
    ok(custody_in(
        d,
        &["append", &url, "--key", "owner.key"],
        &batch("o"),
    ));
    let mut db = postgres::Client::connect(
        &format!("host=127.0.0.1 port={} user=custody dbname=altered", c.port),
        postgres::NoTls,
    )
    .unwrap();
    // A row of 10 MB: refused as too large, read without holding pages of them.
    db.execute(
        "UPDATE custody_entries SET bytes = convert_to(repeat('A', 10000000), 'UTF8') WHERE seq = 5",
        &[],
    )
    .unwrap();
    let r = custody(d, &["verify", &url, "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(json(&r)["error"]["reason"], "too-large", "{}", r.stdout);
    assert_eq!(json(&r)["error"]["seq"], 5);
    // Columns altered behind custody's back: errors, never a panic.
    for sql in [
        "ALTER TABLE custody_entries ALTER bytes DROP NOT NULL; UPDATE custody_entries SET bytes = NULL WHERE seq = 3",
        "ALTER TABLE custody_ledgers ALTER size TYPE integer",
        "ALTER TABLE custody_ledgers ALTER head DROP NOT NULL; UPDATE custody_ledgers SET head = NULL",
        "ALTER TABLE custody_schema ALTER version TYPE bigint",
    ] {
        db.batch_execute(sql).unwrap();
        let r = custody(d, &["verify", &url]);
        assert!(r.code == 1 || r.code == 2, "{sql}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{sql}: {}", r.stderr);
        // An appender resumes after the entries it verified before, so an
        // edit there may go unseen by it (verify sees it); it never panics.
        let r = custody_in(d, &["append", &url, "--key", "owner.key"], &batch("late"));
        assert!([0, 1, 2].contains(&r.code), "{sql}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{sql}: {}", r.stderr);
    }
}

/// The same undone attempt, and while the appender waits to try again, the
/// table writer takes off the entry before its batch (another key's): the
/// retry does not sign the batch on the shorter history, since the first
/// attempt already signed on the longer one.
#[test]
fn a_retry_never_signs_on_less_than_the_attempt_before() {
    let c = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (_, appender) = keys(d);
    let url = c.url("shortened");
    ok(custody(
        d,
        &["init", &url, "--key", "owner.key", "--name", "shortened"],
    ));
    ok(custody_in(
        d,
        &["append", &url, "--key", "owner.key"],
        &format!(r#"{{"type":"grant","key":"{appender}","role":"appender"}}"#),
    ));
    ok(custody_in(
        d,
        &["append", &url, "--key", "appender.key"],
        &batch("s1"),
    ));
    // The owner's entry that the rollback will take away.
    ok(custody_in(
        d,
        &["append", &url, "--key", "owner.key"],
        r#"{"type":"artifact","id":"owners","kind":"code"}"#,
    ));
    let before = stored(c, "shortened");
    let n = before.len() as i64;
    let mut admin = c.client();
    let id: i64 = admin
        .query_one(
            "SELECT ledger FROM custody_ledgers WHERE name = 'shortened'",
            &[],
        )
        .unwrap()
        .get(0);
    admin
        .batch_execute(&format!(
            "CREATE SEQUENCE shortened_count; \
             CREATE FUNCTION shorten() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN \
               IF EXISTS (SELECT 1 FROM n WHERE ledger = {id}) \
                  AND nextval('shortened_count') = 1 THEN \
                 PERFORM pg_sleep(1); \
                 RAISE EXCEPTION 'undone' USING ERRCODE = '40001'; \
               END IF; \
               RETURN NULL; \
             END $$; \
             CREATE TRIGGER shorten AFTER INSERT ON custody_entries \
             REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION shorten();"
        ))
        .unwrap();
    let head = custody::entry_hash(&before[before.len() - 2].1);
    let (r, ()) = std::thread::scope(|s| {
        let appending =
            s.spawn(|| custody_in(d, &["append", &url, "--key", "appender.key"], &batch("s2")));
        // Queued behind the appender's lock, it lands as the attempt is undone.
        std::thread::sleep(std::time::Duration::from_millis(400));
        let mut cut = c.client();
        cut.batch_execute(&format!(
            "BEGIN; \
             UPDATE custody_ledgers SET size = {}, head = '\\x{}', tree_size = LEAST(tree_size, {}) \
             WHERE ledger = {id}; \
             DELETE FROM custody_entries WHERE ledger = {id} AND seq = {}; \
             DELETE FROM custody_nodes WHERE ledger = {id}; \
             UPDATE custody_ledgers SET tree_size = 0 WHERE ledger = {id}; \
             COMMIT;",
            n - 1,
            hex::encode(head),
            n - 1,
            n - 1
        ))
        .unwrap();
        (appending.join().unwrap(), ())
    });
    admin
        .batch_execute("DROP TRIGGER shorten ON custody_entries; DROP FUNCTION shorten()")
        .unwrap();
    assert_eq!(
        r.code, 1,
        "signed on the shortened ledger: {}{}",
        r.stdout, r.stderr
    );
    assert!(r.stderr.contains("truncated"), "{}", r.stderr);
    assert_eq!(stored(c, "shortened").len() as i64, n - 1);
}

/// The database refuses a batch for good after receiving its rows (an
/// error custody does not retry), and whoever runs it keeps a copy. The
/// key's next append at that place signs the same events into the same
/// bytes, and refuses to sign other events there.
#[test]
fn a_batch_refused_after_it_was_sent_is_never_replaced_by_another() {
    let c = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    keys(d);
    let url = c.url("kept-copy");
    ok(custody(
        d,
        &["init", &url, "--key", "owner.key", "--name", "kept-copy"],
    ));
    let mut admin = c.client();
    let id: i64 = admin
        .query_one(
            "SELECT ledger FROM custody_ledgers WHERE name = 'kept-copy'",
            &[],
        )
        .unwrap()
        .get(0);
    let arm = |admin: &mut postgres::Client| {
        admin
            .batch_execute(&format!(
                "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 DECLARE r record; \
                 BEGIN \
                   IF EXISTS (SELECT 1 FROM n WHERE ledger = {id}) THEN \
                     FOR r IN SELECT seq, bytes FROM n ORDER BY seq LOOP \
                       RAISE LOG 'custody-refused % %', r.seq, encode(r.bytes, 'hex'); \
                     END LOOP; \
                     RAISE EXCEPTION 'could not extend file' USING ERRCODE = '53100'; \
                   END IF; \
                   RETURN NULL; \
                 END $$; \
                 CREATE TRIGGER refuse AFTER INSERT ON custody_entries \
                 REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION refuse();"
            ))
            .unwrap();
    };
    let disarm = |admin: &mut postgres::Client| {
        admin
            .batch_execute("DROP TRIGGER refuse ON custody_entries")
            .unwrap();
    };
    arm(&mut admin);
    let r = custody_in(d, &["append", &url, "--key", "owner.key"], &batch("f1"));
    assert_eq!(r.code, 2, "{}", r.stdout);
    disarm(&mut admin);
    // A second later, other events at the same place: refused.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let before = stored(c, "kept-copy");
    let r = custody_in(d, &["append", &url, "--key", "owner.key"], &batch("f2"));
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("two histories"), "{}", r.stderr);
    assert_eq!(stored(c, "kept-copy"), before);
    // The same events: the same bytes as the copy that was kept.
    let r = custody_in(d, &["append", &url, "--key", "owner.key"], &batch("f1"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let log = std::fs::read_to_string(c.dir.join("log")).unwrap();
    let kept: Vec<(i64, Vec<u8>)> = log
        .lines()
        .filter_map(|l| l.split("custody-refused ").nth(1))
        .map(|l| {
            let (seq, hex) = l.trim().split_once(' ').unwrap();
            (seq.parse().unwrap(), hex::decode(hex).unwrap())
        })
        .collect();
    assert_eq!(kept.len(), 20);
    assert_eq!(stored(c, "kept-copy")[1..].to_vec(), kept);
    // And the next batch, at the next place, is free again.
    ok(custody_in(
        d,
        &["append", &url, "--key", "owner.key"],
        &batch("f2"),
    ));
}

/// A batch whose answer was lost (the appender could not learn whether
/// the database kept it) and which the ledger holds: the same append run
/// again finds it there and appends nothing, where it used to append the
/// same events a second time.
#[test]
fn the_same_append_after_an_unknown_outcome_finds_its_batch() {
    let c = Cluster::get();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (owner, _) = keys(d);
    let url = c.url("unknown-outcome");
    ok(custody(
        d,
        &[
            "init",
            &url,
            "--key",
            "owner.key",
            "--name",
            "unknown-outcome",
        ],
    ));
    let before = json(&ok(custody(d, &["verify", &url, "--json"])));
    let events = batch("u1");
    ok(custody_in(
        d,
        &["append", &url, "--key", "owner.key"],
        &events,
    ));
    let after = json(&ok(custody(d, &["verify", &url, "--json"])));
    // What the appender keeps while an outcome is unknown (SECURITY.md,
    // "pending batch"): where the batch was signed, its head, and the
    // digest of its events.
    use sha2::Digest;
    let pending = format!(
        "{} {} 0 {} {}\n",
        before["entries"],
        before["head"].as_str().unwrap(),
        after["head"].as_str().unwrap(),
        hex::encode(sha2::Sha256::digest(events.as_bytes()))
    );
    let id = after["ledger"].as_str().unwrap();
    let file = d
        .join(".custody-state")
        .join(&owner[..32])
        .join(format!("{id}.pending"));
    std::fs::write(&file, pending).unwrap();
    let rows = stored(c, "unknown-outcome");
    let r = ok(custody_in(
        d,
        &["append", &url, "--key", "owner.key"],
        &events,
    ));
    assert!(r.stderr.contains("earlier attempt"), "{}", r.stderr);
    assert_eq!(stored(c, "unknown-outcome"), rows, "nothing appended again");
    assert!(!file.exists(), "the pending batch is settled");
    // Other events are appended as usual.
    ok(custody_in(
        d,
        &["append", &url, "--key", "owner.key"],
        &batch("u2"),
    ));
    assert!(stored(c, "unknown-outcome").len() > rows.len());
}
