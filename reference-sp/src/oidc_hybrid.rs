//! The hybrid flow's front channel (OIDC Core 3.3.2.11 and 3.3.2.12): the ID token that comes
//! with the code in the authorization response is verified, and its hashes bind it to the
//! code (`c_hash`), to an access token that came with it (`at_hash`) and, as a detached
//! signature (FAPI 1 Advanced 5.2.2.1), to the state (`s_hash`), all before the code is
//! redeemed: a code swapped in by an attacker then never reaches the token endpoint.
use base64::Engine as _;
use serde_json::Value;
use sha2::Digest as _;

use crate::oidc_jws::{self, JsonObject};

/// The response types a connection may ask for; `code token` is not offered (no ID token
/// would bind the code).
pub const RESPONSE_TYPES: [&str; 3] = ["code", "code id_token", "code id_token token"];

/// How far exp may lie behind and iat ahead (clocks drift).
const SKEW_SECS: i64 = 300;

/// A connection's flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Flow {
    /// `code id_token` or `code id_token token`: the answer comes by form_post with an ID token.
    pub hybrid: bool,
    /// An access token comes from the authorization endpoint too (`code id_token token`).
    pub token: bool,
    /// The front ID token is a detached signature: s_hash is required.
    pub require_s_hash: bool,
}

impl Flow {
    /// `None`/`code` is the plain code flow; other names must be one of [`RESPONSE_TYPES`].
    pub fn parse(response_type: Option<&str>, require_s_hash: bool) -> Result<Self, String> {
        let words: Vec<&str> = response_type
            .unwrap_or("code")
            .split(' ')
            .filter(|w| !w.is_empty())
            .collect();
        let has = |w: &str| words.contains(&w);
        let known = words
            .iter()
            .all(|w| ["code", "id_token", "token"].contains(w));
        let mut sorted = words.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if !known
            || sorted.len() != words.len()
            || !has("code")
            || (has("token") && !has("id_token"))
        {
            return Err(format!(
                "response_type {:?} is not supported; use one of: {}",
                response_type.unwrap_or_default(),
                RESPONSE_TYPES.join(", ")
            ));
        }
        let hybrid = has("id_token");
        if require_s_hash && !hybrid {
            return Err("require_s_hash needs a hybrid response type (code id_token)".into());
        }
        Ok(Flow {
            hybrid,
            token: has("token"),
            require_s_hash,
        })
    }

    /// The canonical name, as stored and sent.
    pub fn response_type(self) -> &'static str {
        match (self.hybrid, self.token) {
            (false, _) => RESPONSE_TYPES[0],
            (true, false) => RESPONSE_TYPES[1],
            (true, true) => RESPONSE_TYPES[2],
        }
    }
}

/// What the authorization response carried.
pub struct FrontChannel<'a> {
    pub id_token: Option<&'a str>,
    pub code: &'a str,
    pub state: &'a str,
    pub access_token: Option<&'a str>,
}

/// The left half of SHA-256, base64url (the hash of RS256, the only algorithm accepted).
fn half_hash(value: &str) -> String {
    let d = sha2::Sha256::digest(value.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&d[..16])
}

/// Verifies the front ID token with the OP's current keys, then [`check_claims`].
pub async fn check(
    http: &reqwest::Client,
    discovery_url: &str,
    client_id: &str,
    flow: Flow,
    front: &FrontChannel<'_>,
    nonce: &str,
    now: i64,
) -> Result<(), String> {
    let token = front.id_token.ok_or(
        "the authorization response has no id_token although the connection asks for one (hybrid flow)",
    )?;
    let keys = oidc_jws::fetch(http, discovery_url).await?;
    let (_, claims) = oidc_jws::verify(token, &keys.jwks)
        .map_err(|e| format!("the authorization response's ID token was refused: {e}"))?;
    check_claims(&claims, &keys.issuer, client_id, flow, front, nonce, now)
        .map_err(|e| format!("the authorization response's ID token was refused: {e}"))
}

