//! The ledger's rules: who may append what, and what the events must agree
//! on (declared artifacts, unique ids, authority over artifacts, component
//! kinds, lineage). The same `State::apply` runs when appending and when
//! verifying, for whole ledgers and partial exports alike.
//!
//! Authority: every artifact has one *holder* key, at first the key that
//! declared it; a `custody` event carrying a `key` passes the artifact to
//! that key. Only the holder and the ledger's owners may hand the artifact
//! over, license it, release it or produce it (name it as an output); only
//! owners may say which artifacts make up a pipeline component. So no
//! appender can change the claims made about another party's artifact, or
//! the release's component map.

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
pub struct ArtifactState {
    pub id: Box<str>,
    pub kind: Kind,
    /// Entry that declared it.
    pub declared: u64,
    /// The key holding authority over it (an index into `State::key_list`),
    /// and the entry that gave it (the declaration, or a `custody` hand-over).
    pub holder: (u32, u64),
    /// Entry (transformation or augmentation) that produced it.
    pub producer: Option<u64>,
    /// Artifacts it was derived from (inputs and generator of its
    /// producer): an index into `State::parent_lists`, shared by all the
    /// outputs of one production, so a production costs its own size once.
    pub parents: Option<u32>,
    /// Latest license (an index into `State::licenses`) and the entry that set it.
    pub license: Option<(u64, u32)>,
    /// Every license it had before the latest one, in order.
    pub earlier_licenses: Vec<(u64, u32)>,
    /// Latest release and the entry that set it.
    pub release: Option<(u64, Access)>,
}

/// What the chain says of a pipeline component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComponentState {
    NotApplicable {
        seqs: Vec<u64>,
    },
    Artifacts {
        ids: Vec<u32>,
        members: HashSet<u32>,
        seqs: Vec<u64>,
    },
}

/// The state a chain's prefix establishes. A writer keeps it, authenticated,
/// beside its entries (`record`) so as not to verify the whole ledger again on
/// every append; a verifier always rebuilds it from the entries.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct State {
    pub name: String,
    keys: HashMap<[u8; 32], Standing>,
    owners: usize,
    /// Genesis, grant and revoke entries so far.
    role_entries: u64,
    /// Keys that hold (or held) artifacts, stored once.
    pub key_list: Vec<[u8; 32]>,
    key_index: HashMap<[u8; 32], u32>,
    /// Artifact ids by a 64-bit hash of the id (the id itself is kept once,
    /// in `artifacts`); ids whose hash is taken go to `collisions`.
    index: HashMap<u64, u32>,
    collisions: HashMap<Box<str>, u32>,
    /// Distinct licenses, stored once.
    pub licenses: Vec<License>,
    license_ids: HashMap<License, u32>,
    pub artifacts: Vec<ArtifactState>,
    /// The parents of each production, stored once.
    pub parent_lists: Vec<Box<[u32]>>,
    pub components: HashMap<String, ComponentState>,
}

/// Why `apply` refused an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub reason: Reason,
    pub error: FieldError,
}

fn rule(field: &str, msg: impl Into<String>) -> RuleError {
    RuleError {
        reason: Reason::RuleViolation,
        error: FieldError::new(field, msg),
    }
}

/// The first 16 hex digits of a key, as messages show keys.
fn short(key: &[u8; 32]) -> String {
    hex::encode(&key[..8])
}

impl State {
    /// Whether `key` may currently append ordinary events.
    pub fn may_append(&self, key: &[u8; 32]) -> Result<(), RuleError> {
        self.role_of(key).map(|_| ())
    }

    /// Genesis, grant and revoke entries so far: what the next entry's
    /// `roles` must say, plus one if it is one of them.
    pub fn roles(&self) -> u64 {
        self.role_entries
    }

