//! Verifying a source end to end, whatever it is: a ledger in a store, an
//! exported file, or a partial export. Each entry is checked by the core's
//! `Chain`; this module finds the bytes and checks the store's head record
//! against what verified.

use crate::entry::Hash;
use crate::error::{Error, Invalid, Reason, VerifyError};
use crate::source::Source;
use crate::store::Location;
use crate::verify::{Chain, Verified, VerifiedEntry, VerifiedLedger, VerifyOptions};
use std::path::Path;

/// Whether `loc` is a file that starts like a partial export.
pub(crate) fn is_partial_file(loc: &Location) -> Result<bool, Error> {
    let Some(path) = loc.path() else {
        return Ok(false);
    };
    if path.is_dir() {
        return Ok(false);
    }
    let mut first = [0u8; 1];
    match std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut first)) {
        Ok(1) => Ok(crate::disclosure::is_partial(&first)),
        _ => Ok(false), // the verifier reports missing or empty files
    }
}

/// Verifies a ledger (directory or database), exported file or partial
/// export end to end.
pub fn verify_any(
    source: impl Into<Location>,
    opts: &VerifyOptions,
) -> Result<VerifiedLedger, Error> {
    verify(source, opts, |_| Ok(()))
}

/// Verifies a ledger directory, exported file or partial export end to end,
/// handing each verified entry (each disclosed one, for a partial export)
/// to `sink` in order.
pub fn verify(
    source: impl Into<Location>,
    opts: &VerifyOptions,
    sink: impl FnMut(VerifiedEntry) -> Result<(), Error>,
) -> Result<VerifiedLedger, Error> {
    check(&source.into(), opts, None, sink).map(|v| v.ledger)
}

/// Verifies any source, keeping the tree and noting the root at `watch`.
pub(crate) fn check(
    loc: &Location,
    opts: &VerifyOptions,
    watch: Option<u64>,
    sink: impl FnMut(VerifiedEntry) -> Result<(), Error>,
) -> Result<Verified, Error> {
    if let (true, Some(path)) = (is_partial_file(loc)?, loc.path()) {
        let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut r = std::io::BufReader::with_capacity(1 << 20, f);
        return crate::partial::verify_partial(path, &mut r, opts, watch, sink);
    }
    verify_whole(loc, opts, false, watch, sink)
}

/// Verifies a ledger directory or exported file; a partial export is
/// refused (commands that need every entry use this).
pub(crate) fn verify_whole(
    loc: &Location,
    opts: &VerifyOptions,
    tree: bool,
    watch: Option<u64>,
    sink: impl FnMut(VerifiedEntry) -> Result<(), Error>,
) -> Result<Verified, Error> {
    if is_partial_file(loc)? {
        return Err(Error::usage(format!(
            "{loc} is a partial export: this command needs a whole ledger (a directory or a whole export)"
        )));
    }
    let mut source = Source::open(loc)?;
    let stored = match &source {
        Source::Store(store) => Some(store.head()?.map_or(0, |(n, _)| n)),
        Source::File(..) => None,
    };
    let mut chain = Chain::new(opts.clone());
    if tree {
        chain = chain.with_tree();
    }
    if let Some(w) = watch {
        chain = chain.watch(w);
    }
    // The hash of the entry before the stored size, should the head record
    // disagree with the entries.
    let mut at_stored = None;
    let mut sink = sink;
    let v = chain.run(source.frames(), |e| {
        if Some(e.seq() + 1) == stored {
            at_stored = Some(*e.hash());
        }
        sink(e)
    })?;
    if let Source::Store(store) = &source {
        match store.head()? {
            Some((n, h)) if n == v.ledger.entries && h == v.ledger.head => {}
            Some((n, _)) => return Err(head_mismatch(&v.ledger, n, at_stored)),
            None => return Err(head_mismatch(&v.ledger, 0, None)),
        }
    }
    Ok(v)
}

/// The stored head record disagrees with the entries: reported at the
/// smaller of the two sizes, `at_stored` being the hash of the entry before
/// the stored size.
pub(crate) fn head_mismatch(v: &VerifiedLedger, stored: u64, at_stored: Option<Hash>) -> Error {
    let seq = v.entries.min(stored);
    let head = if seq == v.entries {
        Some(v.head)
    } else {
        at_stored
    };
    Error::Invalid(Box::new(Invalid {
        error: VerifyError {
            seq,
            reason: Reason::HeadMismatch,
            detail: format!(
                "the head record says {stored} entries, the entries verify to {} with another head",
                v.entries
            ),
        },
        entries: seq,
        head: if seq == 0 { None } else { head },
        owner: Some(v.owner),
    }))
}

/// Verifies `bytes` as an exported ledger (whole or partial).
pub fn verify_bytes(bytes: &[u8], opts: &VerifyOptions) -> Result<VerifiedLedger, Error> {
    let mut r = bytes;
    if crate::disclosure::is_partial(bytes) {
        return crate::partial::verify_partial(
            Path::new("<bytes>"),
            &mut r,
            opts,
            None,
            |_| Ok(()),
        )
        .map(|v| v.ledger);
    }
    let frames = crate::source::FileFrames::new("<bytes>".into(), &mut r);
    Chain::new(opts.clone())
        .run(frames, |_| Ok(()))
        .map(|v| v.ledger)
}
