//! Identity-page configuration through the HTML forms: re-authentication (CFG-4), the
//! metadata chicken-and-egg (CFG-5), lock-out safety (CFG-8), one configuration shared by the
//! workspace and the platform organisation (CFG-1, CFG-3), ENF-1 and the Tile URLs.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use serde_json::json;

async fn owner_session(w: &World) -> reqwest::Client {
    let b = browser();
    let p = password_login(&w.sp, &b, "owner@acme.test", "owner-pw-1").await;
    assert!(p.id("signed-in-as").is_some(), "{}", p.body);
    b
}

async fn other_cert(w: &World) -> String {
    let (_, t) = w
        .idp
        .control(
            reqwest::Method::POST,
            "/_control/tenants",
            json!({"profile": "generic"}),
        )
        .await;
    t["saml"]["certificate_pem"].as_str().unwrap().to_string()
}

fn form<'a>(
    org: &'a str,
    product: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![("org", org), ("product", product)];
    f.extend_from_slice(extra);
    f
}

#[tokio::test]
async fn placeholders_make_metadata_available_then_real_values_make_login_work() {
    // CFG-4, CFG-5
    let w = saml_world("okta", false).await;
    // Start from no configuration at all.
    let w = World {
        org: w.sp.org("enterprise", "custom").await,
        ..w
    };
    w.sp.user(
        &w.org,
        "owner@acme.test",
        "owner",
        "password",
        Some("owner-pw-1"),
    )
    .await;
    w.sp.user(&w.org, "alice@acme.test", "member", "sso", None)
        .await;
    // acme.test is verified in the first org; this org verifies its own domain.
    verify_domain(&w.sp, &w.idp, &w.org, "acme2.test").await;
    let metadata_url = w.sp.url(&format!("/sso/saml/metadata/{}", w.org));
    assert_eq!(
        reqwest::get(&metadata_url).await.unwrap().status().as_u16(),
        404
    );

    let b = owner_session(&w).await;
    let placeholder_cert = other_cert(&w).await;
    let saml = w.sp.url("/admin/identity/saml");
    // Re-authentication is required (CFG-4).
    let p = post_form(
        &b,
        &saml,
        &form(
            &w.org,
            "workspace",
            &[
                ("sso_url", "https://placeholder.invalid/sso"),
                ("certificate_pem", &placeholder_cert),
            ],
        ),
    )
    .await;
    assert_eq!(p.status, 400);
    assert!(
        p.error().unwrap().contains("re-authenticate"),
        "{:?}",
        p.error()
    );
    let p = post_form(
        &b,
        &saml,
        &form(
            &w.org,
            "workspace",
            &[
                ("sso_url", "https://placeholder.invalid/sso"),
                ("certificate_pem", &placeholder_cert),
                ("password", "wrong"),
            ],
        ),
    )
    .await;
    assert_eq!(p.status, 400);
    // Bad values name the field.
    let p = post_form(
        &b,
        &saml,
        &form(
            &w.org,
            "workspace",
            &[
                ("sso_url", "not a url"),
                ("certificate_pem", &placeholder_cert),
                ("password", "owner-pw-1"),
            ],
        ),
    )
    .await;
    assert!(
        p.error().unwrap().starts_with("sso_url:"),
        "{:?}",
        p.error()
    );
    assert_eq!(
        reqwest::get(&metadata_url).await.unwrap().status().as_u16(),
        404
    );
    // Placeholders: a "healthy" connection, so the metadata can be downloaded.
    let p = post_form(
        &b,
        &saml,
        &form(
            &w.org,
            "workspace",
            &[
                ("sso_url", "https://placeholder.invalid/sso"),
                ("certificate_pem", &placeholder_cert),
                ("password", "owner-pw-1"),
            ],
        ),
    )
    .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.id("sso-status").as_deref(), Some("On"));
    let r = reqwest::get(&metadata_url).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let xml = r.text().await.unwrap();
    assert!(
        xml.contains(&format!("entityID=\"urn:reference-sp:{}\"", w.org)),
        "{xml}"
    );
    assert!(xml.contains(&format!(
        "Location=\"{}\"",
        w.sp.url(&format!("/sso/saml/acs?connection={}", w.org))
    )));
    assert!(xml.contains("<ds:X509Certificate>"));
    // With placeholders, sign-in goes to the placeholder URL.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirect
        .get(w.sp.url(&format!("/sso/start/{}", w.org)))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("https://placeholder.invalid/sso?SAMLRequest=")
    );
    // Replace them with the real values (within the re-authentication window): login works.
    let real_url = w.tenant["saml"]["sso_url"].as_str().unwrap();
    let real_cert = w.tenant["saml"]["certificate_pem"].as_str().unwrap();
    let p = post_form(
        &b,
        &saml,
        &form(
            &w.org,
            "workspace",
            &[("sso_url", real_url), ("certificate_pem", real_cert)],
        ),
    )
    .await;
    assert_eq!(p.status, 200, "{:?}", p.error());
    // The IdP's tenant was made for the first org's ACS; point it at this org.
    let (s, _) = w
        .idp
        .control(
            reqwest::Method::PUT,
            &format!("/_control/tenants/{}/sp", w.tenant_id()),
            json!({"entity_id": format!("urn:reference-sp:{}", w.org), "acs_url": w.sp.url(&format!("/sso/saml/acs?connection={}", w.org))}),
        )
        .await;
    assert_eq!(s, 200);
    let alice = browser();
    let p = get_page(&alice, &w.sp.url(&format!("/sso/start/{}", w.org))).await;
    let p = idp_login(&alice, &p, "alice@acme.test", PW).await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("alice@acme.test"),
        "{}",
        p.body
    );
}

