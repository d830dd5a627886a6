//! The PostgreSQL store: many ledgers in one database, appended to by any
//! number of processes on any number of machines.
//!
//! Schema (version 1, plain SQL, no extensions), created by `migrate`:
//!
//! - `custody_schema (version)`: one row.
//! - `custody_ledgers (ledger, name, size, head, tree_size)`: one row per
//!   ledger, its head record. Appenders take turns by locking this row
//!   (`SELECT ... FOR UPDATE`) for the whole of an append: verify what was
//!   appended since their last look, check and sign the batch, insert it,
//!   commit. Each entry's signature covers the hash of the one before, so
//!   a batch can only be signed once the head it follows is known; waiting
//!   in line costs one lock wait, where racing would cost a re-signed batch
//!   per lost race.
//! - `custody_entries (ledger, seq, bytes)`: the entries exactly as signed,
//!   keyed by (ledger, seq).
//! - `custody_nodes (ledger, level, idx, hash)`: the stored tree levels.
//! - `custody_records (ledger, signer, record)`: verification records.
//!
//! A batch's rows and the new head go in one transaction. Readers work in
//! a REPEATABLE READ, READ ONLY transaction: one consistent snapshot, and
//! no lock that would hold up an appender.

use super::{Batch, Mode, Store};
use crate::entry::Hash;
use crate::error::Error;
use postgres::error::SqlState;
use postgres::{Client, NoTls};
use std::sync::Mutex;
use std::time::Duration;

/// The schema version this custody writes and reads.
pub(crate) const SCHEMA_VERSION: i32 = 1;
/// Entries fetched per query when streaming a ledger.
const PAGE: i64 = 2048;
/// Rows longer than this are not fetched: no entry can be (the verifier
/// then refuses the entry as too large, as it would in an export).
const MAX_ROW: i32 = crate::entry::MAX_ENTRY_SIZE as i32;

/// A row's entry bytes; one over the size limit becomes a stand-in of the
/// limit plus one byte, which the verifier refuses as too large.
fn bounded(r: &postgres::Row) -> Result<Vec<u8>, Error> {
    match col::<Option<Vec<u8>>>(r, 1)? {
        // The server's word on the length is checked, not trusted.
        Some(b) if b.len() <= crate::entry::MAX_ENTRY_SIZE => Ok(b),
        Some(_) => Ok(vec![0; crate::entry::MAX_ENTRY_SIZE + 1]),
        None => {
            let len: Option<i32> = col(r, 2)?;
            match len {
                Some(_) => Ok(vec![0; crate::entry::MAX_ENTRY_SIZE + 1]),
                None => Err(Error::Store("an entry row holds no bytes (NULL)".into())),
            }
        }
    }
}
/// Verification records up to this size are fetched, far more than the
/// rules state of the largest ledgers measured (a fixed bound: a figure a
/// table writer could change would be no bound).
const MAX_RECORD: i32 = 256 << 20;
/// An appender waits in line at least this long for the ledger's lock.
const MIN_LOCK_WAIT: Duration = Duration::from_secs(60);
/// Key of the advisory lock that serialises schema changes.
const MIGRATE_LOCK: i64 = 0x6375_7374_6f64_7901;

const SCHEMA: &str = "
CREATE TABLE custody_ledgers (
    ledger    bigserial PRIMARY KEY,
    name      text   NOT NULL UNIQUE,
    size      bigint NOT NULL,
    head      bytea  NOT NULL,
    tree_size bigint NOT NULL
);
CREATE TABLE custody_entries (
    ledger bigint NOT NULL,
    seq    bigint NOT NULL,
    bytes  bytea  NOT NULL,
    PRIMARY KEY (ledger, seq)
);
CREATE TABLE custody_nodes (
    ledger bigint   NOT NULL,
    level  smallint NOT NULL,
    idx    bigint   NOT NULL,
    hash   bytea    NOT NULL,
    PRIMARY KEY (ledger, level, idx)
);
CREATE TABLE custody_records (
    ledger bigint NOT NULL,
    signer bytea  NOT NULL,
    record bytea  NOT NULL,
    PRIMARY KEY (ledger, signer)
);
-- Records are rewritten with every batch and do not compress well:
-- stored out of line, uncompressed.
ALTER TABLE custody_records ALTER COLUMN record SET STORAGE EXTERNAL;
";

