//! Admin API, password sign-in, method mismatch, password reset, persistence: the parts that
//! need no IdP and no DNS.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn admin_api_needs_the_token_and_names_bad_fields() {
    let sp = start(None, false).await;
    let r = reqwest::Client::new()
        .post(sp.url("/api/admin/orgs"))
        .json(&json!({"name": "x", "plan": "enterprise", "billing": "custom"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let (s, v) = sp
        .post(
            "/api/admin/orgs",
            json!({"name": "x", "plan": "gold", "billing": "custom"}),
        )
        .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("plan")), "{v}");
    let (s, v) = sp
        .post("/api/admin/orgs", json!({"name": "x", "billing": "custom"}))
        .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("plan")), "{v}");
    let (s, v) = sp
        .post(
            "/api/admin/orgs",
            json!({"name": "x", "plan": "team", "billing": "custom", "colour": 1}),
        )
        .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("colour")), "{v}");

    let org = sp.org("enterprise", "custom").await;
    assert!(org.starts_with("org-"));
    let (s, v) = sp
        .post(
            &format!("/api/admin/orgs/{org}/users"),
            json!({"email": "not-an-email", "role": "owner", "method": "sso"}),
        )
        .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("email")), "{v}");
    let (s, v) = sp
        .post(
            &format!("/api/admin/orgs/{org}/users"),
            json!({"email": "a@acme.test", "role": "owner", "method": "password"}),
        )
        .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("password")), "{v}");
    let (s, v) = sp
        .post(
            &format!("/api/admin/orgs/{org}/domains"),
            json!({"domain": "not a domain"}),
        )
        .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("domain")), "{v}");
    let (s, v) = sp
        .put(
            &format!("/api/admin/orgs/{org}/tile"),
            json!({"active": "mobile"}),
        )
        .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("active")), "{v}");
    // ENF-1 through the API: nothing to enforce before SSO is on.
    let (s, v) = sp
        .put(
            &format!("/api/admin/orgs/{org}/enforce"),
            json!({"enforced": true}),
        )
        .await;
    assert_eq!(s, 409, "{v}");
    let (s, _) = sp
        .put(
            &format!("/api/admin/orgs/{org}/tile"),
            json!({"active": "platform"}),
        )
        .await;
    assert_eq!(s, 409);
    // DV-8 through the API: no SSO configuration before a verified domain.
    let (s, v) = sp
        .put(
            &format!("/api/admin/orgs/{org}/sso/saml"),
            json!({"sso_url": "https://idp.test/sso", "certificate_pem": "nope"}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (400, Some("certificate_pem")),
        "{v}"
    );
    let (s, v) = sp.get("/api/admin/orgs/org-missing").await;
    assert_eq!(s, 404, "{v}");
}

#[tokio::test]
async fn test_routes_exist_only_in_test_mode() {
    let sp = start(None, false).await;
    let (s, _) = sp
        .put("/api/admin/test/clock", json!({"offset_seconds": 10}))
        .await;
    assert_eq!(s, 404);
    let (s, _) = sp
        .put("/api/admin/test/block-sso-lookup", json!({"blocked": true}))
        .await;
    assert_eq!(s, 404);
    let sp = start(None, true).await;
    let (s, _) = sp
        .put("/api/admin/test/clock", json!({"offset_seconds": 10}))
        .await;
    assert_eq!(s, 204);
    let (s, v) = sp
        .put("/api/admin/test/clock", json!({"offset_seconds": "ten"}))
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (400, Some("offset_seconds")),
        "{v}"
    );
}

#[tokio::test]
async fn a_failing_second_step_leaves_no_user_behind() {
    let sp = start(None, false).await;
    // Creating the user succeeds, adding the membership fails: the whole change is undone.
    let (s, v) = sp
        .post("/api/admin/orgs/org-doesnotexist/users", json!({"email": "ghost@acme.test", "role": "owner", "method": "password", "password": "pw-123456"}))
        .await;
    assert_eq!(s, 404, "{v}");
    let b = browser();
    let p = password_login(&sp, &b, "ghost@acme.test", "pw-123456").await;
    assert_eq!(p.status, 401, "user must not exist: {}", p.body);
    assert_eq!(
        p.error().as_deref(),
        Some("Incorrect email address or password.")
    );
    // The same request against a real organisation works.
    let org = sp.org("enterprise", "custom").await;
    sp.user(
        &org,
        "ghost@acme.test",
        "owner",
        "password",
        Some("pw-123456"),
    )
    .await;
    let p = password_login(&sp, &b, "ghost@acme.test", "pw-123456").await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("ghost@acme.test"),
        "{}",
        p.body
    );
}