/// OIDC Core 3.3.2.12 (3.2.2.11 and 3.1.3.7 by reference): iss, aud, azp, exp, iat, nonce,
/// then the hashes of what came with the token.
fn check_claims(
    c: &JsonObject,
    issuer: &str,
    client_id: &str,
    flow: Flow,
    front: &FrontChannel<'_>,
    nonce: &str,
    now: i64,
) -> Result<(), String> {
    let text = |name: &str| c.get(name).and_then(Value::as_str);
    let number = |name: &str| c.get(name).and_then(Value::as_i64);
    if text("iss") != Some(issuer) {
        return Err(format!("iss {:?} is not {issuer:?}", c.get("iss")));
    }
    if !oidc_jws::audience_has(c, client_id) {
        return Err(format!("aud {:?} does not name this client", c.get("aud")));
    }
    let several = matches!(c.get("aud"), Some(Value::Array(a)) if a.len() > 1);
    match text("azp") {
        Some(azp) if azp != client_id => return Err(format!("azp {azp:?} is not this client")),
        None if several => return Err("several audiences and no azp".into()),
        _ => {}
    }
    match number("exp") {
        Some(exp) if exp + SKEW_SECS > now => {}
        Some(_) => return Err("it has expired".into()),
        None => return Err("exp is missing or not a number".into()),
    }
    match number("iat") {
        Some(iat) if iat <= now + SKEW_SECS => {}
        Some(_) => return Err("iat is in the future".into()),
        None => return Err("iat is missing or not a number".into()),
    }
    if text("nonce") != Some(nonce) {
        return Err("its nonce is not the one this sign-in sent".into());
    }
    // c_hash is REQUIRED for code id_token (3.3.2.11): without it nothing ties this token
    // to the code, and a code injected from another session would be redeemed.
    match text("c_hash") {
        Some(h) if h == half_hash(front.code) => {}
        Some(_) => return Err("c_hash does not match the code".into()),
        None => return Err("c_hash is missing (required in the hybrid flow)".into()),
    }
    if let Some(at) = front.access_token {
        match text("at_hash") {
            Some(h) if h == half_hash(at) => {}
            Some(_) => return Err("at_hash does not match the access token".into()),
            None => {
                return Err(
                    "at_hash is missing although an access token came with it (required)".into(),
                );
            }
        }
    } else if flow.token {
        return Err("the authorization response has no access_token (code id_token token)".into());
    }
    match text("s_hash") {
        Some(h) if h == half_hash(front.state) => {}
        Some(_) => return Err("s_hash does not match the state".into()),
        None if flow.require_s_hash => {
            return Err("s_hash is missing (the ID token is a detached signature)".into());
        }
        None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn genuine() -> JsonObject {
        json!({"iss": "https://op", "aud": "rp", "exp": NOW + 60, "iat": NOW, "nonce": "n",
               "c_hash": half_hash("c"), "at_hash": half_hash("a"), "s_hash": half_hash("s")})
        .as_object()
        .cloned()
        .unwrap()
    }

    fn run(c: &JsonObject, flow: Flow, at: Option<&str>) -> Result<(), String> {
        let front = FrontChannel {
            id_token: None,
            code: "c",
            state: "s",
            access_token: at,
        };
        check_claims(c, "https://op", "rp", flow, &front, "n", NOW)
    }

    #[test]
    fn hashes_bind_code_access_token_and_state() {
        let fapi = Flow::parse(Some("code id_token token"), true).unwrap();
        assert!(run(&genuine(), fapi, Some("a")).is_ok());
        for (name, why) in [
            ("c_hash", "c_hash is missing"),
            ("at_hash", "at_hash is missing"),
            ("s_hash", "s_hash is missing"),
        ] {
            let mut c = genuine();
            c.remove(name);
            assert!(
                run(&c, fapi, Some("a")).unwrap_err().contains(why),
                "{name}"
            );
            c.insert(name.into(), json!(half_hash("other")));
            assert!(
                run(&c, fapi, Some("a"))
                    .unwrap_err()
                    .contains("does not match"),
                "{name}"
            );
        }
        // Without the detached-signature setting s_hash is optional, but checked when present.
        let plain = Flow::parse(Some("code id_token"), false).unwrap();
        let mut c = genuine();
        c.remove("s_hash");
        assert!(run(&c, plain, None).is_ok());
        c.insert("s_hash".into(), json!("x"));
        assert!(run(&c, plain, None).is_err());
    }

    #[test]
    fn nonce_audience_and_times_are_checked() {
        let flow = Flow::parse(Some("code id_token"), false).unwrap();
        for (name, value) in [
            ("nonce", json!("other")),
            ("aud", json!("x")),
            ("iss", json!("https://evil")),
            ("exp", json!(NOW - 3600)),
            ("aud", json!(["rp", "x"])),
        ] {
            let mut c = genuine();
            c.insert(name.into(), value);
            assert!(run(&c, flow, None).is_err(), "{name}");
        }
    }

    #[test]
    fn response_types_parse() {
        assert!(!Flow::parse(None, false).unwrap().hybrid);
        assert_eq!(
            Flow::parse(Some("id_token code"), false)
                .unwrap()
                .response_type(),
            "code id_token"
        );
        assert!(Flow::parse(Some("code token"), false).is_err());
        assert!(Flow::parse(Some("id_token"), false).is_err());
        assert!(Flow::parse(Some("code"), true).is_err());
    }
}
