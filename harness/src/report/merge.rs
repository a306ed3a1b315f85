//! `sso-harness merge-reports`: the reports of several runs (the shards of one CI matrix)
//! joined into one report, as if one run had made every trial: results.json, junit.xml,
//! findings.sarif, index.html, support bundles and screenshots.
use std::path::{Path, PathBuf};

use crate::error::{HarnessError, Result};
use crate::report::{RunHead, RunSummary, now_rfc3339, write_run};
use crate::trial::outcome::TrialOutcome;

/// One shard's report as its results.json has it.
struct Part {
    dir: PathBuf,
    outcomes: Vec<TrialOutcome>,
    targets: Vec<String>,
    scenarios: String,
    wall_ms: u64,
    jobs: usize,
}

fn read_part(dir: &Path) -> Result<Part> {
    let path = dir.join("results.json");
    let bad = |m: String| HarnessError::Report(format!("{}: {m}", path.display()));
    let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if v["complete"] != serde_json::Value::Bool(true) {
        return Err(bad(
            "the run did not finish (\"complete\": false): merging it would hide the trials it never ran"
                .into(),
        ));
    }
    let outcomes: Vec<TrialOutcome> =
        serde_json::from_value(v["trials"].clone()).map_err(|e| bad(format!("trials: {e}")))?;
    let summary: RunSummary =
        serde_json::from_value(v["summary"].clone()).map_err(|e| bad(format!("summary: {e}")))?;
    Ok(Part {
        dir: dir.to_path_buf(),
        outcomes,
        targets: summary.targets,
        scenarios: summary.scenarios,
        wall_ms: summary.wall_ms,
        jobs: summary.jobs,
    })
}

/// Merges the run directories into a new report under `root`; returns its directory and
/// summary. The same trial in two parts is an error: shards never overlap.
pub fn merge(dirs: &[PathBuf], root: &Path) -> Result<(PathBuf, RunSummary)> {
    let mut parts = Vec::new();
    for d in dirs {
        parts.push(read_part(d)?);
    }
    let mut seen = std::collections::BTreeMap::new();
    let mut outcomes = Vec::new();
    let mut targets: Vec<String> = Vec::new();
    for p in &mut parts {
        for mut o in std::mem::take(&mut p.outcomes) {
            if let Some(other) = seen.insert(o.name.clone(), p.dir.clone()) {
                return Err(HarnessError::Report(format!(
                    "trial {} is in both {} and {}: these are not shards of one run",
                    o.name,
                    other.display(),
                    p.dir.display()
                )));
            }
            // The screenshots come along: the new report writes them again from the bytes.
            for s in &mut o.screenshots {
                if let Some(rel) = &s.file {
                    s.png = std::fs::read(p.dir.join(rel)).unwrap_or_default();
                }
            }
            outcomes.push(o);
        }
        for t in &p.targets {
            if !targets.contains(t) {
                targets.push(t.clone());
            }
        }
    }
    // Shards run side by side: the merged run took as long as the longest one.
    let wall = parts.iter().map(|p| p.wall_ms).max().unwrap_or(0);
    let scenarios = parts
        .first()
        .map(|p| {
            p.scenarios
                .split(" (shard")
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default();
    let head = RunHead {
        run_id: format!("merged-{}", crate::children::registry::run().id()),
        started_at: now_rfc3339(),
        targets,
        scenarios: format!("{scenarios} (merged from {} reports)", parts.len()),
        jobs: parts.iter().map(|p| p.jobs).sum(),
        planned: outcomes.len(),
    };
    write_run(root, head, outcomes, std::time::Duration::from_millis(wall))
}
