//! Where each step of a scenario sits in its file, so a failing step is reported as
//! `file:line:col`. serde gives locations only for errors, so the item lines of the step
//! lists are found with a small indentation scan of the same text (block style, as the
//! scenarios are written; a flow-style list `[...]` points every item at its key's line).
use std::collections::BTreeMap;
use std::path::Path;

use crate::input::location::Location;

/// The places of the items of `setup`, `steps`, `expect` and `per_target.<name>.expect`.
#[derive(Debug, Clone, Default)]
pub struct StepPlaces {
    pub setup: Vec<Location>,
    pub steps: Vec<Location>,
    pub expect: Vec<Location>,
    pub per_target_expect: BTreeMap<String, Vec<Location>>,
    /// `variants:` items: where each starts and where its `expect` items are.
    pub variants: Vec<VariantPlaces>,
}

#[derive(Debug, Clone)]
pub struct VariantPlaces {
    pub at: Location,
    pub expect: Vec<Location>,
}

impl StepPlaces {
    pub fn find(text: &str, file: &Path) -> Self {
        let lines: Vec<&str> = text.lines().collect();
        let all = 0..lines.len();
        let mut per_target_expect = BTreeMap::new();
        if let Some(pt) = find_key(&lines, all.clone(), "per_target") {
            for (name, body) in child_keys(&lines, pt) {
                if let Some(e) = find_key(&lines, body, "expect") {
                    per_target_expect.insert(name, items(&lines, e, file));
                }
            }
        }
        let list = |key: &str| {
            find_key(&lines, all.clone(), key)
                .map(|b| items(&lines, b, file))
                .unwrap_or_default()
        };
        let variants = find_key(&lines, all.clone(), "variants")
            .map(|b| variant_places(&lines, b, file))
            .unwrap_or_default();
        Self {
            setup: list("setup"),
            steps: list("steps"),
            expect: list("expect"),
            per_target_expect,
            variants,
        }
    }
}

/// A key's line and the range of lines of its value.
#[derive(Debug, Clone)]
struct Block {
    key_line: usize,
    key_col: usize,
    body: std::ops::Range<usize>,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn blank(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// The shallowest key named `key` in `range` (the range's own level).
fn find_key(lines: &[&str], range: std::ops::Range<usize>, key: &str) -> Option<Block> {
    let level = range
        .clone()
        .find(|&i| !blank(lines[i]))
        .map(|i| indent(lines[i]))?;
    let prefix = format!("{key}:");
    for i in range.clone() {
        let l = lines[i];
        if blank(l) || indent(l) != level {
            continue;
        }
        if l.trim_start().starts_with(&prefix) {
            return Some(Block {
                key_line: i,
                key_col: level,
                body: (i + 1)..block_end(lines, i, level, range.end),
            });
        }
    }
    None
}

/// The end of the value of a key at `level` on line `key_line`. A list may sit at the key's
/// own indentation (`steps:\n- open: x`), so `- ` lines at that level belong to it.
fn block_end(lines: &[&str], key_line: usize, level: usize, limit: usize) -> usize {
    for (i, l) in lines.iter().enumerate().take(limit).skip(key_line + 1) {
        if blank(l) {
            continue;
        }
        let n = indent(l);
        if n < level || (n == level && !l.trim_start().starts_with('-')) {
            return i;
        }
    }
    limit
}

/// The keys of a mapping block with the ranges of their values.
fn child_keys(lines: &[&str], b: Block) -> Vec<(String, std::ops::Range<usize>)> {
    let Some(level) = b
        .body
        .clone()
        .find(|&i| !blank(lines[i]))
        .map(|i| indent(lines[i]))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for i in b.body.clone() {
        let l = lines[i];
        if blank(l) || indent(l) != level {
            continue;
        }
        if let Some((name, _)) = l.trim().split_once(':') {
            let name = name
                .trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .to_string();
            out.push((name, (i + 1)..block_end(lines, i, level, b.body.end)));
        }
    }
    out
}

/// One location per list item; a single mapping (`expect: {text: x}` written as a block) or an
/// inline value counts as one item at its first line.
fn items(lines: &[&str], b: Block, file: &Path) -> Vec<Location> {
    let first = b.body.clone().find(|&i| !blank(lines[i]));
    let Some(first) = first else {
        return vec![Location::new(file, b.key_line + 1, b.key_col + 1)];
    };
    let level = indent(lines[first]);
    if !lines[first].trim_start().starts_with('-') {
        return vec![Location::new(file, first + 1, level + 1)];
    }
    b.body
        .filter(|&i| {
            let l = lines[i];
            !blank(l) && indent(l) == level && l.trim_start().starts_with('-')
        })
        .map(|i| Location::new(file, i + 1, level + 3))
        .collect()
}

/// Each `- name: ...` item of a `variants:` list, and the items of its own `expect:`. The
/// item's keys sit two columns right of its dash (`- name: x` then `  expect:`).
fn variant_places(lines: &[&str], b: Block, file: &Path) -> Vec<VariantPlaces> {
    let Some(first) = b.body.clone().find(|&i| !blank(lines[i])) else {
        return Vec::new();
    };
    let level = indent(lines[first]);
    let starts: Vec<usize> = b
        .body
        .clone()
        .filter(|&i| {
            let l = lines[i];
            !blank(l) && indent(l) == level && l.trim_start().starts_with('-')
        })
        .collect();
    let mut out = Vec::new();
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(b.body.end);
        let key_level = level + 2;
        let expect = (start..end)
            .find(|&i| {
                let l = lines[i];
                let key_here = if i == start {
                    l.trim_start().trim_start_matches('-').trim_start()
                } else if indent(l) == key_level {
                    l.trim_start()
                } else {
                    return false;
                };
                key_here.starts_with("expect:")
            })
            .map(|i| {
                let body = (i + 1)..block_end(lines, i, key_level, end);
                let blk = Block {
                    key_line: i,
                    key_col: key_level,
                    body,
                };
                items(lines, blk, file)
            })
            .unwrap_or_default();
        out.push(VariantPlaces {
            at: Location::new(file, start + 1, level + 3),
            expect,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
scenario: x
setup:
  - create_org: acme
  # a comment
  - verify_domain: acme.test
steps:
- open: \"{sp.login_url}\"
- click: '#go'
- repeat:
    times: 2
    steps:
      - click: a
expect:
  text: Welcome
per_target:
  mellon:
    expect:
      - rejected: true
      - log: nope
";

    #[test]
    fn finds_every_item_line() {
        let p = StepPlaces::find(TEXT, Path::new("s.yaml"));
        let lines = |v: &[Location]| v.iter().map(|l| l.line).collect::<Vec<_>>();
        assert_eq!(lines(&p.setup), vec![3, 5]);
        assert_eq!(lines(&p.steps), vec![7, 8, 9]);
        assert_eq!(lines(&p.expect), vec![14]);
        assert_eq!(lines(&p.per_target_expect["mellon"]), vec![18, 19]);
        assert_eq!(p.steps[0].to_string(), "s.yaml:7:3");
    }

    #[test]
    fn missing_lists_are_empty() {
        let p = StepPlaces::find("scenario: y\nsteps: [{open: a}]\n", Path::new("f"));
        assert!(p.setup.is_empty());
        assert_eq!(p.steps.len(), 1);
        assert_eq!(p.steps[0].line, 2);
    }
}
