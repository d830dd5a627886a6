//! The README's walk-through, run as written: every `sh` block from the
//! "Walk-through" heading to the end of the file, in order, in one shell,
//! in an empty directory, with the binary under test first on PATH. A step
//! that fails fails the test, naming the block.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The `sh` blocks after the walk-through heading, with the line each
/// starts on.
fn blocks(readme: &str) -> Vec<(usize, String)> {
    let start = readme
        .lines()
        .position(|l| l.trim() == "## Walk-through")
        .expect("README has a `## Walk-through` heading");
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in readme.lines().enumerate().skip(start) {
        match &mut current {
            None if line.trim_end() == "```sh" => current = Some((n + 2, String::new())),
            Some(_) if line.trim_end() == "```" => out.push(current.take().unwrap()),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "an `sh` block is not closed");
    out
}

#[test]
fn the_walk_through_runs_as_written() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("read README.md");
    let blocks = blocks(&readme);
    assert!(blocks.len() >= 6, "found only {} sh blocks", blocks.len());
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_custody")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // One shell for all blocks, as a reader typing them in order; each
    // block announces itself on stderr so a failure names it.
    let mut script = String::from("set -euo pipefail\n");
    for (line, text) in &blocks {
        script.push_str(&format!("echo '>>> README.md line {line}' >&2\n{text}\n"));
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("CUSTODY_STATE_DIR", dir.path().join(".state"))
        .output()
        .expect("run bash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the walk-through failed ({:?}); the last block started is the culprit\n--- stderr\n{stderr}\n--- stdout\n{stdout}",
        out.status
    );

    // What the prose says of the outcome holds too.
    let o: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("openness.json")).unwrap())
            .expect("openness.json is JSON");
    let weights = &o["components"]["weights"];
    assert_eq!(weights["level"], "D3", "{weights}");
    assert_eq!(weights["because"]["cause"], "lineage", "{weights}");
    let w = weights["because"]["withheld"].as_array().unwrap();
    assert!(
        w.iter()
            .any(|x| x["artifact"] == "forum-qa" && x["right"] == "commercial"),
        "{weights}"
    );
    assert_eq!(o["components"]["pretraining-code"]["level"], "C5");
    assert_eq!(o["components"]["pretraining-data"]["level"], "D1");
    assert_eq!(o["components"]["alignment-code"]["level"], "N/A");
    assert_eq!(o["components"]["eval-code"]["level"], "?");
    let md = std::fs::read_to_string(dir.path().join("openness.md")).unwrap();
    assert!(md.contains("forum-qa"), "{md}");
    // The proof step printed the entry it checked.
    assert!(stdout.contains("cc-2024-10"), "{stdout}");
}
