//! JARM (JWT Secured Authorization Response Mode for OAuth 2.0): an OIDC connection set to
//! `query.jwt` asks the OP to send the authorization response as one signed JWT `response`
//! instead of `code` and `state` in the clear. Before its code is redeemed, the JWT must be
//! signed by the OP's key with the registered algorithm, name the OP as `iss` and this client
//! in `aud`, carry an `exp` still in the future, and the `state` this sign-in sent (JARM 2.4).
use crate::oidc_jws::{self, JsonObject};
use base64::Engine as _;
use serde_json::Value;

/// The one JARM mode this product asks for: the callback is a GET, so the JWT comes in the
/// query (`form_post.jwt` and `fragment.jwt` would need a POST or script callback).
pub const QUERY_JWT: &str = "query.jwt";

/// The stored response mode for what an admin asked: none (or `query`) is the plain query
/// response; `query.jwt` (or `jwt`, which means it for the code flow) asks for JARM.
pub fn response_mode(asked: Option<&str>) -> Result<Option<String>, String> {
    match asked.map(str::trim) {
        None | Some("") | Some("query") => Ok(None),
        Some("query.jwt") | Some("jwt") => Ok(Some(QUERY_JWT.to_string())),
        Some(other) => Err(format!(
            "{other:?} is not a response mode this product supports: query (the default) or {QUERY_JWT} (JARM)"
        )),
    }
}

/// The `state` of a JARM response before anything is verified: only to find the sign-in it
/// belongs to (the connection, and so the keys to verify it with). Nothing else is read
/// from an unverified JWT, and the verified `state` must be the same.
pub fn unverified_state(response: &str) -> Result<String, String> {
    let payload = response
        .split('.')
        .nth(1)
        .ok_or("the JARM response is not a compact JWS")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|e| format!("the JARM response's payload is not base64url: {e}"))?;
    let claims: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("the JARM response's payload is not JSON: {e}"))?;
    claims
        .get("state")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| "the JARM response has no state".to_string())
}

/// What a verified JARM response says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The OP's issuer (it serves as the RFC 9207 `iss` parameter) and the code.
    Code { iss: String, code: String },
    /// The OP answered an error inside the JWT.
    Error {
        error: String,
        description: Option<String>,
    },
}

/// Verifies the JWT and its claims; an error says which check refused it.
pub async fn verify(
    http: &reqwest::Client,
    discovery_url: &str,
    client_id: &str,
    state: &str,
    response: &str,
    now: i64,
) -> Result<Answer, String> {
    let keys = oidc_jws::fetch(http, discovery_url).await?;
    let (_, claims) = oidc_jws::verify(response, &keys.jwks)
        .map_err(|e| format!("the JARM response was refused: {e}"))?;
    check_claims(&claims, &keys.issuer, client_id, state, now)
        .map_err(|e| format!("the JARM response was refused: {e}"))
}

/// JARM 2.4 steps 2-4 on verified claims.
pub fn check_claims(
    c: &JsonObject,
    issuer: &str,
    client_id: &str,
    state: &str,
    now: i64,
) -> Result<Answer, String> {
    match c.get("iss").and_then(Value::as_str) {
        None => return Err("it has no iss".into()),
        Some(iss) if iss != issuer => {
            return Err(format!("iss {iss:?} is not the OP's issuer {issuer:?}"));
        }
        Some(_) => {}
    }
    let aud_ok = match c.get("aud") {
        None => return Err("it has no aud".into()),
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(list)) => list.iter().any(|a| a == client_id),
        Some(_) => false,
    };
    if !aud_ok {
        return Err(format!("aud does not name this client {client_id:?}"));
    }
    match c.get("exp").and_then(Value::as_i64) {
        None => return Err("it has no exp (a number)".into()),
        Some(exp) if exp <= now => return Err(format!("it expired at {exp} (now {now})")),
        Some(_) => {}
    }
    if c.get("state").and_then(Value::as_str) != Some(state) {
        return Err("its state is not the one this sign-in sent".into());
    }
    if let Some(error) = c.get("error").and_then(Value::as_str) {
        return Ok(Answer::Error {
            error: error.to_string(),
            description: c
                .get("error_description")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    let code = c
        .get("code")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or("it has neither code nor error")?;
    Ok(Answer::Code {
        iss: issuer.to_string(),
        code: code.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> JsonObject {
        v.as_object().unwrap().clone()
    }

    fn genuine() -> Value {
        json!({"iss": "http://op/", "aud": "c1", "exp": 2000, "state": "s1", "code": "k"})
    }

    fn check(v: Value) -> Result<Answer, String> {
        check_claims(&claims(v), "http://op/", "c1", "s1", 1000)
    }

    #[test]
    fn the_genuine_claims_give_the_code() {
        assert_eq!(
            check(genuine()),
            Ok(Answer::Code {
                iss: "http://op/".into(),
                code: "k".into()
            })
        );
        let mut array_aud = genuine();
        array_aud["aud"] = json!(["other", "c1"]);
        assert!(check(array_aud).is_ok());
    }

    #[test]
    fn each_claim_is_checked() {
        for (name, value, says) in [
            ("iss", json!("http://evil/"), "is not the OP's issuer"),
            ("iss", Value::Null, "no iss"),
            ("aud", json!("c2"), "aud does not name"),
            ("aud", Value::Null, "no aud"),
            ("exp", json!(999), "expired"),
            ("exp", json!(1000), "expired"),
            ("exp", Value::Null, "no exp"),
            ("exp", json!("2000"), "no exp"),
            ("state", json!("s2"), "state"),
            ("state", Value::Null, "state"),
            ("code", Value::Null, "neither code nor error"),
        ] {
            let mut c = genuine();
            if value.is_null() {
                c.as_object_mut().unwrap().remove(name);
            } else {
                c[name] = value;
            }
            let e = check(c).unwrap_err();
            assert!(e.contains(says), "{name}: {e}");
        }
    }

    #[test]
    fn an_error_inside_the_jwt_is_an_answer() {
        let mut c = genuine();
        c["error"] = json!("access_denied");
        assert!(matches!(check(c), Ok(Answer::Error { error, .. }) if error == "access_denied"));
    }

    #[test]
    fn modes_and_the_unverified_state() {
        assert_eq!(response_mode(None), Ok(None));
        assert_eq!(response_mode(Some("query")), Ok(None));
        assert_eq!(response_mode(Some("jwt")), Ok(Some(QUERY_JWT.into())));
        assert!(response_mode(Some("form_post.jwt")).is_err());
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(genuine().to_string());
        assert_eq!(
            unverified_state(&format!("e30.{payload}.x")),
            Ok("s1".into())
        );
        assert!(unverified_state("nodots").is_err());
    }
}
