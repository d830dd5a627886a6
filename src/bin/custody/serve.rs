//! `custody serve`: ledgers over HTTP/1 (see schemas/openapi.yaml).
//!
//! Reads answer from the verified ledger; an append is a batch the client
//! signed, checked by `custody::Served` exactly as `append` checks one and
//! stored whole or not at all. The server holds no appender's key. Work on
//! a ledger runs on blocking threads: the library is synchronous.

// Handlers answer errors as ready responses; they are built once per request.
#![allow(clippy::result_large_err)]

use crate::Failure;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use custody::{Appended, Error, Served, SigningKey};
use serde_json::json;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest request body: a batch of up to this many bytes of entries.
pub const MAX_BODY: usize = 64 << 20;
/// A request's body must arrive within this many seconds (`--body-timeout`).
static BODY_TIMEOUT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(60);
/// Bytes of request bodies held in memory at once, by all requests.
const MAX_BODIES: usize = 256 << 20;
static BODIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Room taken in [`BODIES`], given back when dropped.
struct Held(usize);

impl Drop for Held {
    fn drop(&mut self) {
        BODIES.fetch_sub(self.0, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Reads a request body, counting each frame as it arrives.
async fn read_counted(body: axum::body::Body) -> Result<(Bytes, Held), Response> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut held = Held(0);
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(problem(
                StatusCode::BAD_REQUEST,
                "usage",
                "the request's body was cut off",
            ));
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if buf.len() + data.len() > MAX_BODY {
            return Err(problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                &format!("a request body may hold at most {MAX_BODY} bytes"),
            ));
        }
        let before = BODIES.fetch_add(data.len(), std::sync::atomic::Ordering::Relaxed);
        held.0 += data.len();
        if before + data.len() > MAX_BODIES {
            return Err(problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server holds as many request bodies as it may: try again shortly",
            ));
        }
        buf.extend_from_slice(&data);
    }
    Ok((Bytes::from(buf), held))
}

/// OpenLineage ingestion: the key that signs, the token clients present,
/// and the ledger events go to.
pub struct Ingest {
    pub key: SigningKey,
    pub token: String,
}

/// An event waiting to be recorded, and where its answer goes.
type Job = (
    Bytes,
    tokio::sync::oneshot::Sender<Result<custody::Ingested, Error>>,
);

/// Events that arrive while a batch is being recorded wait for the next
/// one, up to this many (or this many bytes).
const MAX_GROUP: usize = 1000;
const MAX_GROUP_BYTES: usize = 16 << 20;

struct App {
    /// Where OpenLineage events go, when ingestion is on.
    ingest: Option<(String, std::sync::mpsc::Sender<Job>)>,
    /// Each ledger by name, with the location as given (the password of a
    /// database URL included, which `Served` shows to no one).
    ledgers: HashMap<String, (Arc<Served>, PathBuf)>,
    checkpoint_key: Option<SigningKey>,
}

type Shared = Arc<App>;

