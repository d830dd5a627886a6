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
pub enum CborError {
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
pub fn decode_canonical(bytes: &[u8]) -> Result<Value, CborError> {
    // Nearly every input is canonical: one pass decodes and checks it.
    // Anything that pass does not accept goes the long way below, which
    // says exactly what is wrong; debug builds check that both agree.
    if let Some(v) = Fast::decode(bytes) {
        #[cfg(debug_assertions)]
        assert_eq!(
            decode_slow(bytes).as_ref(),
            Ok(&v),
            "the one-pass decoder accepted what the long way does not"
        );
        return Ok(v);
    }
    decode_slow(bytes)
}

/// The long way: well-formedness walk, ciborium, re-encoding compared.
fn decode_slow(bytes: &[u8]) -> Result<Value, CborError> {
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

/// One pass that decodes an item and checks, as it goes, everything the
/// long way checks by re-encoding: shortest heads, definite lengths, map
/// keys in strictly increasing bytewise order of their encodings, floats in
/// their shortest exact form, no tags, UTF-8 text. It answers only "yes,
/// here is the value" or "no"; on "no" the long way names the fault.
pub(crate) struct Fast<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Fast<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Fast<'a> {
        Fast { b, i: 0 }
    }

    /// Whether every byte has been read.
    pub(crate) fn at_end(&self) -> bool {
        self.i == self.b.len()
    }

    fn decode(bytes: &[u8]) -> Option<Value> {
        let mut f = Fast { b: bytes, i: 0 };
        let v = f.item(1)?;
        (f.i == bytes.len()).then_some(v)
    }

    /// A head in its shortest form: (major type, additional info, argument).
    fn head(&mut self) -> Option<(u8, u8, u64)> {
        let ib = *self.b.get(self.i)?;
        self.i += 1;
        let (major, ai) = (ib >> 5, ib & 0x1f);
        let arg = match ai {
            0..=23 => u64::from(ai),
            24..=27 => {
                let n = 1usize << (ai - 24);
                let raw = self.b.get(self.i..self.i + n)?;
                self.i += n;
                let arg = raw.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
                // Floats (major 7, 25..=27) are checked by value instead.
                let shortest = match ai {
                    24 => arg >= 24,
                    25 => arg > 0xff,
                    26 => arg > 0xffff,
                    _ => arg > 0xffff_ffff,
                };
                if major != 7 && !shortest {
                    return None;
                }
                arg
            }
            _ => return None,
        };
        Some((major, ai, arg))
    }

    fn take(&mut self, n: u64) -> Option<&'a [u8]> {
        let end = self.i.checked_add(usize::try_from(n).ok()?)?;
        let s = self.b.get(self.i..end)?;
        self.i = end;
        Some(s)
    }

    fn item(&mut self, depth: usize) -> Option<Value> {
        let start = self.i;
        let (major, ai, arg) = self.head()?;
        Some(match major {
            0 => Value::Integer(arg.into()),
            1 => Value::Integer(ciborium::value::Integer::try_from(-1 - i128::from(arg)).ok()?),
            2 => Value::Bytes(self.take(arg)?.to_vec()),
            3 => Value::Text(std::str::from_utf8(self.take(arg)?).ok()?.to_owned()),
            4 | 5 => {
                if depth > MAX_DEPTH {
                    return None;
                }
                // Each item takes at least one byte.
                let per = if major == 5 { 2 } else { 1 };
                if arg.checked_mul(per)? > (self.b.len() - self.i) as u64 {
                    return None;
                }
                if major == 4 {
                    let mut items = Vec::with_capacity(arg as usize);
                    for _ in 0..arg {
                        items.push(self.item(depth + 1)?);
                    }
                    Value::Array(items)
                } else {
                    let mut entries = Vec::with_capacity(arg as usize);
                    let mut last: Option<(usize, usize)> = None;
                    for _ in 0..arg {
                        let k0 = self.i;
                        let k = self.item(depth + 1)?;
                        let key = (k0, self.i);
                        if let Some((a, b)) = last {
                            if self.b[a..b] >= self.b[key.0..key.1] {
                                return None;
                            }
                        }
                        last = Some(key);
                        let v = self.item(depth + 1)?;
                        entries.push((k, v));
                    }
                    Value::Map(entries)
                }
            }
            7 => match ai {
                20 => Value::Bool(false),
                21 => Value::Bool(true),
                22 => Value::Null,
                25..=27 => Value::Float(self.float(start, ai, arg)?),
                _ => return None,
            },
            // Tags (6) have no canonical form here; nothing else exists.
            _ => return None,
        })
    }
}

