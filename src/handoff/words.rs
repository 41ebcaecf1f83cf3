//! Splitting a typed command line into words, for the window's "Run a
//! command" field: whitespace separates words; '...' keeps everything
//! literally; "..." keeps spaces, with \" \\ \$ \` as escapes; a backslash
//! outside quotes escapes the next character. No variables, globs or
//! pipes: the words go straight to the program (a shell is `sh -c '...'`).

/// The words of `line`, or why it cannot be split (an open quote, a
/// trailing backslash).
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("a ' quote is not closed".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("a \" quote is not closed".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("a \" quote is not closed".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(c) => {
                    in_word = true;
                    word.push(c);
                }
                None => return Err("the line ends with a lone backslash".into()),
            },
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            split("python3 -m http.server {port}  --bind 127.0.0.1").unwrap(),
            [
                "python3",
                "-m",
                "http.server",
                "{port}",
                "--bind",
                "127.0.0.1"
            ]
        );
        assert_eq!(
            split(r#"sh -c 'echo "$PORT"; exit 3' "a b" c\ d "" x"#).unwrap(),
            ["sh", "-c", "echo \"$PORT\"; exit 3", "a b", "c d", "", "x"]
        );
        assert_eq!(split(r#""q\"uote\n""#).unwrap(), ["q\"uote\\n"]);
        assert!(split("").unwrap().is_empty());
        assert!(split("echo 'open").unwrap_err().contains("not closed"));
        assert!(split("echo \"open").unwrap_err().contains("not closed"));
        assert!(split("echo \\").unwrap_err().contains("backslash"));
    }
}
