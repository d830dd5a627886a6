//! OpenLineage RunEvents as custody events (schemas/OPENLINEAGE.md).
//!
//! A COMPLETE event says what a run read and wrote: each dataset becomes
//! an artifact (declared once, with the digest of its `custody_digest`
//! facet), the run a `transformation` whose parameters hold the run id,
//! the event time, the job's facets when they fit, and the SHA-256 of the
//! event as received, which ties the entry to it and makes delivering the
//! same event twice record it once. A run that read nothing (a source)
//! records no transformation: its outputs' declarations carry the hash in
//! their `note`. A dataset's `custody_license` facet
//! becomes a `license` event, an output's `ownership` facet a `custody`
//! event. Other event types carry no finished data and are not recorded.

use serde_json::{json, Map, Value as Json};
use sha2::{Digest, Sha256};

/// The parameter of a transformation holding the hash of its event.
pub const EVENT_PARAMETER: &str = "openlineage_event";
/// For a run that read nothing (a source), which records no
/// transformation: the `note` of each output's declaration, followed by
/// the event's hash in hex.
pub const EVENT_NOTE: &str = "openlineage-event:";
/// Job facets larger than this (as JSON) are left out of the entry.
const MAX_FACETS: usize = 16 * 1024;
/// Job facets nested deeper than this are left out (the entry's own
/// nesting limit, less the levels the parameters add).
const MAX_FACET_DEPTH: usize = 12;
/// Inputs and outputs of one run: more cannot fit in one entry anyway,
/// and are refused before any work is done on them.
const MAX_DATASETS: usize = 2048;

/// What an event maps to.
#[derive(Debug, Clone)]
pub struct Mapped {
    /// SHA-256 of the event's bytes as received.
    pub hash: [u8; 32],
    /// The events to append (JSON Lines); empty when nothing is recorded.
    pub lines: String,
    /// Why nothing is recorded, when nothing is.
    pub skipped: Option<String>,
    /// The artifact ids the lines declare.
    pub declares: Vec<String>,
}

fn field<'a>(v: &'a Json, path: &str) -> Result<&'a Json, String> {
    let mut cur = v;
    for p in path.split('.') {
        cur = cur.get(p).ok_or_else(|| format!("`{path}` is missing"))?;
    }
    Ok(cur)
}

fn text<'a>(v: &'a Json, path: &str) -> Result<&'a str, String> {
    field(v, path)?
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("`{path}` must be a non-empty string"))
}

/// Whether every number in `v` reads back as it was sent: an integer
/// beyond 64 bits, or minus zero, would be stored as another number than
/// the event's (so such facets are left out, as oversized ones are).
fn numbers_kept(v: &Json) -> bool {
    match v {
        Json::Number(n) => {
            n.is_i64()
                || n.is_u64()
                || n.as_f64().is_some_and(|f| {
                    f.is_finite() && !(f == 0.0 && f.is_sign_negative()) && f.abs() < 9.0e15
                })
        }
        Json::Array(a) => a.iter().all(numbers_kept),
        Json::Object(o) => o.values().all(numbers_kept),
        _ => true,
    }
}