/// Column `i` of a row as `T`, or an error naming it (a table altered
/// behind custody's back must not make it panic).
fn col<'a, T: postgres::types::FromSql<'a>>(row: &'a postgres::Row, i: usize) -> Result<T, Error> {
    row.try_get(i).map_err(|e| {
        Error::Store(format!(
            "column {} of a custody table is not what custody wrote: {e}",
            row.columns().get(i).map_or("?", |c| c.name())
        ))
    })
}

/// A URL with its password, if any, replaced by `***`: the user
/// information's (up to the last `@`, so that a password holding an `@`
/// is hidden whole; all of it when it holds `?` or `#`, which a URL
/// custody accepts does not)
/// and any parameter whose name, %-decoded, holds `password`.
pub(crate) fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let mut out = url[..scheme_end].to_string();
    let tail = match rest.rfind('@') {
        Some(at) => {
            let creds = &rest[..at];
            if creds.contains(['?', '#']) {
                out.push_str("***");
            } else if let Some(colon) = creds.find(':') {
                out.push_str(&creds[..colon]);
                out.push_str(":***");
            } else {
                out.push_str(creds);
            }
            &rest[at..]
        }
        None => rest,
    };
    let (main, query) = match tail.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (tail, None),
    };
    out.push_str(main);
    if let Some(q) = query {
        out.push('?');
        let pairs: Vec<String> = q
            .split('&')
            .map(|p| {
                let (k, _) = p.split_once('=').unwrap_or((p, ""));
                let name = percent_decode(k).unwrap_or_else(|_| k.to_string());
                if name.to_ascii_lowercase().contains("password") {
                    format!("{k}=***")
                } else {
                    p.to_string()
                }
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out
}

/// The name a key's memory of "which ledger is here" is kept under: what
/// the URL connects to (hosts, ports, database, ledger name), however it
/// is spelled, without user or password.
pub(crate) fn binding_name(url: &str) -> String {
    let Ok((c, name)) = parse(url) else {
        return redact(url);
    };
    use postgres::config::Host;
    let hosts: Vec<String> = c
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(t) => t.to_ascii_lowercase(),
            #[cfg(unix)]
            Host::Unix(p) => p.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = match c.get_ports() {
        [] => vec!["5432".into()],
        p => p.iter().map(u16::to_string).collect(),
    };
    let db = c.get_dbname().or(c.get_user()).unwrap_or("");
    format!(
        "postgres://{}:{}/{db}?ledger={name}",
        hosts.join(","),
        ports.join(",")
    )
}

/// Splits the `ledger` parameter off a URL: (connection config, ledger name).
fn parse(url: &str) -> Result<(postgres::Config, String), Error> {
    if let Some(at) = url.rfind('@') {
        let creds = &url[url.find("://").map_or(0, |i| i + 3)..at];
        if creds.contains(['@', '?', '#']) {
            return Err(Error::usage(format!(
                "{}: an `@` ends the user and password of a database URL; elsewhere, and for \
                 `?` or `#` in a password, write it %-encoded (%40, %3F, %23)",
                redact(url)
            )));
        }
    }
    if url.contains('#') {
        return Err(Error::usage(format!(
            "{}: a database URL has no #fragment (write %23 for # in a name)",
            redact(url)
        )));
    }
    // Schemes are case-insensitive; the driver wants them in lower case.
    let lowered;
    let url = match url.find("://") {
        Some(i) if url[..i].chars().any(|c| c.is_ascii_uppercase()) => {
            lowered = format!("{}{}", url[..i].to_ascii_lowercase(), &url[i..]);
            lowered.as_str()
        }
        _ => url,
    };
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, q),
        None => (url, ""),
    };
    let mut name = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("ledger", v)) => name = Some(percent_decode(v)?),
            _ => rest.push(pair),
        }
    }
    let conn = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    let mut config: postgres::Config = conn.parse().map_err(|e| {
        Error::usage(format!(
            "{}: not a PostgreSQL URL custody can use ({e}); the form is \
             postgres://USER@HOST:PORT/DATABASE?ledger=NAME",
            redact(url)
        ))
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("custody");
    let name = name.unwrap_or_else(|| "default".to_string());
    if name.is_empty() || name.len() > 256 || name.chars().any(char::is_control) {
        return Err(Error::usage(format!(
            "{}: the ledger name must be 1 to 256 bytes without control characters",
            redact(url)
        )));
    }
    Ok((config, name))
}

fn percent_decode(s: &str) -> Result<String, Error> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| Error::usage(format!("ledger={s}: a bad %-escape")))?;
                out.push(hex);
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| Error::usage(format!("ledger={s}: not UTF-8")))
}

