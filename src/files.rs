//! Writing output files safely: never inside a ledger directory, never
//! through a symbolic link, and never half-written (a temporary file in the
//! same directory, synced, then renamed over the target).

use crate::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The directory `path` would be written in.
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Refuses an output path that is a directory or lies inside a ledger
/// directory (where writing would damage the ledger).
pub fn check_output(path: &Path) -> Result<(), Error> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(Error::usage(format!(
            "{} is a directory; give a file to write",
            path.display()
        )));
    }
    let dir = parent_of(path);
    let dir: PathBuf = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    for d in dir.ancestors() {
        if crate::store::looks_like_store(d) {
            return Err(Error::usage(format!(
                "{} is inside the ledger directory {}; writing there would damage the ledger, \
                 so write it elsewhere",
                path.display(),
                d.display()
            )));
        }
    }
    Ok(())
}

/// Where a command's file output goes.
pub enum Output<'a> {
    /// A file, written atomically; an existing file is replaced only when
    /// `overwrite` is set. Created with mode 0666 less the umask: what is
    /// exported is meant to be published.
    File {
        /// The file.
        path: &'a Path,
        /// Replace an existing file.
        overwrite: bool,
    },
    /// A stream, such as standard output.
    Writer(&'a mut dyn Write),
}

impl Output<'_> {
    /// Writes `bytes` whole.
    pub fn write(self, bytes: &[u8]) -> Result<(), Error> {
        match self {
            Output::File { path, overwrite } => {
                refuse_existing(path, overwrite)?;
                let tmp = temp_beside_public(path)?;
                let mut w = std::io::BufWriter::new(tmp);
                w.write_all(bytes).map_err(|e| Error::io(path, e))?;
                persist(path, w)
            }
            Output::Writer(w) => w
                .write_all(bytes)
                .and_then(|_| w.flush())
                .map_err(|e| Error::io(Path::new("<output>"), e)),
        }
    }
}

/// Refuses to replace an existing file unless asked to.
/// Even when asked, only a file (or a link, which is replaced, not
/// followed) is replaced: a device, pipe or socket at `path` is not a
/// place to rename a file over (`--force` onto /dev/null would replace
/// the device).
pub(crate) fn refuse_existing(path: &Path, overwrite: bool) -> Result<(), Error> {
    check_output(path)?;
    let Ok(m) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !overwrite {
        return Err(Error::usage(format!(
            "{} already exists; give --force to replace it",
            path.display()
        )));
    }
    let t = m.file_type();
    if !t.is_file() && !t.is_symlink() {
        return Err(Error::usage(format!(
            "{} is not a regular file, and only a file is replaced (to write to standard \
             output, give `-`)",
            path.display()
        )));
    }
    Ok(())
}

/// A temporary file beside `path` created with mode 0666 less the umask.
pub(crate) fn temp_beside_public(path: &Path) -> Result<tempfile::NamedTempFile, Error> {
    check_output(path)?;
    let dir = parent_of(path);
    let mut b = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b.tempfile_in(dir).map_err(|e| Error::io(dir, e))
}

/// Writes `bytes` to `path` atomically: the file is either complete or as
/// it was. A symbolic link at `path` is replaced, never followed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = temp_beside(path)?;
    let mut w = std::io::BufWriter::new(tmp);
    w.write_all(bytes).map_err(|e| Error::io(path, e))?;
    persist(path, w)
}

/// A temporary file in `path`'s directory, after `check_output`.
pub(crate) fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile, Error> {
    check_output(path)?;
    let dir = parent_of(path);
    tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))
}

/// Syncs a temporary file from `temp_beside` and renames it to `path`.
pub(crate) fn persist(
    path: &Path,
    w: std::io::BufWriter<tempfile::NamedTempFile>,
) -> Result<(), Error> {
    let tmp = w
        .into_inner()
        .map_err(|e| Error::io(path, e.into_error()))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    // Checked again at the last moment: something else may have been put
    // there while the output was made (the window left is the rename's).
    if let Ok(m) = std::fs::symlink_metadata(path) {
        let t = m.file_type();
        if !t.is_file() && !t.is_symlink() {
            return Err(Error::usage(format!(
                "{} is not a regular file, and only a file is replaced",
                path.display()
            )));
        }
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Creates a new file that must not exist (not even as a dangling link),
/// with `mode` on Unix, and writes `bytes` to it.
pub(crate) fn create_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    check_output(path)?;
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(Error::usage(format!(
            "{} already exists; refusing to overwrite it",
            path.display()
        )));
    }
    let mut opts = std::fs::OpenOptions::new();
    // O_CREAT | O_EXCL: fails on any existing path, a symbolic link included.
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(path, e))
}
