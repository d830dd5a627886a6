//! The license registry: for each known license, its answers to the five
//! criteria of the rubric, from `schemas/licenses.json` (built in, versioned).

use crate::event::Terms;
use crate::license::Expr;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// One license of the registry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryLicense {
    /// SPDX id or `LicenseRef-...`.
    pub id: String,
    /// Short display name.
    pub name: String,
    /// Other names it is known by (its full SPDX name...): what a
    /// self-declared license may not be named like either.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Where the scoring comes from.
    pub source: String,
    research: bool,
    commercial: bool,
    modify: bool,
    copyright_derivative: bool,
    other_license_derivative: bool,
    /// Why each right that is not granted is not.
    pub reasons: HashMap<String, String>,
}

impl RegistryLicense {
    /// The rights it grants.
    pub fn terms(&self) -> Terms {
        Terms {
            research: self.research,
            commercial: self.commercial,
            modify: self.modify,
            copyright_derivative: self.copyright_derivative,
            other_license_derivative: self.other_license_derivative,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    registry: String,
    version: u32,
    #[allow(dead_code)]
    criteria: Vec<String>,
    /// SPDX exception ids known to add permissions only.
    exceptions: Vec<String>,
    licenses: Vec<RegistryLicense>,
}

/// The built-in registry.
#[derive(Debug)]
pub struct Registry {
    name: String,
    version: u32,
    licenses: Vec<RegistryLicense>,
    by_id: HashMap<String, usize>,
    /// Known exception ids, lower-cased.
    exceptions: std::collections::HashSet<String>,
    /// Reduced ids and names, for `confusable`.
    reduced: OnceLock<Vec<(String, usize)>>,
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// The registry built into this custody.
pub fn registry() -> &'static Registry {
    REGISTRY.get_or_init(|| Registry::parse(include_str!("../schemas/licenses.json")))
}

impl Registry {
    fn parse(text: &str) -> Registry {
        // A registry that does not parse is caught by the tests; at run time
        // it degrades to an empty one, under which every license is unknown.
        let file: File = serde_json::from_str(text).unwrap_or(File {
            registry: "custody-licenses (unreadable)".into(),
            version: 0,
            criteria: Vec::new(),
            exceptions: Vec::new(),
            licenses: Vec::new(),
        });
        let by_id = file
            .licenses
            .iter()
            .enumerate()
            .map(|(i, l)| (l.id.to_ascii_lowercase(), i))
            .collect();
        Registry {
            name: file.registry,
            version: file.version,
            licenses: file.licenses,
            by_id,
            exceptions: file
                .exceptions
                .iter()
                .map(|e| e.to_ascii_lowercase())
                .collect(),
            reduced: OnceLock::new(),
        }
    }

    /// `name/version`, as outputs cite it.
    pub fn label(&self) -> String {
        format!("{}/{}", self.name, self.version)
    }

    /// All licenses, in file order.
    pub fn licenses(&self) -> &[RegistryLicense] {
        &self.licenses
    }

    /// Looks an id up, without regard to case.
    pub fn get(&self, id: &str) -> Option<&RegistryLicense> {
        self.by_id
            .get(&id.to_ascii_lowercase())
            .map(|&i| &self.licenses[i])
    }

    /// Known ids close to `id`, best first.
    pub fn close_matches(&self, id: &str) -> Vec<&str> {
        let want = id.to_ascii_lowercase();
        let mut scored: Vec<(usize, &str)> = self
            .licenses
            .iter()
            .filter_map(|l| {
                let have = l.id.to_ascii_lowercase();
                let d = distance(&want, &have);
                let close =
                    d <= 3.max(want.len() / 4) || have.contains(&want) || want.contains(&have);
                close.then_some((d, l.id.as_str()))
            })
            .collect();
        scored.sort();
        scored.into_iter().take(5).map(|(_, id)| id).collect()
    }

    /// The rights an expression grants: `AND` grants what both grant, `OR`
    /// the option with more points (the first on a tie), `WITH` and `+` are
    /// scored as the license itself. Errs with the first unknown id.
    pub fn terms(&self, expr: &Expr) -> Result<Terms, String> {
        match expr {
            // A known exception only adds permissions, which are not
            // credited: the license's own terms. An unknown one could take
            // rights away: the expression cannot be scored.
            Expr::Id {
                exception: Some(e), ..
            } if !self.exceptions.contains(&e.to_ascii_lowercase()) => Err(e.clone()),
            Expr::Id { id, .. } => self
                .get(id)
                .map(RegistryLicense::terms)
                .ok_or_else(|| id.clone()),
            Expr::And(a, b) => Ok(and(&self.terms(a)?, &self.terms(b)?)),
            Expr::Or(a, b) => {
                let (a, b) = (self.terms(a)?, self.terms(b)?);
                Ok(if points(&b) > points(&a) { b } else { a })
            }
        }
    }

    /// The unknown ids of an expression.
    pub fn unknown_ids<'e>(&self, expr: &'e Expr) -> Vec<&'e str> {
        match expr {
            Expr::Id { id, exception } => {
                let mut v = Vec::new();
                if self.get(id).is_none() {
                    v.push(id.as_str());
                }
                if let Some(e) = exception {
                    if !self.exceptions.contains(&e.to_ascii_lowercase()) {
                        v.push(e.as_str());
                    }
                }
                v
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                let mut v = self.unknown_ids(a);
                v.extend(self.unknown_ids(b));
                v
            }
        }
    }
}

