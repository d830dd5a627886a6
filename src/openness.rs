//! Openness levels (Eiras et al. 2024): for each of the twelve pipeline
//! components, a level derived from the verified chain alone, with the
//! entries it rests on.
//!
//! Rules: a component never named is `?`; one declared not applicable is
//! `N/A`; otherwise each of its artifacts gets a level from its latest
//! release and license, and the component takes the strictest, or `?` if
//! any artifact's is unknown. A public artifact scores the points of its
//! effective license terms: its own terms, ANDed with those of every parent
//! (inputs, and the generator of an augmentation) whose effective terms do
//! not let derivatives take another license. An artifact with no license
//! of its own passes its parents' restrictions on unchanged.

use crate::event::{Access, Kind, License, Terms, COMPONENTS};
use crate::registry::{and, points, registry};
use crate::rules::{component_kind, ComponentState, State};
use crate::verify::VerifiedLedger;
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// A component's or an artifact's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Nothing recorded says how it is released.
    Unknown,
    /// The stage does not exist in this pipeline.
    NotApplicable,
    /// C1-C5 for code, D1-D5 for data and weights.
    Graded {
        /// Code or data scale.
        kind: Kind,
        /// 1 to 5.
        level: u8,
    },
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Level::Unknown => f.write_str("?"),
            Level::NotApplicable => f.write_str("N/A"),
            Level::Graded {
                kind: Kind::Code,
                level,
            } => write!(f, "C{level}"),
            Level::Graded { level, .. } => write!(f, "D{level}"),
        }
    }
}

/// One artifact of a component, and how its level was reached.
#[derive(Debug, Clone)]
pub struct ArtifactLevel {
    /// The artifact id.
    pub id: String,
    /// Its level.
    pub level: Level,
    /// Its latest release, if any.
    pub access: Option<Access>,
    /// Its latest license as recorded (expression or inline name).
    pub license: Option<String>,
    /// The license's display name, as tables show it.
    pub license_name: Option<String>,
    /// Points of its own license.
    pub declared_points: Option<u8>,
    /// Points after the restrictions of its sources.
    pub effective_points: Option<u8>,
    /// Sequence numbers of the entries the level rests on.
    pub evidence: Vec<u64>,
}

/// One component's level.
#[derive(Debug, Clone)]
pub struct ComponentLevel {
    /// The component's name (one of [`COMPONENTS`]).
    pub name: &'static str,
    /// Its level.
    pub level: Level,
    /// The license of the artifact that set the level, when public.
    pub license_name: Option<String>,
    /// Its artifacts.
    pub artifacts: Vec<ArtifactLevel>,
    /// Entries declaring the component (assignments or not applicable).
    pub evidence: Vec<u64>,
    /// Warnings: unknown artifacts, public without license, license conflicts.
    pub warnings: Vec<String>,
}

/// The openness of one verified ledger.
#[derive(Debug, Clone)]
pub struct Openness {
    /// The ledger's name.
    pub ledger: String,
    /// Its head hash.
    pub head: crate::Hash,
    /// Its number of entries.
    pub entries: u64,
    /// The license registry used (`name/version`).
    pub registry: String,
    /// The twelve components, in table order.
    pub components: Vec<ComponentLevel>,
    /// Entries withheld, for a partial export (levels then rest on the rest).
    pub withheld: u64,
}

/// Derives the openness of every component of a verified ledger.
pub fn openness(ledger: &VerifiedLedger) -> Openness {
    let state = &ledger.state;
    let mut lineage = Lineage::new(state);
    let components = COMPONENTS
        .iter()
        .map(|&name| component(state, &mut lineage, name))
        .collect();
    Openness {
        ledger: ledger.name.clone(),
        head: ledger.head,
        entries: ledger.entries,
        registry: registry().label(),
        components,
        withheld: ledger.withheld,
    }
}

