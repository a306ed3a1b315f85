//! `cargo test -p harness --test idp_check_causes`: `sso-harness idp-check` against the
//! workspace's mock IdP (started in-process, one tenant per run, `launch: {peer: mock-idp}`),
//! for the two ways a check used to fail falsely, and a real failure that must still fail:
//! - an authorization endpoint that answers a request without a session with its login form
//!   (HTTP 200) is asked again signed in, never judged from the login page;
//! - one missing attribute or claim is one failure, with the fix for that attribute; the
//!   sign-ins it broke are "not checked", depending on it;
//! - a redirect URI the IdP really refuses is still a FAIL, with the fix for it.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use harness::idpcheck::{CheckVerdict, IdpCheckRun};

fn check(descriptor: &str) -> IdpCheckRun {
    common::idp_check(descriptor)
}

fn verdict(run: &IdpCheckRun, id: &str) -> CheckVerdict {
    run.result(id)
        .unwrap_or_else(|| panic!("no check {id} in {}", run.descriptor))
        .verdict
}

/// `id` is not checked because `on` failed, and says so.
fn assert_depends(run: &IdpCheckRun, id: &str, on: &str) {
    let r = run.result(id).unwrap();
    assert_eq!(r.verdict, CheckVerdict::NotChecked, "{}", r.line());
    assert_eq!(r.depends_on.as_deref(), Some(on), "{}", r.line());
    assert!(
        r.reason
            .starts_with(&format!("depends on {on} which failed")),
        "{}",
        r.line()
    );
    assert!(!r.line().contains("fix:"), "{}", r.line());
}

#[test]
fn a_login_form_before_the_redirect_uri_answer_is_not_a_failure() {
    let run = check("mock-idp-keycloak.yaml");
    // Without a session the provider showed its login form (HTTP 200) for the product's URI.
    let exact = &run.evidence["facts"]["exact"];
    assert_eq!(exact["without_session"]["Login"]["status"], 200, "{exact}");
    // Signed in, it sent the browser back to the URI: accepted, and the variants refused.
    assert!(exact["signed_in"]["Back"].is_object(), "{exact}");
    let r = run.result("oidc-redirect-uri").unwrap();
    assert_eq!(r.verdict, CheckVerdict::Pass, "{}", r.line());
    assert!(r.reason.contains("accepted once signed in"), "{}", r.line());
    assert!(r.reason.contains("2 variant(s) refused"), "{}", r.line());
    // The set-up is the documented one: nothing else may fail either.
    assert_eq!(run.failed(), 0);
    assert_eq!(run.not_checked(), 0);
}

#[test]
fn a_missing_email_claim_is_one_failure_with_the_email_fix() {
    let run = check("mock-idp-keycloak-missing-email.yaml");
    let claims = run.result("oidc-claims").unwrap();
    assert_eq!(claims.verdict, CheckVerdict::Fail, "{}", claims.line());
    assert!(
        claims.reason.starts_with("the ID token lacks email "),
        "{}",
        claims.line()
    );
    assert_eq!(claims.causes, vec!["missing_email".to_string()]);
    assert!(
        claims
            .fix
            .starts_with("Map the user's email to the claim `email`"),
        "{}",
        claims.fix
    );
    // The sign-ins the product refused for it, and the scope check that cannot tell a scope
    // from a mapping, depend on it instead of failing with other fixes.
    for id in ["oidc-sign-in", "oidc-tile", "oidc-scopes"] {
        assert_depends(&run, id, "oidc-claims");
    }
    assert_eq!(run.failed(), 1, "one cause, one failure");
    for id in ["oidc-discovery", "oidc-redirect-uri", "oidc-out-of-group"] {
        assert_eq!(verdict(&run, id), CheckVerdict::Pass, "{id}");
    }
}

#[test]
fn missing_name_attributes_are_one_failure_not_an_acs_or_audience_fix() {
    let run = check("mock-idp-okta-no-name-attributes.yaml");
    let names = run.result("saml-name-attributes").unwrap();
    assert_eq!(names.verdict, CheckVerdict::Fail, "{}", names.line());
    assert_eq!(
        names.causes,
        vec![
            "missing_given_name".to_string(),
            "missing_family_name".to_string()
        ]
    );
    assert!(
        names.fix.contains("first name") && names.fix.contains("last name"),
        "{}",
        names.fix
    );
    assert_depends(&run, "saml-sign-in", "saml-name-attributes");
    assert_depends(&run, "saml-tile", "saml-name-attributes");
    // No failing check sends the administrator to the ACS URL or the Audience.
    for r in run
        .results
        .iter()
        .filter(|r| r.verdict == CheckVerdict::Fail)
    {
        assert!(
            !r.fix.contains("Audience") && !r.fix.contains("ACS"),
            "{}",
            r.line()
        );
    }
    for id in ["saml-metadata", "saml-nameid-email", "saml-signed"] {
        assert_eq!(verdict(&run, id), CheckVerdict::Pass, "{id}");
    }
}

#[test]
fn a_redirect_uri_the_idp_refuses_is_still_a_failure() {
    let run = check("mock-idp-keycloak-wrong-redirect-uri.yaml");
    let r = run.result("oidc-redirect-uri").unwrap();
    assert_eq!(r.verdict, CheckVerdict::Fail, "{}", r.line());
    assert!(
        r.reason
            .contains("the provider refused the product's redirect URI"),
        "{}",
        r.line()
    );
    assert_eq!(r.causes, vec!["not_registered".to_string()]);
    assert!(
        r.fix.starts_with("Register exactly http://127.0.0.1:"),
        "{}",
        r.fix
    );
    // The sign-in stopped at the IdP's error page for the same reason.
    assert_depends(&run, "oidc-sign-in", "oidc-redirect-uri");
    assert!(run.failed() >= 1);
}
