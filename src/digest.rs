//! Digests of the files an artifact stands for, in the forms other tools
//! use: a file's SHA-256, and for a directory the OpenSSF model-signing
//! (OMS) "files" serialization: each regular file's SHA-256 under its
//! POSIX path relative to the directory, sorted by path components, and a
//! root digest, the SHA-256 of the raw file digests concatenated in that
//! order (what model-signing puts in its in-toto subject). Git's files at
//! the top (`.git`, `.gitattributes`, `.github`, `.gitignore`) are left
//! out by default; symbolic links are refused unless followed.
//!
//! Files are hashed in parallel, one file per thread at a time, each read
//! through a fixed buffer (a file is never held in memory whole).

use crate::error::Error;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// How a directory is walked.
#[derive(Debug, Clone)]
pub struct DigestOptions {
    /// Follow symbolic links (refused otherwise, as model-signing does).
    pub follow_symlinks: bool,
    /// Leave out `.git`, `.gitattributes`, `.github` and `.gitignore` at
    /// the top of the directory.
    pub ignore_git: bool,
    /// Hashing threads (0: one per core).
    pub threads: usize,
}

impl Default for DigestOptions {
    fn default() -> Self {
        DigestOptions {
            follow_symlinks: false,
            ignore_git: true,
            threads: 0,
        }
    }
}

/// One file of a directory's manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// POSIX path relative to the directory.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of its bytes.
    pub sha256: [u8; 32],
}

/// The digest of a file or of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathDigest {
    /// Whether it is a directory (its root is the OMS root digest).
    pub directory: bool,
    /// The file's SHA-256, or the directory's OMS root digest (which, as
    /// model-signing defines it, covers the files' digests but not their
    /// names).
    pub root: [u8; 32],
    /// For a directory, the SHA-256 of its manifest: every file's digest,
    /// size and path (what an artifact records, so that names count too).
    pub manifest: Option<[u8; 32]>,
    /// Every file hashed, in manifest order (one entry, named by its file
    /// name, for a file).
    pub files: Vec<FileDigest>,
}

impl PathDigest {
    /// The form an `artifact`'s `digest` field takes: `sha256:` and the
    /// file's SHA-256, or `sha256-manifest:` and the directory's manifest
    /// digest (a file and a directory never share a digest).
    pub fn field(&self) -> String {
        match self.manifest {
            Some(m) => format!("sha256-manifest:{}", hex::encode(m)),
            None => format!("sha256:{}", hex::encode(self.root)),
        }
    }
}

const GIT_PATHS: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// The digest of `path`: a file's SHA-256, or a directory's OMS root.
pub fn digest_path(path: &Path, opts: &DigestOptions) -> Result<PathDigest, Error> {
    // `link/` names what the link points to: the link itself is what is
    // looked at.
    let trimmed = path
        .to_str()
        .map(|s| s.trim_end_matches('/'))
        .filter(|s| !s.is_empty());
    if let Some(t) = trimmed {
        if !opts.follow_symlinks
            && std::fs::symlink_metadata(t).is_ok_and(|m| m.file_type().is_symlink())
        {
            return Err(symlink(Path::new(t)));
        }
    }
    let meta = if opts.follow_symlinks {
        std::fs::metadata(path)
    } else {
        std::fs::symlink_metadata(path)
    }
    .map_err(|e| Error::io(path, e))?;
    if meta.file_type().is_symlink() {
        return Err(symlink(path));
    }
    if meta.is_file() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (size, sha256) = hash_file_as(path, opts.follow_symlinks)?;
        return Ok(PathDigest {
            directory: false,
            manifest: None,
            root: sha256,
            files: vec![FileDigest {
                path: name,
                size,
                sha256,
            }],
        });
    }
    if !meta.is_dir() {
        return Err(Error::usage(format!(
            "{}: neither a file nor a directory",
            path.display()
        )));
    }
    let mut found = Vec::new();
    walk(path, path, opts, &mut found)?;
    // Component by component, as model-signing orders its manifest
    // (`a/b` before `a-c`, though `-` sorts before `/` in a string).
    found.sort_by(|a, b| a.0.split('/').cmp(b.0.split('/')));
    let hashed = hash_all(&found, opts.threads, opts.follow_symlinks)?;
    let mut root = Sha256::new();
    let mut manifest = Sha256::new();
    let files: Vec<FileDigest> = found
        .into_iter()
        .zip(hashed)
        .map(|((rel, _), (size, sha256))| {
            root.update(sha256);
            manifest.update(format!("{} {size} {rel}\n", hex::encode(sha256)));
            FileDigest {
                path: rel,
                size,
                sha256,
            }
        })
        .collect();
    Ok(PathDigest {
        directory: true,
        root: root.finalize().into(),
        manifest: Some(manifest.finalize().into()),
        files,
    })
}

