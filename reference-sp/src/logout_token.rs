//! OpenID Connect Back-Channel Logout 1.0, section 2.6: the claims of a logout token whose
//! signature `oidc_jws::verify` accepted. What it names (sub and/or sid) is whose sessions
//! end; anything wrong refuses the whole token.
use serde_json::{Map, Value};

use crate::oidc_jws::audience_has;

/// The member of `events` that makes a JWT a logout token.
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Clocks drift; a token made a moment ago may carry an iat a little ahead.
const CLOCK_SKEW_SECS: i64 = 300;
/// A logout token is sent as soon as it is made: an older one is a replay.
const MAX_AGE_SECS: i64 = 600;

/// Whose sessions a valid logout token ends, and its id (kept against replays).
#[derive(Debug, PartialEq, Eq)]
pub struct Logout {
    pub sub: Option<String>,
    pub sid: Option<String>,
    pub jti: String,
}

fn string(claims: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(format!("{name} is not a non-empty string")),
    }
}

fn number(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, String> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{name} is not a number")),
    }
}

pub fn check(
    claims: &Map<String, Value>,
    issuer: &str,
    client_id: &str,
    now: i64,
) -> Result<Logout, String> {
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(format!(
            "iss {} is not the OP's issuer {issuer:?}",
            claims
                .get("iss")
                .map(Value::to_string)
                .unwrap_or("absent".into())
        ));
    }
    if !audience_has(claims, client_id) {
        return Err(format!("aud does not name this client ({client_id})"));
    }
    let iat = number(claims, "iat")?.ok_or("iat is absent")?;
    if iat > now + CLOCK_SKEW_SECS {
        return Err(format!("iat is {} s in the future", iat - now));
    }
    if now - iat > MAX_AGE_SECS {
        return Err(format!("iat is {} s old", now - iat));
    }
    if let Some(exp) = number(claims, "exp")?
        && exp + CLOCK_SKEW_SECS < now
    {
        return Err("the token has expired".into());
    }
    let jti = string(claims, "jti")?.ok_or("jti is absent")?;
    let event = claims
        .get("events")
        .and_then(Value::as_object)
        .ok_or("events is absent or not an object")?
        .get(LOGOUT_EVENT);
    if !event.is_some_and(Value::is_object) {
        return Err(format!("events has no {LOGOUT_EVENT} member object"));
    }
    // A nonce would let an ID token pass for a logout token (section 2.4).
    if claims.contains_key("nonce") {
        return Err("a logout token must not contain a nonce".into());
    }
    let sub = string(claims, "sub")?;
    let sid = string(claims, "sid")?;
    if sub.is_none() && sid.is_none() {
        return Err("neither sub nor sid names whose sessions to end".into());
    }
    Ok(Logout { sub, sid, jti })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Map<String, Value> {
        json!({"iss": "https://op", "aud": "rp", "iat": 1000, "exp": 1120, "jti": "j1",
               "sub": "u1", "events": {LOGOUT_EVENT: {}}})
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn a_valid_token_names_its_subject() {
        let l = check(&valid(), "https://op", "rp", 1010).unwrap();
        assert_eq!(l.sub.as_deref(), Some("u1"));
        assert_eq!(l.jti, "j1");
    }

    #[test]
    fn every_broken_claim_is_refused() {
        let cases: Vec<(&str, Value)> = vec![
            ("iss", json!("https://evil")),
            ("aud", json!("other")),
            ("events", json!({"https://other/event": {}})),
            ("nonce", json!("n")),
            ("iat", json!(5000)),
            ("iat", json!("1000")),
            ("jti", json!(7)),
        ];
        for (name, value) in cases {
            let mut c = valid();
            c.insert(name.into(), value.clone());
            assert!(
                check(&c, "https://op", "rp", 1010).is_err(),
                "{name} = {value} passed"
            );
        }
        for name in ["iss", "aud", "iat", "jti", "events"] {
            let mut c = valid();
            c.remove(name);
            assert!(
                check(&c, "https://op", "rp", 1010).is_err(),
                "no {name} passed"
            );
        }
        let mut c = valid();
        c.remove("sub");
        assert!(check(&c, "https://op", "rp", 1010).is_err());
        assert!(
            check(&valid(), "https://op", "rp", 1000 + 700).is_err(),
            "old"
        );
    }
}