#[tokio::test]
async fn an_open_owner_session_can_revert_a_broken_configuration() {
    // CFG-8, ERR-6
    let w = saml_world("okta", false).await;
    let owner = owner_session(&w).await;
    let broken = other_cert(&w).await;
    let (s, _) =
        w.sp.put(
            &format!("/api/admin/orgs/{}/sso/saml", w.org),
            json!({"sso_url": w.tenant["saml"]["sso_url"], "certificate_pem": broken}),
        )
        .await;
    assert_eq!(s, 204);
    let p = w.sso_login(&browser(), "alice@acme.test").await;
    assert_eq!(
        p.error().as_deref(),
        Some("Invalid thumbprint"),
        "{}",
        p.body
    );
    // The owner's existing session still opens the page and puts the right certificate back.
    let page_url =
        w.sp.url(&format!("/admin/identity?org={}&product=workspace", w.org));
    let p = get_page(&owner, &page_url).await;
    assert_eq!(p.status, 200);
    let real_url = w.tenant["saml"]["sso_url"].as_str().unwrap();
    let real_cert = w.tenant["saml"]["certificate_pem"].as_str().unwrap();
    let p = post_form(
        &owner,
        &w.sp.url("/admin/identity/saml"),
        &form(
            &w.org,
            "workspace",
            &[
                ("sso_url", real_url),
                ("certificate_pem", real_cert),
                ("password", "owner-pw-1"),
            ],
        ),
    )
    .await;
    assert_eq!(p.status, 200, "{:?}", p.error());
    let p = w.sso_login(&browser(), "alice@acme.test").await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("alice@acme.test"),
        "{}",
        p.body
    );
    // Or simply turn SSO off: password users are let in again.
    let p = post_form(
        &owner,
        &w.sp.url("/admin/identity/sso"),
        &form(&w.org, "workspace", &[("enabled", "false")]),
    )
    .await;
    assert_eq!(p.id("sso-status").as_deref(), Some("Off"));
    let p = get_page(
        &browser(),
        &w.sp.url(&format!("/sso/tile/{}/workspace", w.org)),
    )
    .await;
    assert_eq!(p.error().as_deref(), Some("the connection is not enabled"));
}

