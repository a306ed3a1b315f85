//! Splitting the `--command` line into the argument list a `process:` launch runs, the way a
//! POSIX shell splits words (quotes and backslashes), without running a shell: the target
//! file then shows each argument, and `{placeholders}` stay inside the argument they were
//! written in.

/// The words of `line`: blanks separate them; `'...'` keeps everything literally, `"..."`
/// keeps blanks and takes `\"`, `\\`, `\$` and `` \` `` as escapes; a backslash outside quotes
/// makes the next character literal.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word exists once any character (or an empty pair of quotes) has been seen.
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
                        None => return Err(format!("unclosed ' in {line:?}")),
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
                            None => return Err(format!("unclosed \" in {line:?}")),
                        },
                        Some(c) => word.push(c),
                        None => return Err(format!("unclosed \" in {line:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err(format!("a trailing backslash in {line:?}")),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        return Err("the command is empty".into());
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            split(r#"  python3 app.py --port {sp.port} 'a b' "c \"d\"" e\ f '' "#).unwrap(),
            vec![
                "python3",
                "app.py",
                "--port",
                "{sp.port}",
                "a b",
                "c \"d\"",
                "e f",
                ""
            ]
        );
        assert_eq!(split(r#""a\nb""#).unwrap(), vec!["a\\nb"]);
    }

    #[test]
    fn refuses_what_a_shell_would_refuse() {
        assert!(split("a 'b").unwrap_err().contains("unclosed '"));
        assert!(split("a \"b").unwrap_err().contains("unclosed \""));
        assert!(split("a \\").unwrap_err().contains("trailing backslash"));
        assert!(split("   ").unwrap_err().contains("empty"));
    }
}
