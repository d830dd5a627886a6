//! The `custody._custody` extension module: a thin layer over the Rust
//! library. Every check, signature and rule is the library's; this file
//! converts arguments and results, releases the GIL around the work, and
//! maps errors onto a small exception hierarchy.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};
use std::path::{Path, PathBuf};

create_exception!(
    _custody,
    CustodyError,
    PyException,
    "Base class of every custody error."
);
create_exception!(
    _custody,
    InputError,
    CustodyError,
    "An event was refused (attributes `line`, 1-based, and `field`); nothing was written."
);
create_exception!(
    _custody,
    InvalidLedgerError,
    CustodyError,
    "The ledger failed verification (attributes `seq` and `reason`, the reason code)."
);
create_exception!(
    _custody,
    LedgerInUseError,
    CustodyError,
    "Another process holds the ledger."
);
create_exception!(
    _custody,
    CustodyWarning,
    pyo3::exceptions::PyUserWarning,
    "What an append warns of (the command prints it as `custody: warning:`)."
);
create_exception!(
    _custody,
    CustodyIOError,
    CustodyError,
    "Reading or writing a file failed (attribute `path`)."
);

/// `text` with the password of any `scheme://user:password@` in it
/// replaced by `***`: a URL given where a file was expected comes back in
/// the error about that file.
fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '`')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The library's error as the Python exception for it, with the CLI's
/// message (any URL's password left out).
fn to_py(py: Python<'_>, e: custody::Error) -> PyErr {
    let msg = scrub(&e.to_string());
    let err = match &e {
        custody::Error::Input(i) => {
            let err = InputError::new_err(msg);
            let v = err.value(py);
            let _ = v.setattr("line", i.line);
            let _ = v.setattr("field", i.field.clone());
            err
        }
        custody::Error::Invalid(inv) => {
            let err = InvalidLedgerError::new_err(msg);
            let v = err.value(py);
            let _ = v.setattr("seq", inv.error.seq);
            let _ = v.setattr("reason", inv.error.reason.code());
            err
        }
        custody::Error::Locked(_) => LedgerInUseError::new_err(msg),
        custody::Error::Io { path, .. } => {
            let err = CustodyIOError::new_err(msg);
            let _ = err
                .value(py)
                .setattr("path", scrub(&path.display().to_string()));
            err
        }
        _ => CustodyError::new_err(msg),
    };
    err
}

/// An Ed25519 signing key.
#[pyclass(frozen, module = "custody")]
struct Key {
    inner: custody::SigningKey,
}

#[pymethods]
impl Key {
    /// A new random key.
    #[staticmethod]
    fn generate(py: Python<'_>) -> PyResult<Key> {
        custody::generate()
            .map(|inner| Key { inner })
            .map_err(|e| to_py(py, e))
    }

    /// Loads a PKCS#8 PEM private key (as `custody keygen` or `openssl
    /// genpkey -algorithm ed25519` write it).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Key> {
        py.detach(|| custody::read_signing_key(&path))
            .map(|inner| Key { inner })
            .map_err(|e| to_py(py, e))
    }

    /// Saves the key to `path` (mode 0600) and its public half to
    /// `path.pub`; refuses to overwrite either.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        custody::write_key_files(&self.inner, &path).map_err(|e| to_py(py, e))
    }

    /// The public key, 64 lowercase hex digits.
    #[getter]
    fn public_hex(&self) -> String {
        hex::encode(self.inner.verifying_key().as_bytes())
    }

    /// The verifier key (c2sp.org/signed-note, `NAME+ID+KEY`) of
    /// checkpoints this key signs as `name`: what a reader gives to check
    /// them (`custody.verify(..., vkey=...)`, `custody.verify_proof`).
    fn verifier_key(&self, py: Python<'_>, name: &str) -> PyResult<String> {
        custody::VerifierKey::new(name, &self.inner)
            .map(|k| k.to_string())
            .map_err(|m| to_py(py, custody::Error::Usage(m)))
    }

    fn __repr__(&self) -> String {
        format!("Key(public_hex='{}')", self.public_hex())
    }
}

