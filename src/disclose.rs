//! Writing a partial export: a ledger verified, the entries selected
//! disclosed whole and the others withheld, under a checkpoint and a
//! statement signed by an owner (`schemas/TRANSPARENCY.md` §7). Reading one
//! back is `partial`.

use crate::cbor;
use crate::checkpoint::default_origin;
use crate::checkpoint::{sign_note, Checkpoint};
use crate::disclosure::{named, Selector, Statement, FORMAT, MAX_HEADER, STATEMENT_DOMAIN};
use crate::error::Error;
use crate::event::{EventKind, COMPONENTS};
use crate::files::Output;
use crate::merkle::leaf_hash;
use crate::verify::{DisclosureMap, VerifyOptions};
use ciborium::value::Value;
use ed25519_dalek::{Signer, SigningKey};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// What `export_partial` wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialReport {
    /// Entries in the ledger.
    pub entries: u64,
    /// Entries disclosed whole.
    pub disclosed: u64,
}

/// What the exporter keeps of each entry to decide what to disclose.
struct Brief {
    type_name: &'static str,
    /// Artifacts named (interned).
    named: Vec<u32>,
    /// For a production: its outputs (interned).
    outputs: Vec<u32>,
    /// For a component event: its component.
    component: Option<&'static str>,
    /// A hand-over that moves authority, or a declaration.
    authority: bool,
    role: bool,
}

