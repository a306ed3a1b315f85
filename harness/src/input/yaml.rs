//! Typed YAML with `file:line:col` errors and did-you-mean suggestions, for every file format
//! the harness reads (scenarios, targets, IdP descriptors).
use std::path::Path;

use crate::input::location::{Located, Location};
use crate::input::suggest::did_you_mean;

/// Typed YAML with located, readable errors (used for targets too).
pub fn parse_yaml<T: serde::de::DeserializeOwned>(text: &str, file: &Path) -> Result<T, Located> {
    serde_yaml_ng::from_str(text).map_err(|e| locate(&e, file))
}

fn locate(err: &serde_yaml_ng::Error, file: &Path) -> Located {
    let location = err
        .location()
        .map(|l| Location::new(file, l.line(), l.column()))
        .unwrap_or_else(|| Location::start_of(file));
    let mut message = err.to_string();
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    Located {
        location,
        message: explain(&message),
    }
}

/// Rewrites serde's "unknown field/variant" messages into a suggestion.
fn explain(message: &str) -> String {
    let (path, body) = match message.split_once(": unknown ") {
        Some((p, rest)) if !p.contains(' ') => (Some(p), format!("unknown {rest}")),
        _ => (None, message.to_string()),
    };
    let kind = if body.starts_with("unknown field") {
        "key"
    } else if body.starts_with("unknown variant") {
        if path.is_some_and(|p| {
            let last = p.rsplit('.').next().unwrap_or(p);
            last.starts_with("steps[") || last.starts_with("setup[")
        }) {
            "step"
        } else {
            "value"
        }
    } else {
        return message.to_string();
    };
    let ticks: Vec<&str> = body.split('`').skip(1).step_by(2).collect();
    let Some((word, candidates)) = ticks.split_first() else {
        return message.to_string();
    };
    let prefix = path.map(|p| format!("{p}: ")).unwrap_or_default();
    let mut out = format!("{prefix}unknown {kind} '{word}'");
    match did_you_mean(word, candidates.iter().copied()) {
        Some(s) => out.push_str(&format!(" (did you mean '{s}'?)")),
        None if candidates.is_empty() => out.push_str(" (no keys are allowed here)"),
        None => out.push_str(&format!(
            " (expected one of: {})",
            candidates
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
    out
}
