//! The host names an ssh_config offers, for the window's host picker: every
//! `Host` entry that names one host (patterns with `*`, `?` or `!` are
//! skipped: they match hosts, they don't name one). `Include` is followed
//! as ssh does (ssh_config(5): relative paths are under ~/.ssh for the
//! user's file; `*` and `?` in the last path component are expanded),
//! at most 8 levels deep. Only reading: ssh itself still resolves every
//! alias when it connects.

use std::path::{Path, PathBuf};

/// How deep `Include` is followed (ssh's own limit is 16).
const MAX_DEPTH: usize = 8;

/// The file ssh reads for `ssh` with `args` (its leading arguments from
/// PORTWISE_SSH_COMMAND): the one given with `-F`, else ~/.ssh/config.
pub fn config_file(args: &[String], home: Option<&Path>) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-F" {
            return it.next().map(|f| expand_home(f, home));
        }
        if let Some(f) = a.strip_prefix("-F") {
            return Some(expand_home(f, home));
        }
    }
    home.map(|h| h.join(".ssh").join("config"))
}

fn expand_home(p: &str, home: Option<&Path>) -> PathBuf {
    match (p.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(p),
    }
}

/// The named hosts of `file` and what it includes, sorted, without
/// duplicates. A missing or unreadable file gives none.
pub fn host_names(file: &Path, home: Option<&Path>) -> Vec<String> {
    let mut out = Vec::new();
    read(file, home, 0, &mut out);
    out.sort();
    out.dedup();
    out
}

fn read(file: &Path, home: Option<&Path>, depth: usize, out: &mut Vec<String>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(text) = std::fs::read_to_string(file) else {
        return;
    };
    for line in text.lines() {
        let Some((key, rest)) = keyword(line) else {
            continue;
        };
        if key.eq_ignore_ascii_case("host") {
            for name in words(rest) {
                if !name.contains(['*', '?', '!']) && !name.is_empty() && name.len() <= 255 {
                    out.push(name);
                }
            }
        } else if key.eq_ignore_ascii_case("include") {
            for pattern in words(rest) {
                for f in expand_include(&pattern, home) {
                    read(&f, home, depth + 1, out);
                }
            }
        }
    }
}

/// "Keyword args" or "Keyword=args", comments and blank lines skipped.
fn keyword(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line.find(|c: char| c.is_whitespace() || c == '=')?;
    let (key, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    Some((key, rest))
}

/// Arguments split as ssh splits them: on whitespace, "double quotes"
/// keeping spaces.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn expand_include(pattern: &str, home: Option<&Path>) -> Vec<PathBuf> {
    let p = expand_home(pattern, home);
    let p = if p.is_absolute() {
        p
    } else {
        match home {
            Some(h) => h.join(".ssh").join(p),
            None => return Vec::new(),
        }
    };
    let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
        return vec![p];
    };
    if !name.contains(['*', '?']) {
        return vec![p];
    }
    let Some(dir) = p.parent() else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| glob(name, n)))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// `*` and `?` matching, for one path component.
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut i, mut j) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    while i < p.len() && p[i] == '*' {
        i += 1;
    }
    i == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_hosts_patterns_skipped_includes_followed() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        std::fs::create_dir_all(home.join(".ssh/conf.d")).unwrap();
        std::fs::write(
            home.join(".ssh/config"),
            "# mine\nHost web-1 db \"two words\"\n  HostName 10.0.0.1\n\
             Host *.internal !bad\nhost=staging\nInclude conf.d/*.conf\n\
             Match host x\nHost ci-?\n",
        )
        .unwrap();
        std::fs::write(home.join(".ssh/conf.d/a.conf"), "Host from-include\n").unwrap();
        std::fs::write(home.join(".ssh/conf.d/skip.txt"), "Host not-me\n").unwrap();
        let file = config_file(&[], Some(home)).unwrap();
        assert_eq!(
            host_names(&file, Some(home)),
            ["db", "from-include", "staging", "two words", "web-1"]
        );
        // -F names the file, as for ssh.
        let args = vec!["-F".to_string(), "~/.ssh/conf.d/a.conf".to_string()];
        let f = config_file(&args, Some(home)).unwrap();
        assert_eq!(host_names(&f, Some(home)), ["from-include"]);
        assert!(host_names(Path::new("/nonexistent/portwise"), None).is_empty());
    }

    #[test]
    fn include_loops_end() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("loop");
        std::fs::write(&f, format!("Host a\nInclude {}\n", f.display())).unwrap();
        assert_eq!(host_names(&f, None), ["a"]);
    }

    #[test]
    fn globs() {
        assert!(glob("*.conf", "a.conf"));
        assert!(!glob("*.conf", "a.txt"));
        assert!(glob("h?st*", "host-1"));
        assert!(glob("*", ""));
    }
}