    /// Whether `key` is currently an owner.
    pub fn is_owner(&self, key: &[u8; 32]) -> bool {
        self.keys.get(key) == Some(&Standing::Granted(Role::Owner))
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

    /// The index of an artifact id, if declared.
    pub fn lookup(&self, id: &str) -> Option<u32> {
        match self.index.get(&id_hash(id)) {
            Some(&i) if &*self.artifacts[i as usize].id == id => Some(i),
            Some(_) => self.collisions.get(id).copied(),
            None => None,
        }
    }

    fn artifact(&self, field: &str, id: &str) -> Result<u32, RuleError> {
        self.lookup(id).ok_or_else(|| {
            rule(
                field,
                format!("unknown artifact `{id}`; declare it first with an `artifact` event"),
            )
        })
    }

    fn key_slot(&mut self, key: &[u8; 32]) -> u32 {
        if let Some(&i) = self.key_index.get(key) {
            return i;
        }
        let i = self.key_list.len() as u32;
        self.key_list.push(*key);
        self.key_index.insert(*key, i);
        i
    }

    /// The key holding authority over artifact `i`.
    pub fn holder(&self, i: u32) -> &[u8; 32] {
        &self.key_list[self.artifacts[i as usize].holder.0 as usize]
    }

    /// Checks that `signer` (with `role`) holds authority over artifact `i`.
    fn authority(
        &self,
        signer: &[u8; 32],
        role: Role,
        i: u32,
        field: &str,
        what: &str,
    ) -> Result<(), RuleError> {
        if role == Role::Owner || self.holder(i) == signer {
            return Ok(());
        }
        let a = &self.artifacts[i as usize];
        let how = if a.holder.1 == a.declared {
            format!("which declared it at entry {}", a.declared)
        } else {
            format!("to which entry {} handed it over", a.holder.1)
        };
        Err(RuleError {
            reason: Reason::NoAuthority,
            error: FieldError::new(
                field,
                format!(
                    "only the holder of `{}` (key {}..., {how}) or an owner may {what} it; \
                     the signer {}... is neither",
                    a.id,
                    short(self.holder(i)),
                    short(signer)
                ),
            ),
        })
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
            self.role_entries = 1;
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
                self.owner_only(role, "grant roles")?;
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
                self.role_entries += 1;
            }
            EventKind::Revoke { key } => {
                self.owner_only(role, "revoke roles")?;
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
                self.role_entries += 1;
            }
            EventKind::Artifact { id, kind, .. } => {
                if let Some(i) = self.lookup(id) {
                    return Err(rule(
                        "id",
                        format!(
                            "artifact `{id}` was already declared by entry {}",
                            self.artifacts[i as usize].declared
                        ),
                    ));
                }
                let n = u32::try_from(self.artifacts.len())
                    .map_err(|_| rule("id", "too many artifacts"))?;
                let holder = self.key_slot(signer);
                match self.index.entry(id_hash(id)) {
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(n);
                    }
                    std::collections::hash_map::Entry::Occupied(_) => {
                        self.collisions.insert(id.as_str().into(), n);
                    }
                }
                self.artifacts.push(ArtifactState {
                    id: id.as_str().into(),
                    kind: *kind,
                    declared: seq,
                    holder: (holder, seq),
                    producer: None,
                    parents: None,
                    license: None,
                    earlier_licenses: Vec::new(),
                    release: None,
                });
            }
            EventKind::Custody { artifact, key, .. } => {
                let i = self.artifact("artifact", artifact)?;
                self.authority(signer, role, i, "artifact", "hand over")?;
                if let Some(k) = key {
                    if !matches!(self.keys.get(k), Some(Standing::Granted(_))) {
                        return Err(rule(
                            "key",
                            "the new holder's key holds no role in this ledger; grant it one first",
                        ));
                    }
                    let slot = self.key_slot(k);
                    self.artifacts[i as usize].holder = (slot, seq);
                }
            }
            EventKind::Transformation {
                inputs, outputs, ..
            } => {
                self.produce(seq, signer, role, inputs, outputs, None)?;
            }
            EventKind::Augmentation {
                inputs,
                outputs,
                generator,
                ..
            } => {
                self.produce(seq, signer, role, inputs, outputs, generator.as_deref())?;
            }
            EventKind::License { artifact, license } => {
                let i = self.artifact("artifact", artifact)?;
                self.authority(signer, role, i, "artifact", "license")?;
                let next = self.licenses.len() as u32;
                let l = *self.license_ids.entry(license.clone()).or_insert(next);
                if l == next {
                    self.licenses.push(license.clone());
                }
                let a = &mut self.artifacts[i as usize];
                if let Some(before) = a.license {
                    a.earlier_licenses.push(before);
                }
                a.license = Some((seq, l));
            }
            EventKind::Release { artifact, access } => {
                let i = self.artifact("artifact", artifact)?;
                self.authority(signer, role, i, "artifact", "release")?;
                self.artifacts[i as usize].release = Some((seq, *access));
            }
            EventKind::Component {
                component,
                assignment,
            } => {
                self.owner_only(role, "say which artifacts make up a pipeline component")?;
                self.assign(seq, component, assignment)?;
            }
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
        signer: &[u8; 32],
        role: Role,
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
            if self.artifacts[gi as usize].kind != Kind::Weights {
                return Err(rule(
                    "generator",
                    format!("`{g}` is not a model (its kind is not `weights`)"),
                ));
            }
            if !parents.contains(&gi) {
                parents.push(gi);
            }
        }
        // Lineage runs from earlier declarations to later ones, so it can
        // never close a cycle. One pass over the parents finds the latest
        // declared; each output is then checked against it, so a
        // production costs its size, not outputs times parents.
        let parent_set: HashSet<u32> = parents.iter().copied().collect();
        let latest = parents
            .iter()
            .map(|&p| (self.artifacts[p as usize].declared, p))
            .max();
        let mut outs = Vec::with_capacity(outputs.len());
        for (n, id) in outputs.iter().enumerate() {
            let field = format!("outputs[{n}]");
            let o = self.artifact(&field, id)?;
            self.authority(signer, role, o, &field, "produce")?;
            if let Some(p) = self.artifacts[o as usize].producer {
                return Err(rule(
                    &field,
                    format!("`{id}` was already produced by entry {p}"),
                ));
            }
            let declared = self.artifacts[o as usize].declared;
            if parent_set.contains(&o) {
                return Err(rule(
                    &field,
                    format!("`{id}` cannot be derived from itself"),
                ));
            }
            if let Some((latest, p)) = latest.filter(|(d, _)| *d >= declared) {
                // The first parent, in order, declared after the output.
                let (pd, pid) = parents
                    .iter()
                    .map(|&q| &self.artifacts[q as usize])
                    .find(|a| a.declared >= declared)
                    .map_or((latest, &self.artifacts[p as usize].id), |a| {
                        (a.declared, &a.id)
                    });
                return Err(rule(
                    &field,
                    format!(
                        "`{id}` (declared by entry {declared}) cannot be derived from `{pid}` \
                         (declared later, by entry {pd}): declare an artifact's sources before it"
                    ),
                ));
            }
            outs.push(o);
        }
        let list = u32::try_from(self.parent_lists.len())
            .map_err(|_| rule("outputs", "too many productions"))?;
        self.parent_lists.push(parents.into_boxed_slice());
        for &o in &outs {
            let a = &mut self.artifacts[o as usize];
            a.producer = Some(seq);
            a.parents = Some(list);
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
        let mut new = Vec::new();
        for (n, id) in assignment.artifacts().iter().enumerate() {
            let field = format!("artifacts[{n}]");
            let i = self.artifact(&field, id)?;
            let kind = self.artifacts[i as usize].kind;
            if kind != want {
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
        let current = self.components.get_mut(name);
        match (assignment, current) {
            (Assignment::NotApplicable, Some(ComponentState::NotApplicable { seqs })) => {
                seqs.push(seq)
            }
            // Not applicable replaces whatever was assigned: an owner's correction.
            (Assignment::NotApplicable, _) => {
                self.components.insert(
                    name.to_string(),
                    ComponentState::NotApplicable { seqs: vec![seq] },
                );
            }
            (Assignment::Artifacts(_), Some(ComponentState::Artifacts { ids, members, seqs })) => {
                for i in new {
                    if members.insert(i) {
                        ids.push(i);
                    }
                }
                seqs.push(seq);
            }
            // Adding to a component said to be not applicable, or replacing:
            // these artifacts, and only these, make it up from now on.
            (_, _) => {
                let mut ids = Vec::with_capacity(new.len());
                let mut members = HashSet::with_capacity(new.len());
                for i in new {
                    if members.insert(i) {
                        ids.push(i);
                    }
                }
                self.components.insert(
                    name.to_string(),
                    ComponentState::Artifacts {
                        ids,
                        members,
                        seqs: vec![seq],
                    },
                );
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
pub fn component_kind(name: &str) -> Kind {
    if name == "weights" {
        Kind::Weights
    } else if name.ends_with("-code") {
        Kind::Code
    } else {
        Kind::Data
    }
}
