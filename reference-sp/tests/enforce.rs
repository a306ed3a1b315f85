//! Enforce SSO (ENF-2..5, ERR-3/7), the workspace switcher (LOGIN-6), the blocked SSO look-up
//! (ERR-4).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use serde_json::json;

const OOPS: &str = "Oops! Please use your organization's SSO to access your account.";

#[tokio::test]
async fn enforcement_is_per_workspace_and_only_for_verified_domains() {
    let w = saml_world("okta", false).await;
    let org2 = w.sp.org("enterprise", "custom").await;
    w.sp.user(
        &w.org,
        "bob@acme.test",
        "member",
        "password",
        Some("bob-pw-1"),
    )
    .await;
    w.sp.user(
        &w.org,
        "guest@other.test",
        "member",
        "password",
        Some("guest-pw-1"),
    )
    .await;
    w.sp.user(
        &w.org,
        "carol@acme.test",
        "member",
        "password",
        Some("carol-pw-1"),
    )
    .await;
    w.sp.user(
        &org2,
        "carol@acme.test",
        "member",
        "password",
        Some("carol-pw-1"),
    )
    .await;
    w.idp_user("carol@acme.test", "Carol", "Ma").await;

    // ENF-5: not enforced, a verified-domain user may still use a password.
    let p = password_login(&w.sp, &browser(), "bob@acme.test", "bob-pw-1").await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("bob@acme.test"),
        "{}",
        p.body
    );
    assert!(p.id("workspace-switcher").unwrap().contains("Acme"));

    let (s, _) =
        w.sp.put(
            &format!("/api/admin/orgs/{}/enforce", w.org),
            json!({"enforced": true}),
        )
        .await;
    assert_eq!(s, 204);

    // ENF-2 / ERR-3 / ERR-7: now refused, with the documented message and code.
    let p = password_login(&w.sp, &browser(), "bob@acme.test", "bob-pw-1").await;
    assert_eq!(p.error().as_deref(), Some(OOPS), "{}", p.body);
    assert_eq!(p.id("error-code").as_deref(), Some("require_sso_login"));

    // ENF-3: a guest (domain not verified) still signs in with a password.
    let p = password_login(&w.sp, &browser(), "guest@other.test", "guest-pw-1").await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("guest@other.test"),
        "{}",
        p.body
    );
    assert!(
        p.body.contains(&format!("data-org=\"{}\"", w.org)),
        "{}",
        p.body
    );

    // ENF-4: carol signs in with her password into her other workspace; the enforced one is
    // not in the switcher and refuses her.
    let b = browser();
    let p = password_login(&w.sp, &b, "carol@acme.test", "carol-pw-1").await;
    let switcher = p.id("workspace-switcher").unwrap_or_default();
    assert!(
        p.body.contains(&format!("data-org=\"{org2}\""))
            && !p.body.contains(&format!("data-org=\"{}\"", w.org)),
        "{switcher}"
    );
    let p = get_page(&b, &w.sp.url(&format!("/home?workspace={}", w.org))).await;
    assert_eq!(p.error().as_deref(), Some(OOPS));
    assert_eq!(p.id("error-code").as_deref(), Some("require_sso_login"));

    // LOGIN-6: after signing out and back in through SSO, the enforced workspace is there.
    post_form(&b, &w.sp.url("/logout"), &[]).await;
    let p = post_form(&b, &w.sp.url("/login"), &[("email", "carol@acme.test")]).await;
    assert!(p.body.contains("id=\"continue-sso\""), "{}", p.body);
    let p = post_form(&b, &w.sp.url("/login/sso"), &[("email", "carol@acme.test")]).await;
    let p = idp_login(&b, &p, "carol@acme.test", PW).await;
    assert!(
        p.body.contains(&format!("data-org=\"{}\"", w.org)),
        "{}",
        p.body
    );
    assert!(p.body.contains(&format!("data-org=\"{org2}\"")));

    // Turning enforcement off lets the password back in (ENF-5 again).
    let (s, _) =
        w.sp.put(
            &format!("/api/admin/orgs/{}/enforce", w.org),
            json!({"enforced": false}),
        )
        .await;
    assert_eq!(s, 204);
    let p = password_login(&w.sp, &browser(), "bob@acme.test", "bob-pw-1").await;
    assert_eq!(p.id("signed-in-as").as_deref(), Some("bob@acme.test"));
}

#[tokio::test]
async fn blocked_sso_lookup_fails_but_the_tile_url_still_signs_in() {
    // ERR-4
    let w = saml_world("okta", true).await;
    let (s, _) =
        w.sp.put("/api/admin/test/block-sso-lookup", json!({"blocked": true}))
            .await;
    assert_eq!(s, 204);
    let b = browser();
    let p = post_form(&b, &w.sp.url("/login"), &[("email", "alice@acme.test")]).await;
    assert_eq!(
        p.error().as_deref(),
        Some("Something went wrong while getting your SSO info"),
        "{}",
        p.body
    );
    assert!(p.id("error-time").unwrap().ends_with("UTC"));
    let p = get_page(&b, &w.sp.url(&format!("/sso/tile/{}/workspace", w.org))).await;
    let p = idp_login(&b, &p, "alice@acme.test", PW).await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("alice@acme.test"),
        "{}",
        p.body
    );
    let (s, _) =
        w.sp.put(
            "/api/admin/test/block-sso-lookup",
            json!({"blocked": false}),
        )
        .await;
    assert_eq!(s, 204);
    let p = w.sso_login(&browser(), "alice@acme.test").await;
    assert!(p.id("signed-in-as").is_some());
}
