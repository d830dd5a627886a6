//! The sync core of serving a ledger to clients that sign their own
//! entries: the server checks a batch exactly as `append` would (entry
//! signatures, authorization, every rule, the chain), and stores it whole
//! or not at all. It holds no appender's key, so it cannot forge an entry.
//! The HTTP front end lives in the binary; nothing here needs its runtime.
//!
//! The store decides the order of entries: each append locks the ledger
//! (the directory's lock, the database row's) and checks the batch against
//! the head it finds there. What a server remembers between requests (the
//! verified state at some size) is a cache that saves re-verifying, never
//! the authority on what the head is.

use crate::entry::Hash;
use crate::error::{Error, Invalid, Reason, VerifyError};
use crate::ledger::AppendReport;
use crate::store::{self, Location, Mode};
use crate::verify::{Chain, Frame, Resume, VerifyOptions};
use sha2::Digest;
use std::sync::Mutex;

/// A ledger being served.
pub struct Served {
    loc: Location,
    /// A directory, held open (to write) for as long as it is served: it
    /// admits one opener at a time, and opening it costs sled a recovery.
    held: Mutex<Option<Box<dyn store::Store>>>,
    /// The verified state at some size, to resume from.
    cache: Mutex<Option<Resume>>,
    /// The ledger's name, from its genesis entry.
    name: Mutex<String>,
    /// The OpenLineage events recorded in the entries verified so far, by
    /// signer: an event counts as recorded only when the ingest key's
    /// entries say so (anyone else's note could name any event's hash).
    events: Mutex<std::collections::HashSet<([u8; 32], [u8; 32])>>,
}

/// What became of an OpenLineage event.
#[derive(Debug)]
pub enum Ingested {
    /// Recorded: the append's report.
    Recorded(AppendReport),
    /// Recorded before (the same bytes): nothing appended.
    Duplicate,
    /// Not recorded, and why.
    Skipped(String),
}

/// A batch built on a head that is no longer the ledger's: the client
/// re-signs on the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// Entries in the ledger now.
    pub entries: u64,
    /// Its head now.
    pub head: Hash,
}

/// A served ledger as verified just now.
#[derive(Debug, Clone)]
pub struct Summary {
    name: String,
    id: Hash,
    entries: u64,
    head: Hash,
    owner: [u8; 32],
}

impl Summary {
    /// The ledger's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The ledger id.
    pub fn id(&self) -> &Hash {
        &self.id
    }
    /// Entries.
    pub fn entries(&self) -> u64 {
        self.entries
    }
    /// Hash of the last entry.
    pub fn head(&self) -> &Hash {
        &self.head
    }
    /// The genesis (first owner) key.
    pub fn owner(&self) -> &[u8; 32] {
        &self.owner
    }
}

/// What became of a batch.
#[derive(Debug)]
pub enum Appended {
    /// Stored.
    Done(AppendReport),
    /// Built on a stale head; nothing stored.
    Stale(Stale),
}

impl Served {
    /// Opens `loc` for serving and verifies it once.
    pub fn open(loc: impl Into<Location>) -> Result<Served, Error> {
        let s = Served {
            loc: loc.into(),
            held: Mutex::new(None),
            cache: Mutex::new(None),
            events: Mutex::new(Default::default()),
            name: Mutex::new(String::new()),
        };
        s.verified()?;
        Ok(s)
    }

    /// Where the ledger is.
    pub fn location(&self) -> &Location {
        &self.loc
    }

    /// Verifies the ledger as it is now, resuming from what this server
    /// verified before when the ledger still starts with it.
    pub fn verified(&self) -> Result<Summary, Error> {
        let t = self.turn(Mode::Read)?;
        self.catch_up(t.store())
    }

