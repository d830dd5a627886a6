//! The attacks of SECURITY.md, each performed against the built binary and
//! shown to fail (refused, or the level not raised, or a warning saying
//! why), each beside the honest counterpart that still works. Partial
//! export attacks are in `disclosure.rs`; ledger vectors for every new
//! reason code are in `vectors.rs`.

mod common;

use common::crafted::{crafted, genesis};
use common::{custody, custody_in, snapshot, Fixture};
use serde_json::{json, Value};
use std::path::Path;

fn openness_json(dir: &Path, file: &str) -> (i32, Value) {
    let r = custody(dir, &["openness", file, "--json"]);
    (
        r.code,
        serde_json::from_str(&r.stdout).unwrap_or(Value::Null),
    )
}

/// A second appender, with its own key, beside the fixture's.
fn two_appenders() -> Fixture {
    let f = Fixture::new();
    let r = custody(f.dir(), &["keygen", "--out", "other.key"]);
    f.append_ok(
        "owner.key",
        &format!(
            r#"{{"type":"grant","key":"{}","role":"appender"}}"#,
            r.stdout.trim()
        ),
    );
    f.append_ok(
        "appender.key",
        &[
            r#"{"type":"artifact","id":"upstream","kind":"data"}"#,
            r#"{"type":"license","artifact":"upstream","license":"CC-BY-NC-4.0"}"#,
            r#"{"type":"artifact","id":"derived","kind":"data"}"#,
            r#"{"type":"transformation","operation":"filter","inputs":["upstream"],"outputs":["derived"]}"#,
            r#"{"type":"license","artifact":"derived","license":"CC-BY-4.0"}"#,
            r#"{"type":"release","artifact":"derived","access":"public"}"#,
            r#"{"type":"artifact","id":"planned","kind":"data"}"#,
        ]
        .join("\n"),
    );
    f.append_ok(
        "owner.key",
        &[
            r#"{"type":"artifact","id":"w","kind":"weights"}"#,
            r#"{"type":"license","artifact":"w","license":"LicenseRef-Llama-2"}"#,
            r#"{"type":"release","artifact":"w","access":"public"}"#,
            r#"{"type":"component","component":"sft-data","artifacts":["derived"]}"#,
            r#"{"type":"component","component":"weights","artifacts":["w"]}"#,
        ]
        .join("\n"),
    );
    f
}

/// Attack 3: an appender re-licenses, re-releases or hands over what is
/// not its own, claims another party's production, or bends the component
/// map. Each is refused with nothing written; the level stays.
#[test]
fn an_appender_cannot_make_claims_about_artifacts_it_does_not_hold() {
    let f = two_appenders();
    let (_, before_levels) = openness_json(f.dir(), "L");
    assert_eq!(before_levels["components"]["sft-data"]["level"], "D3");
    assert_eq!(before_levels["components"]["weights"]["level"], "D3");
    for (line, field, needle) in [
        // The upstream source's restriction removed by one line.
        (
            r#"{"type":"license","artifact":"upstream","license":"CC0-1.0"}"#,
            "artifact",
            "only the holder of `upstream`",
        ),
        // The owner's weights re-licensed.
        (
            r#"{"type":"license","artifact":"w","license":"Apache-2.0"}"#,
            "artifact",
            "only the holder of `w`",
        ),
        (
            r#"{"type":"release","artifact":"w","access":"none"}"#,
            "artifact",
            "only the holder of `w`",
        ),
        (
            r#"{"type":"custody","artifact":"derived","from":"them","to":"us"}"#,
            "artifact",
            "only the holder of `derived`",
        ),
        // Front-running the production of an artifact another party declared.
        (
            r#"{"type":"transformation","operation":"copy","inputs":["upstream"],"outputs":["planned"]}"#,
            "outputs[0]",
            "only the holder of `planned`",
        ),
        // Locking a component as not applicable, or assigning one.
        (
            r#"{"type":"component","component":"alignment-data","applicable":false}"#,
            "type",
            "only an owner may say which artifacts make up a pipeline component",
        ),
        (
            r#"{"type":"component","component":"weights","artifacts":["w"],"replace":true}"#,
            "type",
            "only an owner may",
        ),
    ] {
        let before = snapshot(&f.path("L"));
        let r = f.append("other.key", line);
        assert_eq!(r.code, 2, "{line}: {}", r.stdout);
        assert!(
            r.stderr.contains(&format!("line 1: field `{field}`: ")) && r.stderr.contains(needle),
            "{line}: {}",
            r.stderr
        );
        assert!(
            before == snapshot(&f.path("L")),
            "{line}: the ledger changed"
        );
    }
    let (_, after) = openness_json(f.dir(), "L");
    assert_eq!(after["components"], before_levels["components"]);
}

