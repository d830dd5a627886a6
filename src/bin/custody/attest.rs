//! `custody attest`: in-toto attestations (Statement v1) of a verified
//! ledger, each in a DSSE envelope signed with Ed25519, written as an
//! in-toto bundle (JSON Lines, one envelope a line): one statement of the
//! release's openness (schemas/ATTESTATION.md), and with `--slsa` one SLSA
//! Provenance v1 statement per transformation or augmentation.

use crate::card::{component, verified, Lineage};
use crate::output::safe;
use crate::Failure;
use custody::{Error, Openness, SigningKey};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The predicate type of custody's openness statement.
pub const PREDICATE_TYPE: &str = "urn:custody:predicate:openness:v1";
/// The build type of a production's SLSA provenance.
pub const BUILD_TYPE: &str = "urn:custody:build-type:production:v1";
const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
const SLSA_PROVENANCE: &str = "https://slsa.dev/provenance/v1";

/// A recorded digest as an in-toto digest set: a file's `sha256`, or a
/// directory's `sha256-manifest` (schemas/FORMAT.md, digest).
fn digest_set(d: &str) -> Option<Value> {
    if let Some(h) = d.strip_prefix("sha256:") {
        return Some(json!({ "sha256": h }));
    }
    d.strip_prefix("sha256-manifest:")
        .map(|h| json!({ "sha256-manifest": h }))
}

/// An artifact as an in-toto resource descriptor: its id, with its digest
/// and uri when recorded (and an identifying URN when neither is, since a
/// descriptor must carry one or the other).
fn descriptor(l: &Lineage, ledger: &str, id: &str) -> Value {
    let mut rd = json!({ "name": id });
    if let Some(d) = l.digests.get(id).and_then(|d| digest_set(d)) {
        rd["digest"] = d;
    }
    match l.artifacts.get(id).and_then(|(_, u)| u.clone()) {
        Some(u) => rd["uri"] = json!(u),
        None if rd.get("digest").is_none() => {
            let enc: String = id
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            rd["uri"] = json!(format!("urn:custody:{ledger}:{enc}"));
        }
        None => {}
    }
    rd
}

pub struct AttestOptions {
    pub owner: Option<[u8; 32]>,
    pub checkpoint: Option<String>,
    pub slsa: bool,
}

/// The statements, as JSON values, in order: the openness statement
/// first, then each production's provenance.
pub fn statements(
    source: &PathBuf,
    shown: &str,
    opts: &AttestOptions,
) -> Result<Vec<Value>, Failure> {
    let (o, l) = match verified(source, opts.owner) {
        Ok(x) => x,
        Err(Error::Invalid(inv)) => {
            eprintln!(
                "custody: {}: ledger invalid at {}; nothing attested",
                safe(shown),
                safe(&inv.error.to_string())
            );
            return Err(Failure::Reported);
        }
        Err(e) => return Err(e.into()),
    };
    let ledger = hex::encode(o.ledger);
    let mut subjects = Vec::new();
    if let Some(w) = component(&o, "weights") {
        for a in &w.artifacts {
            if let Some(d) = l.digests.get(&a.id).and_then(|d| digest_set(d)) {
                subjects.push(json!({ "name": a.id, "digest": d }));
            }
        }
    }
    // The ledger file itself, when it is one.
    if source.is_file() {
        let (_, sha) = custody::hash_file(source)?;
        let name = Path::new(shown)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| shown.to_string());
        subjects.push(json!({ "name": name, "digest": { "sha256": hex::encode(sha) } }));
    }
    if subjects.is_empty() {
        return Err(Error::Usage(
            "nothing to attest: no `weights` artifact has a recorded digest, and the source is \
             not an exported file (attest the export: `custody export LEDGER --out FILE`)"
                .into(),
        )
        .into());
    }
    let mut doc = Vec::new();
    crate::openness::write_json(&mut doc, shown, &o)?;
    let openness: Value = serde_json::from_slice(&doc).map_err(|e| Error::Usage(e.to_string()))?;
    let mut predicate = json!({
        "ledger": {
            "id": ledger,
            "name": o.name,
            "entries": o.entries,
            "head": hex::encode(o.head),
            "owner": hex::encode(o.owner),
            "owner_pinned": o.pinned,
        },
        "registry": o.registry,
        "openness": openness,
    });
    if let Some(cp) = &opts.checkpoint {
        predicate["checkpoint"] = json!(cp);
    }
    let mut out = vec![json!({
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    })];
    if opts.slsa {
        out.extend(provenance(&o, &l, &ledger));
    }
    Ok(out)
}

/// One SLSA Provenance v1 statement per production whose outputs carry
/// digests (a statement's subjects must).
fn provenance(_o: &Openness, l: &Lineage, ledger: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for p in &l.productions {
        let subjects: Vec<Value> = p
            .outputs
            .iter()
            .filter_map(|id| {
                l.digests
                    .get(id)
                    .and_then(|d| digest_set(d))
                    .map(|d| json!({ "name": id, "digest": d }))
            })
            .collect();
        if subjects.is_empty() {
            continue;
        }
        let mut external = json!({ p.kind: p.operation });
        if let Some(t) = &p.tool {
            external["tool"] = json!(t);
        }
        if let Some(params) = &p.parameters {
            external["parameters"] = Value::Object(params.clone());
        }
        let mut deps: Vec<Value> = p.inputs.iter().map(|i| descriptor(l, ledger, i)).collect();
        if let Some(g) = &p.generator {
            let mut rd = descriptor(l, ledger, g);
            rd["annotations"] = json!({ "role": "generator" });
            deps.push(rd);
        }
        out.push(json!({
            "_type": STATEMENT_TYPE,
            "subject": subjects,
            "predicateType": SLSA_PROVENANCE,
            "predicate": {
                "buildDefinition": {
                    "buildType": BUILD_TYPE,
                    "externalParameters": external,
                    "internalParameters": { "ledger": ledger, "entry": p.seq },
                    "resolvedDependencies": deps,
                },
                "runDetails": {
                    "builder": { "id": format!("urn:custody:key:{}", hex::encode(p.signer)) },
                    "metadata": {
                        "invocationId": format!("urn:custody:{ledger}:entry:{}", p.seq),
                        "startedOn": custody::rfc3339(p.time),
                    },
                },
            },
        }));
    }
    out
}

/// The bundle: one DSSE envelope a line.
pub fn bundle(statements: &[Value], key: &SigningKey) -> Vec<u8> {
    let mut out = Vec::new();
    for s in statements {
        let payload = serde_json::to_vec(s).unwrap_or_default();
        let env = custody::dsse_envelope(custody::INTOTO_PAYLOAD_TYPE, &payload, key);
        out.extend_from_slice(env.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}