/// Serves `ledgers` on `listen` until SIGTERM or Ctrl-C; requests under
/// way are finished first.
pub fn run(
    ledgers: &[PathBuf],
    listen: &str,
    checkpoint_key: Option<SigningKey>,
    ingest: Option<Ingest>,
    body_timeout: Duration,
) -> Result<(), Failure> {
    BODY_TIMEOUT.store(body_timeout.as_secs(), std::sync::atomic::Ordering::Relaxed);
    let mut map = HashMap::new();
    let mut first_name = None;
    for l in ledgers {
        let served = Served::open(l.as_path())?;
        let name = served.verified()?.name().to_string();
        first_name.get_or_insert_with(|| name.clone());
        if map
            .insert(name.clone(), (Arc::new(served), l.clone()))
            .is_some()
        {
            return Err(Error::Usage(format!(
                "two ledgers are named `{name}`; each is served under its name"
            ))
            .into());
        }
    }
    let names: Vec<String> = map.keys().cloned().collect();
    let served = map.clone();
    let ingest = match ingest.zip(first_name) {
        None => None,
        Some((ingest, name)) => {
            let (tx, rx) = std::sync::mpsc::channel();
            let s = map[&name].0.clone();
            std::thread::Builder::new()
                .name("ingest".into())
                .spawn(move || record_events(&s, &ingest.key, &rx))?;
            Some((ingest.token, tx))
        }
    };
    let app = Arc::new(App {
        ingest,
        ledgers: map,
        checkpoint_key,
    });
    let router = Router::new()
        .route("/v1/{ledger}", get(summary))
        .route("/v1/{ledger}/export", get(export))
        .route("/v1/{ledger}/openness", get(openness))
        .route("/v1/{ledger}/checkpoint", get(checkpoint))
        .route("/v1/{ledger}/proof/inclusion", get(inclusion))
        .route("/v1/{ledger}/proof/consistency", post(consistency))
        .route("/v1/{ledger}/entries", post(append).get(range))
        .route("/api/v1/lineage", post(lineage))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(access_log))
        .with_state(app);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        // The address goes to stdout, once, so that a script (or a test)
        // that asked for port 0 learns which it got. A reader that has
        // gone (`| head -1`) does not stop the server.
        let mut o = std::io::stdout();
        let mut said = format!("listening on http://{addr}\n");
        for n in &names {
            said.push_str(&format!("  http://{addr}/v1/{}\n", encode_segment(n)));
        }
        let _ = o.write_all(said.as_bytes()).and_then(|()| o.flush());
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown())
            .await?;
        for (name, (s, _)) in &served {
            if let Err(e) = s.close() {
                eprintln!("custody serve: closing {name}: {e}");
            }
        }
        eprintln!("custody serve: stopped");
        Ok::<(), std::io::Error>(())
    })?;
    Ok(())
}

async fn shutdown() {
    let term = async {
        #[cfg(unix)]
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
            return;
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// One line per request on standard error: method, path, status, time;
/// and a request that takes too long is cut off.
async fn access_log(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let t = Instant::now();
    // A body declared too large is refused before a byte of it is read.
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let resp = if declared.is_some_and(|n| n > MAX_BODY as u64) {
        problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            &format!("a request body may hold at most {MAX_BODY} bytes"),
        )
    } else {
        // The body is read here, whole, within the time allowed, counted
        // as it arrives against what all requests may hold at once (a
        // request beyond is answered 503 at once, not queued); the work is
        // then done without a deadline, so that no request is answered
        // "timeout" while its batch is being stored.
        let (parts, body) = req.into_parts();
        let limit = Duration::from_secs(BODY_TIMEOUT.load(std::sync::atomic::Ordering::Relaxed));
        match tokio::time::timeout(limit, read_counted(body)).await {
            Err(_) => problem(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "the request's body did not arrive in time; nothing was done",
            ),
            Ok(Err(r)) => r,
            Ok(Ok((bytes, held))) => {
                let resp = next
                    .run(axum::extract::Request::from_parts(
                        parts,
                        axum::body::Body::from(bytes),
                    ))
                    .await;
                drop(held);
                resp
            }
        }
    };
    eprintln!(
        "{} {} {} {} {:.1}ms",
        custody::rfc3339(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        ),
        method,
        crate::output::safe(&path),
        resp.status().as_u16(),
        t.elapsed().as_secs_f64() * 1e3
    );
    resp
}

/// The key this server signs checkpoints with, or the answer that it
/// signs none (checkpoints and proofs need one).
fn checkpoint_key(app: &App) -> Result<SigningKey, Response> {
    app.checkpoint_key.clone().ok_or_else(|| {
        problem(
            StatusCode::NOT_FOUND,
            "no-checkpoint-key",
            "this server signs no checkpoints, which checkpoints and proofs need (start it with \
             --checkpoint-key)",
        )
    })
}

fn problem(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": code, "message": message}))).into_response()
}

/// The HTTP answer to a library error: the CLI's message and reason code.
fn error_response(e: &Error) -> Response {
    match e {
        Error::Invalid(i) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({
                "error": i.error.reason.code(),
                "seq": i.error.seq,
                "message": e.to_string(),
            })),
        )
            .into_response(),
        Error::Input(i) => (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "error": "input",
                "line": i.line,
                "field": i.field,
                "message": e.to_string(),
            })),
        )
            .into_response(),
        Error::Usage(m) => problem(StatusCode::BAD_REQUEST, "usage", m),
        Error::Locked(_) | Error::Unavailable(_) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            &e.to_string(),
        ),
        _ => problem(StatusCode::INTERNAL_SERVER_ERROR, "store", &e.to_string()),
    }
}