/// Attack 3, honest counterpart: the holder and owners may; a hand-over
/// moves authority; an owner corrects a component, even one declared not
/// applicable; a holder's relicensing shows as a warning with its entries.
#[test]
fn holders_and_owners_may_and_relicensing_is_visible() {
    let f = two_appenders();
    let other = std::fs::read_to_string(f.path("other.key.pub")).unwrap();
    let other = other.trim();
    // The holder hands `planned` to the other appender, which then produces it.
    f.append_ok(
        "appender.key",
        &format!(
            r#"{{"type":"custody","artifact":"planned","from":"team a","to":"team b","key":"{other}"}}"#
        ),
    );
    f.append_ok(
        "other.key",
        r#"{"type":"transformation","operation":"copy","inputs":["upstream"],"outputs":["planned"]}"#,
    );
    // ...and the old holder may no longer license it.
    let r = f.append(
        "appender.key",
        r#"{"type":"license","artifact":"planned","license":"CC0-1.0"}"#,
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("handed it over"), "{}", r.stderr);
    // An owner declares a component not applicable, then corrects it.
    f.append_ok(
        "owner.key",
        r#"{"type":"component","component":"alignment-data","applicable":false}"#,
    );
    f.append_ok(
        "owner.key",
        r#"{"type":"component","component":"alignment-data","artifacts":["planned"]}"#,
    );
    // The holder of `upstream` relicenses it permissively: allowed, and shown.
    f.append_ok(
        "appender.key",
        r#"{"type":"license","artifact":"upstream","license":"CC0-1.0"}"#,
    );
    let (code, v) = openness_json(f.dir(), "L");
    assert_eq!(code, 0);
    assert_eq!(v["components"]["sft-data"]["level"], "D5");
    let ad = &v["components"]["alignment-data"];
    assert_eq!(ad["level"], "?");
    assert_eq!(ad["unknown_artifacts"], json!(["planned"]));
    let warnings: Vec<&str> = v["components"]["sft-data"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings.iter().any(|w| w
            .contains("upstream: relicensed from CC BY-NC 4.0 (entry 4) to CC0")
            && w.contains("commercial use, another license for derivatives")),
        "{warnings:?}"
    );
    // Evidence names every entry the level rests on: the upstream's
    // declaration, its license in force and the stricter one it replaced,
    // the production, derived's own entries and the component's.
    let ev = &v["components"]["sft-data"]["evidence"];
    let last = v["entries"].as_u64().unwrap() - 1;
    assert_eq!(ev, &json!([3, 4, 5, 6, 7, 8, 13, last]));
    // Licensing it again does not erase the trace of the stricter license.
    f.append_ok(
        "appender.key",
        r#"{"type":"license","artifact":"upstream","license":"CC0-1.0"}"#,
    );
    let (_, v) = openness_json(f.dir(), "L");
    let c = &v["components"]["sft-data"];
    assert!(
        c["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("upstream: relicensed from CC BY-NC 4.0 (entry 4)")),
        "{c}"
    );
    assert!(c["evidence"].as_array().unwrap().contains(&json!(4)));
}

/// A relicensing to a license of fewer points that grants what the earlier
/// one withheld (here: another license for derivatives, so that the
/// restriction no longer flows downstream) is shown, not hidden behind the
/// lower total.
#[test]
fn relicensing_is_compared_right_by_right() {
    let f = Fixture::new();
    f.append_ok(
        "appender.key",
        r#"{"type":"artifact","id":"corpus","kind":"data"}
{"type":"license","artifact":"corpus","license":"CC-BY-NC-4.0"}"#,
    );
    f.append_ok(
        "owner.key",
        r#"{"type":"artifact","id":"w","kind":"weights"}
{"type":"transformation","operation":"train","inputs":["corpus"],"outputs":["w"]}
{"type":"license","artifact":"w","license":"MIT"}
{"type":"release","artifact":"w","access":"public"}
{"type":"component","component":"weights","artifacts":["w"]}"#,
    );
    let (_, v) = openness_json(f.dir(), "L");
    assert_eq!(v["components"]["weights"]["level"], "D3");
    // The holder relicenses to 1 point: only relicensing of derivatives.
    f.append_ok(
        "appender.key",
        r#"{"type":"license","artifact":"corpus","license":{"name":"Corpus Terms 2","terms":{"research":false,"commercial":false,"modify":false,"copyright_derivative":false,"other_license_derivative":true}}}"#,
    );
    let (_, v) = openness_json(f.dir(), "L");
    let c = &v["components"]["weights"];
    // Its right to do so stands (it holds the corpus), so the level rises...
    assert_eq!(c["level"], "D5");
    // ...but not silently.
    assert!(
        c["warnings"].as_array().unwrap().iter().any(|w| {
            let w = w.as_str().unwrap();
            w.contains("corpus: relicensed from CC BY-NC 4.0 (entry 3)")
                && w.contains("which grants what the earlier license withheld: another license for derivatives")
        }),
        "{c}"
    );
    assert!(c["evidence"].as_array().unwrap().contains(&json!(3)));
}

/// Attack 4: an inline license wearing a registry license's name.
#[test]
fn a_look_alike_inline_license_is_refused_and_flagged() {
    // At append: refused (tests/bad_events.rs has the variants).
    let f = Fixture::new();
    f.append_ok("owner.key", r#"{"type":"artifact","id":"a","kind":"data"}"#);
    let r = f.append(
        "owner.key",
        r#"{"type":"license","artifact":"a","license":{"name":"CC BY-NC 4.0","terms":{"research":true,"commercial":true,"modify":true,"copyright_derivative":true,"other_license_derivative":true}}}"#,
    );
    assert_eq!(r.code, 2);
    // Family names and common spellings too, not only versioned ones.
    for name in [
        "GPL",
        "AGPL",
        "Apache Software License",
        "ASL 2.0",
        "CC BY",
        "Creative Commons BY",
        "GNU General Public License",
        "Mozilla Public License",
    ] {
        let line = json!({"type": "license", "artifact": "a", "license": {"name": name, "terms": {"research": true, "commercial": true, "modify": true, "copyright_derivative": true, "other_license_derivative": true}}});
        let r = f.append("owner.key", &line.to_string());
        assert_eq!(r.code, 2, "{name} was accepted as an inline license name");
    }
    // Written by another tool: verifies (names are no part of the format),
    // but openness says self-declared and what it resembles, in every form.
    let all = json!({"research": true, "commercial": true, "modify": true, "copyright_derivative": true, "other_license_derivative": true});
    let mut ev = genesis();
    ev.extend([
        (1, json!({"type": "artifact", "id": "a", "kind": "data"})),
        (1, json!({"type": "license", "artifact": "a", "license": {"name": "CC BY-NC 4.0", "terms": all}})),
        (1, json!({"type": "release", "artifact": "a", "access": "public"})),
        (1, json!({"type": "component", "component": "sft-data", "artifacts": ["a"]})),
    ]);
    std::fs::write(f.path("x.custody"), crafted(&ev)).unwrap();
    let (code, v) = openness_json(f.dir(), "x.custody");
    assert_eq!(code, 0);
    let c = &v["components"]["sft-data"];
    assert_eq!(c["level"], "D5");
    assert_eq!(c["license"]["id"], Value::Null);
    assert_eq!(c["license"]["self_declared"], true);
    assert_eq!(c["license"]["resembles"], "CC-BY-NC-4.0");
    assert!(c["warnings"][0]
        .as_str()
        .unwrap()
        .contains("named like the registry license `CC-BY-NC-4.0` but is not it"));
    let text = custody(f.dir(), &["openness", "x.custody"]).stdout;
    // Wrapped to 80 columns: compare with the lines joined.
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("the self-declared license \"CC BY-NC 4.0\""),
        "{text}"
    );
    assert!(text.contains("is not it"), "{text}");
    let md = custody(f.dir(), &["openness", "x.custody", "--markdown"]).stdout;
    assert!(md.contains("D5 \\(CC BY-NC 4.0, self-declared\\)"), "{md}");
}

/// Attack 5: an unknown license id upstream makes the levels below it
/// unknown, never unrestricted.
#[test]
fn an_unknown_license_upstream_makes_the_level_unknown() {
    let mut ev = genesis();
    ev.extend([
        (2, json!({"type": "artifact", "id": "src", "kind": "data"})),
        (2, json!({"type": "license", "artifact": "src", "license": "LicenseRef-Secret-Terms"})),
        (2, json!({"type": "artifact", "id": "mid", "kind": "data"})),
        (2, json!({"type": "transformation", "operation": "a", "inputs": ["src"], "outputs": ["mid"]})),
        (2, json!({"type": "artifact", "id": "out", "kind": "data"})),
        (2, json!({"type": "transformation", "operation": "b", "inputs": ["mid"], "outputs": ["out"]})),
        (2, json!({"type": "license", "artifact": "out", "license": "CC0-1.0"})),
        (2, json!({"type": "release", "artifact": "out", "access": "public"})),
        (1, json!({"type": "component", "component": "pretraining-data", "artifacts": ["out"]})),
    ]);
    let f = Fixture::new();
    std::fs::write(f.path("x.custody"), crafted(&ev)).unwrap();
    let (code, v) = openness_json(f.dir(), "x.custody");
    assert_eq!(code, 0);
    let c = &v["components"]["pretraining-data"];
    assert_eq!(c["level"], "?");
    assert_eq!(c["unknown_artifacts"], json!(["out"]));
    let w = c["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("out: its source `src` has license `LicenseRef-Secret-Terms`, which is not in the license registry"),
        "{w}"
    );
    // Its honest counterpart: a known restrictive license upstream gives D3.
    ev[4].1 = json!({"type": "license", "artifact": "src", "license": "CC-BY-NC-4.0"});
    std::fs::write(f.path("y.custody"), crafted(&ev)).unwrap();
    assert_eq!(
        openness_json(f.dir(), "y.custody").1["components"]["pretraining-data"]["level"],
        "D3"
    );
}

/// Attack 6: ledger text that would shift a markdown table's columns or
/// reach the terminal raw.
#[test]
fn ledger_text_cannot_inject_output() {
    let f = Fixture::new();
    let terms = json!({"research": true, "commercial": false, "modify": true, "copyright_derivative": true, "other_license_derivative": true});
    let mut ev = genesis();
    ev[0].1 = json!({"type": "genesis", "name": "model | with <b>pipes</b>"});
    ev.extend([
        (1, json!({"type": "artifact", "id": "a|b", "kind": "data", "description": "line\u{1b}[2J\ninjected"})),
        (1, json!({"type": "license", "artifact": "a|b", "license": {"name": "Acme | D5 | D5 [x](http://e)", "terms": terms}})),
        (1, json!({"type": "release", "artifact": "a|b", "access": "public"})),
        (1, json!({"type": "component", "component": "sft-data", "artifacts": ["a|b"]})),
    ]);
    std::fs::write(f.path("x.custody"), crafted(&ev)).unwrap();
    let md = custody(f.dir(), &["openness", "x.custody", "--markdown"]);
    assert_eq!(md.code, 0, "{}", md.stderr);
    let row = md.stdout.lines().nth(2).unwrap();
    // 13 columns: 14 unescaped pipes, whatever the ledger holds.
    let unescaped = row
        .char_indices()
        .filter(|&(i, c)| c == '|' && (i == 0 || row.as_bytes()[i - 1] != b'\\'))
        .count();
    assert_eq!(unescaped, 14, "{row}");
    assert!(
        !md.stdout.contains("<b>") && !md.stdout.contains("](http"),
        "{}",
        md.stdout
    );
    // Free text may hold an escape sequence; no text output sends it raw.
    for args in [
        &["log", "x.custody"][..],
        &["verify", "x.custody"],
        &["openness", "x.custody"],
    ] {
        let r = custody(f.dir(), args);
        assert_eq!(r.code, 0, "{args:?}");
        assert!(
            !r.stdout.contains('\u{1b}') && !r.stderr.contains('\u{1b}'),
            "{args:?}"
        );
    }
    // An id holding an escape sequence is refused by the verifier itself,
    // and the message about it is escaped too.
    let mut ev = genesis();
    ev.push((
        1,
        json!({"type": "artifact", "id": "x\u{1b}[2J", "kind": "data", "\u{1b}]0;title\u{7}": 1}),
    ));
    std::fs::write(f.path("y.custody"), crafted(&ev)).unwrap();
    let r = custody(f.dir(), &["verify", "y.custody"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("entry 3: bad-event"), "{}", r.stderr);
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stderr.contains('\u{7}'),
        "{}",
        r.stderr
    );
}

/// Attack 7: a same-named ledger signed by a stranger; pinning the owner.
#[test]
fn openness_pins_the_owner_and_says_who_signed() {
    let f = Fixture::new();
    // The same name, another owner.
    custody(
        f.dir(),
        &["init", "S", "--key", "stranger.key", "--name", "fixture"],
    );
    for ledger in ["L", "S"] {
        let r = custody(f.dir(), &["openness", ledger]);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("NOT pinned"), "{}", r.stdout);
    }
    let text = custody(f.dir(), &["openness", "S"]).stdout;
    assert!(
        text.contains(&f.stranger) && !text.contains(&f.owner),
        "{text}"
    );
    let r = custody(
        f.dir(),
        &["openness", "S", "--owner", "owner.key.pub", "--json"],
    );
    assert_eq!(r.code, 1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["error"]["reason"], "owner-mismatch");
    let r = custody(
        f.dir(),
        &["openness", "L", "--owner", "owner.key.pub", "--json"],
    );
    assert_eq!(r.code, 0);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["pinned"], true);
    assert_eq!(v["owner"], f.owner.as_str());
    assert_eq!(v["ledger"].as_str().unwrap().len(), 64);
    assert_eq!(v["name"], "fixture");
    let md = custody(
        f.dir(),
        &["openness", "L", "--owner", &f.owner, "--markdown"],
    )
    .stdout;
    assert!(md.contains(&f.owner) && md.contains("pinned"), "{md}");
}

