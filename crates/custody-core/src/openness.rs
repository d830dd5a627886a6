//! Openness levels (Eiras et al. 2024): for each of the twelve pipeline
//! components, a level derived from the verified chain alone, with every
//! entry it rests on.
//!
//! Rules (`schemas/FORMAT.md` §16): a component never named is `?`; one
//! declared not applicable is `N/A`; otherwise each of its artifacts gets a
//! level from its latest release and license, and the component takes the
//! strictest, or `?` if any artifact's is unknown. A public artifact scores
//! the points of its effective license terms: its own terms, ANDed with
//! what its sources pass on. A source passes on its own terms ANDed with
//! what it inherited, unless those let derivatives take another license; a
//! license id outside the registry anywhere on the way makes the result
//! unknown, never unrestricted.
//!
//! Cost: one pass over the artifacts in declaration order (which the rules
//! make a topological order of the lineage), a bounded summary per
//! artifact, and one walk of each component's lineage for its evidence:
//! time and memory linear in the ledger.

use crate::disclosure::Disclosure;
use crate::event::{Access, Kind, License, Terms, COMPONENTS};
use crate::registry::{and, points, registry};
use crate::rules::{component_kind, ComponentState, State};
use crate::verify::VerifiedLedger;
use std::fmt;

/// Sources named per withheld right, at most.
const MAX_SOURCES: usize = 3;

/// The five rights, in the registry's order, as they are named in terms.
pub const CRITERIA: [&str; 5] = [
    "research",
    "commercial",
    "modify",
    "copyright_derivative",
    "other_license_derivative",
];

fn rights(t: &Terms) -> [bool; 5] {
    [
        t.research,
        t.commercial,
        t.modify,
        t.copyright_derivative,
        t.other_license_derivative,
    ]
}

const NONE: Terms = Terms {
    research: false,
    commercial: false,
    modify: false,
    copyright_derivative: false,
    other_license_derivative: false,
};

/// A component's or an artifact's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Nothing recorded says how it is released, or its license is unknown.
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

/// A license as an artifact's latest `license` entry gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseInfo {
    /// The SPDX expression as written; `None` for an inline license.
    pub id: Option<String>,
    /// Its display name: the registry's name for a single registry id, the
    /// expression otherwise, or the inline license's own name.
    pub name: String,
    /// Whether the ledger itself states its terms (an inline license): its
    /// name is only a name, and its terms are no registry's.
    pub self_declared: bool,
    /// For a self-declared license, the registry license whose id or name
    /// its name equals or closely resembles.
    pub resembles: Option<String>,
    /// Points of its terms, when known.
    pub points: Option<u8>,
    /// Its terms, when known.
    pub terms: Option<Terms>,
    /// The `license` entry.
    pub entry: u64,
}

impl LicenseInfo {
    /// The name as tables show it: self-declared licenses say so.
    pub fn label(&self) -> String {
        if self.self_declared {
            format!("{}, self-declared", self.name)
        } else {
            self.name.clone()
        }
    }
}

/// A source whose license withholds rights an artifact's own license grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    /// The source artifact (an ancestor).
    pub artifact: String,
    /// Its license; `None` for a source nobody licensed, which grants nothing.
    pub license: Option<LicenseInfo>,
    /// The rights it withholds (of [`CRITERIA`]) that the artifact's own
    /// license would grant.
    pub withholds: Vec<&'static str>,
    /// Why, in the registry's words, for each right withheld (empty for a
    /// self-declared license).
    pub reasons: Vec<String>,
}

/// What set a component's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// No `component` entry names it.
    NotAssigned,
    /// Declared not applicable.
    NotApplicable,
    /// An artifact's level is unknown: no release, or a license outside
    /// the registry on it or its lineage.
    Unknown,
    /// An artifact is not released.
    NotReleased,
    /// An artifact is only behind a paid API.
    PaidApi,
    /// Public without a license: no rights granted.
    NoLicense,
    /// Public under its own license, which withholds rights.
    License,
    /// Public, but its sources' licenses withhold rights its own grants.
    Lineage,
    /// Public under a license granting all five rights, nothing upstream
    /// restricting it: the top level.
    Unrestricted,
}

