//! The documented CSV form of a list of sockets (`portwise list --csv` and
//! the window's export).

#[cfg(doc)]
use super::model::ProcessInfo;
use super::model::SocketEntry;

/// The header line (without its newline).
pub const CSV_HEADER: &str = "proto,family,local_addr,local_port,remote_addr,remote_port,state,pids,process,time_wait_expires_in_ms,command";

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
        // Each holder's command line ([`ProcessInfo::command_line`]), empty
        // where unknown, joined with ';' like the names.
        let commands: Vec<String> = s
            .processes
            .iter()
            .map(|p| p.command_line().unwrap_or_default())
            .collect();
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
            if commands.iter().all(String::is_empty) {
                String::new()
            } else {
                commands.join(";")
            },
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

/// The characters that make a spreadsheet read a cell as a formula when
/// the cell starts with one (OWASP, "CSV Injection":
/// owasp.org/www-community/attacks/CSV_Injection).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One field, quoted where needed (RFC 4180). A field that starts with a
/// formula character ([`FORMULA_START`]) is neutralised as OWASP advises: a
/// leading `'` makes spreadsheets show it as text, and the field is quoted.
/// Only process names and command lines can start so (portwise's own fields are numbers,
/// addresses, states or empty); a process named `=cmd|calc!A0` arrives as
/// `"'=cmd|calc!A0"`, one named `-bash` as `"'-bash"`. JSON keeps the
/// exact names.
fn push_field(out: &mut String, value: &str) {
    if value.starts_with(FORMULA_START) {
        out.push_str("\"'");
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sockets::model::{ProcessInfo, Proto, TcpState};

    fn named(names: &[&str]) -> SocketEntry {
        SocketEntry {
            processes: names
                .iter()
                .enumerate()
                .map(|(i, n)| ProcessInfo {
                    pid: 100 + i as u32,
                    name: n.to_string(),
                    user: None,
                    exe: None,
                    cmdline: None,
                })
                .collect(),
            ..SocketEntry::new(
                Proto::Tcp,
                "[::1]:8080".parse().unwrap(),
                None,
                Some(TcpState::Listen),
            )
        }
    }

    fn process_field(names: &[&str]) -> String {
        let text = to_csv([&named(names)]);
        let line = text.lines().nth(1).unwrap().to_string();
        // proto,family,local_addr,local_port,,,state,pids, then the name.
        let prefix = format!(
            "tcp,ipv6,::1,8080,,,LISTEN,{},",
            (0..names.len())
                .map(|i| (100 + i).to_string())
                .collect::<Vec<_>>()
                .join(";")
        );
        line.strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{line}"))
            .trim_end_matches(',')
            .to_string()
    }

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(process_field(&["=cmd|calc!A0"]), "\"'=cmd|calc!A0\"");
        assert_eq!(process_field(&["+1"]), "\"'+1\"");
        assert_eq!(process_field(&["-bash"]), "\"'-bash\"");
        assert_eq!(process_field(&["@SUM(A1)"]), "\"'@SUM(A1)\"");
        assert_eq!(process_field(&["\tx"]), "\"'\tx\"");
        assert_eq!(process_field(&["\rx"]), "\"'\rx\"");
        assert_eq!(process_field(&["=a\"b"]), "\"'=a\"\"b\"");
        // The first name decides what the cell starts with.
        assert_eq!(process_field(&["=x", "python3"]), "\"'=x;python3\"");
        // Ordinary names, and an IPv6 address starting with ':', unchanged.
        assert_eq!(process_field(&["python3"]), "python3");
        assert_eq!(process_field(&["python3", "=x"]), "python3;=x");
    }

    #[test]
    fn the_command_column_is_last_quoted_and_formula_safe() {
        let mut e = named(&["python3"]);
        e.processes[0].cmdline = Some(vec![
            "python3".into(),
            "-m".into(),
            "http.server".into(),
            "a,b".into(),
        ]);
        let text = to_csv([&e]);
        let line = text.lines().nth(1).unwrap();
        assert!(line.ends_with(",\"python3 -m http.server a,b\""), "{line}");
        e.processes[0].cmdline = Some(vec!["=cmd|calc!A0".into()]);
        let text = to_csv([&e]);
        assert!(text.lines().nth(1).unwrap().ends_with(",\"'=cmd|calc!A0\""));
        // Unknown: an empty cell.
        e.processes[0].cmdline = None;
        assert!(to_csv([&e]).lines().nth(1).unwrap().ends_with(",,"));
    }
}