    /// The store to work on, in this server's turn: the directory it holds
    /// open, or a transaction of the database of its own.
    fn turn(&self, mode: Mode) -> Result<Turn<'_>, Error> {
        match self.loc {
            Location::Path(_) => {
                let mut g = self.held.lock().unwrap_or_else(|p| p.into_inner());
                if g.is_none() {
                    *g = Some(store::open(&self.loc, Mode::Write)?);
                }
                Ok(Turn::Held(g))
            }
            Location::Postgres(_) => Ok(Turn::Own(store::open(&self.loc, mode)?)),
        }
    }

    /// Closes a directory held open (leaving it as a later command reads
    /// without writing); a database holds nothing open.
    pub fn close(&self) -> Result<(), Error> {
        let mut g = self.held.lock().unwrap_or_else(|p| p.into_inner());
        match g.take() {
            Some(s) => s.finish(),
            None => Ok(()),
        }
    }

    /// Runs `f` with the ledger closed to this server, in its turn (for
    /// commands that open the ledger themselves).
    pub fn with_ledger<T>(
        &self,
        f: impl FnOnce(&Location) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut g = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = g.take() {
            s.finish()?;
        }
        f(&self.loc)
    }

    /// The openness of the ledger as verified now, from the state this
    /// server keeps (no verification from the first entry per request).
    pub fn openness(&self) -> Result<crate::openness::Openness, Error> {
        let t = self.turn(Mode::Read)?;
        let v = self.catch_up(t.store())?;
        let state = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|c| c.state.clone())
            .ok_or_else(|| Error::Store("internal: no verified state".into()))?;
        drop(t);
        Ok(crate::openness::openness(&crate::verify::VerifiedLedger {
            name: v.name,
            id: v.id,
            owner: v.owner,
            entries: v.entries,
            head: v.head,
            pinned: false,
            state,
            withheld: 0,
            disclosure: None,
        }))
    }

    /// The ledger's entries back to back (an export), as verified now.
    pub fn export_bytes(&self) -> Result<Vec<u8>, Error> {
        self.entries_from(0)
    }

    /// The entries from `first` on, back to back, after verifying what
    /// came since this server last looked, in the same turn (so the same
    /// snapshot of a database).
    pub fn entries_from(&self, first: u64) -> Result<Vec<u8>, Error> {
        let t = self.turn(Mode::Read)?;
        let v = self.catch_up(t.store())?;
        let mut out = Vec::new();
        for b in t
            .store()
            .entries_from(first)
            .take(v.entries.saturating_sub(first) as usize)
        {
            out.extend_from_slice(&b?);
        }
        Ok(out)
    }

    fn catch_up(&self, st: &dyn store::Store) -> Result<Summary, Error> {
        let (n, head) = st
            .head()?
            .ok_or_else(|| Error::Store("the ledger has no head record".into()))?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        // Nothing came since: nothing to verify (or to copy).
        if let Some(c) = cache.as_ref().filter(|c| c.entries == n && c.head == head) {
            return Ok(self.summary(c));
        }
        // A ledger shorter than what was verified, or with another entry
        // where the cache's head was, is verified from the start (and
        // fails there if it is not a ledger at all).
        let usable = cache.take().filter(|c| {
            c.entries <= n
                && st
                    .entry(c.entries - 1)
                    .ok()
                    .flatten()
                    .is_some_and(|b| crate::entry::entry_hash(&b) == c.head)
        });
        let from = usable.as_ref().map_or(0, |c| c.entries);
        let chain = match usable {
            Some(c) => Chain::resume(VerifyOptions::default(), c),
            None => Chain::new(VerifyOptions::default()).with_tree(),
        };
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if from == 0 {
            events.clear();
        }
        let v = chain.run(st.entries_from(from).map(|r| r.map(Frame::Bytes)), |e| {
            note_event(&mut events, &e);
            Ok(())
        })?;
        drop(events);
        if v.ledger.entries != n || v.ledger.head != head {
            return Err(Error::Store(format!(
                "the ledger's head record says {n} entries, {} verified",
                v.ledger.entries
            )));
        }
        *self.name.lock().unwrap_or_else(|p| p.into_inner()) = v.ledger.name.clone();
        let resume = Resume::from_verified(v);
        let out = self.summary(&resume);
        *cache = Some(resume);
        Ok(out)
    }

    fn summary(&self, r: &Resume) -> Summary {
        Summary {
            name: self.name.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            id: r.id,
            entries: r.entries,
            head: r.head,
            owner: r.owner,
        }
    }

    /// Checks the signed entries in `body` (back to back, as in an export)
    /// as the ledger's next entries and stores them in one batch.
    pub fn append_signed(&self, body: &[u8]) -> Result<Appended, Error> {
        let mut entries: Vec<Vec<u8>> = Vec::new();
        let mut r = body;
        for f in crate::source::FileFrames::new("<request>".into(), &mut r) {
            match f? {
                Frame::Bytes(b) => entries.push(b),
                Frame::Bad(reason, detail) => {
                    return Err(Error::Invalid(Box::new(Invalid {
                        error: VerifyError {
                            seq: entries.len() as u64,
                            reason,
                            detail: format!("entry {} of the request: {detail}", entries.len()),
                        },
                        entries: 0,
                        head: None,
                        owner: None,
                    })))
                }
                Frame::Withheld(_) => {
                    return Err(Error::usage("a batch holds whole entries only"));
                }
            }
        }
        if entries.is_empty() {
            return Err(Error::usage("the request holds no entries"));
        }
        let first = crate::entry::decode_entry(&entries[0]).map_err(|e| {
            Error::Invalid(Box::new(Invalid {
                error: e,
                entries: 0,
                head: None,
                owner: None,
            }))
        })?;
        // The ledger's lock from here to the commit: the store decides.
        let t = self.turn(Mode::Write)?;
        let v = self.catch_up(t.store())?;
        if first.seq() != v.entries || first.prev() != Some(v.head()) {
            return Ok(Appended::Stale(Stale {
                entries: v.entries,
                head: *v.head(),
            }));
        }
        let start = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| Error::Store("internal: no verified state".into()))?;
        let n = start.entries;
        let mut leaves = Vec::with_capacity(entries.len());
        let mut noted = std::collections::HashSet::new();
        let after = Chain::resume(VerifyOptions::default(), start)
            .run(entries.iter().cloned().map(|b| Ok(Frame::Bytes(b))), |e| {
                leaves.push(crate::merkle::leaf_hash(e.bytes()));
                note_event(&mut noted, &e);
                Ok(())
            })
            .map_err(|e| match e {
                // Positions in the ledger, and what they would have been.
                Error::Invalid(mut i) => {
                    i.error.detail = format!(
                        "{} (entry {} of the request); nothing was stored",
                        i.error.detail,
                        i.error.seq.saturating_sub(n)
                    );
                    Error::Invalid(i)
                }
                e => e,
            })?;
        let head = after.ledger.head;
        store::append_leaves(t.store(), n, &entries, &leaves, head, true, None)?;
        t.finish()?;
        {
            let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
            events.extend(noted);
        }
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(Resume {
            state: after.ledger.state,
            entries: after.ledger.entries,
            head,
            id: after.ledger.id,
            owner: after.ledger.owner,
            tree: after.tree.unwrap_or_default(),
        });
        Ok(Appended::Done(AppendReport {
            appended: entries.len() as u64,
            entries: n + entries.len() as u64,
            head,
            warnings: Vec::new(),
            retries: 0,
        }))
    }
}

