//! The documented CSV form of a list of sockets (`portwise list --csv` and
//! the window's export).

use super::model::SocketEntry;

/// The header line (without its newline).
pub const CSV_HEADER: &str = "proto,family,local_addr,local_port,remote_addr,remote_port,state,pids,process,time_wait_expires_in_ms";

/// CSV text: the header, then one line per socket. Several pids or process
/// names are joined with ';'. Fields are quoted where needed (RFC 4180).
pub fn to_csv<'a>(rows: impl IntoIterator<Item = &'a SocketEntry>) -> String {
    let rows = rows.into_iter();
    let mut out = String::with_capacity(128 + rows.size_hint().0 * 100);
    out.push_str(CSV_HEADER);
    out.push('\n');
    for s in rows {
        let pids: Vec<String> = s.processes.iter().map(|p| p.pid.to_string()).collect();
        let names: Vec<&str> = s.processes.iter().map(|p| p.name.as_str()).collect();
        let fields = [
            s.proto.as_str().to_string(),
            s.family.as_str().to_string(),
            s.local_addr.to_string(),
            s.local_port.to_string(),
            s.remote_addr.map(|a| a.to_string()).unwrap_or_default(),
            s.remote_port.map(|p| p.to_string()).unwrap_or_default(),
            s.state
                .map(|st| st.as_str().to_string())
                .unwrap_or_default(),
            pids.join(";"),
            names.join(";"),
            s.time_wait_expires_in_ms
                .map(|ms| ms.to_string())
                .unwrap_or_default(),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_field(&mut out, f);
        }
        out.push('\n');
    }
    out
}

/// One field, quoted where needed (RFC 4180).
fn push_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}
