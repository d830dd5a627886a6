//! OpenLineage events that arrive together are recorded as one batch
//! (`Served::ingest_all`, what `custody serve` does with the events queued
//! while it writes): one answer per event, duplicates recorded once, and
//! one event that breaks a rule costs the others nothing.
//!
//! One test per binary: it points the process's state directory at the
//! test's own, before any thread starts.

mod common;

use common::{custody, Fixture};
use custody::{Ingested, Served};
use serde_json::Value;

fn event(job: &str, inputs: &[&str], outputs: &[&str]) -> Vec<u8> {
    let ds = |names: &[&str]| -> Vec<Value> {
        names
            .iter()
            .map(|n| serde_json::json!({"namespace": "s3://lab", "name": n}))
            .collect()
    };
    serde_json::to_vec(&serde_json::json!({
        "eventType": "COMPLETE",
        "eventTime": "2026-11-29T10:00:00Z",
        "run": {"runId": format!("run-{job}")},
        "job": {"namespace": "pipe", "name": job},
        "producer": "test",
        "inputs": ds(inputs),
        "outputs": ds(outputs),
    }))
    .unwrap()
}

fn recorded(r: &Result<Ingested, custody::Error>) -> &custody::AppendReport {
    match r {
        Ok(Ingested::Recorded(rep)) => rep,
        other => panic!("expected recorded, got {other:?}"),
    }
}

#[test]
fn events_arriving_together_are_one_batch_and_a_bad_one_costs_the_others_nothing() {
    let f = Fixture::new();
    let d = f.dir();
    std::env::set_var("CUSTODY_STATE_DIR", d.join(".custody-state"));
    let ingest = custody(d, &["keygen", "--out", "ingest.key"]);
    assert_eq!(ingest.code, 0, "{}", ingest.stderr);
    f.append_ok(
        "owner.key",
        &format!(
            r#"{{"type":"grant","key":"{}","role":"appender"}}"#,
            ingest.stdout.trim()
        ),
    );
    let key = custody::read_signing_key(&d.join("ingest.key")).unwrap();
    let served = Served::open(common::ledger_location(d)).unwrap();
    let before = served.verified().unwrap().entries();

    // A group of good events, one reading what another in the same group
    // declared: one batch, so every answer names the same head.
    let raw = event("fetch", &[], &["raw"]);
    let dedup = event("dedup", &["raw"], &["dedup"]);
    let answers = served.ingest_all(&key, &[&raw, &dedup, &dedup]);
    assert_eq!(answers.len(), 3);
    let (a, b) = (recorded(&answers[0]), recorded(&answers[1]));
    assert!(
        matches!(answers[2], Ok(Ingested::Duplicate)),
        "{:?}",
        answers[2]
    );
    assert_eq!(a.head, b.head, "one batch, one head");
    // raw declared; dedup declared and the transformation.
    assert_eq!((a.appended, b.appended), (1, 2));
    assert_eq!(b.entries, before + 3);

    // A group holding an event that breaks a rule when appended (it
    // produces `dedup` a second time): the others are still recorded, the
    // bad one is refused, and the ledger holds nothing of it.
    let again = event("dedup-again", &["raw"], &["dedup"]);
    let tok = event("tokenize", &["dedup"], &["tok"]);
    let other = event("fetch-2", &[], &["raw-2"]);
    let answers = served.ingest_all(&key, &[&tok, &again, &other, &raw]);
    recorded(&answers[0]);
    match &answers[1] {
        Err(e) => assert!(
            e.to_string().contains("dedup"),
            "the refusal names the dataset: {e}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    recorded(&answers[2]);
    // Recorded in the first group: a duplicate, recorded once.
    assert!(
        matches!(answers[3], Ok(Ingested::Duplicate)),
        "{:?}",
        answers[3]
    );
    // An answer that hung on a refused event of the group is not kept:
    // here a source run writing `x2` would have been "skipped" (a refused
    // event in the group declares `x2` too), and a copy of the refused
    // event "a duplicate".
    let bad = event("bad", &["raw"], &["x2", "dedup"]);
    let x2 = event("make-x2", &[], &["x2"]);
    let answers = served.ingest_all(&key, &[&bad, &x2, &bad]);
    assert!(answers[0].is_err(), "{:?}", answers[0]);
    recorded(&answers[1]);
    assert!(answers[2].is_err(), "{:?}", answers[2]);
    let after = served.verified().unwrap().entries();
    // tok declared and its transformation; raw-2 declared; x2 declared.
    assert_eq!(after, before + 3 + 2 + 1 + 1);
    served.close().unwrap();

    // A third party's view: the ledger verifies, and holds the
    // transformations of the recorded runs only, each once.
    let v = custody(d, &["verify", "L"]);
    assert_eq!(v.code, 0, "{}", v.stderr);
    let log = custody(d, &["log", "L", "--json"]);
    assert_eq!(log.code, 0, "{}", log.stderr);
    let ops: Vec<String> = log
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["type"] == "transformation")
        .map(|e| e["operation"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ops, ["pipe/dedup", "pipe/tokenize"]);
}