impl Cause {
    /// Its name in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::NotAssigned => "not-assigned",
            Cause::NotApplicable => "not-applicable",
            Cause::Unknown => "unknown",
            Cause::NotReleased => "not-released",
            Cause::PaidApi => "paid-api",
            Cause::NoLicense => "no-license",
            Cause::License => "license",
            Cause::Lineage => "lineage",
            Cause::Unrestricted => "unrestricted",
        }
    }
}

/// A right withheld, by whom and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withheld {
    /// The right (one of [`CRITERIA`]).
    pub right: &'static str,
    /// The artifact whose license withholds it (the component's artifact
    /// itself, or a source on its lineage).
    pub artifact: String,
    /// That license; `None` for a source nobody licensed.
    pub license: Option<LicenseInfo>,
    /// Why, in the registry's words, or the right's plain meaning.
    pub reason: String,
}

/// Why a component has its level, for a person: one sentence, and the
/// rights withheld with their reasons.
#[derive(Debug, Clone)]
pub struct Because {
    /// What set the level.
    pub cause: Cause,
    /// The artifact that set it, when one did.
    pub artifact: Option<String>,
    /// The rights withheld (public artifacts).
    pub withheld: Vec<Withheld>,
    /// The explanation in words, for a model card. Not escaped: it quotes
    /// ledger text.
    pub text: String,
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
    /// Its latest license, if any.
    pub license: Option<LicenseInfo>,
    /// Points of its own license.
    pub declared_points: Option<u8>,
    /// Points after the restrictions of its sources (public artifacts).
    pub effective_points: Option<u8>,
    /// The sources that restricted it.
    pub restricted_by: Vec<Restriction>,
    /// Its own entries the level rests on (declaration, hand-over, producer,
    /// license, release); its sources' are in the component's evidence.
    pub evidence: Vec<u64>,
    /// When its level is unknown, why.
    pub unknown_because: Option<String>,
}

/// One component's level.
#[derive(Debug, Clone)]
pub struct ComponentLevel {
    /// The component's name (one of [`COMPONENTS`]).
    pub name: &'static str,
    /// Its level.
    pub level: Level,
    /// The license of the artifact that set the level, when public.
    pub license: Option<LicenseInfo>,
    /// Its artifacts.
    pub artifacts: Vec<ArtifactLevel>,
    /// Its artifacts whose level is unknown.
    pub unknown_artifacts: Vec<String>,
    /// Every entry the level rests on: the component events, and the
    /// declaration, hand-overs, producing entry, license and release of each
    /// of its artifacts and of all their sources.
    pub evidence: Vec<u64>,
    /// For a partial export: whether the level could depend on withheld
    /// entries (the signed selectors do not cover this component).
    pub may_depend_on_withheld: bool,
    /// Warnings, for a person.
    pub warnings: Vec<String>,
    /// Why it has its level.
    pub because: Because,
}

/// The openness of one verified ledger.
#[derive(Debug, Clone)]
pub struct Openness {
    /// The ledger's name.
    pub name: String,
    /// The ledger id.
    pub ledger: crate::Hash,
    /// The genesis (first owner) key.
    pub owner: [u8; 32],
    /// Whether the caller pinned that key.
    pub pinned: bool,
    /// Its head hash.
    pub head: crate::Hash,
    /// Its number of entries.
    pub entries: u64,
    /// The license registry used (`name/version`).
    pub registry: String,
    /// The twelve components, in table order.
    pub components: Vec<ComponentLevel>,
    /// Entries withheld, for a partial export.
    pub withheld: u64,
    /// For a partial export, what its publisher signed.
    pub disclosure: Option<Disclosure>,
}

/// What an artifact's own latest license says.
#[derive(Clone)]
enum Own {
    None,
    Known(Terms),
    /// An id outside the registry.
    Unknown(String),
}

/// What an artifact passes on to what is derived from it.
#[derive(Clone)]
enum Pass {
    /// Nothing restricts.
    Free,
    /// These rights, with, for each withheld right, sources that withhold it.
    Terms(Terms, Box<[Vec<u32>; 5]>),
    /// Unknown: a license id outside the registry at this artifact.
    Unknown(u32, String),
}