/// Criterion-wise AND.
pub fn and(a: &Terms, b: &Terms) -> Terms {
    Terms {
        research: a.research && b.research,
        commercial: a.commercial && b.commercial,
        modify: a.modify && b.modify,
        copyright_derivative: a.copyright_derivative && b.copyright_derivative,
        other_license_derivative: a.other_license_derivative && b.other_license_derivative,
    }
}

/// One point per right granted.
pub fn points(t: &Terms) -> u8 {
    [
        t.research,
        t.commercial,
        t.modify,
        t.copyright_derivative,
        t.other_license_derivative,
    ]
    .iter()
    .map(|&b| u8::from(b))
    .sum()
}

/// Words that do not tell licenses apart (`MIT License` is MIT).
const FILLER: [&str; 5] = ["LICENSE", "LICENCE", "VERSION", "THE", "INTERNATIONAL"];

/// Latin small capitals, which no case mapping or confusable table turns
/// into the capitals they look like.
fn small_capital(c: char) -> Option<char> {
    const FROM: &str = "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡʏᴢ";
    const TO: &str = "ABCDEFGHIJKLMNOPQRSTUVWYZ";
    FROM.chars()
        .position(|x| x == c)
        .and_then(|i| TO.chars().nth(i))
}

/// A name reduced for comparison: compatibility-normalised (NFKC: math
/// bold, full-width...), small capitals and upper case taken to capitals,
/// filler words dropped, mapped to the UTS #39 confusable skeleton, lower
/// case, letters and digits only. `CC BY-NC 4.0`, `cc-by-nc-4.0`,
/// `СС BY-NC 4.0` (Cyrillic), `ΜIT` (Greek), `𝐌𝐈𝐓` and `MIT License`
/// reduce like their registry license.
fn reduce(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let upper: String = s
        .nfkc()
        .map(|c| small_capital(c).unwrap_or(c))
        .collect::<String>()
        .to_uppercase();
    let words: Vec<&str> = upper
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !FILLER.contains(w))
        .collect();
    let joined = words.join(" ");
    let lower = unicode_security::confusable_detection::skeleton(&joined)
        .collect::<String>()
        .to_lowercase();
    unicode_security::confusable_detection::skeleton(&lower)
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

