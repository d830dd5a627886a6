//! The client half of appending through a server: verify what the server
//! sent (never its word), hold it to the key's high-water mark, check and
//! sign the batch locally, and raise the mark once the server has stored
//! it. Transport is the caller's.

use crate::entry::Hash;
use crate::error::Error;
use crate::ledger::{AppendOptions, MarkWatch};
use crate::verify::{Chain, VerifyOptions};
use ed25519_dalek::SigningKey;
use std::io::BufRead;

/// A batch signed for a served ledger, to post.
#[derive(Debug, Clone)]
pub struct RemoteBatch {
    /// The signed entries, back to back (an export's framing).
    pub body: Vec<u8>,
    /// Entries signed.
    pub appended: u64,
    /// The ledger's size before the batch.
    pub first: u64,
    /// The head after the batch.
    pub head: Hash,
    /// The ledger's id.
    pub id: Hash,
    /// The verified state after the batch, sealed with the key, for the
    /// next append to resume from (`sign_for_server_after`).
    pub state: Vec<u8>,
    /// The same events were sent before and the ledger holds them (first
    /// and last position): nothing is to be sent, and `body` is empty.
    pub stored_before: Option<(u64, u64)>,
    /// The batch's last entry, to look for once the server says it stored
    /// the batch.
    pub last: Vec<u8>,
    /// What the client should know (a batch it sent before, reported
    /// refused, that the ledger holds after all).
    pub warnings: Vec<String>,
}

/// Verifies `export` (the ledger as the server sent it, whole), holds it
/// to `key`'s mark, and signs the JSON Lines events of `input` as its next
/// entries, checked against every rule as `append` checks them.
///
/// `at` is the served ledger's URL: a key that built on one ledger there
/// signs into no other served at the same URL, and the ledger must bear
/// the name the URL gives.
pub fn sign_for_server<R: BufRead>(
    export: &[u8],
    key: &SigningKey,
    input: R,
    opts: &AppendOptions,
    at: &str,
) -> Result<RemoteBatch, Error> {
    sign_on_served(None, export, key, input, opts, at)
}

/// The size of the ledger a sealed client state (`RemoteBatch::state`)
/// was verified at, if `key` sealed it.
pub fn state_size(key: &SigningKey, state: &[u8]) -> Option<u64> {
    crate::record::open(key, state).map(|r| r.entries)
}

/// As [`sign_for_server`], from a state this client verified and sealed
/// before (`RemoteBatch::state`), with `tail` the entries the server
/// holds from that state's size on: only they are verified.
pub fn sign_for_server_after<R: BufRead>(
    state: &[u8],
    tail: &[u8],
    key: &SigningKey,
    input: R,
    opts: &AppendOptions,
    at: &str,
) -> Result<RemoteBatch, Error> {
    let r = crate::record::open(key, state)
        .ok_or_else(|| Error::usage("the saved client state is not this key's"))?;
    sign_on_served(Some(r), tail, key, input, opts, at)
}

/// The names a served ledger's URL goes by, for the key's memory of which
/// ledger it built on where: by what it leads to, not by how it is spelt
/// (the host in lower case; each address it resolves to; the port as a
/// number; the ledger's name decoded and encoded one way).
fn url_names(at: &str) -> Vec<String> {
    let rest = at.strip_prefix("http://").unwrap_or(at);
    let (authority, _) = rest.split_once('/').unwrap_or((rest, ""));
    let name = name_in_url(at).unwrap_or_default();
    let mut seg = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            seg.push(b as char);
        } else {
            seg.push_str(&format!("%{b:02X}"));
        }
    }
    // `remote_base` refused any authority this cannot split.
    let (host, port) = host_port(authority).unwrap_or((authority, 0));
    let host = host.to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    let mut names = vec![format!("http://{host}:{port}/v1/{seg}")];
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(addrs) = std::net::ToSocketAddrs::to_socket_addrs(&(bare, port)) {
        let mut addrs: Vec<std::net::SocketAddr> = addrs.map(connects_to).collect();
        addrs.sort();
        addrs.dedup();
        for a in addrs {
            names.push(format!("http://{a}/v1/{seg}"));
        }
    }
    names
}

/// A URL authority's host and port, as the HTTP client reads them: the
/// port after the last colon outside brackets, 80 when there is none or
/// it is empty. None when the port is not a number that fits in 16 bits,
/// or the brackets do not close where they should.
pub(crate) fn host_port(authority: &str) -> Option<(&str, u16)> {
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let close = inner.find(']')?;
        let after = &inner[close + 1..];
        let host = &authority[..close + 2];
        match after {
            "" => (host, ""),
            _ => (host, after.strip_prefix(':')?),
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) if !p.contains(':') => (h, p),
            Some(_) => return None,
            None => (authority, ""),
        }
    };
    if host.is_empty() || host == "[]" {
        return None;
    }
    let port = match port {
        "" => 80,
        p if p.bytes().all(|b| b.is_ascii_digit()) => p.parse::<u16>().ok()?,
        _ => return None,
    };
    Some((host, port))
}

