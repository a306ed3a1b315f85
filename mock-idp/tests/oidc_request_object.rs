//! Authorization requests by reference over HTTP: reqwest plays browser and RP, a small axum
//! server plays the RP's host (its request_uri and its JWKS). PAR (RFC 9126): push, one use,
//! bound to the client; request objects by `request_uri` (alg none where registered, RS256
//! with the client's JWKS) and what the OP refuses, as OAuth errors at the redirect URI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod oidc_support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use oidc_support::{Op as Idp, browser, submit_login};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/rp/callback";
const SECRET: &str = "rp-secret-par-5151";

/// The RP's host: documents by name, each served once (as mod_auth_openidc does).
#[derive(Clone)]
struct RpHost {
    docs: Arc<Mutex<HashMap<String, String>>>,
    base: String,
}

impl RpHost {
    async fn start() -> Self {
        let docs: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let app = axum::Router::new()
            .route(
                "/doc/{name}",
                axum::routing::get(
                    |State(d): State<Arc<Mutex<HashMap<String, String>>>>,
                     Path(name): Path<String>| async move {
                        match d.lock().unwrap().remove(&name) {
                            Some(body) => (axum::http::StatusCode::OK, body),
                            None => (axum::http::StatusCode::NOT_FOUND, String::new()),
                        }
                    },
                ),
            )
            .with_state(docs.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            docs,
            base: format!("http://{addr}"),
        }
    }

    /// Serves `body` once at a fresh URL.
    fn host(&self, name: &str, body: String) -> String {
        self.docs.lock().unwrap().insert(name.to_string(), body);
        format!("{}/doc/{name}", self.base)
    }
}

impl Idp {
    async fn tenant(&self, id: &str, rules: Value) -> Value {
        self.create_tenant(json!({
            "id": id, "profile": "okta",
            "users": [{"email": "alice@acme.test", "given_name": "Alice", "family_name": "Ng"}],
            "oidc_clients": [
                {"client_id": "rp-1", "client_secret": SECRET, "redirect_uris": [REDIRECT],
                 "auth_request": rules},
                {"client_id": "rp-2", "client_secret": SECRET, "redirect_uris": [REDIRECT]},
            ],
        }))
        .await
    }