fn symlink(path: &Path) -> Error {
    Error::usage(format!(
        "{} is a symbolic link: refused, as model-signing refuses it (give --follow-symlinks \
         to hash what it points to)",
        path.display()
    ))
}

/// Collects the regular files under `dir` as (relative POSIX path, path).
fn walk(
    root: &Path,
    dir: &Path,
    opts: &DigestOptions,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for e in entries {
        let e = e.map_err(|e| Error::io(dir, e))?;
        let p = e.path();
        let name = e.file_name();
        let name = name.to_str().ok_or_else(|| {
            Error::usage(format!(
                "{}: a file name that is not UTF-8 has no POSIX path in a manifest",
                p.display()
            ))
        })?;
        if name.chars().any(char::is_control) {
            return Err(Error::usage(format!(
                "{}: a file name holding a control character (a line break...) is refused: a \
                 manifest names one file a line",
                p.display().to_string().escape_debug()
            )));
        }
        if dir == root && opts.ignore_git && GIT_PATHS.contains(&name) {
            continue;
        }
        let t = e.file_type().map_err(|e| Error::io(&p, e))?;
        let t = if t.is_symlink() {
            if !opts.follow_symlinks {
                return Err(symlink(&p));
            }
            std::fs::metadata(&p)
                .map_err(|e| Error::io(&p, e))?
                .file_type()
        } else {
            t
        };
        if t.is_dir() {
            walk(root, &p, opts, out)?;
        } else if t.is_file() {
            let rel = p
                .strip_prefix(root)
                .map_err(|_| Error::usage(format!("{}: outside the directory", p.display())))?
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, p));
        } else {
            return Err(Error::usage(format!(
                "{}: neither a file nor a directory (a socket, a pipe or a device)",
                p.display()
            )));
        }
    }
    Ok(())
}

/// Where a hashing thread puts a file's size and digest.
type Slot = std::sync::Mutex<Option<Result<(u64, [u8; 32]), Error>>>;

/// Hashes every file, the largest first, on `threads` threads (0: one
/// per core); results in the order given.
fn hash_all(
    files: &[(String, PathBuf)],
    threads: usize,
    follow: bool,
) -> Result<Vec<(u64, [u8; 32])>, Error> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(files.len().max(1));
    let mut order: Vec<usize> = (0..files.len()).collect();
    let sizes: Vec<u64> = files
        .iter()
        .map(|(_, p)| std::fs::metadata(p).map_or(0, |m| m.len()))
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Slot> = files.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&i) = order.get(k) else { break };
                let r = hash_file_as(&files[i].1, follow);
                let failed = r.is_err();
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(r);
                }
                if failed {
                    // The others stop at their next file.
                    next.store(order.len(), std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    let mut out = Vec::with_capacity(files.len());
    for (slot, (_, p)) in results.into_iter().zip(files) {
        match slot.into_inner().ok().flatten() {
            Some(r) => out.push(r?),
            None => {
                return Err(Error::usage(format!(
                    "{}: not hashed (another file could not be read)",
                    p.display()
                )))
            }
        }
    }
    Ok(out)
}

/// A file's size and SHA-256, read through a fixed buffer.
pub fn hash_file(path: &Path) -> Result<(u64, [u8; 32]), Error> {
    hash_file_as(path, true)
}

/// As [`hash_file`]; without `follow`, a path that became a link since
/// it was looked at is refused, not followed, and whatever it is must be
/// a regular file once open (a pipe swapped in would block the read).
fn hash_file_as(path: &Path, follow: bool) -> Result<(u64, [u8; 32]), Error> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK | if follow { 0 } else { libc::O_NOFOLLOW });
    }
    let mut f = o.open(path).map_err(|e| match e.raw_os_error() {
        #[cfg(unix)]
        Some(libc::ELOOP) => symlink(path),
        _ => Error::io(path, e),
    })?;
    if !f.metadata().map_err(|e| Error::io(path, e))?.is_file() {
        return Err(Error::usage(format!(
            "{}: not a regular file (it changed while it was being hashed?)",
            path.display()
        )));
    }
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path, e)),
        };
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, h.finalize().into()))
}

