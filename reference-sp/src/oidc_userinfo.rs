//! The UserInfo call after a verified ID token: the access token in the Authorization header
//! (never the query, where URLs are logged), and an answer about the same subject (OIDC Core
//! 5.3.2: a sub that differs, or none, means the answer is not this user's). A signed answer
//! is verified like any JWS of the OP. The product takes its profile from the ID token; this
//! call refuses a sign-in whose UserInfo contradicts it, and answers the claims (contact
//! details the ID token lacks).
use serde_json::{Map, Value};

use crate::oidc_jws;

pub async fn check(
    http: &reqwest::Client,
    url: &str,
    access_token: &str,
    sub: &str,
    discovery_url: &str,
    client_id: &str,
) -> Result<Map<String, Value>, String> {
    let refused = |why: String| format!("the UserInfo answer was refused: {why}");
    let resp = http
        .get(url)
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(|e| refused(format!("cannot reach {url}: {e}")))?;
    if !resp.status().is_success() {
        return Err(refused(format!("{url} answered {}", resp.status())));
    }
    let jwt = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/jwt"));
    let body = resp
        .text()
        .await
        .map_err(|e| refused(format!("reading the answer: {e}")))?;
    let claims: Map<String, Value> = if jwt {
        let keys = oidc_jws::fetch(http, discovery_url)
            .await
            .map_err(refused)?;
        let (_, claims) = oidc_jws::verify(body.trim(), &keys.jwks).map_err(refused)?;
        // A signed answer that names an issuer or audience must name this OP and client.
        if claims.get("iss").is_some_and(|i| i != keys.issuer.as_str()) {
            return Err(refused("its iss is not the OP's issuer".into()));
        }
        if claims.contains_key("aud") && !oidc_jws::audience_has(&claims, client_id) {
            return Err(refused("its aud does not name this client".into()));
        }
        claims
    } else {
        match serde_json::from_str(&body) {
            Ok(Value::Object(m)) => m,
            _ => return Err(refused("it is not a JSON object".into())),
        }
    };
    match claims.get("sub") {
        Some(Value::String(s)) if s == sub => Ok(claims),
        // Not echoed: the page shows this reason, and the value is the OP's (or a forger's).
        Some(Value::String(_)) => Err(refused("its sub is not the ID token's".into())),
        Some(_) => Err(refused("its sub is not a string".into())),
        None => Err(refused("it has no sub".into())),
    }
}
