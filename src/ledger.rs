//! The operations on a ledger: create, append, verify, export, import.

use crate::entry::{self, entry_hash, Hash, Header};
use crate::error::{Error, InputError, Invalid, Reason, VerifyError};
use crate::event::Event;
use crate::source::Source;
use crate::store::Store;
use crate::verify::{Chain, Signatures, VerifiedEntry, VerifiedLedger, VerifyOptions};
use ed25519_dalek::SigningKey;
use serde_json::Value as Json;
use std::io::{BufRead, Write};
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
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Creates the ledger directory `path` with its genesis entry, signed by
/// `key`, which becomes the first owner. Returns the ledger id.
pub fn init(path: &Path, key: &SigningKey, name: &str) -> Result<Hash, Error> {
    let event = serde_json::json!({"type": "genesis", "name": name});
    Event::from_json(&event, true)
        .map_err(|e| Error::usage(format!("ledger name: {}", e.message)))?;
    let header = Header {
        seq: 0,
        prev: None,
        ledger: None,
        time: now(),
    };
    let bytes = entry::build(key, &header, &event).map_err(Error::Usage)?;
    let hash = entry_hash(&bytes);
    let store = Store::create(path)?;
    if let Err(e) = store.append(0, &[bytes], hash) {
        drop(store);
        let _ = std::fs::remove_dir_all(path);
        return Err(e);
    }
    store.close_after_write()?;
    Ok(hash)
}

/// How `append_with` appends.
#[derive(Debug, Clone, Copy)]
pub struct AppendOptions {
    /// Keep the Merkle tree up to date (the default). Without it the tree
    /// lags until an append that keeps it catches it up; checkpoints and
    /// proofs refuse a lagging tree. For measuring the tree's cost.
    pub merkle_tree: bool,
}

impl Default for AppendOptions {
    fn default() -> Self {
        AppendOptions { merkle_tree: true }
    }
}

/// Appends the JSON Lines events of `input`, signed by `key`, as one atomic
/// batch. Every line is checked before anything is written: on any error
/// the ledger is left as it was.
pub fn append<R: BufRead>(path: &Path, key: &SigningKey, input: R) -> Result<AppendReport, Error> {
    append_with(path, key, input, &AppendOptions::default())
}

/// As [`append`], with options.
pub fn append_with<R: BufRead>(
    path: &Path,
    key: &SigningKey,
    input: R,
    opts: &AppendOptions,
) -> Result<AppendReport, Error> {
    let store = Store::open(path)?;
    // The store is locked from here on. The state its entries establish is
    // the saved one when it matches the head, else rebuilt from the entries.
    if let Some(replay) = saved_state(&store)? {
        return finish_append(store, replay, key, input, opts);
    }
    let mut source = Source::Store(store);
    let replay =
        Chain::new(VerifyOptions::default(), Signatures::Skip).run(source.frames(), |_| Ok(()))?;
    let Source::Store(store) = source else {
        return Err(Error::Store("internal: source changed kind".into()));
    };
    if let Some((n, h)) = store.head()? {
        if n != replay.entries || h != replay.head {
            return Err(head_mismatch(&replay, n));
        }
    }
    finish_append(store, replay, key, input, opts)
}

/// The state a writer saved with its last batch, when it is the state at
/// the current head.
fn saved_state(store: &Store) -> Result<Option<VerifiedLedger>, Error> {
    let (Some(bytes), Some((n, head))) = (store.state()?, store.head()?) else {
        return Ok(None);
    };
    let Ok(s) = ciborium::de::from_reader::<Saved, _>(bytes.as_slice()) else {
        return Ok(None);
    };
    if s.entries != n || s.head != head {
        return Ok(None);
    }
    Ok(Some(VerifiedLedger {
        name: s.state.name.clone(),
        id: s.id,
        owner: s.owner,
        entries: s.entries,
        head: s.head,
        pinned: false,
        state: s.state,
        withheld: 0,
    }))
}

/// What a writer saves with each batch.
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    entries: u64,
    head: Hash,
    id: Hash,
    owner: [u8; 32],
    state: crate::rules::State,
}