fn pass_and(a: Pass, b: &Pass) -> Pass {
    match (a, b) {
        (u @ Pass::Unknown(..), _) => u,
        (_, u @ Pass::Unknown(..)) => u.clone(),
        (Pass::Free, x) => x.clone(),
        (x, Pass::Free) => x,
        (Pass::Terms(t1, mut s1), Pass::Terms(t2, s2)) => {
            let t = and(&t1, t2);
            for r in 0..5 {
                for &src in &s2[r] {
                    if s1[r].len() < MAX_SOURCES && !s1[r].contains(&src) {
                        s1[r].push(src);
                    }
                }
            }
            Pass::Terms(t, s1)
        }
    }
}

thread_local! {
    /// What each inline license of the ledger being read resembles,
    /// computed once per license: a long name is costly to compare, and a
    /// license is described once per artifact it restricts.
    static RESEMBLES: std::cell::RefCell<std::collections::HashMap<u32, Option<String>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn resembles(l: u32, name: &str) -> Option<String> {
    RESEMBLES.with(|c| {
        c.borrow_mut()
            .entry(l)
            .or_insert_with(|| registry().confusable(name).map(|r| r.id.clone()))
            .clone()
    })
}

/// The registry entry of a single license id, as written: `GPL-2.0+` is
/// its own entry ("or later"), not `GPL-2.0`'s; a `+` on an id the
/// registry lists only without it falls back to that one.
fn registry_entry(id: &str) -> Option<&'static crate::registry::RegistryLicense> {
    let id = id.trim();
    registry()
        .get(id)
        .or_else(|| registry().get(id.trim_end_matches('+')))
}

fn license_info(state: &State, seq: u64, l: u32) -> LicenseInfo {
    let lic = &state.licenses[l as usize];
    match lic {
        License::Inline { name, terms } => LicenseInfo {
            id: None,
            name: name.clone(),
            self_declared: true,
            resembles: resembles(l, name),
            points: Some(points(terms)),
            terms: Some(*terms),
            entry: seq,
        },
        License::Spdx(s) => LicenseInfo {
            id: Some(s.clone()),
            name: match registry_entry(s) {
                Some(r) => r.name.clone(),
                None => s.clone(),
            },
            self_declared: false,
            resembles: None,
            points: own_terms(lic).ok().map(|t| points(&t)),
            terms: own_terms(lic).ok(),
            entry: seq,
        },
    }
}

fn own_terms(l: &License) -> Result<Terms, String> {
    match l {
        License::Inline { terms, .. } => Ok(*terms),
        License::Spdx(s) => {
            let expr = crate::license::parse(s)?;
            registry().terms(&expr)
        }
    }
}

fn own(state: &State, i: u32) -> Own {
    match state.artifacts[i as usize].license {
        None => Own::None,
        Some((_, l)) => match own_terms(&state.licenses[l as usize]) {
            Ok(t) => Own::Known(t),
            Err(id) => Own::Unknown(id),
        },
    }
}

/// Restrictions along lineage: one bounded summary per artifact, and what
/// each production's outputs inherit, computed once per production.
struct Lineage {
    /// What the outputs of each parent list inherit.
    inherited: Vec<Pass>,
}

impl Lineage {
    fn new(state: &State) -> Lineage {
        let mut passing: Vec<Pass> = Vec::with_capacity(state.artifacts.len());
        let mut inherited: Vec<Option<Pass>> = vec![None; state.parent_lists.len()];
        // Declaration order is a topological order: every parent was
        // declared before what was derived from it.
        for (i, a) in state.artifacts.iter().enumerate() {
            let i = i as u32;
            let inh = match a.parents {
                None => Pass::Free,
                Some(l) => inherited[l as usize]
                    .get_or_insert_with(|| inherit(&state.parent_lists[l as usize], &passing))
                    .clone(),
            };
            let p = match own(state, i) {
                Own::Unknown(id) => Pass::Unknown(i, id),
                // A source nobody licensed grants nothing: what is derived
                // from it is restricted by it. A derived artifact without a
                // license of its own passes on what it inherited.
                Own::None if a.parents.is_none() => {
                    Pass::Terms(NONE, Box::new(std::array::from_fn(|_| vec![i])))
                }
                Own::None => inh,
                Own::Known(t) => {
                    let mut sources: Box<[Vec<u32>; 5]> = Box::default();
                    for (r, granted) in rights(&t).into_iter().enumerate() {
                        if !granted {
                            sources[r].push(i);
                        }
                    }
                    pass_and(Pass::Terms(t, sources), &inh)
                }
            };
            passing.push(p);
        }
        // A list no artifact was reached through (cannot happen: every list
        // has outputs) inherits nothing.
        let inherited = inherited
            .into_iter()
            .map(|x| x.unwrap_or(Pass::Free))
            .collect();
        Lineage { inherited }
    }

