//! custody: an append-only, hash-chained, Ed25519-signed ledger of the
//! provenance of a machine-learning pipeline's parts, and its verifier.
//!
//! The library never prints and never exits; the `custody` binary is a thin
//! layer over it. The format is specified in `schemas/FORMAT.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod cbor;
mod checkpoint;
mod disclosure;
mod entry;
mod error;
mod event;
mod files;
mod highwater;
mod json;
mod keys;
mod ledger;
mod license;
mod merkle;
mod openlineage;
mod openness;
mod record;
mod registry;
mod remote;
mod rules;
mod serve;
mod signature;
mod source;
mod store;
mod time;
mod tlog;
mod verify;

pub use checkpoint::{open_note, sign_note, Checkpoint, TlogProof, VerifierKey};
pub use disclosure::{export_partial, Disclosure, PartialReport, Selector, STATEMENT_DOMAIN};
pub use entry::{
    decode_entry, entry_hash, Hash, UnverifiedEntry, FORMAT_VERSION, HASH_DOMAIN, MAX_ENTRY_SIZE,
    SIGNATURE_DOMAIN,
};
pub use error::{Error, InputError, Invalid, Reason, VerifyError};
pub use event::{
    is_hidden_char, Access, Assignment, Event, EventKind, FieldError, Kind, License, Role, Terms,
    COMPONENTS,
};
pub use files::{check_output, write_atomic, Output};
pub use keys::{generate, public_path, read_public_key, read_signing_key, write_key_files};
pub use ledger::{
    append, append_with, export, import, init, sign_entry, verify, verify_any, verify_bytes,
    AppendOptions, AppendReport, EntryHeader,
};
pub use license::Expr as LicenseExpr;
pub use merkle::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash, root, verify_consistency,
    verify_inclusion, CompactRange, MemoryTree, Nodes, ProofError, TreeHash,
};
pub use openlineage::{dataset_id, map_event, Mapped, EVENT_PARAMETER};
pub use openness::{
    openness, public_level, right_words, ArtifactLevel, Because, Cause, ComponentLevel, Level,
    LicenseInfo, Openness, Restriction, Withheld, CRITERIA,
};
pub use registry::{registry, LicenseClass, Registry, RegistryLicense};
pub use remote::{
    confirm_stored, load_state, save_state, sign_for_server, sign_for_server_after, state_size,
    RemoteBatch,
};
pub use serve::{reason_of, Appended, Ingested, Served, Stale};
pub use signature::{verify_signatures, SignatureItem};
pub use store::{migrate, set_lock_wait, Location};
pub use time::rfc3339;
pub use tlog::{
    check_entry, checkpoint, default_origin, prove_consistency, prove_inclusion, verify_proof,
    verify_with_checkpoint, LedgerTree, ProofCheckpoint, ProvenEntry,
};
pub use verify::{set_progress, Progress, VerifiedEntry, VerifiedLedger, VerifyOptions};

/// Re-exported so callers name the same key type.
pub use ed25519_dalek::SigningKey;
