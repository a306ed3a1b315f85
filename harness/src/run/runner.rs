//! A whole run as the CLI and tests start it: plan, run trials in parallel, report.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::error::{HarnessError, Result};
use crate::report::{RunSummary, now_rfc3339, run_id_now, write_run};
use crate::run::harness::{Harness, HarnessOptions, IdpChoice, plan};
use crate::scenario::load::LoadedScenario;
use crate::target::descriptor::LoadedTarget;
use crate::trial::outcome::{TrialOutcome, Verdict};

pub struct RunRequest {
    pub targets: Vec<Arc<LoadedTarget>>,
    pub scenarios: Vec<Arc<LoadedScenario>>,
    /// Shown in reports (e.g. the scenarios directory).
    pub scenarios_label: String,
    pub filter: Option<String>,
    pub jobs: usize,
    pub webdriver_url: Option<String>,
    pub idp: IdpChoice,
    pub report_root: PathBuf,
    /// Print a line per finished trial on stderr.
    pub progress: bool,
}

pub struct RunResult {
    pub summary: RunSummary,
    pub outcomes: Vec<TrialOutcome>,
    pub report_dir: PathBuf,
}

impl RunResult {
    pub fn index_html(&self) -> PathBuf {
        self.report_dir.join("index.html")
    }
}

pub async fn execute(req: RunRequest) -> Result<RunResult> {
    let plans = plan(&req.targets, &req.scenarios, req.filter.as_deref());
    if plans.is_empty() {
        return Err(HarnessError::Target(format!(
            "no scenario found{} (scenarios: {})",
            req.filter
                .as_ref()
                .map(|f| format!(" matching {f:?}"))
                .unwrap_or_default(),
            req.scenarios_label
        )));
    }
    let started_at = now_rfc3339();
    let run_id = run_id_now();
    let t0 = Instant::now();
    let jobs = req.jobs.max(1);
    let harness = Arc::new(
        Harness::start(&HarnessOptions {
            jobs,
            webdriver_url: req.webdriver_url.clone(),
            idp: req.idp.clone(),
        })
        .await?,
    );
    let total = plans.len();
    let permits = Arc::new(tokio::sync::Semaphore::new(jobs));
    let mut set = tokio::task::JoinSet::new();
    for (i, p) in plans.into_iter().enumerate() {
        let harness = harness.clone();
        let permits = permits.clone();
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (i, harness.run_trial(&p).await)
        });
    }
    let mut outcomes: Vec<(usize, TrialOutcome)> = Vec::with_capacity(total);
    while let Some(joined) = set.join_next().await {
        let (i, o) = joined.map_err(|e| HarnessError::Report(format!("a trial task died: {e}")))?;
        if req.progress {
            eprintln!(
                "[{:>3}/{total}] {:<15} {} ({} ms){}",
                outcomes.len() + 1,
                o.verdict.label(),
                o.name,
                o.duration_ms,
                if o.verdict == Verdict::Skipped {
                    format!(": {}", o.message.clone().unwrap_or_default())
                } else {
                    String::new()
                }
            );
        }
        outcomes.push((i, o));
    }
    harness.shutdown().await;
    drop(harness);
    outcomes.sort_by_key(|(i, _)| *i);
    let mut outcomes: Vec<TrialOutcome> = outcomes.into_iter().map(|(_, o)| o).collect();
    let summary = RunSummary::compute(
        &run_id,
        &started_at,
        req.targets.iter().map(|t| t.target.name.clone()).collect(),
        &req.scenarios_label,
        jobs,
        t0.elapsed(),
        &outcomes,
    );
    let report_dir = write_run(&req.report_root, &summary, &mut outcomes)?;
    Ok(RunResult {
        summary,
        outcomes,
        report_dir,
    })
}
