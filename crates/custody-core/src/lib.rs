//! custody-core: the ledger format, its verification, the rules an entry
//! must keep, the openness derivation and the Merkle tree. It never opens
//! a file or a socket: entries come in as bytes, and what is verified goes
//! out as values. The stores, the CLI, the server and the bindings are
//! built on it (the `custody` crate), never the reverse.
//!
//! The format is specified in `schemas/FORMAT.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[doc(hidden)]
pub mod cbor;
#[doc(hidden)]
pub mod checkpoint;
#[doc(hidden)]
pub mod disclosure;
#[doc(hidden)]
pub mod entry;
#[doc(hidden)]
pub mod error;
#[doc(hidden)]
pub mod event;
#[doc(hidden)]
pub mod json;
#[doc(hidden)]
pub mod license;
#[doc(hidden)]
pub mod merkle;
#[doc(hidden)]
pub mod openness;
#[doc(hidden)]
pub mod record;
#[doc(hidden)]
pub mod registry;
#[doc(hidden)]
pub mod rules;
#[doc(hidden)]
pub mod signature;
#[doc(hidden)]
pub mod time;
#[doc(hidden)]
pub mod verify;

pub use checkpoint::{open_note, sign_note, Checkpoint, TlogProof, VerifierKey};
pub use disclosure::{Disclosure, Selector, STATEMENT_DOMAIN};
pub use entry::{
    decode_entry, entry_hash, Hash, UnverifiedEntry, FORMAT_VERSION, HASH_DOMAIN, MAX_ENTRY_SIZE,
    SIGNATURE_DOMAIN,
};
pub use error::{Error, InputError, Invalid, Reason, VerifyError};
pub use event::{
    is_hidden_char, Access, Assignment, Event, EventKind, FieldError, Kind, License, Role, Terms,
    COMPONENTS,
};
pub use license::Expr as LicenseExpr;
pub use merkle::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash, root, verify_consistency,
    verify_inclusion, CompactRange, MemoryTree, Nodes, ProofError, TreeHash,
};
pub use openness::{
    openness, public_level, right_words, ArtifactLevel, Because, Cause, ComponentLevel, Level,
    LicenseInfo, Openness, Restriction, Withheld, CRITERIA,
};
pub use registry::{registry, LicenseClass, Registry, RegistryLicense};
pub use signature::{verify_signatures, SignatureItem};
pub use time::rfc3339;
pub use verify::{set_progress, Progress, VerifiedEntry, VerifiedLedger, VerifyOptions};
