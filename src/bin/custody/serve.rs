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
use std::io::Write;
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
