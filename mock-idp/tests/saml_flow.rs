#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The SAML IdP over HTTP as a browser meets it: SSO by Redirect and POST, login page,
//! auto-submitting form, dashboard tiles, IdP-initiated sign-in, and the faults that live
//! in the flow rather than in the XML (replay, 404, access denied, slow response).

mod saml_support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mock_idp::saml::request::encode_redirect;
use mock_idp::server::{RunningIdp, ServeOptions, serve};
use reqwest::StatusCode;
use saml_support::*;
use serde_json::{Value, json};

const ACS: &str = "http://sp.test/acs?connection=org-1";
const AUDIENCE: &str = "urn:sp:org-1";

struct Setup {
    _idp: RunningIdp,
    base: String,
    browser: reqwest::Client,
    control: reqwest::Client,
    info: Value,
}

async fn setup(profile: &str, id: &str) -> Setup {
    let idp = serve(ServeOptions::default()).await.unwrap();
    let base = idp.base_url().as_str().trim_end_matches('/').to_string();
    let control = reqwest::Client::new();
    let r = control
        .post(format!("{base}/_control/tenants"))
        .json(&json!({
            "id": id, "profile": profile,
            "users": [{"email": "alice@acme.test", "given_name": "Alice", "family_name": "Ng", "password": "pw-canary-123"}],
            "sp": {"entity_id": AUDIENCE, "acs_url": ACS},
            "apps": [
                {"name": "Workspace", "url": "http://sp.test/sso/tile/org-1/workspace", "mode": "idp_initiated"},
                {"name": "Docs", "url": "http://sp.test/docs", "mode": "link"}
            ]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let info = r.json().await.unwrap();
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .unwrap();
    Setup {
        _idp: idp,
        base,
        browser,
        control,
        info,
    }
}

fn authn_request(id: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" AssertionConsumerServiceURL="{}"><saml:Issuer>{AUDIENCE}</saml:Issuer></samlp:AuthnRequest>"#,
        ACS.replace('&', "&amp;")
    )
}

impl Setup {
    fn tenant_url(&self, key: &str) -> String {
        self.info["saml"][key].as_str().unwrap().to_string()
    }

    fn cert(&self) -> String {
        self.tenant_url("certificate_pem")
    }

    async fn sso_redirect(&self, request_id: &str, relay: &str) -> reqwest::Response {
        self.browser
            .get(self.tenant_url("sso_url"))
            .query(&[
                ("SAMLRequest", encode_redirect(&authn_request(request_id))),
                ("RelayState", relay.to_string()),
            ])
            .send()
            .await
            .unwrap()
    }

    async fn login(&self, login_page_html: &str, password: &str) -> reqwest::Response {
        let action = form_action(login_page_html).unwrap();
        let mut fields = vec![
            ("username", "alice@acme.test".to_string()),
            ("password", password.to_string()),
        ];
        if let Some(flow) = hidden_input(login_page_html, "flow") {
            fields.push(("flow", flow));
        }
        if let Some(next) = hidden_input(login_page_html, "next") {
            fields.push(("next", next));
        }
        self.browser
            .post(format!("{}{action}", self.base))
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    async fn faults(&self, id: &str, next: bool, faults: &[&str]) {
        let url = if next {
            format!("{}/_control/tenants/{id}/faults/next", self.base)
        } else {
            format!("{}/_control/tenants/{id}/faults", self.base)
        };
        let r = if next {
            self.control
                .post(url)
                .json(&json!({"faults": faults}))
                .send()
                .await
                .unwrap()
        } else {
            self.control
                .put(url)
                .json(&json!({"faults": faults}))
                .send()
                .await
                .unwrap()
        };
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
}

/// The SAMLResponse XML and RelayState of an auto-submit form, after checking where it posts.
fn posted(html: &str, acs: &str) -> (String, Option<String>) {
    assert_eq!(form_action(html).unwrap(), acs, "{html}");
    assert!(html.contains("document.forms[0].submit()"));
    let b64 = hidden_input(html, "SAMLResponse").unwrap();
    let xml = String::from_utf8(B64.decode(b64).unwrap()).unwrap();
    (xml, hidden_input(html, "RelayState"))
}

#[tokio::test]
async fn sp_initiated_login_by_redirect_then_session_reuse_and_post_binding() {
    let s = setup("okta", "flow-1").await;
    let r = s.sso_redirect("_req-1", "rs-1").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.url().path().ends_with("/login"));
    let login = r.text().await.unwrap();
    for hook in ["name=\"username\"", "name=\"password\"", "id=\"login\""] {
        assert!(login.contains(hook), "{hook}");
    }
    // Wrong password: the page again, with .error.
    let r = s.login(&login, "wrong").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let again = r.text().await.unwrap();
    assert!(again.contains("class=\"error\""));

    let r = s.login(&again, "pw-canary-123").await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie_ok = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("mockidp_session="));
    assert!(cookie_ok);
    let (xml, relay) = posted(&r.text().await.unwrap(), ACS);
    assert_eq!(relay.as_deref(), Some("rs-1"));
    assert!(xmlsec_verify(&xml, &s.cert()), "{xml}");
    let e = elements(&xml);
    assert_eq!(
        first(&e, "Response").unwrap().attrs["InResponseTo"],
        "_req-1"
    );
    assert_eq!(first(&e, "Audience").unwrap().text, AUDIENCE);

    // Signed in already: the next request is answered at once.
    let r = s.sso_redirect("_req-2", "rs-2").await;
    let (xml, relay) = posted(&r.text().await.unwrap(), ACS);
    assert_eq!(relay.as_deref(), Some("rs-2"));
    assert_eq!(
        first(&elements(&xml), "Response").unwrap().attrs["InResponseTo"],
        "_req-2"
    );

    // HTTP-POST binding.
    let r = s
        .browser
        .post(s.tenant_url("sso_url_post"))
        .form(&[
            ("SAMLRequest", B64.encode(authn_request("_req-3"))),
            ("RelayState", "rs-3".into()),
        ])
        .send()
        .await
        .unwrap();
    let (xml, _) = posted(&r.text().await.unwrap(), ACS);
    assert_eq!(
        first(&elements(&xml), "Response").unwrap().attrs["InResponseTo"],
        "_req-3"
    );

    // The exchange log has the decoded request and response, and never the password.
    let log: Vec<Value> = s
        .control
        .get(format!("{}/_control/tenants/flow-1/exchanges", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = log.iter().map(|x| x["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"authn_request")
            && kinds.contains(&"saml_response")
            && kinds.contains(&"login"),
        "{kinds:?}"
    );
    let req = log.iter().find(|x| x["kind"] == "authn_request").unwrap();
    assert!(
        req["decoded"]
            .as_str()
            .unwrap()
            .contains("\n  <saml:Issuer>urn:sp:org-1</saml:Issuer>"),
        "{req}"
    );
    let resp = log.iter().find(|x| x["kind"] == "saml_response").unwrap();
    assert!(
        resp["decoded"].as_str().unwrap().contains("<saml:NameID"),
        "{resp}"
    );
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains("pw-canary-123"));
    assert!(!text.contains("PRIVATE KEY"));

    // Bad SAMLRequest: a clear 400.
    let r = s
        .browser
        .get(s.tenant_url("sso_url"))
        .query(&[("SAMLRequest", "%%%")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn metadata_lists_certificate_and_both_bindings() {
    let s = setup("generic", "md").await;
    let r = s
        .browser
        .get(s.tenant_url("metadata_url"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let md = r.text().await.unwrap();
    let e = elements(&md);
    assert_eq!(
        first(&e, "EntityDescriptor").unwrap().attrs["entityID"],
        s.tenant_url("entity_id")
    );
    let bindings: Vec<&str> = all(&e, "SingleSignOnService")
        .iter()
        .map(|x| x.attrs["Binding"].as_str())
        .collect();
    assert_eq!(bindings.len(), 2);
    assert!(
        bindings.iter().any(|b| b.ends_with("HTTP-Redirect"))
            && bindings.iter().any(|b| b.ends_with("HTTP-POST"))
    );
    let pem = s.cert();
    let der = openssl::x509::X509::from_pem(pem.as_bytes())
        .unwrap()
        .to_der()
        .unwrap();
    assert_eq!(first(&e, "X509Certificate").unwrap().text, B64.encode(der));
    let parsed: samael::metadata::EntityDescriptor = md.parse().unwrap();
    assert_eq!(
        parsed.entity_id.as_deref(),
        Some(s.tenant_url("entity_id").as_str())
    );
}

#[tokio::test]
async fn replay_resends_the_previous_response_verbatim() {
    let s = setup("generic", "rp").await;
    let login = s.sso_redirect("_req-a", "").await.text().await.unwrap();
    let first_html = s.login(&login, "pw-canary-123").await.text().await.unwrap();
    let first_b64 = hidden_input(&first_html, "SAMLResponse").unwrap();
    s.faults("rp", true, &["replay"]).await;
    let again = s.sso_redirect("_req-b", "").await.text().await.unwrap();
    assert_eq!(hidden_input(&again, "SAMLResponse").unwrap(), first_b64);
    // Next-only: the one after is fresh again.
    let fresh = s.sso_redirect("_req-c", "").await.text().await.unwrap();
    let (xml, _) = posted(&fresh, ACS);
    assert_eq!(
        first(&elements(&xml), "Response").unwrap().attrs["InResponseTo"],
        "_req-c"
    );
}

#[tokio::test]
async fn a_held_response_is_shown_unsent_then_the_next_is_posted_again() {
    let s = setup("generic", "held").await;
    s.faults("held", true, &["saml_response_held"]).await;
    let login = s
        .sso_redirect("_req-held", "rs-1")
        .await
        .text()
        .await
        .unwrap();
    let held = s.login(&login, "pw-canary-123").await.text().await.unwrap();
    // The form an attacker would copy: the genuine Response to this request, never submitted.
    assert!(held.contains("id=\"held-response\""), "{held}");
    assert!(!held.contains("document.forms[0].submit()"), "{held}");
    assert_eq!(form_action(&held).unwrap(), ACS);
    assert_eq!(hidden_input(&held, "RelayState").as_deref(), Some("rs-1"));
    let xml = String::from_utf8(
        B64.decode(hidden_input(&held, "SAMLResponse").unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        first(&elements(&xml), "Response").unwrap().attrs["InResponseTo"],
        "_req-held"
    );
    // Next-only: the one after is posted as usual.
    let fresh = s.sso_redirect("_req-next", "").await.text().await.unwrap();
    posted(&fresh, ACS);
}

#[tokio::test]
async fn entra_sso_url_404_and_unknown_paths_say_sts_page_cannot_be_found() {
    let s = setup("entra", "entra-1").await;
    s.faults("entra-1", false, &["sso_url_404"]).await;
    let r = s.sso_redirect("_req", "").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("The sts.windows.net page cannot be found")
    );
    let r = s
        .browser
        .get(format!("{}/t/entra-1/old/saml2", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("The sts.windows.net page cannot be found")
    );
    s.faults("entra-1", false, &[]).await;
    assert_eq!(s.sso_redirect("_req", "").await.status(), StatusCode::OK);
    // Another profile's 404 does not pretend to be Entra.
    let g = setup("generic", "g404").await;
    g.faults("g404", false, &["sso_url_404"]).await;
    let r = g.sso_redirect("_req", "").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(!r.text().await.unwrap().contains("sts.windows.net"));
}

#[tokio::test]
async fn user_not_assigned_sees_access_denied() {
    let s = setup("okta", "na").await;
    s.faults("na", false, &["user_not_assigned"]).await;
    let login = s.sso_redirect("_req", "").await.text().await.unwrap();
    let r = s.login(&login, "pw-canary-123").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"access-denied\""));
    assert!(!html.contains("SAMLResponse"));
}

#[tokio::test]
async fn dashboard_tiles_and_idp_initiated_sign_in() {
    let s = setup("okta", "dash").await;
    // Not signed in: the dashboard sends to the login page and back.
    let r = s
        .browser
        .get(s.tenant_url("dashboard_url"))
        .send()
        .await
        .unwrap();
    assert!(r.url().path().ends_with("/login"));
    let login = r.text().await.unwrap();
    let r = s.login(&login, "pw-canary-123").await;
    assert!(r.url().path().ends_with("/dashboard"), "{}", r.url());
    let html = r.text().await.unwrap();
    assert!(
        html.contains("class=\"tile\" data-app=\"Workspace\""),
        "{html}"
    );
    assert!(
        html.contains("data-app=\"Docs\" href=\"http://sp.test/docs\""),
        "{html}"
    );

    let tile = s.info["saml"]["tile_urls"]["Workspace"].as_str().unwrap();
    let r = s.browser.get(tile).send().await.unwrap();
    let (xml, relay) = posted(&r.text().await.unwrap(), ACS);
    assert_eq!(
        relay.as_deref(),
        Some("http://sp.test/sso/tile/org-1/workspace")
    );
    assert!(xmlsec_verify(&xml, &s.cert()));
    let e = elements(&xml);
    assert!(
        !first(&e, "Response")
            .unwrap()
            .attrs
            .contains_key("InResponseTo")
    );

    let r = s
        .browser
        .get(s.tenant_url("idp_initiated_url"))
        .query(&[("relay_state", "http://sp.test/after")])
        .send()
        .await
        .unwrap();
    let (_, relay) = posted(&r.text().await.unwrap(), ACS);
    assert_eq!(relay.as_deref(), Some("http://sp.test/after"));
}

#[tokio::test]
async fn changed_user_email_keeps_uid_across_logins() {
    let s = setup("generic", "ch").await;
    let login = s.sso_redirect("_r1", "").await.text().await.unwrap();
    let (before, _) = posted(
        &s.login(&login, "pw-canary-123").await.text().await.unwrap(),
        ACS,
    );
    let r = s
        .control
        .patch(format!(
            "{}/_control/tenants/ch/users/alice@acme.test",
            s.base
        ))
        .json(&json!({"email": "alice.ng@acme.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (after, _) = posted(&s.sso_redirect("_r2", "").await.text().await.unwrap(), ACS);
    assert_eq!(
        first(&elements(&after), "NameID").unwrap().text,
        "alice.ng@acme.test"
    );
    assert_eq!(
        attribute_values(&before, "uid"),
        attribute_values(&after, "uid")
    );
}

#[tokio::test]
async fn slow_response_waits_before_answering() {
    let s = setup("generic", "slow").await;
    let login = s.sso_redirect("_r1", "").await.text().await.unwrap();
    s.faults("slow", true, &["slow_response"]).await;
    let started = std::time::Instant::now();
    let r = s.login(&login, "pw-canary-123").await;
    assert!(started.elapsed() >= mock_idp::saml::SLOW_RESPONSE);
    posted(&r.text().await.unwrap(), ACS);
}