fn component(state: &State, lineage: &mut Lineage<'_>, name: &'static str) -> ComponentLevel {
    let mut out = ComponentLevel {
        name,
        level: Level::Unknown,
        license_name: None,
        artifacts: Vec::new(),
        evidence: Vec::new(),
        warnings: Vec::new(),
    };
    let (ids, seqs) = match state.components.get(name) {
        None => return out,
        Some(ComponentState::NotApplicable { seqs }) => {
            out.level = Level::NotApplicable;
            out.evidence = seqs.clone();
            return out;
        }
        Some(ComponentState::Artifacts { ids, seqs, .. }) => (ids, seqs),
    };
    out.evidence = seqs.clone();
    let scale = component_kind(name);
    let mut strictest: Option<(u8, Option<String>)> = None;
    let mut unknown = false;
    for &i in ids {
        let a = artifact(state, lineage, i, scale, seqs, &mut out.warnings);
        match a.level {
            Level::Graded { level, .. } => {
                if strictest.as_ref().is_none_or(|(l, _)| level < *l) {
                    strictest = Some((level, a.license_name.clone()));
                }
            }
            _ => unknown = true,
        }
        out.artifacts.push(a);
    }
    if unknown {
        out.level = Level::Unknown;
    } else if let Some((level, license)) = strictest {
        out.level = Level::Graded { kind: scale, level };
        out.license_name = license;
    }
    out
}

fn artifact(
    state: &State,
    lineage: &mut Lineage<'_>,
    i: u32,
    scale: Kind,
    component_seqs: &[u64],
    warnings: &mut Vec<String>,
) -> ArtifactLevel {
    let a = &state.artifacts[i as usize];
    let mut evidence: BTreeSet<u64> = component_seqs.iter().copied().collect();
    let mut out = ArtifactLevel {
        id: a.id.to_string(),
        level: Level::Unknown,
        access: a.release.as_ref().map(|r| r.1),
        license: None,
        license_name: None,
        declared_points: None,
        effective_points: None,
        evidence: Vec::new(),
    };
    let declared = match a.license.map(|(seq, l)| (seq, &state.licenses[l as usize])) {
        Some((seq, lic)) => {
            out.license = Some(match lic {
                License::Spdx(s) => s.clone(),
                License::Inline { name, .. } => name.clone(),
            });
            out.license_name = Some(display_name(lic));
            match declared_terms(lic) {
                Ok(t) => {
                    out.declared_points = Some(points(&t));
                    Some((seq, t))
                }
                Err(id) => {
                    warnings.push(format!(
                        "{}: license `{id}` is not in the license registry ({}); its level is unknown",
                        a.id,
                        registry().label()
                    ));
                    evidence.insert(seq);
                    out.evidence = evidence.into_iter().collect();
                    return out;
                }
            }
        }
        None => None,
    };
    let Some((release_seq, access)) = a.release else {
        warnings.push(format!(
            "{}: no release event, so its level is unknown",
            a.id
        ));
        out.evidence = evidence.into_iter().collect();
        return out;
    };
    evidence.insert(release_seq);
    let level = match access {
        Access::None => 1,
        Access::PaidApi if scale == Kind::Code => 1,
        Access::PaidApi => 2,
        Access::Public => {
            let inherited = lineage.inherited(i);
            if let Some(inh) = &inherited {
                evidence.extend(inh.evidence.iter().copied());
            }
            let effective = match (&declared, &inherited) {
                (Some((seq, own)), Some(inh)) => {
                    evidence.insert(*seq);
                    let eff = and(own, &inh.terms);
                    if points(&eff) < points(own) {
                        warnings.push(format!(
                            "license-conflict: {} is licensed for {} points but its sources allow {}: \
                             restricted by {}",
                            a.id,
                            points(own),
                            points(&eff),
                            inh.responsible.join(", ")
                        ));
                    }
                    eff
                }
                (Some((seq, own)), None) => {
                    evidence.insert(*seq);
                    *own
                }
                (None, _) => {
                    warnings.push(format!(
                        "{}: public without a license event: no rights were granted (0 points)",
                        a.id
                    ));
                    Terms {
                        research: false,
                        commercial: false,
                        modify: false,
                        copyright_derivative: false,
                        other_license_derivative: false,
                    }
                }
            };
            let p = points(&effective);
            out.effective_points = Some(p);
            match (scale, p) {
                (Kind::Code, 0..=1) => 2,
                (Kind::Code, 2..=3) => 3,
                (Kind::Code, 4) => 4,
                (Kind::Code, _) => 5,
                (_, 0..=3) => 3,
                (_, 4) => 4,
                (_, _) => 5,
            }
        }
    };
    out.level = Level::Graded { kind: scale, level };
    if access != Access::Public {
        // Only a public release's level depends on its license.
        out.license_name = None;
    }
    out.evidence = evidence.into_iter().collect();
    out
}