/// An append whose key's high-water mark cannot be written appends
/// nothing (rather than appending and then failing); a checkpoint that
/// refreshed the owner's record leaves a later refused append unable to
/// change the directory.
#[test]
fn marks_are_checked_before_commit_and_checkpoints_close_the_store() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new();
    f.append_ok(
        "appender.key",
        r#"{"type":"artifact","id":"x","kind":"data"}"#,
    );
    assert_eq!(
        custody(f.dir(), &["checkpoint", "L", "--key", "owner.key"]).code,
        0
    );
    let before = snapshot(&f.path("L"));
    let r = f.append(
        "appender.key",
        r#"{"type":"artifact","id":"x","kind":"data"}"#,
    );
    assert_eq!(r.code, 2);
    assert!(
        before == snapshot(&f.path("L")),
        "a refused append changed the directory"
    );

    // The state directory is read-only: nothing is appended.
    let state = f.path(".custody-state");
    let lock = |mode| {
        for e in std::fs::read_dir(&state).unwrap() {
            std::fs::set_permissions(e.unwrap().path(), std::fs::Permissions::from_mode(mode))
                .unwrap();
        }
    };
    lock(0o500);
    let probe = state.join("probe");
    let writable = std::fs::write(&probe, b"").is_ok()
        && std::fs::read_dir(&state)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .all(|d| std::fs::write(d.path().join("probe"), b"").is_ok());
    if writable {
        // Running as root: permissions do not stop writes; make the mark
        // directory a file instead, which stops everyone.
        lock(0o700);
        for e in std::fs::read_dir(&state).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                std::fs::remove_dir_all(&p).unwrap();
                std::fs::write(&p, b"not a directory").unwrap();
            }
        }
        let _ = std::fs::remove_file(&probe);
    }
    let before = snapshot(&f.path("L"));
    let r = f.append(
        "appender.key",
        r#"{"type":"artifact","id":"y","kind":"data"}"#,
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        before == snapshot(&f.path("L")),
        "a failed append left entries behind"
    );
    lock(0o700);
}

