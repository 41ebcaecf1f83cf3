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