/// What an append did.
#[pyclass(frozen, get_all, module = "custody")]
struct AppendResult {
    /// Entries appended.
    appended: u64,
    /// Entries in the ledger now.
    entries: u64,
    /// Hash of the last entry, hex.
    head: String,
    /// What the append warns of (each also issued as a `CustodyWarning`).
    warnings: Vec<String>,
    /// On a served ledger: the entries (first, last) where an earlier
    /// attempt, whose answer was lost, had stored these same events;
    /// nothing was appended again.
    stored_before: Option<(u64, u64)>,
}

#[pymethods]
impl AppendResult {
    fn __repr__(&self) -> String {
        format!(
            "AppendResult(appended={}, entries={}, head='{}')",
            self.appended, self.entries, self.head
        )
    }
}

/// The outcome of a verification; an invalid ledger is a result, not an
/// exception. For a partial export, `partial` says what its publisher
/// signed and `withheld` how many entries it leaves out: a partial export
/// is valid, but it is not the whole ledger.
#[pyclass(frozen, module = "custody")]
struct VerifyResult {
    #[pyo3(get)]
    valid: bool,
    /// Entries in the ledger (for a partial export, disclosed and withheld).
    #[pyo3(get)]
    entries: u64,
    /// Hash of the last entry that verified, hex (None when none did).
    #[pyo3(get)]
    head: Option<String>,
    /// The genesis (owner) key, hex, when it could be read.
    #[pyo3(get)]
    owner: Option<String>,
    /// Whether the owner key matched the one given.
    #[pyo3(get)]
    pinned: bool,
    /// The ledger's name (valid ledgers).
    #[pyo3(get)]
    name: Option<String>,
    /// The ledger's id, hex (valid ledgers).
    #[pyo3(get)]
    ledger: Option<String>,
    /// Entries a partial export leaves out (0 for a whole ledger).
    #[pyo3(get)]
    withheld: u64,
    /// What a partial export's publisher signed, as JSON (`partial`).
    partial_json: Option<String>,
    /// The first bad entry and why (invalid ledgers).
    #[pyo3(get)]
    error_seq: Option<u64>,
    #[pyo3(get)]
    reason: Option<String>,
    #[pyo3(get)]
    detail: Option<String>,
}

#[pymethods]
impl VerifyResult {
    /// For a partial export, what its publisher signed (`checkpoint`,
    /// `selectors`, `publisher`), as `custody verify --json` gives it;
    /// None for a whole ledger.
    #[getter]
    fn partial<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.partial_json
            .as_ref()
            .map(|t| py.import("json")?.call_method1("loads", (t,)))
            .transpose()
    }
    fn __bool__(&self) -> bool {
        self.valid
    }
    fn __repr__(&self) -> String {
        match (&self.error_seq, &self.reason) {
            (Some(s), Some(r)) => format!("VerifyResult(valid=False, seq={s}, reason='{r}')"),
            _ if self.partial_json.is_some() => format!(
                "VerifyResult(valid=True, partial export: {} of {} entries disclosed, {} withheld)",
                self.entries - self.withheld,
                self.entries,
                self.withheld
            ),
            _ => format!(
                "VerifyResult(valid=True, entries={}, head='{}')",
                self.entries,
                self.head.as_deref().unwrap_or("")
            ),
        }
    }
}

/// An owner key: 64 hex digits (`str`), or a path (os.PathLike) to a
/// public key file holding them. A `str` is never taken for a file name.
fn owner_arg(py: Python<'_>, owner: Option<&Bound<'_, PyAny>>) -> PyResult<Option<[u8; 32]>> {
    let Some(o) = owner else {
        return Ok(None);
    };
    let text = if let Ok(s) = o.cast::<PyString>() {
        let s = s.to_cow()?.trim().to_ascii_lowercase();
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(to_py(
                py,
                custody::Error::usage(
                    "owner: 64 hex digits, or a pathlib.Path to the owner's .pub file",
                ),
            ));
        }
        s
    } else {
        text_arg(py, "owner", o)?.trim().to_ascii_lowercase()
    };
    // Parsed here, not by the command's reader, which would take what is
    // not a key for a file name.
    hex::decode(&text)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .map(Some)
        .ok_or_else(|| to_py(py, custody::Error::usage("owner: not 64 hex digits")))
}

