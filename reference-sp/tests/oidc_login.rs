//! Custom OIDC connection (LOGIN-7, CFG-6) against an authentik-style mock IdP tenant, the
//! IdP refusing a user (ERR-7), token faults, and Google-like social sign-in (ENF-2/3, LOGIN-5).
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use serde_json::{Value, json};

const SECRET: &str = "client-secret-1";

struct OidcWorld {
    idp: Idp,
    sp: Sp,
    org: String,
    tenant: Value,
}

async fn tenant(idp: &Idp, profile: &str, redirect: &str, allowed_groups: Value) -> Value {
    let (s, t) = idp
        .control(
            reqwest::Method::POST,
            "/_control/tenants",
            json!({
                "profile": profile,
                "users": [
                    {"email": "alice@acme.test", "given_name": "Alice", "family_name": "Ng", "password": PW, "groups": ["chatgpt"]},
                    {"email": "eve@acme.test", "given_name": "Eve", "family_name": "Out", "password": PW, "groups": []}
                ],
                "oidc_clients": [{"client_id": "chatgpt", "client_secret": SECRET, "redirect_uris": [redirect], "allowed_groups": allowed_groups}]
            }),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    t
}

async fn oidc_world() -> OidcWorld {
    let idp = start_idp().await;
    let sp = start(Some(idp.dns()), false).await;
    let org = sp.org("enterprise", "custom").await;
    sp.user(
        &org,
        "owner@acme.test",
        "owner",
        "password",
        Some("owner-pw-1"),
    )
    .await;
    sp.user(&org, "alice@acme.test", "member", "invited", None)
        .await;
    sp.user(&org, "eve@acme.test", "member", "invited", None)
        .await;
    verify_domain(&sp, &idp, &org, "acme.test").await;
    let tenant = tenant(
        &idp,
        "authentik",
        &sp.url("/sso/oidc/callback"),
        json!(["chatgpt"]),
    )
    .await;
    OidcWorld {
        idp,
        sp,
        org,
        tenant,
    }
}

impl OidcWorld {
    async fn configure(&self, secret: &str) {
        let (s, v) = self
            .sp
            .put(
                &format!("/api/admin/orgs/{}/sso/oidc", self.org),
                json!({"idp_name": "authentik", "client_id": "chatgpt", "client_secret": secret, "discovery_url": self.tenant["oidc"]["discovery_url"]}),
            )
            .await;
        assert_eq!(s, 204, "{v}");
    }
    async fn login(&self, b: &reqwest::Client, email: &str) -> Page {
        let p = post_form(b, &self.sp.url("/login"), &[("email", email)]).await;
        assert!(
            p.body.contains("name=\"username\""),
            "not at the IdP: {} {}",
            p.url,
            p.body
        );
        submit(b, &p, &[("username", email), ("password", PW)]).await
    }
}

#[tokio::test]
async fn authentik_style_oidc_login_maps_the_claims() {
    // LOGIN-7, CFG-6
    let w = oidc_world().await;
    let discovery = w.tenant["oidc"]["discovery_url"].as_str().unwrap();
    assert!(discovery.contains("/application/o/"), "{discovery}");
    w.configure(SECRET).await;
    let (s, _) =
        w.sp.put(
            &format!("/api/admin/orgs/{}/sso", w.org),
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(s, 204);
    let b = browser();
    let p = w.login(&b, "alice@acme.test").await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("alice@acme.test"),
        "{} {}",
        p.url,
        p.body
    );
    assert_eq!(p.id("display-name").as_deref(), Some("Alice Ng"));
    assert_eq!(p.id("sign-in-method").as_deref(), Some("sso"));
    // A user the provider's binding does not allow is refused (ERR-7).
    let p = w.login(&browser(), "eve@acme.test").await;
    assert_eq!(
        p.error().as_deref(),
        Some("Oops! Please use your organization's SSO to access your account."),
        "{}",
        p.body
    );
    assert!(p.id("error-detail").unwrap().contains("access_denied"));
    // The secret never shows in the admin API.
    let (_, state) = w.sp.get(&format!("/api/admin/orgs/{}", w.org)).await;
    assert_eq!(state["sso"]["client_secret"], "[redacted]");
    assert!(!state.to_string().contains(SECRET));
}

#[tokio::test]
async fn the_wizard_shows_the_redirect_uri_claims_link_and_tests_sso() {
    // CFG-6 through the page: redirect URI, required claims, application link, Test SSO.
    let w = oidc_world().await;
    let b = browser();
    password_login(&w.sp, &b, "owner@acme.test", "owner-pw-1").await;
    let f = |extra: &[(&'static str, String)]| {
        let mut v: Vec<(&str, String)> =
            vec![("org", w.org.clone()), ("product", "workspace".into())];
        v.extend(extra.iter().cloned());
        v
    };
    let discovery = w.tenant["oidc"]["discovery_url"]
        .as_str()
        .unwrap()
        .to_string();
    let p = page(
        b.post(w.sp.url("/admin/identity/oidc"))
            .form(&f(&[
                ("idp_name", "authentik".into()),
                ("client_id", "chatgpt".into()),
                ("client_secret", SECRET.into()),
                ("discovery_url", "https://x.test/nope".into()),
            ]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(p.status, 400);
    assert!(
        p.error().unwrap().starts_with("discovery_url:"),
        "{:?}",
        p.error()
    );
    // A wrong secret: Test SSO reports the failure and its reason.
    let save = |secret: &'static str| {
        b.post(w.sp.url("/admin/identity/oidc"))
            .form(&f(&[
                ("idp_name", "authentik".into()),
                ("client_id", "chatgpt".into()),
                ("client_secret", secret.into()),
                ("discovery_url", discovery.clone()),
            ]))
            .send()
    };
    let p = page(save("wrong-secret").await.unwrap()).await;
    assert_eq!(p.status, 200, "{:?}", p.error());
    assert_eq!(
        p.id("login-redirect-uri"),
        Some(w.sp.url("/sso/oidc/callback"))
    );
    let claims = p.id("required-claims").unwrap();
    for c in ["sub", "email", "given_name", "family_name"] {
        assert!(claims.contains(c), "{claims}");
    }
    assert_eq!(
        p.id("application-link"),
        Some(w.sp.url(&format!("/sso/start/{}", w.org)))
    );
    let test = |b: &reqwest::Client| {
        b.post(w.sp.url("/admin/identity/test-sso"))
            .form(&[("org", w.org.as_str()), ("product", "workspace")])
            .send()
    };
    // The owner is not signed in at the IdP yet: sign in as alice there.
    let p = page(test(&b).await.unwrap()).await;
    let p = submit(&b, &p, &[("username", "alice@acme.test"), ("password", PW)]).await;
    assert!(p.body.contains("data-outcome=\"failure\""), "{}", p.body);
    assert!(
        p.id("test-result")
            .unwrap()
            .contains("token request failed"),
        "{:?}",
        p.id("test-result")
    );
    // The right secret: success, with the claims.
    let p = page(save(SECRET).await.unwrap()).await;
    assert_eq!(p.status, 200);
    let p = page(test(&b).await.unwrap()).await;
    assert!(p.body.contains("data-outcome=\"success\""), "{}", p.body);
    assert!(p.id("test-result").unwrap().contains("alice@acme.test"));
    // Then the toggle, and the application link signs a fresh browser in.
    let p = page(
        b.post(w.sp.url("/admin/identity/sso"))
            .form(&[
                ("org", w.org.as_str()),
                ("product", "workspace"),
                ("enabled", "true"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(p.id("sso-status").as_deref(), Some("On"));
    let fresh = browser();
    let p = get_page(&fresh, &w.sp.url(&format!("/sso/start/{}", w.org))).await;
    let p = submit(
        &fresh,
        &p,
        &[("username", "alice@acme.test"), ("password", PW)],
    )
    .await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("alice@acme.test"),
        "{}",
        p.body
    );
}

#[tokio::test]
async fn a_callback_link_opened_in_another_browser_is_refused() {
    // OIDC-RP-69: the attacker's own authorization response, opened by the victim.
    let w = oidc_world().await;
    w.configure(SECRET).await;
    w.sp.put(
        &format!("/api/admin/orgs/{}/sso", w.org),
        json!({"enabled": true}),
    )
    .await;
    let tid = w.tenant["id"].as_str().unwrap().to_string();
    let held = || async {
        let (s, v) = w
            .idp
            .control(
                reqwest::Method::POST,
                &format!("/_control/tenants/{tid}/faults/next"),
                json!({"faults": ["authorization_response_held"]}),
            )
            .await;
        assert_eq!(s, 204, "{v}");
    };
    held().await;
    let attacker = browser();
    let p = w.login(&attacker, "alice@acme.test").await;
    let start = p.body.find("id=\"held-response\" href=\"").expect(&p.body) + 25;
    let end = p.body[start..].find('"').unwrap() + start;
    let link = p.body[start..end].replace("&amp;", "&");
    let victim = browser();
    let got = victim.get(&link).send().await.unwrap();
    let body = got.text().await.unwrap();
    assert!(!body.contains("id=\"signed-in-as\""), "{body}");
    assert!(body.contains("not issued to this browser"), "{body}");
    // The browser that started the sign-in still finishes it with its own link.
    held().await;
    let owner = browser();
    let p = w.login(&owner, "alice@acme.test").await;
    let start = p.body.find("id=\"held-response\" href=\"").expect(&p.body) + 25;
    let end = p.body[start..].find('"').unwrap() + start;
    let link = p.body[start..end].replace("&amp;", "&");
    let body = owner.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("id=\"signed-in-as\""), "{body}");
}

#[tokio::test]
async fn bad_id_tokens_are_refused() {
    let w = oidc_world().await;
    w.configure(SECRET).await;
    w.sp.put(
        &format!("/api/admin/orgs/{}/sso", w.org),
        json!({"enabled": true}),
    )
    .await;
    let tid = w.tenant["id"].as_str().unwrap().to_string();
    let mut failures = Vec::new();
    for fault in [
        "id_token_bad_signature",
        "id_token_alg_none",
        "id_token_hs256_public_key",
        "id_token_unknown_kid",
        "id_token_wrong_issuer",
        "id_token_wrong_audience",
        "id_token_expired",
        "id_token_nonce_mismatch",
        "id_token_nonce_missing",
        "state_mismatch",
        "token_invalid_grant",
    ] {
        let (s, v) = w
            .idp
            .control(
                reqwest::Method::POST,
                &format!("/_control/tenants/{tid}/faults/next"),
                json!({"faults": [fault]}),
            )
            .await;
        assert_eq!(s, 204, "{v}");
        let p = w.login(&browser(), "alice@acme.test").await;
        if p.id("signed-in-as").is_some() || p.error().is_none() {
            failures.push(format!("{fault}: accepted or no error ({})", p.status));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let p = w.login(&browser(), "alice@acme.test").await;
    assert!(p.id("signed-in-as").is_some());
}

#[tokio::test]
async fn social_sign_in_signs_up_and_obeys_enforcement() {
    // Social sign-in through a google-profile tenant; ERR-2 for a password account; ENF-2/3.
    let idp = start_idp().await;
    let dir = tempfile::tempdir().unwrap();
    // The SP's address must be known before the client's redirect URI: bind, then register.
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);
    let google = tenant(
        &idp,
        "google",
        &format!("http://{addr}/sso/social/callback"),
        json!([]),
    )
    .await;
    let tid = google["id"].as_str().unwrap();
    for (email, given) in [
        ("gina@gmail.test", "Gina"),
        ("bob@acme.test", "Bob"),
        ("pat@acme.test", "Pat"),
    ] {
        let (s, v) = idp
            .control(
                reqwest::Method::POST,
                &format!("/_control/tenants/{tid}/users"),
                json!({"email": email, "given_name": given, "family_name": "G", "password": PW}),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }
    let mut o = options(&dir, Some(idp.dns()), false);
    o.listen = addr;
    o.social = Some(reference_sp::SocialOptions {
        discovery_url: google["oidc"]["discovery_url"]
            .as_str()
            .unwrap()
            .to_string(),
        client_id: "chatgpt".into(),
        client_secret: reference_sp::Secret::new(SECRET),
    });
    let sp = Sp {
        sp: reference_sp::serve(o).await.unwrap(),
        dir,
        admin: reqwest::Client::new(),
    };
    let social = |b: reqwest::Client, email: &'static str| {
        let sp = &sp;
        async move {
            let p = post_form(&b, &sp.url("/login"), &[("email", email)]).await;
            assert!(p.body.contains("id=\"social-google\""), "{}", p.body);
            let p = post_form(&b, &sp.url("/login/social"), &[("email", email)]).await;
            submit(&b, &p, &[("username", email), ("password", PW)]).await
        }
    };
    // A new user signs up with Google and has no password (LOGIN-4 side).
    let p = social(browser(), "gina@gmail.test").await;
    assert_eq!(
        p.id("signed-in-as").as_deref(),
        Some("gina@gmail.test"),
        "{}",
        p.body
    );
    assert_eq!(p.id("sign-in-method").as_deref(), Some("social"));
    let p = post_form(
        &browser(),
        &sp.url("/login/password"),
        &[("email", "gina@gmail.test"), ("password", "x")],
    )
    .await;
    assert!(p.error().unwrap().contains("identity_provider_mismatch"));
    // A password account trying Google: ERR-2 wording with the method used.
    let org = sp.org("enterprise", "custom").await;
    sp.user(
        &org,
        "pat@acme.test",
        "member",
        "password",
        Some("pat-pw-12"),
    )
    .await;
    let p = social(browser(), "pat@acme.test").await;
    assert!(
        p.error()
            .unwrap()
            .starts_with("You tried signing in as pat@acme.test using Google"),
        "{:?}",
        p.error()
    );
    // Enforced workspace with acme.test verified: a social member of acme.test is refused,
    // a social guest is not.
    sp.user(&org, "bob@acme.test", "member", "social", None)
        .await;
    sp.user(&org, "gina@gmail.test", "member", "social", None)
        .await;
    verify_domain(&sp, &idp, &org, "acme.test").await;
    let saml_tenant = {
        let (_, t) = idp
            .control(
                reqwest::Method::POST,
                "/_control/tenants",
                json!({"profile": "okta"}),
            )
            .await;
        t
    };
    sp.put(&format!("/api/admin/orgs/{org}/sso/saml"), json!({"sso_url": saml_tenant["saml"]["sso_url"], "certificate_pem": saml_tenant["saml"]["certificate_pem"]})).await;
    sp.put(
        &format!("/api/admin/orgs/{org}/sso"),
        json!({"enabled": true}),
    )
    .await;
    let (s, _) = sp
        .put(
            &format!("/api/admin/orgs/{org}/enforce"),
            json!({"enforced": true}),
        )
        .await;
    assert_eq!(s, 204);
    let b = browser();
    let p = post_form(&b, &sp.url("/login/social"), &[("email", "bob@acme.test")]).await;
    let p = submit(&b, &p, &[("username", "bob@acme.test"), ("password", PW)]).await;
    assert_eq!(
        p.error().as_deref(),
        Some("Oops! Please use your organization's SSO to access your account."),
        "{}",
        p.body
    );
    assert_eq!(p.id("error-code").as_deref(), Some("require_sso_login"));
    let p = social(browser(), "gina@gmail.test").await;
    assert!(
        p.body.contains(&format!("data-org=\"{org}\"")),
        "{}",
        p.body
    );
}
