//! `sso-harness bench-report --from reports/<run>/results.json`: replays the trials of a real
//! run through a live report in a temporary directory, as a run of that many trials would
//! add them, and prints what adding a trial costs at the start and at the end of the run
//! (every millisecond here is a millisecond no trial runs).
use std::path::Path;
use std::time::{Duration, Instant};

use super::{LiveReport, RunHead, now_rfc3339};
use crate::error::{HarnessError, Result};
use crate::trial::outcome::TrialOutcome;

/// Secret values a real trial brings (user password, client secret, tenant key): the
/// replayed trials lost theirs (never serialised), so each gets this many unique ones.
const SECRETS_PER_TRIAL: usize = 3;

pub fn run(from: &Path, times: usize) -> Result<String> {
    let text = std::fs::read_to_string(from).map_err(|e| HarnessError::io(from, e))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| HarnessError::Report(format!("{}: not JSON: {e}", from.display())))?;
    let trials = v
        .get("trials")
        .and_then(|t| t.as_array())
        .ok_or_else(|| HarnessError::Report(format!("{}: no `trials` array", from.display())))?;
    let mut one_run = Vec::with_capacity(trials.len());
    for (i, t) in trials.iter().enumerate() {
        let o: TrialOutcome = serde_json::from_value(t.clone())
            .map_err(|e| HarnessError::Report(format!("{}: trials[{i}]: {e}", from.display())))?;
        one_run.push(o);
    }
    if one_run.is_empty() {
        return Err(HarnessError::Report(format!(
            "{}: the run has no trials",
            from.display()
        )));
    }
    let all: Vec<TrialOutcome> = (0..times.max(1))
        .flat_map(|_| one_run.iter().cloned())
        .enumerate()
        .map(|(i, mut o)| {
            o.secrets = (0..SECRETS_PER_TRIAL)
                .map(|k| format!("bench-secret-{i}-{k}-0123456789"))
                .collect();
            o
        })
        .collect();
    let dir = tempfile::tempdir().map_err(|e| HarnessError::Report(format!("tempdir: {e}")))?;
    let head = RunHead {
        run_id: "bench".into(),
        started_at: now_rfc3339(),
        targets: vec!["bench".into()],
        scenarios: from.display().to_string(),
        jobs: 2,
        planned: all.len(),
    };
    let mut report = LiveReport::create(dir.path(), head)?;
    let n = all.len();
    let mut costs = Vec::with_capacity(n);
    for (i, o) in all.into_iter().enumerate() {
        let t = Instant::now();
        report.add(i, o)?;
        costs.push(t.elapsed());
    }
    let t = Instant::now();
    report.finish(Duration::from_secs(1))?;
    let finish = t.elapsed();
    let tenth = (n / 10).max(1);
    let avg = |c: &[Duration]| c.iter().sum::<Duration>().as_secs_f64() * 1e3 / c.len() as f64;
    let size = std::fs::metadata(report.dir().join("results.json"))
        .map(|m| m.len())
        .unwrap_or(0);
    Ok(format!(
        "{n} trials ({} from {}{}): adding a trial {:.1} ms in the first tenth, {:.1} ms in the last tenth; all adds {:.2} s; finish {:.2} s; results.json {:.1} MB",
        one_run.len(),
        from.display(),
        if times > 1 {
            format!(" x{times}")
        } else {
            String::new()
        },
        avg(&costs[..tenth]),
        avg(&costs[n - tenth..]),
        costs.iter().sum::<Duration>().as_secs_f64(),
        finish.as_secs_f64(),
        size as f64 / 1e6,
    ))
}
