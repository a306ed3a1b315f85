//! The `reference-sp` binary: documented flags, first stdout line, serving pages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Kills the child when the test ends, however it ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn help_documents_the_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_reference-sp"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--listen",
        "--db",
        "--dns",
        "--admin-token",
        "--public-url",
        "--test-mode",
        "--social-google-discovery",
        "--social-google-client-id",
        "--social-google-client-secret",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[test]
fn bad_flags_are_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_reference-sp"))
        .args(["--listen", "nowhere"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--listen"));
}

#[tokio::test]
async fn first_line_names_the_address_and_the_server_answers() {
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_reference-sp"))
        .args(["--listen", "127.0.0.1:0", "--admin-token", "tok-1", "--db"])
        .arg(dir.path().join("sp.sqlite"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut guard = Guard(child);
    let stdout = guard.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let url = line
        .trim()
        .strip_prefix("reference-sp listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"));
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let login = reqwest::get(format!("{url}/login")).await.unwrap();
    assert_eq!(login.status().as_u16(), 200);
    assert!(login.text().await.unwrap().contains("name=\"email\""));
    let api = reqwest::Client::new()
        .post(format!("{url}/api/admin/orgs"))
        .bearer_auth("tok-1")
        .json(&serde_json::json!({"name": "Bin", "plan": "team", "billing": "other"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status().as_u16(), 201);
    drop(guard);
}

#[tokio::test]
async fn secrets_never_reach_the_log() {
    // SUP-2 on the SP side: passwords, client secrets and the admin token are never logged,
    // not even when sign-ins fail.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr.log");
    let child = Command::new(env!("CARGO_BIN_EXE_reference-sp"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--admin-token",
            "admin-tok-SECRET1",
            "--db",
        ])
        .arg(dir.path().join("sp.sqlite"))
        .args([
            "--social-google-discovery",
            "http://127.0.0.1:9/.well-known/openid-configuration",
            "--social-google-client-id",
            "cid",
            "--social-google-client-secret",
            "client-SECRET2",
        ])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut guard = Guard(child);
    let stdout = guard.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let url = line
        .trim()
        .strip_prefix("reference-sp listening on ")
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    let api = |path: &str, body: serde_json::Value| {
        http.post(format!("{url}{path}"))
            .bearer_auth("admin-tok-SECRET1")
            .json(&body)
            .send()
    };
    let org: serde_json::Value = api(
        "/api/admin/orgs",
        serde_json::json!({"name": "L", "plan": "enterprise", "billing": "custom"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let org = org["org_id"].as_str().unwrap();
    api(&format!("/api/admin/orgs/{org}/users"), serde_json::json!({"email": "p@acme.test", "role": "owner", "method": "password", "password": "user-SECRET3"}))
        .await
        .unwrap();
    for pw in ["user-SECRET3", "wrong-SECRET4"] {
        http.post(format!("{url}/login/password"))
            .form(&[("email", "p@acme.test"), ("password", pw)])
            .send()
            .await
            .unwrap();
    }
    // The social provider is unreachable: that failure is logged too.
    http.post(format!("{url}/login/social"))
        .form(&[("email", "p@acme.test")])
        .send()
        .await
        .unwrap();
    http.post(format!("{url}/api/admin/orgs"))
        .bearer_auth("wrong-SECRET5")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    drop(guard);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("Incorrect email address or password"),
        "failures are logged: {text}"
    );
    for secret in ["SECRET1", "SECRET2", "SECRET3", "SECRET4", "SECRET5"] {
        assert!(
            !text.contains(secret),
            "{secret} leaked into the log:\n{text}"
        );
    }
}