impl Registry {
    /// The registry license whose id or name `name` equals or closely
    /// resembles, if any: what an inline (self-declared) license must not
    /// be named like, lest it pass for that license.
    pub fn confusable(&self, name: &str) -> Option<&RegistryLicense> {
        let n = reduce(name);
        if n.is_empty() {
            return None;
        }
        let n_len = n.chars().count();
        let reduced = self.reduced.get_or_init(|| {
            self.licenses
                .iter()
                .enumerate()
                .flat_map(|(i, l)| {
                    [&l.id, &l.name]
                        .into_iter()
                        .chain(&l.aliases)
                        .map(move |n| (reduce(n), i))
                })
                .collect()
        });
        // How close: 0 for equal, the edit distance when small, 3 when it
        // holds the whole id or name; the closest wins.
        let closeness = |c: &str| -> Option<usize> {
            let len = c.chars().count();
            if c.is_empty() {
                return None;
            }
            if n == c {
                return Some(0);
            }
            // The distance is at least the difference in length: skip the
            // quadratic work when that alone rules it out (a long name).
            if len >= 4 && n_len.abs_diff(len) <= 2 {
                let d = distance(&n, c);
                if d <= if len < 8 { 1 } else { 2 } {
                    return Some(d);
                }
            }
            if len >= 6 && n.contains(c) {
                return Some(3);
            }
            // A part of a registry name (`Apache` of `Apache 2.0`).
            (n_len >= 5 && c.contains(n.as_str())).then_some(4)
        };
        reduced
            .iter()
            .filter_map(|(c, i)| closeness(c).map(|d| (d, *i)))
            .min()
            .map(|(_, i)| &self.licenses[i])
    }
}

/// Levenshtein distance, for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Whether `id` appears as the exception of a `WITH` term of `expr`.
fn is_exception_of(expr: &Expr, id: &str) -> bool {
    match expr {
        Expr::Id { exception, .. } => exception.as_deref() == Some(id),
        Expr::And(a, b) | Expr::Or(a, b) => is_exception_of(a, id) || is_exception_of(b, id),
    }
}