/// Runs `f` on `source` as a local path: a served ledger
/// (`http://HOST:PORT/NAME`) is downloaded first, as the command does, and
/// then verified as any export: nothing is taken on the server's word.
fn with_local<T>(
    source: &Path,
    f: impl FnOnce(&Path) -> Result<T, custody::Error>,
) -> Result<T, custody::Error> {
    match custody::remote_base(source)? {
        Some(base) => {
            let copy = custody::fetch(&base)?;
            f(copy.path())
        }
        None => f(source),
    }
}

/// Largest note, proof or key file read.
const MAX_TEXT: u64 = 1 << 20;

/// A note or proof: its text (`str`), or a path (os.PathLike) to a file
/// holding it. A `str` is never taken for a path.
fn text_arg(py: Python<'_>, what: &str, v: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if v.hasattr("__fspath__")? {
        let path: PathBuf = v.extract()?;
        return py.detach(|| read_text(&path)).map_err(|e| to_py(py, e));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "{what}: give its text (str) or a path to a file holding it (pathlib.Path)"
    )))
}

/// A file's text, at most `MAX_TEXT` bytes of it.
fn read_text(path: &Path) -> Result<String, custody::Error> {
    use std::io::Read;
    let io = |e| custody::Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_TEXT + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_TEXT {
        return Err(custody::Error::Usage(format!(
            "{} is over {MAX_TEXT} bytes: not a note, proof or key",
            path.display()
        )));
    }
    Ok(text)
}

/// A verifier key: itself (`NAME+ID+KEY`, a `str`) or a path
/// (os.PathLike) to a file holding it.
fn vkey_arg(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<custody::VerifierKey> {
    let text = text_arg(py, "vkey", v)?;
    custody::VerifierKey::parse(text.trim())
        .map_err(|m| to_py(py, custody::Error::Usage(format!("vkey: {m}"))))
}

/// A location as it may be shown: a URL's password is not.
fn shown(location: &Path) -> String {
    custody::Location::from(location).to_string()
}

/// Verifies a ledger (directory, postgres:// URL, served ledger at
/// http://HOST:PORT/NAME, exported file or partial export) end to end;
/// with `checkpoint` (a signed note, as text or a path) and `vkey` (its
/// verifier key), also that the ledger is consistent with it: not cut
/// short, not rewritten. Never raises for an invalid ledger: the result
/// says where and why.
#[pyfunction]
#[pyo3(signature = (source, owner=None, checkpoint=None, vkey=None, origin=None))]
fn verify(
    py: Python<'_>,
    source: PathBuf,
    owner: Option<&Bound<'_, PyAny>>,
    checkpoint: Option<&Bound<'_, PyAny>>,
    vkey: Option<&Bound<'_, PyAny>>,
    origin: Option<String>,
) -> PyResult<VerifyResult> {
    let owner = owner_arg(py, owner)?;
    let pinned_cp =
        match (checkpoint, vkey) {
            (Some(c), Some(k)) => Some((text_arg(py, "checkpoint", c)?, vkey_arg(py, k)?)),
            (None, None) if origin.is_some() => {
                return Err(to_py(
                    py,
                    custody::Error::usage(
                        "origin names the log a checkpoint is of: give it with checkpoint and vkey",
                    ),
                ))
            }
            (None, None) => None,
            _ => return Err(to_py(
                py,
                custody::Error::usage(
                    "a checkpoint is checked with its verifier key: give both checkpoint and vkey",
                ),
            )),
        };
    let r = py.detach(|| {
        with_local(&source, |p| {
            let opts = custody::VerifyOptions { owner };
            match &pinned_cp {
                Some((note, k)) => {
                    custody::verify_with_checkpoint(p, &opts, note, k, origin.as_deref())
                }
                None => custody::verify_any(p, &opts),
            }
        })
    });
    match r {
        Ok(v) => Ok(VerifyResult {
            valid: true,
            entries: v.entries(),
            head: Some(hex::encode(v.head())),
            owner: Some(hex::encode(v.owner())),
            pinned: v.pinned(),
            name: Some(v.name().to_string()),
            ledger: Some(hex::encode(v.id())),
            withheld: v.withheld(),
            partial_json: v.disclosure().map(|d| custody::partial_json(d).to_string()),
            error_seq: None,
            reason: None,
            detail: None,
        }),
        Err(custody::Error::Invalid(inv)) => Ok(VerifyResult {
            valid: false,
            entries: inv.entries,
            head: inv.head.map(hex::encode),
            owner: inv.owner.map(hex::encode),
            pinned: false,
            name: None,
            ledger: None,
            withheld: 0,
            partial_json: None,
            error_seq: Some(inv.error.seq),
            reason: Some(inv.error.reason.code().to_string()),
            detail: Some(scrub(&inv.error.detail)),
        }),
        Err(e) => Err(to_py(py, e)),
    }
}

/// Entries sent from the verifying thread at a time.
const LOG_CHUNK: usize = 256;

type LogChunk = Result<Vec<String>, custody::Error>;

/// The entries of a ledger as they verify (see `custody.log`).
#[pyclass(module = "custody")]
struct LogIter {
    /// Taken out while a call waits on it (with the GIL released).
    rx: std::sync::Mutex<Option<std::sync::mpsc::Receiver<LogChunk>>>,
    ready: std::sync::Mutex<std::collections::VecDeque<String>>,
}

#[pymethods]
impl LogIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        // Never waited for: a thread holding the GIL while it waits for
        // one that needs the GIL back would wait for ever.
        fn busy<T>(_: T) -> PyErr {
            CustodyError::new_err("the log iterator is being read by another thread")
        }
        let mut ready = self.ready.try_lock().map_err(busy)?;
        if ready.is_empty() {
            let mut slot = self.rx.try_lock().map_err(busy)?;
            let Some(rx) = slot.take() else {
                return Ok(None);
            };
            // Waits a little at a time, so that Ctrl-C (any signal with a
            // Python handler) is seen while a slow source keeps us waiting.
            let mut rx = rx;
            let got = loop {
                let (got, back) = py.detach(move || {
                    let got = rx.recv_timeout(std::time::Duration::from_millis(100));
                    (got, rx)
                });
                rx = back;
                match got {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        if let Err(e) = py.check_signals() {
                            *slot = Some(rx);
                            return Err(e);
                        }
                    }
                    Ok(m) => break Some(m),
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break None,
                }
            };
            *slot = Some(rx);
            match got {
                Some(Ok(chunk)) => ready.extend(chunk),
                Some(Err(e)) => return Err(to_py(py, e)),
                // The verifying thread is done and everything was taken.
                None => return Ok(None),
            }
        }
        match ready.pop_front() {
            Some(text) => Ok(Some(py.import("json")?.call_method1("loads", (text,))?)),
            None => Ok(None),
        }
    }
}

