//! A whole run as the CLI and tests start it: plan, run trials in parallel, report.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::error::{HarnessError, Result};
use crate::report::{LiveReport, RunHead, RunSummary, now_rfc3339};
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
    /// A person at the terminal may be asked to do manual steps of staging targets.
    pub interactive: bool,
    /// Only this part of the trials (`--shard K/N`), balanced by `durations` when given.
    pub shard: Option<crate::run::shard::Shard>,
    pub durations: Option<std::collections::BTreeMap<String, u64>>,
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

/// Counts for the live status line.
#[derive(Default)]
struct LiveStatus {
    counts: std::collections::BTreeMap<Verdict, usize>,
}

impl LiveStatus {
    /// `[ 12/42] 10 pass, 1 FAIL, 1 FINDING | 14 s elapsed, ~35 s left`
    fn line(&self, done: usize, total: usize, elapsed: std::time::Duration) -> String {
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|(v, n)| format!("{n} {}", v.label()))
            .collect();
        let left = if done == 0 {
            String::new()
        } else {
            let per = elapsed.as_secs_f64() / done as f64;
            format!(", ~{:.0} s left", per * (total - done) as f64)
        };
        format!(
            "[{done:>3}/{total}] {} | {:.0} s elapsed{left}",
            counts.join(", "),
            elapsed.as_secs_f64()
        )
    }
}

pub async fn execute(req: RunRequest) -> Result<RunResult> {
    let mut plans = plan(&req.targets, &req.scenarios, req.filter.as_deref());
    for p in &mut plans {
        p.interactive = req.interactive;
    }
    if let Some(shard) = req.shard {
        plans = crate::run::shard::select(plans, |p| p.name(), shard, req.durations.as_ref());
    }
    // A staging target has one pinned tenant and one organisation: its trials run one at a
    // time, on the mock IdP the SP was configured with.
    let staging = req.targets.iter().find_map(|t| {
        t.target
            .staging
            .as_ref()
            .map(|st| (st.clone(), st.state_dir(&t.path)))
    });
    let mut req = req;
    if let Some((st, state_dir)) = &staging {
        if req.jobs > 1 {
            eprintln!(
                "note: staging target: trials run one at a time (one pinned tenant, one organisation)"
            );
        }
        req.jobs = 1;
        if matches!(req.idp, IdpChoice::Embedded) {
            req.idp = IdpChoice::Staging {
                url: st.idp_url(),
                state_dir: state_dir.clone(),
                dns: st.idp.dns,
            };
        }
    }
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
    let t0 = Instant::now();
    let jobs = req.jobs.max(1);
    let total = plans.len();
    // Before anything starts: a report directory that cannot be written ends the run now.
    let report = LiveReport::create(
        &req.report_root,
        RunHead {
            run_id: crate::children::registry::run().id().to_string(),
            started_at,
            targets: req.targets.iter().map(|t| t.target.name.clone()).collect(),
            scenarios: match req.shard {
                Some(s) => format!("{} (shard {s})", req.scenarios_label),
                None => req.scenarios_label.clone(),
            },
            jobs,
            planned: total,
        },
    )?;
    let report = Arc::new(std::sync::Mutex::new(report));
    // Interrupted (SIGINT, SIGTERM, SIGHUP): the report says so and keeps every finished trial.
    let on_stop = crate::children::registry::run().on_stop({
        let report = report.clone();
        move |signal| {
            if let Ok(mut r) = report.lock() {
                match r.interrupted(signal.name()) {
                    Ok(()) => eprintln!(
                        "report (incomplete, interrupted by {}): {}",
                        signal.name(),
                        r.index_html().display()
                    ),
                    Err(e) => eprintln!("report: {e}"),
                }
            }
        }
    });
    let harness = Arc::new(
        Harness::start(&HarnessOptions {
            jobs,
            webdriver_url: req.webdriver_url.clone(),
            idp: req.idp.clone(),
        })
        .await?,
    );
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
    let mut finished = 0;
    // The live status line: only on a terminal outside CI (CI logs get plain lines).
    let mut live = (req.progress
        && std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("CI").is_none())
    .then(LiveStatus::default);
    while let Some(joined) = set.join_next().await {
        let (i, o) = joined.map_err(|e| HarnessError::Report(format!("a trial task died: {e}")))?;
        finished += 1;
        // In the report before it is announced: a run killed after printing a trial's line
        // has that trial in its report.
        let line = format!(
            "[{finished:>3}/{total}] {:<15} {} ({} ms){}",
            o.verdict.label(),
            o.name,
            o.duration_ms,
            if o.verdict == Verdict::Skipped {
                format!(": {}", o.message.clone().unwrap_or_default())
            } else {
                String::new()
            }
        );
        let o_verdict = o.verdict;
        report
            .lock()
            .map_err(|_| HarnessError::Report("report lock poisoned".into()))?
            .add(i, o)?;
        if req.progress {
            match &mut live {
                // A terminal: the trial's line, then one status line rewritten in place.
                Some(status) => {
                    *status.counts.entry(o_verdict).or_default() += 1;
                    eprint!(
                        "\r\x1b[2K{line}\n{}",
                        status.line(finished, total, t0.elapsed())
                    );
                }
                None => eprintln!("{line}"),
            }
        }
    }
    if live.is_some() {
        eprintln!();
    }
    harness.shutdown().await;
    drop(harness);
    let mut r = report
        .lock()
        .map_err(|_| HarnessError::Report("report lock poisoned".into()))?;
    let (summary, outcomes) = r.finish(t0.elapsed())?;
    on_stop.remove();
    Ok(RunResult {
        summary,
        outcomes,
        report_dir: r.dir().to_path_buf(),
    })
}
