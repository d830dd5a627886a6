//! The operations on a ledger: create, append, verify, export, import.

use crate::entry::{self, entry_hash, Hash, Header};
use crate::error::{Error, InputError, Invalid, Reason, VerifyError};
use crate::event::Event;
use crate::files::Output;
use crate::merkle::CompactRange;
use crate::rules::State;
use crate::source::Source;
use crate::store::{self, Location, Mode, Store};
use crate::verify::{Chain, Resume, Verified, VerifiedLedger, VerifyOptions};
use ed25519_dalek::SigningKey;
use serde_json::Value as Json;
use std::io::{BufRead, Read, Write};
use std::path::Path;

/// Longest input line read; no entry can hold more anyway.
const MAX_LINE: usize = 1024 * 1024;
/// Entries per database batch when importing.
const IMPORT_BATCH: usize = 4096;

/// What `append` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendReport {
    /// Entries appended by this call.
    pub appended: u64,
    /// Entries in the ledger now.
    pub entries: u64,
    /// Hash of the last entry.
    pub head: Hash,
    /// Something that went wrong after the batch was durably appended (the
    /// key's high-water mark could not be raised): the batch stands.
    pub warnings: Vec<String>,
    /// Attempts that the database gave up on before this one succeeded.
    pub retries: u32,
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Creates a ledger (a directory, or a ledger in a PostgreSQL database)
/// with its genesis entry, signed by `key`, which becomes the first owner.
/// Returns the ledger id. A directory is built under a temporary name
/// beside it and renamed at the end, a database ledger in one transaction,
/// so an interrupted `init` leaves no ledger behind.
pub fn init(ledger: impl Into<Location>, key: &SigningKey, name: &str) -> Result<Hash, Error> {
    let loc = ledger.into();
    let event = serde_json::json!({"type": "genesis", "name": name});
    Event::from_json(&event, true)
        .map_err(|e| Error::usage(format!("ledger name: {}", e.message)))?;
    let header = Header {
        seq: 0,
        prev: None,
        ledger: None,
        time: now(),
        roles: 1,
    };
    let bytes = entry::build(key, &header, &event).map_err(Error::Usage)?;
    let hash = entry_hash(&bytes);
    crate::highwater::prepare(&key.verifying_key().to_bytes(), &hash)?;
    let mut place = None;
    store::build(&loc, |store| {
        place = store.place();
        // The owner's record: verified up to the genesis entry.
        let mut state = State::default();
        let parsed = crate::entry::ParsedEntry::parse(bytes.clone())
            .map_err(|(_, d)| Error::Store(format!("the genesis entry does not parse: {d}")))?;
        state
            .apply(0, &parsed.signer, &parsed.event)
            .map_err(|e| Error::Store(format!("the genesis entry: {}", e.error)))?;
        let mut tree = CompactRange::default();
        tree.push(crate::merkle::leaf_hash(&bytes));
        let resume = Resume {
            state,
            entries: 1,
            head: hash,
            id: hash,
            owner: key.verifying_key().to_bytes(),
            tree,
        };
        let rec = crate::record::seal(key, &resume);
        let pubkey = key.verifying_key().to_bytes();
        store::append_entries(
            store,
            0,
            std::slice::from_ref(&bytes),
            hash,
            true,
            rec.as_deref().map(|r| (&pubkey, r)),
        )
    })?;
    crate::highwater::write(&key.verifying_key().to_bytes(), &hash, 1, &hash)?;
    let names = place.map_or_else(|| loc.binding_names(), |p| vec![p]);
    crate::highwater::bind(&key.verifying_key().to_bytes(), &names, &hash)?;
    Ok(hash)
}

/// How `append_with` appends.
#[derive(Debug, Clone, Copy)]
pub struct AppendOptions {
    /// Keep the Merkle tree up to date (the default). Without it the tree
    /// lags until an append that keeps it catches it up; proofs refuse a
    /// lagging tree. For measuring the tree's cost.
    pub merkle_tree: bool,
    /// Accept input with no events (appending nothing). Refused by
    /// default: an empty or failed input pipe is rarely what was meant.
    pub allow_empty: bool,
    /// Append only to a ledger whose owner (genesis signer) is this key.
    pub owner: Option<[u8; 32]>,
    /// An `artifact` line's `path` (whose digest is computed at append
    /// time) is also recorded, as the artifact's `uri` (`file://` and the
    /// absolute path) when it has none. Not recorded by default.
    pub record_paths: bool,
}

impl Default for AppendOptions {
    fn default() -> Self {
        AppendOptions {
            merkle_tree: true,
            allow_empty: false,
            owner: None,
            record_paths: false,
        }
    }
}

/// Appends the JSON Lines events of `input`, signed by `key`, as one atomic
/// batch. Every line is checked before anything is written: on any error
/// the ledger is left as it was.
pub fn append<R: BufRead>(
    ledger: impl Into<Location>,
    key: &SigningKey,
    input: R,
) -> Result<AppendReport, Error> {
    append_with(ledger, key, input, &AppendOptions::default())
}

/// Verifies a ledger directory as far as `key` needs to build on it: from
/// the end of `key`'s authenticated record of an earlier verification, or
/// from the start when there is none, signatures included. The store's head
/// record must match what verified.
pub(crate) fn verified_for(
    store: &dyn Store,
    key: &SigningKey,
) -> Result<(Verified, Option<u64>), Error> {
    verified_from(store, key, None)
}