#[tokio::test]
async fn platform_configuration_is_prefilled_on_the_workspace_and_shared() {
    // CFG-1, CFG-3, ENF-1
    let w = saml_world("okta", false).await;
    // Start over on a second org that has only a verified domain.
    let org = w.sp.org("enterprise", "unlimited").await;
    w.sp.user(
        &org,
        "owner@acme.test",
        "owner",
        "password",
        Some("owner-pw-1"),
    )
    .await;
    verify_domain(&w.sp, &w.idp, &org, "acme3.test").await;
    let owner = owner_session(&w).await;
    let real_url = w.tenant["saml"]["sso_url"].as_str().unwrap();
    let real_cert = w.tenant["saml"]["certificate_pem"].as_str().unwrap();
    let ws_page =
        w.sp.url(&format!("/admin/identity?org={org}&product=workspace"));
    let pf_page =
        w.sp.url(&format!("/admin/identity?org={org}&product=platform"));
    let p = get_page(&owner, &ws_page).await;
    assert!(
        p.id("enforce-sso").is_none() && p.id("tile-urls").is_none(),
        "ENF-1"
    );
    // Set up on the platform organisation.
    let p = post_form(
        &owner,
        &w.sp.url("/admin/identity/saml"),
        &form(
            &org,
            "platform",
            &[
                ("sso_url", real_url),
                ("certificate_pem", real_cert),
                ("password", "owner-pw-1"),
            ],
        ),
    )
    .await;
    assert_eq!(p.id("sso-status").as_deref(), Some("On"), "{:?}", p.error());
    // The workspace shows the same settings pre-filled, with its toggle still off.
    let p = get_page(&owner, &ws_page).await;
    assert!(
        p.body
            .contains(&format!("name=\"sso_url\" value=\"{}\"", real_url)),
        "CFG-3 prefill"
    );
    assert_eq!(p.id("sso-status").as_deref(), Some("Off"));
    assert!(p.id("enforce-sso").is_none());
    let p = post_form(
        &owner,
        &w.sp.url("/admin/identity/sso"),
        &form(&org, "workspace", &[("enabled", "true")]),
    )
    .await;
    assert_eq!(p.id("sso-status").as_deref(), Some("On"));
    // ENF-1: Enforce SSO and the two Tile URLs appear, the workspace's active.
    assert!(p.id("enforce-sso").is_some());
    assert_eq!(
        p.id("tile-url-workspace"),
        Some(w.sp.url(&format!("/sso/tile/{org}/workspace")))
    );
    assert!(
        p.body
            .contains("id=\"tile-url-workspace\" data-active=\"true\"")
    );
    assert!(
        p.body
            .contains("id=\"tile-url-platform\" data-active=\"false\"")
    );
    // CFG-1: the platform page shows the same one configuration.
    let p = get_page(&owner, &pf_page).await;
    assert!(
        p.body
            .contains(&format!("name=\"sso_url\" value=\"{}\"", real_url))
    );
    assert_eq!(p.id("org-id").as_deref(), Some(org.as_str()));
    let (_, state) = w.sp.get(&format!("/api/admin/orgs/{org}")).await;
    assert_eq!(
        state["sso_enabled"],
        json!({"workspace": true, "platform": true})
    );
    // Switch the active tile from the page.
    let p = post_form(
        &owner,
        &w.sp.url("/admin/identity/tile"),
        &form(&org, "workspace", &[("active", "platform")]),
    )
    .await;
    assert!(
        p.body
            .contains("id=\"tile-url-platform\" data-active=\"true\""),
        "{:?}",
        p.error()
    );
}

#[tokio::test]
async fn an_owner_without_password_reauthenticates_by_signing_in_again() {
    // CFG-4 for an SSO account: a fresh sign-in counts; five minutes later it does not.
    let w = saml_world("okta", true).await;
    w.sp.user(&w.org, "alice@acme.test", "owner", "sso", None)
        .await;
    let b = browser();
    let p = w.sso_login(&b, "alice@acme.test").await;
    assert!(p.id("signed-in-as").is_some(), "{}", p.body);
    let real_url = w.tenant["saml"]["sso_url"].as_str().unwrap();
    let real_cert = w.tenant["saml"]["certificate_pem"].as_str().unwrap();
    let saml = w.sp.url("/admin/identity/saml");
    let p = post_form(
        &b,
        &saml,
        &form(
            &w.org,
            "workspace",
            &[("sso_url", real_url), ("certificate_pem", real_cert)],
        ),
    )
    .await;
    assert_eq!(p.status, 200, "{:?}", p.error());
    w.sp.put("/api/admin/test/clock", json!({"offset_seconds": 600}))
        .await;
    let b2 = browser();
    let p = w.sso_login(&b2, "alice@acme.test").await;
    assert!(p.id("signed-in-as").is_some(), "{}", p.body);
    // The first browser's sign-in is now ten minutes old.
    let p = post_form(
        &b,
        &saml,
        &form(
            &w.org,
            "workspace",
            &[("sso_url", real_url), ("certificate_pem", real_cert)],
        ),
    )
    .await;
    assert_eq!(p.status, 400);
    assert!(p.error().unwrap().contains("re-authenticate"));
    // The fresh one is accepted.
    let p = post_form(
        &b2,
        &saml,
        &form(
            &w.org,
            "workspace",
            &[("sso_url", real_url), ("certificate_pem", real_cert)],
        ),
    )
    .await;
    assert_eq!(p.status, 200, "{:?}", p.error());
}
