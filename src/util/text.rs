//! Text from the system (process names, users, command lines, file lines)
//! made safe to print on a terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

/// True for the characters a terminal may act on instead of showing: C0
/// (U+0000-U+001F, including ESC, BEL, CR and LF), DEL (U+007F) and C1
/// (U+0080-U+009F, which some terminals take as CSI, OSC... too).
pub fn is_control(c: char) -> bool {
    c.is_control()
}

/// `s` with every control character ([`is_control`]) written as a visible
/// escape: ESC as `\x1b`, a newline as `\x0a`, U+009B as `\x9b`. Everything
/// else, backslashes included, is unchanged, so ordinary names (and Windows
/// paths) read as they are. Borrowed when there is nothing to escape (the
/// common case costs one scan). Escaping an escaped text changes nothing.
///
/// Every text field the command line prints for a human goes through this;
/// JSON output keeps the exact string (JSON escapes it itself), CSV keeps it
/// too (see `sockets::csv`).
pub fn escape_control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_control(c) {
            // Every control character is below U+0100: two hex digits.
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Like [`escape_control`], but keeps line feeds: for a message made of
/// lines portwise wrote itself, whose embedded values are escaped already.
pub fn escape_control_keep_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_control(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for line in s.split_inclusive('\n') {
        match line.strip_suffix('\n') {
            Some(body) => {
                out.push_str(&escape_control(body));
                out.push('\n');
            }
            None => out.push_str(&escape_control(line)),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c0_c1_and_del_are_escaped_and_the_rest_is_not() {
        let hostile = "a\x1b]0;pwned\x07\x1b[2J\nb\r\u{7f}\u{9b}31m\u{85}";
        assert_eq!(
            escape_control(hostile),
            "a\\x1b]0;pwned\\x07\\x1b[2J\\x0ab\\x0d\\x7f\\x9b31m\\x85"
        );
        for plain in ["python3", "C:\\Windows\\System32", "naïve 名前 🚀", ""] {
            assert!(matches!(escape_control(plain), Cow::Borrowed(_)), "{plain}");
        }
        // Idempotent: the escaped text holds no control character.
        let once = escape_control(hostile).into_owned();
        assert_eq!(escape_control(&once), once);
        // U+00A0 (no-break space) is not C1.
        assert_eq!(escape_control("a\u{a0}b"), "a\u{a0}b");
    }

    #[test]
    fn lines_can_be_kept() {
        assert_eq!(
            escape_control_keep_lines("one \x1b[2J\ntwo\x07\n"),
            "one \\x1b[2J\ntwo\\x07\n"
        );
        assert!(matches!(
            escape_control_keep_lines("a\nb\n"),
            Cow::Borrowed(_)
        ));
    }
}
