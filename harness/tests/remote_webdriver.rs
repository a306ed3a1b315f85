//! `--webdriver-url`: the documented pack through a W3C WebDriver endpoint the harness did
//! not start (here a chromedriver started on its own, as a Selenium Grid node would be).
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::{Path, PathBuf};
use std::sync::Arc;

use harness::run::harness::IdpChoice;
use harness::run::runner::{RunRequest, execute};
use harness::scenario::load::load_dir;
use harness::target::descriptor::load_target;
use harness::trial::outcome::Verdict;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Stops the separately started chromedriver however the test ends.
struct Driver(std::process::Child);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_pack_passes_through_a_remote_webdriver() {
    let port = harness::net::free_port().unwrap();
    let _driver = Driver(
        std::process::Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver (Debian chromium-driver, installed by scripts/setup)"),
    );
    let url = format!("http://127.0.0.1:{port}");
    // Ready when its status endpoint answers.
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http.get(format!("{url}/status")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (found, errors) = load_dir(&repo().join("scenarios/documented"));
    assert!(errors.is_empty(), "{errors:?}");
    let dir = tempfile::tempdir().unwrap();
    let result = execute(RunRequest {
        targets: vec![Arc::new(
            load_target(&repo().join("targets/reference-sp.yaml")).unwrap(),
        )],
        scenarios: found.into_iter().map(Arc::new).collect(),
        scenarios_label: "scenarios/documented".into(),
        filter: None,
        jobs: 2,
        webdriver_url: Some(url),
        idp: IdpChoice::Embedded,
        report_root: dir.path().to_path_buf(),
        progress: false,
        interactive: false,
        shard: None,
        durations: None,
    })
    .await
    .unwrap();
    let bad: Vec<String> = result
        .outcomes
        .iter()
        .filter(|o| o.verdict != Verdict::Pass)
        .map(|o| format!("{} {}: {:?}", o.verdict.label(), o.name, o.message))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert!(result.outcomes.len() >= 40);
    println!("{}", result.summary.line());
}