#[tokio::test]
async fn password_sign_in_home_and_sign_out() {
    let sp = start(None, false).await;
    let org = sp.org("enterprise", "custom").await;
    sp.user(
        &org,
        "alice@acme.test",
        "owner",
        "password",
        Some("correct-horse"),
    )
    .await;
    let b = browser();
    let p = get_page(&b, &sp.url("/login")).await;
    assert!(p.body.contains("name=\"email\"") && p.body.contains("id=\"continue\""));
    let p = password_login(&sp, &b, "alice@acme.test", "wrong").await;
    assert_eq!(
        (p.status, p.error().as_deref()),
        (401, Some("Incorrect email address or password."))
    );
    assert!(p.id("error-id").unwrap().starts_with("err-"));
    assert!(p.id("error-time").unwrap().ends_with(" UTC"));
    let p = password_login(&sp, &b, "alice@acme.test", "correct-horse").await;
    assert_eq!(p.id("signed-in-as").as_deref(), Some("alice@acme.test"));
    assert_eq!(p.id("display-name").as_deref(), Some("Given Family"));
    assert!(p.id("workspace-switcher").unwrap().contains("Acme"));
    let cookie_ok = b.get(sp.url("/home")).send().await.unwrap();
    assert!(cookie_ok.url().path().ends_with("/home"));
    let p = post_form(&b, &sp.url("/logout"), &[]).await;
    assert!(p.url.ends_with("/login"), "{}", p.url);
    let p = get_page(&b, &sp.url("/home")).await;
    assert!(p.url.ends_with("/login"));
}

#[tokio::test]
async fn password_on_an_sso_or_social_account_is_a_method_mismatch() {
    // LOGIN-5 / ERR-2
    let sp = start(None, false).await;
    let org = sp.org("enterprise", "custom").await;
    sp.user(&org, "sam@acme.test", "member", "sso", None).await;
    sp.user(&org, "sue@gmail.test", "member", "social", None)
        .await;
    let b = browser();
    let p = post_form(
        &b,
        &sp.url("/login/password"),
        &[("email", "sam@acme.test"), ("password", "anything")],
    )
    .await;
    assert_eq!(
        p.error().as_deref(),
        Some(
            "You tried signing in as sam@acme.test using a password, which is not the authentication method you used during sign up. Try again using the authentication method you used during sign up. (error=identity_provider_mismatch)"
        )
    );
    assert_eq!(
        p.id("error-code").as_deref(),
        Some("identity_provider_mismatch")
    );
    let p = post_form(
        &b,
        &sp.url("/login/password"),
        &[("email", "sue@gmail.test"), ("password", "anything")],
    )
    .await;
    assert!(
        p.error()
            .unwrap()
            .contains("(error=identity_provider_mismatch)")
    );
}