impl Served {
    /// Records an OpenLineage RunEvent (its bytes as received), signed by
    /// `key`, unless the same event was recorded before.
    pub fn ingest(&self, key: &ed25519_dalek::SigningKey, raw: &[u8]) -> Result<Ingested, Error> {
        self.ingest_all(key, &[raw])
            .pop()
            .unwrap_or_else(|| Err(Error::Store("internal: no answer for the event".into())))
    }

    /// Records RunEvents that arrived together as one batch: one signing
    /// run and one write to the store for all of them, where one each
    /// would cost a flush (and a move of the key's mark) per event. One
    /// answer per event, in order. Should the batch be refused, each event
    /// is tried on its own, so that a bad one costs the others nothing.
    ///
    /// The ledger's lock is held from the look for the events to the
    /// commit, so that servers sharing a ledger record each once between
    /// them.
    pub fn ingest_all(
        &self,
        key: &ed25519_dalek::SigningKey,
        raws: &[&[u8]],
    ) -> Vec<Result<Ingested, Error>> {
        let all = |e: Error| raws.iter().map(|_| Err(e.again())).collect::<Vec<_>>();
        let t = match self.turn(Mode::Write) {
            Ok(t) => t,
            Err(e) => return all(e),
        };
        if let Err(e) = self.catch_up(t.store()) {
            return all(e);
        }
        let mut out: Vec<Option<Result<Ingested, Error>>> = raws.iter().map(|_| None).collect();
        // What each event maps to, given the ledger and the events before
        // it in this batch.
        let mut batch: Vec<(usize, crate::openlineage::Mapped)> = Vec::new();
        {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            let Some(state) = cache.as_ref().map(|c| &c.state) else {
                return all(Error::Store("internal: no verified state".into()));
            };
            let recorded = self.events.lock().unwrap_or_else(|p| p.into_inner());
            let signer = key.verifying_key().to_bytes();
            let mut here_events = std::collections::HashSet::new();
            let mut here_ids = std::collections::HashSet::new();
            for (i, raw) in raws.iter().enumerate() {
                let hash: [u8; 32] = sha2::Sha256::digest(raw).into();
                if recorded.contains(&(signer, hash)) || here_events.contains(&hash) {
                    out[i] = Some(Ok(Ingested::Duplicate));
                    continue;
                }
                let declared = |id: &str| state.lookup(id).is_some() || here_ids.contains(id);
                match crate::openlineage::map_event(raw, &declared) {
                    Err(m) => out[i] = Some(Err(Error::usage(format!("the RunEvent: {m}")))),
                    Ok(m) => match &m.skipped {
                        Some(why) => out[i] = Some(Ok(Ingested::Skipped(why.clone()))),
                        None => {
                            here_events.insert(hash);
                            here_ids.extend(m.declares.iter().cloned());
                            batch.push((i, m));
                        }
                    },
                }
            }
        }
        if !batch.is_empty() {
            let lines: String = batch.iter().map(|(_, m)| m.lines.as_str()).collect();
            match self.record(t, key, &lines) {
                Ok(report) => {
                    let signer = key.verifying_key().to_bytes();
                    let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
                    for (i, m) in &batch {
                        events.insert((signer, m.hash));
                        out[*i] = Some(Ok(Ingested::Recorded(AppendReport {
                            appended: m.lines.lines().count() as u64,
                            entries: report.entries,
                            head: report.head,
                            warnings: report.warnings.clone(),
                            retries: 0,
                        })));
                    }
                }
                Err(e) if raws.len() == 1 => out[batch[0].0] = Some(Err(e)),
                Err(e) if !refused(&e) => {
                    // Not stored: every answer that may have hung on the
                    // batch is this error (the clients retry).
                    for slot in out.iter_mut() {
                        if !matches!(slot, Some(Err(_))) {
                            *slot = Some(Err(e.again()));
                        }
                    }
                }
                Err(_) => {
                    // One of them broke a rule: each event of the group on
                    // its own, in order, against the ledger as it is now;
                    // the answers given while mapping the group (a
                    // duplicate of one in it, a dataset one in it would
                    // have declared) depended on the batch, and go too.
                    for (i, raw) in raws.iter().enumerate() {
                        out[i] = Some(self.ingest(key, raw));
                    }
                }
            }
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::Store("internal: no answer".into()))))
            .collect()
    }

    /// Signs `lines` with `key` onto the ledger as this server verified it
    /// and stores them, in the turn `t`.
    fn record(
        &self,
        t: Turn<'_>,
        key: &ed25519_dalek::SigningKey,
        lines: &str,
    ) -> Result<AppendReport, Error> {
        // The batch builds on what this server verified (its cache), not
        // on the ingest key's record, which it does not keep up to date:
        // so the cache is held to the key's mark here, the stored entries
        // from the mark chaining to the verified head.
        // Taken, not copied (the rules state is large): the state after
        // the batch comes back; should the batch be refused, the next
        // request verifies the ledger again.
        let hint = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| Error::Store("internal: no verified state".into()))?;
        let pubkey = key.verifying_key().to_bytes();
        if let Some((m, hm)) = crate::highwater::read(&pubkey, &hint.id)? {
            let holds = hint.entries >= m
                && ((hint.entries == m && hint.head == hm)
                    || crate::ledger::chains(t.store(), m, &hm, hint.entries, &hint.head)?);
            if !holds {
                return Err(Error::Invalid(Box::new(Invalid {
                    error: VerifyError {
                        seq: m.min(hint.entries),
                        reason: Reason::Fork,
                        detail: format!(
                            "the ingest key already built on {m} entries of this ledger (head \
                             {}), and the ledger served is not that history: nothing was signed",
                            hex::encode(hm)
                        ),
                    },
                    entries: 0,
                    head: None,
                    owner: Some(hint.owner),
                })));
            }
        }
        let signing = crate::ledger::Signing {
            hint: Some(hint),
            time: crate::ledger::now(),
            seal: false,
        };
        let append = |st: Box<dyn store::Store + '_>| {
            crate::ledger::append_locked_keep(
                st,
                key,
                lines.as_bytes(),
                &crate::ledger::AppendOptions::default(),
                &self.loc,
                signing,
            )
        };
        // A database's transaction is committed by the append, which knows
        // what to make of a commit whose answer was lost; a held directory
        // stays open.
        let (report, after) = match t {
            Turn::Held(g) => append(Box::new(Kept(g.as_deref().unwrap_or(&Closed))))?,
            Turn::Own(s) => append(s)?,
        };
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(after);
        Ok(report)
    }
}

