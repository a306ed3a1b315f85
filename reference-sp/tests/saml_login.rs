//! SAML sign-in against the in-process mock IdP, driven over HTTP like a browser: LOGIN-1/2/3,
//! ATTR-*, ERR-1/5/6/8, and every SAML fault of the mock IdP rejected with a clear reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn sp_initiated_okta_login_maps_email_and_names() {
    // LOGIN-1, ATTR-1, ATTR-2 (the Okta example: NameID unspecified, name/given_name/family_name)
    let w = saml_world("okta", false).await;
    let b = browser();
    let p = w.sso_login(&b, "alice@acme.test").await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("alice@acme.test"),
        "{}",
        p.body
    );
    assert_eq!(p.id("display-name").as_deref(), Some("Alice Ng"));
    assert_eq!(p.id("sign-in-method").as_deref(), Some("sso"));
    assert_eq!(p.id("current-workspace").as_deref(), Some(w.org.as_str()));
}

#[tokio::test]
async fn entra_style_uri_attributes_are_mapped_too() {
    let w = saml_world("entra", false).await;
    let b = browser();
    let p = w.sso_login(&b, "alice@acme.test").await;
    assert_eq!(
        p.id("display-name").as_deref(),
        Some("Alice Ng"),
        "{}",
        p.body
    );
}

#[tokio::test]
async fn a_response_to_another_browsers_request_is_refused() {
    // SAML-SP-63 (login CSRF): the attacker's own sign-in, posted from the victim's browser.
    let w = saml_world("okta", false).await;
    let attacker = browser();
    let p = post_form(
        &attacker,
        &w.sp.url("/login"),
        &[("email", "alice@acme.test")],
    )
    .await;
    let held = submit(
        &attacker,
        &p,
        &[("username", "alice@acme.test"), ("password", PW)],
    )
    .await;
    assert!(held.body.contains("name=\"SAMLResponse\""), "{}", held.body);
    let victim = browser();
    let refused = submit(&victim, &held, &[]).await;
    assert_eq!(refused.id("signed-in-as"), None, "{}", refused.body);
    assert!(
        refused.body.contains("this browser did not send"),
        "{}",
        refused.body
    );
    // The refused Response is spent (its assertion ID is recorded before any later check);
    // a sign-in one browser both starts and finishes goes through.
    let own = w.sso_login(&browser(), "alice@acme.test").await;
    assert_eq!(
        own.id("signed-in-as").as_deref(),
        Some("alice@acme.test"),
        "{}",
        own.body
    );
}

#[tokio::test]
async fn tile_urls_one_active_at_a_time() {
    // LOGIN-2, LOGIN-3, ERR-8
    let w = saml_world("okta", false).await;
    let ws = w.sp.url(&format!("/sso/tile/{}/workspace", w.org));
    let pf = w.sp.url(&format!("/sso/tile/{}/platform", w.org));
    let b = browser();
    let p = get_page(&b, &pf).await;
    assert_eq!(
        p.error().as_deref(),
        Some("the connection is not enabled"),
        "{}",
        p.body
    );
    assert!(p.id("error-id").is_some() && p.id("error-time").is_some());
    assert_eq!(p.id("error-org").as_deref(), Some(w.org.as_str()));
    let p = get_page(&b, &ws).await;
    let p = idp_login(&b, &p, "alice@acme.test", PW).await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("alice@acme.test"),
        "{}",
        p.body
    );
    // Switch: the platform tile works, the workspace one no longer does.
    let (s, _) =
        w.sp.put(
            &format!("/api/admin/orgs/{}/tile", w.org),
            json!({"active": "platform"}),
        )
        .await;
    assert_eq!(s, 204);
    let b = browser();
    let p = get_page(&b, &ws).await;
    assert_eq!(p.error().as_deref(), Some("the connection is not enabled"));
    let p = get_page(&b, &pf).await;
    let p = idp_login(&b, &p, "alice@acme.test", PW).await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("alice@acme.test"),
        "{}",
        p.body
    );
}