/// Attack 9: an import killed part way leaves nothing that opens as a ledger.
#[test]
fn an_interrupted_import_leaves_no_ledger() {
    let f = Fixture::new();
    // A ledger large enough for an import to take a while.
    let mut lines = String::new();
    for i in 0..20_000 {
        lines.push_str(&format!(
            "{{\"type\":\"artifact\",\"id\":\"d{i}\",\"kind\":\"data\",\"description\":\"{}\"}}\n",
            "x".repeat(200)
        ));
    }
    f.append_ok("owner.key", &lines);
    assert_eq!(
        custody(f.dir(), &["export", "L", "--out", "big.custody"]).code,
        0
    );
    let mut interrupted = 0;
    for (i, delay_ms) in [20u64, 60, 120, 250, 400].into_iter().enumerate() {
        let target = format!("copy{i}");
        let mut child = std::process::Command::new(common::bin())
            .args(["import", "big.custody", &target])
            .current_dir(f.dir())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let killed = child.try_wait().unwrap().is_none();
        let _ = child.kill();
        let status = child.wait().unwrap();
        let p = f.path(&target);
        if killed && !status.success() {
            interrupted += 1;
            assert!(!p.exists(), "a killed import left {target}");
        } else {
            // It finished before the kill: a whole, valid ledger.
            assert_eq!(custody(f.dir(), &["verify", &target]).code, 0);
        }
    }
    assert!(
        interrupted > 0,
        "no import was interrupted; the ledger is too small"
    );
    // What a killed import leaves is a temporary directory that no command
    // takes for a ledger.
    for e in std::fs::read_dir(f.dir()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(".custody-new-") {
            let inner = p.join("ledger");
            if inner.exists() {
                let r = custody(f.dir(), &["verify", inner.to_str().unwrap()]);
                assert_eq!(r.code, 2, "{}", r.stdout);
                assert!(r.stderr.contains("unfinished"), "{}", r.stderr);
            }
        }
    }
}