impl<'a> Fast<'a> {
    /// The head of a map of at most what the bytes left can hold: its
    /// number of pairs.
    pub(crate) fn map(&mut self, depth: usize) -> Option<u64> {
        let (major, _, n) = self.head()?;
        if major != 5 || depth > MAX_DEPTH || n.checked_mul(2)? > (self.b.len() - self.i) as u64 {
            return None;
        }
        Some(n)
    }

    /// A text map key, which must sort strictly after the key before it
    /// (`last`, updated), as the encoding of `item`'s maps requires.
    pub(crate) fn key(&mut self, last: &mut Option<(usize, usize)>) -> Option<&'a str> {
        let k0 = self.i;
        let (major, _, n) = self.head()?;
        if major != 3 {
            return None;
        }
        let k = std::str::from_utf8(self.take(n)?).ok()?;
        if let Some((a, b)) = *last {
            if self.b[a..b] >= self.b[k0..self.i] {
                return None;
            }
        }
        *last = Some((k0, self.i));
        Some(k)
    }

    /// The float whose head (from `start`) was just read, if that head is
    /// its shortest exact form.
    fn float(&self, start: usize, ai: u8, arg: u64) -> Option<f64> {
        let f = match ai {
            25 => half::f16::from_bits(arg as u16).to_f64(),
            26 => f64::from(f32::from_bits(arg as u32)),
            _ => f64::from_bits(arg),
        };
        let mut again = Vec::with_capacity(9);
        encode_float(f, &mut again).ok()?;
        (again == self.b[start..self.i]).then_some(f)
    }

    /// The major type of the next item, not taken.
    pub(crate) fn peek_major(&self) -> Option<u8> {
        Some(self.b.get(self.i)? >> 5)
    }

    /// An unsigned integer.
    pub(crate) fn uint(&mut self) -> Option<u64> {
        match self.head()? {
            (0, _, n) => Some(n),
            _ => None,
        }
    }

    /// Null, or a 32-byte byte string.
    pub(crate) fn null_or_32(&mut self) -> Option<Option<[u8; 32]>> {
        match self.head()? {
            (7, 22, _) => Some(None),
            (2, _, 32) => Some(Some(self.take(32)?.try_into().ok()?)),
            _ => None,
        }
    }

    /// The item as JSON, exactly as `item` then `json::from_cbor` at
    /// `json_depth` would give it, without the tree in between; `None`
    /// wherever either of them would refuse (the long way then says why).
    pub(crate) fn json(&mut self, depth: usize, json_depth: usize) -> Option<serde_json::Value> {
        use serde_json::Value as Json;
        if json_depth > crate::json::MAX_EVENT_DEPTH + 1 {
            return None;
        }
        let start = self.i;
        let (major, ai, arg) = self.head()?;
        Some(match major {
            0 => Json::Number(arg.into()),
            1 => Json::Number(i64::try_from(-1 - i128::from(arg)).ok()?.into()),
            3 => Json::String(std::str::from_utf8(self.take(arg)?).ok()?.to_owned()),
            4 => {
                if depth > MAX_DEPTH || arg > (self.b.len() - self.i) as u64 {
                    return None;
                }
                let mut items = Vec::with_capacity(arg as usize);
                for _ in 0..arg {
                    items.push(self.json(depth + 1, json_depth + 1)?);
                }
                Json::Array(items)
            }
            5 => {
                if depth > MAX_DEPTH || arg.checked_mul(2)? > (self.b.len() - self.i) as u64 {
                    return None;
                }
                let mut out = serde_json::Map::new();
                let mut last = None;
                for _ in 0..arg {
                    let k = self.key(&mut last)?.to_owned();
                    let v = self.json(depth + 1, json_depth + 1)?;
                    out.insert(k, v);
                }
                Json::Object(out)
            }
            7 => match ai {
                20 => Json::Bool(false),
                21 => Json::Bool(true),
                22 => Json::Null,
                25..=27 => Json::Number(serde_json::Number::from_f64(self.float(start, ai, arg)?)?),
                _ => return None,
            },
            // Byte strings have no JSON; tags no canonical form here.
            _ => return None,
        })
    }
}

