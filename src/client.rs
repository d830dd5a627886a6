//! The HTTP half of a custody client: the ledger behind an
//! `http://HOST:PORT/NAME` URL, downloaded to verify as any export, and
//! appends through the server (`remote.rs` checks and signs; this file
//! carries the bytes). Plain HTTP only: servers sit behind a TLS proxy.

use crate::error::Error;
use crate::ledger::AppendOptions;
use ed25519_dalek::SigningKey;
use std::io::{Read, Write};
use std::time::Duration;

/// `http://HOST:PORT/LEDGER` (or `.../v1/LEDGER`): the ledger's base URL
/// on a custody server, when `arg` is one. A URL this client cannot use
/// (credentials, a query, TLS) is refused without being repeated, since
/// what it carries may be secret.
pub fn remote_base(arg: &std::path::Path) -> Result<Option<String>, Error> {
    let Some(s) = arg.to_str() else {
        return Ok(None);
    };
    // Compared as bytes: a path may begin with any character, and a
    // slice of it at a byte count may fall inside one.
    let scheme =
        |p: &str| s.len() >= p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    if scheme("https://") {
        return Err(Error::Usage(
            "custody's client speaks plain HTTP only (TLS in the client is not built): reach \
             a TLS server through a local tunnel or proxy, as http://127.0.0.1:PORT/LEDGER"
                .into(),
        ));
    }
    if !scheme("http://") {
        return Ok(None);
    }
    let rest = &s["http://".len()..];
    let shape = || {
        Error::Usage(
            "a served ledger's URL is http://HOST:PORT/LEDGER, without credentials, query or \
             fragment, and with a port that is a number (the URL given is not repeated here: \
             it may hold a secret)"
                .into(),
        )
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if host.contains('@') || path.contains(['?', '#']) || host.is_empty() {
        return Err(shape());
    }
    if crate::remote::host_port(host).is_none() {
        return Err(shape());
    }
    let path = path.trim_end_matches('/');
    let name = path.strip_prefix("v1/").unwrap_or(path);
    if name.is_empty() || name.contains('/') {
        return Err(shape());
    }
    Ok(Some(format!("http://{host}/v1/{name}")))
}

fn http_err(url: &str, e: ureq::Error) -> Error {
    Error::Unavailable(format!("{url}: {e}"))
}

/// Reads a response body into `out` (a file or memory), without holding
/// more than a buffer of it at a time in memory when `out` is a file.
fn read_body(
    url: &str,
    resp: &mut ureq::http::Response<ureq::Body>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let mut r = resp.body_mut().with_config().limit(u64::MAX).reader();
    std::io::copy(&mut r, out).map_err(|e| Error::Unavailable(format!("{url}: {e}")))?;
    Ok(())
}

/// Downloads a served ledger's export into a temporary file, for commands
/// that read a SOURCE: they verify it as they would any export. It goes
/// to disk as it comes: a server sending without end fills no memory.
pub fn fetch(base: &str) -> Result<tempfile::NamedTempFile, Error> {
    let url = format!("{base}/export");
    let mut resp = ureq::get(&url).call().map_err(|e| http_err(&url, e))?;
    let mut f = tempfile::NamedTempFile::new().map_err(|e| Error::Io {
        path: std::env::temp_dir(),
        source: e,
    })?;
    {
        let mut w = std::io::BufWriter::new(f.as_file_mut());
        read_body(&url, &mut resp, &mut w)?;
        w.flush().map_err(|e| Error::Io {
            path: std::env::temp_dir(),
            source: e,
        })?;
    }
    Ok(f)
}

/// Attempts at a remote append whose head keeps moving.
const ATTEMPTS: u32 = 24;

/// The most a client keeps in memory of what came since its last batch;
/// beyond it, it downloads the whole ledger to a file instead.
const MAX_TAIL: u64 = 256 << 20;

/// What a remote append did.
pub struct RemoteReport {
    /// Entries this append stored (0 when an earlier attempt had).
    pub appended: u64,
    /// Entries in the served ledger after the batch.
    pub entries: u64,
    /// Hash of the batch's last entry, hex.
    pub head: String,
    /// Times the batch was signed again on a head that had moved.
    pub retries: u32,
    /// The same events were stored by an earlier attempt (first, last).
    pub stored_before: Option<(u64, u64)>,
    /// What the client should know.
    pub warnings: Vec<String>,
}

/// Appends `events` (JSON Lines) to a served ledger: downloads and
/// verifies it, checks and signs the batch locally, posts it; on a stale
/// head (someone appended meanwhile), does it again, up to 24 times.
///
/// An answer that does not say whether the batch was stored (a timeout, a
/// server error, a lost connection) leaves it pending: the same append run
/// again finds it in the ledger, or sends it again, byte for byte.
pub fn append_remote(
    base: &str,
    key: &SigningKey,
    events: &[u8],
    opts: &AppendOptions,
) -> Result<RemoteReport, Error> {
    let url = format!("{base}/entries");
    for attempt in 0..ATTEMPTS {
        // From the state this key verified last time, only what came
        // since is downloaded and verified; without one, or when what came
        // since does not follow from it, the whole ledger.
        let resumed = crate::load_state(key, base).and_then(|state| {
            let size = crate::state_size(key, &state)?;
            let u = format!("{base}/entries?from={size}");
            let mut resp = ureq::get(&u).call().ok()?;
            let mut tail = Vec::new();
            resp.body_mut()
                .with_config()
                .limit(MAX_TAIL)
                .reader()
                .read_to_end(&mut tail)
                .ok()?;
            match crate::sign_for_server_after(&state, &tail, key, events, opts, base) {
                Ok(b) => Some(Ok(b)),
                // Bad input is bad whatever the ledger holds; a ledger
                // that is not the one this key built on stays refused.
                Err(e @ (Error::Input(_) | Error::Usage(_))) => Some(Err(e)),
                Err(_) => None,
            }
        });
        let batch = match resumed {
            Some(b) => b?,
            None => {
                let whole = fetch(base)?;
                let bytes = std::fs::read(whole.path()).map_err(|e| Error::Io {
                    path: whole.path().to_path_buf(),
                    source: e,
                })?;
                crate::sign_for_server(&bytes, key, events, opts, base)?
            }
        };
        if let Some(range) = batch.stored_before {
            crate::confirm_stored(key, &batch, base)?;
            crate::save_state(key, base, &batch);
            return Ok(RemoteReport {
                appended: 0,
                entries: batch.first,
                head: hex::encode(batch.head),
                retries: attempt,
                stored_before: Some(range),
                warnings: batch.warnings.clone(),
            });
        }
        let unknown = |why: String| {
            Error::Unconfirmed(format!(
                "{base}: {why}. The batch may or may not have been stored: run the same append \
                 again (the same events): it finds the batch if it is there, or sends it again, \
                 byte for byte"
            ))
        };
        let resp = match ureq::post(&url)
            .config()
            .http_status_as_error(false)
            .build()
            .header("content-type", "application/octet-stream")
            .send(&batch.body[..])
        {
            Ok(r) => r,
            Err(e) => return Err(unknown(format!("no answer to the batch ({e})"))),
        };
        let status = resp.status().as_u16();
        let mut resp = resp;
        let text = match resp.body_mut().read_to_string() {
            Ok(t) => t,
            Err(e) if status == 200 => {
                return Err(unknown(format!("the answer was cut off ({e})")))
            }
            Err(_) => String::new(),
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        match status {
            200 => {
                // The answer is not taken for it: the batch's last entry
                // must be where it was signed to be.
                let last = batch.first + batch.appended - 1;
                let u = format!("{base}/entries?from={last}");
                let held = ureq::get(&u)
                    .call()
                    .ok()
                    .and_then(|mut r| {
                        r.body_mut()
                            .with_config()
                            .limit(crate::MAX_ENTRY_SIZE as u64 * 2)
                            .read_to_vec()
                            .ok()
                    })
                    .is_some_and(|b| !batch.last.is_empty() && b.starts_with(&batch.last));
                if !held {
                    return Err(unknown(
                        "the server said the batch was stored, but its last entry is not in the \
                         ledger it serves"
                            .into(),
                    ));
                }
                crate::confirm_stored(key, &batch, base)?;
                crate::save_state(key, base, &batch);
                return Ok(RemoteReport {
                    appended: batch.appended,
                    entries: batch.first + batch.appended,
                    head: hex::encode(batch.head),
                    retries: attempt,
                    stored_before: None,
                    warnings: batch.warnings.clone(),
                });
            }
            // Not taken in (the server is busy or its store unreachable):
            // nothing was stored, and a moment later may do.
            503 if attempt + 1 < ATTEMPTS => {
                std::thread::sleep(Duration::from_millis(200 << attempt.min(4)));
                continue;
            }
            409 => {
                // A ledger shorter than the one this key signed on was
                // rolled back or replaced: no retry makes that right.
                if let Some(n) = v["entries"].as_u64().filter(|&n| n < batch.first) {
                    return Err(Error::Usage(format!(
                        "{base} now holds {n} entries, fewer than the {} this key verified there: \
                         the ledger was rolled back or replaced; nothing was appended",
                        batch.first
                    )));
                }
                // Jittered, doubling waits: clients turned away together
                // do not come back together.
                let cap = (40u64 << attempt.min(6)).min(2000);
                let mut r = [0u8; 8];
                let _ = getrandom::getrandom(&mut r);
                let wait = cap / 2 + u64::from_le_bytes(r) % (cap / 2 + 1);
                std::thread::sleep(Duration::from_millis(wait));
                continue;
            }
            // The request was refused as it stands: nothing was stored.
            400 | 401 | 404 | 413 | 415 | 422 => {
                let msg = v["message"].as_str().unwrap_or(text.as_str()).to_string();
                return Err(Error::Usage(format!(
                    "{base} refused the batch ({status}): {msg}"
                )));
            }
            _ => {
                let msg = v["message"].as_str().unwrap_or(text.as_str()).to_string();
                return Err(unknown(format!("answered {status}: {msg}")));
            }
        }
    }
    Err(Error::Unavailable(format!(
        "{base}: the ledger kept moving; gave up after {ATTEMPTS} attempts, nothing was appended"
    )))
}
