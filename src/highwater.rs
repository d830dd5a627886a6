//! Each signing key's high-water mark for each ledger: the size and head
//! of the longest history it verified and built on, kept outside the
//! ledger directory.
//!
//! The verification record (`record`) lives in the directory, so whoever
//! can write the directory can restore an older copy of it, record and
//! all: a genuine, older state. Without a mark kept elsewhere, the key's
//! next append or checkpoint would build on that older history and sign a
//! fork of what it signed before (a revocation since made would vanish).
//! The mark is a small file under the user's state directory:
//! `$CUSTODY_STATE_DIR`, else `$XDG_STATE_HOME/custody`, else
//! `$HOME/.local/state/custody`; one file per key and ledger id.

use crate::entry::Hash;
use crate::error::Error;
use std::path::PathBuf;

/// Where marks are kept, if a state directory can be found.
fn dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("CUSTODY_STATE_DIR")
        .or_else(|| var("XDG_STATE_HOME").map(|d| d.join("custody")))
        .or_else(|| var("HOME").map(|h| h.join(".local/state/custody")))
}

/// The mark's file for a key and a ledger.
pub(crate) fn path(key: &[u8; 32], ledger: &Hash) -> Option<PathBuf> {
    Some(
        dir()?
            .join(hex::encode(&key[..16]))
            .join(hex::encode(ledger)),
    )
}

/// A key's mark for a ledger: entries and head. `None` when there is none
/// (or no state directory); a damaged mark is an error, not forgotten.
pub(crate) fn read(key: &[u8; 32], ledger: &Hash) -> Result<Option<(u64, Hash)>, Error> {
    let Some(p) = path(key, ledger) else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&p, e)),
    };
    let bad = || {
        Error::usage(format!(
            "{}: not a custody high-water mark (`ENTRIES HEAD-HEX`); delete it to forget it",
            p.display()
        ))
    };
    let (n, h) = text.trim().split_once(' ').ok_or_else(bad)?;
    let n: u64 = n.parse().map_err(|_| bad())?;
    let mut head = [0u8; 32];
    hex::decode_to_slice(h, &mut head).map_err(|_| bad())?;
    Ok(Some((n, head)))
}

/// Checks, before a batch is committed, that the key's mark for a ledger
/// can be written: an append whose mark could not follow would be durable
/// but unprotected, and reported as failed.
pub(crate) fn prepare(key: &[u8; 32], ledger: &Hash) -> Result<(), Error> {
    let Some(p) = path(key, ledger) else {
        return Ok(());
    };
    let parent = make_parent(&p)?;
    tempfile::NamedTempFile::new_in(&parent)
        .map(drop)
        .map_err(|e| Error::io(&parent, e))
}

fn make_parent(p: &std::path::Path) -> Result<PathBuf, Error> {
    let parent = p.parent().map(PathBuf::from).unwrap_or_default();
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(&parent).map_err(|e| Error::io(&parent, e))?;
    Ok(parent)
}

/// Raises a key's mark for a ledger to `entries` and `head`.
pub(crate) fn write(key: &[u8; 32], ledger: &Hash, entries: u64, head: &Hash) -> Result<(), Error> {
    let Some(p) = path(key, ledger) else {
        return Ok(());
    };
    let text = format!("{entries} {}\n", hex::encode(head));
    // Already so: nothing to write (and no disk flush to wait for).
    if std::fs::read_to_string(&p).is_ok_and(|t| t == text) {
        return Ok(());
    }
    make_parent(&p)?;
    crate::files::write_atomic(&p, text.as_bytes())
}

/// The file binding a ledger location (a directory's path, a database
/// URL without its password) to the ledger a key built on there.
fn binding_path(key: &[u8; 32], location: &str) -> Option<PathBuf> {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(location.as_bytes());
    Some(
        dir()?
            .join(hex::encode(&key[..16]))
            .join(format!("at-{}", hex::encode(&h[..16]))),
    )
}

/// Refuses when a location (any of the names given for it) now holds
/// another ledger than the one this key built on there (a database row
/// renamed, a directory replaced): its mark is per ledger, so another
/// ledger would look new to it, and the key would sign into a ledger it
/// never chose.
pub(crate) fn check_binding(key: &[u8; 32], names: &[String], ledger: &Hash) -> Result<(), Error> {
    for location in names {
        let Some(p) = binding_path(key, location) else {
            return Ok(());
        };
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(&p, e)),
        };
        let bound = text.split_whitespace().next().unwrap_or("");
        if bound != hex::encode(ledger) {
            return Err(Error::usage(format!(
                "{location} now holds ledger {}, not ledger {bound} that this key built on \
                 there: nothing was signed into it. If the ledger there was replaced on \
                 purpose, delete {}",
                hex::encode(ledger),
                p.display()
            )));
        }
    }
    Ok(())
}

