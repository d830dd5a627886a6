//! `custody card`: what to paste into a Hugging Face model card (its YAML
//! metadata and a markdown section), or `--mof` a Model Openness Framework
//! YAML file, from the verified ledger only (schemas/CARD.md).

use crate::output::safe;
use crate::Failure;
use custody::{Access, Error, EventKind, Kind, Openness, VerifyOptions};
use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::PathBuf;

/// A transformation or augmentation, as the ledger records it.
pub struct Production {
    pub seq: u64,
    pub signer: [u8; 32],
    pub time: u64,
    /// `transformation` or `augmentation`.
    pub kind: &'static str,
    /// Its operation (or method).
    pub operation: String,
    pub tool: Option<String>,
    pub parameters: Option<serde_json::Map<String, serde_json::Value>>,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub generator: Option<String>,
}

/// What the card and the attestations need of a verified ledger besides
/// its openness.
#[derive(Default)]
pub struct Lineage {
    /// Artifact id: kind and uri.
    pub artifacts: HashMap<String, (Kind, Option<String>)>,
    /// Artifact id: its digest, when recorded.
    pub digests: HashMap<String, String>,
    /// Every production, in ledger order.
    pub productions: Vec<Production>,
    /// Every entry: seq, time, signer, type and a line saying what it says.
    pub entries: Vec<(u64, u64, [u8; 32], &'static str, String)>,
    /// Hand-overs: artifact, from, to, seq, time.
    pub custody: Vec<(String, String, String, u64, u64)>,
    /// Keys and their roles: key, role, granted at, revoked at.
    pub roles: Vec<([u8; 32], &'static str, u64, Option<u64>)>,
    /// Artifact id: its latest license, as named.
    pub licenses: HashMap<String, String>,
    /// Artifact ids in declaration order.
    pub order: Vec<String>,
    /// Output id: the production's operation, its inputs and generator.
    produced_by: HashMap<String, (String, Vec<String>, Option<String>)>,
    /// Artifact id: how it is released (the latest `release`).
    access: HashMap<String, Access>,
}

/// The Hugging Face Hub's license ids (huggingface.co/docs/hub/repositories-licenses).
const HUB_LICENSES: &[&str] = &[
    "apache-2.0",
    "mit",
    "openrail",
    "bigscience-openrail-m",
    "creativeml-openrail-m",
    "bigscience-bloom-rail-1.0",
    "bigcode-openrail-m",
    "afl-3.0",
    "artistic-2.0",
    "bsl-1.0",
    "bsd",
    "bsd-2-clause",
    "bsd-3-clause",
    "bsd-3-clause-clear",
    "c-uda",
    "cc",
    "cc0-1.0",
    "cc-by-2.0",
    "cc-by-2.5",
    "cc-by-3.0",
    "cc-by-4.0",
    "cc-by-sa-3.0",
    "cc-by-sa-4.0",
    "cc-by-nc-2.0",
    "cc-by-nc-3.0",
    "cc-by-nc-4.0",
    "cc-by-nd-4.0",
    "cc-by-nc-nd-3.0",
    "cc-by-nc-nd-4.0",
    "cc-by-nc-sa-2.0",
    "cc-by-nc-sa-3.0",
    "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0",
    "cdla-permissive-1.0",
    "cdla-permissive-2.0",
    "wtfpl",
    "ecl-2.0",
    "epl-1.0",
    "epl-2.0",
    "etalab-2.0",
    "eupl-1.1",
    "eupl-1.2",
    "agpl-3.0",
    "gfdl",
    "gpl",
    "gpl-2.0",
    "gpl-3.0",
    "lgpl",
    "lgpl-2.1",
    "lgpl-3.0",
    "isc",
    "h-research",
    "intel-research",
    "lppl-1.3c",
    "ms-pl",
    "apple-ascl",
    "apple-amlr",
    "mpl-2.0",
    "odc-by",
    "odbl",
    "openrail++",
    "osl-3.0",
    "postgresql",
    "ofl-1.1",
    "ncsa",
    "unlicense",
    "zlib",
    "pddl",
    "lgpl-lr",
    "deepfloyd-if-license",
    "llama2",
    "llama3",
    "llama3.1",
    "llama3.2",
    "llama3.3",
    "llama4",
    "gemma",
];

/// Registry ids whose Hub id is not their own in lower case.
const HUB_NAMES: &[(&str, &str)] = &[
    ("LicenseRef-Llama-2", "llama2"),
    ("LicenseRef-Llama-3", "llama3"),
    ("LicenseRef-Llama-3.1", "llama3.1"),
    ("LicenseRef-Llama-3.2", "llama3.2"),
    ("LicenseRef-Llama-3.3", "llama3.3"),
    ("LicenseRef-Gemma", "gemma"),
    ("LicenseRef-OpenRAIL", "openrail"),
    ("LicenseRef-BigScience-OpenRAIL-M", "bigscience-openrail-m"),
    ("LicenseRef-CreativeML-OpenRAIL-M", "creativeml-openrail-m"),
    (
        "LicenseRef-BigScience-BLOOM-RAIL-1.0",
        "bigscience-bloom-rail-1.0",
    ),
    ("LicenseRef-BigCode-OpenRAIL-M", "bigcode-openrail-m"),
    ("ODC-By-1.0", "odc-by"),
    ("ODbL-1.0", "odbl"),
    ("PDDL-1.0", "pddl"),
    ("GFDL-1.3-only", "gfdl"),
    ("GFDL-1.3-or-later", "gfdl"),
    ("GPL-2.0-only", "gpl-2.0"),
    ("GPL-2.0-or-later", "gpl-2.0"),
    ("GPL-3.0-only", "gpl-3.0"),
    ("GPL-3.0-or-later", "gpl-3.0"),
    ("LGPL-2.1-only", "lgpl-2.1"),
    ("LGPL-2.1-or-later", "lgpl-2.1"),
    ("LGPL-3.0-only", "lgpl-3.0"),
    ("LGPL-3.0-or-later", "lgpl-3.0"),
    ("AGPL-3.0-only", "agpl-3.0"),
    ("AGPL-3.0-or-later", "agpl-3.0"),
];

/// A registry or SPDX id as a Hub license id, when the Hub has one.
pub fn hub_license(id: &str) -> Option<&'static str> {
    if let Some((_, h)) = HUB_NAMES.iter().find(|(i, _)| *i == id) {
        return Some(h);
    }
    let lower = id.to_ascii_lowercase();
    HUB_LICENSES.iter().copied().find(|h| *h == lower)
}

/// `org/name` when `uri` names a Hub repository of the given kind
/// (`datasets` or models, which have no prefix).
fn hub_repo(uri: &str, datasets: bool) -> Option<String> {
    let rest = uri
        .strip_prefix("https://huggingface.co/")
        .or_else(|| uri.strip_prefix("hf://"))?;
    let rest = rest.split(['?', '#']).next()?;
    let parts: Vec<&str> = rest.split('/').collect();
    let repo = if datasets {
        match parts.as_slice() {
            ["datasets", org, name, ..] => (*org, *name),
            _ => return None,
        }
    } else {
        match parts.as_slice() {
            [org, name, ..] => (*org, *name),
            _ => return None,
        }
    };
    // Not a repository: the Hub's own paths.
    const RESERVED: &[&str] = &[
        "datasets",
        "spaces",
        "collections",
        "models",
        "api",
        "docs",
        "blog",
        "organizations",
        "settings",
        "papers",
        "join",
        "login",
        "new",
        "pricing",
        "tasks",
        "learn",
        "posts",
    ];
    let ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    let (org, name) = repo;
    (ok(org) && ok(name) && !RESERVED.contains(&org.to_ascii_lowercase().as_str()))
        .then(|| format!("{org}/{name}"))
}

/// The Hub's `base_model_relation` for the operation that made a model
/// from its base, when one fits.
fn relation(operation: &str) -> Option<&'static str> {
    let op = operation.to_ascii_lowercase();
    if op.contains("quantiz") || op.contains("quantis") {
        Some("quantized")
    } else if op.contains("merge") {
        Some("merge")
    } else if op.contains("lora") || op.contains("adapter") {
        Some("adapter")
    } else if op.contains("tun")
        || op.contains("sft")
        || op.contains("train")
        || op.contains("distil")
    {
        Some("finetune")
    } else {
        None
    }
}