/// Whether `e` refuses the batch itself (its events break a rule), rather
/// than reporting that it could not be stored.
fn refused(e: &Error) -> bool {
    matches!(e, Error::Input(_) | Error::Invalid(_) | Error::Usage(_))
}

/// Notes the OpenLineage event an entry records, if it records one.
fn note_event(
    events: &mut std::collections::HashSet<([u8; 32], [u8; 32])>,
    e: &crate::verify::VerifiedEntry,
) {
    let mut h = [0u8; 32];
    let from_note = e
        .event()
        .note
        .as_deref()
        .and_then(|n| n.strip_prefix(crate::openlineage::EVENT_NOTE));
    let from_parameter = match &e.event().kind {
        crate::event::EventKind::Transformation {
            parameters: Some(p),
            ..
        } => p
            .get(crate::openlineage::EVENT_PARAMETER)
            .and_then(|x| x.as_str()),
        _ => None,
    };
    for x in from_note.into_iter().chain(from_parameter) {
        if hex::decode_to_slice(x, &mut h).is_ok() {
            events.insert((*e.signer(), h));
        }
    }
}

/// A server's turn at its ledger's store.
enum Turn<'a> {
    Held(std::sync::MutexGuard<'a, Option<Box<dyn store::Store>>>),
    Own(Box<dyn store::Store>),
}

