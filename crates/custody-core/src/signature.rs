//! Ed25519 signature checks for many entries at once.
//!
//! Each signature is checked with `verify_strict`, which is normative for
//! this format; the speed comes from checking on every core and from
//! decompressing each signer's key once. Batch verification is not used: its
//! random-linear-combination equation accepts some signatures with
//! mixed-order R or A that `verify_strict` rejects (the cofactorless batch
//! equation can cancel small-torsion discrepancies), and telling those apart
//! costs a full scalar multiplication per signature, more than batching
//! saves. See BENCHMARKS.md for the figures.

use ed25519_dalek::{Signature, VerifyingKey};
use std::collections::HashMap;

/// One signature to check: public key, message, signature.
pub type SignatureItem<'a> = (&'a [u8; 32], &'a [u8], &'a [u8; 64]);

/// Decompressed keys, kept across chunks; a ledger has few signers.
#[derive(Default)]
pub struct KeyCache(HashMap<[u8; 32], Option<VerifyingKey>>);

impl KeyCache {
    /// The key, or `None` when the bytes are not a curve point.
    pub fn get(&mut self, k: &[u8; 32]) -> Option<VerifyingKey> {
        *self
            .0
            .entry(*k)
            .or_insert_with(|| VerifyingKey::from_bytes(k).ok())
    }
}

/// Prepared checks, owned so they can move to other threads: the signed
/// messages share one buffer, so a chunk of ten thousand costs a handful of
/// allocations rather than ten thousand (freed, too, on whichever thread
/// drops the batch last).
#[derive(Default)]
pub struct Batch {
    keys: Vec<Option<VerifyingKey>>,
    messages: Vec<u8>,
    ends: Vec<usize>,
    signatures: Vec<[u8; 64]>,
}

impl Batch {
    pub fn with_capacity(n: usize, bytes: usize) -> Batch {
        Batch {
            keys: Vec::with_capacity(n),
            messages: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(n),
            signatures: Vec::with_capacity(n),
        }
    }

    /// Adds a check of `signature` by `key` over the concatenation of
    /// `message` parts.
    pub fn push(&mut self, key: Option<VerifyingKey>, message: &[&[u8]], signature: [u8; 64]) {
        for part in message {
            self.messages.extend_from_slice(part);
        }
        self.keys.push(key);
        self.ends.push(self.messages.len());
        self.signatures.push(signature);
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn check(&self, i: usize) -> bool {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        match &self.keys[i] {
            Some(vk) => vk
                .verify_strict(
                    &self.messages[start..self.ends[i]],
                    &Signature::from_bytes(&self.signatures[i]),
                )
                .is_ok(),
            None => false,
        }
    }

    fn check_range(&self, range: std::ops::Range<usize>) -> Vec<bool> {
        range.map(|i| self.check(i)).collect()
    }
}

/// Checks every job with `verify_strict`, on all cores; one verdict per
/// job, in order.
pub fn verify_jobs(jobs: &Batch) -> Vec<bool> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let n = jobs.len();
    if threads == 1 || n < 64 {
        return jobs.check_range(0..n);
    }
    let per = n.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(per)
            .map(|start| {
                let end = (start + per).min(n);
                (end - start, s.spawn(move || jobs.check_range(start..end)))
            })
            .collect();
        handles
            .into_iter()
            // A worker that panicked fails its signatures, never passes them.
            .flat_map(|(n, h)| h.join().unwrap_or_else(|_| vec![false; n]))
            .collect()
    })
}

/// Signatures per task handed to a worker.
const PART: usize = 256;

/// Signature workers that live as long as one verification: each chunk's
/// checks are split among them rather than among threads made for it
/// (thousands of short-lived threads cost their stacks and allocator
/// arenas over a long ledger).
pub struct Workers {
    tx: Option<std::sync::mpsc::Sender<Task>>,
    threads: usize,
}

struct Task {
    jobs: std::sync::Arc<Batch>,
    part: usize,
    range: std::ops::Range<usize>,
    done: std::sync::mpsc::Sender<(usize, Vec<bool>)>,
}