/// As [`verified_for`], resuming from `hint` (what this process verified a
/// moment ago) instead of the stored record when given.
fn verified_from(
    store: &dyn Store,
    key: &SigningKey,
    hint: Option<Resume>,
) -> Result<(Verified, Option<u64>), Error> {
    let pubkey = key.verifying_key().to_bytes();
    let (n, head) = store
        .head()?
        .ok_or_else(|| Error::Store("the ledger has no head record".into()))?;
    let genesis = store
        .entry(0)?
        .ok_or_else(|| Error::Store("entry 0 is missing".into()))?;
    let id = entry_hash(&genesis);
    // The key's mark, kept outside the directory: a record older than it
    // came back with a rolled-back directory, and is not resumed from.
    let mark = crate::highwater::read(&pubkey, &id)?;
    let stored = |store: &dyn Store| -> Result<Option<Resume>, Error> {
        Ok(store
            .record(&pubkey)?
            .and_then(|b| crate::record::open(key, &b)))
    };
    // A stored record is resumed only if the history it covers holds the
    // key's mark: one past the mark (written by this key on another
    // machine, or by an attempt the database then undid) must chain back
    // to the marked head through the entries stored between them, or it
    // may cover a fork. A record of another ledger (or of this one under
    // another entry 0) is not this ledger's: verify from the start, entry
    // 0 included, so that the mark looked up above is the one of the
    // ledger that verifies.
    let holds_mark = |r: &Resume| -> Result<bool, Error> {
        Ok(r.id == id
            && match mark {
                None => true,
                Some((m, hm)) if r.entries == m => r.head == hm,
                Some((m, hm)) => r.entries > m && chains(store, m, &hm, r.entries, &r.head)?,
            })
    };
    let resume = match hint {
        // Nothing came since the hint (this process's verification a
        // moment ago, held to the mark then): nothing to read or verify.
        Some(h) if h.entries == n => Some(h).filter(|h| h.id == id),
        // Others appended meanwhile; the key's stored record may be
        // fresher than the hint (another process with this key wrote it).
        Some(h) => match stored(store)? {
            Some(r) if r.id == h.id && r.entries > h.entries && holds_mark(&r)? => Some(r),
            _ => Some(h).filter(|h| h.id == id),
        },
        None => match stored(store)? {
            Some(r) if holds_mark(&r)? => Some(r),
            _ => None,
        },
    };
    if let Some(r) = &resume {
        // This key verified more entries than the directory now holds: the
        // directory was rolled back or cut. Building on it would sign a
        // fork of what this key already signed or vouched for.
        if r.entries > n {
            return Err(Error::Invalid(Box::new(Invalid {
                error: VerifyError {
                    seq: n,
                    reason: Reason::Truncated,
                    detail: format!(
                        "this key verified {} entries of this ledger (head {}), the ledger now \
                         holds {n}: it was rolled back or cut; restore it from an export or a \
                         backup with every entry",
                        r.entries,
                        hex::encode(r.head)
                    ),
                },
                entries: n,
                head: Some(head),
                owner: Some(r.owner),
            })));
        }
    }
    let from = resume.as_ref().map(|r| r.entries);
    let chain = match resume {
        Some(r) => Chain::resume(VerifyOptions::default(), r),
        None => Chain::new(VerifyOptions::default()).with_tree(),
    };
    let frames = store
        .entries_from(from.unwrap_or(0))
        .map(|r| r.map(crate::verify::Frame::Bytes));
    let mut at_mark = None;
    let v = chain.run(frames, |e| {
        if mark.is_some_and(|(m, _)| e.seq() + 1 == m) {
            at_mark = Some(*e.hash());
        }
        Ok(())
    })?;
    if n != v.ledger.entries || head != v.ledger.head {
        return Err(crate::verifying::head_mismatch(&v.ledger, n, None));
    }
    check_mark(
        &pubkey,
        &id,
        mark,
        v.ledger.entries,
        at_mark,
        v.ledger.owner,
    )?;
    Ok((v, from))
}

/// Whether the stored entries `m - 1` to `end - 1` hash to `hm` at `m - 1`
/// and chain, each naming the one before, up to `head` at `end - 1`: then
/// the history that ends at `head` holds the mark (hashes only, no
/// signatures: the record vouches for those).
pub(crate) fn chains(
    store: &dyn Store,
    m: u64,
    hm: &Hash,
    end: u64,
    head: &Hash,
) -> Result<bool, Error> {
    if m == 0 {
        return Ok(false);
    }
    let mut prev: Option<Hash> = None;
    let mut seq = m - 1;
    for bytes in store.entries_from(m - 1) {
        if seq >= end {
            break;
        }
        let bytes = bytes?;
        let h = entry_hash(&bytes);
        match prev {
            None if h != *hm => return Ok(false),
            None => {}
            Some(p) => match entry::decode_entry(&bytes) {
                Ok(e) if e.seq() == seq && e.prev() == Some(&p) => {}
                _ => return Ok(false),
            },
        }
        prev = Some(h);
        seq += 1;
    }
    Ok(seq == end && prev.as_ref() == Some(head))
}

