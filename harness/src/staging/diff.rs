//! `sso-harness diff`: the same scenarios on the reference SP (the executable model of the
//! documented product) and on a staging target, and where staging behaves differently, per
//! catalogue behaviour ID. The comparison itself is `report::diff`; this runs both sides and
//! writes the result next to the staging run's report.
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::report::diff::{BehaviourDiff, compare};
use crate::run::harness::IdpChoice;
use crate::run::runner::{RunRequest, RunResult, execute};
use crate::scenario::load::LoadedScenario;
use crate::target::descriptor::LoadedTarget;

pub struct DiffRequest {
    pub reference: LoadedTarget,
    pub staging: LoadedTarget,
    pub scenarios: Vec<Arc<LoadedScenario>>,
    pub scenarios_label: String,
    pub filter: Option<String>,
    pub jobs: usize,
    pub webdriver_url: Option<String>,
    pub report_root: PathBuf,
    pub progress: bool,
}

/// What `diff` found, and where its files are (`diff.json`, `diff.html`, `diff.md` in the
/// staging run's report directory).
pub struct DiffResult {
    pub diff: BehaviourDiff,
    pub reference: RunResult,
    pub staging: RunResult,
    pub files: PathBuf,
}

async fn side(req: &DiffRequest, target: &LoadedTarget, jobs: usize) -> crate::Result<RunResult> {
    execute(RunRequest {
        targets: vec![Arc::new(target.clone())],
        scenarios: req.scenarios.clone(),
        scenarios_label: req.scenarios_label.clone(),
        filter: req.filter.clone(),
        jobs,
        webdriver_url: req.webdriver_url.clone(),
        idp: IdpChoice::Embedded,
        report_root: req.report_root.clone(),
        progress: req.progress,
        interactive: false,
        shard: None,
        durations: None,
    })
    .await
}

/// Runs the reference side (in parallel, fresh SPs) then the staging side (one at a time),
/// compares them and writes the diff files.
pub async fn run(req: DiffRequest) -> crate::Result<DiffResult> {
    let reference = side(&req, &req.reference, req.jobs).await?;
    let staging = side(&req, &req.staging, 1).await?;
    let diff = compare(&reference.outcomes, &staging.outcomes);
    let files = staging.report_dir.clone();
    write(&files, &diff)?;
    Ok(DiffResult {
        diff,
        reference,
        staging,
        files,
    })
}

fn write(dir: &Path, diff: &BehaviourDiff) -> crate::Result<()> {
    let fail = |e: std::io::Error| crate::HarnessError::Report(format!("{}: {e}", dir.display()));
    let json = serde_json::to_string_pretty(diff)
        .map_err(|e| crate::HarnessError::Report(format!("diff.json: {e}")))?;
    std::fs::write(dir.join("diff.json"), json).map_err(fail)?;
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Behaviour diff</title></head><body>{}</body></html>",
        diff.html()
    );
    std::fs::write(dir.join("diff.html"), page).map_err(fail)?;
    std::fs::write(dir.join("diff.md"), diff.markdown()).map_err(fail)?;
    Ok(())
}

/// The CLI's exit code: 0 no difference, 1 differences, 2 the run itself failed.
pub fn exit_code(r: &crate::Result<DiffResult>) -> ExitCode {
    match r {
        Ok(d) if d.diff.differ == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(_) => ExitCode::from(2),
    }
}
