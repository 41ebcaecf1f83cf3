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

/// What a destination that is not a regular file is, in words: "a
/// character device", "a FIFO"... (`util::fs` refuses to replace it).
pub fn kind_of_non_regular(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Flush a directory after a rename in it, so the new name survives a crash:
/// rename(2) changes the directory, and only an fsync of the directory makes
/// that durable (fsync(2): "Calling fsync() does not necessarily ensure that
/// the entry in the directory containing the file has also reached disk. For
/// that an explicit fsync() on a file descriptor for the directory is also
/// needed.").
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
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

    /// A FIFO, a socket and (as root) a character device: refused with or
    /// without `Allow`, and left as they were.
    #[test]
    fn special_files_are_never_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let sock = dir.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let mut cases = vec![(fifo.clone(), "a FIFO"), (sock.clone(), "a socket")];
        let dev = dir.path().join("null");
        let c = std::ffi::CString::new(dev.as_os_str().as_encoded_bytes()).unwrap();
        // Like /dev/null (1,3), but a node of our own, so a bug cannot
        // damage the real one.
        if unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) } == 0 {
            cases.push((dev.clone(), "a character device"));
        } else {
            eprintln!("SKIPPED: character device case (mknod needs root)");
        }
        // A link to a FIFO is refused too, naming the target.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        cases.push((link.clone(), "a FIFO"));
        for (p, what) in &cases {
            for mode in [Overwrite::Allow, Overwrite::Refuse] {
                let e = write_atomic(p, b"x", mode).unwrap_err();
                let text = e.to_string();
                assert!(
                    text.contains(&format!("is {what}")) && text.contains("not a regular file"),
                    "{}: {text}",
                    p.display()
                );
            }
        }
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo()
        );
        assert!(
            std::fs::symlink_metadata(&sock)
                .unwrap()
                .file_type()
                .is_socket()
        );
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        if cases.len() == 4 {
            assert!(
                std::fs::symlink_metadata(&dev)
                    .unwrap()
                    .file_type()
                    .is_char_device()
            );
        }
    }

    /// A link is written through: the target gets the bytes (and keeps its
    /// mode), the link stays a link; a dangling link is refused.
    #[test]
    fn symlinks_are_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let real_dir = dir.path().join("real");
        std::fs::create_dir(&real_dir).unwrap();
        let target = real_dir.join("target.conf");
        std::fs::write(&target, b"old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.conf");
        std::os::unix::fs::symlink("real/target.conf", &link).unwrap();
        let e = write_atomic(&link, b"new", Overwrite::Refuse).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        write_atomic(&link, b"new", Overwrite::Allow).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(mode(&target), 0o640);
        // Nothing else appeared beside the link or the target.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        assert_eq!(std::fs::read_dir(&real_dir).unwrap().count(), 1);

        let dangling = dir.path().join("dangling.conf");
        std::os::unix::fs::symlink("missing/x.conf", &dangling).unwrap();
        for m in [Overwrite::Allow, Overwrite::Refuse] {
            let e = write_atomic(&dangling, b"x", m).unwrap_err();
            assert!(e.to_string().contains("missing/x.conf"), "{e}");
        }
        assert!(!dir.path().join("missing").exists());
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