/// Records that this key built on `ledger` at a location (under each of
/// the names given for it).
pub(crate) fn bind(key: &[u8; 32], names: &[String], ledger: &Hash) -> Result<(), Error> {
    for location in names {
        let Some(p) = binding_path(key, location) else {
            return Ok(());
        };
        let text = format!("{} {location}\n", hex::encode(ledger));
        // Already so: nothing to write (and no disk flush to wait for).
        if std::fs::read_to_string(&p).is_ok_and(|t| t == text) {
            continue;
        }
        make_parent(&p)?;
        crate::files::write_atomic(&p, text.as_bytes())?;
    }
    Ok(())
}

/// A batch this key signed and sent that is not known to be stored: where
/// it was signed (size and head before it), when, and the head it leads
/// to. Kept beside the mark until the batch is stored, so that signing
/// again at that place gives the same bytes or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pending {
    pub first: u64,
    pub prev: Hash,
    pub time: u64,
    pub head: Hash,
    /// SHA-256 of the events the batch was signed from, so that the same
    /// append run again can tell that its batch is already stored.
    pub input: Option<Hash>,
}

pub(crate) fn pending_path(key: &[u8; 32], ledger: &Hash) -> Option<PathBuf> {
    path(key, ledger).map(|p| p.with_extension("pending"))
}

/// The key's pending batch for a ledger, if any.
pub(crate) fn read_pending(key: &[u8; 32], ledger: &Hash) -> Result<Option<Pending>, Error> {
    let Some(p) = pending_path(key, ledger) else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&p, e)),
    };
    let bad = || {
        Error::usage(format!(
            "{}: not a custody pending batch (`FIRST PREV-HEX TIME HEAD-HEX [INPUT-HEX]`)",
            p.display()
        ))
    };
    let f: Vec<&str> = text.split_whitespace().collect();
    let (first, prev, time, head, input) = match f.as_slice() {
        [a, b, c, d] => (a, b, c, d, None),
        [a, b, c, d, e] => (a, b, c, d, Some(e)),
        _ => return Err(bad()),
    };
    let mut pv = [0u8; 32];
    let mut hd = [0u8; 32];
    hex::decode_to_slice(prev, &mut pv).map_err(|_| bad())?;
    hex::decode_to_slice(head, &mut hd).map_err(|_| bad())?;
    let input = match input {
        None => None,
        Some(x) => {
            let mut h = [0u8; 32];
            hex::decode_to_slice(x, &mut h).map_err(|_| bad())?;
            Some(h)
        }
    };
    Ok(Some(Pending {
        first: first.parse().map_err(|_| bad())?,
        prev: pv,
        time: time.parse().map_err(|_| bad())?,
        head: hd,
        input,
    }))
}

/// Records a batch about to be sent.
pub(crate) fn write_pending(key: &[u8; 32], ledger: &Hash, p: &Pending) -> Result<(), Error> {
    let Some(path) = pending_path(key, ledger) else {
        return Ok(());
    };
    make_parent(&path)?;
    crate::files::write_atomic(
        &path,
        format!(
            "{} {} {} {}{}\n",
            p.first,
            hex::encode(p.prev),
            p.time,
            hex::encode(p.head),
            p.input
                .map(|h| format!(" {}", hex::encode(h)))
                .unwrap_or_default()
        )
        .as_bytes(),
    )
}

/// Forgets the pending batch (stored, or its place taken by others).
pub(crate) fn clear_pending(key: &[u8; 32], ledger: &Hash) -> Result<(), Error> {
    let Some(p) = pending_path(key, ledger) else {
        return Ok(());
    };
    match std::fs::remove_file(&p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(&p, e)),
    }
}

/// Where a key keeps its sealed state of a served ledger (by the URL the
/// client used): a cache, which a wrong or stale copy only makes slower.
pub(crate) fn remote_state_path(key: &[u8; 32], base: &str) -> Option<PathBuf> {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(base.as_bytes());
    Some(
        dir()?
            .join(hex::encode(&key[..16]))
            .join(format!("remote-{}", hex::encode(&h[..16]))),
    )
}
