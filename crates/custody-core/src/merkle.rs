//! RFC 6962 (RFC 9162 section 2.1) Merkle trees over ledger entries.
//!
//! Leaf hash: SHA-256(0x00 || entry bytes); node hash:
//! SHA-256(0x01 || left || right). A tree is read through any source of
//! its perfect subtrees ([`Nodes`]): the store keeps every complete subtree
//! as entries are appended, so roots and proofs take O(log² n) lookups and
//! never a rebuild.

use sha2::{Digest, Sha256};

/// A SHA-256 tree hash.
pub type TreeHash = [u8; 32];

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> TreeHash {
    Sha256::digest([]).into()
}

/// The leaf hash of an entry's bytes.
pub fn leaf_hash(entry: &[u8]) -> TreeHash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// The hash of an interior node.
pub fn node_hash(left: &TreeHash, right: &TreeHash) -> TreeHash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofError(pub String);

impl std::fmt::Display for ProofError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(m: impl Into<String>) -> Result<T, ProofError> {
    Err(ProofError(m.into()))
}

/// Perfect subtrees of a tree: `node(level, index)` is the hash of leaves
/// `index·2^level .. (index+1)·2^level`, asked only for complete ones.
pub trait Nodes {
    /// The stored hash, or an error message when it cannot be read.
    fn node(&self, level: u8, index: u64) -> Result<TreeHash, String>;
}

/// Largest power of two strictly below `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH of leaves `start .. start+len` (len ≥ 1; the range is aligned as the
/// RFC's recursion makes it).
fn range_hash<N: Nodes + ?Sized>(nodes: &N, start: u64, len: u64) -> Result<TreeHash, String> {
    if len.is_power_of_two() && start % len == 0 {
        return nodes.node(len.trailing_zeros() as u8, start / len);
    }
    let k = split(len);
    let left = range_hash(nodes, start, k)?;
    let right = range_hash(nodes, start + k, len - k)?;
    Ok(node_hash(&left, &right))
}

/// The root of the first `size` leaves.
pub fn root<N: Nodes + ?Sized>(nodes: &N, size: u64) -> Result<TreeHash, String> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(nodes, 0, size)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves
/// (RFC 9162 2.1.3.1), from the leaf's sibling up.
pub fn inclusion_proof<N: Nodes + ?Sized>(
    nodes: &N,
    index: u64,
    size: u64,
) -> Result<Vec<TreeHash>, String> {
    if index >= size {
        return Err(format!("leaf {index} is not in a tree of {size}"));
    }
    let mut out = Vec::new();
    let (mut start, mut len, mut m) = (0u64, size, index);
    let mut rev = Vec::new();
    while len > 1 {
        let k = split(len);
        if m < k {
            rev.push((start + k, len - k));
            len = k;
        } else {
            rev.push((start, k));
            start += k;
            m -= k;
            len -= k;
        }
    }
    for (s, l) in rev.into_iter().rev() {
        out.push(range_hash(nodes, s, l)?);
    }
    Ok(out)
}

/// The consistency proof from size `m` to size `n` (RFC 9162 2.1.4.1).
pub fn consistency_proof<N: Nodes + ?Sized>(
    nodes: &N,
    m: u64,
    n: u64,
) -> Result<Vec<TreeHash>, String> {
    if m > n {
        return Err(format!("cannot prove {m} entries consistent with {n}"));
    }
    if m == 0 || m == n {
        return Ok(Vec::new());
    }
    // SUBPROOF, unrolled: collect from the top, emit from the bottom.
    let mut rev = Vec::new();
    let (mut start, mut len, mut mm, mut whole) = (0u64, n, m, true);
    loop {
        if mm == len {
            if !whole {
                rev.push((start, len));
            }
            break;
        }
        let k = split(len);
        if mm <= k {
            rev.push((start + k, len - k));
            len = k;
        } else {
            rev.push((start, k));
            start += k;
            mm -= k;
            len -= k;
            whole = false;
        }
    }
    rev.into_iter()
        .rev()
        .map(|(s, l)| range_hash(nodes, s, l))
        .collect()
}

fn inner_proof_size(index: u64, size: u64) -> u32 {
    64 - (index ^ (size - 1)).leading_zeros()
}

fn decomp(index: u64, size: u64) -> (usize, usize) {
    let inner = inner_proof_size(index, size);
    let border = (index >> inner).count_ones();
    (inner as usize, border as usize)
}

fn chain_inner(mut seed: TreeHash, proof: &[TreeHash], index: u64) -> TreeHash {
    for (i, h) in proof.iter().enumerate() {
        seed = if (index >> i) & 1 == 0 {
            node_hash(&seed, h)
        } else {
            node_hash(h, &seed)
        };
    }
    seed
}

fn chain_inner_right(mut seed: TreeHash, proof: &[TreeHash], index: u64) -> TreeHash {
    for (i, h) in proof.iter().enumerate() {
        if (index >> i) & 1 == 1 {
            seed = node_hash(h, &seed);
        }
    }
    seed
}

fn chain_border_right(mut seed: TreeHash, proof: &[TreeHash]) -> TreeHash {
    for h in proof {
        seed = node_hash(h, &seed);
    }
    seed
}

