//! The hybrid flow (OIDC Core 3.3) end to end over HTTP: the authorization endpoint returns a
//! code with an ID token (and an access token) in the fragment or by form_post; the front ID
//! token carries nonce, c_hash, at_hash and s_hash that hash what came with it; the forge's
//! `front_claims` shape that token apart from the token endpoint's; the code still redeems.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod oidc_support;

use base64::Engine as _;
use mock_idp::server::{RunningIdp, ServeOptions, serve};
use oidc_support::{attr_after, browser, submit_login};
use serde_json::{Value, json};
use sha2::Digest as _;

const REDIRECT: &str = "http://127.0.0.1:9/rp/callback";
const SECRET: &str = "rp-secret-hybrid";
const PASSWORD: &str = "pw-hybrid-1717";

fn half_hash(v: &str) -> String {
    let d = sha2::Sha256::digest(v.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&d[..16])
}

fn claims_of(jwt: &str) -> Value {
    let p = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .unwrap(),
    )
    .unwrap()
}

async fn start(forge: Option<Value>) -> (RunningIdp, Value) {
    let idp = serve(ServeOptions::default()).await.unwrap();
    let url = |p: &str| format!("{}{}", idp.base_url(), p.trim_start_matches('/'));
    let http = reqwest::Client::new();
    let r = http
        .post(url("/_control/tenants"))
        .json(
            &json!({"id": "hy", "users": [{"email": "alice@acme.test", "given_name": "Alice",
                        "family_name": "Ng", "password": PASSWORD}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let info: Value = r.json().await.unwrap();
    let mut client = json!({"client_id": "rp-1", "client_secret": SECRET,
                            "redirect_uris": [REDIRECT], "scopes": ["openid", "email", "profile"]});
    if let Some(f) = forge {
        client["forge"] = f;
    }
    let r = http
        .post(url("/_control/tenants/hy/oidc/clients"))
        .json(&client)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    (idp, info["oidc"].clone())
}

/// Signs alice in with `response_type` (and `response_mode`); answers the parameters that
/// came back and the raw answer of the login POST.
async fn hybrid(
    auth: &str,
    response_type: &str,
    mode: Option<&str>,
) -> (Vec<(String, String)>, String) {
    let b = browser();
    let mut q = vec![
        ("client_id", "rp-1"),
        ("redirect_uri", REDIRECT),
        ("response_type", response_type),
        ("scope", "openid email"),
        ("state", "st-1"),
        ("nonce", "n-1"),
    ];
    if let Some(m) = mode {
        q.push(("response_mode", m));
    }
    let page = b
        .get(auth)
        .query(&q)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = submit_login(&b, &page, "alice@acme.test", PASSWORD).await;
    if r.status().is_redirection() {
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        let url = url::Url::parse(&loc).unwrap();
        assert!(url.query().is_none(), "tokens never in the query: {loc}");
        let pairs = url::form_urlencoded::parse(url.fragment().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        return (pairs, loc);
    }
    let body = r.text().await.unwrap();
    let mut pairs = Vec::new();
    for chunk in body.split("<input type=\"hidden\" name=\"").skip(1) {
        let name = chunk[..chunk.find('"').unwrap()].to_string();
        let value = attr_after(chunk, "value=\"");
        pairs.push((name, value));
    }
    (pairs, body)
}

fn get<'a>(pairs: &'a [(String, String)], k: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn code_id_token_token_hashes_code_access_token_and_state() {
    let (_idp, oidc) = start(None).await;
    let auth = oidc["authorization_endpoint"].as_str().unwrap();
    let (p, _) = hybrid(auth, "code id_token token", None).await;
    let code = get(&p, "code").expect("code");
    let at = get(&p, "access_token").expect("access_token");
    assert_eq!(get(&p, "token_type"), Some("Bearer"));
    assert_eq!(get(&p, "state"), Some("st-1"));
    let c = claims_of(get(&p, "id_token").expect("id_token"));
    assert_eq!(c["nonce"], "n-1");
    assert_eq!(c["c_hash"], half_hash(code));
    assert_eq!(c["at_hash"], half_hash(at));
    assert_eq!(c["s_hash"], half_hash("st-1"));
    assert_eq!(c["aud"], "rp-1");
    // The code still redeems at the token endpoint.
    let token = oidc["token_endpoint"].as_str().unwrap();
    let r = reqwest::Client::new()
        .post(token)
        .basic_auth("rp-1", Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn code_id_token_by_form_post_has_no_access_token() {
    let (_idp, oidc) = start(None).await;
    let auth = oidc["authorization_endpoint"].as_str().unwrap();
    let (p, page) = hybrid(auth, "code id_token", Some("form_post")).await;
    assert!(page.contains("method=\"post\""), "{page}");
    assert!(get(&p, "access_token").is_none());
    let c = claims_of(get(&p, "id_token").expect("id_token"));
    assert_eq!(c["c_hash"], half_hash(get(&p, "code").unwrap()));
    assert!(c.get("at_hash").is_none());
}

#[tokio::test]
async fn front_claims_shape_only_the_front_token() {
    let forge = json!({"front_claims": [
        {"op": "remove", "name": "s_hash"},
        {"op": "hash", "name": "c_hash", "correct": false}
    ]});
    let (_idp, oidc) = start(Some(forge)).await;
    let auth = oidc["authorization_endpoint"].as_str().unwrap();
    let (p, _) = hybrid(auth, "code id_token", None).await;
    let c = claims_of(get(&p, "id_token").unwrap());
    assert!(c.get("s_hash").is_none(), "{c}");
    assert_ne!(c["c_hash"], half_hash(get(&p, "code").unwrap()));
}

#[tokio::test]
async fn bad_hybrid_requests_are_refused_by_redirect() {
    let (_idp, oidc) = start(None).await;
    let r = browser()
        .get(oidc["authorization_endpoint"].as_str().unwrap())
        .query(&[
            ("client_id", "rp-1"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code id_token"),
            ("scope", "openid"),
            ("state", "s"),
        ])
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap();
    assert!(loc.contains("error=invalid_request"), "no nonce: {loc}");
    let doc: Value = reqwest::get(oidc["discovery_url"].as_str().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let types = doc["response_types_supported"].as_array().unwrap();
    assert!(types.contains(&json!("code id_token token")), "{doc}");
    assert!(
        doc["response_modes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("form_post"))
    );
}
