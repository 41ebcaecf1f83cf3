//! Atomic file writes: a reader sees the old file or the new one, never half.
//!
//! The rule for an existing destination, for every file portwise writes
//! (the CLI's `tuning export --out` and every Save in the window):
//! - only a regular file is ever replaced; a device, FIFO, socket or
//!   directory is refused, whatever `Overwrite` says;
//! - a symbolic link is followed, as `sed -i --follow-symlinks` and `cp` do:
//!   the file it points to is replaced (in the target's directory) and the
//!   link stays a link. A link whose target does not exist is refused,
//!   naming the target, rather than creating a file somewhere unexpected;
//! - after the rename, the directory is flushed too (where the OS needs it),
//!   so a crash cannot lose the new name.

use std::io::Write;
use std::path::{Path, PathBuf};

/// How to treat an existing file at the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overwrite {
    /// Replace an existing regular file.
    Allow,
    /// Fail with `AlreadyExists` if the file exists.
    Refuse,
}

/// Where a write to `path` really lands: `path` itself, or the file a chain
/// of symbolic links ends at. An error (`InvalidInput`) for a link whose
/// target is missing, and for a destination that exists and is not a regular
/// file; `NotFound` never (a missing plain destination is simply new).
pub fn write_target(path: &Path) -> std::io::Result<PathBuf> {
    let mut target = path.to_path_buf();
    // The kernel's own limit for a chain of links (Linux MAXSYMLINKS, 40).
    for _ in 0..40 {
        let meta = match std::fs::symlink_metadata(&target) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if target.as_path() == path {
                    return Ok(target);
                }
                return Err(refusal(format!(
                    "{} is a symbolic link to {}, which does not exist; portwise does not \
                     create files through a dangling link",
                    path.display(),
                    target.display()
                )));
            }
            Err(e) => return Err(e),
        };
        if meta.file_type().is_symlink() {
            let next = std::fs::read_link(&target)?;
            target = match target.parent() {
                Some(dir) if next.is_relative() => dir.join(next),
                _ => next,
            };
            continue;
        }
        if meta.is_file() {
            return Ok(target);
        }
        let what = crate::platform::os::fs::kind_of_non_regular(&meta);
        let name = if target.as_path() == path {
            path.display().to_string()
        } else {
            format!("{} (a link to {})", path.display(), target.display())
        };
        return Err(refusal(format!(
            "{name} is {what}, not a regular file; portwise only ever replaces regular files"
        )));
    }
    Err(refusal(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

fn refusal(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, msg)
}

/// Write `bytes` to `path` atomically: into a temporary file in the same
/// directory, flushed to disk, then renamed over the destination, then the
/// directory flushed. A new file gets the mode a plain create would give; a
/// replaced file keeps its mode (see `platform::os::fs`). The rules for an
/// existing destination are in the module documentation.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: Overwrite) -> std::io::Result<()> {
    let target = write_target(path)?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if overwrite == Overwrite::Refuse && std::fs::symlink_metadata(path).is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} already exists", path.display()),
        ));
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".portwise-").suffix(".tmp");
    // Like a plain new file (0666 & !umask on Unix), not tempfile's 0600.
    if let Some(perm) = crate::platform::os::fs::new_file_permissions() {
        builder.permissions(perm);
    }
    let mut tmp = builder.tempfile_in(dir)?;
    // A replaced file keeps its mode.
    crate::platform::os::fs::keep_mode(&target, tmp.as_file())?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    match overwrite {
        Overwrite::Allow => tmp.persist(&target).map(|_| ()).map_err(|e| e.error)?,
        Overwrite::Refuse => tmp
            .persist_noclobber(&target)
            .map(|_| ())
            .map_err(|e| e.error)?,
    }
    crate::platform::os::fs::sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replaces_and_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        write_atomic(&p, b"one", Overwrite::Refuse).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        let e = write_atomic(&p, b"two", Overwrite::Refuse).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        write_atomic(&p, b"three", Overwrite::Allow).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"three");
        // No temporary files left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn unwritable_directory_is_an_error_not_a_panic() {
        let e = write_atomic(Path::new("/nonexistent-dir/x.conf"), b"x", Overwrite::Allow);
        assert!(e.is_err());
    }

    #[test]
    fn a_directory_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("sub");
        std::fs::create_dir(&d).unwrap();
        for mode in [Overwrite::Allow, Overwrite::Refuse] {
            let e = write_atomic(&d, b"x", mode).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
            assert!(
                e.to_string().contains("a directory, not a regular file"),
                "{e}"
            );
        }
        assert!(d.is_dir());
    }
}
