//! Export of the visible rows as CSV or JSON, in the shapes `portwise list
//! --csv` / `--json` print, written atomically.

use std::path::{Path, PathBuf};

use crate::sockets::json::{self, JsonHeader};
use crate::sockets::{Snapshot, SocketEntry, is_unattributed};
use crate::util::fs::{Overwrite, write_atomic};

/// Output format, chosen from the file name's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    /// ".json" means JSON; ".csv" or anything else means CSV.
    pub fn for_path(path: &Path) -> ExportFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => ExportFormat::Json,
            _ => ExportFormat::Csv,
        }
    }
}

/// The path to write: the one given, with ".csv" added when it has no
/// extension at all and nothing exists by that name.
pub fn normalise_path(path: PathBuf) -> PathBuf {
    // Something already there is written to (or refused) as named: a
    // directory or /dev/null must not become "outdir.csv" or
    // "/dev/null.csv" beside it.
    if path.extension().is_none() && std::fs::symlink_metadata(&path).is_err() {
        path.with_extension("csv")
    } else {
        path
    }
}

/// The CSV header and text: exactly `portwise list --csv`'s.
pub use crate::sockets::csv::{CSV_HEADER, to_csv};

/// JSON text: exactly `portwise list --json`'s document for these rows (the
/// unattributed count is among them, as the CLI counts it for a filter).
pub fn to_json<'a>(
    snap: &'a Snapshot,
    rows: impl IntoIterator<Item = &'a SocketEntry> + Clone,
) -> Result<String, String> {
    let unattributed = rows
        .clone()
        .into_iter()
        .filter(|s| is_unattributed(s))
        .count();
    let mut out = Vec::new();
    json::write_document(&mut out, &JsonHeader::for_rows(snap, unattributed), rows)
        .map_err(|e| format!("cannot encode JSON: {e}"))?;
    String::from_utf8(out).map_err(|e| format!("cannot encode JSON: {e}"))
}

/// Write `rows` to `path` atomically in the format its extension names.
/// Returns the number of rows written.
pub fn write<'a>(
    path: &Path,
    snap: &'a Snapshot,
    rows: &[&'a SocketEntry],
) -> Result<usize, String> {
    let text = match ExportFormat::for_path(path) {
        ExportFormat::Csv => to_csv(rows.iter().copied()),
        ExportFormat::Json => to_json(snap, rows.iter().copied())?,
    };
    write_atomic(path, text.as_bytes(), Overwrite::Allow)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(rows.len())
}

/// An export to run off the UI thread: the visible rows, copied.
#[derive(Clone, Debug)]
pub struct ExportJob {
    /// Where it goes (".csv" added when the name has no extension).
    pub path: PathBuf,
    /// The snapshot's header fields (no sockets).
    header: Snapshot,
    rows: Vec<SocketEntry>,
}

impl ExportJob {
    /// `rows` of `snap`, to be written to `path`.
    pub fn new(path: &Path, snap: &Snapshot, rows: Vec<SocketEntry>) -> ExportJob {
        ExportJob {
            path: normalise_path(path.to_path_buf()),
            header: super::with_sockets(snap, Vec::new()),
            rows,
        }
    }

    /// Write the file (atomically, with fsync): the number of rows, or a
    /// one-line reason.
    pub fn run(&self) -> Result<usize, String> {
        let rows: Vec<&SocketEntry> = self.rows.iter().collect();
        crate::window::sockets::export::write(&self.path, &self.header, &rows)
    }
}
