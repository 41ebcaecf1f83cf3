//! File modes for atomic writes on Unix (Linux and macOS share this file).
//!
//! `tempfile` creates its files with mode 0600, and renaming it over a file
//! replaces that file's mode too. An atomic write should instead behave like
//! an ordinary `open(O_CREAT, 0666)`: a new file gets `0666 & !umask`
//! (open(2): "the mode of the created file is (mode & ~umask)"), and a
//! replaced file keeps the mode it had.

use std::fs::{File, Permissions};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Permissions to request when creating the temporary file: 0666, which the
/// kernel narrows by the process umask exactly as for a plain new file.
pub fn new_file_permissions() -> Option<Permissions> {
    Some(Permissions::from_mode(0o666))
}

/// Before the temporary file replaces `dest`, give it `dest`'s permission
/// bits (when `dest` exists), so replacing a 0640 file leaves a 0640 file.
/// Set-id and sticky bits are not carried over: the new file has a new
/// owner (us), and a setuid file of ours is not what a config write means.
pub fn keep_mode(dest: &Path, tmp: &File) -> std::io::Result<()> {
    match std::fs::metadata(dest) {
        Ok(meta) => tmp.set_permissions(Permissions::from_mode(meta.permissions().mode() & 0o777)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use crate::util::fs::{Overwrite, write_atomic};
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &std::path::Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn new_file_gets_the_same_mode_as_file_create() {
        let dir = tempfile::tempdir().unwrap();
        // The umask is read without changing it (other test threads share
        // it): a file made by File::create gets 0666 & !umask.
        let probe = dir.path().join("probe");
        std::fs::File::create(&probe).unwrap();
        let expected = mode(&probe);
        let p = dir.path().join("new.conf");
        write_atomic(&p, b"x", Overwrite::Refuse).unwrap();
        // With the usual umask 022 both are 0644 (tempfile alone gives 0600).
        assert_eq!(mode(&p), expected);
    }

    #[test]
    fn replaced_file_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("old.conf");
        std::fs::write(&p, b"old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"new", Overwrite::Allow).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(mode(&p), 0o640);
    }
}
