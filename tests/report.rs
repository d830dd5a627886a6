//! `custody report`: the page loads in headless Chromium (Debian's
//! `chromium`) with no console message and no request to any address,
//! shows the openness table and the lineage graph with the expected rows
//! and nodes, and stays bounded for a ledger of 10,000 artifacts. A
//! screenshot is left in the test's temporary directory (printed).

mod common;

use common::{custody, custody_in, Fixture};
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

const NEEDS: &str = "needs Debian's chromium (apt-get install chromium; .ci/run installs it): cargo test -- --include-ignored";

/// A proxy that records the first line of every request sent to it.
fn recorder() -> (String, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { return };
            let mut buf = [0u8; 512];
            let n = c.read(&mut buf).unwrap_or(0);
            let line = String::from_utf8_lossy(&buf[..n])
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            s.lock().unwrap().push(line);
        }
    });
    (addr, seen)
}

struct Loaded {
    dom: String,
    console: Vec<String>,
    requests: Vec<String>,
}

/// Loads `page` in headless Chromium, every request it makes going to a
/// recording proxy; with `shot`, also a screenshot.
fn load(page: &Path, shot: Option<&Path>) -> Loaded {
    let (proxy, seen) = recorder();
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,2400",
        &format!("--proxy-server=http://{proxy}"),
    ]);
    match shot {
        Some(p) => cmd.arg(format!("--screenshot={}", p.display())),
        None => cmd.arg("--dump-dom"),
    };
    let out = cmd
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("{NEEDS}: {e}"));
    assert!(
        out.status.success(),
        "{NEEDS}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("CONSOLE"))
        .map(str::to_string)
        .collect();
    // The browser's own calls home (to Google's services) are not the
    // page's; anything else is.
    let requests = seen
        .lock()
        .unwrap()
        .iter()
        // A connection opened ahead and closed without a request is none.
        .filter(|r| !r.is_empty())
        .filter(|r| {
            let host = r.split_whitespace().nth(1).unwrap_or("");
            let host = host
                .trim_start_matches("http://")
                .split(['/', ':'])
                .next()
                .unwrap_or("");
            !(host == "google.com" || host.ends_with(".google.com"))
        })
        .cloned()
        .collect();
    Loaded {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console,
        requests,
    }
}

#[test]
#[ignore = "needs Debian's chromium (apt-get install chromium; .ci/run installs it): cargo test -- --include-ignored"]
fn the_harness_sees_requests_and_console_messages() {
    // Without this, the report's test would pass for a blind harness.
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("control.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><img src=\"http://canary.invalid/x.png\"><script>console.error('canary-console')</script></body></html>",
    )
    .unwrap();
    let l = load(&page, None);
    assert!(
        l.requests.iter().any(|r| r.contains("canary.invalid")),
        "{:?}",
        l.requests
    );
    assert!(
        l.console.iter().any(|c| c.contains("canary-console")),
        "{:?}",
        l.console
    );
}

