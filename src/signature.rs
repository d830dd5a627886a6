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

/// Decompressed keys, kept across calls; a ledger has few signers.
#[derive(Default)]
pub(crate) struct KeyCache(HashMap<[u8; 32], Option<VerifyingKey>>);

impl KeyCache {
    fn prepare(&mut self, items: &[SignatureItem<'_>]) {
        for (k, _, _) in items {
            self.0
                .entry(**k)
                .or_insert_with(|| VerifyingKey::from_bytes(k).ok());
        }
    }
}

/// Checks every item with `verify_strict` semantics, on all cores, and
/// returns one verdict per item, in order.
pub fn verify_signatures(items: &[SignatureItem<'_>]) -> Vec<bool> {
    verify_with_cache(&mut KeyCache::default(), items)
}

pub(crate) fn verify_with_cache(cache: &mut KeyCache, items: &[SignatureItem<'_>]) -> Vec<bool> {
    cache.prepare(items);
    let keys = &cache.0;
    let check = |(k, msg, sig): &SignatureItem<'_>| -> bool {
        match keys.get(*k) {
            Some(Some(vk)) => vk.verify_strict(msg, &Signature::from_bytes(sig)).is_ok(),
            _ => false,
        }
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads == 1 || items.len() < 64 {
        return items.iter().map(check).collect();
    }
    let per = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|part| {
                (
                    part.len(),
                    s.spawn(move || part.iter().map(check).collect::<Vec<bool>>()),
                )
            })
            .collect();
        handles
            .into_iter()
            // A worker that panicked fails its signatures, never passes them.
            .flat_map(|(n, h)| h.join().unwrap_or_else(|_| vec![false; n]))
            .collect()
    })
}