/// Checks that `leaf` is leaf `index` of the tree of `size` leaves with
/// `root`. Hashes are taken as byte strings: one of the wrong length fails.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &[u8],
    proof: &[TreeHash],
    root: &[u8],
) -> Result<(), ProofError> {
    let Ok(leaf) = <TreeHash>::try_from(leaf) else {
        return err("the leaf hash is not 32 bytes");
    };
    if index >= size {
        return err(format!("index {index} is beyond the tree size {size}"));
    }
    let (inner, border) = decomp(index, size);
    if proof.len() != inner + border {
        return err(format!(
            "the proof has {} hashes, {} expected",
            proof.len(),
            inner + border
        ));
    }
    let r = chain_inner(leaf, &proof[..inner], index);
    let r = chain_border_right(r, &proof[inner..]);
    if r.as_slice() != root {
        return err("the inclusion proof does not lead to the root");
    }
    Ok(())
}

/// Checks that the tree of `size1` leaves with `root1` is a prefix of the
/// tree of `size2` leaves with `root2`.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[TreeHash],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), ProofError> {
    if size2 < size1 {
        return err(format!("size {size2} is smaller than {size1}"));
    }
    if size1 == 0 {
        return err("consistency with the empty tree proves nothing");
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return err("equal sizes need an empty proof");
        }
        return if root1 == root2 {
            Ok(())
        } else {
            err("equal sizes but different roots")
        };
    }
    if proof.is_empty() {
        return err("empty proof");
    }
    let (inner, border) = decomp(size1 - 1, size2);
    let shift = size1.trailing_zeros() as usize;
    let inner = inner - shift;
    let (seed, start) = if size1 == 1u64 << shift {
        match <TreeHash>::try_from(root1) {
            Ok(r) => (r, 0),
            Err(_) => return err("the old root is not 32 bytes"),
        }
    } else {
        (proof[0], 1)
    };
    if proof.len() != start + inner + border {
        return err(format!(
            "the proof has {} hashes, {} expected",
            proof.len(),
            start + inner + border
        ));
    }
    let proof = &proof[start..];
    let mask = (size1 - 1) >> shift;
    let h1 = chain_border_right(
        chain_inner_right(seed, &proof[..inner], mask),
        &proof[inner..],
    );
    if h1.as_slice() != root1 {
        return err("the proof does not lead to the old root");
    }
    let h2 = chain_border_right(chain_inner(seed, &proof[..inner], mask), &proof[inner..]);
    if h2.as_slice() != root2 {
        return err("the proof does not lead to the new root");
    }
    Ok(())
}

/// The right border of a growing tree: enough to give its root at every
/// size while reading leaves once, in O(log n) memory.
#[derive(Debug, Clone, Default)]
pub struct CompactRange {
    size: u64,
    /// Roots of the perfect subtrees making up the tree, largest first.
    hashes: Vec<TreeHash>,
}

impl CompactRange {
    /// Adds the next leaf.
    pub fn push(&mut self, leaf: TreeHash) {
        let mut h = leaf;
        let mut s = self.size;
        while s & 1 == 1 {
            // Each trailing one bit of the old size is a subtree to merge.
            if let Some(left) = self.hashes.pop() {
                h = node_hash(&left, &h);
            }
            s >>= 1;
        }
        self.hashes.push(h);
        self.size += 1;
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The subtree roots, largest first.
    pub fn hashes(&self) -> &[TreeHash] {
        &self.hashes
    }

    /// Rebuilds a range from its size and subtree roots; `None` unless there
    /// is one root per one bit of the size.
    pub fn from_parts(size: u64, hashes: Vec<TreeHash>) -> Option<CompactRange> {
        (hashes.len() == size.count_ones() as usize).then_some(CompactRange { size, hashes })
    }

    /// The current root.
    pub fn root(&self) -> TreeHash {
        let mut it = self.hashes.iter().rev();
        let Some(first) = it.next() else {
            return empty_root();
        };
        it.fold(*first, |acc, left| node_hash(left, &acc))
    }
}

/// All perfect-subtree hashes of a tree held in memory (for exported files,
/// which must be read whole anyway).
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<TreeHash>>,
}

impl MemoryTree {
    /// Adds the next leaf, completing the subtrees it closes.
    pub fn push(&mut self, leaf: TreeHash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut level = 0;
        while self.levels[level].len() % 2 == 0 {
            let n = self.levels[level].len();
            let parent = node_hash(&self.levels[level][n - 2], &self.levels[level][n - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }
}

impl Nodes for MemoryTree {
    fn node(&self, level: u8, index: u64) -> Result<TreeHash, String> {
        self.levels
            .get(level as usize)
            .and_then(|l| l.get(index as usize))
            .copied()
            .ok_or_else(|| format!("no node at level {level}, index {index}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(n: u64) -> MemoryTree {
        let mut t = MemoryTree::default();
        for i in 0..n {
            t.push(leaf_hash(&i.to_be_bytes()));
        }
        t
    }

    #[test]
    fn proofs_round_trip_for_every_small_tree() {
        for n in 1..=33u64 {
            let t = tree(n);
            let r = root(&t, n).unwrap();
            let mut c = CompactRange::default();
            for i in 0..n {
                c.push(leaf_hash(&i.to_be_bytes()));
            }
            assert_eq!(c.root(), r);
            for i in 0..n {
                let p = inclusion_proof(&t, i, n).unwrap();
                verify_inclusion(i, n, &leaf_hash(&i.to_be_bytes()), &p, &r).unwrap();
                assert!(verify_inclusion(i, n, &leaf_hash(b"x"), &p, &r).is_err());
            }
            for m in 1..=n {
                let p = consistency_proof(&t, m, n).unwrap();
                let r1 = root(&t, m).unwrap();
                verify_consistency(m, n, &p, &r1, &r).unwrap();
                if m < n {
                    let mut bad = r1;
                    bad[0] ^= 1;
                    assert!(verify_consistency(m, n, &p, &bad, &r).is_err());
                }
            }
        }
    }
}