/// Refuses a verified history of `entries` entries (whose entry at the
/// mark's position hashed to `at_mark`) that falls short of or forks from
/// `key`'s mark for the ledger: building on it, or vouching for it, would
/// sign a fork of what the key already signed.
pub(crate) fn check_mark(
    key: &[u8; 32],
    id: &Hash,
    mark: Option<(u64, Hash)>,
    entries: u64,
    at_mark: Option<Hash>,
    owner: [u8; 32],
) -> Result<(), Error> {
    let Some((m, hm)) = mark else {
        return Ok(());
    };
    let file = crate::highwater::path(key, id)
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let fail = |seq: u64, reason: Reason, what: String| {
        Error::Invalid(Box::new(Invalid {
            error: VerifyError {
                seq,
                reason,
                detail: format!(
                    "{what}; this key already built on {m} entries of this ledger (head {}), \
                     and building on this copy would sign a fork of that history. Restore the \
                     ledger from an export or backup holding them; to fork on purpose, \
                     delete {file}",
                    hex::encode(hm)
                ),
            },
            entries: seq,
            head: None,
            owner: Some(owner),
        }))
    };
    if entries < m {
        return Err(fail(
            entries,
            Reason::Truncated,
            format!("the ledger holds {entries} entries: it was rolled back or cut"),
        ));
    }
    if at_mark.is_some_and(|h| h != hm) {
        return Err(fail(
            m,
            Reason::Fork,
            format!("the ledger's first {m} entries are another history"),
        ));
    }
    Ok(())
}

/// Watches a whole verification for the entry at `key`'s mark, so that
/// what `key` is about to sign about the ledger can be held to it.
pub(crate) struct MarkWatch {
    key: [u8; 32],
    mark: Option<(u64, Hash)>,
    at_mark: Option<Hash>,
    err: Option<Error>,
}

impl MarkWatch {
    pub(crate) fn new(key: &SigningKey) -> MarkWatch {
        MarkWatch {
            key: key.verifying_key().to_bytes(),
            mark: None,
            at_mark: None,
            err: None,
        }
    }

    /// For a verification resumed past entry 0 of ledger `id`.
    pub(crate) fn resumed(key: &SigningKey, id: &Hash) -> MarkWatch {
        let key = key.verifying_key().to_bytes();
        let (mark, err) = match crate::highwater::read(&key, id) {
            Ok(m) => (m, None),
            Err(e) => (None, Some(e)),
        };
        MarkWatch {
            key,
            mark,
            at_mark: None,
            err,
        }
    }

    /// Called with each verified entry in order.
    pub(crate) fn see(&mut self, seq: u64, hash: &Hash) {
        if seq == 0 {
            match crate::highwater::read(&self.key, hash) {
                Ok(m) => self.mark = m,
                Err(e) => self.err = Some(e),
            }
        }
        if self.mark.is_some_and(|(m, _)| seq + 1 == m) {
            self.at_mark = Some(*hash);
        }
    }

    /// Refuses the verified ledger if it falls short of or forks from the
    /// mark.
    pub(crate) fn check(&self, v: &VerifiedLedger) -> Result<(), Error> {
        if let Some(e) = &self.err {
            return Err(Error::usage(e.to_string()));
        }
        check_mark(
            &self.key,
            v.id(),
            self.mark,
            v.entries(),
            self.at_mark,
            *v.owner(),
        )
    }

    /// Refuses the verified ledger if it falls short of or forks from the
    /// mark; otherwise raises the mark to it.
    pub(crate) fn settle(self, v: &VerifiedLedger) -> Result<(), Error> {
        if let Some(e) = self.err {
            return Err(e);
        }
        check_mark(
            &self.key,
            v.id(),
            self.mark,
            v.entries(),
            self.at_mark,
            *v.owner(),
        )?;
        crate::highwater::write(&self.key, v.id(), v.entries(), v.head())
    }
}