/// Verifies `source` and writes a partial export of it to `out`, disclosing
/// the selected entries, with a checkpoint of the whole ledger and a
/// disclosure statement signed by `key`, which must be an owner's.
///
/// Besides the selected entries, genesis, every `grant` and `revoke`, the
/// last entry, and for every artifact a disclosed entry names its
/// declaration and every hand-over of it to a key are disclosed, so that every disclosed entry's
/// signer can be checked to hold the role and the authority it needed.
/// The file is verified before it is kept: an export that would not verify
/// is never written.
pub fn export_partial(
    source: impl Into<crate::store::Location>,
    out: Output<'_>,
    selectors: &[Selector],
    key: &SigningKey,
) -> Result<PartialReport, Error> {
    if selectors.is_empty() {
        return Err(Error::usage("give at least one selector to disclose"));
    }
    if let Output::File { path, overwrite } = &out {
        crate::files::refuse_existing(path, *overwrite)?;
    }
    // Pass 1: verify, and keep a brief of every entry.
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut intern = |s: &str| -> u32 {
        let n = ids.len() as u32;
        *ids.entry(s.to_string()).or_insert(n)
    };
    let mut briefs: Vec<Brief> = Vec::new();
    let source = &source.into();
    // The checkpoint inside is signed by `key`: held to its mark, as any
    // other checkpoint it signs.
    let mut watch = crate::ledger::MarkWatch::new(key);
    let v = crate::verifying::verify_whole(source, &VerifyOptions::default(), false, None, |e| {
        watch.see(e.seq(), e.hash());
        let kind = &e.event().kind;
        let named: Vec<u32> = named(kind).into_iter().map(&mut intern).collect();
        let outputs = match kind {
            EventKind::Transformation { outputs, .. } | EventKind::Augmentation { outputs, .. } => {
                outputs.iter().map(|o| intern(o)).collect()
            }
            _ => Vec::new(),
        };
        let component = match kind {
            EventKind::Component { component, .. } => {
                COMPONENTS.iter().copied().find(|c| c == component)
            }
            _ => None,
        };
        briefs.push(Brief {
            type_name: e.event().type_name(),
            named,
            outputs,
            component,
            authority: matches!(
                kind,
                EventKind::Artifact { .. } | EventKind::Custody { key: Some(_), .. }
            ),
            role: matches!(
                kind,
                EventKind::Genesis { .. } | EventKind::Grant { .. } | EventKind::Revoke { .. }
            ),
        });
        Ok(())
    })?;
    let publisher = key.verifying_key().to_bytes();
    if !v.ledger.state.is_owner(&publisher) {
        return Err(Error::usage(format!(
            "the key {} is not an owner of this ledger at its {} entries; a partial export must be \
             signed by an owner, or its readers could not trust what it withholds",
            hex::encode(publisher),
            v.ledger.entries
        )));
    }
    let at = if source.is_store() {
        crate::store::names_at(source)?
    } else {
        Vec::new()
    };
    crate::highwater::check_binding(&publisher, &at, &v.ledger.id)?;
    watch.settle(&v.ledger)?;
    crate::highwater::bind(&publisher, &at, &v.ledger.id)?;
    let lookup = |s: &str| ids.get(s).copied();
    // The lineage of the selected components: their artifacts and all ancestors.
    let mut producer_of: HashMap<u32, usize> = HashMap::new();
    for (seq, b) in briefs.iter().enumerate() {
        for &o in &b.outputs {
            producer_of.insert(o, seq);
        }
    }
    let mut lineage: HashSet<u32> = HashSet::new();
    let mut stack: Vec<u32> = Vec::new();
    let covered = |c: &str| selectors.iter().any(|s| s.covers(c));
    for b in &briefs {
        if b.component.is_some_and(covered) {
            stack.extend(&b.named);
        }
    }
    // Each production's parents are pushed once, however many outputs.
    let mut expanded: HashSet<usize> = HashSet::new();
    while let Some(a) = stack.pop() {
        if !lineage.insert(a) {
            continue;
        }
        if let Some(&p) = producer_of.get(&a) {
            if expanded.insert(p) {
                let outs: HashSet<u32> = briefs[p].outputs.iter().copied().collect();
                stack.extend(briefs[p].named.iter().filter(|x| !outs.contains(x)));
            }
        }
    }
    let wanted: HashSet<u32> = selectors
        .iter()
        .filter_map(|s| match s {
            Selector::Artifact(a) => lookup(a),
            _ => None,
        })
        .collect();
    let mut disclose: Vec<bool> = briefs
        .iter()
        .enumerate()
        .map(|(seq, b)| {
            b.role
                || b.named.iter().any(|a| wanted.contains(a))
                || selectors.iter().any(|s| match s {
                    Selector::Type(t) => t == b.type_name,
                    _ => false,
                })
                || b.component.is_some_and(covered)
                || (b.type_name != "transformation"
                    && b.type_name != "augmentation"
                    && b.type_name != "component"
                    && b.type_name != "custody"
                    && b.named.iter().any(|a| lineage.contains(a)))
                || (b.authority && b.named.iter().any(|a| lineage.contains(a)))
                || b.outputs
                    .iter()
                    .any(|o| lineage.contains(o) && producer_of.get(o) == Some(&seq))
        })
        .collect();
    // The last entry is always disclosed: its `roles` count shows that no
    // grant or revocation was withheld.
    if let Some(last) = disclose.last_mut() {
        *last = true;
    }
    // Whatever a disclosed entry names, its declaration and hand-overs to a
    // key are disclosed too: the verifier checks authority with them.
    let mut needed: HashSet<u32> = HashSet::new();
    for (b, d) in briefs.iter().zip(&disclose) {
        if *d {
            needed.extend(&b.named);
        }
    }
    for (b, d) in briefs.iter().zip(disclose.iter_mut()) {
        if b.authority && b.named.iter().any(|a| needed.contains(a)) {
            *d = true;
        }
    }
    // Pass 2: write the items, from the same entries (the head must not
    // have moved), and compute the tree and the map on the way.
    let n = v.ledger.entries;
    let mut items: Vec<u8> = Vec::new();
    let mut range = crate::merkle::CompactRange::default();
    let mut map = DisclosureMap::new();
    let mut disclosed = 0u64;
    let mut seen = 0u64;
    let mut head = None;
    crate::verifying::verify_whole(source, &VerifyOptions::default(), false, None, |e| {
        let seq = e.seq();
        if seq >= n {
            return Ok(());
        }
        let leaf = leaf_hash(e.bytes());
        range.push(leaf);
        let d = disclose[seq as usize];
        map.push(d);
        if d {
            items.extend_from_slice(e.bytes());
            disclosed += 1;
        } else {
            cbor::head(2, 32, &mut items);
            items.extend_from_slice(&leaf);
        }
        seen += 1;
        head = Some(*e.hash());
        Ok(())
    })?;
    if seen != n || head != Some(v.ledger.head) {
        return Err(Error::usage(
            "the ledger changed while it was being exported; run the export again",
        ));
    }
    let origin = default_origin(v.ledger.name(), v.ledger.id());
    let cp = Checkpoint {
        origin: origin.clone(),
        size: n,
        root: range.root(),
    };
    let note = sign_note(&cp.text(), &origin, key).map_err(Error::Usage)?;
    let statement = Statement {
        origin,
        size: n,
        root: cp.root,
        map: map.finish(),
        selectors: selectors.iter().map(ToString::to_string).collect(),
    }
    .encode()?;
    let mut signed = STATEMENT_DOMAIN.to_vec();
    signed.extend_from_slice(&statement);
    let signature = key.sign(&signed).to_bytes();
    let header = cbor::encode(&Value::Map(vec![
        (Value::Text("format".into()), Value::Text(FORMAT.into())),
        (Value::Text("checkpoint".into()), Value::Text(note)),
        (Value::Text("statement".into()), Value::Bytes(statement)),
        (
            Value::Text("publisher".into()),
            Value::Bytes(publisher.to_vec()),
        ),
        (
            Value::Text("signature".into()),
            Value::Bytes(signature.to_vec()),
        ),
    ]))
    .map_err(|e| Error::Usage(format!("cannot encode the header: {e:?}")))?;
    if header.len() > MAX_HEADER {
        return Err(Error::usage(format!(
            "the selectors make a header of {} bytes, more than {MAX_HEADER}; use fewer selectors",
            header.len()
        )));
    }
    let mut file = header;
    file.extend_from_slice(&items);
    // What is written must verify, as anyone will check it.
    let mut r = file.as_slice();
    crate::partial::verify_partial(
        Path::new("<partial export>"),
        &mut r,
        &VerifyOptions::default(),
        None,
        |_| Ok(()),
    )
    .map_err(|e| match e {
        Error::Invalid(inv) => Error::Usage(format!(
            "the partial export would not verify ({}); nothing was written",
            inv.error
        )),
        other => other,
    })?;
    out.write(&file)?;
    Ok(PartialReport {
        entries: n,
        disclosed,
    })
}
