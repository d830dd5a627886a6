//! Typed errors. What the user got wrong (`Input`, `Usage`), what the data
//! is (`Invalid`), and what the machine did (`Io`, `Locked`, `Store`) are
//! kept apart; the binary maps them to exit statuses 2, 1 and 2.

use std::fmt;
use std::path::{Path, PathBuf};

/// Everything the library can fail with.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An event in the input was refused; nothing was written.
    Input(InputError),
    /// The request cannot be carried out as asked (bad argument, file of the wrong kind...).
    Usage(String),
    /// The ledger failed verification.
    Invalid(Box<Invalid>),
    /// Reading or writing a file failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Another process holds the ledger's write lock.
    Locked(PathBuf),
    /// The ledger's database reported an error.
    Store(String),
    /// The ledger's database could not be reached, or gave up on the
    /// transaction (a restart, a conflict): nothing was written, and trying
    /// again may succeed.
    Unavailable(String),
    /// The answer to the database's commit was lost and the batch could
    /// not be found after: it may or may not have been committed.
    Unconfirmed(String),
}

impl Error {
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }
    /// The same error again, for each of several requests it answers.
    pub fn again(&self) -> Self {
        match self {
            Error::Input(e) => Error::Input(e.clone()),
            Error::Usage(m) => Error::Usage(m.clone()),
            Error::Invalid(i) => Error::Invalid(i.clone()),
            Error::Io { path, source } => Error::Io {
                path: path.clone(),
                source: std::io::Error::new(source.kind(), source.to_string()),
            },
            Error::Locked(p) => Error::Locked(p.clone()),
            Error::Store(m) => Error::Store(m.clone()),
            Error::Unavailable(m) => Error::Unavailable(m.clone()),
            Error::Unconfirmed(m) => Error::Unconfirmed(m.clone()),
        }
    }
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(e) => e.fmt(f),
            Error::Usage(m) => f.write_str(m),
            Error::Invalid(i) => i.error.fmt(f),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Locked(p) => write!(
                f,
                "{}: the ledger is in use by another custody process",
                p.display()
            ),
            Error::Store(m) => write!(f, "ledger database error: {m}"),
            Error::Unavailable(m) => write!(f, "ledger database unavailable: {m}"),
            Error::Unconfirmed(m) => write!(f, "ledger database error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// A refused input event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// 1-based line of the JSON Lines input.
    pub line: usize,
    /// The field at fault (`inputs[1]`, `license.terms.modify`), empty for the whole line.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// Why a ledger entry was rejected. The codes are part of the format: an
/// independent verifier reports the same code for the same entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The ledger has no entries.
    Empty,
    /// The entry is larger than 64 KiB.
    TooLarge,
    /// Not a well-formed entry item (truncated, wrong structure, trailing bytes).
    Malformed,
    /// Well formed, but not the deterministic CBOR encoding of its value.
    NonCanonical,
    /// The body lacks a field, has an unknown one, or one of the wrong type.
    BadBody,
    /// A format version this verifier does not know.
    UnsupportedVersion,
    /// The sequence number is not the entry's position.
    BadSequence,
    /// The ledger id is not the genesis entry's hash.
    BadLedgerId,
    /// The previous-entry hash is not the hash of the entry before.
    BadPrev,
    /// The genesis entry is not well formed, or a genesis event appears later.
    BadGenesis,
    /// `roles` is not the number of genesis, grant and revoke entries up to
    /// this one: one is missing (or, in a partial export, withheld).
    BadRoles,
    /// The signature does not verify (`verify_strict`).
    BadSignature,
    /// The signer holds no role allowing this event.
    Unauthorized,
    /// The signer's key had been revoked.
    Revoked,
    /// The signer holds no authority over the artifact the event is about:
    /// it is neither the artifact's holder nor an owner.
    NoAuthority,
    /// The event is not a well-formed event of the vocabulary.
    BadEvent,
    /// The event breaks a ledger rule (unknown artifact, lineage cycle...).
    RuleViolation,
    /// The genesis key differs from the pinned owner key.
    OwnerMismatch,
    /// The stored head record disagrees with the entries.
    HeadMismatch,
    /// The ledger has fewer entries than a checkpoint it must be consistent with.
    Truncated,
    /// The ledger's tree at a checkpoint's size has another root: history was rewritten.
    Fork,
    /// The checkpoint names another log (origin).
    ForeignCheckpoint,
    /// A partial export's entries and withheld hashes do not give its checkpoint.
    BadDisclosure,
}

impl Reason {
    /// The stable code of this reason, as written in the format document.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Empty => "empty",
            Reason::TooLarge => "too-large",
            Reason::Malformed => "malformed",
            Reason::NonCanonical => "non-canonical",
            Reason::BadBody => "bad-body",
            Reason::UnsupportedVersion => "unsupported-version",
            Reason::BadSequence => "bad-sequence",
            Reason::BadLedgerId => "bad-ledger-id",
            Reason::BadPrev => "bad-prev",
            Reason::BadGenesis => "bad-genesis",
            Reason::BadRoles => "bad-roles",
            Reason::BadSignature => "bad-signature",
            Reason::Unauthorized => "unauthorized",
            Reason::Revoked => "revoked",
            Reason::NoAuthority => "no-authority",
            Reason::BadEvent => "bad-event",
            Reason::RuleViolation => "rule-violation",
            Reason::OwnerMismatch => "owner-mismatch",
            Reason::HeadMismatch => "head-mismatch",
            Reason::Truncated => "truncated",
            Reason::Fork => "fork",
            Reason::ForeignCheckpoint => "foreign-checkpoint",
            Reason::BadDisclosure => "bad-disclosure",
        }
    }
}

/// The first bad entry of a ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    /// Its sequence number (its 0-based position).
    pub seq: u64,
    /// The reason class.
    pub reason: Reason,
    /// Details for a person.
    pub detail: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "entry {}: {}: {}",
            self.seq,
            self.reason.code(),
            self.detail
        )
    }
}

/// A ledger that failed verification, with what was established before the
/// first bad entry.
#[derive(Debug, Clone)]
pub struct Invalid {
    /// The first bad entry.
    pub error: VerifyError,
    /// How many entries verified before it.
    pub entries: u64,
    /// Hash of the last entry that verified.
    pub head: Option<[u8; 32]>,
    /// The genesis key, when the genesis entry could be read.
    pub owner: Option<[u8; 32]>,
}