/// The digest the verified ledger at `source` records for artifact `id`:
/// `Ok(None)` when the artifact is declared without one; an error when the
/// ledger does not verify or does not declare it.
pub fn recorded_digest(
    source: impl Into<crate::store::Location>,
    id: &str,
    owner: Option<[u8; 32]>,
) -> Result<Option<String>, Error> {
    let mut found: Option<Option<String>> = None;
    crate::verifying::verify(source, &crate::verify::VerifyOptions { owner }, |e| {
        if let crate::event::EventKind::Artifact {
            id: a, digest: d, ..
        } = &e.event().kind
        {
            if a == id {
                found = Some(d.clone());
            }
        }
        Ok(())
    })?;
    found.ok_or_else(|| Error::usage(format!("the ledger declares no artifact `{id}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_sort_by_component_and_git_files_at_the_top_are_left_out() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::create_dir_all(p.join("a")).unwrap();
        std::fs::create_dir_all(p.join(".git")).unwrap();
        std::fs::create_dir_all(p.join("sub/.git")).unwrap();
        for (f, body) in [
            ("a/b", "1"),
            ("a-c", "2"),
            (".gitignore", "x"),
            (".git/HEAD", "y"),
            ("sub/.git/kept", "z"),
        ] {
            std::fs::write(p.join(f), body).unwrap();
        }
        let dg = digest_path(p, &DigestOptions::default()).unwrap();
        let names: Vec<&str> = dg.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(names, ["a/b", "a-c", "sub/.git/kept"]);
        let mut root = Sha256::new();
        for f in &dg.files {
            root.update(f.sha256);
        }
        assert_eq!(dg.root, <[u8; 32]>::from(root.finalize()));
        let all = digest_path(
            p,
            &DigestOptions {
                ignore_git: false,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(all.files.len(), 5);
        assert_ne!(all.root, dg.root);
    }

    #[cfg(unix)]
    #[test]
    fn links_are_refused_unless_followed() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::write(p.join("f"), "data").unwrap();
        std::os::unix::fs::symlink(p.join("f"), p.join("l")).unwrap();
        let e = digest_path(p, &DigestOptions::default()).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let followed = digest_path(
            p,
            &DigestOptions {
                follow_symlinks: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(followed.files.len(), 2);
        assert_eq!(followed.files[0].sha256, followed.files[1].sha256);
    }

    /// Names count, and a file and a directory never share a digest, even
    /// where the OMS root (which covers only the files' digests) does.
    #[test]
    fn the_manifest_digest_covers_names_and_kinds() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        for (f, body) in [("a/x", "1"), ("a/y", "2"), ("b/p", "1"), ("b/q/r", "2")] {
            std::fs::create_dir_all(p.join(f).parent().unwrap()).unwrap();
            std::fs::write(p.join(f), body).unwrap();
        }
        let a = digest_path(&p.join("a"), &DigestOptions::default()).unwrap();
        let b = digest_path(&p.join("b"), &DigestOptions::default()).unwrap();
        assert_eq!(a.root, b.root, "the OMS root does not see names");
        assert_ne!(a.field(), b.field());
        let mut joined = Vec::new();
        for f in &a.files {
            joined.extend_from_slice(&f.sha256);
        }
        std::fs::write(p.join("joined"), &joined).unwrap();
        let file = digest_path(&p.join("joined"), &DigestOptions::default()).unwrap();
        assert_eq!(file.root, a.root);
        assert_ne!(file.field(), a.field());
        assert!(a.field().starts_with("sha256-manifest:"));
        std::fs::create_dir(p.join("empty")).unwrap();
        std::fs::write(p.join("empty-file"), "").unwrap();
        assert_ne!(
            digest_path(&p.join("empty"), &DigestOptions::default())
                .unwrap()
                .field(),
            digest_path(&p.join("empty-file"), &DigestOptions::default())
                .unwrap()
                .field()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_named_with_a_trailing_slash_is_still_a_link() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::create_dir(p.join("real")).unwrap();
        std::fs::write(p.join("real/f"), "x").unwrap();
        std::os::unix::fs::symlink(p.join("real"), p.join("link")).unwrap();
        let with_slash = format!("{}/", p.join("link").display());
        let e = digest_path(Path::new(&with_slash), &DigestOptions::default()).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
    }

    #[test]
    fn a_file_is_its_sha256() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("w.bin");
        std::fs::write(&f, b"abc").unwrap();
        let dg = digest_path(&f, &DigestOptions::default()).unwrap();
        assert_eq!(
            dg.field(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(!dg.directory);
    }
}