fn finish_append<R: BufRead>(
    store: Store,
    replay: VerifiedLedger,
    key: &SigningKey,
    input: R,
    opts: &AppendOptions,
) -> Result<AppendReport, Error> {
    let signer = key.verifying_key().to_bytes();
    let mut state = replay.state;
    state.may_append(&signer).map_err(|e| {
        Error::usage(format!(
            "this key may not append to the ledger: {}",
            e.error.message
        ))
    })?;
    let first = replay.entries;
    let id = replay.id;
    let replay_owner = replay.owner;
    // Two stages: this thread reads, checks and encodes each event while
    // another signs and chains the ones before it (each entry's hash is
    // needed for the next, so signing itself is sequential).
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, u64, Vec<u8>)>(1024);
    let signer_thread = |rx: std::sync::mpsc::Receiver<(usize, u64, Vec<u8>)>| {
        let mut prev = replay.head;
        let mut batch = Vec::new();
        for (line, seq, event) in rx {
            let header = Header {
                seq,
                prev: Some(prev),
                ledger: Some(id),
                time: now(),
            };
            let bytes =
                entry::build_encoded(key, &signer, &header, &event).map_err(|m| (line, m))?;
            prev = entry_hash(&bytes);
            batch.push(bytes);
        }
        Ok::<_, (usize, String)>((batch, prev))
    };
    let (read, signed) = std::thread::scope(|s| {
        let handle = s.spawn(move || signer_thread(rx));
        let read = read_events(input, &mut state, &signer, first, &tx);
        drop(tx);
        (read, handle.join())
    });
    let (batch, head) = match (read, signed) {
        (Ok(()), Ok(Ok(done))) => done,
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
    if !batch.is_empty() || (opts.merkle_tree && store.tree_size()? < first) {
        let saved = Saved {
            entries: first + batch.len() as u64,
            head,
            id,
            owner: replay_owner,
            state,
        };
        let mut bytes = Vec::new();
        // Failing to save only costs the next append a replay.
        let saved = ciborium::ser::into_writer(&saved, &mut bytes)
            .ok()
            .map(|_| bytes);
        store.append_with(first, &batch, head, opts.merkle_tree, saved.as_deref())?;
        store.close_after_write()?;
    }
    Ok(AppendReport {
        appended: batch.len() as u64,
        entries: first + batch.len() as u64,
        head,
    })
}

/// Reads, checks and encodes the events of `input`, numbering them from
/// `first`, and sends them on to be signed.
fn read_events<R: BufRead>(
    input: R,
    state: &mut crate::rules::State,
    signer: &[u8; 32],
    first: u64,
    tx: &std::sync::mpsc::SyncSender<(usize, u64, Vec<u8>)>,
) -> Result<(), Error> {
    let mut seq = first;
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
        let json =
            crate::json::parse_strict(text).map_err(|m| bad("", format!("invalid JSON: {m}")))?;
        let event = Event::from_json(&json, false).map_err(|e| bad(&e.field, e.message))?;
        if let crate::event::EventKind::License {
            license: crate::event::License::Spdx(expr),
            ..
        } = &event.kind
        {
            // Only known licenses can be scored; the verifier does not insist,
            // so that ledgers stay valid under other registry versions.
            crate::registry::check_known(expr).map_err(|m| bad("license", m))?;
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
        if tx.send((line_no, seq, encoded)).is_err() {
            // The signing stage stopped on an error; it reports it.
            return Ok(());
        }
        seq += 1;
    }
}

fn head_mismatch(v: &VerifiedLedger, stored: u64) -> Error {
    Error::Invalid(Box::new(Invalid {
        error: VerifyError {
            seq: v.entries.min(stored),
            reason: Reason::HeadMismatch,
            detail: format!(
                "the head record says {stored} entries, the entries verify to {} with another head",
                v.entries
            ),
        },
        entries: v.entries,
        head: Some(v.head),
        owner: Some(v.owner),
    }))
}

/// Verifies a ledger directory, exported file or partial export, as
/// `verify` and `verify_partial` do (the checkpoint of a partial export
/// checked with its genesis key).
pub fn verify_any(path: &Path, opts: &VerifyOptions) -> Result<VerifiedLedger, Error> {
    if is_partial_file(path)? {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        return crate::disclosure::verify_partial(&bytes, opts, None, None);
    }
    verify(path, opts, |_| Ok(()))
}

