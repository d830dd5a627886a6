//! OpenLineage ingestion with the stock `openlineage-python` client (its
//! HTTP transport and API-key auth), against a real `custody serve`.
//! Needs the pinned client in `.venv` (tests/setup-python.sh): ignored by
//! a plain `cargo test`, run by `cargo test -- --include-ignored` (CI).

mod common;

use common::{custody, python, Fixture};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const NEEDS: &str = "needs .venv with openlineage-python: run tests/setup-python.sh, then cargo test -- --include-ignored";

fn post(url: &str, auth: Option<&str>, body: &[u8]) -> (u16, Value) {
    let mut req = ureq::post(url).config().http_status_as_error(false).build();
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let mut resp = req.send(body).unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[test]
#[ignore = "needs .venv with openlineage-python: run tests/setup-python.sh, then cargo test -- --include-ignored"]
fn a_pipelines_openlineage_events_become_signed_entries() {
    let f = Fixture::new();
    let d = f.dir();
    let ingest = custody(d, &["keygen", "--out", "ingest.key"]);
    assert_eq!(ingest.code, 0);
    let ingest = ingest.stdout.trim().to_string();
    f.append_ok(
        "owner.key",
        &format!(r#"{{"type":"grant","key":"{ingest}","role":"appender"}}"#),
    );
    let token = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    std::fs::write(d.join("token"), format!("{token}\n")).unwrap();
    let mut server = Command::new(common::bin())
        .args([
            "serve",
            &common::ledger_arg(d, "L"),
            "--listen",
            "127.0.0.1:0",
            "--ingest-key",
            "ingest.key",
            "--token-file",
            "token",
        ])
        .current_dir(d)
        .env("CUSTODY_STATE_DIR", d.join(".custody-state"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both lines the server prints are read: a reader gone before the
    // second would make its write fail, and the server stop.
    let mut out = BufReader::new(server.stdout.take().unwrap()).lines();
    let first = out.next().unwrap().unwrap();
    out.next().unwrap().unwrap();
    let host = first.trim_start_matches("listening on ").to_string();
    let lineage = format!("{host}/api/v1/lineage");
    // Without the token, or with another, or with a body that is no
    // RunEvent: refused, nothing recorded.
    let event = br#"{"eventType":"COMPLETE","eventTime":"2026-11-29T10:00:00Z","run":{"runId":"r"},"job":{"namespace":"n","name":"j"},"producer":"p","inputs":[],"outputs":[{"namespace":"n","name":"x"}]}"#;
    assert_eq!(post(&lineage, None, event).0, 401);
    assert_eq!(post(&lineage, Some("Bearer 0000"), event).0, 401);
    let bearer = format!("Bearer {token}");
    let (st, v) = post(&lineage, Some(&bearer), b"{\"eventType\":\"COMPLETE\"");
    assert_eq!(st, 400, "{v}");
    let (st, v) = post(
        &lineage,
        Some(&bearer),
        br#"{"eventType":"COMPLETE","run":{}}"#,
    );
    assert_eq!(st, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("run.runId"), "{v}");
    // The pipeline, through the real client.
    let emit = Command::new(python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openlineage/emit.py"))
        .args([&host, token])
        .output()
        .unwrap_or_else(|e| panic!("{NEEDS}: {e}"));
    assert!(
        emit.status.success(),
        "{NEEDS}\n{}",
        String::from_utf8_lossy(&emit.stderr)
    );
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    assert!(server.wait().unwrap().success());
    // A third party's view: the ledger verifies, and says what happened.
    assert_eq!(custody(d, &["verify", "L"]).code, 0);
    let log = custody(d, &["log", "L", "--json"]);
    assert_eq!(log.code, 0);
    let entries: Vec<Value> = log
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by_ingest: Vec<&Value> = entries
        .iter()
        .filter(|e| e["signer"] == ingest.as_str())
        .collect();
    let count = |ty: &str, pred: &dyn Fn(&Value) -> bool| {
        by_ingest
            .iter()
            .filter(|e| e["type"] == ty && pred(e))
            .count()
    };
    for id in [
        "s3://lab/raw/web.jsonl",
        "s3://lab/dedup/web.jsonl",
        "s3://lab/tokens/web.bin",
        "s3://lab/synthetic/qa.jsonl",
    ] {
        assert_eq!(count("artifact", &|e| e["id"] == id), 1, "{id}");
    }
    // START events are not recorded; the dedup COMPLETE, delivered twice,
    // once.
    for job in ["dedup", "tokenize", "synthesize"] {
        let op = format!("lab-pipeline/{job}");
        assert_eq!(
            count("transformation", &|e| e["operation"] == op.as_str()
                && e["tool"] == "https://github.com/example/lab-pipeline/v1"),
            1,
            "{job}: {}",
            log.stdout
        );
    }
    assert_eq!(by_ingest.len(), 4 + 3 + 3 + 1, "{}", log.stdout);
    let raw = by_ingest
        .iter()
        .find(|e| e["id"] == "s3://lab/raw/web.jsonl")
        .unwrap();
    assert_eq!(raw["digest"], format!("sha256:{}", "ab".repeat(32)));
    assert!(raw["note"]
        .as_str()
        .unwrap()
        .starts_with("openlineage-event:"));
    assert_eq!(
        count("custody", &|e| e["artifact"] == "s3://lab/raw/web.jsonl"
            && e["to"] == "data-team"),
        1
    );
    // The licenses the facets carried are what openness reads.
    f.append_ok(
        "owner.key",
        r#"{"type":"component","component":"pretraining-data","artifacts":["s3://lab/tokens/web.bin"]}
{"type":"component","component":"sft-data","artifacts":["s3://lab/synthetic/qa.jsonl"]}"#,
    );
    let o = custody(d, &["openness", "L", "--json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("CC-BY-4.0"), "{}", o.stdout);
    assert!(
        o.stdout.contains("Lab synthetic-data terms"),
        "{}",
        o.stdout
    );
}