fn ledger(app: &App, name: &str) -> Result<Arc<Served>, Response> {
    app.ledgers.get(name).map(|l| l.0.clone()).ok_or_else(|| {
        problem(
            StatusCode::NOT_FOUND,
            "no-ledger",
            &format!("no ledger named `{name}` is served here"),
        )
    })
}

/// Runs blocking ledger work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(error_response(&e)),
        Err(_) => Err(problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the request's work failed",
        )),
    }
}

async fn summary(State(app): State<Shared>, UrlPath(name): UrlPath<String>) -> Response {
    let s = match ledger(&app, &name) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match blocking(move || s.verified()).await {
        Ok(v) => Json(json!({
            "ledger": hex::encode(v.id()),
            "name": v.name(),
            "entries": v.entries(),
            "head": hex::encode(v.head()),
            "owner": hex::encode(v.owner()),
        }))
        .into_response(),
        Err(r) => r,
    }
}

async fn export(State(app): State<Shared>, UrlPath(name): UrlPath<String>) -> Response {
    let s = match ledger(&app, &name) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let bytes = blocking(move || s.export_bytes()).await;
    match bytes {
        Ok(b) => ([(header::CONTENT_TYPE, "application/octet-stream")], b).into_response(),
        Err(r) => r,
    }
}

async fn openness(State(app): State<Shared>, UrlPath(name): UrlPath<String>) -> Response {
    let s = match ledger(&app, &name) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let source = format!("/v1/{}", encode_segment(&name));
    let doc = blocking(move || {
        // The document `custody openness --json` writes, from the state
        // the server verified.
        let o = s.openness()?;
        let mut buf = Vec::new();
        crate::openness::write_json(&mut buf, &source, &o)
            .map_err(|e| Error::Store(e.to_string()))?;
        buf.push(b'\n');
        Ok(buf)
    })
    .await;
    match doc {
        Ok(b) => ([(header::CONTENT_TYPE, "application/json")], b).into_response(),
        Err(r) => r,
    }
}

