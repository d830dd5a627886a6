//! Deterministic CBOR (RFC 8949 section 4.2.1) for the subset custody uses.
//!
//! Decoding goes through ciborium into a `Value`; the value is then encoded
//! again with the deterministic rules below and the bytes must be identical.
//! That round trip is what makes every accepted byte string the single
//! spelling of its value: shortest integer and length forms, definite
//! lengths, map keys sorted by their encoded bytes with no duplicates, and
//! floats in the shortest of half, single or double precision that keeps
//! the value exactly.

use ciborium::value::Value;

/// Nesting deeper than this is refused while decoding, well before the stack
/// could suffer; events themselves are limited to far less (see `event`).
const MAX_DEPTH: usize = 48;

/// Why bytes were not accepted as deterministic CBOR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CborError {
    /// Not a well-formed CBOR item, or trailing bytes after it.
    Malformed(String),
    /// Well formed, but not the deterministic encoding of its value.
    NonCanonical,
    /// A value this format cannot encode (NaN, infinity, an integer out of range).
    Unencodable(&'static str),
}

/// Decodes exactly one item filling all of `bytes`, and insists the bytes are
/// its deterministic encoding.
///
/// Order: well-formedness (RFC 8949 appendix C, at most `MAX_DEPTH` levels
/// of arrays, maps and tags) else `Malformed`; then any tag, or anything
/// not in deterministic form, `NonCanonical`.
pub(crate) fn decode_canonical(bytes: &[u8]) -> Result<Value, CborError> {
    let mut walk = Walk {
        b: bytes,
        i: 0,
        tags: false,
    };
    walk.item(1)?;
    if walk.i != bytes.len() {
        return Err(CborError::Malformed(format!(
            "{} trailing byte(s) after the item",
            bytes.len() - walk.i
        )));
    }
    if walk.tags {
        return Err(CborError::NonCanonical);
    }
    let mut reader = bytes;
    // The walk bounded the depth; ciborium's own limit is only a backstop.
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut reader, MAX_DEPTH + 16)
        .map_err(|e| CborError::Malformed(describe(&e)))?;
    if !reader.is_empty() {
        return Err(CborError::Malformed(format!(
            "{} trailing byte(s) after the item",
            reader.len()
        )));
    }
    let again = encode(&value)?;
    if again != bytes {
        return Err(CborError::NonCanonical);
    }
    Ok(value)
}

/// The length of the well-formed item at the start of `bytes`.
pub(crate) fn item_len(bytes: &[u8]) -> Result<usize, CborError> {
    let mut walk = Walk {
        b: bytes,
        i: 0,
        tags: false,
    };
    walk.item(1)?;
    Ok(walk.i)
}

/// A well-formedness check over raw bytes that allocates nothing and
/// never recurses deeper than `MAX_DEPTH`.
struct Walk<'a> {
    b: &'a [u8],
    i: usize,
    tags: bool,
}

impl Walk<'_> {
    fn bad(&self, what: &str) -> CborError {
        CborError::Malformed(format!("{what} at byte {}", self.i))
    }

    fn take(&mut self, n: u64) -> Result<(), CborError> {
        let end = (self.i as u64)
            .checked_add(n)
            .filter(|&e| e <= self.b.len() as u64)
            .ok_or_else(|| self.bad("unexpected end of data"))?;
        self.i = end as usize;
        Ok(())
    }

    /// Reads a head: (major type, argument, indefinite).
    fn head(&mut self) -> Result<(u8, u64, bool), CborError> {
        let start = self.i;
        let &ib = self
            .b
            .get(self.i)
            .ok_or_else(|| self.bad("unexpected end of data"))?;
        self.i += 1;
        let (major, ai) = (ib >> 5, ib & 0x1f);
        let arg = match ai {
            0..=23 => u64::from(ai),
            24..=27 => {
                let n = 1usize << (ai - 24);
                self.take(n as u64)?;
                self.b[self.i - n..self.i]
                    .iter()
                    .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
            }
            31 if matches!(major, 2..=5) => return Ok((major, 0, true)),
            31 if major == 7 => {
                self.i = start;
                return Err(self.bad("unexpected break"));
            }
            _ => {
                self.i = start;
                return Err(self.bad("reserved or invalid additional information"));
            }
        };
        if major == 7 && ai == 24 && arg < 32 {
            self.i = start;
            return Err(self.bad("simple value below 32 in two bytes"));
        }
        Ok((major, arg, false))
    }

    fn is_break(&self) -> bool {
        self.b.get(self.i) == Some(&0xff)
    }

    fn item(&mut self, depth: usize) -> Result<(), CborError> {
        let (major, arg, indefinite) = self.head()?;
        match major {
            0 | 1 | 7 => Ok(()),
            2 | 3 if !indefinite => self.take(arg),
            2 | 3 => {
                while !self.is_break() {
                    let (m, len, ind) = self.head()?;
                    if m != major || ind {
                        return Err(self.bad("bad chunk in an indefinite-length string"));
                    }
                    self.take(len)?;
                }
                self.i += 1;
                Ok(())
            }
            4..=6 => {
                if depth > MAX_DEPTH {
                    return Err(CborError::Malformed("nested too deeply".into()));
                }
                if major == 6 {
                    self.tags = true;
                    return self.item(depth + 1);
                }
                let per = if major == 5 { 2 } else { 1 };
                if indefinite {
                    let mut n = 0u64;
                    while !self.is_break() {
                        self.item(depth + 1)?;
                        n += 1;
                    }
                    if major == 5 && n % 2 == 1 {
                        return Err(self.bad("map with a key and no value"));
                    }
                    self.i += 1;
                } else {
                    // Each item takes at least one byte: refuse counts the data cannot hold.
                    let items = arg
                        .checked_mul(per)
                        .ok_or_else(|| self.bad("length too large"))?;
                    if items > (self.b.len() - self.i) as u64 {
                        return Err(self.bad("unexpected end of data"));
                    }
                    for _ in 0..items {
                        self.item(depth + 1)?;
                    }
                }
                Ok(())
            }
            _ => Err(self.bad("invalid major type")),
        }
    }
}