/// Attack 11: files written where they would destroy a ledger, or through
/// symbolic links.
#[test]
fn outputs_never_damage_a_ledger_or_follow_links() {
    let f = Fixture::new();
    let before = snapshot(&f.path("L"));
    for args in [
        &["export", "L", "--out", "L/db"][..],
        &["export", "L", "--out", "L/new-file"],
        &["export", "L", "--out", "L"],
        &["log", "L", "--seq", "0", "--out", "L/conf"],
        &["keygen", "--out", "L/k"],
        &["init", "L/inner", "--key", "owner.key", "--name", "x"],
    ] {
        let r = custody(f.dir(), args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stdout);
        assert!(
            before == snapshot(&f.path("L")),
            "{args:?} changed the ledger"
        );
    }
    assert_eq!(custody(f.dir(), &["verify", "L"]).code, 0);
    // A symbolic link at the output is replaced, its target untouched.
    std::fs::write(f.path("precious"), "keep me").unwrap();
    std::os::unix::fs::symlink(f.path("precious"), f.path("out.entry")).unwrap();
    // Not without --force: an existing path is never replaced unasked.
    let r = custody(f.dir(), &["log", "L", "--seq", "0", "--out", "out.entry"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    let r = custody(
        f.dir(),
        &["log", "L", "--seq", "0", "--out", "out.entry", "--force"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(f.path("precious")).unwrap(),
        "keep me"
    );
    assert!(!std::fs::symlink_metadata(f.path("out.entry"))
        .unwrap()
        .file_type()
        .is_symlink());
    std::os::unix::fs::symlink(f.path("precious"), f.path("out.proof")).unwrap();
    let r = custody(
        f.dir(),
        &[
            "prove",
            "inclusion",
            "L",
            "--seq",
            "0",
            "--key",
            "owner.key",
            "--out",
            "out.proof",
            "--force",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(f.path("precious")).unwrap(),
        "keep me"
    );
    // Even with --force, only a file is replaced: not a pipe or device
    // (as root, `--out /dev/null --force` would replace the device).
    let fifo = f.path("out.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for args in [
        &["export", "L", "--out", "out.fifo", "--force"][..],
        &["log", "L", "--seq", "0", "--out", "out.fifo", "--force"],
    ] {
        let r = custody(f.dir(), args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
        assert!(std::os::unix::fs::FileTypeExt::is_fifo(
            &std::fs::symlink_metadata(&fifo).unwrap().file_type()
        ));
    }
    // keygen refuses a dangling link where the public key would go.
    std::os::unix::fs::symlink(f.path("elsewhere.pub"), f.path("new.key.pub")).unwrap();
    let r = custody(f.dir(), &["keygen", "--out", "new.key"]);
    assert_eq!(r.code, 2);
    assert!(!f.path("elsewhere.pub").exists());
    assert!(!f.path("new.key").exists());
    let _ = custody_in;
}

/// An exception after `WITH` that the registry does not know could take
/// rights away: refused at append, and unknown (`?`) when a crafted ledger
/// holds it, never scored as the license alone.
#[test]
fn an_unknown_with_exception_is_not_scored_as_its_license() {
    let f = Fixture::new();
    f.append_ok(
        "owner.key",
        r#"{"type":"artifact","id":"m","kind":"weights"}"#,
    );
    let r = f.append(
        "owner.key",
        r#"{"type":"license","artifact":"m","license":"Apache-2.0 WITH LicenseRef-No-Commercial-Use"}"#,
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "exception `LicenseRef-No-Commercial-Use` after WITH is not one the license registry"
        ),
        "{}",
        r.stderr
    );
    // A known exception only adds permissions: scored as the license.
    f.append_ok(
        "owner.key",
        r#"{"type":"license","artifact":"m","license":"GPL-3.0-or-later WITH GCC-exception-3.1"}"#,
    );
    let mut ev = genesis();
    ev.extend([
        (1, json!({"type": "artifact", "id": "up", "kind": "weights"})),
        (1, json!({"type": "license", "artifact": "up", "license": "Apache-2.0 WITH LicenseRef-No-Commercial-Use"})),
        (1, json!({"type": "artifact", "id": "ft", "kind": "weights"})),
        (1, json!({"type": "transformation", "operation": "finetune", "inputs": ["up"], "outputs": ["ft"]})),
        (1, json!({"type": "license", "artifact": "ft", "license": "MIT"})),
        (1, json!({"type": "release", "artifact": "ft", "access": "public"})),
        (1, json!({"type": "component", "component": "weights", "artifacts": ["ft"]})),
    ]);
    std::fs::write(f.path("x.custody"), crafted(&ev)).unwrap();
    let (code, v) = openness_json(f.dir(), "x.custody");
    assert_eq!(code, 0);
    assert_eq!(v["components"]["weights"]["level"], "?");
    assert!(v["components"]["weights"]["warnings"][0]
        .as_str()
        .unwrap()
        .contains("`LicenseRef-No-Commercial-Use`"));
}

/// A source nobody licensed grants nothing, and so restricts what is
/// derived from it, like any restrictive license would.
#[test]
fn an_unlicensed_source_restricts_what_derives_from_it() {
    let mut ev = genesis();
    ev.extend([
        (2, json!({"type": "artifact", "id": "scraped", "kind": "data"})),
        (2, json!({"type": "artifact", "id": "mix", "kind": "data"})),
        (2, json!({"type": "transformation", "operation": "filter", "inputs": ["scraped"], "outputs": ["mix"]})),
        (2, json!({"type": "license", "artifact": "mix", "license": "CC0-1.0"})),
        (2, json!({"type": "release", "artifact": "mix", "access": "public"})),
        (1, json!({"type": "component", "component": "sft-data", "artifacts": ["mix"]})),
    ]);
    let f = Fixture::new();
    std::fs::write(f.path("x.custody"), crafted(&ev)).unwrap();
    let (_, v) = openness_json(f.dir(), "x.custody");
    let c = &v["components"]["sft-data"];
    assert_eq!(c["level"], "D3");
    assert_eq!(c["artifacts"][0]["effective_points"], 0);
    let r = &c["artifacts"][0]["restricted_by"][0];
    assert_eq!(r["artifact"], "scraped");
    assert_eq!(r["license"], Value::Null);
    assert!(c["warnings"][0]
        .as_str()
        .unwrap()
        .contains("`scraped` (no license recorded"));
}

/// Wide characters in ledger text cannot shift a level under another
/// heading of the text table: columns are padded by display width.
#[test]
fn wide_characters_cannot_shift_the_text_table() {
    let terms = json!({"research": true, "commercial": true, "modify": true, "copyright_derivative": true, "other_license_derivative": true});
    let mut ev = genesis();
    ev.extend([
        (1, json!({"type": "artifact", "id": "e", "kind": "code"})),
        (1, json!({"type": "license", "artifact": "e", "license": {"name": "H\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{4e2d}\u{6587}", "terms": terms}})),
        (1, json!({"type": "release", "artifact": "e", "access": "public"})),
        (1, json!({"type": "component", "component": "eval-code", "artifacts": ["e"]})),
        (1, json!({"type": "artifact", "id": "w", "kind": "weights"})),
        (1, json!({"type": "release", "artifact": "w", "access": "none"})),
        (1, json!({"type": "component", "component": "weights", "artifacts": ["w"]})),
    ]);
    let f = Fixture::new();
    std::fs::write(f.path("x.custody"), crafted(&ev)).unwrap();
    let r = custody(f.dir(), &["openness", "x.custody"]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let col = |needle: &str| {
        let line = lines
            .iter()
            .find(|l| l.trim_start().starts_with(needle))
            .unwrap();
        let i = line.find(needle).unwrap() + needle.len();
        let j = i + line[i..].find(|c: char| c != ' ').unwrap();
        unicode_width::UnicodeWidthStr::width(&line[..j])
    };
    // Levels start in the terminal column where the `level` heading does,
    // and the wide characters wrap by the columns a terminal draws.
    assert_eq!(col("component"), col("eval-code"), "{}", r.stdout);
    assert_eq!(col("component"), col("weights"), "{}", r.stdout);
    assert!(r.stdout.contains("\u{4e2d}\u{6587}"), "{}", r.stdout);
    for l in &lines {
        let w = unicode_width::UnicodeWidthStr::width(*l);
        let unbreakable = l.split(' ').any(|w| w.len() >= 40);
        assert!(w <= 80 || unbreakable, "{w} columns: {l}\n{}", r.stdout);
    }
}

/// Ledger text cannot become a link or a mention in markdown output.
#[test]
fn markdown_output_has_no_links() {
    let terms = json!({"research": true, "commercial": true, "modify": true, "copyright_derivative": true, "other_license_derivative": true});
    let mut ev = genesis();
    ev[0].1 = json!({"type": "genesis", "name": "model, see www.evil.example or mail admin@evil.example"});
    ev.extend([
        (1, json!({"type": "artifact", "id": "w", "kind": "weights"})),
        (1, json!({"type": "license", "artifact": "w", "license": {"name": "terms at https://evil.example/x", "terms": terms}})),
        (1, json!({"type": "release", "artifact": "w", "access": "public"})),
        (1, json!({"type": "component", "component": "weights", "artifacts": ["w"]})),
    ]);
    let f = Fixture::new();
    std::fs::write(f.path("x.custody"), crafted(&ev)).unwrap();
    let md = custody(f.dir(), &["openness", "x.custody", "--markdown"]).stdout;
    for trigger in ["www.", "https:", "admin@"] {
        assert!(!md.contains(trigger), "`{trigger}` left unescaped: {md}");
    }
    assert!(md.contains("www\\.evil") && md.contains("https\\:"), "{md}");
}

/// Hidden characters never reach JSON output raw, selectors cannot hold
/// them (or commas), and ids invisible-padded are refused.
#[test]
fn json_output_escapes_hidden_characters_and_ids_hold_none() {
    let f = Fixture::new();
    // An unknown field name (echoed in the error detail) holding U+202E.
    let mut ev = genesis();
    ev.push((
        1,
        json!({"type": "artifact", "id": "a", "kind": "data", "x\u{202e}\u{9b}y": 1}),
    ));
    std::fs::write(f.path("x.custody"), crafted(&ev)).unwrap();
    let r = custody(f.dir(), &["verify", "x.custody", "--json"]);
    assert_eq!(r.code, 1);
    assert!(
        !r.stdout.contains('\u{202e}') && !r.stdout.contains('\u{9b}'),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\\u202e"), "{}", r.stdout);
    // Ids padded with invisible characters.
    for pad in ['\u{3164}', '\u{ad}', '\u{fe0f}', '\u{e0020}', '\u{34f}'] {
        let mut ev = genesis();
        ev.push((
            1,
            json!({"type": "artifact", "id": format!("cc-data{pad}"), "kind": "data"}),
        ));
        std::fs::write(f.path("y.custody"), crafted(&ev)).unwrap();
        let r = custody(f.dir(), &["verify", "y.custody", "--json"]);
        assert_eq!(r.code, 1, "U+{:04X}", pad as u32);
        assert!(r.stdout.contains("bad-event"));
    }
    // Selectors with a comma or a hidden character are refused.
    for sel in ["artifact:x, openness", "artifact:x\u{202e}"] {
        let r = custody(
            f.dir(),
            &[
                "export",
                "L",
                "--out",
                "p.custody",
                "--disclose",
                sel,
                "--key",
                "owner.key",
            ],
        );
        assert_eq!(r.code, 2, "{sel}");
        assert!(r.stderr.contains("is not a selector"), "{}", r.stderr);
    }
}

/// Look-alikes of short registry names (`MIT Licensed`, `BSD-2`, `3-clause
/// BSD`, `CC Attribution-ShareAlike 4.0`) are refused like longer ones,
/// while names of one's own pass.
#[test]
fn look_alikes_of_short_names_are_refused() {
    let f = Fixture::new();
    f.append_ok("owner.key", r#"{"type":"artifact","id":"a","kind":"data"}"#);
    let line = |name: &str| {
        json!({"type": "license", "artifact": "a", "license": {"name": name, "terms": {"research": true, "commercial": true, "modify": true, "copyright_derivative": true, "other_license_derivative": true}}}).to_string()
    };
    for name in [
        "MIT Licensed",
        "The MIT Lisence",
        "MIT license, Expat variant",
        "BSD-2",
        "3-clause BSD",
        "ISC-licensed",
        "Zlib-style",
        "CC Attribution-ShareAlike 4.0",
        "CC Attribution-NonCommercial 4.0",
        "CreativeCommons-BY-4.0",
        "Affero GPL",
        "Lesser GPL",
        "Mozilla 2.0",
        "Massachusetts Institute of Technology",
        "Responsible AI License",
    ] {
        let r = f.append("owner.key", &line(name));
        assert_eq!(r.code, 2, "`{name}` was accepted");
        assert!(
            r.stderr.contains("is named like the registry license"),
            "{}",
            r.stderr
        );
    }
    for name in [
        "Acme Model License",
        "Example Lab Data Terms",
        "Corpus Terms 2",
    ] {
        f.append_ok("owner.key", &line(name));
    }
}

/// `GPL-2.0+` is explained as itself ("or later"), not as `GPL-2.0`.
#[test]
fn an_or_later_id_is_named_as_itself() {
    let f = Fixture::new();
    f.append_ok(
        "owner.key",
        r#"{"type":"artifact","id":"c","kind":"code"}
{"type":"license","artifact":"c","license":"GPL-2.0+"}
{"type":"release","artifact":"c","access":"public"}
{"type":"component","component":"inference-code","artifacts":["c"]}"#,
    );
    let (_, v) = openness_json(f.dir(), "L");
    let c = &v["components"]["inference-code"];
    assert_eq!(c["license"]["id"], "GPL-2.0+");
    assert_eq!(
        c["license"]["name"],
        "GNU General Public License v2.0 or later"
    );
    assert!(
        c["because"]["text"].as_str().unwrap().contains("or later"),
        "{c}"
    );
}

/// Ids and names are at most 256 bytes, so what openness derives stays
/// within a constant factor of the ledger: sources with the longest
/// license names restricting many derived artifacts.
#[test]
fn openness_output_stays_proportional_to_the_ledger() {
    let f = Fixture::new();
    let long = "x".repeat(300);
    let r = f.append(
        "appender.key",
        &json!({"type": "artifact", "id": long, "kind": "data"}).to_string(),
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("at most 256 bytes"), "{}", r.stderr);
    let mut lines = Vec::new();
    let rights = ["research", "commercial", "modify", "copyright_derivative"];
    for s in 0..12 {
        let mut terms = serde_json::Map::new();
        for (k, r) in rights.iter().enumerate() {
            terms.insert(r.to_string(), json!(k != s % 4));
        }
        terms.insert("other_license_derivative".into(), json!(false));
        let id = format!("s{s:02}{}", "i".repeat(253));
        let name = format!("Q{s:02}{}", "z".repeat(253));
        lines.push(json!({"type": "artifact", "id": id, "kind": "data"}).to_string());
        lines.push(
            json!({"type": "license", "artifact": id, "license": {"name": name, "terms": terms}})
                .to_string(),
        );
    }
    let sources: Vec<String> = (0..12)
        .map(|s| format!("s{s:02}{}", "i".repeat(253)))
        .collect();
    let n = 300;
    let outs: Vec<String> = (0..n).map(|i| format!("d{i}")).collect();
    for o in &outs {
        lines.push(json!({"type": "artifact", "id": o, "kind": "data"}).to_string());
    }
    lines.push(
        json!({"type": "transformation", "operation": "mix", "inputs": sources, "outputs": outs})
            .to_string(),
    );
    for o in &outs {
        lines.push(json!({"type": "license", "artifact": o, "license": "MIT"}).to_string());
        lines.push(json!({"type": "release", "artifact": o, "access": "public"}).to_string());
    }
    f.append_ok("appender.key", &lines.join("\n"));
    f.append_ok(
        "owner.key",
        &json!({"type": "component", "component": "pretraining-data", "artifacts": outs})
            .to_string(),
    );
    assert_eq!(
        custody(f.dir(), &["export", "L", "--out", "x.custody"]).code,
        0
    );
    let size = std::fs::metadata(f.path("x.custody")).unwrap().len() as usize;
    let json_out = custody(f.dir(), &["openness", "x.custody", "--json"])
        .stdout
        .len();
    let text_out = custody(f.dir(), &["openness", "x.custody"]).stdout.len();
    // Measured: 18 and 8 times (before the limit, names of 60 KB made it
    // 1,200 times); the bound SECURITY.md states.
    assert!(
        json_out < 40 * size,
        "json {json_out} bytes for a {size}-byte ledger"
    );
    assert!(
        text_out < 40 * size,
        "text {text_out} bytes for a {size}-byte ledger"
    );
}