    /// What artifact `i` inherits from its parents.
    fn inherited(&self, state: &State, i: u32) -> Pass {
        match state.artifacts[i as usize].parents {
            None => Pass::Free,
            Some(l) => self.inherited[l as usize].clone(),
        }
    }
}

/// The AND of what `parents` pass on (whose summaries are known).
fn inherit(parents: &[u32], passing: &[Pass]) -> Pass {
    let mut acc = Pass::Free;
    for &p in parents {
        let Some(pass) = passing.get(p as usize) else {
            continue;
        };
        // A source whose terms let derivatives take another license
        // imposes nothing on them.
        if let Pass::Terms(t, _) = pass {
            if t.other_license_derivative {
                continue;
            }
        }
        acc = pass_and(acc, pass);
    }
    acc
}

/// Derives the openness of every component of a verified ledger.
pub fn openness(ledger: &VerifiedLedger) -> Openness {
    let state = &ledger.state;
    RESEMBLES.with(|c| c.borrow_mut().clear());
    let lineage = Lineage::new(state);
    let mut seen = Seen::new(state);
    let components = COMPONENTS
        .iter()
        .map(|&name| {
            let mut c = component(state, &lineage, &mut seen, name);
            if ledger.withheld > 0 {
                c.may_depend_on_withheld = match &ledger.disclosure {
                    Some(d) => !d.covers(name),
                    None => true,
                };
                if c.may_depend_on_withheld {
                    c.warnings.push(format!(
                        "partial export: {} of {} entries are withheld and the publisher's selectors \
                         do not cover this component, so its level may rest on entries not shown",
                        ledger.withheld, ledger.entries
                    ));
                }
            }
            c
        })
        .collect();
    RESEMBLES.with(|c| c.borrow_mut().clear());
    Openness {
        name: ledger.name.clone(),
        ledger: ledger.id,
        owner: ledger.owner,
        pinned: ledger.pinned,
        head: ledger.head,
        entries: ledger.entries,
        registry: registry().label(),
        components,
        withheld: ledger.withheld,
        disclosure: ledger.disclosure.clone(),
    }
}

fn component(
    state: &State,
    lineage: &Lineage,
    seen: &mut Seen,
    name: &'static str,
) -> ComponentLevel {
    let mut out = ComponentLevel {
        name,
        level: Level::Unknown,
        license: None,
        artifacts: Vec::new(),
        unknown_artifacts: Vec::new(),
        evidence: Vec::new(),
        may_depend_on_withheld: false,
        warnings: Vec::new(),
        because: Because {
            cause: Cause::NotAssigned,
            artifact: None,
            withheld: Vec::new(),
            text: "no entry says which artifacts make up this component".into(),
        },
    };
    let (ids, seqs) = match state.components.get(name) {
        None => return out,
        Some(ComponentState::NotApplicable { seqs }) => {
            out.level = Level::NotApplicable;
            out.evidence = seqs.clone();
            out.because = Because {
                cause: Cause::NotApplicable,
                artifact: None,
                withheld: Vec::new(),
                text: "the owner declared that this pipeline has no such component".into(),
            };
            return out;
        }
        Some(ComponentState::Artifacts { ids, seqs, .. }) => (ids, seqs),
    };
    let scale = component_kind(name);
    let mut strictest: Option<(u8, Option<LicenseInfo>, usize)> = None;
    let mut unknown: Option<usize> = None;
    for &i in ids {
        let a = artifact(state, lineage, i, scale, &mut out.warnings);
        match a.level {
            Level::Graded { level, .. } => {
                if strictest.as_ref().is_none_or(|(l, _, _)| level < *l) {
                    let lic = if a.access == Some(Access::Public) {
                        a.license.clone()
                    } else {
                        None
                    };
                    strictest = Some((level, lic, out.artifacts.len()));
                }
            }
            _ => {
                unknown.get_or_insert(out.artifacts.len());
                out.unknown_artifacts.push(a.id.clone());
            }
        }
        out.artifacts.push(a);
    }
    if let Some(k) = unknown {
        out.level = Level::Unknown;
        let a = &out.artifacts[k];
        out.because = Because {
            cause: Cause::Unknown,
            artifact: Some(a.id.clone()),
            withheld: Vec::new(),
            text: format!(
                "`{}`: {}",
                a.id,
                a.unknown_because
                    .as_deref()
                    .unwrap_or("its level is unknown")
            ),
        };
    } else if let Some((level, license, k)) = strictest {
        out.level = Level::Graded { kind: scale, level };
        out.license = license;
        out.because = explain(&out.artifacts[k], scale);
    }
    out.evidence = evidence(state, ids, seqs, seen, &mut out.warnings);
    out
}