/// As [`append`], with options.
pub fn append_with<R: BufRead>(
    ledger: impl Into<Location>,
    key: &SigningKey,
    mut input: R,
    opts: &AppendOptions,
) -> Result<AppendReport, Error> {
    let loc = ledger.into();
    // One signing time for the batch, whatever the attempt: signed again
    // on the same head after an attempt the database undid, the entries
    // come out byte for byte the same (Ed25519 signatures are
    // deterministic), so that the undone attempt is not a second history.
    let time = now();
    match &loc {
        Location::Path(path) => {
            if path.is_file() {
                return Err(Error::usage(format!(
                    "{} is a file (an exported ledger?); entries are appended to a ledger \
                     directory: `custody import {} DIR` makes one of an export",
                    path.display(),
                    path.display()
                )));
            }
            // The directory's lock is held from here on.
            let store = store::open(&loc, Mode::Write)?;
            append_locked(
                store,
                key,
                input,
                opts,
                &loc,
                Signing {
                    hint: None,
                    time,
                    seal: true,
                },
            )
        }
        Location::Postgres(_) => {
            // An attempt the database gave up on (a restart, a dropped
            // connection) wrote nothing: the batch is checked and signed
            // again on the ledger as it is then, up to ATTEMPTS times.
            let mut events = Vec::new();
            input
                .read_to_end(&mut events)
                .map_err(|e| Error::io(Path::new("<input>"), e))?;
            let mut retries = 0u32;
            loop {
                let attempt = prepare(&loc, key).and_then(|hint| {
                    let store = store::open(&loc, Mode::Write)?;
                    append_locked(
                        store,
                        key,
                        events.as_slice(),
                        opts,
                        &loc,
                        Signing {
                            hint: Some(hint),
                            time,
                            seal: true,
                        },
                    )
                });
                match attempt {
                    Err(Error::Unavailable(m)) if retries + 1 < ATTEMPTS => {
                        retries += 1;
                        std::thread::sleep(backoff(retries));
                        let _ = m;
                    }
                    Err(Error::Unavailable(m)) => {
                        return Err(Error::Unavailable(format!(
                            "{m}; gave up after {ATTEMPTS} attempts, nothing was appended"
                        )))
                    }
                    Ok(mut r) => {
                        r.retries = retries;
                        return Ok(r);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

/// Attempts at an append to a database that keeps going away.
const ATTEMPTS: u32 = 12;

/// How long to wait before attempt `n + 1`: doubling from 50 ms up to 2 s,
/// each wait drawn at random from its upper half so that appenders turned
/// away together do not come back together.
fn backoff(n: u32) -> std::time::Duration {
    let cap = (50u64 << n.min(6)).min(2000);
    let mut r = [0u8; 8];
    let _ = getrandom::getrandom(&mut r);
    let jitter = u64::from_le_bytes(r) % (cap / 2 + 1);
    std::time::Duration::from_millis(cap / 2 + jitter)
}

/// Verifies a database ledger on a snapshot, without waiting in line, so
/// that the appender's turn only has to verify what came after it.
fn prepare(loc: &Location, key: &SigningKey) -> Result<Resume, Error> {
    let snapshot = store::open(loc, Mode::Read)?;
    let (v, _) = verified_for(snapshot.as_ref(), key)?;
    Ok(Resume {
        entries: v.ledger.entries,
        head: v.ledger.head,
        id: v.ledger.id,
        owner: v.ledger.owner,
        tree: v.tree.unwrap_or_default(),
        state: v.ledger.state,
    })
}

/// How an append signs: from what verified state, at what time, and
/// whether it seals the key's verification record.
pub(crate) struct Signing {
    /// What this process verified a moment ago, to resume from.
    pub hint: Option<Resume>,
    /// The batch's signing time.
    pub time: u64,
    /// Whether to save the key's record (a server keeps the state itself).
    pub seal: bool,
}

/// Appends to a store opened to write (so holding the ledger's lock).
pub(crate) fn append_locked<R: BufRead>(
    store: Box<dyn Store + '_>,
    key: &SigningKey,
    input: R,
    opts: &AppendOptions,
    loc: &Location,
    how: Signing,
) -> Result<AppendReport, Error> {
    append_locked_keep(store, key, input, opts, loc, how).map(|(r, state)| {
        // The rules state of a large ledger is millions of small
        // allocations: freed beside the caller, not in its way.
        drop_aside(state);
        r
    })
}

/// Drops `v` on a thread of its own when it is worth one.
pub(crate) fn drop_aside<T: Send + 'static>(v: T) {
    if std::thread::Builder::new()
        .name("custody-drop".into())
        .spawn(move || drop(v))
        .is_err()
    {
        // Could not start a thread: the value went with the closure.
    }
}

/// As [`append_locked`], giving back the verified state after the batch.
pub(crate) fn append_locked_keep<R: BufRead>(
    store: Box<dyn Store + '_>,
    key: &SigningKey,
    input: R,
    opts: &AppendOptions,
    loc: &Location,
    how: Signing,
) -> Result<(AppendReport, Resume), Error> {
    let Signing { hint, time, seal } = how;
    // Nothing is built on an entry that has not been verified.
    let (v, _) = verified_from(store.as_ref(), key, hint)?;
    if let Some(pin) = opts.owner {
        if pin != v.ledger.owner {
            return Err(Error::Invalid(Box::new(Invalid {
                error: VerifyError {
                    seq: 0,
                    reason: Reason::OwnerMismatch,
                    detail: format!(
                        "the owner key is {}, not the pinned {}: nothing was signed into it",
                        hex::encode(v.ledger.owner),
                        hex::encode(pin)
                    ),
                },
                entries: 0,
                head: None,
                owner: Some(v.ledger.owner),
            })));
        }
    }
    let at = &store::binding_names(loc, store.as_ref());
    crate::highwater::check_binding(&key.verifying_key().to_bytes(), at, &v.ledger.id)?;
    let signer = key.verifying_key().to_bytes();
    let first = v.ledger.entries;
    let id = v.ledger.id;
    let prev_head = v.ledger.head;
    // A batch this key signed at this very place before, sent but never
    // stored (the database refused it after receiving it): signed again
    // with its time, the same events give the same bytes; other events
    // would be a second history under this key, and are refused.
    //
    // Only where the bytes leave this machine (a database run by others):
    // a batch killed before a directory kept it stays in this machine's
    // storage, and the next append may sign other events there.
    let remote_store = matches!(loc, Location::Postgres(_));
    let earlier = if remote_store {
        crate::highwater::read_pending(&signer, &id)?
    } else {
        None
    };
    let pending = earlier.filter(|p| p.first == first && p.prev == prev_head);
    // A batch sent before whose fate was not known (a lost answer), and
    // which the ledger now holds: the same events given again are that
    // batch, not a new one to append a second time.
    let mut input: Box<dyn BufRead + '_> = Box::new(input);
    if let Some(p) = earlier.filter(|p| p.first < first && p.input.is_some()) {
        let mut events = Vec::new();
        input
            .read_to_end(&mut events)
            .map_err(|e| Error::usage(format!("cannot read the events: {e}")))?;
        if p.input == Some(input_digest(&events)) {
            if let Some(last) = stored_batch(store.as_ref(), p.first, first, &p.head)? {
                crate::highwater::write(&signer, &id, first, &prev_head)?;
                crate::highwater::clear_pending(&signer, &id)?;
                store.finish()?;
                return Ok((
                    AppendReport {
                        appended: 0,
                        entries: first,
                        head: prev_head,
                        warnings: vec![already_stored(p.first, last)],
                        retries: 0,
                    },
                    Resume::from_verified(v),
                ));
            }
        }
        input = Box::new(std::io::Cursor::new(events));
    }
    let time = pending.map_or(time, |p| p.time);
    let mut input = Hashing::new(input, remote_store);
    let Signed {
        batch,
        leaves,
        head,
        resume,
    } = sign_on(v, key, &mut input, opts, time)?;
    let input_hash = input.digest();
    if let Some(p) = pending {
        if p.head != head {
            let file = crate::highwater::pending_path(&signer, &id)
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            return Err(Error::usage(format!(
                "this key signed another batch at entry {first} (on head {}) that the ledger's \
                 store received but did not keep; signing different events there would put two \
                 histories under this key, for whoever kept that batch. Append that same batch \
                 again (the same events, in the same order), or, if you know it is gone for \
                 good, delete {file}",
                hex::encode(prev_head)
            )));
        }
    }
    // Failing to seal only costs the next call a longer verification. (A
    // server keeps the state itself, and does without.)
    let rec = if seal {
        crate::record::seal(key, &resume)
    } else {
        None
    };
    // Before anything is sent, the key's mark moves to the head it signed
    // on (which also shows that the mark can follow the batch): should
    // the database undo this attempt, the next one will not sign the
    // batch on less than this history.
    // (A mark already there, as after this key's own last batch, is not
    // written again: each write is a sync to disk.)
    if first > 0 && crate::highwater::read(&signer, &id)? != Some((first, prev_head)) {
        crate::highwater::write(&signer, &id, first, &prev_head)?;
    }
    if remote_store && !batch.is_empty() {
        crate::highwater::write_pending(
            &signer,
            &id,
            &crate::highwater::Pending {
                first,
                prev: prev_head,
                time,
                head,
                input: Some(input_hash),
            },
        )?;
    }
    store::append_leaves(
        store.as_ref(),
        first,
        &batch,
        &leaves,
        head,
        opts.merkle_tree,
        rec.as_deref().map(|r| (&signer, r)),
    )?;
    let end = first + batch.len() as u64;
    if let Err(e) = store.finish() {
        return Err(match e {
            // The batch may be in the ledger: this key must not build on a
            // history without it, so its mark names the batch until a
            // person says otherwise.
            Error::Unconfirmed(m) => {
                let file = crate::highwater::path(&signer, &id)
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                match crate::highwater::write(&signer, &id, end, &head) {
                    // Deleting the mark would forget the history before
                    // the batch too: the way back is the mark before it.
                    Ok(()) => Error::Unconfirmed(format!(
                        "{m}. Until the ledger holds this batch (entries {first} to {}, head {}), \
                         this key will not build on it; if you know the batch was never \
                         committed, put the mark back to the head it was signed on, with \
                         `echo '{first} {}' > {file}` (do not delete it: that would forget the \
                         history before the batch too)",
                        end - 1,
                        hex::encode(head),
                        hex::encode(prev_head)
                    )),
                    Err(w) => Error::Unconfirmed(format!(
                        "{m}; this key's high-water mark could not name the batch ({w})"
                    )),
                }
            }
            e => e,
        });
    }
    // The batch is durable: a mark that cannot follow now is reported, not
    // turned into a failure that would invite appending the batch again.
    let mut warnings = Vec::new();
    if let Err(e) = crate::highwater::write(&signer, &id, end, &head)
        .and_then(|()| crate::highwater::bind(&signer, at, &id))
        .and_then(|()| crate::highwater::clear_pending(&signer, &id))
    {
        warnings.push(format!(
            "the batch was appended, but this key's high-water mark could not be raised ({e}): \
             until it is, a rolled-back copy of this directory would not be recognised"
        ));
    }
    Ok((
        AppendReport {
            appended: batch.len() as u64,
            entries: first + batch.len() as u64,
            head,
            warnings,
            retries: 0,
        },
        resume,
    ))
}

/// A batch signed on top of a verified ledger, not stored yet.
/// An `artifact` event's `path`: the file or directory is hashed now and
/// its digest becomes the event's `digest` (which, if given too, must be
/// the same); the path itself is dropped, or kept as the `uri` when asked.
fn artifact_path(json: &mut serde_json::Value, record: bool) -> Result<(), (&'static str, String)> {
    let Some(obj) = json.as_object_mut() else {
        return Ok(());
    };
    if obj.get("type").and_then(|t| t.as_str()) != Some("artifact") {
        return Ok(());
    }
    let Some(p) = obj.remove("path") else {
        return Ok(());
    };
    let p = p
        .as_str()
        .filter(|p| !p.is_empty())
        .ok_or((
            "path",
            "must be the path of a file or directory".to_string(),
        ))?
        .to_string();
    let d = crate::digest::digest_path(Path::new(&p), &crate::digest::DigestOptions::default())
        .map_err(|e| ("path", e.to_string()))?;
    let field = d.field();
    match obj.get("digest").and_then(|d| d.as_str()) {
        Some(given) if given != field => {
            return Err((
                "digest",
                format!("{given} is not the digest of {p}, which is {field}"),
            ))
        }
        _ => {
            obj.insert("digest".into(), serde_json::Value::String(field));
        }
    }
    if record && !obj.contains_key("uri") {
        let abs = std::fs::canonicalize(&p).map_err(|e| ("path", e.to_string()))?;
        obj.insert(
            "uri".into(),
            serde_json::Value::String(format!("file://{}", abs.display())),
        );
    }
    Ok(())
}

/// SHA-256 of a batch's events as given (JSON Lines bytes).
pub(crate) fn input_digest(events: &[u8]) -> Hash {
    use sha2::Digest;
    sha2::Sha256::digest(events).into()
}

/// What an append says when its batch turns out to be stored already.
pub(crate) fn already_stored(first: u64, last: u64) -> String {
    format!(
        "these events were appended by an earlier attempt whose answer was lost (entries \
         {first} to {last}); nothing was appended again"
    )
}

/// Where the batch that began at `from` and ended with the entry `head`
/// ends in the stored ledger (of `size` entries), if it is there.
fn stored_batch(
    store: &dyn Store,
    from: u64,
    size: u64,
    head: &Hash,
) -> Result<Option<u64>, Error> {
    for (seq, b) in (from..size).zip(store.entries_from(from)) {
        if entry_hash(&b?) == *head {
            return Ok(Some(seq));
        }
    }
    Ok(None)
}

/// A reader that hashes what is read through it.
pub(crate) struct Hashing<R> {
    inner: R,
    /// None where no digest is wanted (a directory keeps no pending batch).
    hasher: Option<sha2::Sha256>,
}

impl<R: BufRead> Hashing<R> {
    pub(crate) fn new(inner: R, wanted: bool) -> Self {
        use sha2::Digest;
        Hashing {
            inner,
            hasher: wanted.then(sha2::Sha256::new),
        }
    }
    /// The digest of everything read, the rest of the input included
    /// (all zeros when none was wanted).
    pub(crate) fn digest(mut self) -> Hash {
        use sha2::Digest;
        if self.hasher.is_none() {
            return [0; 32];
        }
        let mut rest = Vec::new();
        let _ = self.read_to_end(&mut rest);
        self.hasher.map_or([0; 32], |h| h.finalize().into())
    }
}

impl<R: BufRead> std::io::Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Hashing<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        use sha2::Digest;
        // What the caller just saw: buffered, so no read happens here.
        if let (Some(h), Ok(b)) = (&mut self.hasher, self.inner.fill_buf()) {
            h.update(&b[..amt.min(b.len())]);
        }
        self.inner.consume(amt)
    }
}

pub(crate) struct Signed {
    pub batch: Vec<Vec<u8>>,
    pub leaves: Vec<crate::merkle::TreeHash>,
    pub head: Hash,
    /// The verified state after the batch.
    pub resume: Resume,
}

/// Checks the JSON Lines events of `input` against the rules on top of
/// the verified ledger `v`, and signs them with `key` as its next entries.
pub(crate) fn sign_on<R: BufRead>(
    v: Verified,
    key: &SigningKey,
    input: R,
    opts: &AppendOptions,
    time: u64,
) -> Result<Signed, Error> {
    let signer = key.verifying_key().to_bytes();
    let Verified { ledger, tree, .. } = v;
    let mut state = ledger.state;
    state.may_append(&signer).map_err(|e| {
        Error::usage(format!(
            "this key may not append to the ledger: {}",
            e.error.message
        ))
    })?;
    let first = ledger.entries;
    let id = ledger.id;
    // Three stages: this thread reads, checks and encodes each event; a
    // second signs and chains them (each entry's hash is needed for the
    // next, so signing itself is sequential and is all that thread does);
    // a third hashes each signed entry's Merkle leaf and keeps the batch.
    // Entries travel in chunks: a hand-over per entry costs the signing
    // thread more in wake-ups than a signature.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Encoded>>(64);
    let (leaf_tx, leaf_rx) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(64);
    let signer_thread =
        |rx: std::sync::mpsc::Receiver<Vec<Encoded>>,
         leaf_tx: std::sync::mpsc::SyncSender<Vec<Vec<u8>>>| {
            let mut prev = ledger.head;
            let mut done = 0u64;
            for chunk in rx {
                let mut out = Vec::with_capacity(chunk.len());
                for Encoded {
                    line,
                    seq,
                    roles,
                    event,
                } in chunk
                {
                    let header = Header {
                        seq,
                        prev: Some(prev),
                        ledger: Some(id),
                        time,
                        roles,
                    };
                    let bytes = entry::build_encoded(key, &signer, &header, &event)
                        .map_err(|m| (line, m))?;
                    prev = entry_hash(&bytes);
                    out.push(bytes);
                }
                done += out.len() as u64;
                let _ = leaf_tx.send(out);
                if done % 4096 < CHUNK as u64 {
                    crate::verify::report(crate::verify::Progress::Signed(done));
                }
            }
            Ok::<_, (usize, String)>(prev)
        };
    // The tree grows on the leaf thread too, off the signing path.
    let mut tree = tree.unwrap_or_default();
    let (read, signed, (batch, leaves, tree)) = std::thread::scope(|s| {
        let hasher = s.spawn(move || {
            let mut batch = Vec::new();
            let mut leaves = Vec::new();
            for chunk in leaf_rx {
                for e in &chunk {
                    let leaf = crate::merkle::leaf_hash(e);
                    tree.push(leaf);
                    leaves.push(leaf);
                }
                batch.extend(chunk);
            }
            (batch, leaves, Some(tree))
        });
        let handle = s.spawn(move || signer_thread(rx, leaf_tx));
        let read = read_events(input, &mut state, &signer, first, &tx, opts.record_paths);
        drop(tx);
        let signed = handle.join();
        (read, signed, hasher.join().unwrap_or_default())
    });
    let head = match (read, signed) {
        (Ok(()), Ok(Ok(head))) => head,
        // Both stages may have stopped; the earlier line is the one to report.
        (read, Ok(Err((line, message)))) => {
            let sign_err = InputError {
                line,
                field: String::new(),
                message,
            };
            return Err(match read {
                Err(Error::Input(r)) if r.line < line => Error::Input(r),
                _ => Error::Input(sign_err),
            });
        }
        (Err(e), _) => return Err(e),
        (Ok(()), Err(_)) => return Err(Error::Store("internal: the signing thread failed".into())),
    };
    if batch.is_empty() && !opts.allow_empty {
        return Err(Error::usage(
            "the input holds no events, so nothing was appended (an empty file, or a pipe whose \
             command failed?); give --allow-empty to accept an empty batch",
        ));
    }
    if leaves.len() != batch.len() {
        return Err(Error::Store(
            "internal: the leaf hashing stage failed".into(),
        ));
    }
    let Some(tree) = tree else {
        return Err(Error::Store(
            "internal: the leaf hashing stage failed".into(),
        ));
    };
    let resume = Resume {
        state,
        entries: first + batch.len() as u64,
        head,
        id,
        owner: ledger.owner,
        tree,
    };
    Ok(Signed {
        batch,
        leaves,
        head,
        resume,
    })
}

/// Events handed to the signing thread at a time.
const CHUNK: usize = 256;

/// An event checked and encoded, on its way to be signed.
struct Encoded {
    line: usize,
    seq: u64,
    roles: u64,
    event: Vec<u8>,
}

/// Reads, checks and encodes the events of `input`, numbering them from
/// `first`, and sends them on to be signed.
fn read_events<R: BufRead>(
    input: R,
    state: &mut crate::rules::State,
    signer: &[u8; 32],
    first: u64,
    tx: &std::sync::mpsc::SyncSender<Vec<Encoded>>,
    record_paths: bool,
) -> Result<(), Error> {
    let mut seq = first;
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut reader = input.take(0);
    let mut line_no = 0usize;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let inner = reader.into_inner();
        reader = inner.take(MAX_LINE as u64 + 1);
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io(Path::new("<input>"), e))?;
        if n == 0 {
            if !chunk.is_empty() {
                // A stopped signing stage reports its own error.
                let _ = tx.send(chunk);
            }
            return Ok(());
        }
        line_no += 1;
        let bad = |field: &str, message: String| {
            Error::Input(InputError {
                line: line_no,
                field: field.to_string(),
                message,
            })
        };
        if buf.len() > MAX_LINE {
            return Err(bad("", format!("line longer than {MAX_LINE} bytes")));
        }
        let text = std::str::from_utf8(&buf).map_err(|_| bad("", "not valid UTF-8".into()))?;
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        let mut json = crate::json::parse_strict(text).map_err(|m| {
            // A pretty-printed object spans several lines: say so rather
            // than only that its first line ends early.
            let t = text.trim();
            let hint =
                if t == "{" || (t.starts_with('{') && !t.ends_with('}')) || t.starts_with('"') {
                    "; each event must be one JSON object on one line (JSON Lines), \
                 not pretty-printed over several (`jq -c .` makes one line of each)"
                } else {
                    ""
                };
            bad("", format!("invalid JSON: {m}{hint}"))
        })?;
        crate::json::check_numbers(text).map_err(|m| bad("", m))?;
        crate::event::canonical_spelling(&mut json);
        artifact_path(&mut json, record_paths).map_err(|(f, m)| bad(f, m))?;
        let event = Event::from_json(&json, false).map_err(|e| {
            let message = crate::registry::with_suggestion(&json, &e.field, e.message);
            bad(&e.field, message)
        })?;
        match &event.kind {
            crate::event::EventKind::License {
                license: crate::event::License::Spdx(expr),
                ..
            } => {
                // Only known licenses can be scored; the verifier does not
                // insist, so that ledgers stay valid under other registry
                // versions.
                crate::registry::check_known(expr).map_err(|m| bad("license", m))?;
            }
            crate::event::EventKind::License {
                license: crate::event::License::Inline { name, .. },
                ..
            } => {
                // A self-declared license must not pass for a registry one.
                if let Some(r) = crate::registry::registry().confusable(name) {
                    return Err(bad(
                        "license.name",
                        format!(
                            "`{name}` is named like the registry license `{}` ({}); a self-declared \
                             license's terms are the ledger's own, so give it a name that cannot \
                             pass for a registry license, or use the id `{}` if that is the license",
                            r.id, r.name, r.id
                        ),
                    ));
                }
            }
            _ => {}
        }
        state
            .apply(seq, signer, &event)
            .map_err(|e| bad(&e.error.field, e.error.message))?;
        let encoded = entry::encode_event(&json);
        // An event that cannot fit is refused here, with its line, before
        // signing; the signing stage checks the exact size.
        if encoded.len() + crate::entry::MIN_OVERHEAD > crate::entry::MAX_ENTRY_SIZE {
            return Err(bad(
                "",
                format!(
                    "the entry would be over {} bytes, more than the {}-byte limit; \
                     reference large content by digest and uri instead of embedding it",
                    encoded.len() + crate::entry::MIN_OVERHEAD,
                    crate::entry::MAX_ENTRY_SIZE
                ),
            ));
        }
        chunk.push(Encoded {
            line: line_no,
            seq,
            roles: state.roles(),
            event: encoded,
        });
        if chunk.len() == CHUNK
            && tx
                .send(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK)))
                .is_err()
        {
            // The signing stage stopped on an error; it reports it.
            return Ok(());
        }
        seq += 1;
    }
}