async fn checkpoint(State(app): State<Shared>, UrlPath(name): UrlPath<String>) -> Response {
    let s = match ledger(&app, &name) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let key = match checkpoint_key(&app) {
        Ok(k) => k,
        Err(r) => return r,
    };
    match blocking(move || s.with_ledger(|loc| custody::checkpoint(loc.clone(), &key, None))).await
    {
        Ok(note) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response(),
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
struct Seq {
    seq: Option<u64>,
}

/// `GET /v1/NAME/proof/inclusion?seq=N`: a c2sp.org/tlog-proof of entry N
/// against a checkpoint of the ledger now, signed by the checkpoint key.
async fn inclusion(
    State(app): State<Shared>,
    UrlPath(name): UrlPath<String>,
    axum::extract::Query(q): axum::extract::Query<Seq>,
) -> Response {
    let s = match ledger(&app, &name) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let key = match checkpoint_key(&app) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let Some(seq) = q.seq else {
        return problem(StatusCode::BAD_REQUEST, "usage", "say which entry: ?seq=N");
    };
    let proof = blocking(move || {
        s.with_ledger(|loc| {
            custody::prove_inclusion(loc.clone(), seq, custody::ProofCheckpoint::Sign(&key, None))
        })
    })
    .await;
    match proof {
        Ok(p) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            p.encode(),
        )
            .into_response(),
        Err(r) => r,
    }
}

/// `POST /v1/NAME/proof/consistency` with an older checkpoint of the
/// ledger: the proof from its tree to the ledger's now, as the body of a
/// c2sp.org/tlog-witness add-checkpoint request.
async fn consistency(
    State(app): State<Shared>,
    UrlPath(name): UrlPath<String>,
    body: Bytes,
) -> Response {
    let s = match ledger(&app, &name) {
        Ok(s) => s,
        Err(r) => return r,
    };
    // The current tree is verified from the checkpoint key's record, not
    // from the first entry: a proof costs what came since the last one.
    let key = match checkpoint_key(&app) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let Ok(old) = String::from_utf8(body.to_vec()) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "usage",
            "the body must be a checkpoint (a signed note, UTF-8 text)",
        );
    };
    match blocking(move || {
        s.with_ledger(|loc| custody::prove_consistency_with(loc.clone(), &old, None, Some(&key)))
    })
    .await
    {
        Ok(p) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], p).into_response(),
        Err(r) => r,
    }
}

async fn append(
    State(app): State<Shared>,
    UrlPath(name): UrlPath<String>,
    body: Bytes,
) -> Response {
    let s = match ledger(&app, &name) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match blocking(move || s.append_signed(&body)).await {
        Ok(Appended::Done(r)) => Json(json!({
            "appended": r.appended,
            "entries": r.entries,
            "head": hex::encode(r.head),
        }))
        .into_response(),
        Ok(Appended::Stale(st)) => (
            StatusCode::CONFLICT,
            Json(json!({
                "error": "stale-head",
                "message": "the batch was signed on a head that is no longer the ledger's: \
                            sign it again on this one",
                "entries": st.entries,
                "head": hex::encode(st.head),
            })),
        )
            .into_response(),
        Err(r) => r,
    }
}

