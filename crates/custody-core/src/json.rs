//! The bridge between event JSON (what users write) and event CBOR (what is
//! signed and stored).
//!
//! JSON is parsed strictly: an object that repeats a key is refused rather
//! than silently keeping one of the values. The conversion is exact both
//! ways for everything an event may hold, so `log --json` prints an event as
//! it was appended.

#[cfg(test)]
use ciborium::value::Integer;
use ciborium::value::Value as Cbor;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value as Json};

/// Events may nest (in `parameters`) at most this deep.
pub const MAX_EVENT_DEPTH: usize = 16;

/// Parses one JSON text, refusing duplicate object keys.
pub fn parse_strict(text: &str) -> Result<Json, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let StrictJson(v) = StrictJson::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(v)
}

struct StrictJson(Json);

impl<'de> Deserialize<'de> for StrictJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictJson)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Json;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictJson(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Json::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let StrictJson(v) = map.next_value()?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            out.insert(key, v);
        }
        Ok(Json::Object(out))
    }
}

/// Refuses numbers that an event could not store exactly: an integer
/// literal beyond 64 bits (it would become an approximate float) and `-0`
/// (an integer has no negative zero; `-0.0` is the float). Other numbers
/// are stored as the correctly rounded nearest double when they have a
/// fraction or exponent, and exactly as integers otherwise.
pub fn check_numbers(text: &str) -> Result<(), String> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                // Skip the string, escapes included.
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let tok = &text[start..i];
                if tok.contains(['.', 'e', 'E']) {
                    continue;
                }
                if tok == "-0" {
                    return Err(
                        "`-0` cannot be stored exactly (an integer has no sign of zero); write 0, or -0.0 for the float"
                            .into(),
                    );
                }
                let fits = tok.parse::<i64>().is_ok() || tok.parse::<u64>().is_ok();
                if !fits {
                    return Err(format!(
                        "the integer {tok} is beyond 64 bits and would be stored as an approximate \
                         float; write it as a string"
                    ));
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Depth of nesting of a JSON value (a scalar is 0).
pub fn depth(v: &Json) -> usize {
    // Iterative, so hostile nesting cannot exhaust the stack.
    let mut max = 0;
    let mut stack = vec![(v, 0usize)];
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Json::Array(a) => stack.extend(a.iter().map(|x| (x, d + 1))),
            Json::Object(o) => stack.extend(o.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    max
}

/// JSON to CBOR values; the writer uses `cbor::encode_json`, tests compare.
#[cfg(test)]
pub fn to_cbor(v: &Json) -> Cbor {
    match v {
        Json::Null => Cbor::Null,
        Json::Bool(b) => Cbor::Bool(*b),
        Json::Number(n) => {
            if let Some(u) = n.as_u64() {
                Cbor::Integer(Integer::from(u))
            } else if let Some(i) = n.as_i64() {
                Cbor::Integer(Integer::from(i))
            } else {
                // serde_json only yields finite floats.
                Cbor::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        Json::String(s) => Cbor::Text(s.clone()),
        Json::Array(a) => Cbor::Array(a.iter().map(to_cbor).collect()),
        Json::Object(o) => Cbor::Map(
            o.iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), to_cbor(v)))
                .collect(),
        ),
    }
}

/// CBOR to JSON, refusing anything JSON cannot hold exactly (byte strings,
/// tags, non-text keys, non-finite floats, integers beyond 64 bits).
pub fn from_cbor(v: Cbor, depth: usize) -> Result<Json, String> {
    // By value: every text moves into the JSON rather than being copied.
    if depth > MAX_EVENT_DEPTH + 1 {
        return Err("nested too deeply".into());
    }
    Ok(match v {
        Cbor::Null => Json::Null,
        Cbor::Bool(b) => Json::Bool(b),
        Cbor::Integer(i) => {
            let i = i128::from(i);
            if let Ok(u) = u64::try_from(i) {
                Json::Number(u.into())
            } else if let Ok(s) = i64::try_from(i) {
                Json::Number(s.into())
            } else {
                return Err("integer beyond 64 bits".into());
            }
        }
        Cbor::Float(f) => Json::Number(Number::from_f64(f).ok_or("non-finite float")?),
        Cbor::Text(s) => Json::String(s),
        Cbor::Array(a) => Json::Array(
            a.into_iter()
                .map(|x| from_cbor(x, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Cbor::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let Cbor::Text(k) = k else {
                    return Err("map key is not a text string".into());
                };
                out.insert(k, from_cbor(v, depth + 1)?);
            }
            Json::Object(out)
        }
        Cbor::Bytes(_) => return Err("byte string where JSON has none".into()),
        Cbor::Tag(..) => return Err("CBOR tag where JSON has none".into()),
        _ => return Err("unsupported CBOR value".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_refused() {
        assert!(parse_strict(r#"{"a":1,"a":2}"#)
            .unwrap_err()
            .contains("duplicate key `a`"));
        assert!(parse_strict(r#"{"a":{"b":1,"b":1}}"#).is_err());
        assert!(parse_strict(r#"{"a":1,"b":2}"#).is_ok());
    }

    #[test]
    fn numbers_that_cannot_be_stored_exactly_are_refused() {
        assert!(check_numbers(r#"{"a":-0}"#).is_err());
        assert!(check_numbers(r#"{"a":18446744073709551616}"#).is_err());
        assert!(check_numbers(r#"{"a":-9223372036854775809}"#).is_err());
        assert!(check_numbers(r#"{"a":18446744073709551615,"b":-9223372036854775808}"#).is_ok());
        assert!(check_numbers(r#"{"a":-0.0,"b":1e400,"c":"-0 18446744073709551616\"-0"}"#).is_ok());
    }

    #[test]
    fn decimals_are_correctly_rounded() {
        let f = |t: &str| parse_strict(t).unwrap().as_f64().unwrap();
        assert_eq!(f("9007199254740993.0"), 9007199254740992.0);
        assert_eq!(f("2.4703282292062328e-324"), 5e-324);
        assert_eq!(f("2.4703282292062327e-324"), 0.0);
        assert_eq!(f("0.1"), 0.1);
    }

    #[test]
    fn trailing_text_refused() {
        assert!(parse_strict(r#"{"a":1} x"#).is_err());
    }

    #[test]
    fn round_trip_is_exact() {
        let text = r#"{"f":0.1,"g":2.0,"i":-5,"l":[1,"x",null,true],"u":18446744073709551615}"#;
        let v = parse_strict(text).unwrap();
        let back = from_cbor(to_cbor(&v), 0).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }
}
