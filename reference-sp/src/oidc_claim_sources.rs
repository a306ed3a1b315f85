//! Aggregated and distributed claims (OIDC Core 5.6.2) for the claims this product maps from
//! UserInfo: the contact details the home page shows (`phone_number`, `address`). A claim the
//! answer names in `_claim_names` instead of carrying is taken from its source's JWT: the
//! JWT in the answer (aggregated), or the one the source's endpoint answers (distributed),
//! fetched with the source's access token in the Authorization header and only from the
//! issuer's own origin (the admin trusts one OP; a token sent elsewhere is handed to whoever
//! runs that host, CWE-522). The JWT is verified like any JWS of the OP (RS256 by a key of
//! its JWKS; an `iss` or `sub` it names must be the OP's and the user's).
//!
//! A source that fails any of this is dropped, not the sign-in: the identity comes from the
//! verified ID token alone, never from a source, so what is lost is a contact detail the
//! OP could not vouch for. The reason is logged (`claims source ... dropped`).
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::oidc_jws::{self, OpKeys};

/// The UserInfo claims the product maps (shown on the home page, never used to find the user).
pub const MAPPED: [&str; 2] = ["phone_number", "address"];

/// `answer` with the mapped claims it names in `_claim_names` filled from their sources.
pub async fn resolve(
    http: &reqwest::Client,
    mut answer: Map<String, Value>,
    discovery_url: &str,
    sub: &str,
) -> Map<String, Value> {
    let wanted = wanted(&answer);
    if wanted.is_empty() {
        return answer;
    }
    let keys = match oidc_jws::fetch(http, discovery_url).await {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!("claims sources dropped: the OP's keys: {e}");
            return answer;
        }
    };
    let sources = answer.get("_claim_sources").cloned().unwrap_or_default();
    let mut resolved: BTreeMap<String, Result<Map<String, Value>, String>> = BTreeMap::new();
    for (claim, src) in wanted {
        if !resolved.contains_key(&src) {
            let got = match sources.get(&src) {
                Some(source) => match source_jwt(http, source, &keys.issuer).await {
                    Ok(jwt) => verified(&jwt, &keys, sub),
                    Err(e) => Err(e),
                },
                None => Err("_claim_sources does not list it".into()),
            };
            resolved.insert(src.clone(), got);
        }
        match &resolved[&src] {
            Ok(claims) => match claims.get(&claim) {
                Some(v) => {
                    answer.insert(claim, v.clone());
                }
                None => tracing::warn!("claims source {src:?}: its JWT has no {claim}"),
            },
            Err(e) => tracing::warn!("claims source {src:?} dropped ({claim}): {e}"),
        }
    }
    answer
}

/// (claim, source name) for each mapped claim the answer leaves to a source.
fn wanted(answer: &Map<String, Value>) -> Vec<(String, String)> {
    let Some(Value::Object(names)) = answer.get("_claim_names") else {
        return Vec::new();
    };
    MAPPED
        .iter()
        .filter(|c| !answer.contains_key(**c))
        .filter_map(|c| Some((c.to_string(), names.get(*c)?.as_str()?.to_string())))
        .collect()
}

/// The source's JWT: the aggregated one as it is, or the distributed endpoint's answer.
async fn source_jwt(
    http: &reqwest::Client,
    source: &Value,
    issuer: &str,
) -> Result<String, String> {
    if let Some(jwt) = source.get("JWT") {
        return jwt
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| "its JWT is not a string".into());
    }
    let endpoint = source
        .get("endpoint")
        .and_then(Value::as_str)
        .ok_or("it has neither a JWT nor an endpoint")?;
    same_origin(endpoint, issuer)?;
    let mut req = http.get(endpoint);
    if let Some(token) = source.get("access_token").and_then(Value::as_str) {
        req = req.bearer_auth(token);
    }
    let resp = req
        .send()
        .await
        .map_err(|e| format!("cannot reach its endpoint: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("its endpoint answered {}", resp.status()));
    }
    resp.text()
        .await
        .map(|t| t.trim().to_string())
        .map_err(|e| format!("reading its endpoint's answer: {e}"))
}