/// Whether an error leaves the database as it was and is worth another
/// attempt: the connection went away, the server is restarting, a lock or
/// serialisation conflict.
fn transient(e: &postgres::Error) -> bool {
    use std::error::Error as _;
    match e.code() {
        // No SQL state: the connection failed or closed (transient), or
        // the configuration is one the driver cannot use (not).
        None => {
            e.is_closed()
                || e.source()
                    .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some())
        }
        Some(c) => {
            let code = c.code();
            code.starts_with("08")
                || code.starts_with("57P")
                || [
                    SqlState::T_R_SERIALIZATION_FAILURE,
                    SqlState::T_R_DEADLOCK_DETECTED,
                    SqlState::LOCK_NOT_AVAILABLE,
                    SqlState::UNIQUE_VIOLATION,
                    SqlState::ADMIN_SHUTDOWN,
                    SqlState::CRASH_SHUTDOWN,
                    SqlState::CANNOT_CONNECT_NOW,
                ]
                .contains(c)
        }
    }
}

fn db_err(what: &str) -> impl Fn(postgres::Error) -> Error + '_ {
    move |e| {
        let msg = match e.as_db_error() {
            Some(d) => format!("{what}: {}", d.message()),
            None => format!("{what}: {e}"),
        };
        if transient(&e) {
            Error::Unavailable(msg)
        } else {
            Error::Store(msg)
        }
    }
}

fn connect(config: &postgres::Config, url: &str) -> Result<Client, Error> {
    config.connect(NoTls).map_err(|e| {
        let why = match e.as_db_error() {
            Some(d) => d.message().to_string(),
            None => {
                use std::error::Error as _;
                match e.source() {
                    Some(s) => format!("{e}: {s}"),
                    None => e.to_string(),
                }
            }
        };
        let m = format!("cannot connect to {}: {why}", redact(url));
        if transient(&e) {
            Error::Unavailable(m)
        } else {
            Error::Store(m)
        }
    })
}

/// Creates or updates the schema; returns its version.
pub(crate) fn migrate_url(url: &str) -> Result<u32, Error> {
    let (config, _) = parse(url)?;
    let mut c = connect(&config, url)?;
    migrate(&mut c)
}

fn migrate(c: &mut Client) -> Result<u32, Error> {
    let mut t = c.transaction().map_err(db_err("begin"))?;
    // Two first `init`s at once must not both create the tables.
    t.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])
        .map_err(db_err("schema lock"))?;
    t.batch_execute("CREATE TABLE IF NOT EXISTS custody_schema (version integer NOT NULL)")
        .map_err(db_err("schema"))?;
    let rows = t
        .query("SELECT version FROM custody_schema", &[])
        .map_err(db_err("schema"))?;
    if rows.len() > 1 {
        return Err(Error::Store(format!(
            "custody_schema holds {} rows, not one",
            rows.len()
        )));
    }
    let version: Option<i32> = rows.first().map(|r| col(r, 0)).transpose()?;
    match version {
        None => {
            t.batch_execute(SCHEMA)
                .map_err(db_err("creating the schema"))?;
            t.execute(
                "INSERT INTO custody_schema (version) VALUES ($1)",
                &[&SCHEMA_VERSION],
            )
            .map_err(db_err("schema"))?;
        }
        Some(v) if v == SCHEMA_VERSION => {}
        Some(v) if v > SCHEMA_VERSION => {
            return Err(Error::usage(format!(
                "the database's custody schema is version {v}, newer than this custody \
                 ({SCHEMA_VERSION}): use a newer custody"
            )))
        }
        Some(v) => {
            return Err(Error::Store(format!(
                "the database's custody schema is version {v}, which this custody cannot migrate"
            )))
        }
    }
    t.commit().map_err(db_err("commit"))?;
    Ok(SCHEMA_VERSION as u32)
}

