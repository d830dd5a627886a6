//! SPDX license expressions (SPDX 2.3 annex D): `A`, `A+`, `A WITH exc`,
//! `A AND B`, `A OR B`, parentheses. Operators are upper case; ids are
//! letters, digits, `.` and `-`, compared without regard to case.

use std::fmt;

/// A parsed SPDX license expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A license id (a trailing `+` is dropped) and an optional exception.
    Id {
        /// The id as written.
        id: String,
        /// The `WITH` exception, if any.
        exception: Option<String>,
    },
    /// Both must be honoured.
    And(Box<Expr>, Box<Expr>),
    /// The licensee may choose.
    Or(Box<Expr>, Box<Expr>),
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Id {
                id,
                exception: None,
            } => f.write_str(id),
            Expr::Id {
                id,
                exception: Some(e),
            } => write!(f, "{id} WITH {e}"),
            Expr::And(a, b) => write!(f, "({a} AND {b})"),
            Expr::Or(a, b) => write!(f, "({a} OR {b})"),
        }
    }
}

/// Longest expression accepted, far beyond any real one.
const MAX_LEN: usize = crate::event::MAX_NAME;

/// Checks that `s` is a well-formed expression.
pub fn check_expression(s: &str) -> Result<(), String> {
    parse(s).map(|_| ())
}

/// Parses an expression.
pub fn parse(s: &str) -> Result<Expr, String> {
    if s.len() > MAX_LEN {
        return Err(format!("license expression longer than {MAX_LEN} bytes"));
    }
    let tokens = tokenize(s)?;
    if tokens.is_empty() {
        return Err(
            "empty license expression; give an SPDX identifier such as `Apache-2.0`".into(),
        );
    }
    let mut p = Parser {
        t: &tokens,
        i: 0,
        depth: 0,
    };
    let e = p.or()?;
    if p.i != tokens.len() {
        let tok = tokens[p.i].to_ascii_lowercase();
        if matches!(tok.as_str(), "and" | "or" | "with") {
            return Err(format!(
                "operator `{}` must be written in upper case",
                tokens[p.i]
            ));
        }
        return Err(format!(
            "unexpected `{}` in license expression `{s}`",
            tokens[p.i]
        ));
    }
    Ok(e)
}

/// `s` with each license id replaced by what `license` gives for it
/// (without its trailing `+`, which is kept) and each exception id after
/// `WITH` by what `exception` gives; ids they know nothing of, operators,
/// parentheses and spaces stay exactly as written. For a well-formed
/// expression, the result is one too, with the same meaning.
pub fn respell<'a>(
    s: &str,
    license: impl Fn(&str) -> Option<&'a str>,
    exception: impl Fn(&str) -> Option<&'a str>,
) -> String {
    let mut out = String::with_capacity(s.len());
    let mut after_with = false;
    let mut rest = s;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '+'))
            .unwrap_or(rest.len());
        if end == 0 {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let word = &rest[..end];
        rest = &rest[end..];
        if matches!(word, "AND" | "OR" | "WITH") {
            out.push_str(word);
            after_with = word == "WITH";
        } else if after_with {
            out.push_str(exception(word).unwrap_or(word));
            after_with = false;
        } else {
            let (base, plus) = match word.strip_suffix('+') {
                Some(b) => (b, "+"),
                None => (word, ""),
            };
            match license(base) {
                Some(id) => {
                    out.push_str(id);
                    out.push_str(plus);
                }
                None => out.push_str(word),
            }
        }
    }
    out
}

fn tokenize(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' | ')' | ' ' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                if c != ' ' {
                    out.push(c.to_string());
                }
            }
            c if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '+' => cur.push(c),
            c => {
                return Err(format!(
                    "character `{c}` cannot appear in an SPDX license expression; \
                     for a custom license use the inline form {{\"name\": ..., \"terms\": {{...}}}}"
                ))
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

struct Parser<'a> {
    t: &'a [String],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.t.get(self.i).map(String::as_str)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.peek() == Some("OR") {
            self.i += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.with()?;
        while self.peek() == Some("AND") {
            self.i += 1;
            e = Expr::And(Box::new(e), Box::new(self.with()?));
        }
        Ok(e)
    }

    fn with(&mut self) -> Result<Expr, String> {
        if self.peek() == Some("(") {
            self.depth += 1;
            if self.depth > 32 {
                return Err("license expression nested too deeply".into());
            }
            self.i += 1;
            let e = self.or()?;
            if self.peek() != Some(")") {
                return Err("unbalanced parentheses in license expression".into());
            }
            self.i += 1;
            self.depth -= 1;
            return Ok(e);
        }
        let id = self.id("a license identifier")?;
        let id = id.strip_suffix('+').unwrap_or(&id).to_string();
        if id.contains('+') || id.is_empty() {
            return Err(format!("`{id}` is not a license identifier"));
        }
        let exception = if self.peek() == Some("WITH") {
            self.i += 1;
            let e = self.id("an exception identifier after WITH")?;
            if e.contains('+') {
                return Err(format!("`{e}` is not an exception identifier"));
            }
            Some(e)
        } else {
            None
        };
        Ok(Expr::Id { id, exception })
    }

    fn id(&mut self, what: &str) -> Result<String, String> {
        match self.t.get(self.i).cloned().as_deref() {
            Some(tok) if !matches!(tok, "(" | ")" | "AND" | "OR" | "WITH") => {
                let lower = tok.to_ascii_lowercase();
                if matches!(lower.as_str(), "and" | "or" | "with") {
                    return Err(format!("operator `{tok}` must be written in upper case"));
                }
                self.i += 1;
                Ok(tok.to_string())
            }
            Some(tok) => Err(format!("expected {what}, found `{tok}`")),
            None => Err(format!("expected {what} at the end of the expression")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        assert!(parse("MIT").is_ok());
        assert!(parse("GPL-2.0+ WITH Classpath-exception-2.0").is_ok());
        assert_eq!(
            parse("MIT OR Apache-2.0 AND BSD-3-Clause")
                .unwrap()
                .to_string(),
            "(MIT OR (Apache-2.0 AND BSD-3-Clause))"
        );
        assert!(parse("(MIT OR Apache-2.0) AND LicenseRef-Llama-2").is_ok());
    }

    #[test]
    fn respelling_keeps_the_shape() {
        let lic = |s: &str| match s.to_ascii_lowercase().as_str() {
            "mit" => Some("MIT"),
            "apache-2.0" => Some("Apache-2.0"),
            "gpl-2.0" => Some("GPL-2.0"),
            _ => None,
        };
        let exc = |s: &str| {
            (s.eq_ignore_ascii_case("classpath-exception-2.0")).then_some("Classpath-exception-2.0")
        };
        assert_eq!(
            respell(
                "(mit OR apache-2.0)  AND gpl-2.0+ WITH classpath-EXCEPTION-2.0",
                lic,
                exc
            ),
            "(MIT OR Apache-2.0)  AND GPL-2.0+ WITH Classpath-exception-2.0"
        );
        assert_eq!(respell("mit WITH mit", lic, |_| None), "MIT WITH mit");
        assert_eq!(
            respell("Unknown-1.0 OR mit", lic, exc),
            "Unknown-1.0 OR MIT"
        );
    }

    #[test]
    fn malformed_expressions() {
        for bad in [
            "",
            "MIT OR",
            "(MIT",
            "MIT)",
            "MIT and Apache-2.0",
            "MIT/X11",
            "AND MIT",
            "MIT WITH",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
