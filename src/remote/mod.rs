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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_and_terminal_safe() {
        assert_eq!(shown("a\u{1b}[2Jb", 10), "a\\u{1b}[2Jb");
        assert_eq!(shown("abcdef", 3), "abc…");
        assert_eq!(terminal_safe("x\u{1b}]0;t\u{7}\ny\tz\r"), "x?]0;t?\ny\tz?");
    }
}
