//! Atomic file writes: a reader sees the old file or the new one, never half.

use std::io::Write;
use std::path::Path;

/// How to treat an existing file at the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overwrite {
    /// Replace an existing file.
    Allow,
    /// Fail with `AlreadyExists` if the file exists.
    Refuse,
}

/// Write `bytes` to `path` atomically: into a temporary file in the same
/// directory, flushed to disk, then renamed over the destination. A new
/// file gets the mode a plain create would give; a replaced file keeps its
/// mode (see `platform::os::fs`).
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: Overwrite) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if overwrite == Overwrite::Refuse && path.exists() {
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
    crate::platform::os::fs::keep_mode(path, tmp.as_file())?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    match overwrite {
        Overwrite::Allow => tmp.persist(path).map(|_| ()).map_err(|e| e.error),
        Overwrite::Refuse => tmp.persist_noclobber(path).map(|_| ()).map_err(|e| e.error),
    }
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
}