/// A distributed endpoint must be on the issuer's origin: the access token goes nowhere else.
fn same_origin(endpoint: &str, issuer: &str) -> Result<(), String> {
    let origin = |u: &str| url::Url::parse(u).map(|u| u.origin());
    match (origin(endpoint), origin(issuer)) {
        (Ok(e), Ok(i)) if e == i => Ok(()),
        (Ok(_), Ok(i)) => Err(format!(
            "its endpoint is not on the issuer's origin {}: the access token is not sent there",
            i.ascii_serialization()
        )),
        _ => Err("its endpoint is not a URL".into()),
    }
}

/// The claims of a source JWT the OP signed, about this user.
fn verified(jwt: &str, keys: &OpKeys, sub: &str) -> Result<Map<String, Value>, String> {
    let (_, claims) = oidc_jws::verify(jwt, &keys.jwks)?;
    if claims.get("iss").is_some_and(|i| i != keys.issuer.as_str()) {
        return Err("its iss is not the OP's issuer".into());
    }
    if claims.get("sub").is_some_and(|s| s != sub) {
        return Err("its sub is not the ID token's".into());
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use openssl::hash::MessageDigest;
    use openssl::pkey::{PKey, Private};
    use openssl::rsa::Rsa;
    use openssl::sign::Signer;
    use serde_json::json;

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    }

    fn key() -> PKey<Private> {
        PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap()
    }

    fn jwks(k: &PKey<Private>) -> Value {
        let rsa = k.rsa().unwrap();
        json!({"keys": [{"kty": "RSA", "kid": "k1", "use": "sig",
            "n": b64(&rsa.n().to_vec()), "e": b64(&rsa.e().to_vec())}]})
    }

    fn sign(k: &PKey<Private>, header: Value, payload: Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(payload.to_string().as_bytes())
        );
        let mut s = Signer::new(MessageDigest::sha256(), k).unwrap();
        s.update(input.as_bytes()).unwrap();
        format!("{input}.{}", b64(&s.sign_to_vec().unwrap()))
    }

    #[test]
    fn only_mapped_claims_left_to_a_source_are_wanted() {
        let a: Map<String, Value> = serde_json::from_value(json!({
            "sub": "u1", "address": "here",
            "_claim_names": {"phone_number": "s1", "address": "s2", "nickname": "s3"}
        }))
        .unwrap();
        assert_eq!(wanted(&a), vec![("phone_number".into(), "s1".into())]);
        let none: Map<String, Value> = serde_json::from_value(json!({"sub": "u1"})).unwrap();
        assert!(wanted(&none).is_empty());
    }

    #[test]
    fn a_source_jwt_must_be_the_ops_about_this_user() {
        let op = key();
        let keys = OpKeys {
            issuer: "http://op.test/t/a".into(),
            jwks: jwks(&op),
        };
        let h = json!({"alg": "RS256", "kid": "k1"});
        let good = sign(
            &op,
            h.clone(),
            json!({"iss": "http://op.test/t/a", "sub": "u1", "phone_number": "1"}),
        );
        assert_eq!(verified(&good, &keys, "u1").unwrap()["phone_number"], "1");
        let e = verified(&good, &keys, "u2").unwrap_err();
        assert!(e.contains("sub"), "{e}");
        let other_iss = sign(
            &op,
            h.clone(),
            json!({"iss": "http://evil.test", "phone_number": "1"}),
        );
        assert!(
            verified(&other_iss, &keys, "u1")
                .unwrap_err()
                .contains("iss")
        );
        let attacker = sign(&key(), h, json!({"phone_number": "6"}));
        assert!(
            verified(&attacker, &keys, "u1").is_err(),
            "a key the JWKS lacks"
        );
        let none = format!(
            "{}.{}.",
            b64(br#"{"alg":"none"}"#),
            b64(br#"{"phone_number":"6"}"#)
        );
        assert!(verified(&none, &keys, "u1").unwrap_err().contains("alg"));
    }

    #[test]
    fn distributed_endpoints_stay_on_the_issuers_origin() {
        let iss = "http://127.0.0.1:9/t/a/";
        assert!(same_origin("http://127.0.0.1:9/t/a/oidc/claims", iss).is_ok());
        assert!(same_origin("http://127.0.0.1:10/claims", iss).is_err());
        assert!(same_origin("https://127.0.0.1:9/claims", iss).is_err());
        let e = same_origin("http://attacker.test:9/claims", iss).unwrap_err();
        assert!(e.contains("origin"), "{e}");
        assert!(same_origin("not a url", iss).is_err());
    }
}