/// How deep `v` nests (a scalar: 0).
fn depth(v: &Json) -> usize {
    match v {
        Json::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Json::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// A dataset's artifact id: its namespace and name.
pub fn dataset_id(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// Maps one RunEvent. `declared` says whether an artifact id is already
/// in the ledger. An error names the field at fault.
pub fn map_event(raw: &[u8], declared: &dyn Fn(&str) -> bool) -> Result<Mapped, String> {
    let hash: [u8; 32] = Sha256::digest(raw).into();
    let v: Json = serde_json::from_slice(raw).map_err(|e| format!("not JSON: {e}"))?;
    if !v.is_object() {
        return Err("a RunEvent is a JSON object".into());
    }
    let kind = match v.get("eventType") {
        None | Some(Json::Null) => "OTHER",
        Some(Json::String(s)) => s.as_str(),
        Some(_) => return Err("`eventType` must be a string".into()),
    };
    let run_id = text(&v, "run.runId")?;
    let job = format!("{}/{}", text(&v, "job.namespace")?, text(&v, "job.name")?);
    let time = text(&v, "eventTime")?;
    let producer = text(&v, "producer")?;
    let skip = |why: String| Mapped {
        hash,
        lines: String::new(),
        skipped: Some(why),
        declares: Vec::new(),
    };
    if kind != "COMPLETE" {
        return Ok(skip(format!(
            "{kind} events are not recorded: a run's COMPLETE event says what it read and wrote"
        )));
    }
    let datasets = |key: &str| -> Result<Vec<(String, &Json)>, String> {
        match v.get(key) {
            None | Some(Json::Null) => Ok(Vec::new()),
            Some(Json::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let at = format!("{key}[{i}]");
                    let ns = text(d, "namespace").map_err(|e| format!("{at}: {e}"))?;
                    let name = text(d, "name").map_err(|e| format!("{at}: {e}"))?;
                    Ok((dataset_id(ns, name), d))
                })
                .collect(),
            Some(_) => Err(format!("`{key}` must be an array")),
        }
    };
    let count = |key: &str| v.get(key).and_then(Json::as_array).map_or(0, Vec::len);
    if count("inputs") + count("outputs") > MAX_DATASETS {
        return Err(format!(
            "the run names {} datasets; one entry holds at most {MAX_DATASETS} (the entry \
             must fit in 64 KiB)",
            count("inputs") + count("outputs")
        ));
    }
    let inputs = datasets("inputs")?;
    let outputs = datasets("outputs")?;
    if outputs.is_empty() {
        return Ok(skip("the run wrote no dataset: nothing to record".into()));
    }
    let read: std::collections::HashSet<&str> = inputs.iter().map(|(i, _)| i.as_str()).collect();
    for (id, _) in &outputs {
        if read.contains(id.as_str()) {
            return Err(format!("`{id}` is both an input and an output of the run"));
        }
    }
    let mut lines: Vec<Json> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let source = inputs.is_empty();
    let mut declare = |id: &str, d: &Json, lines: &mut Vec<Json>| -> Result<(), String> {
        if declared(id) || !seen.insert(id.to_string()) {
            return Ok(());
        }
        let mut a = json!({"type": "artifact", "id": id, "kind": "data"});
        if source {
            a["note"] = json!(format!("{EVENT_NOTE}{}", hex::encode(hash)));
        }
        let ns = d.get("namespace").and_then(Json::as_str).unwrap_or("");
        if ns.contains("://") {
            a["uri"] = json!(id);
        }
        if let Some(f) = d.get("facets").and_then(|f| f.get("custody_digest")) {
            let digest = f
                .get("digest")
                .and_then(Json::as_str)
                .ok_or_else(|| format!("{id}: the custody_digest facet has no `digest` string"))?;
            a["digest"] = json!(digest);
        }
        lines.push(a);
        Ok(())
    };
    for (id, d) in inputs.iter() {
        declare(id, d, &mut lines)?;
    }
    for (id, d) in outputs.iter() {
        declare(id, d, &mut lines)?;
    }
    let mut parameters = Map::new();
    parameters.insert("run_id".into(), json!(run_id));
    parameters.insert("event_time".into(), json!(time));
    parameters.insert(EVENT_PARAMETER.into(), json!(hex::encode(hash)));
    if let Some(f) = v.get("job").and_then(|j| j.get("facets")) {
        if f.as_object().is_some_and(|o| !o.is_empty())
            && serde_json::to_string(f).map_or(0, |s| s.len()) <= MAX_FACETS
            && numbers_kept(f)
            && depth(f) <= MAX_FACET_DEPTH
        {
            parameters.insert("job_facets".into(), f.clone());
        }
    }
    if !source {
        lines.push(json!({
          "type": "transformation",
          "operation": job,
          "tool": producer,
          "inputs": inputs.iter().map(|(i, _)| i.clone()).collect::<Vec<_>>(),
          "outputs": outputs.iter().map(|(i, _)| i.clone()).collect::<Vec<_>>(),
          "parameters": parameters,
        }));
    }
    for (id, d) in inputs.iter().chain(outputs.iter()) {
        let facets = d.get("facets");
        if let Some(l) = facets.and_then(|f| f.get("custody_license")) {
            let license = l
                .get("license")
                .filter(|x| x.is_string() || x.is_object())
                .ok_or_else(|| {
                    format!(
                        "{id}: the custody_license facet's `license` must be a string or an object"
                    )
                })?;
            lines.push(json!({"type": "license", "artifact": id, "license": license}));
        }
    }
    for (id, d) in outputs.iter() {
        let owners = d
            .get("facets")
            .and_then(|f| f.get("ownership"))
            .and_then(|o| o.get("owners"))
            .and_then(Json::as_array);
        for o in owners.into_iter().flatten() {
            if let Some(name) = o.get("name").and_then(Json::as_str) {
                lines.push(json!({"type": "custody", "artifact": id, "from": job, "to": name}));
            }
        }
    }
    if lines.is_empty() {
        return Ok(skip(
            "a run that read nothing wrote only datasets already declared, and says nothing \
             new of them: nothing to record"
                .into(),
        ));
    }
    // A source run records no transformation: each of its lines names the
    // event, so that it is recorded once.
    if source {
        for l in lines.iter_mut() {
            if l.get("note").is_none() {
                l["note"] = json!(format!("{EVENT_NOTE}{}", hex::encode(hash)));
            }
        }
    }
    let mut out = String::new();
    for l in &lines {
        out.push_str(&l.to_string());
        out.push('\n');
    }
    Ok(Mapped {
        hash,
        lines: out,
        skipped: None,
        declares: seen.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(facets: &str) -> Vec<u8> {
        format!(
            r#"{{"eventType":"COMPLETE","eventTime":"t","run":{{"runId":"r"}},"job":{{"namespace":"n","name":"j","facets":{facets}}},"producer":"p","inputs":[{{"namespace":"n","name":"a"}}],"outputs":[{{"namespace":"n","name":"b"}}]}}"#
        )
        .into_bytes()
    }

    /// Job facets go into the entry only when every number in them reads
    /// back as sent: minus zero and integers beyond 64 bits would come back
    /// as other numbers than the event's.
    #[test]
    fn facets_whose_numbers_would_change_are_left_out() {
        for (facets, kept) in [
            (r#"{"x":{"n":1,"f":0.5,"s":"t"}}"#, true),
            (r#"{"x":{"n":-0}}"#, false),
            (r#"{"x":{"n":-0.0}}"#, false),
            (r#"{"x":{"n":123456789012345678901234567890}}"#, false),
            (r#"{"x":[1,{"y":1e300}]}"#, false),
            (r#"{"x":18446744073709551615}"#, true),
            (
                &format!("{}1{}", "{\"a\":".repeat(12), "}".repeat(12)),
                true,
            ),
            (
                &format!("{}1{}", "{\"a\":".repeat(13), "}".repeat(13)),
                false,
            ),
        ] {
            let m = map_event(&event(facets), &|_| false).unwrap();
            assert_eq!(
                m.lines.contains("job_facets"),
                kept,
                "{facets}: {}",
                m.lines
            );
        }
    }

    #[test]
    fn a_run_naming_too_many_datasets_is_refused() {
        let many: Vec<String> = (0..MAX_DATASETS)
            .map(|i| format!(r#"{{"namespace":"n","name":"i{i}"}}"#))
            .collect();
        let raw = format!(
            r#"{{"eventType":"COMPLETE","eventTime":"t","run":{{"runId":"r"}},"job":{{"namespace":"n","name":"j"}},"producer":"p","inputs":[{}],"outputs":[{{"namespace":"n","name":"o"}}]}}"#,
            many.join(",")
        );
        let e = map_event(raw.as_bytes(), &|_| false).unwrap_err();
        assert!(e.contains("at most"), "{e}");
    }
}