/// Every entry the component's level rests on: a walk of its lineage,
/// each artifact and each production's parent list expanded once.
fn evidence(
    state: &State,
    ids: &[u32],
    component_seqs: &[u64],
    seen: &mut Seen,
    warnings: &mut Vec<String>,
) -> Vec<u64> {
    let mut ev: Vec<u64> = component_seqs.to_vec();
    let mut stack: Vec<u32> = ids.to_vec();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen.artifacts[i as usize], true) {
            continue;
        }
        seen.touched.push(i);
        let a = &state.artifacts[i as usize];
        ev.push(a.declared);
        ev.push(a.holder.1);
        ev.extend(a.producer);
        ev.extend(a.license.map(|l| l.0));
        ev.extend(a.release.map(|r| r.0));
        if let Some((seq, l)) = a.license {
            // Right by right, not by points: a license of fewer points can
            // still grant what an earlier one withheld (and so stop passing
            // a restriction on to what is derived).
            if let Ok(now) = own_terms(&state.licenses[l as usize]) {
                if let Some((pseq, pl, gained)) = widened(state, &a.earlier_licenses, &now) {
                    ev.push(pseq);
                    warnings.push(format!(
                        "{}: relicensed from {} (entry {pseq}) to {} (entry {seq}), which grants what \
                         the earlier license withheld: {}",
                        a.id,
                        license_info(state, pseq, pl).label(),
                        license_info(state, seq, l).label(),
                        gained
                            .iter()
                            .map(|r| right_name(r))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        if let Some(l) = a.parents {
            if !std::mem::replace(&mut seen.lists[l as usize], true) {
                seen.touched_lists.push(l);
                stack.extend(state.parent_lists[l as usize].iter().copied());
            }
        }
    }
    seen.reset();
    ev.sort_unstable();
    ev.dedup();
    ev
}

/// The earlier license withholding the most of what `now` grants (the
/// first of those), with those rights: what a relicensing widened.
fn widened(
    state: &State,
    earlier: &[(u64, u32)],
    now: &Terms,
) -> Option<(u64, u32, Vec<&'static str>)> {
    let now = rights(now);
    let mut best: Option<(u64, u32, Vec<&'static str>)> = None;
    for &(seq, l) in earlier {
        if let Ok(t) = own_terms(&state.licenses[l as usize]) {
            let before = rights(&t);
            let gained: Vec<&'static str> = (0..5)
                .filter(|&r| now[r] && !before[r])
                .map(|r| CRITERIA[r])
                .collect();
            if !gained.is_empty() && best.as_ref().is_none_or(|b| gained.len() > b.2.len()) {
                best = Some((seq, l, gained));
            }
        }
    }
    best
}

/// A right's name in a sentence.
fn right_name(right: &str) -> &'static str {
    match right {
        "research" => "use for research",
        "commercial" => "commercial use",
        "modify" => "modification",
        "copyright_derivative" => "copyright over derivatives",
        _ => "another license for derivatives",
    }
}

/// Marks for the lineage walks, cleared after each component.
struct Seen {
    artifacts: Vec<bool>,
    lists: Vec<bool>,
    touched: Vec<u32>,
    touched_lists: Vec<u32>,
}

impl Seen {
    fn new(state: &State) -> Seen {
        Seen {
            artifacts: vec![false; state.artifacts.len()],
            lists: vec![false; state.parent_lists.len()],
            touched: Vec::new(),
            touched_lists: Vec::new(),
        }
    }

    fn reset(&mut self) {
        for i in self.touched.drain(..) {
            self.artifacts[i as usize] = false;
        }
        for l in self.touched_lists.drain(..) {
            self.lists[l as usize] = false;
        }
    }
}

fn artifact(
    state: &State,
    lineage: &Lineage,
    i: u32,
    scale: Kind,
    warnings: &mut Vec<String>,
) -> ArtifactLevel {
    let a = &state.artifacts[i as usize];
    let mut evidence: Vec<u64> = vec![a.declared, a.holder.1];
    evidence.extend(a.producer);
    let license = a.license.map(|(seq, l)| license_info(state, seq, l));
    let mut out = ArtifactLevel {
        id: a.id.to_string(),
        level: Level::Unknown,
        access: a.release.as_ref().map(|r| r.1),
        license: license.clone(),
        declared_points: license.as_ref().and_then(|l| l.points),
        effective_points: None,
        restricted_by: Vec::new(),
        evidence: Vec::new(),
        unknown_because: None,
    };
    if let Some(l) = &license {
        evidence.push(l.entry);
        if let Some(r) = &l.resembles {
            warnings.push(format!(
                "{}: its self-declared license `{}` is named like the registry license `{r}` but is \
                 not it: its terms are the ledger's own",
                a.id, l.name
            ));
        }
    }
    evidence.extend(a.release.map(|r| r.0));
    evidence.sort_unstable();
    evidence.dedup();
    out.evidence = evidence;
    let own = own(state, i);
    if let Own::Unknown(id) = &own {
        warnings.push(format!(
            "{}: license `{id}` is not in the license registry ({}); its level is unknown",
            a.id,
            registry().label()
        ));
        out.unknown_because = Some(format!(
            "its license `{id}` is not in the license registry, so what it grants is unknown"
        ));
        return out;
    }
    let Some((_, access)) = a.release else {
        warnings.push(format!(
            "{}: no release event, so its level is unknown",
            a.id
        ));
        out.unknown_because = Some("no entry says whether or how it is released".into());
        return out;
    };
    let level = match access {
        Access::None => 1,
        Access::PaidApi if scale == Kind::Code => 1,
        Access::PaidApi => 2,
        Access::Public => {
            let inherited = lineage.inherited(state, i);
            if let Pass::Unknown(src, id) = &inherited {
                warnings.push(format!(
                    "{}: its source `{}` has license `{id}`, which is not in the license registry ({}), \
                     so what it allows derivatives is unknown and so is this level",
                    a.id,
                    state.artifacts[*src as usize].id,
                    registry().label()
                ));
                out.unknown_because = Some(format!(
                    "it derives from `{}`, whose license `{id}` is not in the license registry, \
                     so what it allows derivatives is unknown",
                    state.artifacts[*src as usize].id
                ));
                return out;
            }
            let own_t = match own {
                Own::Known(t) => t,
                _ => {
                    warnings.push(format!(
                        "{}: public without a license event: no rights were granted (0 points)",
                        a.id
                    ));
                    NONE
                }
            };
            let (effective, sources) = match &inherited {
                Pass::Terms(t, s) => (and(&own_t, t), Some((t, s))),
                _ => (own_t, None),
            };
            if let Some((inh, s)) = sources {
                out.restricted_by = restrictions(state, &own_t, inh, s);
            }
            let p = points(&effective);
            out.effective_points = Some(p);
            if p < points(&own_t) {
                let by: Vec<String> = out
                    .restricted_by
                    .iter()
                    .map(|r| {
                        format!(
                            "`{}` ({}: {})",
                            r.artifact,
                            r.license
                                .as_ref()
                                .map_or("no license recorded".to_string(), LicenseInfo::label),
                            r.withholds
                                .iter()
                                .map(|w| right_words(w))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
                    .collect();
                warnings.push(format!(
                    "license-conflict: {} is licensed for {} points but derives from sources whose \
                     licenses withhold rights it grants, so {} points: {}",
                    a.id,
                    points(&own_t),
                    p,
                    by.join("; ")
                ));
            }
            public_level(scale, p)
        }
    };
    out.level = Level::Graded { kind: scale, level };
    out
}

/// The explanation of a graded level set by artifact `a`.
fn explain(a: &ArtifactLevel, scale: Kind) -> Because {
    let id = &a.id;
    let mut because = Because {
        cause: Cause::NotReleased,
        artifact: Some(id.clone()),
        withheld: Vec::new(),
        text: String::new(),
    };
    match a.access {
        None | Some(Access::None) => {
            because.text = format!("`{id}` is not released");
            return because;
        }
        Some(Access::PaidApi) => {
            because.cause = Cause::PaidApi;
            because.text = if scale == Kind::Code {
                format!("`{id}` is only behind a paid API, which for code counts as not released")
            } else {
                format!("`{id}` is only available through a paid API")
            };
            return because;
        }
        Some(Access::Public) => {}
    }
    let Some(lic) = &a.license else {
        because.cause = Cause::NoLicense;
        because.text = format!("`{id}` is public with no license recorded: no rights were granted");
        return because;
    };
    let under = license_words(lic);
    if !a.restricted_by.is_empty() && a.effective_points < a.declared_points {
        because.cause = Cause::Lineage;
        let mut parts = Vec::new();
        for r in &a.restricted_by {
            let reasons: Vec<String> = r
                .withholds
                .iter()
                .enumerate()
                .map(|(n, w)| {
                    let reason = r
                        .reasons
                        .get(n)
                        .cloned()
                        .unwrap_or_else(|| sentence(right_words(w)));
                    because.withheld.push(Withheld {
                        right: w,
                        artifact: r.artifact.clone(),
                        license: r.license.clone(),
                        reason: reason.clone(),
                    });
                    reason
                })
                .collect();
            let reasons: Vec<String> = r
                .withholds
                .iter()
                .zip(&reasons)
                .map(|(w, why)| with_reason(w, why))
                .collect();
            parts.push(format!(
                "`{}`, {}, which withholds: {}",
                r.artifact,
                r.license
                    .as_ref()
                    .map_or("with no license recorded".to_string(), |l| format!(
                        "under {}",
                        license_words(l)
                    )),
                reasons.join("; ")
            ));
        }
        because.text = format!(
            "`{id}` is public under {under}, but it derives from {}",
            parts.join("; and from ")
        );
        return because;
    }
    let terms_reasons = own_reasons(lic);
    if terms_reasons.is_empty() {
        because.cause = Cause::Unrestricted;
        because.text = format!("`{id}` is public under {under}, which grants all five rights");
        return because;
    }
    because.cause = Cause::License;
    for (w, reason) in &terms_reasons {
        because.withheld.push(Withheld {
            right: w,
            artifact: id.clone(),
            license: Some(lic.clone()),
            reason: reason.clone(),
        });
    }
    because.text = format!(
        "`{id}` is public under {under}, which withholds: {}",
        terms_reasons
            .iter()
            .map(|(w, r)| with_reason(w, r))
            .collect::<Vec<_>>()
            .join("; ")
    );
    because
}

/// A license as a sentence names it: display name and id, and
/// self-declared ones said to be so.
fn license_words(l: &LicenseInfo) -> String {
    match &l.id {
        Some(id) if *id != l.name => format!("{} (`{id}`)", l.name),
        Some(id) => format!("`{id}`"),
        None => format!("the self-declared license \"{}\"", l.name),
    }
}

/// The rights a license itself withholds, each with its reason.
fn own_reasons(l: &LicenseInfo) -> Vec<(&'static str, String)> {
    let reg = l.id.as_deref().and_then(registry_entry);
    let Some(terms) = &l.terms else {
        return Vec::new();
    };
    let granted = rights(terms);
    CRITERIA
        .iter()
        .zip(granted)
        .filter(|(_, g)| !g)
        .map(|(c, _)| {
            let reason = reg
                .and_then(|r| r.reasons.get(*c).cloned())
                .unwrap_or_else(|| sentence(right_words(c)));
            (*c, reason)
        })
        .collect()
}

/// `no modification (the materials may not ...)`; the right's words alone
/// when there is no reason beyond them.
fn with_reason(right: &str, reason: &str) -> String {
    if reason == sentence(right_words(right)) {
        right_words(right).to_string()
    } else {
        format!("{} ({})", right_words(right), clause(reason))
    }
}

/// A reason sentence as a clause: no capital, no full stop.
fn clause(sentence: &str) -> String {
    let t = sentence.trim().trim_end_matches('.');
    let mut c = t.chars();
    match c.next() {
        // Keep capitals of names and acronyms ("GPL", "Llama").
        Some(f) if c.clone().next().is_some_and(|n| n.is_lowercase()) => {
            format!("{}{}", f.to_lowercase(), c.as_str())
        }
        _ => t.to_string(),
    }
}

/// `no commercial use` as a sentence.
fn sentence(words: &str) -> String {
    let mut c = words.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str()),
        None => String::new(),
    }
}

/// The level (1-5) of a public release under a license granting `points`
/// rights: C2 for 0-1 points, C3 for 2-3, C4 for 4, C5 for 5 on the code
/// scale; D3 for 0-3, D4 for 4, D5 for 5 on the data scale (weights too).
pub fn public_level(scale: Kind, points: u8) -> u8 {
    match (scale, points) {
        (Kind::Code, 0..=1) => 2,
        (Kind::Code, 2..=3) => 3,
        (Kind::Code, 4) => 4,
        (Kind::Code, _) => 5,
        (_, 0..=3) => 3,
        (_, 4) => 4,
        (_, _) => 5,
    }
}

/// What a right withheld means, in words.
pub fn right_words(right: &str) -> &'static str {
    match right {
        "research" => "no use for research",
        "commercial" => "no commercial use",
        "modify" => "no modification",
        "copyright_derivative" => "no copyright over derivatives",
        _ => "derivatives keep its license",
    }
}

/// The sources that withhold rights `own` grants.
fn restrictions(
    state: &State,
    own: &Terms,
    inherited: &Terms,
    sources: &[Vec<u32>; 5],
) -> Vec<Restriction> {
    let mut out: Vec<Restriction> = Vec::new();
    let own_r = rights(own);
    let inh_r = rights(inherited);
    for r in 0..5 {
        if !own_r[r] || inh_r[r] {
            continue;
        }
        for &src in &sources[r] {
            let a = &state.artifacts[src as usize];
            let info = a.license.map(|(seq, l)| license_info(state, seq, l));
            let reason = match &info {
                None => Some("No license was recorded for it: no rights were granted.".to_string()),
                Some(info) => info
                    .id
                    .as_deref()
                    .and_then(registry_entry)
                    .and_then(|reg| reg.reasons.get(CRITERIA[r]).cloned()),
            };
            match out.iter_mut().find(|x| x.artifact == *a.id) {
                Some(x) => {
                    x.withholds.push(CRITERIA[r]);
                    x.reasons.extend(reason.filter(|r| !x.reasons.contains(r)));
                }
                None => out.push(Restriction {
                    artifact: a.id.to_string(),
                    license: info,
                    withholds: vec![CRITERIA[r]],
                    reasons: reason.into_iter().collect(),
                }),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_of_passes_keeps_sources_bounded() {
        let mut s: Box<[Vec<u32>; 5]> = Box::default();
        s[1] = vec![1];
        let all = Terms {
            research: true,
            commercial: true,
            modify: true,
            copyright_derivative: true,
            other_license_derivative: true,
        };
        let mut acc = Pass::Terms(all, Box::default());
        for k in 0..10 {
            let mut sk: Box<[Vec<u32>; 5]> = Box::default();
            sk[1] = vec![k];
            acc = pass_and(acc, &Pass::Terms(NONE, sk));
        }
        let Pass::Terms(t, src) = acc else {
            panic!("terms expected")
        };
        assert_eq!(t, NONE);
        assert_eq!(src[1].len(), MAX_SOURCES);
        let _ = s;
    }
}
