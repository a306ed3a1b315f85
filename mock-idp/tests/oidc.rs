//! The mock IdP's OIDC provider against an independent relying party: the `openidconnect`
//! crate does discovery, the code flow with PKCE, the token request, ID token verification
//! and userinfo; a reqwest client with a cookie store plays the browser at the login form.
//! Every token fault must be rejected by that RP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod oidc_support;

use std::time::Duration;

use mock_idp::server::{RunningIdp, ServeOptions, serve};
use oidc_support::{browser, submit_login};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreIdTokenClaims,
    CoreProviderMetadata, CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    DiscoveryError, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl,
    RequestTokenError, Scope, SignatureVerificationError, TokenResponse, UserInfoError,
};
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/rp/callback";
const SECRET: &str = "rp-secret-canary-4242";
const PASSWORD: &str = "pw-canary-1717";
const PROFILES: &[&str] = &[
    "authentik",
    "okta",
    "entra",
    "google",
    "keycloak",
    "generic",
];

/// The RP's own HTTP client: openidconnect requires redirects off.
fn rp_http(timeout: Option<Duration>) -> reqwest::Client {
    let mut b = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(t) = timeout {
        b = b.timeout(t);
    }
    b.build().unwrap()
}

struct Idp {
    server: RunningIdp,
    control: reqwest::Client,
}

impl Idp {
    async fn start() -> Self {
        Self {
            server: serve(ServeOptions::default()).await.unwrap(),
            control: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base_url(), path.trim_start_matches('/'))
    }