/// The entries of a ledger, as dicts (the event's fields with `seq`,
/// `hash`, `signer` and `time`), in order, as they verify: an iterator
/// fed by a verifying thread. Each entry given has verified with
/// everything before it; a bad entry raises `InvalidLedgerError` when it
/// is reached, so read to the end (or `verify` first) before relying on
/// the ledger as a whole. A ledger directory is locked only while it
/// verifies; entries not yet taken wait in memory.
#[pyfunction]
#[pyo3(signature = (source, owner=None))]
fn log(py: Python<'_>, source: PathBuf, owner: Option<&Bound<'_, PyAny>>) -> PyResult<LogIter> {
    let owner = owner_arg(py, owner)?;
    // Unbounded: the verifying thread never waits for the reader, so a
    // ledger directory is held (locked) only while it verifies, as for
    // `verify`, however slowly the entries are taken.
    let (tx, rx) = std::sync::mpsc::channel::<LogChunk>();
    std::thread::Builder::new()
        .name("custody-log".into())
        .spawn(move || {
            let mut chunk = Vec::with_capacity(LOG_CHUNK);
            let r = with_local(&source, |p| {
                custody::verify(p, &custody::VerifyOptions { owner }, |e| {
                    let mut obj = e.event_json().clone();
                    if let serde_json::Value::Object(m) = &mut obj {
                        m.insert("seq".into(), e.seq().into());
                        m.insert("hash".into(), hex::encode(e.hash()).into());
                        m.insert("signer".into(), hex::encode(e.signer()).into());
                        m.insert("time".into(), custody::rfc3339(e.time()).into());
                    }
                    chunk.push(obj.to_string());
                    if chunk.len() == LOG_CHUNK {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(LOG_CHUNK));
                        // Nobody reads any more: stop verifying.
                        tx.send(Ok(full))
                            .map_err(|_| custody::Error::usage("the log was dropped"))?;
                    }
                    Ok(())
                })
            });
            if !chunk.is_empty() {
                let _ = tx.send(Ok(chunk));
            }
            if let Err(e) = r {
                let _ = tx.send(Err(e));
            }
        })
        .map_err(|e| CustodyError::new_err(format!("cannot start the log: {e}")))?;
    Ok(LogIter {
        rx: std::sync::Mutex::new(Some(rx)),
        ready: std::sync::Mutex::new(std::collections::VecDeque::new()),
    })
}