#[tokio::test]
async fn password_reset_gives_sso_and_social_accounts_no_password() {
    // LOGIN-4
    let sp = start(None, true).await;
    let org = sp.org("enterprise", "custom").await;
    sp.user(&org, "sam@acme.test", "member", "sso", None).await;
    sp.user(
        &org,
        "pat@acme.test",
        "member",
        "password",
        Some("old-password"),
    )
    .await;
    let b = browser();
    for email in ["sam@acme.test", "pat@acme.test"] {
        let p = post_form(&b, &sp.url("/password-reset"), &[("email", email)]).await;
        assert!(p.id("reset-requested").is_some(), "{}", p.body);
    }
    let (_, outbox) = sp.get("/api/admin/test/outbox").await;
    let mails = outbox.as_array().unwrap();
    assert_eq!(
        mails.len(),
        1,
        "only the password account gets a link: {outbox}"
    );
    assert_eq!(mails[0]["to"], "pat@acme.test");
    let (_, state) = sp.get(&format!("/api/admin/orgs/{org}")).await;
    let sam = state["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "sam@acme.test")
        .unwrap();
    assert_eq!(sam["has_password"], false);
    // The password account's link works.
    let link = mails[0]["link"].as_str().unwrap();
    let p = post_form(&b, link, &[("password", "new-password-1")]).await;
    assert!(p.id("password-changed").is_some(), "{}", p.body);
    let p = password_login(&sp, &b, "pat@acme.test", "new-password-1").await;
    assert_eq!(p.id("signed-in-as").as_deref(), Some("pat@acme.test"));
    // A used link does not work twice.
    let p = post_form(&b, link, &[("password", "another-password")]).await;
    assert_eq!(p.status, 400);
}

#[tokio::test]
async fn identity_page_only_for_owners_of_eligible_organisations() {
    // CFG-2, CFG-7
    let sp = start(None, false).await;
    let ent = sp.org("enterprise", "custom").await;
    let team = sp.org("team", "other").await;
    let ent_other = sp.org("enterprise", "other").await;
    for org in [&ent, &team, &ent_other] {
        sp.user(
            org,
            "owner@acme.test",
            "owner",
            "password",
            Some("pw-owner-1"),
        )
        .await;
    }
    sp.user(
        &ent,
        "member@acme.test",
        "member",
        "password",
        Some("pw-member-1"),
    )
    .await;
    let owner = browser();
    password_login(&sp, &owner, "owner@acme.test", "pw-owner-1").await;
    let p = get_page(
        &owner,
        &sp.url(&format!("/admin/identity?org={ent}&product=workspace")),
    )
    .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.id("org-id").as_deref(), Some(ent.as_str()));
    assert!(
        p.id("verify-domain-first").is_some(),
        "DV-8: no ACS URL before a verified domain"
    );
    assert!(p.id("acs-url").is_none());
    let p = get_page(
        &owner,
        &sp.url(&format!("/admin/identity?org={ent}&product=platform")),
    )
    .await;
    assert_eq!(p.status, 200);
    let p = get_page(
        &owner,
        &sp.url(&format!("/admin/identity?org={team}&product=workspace")),
    )
    .await;
    assert_eq!(p.status, 403);
    assert!(p.error().unwrap().contains("Enterprise or Edu"));
    let p = get_page(
        &owner,
        &sp.url(&format!("/admin/identity?org={ent_other}&product=platform")),
    )
    .await;
    assert_eq!(p.status, 404);
    assert!(p.error().unwrap().contains("Custom or Unlimited"));
    let member = browser();
    password_login(&sp, &member, "member@acme.test", "pw-member-1").await;
    let p = get_page(
        &member,
        &sp.url(&format!("/admin/identity?org={ent}&product=workspace")),
    )
    .await;
    assert_eq!(p.status, 403);
    let anon = browser();
    let p = get_page(&anon, &sp.url(&format!("/admin/identity?org={ent}"))).await;
    assert!(p.url.ends_with("/login"));
}

#[tokio::test]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let first = reference_sp::serve(options(&dir, None, false))
        .await
        .unwrap();
    let base = first.base_url().to_string();
    let admin = reqwest::Client::new();
    let r: serde_json::Value = admin
        .post(format!("{base}api/admin/orgs"))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "Kept", "plan": "edu", "billing": "other"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let org = r["org_id"].as_str().unwrap().to_string();
    first.shutdown().await;
    let second = reference_sp::serve(options(&dir, None, false))
        .await
        .unwrap();
    let base = second.base_url().to_string();
    let r: serde_json::Value = admin
        .get(format!("{base}api/admin/orgs/{org}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["name"], "Kept");
    assert_eq!(r["plan"], "edu");
}

#[tokio::test]
async fn metadata_is_404_without_a_connection() {
    let sp = start(None, false).await;
    let org = sp.org("enterprise", "custom").await;
    let r = reqwest::get(sp.url(&format!("/sso/saml/metadata/{org}")))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(r.text().await.unwrap().is_empty());
}