/// Verifies `source` and writes it to `out` as one file, atomically: `out`
/// is either the complete verified ledger or untouched.
pub fn export(source: impl Into<Location>, out: Output<'_>) -> Result<VerifiedLedger, Error> {
    let source = &source.into();
    match out {
        Output::File { path, overwrite } => {
            crate::files::refuse_existing(path, overwrite)?;
            let tmp = crate::files::temp_beside_public(path)?;
            let mut w = std::io::BufWriter::new(tmp);
            let v = crate::verifying::verify_whole(
                source,
                &VerifyOptions::default(),
                false,
                None,
                |e| w.write_all(e.bytes()).map_err(|err| Error::io(path, err)),
            )?;
            crate::files::persist(path, w)?;
            Ok(v.ledger)
        }
        // A stream cannot be taken back: verify first, then write.
        Output::Writer(w) => {
            crate::verifying::verify_whole(source, &VerifyOptions::default(), false, None, |_| {
                Ok(())
            })?;
            let mut bw = std::io::BufWriter::new(w);
            let v = crate::verifying::verify_whole(
                source,
                &VerifyOptions::default(),
                false,
                None,
                |e| {
                    bw.write_all(e.bytes())
                        .map_err(|err| Error::io(Path::new("<output>"), err))
                },
            )?;
            bw.flush()
                .map_err(|err| Error::io(Path::new("<output>"), err))?;
            Ok(v.ledger)
        }
    }
}