/// Checks at append time that every id of a license expression is known,
/// and says what to do when one is not.
pub(crate) fn check_known(expression: &str) -> Result<(), String> {
    let Ok(expr) = crate::license::parse(expression) else {
        return Ok(()); // malformed expressions are refused by the event parser
    };
    let reg = registry();
    let unknown = reg.unknown_ids(&expr);
    let Some(first) = unknown.first() else {
        return Ok(());
    };
    if reg.get(first).is_some() || is_exception_of(&expr, first) {
        return Err(format!(
            "exception `{first}` after WITH is not one the license registry ({}) knows; known \
             exceptions only add permissions, an unknown one could take rights away, so it \
             cannot be scored; for other terms give them inline: {{\"name\": \"...\", \"terms\": \
             {{...}}}}",
            reg.label()
        ));
    }
    let close = reg.close_matches(first);
    let hint = if close.is_empty() {
        String::new()
    } else {
        format!("; close matches: {}", close.join(", "))
    };
    Err(format!(
        "license `{first}` is not in the license registry ({}){hint}; for a license the registry \
         does not know, give its terms inline: {{\"name\": \"...\", \"terms\": {{\"research\": true, \
         \"commercial\": false, \"modify\": true, \"copyright_derivative\": true, \
         \"other_license_derivative\": false}}}}",
        reg.label()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alike_names_resemble_their_registry_license() {
        let r = registry();
        for (name, id) in [
            ("CC BY-NC 4.0", "CC-BY-NC-4.0"),
            ("cc-by-nc-4.0", "CC-BY-NC-4.0"),
            ("\u{421}\u{421} BY-NC 4.0", "CC-BY-NC-4.0"),
            ("LicenseRef-OPT-Data", "LicenseRef-OPT-Data"),
            ("MIT License", "MIT"),
            ("The MIT License", "MIT"),
            ("\u{39c}IT", "MIT"),
            ("\u{41c}IT", "MIT"),
            ("\u{1d0d}\u{26a}\u{1d1b}", "MIT"),
            ("\u{1d40c}\u{1d408}\u{1d413}", "MIT"),
            ("Apache License, Version 2.0", "Apache-2.0"),
            ("GNU General Public License v3.0", "GPL-3.0"),
            (
                "Creative Commons Attribution 4.0 International",
                "CC-BY-4.0",
            ),
            ("CC \u{392}\u{3a5} 4.0", "CC-BY-4.0"),
            ("LLa\u{39c}\u{391}-2", "LicenseRef-Llama-2"),
            ("I\u{405}C", "ISC"),
        ] {
            assert_eq!(
                r.confusable(name).map(|l| l.id.as_str()),
                Some(id),
                "{name}"
            );
        }
        for name in [
            "Acme Model License",
            "Teacher terms",
            "Internal research terms",
            "Lab data terms v2",
        ] {
            assert!(
                r.confusable(name).is_none(),
                "{name}: {:?}",
                r.confusable(name).map(|l| &l.id)
            );
        }
    }

    #[test]
    fn the_built_in_registry_is_well_formed() {
        let r = registry();
        assert!(r.version >= 1, "schemas/licenses.json did not parse");
        assert!(r.licenses().len() >= 40);
        let mut seen = std::collections::HashSet::new();
        for l in r.licenses() {
            assert!(seen.insert(l.id.to_ascii_lowercase()), "duplicate {}", l.id);
            assert!(
                crate::license::parse(&l.id).is_ok(),
                "{} is not an id",
                l.id
            );
            let t = l.terms();
            for (name, granted) in [
                ("research", t.research),
                ("commercial", t.commercial),
                ("modify", t.modify),
                ("copyright_derivative", t.copyright_derivative),
                ("other_license_derivative", t.other_license_derivative),
            ] {
                assert_eq!(
                    l.reasons.contains_key(name),
                    !granted,
                    "{}: reason for {name}",
                    l.id
                );
            }
            assert_eq!(
                l.reasons.len(),
                5 - points(&t) as usize,
                "{}: stray reasons",
                l.id
            );
        }
    }

    #[test]
    fn paper_table_1_points() {
        let r = registry();
        for (id, p) in [
            ("MIT", 5),
            ("LicenseRef-Modified-MIT", 5),
            ("Apache-2.0", 5),
            ("BSD-3-Clause", 5),
            ("LicenseRef-Common-Crawl", 5),
            ("LicenseRef-Falcon-180B-Data", 5),
            ("LicenseRef-RAIL", 4),
            ("ODC-By-1.0", 4),
            ("LicenseRef-CodeT5-Data", 4),
            ("LicenseRef-RedPajama-Data", 4),
            ("LicenseRef-Llama-2", 3),
            ("LicenseRef-OPT-Data", 1),
            ("LicenseRef-GLM-130B-Data", 1),
            ("GPL-3.0-only", 4),
            ("GPL-3.0-or-later", 4),
            ("CC-BY-SA-4.0", 4),
            ("CC-BY-4.0", 5),
            ("CC0-1.0", 5),
        ] {
            let l = r.get(id).unwrap_or_else(|| panic!("{id} missing"));
            assert_eq!(points(&l.terms()), p, "{id}");
        }
        let llama = r.get("licenseref-llama-2").unwrap().terms();
        assert!(!llama.modify && !llama.other_license_derivative);
    }

    #[test]
    fn expressions_are_scored() {
        let r = registry();
        let t = |s: &str| points(&r.terms(&crate::license::parse(s).unwrap()).unwrap());
        assert_eq!(t("mit"), 5);
        assert_eq!(t("MIT AND LicenseRef-OPT-Data"), 1);
        assert_eq!(t("LicenseRef-OPT-Data OR MIT"), 5);
        assert_eq!(t("GPL-2.0-or-later WITH Classpath-exception-2.0"), 4);
        assert_eq!(t("GPL-3.0-only+"), 4);
        assert_eq!(t("(MIT OR LicenseRef-Llama-2) AND CC-BY-SA-4.0"), 4);
    }

    #[test]
    fn unknown_ids_get_close_matches() {
        let e = check_known("Apache2.0").unwrap_err();
        assert!(e.contains("close matches: Apache-2.0"), "{e}");
        assert!(e.contains("\"terms\""));
        assert!(check_known("MIT OR apache-2.0").is_ok());
    }
}
