//! C2SP signed notes (c2sp.org/signed-note), tlog checkpoints
//! (c2sp.org/tlog-checkpoint) and tlog proofs (c2sp.org/tlog-proof), with
//! Ed25519 signatures.

use crate::merkle::TreeHash;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// Signature type byte of Ed25519 in signed notes.
const ED25519: u8 = 0x01;
/// Most signature lines read from one note.
const MAX_SIGNATURES: usize = 64;

/// A note verifier key: name, key id and Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: [u8; 4],
    key: [u8; 32],
}

fn key_id(name: &str, key: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(key);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(format!(
            "`{name}` is not a valid key name: it must be non-empty, without spaces or `+`"
        ));
    }
    Ok(())
}

impl VerifierKey {
    /// The verifier key of `key` under `name`.
    pub fn new(name: &str, key: &SigningKey) -> Result<VerifierKey, String> {
        check_name(name)?;
        let public = key.verifying_key().to_bytes();
        Ok(VerifierKey {
            name: name.to_string(),
            id: key_id(name, &public),
            key: public,
        })
    }

    /// The verifier key of a public key under `name`.
    pub fn from_public(name: &str, key: &[u8; 32]) -> Result<VerifierKey, String> {
        check_name(name)?;
        Ok(VerifierKey {
            name: name.to_string(),
            id: key_id(name, key),
            key: *key,
        })
    }

    /// Parses `name+hex(id)+base64(0x01 || key)`.
    pub fn parse(text: &str) -> Result<VerifierKey, String> {
        let text = text.trim();
        // Base64 may itself hold `+`; the name and id cannot.
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("a verifier key is `name+keyid+base64key`".into());
        };
        check_name(name)?;
        let id: [u8; 4] = hex::decode(id)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("the key id must be 8 hex digits")?;
        let raw = B64.decode(key).map_err(|_| "the key is not base64")?;
        let [ED25519, rest @ ..] = raw.as_slice() else {
            return Err("not an Ed25519 verifier key (type byte 0x01)".into());
        };
        let key: [u8; 32] = rest.try_into().map_err(|_| "an Ed25519 key is 32 bytes")?;
        if key_id(name, &key) != id {
            return Err("the key id does not match the name and key".into());
        }
        Ok(VerifierKey {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut k = vec![ED25519];
        k.extend_from_slice(&self.key);
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(self.id),
            B64.encode(k)
        )
    }
}

/// Signs `text` (which must end in a newline) as a note by `key` under `name`.
pub fn sign_note(text: &str, name: &str, key: &SigningKey) -> Result<String, String> {
    check_name(name)?;
    if !text.ends_with('\n') {
        return Err("note text must end with a newline".into());
    }
    let mut sig = key_id(name, &key.verifying_key().to_bytes()).to_vec();
    sig.extend_from_slice(&key.sign(text.as_bytes()).to_bytes());
    Ok(format!("{text}\n\u{2014} {name} {}\n", B64.encode(sig)))
}

/// Verifies a signed note with `vkey`, returning its text. Signatures by
/// other keys are ignored, as the spec requires.
pub fn open_note<'n>(note: &'n str, vkey: &VerifierKey) -> Result<&'n str, String> {
    if note.chars().any(|c| c.is_control() && c != '\n') {
        return Err("a note may not contain control characters".into());
    }
    let Some(split) = note.rfind("\n\n") else {
        return Err("not a signed note: no blank line before the signatures".into());
    };
    let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
    if !sigs.ends_with('\n') || sigs.len() < 2 {
        return Err("not a signed note: no signature lines".into());
    }
    let mut verified = false;
    let mut same_name_other_key = false;
    for (n, line) in sigs[..sigs.len() - 1].split('\n').enumerate() {
        if n >= MAX_SIGNATURES {
            return Err("too many signatures".into());
        }
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return Err(format!("malformed signature line `{line}`"));
        };
        let Some((name, b64)) = rest.split_once(' ') else {
            return Err(format!("malformed signature line `{line}`"));
        };
        let Ok(raw) = B64.decode(b64) else {
            return Err(format!("signature of `{name}` is not base64"));
        };
        if raw.len() < 4 || name != vkey.name || raw[..4] != vkey.id {
            same_name_other_key |= name == vkey.name;
            continue; // another key's signature
        }
        let sig: [u8; 64] = raw[4..]
            .try_into()
            .map_err(|_| format!("signature of `{name}` is not an Ed25519 signature"))?;
        let vk = VerifyingKey::from_bytes(&vkey.key)
            .map_err(|_| "the verifier key is not a valid Ed25519 key")?;
        vk.verify_strict(text.as_bytes(), &Signature::from_bytes(&sig))
            .map_err(|_| format!("the signature of `{name}` does not verify"))?;
        verified = true;
    }
    if !verified && same_name_other_key {
        return Err(format!(
            "the note is signed by a different key of the same name `{}`: not the key you gave \
             (the name is only a label; the key is what counts)",
            vkey.name
        ));
    }
    if !verified {
        return Err(format!("the note carries no signature by `{}`", vkey.name));
    }
    Ok(text)
}

/// A tlog checkpoint: what the signer says the tree was at some size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root of those leaves.
    pub root: TreeHash,
}

