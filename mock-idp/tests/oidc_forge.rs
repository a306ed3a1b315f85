//! The OIDC forge over HTTP: a raw code flow (reqwest plays browser and RP, so broken tokens
//! reach the test unjudged), then every claim checked by decoding and every signature by an
//! independent verifier (`jsonwebtoken`, ring underneath) with keys taken from the OP's JWKS
//! or rebuilt here from it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod oidc_support;

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use oidc_support::{Op as Idp, browser, submit_login};
use serde_json::{Value, json};
use sha2::Digest as _;

const REDIRECT: &str = "http://127.0.0.1:9/rp/callback";
const SECRET: &str = "rp-secret-forge-5151";
const VERIFIER: &str = "forge-verifier-0123456789-0123456789-0123456789";

/// One sign-in as the RP saw it.
#[derive(Debug)]
struct SignIn {
    callback: url::Url,
    code: String,
    status: u16,
    content_type: String,
    body: String,
}

impl SignIn {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn id_token(&self) -> String {
        self.json()["id_token"].as_str().unwrap().to_string()
    }
}

/// A compact JWS split up: header, payload text, signature (base64url), signing input.
struct Parts {
    header: Value,
    payload_text: String,
    signature: Option<String>,
    input: String,
}

impl Parts {
    fn of(token: &str) -> Parts {
        let p: Vec<&str> = token.split('.').collect();
        assert!(p.len() == 2 || p.len() == 3, "{token}");
        Parts {
            header: serde_json::from_slice(&B64URL.decode(p[0]).unwrap()).unwrap(),
            payload_text: String::from_utf8(B64URL.decode(p[1]).unwrap()).unwrap(),
            signature: p.get(2).map(|s| s.to_string()),
            input: format!("{}.{}", p[0], p[1]),
        }
    }

    fn claims(&self) -> Value {
        serde_json::from_str(&self.payload_text).unwrap()
    }

    fn verifies(&self, key: &DecodingKey, alg: Algorithm) -> bool {
        let sig = self.signature.as_deref().unwrap_or("");
        jsonwebtoken::crypto::verify(sig, self.input.as_bytes(), key, alg).unwrap_or(false)
    }
}

impl Idp {
    async fn tenant(&self, id: &str) -> Value {
        self.create_tenant(json!({
                "id": id, "profile": "generic",
                "users": [{"email": "alice@acme.test", "given_name": "Alice", "family_name": "Ng"}],
                "oidc_clients": [{"client_id": "rp-1", "client_secret": SECRET, "redirect_uris": [REDIRECT]}],
            })).await
    }

    async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn next_forge(&self, id: &str, spec: Value) {
        let (status, body) = self
            .control(
                reqwest::Method::POST,
                &format!("/_control/tenants/{id}/oidc/forge/next"),
                Some(spec.clone()),
            )
            .await;
        assert_eq!(status, 204, "{spec}: {body}");
    }

