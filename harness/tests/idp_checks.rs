//! `cargo test -p harness --test idp_checks`: the IdP application checks against local peers
//! the harness launches itself (node oidc-provider as authentik, SimpleSAMLphp as Okta): the
//! correctly set-up applications pass every check, and each misconfigured one is flagged by the
//! right check with the right reason. Runs one at a time (each starts a browser).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;
use std::path::PathBuf;

use harness::idpcheck::report::write_report;
use harness::idpcheck::{CheckVerdict, IdpCheckOptions, IdpCheckRun, run_idp_check};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn check(descriptor: &str) -> IdpCheckRun {
    common::idp_check(descriptor)
}

fn assert_all_pass(run: &IdpCheckRun) {
    for r in &run.results {
        assert_eq!(r.verdict, CheckVerdict::Pass, "{}", r.line());
    }
    assert!(run.results.len() >= 8, "{} checks", run.results.len());
}

/// `id` failed and its reason contains `reason`.
fn assert_flagged(run: &IdpCheckRun, id: &str, reason: &str) {
    let r = run
        .result(id)
        .unwrap_or_else(|| panic!("no check {id} in {}", run.descriptor));
    assert_eq!(r.verdict, CheckVerdict::Fail, "{}", r.line());
    assert!(
        r.reason.contains(reason),
        "{id}: {:?} lacks {reason:?}",
        r.reason
    );
    assert!(!r.fix.is_empty());
}

/// `id` was not checked because `on` failed (one cause, one failure), and names it.
fn assert_depends(run: &IdpCheckRun, id: &str, on: &str, reason: &str) {
    let r = run.result(id).unwrap();
    assert_eq!(r.verdict, CheckVerdict::NotChecked, "{}", r.line());
    assert_eq!(r.depends_on.as_deref(), Some(on), "{}", r.line());
    assert!(
        r.reason
            .starts_with(&format!("depends on {on} which failed")),
        "{}",
        r.line()
    );
    assert!(r.reason.contains(reason), "{}", r.line());
}

fn assert_passes(run: &IdpCheckRun, id: &str) {
    let r = run.result(id).unwrap();
    assert_eq!(r.verdict, CheckVerdict::Pass, "{}", r.line());
}

#[test]
fn authentik_like_application_set_up_as_documented_passes() {
    let run = check("oidc-provider-authentik.yaml");
    assert_all_pass(&run);
    // The evidence carries the decoded ID token the product received.
    let claims = &run.evidence["facts"]["evidence"]["id_token_claims"];
    assert_eq!(claims["email"], "alice@acme.test", "{claims}");
    assert!(
        run.result("oidc-out-of-group")
            .unwrap()
            .reason
            .contains("documented message")
    );
    // SUP-2: the report holds the evidence but no password or client secret.
    let dir = tempfile::tempdir().unwrap();
    let page = write_report(dir.path(), &run).unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("alice@acme.test") && html.contains("data:image/png;base64,"));
    let secrets: Vec<&str> = run.secrets.iter().map(|s| s.expose()).collect();
    assert_eq!(secrets.len(), 3);
    let leaks = harness::report::redact::scan(page.parent().unwrap(), &secrets);
    assert!(leaks.is_empty(), "{leaks:?}");
}

#[test]
fn authentik_like_without_family_name_is_flagged() {
    let run = check("oidc-provider-authentik-missing-family-name.yaml");
    assert_flagged(&run, "oidc-claims", "the ID token lacks family_name");
    assert_passes(&run, "oidc-discovery");
    assert_passes(&run, "oidc-redirect-uri");
    assert_passes(&run, "oidc-signing-keys");
}

#[test]
fn authentik_like_with_another_redirect_uri_is_flagged() {
    let run = check("oidc-provider-authentik-wrong-redirect-uri.yaml");
    assert_flagged(
        &run,
        "oidc-redirect-uri",
        "the provider refused the product's redirect URI",
    );
    // The sign-in stopped at the provider's error page for that same reason.
    assert_depends(
        &run,
        "oidc-sign-in",
        "oidc-redirect-uri",
        "the browser stayed at the IdP",
    );
    assert_passes(&run, "oidc-discovery");
}

#[test]
fn authentik_like_signing_with_hs256_is_flagged() {
    let run = check("oidc-provider-authentik-hs256.yaml");
    assert_flagged(
        &run,
        "oidc-signing-keys",
        "the ID token is signed with HS256",
    );
    assert_passes(&run, "oidc-discovery");
}

#[test]
fn okta_like_application_set_up_as_documented_passes() {
    let run = check("simplesamlphp-okta.yaml");
    assert_all_pass(&run);
    let xml = run.evidence["facts"]["response_xml"].as_str().unwrap();
    assert!(xml.contains("alice@acme.test"), "{xml}");
    assert!(
        run.result("saml-out-of-group")
            .unwrap()
            .reason
            .contains("refused by the IdP")
    );
}

#[test]
fn okta_like_without_surname_is_flagged() {
    let run = check("simplesamlphp-okta-missing-family-name.yaml");
    assert_flagged(&run, "saml-name-attributes", "no last-name attribute");
    assert_flagged(&run, "saml-name-attributes", "sn");
    assert_passes(&run, "saml-nameid-email");
    assert_passes(&run, "saml-signed");
}

#[test]
fn okta_like_encrypting_the_assertion_is_flagged() {
    let run = check("simplesamlphp-okta-encrypted-assertion.yaml");
    assert_flagged(&run, "saml-not-encrypted", "EncryptedAssertion");
    // The product refused the sign-in because it cannot read an encrypted assertion.
    assert_depends(
        &run,
        "saml-sign-in",
        "saml-not-encrypted",
        "the product refused the sign-in",
    );
    assert_passes(&run, "saml-metadata");
}

#[test]
fn okta_like_unsigned_response_is_flagged() {
    let run = check("simplesamlphp-okta-unsigned-response.yaml");
    assert_flagged(
        &run,
        "saml-signed",
        "neither the Response nor the Assertion is signed",
    );
    assert_passes(&run, "saml-not-encrypted");
    assert_passes(&run, "saml-nameid-email");
}

#[test]
fn a_real_tenant_without_its_secrets_gets_a_located_error() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (file, var) in [
        ("authentik.example.yaml", "AUTHENTIK_ALICE_PASSWORD"),
        ("okta.example.yaml", "OKTA_ALICE_PASSWORD"),
    ] {
        if std::env::var(var).is_ok() {
            continue;
        }
        let opts = IdpCheckOptions {
            descriptor: root().join("targets/idp").join(file),
            root: root(),
            checks_dir: root().join("scenarios/idp-checks"),
            webdriver_url: None,
        };
        let e = match rt.block_on(run_idp_check(&opts)) {
            Ok(_) => panic!("{file} ran without its secrets"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(&format!("{file}:")), "{e}");
        assert!(
            e.contains(&format!(
                "users.in_group.password_env: environment variable {var} is not set"
            )),
            "{e}"
        );
    }
}