impl Checkpoint {
    /// The note text.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses checkpoint note text (extension lines are allowed and ignored).
    pub fn parse_text(text: &str) -> Result<Checkpoint, String> {
        let lines: Vec<&str> = text
            .strip_suffix('\n')
            .unwrap_or(text)
            .split('\n')
            .collect();
        let [origin, size, root, ext @ ..] = lines.as_slice() else {
            return Err("a checkpoint has at least three lines: origin, size, root".into());
        };
        if origin.is_empty() || ext.iter().any(|l| l.is_empty()) {
            return Err("checkpoint lines may not be empty".into());
        }
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(format!("`{size}` is not a tree size"));
        }
        let size: u64 = size
            .parse()
            .map_err(|_| format!("`{size}` is not a tree size"))?;
        let root: TreeHash = B64
            .decode(root)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or("the root hash is not 32 bytes of base64")?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }

    /// Verifies a signed checkpoint note with `vkey`.
    pub fn open(note: &str, vkey: &VerifierKey) -> Result<Checkpoint, String> {
        Self::parse_text(open_note(note, vkey)?)
    }

    /// Reads a checkpoint note without checking any signature (to find a
    /// size and root to prove against; whoever relies on it checks it).
    pub fn parse_unverified(note: &str) -> Result<Checkpoint, String> {
        let text = note.rfind("\n\n").map_or(note, |i| &note[..i + 1]);
        Self::parse_text(text)
    }
}

/// A c2sp.org/tlog-proof@v1 inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// The leaf index.
    pub index: u64,
    /// Inclusion proof hashes, from the leaf's sibling up.
    pub hashes: Vec<TreeHash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

const PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

impl TlogProof {
    /// The proof's text.
    pub fn encode(&self) -> String {
        let mut s = format!("{PROOF_HEADER}\nindex {}\n", self.index);
        for h in &self.hashes {
            s.push_str(&B64.encode(h));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }

    /// Parses a proof's text.
    pub fn parse(text: &str) -> Result<TlogProof, String> {
        let rest = text
            .strip_prefix(PROOF_HEADER)
            .and_then(|r| r.strip_prefix('\n'))
            .ok_or("not a c2sp.org/tlog-proof@v1 proof")?;
        let rest = match rest.strip_prefix("extra ") {
            Some(r) => r.split_once('\n').ok_or("truncated proof")?.1,
            None => rest,
        };
        let (index_line, mut rest) = rest.split_once('\n').ok_or("truncated proof")?;
        let index = index_line
            .strip_prefix("index ")
            .filter(|i| {
                !i.is_empty()
                    && i.bytes().all(|b| b.is_ascii_digit())
                    && (i.len() == 1 || !i.starts_with('0'))
            })
            .and_then(|i| i.parse().ok())
            .ok_or("the proof has no valid `index` line")?;
        let mut hashes = Vec::new();
        loop {
            let (line, r) = rest.split_once('\n').ok_or("truncated proof")?;
            rest = r;
            if line.is_empty() {
                break;
            }
            if hashes.len() >= 64 {
                return Err("too many proof hashes".into());
            }
            hashes.push(
                B64.decode(line)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or("a proof hash is not 32 bytes of base64")?,
            );
        }
        Ok(TlogProof {
            index,
            hashes,
            checkpoint: rest.to_string(),
        })
    }
}

/// The origin a ledger's checkpoints carry unless told otherwise:
/// `custody/<name, reduced to [a-z0-9-]>/<first 16 hex digits of the id>`.
pub fn default_origin(name: &str, id: &crate::entry::Hash) -> String {
    let mut slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while slug.contains("--") {
        slug = slug.replace("--", "-");
    }
    let slug = slug.trim_matches('-');
    let slug = if slug.is_empty() { "ledger" } else { slug };
    format!("custody/{slug}/{}", &hex::encode(id)[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of c2sp.org/signed-note.
    #[test]
    fn the_specs_example_note_verifies() {
        let vkey = VerifierKey::parse(
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        )
        .unwrap();
        let note = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
        assert_eq!(
            open_note(note, &vkey).unwrap(),
            "This is an example message.\n"
        );
        let tampered = note.replace("example message", "example massage");
        assert!(open_note(&tampered, &vkey).is_err());
        // Unknown signatures are ignored; a note with only those is rejected.
        let other = "This is an example message.\n\n\u{2014} other.example AAAAAAAA\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
        assert!(open_note(other, &vkey).is_ok());
        assert!(open_note(
            "This is an example message.\n\n\u{2014} other.example AAAAAAAA\n",
            &vkey
        )
        .is_err());
    }

    #[test]
    fn checkpoints_round_trip() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let vkey = VerifierKey::new("custody.test/log", &key).unwrap();
        assert_eq!(VerifierKey::parse(&vkey.to_string()).unwrap(), vkey);
        let cp = Checkpoint {
            origin: "custody.test/log".into(),
            size: 42,
            root: [7; 32],
        };
        let note = sign_note(&cp.text(), vkey.name(), &key).unwrap();
        assert_eq!(Checkpoint::open(&note, &vkey).unwrap(), cp);
        assert!(Checkpoint::open(&note.replace("\n42\n", "\n43\n"), &vkey).is_err());
        let proof = TlogProof {
            index: 3,
            hashes: vec![[1; 32], [2; 32]],
            checkpoint: note,
        };
        assert_eq!(TlogProof::parse(&proof.encode()).unwrap(), proof);
    }
}
