//! The ledger's rules: who may append what, and what the events must agree
//! on (declared artifacts, unique ids, component kinds, lineage). The same
//! `State::apply` runs when appending and when verifying.

use crate::error::Reason;
use crate::event::{
    Access, Assignment, Event, EventKind, FieldError, Kind, License, Role, COMPONENTS,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// A key's standing at some point of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Standing {
    Granted(Role),
    Revoked,
}

/// An artifact as the chain knows it so far.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ArtifactState {
    pub id: Box<str>,
    pub kind: Kind,
    /// Entry that declared it.
    pub declared: u64,
    /// Entry (transformation or augmentation) that produced it.
    pub producer: Option<u64>,
    /// Artifacts it was derived from (inputs and generator of its producer).
    pub parents: Box<[u32]>,
    /// Whether it has been a parent of some production.
    pub consumed: bool,
    /// Latest license (an index into `State::licenses`) and the entry that set it.
    pub license: Option<(u64, u32)>,
    /// Latest release and the entry that set it.
    pub release: Option<(u64, Access)>,
}

/// What the chain says of a pipeline component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ComponentState {
    NotApplicable {
        seqs: Vec<u64>,
    },
    Artifacts {
        ids: Vec<u32>,
        members: HashSet<u32>,
        seqs: Vec<u64>,
    },
}

/// The state a chain's prefix establishes. A writer keeps it beside its
/// entries (`Store`) so as not to replay the whole ledger on every append;
/// verification always rebuilds it from the entries.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct State {
    pub name: String,
    keys: HashMap<[u8; 32], Standing>,
    owners: usize,
    /// Artifact ids by a 64-bit hash of the id (the id itself is kept once,
    /// in `artifacts`); ids whose hash is taken go to `collisions`.
    index: HashMap<u64, u32>,
    collisions: HashMap<Box<str>, u32>,
    /// Distinct licenses, stored once.
    pub licenses: Vec<License>,
    license_ids: HashMap<License, u32>,
    pub artifacts: Vec<ArtifactState>,
    pub components: HashMap<String, ComponentState>,
    /// A partial export: artifacts may be named whose declaration was
    /// withheld. They are taken as placeholders, and kind checks on them
    /// skipped.
    pub partial: bool,
    placeholders: HashSet<u32>,
}

/// Why `apply` refused an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleError {
    pub reason: Reason,
    pub error: FieldError,
}

fn rule(field: &str, msg: impl Into<String>) -> RuleError {
    RuleError {
        reason: Reason::RuleViolation,
        error: FieldError::new(field, msg),
    }
}

impl State {
    /// Whether `key` may currently append ordinary events.
    pub fn may_append(&self, key: &[u8; 32]) -> Result<(), RuleError> {
        self.role_of(key).map(|_| ())
    }

    fn role_of(&self, key: &[u8; 32]) -> Result<Role, RuleError> {
        match self.keys.get(key) {
            Some(Standing::Granted(r)) => Ok(*r),
            Some(Standing::Revoked) => Err(RuleError {
                reason: Reason::Revoked,
                error: FieldError::new("", format!("signer {} had been revoked", hex::encode(key))),
            }),
            None => Err(RuleError {
                reason: Reason::Unauthorized,
                error: FieldError::new(
                    "",
                    format!(
                        "signer {} was never granted a role in this ledger",
                        hex::encode(key)
                    ),
                ),
            }),
        }
    }

    fn lookup(&self, id: &str) -> Option<u32> {
        match self.index.get(&id_hash(id)) {
            Some(&i) if &*self.artifacts[i as usize].id == id => Some(i),
            Some(_) => self.collisions.get(id).copied(),
            None => None,
        }
    }

    fn artifact(&mut self, field: &str, id: &str) -> Result<u32, RuleError> {
        if let Some(i) = self.lookup(id) {
            return Ok(i);
        }
        if !self.partial {
            return Err(rule(
                field,
                format!("unknown artifact `{id}`; declare it first with an `artifact` event"),
            ));
        }
        let n = self.push_artifact(id, Kind::Data, u64::MAX)?;
        self.placeholders.insert(n);
        Ok(n)
    }