fn declared_terms(l: &License) -> Result<Terms, String> {
    match l {
        License::Inline { terms, .. } => Ok(*terms),
        License::Spdx(s) => {
            let expr = crate::license::parse(s)?;
            registry().terms(&expr)
        }
    }
}

fn display_name(l: &License) -> String {
    match l {
        License::Inline { name, .. } => name.clone(),
        License::Spdx(s) => match registry().get(s.trim().trim_end_matches('+')) {
            Some(r) => r.name.clone(),
            None => s.clone(),
        },
    }
}

/// What an artifact's sources impose on it.
#[derive(Debug, Clone)]
struct Inherited {
    terms: Terms,
    responsible: Vec<String>,
    evidence: BTreeSet<u64>,
}

/// Restrictions passed down lineage, computed once per artifact.
struct Lineage<'a> {
    state: &'a State,
    /// What each artifact passes on to its children: its effective terms,
    /// or what it inherited when it has no license of its own.
    passing: HashMap<u32, Option<Inherited>>,
    inherited: HashMap<u32, Option<Inherited>>,
}

impl<'a> Lineage<'a> {
    fn new(state: &'a State) -> Self {
        Lineage {
            state,
            passing: HashMap::new(),
            inherited: HashMap::new(),
        }
    }

    /// The restrictions `i` inherits from its parents.
    fn inherited(&mut self, i: u32) -> Option<Inherited> {
        // Iterative post-order over the (acyclic) lineage.
        let mut stack = vec![(i, false)];
        while let Some((n, expanded)) = stack.pop() {
            if self.inherited.contains_key(&n) {
                continue;
            }
            let parents = &self.state.artifacts[n as usize].parents;
            if !expanded {
                stack.push((n, true));
                for &p in parents {
                    if !self.passing.contains_key(&p) {
                        stack.push((p, false));
                    }
                }
                continue;
            }
            let a = &self.state.artifacts[n as usize];
            let mut inh: Option<Inherited> = None;
            for &p in &a.parents {
                let Some(Some(pass)) = self.passing.get(&p) else {
                    continue;
                };
                if pass.terms.other_license_derivative {
                    continue;
                }
                let mut ev = pass.evidence.clone();
                if let Some(seq) = a.producer {
                    ev.insert(seq);
                }
                let name = &self.state.artifacts[p as usize].id;
                inh = Some(match inh {
                    None => Inherited {
                        terms: pass.terms,
                        responsible: vec![name.to_string()],
                        evidence: ev,
                    },
                    Some(mut x) => {
                        x.terms = and(&x.terms, &pass.terms);
                        x.responsible.push(name.to_string());
                        x.evidence.extend(ev);
                        x
                    }
                });
            }
            let own = a.license.and_then(|(seq, l)| {
                declared_terms(&self.state.licenses[l as usize])
                    .ok()
                    .map(|t| (seq, t))
            });
            let pass = match (own, &inh) {
                (Some((seq, t)), Some(x)) => Some(Inherited {
                    terms: and(&t, &x.terms),
                    responsible: x.responsible.clone(),
                    evidence: x.evidence.iter().copied().chain([seq]).collect(),
                }),
                (Some((seq, t)), None) => Some(Inherited {
                    terms: t,
                    responsible: Vec::new(),
                    evidence: [seq].into_iter().collect(),
                }),
                (None, x) => x.clone(),
            };
            self.passing.insert(n, pass);
            self.inherited.insert(n, inh);
        }
        self.inherited.get(&i).cloned().flatten()
    }
}