fn schema_version(c: &mut Client) -> Result<Option<i32>, Error> {
    let row = c
        .query_one("SELECT to_regclass('custody_schema') IS NOT NULL", &[])
        .map_err(db_err("schema"))?;
    if !col::<bool>(&row, 0)? {
        return Ok(None);
    }
    let rows = c
        .query("SELECT version FROM custody_schema", &[])
        .map_err(db_err("schema"))?;
    match rows.as_slice() {
        [r] => Ok(Some(col(r, 0)?)),
        _ => Err(Error::Store(format!(
            "custody_schema holds {} rows, not one",
            rows.len()
        ))),
    }
}

/// A ledger in a PostgreSQL database, opened inside a transaction.
pub(crate) struct Pg {
    client: Mutex<Client>,
    config: postgres::Config,
    url: String,
    name: String,
    ledger: i64,
    mode: Mode,
    /// The size and head the last write leads to, to confirm a commit
    /// whose answer was lost.
    pending: Mutex<Option<(u64, Hash)>>,
    /// What this ledger's place is called, however the URL was spelled.
    place: String,
}

/// A ledger's place as the server itself names it: its cluster's system
/// identifier (which no spelling of host, port or address changes, and
/// which a replica shares with its primary), the database, the ledger's
/// name. A server that will not say is refused: a name from the URL's
/// spelling would be one its operator could make differ.
fn identity(client: &mut Client, name: &str, url: &str) -> Result<String, Error> {
    // No casts: a type name is looked up through the role's search_path,
    // which whoever runs the role can point at types of their own.
    let row = client
        .query_one(
            "SELECT (SELECT system_identifier FROM pg_catalog.pg_control_system()), \
             pg_catalog.current_database()",
            &[],
        )
        .map_err(|e| {
            if transient(&e) {
                return db_err("asking the server which cluster it is")(e);
            }
            Error::Store(format!(
                "{}: the server will not say which database cluster it is \
                 (pg_catalog.pg_control_system(): {e}); custody needs it to tell ledgers \
                 at this place apart: grant EXECUTE on it to this role",
                redact(url)
            ))
        })?;
    let system: i64 = col(&row, 0)?;
    let db: String = col(&row, 1)?;
    Ok(format!("postgres-system:{system}/{db}?ledger={name}"))
}

