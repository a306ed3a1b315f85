//! Set-up shared by the tests that run small packs through the runner API (selftest,
//! oracles): targets written inline, and one run with its report in a given directory.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]
use std::path::{Path, PathBuf};
use std::sync::Arc;

use harness::input::location::Located;
use harness::run::harness::IdpChoice;
use harness::run::runner::{RunRequest, RunResult, execute};
use harness::scenario::load::LoadedScenario;
use harness::target::descriptor::{LoadedTarget, TargetDescriptor};

/// A target descriptor given as YAML text (named `inline.yaml` in errors).
pub fn inline_target(yaml: &str) -> Arc<LoadedTarget> {
    let t: Result<TargetDescriptor, Located> =
        harness::input::yaml::parse_yaml(yaml, Path::new("inline.yaml"));
    Arc::new(LoadedTarget {
        path: PathBuf::from("inline.yaml"),
        target: t.unwrap(),
    })
}

/// Every scenario on every target, two at a time, the report under `reports`.
pub async fn run_pack(
    targets: Vec<Arc<LoadedTarget>>,
    scenarios: Vec<Arc<LoadedScenario>>,
    label: &str,
    idp: IdpChoice,
    reports: &Path,
) -> RunResult {
    execute(RunRequest {
        targets,
        scenarios,
        scenarios_label: label.into(),
        filter: None,
        jobs: 2,
        webdriver_url: None,
        idp,
        report_root: reports.to_path_buf(),
        progress: false,
        interactive: false,
        shard: None,
        durations: None,
    })
    .await
    .unwrap()
}

/// `sso-harness idp-check` of one descriptor of `targets/idp/`, one run at a time per test
/// binary (each starts a browser); prints every check's line and the wall time.
pub fn idp_check(descriptor: &str) -> harness::idpcheck::IdpCheckRun {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let opts = harness::idpcheck::IdpCheckOptions {
        descriptor: root.join("targets/idp").join(descriptor),
        root: root.clone(),
        checks_dir: root.join("scenarios/idp-checks"),
        webdriver_url: std::env::var("SSO_HARNESS_WEBDRIVER_URL").ok(),
    };
    let run = rt
        .block_on(harness::idpcheck::run_idp_check(&opts))
        .unwrap();
    for r in &run.results {
        eprintln!("{descriptor}: {}", r.line());
    }
    eprintln!("{descriptor}: {} ms", run.wall_ms);
    run
}