/// The openness of each pipeline component, derived from the verified
/// ledger alone: the same document as `custody openness --json`, as a
/// dict. Raises `InvalidLedgerError` for an invalid ledger.
#[pyfunction]
#[pyo3(signature = (source, owner=None))]
fn openness<'py>(
    py: Python<'py>,
    source: PathBuf,
    owner: Option<&Bound<'_, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let owner = owner_arg(py, owner)?;
    let shown = shown(&source);
    let text = py
        .detach(|| {
            let v = with_local(&source, |p| {
                custody::verify_any(p, &custody::VerifyOptions { owner })
            })?;
            let mut out = Vec::new();
            custody::write_openness_json(&mut out, &shown, &custody::openness(&v))
                .map_err(|e| custody::Error::Usage(e.to_string()))?;
            Ok::<_, custody::Error>(String::from_utf8_lossy(&out).into_owned())
        })
        .map_err(|e| to_py(py, e))?;
    py.import("json")?.call_method1("loads", (text,))
}

/// Verifies `source` and writes it to `out` as one exported file (what is
/// attached to a release). Refuses to replace `out` unless `overwrite`.
/// Returns the number of entries.
#[pyfunction]
#[pyo3(signature = (source, out, overwrite=false))]
fn export(py: Python<'_>, source: PathBuf, out: PathBuf, overwrite: bool) -> PyResult<u64> {
    py.detach(|| {
        with_local(&source, |p| {
            custody::export(
                p,
                custody::Output::File {
                    path: &out,
                    overwrite,
                },
            )
        })
    })
    .map(|v| v.entries())
    .map_err(|e| to_py(py, e))
}

/// Verifies the exported `file` and imports it as a new ledger at
/// `location` (a directory or a postgres:// URL). Returns the `Ledger`.
#[pyfunction]
fn import_(py: Python<'_>, file: PathBuf, location: PathBuf) -> PyResult<Ledger> {
    let loc = location.clone();
    py.detach(move || custody::import(&file, &loc))
        .map_err(|e| to_py(py, e))?;
    Ok(Ledger { location })
}

/// A signed checkpoint (c2sp.org/tlog-checkpoint) of the ledger's Merkle
/// tree, signed by `key` (held to its high-water mark, as the command
/// holds it); `origin` defaults to the ledger's.
#[pyfunction]
#[pyo3(signature = (ledger, key, origin=None))]
fn checkpoint(
    py: Python<'_>,
    ledger: PathBuf,
    key: &Key,
    origin: Option<String>,
) -> PyResult<String> {
    let k = key.inner.clone();
    py.detach(move || custody::checkpoint(&ledger, &k, origin.as_deref()))
        .map_err(|e| to_py(py, e))
}

/// The bytes of entry `seq` of a verified ledger: what an inclusion proof
/// proves, and what `custody log --seq N --out FILE` writes.
#[pyfunction]
#[pyo3(signature = (source, seq, owner=None))]
fn entry<'py>(
    py: Python<'py>,
    source: PathBuf,
    seq: u64,
    owner: Option<&Bound<'_, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let owner = owner_arg(py, owner)?;
    let found = py
        .detach(|| {
            with_local(&source, |p| {
                let mut found = None;
                custody::verify(p, &custody::VerifyOptions { owner }, |e| {
                    if e.seq() == seq {
                        found = Some(e.bytes().to_vec());
                    }
                    Ok(())
                })?;
                found.ok_or_else(|| {
                    custody::Error::Usage(format!("the ledger has no entry {seq} to show"))
                })
            })
        })
        .map_err(|e| to_py(py, e))?;
    Ok(PyBytes::new(py, &found))
}