fn is_partial_file(path: &Path) -> Result<bool, Error> {
    if path.is_dir() {
        return Ok(false);
    }
    let mut first = [0u8; 1];
    match std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut first)) {
        Ok(1) => Ok(crate::disclosure::is_partial(&first)),
        _ => Ok(false), // the verifier reports missing or empty files
    }
}

/// Verifies a ledger directory or exported file end to end, handing each
/// verified entry to `sink` in order. A partial export is refused here: it
/// has no whole entries to hand out (see `verify_any`).
pub fn verify(
    path: &Path,
    opts: &VerifyOptions,
    sink: impl FnMut(VerifiedEntry) -> Result<(), Error>,
) -> Result<VerifiedLedger, Error> {
    if is_partial_file(path)? {
        return Err(Error::usage(format!(
            "{} is a partial export: `custody verify` and `custody openness` read it, other commands need a whole ledger",
            path.display()
        )));
    }
    let mut source = Source::open(path)?;
    let v = Chain::new(opts.clone(), Signatures::Check).run(source.frames(), sink)?;
    if let Source::Store(store) = &source {
        match store.head()? {
            Some((n, h)) if n == v.entries && h == v.head => {}
            Some((n, _)) => return Err(head_mismatch(&v, n)),
            None => return Err(head_mismatch(&v, 0)),
        }
    }
    Ok(v)
}

/// Verifies `bytes` as an exported ledger.
pub fn verify_bytes(bytes: &[u8], opts: &VerifyOptions) -> Result<VerifiedLedger, Error> {
    let mut r = bytes;
    let frames = crate::source::FileFrames {
        path: "<bytes>".into(),
        r: &mut r,
        done: false,
    };
    Chain::new(opts.clone(), Signatures::Check).run(frames, |_| Ok(()))
}

/// Verifies `source` and writes it to `out` as one file, atomically: `out`
/// is either the complete verified ledger or untouched.
pub fn export(source: &Path, out: &Path) -> Result<VerifiedLedger, Error> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    let mut w = std::io::BufWriter::new(tmp);
    let v = verify(source, &VerifyOptions::default(), |e| {
        w.write_all(e.bytes()).map_err(|err| Error::io(out, err))
    })?;
    let tmp = w.into_inner().map_err(|e| Error::io(out, e.into_error()))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(out, e))?;
    tmp.persist(out).map_err(|e| Error::io(out, e.error))?;
    Ok(v)
}

/// Verifies the exported file `file` and creates the ledger directory
/// `path` from it. On any failure `path` is not left behind.
pub fn import(file: &Path, path: &Path) -> Result<VerifiedLedger, Error> {
    if file.is_dir() {
        return Err(Error::usage(format!(
            "{} is a ledger directory; `import` takes an exported file",
            file.display()
        )));
    }
    if is_partial_file(file)? {
        return Err(Error::usage(format!(
            "{} is a partial export: only a whole ledger can be imported",
            file.display()
        )));
    }
    let mut source = Source::open(file)?;
    let store = Store::create(path)?;
    let result = (|| {
        let mut batch: Vec<Vec<u8>> = Vec::new();
        let mut next = 0u64;
        let mut last = [0u8; 32];
        let v =
            Chain::new(VerifyOptions::default(), Signatures::Check).run(source.frames(), |e| {
                last = *e.hash();
                batch.push(e.bytes().to_vec());
                if batch.len() >= IMPORT_BATCH {
                    store.append(next, &batch, last)?;
                    next += batch.len() as u64;
                    batch.clear();
                }
                Ok(())
            })?;
        if !batch.is_empty() {
            store.append(next, &batch, last)?;
        }
        Ok(v)
    })();
    match result {
        Ok(v) => {
            store.close_after_write()?;
            Ok(v)
        }
        Err(e) => {
            drop(store);
            let _ = std::fs::remove_dir_all(path);
            Err(e)
        }
    }
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
}

/// Encodes and signs one entry without any ledger rule being checked:
/// what it makes may well be invalid, which is its use in test vectors.
pub fn sign_entry(key: &SigningKey, header: &EntryHeader, event: &Json) -> Result<Vec<u8>, Error> {
    let h = Header {
        seq: header.seq,
        prev: header.prev,
        ledger: header.ledger,
        time: header.time,
    };
    entry::build(key, &h, event).map_err(Error::Usage)
}