fn describe<E: std::fmt::Debug>(e: &ciborium::de::Error<E>) -> String {
    match e {
        ciborium::de::Error::Io(_) => "unexpected end of data".to_string(),
        ciborium::de::Error::Syntax(off) => format!("syntax error at byte {off}"),
        ciborium::de::Error::Semantic(off, msg) => match off {
            Some(o) => format!("{msg} at byte {o}"),
            None => msg.clone(),
        },
        ciborium::de::Error::RecursionLimitExceeded => "nested too deeply".to_string(),
    }
}

/// Encodes `value` deterministically.
pub(crate) fn encode(value: &Value) -> Result<Vec<u8>, CborError> {
    let mut out = Vec::new();
    encode_into(value, &mut out, 0)?;
    Ok(out)
}

pub(crate) fn head(major: u8, n: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n <= u8::MAX as u64 {
        out.push(m | 24);
        out.push(n as u8);
    } else if n <= u16::MAX as u64 {
        out.push(m | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= u32::MAX as u64 {
        out.push(m | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_into(value: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), CborError> {
    if depth > MAX_DEPTH {
        return Err(CborError::Unencodable("nested too deeply"));
    }
    match value {
        Value::Integer(i) => {
            let i = i128::from(*i);
            if i >= 0 {
                let n =
                    u64::try_from(i).map_err(|_| CborError::Unencodable("integer too large"))?;
                head(0, n, out);
            } else {
                let n = u64::try_from(-1 - i)
                    .map_err(|_| CborError::Unencodable("integer too small"))?;
                head(1, n, out);
            }
        }
        Value::Bytes(b) => {
            head(2, b.len() as u64, out);
            out.extend_from_slice(b);
        }
        Value::Text(s) => {
            head(3, s.len() as u64, out);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Array(items) => {
            head(4, items.len() as u64, out);
            for item in items {
                encode_into(item, out, depth + 1)?;
            }
        }
        Value::Map(entries) => {
            let mut encoded = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let mut kb = Vec::new();
                encode_into(k, &mut kb, depth + 1)?;
                let mut vb = Vec::new();
                encode_into(v, &mut vb, depth + 1)?;
                encoded.push((kb, vb));
            }
            encoded.sort_by(|a, b| a.0.cmp(&b.0));
            if encoded.windows(2).any(|w| w[0].0 == w[1].0) {
                // A map with a repeated key has no deterministic encoding.
                return Err(CborError::NonCanonical);
            }
            head(5, encoded.len() as u64, out);
            for (k, v) in encoded {
                out.extend_from_slice(&k);
                out.extend_from_slice(&v);
            }
        }
        // The format uses no tags, so no tagged item has a deterministic
        // encoding in it.
        Value::Tag(..) => return Err(CborError::NonCanonical),
        Value::Bool(false) => out.push(0xf4),
        Value::Bool(true) => out.push(0xf5),
        Value::Null => out.push(0xf6),
        Value::Float(f) => encode_float(*f, out)?,
        _ => return Err(CborError::Unencodable("unsupported CBOR value")),
    }
    Ok(())
}

/// Encodes a JSON value straight to deterministic CBOR, the same bytes
/// `encode` gives for its CBOR counterpart, without building that value.
/// Text keys sort by (length, bytes), which is bytewise order of their
/// encodings.
pub(crate) fn encode_json(v: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value as J;
    match v {
        J::Null => out.push(0xf6),
        J::Bool(false) => out.push(0xf4),
        J::Bool(true) => out.push(0xf5),
        J::Number(n) => {
            if let Some(u) = n.as_u64() {
                head(0, u, out);
            } else if let Some(i) = n.as_i64() {
                // Negative: CBOR stores -1 - i.
                head(1, (-1 - i128::from(i)) as u64, out);
            } else {
                // serde_json numbers that are not integers are finite floats.
                let _ = encode_float(n.as_f64().unwrap_or(0.0), out);
            }
        }
        J::String(s) => {
            head(3, s.len() as u64, out);
            out.extend_from_slice(s.as_bytes());
        }
        J::Array(a) => {
            head(4, a.len() as u64, out);
            for x in a {
                encode_json(x, out);
            }
        }
        J::Object(o) => {
            let mut keys: Vec<(&String, &serde_json::Value)> = o.iter().collect();
            keys.sort_by(|a, b| (a.0.len(), a.0.as_bytes()).cmp(&(b.0.len(), b.0.as_bytes())));
            head(5, keys.len() as u64, out);
            for (k, x) in keys {
                head(3, k.len() as u64, out);
                out.extend_from_slice(k.as_bytes());
                encode_json(x, out);
            }
        }
    }
}

fn encode_float(f: f64, out: &mut Vec<u8>) -> Result<(), CborError> {
    if !f.is_finite() {
        return Err(CborError::Unencodable("NaN or infinite float"));
    }
    let h = half::f16::from_f64(f);
    if h.to_f64() == f {
        out.push(0xf9);
        out.extend_from_slice(&h.to_bits().to_be_bytes());
        return Ok(());
    }
    let s = f as f32;
    if s as f64 == f {
        out.push(0xfa);
        out.extend_from_slice(&s.to_bits().to_be_bytes());
        return Ok(());
    }
    out.push(0xfb);
    out.extend_from_slice(&f.to_bits().to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(hex_in: &str) -> Result<Value, CborError> {
        decode_canonical(&hex::decode(hex_in).unwrap())
    }

    #[test]
    fn shortest_integers_only() {
        assert!(canon("17").is_ok());
        assert_eq!(canon("1817"), Err(CborError::NonCanonical));
        assert!(canon("1818").is_ok());
        assert_eq!(canon("190018"), Err(CborError::NonCanonical));
        assert_eq!(canon("3a00000000"), Err(CborError::NonCanonical));
    }

    #[test]
    fn indefinite_lengths_refused() {
        assert_eq!(canon("9f01ff"), Err(CborError::NonCanonical));
        assert_eq!(canon("5f4101ff"), Err(CborError::NonCanonical));
    }

    #[test]
    fn map_keys_sorted_and_unique() {
        // {"a": 1, "b": 2} sorted, then reversed, then duplicated.
        assert!(canon("a2616101616202").is_ok());
        assert_eq!(canon("a2616202616101"), Err(CborError::NonCanonical));
        assert_eq!(canon("a2616101616102"), Err(CborError::NonCanonical));
        // Shorter keys sort first: {"b": 1, "aa": 2}.
        assert!(canon("a2616201626161 02".replace(' ', "").as_str()).is_ok());
    }

    #[test]
    fn floats_in_shortest_exact_form() {
        assert!(canon("f93c00").is_ok()); // 1.0 as half
        assert_eq!(canon("fa3f800000"), Err(CborError::NonCanonical)); // 1.0 as single
        assert_eq!(canon("fb3ff0000000000000"), Err(CborError::NonCanonical));
        assert!(canon("fb3fb999999999999a").is_ok()); // 0.1 needs double
        assert!(matches!(canon("f97e00"), Err(CborError::Unencodable(_)))); // NaN
    }

    #[test]
    fn two_byte_simple_values_and_reserved_heads_are_malformed() {
        assert!(matches!(canon("f814"), Err(CborError::Malformed(_))));
        assert!(matches!(canon("1c"), Err(CborError::Malformed(_))));
        assert!(matches!(canon("ff"), Err(CborError::Malformed(_))));
        assert!(matches!(
            canon("5f4101ff").unwrap_err(),
            CborError::NonCanonical
        ));
        assert!(matches!(canon("5f6101ff"), Err(CborError::Malformed(_))));
        assert!(matches!(
            canon("9b00000000ffffffff"),
            Err(CborError::Malformed(_))
        ));
    }

    #[test]
    fn tags_refused() {
        assert_eq!(canon("c11a514b67b0"), Err(CborError::NonCanonical)); // 1(epoch time)
        assert_eq!(
            canon("c249010000000000000000"),
            Err(CborError::NonCanonical)
        ); // bignum
        assert_eq!(canon("d8186161"), Err(CborError::NonCanonical));
    }

    #[test]
    fn trailing_and_truncated_refused() {
        assert!(matches!(canon("0101"), Err(CborError::Malformed(_))));
        assert!(matches!(
            canon("62 61".replace(' ', "").as_str()),
            Err(CborError::Malformed(_))
        ));
        assert!(matches!(canon(""), Err(CborError::Malformed(_))));
    }

    #[test]
    fn json_encoding_matches_value_encoding() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"zz":1,"a":[-1,-300,0.5,1e300,true,null,"x"],"bb":{"k":18446744073709551615,"j":-9223372036854775808}}"#,
        )
        .unwrap();
        let mut direct = Vec::new();
        encode_json(&v, &mut direct);
        assert_eq!(direct, encode(&crate::json::to_cbor(&v)).unwrap());
        assert!(decode_canonical(&direct).is_ok());
    }

    #[test]
    fn deep_nesting_refused_without_overflow() {
        let deep = vec![0x81u8; 100_000];
        assert!(decode_canonical(&deep).is_err());
    }
}
