//! Export of the visible rows as CSV or JSON, in the shapes `portwise list
//! --csv` / `--json` print, written atomically.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::sockets::{Snapshot, SocketEntry};
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
/// extension at all.
pub fn normalise_path(path: PathBuf) -> PathBuf {
    if path.extension().is_none() {
        path.with_extension("csv")
    } else {
        path
    }
}

/// The CSV header, the same as `portwise list --csv`.
pub const CSV_HEADER: &str = "proto,family,local_addr,local_port,remote_addr,remote_port,state,pids,process,time_wait_expires_in_ms";

/// CSV text: header, then one line per socket. Several pids or names are
/// joined with ';'. Fields are quoted where needed (RFC 4180).
pub fn to_csv<'a>(rows: impl IntoIterator<Item = &'a SocketEntry>) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str(CSV_HEADER);
    out.push('\n');
    for e in rows {
        let pids: Vec<String> = e.processes.iter().map(|p| p.pid.to_string()).collect();
        let names: Vec<&str> = e.processes.iter().map(|p| p.name.as_str()).collect();
        let fields = [
            e.proto.as_str().to_string(),
            e.family.as_str().to_string(),
            e.local_addr.to_string(),
            e.local_port.to_string(),
            e.remote_addr.map(|a| a.to_string()).unwrap_or_default(),
            e.remote_port.map(|p| p.to_string()).unwrap_or_default(),
            e.state.map(|s| s.as_str().to_string()).unwrap_or_default(),
            pids.join(";"),
            names.join(";"),
            e.time_wait_expires_in_ms
                .map(|t| t.to_string())
                .unwrap_or_default(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[derive(Serialize)]
struct JsonOut<'a> {
    taken_at_unix_ms: u64,
    unattributed: usize,
    unattributed_reason: Option<&'a str>,
    privileged: bool,
    sockets: Vec<&'a SocketEntry>,
}

/// JSON text: the snapshot's header fields and the given sockets.
pub fn to_json<'a>(
    snap: &'a Snapshot,
    rows: impl IntoIterator<Item = &'a SocketEntry>,
) -> Result<String, String> {
    let out = JsonOut {
        taken_at_unix_ms: snap.taken_at_unix_ms,
        unattributed: snap.unattributed,
        unattributed_reason: snap.unattributed_reason.as_deref(),
        privileged: snap.privileged,
        sockets: rows.into_iter().collect(),
    };
    serde_json::to_string_pretty(&out)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| format!("cannot encode JSON: {e}"))
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