/// The inclusion proof (c2sp.org/tlog-proof, as text) of entry `seq`,
/// against `checkpoint` (a signed note, as text or a path) or, with `key`,
/// a checkpoint signed now at the ledger's size. The proof is checked
/// before it is returned.
#[pyfunction]
#[pyo3(signature = (source, seq, checkpoint=None, key=None, origin=None))]
fn prove_inclusion(
    py: Python<'_>,
    source: PathBuf,
    seq: u64,
    checkpoint: Option<&Bound<'_, PyAny>>,
    key: Option<&Key>,
    origin: Option<String>,
) -> PyResult<String> {
    let note = checkpoint
        .map(|c| text_arg(py, "checkpoint", c))
        .transpose()?;
    let key = key.map(|k| k.inner.clone());
    let remote = custody::remote_base(&source).map_err(|e| to_py(py, e))?;
    if note.is_none() && key.is_some() && remote.is_some() {
        return Err(to_py(
            py,
            custody::Error::usage(
                "a served ledger's checkpoints are signed by its server (GET .../checkpoint); \
                 to sign one with your key, export the ledger to a file and prove from it",
            ),
        ));
    }
    py.detach(|| {
        with_local(&source, |p| {
            let cp = match (&note, &key) {
                (Some(n), _) => custody::ProofCheckpoint::Note(n),
                (None, Some(k)) => custody::ProofCheckpoint::Sign(k, origin.as_deref()),
                (None, None) => {
                    return Err(custody::Error::usage(
                        "give the checkpoint to prove against (checkpoint=...) or a key to sign one (key=...)",
                    ))
                }
            };
            custody::prove_inclusion(p, seq, cp)
        })
    })
    .map(|proof| proof.encode())
    .map_err(|e| to_py(py, e))
}

/// The consistency proof from the tree of checkpoint `old` to the
/// ledger's current tree (or to checkpoint `new`'s), as the body of a
/// c2sp.org/tlog-witness add-checkpoint request. Checked before it is
/// returned.
#[pyfunction]
#[pyo3(signature = (source, old, new=None))]
fn prove_consistency(
    py: Python<'_>,
    source: PathBuf,
    old: &Bound<'_, PyAny>,
    new: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let old = text_arg(py, "old", old)?;
    let new = new.map(|n| text_arg(py, "new", n)).transpose()?;
    py.detach(|| {
        with_local(&source, |p| {
            custody::prove_consistency(p, &old, new.as_deref())
        })
    })
    .map_err(|e| to_py(py, e))
}

/// What an inclusion proof established, or why it does not hold.
#[pyclass(frozen, get_all, module = "custody")]
struct ProofResult {
    valid: bool,
    /// The entry's number.
    seq: Option<u64>,
    /// The entry's event type.
    event_type: Option<String>,
    /// The entry's signer, hex. Whether it held the role the event needs
    /// is for the checkpoint's signer, or a verification of the ledger.
    signer: Option<String>,
    /// The log the checkpoint is of.
    origin: Option<String>,
    /// The checkpointed tree's size.
    size: Option<u64>,
    /// Why the proof does not hold.
    error: Option<String>,
}

#[pymethods]
impl ProofResult {
    fn __bool__(&self) -> bool {
        self.valid
    }
    fn __repr__(&self) -> String {
        match &self.error {
            Some(e) => format!("ProofResult(valid=False, error={e:?})"),
            None => format!(
                "ProofResult(valid=True, seq={}, origin={:?}, size={})",
                self.seq.unwrap_or(0),
                self.origin.as_deref().unwrap_or(""),
                self.size.unwrap_or(0)
            ),
        }
    }
}

/// Checks offline that `entry` (its bytes, from `custody.entry`) is in the
/// log whose checkpoint the proof carries, signed by `vkey`, and that the
/// entry's own signature verifies. Never raises for a proof that does not
/// hold: the result says why.
#[pyfunction]
fn verify_proof(
    py: Python<'_>,
    proof: &Bound<'_, PyAny>,
    entry: &[u8],
    vkey: &Bound<'_, PyAny>,
) -> PyResult<ProofResult> {
    let proof = text_arg(py, "proof", proof)?;
    let vkey = vkey_arg(py, vkey)?;
    let entry = entry.to_vec();
    Ok(
        match py.detach(|| custody::verify_proof(&proof, &entry, &vkey)) {
            Ok(p) => ProofResult {
                valid: true,
                seq: Some(p.entry.seq()),
                event_type: Some(p.entry.event().type_name().to_string()),
                signer: Some(hex::encode(p.entry.signer())),
                origin: Some(p.checkpoint.origin.clone()),
                size: Some(p.checkpoint.size),
                error: None,
            },
            Err(m) => ProofResult {
                valid: false,
                seq: None,
                event_type: None,
                signer: None,
                origin: None,
                size: None,
                error: Some(m),
            },
        },
    )
}