#[tokio::test]
async fn idp_initiated_unsolicited_response_signs_in() {
    // LOGIN-2 with the IdP posting an unsolicited Response (RelayState = the Tile URL)
    let w = saml_world("okta", false).await;
    let b = browser();
    let tile = w.sp.url(&format!("/sso/tile/{}/workspace", w.org));
    let start = format!(
        "{}?relay_state={}",
        w.tenant["saml"]["idp_initiated_url"].as_str().unwrap(),
        url_encode(&tile)
    );
    let p = get_page(&b, &start).await;
    let p = idp_login(&b, &p, "alice@acme.test", PW).await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("alice@acme.test"),
        "{}",
        p.body
    );
    // The same through the inactive platform tile is refused (ERR-8).
    let b = browser();
    let tile = w.sp.url(&format!("/sso/tile/{}/platform", w.org));
    let start = format!(
        "{}?relay_state={}",
        w.tenant["saml"]["idp_initiated_url"].as_str().unwrap(),
        url_encode(&tile)
    );
    let p = get_page(&b, &start).await;
    let p = idp_login(&b, &p, "alice@acme.test", PW).await;
    assert_eq!(
        p.error().as_deref(),
        Some("the connection is not enabled"),
        "{}",
        p.body
    );
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn every_saml_fault_is_rejected_with_a_clear_reason() {
    let w = saml_world("okta", false).await;
    // The IdP encrypts to the SP certificate published in the SP metadata.
    let metadata = reqwest::get(w.sp.url(&format!("/sso/saml/metadata/{}", w.org)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let b64 = metadata
        .split("<ds:X509Certificate>")
        .nth(1)
        .unwrap()
        .split("</ds:X509Certificate>")
        .next()
        .unwrap();
    let pem = format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n");
    let (s, v) = w
        .idp
        .control(
            reqwest::Method::PUT,
            &format!("/_control/tenants/{}/sp", w.tenant_id()),
            json!({"entity_id": format!("urn:reference-sp:{}", w.org), "acs_url": w.sp.url(&format!("/sso/saml/acs?connection={}", w.org)), "certificate_pem": pem}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // A first good sign-in, so `replay` has a previous response to re-send.
    let p = w.sso_login(&browser(), "alice@acme.test").await;
    assert!(p.id("signed-in-as").is_some(), "{}", p.body);
    let cases: &[(&str, &str, &str)] = &[
        // First, so that the previous response is the good one above.
        ("replay", "SSO sign-in failed", "already used"),
        ("unsigned", "SSO sign-in failed", "not signed"),
        ("unknown_key", "Invalid thumbprint", "Identity page has"),
        (
            "expired_certificate",
            "Invalid thumbprint",
            "Identity page has",
        ),
        ("sha1_signature", "SSO sign-in failed", "SHA-1"),
        ("tampered", "SSO sign-in failed", "changed after signing"),
        ("wrong_audience", "SSO sign-in failed", "Audience"),
        ("wrong_recipient", "SSO sign-in failed", "Recipient"),
        ("wrong_destination", "SSO sign-in failed", "Destination"),
        ("wrong_issuer", "SSO sign-in failed", "Issuer"),
        ("not_yet_valid", "SSO sign-in failed", "not yet valid"),
        ("expired_assertion", "SSO sign-in failed", "expired"),
        (
            "in_response_to_mismatch",
            "SSO sign-in failed",
            "InResponseTo",
        ),
        ("encrypted_assertion", "SSO sign-in failed", "encrypted"),
        ("encrypted_assertion_gcm", "SSO sign-in failed", "encrypted"),
        ("multiple_emails", "SSO sign-in failed", "several email"),
        ("missing_nameid", "SSO sign-in failed", "NameID"),
        ("status_responder", "SSO sign-in failed", "status"),
        ("status_authn_failed", "SSO sign-in failed", "status"),
    ];
    let mut failures = Vec::new();
    for (fault, message, reason) in cases {
        w.next_faults(&[fault]).await;
        let b = browser();
        let p = w.sso_login(&b, "alice@acme.test").await;
        let error = p.error().unwrap_or_default();
        let detail = p.id("error-detail").unwrap_or_default();
        let all = format!("{error} {detail}");
        if !error.starts_with(message) || !all.contains(reason) || p.id("signed-in-as").is_some() {
            failures.push(format!("{fault}: got {all:?} (status {})", p.status));
        }
        assert!(p.id("error-id").is_some(), "{fault}: no error id");
    }
    assert!(
        failures.is_empty(),
        "faults not rejected as expected:\n{}",
        failures.join("\n")
    );
    // After all that, a clean sign-in still works.
    let p = w.sso_login(&browser(), "alice@acme.test").await;
    assert!(p.id("signed-in-as").is_some(), "{}", p.body);
}

#[tokio::test]
async fn sso_email_not_in_the_workspace_is_err_1() {
    let w = saml_world("okta", false).await;
    w.idp_user("bob@acme.test", "Bob", "Li").await;
    let b = browser();
    let p = w.sso_login(&b, "bob@acme.test").await;
    assert_eq!(
        p.error().as_deref(),
        Some(
            "Your Identity Provider signed you in as bob@acme.test, but that email has not been added to your ChatGPT workspace."
        ),
        "{}",
        p.body
    );
}

#[tokio::test]
async fn changed_email_with_a_lingering_profile_is_err_5() {
    // ATTR-6, ERR-5; then support unlinks the old profile and the new address gets its user.
    let w = saml_world("okta", false).await;
    let p = w.sso_login(&browser(), "alice@acme.test").await;
    assert!(p.id("signed-in-as").is_some());
    w.sp.user(&w.org, "alice.new@acme.test", "member", "invited", None)
        .await;
    let (s, v) = w
        .idp
        .control(
            reqwest::Method::PATCH,
            &format!("/_control/tenants/{}/users/alice@acme.test", w.tenant_id()),
            json!({"email": "alice.new@acme.test"}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let b = browser();
    let p = w.sso_login(&b, "alice.new@acme.test").await;
    assert_eq!(
        p.error().as_deref(),
        Some("No accessible workspaces"),
        "{}",
        p.body
    );
    let (s, _) =
        w.sp.api(
            reqwest::Method::DELETE,
            &format!("/api/admin/orgs/{}/sso/profiles/alice@acme.test", w.org),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let p = w.sso_login(&browser(), "alice.new@acme.test").await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("alice.new@acme.test"),
        "{}",
        p.body
    );
}

#[tokio::test]
async fn a_stable_email_keeps_the_same_user() {
    // ATTR-7: the NameID stays the same (a UPN) while other addresses change.
    let w = saml_world("okta", false).await;
    let p = w.sso_login(&browser(), "alice@acme.test").await;
    assert!(p.id("signed-in-as").is_some());
    let (s, v) = w
        .idp
        .control(
            reqwest::Method::PATCH,
            &format!("/_control/tenants/{}/users/alice@acme.test", w.tenant_id()),
            json!({"attributes": {"secondary_mail": ["alice@newco.test"]}}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let p = w.sso_login(&browser(), "alice@acme.test").await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("alice@acme.test"),
        "{}",
        p.body
    );
    let (_, org) = w.sp.get(&format!("/api/admin/orgs/{}", w.org)).await;
    let members = org["members"].as_array().unwrap();
    assert_eq!(
        members
            .iter()
            .filter(|m| m["email"].as_str().unwrap().starts_with("alice"))
            .count(),
        1
    );
}

#[tokio::test]
async fn without_names_a_new_user_is_asked_for_name_and_birthday() {
    // ATTR-3
    let w = saml_world("okta", false).await;
    w.idp_user("nona@acme.test", "", "").await;
    let (s, _) =
        w.sp.post(
            &format!("/api/admin/orgs/{}/users", w.org),
            json!({"email": "nona@acme.test", "role": "member", "method": "invited"}),
        )
        .await;
    assert_eq!(s, 201);
    w.next_faults(&["no_name_attributes"]).await;
    let b = browser();
    let p = w.sso_login(&b, "nona@acme.test").await;
    assert!(p.url.ends_with("/welcome"), "{}", p.url);
    assert!(p.id("name-prompt").is_some());
    let p = submit(
        &b,
        &p,
        &[
            ("given_name", "No"),
            ("family_name", "Na"),
            ("birthday", "not-a-date"),
        ],
    )
    .await;
    assert_eq!(p.status, 400);
    assert!(p.error().unwrap().starts_with("birthday:"));
    let p = submit(
        &b,
        &p,
        &[
            ("given_name", "No"),
            ("family_name", "Na"),
            ("birthday", "1990-02-03"),
        ],
    )
    .await;
    assert_eq!(p.id("display-name").as_deref(), Some("No Na"), "{}", p.body);
}

#[tokio::test]
async fn test_mode_records_what_the_idp_sent_and_takes_a_chosen_org_id() {
    let w = saml_world("okta", true).await;
    let (s, v) = w.sp.get("/api/admin/test/last-sso").await;
    assert_eq!((s, v.clone()), (200, Value::Null), "{v}");
    let b = browser();
    let p = w.sso_login(&b, "alice@acme.test").await;
    assert!(p.id("signed-in-as").is_some(), "{}", p.body);
    let (s, v) = w.sp.get("/api/admin/test/last-sso").await;
    assert_eq!(s, 200);
    assert_eq!(v["protocol"], "saml");
    assert_eq!(v["org_id"], w.org.as_str());
    assert!(
        v["response_xml"]
            .as_str()
            .unwrap()
            .contains("alice@acme.test"),
        "{v}"
    );
    let (s, _) =
        w.sp.api(reqwest::Method::DELETE, "/api/admin/test/last-sso", None)
            .await;
    assert_eq!(s, 204);
    let (_, v) = w.sp.get("/api/admin/test/last-sso").await;
    assert_eq!(v, Value::Null);

    let body = json!({"org_id": "org-chosen", "name": "Chosen", "plan": "enterprise", "billing": "custom"});
    let (s, v) = w.sp.post("/api/admin/test/orgs", body.clone()).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["entity_id"], "urn:reference-sp:org-chosen");
    let (s, v) = w.sp.post("/api/admin/test/orgs", body).await;
    assert_eq!((s, v["field"].as_str()), (400, Some("org_id")), "{v}");
    let (s, v) = w
        .sp
        .post(
            "/api/admin/test/orgs",
            json!({"org_id": "Org With Spaces", "name": "x", "plan": "enterprise", "billing": "custom"}),
        )
        .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("org_id")), "{v}");
}

#[tokio::test]
async fn without_test_mode_nothing_is_recorded_or_exposed() {
    let w = saml_world("okta", false).await;
    let b = browser();
    let p = w.sso_login(&b, "alice@acme.test").await;
    assert!(p.id("signed-in-as").is_some(), "{}", p.body);
    let (s, _) = w.sp.get("/api/admin/test/last-sso").await;
    assert_eq!(s, 404);
}