    fn push_artifact(&mut self, id: &str, kind: Kind, seq: u64) -> Result<u32, RuleError> {
        let n =
            u32::try_from(self.artifacts.len()).map_err(|_| rule("id", "too many artifacts"))?;
        match self.index.entry(id_hash(id)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(n);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collisions.insert(id.into(), n);
            }
        }
        self.artifacts.push(ArtifactState {
            id: id.into(),
            kind,
            declared: seq,
            producer: None,
            parents: Box::new([]),
            consumed: false,
            license: None,
            release: None,
        });
        Ok(n)
    }

    /// Whether the artifact's declaration is known (always, unless partial).
    pub fn declared(&self, i: u32) -> bool {
        !self.placeholders.contains(&i)
    }

    /// Checks `event`, signed by `signer` as entry `seq`, against the state,
    /// and records it. On error the state is unchanged.
    pub fn apply(&mut self, seq: u64, signer: &[u8; 32], event: &Event) -> Result<(), RuleError> {
        if let EventKind::Genesis { name } = &event.kind {
            if seq != 0 || !self.keys.is_empty() {
                return Err(RuleError {
                    reason: Reason::BadGenesis,
                    error: FieldError::new("type", "a genesis event after the first entry"),
                });
            }
            self.name = name.clone();
            self.keys.insert(*signer, Standing::Granted(Role::Owner));
            self.owners = 1;
            return Ok(());
        }
        if seq == 0 {
            return Err(RuleError {
                reason: Reason::BadGenesis,
                error: FieldError::new("type", "the first entry is not a genesis event"),
            });
        }
        let role = self.role_of(signer)?;
        match &event.kind {
            // Handled above.
            EventKind::Genesis { .. } => {}
            EventKind::Grant { key, role: new } => {
                self.owner_only(role, "grant")?;
                let current = self.keys.get(key).copied();
                if current == Some(Standing::Granted(Role::Owner))
                    && *new != Role::Owner
                    && self.owners == 1
                {
                    return Err(rule("role", "this would leave the ledger without an owner"));
                }
                if current == Some(Standing::Granted(Role::Owner)) && *new != Role::Owner {
                    self.owners -= 1;
                }
                if current != Some(Standing::Granted(Role::Owner)) && *new == Role::Owner {
                    self.owners += 1;
                }
                self.keys.insert(*key, Standing::Granted(*new));
            }
            EventKind::Revoke { key } => {
                self.owner_only(role, "revoke")?;
                match self.keys.get(key) {
                    Some(Standing::Granted(Role::Owner)) if self.owners == 1 => {
                        return Err(rule(
                            "key",
                            "the last owner cannot be revoked; grant another owner first",
                        ))
                    }
                    Some(Standing::Granted(Role::Owner)) => self.owners -= 1,
                    Some(Standing::Granted(Role::Appender)) => {}
                    _ => return Err(rule("key", "this key holds no role to revoke")),
                }
                self.keys.insert(*key, Standing::Revoked);
            }
            EventKind::Artifact { id, kind, .. } => {
                if let Some(i) = self.lookup(id).filter(|i| self.placeholders.contains(i)) {
                    // Named before by disclosed entries; now declared.
                    self.placeholders.remove(&i);
                    self.artifacts[i as usize].kind = *kind;
                    self.artifacts[i as usize].declared = seq;
                    return Ok(());
                }
                if let Some(i) = self.lookup(id) {
                    return Err(rule(
                        "id",
                        format!(
                            "artifact `{id}` was already declared by entry {}",
                            self.artifacts[i as usize].declared
                        ),
                    ));
                }
                self.push_artifact(id, *kind, seq)?;
            }
            EventKind::Custody { artifact, .. } => {
                self.artifact("artifact", artifact)?;
            }
            EventKind::Transformation {
                inputs, outputs, ..
            } => {
                self.produce(seq, inputs, outputs, None)?;
            }
            EventKind::Augmentation {
                inputs,
                outputs,
                generator,
                ..
            } => {
                self.produce(seq, inputs, outputs, generator.as_deref())?;
            }
            EventKind::License { artifact, license } => {
                let i = self.artifact("artifact", artifact)?;
                let next = self.licenses.len() as u32;
                let l = *self.license_ids.entry(license.clone()).or_insert(next);
                if l == next {
                    self.licenses.push(license.clone());
                }
                self.artifacts[i as usize].license = Some((seq, l));
            }
            EventKind::Release { artifact, access } => {
                let i = self.artifact("artifact", artifact)?;
                self.artifacts[i as usize].release = Some((seq, *access));
            }
            EventKind::Component {
                component,
                assignment,
            } => self.assign(seq, component, assignment)?,
        }
        Ok(())
    }

    fn owner_only(&self, role: Role, what: &str) -> Result<(), RuleError> {
        if role == Role::Owner {
            Ok(())
        } else {
            Err(RuleError {
                reason: Reason::Unauthorized,
                error: FieldError::new(
                    "type",
                    format!("only an owner may {what}; the signer is an appender"),
                ),
            })
        }
    }

    fn produce(
        &mut self,
        seq: u64,
        inputs: &[String],
        outputs: &[String],
        generator: Option<&str>,
    ) -> Result<(), RuleError> {
        let mut parents = Vec::with_capacity(inputs.len() + 1);
        for (n, id) in inputs.iter().enumerate() {
            parents.push(self.artifact(&format!("inputs[{n}]"), id)?);
        }
        if let Some(g) = generator {
            let gi = self.artifact("generator", g)?;
            if self.declared(gi) && self.artifacts[gi as usize].kind != Kind::Weights {
                return Err(rule(
                    "generator",
                    format!("`{g}` is not a model (its kind is not `weights`)"),
                ));
            }
            if !parents.contains(&gi) {
                parents.push(gi);
            }
        }
        let parent_set: HashSet<u32> = parents.iter().copied().collect();
        let mut outs = Vec::with_capacity(outputs.len());
        for (n, id) in outputs.iter().enumerate() {
            let field = format!("outputs[{n}]");
            let o = self.artifact(&field, id)?;
            if let Some(p) = self.artifacts[o as usize].producer {
                return Err(rule(
                    &field,
                    format!("`{id}` was already produced by entry {p}"),
                ));
            }
            if parent_set.contains(&o) {
                return Err(rule(
                    &field,
                    format!("`{id}` cannot be derived from itself (lineage cycle)"),
                ));
            }
            outs.push(o);
        }
        // Only an output that already fed some production can close a cycle;
        // then walk up from the parents looking for it.
        if outs.iter().any(|&o| self.artifacts[o as usize].consumed) {
            let out_set: HashSet<u32> = outs.iter().copied().collect();
            let mut seen = vec![false; self.artifacts.len()];
            let mut stack = parents.clone();
            while let Some(a) = stack.pop() {
                if std::mem::replace(&mut seen[a as usize], true) {
                    continue;
                }
                if let Some(pos) = out_set
                    .contains(&a)
                    .then(|| outs.iter().position(|&o| o == a))
                    .flatten()
                {
                    return Err(rule(
                        &format!("outputs[{pos}]"),
                        format!(
                            "`{}` is already an ancestor of this step's inputs (lineage cycle)",
                            outputs[pos]
                        ),
                    ));
                }
                stack.extend_from_slice(&self.artifacts[a as usize].parents);
            }
        }
        for &p in &parents {
            self.artifacts[p as usize].consumed = true;
        }
        for &o in &outs {
            let a = &mut self.artifacts[o as usize];
            a.producer = Some(seq);
            a.parents = parents.clone().into_boxed_slice();
        }
        Ok(())
    }

    fn assign(
        &mut self,
        seq: u64,
        component: &str,
        assignment: &Assignment,
    ) -> Result<(), RuleError> {
        let name: &'static str = COMPONENTS
            .iter()
            .copied()
            .find(|c| *c == component)
            .ok_or_else(|| rule("component", "not a pipeline component"))?;
        let want = component_kind(name);
        match assignment {
            Assignment::NotApplicable => match self.components.get_mut(name) {
                Some(ComponentState::Artifacts { .. }) => {
                    return Err(rule(
                        "applicable",
                        format!("component `{name}` already has artifacts; it cannot also be not applicable"),
                    ))
                }
                Some(ComponentState::NotApplicable { seqs }) => seqs.push(seq),
                None => {
                    self.components
                        .insert(name.to_string(), ComponentState::NotApplicable { seqs: vec![seq] });
                }
            },
            Assignment::Artifacts(ids) => {
                if matches!(self.components.get(name), Some(ComponentState::NotApplicable { .. })) {
                    return Err(rule(
                        "artifacts",
                        format!("component `{name}` was declared not applicable"),
                    ));
                }
                let mut new = Vec::with_capacity(ids.len());
                for (n, id) in ids.iter().enumerate() {
                    let field = format!("artifacts[{n}]");
                    let i = self.artifact(&field, id)?;
                    let kind = self.artifacts[i as usize].kind;
                    if self.declared(i) && kind != want {
                        return Err(rule(
                            &field,
                            format!(
                                "`{id}` is {} but component `{name}` takes {} artifacts",
                                kind.as_str(),
                                want.as_str()
                            ),
                        ));
                    }
                    new.push(i);
                }
                let entry = self
                    .components
                    .entry(name.to_string())
                    .or_insert(ComponentState::Artifacts {
                        ids: Vec::new(),
                        members: HashSet::new(),
                        seqs: Vec::new(),
                    });
                if let ComponentState::Artifacts { ids, members, seqs } = entry {
                    for i in new {
                        if members.insert(i) {
                            ids.push(i);
                        }
                    }
                    seqs.push(seq);
                }
            }
        }
        Ok(())
    }
}

/// The hash an artifact id is indexed by (SipHash with fixed keys, so
/// the same in every run).
fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// The artifact kind a component takes.
pub(crate) fn component_kind(name: &str) -> Kind {
    if name == "weights" {
        Kind::Weights
    } else if name.ends_with("-code") {
        Kind::Code
    } else {
        Kind::Data
    }
}
