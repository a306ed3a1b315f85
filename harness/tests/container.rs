//! The testcontainers launcher against the real Docker daemon (scripts/setup starts it): an
//! Apache image built from Debian packages serves a page from the bind-mounted directory on a
//! host loopback port, and dropping the guard removes the container.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::target::container::{self, ContainerRequest};

/// Same package list as targets/mellon.yaml, so that CI builds one SP image for both.
fn packages() -> Vec<String> {
    vec!["apache2".into(), "libapache2-mod-auth-mellon".into()]
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn container_exists(id: &str) -> bool {
    let out = Command::new("docker")
        .args([
            "ps",
            "-a",
            "-q",
            "--no-trunc",
            "--filter",
            &format!("id={id}"),
        ])
        .output()
        .expect("docker ps");
    assert!(
        out.status.success(),
        "docker ps: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    !String::from_utf8_lossy(&out.stdout).trim().is_empty()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apache_in_a_container_answers_on_the_host_loopback_and_is_removed_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    // Apache's children run as www-data and must read the configuration and the page.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let port = free_port();
    std::fs::create_dir(dir.path().join("htdocs")).unwrap();
    let marker = format!("served from the container {}", uuid::Uuid::new_v4());
    std::fs::write(dir.path().join("htdocs/index.html"), &marker).unwrap();
    std::fs::write(
        dir.path().join("apache2.conf"),
        container::minimal_apache_conf(dir.path(), port),
    )
    .unwrap();
    let conf = dir.path().join("apache2.conf").display().to_string();
    let command: Vec<String> = vec!["apache2".into(), "-f".into(), conf, "-DFOREGROUND".into()];
    let env = BTreeMap::from([("SSO_HARNESS_PROBE".to_string(), "1".to_string())]);

    let guard = container::start(ContainerRequest {
        target: "container-test",
        packages: &packages(),
        command: &command,
        env: &env,
        dir: dir.path(),
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let id = guard.id().to_string();
    assert!(
        guard.image().starts_with("sso-harness/sp:"),
        "{}",
        guard.image()
    );
    assert!(
        container_exists(&id),
        "container {id} not listed while running"
    );

    let url = format!("http://127.0.0.1:{port}/index.html");
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        if let Ok(r) = reqwest::get(&url).await {
            if r.status().is_success() {
                break r.text().await.unwrap();
            }
        }
        if let Some(exit) = guard.exited().await {
            panic!("{exit}");
        }
        assert!(
            Instant::now() < deadline,
            "{url} did not answer within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(body.trim(), marker);
    // Written by Apache inside the container through the bind mount, at the same path.
    assert!(dir.path().join("apache2.pid").exists());

    drop(guard);
    assert!(
        !container_exists(&id),
        "container {id} still exists after drop"
    );
    assert!(
        reqwest::get(&url).await.is_err(),
        "{url} still answers after the container was removed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_exits_is_reported_with_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let command: Vec<String> = vec!["apache2".into(), "-f".into(), "/nonexistent.conf".into()];
    let guard = container::start(ContainerRequest {
        target: "container-test",
        packages: &packages(),
        command: &command,
        env: &BTreeMap::new(),
        dir: dir.path(),
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = guard.exited().await {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "apache2 without a config kept running"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(exit.contains("sso-harness/sp:"), "{exit}");
    assert!(exit.contains("exited with code 1"), "{exit}");
    assert!(exit.contains("nonexistent.conf"), "{exit}");
}

#[tokio::test]
async fn a_bad_package_name_is_refused_before_any_build() {
    let err = container::ensure_image(&["apache2 && curl evil".to_string()])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a Debian package name"), "{err}");
}

#[test]
fn mellon_container_is_mellon_with_the_container_launcher() {
    use harness::target::descriptor::{Launch, load_target};
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../targets");
    let base = load_target(&root.join("mellon.yaml")).unwrap().target;
    let variant = load_target(&root.join("mellon-container.yaml"))
        .unwrap()
        .target;
    // the same command, by the other launcher
    let (Launch::Process(p), Launch::Container(c)) = (&base.launch, &variant.launch) else {
        panic!("mellon must be a process target and mellon-container a container one");
    };
    assert_eq!(format!("{p:?}"), format!("{c:?}"));
    // everything else comes from mellon.yaml: known failures, and the scenarios'
    // per_target entries through the lineage
    assert_eq!(variant.lineage, vec!["mellon".to_string()]);
    assert_eq!(
        variant.known_failures.len(),
        base.known_failures.len(),
        "known failures are inherited"
    );
    assert_eq!(format!("{:?}", base.sp), format!("{:?}", variant.sp));
    assert_eq!(
        variant.names().collect::<Vec<_>>(),
        vec!["mellon-container", "mellon"]
    );
}

#[test]
fn a_guard_dropped_after_its_runtime_still_removes_the_container() {
    let dir = tempfile::tempdir().unwrap();
    let command: Vec<String> = vec!["sleep".into(), "300".into()];
    let rt = tokio::runtime::Runtime::new().unwrap();
    let guard = rt
        .block_on(container::start(ContainerRequest {
            target: "container-test",
            packages: &packages(),
            command: &command,
            env: &BTreeMap::new(),
            dir: dir.path(),
        }))
        .unwrap_or_else(|e| panic!("{e}"));
    let id = guard.id().to_string();
    assert!(container_exists(&id));
    drop(rt);
    drop(guard);
    assert!(
        !container_exists(&id),
        "container {id} still exists after drop"
    );
}