/// The length of the well-formed item at the start of `bytes`.
pub fn item_len(bytes: &[u8]) -> Result<usize, CborError> {
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
pub fn encode(value: &Value) -> Result<Vec<u8>, CborError> {
    let mut out = Vec::new();
    encode_into(value, &mut out, 0)?;
    Ok(out)
}

pub fn head(major: u8, n: u64, out: &mut Vec<u8>) {
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
pub fn encode_json(v: &serde_json::Value, out: &mut Vec<u8>) {
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

    /// The one-pass decoder takes every canonical item, and whatever it
    /// takes the long way takes too, as the same value: checked on
    /// canonical items of every kind and on thousands of single-byte
    /// mutations, cuts and extensions of them.
    #[test]
    fn one_pass_agrees_with_the_long_way() {
        let t = |s: &str| Value::Text(s.into());
        let i = |n: i128| Value::Integer(ciborium::value::Integer::try_from(n).unwrap());
        let values = vec![
            i(0),
            i(23),
            i(24),
            i(255),
            i(256),
            i(65536),
            i(u64::MAX as i128),
            i(-1),
            i(-25),
            i(-(u64::MAX as i128) - 1),
            Value::Bytes(vec![1; 30]),
            t("déjà vu"),
            Value::Bool(true),
            Value::Bool(false),
            Value::Null,
            Value::Float(0.5),
            Value::Float(-0.0),
            Value::Float(1.0e10),
            Value::Float(0.1),
            Value::Float(65504.0),
            Value::Float(1.0e-7),
            Value::Array(vec![i(1), t("a"), Value::Array(vec![])]),
            Value::Map(vec![
                (t("a"), i(1)),
                (
                    t("b"),
                    Value::Map(vec![(i(1), t("x")), (t("aa"), Value::Float(2.5))]),
                ),
                (t("seq"), i(300)),
                (
                    t("event"),
                    Value::Array(vec![Value::Bytes(vec![0; 40]), Value::Null]),
                ),
            ]),
        ];
        let mut taken = 0;
        let mut cases = 0;
        for v in &values {
            let b = encode(v).unwrap();
            assert_eq!(Fast::decode(&b).as_ref(), Some(v), "{}", hex::encode(&b));
            let mut mutants = vec![b[..b.len() - 1].to_vec(), [&b[..], &[0]].concat()];
            for k in 0..b.len() {
                for x in [
                    0x00u8, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x20, 0x38, 0x40, 0x58, 0x5f,
                    0x60, 0x61, 0x7f, 0x80, 0x81, 0x9f, 0xa0, 0xa1, 0xbf, 0xc0, 0xd8, 0xf4, 0xf7,
                    0xf8, 0xf9, 0xfa, 0xfb, 0xff, 0xc3, 0xe2,
                ] {
                    let mut m = b.clone();
                    m[k] = x;
                    mutants.push(m);
                }
                let mut m = b.clone();
                m[k] ^= 0x80;
                mutants.push(m);
            }
            for m in mutants {
                cases += 1;
                if let Some(fast) = Fast::decode(&m) {
                    taken += 1;
                    assert_eq!(decode_slow(&m), Ok(fast), "{}", hex::encode(&m));
                }
            }
        }
        assert!(cases > 5000 && taken > 200, "{cases} cases, {taken} taken");
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
