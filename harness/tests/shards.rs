//! `--shard 1/2` and `--shard 2/2` together run every trial exactly once, and
//! `merge-reports` of the two equals one whole run's verdicts.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use harness::run::harness::IdpChoice;
use harness::run::runner::{RunRequest, RunResult, execute};
use harness::run::shard::Shard;
use harness::scenario::load::load_dir;
use harness::target::descriptor::load_target;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

async fn run(shard: Option<Shard>, reports: &Path) -> RunResult {
    let (found, errors) = load_dir(&repo().join("scenarios/product"));
    assert!(errors.is_empty(), "{errors:?}");
    execute(RunRequest {
        targets: vec![Arc::new(
            load_target(&repo().join("targets/reference-sp.yaml")).unwrap(),
        )],
        scenarios: found.into_iter().map(Arc::new).collect(),
        scenarios_label: "scenarios/product".into(),
        filter: None,
        jobs: 2,
        webdriver_url: None,
        idp: IdpChoice::Embedded,
        report_root: reports.to_path_buf(),
        progress: false,
        interactive: false,
        shard,
        durations: None,
    })
    .await
    .unwrap()
}

fn verdicts(outcomes: &[harness::trial::outcome::TrialOutcome]) -> BTreeMap<String, String> {
    outcomes
        .iter()
        .map(|o| (o.name.clone(), o.verdict.label().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_merged_equal_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let whole = run(None, dir.path()).await;
    let one = run(Some(Shard { k: 1, n: 2 }), dir.path()).await;
    let two = run(Some(Shard { k: 2, n: 2 }), dir.path()).await;
    let mut names: Vec<String> = one
        .outcomes
        .iter()
        .chain(&two.outcomes)
        .map(|o| o.name.clone())
        .collect();
    assert!(!one.outcomes.is_empty() && !two.outcomes.is_empty());
    names.sort();
    let mut all: Vec<String> = whole.outcomes.iter().map(|o| o.name.clone()).collect();
    all.sort();
    assert_eq!(names, all, "every trial exactly once across the shards");

    let merged_root = dir.path().join("merged");
    let (merged_dir, summary) = harness::report::merge::merge(
        &[one.report_dir.clone(), two.report_dir.clone()],
        &merged_root,
    )
    .unwrap();
    assert_eq!(summary.trials, whole.summary.trials);
    let text = std::fs::read_to_string(merged_dir.join("results.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let merged: Vec<harness::trial::outcome::TrialOutcome> =
        serde_json::from_value(v["trials"].clone()).unwrap();
    assert_eq!(verdicts(&merged), verdicts(&whole.outcomes));
    for f in ["junit.xml", "findings.sarif", "index.html"] {
        assert!(merged_dir.join(f).is_file(), "{f}");
    }
    // A shard merged with itself is refused: trials would be counted twice.
    let e = harness::report::merge::merge(
        &[one.report_dir.clone(), one.report_dir.clone()],
        &merged_root,
    )
    .unwrap_err();
    assert!(e.to_string().contains("not shards of one run"), "{e}");
}