#[test]
#[ignore = "needs Debian's chromium (apt-get install chromium; .ci/run installs it): cargo test -- --include-ignored"]
fn the_report_loads_alone_and_shows_table_graph_and_timelines() {
    let f = Fixture::new();
    let d = f.dir();
    f.append_ok(
        "appender.key",
        r#"{"type":"artifact","id":"raw","kind":"data","uri":"https://example.org/raw"}
{"type":"license","artifact":"raw","license":"CC-BY-4.0"}
{"type":"custody","artifact":"raw","from":"Example Org","to":"data team"}
{"type":"artifact","id":"clean","kind":"data"}
{"type":"transformation","operation":"dedup","inputs":["raw"],"outputs":["clean"]}
{"type":"artifact","id":"teacher","kind":"weights"}
{"type":"license","artifact":"teacher","license":"LicenseRef-Llama-2"}
{"type":"artifact","id":"synth","kind":"data"}
{"type":"augmentation","method":"synthetic","inputs":["clean"],"outputs":["synth"],"generator":"teacher"}
{"type":"artifact","id":"model","kind":"weights"}
{"type":"transformation","operation":"train","inputs":["clean","synth"],"outputs":["model"]}
{"type":"license","artifact":"model","license":"Apache-2.0"}
{"type":"release","artifact":"model","access":"public"}
{"type":"custody","artifact":"model","from":"data team","to":"release team"}"#,
    );
    f.append_ok(
        "owner.key",
        r#"{"type":"component","component":"weights","artifacts":["model"]}
{"type":"component","component":"pretraining-data","artifacts":["clean"]}"#,
    );
    assert_eq!(custody(d, &["export", "L", "--out", "x.custody"]).code, 0);
    let r = custody(d, &["report", "x.custody", "--out", "report.html"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = d.join("report.html");
    let l = load(&page, None);
    assert!(l.console.is_empty(), "{:?}", l.console);
    assert!(l.requests.is_empty(), "{:?}", l.requests);
    let table = l
        .dom
        .split("class=\"openness\"")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    assert_eq!(
        table.matches("<tr>").count(),
        1 + 12,
        "a header and twelve components"
    );
    assert_eq!(
        l.dom.matches("class=\"node\"").count(),
        5,
        "five artifacts drawn"
    );
    assert_eq!(
        l.dom.matches("class=\"edge\"").count(),
        5,
        "raw→clean, clean→synth, teacher⇢synth, clean→model, synth→model"
    );
    assert_eq!(
        l.dom.matches("class=\"custody\"").count(),
        2,
        "two timelines"
    );
    assert!(l.dom.contains("verified"));
    let shot = d.join("report.png");
    let _ = load(&page, Some(&shot));
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
    // Kept for a person to look at, when asked.
    if let Ok(keep) = std::env::var("CUSTODY_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
    // An invalid ledger gets no report.
    let mut bytes = std::fs::read(d.join("x.custody")).unwrap();
    let n = bytes.len();
    bytes[n - 7] ^= 1;
    std::fs::write(d.join("x.custody"), bytes).unwrap();
    let bad = custody_in(d, &["report", "x.custody", "--out", "bad.html"], "");
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(!d.join("bad.html").exists());
}

#[test]
#[ignore = "needs Debian's chromium (apt-get install chromium; .ci/run installs it): cargo test -- --include-ignored"]
fn a_report_of_ten_thousand_artifacts_stays_bounded() {
    let f = Fixture::new();
    let d = f.dir();
    let mut lines = String::new();
    for i in 0..10_000 {
        lines.push_str(&format!(
            "{{\"type\":\"artifact\",\"id\":\"shard-{i:05}\",\"kind\":\"data\"}}\n"
        ));
    }
    for i in 0..1_000 {
        lines.push_str(&format!(
            "{{\"type\":\"artifact\",\"id\":\"clean-{i:04}\",\"kind\":\"data\"}}\n"
        ));
        let inputs: Vec<String> = (0..10)
            .map(|k| format!("\"shard-{:05}\"", i * 10 + k))
            .collect();
        lines.push_str(&format!(
            "{{\"type\":\"transformation\",\"operation\":\"dedup\",\"inputs\":[{}],\"outputs\":[\"clean-{i:04}\"]}}\n",
            inputs.join(",")
        ));
        lines.push_str(&format!(
            "{{\"type\":\"custody\",\"artifact\":\"clean-{i:04}\",\"from\":\"a\",\"to\":\"b\"}}\n"
        ));
    }
    f.append_ok("appender.key", &lines);
    let r = custody(d, &["report", "L", "--out", "big.html"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let size = std::fs::metadata(d.join("big.html")).unwrap().len();
    assert!(size < 4 << 20, "{size} bytes");
    let l = load(&d.join("big.html"), None);
    assert!(l.console.is_empty(), "{:?}", l.console);
    assert!(l.requests.is_empty(), "{:?}", l.requests);
    // Two columns, each folded to what a person can read.
    assert_eq!(l.dom.matches("class=\"node\"").count(), 2 * 24);
    assert_eq!(l.dom.matches("class=\"more\"").count(), 2);
    assert!(
        l.dom.contains("+9976 more") && l.dom.contains("+976 more"),
        "folded counts"
    );
    assert!(l.dom.contains("and 0 more").eq(&false));
}

/// An appender's chain of artifacts, each made from every one before it
/// under a long operation name: the page stays bounded (columns folded,
/// arrows counted past a limit, names cut), where it used to grow with the
/// square of the chain.
#[test]
fn a_lineage_built_to_blow_the_page_up_stays_bounded() {
    let f = Fixture::new();
    let d = f.dir();
    let op = "\\\"".repeat(200);
    let mut lines = String::new();
    for i in 0..120 {
        lines.push_str(&format!(
            "{{\"type\":\"artifact\",\"id\":\"a{i}\",\"kind\":\"data\"}}\n"
        ));
        if i > 0 {
            let inputs: Vec<String> = (0..i).map(|k| format!("\"a{k}\"")).collect();
            lines.push_str(&format!(
                "{{\"type\":\"transformation\",\"operation\":\"{op}\",\"inputs\":[{}],\"outputs\":[\"a{i}\"]}}\n",
                inputs.join(",")
            ));
        }
    }
    f.append_ok("appender.key", &lines);
    let r = custody(d, &["report", "L", "--out", "chain.html"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = std::fs::read_to_string(d.join("chain.html")).unwrap();
    assert!(page.len() < 3 << 20, "{} bytes", page.len());
    assert!(page.contains("folded into 16 columns"), "columns folded");
    assert!(page.contains("more arrows are not drawn"), "arrows counted");
    assert!(page.matches("class=\"edge\"").count() <= 1500);
}