/// The digest of a file (`sha256:HEX`) or a directory
/// (`sha256-manifest:HEX`), as an artifact's `digest` records it.
#[pyfunction]
fn digest(py: Python<'_>, path: PathBuf) -> PyResult<String> {
    py.detach(|| custody::digest_path(&path, &custody::DigestOptions::default()))
        .map(|d| d.field())
        .map_err(|e| to_py(py, e))
}

/// Issues each of an append's warnings as a `CustodyWarning`, as the
/// command prints them. Never fails: the batch is already stored.
fn warn_all(py: Python<'_>, warnings: &[String]) -> PyResult<()> {
    for w in warnings {
        let msg = std::ffi::CString::new(scrub(w).replace('\0', " "))
            .map_err(|e| CustodyError::new_err(e.to_string()))?;
        // The batch is stored: a filter that turns warnings into errors
        // must not make it look refused (and invite appending it again).
        // The warnings stay in the result.
        let _ = PyErr::warn(py, &py.get_type::<CustodyWarning>(), &msg, 1);
    }
    Ok(())
}

/// A ledger where it lives: a directory, a postgres:// URL, or a served
/// ledger's http://HOST:PORT/NAME.
#[pyclass(frozen, module = "custody")]
struct Ledger {
    location: PathBuf,
}

#[pymethods]
impl Ledger {
    /// Creates a ledger at `location`, its genesis entry signed by `key`
    /// (its first owner).
    #[staticmethod]
    fn init(py: Python<'_>, location: PathBuf, key: &Key, name: &str) -> PyResult<Ledger> {
        if custody::remote_base(&location)
            .map_err(|e| to_py(py, e))?
            .is_some()
        {
            return Err(to_py(
                py,
                custody::Error::usage(
                    "a served ledger is created where the server keeps it (a directory or \
                     postgres:// URL), then served: `custody serve` serves only existing ledgers",
                ),
            ));
        }
        let k = key.inner.clone();
        let name = name.to_string();
        let loc = location.clone();
        py.detach(move || custody::init(&loc, &k, &name))
            .map_err(|e| to_py(py, e))?;
        Ok(Ledger { location })
    }

    /// A ledger that exists at `location` (checked: it must verify).
    #[staticmethod]
    fn open(py: Python<'_>, location: PathBuf) -> PyResult<Ledger> {
        let loc = location.clone();
        py.detach(move || {
            with_local(&loc, |p| {
                custody::verify_any(p, &custody::VerifyOptions::default())
            })
        })
        .map_err(|e| to_py(py, e))?;
        Ok(Ledger { location })
    }

    /// Where it is.
    #[getter]
    fn location(&self) -> String {
        shown(&self.location)
    }

