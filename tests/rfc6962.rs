//! Every RFC 6962 vector (tests/data/rfc6962, from transparency-dev/merkle)
//! through custody's Merkle code: `wantErr: false` verifies, `wantErr: true`
//! is rejected, and the roots of roots.json are reproduced.

use base64::Engine;
use custody::{verify_consistency, verify_inclusion, TreeHash};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rfc6962")
}

fn files(kind: &str) -> Vec<(PathBuf, Value)> {
    let mut out = Vec::new();
    let mut stack = vec![dir().join(kind)];
    while let Some(d) = stack.pop() {
        for f in std::fs::read_dir(d).unwrap() {
            let p = f.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            out.push((p, v));
        }
    }
    out
}

/// A hash field's bytes (the vectors use some of other lengths on purpose).
fn bytes(v: &Value) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str()?)
        .ok()
}

/// A proof component; one that is not 32 bytes cannot verify.
fn hash(v: &Value) -> Option<TreeHash> {
    bytes(v)?.try_into().ok()
}

fn hashes(v: &Value) -> Option<Vec<TreeHash>> {
    v.as_array()
        .map_or(Some(Vec::new()), |a| a.iter().map(hash).collect())
}

#[test]
fn inclusion_vectors() {
    let cases = files("inclusion");
    assert!(cases.len() > 50, "{}", cases.len());
    for (p, v) in cases {
        let ok = (|| {
            let (leaf, root, proof) = (
                bytes(&v["leafHash"])?,
                bytes(&v["root"])?,
                hashes(&v["proof"])?,
            );
            Some(
                verify_inclusion(
                    v["leafIdx"].as_u64()?,
                    v["treeSize"].as_u64()?,
                    &leaf,
                    &proof,
                    &root,
                )
                .is_ok(),
            )
        })()
        .unwrap_or(false);
        assert_eq!(ok, !v["wantErr"].as_bool().unwrap(), "{}", p.display());
    }
}

#[test]
fn consistency_vectors() {
    let cases = files("consistency");
    assert!(cases.len() > 50, "{}", cases.len());
    for (p, v) in cases {
        let ok = (|| {
            let (r1, r2, proof) = (
                bytes(&v["root1"])?,
                bytes(&v["root2"])?,
                hashes(&v["proof"])?,
            );
            Some(
                verify_consistency(v["size1"].as_u64()?, v["size2"].as_u64()?, &proof, &r1, &r2)
                    .is_ok(),
            )
        })()
        .unwrap_or(false);
        assert_eq!(ok, !v["wantErr"].as_bool().unwrap(), "{}", p.display());
    }
}

#[test]
fn roots_are_reproduced() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("roots.json")).unwrap()).unwrap();
    let leaves: Vec<Vec<u8>> = v["leaf_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| hex::decode(x.as_str().unwrap()).unwrap())
        .collect();
    let roots = v["roots"].as_array().unwrap();
    let mut tree = custody::MemoryTree::default();
    let mut compact = custody::CompactRange::default();
    assert_eq!(
        hex::encode(custody::root(&tree, 0).unwrap()),
        roots[0].as_str().unwrap()
    );
    for (n, leaf) in leaves.iter().enumerate() {
        tree.push(custody::leaf_hash(leaf));
        compact.push(custody::leaf_hash(leaf));
        let want = roots[n + 1].as_str().unwrap();
        assert_eq!(
            hex::encode(custody::root(&tree, n as u64 + 1).unwrap()),
            want,
            "root of {}",
            n + 1
        );
        assert_eq!(hex::encode(compact.root()), want);
    }
    // Proofs made by custody verify against the vector roots.
    for size in 1..=8u64 {
        let root: TreeHash = hex::decode(roots[size as usize].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        for i in 0..size {
            let p = custody::inclusion_proof(&tree, i, size).unwrap();
            verify_inclusion(i, size, &custody::leaf_hash(&leaves[i as usize]), &p, &root).unwrap();
        }
    }
}
