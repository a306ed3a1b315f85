#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `mock-idp` binary as a user runs it.

mod saml_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_mock-idp");

/// Kills the server when the test ends, however it ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_prints_its_addresses_and_loads_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("idp.yaml");
    std::fs::write(
        &config,
        "tenants:\n  - id: acme\n    profile: entra\n    users:\n      - email: alice@acme.test\n        password: pw\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _guard = Guard(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("mock-idp listening on http://127.0.0.1:")
        .map(|p| format!("http://127.0.0.1:{p}"))
        .unwrap_or_else(|| panic!("first line: {first}"));
    assert!(
        second.starts_with("mock-idp dns on 127.0.0.1:") && second.ends_with(" (udp+tcp)"),
        "{second}"
    );
    let info: serde_json::Value = reqwest::get(format!("{base}/_control/tenants/acme"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["profile"], "entra");
    assert!(
        info["saml"]["entity_id"]
            .as_str()
            .unwrap()
            .starts_with("https://sts.windows.net/")
    );
}

#[test]
fn bad_config_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("idp.yaml");
    std::fs::write(&config, "tenants:\n  - id: acme\n    profle: okta\n").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:3:", config.display())), "{err}");
    assert!(err.contains("profle"), "{err}");
}

#[test]
fn invalid_values_in_config_name_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("idp.yaml");
    std::fs::write(
        &config,
        "tenants:\n  - id: acme\n    users:\n      - email: not-an-email\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&config.display().to_string()), "{err}");
    assert!(err.contains("tenants[0].users[0].email"), "{err}");
}

#[test]
fn faults_lists_every_fault_with_an_explanation() {
    let out = Command::new(BIN).arg("faults").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), mock_idp::fault::Fault::ALL.len());
    for f in mock_idp::fault::Fault::ALL {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("{} ", f.name())))
            .unwrap();
        assert!(line.contains(f.description()));
    }
}

#[test]
fn saml_response_prints_a_verifiable_response() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let run = |fault: Option<&str>| {
        let mut cmd = Command::new(BIN);
        cmd.args([
            "saml-response",
            "--profile",
            "okta",
            "--email",
            "alice@acme.test",
            "--acs",
            "http://sp.test/acs",
            "--audience",
            "urn:sp",
            "--cert-out",
        ])
        .arg(&cert);
        if let Some(f) = fault {
            cmd.args(["--fault", f]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let xml = run(None);
    let pem = std::fs::read_to_string(&cert).unwrap();
    assert!(saml_support::xmlsec_verify(&xml, &pem));
    let els = saml_support::elements(&xml);
    assert_eq!(
        saml_support::first(&els, "NameID").unwrap().text,
        "alice@acme.test"
    );
    let xml = run(Some("unknown_key"));
    let pem = std::fs::read_to_string(&cert).unwrap();
    assert!(!saml_support::xmlsec_verify(&xml, &pem));
    let out = Command::new(BIN)
        .args([
            "saml-response",
            "--email",
            "a@b.test",
            "--acs",
            "http://sp",
            "--audience",
            "x",
            "--fault",
            "unsinged",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fault"));
}

#[test]
fn unknown_fault_and_profile_names_get_a_suggestion() {
    let out = |flag: &str, value: &str| {
        let mut args = vec![
            "saml-response",
            "--email",
            "a@b.test",
            "--acs",
            "http://sp",
            "--audience",
            "x",
        ];
        args.extend([flag, value]);
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = out("--fault", "unsinged");
    assert!(e.contains("did you mean `unsigned`"), "{e}");
    let e = out("--profile", "keycloack");
    assert!(e.contains("did you mean `keycloak`"), "{e}");
}

/// A port free now on loopback (a small race with other tests; the server binds it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn public_binds_the_advertised_port_and_never_prints_a_pinned_key() {
    let state = tempfile::tempdir().unwrap();
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}/");
    let mut child = Command::new(BIN)
        .args(["serve", "--public", &public, "--state-dir"])
        .arg(state.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut guard = Guard(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    assert_eq!(
        first,
        format!("mock-idp listening on http://0.0.0.0:{port}")
    );
    let _dns = lines.next().unwrap().unwrap();
    let third = lines.next().unwrap().unwrap();
    assert_eq!(
        third,
        format!(
            "mock-idp public url {public} (bound http://0.0.0.0:{port}, advertised in every tenant URL)"
        )
    );
    // The advertised URL is where it answers.
    let r = reqwest::Client::new()
        .post(format!("{public}_control/tenants"))
        .json(&serde_json::json!({"id": "staging", "pinned": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let info: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        info["saml"]["sso_url"],
        format!("{public}t/staging/saml/sso")
    );
    let key =
        std::fs::read_to_string(state.path().join("tenants/staging/signing-key.pem")).unwrap();
    let _ = guard.0.kill();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let printed = [first, third]
        .into_iter()
        .chain(rest)
        .collect::<Vec<_>>()
        .join("\n");
    for line in key.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!printed.contains(line), "{printed}");
    }
}