impl Pg {
    pub fn open(url: &str, mode: Mode) -> Result<Pg, Error> {
        let (config, name) = parse(url)?;
        let mut client = connect(&config, url)?;
        match schema_version(&mut client)? {
            Some(SCHEMA_VERSION) => {}
            None => return Err(no_ledger(url, &name)),
            Some(v) if v > SCHEMA_VERSION => {
                return Err(Error::usage(format!(
                    "{}: the database's custody schema is version {v}, newer than this custody \
                     ({SCHEMA_VERSION}): use a newer custody",
                    redact(url)
                )))
            }
            Some(v) => {
                return Err(Error::usage(format!(
                "{}: the database's custody schema is version {v}: run `custody db migrate URL`",
                redact(url)
            )))
            }
        }
        let place = identity(&mut client, &name, url)?;
        let begin = match mode {
            Mode::Read => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".to_string(),
            Mode::Write => {
                let wait = super::sled::lock_wait().max(MIN_LOCK_WAIT);
                // PostgreSQL takes at most 2^31 - 1 ms.
                let ms = wait.as_millis().min(i32::MAX as u128);
                format!("BEGIN; SET LOCAL lock_timeout = {ms}")
            }
        };
        client.batch_execute(&begin).map_err(db_err("begin"))?;
        let sql = match mode {
            Mode::Read => "SELECT ledger FROM custody_ledgers WHERE name = $1",
            // Appenders wait here, in line, until the one before commits.
            Mode::Write => "SELECT ledger FROM custody_ledgers WHERE name = $1 FOR UPDATE",
        };
        let rows = client.query(sql, &[&name]).map_err(|e| {
            if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) {
                Error::Unavailable(format!(
                    "{}: waited too long for other appenders to finish",
                    redact(url)
                ))
            } else {
                db_err("opening the ledger")(e)
            }
        })?;
        let Some(row) = rows.first() else {
            return Err(no_ledger(url, &name));
        };
        Ok(Pg {
            ledger: col(row, 0)?,
            client: Mutex::new(client),
            config,
            url: url.to_string(),
            name,
            mode,
            pending: Mutex::new(None),
            place,
        })
    }

    fn client(&self) -> std::sync::MutexGuard<'_, Client> {
        // A panic while holding it leaves nothing half-done in memory: the
        // transaction is the database's.
        self.client.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// After a commit whose answer was lost: whether the batch is there.
    fn confirm(&self, size: u64, head: Hash) -> Result<(), Error> {
        let mut last = String::new();
        for attempt in 0..20u32 {
            std::thread::sleep(Duration::from_millis(250 * u64::from(attempt.min(8))));
            let mut c = match connect(&self.config, &self.url) {
                Ok(c) => c,
                Err(e) => {
                    last = e.to_string();
                    continue;
                }
            };
            let row = c.query_opt(
                "SELECT CASE WHEN pg_catalog.octet_length(e.bytes) <= 2 * 1024 * 1024 \
                 THEN e.bytes END FROM custody_ledgers l JOIN custody_entries e \
                 ON e.ledger = l.ledger AND e.seq = $2 WHERE l.name = $1",
                &[&self.name, &((size - 1) as i64)],
            );
            return match row {
                Ok(Some(r))
                    if col::<Option<&[u8]>>(&r, 0)
                        .is_ok_and(|b| b.is_some_and(|b| crate::entry::entry_hash(b) == head)) =>
                {
                    Ok(())
                }
                // Not there now; but it may have been committed and undone
                // since (a restored backup): signing the batch again on its
                // own could sign a fork, so a person decides.
                Ok(_) => Err(Error::Unconfirmed(format!(
                    "the connection was lost while committing, and the batch is not in the \
                     ledger now; it may have been committed and undone since, so it is not \
                     signed again automatically: look at the ledger (`custody log {}`) and \
                     append the batch again if it belongs there",
                    redact(&self.url)
                ))),
                Err(e) => {
                    last = e.to_string();
                    continue;
                }
            };
        }
        Err(Error::Unconfirmed(format!(
            "the connection was lost while committing and the database could not be reached \
             since ({last}): whether the batch was appended is unknown; `custody log {}` shows \
             the ledger",
            redact(&self.url)
        )))
    }
}

fn no_ledger(url: &str, name: &str) -> Error {
    Error::usage(format!(
        "{}: no ledger named {name:?} in this database (`custody init {} --key KEY --name NAME` \
         creates one)",
        redact(url),
        redact(url)
    ))
}

impl Store for Pg {
    fn head(&self) -> Result<Option<(u64, Hash)>, Error> {
        let row = self
            .client()
            .query_one(
                "SELECT size, CASE WHEN pg_catalog.octet_length(head) <= 32 THEN head END \
                 FROM custody_ledgers WHERE ledger = $1",
                &[&self.ledger],
            )
            .map_err(db_err("reading the head"))?;
        let size: i64 = col(&row, 0)?;
        if size == 0 {
            return Ok(None);
        }
        if size < 0 {
            return Err(Error::Store(format!("the head record says {size} entries")));
        }
        let head: Option<Vec<u8>> = col(&row, 1)?;
        let head = <[u8; 32]>::try_from(head.unwrap_or_default().as_slice())
            .map_err(|_| Error::Store("head record has the wrong length".into()))?;
        Ok(Some((size as u64, head)))
    }

