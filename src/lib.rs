//! custody: an append-only, hash-chained, Ed25519-signed ledger of the
//! provenance of a machine-learning pipeline's parts, and its verifier.
//!
//! The library never prints and never exits; the `custody` binary is a thin
//! layer over it. The format, verification, rules, openness and Merkle
//! tree are `custody_core`, which does no I/O; this crate adds the stores
//! (a sled directory, PostgreSQL), files and keys, and the parts of the
//! server and remote client that are not HTTP. The format is specified in
//! `schemas/FORMAT.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// The core's modules, under the names the rest of this crate uses.
mod cbor {
    pub use custody_core::cbor::*;
}
mod checkpoint {
    pub use custody_core::checkpoint::*;
}
mod disclosure {
    pub use custody_core::disclosure::*;
}
mod entry {
    pub use custody_core::entry::*;
}
mod error {
    pub use custody_core::error::*;
}
mod event {
    pub use custody_core::event::*;
}
mod json {
    pub use custody_core::json::*;
}
mod license {
    pub use custody_core::license::*;
}
mod merkle {
    pub use custody_core::merkle::*;
}
mod openness {
    pub use custody_core::openness::*;
}
mod record {
    pub use custody_core::record::*;
}
mod registry {
    pub use custody_core::registry::*;
}
mod rules {
    pub use custody_core::rules::*;
}
mod signature {
    pub use custody_core::signature::*;
}
mod time {
    pub use custody_core::time::*;
}
mod verify {
    pub use custody_core::verify::*;
}

mod attest;
mod client;
mod digest;
mod disclose;
mod files;
mod highwater;
mod keys;
mod ledger;
mod openlineage;
mod openness_json;
mod partial;
mod remote;
mod serve;
mod source;
mod store;
mod tlog;
mod verifying;

pub use attest::{dsse_envelope, dsse_keyid, dsse_pae, INTOTO_PAYLOAD_TYPE};
pub use checkpoint::{open_note, sign_note, Checkpoint, TlogProof, VerifierKey};
pub use client::{append_remote, fetch, remote_base, RemoteReport};
pub use digest::{digest_path, hash_file, recorded_digest, DigestOptions, FileDigest, PathDigest};
pub use disclose::{export_partial, PartialReport};
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
pub use files::{check_output, write_atomic, Output};
pub use keys::{generate, public_path, read_public_key, read_signing_key, write_key_files};
pub use ledger::{
    append, append_with, export, import, init, sign_entry, AppendOptions, AppendReport, EntryHeader,
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
pub use openness_json::{json_safe, partial_json, write_openness_json};
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
    check_entry, checkpoint, default_origin, prove_consistency, prove_consistency_with,
    prove_inclusion, verify_proof, verify_with_checkpoint, LedgerTree, ProofCheckpoint,
    ProvenEntry,
};
pub use verify::{set_progress, Progress, VerifiedEntry, VerifiedLedger, VerifyOptions};
pub use verifying::{verify, verify_any, verify_bytes};

/// Re-exported so callers name the same key type.
pub use ed25519_dalek::SigningKey;