/// The verdicts of one chunk, on their way: an iterator that gives them in
/// order, waiting only for the part that holds the next one, so that the
/// rules can run on the first parts while the workers check the rest.
pub struct Pending {
    rx: std::sync::mpsc::Receiver<(usize, Vec<bool>)>,
    lens: Vec<usize>,
    parts: Vec<Option<std::vec::IntoIter<bool>>>,
    next: usize,
}

impl Pending {
    /// Waits for parts until part `i` is in; a part that cannot come (its
    /// worker failed, or sent the wrong count) fails all its signatures,
    /// never passes them.
    fn arrive(&mut self, i: usize) {
        while self.parts[i].is_none() {
            match self.rx.recv() {
                Ok((j, v)) if j < self.parts.len() && self.parts[j].is_none() => {
                    let v = if v.len() == self.lens[j] {
                        v
                    } else {
                        vec![false; self.lens[j]]
                    };
                    self.parts[j] = Some(v.into_iter());
                }
                Ok(_) => {}
                Err(_) => {
                    for (p, &n) in self.parts.iter_mut().zip(&self.lens) {
                        if p.is_none() {
                            *p = Some(vec![false; n].into_iter());
                        }
                    }
                }
            }
        }
    }
}

impl Iterator for Pending {
    type Item = bool;

    fn next(&mut self) -> Option<bool> {
        while self.next < self.lens.len() {
            self.arrive(self.next);
            if let Some(v) = self.parts[self.next].as_mut().and_then(Iterator::next) {
                return Some(v);
            }
            self.parts[self.next] = None;
            self.next += 1;
        }
        None
    }
}

impl Workers {
    /// Starts the workers in `scope`; they stop when `self` is dropped.
    pub fn start<'s>(scope: &'s std::thread::Scope<'s, '_>) -> Workers {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let (tx, rx) = std::sync::mpsc::channel::<Task>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for _ in 0..threads {
            let rx = std::sync::Arc::clone(&rx);
            scope.spawn(move || loop {
                let task = match rx.lock() {
                    Ok(r) => r.recv(),
                    Err(_) => return,
                };
                let Ok(t) = task else { return };
                let v: Vec<bool> = t.jobs.check_range(t.range);
                let _ = t.done.send((t.part, v));
            });
        }
        Workers {
            tx: Some(tx),
            threads,
        }
    }

    /// Hands a chunk's checks to the workers.
    pub fn submit(&self, jobs: Batch) -> Pending {
        let (done, rx) = std::sync::mpsc::channel();
        let n = jobs.len();
        // Parts of at most PART signatures: the workers share a chunk
        // evenly whichever of them the scheduler favours, and the first
        // parts' verdicts are back while the last are being checked.
        let per = n.div_ceil(self.threads).clamp(1, PART);
        let jobs = std::sync::Arc::new(jobs);
        let mut lens = Vec::new();
        let mut start = 0;
        while start < n {
            let end = (start + per).min(n);
            let task = Task {
                jobs: std::sync::Arc::clone(&jobs),
                part: lens.len(),
                range: start..end,
                done: done.clone(),
            };
            lens.push(end - start);
            if let Some(tx) = &self.tx {
                let _ = tx.send(task);
            }
            start = end;
        }
        Pending {
            rx,
            parts: vec![None; lens.len()],
            lens,
            next: 0,
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        // Closing the channel ends every worker's loop.
        self.tx.take();
    }
}

/// Checks every item with `verify_strict` semantics, on all cores, and
/// returns one verdict per item, in order.
pub fn verify_signatures(items: &[SignatureItem<'_>]) -> Vec<bool> {
    let mut cache = KeyCache::default();
    let mut jobs = Batch::with_capacity(items.len(), items.iter().map(|i| i.1.len()).sum());
    for (k, m, s) in items {
        jobs.push(cache.get(k), &[m], **s);
    }
    verify_jobs(&jobs)
}

/// Parses 64 lowercase hex digits into a public key.
pub fn parse_public_hex(s: &str) -> Result<[u8; 32], String> {
    if s.len() != 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err("must be a public key: 64 lowercase hex digits".into());
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}