/// The address a connection to `a` reaches, as one spelling: an
/// IPv4-mapped IPv6 address is its IPv4 address, and the unspecified
/// address (0.0.0.0, ::) is the loopback one a connection to it reaches.
fn connects_to(a: std::net::SocketAddr) -> std::net::SocketAddr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let ip = match a.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    let ip = match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    std::net::SocketAddr::new(ip, a.port())
}

/// The ledger name a served ledger's URL gives (its last path segment,
/// percent-decoded).
fn name_in_url(at: &str) -> Option<String> {
    let seg = at.trim_end_matches('/').rsplit('/').next()?.as_bytes();
    let mut out = Vec::with_capacity(seg.len());
    let mut i = 0;
    while i < seg.len() {
        if seg[i] == b'%' && i + 2 < seg.len() {
            let h = std::str::from_utf8(&seg[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(seg[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn sign_on_served<R: BufRead>(
    from: Option<crate::verify::Resume>,
    bytes: &[u8],
    key: &SigningKey,
    input: R,
    opts: &AppendOptions,
    at: &str,
) -> Result<RemoteBatch, Error> {
    let signer = key.verifying_key().to_bytes();
    // A batch sent before whose answer never came: if the ledger holds it
    // and these are the same events, it is not to be sent again.
    let mut events = Vec::new();
    let mut input = input;
    input
        .read_to_end(&mut events)
        .map_err(|e| Error::usage(format!("cannot read the events: {e}")))?;
    let digest = crate::ledger::input_digest(&events);
    let id_hint = from.as_ref().map(|s| s.id);
    let earlier = match id_hint {
        Some(id) => crate::highwater::read_pending(&signer, &id)?,
        None => None,
    };
    let mut seen_earlier = None;
    let mut r = bytes;
    let frames = crate::source::FileFrames::new("<served ledger>".into(), &mut r);
    let (chain, mut watch) = match from {
        Some(s) => {
            let w = MarkWatch::resumed(key, &s.id);
            (Chain::resume(VerifyOptions::default(), s), w)
        }
        None => (
            Chain::new(VerifyOptions::default()).with_tree(),
            MarkWatch::new(key),
        ),
    };
    let mut earlier = earlier;
    let v = chain.run(frames, |e| {
        watch.see(e.seq(), e.hash());
        if e.seq() == 0 {
            // A whole download: the pending batch of this ledger, if any.
            let id = crate::entry::entry_hash(e.bytes());
            earlier = crate::highwater::read_pending(&signer, &id)?;
        }
        if earlier.is_some_and(|p| p.head == *e.hash()) {
            seen_earlier = Some(e.seq());
        }
        Ok(())
    })?;
    watch.check(&v.ledger)?;
    // One ledger per URL for this key, as for a directory; and the one
    // the URL names.
    crate::highwater::check_binding(&signer, &url_names(at), &v.ledger.id)?;
    if name_in_url(at).is_some_and(|n| n != v.ledger.name) {
        return Err(Error::usage(format!(
            "{at} serves a ledger named \"{}\", not the one its URL names: nothing was signed",
            v.ledger.name.escape_debug()
        )));
    }
    if let Some(pin) = opts.owner {
        if pin != v.ledger.owner {
            return Err(Error::usage(format!(
                "the served ledger's owner key is {}, not the pinned {}: nothing was signed",
                hex::encode(v.ledger.owner),
                hex::encode(pin)
            )));
        }
    }
    let first = v.ledger.entries;
    let id = v.ledger.id;
    let prev = v.ledger.head;
    if let (Some(p), Some(last)) = (earlier, seen_earlier) {
        if p.input == Some(digest) && p.first < first {
            let resume = crate::verify::Resume::from_verified(v);
            return Ok(RemoteBatch {
                state: crate::record::seal(key, &resume).unwrap_or_default(),
                body: Vec::new(),
                appended: 0,
                first,
                head: prev,
                id,
                stored_before: Some((p.first, last)),
                last: Vec::new(),
                warnings: Vec::new(),
            });
        }
    }
    // As for a local append: a batch sent at this place before and never
    // stored is signed again with its time, and nothing else is signed
    // there.
    let pending = crate::highwater::read_pending(&signer, &id)?
        .filter(|p| p.first == first && p.prev == prev);
    let time = pending.map_or_else(crate::ledger::now, |p| p.time);
    let mut warnings = Vec::new();
    if let (Some(p), Some(last)) = (earlier, seen_earlier) {
        warnings.push(format!(
            "a batch this key sent before (entries {} to {last}), whose outcome was reported \
             as a failure or not known, is in the ledger after all",
            p.first
        ));
    }
    let signed = crate::ledger::sign_on(v, key, &events[..], opts, time)?;
    if pending.is_some_and(|p| p.head != signed.head) {
        return Err(Error::usage(format!(
            "this key sent another batch at entry {first} that the server did not store; \
             signing different events there would put two histories under this key. Send that \
             same batch again, or, if you know it is gone for good, delete {}",
            crate::highwater::pending_path(&signer, &id)
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        )));
    }
    if !signed.batch.is_empty() {
        if first > 0 {
            crate::highwater::write(&signer, &id, first, &prev)?;
        }
        crate::highwater::write_pending(
            &signer,
            &id,
            &crate::highwater::Pending {
                first,
                prev,
                time,
                head: signed.head,
                input: Some(digest),
            },
        )?;
    }
    if signed.batch.is_empty() && !opts.allow_empty {
        return Err(Error::usage(
            "the input holds no events, so nothing was sent; give --allow-empty to accept an \
             empty batch",
        ));
    }
    Ok(RemoteBatch {
        state: crate::record::seal(key, &signed.resume).unwrap_or_default(),
        appended: signed.batch.len() as u64,
        body: signed.batch.concat(),
        first,
        head: signed.head,
        id,
        stored_before: None,
        last: signed.batch.last().cloned().unwrap_or_default(),
        warnings,
    })
}

/// After the server stored `b` (at `at`): the key's mark follows it, and
/// the URL is bound to the ledger.
pub fn confirm_stored(key: &SigningKey, b: &RemoteBatch, at: &str) -> Result<(), Error> {
    let k = key.verifying_key().to_bytes();
    crate::highwater::write(&k, &b.id, b.first + b.appended, &b.head)?;
    crate::highwater::bind(&k, &url_names(at), &b.id)?;
    crate::highwater::clear_pending(&k, &b.id)
}

/// The state this key saved for the served ledger at `base`, if any.
pub fn load_state(key: &SigningKey, base: &str) -> Option<Vec<u8>> {
    let p = crate::highwater::remote_state_path(&key.verifying_key().to_bytes(), base)?;
    std::fs::read(p).ok()
}

/// Saves the state after `b` for the next append to `base` (a failure
/// only costs the next append a whole download).
pub fn save_state(key: &SigningKey, base: &str, b: &RemoteBatch) {
    if let Some(p) = crate::highwater::remote_state_path(&key.verifying_key().to_bytes(), base) {
        if let Some(parent) = p.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = crate::files::write_atomic(&p, &b.state);
    }
}

#[cfg(test)]
mod tests {
    use super::{host_port, url_names};
    use crate::client::remote_base;
    use std::path::Path;

    #[test]
    fn an_authority_splits_as_the_http_client_reads_it() {
        assert_eq!(host_port("127.0.0.1:8080"), Some(("127.0.0.1", 8080)));
        assert_eq!(host_port("127.0.0.1:"), Some(("127.0.0.1", 80)));
        assert_eq!(host_port("127.0.0.1"), Some(("127.0.0.1", 80)));
        assert_eq!(host_port("[::1]"), Some(("[::1]", 80)));
        assert_eq!(host_port("[::1]:"), Some(("[::1]", 80)));
        assert_eq!(host_port("[::1]:9"), Some(("[::1]", 9)));
        for bad in [
            "127.0.0.1:65616",
            "h:x",
            "h:+80",
            "::1",
            "[::1",
            "[::1]x",
            "[]:80",
            ":80",
        ] {
            assert_eq!(host_port(bad), None, "{bad}");
        }
    }

    #[test]
    fn spellings_of_the_default_port_are_one_place() {
        let names = |u: &str| url_names(u);
        let a = names("http://127.0.0.1:80/v1/x");
        for same in [
            "http://127.0.0.1/v1/x",
            "http://127.0.0.1:/v1/x",
            "http://[::ffff:127.0.0.1]/v1/x",
            "http://0.0.0.0:80/v1/x",
        ] {
            assert!(
                names(same).iter().any(|n| a.contains(n)),
                "{same}: {:?} vs {a:?}",
                names(same)
            );
        }
        let v6 = names("http://[::1]:80/v1/x");
        assert!(names("http://[::1]/v1/x").iter().any(|n| v6.contains(n)));
    }

    #[test]
    fn urls_the_client_cannot_place_are_refused() {
        for bad in [
            "http://u:pw@127.0.0.1:1/x",
            "HTTP://u:pw@127.0.0.1:1/x",
            "http://u:pw@127.0.0.1:1",
            "http://127.0.0.1:65616/x",
            "http://127.0.0.1:1",
            "http://127.0.0.1:1/a/b",
            "http://127.0.0.1:1/x?token=1",
        ] {
            let e = remote_base(Path::new(bad)).unwrap_err().to_string();
            assert!(!e.contains("pw@"), "{e}");
        }
        assert_eq!(
            remote_base(Path::new("Http://127.0.0.1:1/x/")).unwrap(),
            Some("http://127.0.0.1:1/v1/x".into())
        );
        assert_eq!(remote_base(Path::new("ledgers/http")).unwrap(), None);
        // A path whose first bytes are not ASCII is a path, not a panic.
        for p in ["ééééé", "httpé://x", "日本語の台帳"] {
            assert_eq!(remote_base(Path::new(p)).unwrap(), None, "{p}");
        }
    }
}
