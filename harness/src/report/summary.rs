//! What a whole run came to (counts, speed), and the names a run and a trial get on disk.
use serde::Serialize;

use crate::trial::outcome::{TrialOutcome, Verdict};

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RunSummary {
    pub run_id: String,
    pub started_at: String,
    pub finished_at: String,
    pub targets: Vec<String>,
    pub scenarios: String,
    pub jobs: usize,
    pub trials: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    pub known_failures: usize,
    /// Targets accepting what a correct SP must refuse.
    pub findings: usize,
    /// Findings whose risk a target file accepted until a date (they do not fail the run).
    pub findings_accepted: usize,
    pub unexpected_passes: usize,
    pub wall_ms: u64,
    /// Trials run (not skipped) per second of wall time.
    pub trials_per_s: f64,
    /// Median time per trial not spent in steps (target, tenant, browser, evidence).
    pub median_overhead_ms: u64,
    pub median_trial_ms: u64,
}

fn median(mut v: Vec<u64>) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[v.len() / 2]
}

impl RunSummary {
    pub fn compute(
        run_id: &str,
        started_at: &str,
        targets: Vec<String>,
        scenarios: &str,
        jobs: usize,
        wall: std::time::Duration,
        outcomes: &[TrialOutcome],
    ) -> Self {
        let count = |v: Verdict| outcomes.iter().filter(|o| o.verdict == v).count();
        let ran: Vec<&TrialOutcome> = outcomes
            .iter()
            .filter(|o| o.verdict != Verdict::Skipped)
            .collect();
        let secs = wall.as_secs_f64().max(1e-9);
        Self {
            run_id: run_id.to_string(),
            started_at: started_at.to_string(),
            finished_at: now_rfc3339(),
            targets,
            scenarios: scenarios.to_string(),
            jobs,
            trials: outcomes.len(),
            passed: count(Verdict::Pass),
            failed: count(Verdict::Fail),
            errors: count(Verdict::Error),
            skipped: count(Verdict::Skipped),
            known_failures: count(Verdict::KnownFailure),
            findings: count(Verdict::Finding),
            findings_accepted: outcomes
                .iter()
                .filter(|o| o.verdict == Verdict::Finding && o.risk_accepted.is_some())
                .count(),
            unexpected_passes: count(Verdict::UnexpectedPass),
            wall_ms: u64::try_from(wall.as_millis()).unwrap_or(u64::MAX),
            trials_per_s: ran.len() as f64 / secs,
            median_overhead_ms: median(ran.iter().map(|o| o.overhead_ms).collect()),
            median_trial_ms: median(ran.iter().map(|o| o.duration_ms).collect()),
        }
    }

    pub fn has_failures(&self) -> bool {
        self.failed + self.errors + self.unexpected_passes + self.open_findings() > 0
    }

    /// Findings nobody accepted: they fail the run.
    pub fn open_findings(&self) -> usize {
        self.findings.saturating_sub(self.findings_accepted)
    }

    /// The summary line printed at the end of a run.
    pub fn line(&self) -> String {
        format!(
            "{}{} trials: {} passed, {} failed, {} errors, {} unexpected passes, {} known failures, {} findings, {} skipped in {:.1} s; {:.2} trials/s; median per-trial overhead {} ms (median trial {} ms)",
            if self.findings > 0 {
                format!(
                    "FINDINGS: {} ({} open, {} with an accepted risk). ",
                    self.findings,
                    self.open_findings(),
                    self.findings_accepted
                )
            } else {
                String::new()
            },
            self.trials,
            self.passed,
            self.failed,
            self.errors,
            self.unexpected_passes,
            self.known_failures,
            self.findings,
            self.skipped,
            self.wall_ms as f64 / 1000.0,
            self.trials_per_s,
            self.median_overhead_ms,
            self.median_trial_ms
        )
    }
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A file-name-safe form of a trial name.
pub fn slug(name: &str) -> String {
    name.replace("::", "__")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
