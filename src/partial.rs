//! Reading a partial export back and verifying it. Writing one is
//! `disclose`; the format itself (selectors, the disclosure statement) is
//! `custody_core::disclosure`.

use crate::cbor;
use crate::checkpoint::default_origin;
use crate::checkpoint::{open_note, Checkpoint, VerifierKey};
use crate::disclosure::{
    Disclosure, Fields, Selector, Statement, FORMAT, MAX_HEADER, STATEMENT_DOMAIN,
};
use crate::entry::Hash;
use crate::error::{Error, Invalid, Reason, VerifyError};
use crate::source::FileFrames;
use crate::verify::{Chain, Verified, VerifiedEntry, VerifyOptions};
use ciborium::value::Value;
use ed25519_dalek::{Signature, VerifyingKey};
use std::io::Read;
use std::path::Path;

fn invalid(
    seq: u64,
    reason: Reason,
    detail: String,
    head: Option<Hash>,
    owner: Option<[u8; 32]>,
) -> Error {
    Error::Invalid(Box::new(Invalid {
        error: VerifyError {
            seq,
            reason,
            detail,
        },
        entries: seq,
        head,
        owner,
    }))
}

/// Reads the header of a partial export and checks both signatures on it.
fn read_header<R: Read>(path: &Path, r: &mut R) -> Result<(Disclosure, [u8; 32], Vec<u8>), Error> {
    let bad = |m: String| {
        invalid(
            0,
            Reason::BadDisclosure,
            format!("partial export header: {m}"),
            None,
            None,
        )
    };
    let mut buf = Vec::new();
    r.take(MAX_HEADER as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    let len = cbor::item_len(&buf).map_err(|e| {
        bad(match e {
            cbor::CborError::Malformed(m) => m,
            other => format!("{other:?}"),
        })
    })?;
    if len > MAX_HEADER {
        return Err(bad(format!("longer than {MAX_HEADER} bytes")));
    }
    let rest = buf.split_off(len);
    let value = cbor::decode_canonical(&buf).map_err(|e| bad(format!("{e:?}")))?;
    let mut h = Fields::new(value, "header").map_err(bad)?;
    let format = h.text("format").map_err(bad)?;
    if format != FORMAT {
        return Err(bad(format!("format `{format}`, not `{FORMAT}`")));
    }
    let note = h.text("checkpoint").map_err(bad)?;
    let statement_bytes = match h.take("statement").map_err(bad)? {
        Value::Bytes(b) => b,
        _ => return Err(bad("`statement` is not a byte string".into())),
    };
    let publisher: [u8; 32] = h.bytes32("publisher").map_err(bad)?;
    let signature: [u8; 64] = h
        .bytes("signature", 64)
        .map_err(bad)?
        .try_into()
        .map_err(|_| bad("`signature` is not 64 bytes".into()))?;
    h.finish().map_err(bad)?;
    let mut signed = STATEMENT_DOMAIN.to_vec();
    signed.extend_from_slice(&statement_bytes);
    let ok = VerifyingKey::from_bytes(&publisher)
        .map(|k| {
            k.verify_strict(&signed, &Signature::from_bytes(&signature))
                .is_ok()
        })
        .unwrap_or(false);
    if !ok {
        return Err(bad(
            "the publisher's signature on the statement does not verify".into(),
        ));
    }
    let st = Statement::decode(&statement_bytes).map_err(bad)?;
    let mut selectors = Vec::with_capacity(st.selectors.len());
    for s in &st.selectors {
        selectors.push(Selector::parse(s).map_err(bad)?);
    }
    let vkey = VerifierKey::from_public(&st.origin, &publisher).map_err(bad)?;
    let cp = open_note(&note, &vkey)
        .and_then(Checkpoint::parse_text)
        .map_err(|m| bad(format!("checkpoint: {m}")))?;
    if cp.origin != st.origin || cp.size != st.size || cp.root != st.root {
        return Err(bad(
            "the checkpoint and the statement name different trees".into()
        ));
    }
    Ok((
        Disclosure {
            checkpoint: cp,
            note,
            selectors,
            publisher,
        },
        st.map,
        rest,
    ))
}

/// Verifies a partial export read from `r`: the header's signatures, every
/// disclosed entry exactly as in a whole export (encoding, position, chain
/// where both neighbours are disclosed, signature, role, authority, rules),
/// then that the items give the checkpoint's tree and the signed disclosure
/// map, that the publisher is an owner at the checkpoint's size as the
/// disclosed grants and revokes establish, and that the checkpoint is of
/// this ledger (its origin). Disclosed entries go to `sink` in order.
pub(crate) fn verify_partial<R: Read>(
    path: &Path,
    r: &mut R,
    opts: &VerifyOptions,
    watch: Option<u64>,
    sink: impl FnMut(VerifiedEntry) -> Result<(), Error>,
) -> Result<Verified, Error> {
    let (disclosure, map, rest) = read_header(path, r)?;
    let size = disclosure.checkpoint.size;
    let mut items = std::io::Cursor::new(rest).chain(r);
    let frames = FileFrames {
        path: path.to_path_buf(),
        r: &mut items,
        done: false,
        partial: Some((size, 0)),
    };
    let mut chain = Chain::new(opts.clone()).partial();
    if let Some(w) = watch {
        chain = chain.watch(w);
    }
    let mut v = chain.run(frames, sink)?;
    let l = &v.ledger;
    let fail =
        |reason, detail: String| invalid(l.entries, reason, detail, Some(l.head), Some(l.owner));
    if l.entries != size {
        return Err(fail(
            Reason::BadDisclosure,
            format!(
                "{} items, but the checkpoint is of {size} entries",
                l.entries
            ),
        ));
    }
    // The last entry's `roles` counts every grant and revocation before it,
    // so with it disclosed none can be withheld unseen.
    if v.last_disclosed != Some(size - 1) {
        return Err(invalid(
            size - 1,
            Reason::BadDisclosure,
            "the last entry is withheld; a partial export discloses it, so that its `roles` \
             shows no grant or revocation was withheld"
                .into(),
            Some(l.head),
            Some(l.owner),
        ));
    }
    let root = v.tree.as_ref().map(|t| t.root());
    if root != Some(disclosure.checkpoint.root) {
        return Err(fail(
            Reason::BadDisclosure,
            format!(
                "the {} disclosed entries and {} withheld hashes do not give the checkpoint's tree",
                l.entries - l.withheld,
                l.withheld
            ),
        ));
    }
    if v.map != Some(map) {
        return Err(fail(
            Reason::BadDisclosure,
            "the disclosed and withheld positions are not those the publisher signed".into(),
        ));
    }
    if !l.state.is_owner(&disclosure.publisher) {
        return Err(fail(
            Reason::BadDisclosure,
            format!(
                "the publisher {} is not an owner at the checkpoint's size, as the disclosed grants and revocations establish",
                hex::encode(disclosure.publisher)
            ),
        ));
    }
    let want = default_origin(l.name(), l.id());
    if disclosure.checkpoint.origin != want {
        return Err(fail(
            Reason::ForeignCheckpoint,
            format!(
                "the checkpoint is of `{}`, this ledger is `{want}`",
                disclosure.checkpoint.origin
            ),
        ));
    }
    v.ledger.disclosure = Some(disclosure);
    Ok(v)
}
