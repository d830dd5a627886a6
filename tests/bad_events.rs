//! Every refused event line: exit status 2, a message naming the line (and
//! the field where there is one), and the ledger left byte for byte as it was.

mod common;

use common::{custody_in, digest, snapshot, Fixture};

/// (what is wrong, lines before the bad one, the bad line, text the message must contain)
fn cases(f: &Fixture) -> Vec<(&'static str, Vec<String>, String, String)> {
    let s = |x: &str| x.to_string();
    let big = "x".repeat(70 * 1024);
    let deep = format!("{}1{}", "[".repeat(20), "]".repeat(20));
    vec![
        ("not JSON", vec![], s("{not json"), s("invalid JSON")),
        (
            "JSON but not an object",
            vec![],
            s("[1,2]"),
            s("must be a JSON object"),
        ),
        (
            "a bare string",
            vec![],
            s("\"artifact\""),
            s("must be a JSON object"),
        ),
        (
            "missing type",
            vec![],
            s(r#"{"id":"a","kind":"data"}"#),
            s("field `type`: missing"),
        ),
        (
            "type not a string",
            vec![],
            s(r#"{"type":5}"#),
            s("field `type`: must be a string"),
        ),
        (
            "unknown type",
            vec![],
            s(r#"{"type":"teleport"}"#),
            s("unknown event type `teleport`"),
        ),
        (
            "genesis appended",
            vec![],
            s(r#"{"type":"genesis","name":"x"}"#),
            s("field `type`"),
        ),
        (
            "unknown field",
            vec![],
            s(r#"{"type":"artifact","id":"a","kind":"data","colour":"red"}"#),
            s("field `colour`: unknown field"),
        ),
        (
            "duplicate JSON key",
            vec![],
            s(r#"{"type":"artifact","id":"a","id":"b","kind":"data"}"#),
            s("duplicate key `id`"),
        ),
        (
            "missing id",
            vec![],
            s(r#"{"type":"artifact","kind":"data"}"#),
            s("field `id`: missing"),
        ),
        (
            "empty id",
            vec![],
            s(r#"{"type":"artifact","id":"","kind":"data"}"#),
            s("field `id`: must not be empty"),
        ),
        (
            "bad kind",
            vec![],
            s(r#"{"type":"artifact","id":"a","kind":"model"}"#),
            s("field `kind`"),
        ),
        (
            "digest without prefix",
            vec![],
            format!(
                r#"{{"type":"artifact","id":"a","kind":"data","digest":"{}"}}"#,
                "a".repeat(64)
            ),
            s("field `digest`"),
        ),
        (
            "digest upper case",
            vec![],
            format!(
                r#"{{"type":"artifact","id":"a","kind":"data","digest":"sha256:{}"}}"#,
                "A".repeat(64)
            ),
            s("field `digest`"),
        ),
        (
            "digest too short",
            vec![],
            s(r#"{"type":"artifact","id":"a","kind":"data","digest":"sha256:abcd"}"#),
            s("field `digest`"),
        ),
        (
            "size negative",
            vec![],
            s(r#"{"type":"artifact","id":"a","kind":"data","size":-1}"#),
            s("field `size`"),
        ),
        (
            "size fractional",
            vec![],
            s(r#"{"type":"artifact","id":"a","kind":"data","size":1.5}"#),
            s("field `size`"),
        ),
        (
            "size as string",
            vec![],
            s(r#"{"type":"artifact","id":"a","kind":"data","size":"10"}"#),
            s("field `size`: must be a non-negative integer"),
        ),
        (
            "note not a string",
            vec![],
            s(r#"{"type":"artifact","id":"a","kind":"data","note":7}"#),
            s("field `note`"),
        ),
        (
            "duplicate artifact in ledger",
            vec![],
            s(r#"{"type":"artifact","id":"base","kind":"data"}"#),
            s("already declared by entry"),
        ),
        (
            "duplicate artifact in batch",
            vec![s(r#"{"type":"artifact","id":"n1","kind":"data"}"#)],
            s(r#"{"type":"artifact","id":"n1","kind":"code"}"#),
            s("already declared"),
        ),
        (
            "custody of unknown artifact",
            vec![],
            s(r#"{"type":"custody","artifact":"ghost","from":"a","to":"b"}"#),
            s("unknown artifact `ghost`"),
        ),
        (
            "custody missing to",
            vec![],
            s(r#"{"type":"custody","artifact":"base","from":"a"}"#),
            s("field `to`: missing"),
        ),
        (
            "inputs not a list",
            vec![],
            s(r#"{"type":"transformation","operation":"dedup","inputs":"base","outputs":["out"]}"#),
            s("field `inputs`"),
        ),
        (
            "inputs empty",
            vec![],
            s(r#"{"type":"transformation","operation":"dedup","inputs":[],"outputs":["out"]}"#),
            s("field `inputs`: must list at least one"),
        ),
        (
            "input listed twice",
            vec![],
            s(
                r#"{"type":"transformation","operation":"dedup","inputs":["base","base"],"outputs":["out"]}"#,
            ),
            s("field `inputs[1]`"),
        ),
        (
            "unknown input",
            vec![],
            s(
                r#"{"type":"transformation","operation":"dedup","inputs":["ghost"],"outputs":["out"]}"#,
            ),
            s("field `inputs[0]`: unknown artifact"),
        ),
        (
            "unknown output",
            vec![],
            s(
                r#"{"type":"transformation","operation":"dedup","inputs":["base"],"outputs":["ghost"]}"#,
            ),
            s("field `outputs[0]`: unknown artifact"),
        ),
        (
            "parameters not an object",
            vec![],
            s(
                r#"{"type":"transformation","operation":"dedup","inputs":["base"],"outputs":["out"],"parameters":[1]}"#,
            ),
            s("field `parameters`"),
        ),
        (
            "output derived from itself",
            vec![],
            s(
                r#"{"type":"transformation","operation":"filter","inputs":["base"],"outputs":["base"]}"#,
            ),
            s("derived from itself"),
        ),
        (
            "output produced twice",
            vec![],
            s(
                r#"{"type":"transformation","operation":"filter","inputs":["base"],"outputs":["mid"]}"#,
            ),
            s("already produced by entry"),
        ),
        (
            "lineage cycle",
            vec![],
            s(
                r#"{"type":"transformation","operation":"filter","inputs":["mid"],"outputs":["base"]}"#,
            ),
            s("declare an artifact's sources before it"),
        ),
        (
            "a control character in an id",
            vec![],
            s(r#"{"type":"artifact","id":"a\u001b[31mb","kind":"data"}"#),
            s("field `id`: holds the control or invisible character U+001B"),
        ),
        (
            "a right-to-left override in a holder",
            vec![],
            s(r#"{"type":"custody","artifact":"base","from":"a","to":"b\u202ec"}"#),
            s("field `to`: holds the control or invisible character U+202E"),
        ),
        (
            "a newline in an input id",
            vec![],
            s(
                r#"{"type":"transformation","operation":"x","inputs":["base\n"],"outputs":["out"]}"#,
            ),
            s("field `inputs[0]`: holds the control"),
        ),
        (
            "an inline license named like a registry license",
            vec![],
            s(
                r#"{"type":"license","artifact":"base","license":{"name":"CC BY-NC 4.0","terms":{"research":true,"commercial":true,"modify":true,"copyright_derivative":true,"other_license_derivative":true}}}"#,
            ),
            s("field `license.name`: `CC BY-NC 4.0` is named like the registry license `CC-BY-NC-4.0`"),
        ),
        (
            "an inline license named as a registry id",
            vec![],
            s(
                r#"{"type":"license","artifact":"base","license":{"name":"LicenseRef-OPT-Data","terms":{"research":true,"commercial":true,"modify":true,"copyright_derivative":true,"other_license_derivative":true}}}"#,
            ),
            s("is named like the registry license `LicenseRef-OPT-Data`"),
        ),
        (
            "an inline license named with look-alike letters",
            vec![],
            s(
                "{\"type\":\"license\",\"artifact\":\"base\",\"license\":{\"name\":\"\u{421}\u{421} BY-NC 4.0\",\"terms\":{\"research\":true,\"commercial\":true,\"modify\":true,\"copyright_derivative\":true,\"other_license_derivative\":true}}}",
            ),
            s("is named like the registry license `CC-BY-NC-4.0`"),
        ),
        (
            "an integer beyond 64 bits",
            vec![],
            s(
                r#"{"type":"transformation","operation":"x","inputs":["base"],"outputs":["out"],"parameters":{"n":18446744073709551616}}"#,
            ),
            s("beyond 64 bits"),
        ),
        (
            "a negative zero integer",
            vec![],
            s(
                r#"{"type":"transformation","operation":"x","inputs":["base"],"outputs":["out"],"parameters":{"n":-0}}"#,
            ),
            s("`-0` cannot be stored exactly"),
        ),
        (
            "a hand-over to a key with no role",
            vec![],
            format!(
                r#"{{"type":"custody","artifact":"base","from":"a","to":"b","key":"{}"}}"#,
                f.stranger
            ),
            s("field `key`: the new holder's key holds no role"),
        ),
        (
            "replace without artifacts",
            vec![],
            s(r#"{"type":"component","component":"weights","applicable":false,"replace":true}"#),
            s("field `replace`"),
        ),
        (
            "generator not a model",
            vec![],
            s(
                r#"{"type":"augmentation","method":"synthetic","inputs":["base"],"outputs":["out"],"generator":"base"}"#,
            ),
            s("field `generator`"),
        ),
        (
            "unknown generator",
            vec![],
            s(
                r#"{"type":"augmentation","method":"synthetic","inputs":["base"],"outputs":["out"],"generator":"ghost"}"#,
            ),
            s("field `generator`: unknown artifact"),
        ),
        (
            "license of unknown artifact",
            vec![],
            s(r#"{"type":"license","artifact":"ghost","license":"MIT"}"#),
            s("unknown artifact `ghost`"),
        ),
        (
            "license expression malformed",
            vec![],
            s(r#"{"type":"license","artifact":"base","license":"MIT OR"}"#),
            s("field `license`"),
        ),
        (
            "license lower-case operator",
            vec![],
            s(r#"{"type":"license","artifact":"base","license":"MIT or Apache-2.0"}"#),
            s("upper case"),
        ),
        (
            "license not string or object",
            vec![],
            s(r#"{"type":"license","artifact":"base","license":5}"#),
            s("field `license`"),
        ),
        (
            "inline license missing a term",
            vec![],
            s(
                r#"{"type":"license","artifact":"base","license":{"name":"x","terms":{"research":true,"commercial":true,"modify":true,"copyright_derivative":true}}}"#,
            ),
            s("field `license.terms.other_license_derivative`"),
        ),
        (
            "inline license term not a boolean",
            vec![],
            s(
                r#"{"type":"license","artifact":"base","license":{"name":"x","terms":{"research":"yes","commercial":true,"modify":true,"copyright_derivative":true,"other_license_derivative":true}}}"#,
            ),
            s("field `license.terms.research`"),
        ),
        (
            "release access unknown",
            vec![],
            s(r#"{"type":"release","artifact":"base","access":"open"}"#),
            s("field `access`"),
        ),
        (
            "unknown component",
            vec![],
            s(r#"{"type":"component","component":"vibes","artifacts":["base"]}"#),
            s("field `component`"),
        ),
        (
            "kind does not fit component",
            vec![],
            s(r#"{"type":"component","component":"pretraining-code","artifacts":["base"]}"#),
            s("takes code artifacts"),
        ),
        (
            "weights component with data",
            vec![],
            s(r#"{"type":"component","component":"weights","artifacts":["base"]}"#),
            s("field `artifacts[0]`"),
        ),
        (
            "artifacts and applicable false",
            vec![],
            s(
                r#"{"type":"component","component":"sft-data","artifacts":["base"],"applicable":false}"#,
            ),
            s("not both"),
        ),
        (
            "applicable true",
            vec![],
            s(r#"{"type":"component","component":"sft-data","applicable":true}"#),
            s("field `applicable`"),
        ),
        (
            "grant with bad key",
            vec![],
            s(r#"{"type":"grant","key":"abc","role":"appender"}"#),
            s("field `key`"),
        ),
        (
            "grant with unknown role",
            vec![],
            format!(
                r#"{{"type":"grant","key":"{}","role":"admin"}}"#,
                f.stranger
            ),
            s("field `role`"),
        ),
        (
            "revoke a key with no role",
            vec![],
            format!(r#"{{"type":"revoke","key":"{}"}}"#, f.stranger),
            s("holds no role"),
        ),
        (
            "revoke the last owner",
            vec![],
            format!(r#"{{"type":"revoke","key":"{}"}}"#, f.owner),
            s("last owner"),
        ),
        (
            "nested too deeply",
            vec![],
            format!(
                r#"{{"type":"transformation","operation":"x","inputs":["base"],"outputs":["out"],"parameters":{{"d":{deep}}}}}"#
            ),
            s("nested more than"),
        ),
        (
            "oversize entry",
            vec![],
            format!(r#"{{"type":"artifact","id":"huge","kind":"data","description":"{big}"}}"#),
            s("byte limit"),
        ),
    ]
}

fn prepare() -> Fixture {
    let f = Fixture::new();
    f.append_ok(
        "owner.key",
        &[
            format!(
                r#"{{"type":"artifact","id":"base","kind":"data","digest":"{}"}}"#,
                digest('a')
            ),
            r#"{"type":"artifact","id":"mid","kind":"data"}"#.to_string(),
            r#"{"type":"artifact","id":"out","kind":"data"}"#.to_string(),
            r#"{"type":"transformation","operation":"dedup","inputs":["base"],"outputs":["mid"]}"#
                .to_string(),
            r#"{"type":"component","component":"pretraining-data","artifacts":["mid"]}"#
                .to_string(),
            r#"{"type":"component","component":"alignment-data","applicable":false}"#.to_string(),
        ]
        .join("\n"),
    );
    f
}

#[test]
fn each_bad_line_is_refused_naming_it_and_nothing_is_written() {
    let f = prepare();
    let all = cases(&f);
    assert!(all.len() >= 30);
    // A valid line first, so the batch would be non-empty if anything leaked.
    let good =
        r#"{"type":"custody","artifact":"base","from":"https://data.example","to":"data team"}"#;
    for (what, before, bad, needle) in all {
        let mut lines = vec![good.to_string()];
        lines.extend(before);
        let line_no = lines.len() + 1;
        lines.push(bad);
        let input = lines.join("\n") + "\n";
        let before_bytes = snapshot(&f.path("L"));
        let r = f.append("owner.key", &input);
        assert_eq!(r.code, 2, "{what}: exit {} {}", r.code, r.stderr);
        assert!(
            r.stderr.contains(&format!("line {line_no}: ")),
            "{what}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains(&needle),
            "{what}: wanted `{needle}` in {}",
            r.stderr
        );
        assert!(
            before_bytes == snapshot(&f.path("L")),
            "{what}: the ledger changed"
        );
    }
    // And the ledger still verifies, with none of those batches in it.
    let r = common::custody(f.dir(), &["verify", "L", "--json"]);
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["entries"], 8);
}

#[test]
fn appenders_may_not_grant_or_revoke() {
    let f = prepare();
    for line in [
        format!(
            r#"{{"type":"grant","key":"{}","role":"owner"}}"#,
            f.stranger
        ),
        format!(r#"{{"type":"revoke","key":"{}"}}"#, f.owner),
    ] {
        let before = snapshot(&f.path("L"));
        let r = f.append("appender.key", &line);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains("line 1: ") && r.stderr.contains("only an owner"),
            "{}",
            r.stderr
        );
        assert!(before == snapshot(&f.path("L")));
    }
}

#[test]
fn invalid_utf8_and_overlong_lines_are_refused() {
    let f = prepare();
    let before = snapshot(&f.path("L"));
    let mut child = std::process::Command::new(common::bin())
        .args([
            "append",
            &common::ledger_arg(f.dir(), "L"),
            "--key",
            "owner.key",
        ])
        .current_dir(f.dir())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"{\"type\":\"artifact\",\"id\":\"\xff\",\"kind\":\"data\"}\n")
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1: not valid UTF-8"));
    let long = format!("{{\"note\":\"{}\"}}", "y".repeat(2 * 1024 * 1024));
    let r = custody_in(f.dir(), &["append", "L", "--key", "owner.key"], &long);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("line 1: line longer than"),
        "{}",
        r.stderr
    );
    assert!(before == snapshot(&f.path("L")));
}

/// Around the 64 KiB limit every event either appends and verifies, or is
/// refused naming its line; never a crash, never an entry the verifier
/// would refuse.
#[test]
fn events_at_the_size_limit() {
    let f = Fixture::new();
    let mut refused = 0;
    let mut accepted = 0;
    for (i, len) in (65_536 - 300..65_536 - 150).step_by(7).enumerate() {
        let line = format!(
            r#"{{"type":"artifact","id":"edge{i}","kind":"data","description":"{}"}}"#,
            "d".repeat(len)
        );
        let r = f.append(
            "owner.key",
            &format!("{{\"type\":\"artifact\",\"id\":\"pad{i}\",\"kind\":\"data\"}}\n{line}\n"),
        );
        if r.code == 0 {
            accepted += 1;
        } else {
            assert_eq!(r.code, 2);
            assert!(
                r.stderr.contains("line 2: ") && r.stderr.contains("byte limit"),
                "{}",
                r.stderr
            );
            refused += 1;
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
    let r = common::custody(f.dir(), &["verify", "L", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
}
