//! targets/PLACEHOLDERS.md is the table in harness/src/input/placeholders.rs, and that table
//! names every placeholder the harness's code sets (a new one cannot go undocumented).
//! `UPDATE_COVERAGE=1` rewrites the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::{Path, PathBuf};

use harness::input::placeholders::{PLACEHOLDERS, markdown};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// String literals of the code that look like placeholder names.
fn names_in_code(dir: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            names_in_code(&p, out);
            continue;
        }
        if p.extension().and_then(|x| x.to_str()) != Some("rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for (i, line) in text.lines().enumerate() {
            for part in line.split('"').skip(1).step_by(2) {
                let family = part.split('.').next().unwrap_or_default();
                // `"sp."` alone is a prefix the code matches on, not a placeholder.
                let shape = part.contains('.')
                    && !part.ends_with('.')
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._".contains(c))
                    && [
                        "sp", "idp", "user", "org", "domain", "canary", "trial", "target",
                        "attacker", "main", "held",
                    ]
                    .contains(&family);
                if shape {
                    out.push((part.to_string(), format!("{}:{}", p.display(), i + 1)));
                }
            }
        }
    }
}

#[test]
fn every_placeholder_the_code_sets_is_documented() {
    let mut found = Vec::new();
    names_in_code(&repo().join("harness/src"), &mut found);
    // File names and descriptor keys that merely look like placeholders.
    let not_placeholders = ["sp.sqlite"];
    let missing: Vec<String> = found
        .iter()
        .filter(|(n, _)| !not_placeholders.contains(&n.as_str()))
        .filter(|(n, _)| !PLACEHOLDERS.iter().any(|(p, ..)| p == n))
        .map(|(n, at)| format!("{n} (set at {at})"))
        .collect();
    assert!(
        missing.is_empty(),
        "placeholders missing from harness/src/input/placeholders.rs:\n{}",
        missing.join("\n")
    );
    // And the table names nothing the code never sets.
    let stale: Vec<&str> = PLACEHOLDERS
        .iter()
        .map(|(n, ..)| *n)
        .filter(|n| !found.iter().any(|(f, _)| f == n))
        .collect();
    assert!(stale.is_empty(), "documented but never set: {stale:?}");
}

#[test]
fn placeholders_md_is_generated_from_the_table() {
    let path = repo().join("targets/PLACEHOLDERS.md");
    let want = markdown();
    if std::env::var_os("UPDATE_COVERAGE").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date: run UPDATE_COVERAGE=1 cargo test -p harness --test placeholders",
        path.display()
    );
}
