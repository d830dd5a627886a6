//! The `custody._custody` extension module: a thin layer over the Rust
//! library. Every check, signature and rule is the library's; this file
//! converts arguments and results, releases the GIL around the work, and
//! maps errors onto a small exception hierarchy.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::path::PathBuf;

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
    CustodyIOError,
    CustodyError,
    "Reading or writing a file failed (attribute `path`)."
);

/// The library's error as the Python exception for it, with the CLI's
/// message.
fn to_py(py: Python<'_>, e: custody::Error) -> PyErr {
    let msg = e.to_string();
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
            let _ = err.value(py).setattr("path", path.display().to_string());
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
        custody::read_signing_key(&path)
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
    /// What the append warns of.
    warnings: Vec<String>,
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
/// exception.
#[pyclass(frozen, get_all, module = "custody")]
struct VerifyResult {
    valid: bool,
    /// Entries that verified.
    entries: u64,
    /// Hash of the last entry that verified, hex (None when none did).
    head: Option<String>,
    /// The genesis (owner) key, hex, when it could be read.
    owner: Option<String>,
    /// Whether the owner key matched the one given.
    pinned: bool,
    /// The ledger's name (valid ledgers).
    name: Option<String>,
    /// The first bad entry and why (invalid ledgers).
    error_seq: Option<u64>,
    reason: Option<String>,
    detail: Option<String>,
}

#[pymethods]
impl VerifyResult {
    fn __bool__(&self) -> bool {
        self.valid
    }
    fn __repr__(&self) -> String {
        match (&self.error_seq, &self.reason) {
            (Some(s), Some(r)) => format!("VerifyResult(valid=False, seq={s}, reason='{r}')"),
            _ => format!(
                "VerifyResult(valid=True, entries={}, head='{}')",
                self.entries,
                self.head.as_deref().unwrap_or("")
            ),
        }
    }
}

fn owner_arg(py: Python<'_>, owner: Option<&str>) -> PyResult<Option<[u8; 32]>> {
    owner
        .map(custody::read_public_key)
        .transpose()
        .map_err(|e| to_py(py, e))
}

/// Verifies a ledger (directory, postgres:// URL, exported file or partial
/// export) end to end. Never raises for an invalid ledger: the result
/// says where and why.
#[pyfunction]
#[pyo3(signature = (source, owner=None))]
fn verify(py: Python<'_>, source: PathBuf, owner: Option<&str>) -> PyResult<VerifyResult> {
    let owner = owner_arg(py, owner)?;
    let r = py.detach(|| custody::verify_any(&source, &custody::VerifyOptions { owner }));
    match r {
        Ok(v) => Ok(VerifyResult {
            valid: true,
            entries: v.entries(),
            head: Some(hex::encode(v.head())),
            owner: Some(hex::encode(v.owner())),
            pinned: owner.is_some(),
            name: Some(v.name().to_string()),
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
            error_seq: Some(inv.error.seq),
            reason: Some(inv.error.reason.code().to_string()),
            detail: Some(inv.error.detail.clone()),
        }),
        Err(e) => Err(to_py(py, e)),
    }
}

/// The entries of a verified ledger, as dicts (the event's fields with
/// `seq`, `hash`, `signer` and `time`), in order. Raises
/// `InvalidLedgerError` for an invalid ledger.
#[pyfunction]
#[pyo3(signature = (source, owner=None))]
fn log<'py>(py: Python<'py>, source: PathBuf, owner: Option<&str>) -> PyResult<Bound<'py, PyList>> {
    let owner = owner_arg(py, owner)?;
    let text = py.detach(|| {
        let mut out = Vec::new();
        custody::verify(&source, &custody::VerifyOptions { owner }, |e| {
            let mut obj = e.event_json().clone();
            if let serde_json::Value::Object(m) = &mut obj {
                m.insert("seq".into(), e.seq().into());
                m.insert("hash".into(), hex::encode(e.hash()).into());
                m.insert("signer".into(), hex::encode(e.signer()).into());
                m.insert("time".into(), custody::rfc3339(e.time()).into());
            }
            out.push(obj);
            Ok(())
        })
        .map(|_| serde_json::Value::Array(out).to_string())
    });
    let text = text.map_err(|e| to_py(py, e))?;
    let json = py.import("json")?;
    json.call_method1("loads", (text,))?
        .cast_into::<PyList>()
        .map_err(|e| CustodyError::new_err(e.to_string()))
}

/// The openness of each pipeline component, derived from the verified
/// ledger alone: the same document as `custody openness --json`, as a
/// dict. Raises `InvalidLedgerError` for an invalid ledger.
#[pyfunction]
#[pyo3(signature = (source, owner=None))]
fn openness<'py>(
    py: Python<'py>,
    source: PathBuf,
    owner: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let owner = owner_arg(py, owner)?;
    let shown = source.display().to_string();
    let text = py
        .detach(|| {
            let v = custody::verify_any(&source, &custody::VerifyOptions { owner })?;
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
        custody::export(
            &source,
            custody::Output::File {
                path: &out,
                overwrite,
            },
        )
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

/// The digest of a file (`sha256:HEX`) or a directory
/// (`sha256-manifest:HEX`), as an artifact's `digest` records it.
#[pyfunction]
fn digest(py: Python<'_>, path: PathBuf) -> PyResult<String> {
    py.detach(|| custody::digest_path(&path, &custody::DigestOptions::default()))
        .map(|d| d.field())
        .map_err(|e| to_py(py, e))
}

/// A ledger where it lives: a directory or a postgres:// URL.
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
        py.detach(move || custody::verify_any(&loc, &custody::VerifyOptions::default()))
            .map_err(|e| to_py(py, e))?;
        Ok(Ledger { location })
    }

    /// Where it is.
    #[getter]
    fn location(&self) -> String {
        self.location.display().to_string()
    }

    /// Appends `events` (dicts, as the CLI's JSON Lines) signed by `key`,
    /// as one atomic batch: all or none. Bad events raise `InputError`
    /// with the line (1-based position in `events`) and field, and leave
    /// the ledger as it was.
    #[pyo3(signature = (events, key, allow_empty=false))]
    fn append(
        &self,
        py: Python<'_>,
        events: &Bound<'_, PyList>,
        key: &Key,
        allow_empty: bool,
    ) -> PyResult<AppendResult> {
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
            lines.push_str(&text.cast::<pyo3::types::PyString>()?.to_cow()?);
            lines.push('\n');
        }
        let k = key.inner.clone();
        let loc = self.location.clone();
        let opts = custody::AppendOptions {
            allow_empty,
            ..Default::default()
        };
        let r = py
            .detach(move || custody::append_with(&loc, &k, lines.as_bytes(), &opts))
            .map_err(|e| to_py(py, e))?;
        Ok(AppendResult {
            appended: r.appended,
            entries: r.entries,
            head: hex::encode(r.head),
            warnings: r.warnings,
        })
    }

    /// Verifies the ledger (see `custody.verify`).
    #[pyo3(signature = (owner=None))]
    fn verify(&self, py: Python<'_>, owner: Option<&str>) -> PyResult<VerifyResult> {
        verify(py, self.location.clone(), owner)
    }

    fn __repr__(&self) -> String {
        format!("Ledger('{}')", self.location.display())
    }
}

#[pymodule]
fn _custody(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Key>()?;
    m.add_class::<Ledger>()?;
    m.add_class::<AppendResult>()?;
    m.add_class::<VerifyResult>()?;
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
    Ok(())
}