    /// Creates a tenant with one user and registers a client through the control API.
    async fn tenant(&self, id: &str, profile: &str, allowed_groups: &[&str]) -> Value {
        let r = self
            .control
            .post(self.url("/_control/tenants"))
            .json(&json!({
                "id": id,
                "profile": profile,
                "users": [{
                    "email": "alice@acme.test", "given_name": "Alice", "family_name": "Ng",
                    "password": PASSWORD, "groups": ["chatgpt"], "claims": {"locale": "en"}
                }],
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let info: Value = r.json().await.unwrap();
        let r = self
            .control
            .post(self.url(&format!("/_control/tenants/{id}/oidc/clients")))
            .json(&json!({
                "client_id": "rp-1", "client_secret": SECRET, "redirect_uris": [REDIRECT],
                "scopes": ["openid", "email", "profile"], "allowed_groups": allowed_groups,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        info
    }

    async fn faults(&self, id: &str, faults: &[&str]) {
        let r = self
            .control
            .put(self.url(&format!("/_control/tenants/{id}/faults")))
            .json(&json!({ "faults": faults }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }

    async fn exchanges(&self, id: &str) -> Value {
        self.control
            .get(self.url(&format!("/_control/tenants/{id}/exchanges")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// The relying party: discovered metadata and a configured client.
struct Rp {
    http: reqwest::Client,
    client: openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
}

async fn discover(issuer: &str, http: &reqwest::Client) -> Result<CoreProviderMetadata, String> {
    CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.to_string()).unwrap(), http)
        .await
        .map_err(|e| match e {
            DiscoveryError::Validation(m) => format!("validation: {m}"),
            other => format!("{other:?}"),
        })
}

async fn rp(info: &Value, auth: AuthType) -> Rp {
    let http = rp_http(None);
    let issuer = info["oidc"]["issuer"].as_str().unwrap();
    let metadata = discover(issuer, &http).await.unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("rp-1".into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
    .set_auth_type(auth);
    Rp { http, client }
}

/// What came back to the redirect URI.
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Drives the browser through authorize and the login form; returns the callback.
async fn sign_in(browser: &reqwest::Client, auth_url: &str, password: &str) -> Callback {
    let r = browser.get(auth_url).send().await.unwrap();
    let location = if r.status() == 200 {
        let page = r.text().await.unwrap();
        assert!(page.contains("name=\"username\""), "{page}");
        assert!(page.contains("id=\"login\""), "{page}");
        let r = submit_login(browser, &page, "alice@acme.test", password).await;
        assert!(
            r.status().is_redirection(),
            "login answered {}: {}",
            r.status(),
            r.text().await.unwrap()
        );
        r.headers()["location"].to_str().unwrap().to_string()
    } else {
        assert!(
            r.status().is_redirection(),
            "authorize answered {}",
            r.status()
        );
        r.headers()["location"].to_str().unwrap().to_string()
    };
    assert!(location.starts_with(REDIRECT), "{location}");
    let url = url::Url::parse(&location).unwrap();
    let get = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    Callback {
        code: get("code"),
        state: get("state"),
        error: get("error"),
    }
}

/// One complete sign-in as the RP sees it, up to the token response.
struct SignIn {
    csrf: CsrfToken,
    nonce: Nonce,
    callback: Callback,
    token: Result<CoreTokenResponse, String>,
}

async fn code_flow(rp: &Rp, plain_pkce: bool) -> SignIn {
    // openidconnect offers only S256 without its `pkce-plain` feature, so the plain method is
    // sent as the raw RFC 7636 parameters.
    const PLAIN: &str = "plain-verifier-0123456789-0123456789-0123456789";
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = rp.client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    request = request
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()));
    request = if plain_pkce {
        request
            .add_extra_param("code_challenge", PLAIN)
            .add_extra_param("code_challenge_method", "plain")
    } else {
        request.set_pkce_challenge(challenge)
    };
    let (url, csrf, nonce) = request.url();
    let callback = sign_in(&browser(), url.as_str(), PASSWORD).await;
    let code = callback.code.clone().expect("a code");
    let mut exchange = rp
        .client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap();
    exchange = if plain_pkce {
        exchange.add_extra_param("code_verifier", PLAIN)
    } else {
        exchange.set_pkce_verifier(verifier)
    };
    let token = exchange.request_async(&rp.http).await.map_err(|e| match e {
        RequestTokenError::ServerResponse(r) => format!("server: {}", r.error()),
        RequestTokenError::Parse(e, _) => format!("parse: {e}"),
        other => format!("{other:?}"),
    });
    SignIn {
        csrf,
        nonce,
        callback,
        token,
    }
}

/// The RP's verdict on the ID token.
fn verify<'a>(
    rp: &Rp,
    token: &'a CoreTokenResponse,
    nonce: &Nonce,
) -> Result<&'a CoreIdTokenClaims, ClaimsVerificationError> {
    token
        .id_token()
        .expect("an id_token")
        .claims(&rp.client.id_token_verifier(), nonce)
}

/// The claims the documented product requires (CFG-6), and a verified email: an RP policy
/// on top of what the openidconnect crate checks.
fn required_claims(claims: &CoreIdTokenClaims) -> Result<(), String> {
    if claims.email().is_none() {
        return Err("missing claim: email".into());
    }
    if claims.given_name().is_none() {
        return Err("missing claim: given_name".into());
    }
    if claims.family_name().is_none() {
        return Err("missing claim: family_name".into());
    }
    if claims.email_verified() != Some(true) {
        return Err("email is not verified".into());
    }
    Ok(())
}

async fn userinfo(
    rp: &Rp,
    token: &CoreTokenResponse,
    claims: &CoreIdTokenClaims,
) -> Result<CoreUserInfoClaims, String> {
    rp.client
        .user_info(token.access_token().clone(), Some(claims.subject().clone()))
        .unwrap()
        .request_async(&rp.http)
        .await
        .map_err(|e| match e {
            UserInfoError::ClaimsVerification(c) => format!("claims: {c:?}"),
            other => format!("{other:?}"),
        })
}

#[tokio::test]
async fn code_flow_with_pkce_completes_against_every_profile() {
    let idp = Idp::start().await;
    for profile in PROFILES {
        let id = format!("p-{profile}");
        let info = idp.tenant(&id, profile, &[]).await;
        let rp = rp(&info, AuthType::BasicAuth).await;
        let s = code_flow(&rp, false).await;
        assert_eq!(
            s.callback.state.as_deref(),
            Some(s.csrf.secret().as_str()),
            "{profile}"
        );
        let token = s.token.unwrap_or_else(|e| panic!("{profile}: {e}"));
        let claims = verify(&rp, &token, &s.nonce).unwrap_or_else(|e| panic!("{profile}: {e:?}"));
        required_claims(claims).unwrap();
        assert_eq!(
            claims.issuer().as_str(),
            info["oidc"]["issuer"].as_str().unwrap()
        );
        assert_eq!(claims.email().unwrap().as_str(), "alice@acme.test");
        assert_ne!(
            claims.subject().as_str(),
            "alice@acme.test",
            "sub is not the email"
        );
        let given = claims
            .given_name()
            .unwrap()
            .get(None)
            .unwrap()
            .as_str()
            .to_string();
        assert_eq!(given, "Alice");
        let ui = userinfo(&rp, &token, claims)
            .await
            .unwrap_or_else(|e| panic!("{profile}: {e}"));
        assert_eq!(ui.subject(), claims.subject());
        assert_eq!(ui.email().unwrap().as_str(), "alice@acme.test");
    }
}

#[tokio::test]
async fn layouts_follow_the_profile() {
    let idp = Idp::start().await;
    let base = idp
        .server
        .base_url()
        .as_str()
        .trim_end_matches('/')
        .to_string();
    let a = idp.tenant("ak", "authentik", &[]).await;
    assert_eq!(
        a["oidc"]["issuer"],
        format!("{base}/t/ak/application/o/ak/")
    );
    assert_eq!(
        a["oidc"]["authorization_endpoint"],
        format!("{base}/t/ak/application/o/authorize/")
    );
    assert_eq!(
        a["oidc"]["jwks_uri"],
        format!("{base}/t/ak/application/o/ak/jwks/")
    );
    let o = idp.tenant("ok", "okta", &[]).await;
    assert_eq!(
        o["oidc"]["token_endpoint"],
        format!("{base}/t/ok/oauth2/default/v1/token")
    );
    let e = idp.tenant("en", "entra", &[]).await;
    let issuer = e["oidc"]["issuer"].as_str().unwrap();
    assert!(
        issuer.starts_with(&format!("{base}/t/en/")) && issuer.ends_with("/v2.0"),
        "{issuer}"
    );
    // A wrong directory GUID under an Entra tenant: Entra's 404 page (ERR-9).
    let wrong = issuer.replace("/t/en/", "/t/en/00000000-0000-0000-0000-000000000000/x/");
    let r = idp
        .control
        .get(format!("{wrong}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = idp
        .control
        .post(idp.url(&format!(
            "/t/en/{}/oauth2/v2.0/token",
            "11111111-2222-3333-4444-555555555555"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("The sts.windows.net page cannot be found")
    );
    let k = idp.tenant("kc", "keycloak", &[]).await;
    assert_eq!(k["oidc"]["issuer"], format!("{base}/t/kc/realms/kc"));
    // Another profile's path is not served for this tenant.
    let r = idp
        .control
        .get(idp.url("/t/ok/realms/ok/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // JWKS carries the current and the next key.
    let jwks: Value = idp
        .control
        .get(o["oidc"]["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2);
    assert_ne!(kids[0], kids[1]);
}

#[tokio::test]
async fn plain_pkce_and_client_secret_post_work_too() {
    let idp = Idp::start().await;
    let info = idp.tenant("post", "okta", &[]).await;
    let rp = rp(&info, AuthType::RequestBody).await;
    let s = code_flow(&rp, true).await;
    let token = s.token.unwrap();
    verify(&rp, &token, &s.nonce).unwrap();
    let log = idp.exchanges("post").await;
    let req = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "token_request")
        .unwrap();
    assert_eq!(req["decoded"]["client_auth"], "client_secret_post");
}

#[tokio::test]
async fn redirect_uri_mismatch_shows_an_error_page_and_never_redirects() {
    let idp = Idp::start().await;
    let info = idp.tenant("rm", "authentik", &[]).await;
    let auth = info["oidc"]["authorization_endpoint"].as_str().unwrap();
    for wrong in [
        format!("{REDIRECT}/"),
        "http://127.0.0.1:9/rp/CALLBACK".to_string(),
        "http://evil.test/cb".into(),
    ] {
        let r = browser()
            .get(auth)
            .query(&[
                ("client_id", "rp-1"),
                ("redirect_uri", wrong.as_str()),
                ("response_type", "code"),
                ("scope", "openid"),
                ("state", "s"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{wrong}");
        assert!(r.headers().get("location").is_none(), "{wrong}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("id=\"redirect-uri-mismatch\""),
            "{wrong}"
        );
    }
}

#[tokio::test]
async fn a_user_outside_the_allowed_groups_gets_access_denied() {
    let idp = Idp::start().await;
    let info = idp.tenant("grp", "authentik", &["admins"]).await;
    let rp = rp(&info, AuthType::BasicAuth).await;
    let (url, csrf, _) = rp
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let cb = sign_in(&browser(), url.as_str(), PASSWORD).await;
    assert_eq!(cb.error.as_deref(), Some("access_denied"));
    assert!(cb.code.is_none());
    assert_eq!(cb.state.as_deref(), Some(csrf.secret().as_str()));
}

#[tokio::test]
async fn codes_are_single_use_and_short_lived_by_the_tenant_clock() {
    let idp = Idp::start().await;
    let info = idp.tenant("code", "generic", &[]).await;
    let rp = rp(&info, AuthType::BasicAuth).await;
    let (url, _, _) = rp
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let b = browser();
    let code = sign_in(&b, url.as_str(), PASSWORD).await.code.unwrap();
    let exchange = |code: String| async {
        rp.client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .request_async(&rp.http)
            .await
    };
    exchange(code.clone()).await.unwrap();
    match exchange(code).await {
        Err(RequestTokenError::ServerResponse(r)) => {
            assert_eq!(*r.error(), CoreErrorResponseType::InvalidGrant)
        }
        other => panic!("second use: {other:?}"),
    }
    // Already signed in: the browser goes straight back with a code; then time moves on.
    let code = sign_in(&b, url.as_str(), PASSWORD).await.code.unwrap();
    let r = idp
        .control
        .put(idp.url("/_control/tenants/code/clock"))
        .json(&json!({"offset_seconds": 120}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    match exchange(code).await {
        Err(RequestTokenError::ServerResponse(r)) => {
            assert_eq!(*r.error(), CoreErrorResponseType::InvalidGrant)
        }
        other => panic!("expired code: {other:?}"),
    }
}

#[tokio::test]
async fn wrong_password_reshows_the_form_and_wrong_client_secret_is_refused() {
    let idp = Idp::start().await;
    let info = idp.tenant("pw", "okta", &[]).await;
    let rp = rp(&info, AuthType::BasicAuth).await;
    let (url, _, _) = rp
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let b = browser();
    let page = b
        .get(url.as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = submit_login(&b, &page, "alice@acme.test", "nope").await;
    // The SAML side's login page answers a wrong password with 401 and the form again.
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("class=\"error\""));
    let code = sign_in(&b, url.as_str(), PASSWORD).await.code.unwrap();
    let wrong = CoreClient::from_provider_metadata(
        discover(info["oidc"]["issuer"].as_str().unwrap(), &rp.http)
            .await
            .unwrap(),
        ClientId::new("rp-1".into()),
        Some(ClientSecret::new("not-the-secret".into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    match wrong
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&rp.http)
        .await
    {
        Err(RequestTokenError::ServerResponse(r)) => {
            assert_eq!(*r.error(), CoreErrorResponseType::InvalidClient)
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn end_session_signs_the_browser_out() {
    let idp = Idp::start().await;
    let info = idp.tenant("bye", "keycloak", &[]).await;
    let rp = rp(&info, AuthType::BasicAuth).await;
    let (url, _, _) = rp
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let b = browser();
    sign_in(&b, url.as_str(), PASSWORD).await;
    // Signed in: authorize redirects at once.
    assert!(
        b.get(url.as_str())
            .send()
            .await
            .unwrap()
            .status()
            .is_redirection()
    );
    let end = info["oidc"]["end_session_endpoint"].as_str().unwrap();
    let r = b
        .get(end)
        .query(&[("post_logout_redirect_uri", REDIRECT), ("state", "bye-1")])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("{REDIRECT}?state=bye-1")
    );
    // Signed out: the login form again.
    assert_eq!(b.get(url.as_str()).send().await.unwrap().status(), 200);
    let r = b
        .get(end)
        .query(&[("post_logout_redirect_uri", "http://evil.test/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
}

#[tokio::test]
async fn the_exchange_log_decodes_tokens_and_never_shows_secrets() {
    let idp = Idp::start().await;
    let info = idp.tenant("log", "authentik", &[]).await;
    let rp = rp(&info, AuthType::BasicAuth).await;
    let s = code_flow(&rp, false).await;
    let token = s.token.unwrap();
    let code = s.callback.code.unwrap();
    let log = idp.exchanges("log").await;
    let text = log.to_string();
    let id_token = token.id_token().unwrap().to_string();
    let signature = id_token.rsplit('.').next().unwrap();
    for secret in [
        SECRET,
        PASSWORD,
        code.as_str(),
        token.access_token().secret().as_str(),
        signature,
    ] {
        assert!(!text.contains(secret), "the log shows a secret: {secret}");
    }
    let entry = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "id_token")
        .unwrap();
    assert_eq!(entry["protocol"], "oidc");
    assert_eq!(entry["decoded"]["header"]["alg"], "RS256");
    assert_eq!(entry["decoded"]["claims"]["email"], "alice@acme.test");
    assert_eq!(entry["decoded"]["signature"], "[redacted]");
    for kind in [
        "discovery",
        "jwks",
        "authorization_request",
        "login",
        "authorization_response",
        "token_request",
    ] {
        assert!(
            log.as_array().unwrap().iter().any(|e| e["kind"] == kind),
            "no {kind} exchange"
        );
    }
}

// ---- token faults: the RP must reject every one -------------------------------------------

/// Signs in with `fault` set on a fresh tenant of `profile`.
async fn faulted(fault: &str, profile: &str) -> (Idp, Rp, SignIn) {
    let idp = Idp::start().await;
    let info = idp.tenant("f", profile, &[]).await;
    let rp = rp(&info, AuthType::BasicAuth).await;
    idp.faults("f", &[fault]).await;
    let s = code_flow(&rp, false).await;
    (idp, rp, s)
}

async fn id_token_error(fault: &str) -> ClaimsVerificationError {
    let (_idp, rp, s) = faulted(fault, "authentik").await;
    let token = s.token.unwrap();
    verify(&rp, &token, &s.nonce).expect_err(fault)
}

#[tokio::test]
async fn rp_rejects_a_bad_signature() {
    let e = id_token_error("id_token_bad_signature").await;
    assert!(
        matches!(
            e,
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::CryptoError(_)
            )
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn rp_rejects_alg_none() {
    let e = id_token_error("id_token_alg_none").await;
    assert!(
        matches!(
            e,
            ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoSignature)
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn rp_rejects_hs256_keyed_with_the_public_key() {
    let e = id_token_error("id_token_hs256_public_key").await;
    assert!(
        matches!(
            e,
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::DisallowedAlg(_)
            )
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn rp_rejects_an_unknown_kid() {
    let e = id_token_error("id_token_unknown_kid").await;
    assert!(
        matches!(
            e,
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey
            )
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn rp_rejects_a_token_signed_by_an_attacker_key_under_the_ops_kid() {
    // The kid names a JWKS key, so the RP finds it and the signature itself fails.
    let e = id_token_error("id_token_attacker_key").await;
    assert!(
        matches!(
            e,
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::CryptoError(_)
            )
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn rp_rejects_a_wrong_issuer() {
    let e = id_token_error("id_token_wrong_issuer").await;
    assert!(
        matches!(e, ClaimsVerificationError::InvalidIssuer(_)),
        "{e:?}"
    );
}

#[tokio::test]
async fn rp_rejects_the_entra_v1_issuer_when_it_configured_v2() {
    let (_idp, rp, s) = faulted("entra_v1_issuer", "entra").await;
    let e = verify(&rp, &s.token.unwrap(), &s.nonce).unwrap_err();
    match e {
        ClaimsVerificationError::InvalidIssuer(m) => {
            assert!(m.contains("https://sts.windows.net/"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rp_rejects_a_wrong_audience() {
    let e = id_token_error("id_token_wrong_audience").await;
    assert!(
        matches!(e, ClaimsVerificationError::InvalidAudience(_)),
        "{e:?}"
    );
}

#[tokio::test]
async fn rp_rejects_several_audiences_without_azp() {
    let e = id_token_error("id_token_multiple_audiences_no_azp").await;
    match e {
        ClaimsVerificationError::InvalidAudience(m) => {
            assert!(m.contains("not a trusted audience"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rp_rejects_an_expired_token() {
    let e = id_token_error("id_token_expired").await;
    assert!(matches!(e, ClaimsVerificationError::Expired(_)), "{e:?}");
}

#[tokio::test]
async fn rp_rejects_iat_in_the_future() {
    let (_idp, rp, s) = faulted("id_token_iat_future", "okta").await;
    let token = s.token.unwrap();
    // openidconnect accepts any iat by default; an RP that cares sets a skew limit.
    let skew_limit = |iat: i64| -> Result<(), String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        if iat > now + 60 {
            Err(format!("iat {iat} is in the future"))
        } else {
            Ok(())
        }
    };
    let verifier = rp
        .client
        .id_token_verifier()
        .set_issue_time_verifier_fn(move |iat| skew_limit(iat.timestamp()));
    let e = token
        .id_token()
        .unwrap()
        .claims(&verifier, &s.nonce)
        .unwrap_err();
    match e {
        ClaimsVerificationError::Expired(m) => assert!(m.contains("in the future"), "{m}"),
        other => panic!("{other:?}"),
    }
    // The same RP accepts a genuine token.
    let idp = Idp::start().await;
    let info = idp.tenant("g", "okta", &[]).await;
    let rp = self::rp(&info, AuthType::BasicAuth).await;
    let s = code_flow(&rp, false).await;
    let v = rp
        .client
        .id_token_verifier()
        .set_issue_time_verifier_fn(move |iat| skew_limit(iat.timestamp()));
    s.token
        .unwrap()
        .id_token()
        .unwrap()
        .claims(&v, &s.nonce)
        .unwrap();
}

#[tokio::test]
async fn rp_rejects_a_nonce_mismatch() {
    let e = id_token_error("id_token_nonce_mismatch").await;
    assert!(
        matches!(e, ClaimsVerificationError::InvalidNonce(_)),
        "{e:?}"
    );
}

#[tokio::test]
async fn rp_rejects_a_missing_nonce() {
    let e = id_token_error("id_token_nonce_missing").await;
    assert!(
        matches!(e, ClaimsVerificationError::InvalidNonce(_)),
        "{e:?}"
    );
}

#[tokio::test]
async fn rp_rejects_a_state_mismatch() {
    let (_idp, _rp, s) = faulted("state_mismatch", "google").await;
    let returned = s.callback.state.unwrap();
    // openidconnect leaves the state comparison to the RP; this is that comparison.
    assert_ne!(
        &returned,
        s.csrf.secret(),
        "the RP would accept a foreign state"
    );
}

#[tokio::test]
async fn rp_rejects_a_missing_sub() {
    let (_idp, _rp, s) = faulted("id_token_missing_sub", "keycloak").await;
    let e = s.token.map(|_| ()).unwrap_err();
    assert!(e.starts_with("parse:") && e.contains("sub"), "{e}");
}

async fn required_claim_error(fault: &str) -> String {
    let (_idp, rp, s) = faulted(fault, "generic").await;
    let token = s.token.unwrap();
    let claims = verify(&rp, &token, &s.nonce).unwrap();
    required_claims(claims).unwrap_err()
}

#[tokio::test]
async fn rp_rejects_a_missing_email() {
    assert_eq!(
        required_claim_error("id_token_missing_email").await,
        "missing claim: email"
    );
}

#[tokio::test]
async fn rp_rejects_a_missing_given_name() {
    assert_eq!(
        required_claim_error("id_token_missing_given_name").await,
        "missing claim: given_name"
    );
}

#[tokio::test]
async fn rp_rejects_a_missing_family_name() {
    assert_eq!(
        required_claim_error("id_token_missing_family_name").await,
        "missing claim: family_name"
    );
}

#[tokio::test]
async fn rp_rejects_an_unverified_email() {
    assert_eq!(
        required_claim_error("email_not_verified").await,
        "email is not verified"
    );
}

#[tokio::test]
async fn rp_rejects_a_userinfo_subject_that_differs_from_the_id_token() {
    let (_idp, rp, s) = faulted("userinfo_sub_mismatch", "okta").await;
    let token = s.token.unwrap();
    let claims = verify(&rp, &token, &s.nonce).unwrap();
    let e = userinfo(&rp, &token, claims).await.unwrap_err();
    assert!(e.contains("InvalidSubject"), "{e}");
}

#[tokio::test]
async fn rp_sees_invalid_grant_from_the_token_endpoint() {
    let (_idp, _rp, s) = faulted("token_invalid_grant", "entra").await;
    assert_eq!(s.token.map(|_| ()).unwrap_err(), "server: invalid_grant");
}

#[tokio::test]
async fn rp_rejects_a_discovery_issuer_that_differs_from_its_url() {
    let idp = Idp::start().await;
    let info = idp.tenant("d", "authentik", &[]).await;
    idp.faults("d", &["discovery_issuer_mismatch"]).await;
    let e = discover(info["oidc"]["issuer"].as_str().unwrap(), &rp_http(None))
        .await
        .unwrap_err();
    assert!(e.starts_with("validation:"), "{e}");
}

#[tokio::test]
async fn rp_times_out_on_a_slow_token_endpoint() {
    let idp = Idp::start().await;
    let info = idp.tenant("slow", "okta", &[]).await;
    let mut rp = rp(&info, AuthType::BasicAuth).await;
    rp.http = rp_http(Some(Duration::from_secs(1)));
    idp.faults("slow", &["slow_response"]).await;
    let s = code_flow(&rp, false).await;
    let e = s.token.map(|_| ()).unwrap_err();
    // The RP's 1 s timeout fired: the token endpoint was still holding its answer.
    assert!(e.starts_with("Request(") && e.contains("TimedOut"), "{e}");
}

#[tokio::test]
async fn next_response_faults_break_exactly_one_sign_in() {
    let idp = Idp::start().await;
    let info = idp.tenant("once", "authentik", &[]).await;
    let rp = rp(&info, AuthType::BasicAuth).await;
    let r = idp
        .control
        .post(idp.url("/_control/tenants/once/faults/next"))
        .json(&json!({ "faults": ["id_token_alg_none"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let first = code_flow(&rp, false).await;
    assert!(verify(&rp, &first.token.unwrap(), &first.nonce).is_err());
    let second = code_flow(&rp, false).await;
    verify(&rp, &second.token.unwrap(), &second.nonce).unwrap();
}

#[tokio::test]
async fn key_rotation_signs_with_the_next_key_that_the_jwks_already_lists() {
    let (idp, rp, s) = faulted("key_rotation", "okta").await;
    let token = s.token.unwrap();
    let claims = verify(&rp, &token, &s.nonce).unwrap();
    assert_eq!(claims.email().unwrap().as_str(), "alice@acme.test");
    let log = idp.exchanges("f").await;
    let kid_used = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "id_token")
        .unwrap()["decoded"]["header"]["kid"]
        .clone();
    let jwks_uri = idp.url("/t/f/oauth2/default/v1/keys");
    let jwks: Value = idp
        .control
        .get(jwks_uri)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        jwks["keys"][1]["kid"], kid_used,
        "signed with the second (next) key"
    );
}

#[tokio::test]
async fn changed_email_keeps_the_subject() {
    let idp = Idp::start().await;
    let info = idp.tenant("ce", "google", &[]).await;
    let rp = rp(&info, AuthType::BasicAuth).await;
    let before = code_flow(&rp, false).await;
    let before_token = before.token.unwrap();
    let first = verify(&rp, &before_token, &before.nonce).unwrap().clone();
    idp.faults("ce", &["changed_email"]).await;
    let after = code_flow(&rp, false).await;
    let after_token = after.token.unwrap();
    let second = verify(&rp, &after_token, &after.nonce).unwrap();
    assert_eq!(first.subject(), second.subject());
    assert_ne!(first.email(), second.email());
}

#[tokio::test]
async fn user_not_assigned_shows_access_denied_instead_of_a_code() {
    let idp = Idp::start().await;
    let info = idp.tenant("una", "authentik", &[]).await;
    let rp = rp(&info, AuthType::BasicAuth).await;
    idp.faults("una", &["user_not_assigned"]).await;
    let (url, _, _) = rp
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let b = browser();
    let page = b
        .get(url.as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = submit_login(&b, &page, "alice@acme.test", PASSWORD).await;
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("location").is_none());
    assert!(r.text().await.unwrap().contains("id=\"access-denied\""));
}

#[tokio::test]
async fn prompt_none_without_a_session_answers_login_required() {
    let idp = Idp::start().await;
    let info = idp.tenant("pn", "keycloak", &[]).await;
    let auth = info["oidc"]["authorization_endpoint"].as_str().unwrap();
    let r = browser()
        .get(auth)
        .query(&[
            ("client_id", "rp-1"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s-1"),
            ("prompt", "none"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    let location = r.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert!(
        location.contains("error=login_required") && location.contains("state=s-1"),
        "{location}"
    );
}