    async fn discovery(&self, info: &Value) -> Value {
        self.http
            .get(info["oidc"]["discovery_url"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn exchanges(&self, id: &str) -> Vec<Value> {
        let v: Value = self
            .http
            .get(self.url(&format!("/_control/tenants/{id}/exchanges")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v.as_array()
            .or_else(|| v["exchanges"].as_array())
            .unwrap()
            .clone()
    }
}

/// A pushed authorization request (RFC 9126) by client rp-1 with `secret`: the OP's answer.
async fn push(idp: &Idp, endpoint: &str, secret: &str, form: &[(&str, &str)]) -> reqwest::Response {
    idp.http
        .post(endpoint)
        .basic_auth("rp-1", Some(secret))
        .form(form)
        .send()
        .await
        .unwrap()
}

fn authorize_url(info: &Value, pairs: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(info["oidc"]["authorization_endpoint"].as_str().unwrap()).unwrap();
    for (k, v) in pairs {
        u.query_pairs_mut().append_pair(k, v);
    }
    u.to_string()
}

/// What the OP answered a browser that opened `url` and, on a login page, signed in: the
/// final redirect's query parameters, or the page's text.
async fn browse(url: &str) -> Result<HashMap<String, String>, String> {
    let browser = browser();
    let r = browser.get(url).send().await.unwrap();
    let query = |r: &reqwest::Response| {
        r.headers().get("location").map(|l| {
            url::Url::parse(l.to_str().unwrap())
                .unwrap()
                .query_pairs()
                .into_owned()
                .collect::<HashMap<String, String>>()
        })
    };
    if let Some(q) = query(&r) {
        return Ok(q);
    }
    let page = r.text().await.unwrap();
    if !page.contains("action=\"") {
        return Err(page);
    }
    let r = submit_login(&browser, &page, "alice@acme.test", "any").await;
    query(&r).ok_or(r.text().await.unwrap())
}

fn unsigned(claims: &Value) -> String {
    format!(
        "{}.{}.",
        B64.encode(br#"{"alg":"none"}"#),
        B64.encode(claims.to_string())
    )
}

fn rs256(key: &PKey<Private>, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        B64.encode(json!({"alg": "RS256", "kid": "rp-key"}).to_string()),
        B64.encode(claims.to_string())
    );
    let mut s = openssl::sign::Signer::new(MessageDigest::sha256(), key).unwrap();
    s.update(input.as_bytes()).unwrap();
    format!("{input}.{}", B64.encode(s.sign_to_vec().unwrap()))
}

fn jwks(key: &PKey<Private>) -> String {
    let rsa = key.rsa().unwrap();
    json!({"keys": [{"kty": "RSA", "kid": "rp-key", "use": "sig",
        "n": B64.encode(rsa.n().to_vec()), "e": B64.encode(rsa.e().to_vec())}]})
    .to_string()
}

fn object_claims(info: &Value, state: &str) -> Value {
    json!({
        "iss": "rp-1", "aud": info["oidc"]["issuer"], "client_id": "rp-1",
        "response_type": "code", "redirect_uri": REDIRECT, "scope": "openid email",
        "state": state, "nonce": "n-1",
    })
}

#[tokio::test]
async fn par_is_required_pushed_once_and_bound_to_the_client() {
    let idp = Idp::start().await;
    let info = idp
        .tenant(
            "par",
            json!({"require_pushed_authorization_requests": true}),
        )
        .await;
    let d = idp.discovery(&info).await;
    assert_eq!(d["require_pushed_authorization_requests"], true);
    let endpoint = d["pushed_authorization_request_endpoint"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(endpoint.ends_with("/oauth2/default/v1/par"), "{endpoint}");
    assert_eq!(d["request_uri_parameter_supported"], true);

    // Loose parameters alone are refused, at the redirect URI.
    let loose = [
        ("client_id", "rp-1"),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email"),
        ("state", "s-loose"),
    ];
    let q = browse(&authorize_url(&info, &loose)).await.unwrap();
    assert_eq!(q["error"], "invalid_request", "{q:?}");
    assert!(q["error_description"].contains("PAR"), "{q:?}");
    assert_eq!(q["state"], "s-loose");

    // A push with a wrong secret is refused as invalid_client.
    let form = [
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email"),
        ("state", "s-par"),
        ("nonce", "n-par"),
    ];
    let r = push(&idp, &endpoint, "wrong", &form).await;
    assert_eq!(r.status(), 401);
    // A push with a redirect URI the client did not register is refused.
    let r = push(
        &idp,
        &endpoint,
        SECRET,
        &[
            ("response_type", "code"),
            ("redirect_uri", "http://evil/cb"),
            ("scope", "openid"),
        ],
    )
    .await;
    assert_eq!(r.status(), 400);

    let r = push(&idp, &endpoint, SECRET, &form).await;
    assert_eq!(r.status(), 201);
    let pushed: Value = r.json().await.unwrap();
    let request_uri = pushed["request_uri"].as_str().unwrap().to_string();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    assert_eq!(pushed["expires_in"], 60);

    // Another client cannot use it (and its attempt spends it: one use, whoever tries).
    let q = browse(&authorize_url(
        &info,
        &[("client_id", "rp-2"), ("request_uri", &request_uri)],
    ))
    .await;
    assert!(
        q.as_ref().map_or_else(
            |p| p.contains("invalid_request_uri"),
            |q| q["error"] == "invalid_request_uri"
        ),
        "{q:?}"
    );

    // A second push for the real use, since the failed one spent the first.
    let r = push(&idp, &endpoint, SECRET, &form).await;
    let request_uri = r.json::<Value>().await.unwrap()["request_uri"]
        .as_str()
        .unwrap()
        .to_string();
    let by_ref = [("client_id", "rp-1"), ("request_uri", request_uri.as_str())];
    let q = browse(&authorize_url(&info, &by_ref)).await.unwrap();
    assert!(q.contains_key("code"), "{q:?}");
    assert_eq!(q["state"], "s-par", "the pushed state comes back");
    let token = idp
        .http
        .post(info["oidc"]["token_endpoint"].as_str().unwrap())
        .basic_auth("rp-1", Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", q["code"].as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);

    // One use only.
    let q = browse(&authorize_url(&info, &by_ref)).await;
    assert!(
        q.as_ref().map_or_else(
            |p| p.contains("invalid_request_uri"),
            |q| q["error"] == "invalid_request_uri"
        ),
        "{q:?}"
    );

    // The log: the push (secret redacted) and the request that used it, by PAR.
    let log = idp.exchanges("par").await;
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains(SECRET), "the client secret is not logged");
    assert!(
        log.iter()
            .any(|e| e["kind"] == "pushed_authorization_request"
                && e["http"]["status"] == 201
                && e["decoded"]["client_auth"] == "client_secret_basic")
    );
    let used = log
        .iter()
        .find(|e| {
            e["kind"] == "authorization_request"
                && e["decoded"]["request_object"]["via"] == "par"
                && e["http"]["status"] == 200
        })
        .expect("a request by PAR");
    assert_eq!(used["decoded"]["params"]["state"], "s-par");
    assert_eq!(
        used["decoded"]["request_object"]["contradicting"],
        json!([])
    );
}

#[tokio::test]
async fn request_uri_objects_are_fetched_verified_and_win_over_loose_parameters() {
    let idp = Idp::start().await;
    let rp = RpHost::start().await;
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let other = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let jwks_uri = format!("{}/doc/jwks", rp.base);
    let info = idp
        .tenant(
            "ro",
            json!({"require_request_object": true, "request_object_signing_alg": "RS256",
                   "jwks_uri": jwks_uri}),
        )
        .await;
    assert_eq!(
        idp.discovery(&info).await["require_signed_request_object"],
        true
    );
    let loose_state = [
        ("client_id", "rp-1"),
        ("response_type", "code"),
        ("scope", "openid"),
    ];

    // Loose parameters alone are refused (the redirect URI is not known: a page).
    let mut plain = loose_state.to_vec();
    plain.push(("redirect_uri", REDIRECT));
    let q = browse(&authorize_url(&info, &plain)).await.unwrap();
    assert_eq!(q["error"], "invalid_request", "{q:?}");

    // RS256 by the client's key: fetched once, verified, its state wins over the loose one.
    rp.host("jwks", jwks(&key));
    let uri = rp.host("good", rs256(&key, &object_claims(&info, "s-object")));
    let mut with_ref = loose_state.to_vec();
    with_ref.push(("state", "s-loose"));
    with_ref.push(("request_uri", &uri));
    let q = browse(&authorize_url(&info, &with_ref)).await.unwrap();
    assert!(q.contains_key("code"), "{q:?}");
    assert_eq!(q["state"], "s-object");

    // Signed by another key: invalid_request_object; alg none where RS256 is registered too.
    rp.host("jwks", jwks(&key));
    let uri = rp.host("forged", rs256(&other, &object_claims(&info, "s-2")));
    let mut forged = loose_state.to_vec();
    forged.push(("request_uri", &uri));
    forged.push(("redirect_uri", REDIRECT));
    let q = browse(&authorize_url(&info, &forged)).await.unwrap();
    assert_eq!(q["error"], "invalid_request_object", "{q:?}");
    let uri = rp.host("none", unsigned(&object_claims(&info, "s-3")));
    let mut none = loose_state.to_vec();
    none.push(("request_uri", &uri));
    none.push(("redirect_uri", REDIRECT));
    let q = browse(&authorize_url(&info, &none)).await.unwrap();
    assert_eq!(q["error"], "invalid_request_object", "{q:?}");

    // A request_uri that does not answer: invalid_request_uri.
    let gone = format!("{}/doc/missing", rp.base);
    let mut missing = loose_state.to_vec();
    missing.push(("request_uri", &gone));
    missing.push(("redirect_uri", REDIRECT));
    let q = browse(&authorize_url(&info, &missing)).await.unwrap();
    assert_eq!(q["error"], "invalid_request_uri", "{q:?}");

    let log = idp.exchanges("ro").await;
    let fetches = log
        .iter()
        .filter(|e| e["kind"] == "request_uri_fetch")
        .count();
    assert_eq!(fetches, 4, "every request_uri fetched once");
    let used = log
        .iter()
        .find(|e| e["kind"] == "authorization_request" && e["http"]["status"] == 200)
        .expect("the accepted request");
    let by = &used["decoded"]["request_object"];
    assert_eq!(by["via"], "request_uri");
    assert_eq!(by["alg"], "RS256");
    assert_eq!(by["contradicting"], json!(["scope", "state"]));
}

#[tokio::test]
async fn alg_none_objects_only_for_clients_that_registered_none() {
    let idp = Idp::start().await;
    let rp = RpHost::start().await;
    let info = idp
        .tenant(
            "none",
            json!({"require_request_object": true, "request_object_signing_alg": "none"}),
        )
        .await;
    let uri = rp.host("a", unsigned(&object_claims(&info, "s-none")));
    let q = browse(&authorize_url(
        &info,
        &[
            ("client_id", "rp-1"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("request_uri", &uri),
        ],
    ))
    .await
    .unwrap();
    assert_eq!(q["state"], "s-none", "{q:?}");
    // rp-2 registered nothing: its alg none object (by value) is refused.
    let jwt = unsigned(&json!({"iss": "rp-2", "state": "x", "redirect_uri": REDIRECT}));
    let q = browse(&authorize_url(
        &info,
        &[
            ("client_id", "rp-2"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("redirect_uri", REDIRECT),
            ("request", &jwt),
        ],
    ))
    .await
    .unwrap();
    assert_eq!(q["error"], "invalid_request_object", "{q:?}");
    // A file: request_uri is never fetched.
    let q = browse(&authorize_url(
        &info,
        &[
            ("client_id", "rp-1"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("redirect_uri", REDIRECT),
            ("request_uri", "file:///etc/passwd"),
        ],
    ))
    .await
    .unwrap();
    assert_eq!(q["error"], "invalid_request_uri", "{q:?}");
}
