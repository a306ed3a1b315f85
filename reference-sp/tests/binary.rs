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