    /// Appends `events` (dicts, as the CLI's JSON Lines) signed by `key`,
    /// as one atomic batch: all or none. Bad events raise `InputError`
    /// with the line (1-based position in `events`) and field, and leave
    /// the ledger as it was. `owner` (hex or a .pub file) pins the
    /// ledger's owner; `record_paths` keeps artifacts' `path` in the
    /// entries. On a served ledger, the batch is checked and signed here
    /// and posted; an answer lost on the way leaves it pending, and the
    /// same append called again finds it or sends it again.
    #[pyo3(signature = (events, key, allow_empty=false, owner=None, record_paths=false))]
    fn append(
        &self,
        py: Python<'_>,
        events: &Bound<'_, PyList>,
        key: &Key,
        allow_empty: bool,
        owner: Option<&Bound<'_, PyAny>>,
        record_paths: bool,
    ) -> PyResult<AppendResult> {
        let owner = owner_arg(py, owner)?;
        // One encoder for the batch (no NaN, the text as it is, compact):
        // each event a line of JSON, as the command reads them.
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("allow_nan", false)?;
        kwargs.set_item("ensure_ascii", false)?;
        kwargs.set_item("separators", (",", ":"))?;
        let encode = py
            .import("json")?
            .getattr("JSONEncoder")?
            .call((), Some(&kwargs))?
            .getattr("encode")?;
        let mut lines = String::new();
        for (i, ev) in events.iter().enumerate() {
            let text = encode.call1((ev,)).map_err(|e| {
                let err = InputError::new_err(format!("line {}: not JSON: {e}", i + 1));
                let _ = err.value(py).setattr("line", i + 1);
                let _ = err.value(py).setattr("field", "");
                err
            })?;
            let text = text.cast::<PyString>()?.to_cow().map_err(|e| {
                let err = InputError::new_err(format!(
                    "line {}: not valid UTF-8 text (a lone surrogate?): {e}",
                    i + 1
                ));
                let _ = err.value(py).setattr("line", i + 1);
                let _ = err.value(py).setattr("field", "");
                err
            })?;
            lines.push_str(&text);
            lines.push('\n');
        }
        let k = key.inner.clone();
        let loc = self.location.clone();
        let opts = custody::AppendOptions {
            allow_empty,
            record_paths,
            owner,
            ..Default::default()
        };
        if let Some(base) = custody::remote_base(&loc).map_err(|e| to_py(py, e))? {
            let r = py
                .detach(move || custody::append_remote(&base, &k, lines.as_bytes(), &opts))
                .map_err(|e| to_py(py, e))?;
            let mut warnings = r.warnings;
            if let Some((a, b)) = r.stored_before {
                warnings.push(format!(
                    "these events are already in the ledger (entries {a} to {b}), appended by an \
                     earlier attempt whose answer was lost; nothing was appended again"
                ));
            }
            warn_all(py, &warnings)?;
            return Ok(AppendResult {
                appended: r.appended,
                entries: r.entries,
                head: r.head,
                warnings,
                stored_before: r.stored_before,
            });
        }
        let r = py
            .detach(move || custody::append_with(&loc, &k, lines.as_bytes(), &opts))
            .map_err(|e| to_py(py, e))?;
        warn_all(py, &r.warnings)?;
        Ok(AppendResult {
            appended: r.appended,
            entries: r.entries,
            head: hex::encode(r.head),
            warnings: r.warnings,
            stored_before: None,
        })
    }

    /// Verifies the ledger (see `custody.verify`).
    #[pyo3(signature = (owner=None, checkpoint=None, vkey=None, origin=None))]
    fn verify(
        &self,
        py: Python<'_>,
        owner: Option<&Bound<'_, PyAny>>,
        checkpoint: Option<&Bound<'_, PyAny>>,
        vkey: Option<&Bound<'_, PyAny>>,
        origin: Option<String>,
    ) -> PyResult<VerifyResult> {
        verify(py, self.location.clone(), owner, checkpoint, vkey, origin)
    }

    fn __repr__(&self) -> String {
        format!("Ledger('{}')", shown(&self.location))
    }
}

#[pymodule]
fn _custody(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Key>()?;
    m.add_class::<Ledger>()?;
    m.add_class::<AppendResult>()?;
    m.add_class::<VerifyResult>()?;
    m.add_class::<ProofResult>()?;
    m.add_class::<LogIter>()?;
    m.add_function(wrap_pyfunction!(entry, m)?)?;
    m.add_function(wrap_pyfunction!(prove_inclusion, m)?)?;
    m.add_function(wrap_pyfunction!(prove_consistency, m)?)?;
    m.add_function(wrap_pyfunction!(verify_proof, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(log, m)?)?;
    m.add_function(wrap_pyfunction!(digest, m)?)?;
    m.add_function(wrap_pyfunction!(openness, m)?)?;
    m.add_function(wrap_pyfunction!(export, m)?)?;
    m.add_function(wrap_pyfunction!(import_, m)?)?;
    m.add_function(wrap_pyfunction!(checkpoint, m)?)?;
    m.add("CustodyError", py.get_type::<CustodyError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("InvalidLedgerError", py.get_type::<InvalidLedgerError>())?;
    m.add("LedgerInUseError", py.get_type::<LedgerInUseError>())?;
    m.add("CustodyIOError", py.get_type::<CustodyIOError>())?;
    m.add("CustodyWarning", py.get_type::<CustodyWarning>())?;
    Ok(())
}
