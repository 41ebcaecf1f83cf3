//! File modes for atomic writes: Windows has no Unix mode bits or umask; a
//! new file inherits its directory's ACL, so there is nothing to adjust.

use std::fs::{File, Permissions};
use std::path::Path;

/// No special permissions: the default ACL inheritance applies.
pub fn new_file_permissions() -> Option<Permissions> {
    None
}

/// Nothing to carry over (ACLs are inherited from the directory).
pub fn keep_mode(_dest: &Path, _tmp: &File) -> std::io::Result<()> {
    Ok(())
}

/// What a destination that is not a regular file is, in words.
pub fn kind_of_non_regular(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Nothing to do: Windows cannot open a directory for flushing without
/// backup semantics, and `tempfile` replaces the file with
/// `MoveFileExW(MOVEFILE_REPLACE_EXISTING)`, whose metadata change NTFS
/// journals itself.
pub fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