    fn entry(&self, seq: u64) -> Result<Option<Vec<u8>>, Error> {
        let Ok(seq) = i64::try_from(seq) else {
            return Ok(None);
        };
        let row = self
            .client()
            .query_opt(
                "SELECT seq, CASE WHEN pg_catalog.octet_length(bytes) <= $3 THEN bytes END, \
                 pg_catalog.octet_length(bytes) FROM custody_entries WHERE ledger = $1 AND seq = $2",
                &[&self.ledger, &seq, &MAX_ROW],
            )
            .map_err(db_err("reading an entry"))?;
        row.map(|r| bounded(&r)).transpose()
    }

    fn entries_from(&self, first: u64) -> Box<dyn Iterator<Item = Result<Vec<u8>, Error>> + '_> {
        // Keyset pages in seq order: rows are read as stored, gaps and all,
        // and the verifier judges what they say.
        let mut next = i64::try_from(first).ok();
        let mut page: std::vec::IntoIter<Vec<u8>> = Vec::new().into_iter();
        Box::new(std::iter::from_fn(move || loop {
            if let Some(b) = page.next() {
                return Some(Ok(b));
            }
            let from = next?;
            // Rows over the entry size limit are not fetched: a page
            // stays within PAGE entries of at most that size.
            let rows = match self.client().query(
                "SELECT seq, CASE WHEN pg_catalog.octet_length(bytes) <= $4 THEN bytes END, \
                 pg_catalog.octet_length(bytes) FROM custody_entries WHERE ledger = $1 AND seq >= $2 \
                 ORDER BY seq LIMIT $3",
                &[&self.ledger, &from, &PAGE, &MAX_ROW],
            ) {
                Ok(r) => r,
                Err(e) => {
                    next = None;
                    return Some(Err(db_err("reading entries")(e)));
                }
            };
            next = match rows.last() {
                Some(r) if (rows.len() as i64) == PAGE => match col::<i64>(r, 0) {
                    Ok(s) => s.checked_add(1),
                    Err(e) => return Some(Err(e)),
                },
                _ => None,
            };
            page = match rows.iter().map(bounded).collect::<Result<Vec<_>, _>>() {
                Ok(p) => p.into_iter(),
                Err(e) => {
                    next = None;
                    return Some(Err(e));
                }
            };
            if page.len() == 0 {
                return None;
            }
        }))
    }

    fn record(&self, key: &[u8; 32]) -> Result<Option<Vec<u8>>, Error> {
        Ok(self
            .client()
            .query_opt(
                // A record larger than any custody writes is not fetched
                // (the ledger is then verified from the start instead).
                "SELECT CASE WHEN pg_catalog.octet_length(record) <= $3 THEN record END \
                 FROM custody_records WHERE ledger = $1 AND signer = $2",
                &[&self.ledger, &key.as_slice(), &MAX_RECORD],
            )
            .map_err(db_err("reading a record"))?
            .and_then(|r| col::<Option<Vec<u8>>>(&r, 0).ok().flatten()))
    }

    fn tree_size(&self) -> Result<u64, Error> {
        let row = self
            .client()
            .query_one(
                "SELECT tree_size FROM custody_ledgers WHERE ledger = $1",
                &[&self.ledger],
            )
            .map_err(db_err("reading the tree size"))?;
        Ok(col::<i64>(&row, 0)?.max(0) as u64)
    }

    fn stored_node(&self, level: u8, index: u64) -> Result<Option<[u8; 32]>, Error> {
        let Ok(idx) = i64::try_from(index) else {
            return Ok(None);
        };
        let row = self
            .client()
            .query_opt(
                "SELECT CASE WHEN pg_catalog.octet_length(hash) = 32 THEN hash END \
                 FROM custody_nodes WHERE ledger = $1 AND level = $2 AND idx = $3",
                &[&self.ledger, &i16::from(level), &idx],
            )
            .map_err(db_err("reading the tree"))?;
        match row {
            None => Ok(None),
            Some(r) => <[u8; 32]>::try_from(col::<Option<&[u8]>>(&r, 0)?.unwrap_or_default())
                .map(Some)
                .map_err(|_| Error::Store(format!("tree node {level}/{index} is damaged"))),
        }
    }

    fn write(&self, b: &Batch<'_>) -> Result<(), Error> {
        if self.mode != Mode::Write {
            return Err(Error::Store(
                "internal: a write to a ledger opened to read".into(),
            ));
        }
        let mut c = self.client();
        let first = i64::try_from(b.first).map_err(|_| Error::Store("seq out of range".into()))?;
        if !b.entries.is_empty() {
            c.execute(
                "INSERT INTO custody_entries (ledger, seq, bytes) \
                 SELECT $1, $2::bigint + t.ord - 1, t.b \
                 FROM unnest($3::bytea[]) WITH ORDINALITY AS t(b, ord)",
                &[&self.ledger, &first, &b.entries],
            )
            .map_err(db_err("inserting entries"))?;
            let size = first + b.entries.len() as i64;
            // The head moves only from where this batch was built on.
            let moved = c
                .execute(
                    "UPDATE custody_ledgers SET size = $2, head = $3 \
                     WHERE ledger = $1 AND size = $4",
                    &[&self.ledger, &size, &b.head.as_slice(), &first],
                )
                .map_err(db_err("moving the head"))?;
            if moved != 1 {
                return Err(Error::Unavailable(
                    "the ledger's head moved while the batch was being written".into(),
                ));
            }
            *self.pending.lock().unwrap_or_else(|p| p.into_inner()) = Some((size as u64, b.head));
        }
        if let Some((nodes, size)) = &b.tree {
            let levels: Vec<i16> = nodes.iter().map(|((l, _), _)| i16::from(*l)).collect();
            let idx: Vec<i64> = nodes.iter().map(|((_, i), _)| *i as i64).collect();
            let hashes: Vec<&[u8]> = nodes.iter().map(|(_, h)| h.as_slice()).collect();
            c.execute(
                "INSERT INTO custody_nodes (ledger, level, idx, hash) \
                 SELECT $1, t.l, t.i, t.h FROM unnest($2::smallint[], $3::bigint[], $4::bytea[]) \
                 AS t(l, i, h) \
                 ON CONFLICT (ledger, level, idx) DO UPDATE SET hash = EXCLUDED.hash",
                &[&self.ledger, &levels, &idx, &hashes],
            )
            .map_err(db_err("inserting tree nodes"))?;
            c.execute(
                "UPDATE custody_ledgers SET tree_size = $2 WHERE ledger = $1",
                &[&self.ledger, &(*size as i64)],
            )
            .map_err(db_err("moving the tree"))?;
        }
        if let Some((key, bytes)) = b.record {
            c.execute(
                "INSERT INTO custody_records (ledger, signer, record) VALUES ($1, $2, $3) \
                 ON CONFLICT (ledger, signer) DO UPDATE SET record = EXCLUDED.record",
                &[&self.ledger, &key.as_slice(), &bytes],
            )
            .map_err(db_err("saving the verification record"))?;
        }
        Ok(())
    }

    fn place(&self) -> Option<String> {
        Some(self.place.clone())
    }

    fn finish(self: Box<Self>) -> Result<(), Error> {
        if self.mode != Mode::Write {
            return Ok(());
        }
        let res = self.client().batch_execute("COMMIT");
        match res {
            Ok(()) => Ok(()),
            Err(e) => {
                let pending = *self.pending.lock().unwrap_or_else(|p| p.into_inner());
                match pending {
                    // The server may have committed before the answer was
                    // lost: look before saying either way.
                    Some((size, head)) if e.code().is_none() || self.client().is_closed() => {
                        self.confirm(size, head)
                    }
                    _ => Err(db_err("commit")(e)),
                }
            }
        }
    }
}

