//! Other machines, through the user's own OpenSSH.
//!
//! `portwise agent` ([`agent`]) runs on the remote machine and answers
//! newline-delimited JSON requests ([`protocol`]) on stdin/stdout. The local
//! side ([`client`]) starts `ssh [options] DEST <fixed command>`, so ssh's
//! config, agent, ProxyJump and known_hosts apply unchanged; portwise adds
//! no daemon, port or protocol of its own on the network.

pub mod agent;
pub mod client;
pub mod fleet;
pub mod install;
pub mod protocol;
pub mod ssh_config;

/// `s` made safe to show on one line: control characters escaped, cut to
/// `max` characters with an ellipsis.
pub fn shown(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Text printed by a remote machine, made safe for a terminal: control
/// characters other than newline and tab become '?', so a remote cannot
/// move the cursor, retitle the terminal or hide lines.
pub fn terminal_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// A remote command's text output with its suggested commands pointed at
/// that machine: a line that is a command (`portwise …` or `sudo portwise
/// …`, as bind-test prints its fixes) gets ` --host HOST`, so a fix copied
/// from it acts there (`portwise stop --pid N` would stop a local pid N).
/// Other lines are kept as they are.
pub fn commands_for_host(text: &str, host: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let command = body.trim_start();
        let args = command
            .strip_prefix("sudo ")
            .unwrap_or(command)
            .strip_prefix("portwise ");
        // Only the commands that take --host.
        let takes_host = args.is_some_and(|a| {
            [
                "list ",
                "free",
                "bind-test ",
                "stop ",
                "tuning show",
                "tuning audit ",
            ]
            .iter()
            .any(|c| a.starts_with(c))
        });
        if takes_host && !command.contains(" --host ") {
            out.push_str(body.trim_end());
            out.push_str(" --host ");
            out.push_str(host);
        } else {
            out.push_str(body);
        }
        out.push_str(end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_commands_point_at_the_host() {
        let text = "fails: tcp 0.0.0.0:8080: EADDRINUSE\n\nfixes:\n  - Stop python3\n      \
                    portwise stop --pid 42\n      sudo portwise bind-test 8080\n  - Say \
                    portwise here\n";
        assert_eq!(
            commands_for_host(text, "box"),
            "fails: tcp 0.0.0.0:8080: EADDRINUSE\n\nfixes:\n  - Stop python3\n      \
             portwise stop --pid 42 --host box\n      sudo portwise bind-test 8080 --host box\n  \
             - Say portwise here\n"
        );
        assert_eq!(
            commands_for_host("  portwise list --host box", "box"),
            "  portwise list --host box"
        );
        // Commands without --host, and other programs, are left alone.
        assert_eq!(
            commands_for_host(
                "  portwise tuning export --goal x\n  sudo systemctl stop a\n",
                "box"
            ),
            "  portwise tuning export --goal x\n  sudo systemctl stop a\n"
        );
    }

    #[test]
    fn shown_and_terminal_safe() {
        assert_eq!(shown("a\u{1b}[2Jb", 10), "a\\u{1b}[2Jb");
        assert_eq!(shown("abcdef", 3), "abc…");
        assert_eq!(terminal_safe("x\u{1b}]0;t\u{7}\ny\tz\r"), "x?]0;t?\ny\tz?");
    }
}
