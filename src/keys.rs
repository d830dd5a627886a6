//! Signing keys on disk (PKCS#8 PEM, as `openssl genpkey -algorithm ed25519`
//! writes them) and public keys as 64 lowercase hex digits.

use crate::error::Error;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub(crate) use crate::signature::parse_public_hex;

/// Reads a public key given as 64 hex digits or as the path of a `.pub` file.
pub fn read_public_key(arg: &str) -> Result<[u8; 32], Error> {
    let lower = arg.to_ascii_lowercase();
    if let Ok(k) = parse_public_hex(&lower) {
        return Ok(k);
    }
    let path = Path::new(arg);
    let text = std::fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::usage(format!(
                "`{arg}` is neither 64 hex digits nor a readable public key file"
            ))
        } else {
            Error::io(path, e)
        }
    })?;
    parse_public_hex(text.trim()).map_err(|m| Error::usage(format!("{}: {m}", path.display())))
}

/// Loads a PKCS#8 PEM Ed25519 private key. As ssh does, a key file that
/// its group or others may read or write is refused: the key may be known
/// to others, and every signature made with it could be theirs.
pub fn read_signing_key(path: &Path) -> Result<SigningKey, Error> {
    // A public key given where the private one is needed: say so, before
    // its (rightly) open permissions draw a misleading complaint.
    if let Ok(m) = std::fs::metadata(path) {
        if m.is_file() && m.len() < 4096 {
            if let Ok(text) = std::fs::read_to_string(path) {
                let t = text.trim();
                let hex_key = t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit());
                if hex_key || t.starts_with("-----BEGIN PUBLIC KEY-----") {
                    let private = path
                        .to_str()
                        .and_then(|p| p.strip_suffix(".pub"))
                        .map(|p| format!(" (probably {p})"))
                        .unwrap_or_default();
                    return Err(Error::usage(format!(
                        "{}: this is a public key, the half others use to check signatures; \
                         --key needs the private key it belongs to{private}",
                        path.display()
                    )));
                }
            }
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| Error::io(path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(Error::usage(format!(
                "{}: permissions {:04o} are too open: a private key must be readable by its owner \
                 only; run `chmod 600 {}`",
                path.display(),
                mode & 0o7777,
                path.display()
            )));
        }
    }
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?);
    SigningKey::from_pkcs8_pem(&text).map_err(|_| {
        Error::usage(format!(
            "{}: not an Ed25519 private key in PKCS#8 PEM (make one with `custody keygen` \
             or `openssl genpkey -algorithm ed25519`)",
            path.display()
        ))
    })
}

/// Generates a key from the operating system's randomness.
pub fn generate() -> Result<SigningKey, Error> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::getrandom(seed.as_mut())
        .map_err(|e| Error::usage(format!("no randomness from the operating system: {e}")))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The path of the public key file written beside `key`.
pub fn public_path(key: &Path) -> PathBuf {
    let mut s = key.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

/// Writes `key` to `path` (mode 0600) and its public key to `path.pub`,
/// refusing to overwrite anything, a symbolic link included.
pub fn write_key_files(key: &SigningKey, path: &Path) -> Result<(), Error> {
    let pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| Error::usage(format!("cannot encode key: {e}")))?;
    let pub_path = public_path(path);
    for p in [path, pub_path.as_path()] {
        if std::fs::symlink_metadata(p).is_ok() {
            return Err(Error::usage(format!(
                "{} already exists; refusing to overwrite a key",
                p.display()
            )));
        }
    }
    crate::files::create_new(path, pem.as_bytes(), 0o600)?;
    let public = format!("{}\n", hex::encode(key.verifying_key().as_bytes()));
    crate::files::create_new(&pub_path, public.as_bytes(), 0o644)
}