/// `http://HOST:PORT/LEDGER` (or `.../v1/LEDGER`): the ledger's base URL
/// on a custody server, when `arg` is one. A URL this client cannot use
/// (credentials, a query, TLS) is refused without being repeated, since
/// what it carries may be secret.
pub fn remote_base(arg: &std::path::Path) -> Result<Option<String>, Error> {
    let Some(s) = arg.to_str() else {
        return Ok(None);
    };
    if s.starts_with("https://") {
        return Err(Error::Usage(
            "custody's client speaks plain HTTP only (TLS in the client is not built): reach \
             a TLS server through a local tunnel or proxy, as http://127.0.0.1:PORT/LEDGER"
                .into(),
        ));
    }
    let Some(rest) = s.strip_prefix("http://") else {
        return Ok(None);
    };
    let Some((host, path)) = rest.split_once('/') else {
        return Ok(None);
    };
    if host.contains('@') || path.contains(['?', '#']) {
        return Err(Error::Usage(
            "a served ledger's URL is http://HOST:PORT/LEDGER, without credentials, query or \
             fragment (custody serve asks for none; the URL given is not repeated here)"
                .into(),
        ));
    }
    let path = path.trim_end_matches('/');
    let name = path.strip_prefix("v1/").unwrap_or(path);
    if host.is_empty() || name.is_empty() || name.contains('/') {
        return Ok(None);
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
    pub appended: u64,
    pub entries: u64,
    pub head: String,
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
    opts: &custody::AppendOptions,
) -> Result<RemoteReport, Error> {
    let url = format!("{base}/entries");
    for attempt in 0..ATTEMPTS {
        // From the state this key verified last time, only what came
        // since is downloaded and verified; without one, or when what came
        // since does not follow from it, the whole ledger.
        let resumed = custody::load_state(key, base).and_then(|state| {
            let size = custody::state_size(key, &state)?;
            let u = format!("{base}/entries?from={size}");
            let mut resp = ureq::get(&u).call().ok()?;
            let mut tail = Vec::new();
            resp.body_mut()
                .with_config()
                .limit(MAX_TAIL)
                .reader()
                .read_to_end(&mut tail)
                .ok()?;
            match custody::sign_for_server_after(&state, &tail, key, events, opts, base) {
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
                custody::sign_for_server(&bytes, key, events, opts, base)?
            }
        };
        if let Some(range) = batch.stored_before {
            custody::confirm_stored(key, &batch, base)?;
            custody::save_state(key, base, &batch);
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
                            .limit(custody::MAX_ENTRY_SIZE as u64 * 2)
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
                custody::confirm_stored(key, &batch, base)?;
                custody::save_state(key, base, &batch);
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

/// A ledger name as one URL path segment.
fn encode_segment(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Records OpenLineage events in groups (group commit): whatever arrived
/// while the last batch was written goes into the next, so a flush and a
/// signing run serve many events when many clients post at once, and a
/// lone client waits for no one.
fn record_events(s: &Served, key: &SigningKey, rx: &std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut bytes = first.0.len();
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP && bytes < MAX_GROUP_BYTES {
            match rx.try_recv() {
                Ok(j) => {
                    bytes += j.0.len();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        let raws: Vec<&[u8]> = jobs.iter().map(|j| &j.0[..]).collect();
        let answers =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.ingest_all(key, &raws)))
                .unwrap_or_else(|_| {
                    raws.iter()
                        .map(|_| Err(Error::Store("internal error recording the event".into())))
                        .collect()
                });
        for ((_, tx), a) in jobs.into_iter().zip(answers) {
            // A client that hung up no longer waits for its answer.
            let _ = tx.send(a);
        }
    }
}

/// Whether the request carries the ingestion token (compared in time that
/// does not depend on where it differs).
fn authorized(headers: &axum::http::HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (a, b) = (given.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `POST /api/v1/lineage`: an OpenLineage RunEvent, recorded as entries
/// signed by the ingest key (schemas/OPENLINEAGE.md).
async fn lineage(
    State(app): State<Shared>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let Some((token, queue)) = &app.ingest else {
        return problem(
            StatusCode::NOT_FOUND,
            "no-ingestion",
            "this server takes no OpenLineage events (start it with --ingest-key and --token-file)",
        );
    };
    if !authorized(&headers, token) {
        return problem(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a bearer token is required (Authorization: Bearer TOKEN)",
        );
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    if queue.send((body, tx)).is_err() {
        return error_response(&Error::Store("the ingestion thread stopped".into()));
    }
    let answer = match rx.await {
        Ok(a) => a,
        Err(_) => Err(Error::Store("the ingestion thread stopped".into())),
    };
    match answer.map_err(|e| error_response(&e)) {
        Ok(custody::Ingested::Recorded(r)) => Json(json!({
            "recorded": r.appended,
            "entries": r.entries,
            "head": hex::encode(r.head),
        }))
        .into_response(),
        Ok(custody::Ingested::Duplicate) => {
            Json(json!({"recorded": 0, "duplicate": true})).into_response()
        }
        Ok(custody::Ingested::Skipped(why)) => {
            Json(json!({"recorded": 0, "skipped": why})).into_response()
        }
        Err(r) => r,
    }
}

#[derive(serde::Deserialize)]
struct From {
    from: Option<u64>,
}

/// `GET /v1/NAME/entries?from=N`: entries N onwards, back to back.
async fn range(
    State(app): State<Shared>,
    UrlPath(name): UrlPath<String>,
    axum::extract::Query(q): axum::extract::Query<From>,
) -> Response {
    let s = match ledger(&app, &name) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let first = q.from.unwrap_or(0);
    match blocking(move || s.entries_from(first)).await {
        Ok(b) => ([(header::CONTENT_TYPE, "application/octet-stream")], b).into_response(),
        Err(r) => r,
    }
}