impl Turn<'_> {
    fn store(&self) -> &dyn store::Store {
        match self {
            // `turn` fills it before handing it out.
            Turn::Held(g) => g.as_deref().unwrap_or(&Closed),
            Turn::Own(s) => s.as_ref(),
        }
    }

    /// Commits a database's transaction; a held directory's writes are
    /// already flushed.
    fn finish(self) -> Result<(), Error> {
        match self {
            Turn::Held(_) => Ok(()),
            Turn::Own(s) => s.finish(),
        }
    }
}

/// A held store lent to code that finishes what it opened: finishing it
/// commits nothing more (its writes are flushed) and keeps it open.
struct Kept<'a>(&'a dyn store::Store);

impl store::Store for Kept<'_> {
    fn head(&self) -> Result<Option<(u64, Hash)>, Error> {
        self.0.head()
    }
    fn entry(&self, seq: u64) -> Result<Option<Vec<u8>>, Error> {
        self.0.entry(seq)
    }
    fn entries_from(&self, first: u64) -> Box<dyn Iterator<Item = Result<Vec<u8>, Error>> + '_> {
        self.0.entries_from(first)
    }
    fn record(&self, key: &[u8; 32]) -> Result<Option<Vec<u8>>, Error> {
        self.0.record(key)
    }
    fn tree_size(&self) -> Result<u64, Error> {
        self.0.tree_size()
    }
    fn stored_node(&self, level: u8, index: u64) -> Result<Option<[u8; 32]>, Error> {
        self.0.stored_node(level, index)
    }
    fn write(&self, batch: &store::Batch<'_>) -> Result<(), Error> {
        self.0.write(batch)
    }
    fn finish(self: Box<Self>) -> Result<(), Error> {
        Ok(())
    }
    fn place(&self) -> Option<String> {
        self.0.place()
    }
}

/// Stands in for a held store that is not there (never handed out).
struct Closed;

impl store::Store for Closed {
    fn head(&self) -> Result<Option<(u64, Hash)>, Error> {
        Err(Error::Store("internal: the ledger is not open".into()))
    }
    fn entry(&self, _: u64) -> Result<Option<Vec<u8>>, Error> {
        Err(Error::Store("internal: the ledger is not open".into()))
    }
    fn entries_from(&self, _: u64) -> Box<dyn Iterator<Item = Result<Vec<u8>, Error>> + '_> {
        Box::new(std::iter::once(Err(Error::Store(
            "internal: the ledger is not open".into(),
        ))))
    }
    fn record(&self, _: &[u8; 32]) -> Result<Option<Vec<u8>>, Error> {
        Ok(None)
    }
    fn tree_size(&self) -> Result<u64, Error> {
        Ok(0)
    }
    fn stored_node(&self, _: u8, _: u64) -> Result<Option<[u8; 32]>, Error> {
        Ok(None)
    }
    fn write(&self, _: &store::Batch<'_>) -> Result<(), Error> {
        Err(Error::Store("internal: the ledger is not open".into()))
    }
    fn finish(self: Box<Self>) -> Result<(), Error> {
        Ok(())
    }
}

/// The reason code a refused batch is reported with.
pub fn reason_of(e: &Error) -> Option<Reason> {
    match e {
        Error::Invalid(i) => Some(i.error.reason),
        _ => None,
    }
}
