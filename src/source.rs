//! Where entries are read from: a ledger directory or an exported file (a
//! CBOR sequence, RFC 8742, of entries).

use crate::entry::MAX_ENTRY_SIZE;
use crate::error::{Error, Reason};
use crate::store::{Location, Mode, Store};
use crate::verify::Frame;
use std::fs::File;
use std::io::{BufReader, ErrorKind, Read};
use std::path::PathBuf;

/// An opened source of entries.
pub(crate) enum Source {
    Store(Box<dyn Store>),
    File(PathBuf, BufReader<File>),
}

impl Source {
    pub fn open(loc: &Location) -> Result<Source, Error> {
        let path = match loc {
            Location::Postgres(_) => {
                return Ok(Source::Store(crate::store::open(loc, Mode::Read)?))
            }
            Location::Path(p) => p.as_path(),
        };
        if path.is_dir() {
            return Ok(Source::Store(crate::store::open(loc, Mode::Read)?));
        }
        let f = File::open(path).map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                Error::usage(format!(
                    "{}: no such ledger directory or file (`custody init {} --key KEY --name NAME` \
                     creates a ledger; `custody import FILE {}` makes one of an export)",
                    path.display(),
                    path.display(),
                    path.display()
                ))
            } else {
                Error::io(path, e)
            }
        })?;
        Ok(Source::File(
            path.to_path_buf(),
            BufReader::with_capacity(1 << 20, f),
        ))
    }

    /// The entries, in order.
    pub fn frames(&mut self) -> Box<dyn Iterator<Item = Result<Frame, Error>> + '_> {
        match self {
            Source::Store(s) => Box::new(s.entries_from(0).map(|r| r.map(Frame::Bytes))),
            Source::File(path, r) => Box::new(FileFrames::new(path.clone(), r)),
        }
    }
}

/// Splits an exported file into entry items by their CBOR heads, without
/// trusting any length beyond the entry size limit. In a partial export an
/// item may also be a withheld entry's leaf hash, and there are exactly as
/// many items as its checkpoint's size.
pub(crate) struct FileFrames<'a, R: Read> {
    pub path: PathBuf,
    pub r: &'a mut R,
    pub done: bool,
    /// For a partial export: the checkpoint's size, and the items read so far.
    pub partial: Option<(u64, u64)>,
}

impl<'a, R: Read> FileFrames<'a, R> {
    /// The frames of a whole export.
    pub fn new(path: PathBuf, r: &'a mut R) -> Self {
        FileFrames {
            path,
            r,
            done: false,
            partial: None,
        }
    }
}

enum Step {
    Eof,
    Frame(Frame),
}

impl<R: Read> FileFrames<'_, R> {
    fn read_exact_or(&mut self, buf: &mut [u8]) -> Result<bool, Error> {
        match self.r.read_exact(buf) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(Error::io(&self.path, e)),
        }
    }

    fn step(&mut self) -> Result<Step, Error> {
        let mut first = [0u8; 1];
        loop {
            match self.r.read(&mut first) {
                Ok(0) => return Ok(Step::Eof),
                Ok(_) => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(&self.path, e)),
            }
        }
        let bad = |m: &str| Ok(Step::Frame(Frame::Bad(Reason::Malformed, m.to_string())));
        if let Some((size, read)) = &mut self.partial {
            if *read == *size {
                return Ok(Step::Frame(Frame::Bad(
                    Reason::BadDisclosure,
                    format!("more items than the {size} entries of the checkpoint"),
                )));
            }
            *read += 1;
            if first[0] == 0x58 {
                // A withheld entry: exactly the byte string `58 20` + 32 bytes.
                let mut rest = [0u8; 33];
                if !self.read_exact_or(&mut rest)? {
                    return bad("truncated withheld-entry hash");
                }
                if rest[0] != 0x20 {
                    return bad("neither an entry nor a 32-byte withheld-entry hash");
                }
                let mut leaf = [0u8; 32];
                leaf.copy_from_slice(&rest[1..]);
                return Ok(Step::Frame(Frame::Withheld(leaf)));
            }
            if first[0] != 0x82 {
                return bad("neither an entry nor a 32-byte withheld-entry hash");
            }
        }
        // A 2-element array has exactly one deterministic head byte.
        if first[0] != 0x82 {
            return bad("not an entry (expected a 2-element CBOR array)");
        }
        let mut out = Vec::with_capacity(16);
        out.push(0x82);
        for what in ["body", "signature"] {
            let mut h = [0u8; 1];
            if !self.read_exact_or(&mut h)? {
                return bad("truncated entry");
            }
            if h[0] >> 5 != 2 {
                return bad(&format!("entry {what} is not a byte string"));
            }
            out.push(h[0]);
            let info = h[0] & 0x1f;
            let extra = match info {
                0..=23 => 0,
                24 => 1,
                25 => 2,
                26 => 4,
                27 => 8,
                _ => {
                    return bad(&format!(
                        "entry {what} has an indefinite or reserved length"
                    ))
                }
            };
            let mut len_bytes = [0u8; 8];
            if !self.read_exact_or(&mut len_bytes[8 - extra..])? {
                return bad("truncated entry");
            }
            out.extend_from_slice(&len_bytes[8 - extra..]);
            let len = if extra == 0 {
                u64::from(info)
            } else {
                u64::from_be_bytes(len_bytes)
            };
            if len as u128 + out.len() as u128 > MAX_ENTRY_SIZE as u128 {
                return Ok(Step::Frame(Frame::Bad(
                    Reason::TooLarge,
                    format!(
                        "entry {what} of {len} bytes exceeds the {MAX_ENTRY_SIZE}-byte entry limit"
                    ),
                )));
            }
            let start = out.len();
            // Room for the signature too, once the body's length is known:
            // one allocation per entry, of its size.
            if what == "body" {
                out.reserve_exact(len as usize + 2 + 64);
            }
            out.resize(start + len as usize, 0);
            if !self.read_exact_or(&mut out[start..])? {
                return bad("truncated entry");
            }
        }
        Ok(Step::Frame(Frame::Bytes(out)))
    }
}

impl<R: Read> Iterator for FileFrames<'_, R> {
    type Item = Result<Frame, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(Step::Eof) => {
                self.done = true;
                None
            }
            Ok(Step::Frame(f)) => {
                if matches!(f, Frame::Bad(..)) {
                    self.done = true;
                }
                Some(Ok(f))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