    async fn jwks(&self, info: &Value) -> (String, Value) {
        let r = self
            .http
            .get(info["oidc"]["jwks_uri"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        let doc = serde_json::from_str(&text).unwrap();
        (text, doc)
    }

    /// Browser to the callback, then the token request (client_secret_basic, PKCE S256).
    async fn sign_in(&self, info: &Value) -> SignIn {
        let challenge = B64URL.encode(sha2::Sha256::digest(VERIFIER.as_bytes()));
        let mut authorize =
            url::Url::parse(info["oidc"]["authorization_endpoint"].as_str().unwrap()).unwrap();
        authorize
            .query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", "rp-1")
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("scope", "openid email profile")
            .append_pair("state", "st-1")
            .append_pair("nonce", "nonce-1")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let browser = browser();
        let page = browser
            .get(authorize.as_str())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let r = submit_login(&browser, &page, "alice@acme.test", "any").await;
        assert!(r.status().is_redirection(), "{}", r.status());
        let callback = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        let code = callback
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let (status, content_type, body) = self.redeem(info, &code).await;
        SignIn {
            callback,
            code,
            status,
            content_type,
            body,
        }
    }

    async fn redeem(&self, info: &Value, code: &str) -> (u16, String, String) {
        let r = self
            .http
            .post(info["oidc"]["token_endpoint"].as_str().unwrap())
            .basic_auth("rp-1", Some(SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ct, r.text().await.unwrap())
    }

    async fn userinfo(&self, info: &Value, access_token: &str) -> (String, String) {
        let r = self
            .http
            .get(info["oidc"]["userinfo_endpoint"].as_str().unwrap())
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        (ct, r.text().await.unwrap())
    }

    async fn forged(&self, info: &Value, spec: Value) -> SignIn {
        self.next_forge(info["id"].as_str().unwrap(), spec).await;
        self.sign_in(info).await
    }
}

fn alg_of(name: &str) -> Algorithm {
    match name {
        "RS256" => Algorithm::RS256,
        "PS256" => Algorithm::PS256,
        "ES256" => Algorithm::ES256,
        "EdDSA" => Algorithm::EdDSA,
        "HS256" => Algorithm::HS256,
        other => panic!("no algorithm {other}"),
    }
}

/// Whether any key of `jwks` of the right type verifies the token under `alg`.
fn any_key_verifies(parts: &Parts, jwks: &Value, alg: Algorithm) -> bool {
    let kty = match alg {
        Algorithm::ES256 => "EC",
        Algorithm::EdDSA => "OKP",
        _ => "RSA",
    };
    // jsonwebtoken panics on a key of another type, so only keys that fit are tried.
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kty"] == kty)
        .any(|k| {
            let jwk: Jwk = serde_json::from_value(k.clone()).unwrap();
            match DecodingKey::from_jwk(&jwk) {
                Ok(key) => parts.verifies(&key, alg),
                Err(_) => false,
            }
        })
}

fn key_by_kid(jwks: &Value, kid: &str) -> DecodingKey {
    let k = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("no kid {kid} in {jwks}"));
    DecodingKey::from_jwk(&serde_json::from_value::<Jwk>(k.clone()).unwrap()).unwrap()
}

#[tokio::test]
async fn every_id_token_preset_decodes_to_what_it_claims() {
    let idp = Idp::start().await;
    let info = idp.tenant("presets").await;
    let (_, catalogue) = idp
        .control(reqwest::Method::GET, "/_control/oidc/forge/catalogue", None)
        .await;
    let (_, keys) = idp
        .control(
            reqwest::Method::GET,
            "/_control/tenants/presets/oidc/forge/keys",
            None,
        )
        .await;
    let mut seen = 0;
    for row in catalogue.as_array().unwrap() {
        let Some(spec) = row.get("spec") else {
            continue;
        };
        if row["target"] != "id_token" {
            continue;
        }
        seen += 1;
        let name = row["name"].as_str().unwrap();
        let s = idp.forged(&info, json!({ "preset": name })).await;
        assert_eq!(s.status, 200, "{name}: {}", s.body);
        let p = Parts::of(&s.id_token());
        let h = &spec["header"];
        if let Some(alg) = h.get("alg") {
            assert_eq!(&p.header["alg"], alg, "{name}");
        }
        match h.get("kid") {
            Some(Value::Null) => assert!(p.header.get("kid").is_none(), "{name}"),
            Some(Value::String(k)) if !k.contains('{') => assert_eq!(p.header["kid"], *k, "{name}"),
            _ => {}
        }
        for member in ["jwk", "jku", "x5u", "x5c"] {
            assert_eq!(
                p.header.get(member).is_some(),
                h.get(member) == Some(&json!(true)),
                "{name}: {member} in {}",
                p.header
            );
        }
        if let Some(crit) = h.get("crit") {
            assert_eq!(&p.header["crit"], crit, "{name}");
            for c in crit.as_array().unwrap() {
                assert!(
                    p.header.get(c.as_str().unwrap()).is_some(),
                    "{name}: {c} named but absent"
                );
            }
        }
        let sig = p.signature.as_deref();
        match spec.get("signature").and_then(Value::as_str) {
            Some("absent") => assert_eq!(sig, None, "{name}"),
            Some("empty") => assert_eq!(sig, Some(""), "{name}"),
            Some("zero") => assert!(
                B64URL.decode(sig.unwrap()).unwrap().iter().all(|b| *b == 0),
                "{name}"
            ),
            Some("garbage") => assert!(!sig.unwrap().is_empty(), "{name}"),
            _ if spec["key"] == "none" => assert_eq!(sig, Some(""), "{name}"),
            _ => assert!(!sig.unwrap().is_empty(), "{name}"),
        }
        if h.get("jku") == Some(&json!(true)) {
            assert_eq!(p.header["jku"], keys["canary"]["jku"], "{name}");
        }
        if h.get("x5u") == Some(&json!(true)) {
            assert_eq!(p.header["x5u"], keys["canary"]["x5u"], "{name}");
        }
        // Claim presets: every named member is changed as the operation says.
        let claims = p.claims();
        for op in spec
            .get("claims")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let member = op["name"]
                .as_str()
                .unwrap_or_else(|| match op["op"].as_str().unwrap() {
                    "audience" => "aud",
                    "azp" => "azp",
                    "issuer" => "iss",
                    other => panic!("{other}"),
                });
            match op["op"].as_str().unwrap() {
                "remove" => assert!(claims.get(member).is_none(), "{name}"),
                "set" => assert_eq!(claims[member], op["value"], "{name}"),
                "duplicate" => assert_eq!(
                    p.payload_text.matches(&format!("\"{member}\":")).count(),
                    2,
                    "{name}"
                ),
                "issuer" => assert_ne!(claims["iss"], info["oidc"]["issuer"], "{name}"),
                _ => assert!(claims.get(member).is_some(), "{name}: {member}"),
            }
        }
    }
    assert!(seen >= 50, "only {seen} id_token presets");
}

#[tokio::test]
async fn right_keys_verify_and_wrong_keys_do_not() {
    let idp = Idp::start().await;
    let info = idp.tenant("keys").await;
    let (_, forge_keys) = idp
        .control(
            reqwest::Method::GET,
            "/_control/tenants/keys/oidc/forge/keys",
            None,
        )
        .await;
    let attacker = &forge_keys["attacker"]["jwks"];
    // Genuine: RS256 by the key the header's kid names in the JWKS.
    let s = idp.sign_in(&info).await;
    let p = Parts::of(&s.id_token());
    let (_, jwks) = idp.jwks(&info).await;
    assert!(p.verifies(
        &key_by_kid(&jwks, p.header["kid"].as_str().unwrap()),
        Algorithm::RS256
    ));
    for (preset, alg) in [
        ("ps256_op_key", "PS256"),
        ("es256_op_key", "ES256"),
        ("eddsa_op_key", "EdDSA"),
    ] {
        let s = idp.forged(&info, json!({ "preset": preset })).await;
        let p = Parts::of(&s.id_token());
        // The forge asked for the key, so the JWKS now publishes it under the header's kid.
        let (_, jwks) = idp.jwks(&info).await;
        let key = key_by_kid(&jwks, p.header["kid"].as_str().unwrap());
        assert!(p.verifies(&key, alg_of(alg)), "{preset}");
        assert!(!any_key_verifies(&p, attacker, alg_of(alg)), "{preset}");
    }
    let (_, jwks) = idp.jwks(&info).await;
    let discovery: Value = idp
        .http
        .get(info["oidc"]["discovery_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["RS256", "PS256", "ES256", "EdDSA"])
    );
    for (preset, alg) in [
        ("ps256_attacker_key", "PS256"),
        ("es256_attacker_key", "ES256"),
        ("eddsa_attacker_key", "EdDSA"),
        ("attacker_key_op_kid", "RS256"),
        ("attacker_key_own_kid", "RS256"),
        ("jwk_header_attacker", "RS256"),
        ("x5c_header_attacker", "RS256"),
    ] {
        let s = idp.forged(&info, json!({ "preset": preset })).await;
        let p = Parts::of(&s.id_token());
        assert_eq!(p.header["alg"], alg, "{preset}");
        assert!(
            !any_key_verifies(&p, &jwks, alg_of(alg)),
            "{preset}: an OP key verifies"
        );
        assert!(
            any_key_verifies(&p, attacker, alg_of(alg)),
            "{preset}: not a real attacker signature"
        );
    }
    // The embedded jwk and x5c carry the attacker's key, which verifies the token.
    let s = idp
        .forged(&info, json!({ "preset": "jwk_header_attacker" }))
        .await;
    let p = Parts::of(&s.id_token());
    let embedded: Jwk = serde_json::from_value(p.header["jwk"].clone()).unwrap();
    assert!(p.verifies(&DecodingKey::from_jwk(&embedded).unwrap(), Algorithm::RS256));
    let s = idp
        .forged(&info, json!({ "preset": "x5c_header_attacker" }))
        .await;
    let p = Parts::of(&s.id_token());
    let der = B64.decode(p.header["x5c"][0].as_str().unwrap()).unwrap();
    let cert_key = openssl::x509::X509::from_der(&der)
        .unwrap()
        .public_key()
        .unwrap();
    let pem = cert_key.public_key_to_pem().unwrap();
    assert!(p.verifies(&DecodingKey::from_rsa_pem(&pem).unwrap(), Algorithm::RS256));
    // The attacker-key forge keeps the OP's kid, which then fails to verify.
    let s = idp
        .forged(&info, json!({ "preset": "attacker_key_op_kid" }))
        .await;
    let p = Parts::of(&s.id_token());
    let kid = p.header["kid"].as_str().unwrap();
    assert!(!p.verifies(&key_by_kid(&jwks, kid), Algorithm::RS256));
    // Broken signatures under the OP's own kid.
    for preset in [
        "rs256_flipped_signature",
        "rs256_empty_signature",
        "es256_psychic_signature",
    ] {
        let s = idp.forged(&info, json!({ "preset": preset })).await;
        let p = Parts::of(&s.id_token());
        let alg = alg_of(p.header["alg"].as_str().unwrap());
        assert!(!any_key_verifies(&p, &jwks, alg), "{preset}");
    }
}

#[tokio::test]
async fn the_attacker_key_fault_signs_with_a_key_that_is_not_the_ops() {
    let idp = Idp::start().await;
    let info = idp.tenant("fault").await;
    let (status, _) = idp
        .control(
            reqwest::Method::PUT,
            "/_control/tenants/fault/faults",
            Some(json!({"faults": ["id_token_attacker_key"]})),
        )
        .await;
    assert_eq!(status, 204);
    let s = idp.sign_in(&info).await;
    let p = Parts::of(&s.id_token());
    let (_, jwks) = idp.jwks(&info).await;
    assert_eq!(
        p.header["kid"], jwks["keys"][0]["kid"],
        "the OP's current kid"
    );
    assert!(!any_key_verifies(&p, &jwks, Algorithm::RS256));
    let (_, keys) = idp
        .control(
            reqwest::Method::GET,
            "/_control/tenants/fault/oidc/forge/keys",
            None,
        )
        .await;
    assert!(any_key_verifies(
        &p,
        &keys["attacker"]["jwks"],
        Algorithm::RS256
    ));
    // The older fault only invents the kid: the OP's own key still verifies.
    idp.control(
        reqwest::Method::PUT,
        "/_control/tenants/fault/faults",
        Some(json!({"faults": ["id_token_unknown_kid"]})),
    )
    .await;
    let p = Parts::of(&idp.sign_in(&info).await.id_token());
    assert!(any_key_verifies(&p, &jwks, Algorithm::RS256));
}

#[tokio::test]
async fn hs256_confusions_verify_with_hmac_over_each_serialisation() {
    let idp = Idp::start().await;
    let info = idp.tenant("hmac").await;
    let (jwks_text, jwks) = idp.jwks(&info).await;
    let current = &jwks["keys"][0];
    // The public key rebuilt here from the JWKS, then written each way an RP might.
    let rsa = openssl::rsa::Rsa::from_public_components(
        openssl::bn::BigNum::from_slice(&B64URL.decode(current["n"].as_str().unwrap()).unwrap())
            .unwrap(),
        openssl::bn::BigNum::from_slice(&B64URL.decode(current["e"].as_str().unwrap()).unwrap())
            .unwrap(),
    )
    .unwrap();
    let pkey = openssl::pkey::PKey::from_rsa(rsa.clone()).unwrap();
    let jwk_text = serde_json::to_string(current).unwrap();
    assert!(
        jwks_text.contains(&jwk_text),
        "the JWK text is the one the JWKS serves"
    );
    let serialisations: Vec<(&str, Vec<u8>)> = vec![
        ("hs256_op_public_pem", pkey.public_key_to_pem().unwrap()),
        (
            "hs256_op_public_pkcs1_pem",
            rsa.public_key_to_pem_pkcs1().unwrap(),
        ),
        ("hs256_op_public_der", pkey.public_key_to_der().unwrap()),
        (
            "hs256_op_public_pkcs1_der",
            rsa.public_key_to_der_pkcs1().unwrap(),
        ),
        ("hs256_op_public_jwk", jwk_text.into_bytes()),
        ("hs256_client_secret", SECRET.as_bytes().to_vec()),
        ("kid_path_traversal", Vec::new()),
    ];
    for (preset, _) in &serialisations {
        let s = idp.forged(&info, json!({ "preset": preset })).await;
        let p = Parts::of(&s.id_token());
        assert_eq!(p.header["alg"], "HS256", "{preset}");
        for (other, other_secret) in &serialisations {
            let ok = p.verifies(&DecodingKey::from_secret(other_secret), Algorithm::HS256);
            assert_eq!(
                ok,
                preset == other,
                "{preset} token with the {other} secret"
            );
        }
        if preset.starts_with("hs256_op_public") {
            assert_eq!(
                p.header["kid"], current["kid"],
                "{preset}: the RSA key's kid"
            );
        }
    }
}

#[tokio::test]
async fn claim_token_response_and_userinfo_mutations_appear() {
    let idp = Idp::start().await;
    let info = idp.tenant("claims").await;
    let s = idp
        .forged(
            &info,
            json!({
                "claims": [
                    {"op": "audience", "form": "array", "extra": ["other-rp"]},
                    {"op": "azp"},
                    {"op": "remove", "name": "email"},
                    {"op": "set", "name": "acr", "value": {"any": ["json", 1]}},
                    {"op": "relative_time", "name": "exp", "seconds": -3600},
                    {"op": "wrong_type", "name": "iat"},
                    {"op": "duplicate", "name": "sub", "value": "admin"},
                    {"op": "hash", "name": "at_hash"},
                    {"op": "hash", "name": "c_hash"}
                ],
                "token_response": [
                    {"op": "set", "name": "token_type", "value": "mac"},
                    {"op": "wrong_type", "name": "expires_in"}
                ],
                "userinfo": [
                    {"op": "set", "name": "sub", "value": "someone-else"},
                    {"op": "set", "name": "email_verified", "value": false},
                    {"op": "set", "name": "email", "value": "chosen@evil.test"}
                ],
                "userinfo_jwt": {}
            }),
        )
        .await;
    assert_eq!(s.status, 200, "{}", s.body);
    let response = s.json();
    assert_eq!(response["token_type"], "mac");
    assert_eq!(response["expires_in"], "3600");
    let access_token = response["access_token"].as_str().unwrap();
    let p = Parts::of(response["id_token"].as_str().unwrap());
    let c = p.claims();
    assert_eq!(c["aud"], json!(["rp-1", "other-rp"]));
    assert_eq!(c["azp"], "rp-1");
    assert!(c.get("email").is_none());
    assert_eq!(c["acr"], json!({"any": ["json", 1]}));
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let exp = c["exp"].as_i64().unwrap();
    assert!((now - 3700..now - 3500).contains(&exp), "{exp}");
    assert!(c["iat"].is_string());
    let half = |v: &str| B64URL.encode(&sha2::Sha256::digest(v.as_bytes())[..16]);
    assert_eq!(c["at_hash"], half(access_token));
    assert_eq!(c["c_hash"], half(&s.code));
    // Both subjects are in the signed text; a last-wins parser reads the forged one.
    assert!(
        p.payload_text.contains("\"sub\":\"admin\""),
        "{}",
        p.payload_text
    );
    assert_eq!(p.payload_text.matches("\"sub\":").count(), 2);
    assert_eq!(c["sub"], "admin");
    let (_, jwks) = idp.jwks(&info).await;
    assert!(
        p.verifies(
            &key_by_kid(&jwks, p.header["kid"].as_str().unwrap()),
            Algorithm::RS256
        ),
        "still signed by the OP"
    );
    // Userinfo: a JWT by the OP with the chosen claims.
    let (ct, body) = idp.userinfo(&info, access_token).await;
    assert_eq!(ct, "application/jwt");
    let u = Parts::of(&body);
    assert!(u.verifies(
        &key_by_kid(&jwks, u.header["kid"].as_str().unwrap()),
        Algorithm::RS256
    ));
    let uc = u.claims();
    assert_eq!(uc["sub"], "someone-else");
    assert_eq!(uc["email_verified"], false);
    assert_eq!(uc["email"], "chosen@evil.test");
    assert_eq!(uc["iss"], info["oidc"]["issuer"]);
    assert_eq!(uc["aud"], "rp-1");
    // The forge was for one sign-in: the next one is genuine again.
    let s = idp.sign_in(&info).await;
    assert_eq!(s.json()["token_type"], "Bearer");
    let (ct, body) = idp
        .userinfo(&info, s.json()["access_token"].as_str().unwrap())
        .await;
    assert!(ct.starts_with("application/json"), "{ct}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["email"],
        "alice@acme.test"
    );
    // A token error with its status.
    let s = idp
        .forged(&info, json!({"token_error": {"status": 503, "error": "temporarily_unavailable", "error_description": "try later"}}))
        .await;
    assert_eq!(s.status, 503);
    assert_eq!(
        s.json(),
        json!({"error": "temporarily_unavailable", "error_description": "try later"})
    );
    assert!(s.content_type.starts_with("application/json"));
}

#[tokio::test]
async fn bad_specs_get_400_naming_the_path() {
    let idp = Idp::start().await;
    idp.tenant("bad").await;
    let cases = [
        (json!({"header": {"alg": 5}}), "header.alg"),
        (json!({"header": {"algo": "none"}}), "header.algo"),
        (json!({"key": "nobody"}), "key"),
        (
            json!({"claims": [{"op": "set", "name": "aud"}]}),
            "claims[0]",
        ),
        (
            json!({"claims": [{"op": "remove", "name": "a"}, {"op": "explode", "name": "b"}]}),
            "claims[1].op",
        ),
        (json!({"header": {"alg": "none"}, "key": "op"}), "key"),
        (json!({"header": {"alg": "HS256", "jwk": true}}), "header"),
        (json!({"preset": "no_such_preset"}), "preset"),
        (
            json!({"token_error": {"status": 302}}),
            "token_error.status",
        ),
        (json!({"canary_url": "relative/path"}), "canary_url"),
        (
            json!({"userinfo_jwt": {"key": "op_public_as_hmac_pem", "header": {"alg": "ES256"}}}),
            "userinfo_jwt.key",
        ),
        (
            json!({"claim_sources": [{"name": "s", "kind": "distributed", "claims": {}}]}),
            "claim_sources[0].claims",
        ),
        (
            json!({"claim_sources": [{"name": "s", "kind": "signed", "claims": {"a": 1}}]}),
            "claim_sources[0].kind",
        ),
    ];
    for (spec, path) in cases {
        let (status, body) = idp
            .control(
                reqwest::Method::POST,
                "/_control/tenants/bad/oidc/forge/next",
                Some(spec.clone()),
            )
            .await;
        assert_eq!(status, 400, "{spec}: {body}");
        assert_eq!(body["path"], path, "{spec}: {body}");
    }
    let (status, body) = idp
        .control(
            reqwest::Method::POST,
            "/_control/tenants/bad/oidc/clients",
            Some(json!({"client_id": "c2", "client_secret": "s", "redirect_uris": [REDIRECT], "forge": {"key": "attacker", "header": {"alg": "HS256"}}})),
        )
        .await;
    assert_eq!(
        (status, body["path"].as_str()),
        (400, Some("forge.key")),
        "{body}"
    );
    let (status, body) = idp
        .control(
            reqwest::Method::PUT,
            "/_control/tenants/bad/oidc/provider",
            Some(json!({"jwks_status": 42})),
        )
        .await;
    assert_eq!(
        (status, body["path"].as_str()),
        (400, Some("jwks_status")),
        "{body}"
    );
    let (status, body) = idp
        .control(
            reqwest::Method::POST,
            "/_control/tenants/bad/oidc/rotate",
            Some(json!({"old": "shred"})),
        )
        .await;
    assert_eq!(
        (status, body["path"].as_str()),
        (400, Some("old")),
        "{body}"
    );
    let (status, _) = idp
        .control(
            reqwest::Method::POST,
            "/_control/tenants/nobody/oidc/forge/next",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_client_forge_applies_to_every_sign_in_of_that_client() {
    let idp = Idp::start().await;
    let r = idp
        .http
        .post(idp.url("/_control/tenants"))
        .json(&json!({
            "id": "client-forge",
            "users": [{"email": "alice@acme.test"}],
            "oidc_clients": [{"client_id": "rp-1", "client_secret": SECRET, "redirect_uris": [REDIRECT],
                              "forge": {"preset": "alg_none_mixed_case"}}],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let info: Value = r.json().await.unwrap();
    for _ in 0..2 {
        let p = Parts::of(&idp.sign_in(&info).await.id_token());
        assert_eq!(p.header["alg"], "nOnE");
    }
    // A next-sign-in forge is laid over it.
    let s = idp.forged(&info, json!({"header": {"alg": "NONE"}})).await;
    assert_eq!(Parts::of(&s.id_token()).header["alg"], "NONE");
}

/// A tiny RP back-channel endpoint that checks the logout token itself.
async fn logout_rp(jwks: Value, issuer: String) -> (String, Arc<Mutex<Vec<String>>>) {
    use axum::routing::post;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    let app = axum::Router::new().route(
        "/backchannel",
        post(move |body: String| {
            let jwks = jwks.clone();
            let issuer = issuer.clone();
            let seen = kept.clone();
            async move {
                let token = url::form_urlencoded::parse(body.as_bytes())
                    .find(|(k, _)| k == "logout_token")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                seen.lock().unwrap().push(token.clone());
                let p = Parts::of(&token);
                let c = p.claims();
                let verdict = if p.header["alg"] != "RS256"
                    || !any_key_verifies(&p, &jwks, Algorithm::RS256)
                {
                    Err("bad signature")
                } else if c["iss"] != issuer.as_str() {
                    Err("bad iss")
                } else if c["aud"] != "rp-1" {
                    Err("bad aud")
                } else if c.get("nonce").is_some() {
                    Err("nonce present")
                } else if c["events"]
                    .get("http://schemas.openid.net/event/backchannel-logout")
                    .is_none()
                {
                    Err("no logout event")
                } else {
                    Ok(())
                };
                match verdict {
                    Ok(()) => (axum::http::StatusCode::OK, "logged out".to_string()),
                    Err(why) => (axum::http::StatusCode::BAD_REQUEST, why.to_string()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}/backchannel"), seen)
}

#[tokio::test]
async fn backchannel_logout_reports_the_rps_answer() {
    let idp = Idp::start().await;
    let info = idp.tenant("logout").await;
    let (_, jwks) = idp.jwks(&info).await;
    let (url, seen) = logout_rp(jwks, info["oidc"]["issuer"].as_str().unwrap().to_string()).await;
    let call = |variant: &'static str| {
        let url = url.clone();
        let idp = &idp;
        async move {
            idp.control(
                reqwest::Method::POST,
                "/_control/tenants/logout/oidc/backchannel-logout",
                Some(json!({"url": url, "client_id": "rp-1", "user": "alice@acme.test", "variant": variant})),
            )
            .await
        }
    };
    let (status, answer) = call("valid").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["status"].as_u64(), answer["body"].as_str()),
        (Some(200), Some("logged out"))
    );
    assert_eq!(answer["logout_token"]["header"]["typ"], "logout+jwt");
    let sub = &answer["logout_token"]["claims"]["sub"];
    assert!(
        sub.as_str().unwrap().starts_with('u'),
        "the stable uid, not the email: {sub}"
    );
    for (variant, why) in [
        ("alg_none", "bad signature"),
        ("wrong_alg", "bad signature"),
        ("attacker_key", "bad signature"),
        ("no_events", "no logout event"),
        ("wrong_events", "no logout event"),
        ("with_nonce", "nonce present"),
        ("wrong_aud", "bad aud"),
        ("wrong_iss", "bad iss"),
    ] {
        let (_, answer) = call(variant).await;
        assert_eq!(
            (answer["status"].as_u64(), answer["body"].as_str()),
            (Some(400), Some(why)),
            "{variant}: {answer}"
        );
    }
    assert_eq!(seen.lock().unwrap().len(), 9, "every call reached the RP");
    // A URL where nothing listens: no status, the connection error instead.
    let (status, answer) = idp
        .control(
            reqwest::Method::POST,
            "/_control/tenants/logout/oidc/backchannel-logout",
            Some(json!({"url": "http://127.0.0.1:9/bc", "client_id": "rp-1", "sid": "s-1"})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        answer["status"].is_null() && answer["error"].is_string(),
        "{answer}"
    );
    let (status, body) = idp
        .control(
            reqwest::Method::POST,
            "/_control/tenants/logout/oidc/backchannel-logout",
            Some(json!({"url": url, "client_id": "nobody", "sid": "s"})),
        )
        .await;
    assert_eq!((status, body["path"].as_str()), (400, Some("client_id")));
}

#[tokio::test]
async fn jwks_rotation_collision_and_failures() {
    let idp = Idp::start().await;
    let info = idp.tenant("rot").await;
    let (_, before) = idp.jwks(&info).await;
    let kids = |doc: &Value| -> Vec<String> {
        doc["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    let (old_current, old_next) = (kids(&before)[0].clone(), kids(&before)[1].clone());
    // next: the published next key becomes current; the old one is removed.
    let (status, r) = idp
        .control(
            reqwest::Method::POST,
            "/_control/tenants/rot/oidc/rotate",
            None,
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["current_kid"], old_next.as_str());
    let (_, after) = idp.jwks(&info).await;
    assert!(!kids(&after).contains(&old_current), "old key removed");
    let p = Parts::of(&idp.sign_in(&info).await.id_token());
    assert_eq!(p.header["kid"], old_next.as_str());
    assert!(
        p.verifies(&key_by_kid(&before, &old_next), Algorithm::RS256),
        "a cached JWKS still verifies"
    );
    // fresh, keep: a key no JWKS listed becomes current, the old stays listed.
    let (_, r) = idp
        .control(
            reqwest::Method::POST,
            "/_control/tenants/rot/oidc/rotate",
            Some(json!({"old": "keep", "new": "fresh"})),
        )
        .await;
    let fresh = r["current_kid"].as_str().unwrap().to_string();
    assert!(!kids(&after).contains(&fresh));
    let (_, now) = idp.jwks(&info).await;
    assert!(kids(&now).contains(&old_next) && kids(&now).contains(&fresh));
    let p = Parts::of(&idp.sign_in(&info).await.id_token());
    assert_eq!(p.header["kid"], fresh.as_str());
    assert!(p.verifies(&key_by_kid(&now, &fresh), Algorithm::RS256));
    // kid collision: a wrong key first under the current kid, the right one after it.
    idp.control(
        reqwest::Method::PUT,
        "/_control/tenants/rot/oidc/provider",
        Some(json!({"jwks_kid_collision": true})),
    )
    .await;
    let (_, doc) = idp.jwks(&info).await;
    let same: Vec<&Value> = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kid"] == fresh.as_str())
        .collect();
    assert_eq!(same.len(), 2);
    let p = Parts::of(&idp.sign_in(&info).await.id_token());
    let verify_with = |k: &Value| {
        p.verifies(
            &DecodingKey::from_jwk(&serde_json::from_value(k.clone()).unwrap()).unwrap(),
            Algorithm::RS256,
        )
    };
    assert!(!verify_with(same[0]) && verify_with(same[1]));
    // 500, then a cut connection.
    idp.control(
        reqwest::Method::PUT,
        "/_control/tenants/rot/oidc/provider",
        Some(json!({"jwks_status": 500})),
    )
    .await;
    let r = idp
        .http
        .get(info["oidc"]["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    idp.control(
        reqwest::Method::PUT,
        "/_control/tenants/rot/oidc/provider",
        Some(json!({"jwks_unreachable": true})),
    )
    .await;
    let r = idp
        .http
        .get(info["oidc"]["jwks_uri"].as_str().unwrap())
        .send()
        .await;
    match r {
        Err(_) => {}
        Ok(resp) => assert!(resp.bytes().await.is_err(), "the body must not arrive"),
    }
    idp.control(
        reqwest::Method::PUT,
        "/_control/tenants/rot/oidc/provider",
        Some(json!({})),
    )
    .await;
    assert_eq!(
        idp.http
            .get(info["oidc"]["jwks_uri"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// OIDC-RP-30 and -03: the attacker's own HMAC secret ships in the header as an `oct` JWK
/// (and verifies nothing else), and `single_key` makes the JWKS list the current key alone.
#[tokio::test]
async fn oct_jwk_header_and_single_key_jwks() {
    let idp = Idp::start().await;
    let info = idp.tenant("oct").await;
    let (_, jwks) = idp.jwks(&info).await;
    let s = idp
        .forged(&info, json!({ "preset": "jwk_header_oct" }))
        .await;
    let p = Parts::of(&s.id_token());
    assert_eq!(p.header["alg"], "HS256");
    assert_eq!(p.header["jwk"]["kty"], "oct");
    assert!(p.header.get("kid").is_none(), "{}", p.header);
    let secret = B64URL
        .decode(p.header["jwk"]["k"].as_str().unwrap())
        .unwrap();
    assert_eq!(secret.len(), 32);
    assert!(p.verifies(&DecodingKey::from_secret(&secret), Algorithm::HS256));
    assert!(!any_key_verifies(&p, &jwks, Algorithm::RS256));
    // Each token gets its own secret.
    let again = Parts::of(
        &idp.forged(&info, json!({ "preset": "jwk_header_oct" }))
            .await
            .id_token(),
    );
    assert_ne!(again.header["jwk"]["k"], p.header["jwk"]["k"]);
    // x5c cannot ship a symmetric key.
    let (status, body) = idp
        .control(
            reqwest::Method::POST,
            "/_control/tenants/oct/oidc/forge/next",
            Some(json!({"header": {"x5c": true}, "key": "attacker_secret"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        2,
        "current and next"
    );
    let (status, _) = idp
        .control(
            reqwest::Method::PUT,
            "/_control/tenants/oct/oidc/provider",
            Some(json!({"single_key": true})),
        )
        .await;
    assert_eq!(status, 204);
    let (_, single) = idp.jwks(&info).await;
    let listed = single["keys"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{single}");
    let p = Parts::of(
        &idp.forged(&info, json!({ "preset": "kid_absent" }))
            .await
            .id_token(),
    );
    assert!(p.header.get("kid").is_none());
    assert!(p.verifies(
        &DecodingKey::from_jwk(&serde_json::from_value(listed[0].clone()).unwrap()).unwrap(),
        Algorithm::RS256
    ));
}

impl Idp {
    async fn refresh(&self, info: &Value, refresh_token: &str) -> (u16, Value) {
        let r = self
            .http
            .post(info["oidc"]["token_endpoint"].as_str().unwrap())
            .basic_auth("rp-1", Some(SECRET))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ])
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }
}

/// OIDC-RP-19, 82, 83: a code redemption answers a refresh token; the refresh grant answers
/// new tokens for the same user (iss and sub as before, no nonce), spends the old refresh
/// token, and the forge's refresh_claims change only the refreshed ID token.
#[tokio::test]
async fn refresh_grant_rotates_tokens_and_obeys_refresh_claims() {
    let idp = Idp::start().await;
    let info = idp.tenant("refresh").await;
    let first = idp.sign_in(&info).await.json();
    let original = Parts::of(first["id_token"].as_str().unwrap());
    let original: Value = serde_json::from_str(&original.payload_text).unwrap();
    let rt = first["refresh_token"].as_str().unwrap().to_string();
    let (status, refreshed) = idp.refresh(&info, &rt).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_ne!(refreshed["access_token"], first["access_token"]);
    assert_ne!(refreshed["refresh_token"].as_str().unwrap(), rt);
    let p = Parts::of(refreshed["id_token"].as_str().unwrap());
    let (_, jwks) = idp.jwks(&info).await;
    assert!(p.verifies(
        &key_by_kid(&jwks, p.header["kid"].as_str().unwrap()),
        Algorithm::RS256
    ));
    let claims: Value = serde_json::from_str(&p.payload_text).unwrap();
    for k in ["iss", "sub", "aud", "auth_time"] {
        assert_eq!(claims[k], original[k], "{k}");
    }
    assert!(claims.get("nonce").is_none(), "{claims}");
    // The spent refresh token is refused.
    let (status, body) = idp.refresh(&info, &rt).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // UserInfo with the refreshed access token is logged as such.
    idp.userinfo(&info, refreshed["access_token"].as_str().unwrap())
        .await;
    let (_, q) = idp
        .control(
            reqwest::Method::GET,
            "/_control/tenants/refresh/oidc/requests",
            None,
        )
        .await;
    assert_eq!(q["called"]["refresh_request"], true, "{q}");
    assert_eq!(
        q["summary"]["refresh_request"][0]["grant_type"],
        "refresh_token"
    );
    assert_eq!(q["summary"]["userinfo"][0]["refreshed"], true, "{q}");
    // refresh_claims: the sign-in is genuine, the refreshed token names another iss / sub.
    for (op, claim) in [
        (json!({"op": "issuer", "variant": "other"}), "iss"),
        (
            json!({"op": "set", "name": "sub", "value": "someone-else"}),
            "sub",
        ),
    ] {
        let s = idp
            .forged(&info, json!({ "refresh_claims": [op] }))
            .await
            .json();
        let signed_in: Value =
            serde_json::from_str(&Parts::of(s["id_token"].as_str().unwrap()).payload_text).unwrap();
        assert_eq!(
            signed_in[claim], original[claim],
            "{claim}: sign-in genuine"
        );
        let (_, r) = idp
            .refresh(&info, s["refresh_token"].as_str().unwrap())
            .await;
        let p = Parts::of(r["id_token"].as_str().unwrap());
        let c: Value = serde_json::from_str(&p.payload_text).unwrap();
        assert_ne!(c[claim], original[claim], "{claim}: refreshed forged");
        assert!(p.verifies(
            &key_by_kid(&jwks, p.header["kid"].as_str().unwrap()),
            Algorithm::RS256
        ));
    }
}

#[tokio::test]
async fn iss_parameter_code_reuse_canary_and_request_query() {
    let idp = Idp::start().await;
    let info = idp.tenant("flow").await;
    let issuer = info["oidc"]["issuer"].as_str().unwrap();
    let iss_of = |s: &SignIn| {
        s.callback
            .query_pairs()
            .find(|(k, _)| k == "iss")
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(iss_of(&idp.sign_in(&info).await), None, "absent by default");
    assert_eq!(
        iss_of(
            &idp.forged(&info, json!({"authorization_iss": "correct"}))
                .await
        )
        .as_deref(),
        Some(issuer)
    );
    let wrong = iss_of(
        &idp.forged(&info, json!({"authorization_iss": "wrong"}))
            .await,
    )
    .unwrap();
    assert_ne!(wrong, issuer);
    idp.control(
        reqwest::Method::PUT,
        "/_control/tenants/flow/oidc/provider",
        Some(json!({"iss_parameter_supported": true})),
    )
    .await;
    let d: Value = idp
        .http
        .get(info["oidc"]["discovery_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    // Code reuse: refused by default, allowed when forged.
    let s = idp.sign_in(&info).await;
    let (second, _, body) = idp.redeem(&info, &s.code).await;
    assert_eq!(second, 400, "{body}");
    assert!(body.contains("invalid_grant"));
    let s = idp
        .forged(&info, json!({"preset": "code_reuse_allowed"}))
        .await;
    assert_eq!(s.status, 200);
    assert_eq!(idp.redeem(&info, &s.code).await.0, 200, "redeemed twice");
    // Canary: jku points at the tenant's attacker JWKS, whose fetch is logged.
    let s = idp
        .forged(&info, json!({"preset": "jku_header_attacker"}))
        .await;
    let jku = Parts::of(&s.id_token()).header["jku"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, mark) = idp
        .control(
            reqwest::Method::GET,
            "/_control/tenants/flow/oidc/requests?kind=none",
            None,
        )
        .await;
    let since = mark["now"].as_str().unwrap().to_string();
    let fetched: Value = idp
        .http
        .get(format!("{jku}?trial=t1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["keys"].as_array().unwrap().len(), 3);
    let s = idp
        .forged(
            &info,
            json!({"preset": "jku_header_attacker", "canary_url": "http://127.0.0.1:9/canary"}),
        )
        .await;
    assert_eq!(
        Parts::of(&s.id_token()).header["jku"],
        "http://127.0.0.1:9/canary"
    );
    idp.userinfo(&info, s.json()["access_token"].as_str().unwrap())
        .await;
    // The query: what was called since the mark, and how.
    let q = format!(
        "/_control/tenants/flow/oidc/requests?since={}",
        url::form_urlencoded::byte_serialize(since.as_bytes()).collect::<String>()
    );
    let (status, a) = idp.control(reqwest::Method::GET, &q, None).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["called"]["canary"], true);
    assert_eq!(
        a["summary"]["canary"][0]["path"],
        "/t/flow/forge/attacker-jwks"
    );
    assert_eq!(a["called"]["userinfo"], true);
    assert_eq!(a["called"]["jwks"], false);
    let t = &a["summary"]["token_request"][0];
    assert_eq!(t["client_auth"], "client_secret_basic");
    assert_eq!(t["pkce"], "S256");
    assert_eq!(t["nonce_sent"], true);
    assert_eq!(t["code_verifier_sent"], true);
    let az = &a["summary"]["authorization_request"][0];
    assert_eq!(
        (az["pkce"].as_str(), az["nonce_sent"].as_bool()),
        (Some("S256"), Some(true))
    );
    let (status, body) = idp
        .control(
            reqwest::Method::GET,
            "/_control/tenants/flow/oidc/requests?since=soon",
            None,
        )
        .await;
    assert_eq!((status, body["path"].as_str()), (400, Some("since")));
}

#[test]
fn the_cli_lists_the_catalogue() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mock-idp"))
        .args(["oidc-forge", "--list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "alg_none_mixed_case",
        "CWE-347",
        "CVE-2017-11424",
        "logout_with_nonce",
        "jwks_unreachable",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    let json = std::process::Command::new(env!("CARGO_BIN_EXE_mock-idp"))
        .args(["oidc-forge", "--json"])
        .output()
        .unwrap();
    let rows: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), text.lines().count());
    let none = std::process::Command::new(env!("CARGO_BIN_EXE_mock-idp"))
        .arg("oidc-forge")
        .output()
        .unwrap();
    assert!(!none.status.success());
}

/// An RP that publishes one RSA encryption key, and the means to open what is encrypted to it
/// (openssl's decryption calls, apart from the mock IdP's encrypter).
async fn encrypting_rp() -> (String, openssl::pkey::PKey<openssl::pkey::Private>) {
    let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
    let jwks = json!({"keys": [
        {"kty": "RSA", "use": "sig", "kid": "sig-1", "n": "AQAB", "e": "AQAB"},
        {"kty": "RSA", "use": "enc", "kid": "enc-1",
         "n": B64URL.encode(rsa.n().to_vec()), "e": B64URL.encode(rsa.e().to_vec())},
    ]});
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { axum::Json(jwks) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (
        format!("http://{addr}/jwks"),
        openssl::pkey::PKey::from_rsa(rsa).unwrap(),
    )
}

/// The plaintext of an RSA-OAEP / A256GCM compact JWE.
fn open_oaep_gcm(jwe: &str, key: &openssl::pkey::PKey<openssl::pkey::Private>) -> String {
    let p: Vec<&str> = jwe.split('.').collect();
    assert_eq!(p.len(), 5, "{jwe}");
    let d = |s: &str| B64URL.decode(s).unwrap();
    let mut ctx = openssl::pkey_ctx::PkeyCtx::new(key).unwrap();
    ctx.decrypt_init().unwrap();
    ctx.set_rsa_padding(openssl::rsa::Padding::PKCS1_OAEP)
        .unwrap();
    let mut cek = Vec::new();
    ctx.decrypt_to_vec(&d(p[1]), &mut cek).unwrap();
    let plain = openssl::symm::decrypt_aead(
        openssl::symm::Cipher::aes_256_gcm(),
        &cek,
        Some(&d(p[2])),
        p[0].as_bytes(),
        &d(p[3]),
        &d(p[4]),
    )
    .unwrap();
    String::from_utf8(plain).unwrap()
}

#[tokio::test]
async fn encrypted_id_tokens_go_to_the_clients_published_key() {
    let idp = Idp::start().await;
    let (jwks_uri, key) = encrypting_rp().await;
    let register = |id: &str, jwks_uri: &str, alg: &str| {
        json!({
            "id": id,
            "users": [{"email": "alice@acme.test"}],
            "oidc_clients": [{"client_id": "rp-1", "client_secret": SECRET, "redirect_uris": [REDIRECT],
                              "id_token_encryption": {"alg": alg, "enc": "A256GCM", "jwks_uri": jwks_uri}}],
        })
    };
    let r = idp
        .http
        .post(idp.url("/_control/tenants"))
        .json(&register("enc", &jwks_uri, "RSA-OAEP"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let info: Value = r.json().await.unwrap();
    let s = idp.sign_in(&info).await;
    assert_eq!(s.status, 200, "{}", s.body);
    let jwe = s.id_token();
    let header: Value =
        serde_json::from_slice(&B64URL.decode(jwe.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(
        header["kid"], "enc-1",
        "the enc key, not the sig one: {header}"
    );
    assert_eq!(header["cty"], "JWT");
    // Inside: the OP's genuine RS256 ID token, verifiable with its JWKS.
    let inner = Parts::of(&open_oaep_gcm(&jwe, &key));
    let (_, op_jwks) = idp.jwks(&info).await;
    assert!(any_key_verifies(&inner, &op_jwks, Algorithm::RS256));
    assert_eq!(inner.claims()["aud"], "rp-1");
    let (_, log) = idp
        .control(
            reqwest::Method::GET,
            "/_control/tenants/enc/exchanges",
            None,
        )
        .await;
    let text = log.to_string();
    assert!(text.contains("encrypted_id_token"), "{text}");

    // A jwks_uri that answers nothing: the token endpoint says why, and issues nothing.
    let r = idp
        .http
        .post(idp.url("/_control/tenants"))
        .json(&register("enc-gone", "http://127.0.0.1:9/jwks", "RSA-OAEP"))
        .send()
        .await
        .unwrap();
    let info: Value = r.json().await.unwrap();
    let s = idp.sign_in(&info).await;
    assert_eq!(s.status, 500, "{}", s.body);
    assert_eq!(s.json()["error"], "server_error");
    assert!(
        s.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("jwks_uri"),
        "{}",
        s.body
    );

    // A key transport the OP does not offer is refused when the client is registered.
    let (status, body) = idp
        .control(
            reqwest::Method::POST,
            "/_control/tenants",
            Some(register("enc-bad", &jwks_uri, "RSA-OAEP-512")),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string().contains("id_token_encryption.alg"),
        "{body}"
    );
}

#[tokio::test]
async fn claim_sources_aggregate_and_distribute_signed_claims() {
    let idp = Idp::start().await;
    let info = idp.tenant("sources").await;
    let s = idp
        .forged(
            &info,
            json!({"claim_sources": [
                {"name": "src1", "kind": "aggregated", "claims": {"phone_number": "+1 555 0199"}},
                {"name": "src2", "kind": "distributed", "claims": {"address": {"formatted": "2 Pier Road"}}},
                {"name": "src3", "kind": "aggregated", "claims": {"nickname": "mallory"},
                 "jwt": {"key": "attacker"}}
            ]}),
        )
        .await;
    assert_eq!(s.status, 200, "{}", s.body);
    let access_token = s.json()["access_token"].as_str().unwrap().to_string();
    let (ct, body) = idp.userinfo(&info, &access_token).await;
    assert!(ct.starts_with("application/json"), "{ct}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["email"], "alice@acme.test", "other claims stay");
    assert!(answer.get("phone_number").is_none());
    assert_eq!(
        answer["_claim_names"],
        json!({"phone_number": "src1", "address": "src2", "nickname": "src3"})
    );
    let (_, jwks) = idp.jwks(&info).await;
    let src1 = Parts::of(answer["_claim_sources"]["src1"]["JWT"].as_str().unwrap());
    assert!(src1.verifies(
        &key_by_kid(&jwks, src1.header["kid"].as_str().unwrap()),
        Algorithm::RS256
    ));
    assert_eq!(src1.claims()["phone_number"], "+1 555 0199");
    assert_eq!(src1.claims()["sub"], answer["sub"]);
    let src3 = Parts::of(answer["_claim_sources"]["src3"]["JWT"].as_str().unwrap());
    assert!(
        !any_key_verifies(&src3, &jwks, Algorithm::RS256),
        "the attacker's source is signed by no key of the JWKS"
    );
    // Distributed: the endpoint answers its own token only, and records both.
    let src2 = &answer["_claim_sources"]["src2"];
    let endpoint = src2["endpoint"].as_str().unwrap();
    assert_eq!(endpoint, idp.url("/t/sources/oidc/claims"));
    let refused = idp
        .http
        .get(endpoint)
        .bearer_auth(&access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        refused.status(),
        401,
        "the UserInfo token is not the source's"
    );
    let r = idp
        .http
        .get(endpoint)
        .bearer_auth(src2["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/jwt");
    let jwt = Parts::of(&r.text().await.unwrap());
    assert!(jwt.verifies(
        &key_by_kid(&jwks, jwt.header["kid"].as_str().unwrap()),
        Algorithm::RS256
    ));
    assert_eq!(jwt.claims()["address"], json!({"formatted": "2 Pier Road"}));
    let (status, a) = idp
        .control(
            reqwest::Method::GET,
            "/_control/tenants/sources/oidc/requests",
            None,
        )
        .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["called"]["claims"], true);
    assert_eq!(a["summary"]["claims"][0]["token_in"], "header");
    assert_eq!(a["summary"]["claims"][0]["source"], "src2");
    assert_eq!(a["summary"]["claims_refused"].as_array().unwrap().len(), 1);
}