/// Verifies the exported file `file` and creates a ledger (a directory,
/// or a ledger in a PostgreSQL database) from it. A directory is built
/// under a temporary name and renamed at the end, a database ledger in one
/// transaction: an interrupted import leaves no ledger behind.
pub fn import(file: &Path, ledger: impl Into<Location>) -> Result<VerifiedLedger, Error> {
    let loc = ledger.into();
    if file.is_dir() {
        return Err(Error::usage(format!(
            "{} is a ledger directory; `import` takes an exported file",
            file.display()
        )));
    }
    let file_loc = Location::Path(file.to_path_buf());
    if crate::verifying::is_partial_file(&file_loc)? {
        return Err(Error::usage(format!(
            "{} is a partial export: only a whole ledger can be imported",
            file.display()
        )));
    }
    let mut source = Source::open(&file_loc)?;
    let mut out = None;
    store::build(&loc, |store| {
        let mut batch: Vec<Vec<u8>> = Vec::new();
        let mut next = 0u64;
        let mut last = [0u8; 32];
        let v = Chain::new(VerifyOptions::default()).run(source.frames(), |e| {
            last = *e.hash();
            batch.push(e.bytes().to_vec());
            if batch.len() >= IMPORT_BATCH {
                store::append_entries(store, next, &batch, last, true, None)?;
                next += batch.len() as u64;
                batch.clear();
            }
            Ok(())
        })?;
        if !batch.is_empty() {
            store::append_entries(store, next, &batch, last, true, None)?;
        }
        out = Some(v.ledger);
        Ok(())
    })?;
    out.ok_or_else(|| Error::Store("internal: the import verified nothing".into()))
}

/// The fields of a new entry besides its event and signer, for programs
/// that write entries directly (test-vector generators, other tools).
#[derive(Debug, Clone, Copy)]
pub struct EntryHeader {
    /// Sequence number.
    pub seq: u64,
    /// Hash of the previous entry (none for genesis).
    pub prev: Option<Hash>,
    /// Ledger id (none for genesis).
    pub ledger: Option<Hash>,
    /// Signing time, seconds since the Unix epoch.
    pub time: u64,
    /// How many genesis, grant and revoke entries there are among entries
    /// 0 to `seq`, this one included.
    pub roles: u64,
}

/// Encodes and signs one entry without any ledger rule being checked:
/// what it makes may well be invalid, which is its use in test vectors.
pub fn sign_entry(key: &SigningKey, header: &EntryHeader, event: &Json) -> Result<Vec<u8>, Error> {
    let h = Header {
        seq: header.seq,
        prev: header.prev,
        ledger: header.ledger,
        time: header.time,
        roles: header.roles,
    };
    entry::build(key, &h, event).map_err(Error::Usage)
}