/// A YAML double-quoted scalar. JSON's string syntax is YAML's, but for
/// the characters YAML does not allow raw (or reads as line breaks):
/// those are escaped too.
fn y(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20
                || (0x7f..=0x9f).contains(&(c as u32))
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                let _ = std::fmt::Write::write_fmt(&mut out, format_args!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A file name as one shell word (single-quoted unless it is plainly safe).
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

pub fn verified(source: &PathBuf, owner: Option<[u8; 32]>) -> Result<(Openness, Lineage), Error> {
    let mut l = Lineage::default();
    let v = custody::verify(source, &VerifyOptions { owner }, |e| {
        let production = |kind,
                          operation: &String,
                          tool: &Option<String>,
                          parameters: &Option<serde_json::Map<String, serde_json::Value>>,
                          inputs: &Vec<String>,
                          outputs: &Vec<String>,
                          generator: &Option<String>| Production {
            seq: e.seq(),
            signer: *e.signer(),
            time: e.time(),
            kind,
            operation: operation.clone(),
            tool: tool.clone(),
            parameters: parameters.clone(),
            inputs: inputs.clone(),
            outputs: outputs.clone(),
            generator: generator.clone(),
        };
        l.entries.push((
            e.seq(),
            e.time(),
            *e.signer(),
            e.event().type_name(),
            crate::output::summary(&e.event().kind),
        ));
        match &e.event().kind {
            EventKind::Genesis { .. } => l.roles.push((*e.signer(), "owner", 0, None)),
            EventKind::Grant { key, role } => l.roles.push((
                *key,
                match role {
                    custody::Role::Owner => "owner",
                    custody::Role::Appender => "appender",
                },
                e.seq(),
                None,
            )),
            EventKind::Revoke { key } => {
                for r in l.roles.iter_mut().filter(|r| r.0 == *key && r.3.is_none()) {
                    r.3 = Some(e.seq());
                }
            }
            EventKind::Custody {
                artifact, from, to, ..
            } => l.custody.push((
                artifact.clone(),
                from.clone(),
                to.clone(),
                e.seq(),
                e.time(),
            )),
            EventKind::License { artifact, license } => {
                let name = match license {
                    custody::License::Spdx(x) => x.clone(),
                    custody::License::Inline { name, .. } => name.clone(),
                };
                l.licenses.insert(artifact.clone(), name);
            }
            EventKind::Artifact {
                id,
                kind,
                uri,
                digest,
                ..
            } => {
                l.artifacts.insert(id.clone(), (*kind, uri.clone()));
                l.order.push(id.clone());
                if let Some(d) = digest {
                    l.digests.insert(id.clone(), d.clone());
                }
            }
            EventKind::Transformation {
                operation,
                inputs,
                outputs,
                tool,
                parameters,
            } => {
                for o in outputs {
                    l.produced_by
                        .insert(o.clone(), (operation.clone(), inputs.clone(), None));
                }
                l.productions.push(production(
                    "transformation",
                    operation,
                    tool,
                    parameters,
                    inputs,
                    outputs,
                    &None,
                ));
            }
            EventKind::Augmentation {
                method,
                inputs,
                outputs,
                generator,
                parameters,
            } => {
                for o in outputs {
                    l.produced_by.insert(
                        o.clone(),
                        (method.clone(), inputs.clone(), generator.clone()),
                    );
                }
                l.productions.push(production(
                    "augmentation",
                    method,
                    &None,
                    parameters,
                    inputs,
                    outputs,
                    generator,
                ));
            }
            EventKind::Release { artifact, access } => {
                l.access.insert(artifact.clone(), *access);
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok((custody::openness(&v), l))
}

/// Every artifact `id` derives from (inputs and generators, all the way up).
fn ancestors(l: &Lineage, id: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![id.to_string()];
    while let Some(a) = todo.pop() {
        if let Some((_, inputs, generator)) = l.produced_by.get(&a) {
            for p in inputs.iter().chain(generator.iter()) {
                if seen.insert(p.clone()) {
                    todo.push(p.clone());
                }
            }
        }
    }
    seen
}

pub fn run(
    out: &mut impl Write,
    sources: &[PathBuf],
    shown: &[String],
    mof: bool,
    owner: Option<[u8; 32]>,
) -> Result<(), Failure> {
    let mut ledgers = Vec::new();
    for s in sources {
        match verified(s, owner) {
            Ok(x) => ledgers.push(x),
            Err(Error::Invalid(inv)) => {
                eprintln!(
                    "custody: {}: ledger invalid at {}; no card for it",
                    safe(&s.display().to_string()),
                    safe(&inv.error.to_string())
                );
                return Err(Failure::Reported);
            }
            Err(e) => return Err(e.into()),
        }
    }
    if mof {
        for (o, l) in &ledgers {
            write_mof(out, o, l)?;
        }
        return Ok(());
    }
    write_card(out, &ledgers, shown)?;
    Ok(())
}

pub fn component<'a>(o: &'a Openness, name: &str) -> Option<&'a custody::ComponentLevel> {
    o.components.iter().find(|c| c.name == name)
}

fn write_card(
    out: &mut impl Write,
    ledgers: &[(Openness, Lineage)],
    shown: &[String],
) -> std::io::Result<()> {
    let (o, l) = &ledgers[0];
    let weights = component(o, "weights");
    let model = weights.and_then(|c| c.artifacts.first());
    // license: the released weights' own (the table below says what their
    // lineage restricts).
    let license = model.and_then(|a| a.license.as_ref());
    writeln!(out, "---")?;
    match license {
        Some(li) => match li.id.as_deref().and_then(hub_license) {
            Some(h) => writeln!(out, "license: {h}")?,
            None => {
                writeln!(out, "license: other")?;
                let name = li.id.clone().unwrap_or_else(|| li.name.clone());
                let slug: String = name
                    .to_ascii_lowercase()
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '.' {
                            c
                        } else {
                            '-'
                        }
                    })
                    .collect();
                writeln!(out, "license_name: {}", y(slug.trim_matches('-')))?;
                if let Some(id) = li
                    .id
                    .as_deref()
                    .filter(|i| !i.starts_with("LicenseRef-") && !i.contains(' '))
                {
                    writeln!(
                        out,
                        "license_link: {}",
                        y(&format!("https://spdx.org/licenses/{id}.html"))
                    )?;
                }
            }
        },
        None => writeln!(out, "license: unknown")?,
    }
    // datasets: data artifacts the model derives from, or assigned to a
    // component, that name a Hub dataset.
    let mut data: BTreeSet<String> = BTreeSet::new();
    let mut consider: BTreeSet<String> = BTreeSet::new();
    if let Some(m) = model {
        consider.extend(ancestors(l, &m.id));
    }
    for c in &o.components {
        consider.extend(c.artifacts.iter().map(|a| a.id.clone()));
    }
    for id in &consider {
        if let Some((Kind::Data, Some(uri))) = l.artifacts.get(id) {
            if let Some(r) = hub_repo(uri, true) {
                data.insert(r);
            }
        }
    }
    if !data.is_empty() {
        writeln!(out, "datasets:")?;
        for d in &data {
            writeln!(out, "- {}", y(d))?;
        }
    }
    // base_model: weights the model was made from (not a generator of its
    // data), named on the Hub.
    if let Some(m) = model {
        if let Some((op, inputs, _)) = l.produced_by.get(&m.id) {
            let bases: Vec<String> = inputs
                .iter()
                .filter_map(|i| match l.artifacts.get(i) {
                    Some((Kind::Weights, Some(uri))) => hub_repo(uri, false),
                    _ => None,
                })
                .collect();
            match bases.as_slice() {
                [] => {}
                [one] => writeln!(out, "base_model: {}", y(one))?,
                many => {
                    writeln!(out, "base_model:")?;
                    for b in many {
                        writeln!(out, "- {}", y(b))?;
                    }
                }
            }
            let rel = if bases.len() > 1 {
                Some("merge")
            } else {
                relation(op)
            };
            if let (false, Some(r)) = (bases.is_empty(), rel) {
                writeln!(out, "base_model_relation: {r}")?;
            }
        }
    }
    writeln!(out, "tags:\n- custody")?;
    writeln!(out, "---")?;
    writeln!(out)?;
    writeln!(out, "## Provenance and openness")?;
    writeln!(out)?;
    writeln!(
        out,
        "Every figure below is derived from a signed provenance ledger (custody), verified end to \
         end: where each dataset came from and who held it, what was done to it, what was \
         generated and with which model, and under which license each part is released and how. \
         Levels after Eiras et al., \"Near to Mid-term Risks and Opportunities of Open Source \
         Generative AI\" (2024)."
    )?;
    writeln!(out)?;
    let all: Vec<&Openness> = ledgers.iter().map(|(o, _)| o).collect();
    crate::openness::markdown(out, &all)?;
    writeln!(out)?;
    writeln!(out, "### Check it yourself")?;
    writeln!(out)?;
    for ((o, _), src) in ledgers.iter().zip(shown) {
        let file = std::path::Path::new(src)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| src.clone());
        // Names come from the ledger (anyone who signed one): escaped for
        // markdown, never put in a code span or a command line as they are.
        writeln!(
            out,
            "The ledger {} (id `{}`, {} entries, head `{}`) is published beside this model as \
             {}. With custody installed:",
            crate::output::md(&o.name),
            hex::encode(o.ledger),
            o.entries,
            hex::encode(o.head),
            crate::output::md(&file)
        )?;
        writeln!(out)?;
        let arg = shell_word(&file);
        writeln!(out, "```sh")?;
        writeln!(out, "custody verify {arg} --owner {}", hex::encode(o.owner))?;
        writeln!(out, "custody openness {arg} --markdown")?;
        writeln!(out, "```")?;
        writeln!(out)?;
        writeln!(
            out,
            "Compare the owner key with the one the publisher announces elsewhere: the ledger \
             proves who signed what, given that key."
        )?;
    }
    Ok(())
}

/// The Model Openness Framework's components, and the custody components
/// each is made of (none: the ledger does not record it).
const MOF: &[(&str, &str, &[&str])] = &[
    (
        "Model architecture",
        "Well commented code for the model's architecture",
        &["pretraining-code"],
    ),
    (
        "Data preprocessing code",
        "Code for data cleansing, normalization, and augmentation",
        &[],
    ),
    (
        "Training code",
        "Code used for training the model",
        &["pretraining-code", "finetuning-code", "alignment-code"],
    ),
    (
        "Inference code",
        "Code used for running the model to make predictions",
        &["inference-code"],
    ),
    (
        "Evaluation code",
        "Code used for evaluating the model",
        &["eval-code", "safety-eval-code"],
    ),
    (
        "Supporting libraries and tools",
        "Libraries and tools used in the model's development",
        &[],
    ),
    (
        "Model parameters (Final)",
        "Trained model parameters, weights and biases",
        &["weights"],
    ),
    (
        "Model parameters (Intermediate)",
        "Trained model parameters, weights and biases",
        &[],
    ),
    (
        "Datasets",
        "Training, validation and testing datasets used for the model",
        &["pretraining-data", "sft-data", "alignment-data"],
    ),
    (
        "Evaluation data",
        "Data used for evaluating the model",
        &["benchmark-data", "safety-eval-data"],
    ),
    (
        "Model metadata",
        "Any model metadata including training configuration and optimizer states",
        &[],
    ),
    (
        "Sample model outputs",
        "Examples of outputs generated by the model",
        &[],
    ),
    (
        "Model card",
        "Model details including performance metrics, intended use, and limitations",
        &[],
    ),
    (
        "Data card",
        "Documentation for datasets including source, characteristics, and preprocessing details",
        &[],
    ),
    (
        "Technical report",
        "Technical report detailing capabilities and usage instructions for the model",
        &[],
    ),
    (
        "Research paper",
        "Research paper detailing the development and capabilities of the model",
        &[],
    ),
    (
        "Evaluation results",
        "The results from evaluating the model",
        &[],
    ),
];

/// The license names of a list of artifact levels, one per license.
fn names(artifacts: &[&custody::ArtifactLevel]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in artifacts {
        if let Some(li) = &a.license {
            let n = li.id.clone().unwrap_or_else(|| li.name.clone());
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

fn write_mof(out: &mut impl Write, o: &Openness, l: &Lineage) -> std::io::Result<()> {
    writeln!(out, "framework:")?;
    writeln!(out, "  name: Model Openness Framework")?;
    writeln!(out, "  version: '1.0'")?;
    writeln!(out, "  date: '2024-12-15'")?;
    writeln!(out, "release:")?;
    writeln!(out, "  name: {}", y(&o.name))?;
    fn public(c: &custody::ComponentLevel) -> Vec<&custody::ArtifactLevel> {
        c.artifacts
            .iter()
            .filter(|a| a.access == Some(Access::Public))
            .collect()
    }
    let model = component(o, "weights").and_then(|c| c.artifacts.first());
    if let Some(uri) = model
        .and_then(|m| l.artifacts.get(&m.id))
        .and_then(|(_, u)| u.clone())
    {
        if let Some(r) = hub_repo(&uri, false) {
            writeln!(
                out,
                "  huggingface: {}",
                y(&format!("https://huggingface.co/{r}"))
            )?;
        }
    }
    writeln!(out, "  components:")?;
    // Intermediate parameters: weights the final ones were made from.
    let mut inter_ids: Vec<String> = Vec::new();
    if let Some(m) = model {
        inter_ids = ancestors(l, &m.id)
            .into_iter()
            .filter(|a| matches!(l.artifacts.get(a), Some((Kind::Weights, _))))
            .filter(|a| l.access.get(a) == Some(&Access::Public))
            .filter(|a| {
                // A generator of training data is another model, not a
                // checkpoint of this one.
                !l.produced_by
                    .values()
                    .any(|(_, _, g)| g.as_deref() == Some(a.as_str()))
            })
            .collect();
    }
    for (name, description, ours) in MOF {
        let comps: Vec<&custody::ComponentLevel> =
            ours.iter().filter_map(|n| component(o, n)).collect();
        let mut released: Vec<&custody::ArtifactLevel> = Vec::new();
        for a in comps.iter().flat_map(|c| public(c)) {
            if !released.iter().any(|r| r.id == a.id) {
                released.push(a);
            }
        }
        let recorded = if *name == "Model parameters (Intermediate)" {
            !inter_ids.is_empty()
        } else {
            !released.is_empty()
        };
        if !recorded {
            continue;
        }
        writeln!(out, "  - name: {}", y(name))?;
        writeln!(out, "    description: {}", y(description))?;
        if *name == "Model parameters (Intermediate)" {
            writeln!(
                out,
                "    custody_artifacts: [{}]",
                inter_ids
                    .iter()
                    .map(|i| y(i))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
            continue;
        }
        let lic = names(&released);
        if !lic.is_empty() {
            writeln!(out, "    license: {}", y(&lic.join(" AND ")))?;
        }
        let levels: Vec<String> = comps
            .iter()
            .map(|c| format!("{} {}", c.name, c.level))
            .collect();
        writeln!(out, "    custody_levels: {}", y(&levels.join(", ")))?;
        let ids: Vec<String> = released.iter().map(|a| y(&a.id)).collect();
        writeln!(out, "    custody_artifacts: [{}]", ids.join(", "))?;
        if let Some(uri) = released
            .first()
            .and_then(|a| l.artifacts.get(&a.id))
            .and_then(|(_, u)| u.clone())
        {
            // Only a web address: tools show it as a link.
            if uri.starts_with("https://") || uri.starts_with("http://") {
                writeln!(out, "    component_path: {}", y(&uri))?;
            }
        }
    }
    writeln!(out, "  custody:")?;
    writeln!(out, "    ledger: {}", y(&hex::encode(o.ledger)))?;
    writeln!(out, "    head: {}", y(&hex::encode(o.head)))?;
    writeln!(out, "    entries: {}", o.entries)?;
    writeln!(out, "    owner: {}", y(&hex::encode(o.owner)))?;
    Ok(())
}