/// Creates the ledger named in `url` in one transaction with what `fill`
/// writes; on any failure nothing is left.
pub(crate) fn build(url: &str, fill: impl FnOnce(&Pg) -> Result<(), Error>) -> Result<(), Error> {
    let (config, name) = parse(url)?;
    let mut client = connect(&config, url)?;
    migrate(&mut client)?;
    let place = identity(&mut client, &name, url)?;
    client.batch_execute("BEGIN").map_err(db_err("begin"))?;
    let row = client
        .query_one(
            "INSERT INTO custody_ledgers (name, size, head, tree_size) VALUES ($1, 0, '', 0) \
             RETURNING ledger",
            &[&name],
        )
        .map_err(|e| {
            if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                Error::usage(format!(
                    "{}: a ledger named {name:?} already exists in this database; a new ledger \
                     never touches an existing one",
                    redact(url)
                ))
            } else {
                db_err("creating the ledger")(e)
            }
        })?;
    let pg = Pg {
        ledger: col(&row, 0)?,
        client: Mutex::new(client),
        config,
        url: url.to_string(),
        name,
        mode: Mode::Write,
        pending: Mutex::new(None),
        place,
    };
    fill(&pg)?;
    Box::new(pg).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db?ledger=x"),
            "postgres://u:***@h:5432/db?ledger=x"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("postgres://u:hun/ter2@h/db?ledger=x"),
            "postgres://u:***@h/db?ledger=x"
        );
        assert_eq!(
            redact("postgres://u@h/db?password=hunter2&ledger=x"),
            "postgres://u@h/db?password=***&ledger=x"
        );
        assert_eq!(redact("postgres://h/db?x=a@b"), "postgres://***@b");
        assert_eq!(
            redact("postgres://u:pa?ss@h/db?ledger=x"),
            "postgres://***@h/db?ledger=x"
        );
        assert_eq!(
            redact("postgres://u@h/db?pass%77ord=hunter2&ledger=x"),
            "postgres://u@h/db?pass%77ord=***&ledger=x"
        );
        assert_eq!(
            redact("postgres://u@h/db?PASSWORD=hunter2"),
            "postgres://u@h/db?PASSWORD=***"
        );
        assert!(parse("postgres://u:pa?ss@h/db").is_err());
        assert_eq!(
            redact("postgres://u:hunter@2@h/db?ledger=x"),
            "postgres://u:***@h/db?ledger=x"
        );
        assert!(parse("postgres://u:hunter@2@h/db").is_err());
        assert!(parse("postgres://h/db?ledger=a@b").is_err());
    }

    #[test]
    fn a_location_is_bound_by_what_it_connects_to() {
        let a = binding_name("postgres://alice:pw@DB.example:5432/prov?ledger=x");
        assert_eq!(a, "postgres://db.example:5432/prov?ledger=x");
        assert_eq!(a, binding_name("POSTGRESQL://bob@db.example/prov?ledger=x"));
        assert_eq!(
            a,
            binding_name("postgresql://db.example/prov?ledger=x&user=carol")
        );
        assert_ne!(a, binding_name("postgres://db.example/prov?ledger=y"));
        assert_ne!(a, binding_name("postgres://db.example:5433/prov?ledger=x"));
        assert_ne!(a, binding_name("postgres://db.example/other?ledger=x"));
    }

    #[test]
    fn the_ledger_parameter_is_taken_off_the_url() {
        let (c, name) = parse("POSTGRESQL://u@127.0.0.1:5433/db?ledger=team%20a+b").unwrap();
        assert_eq!(name, "team a+b");
        let (c2, _) = parse("postgresql://u@127.0.0.1:5433/db?ledger=team%20a").unwrap();
        assert_eq!(c2.get_dbname(), c.get_dbname());
        assert!(parse("postgres://u@h/db?ledger=a#b").is_err());
        let (c, name) = parse("postgresql://u@127.0.0.1:5433/db?ledger=team%20a").unwrap();
        assert_eq!(name, "team a");
        assert_eq!(c.get_dbname(), Some("db"));
        assert_eq!(c.get_user(), Some("u"));
        let (_, name) = parse("postgres://u@h/db").unwrap();
        assert_eq!(name, "default");
        assert!(parse("postgres://u@h/db?ledger=").is_err());
        assert!(parse("postgres://u@h/db?bogus=1").is_err());
    }
}
