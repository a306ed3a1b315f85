//! RP-initiated logout at the OP (OpenID Connect RP-Initiated Logout 1.0): signing out of a
//! session an OIDC connection made sends the browser on to the OP's `end_session_endpoint`
//! with the session's ID token as `id_token_hint`, the product's post-logout page and a
//! fresh `state` kept in a cookie of this browser. The post-logout page confirms the sign-out
//! at the OP only for that state: another state, or none, is a visit this browser did not
//! start (anyone can link there), and nothing is done for it.
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde_json::Value;

/// The cookie holding the state of the logout request this browser is waiting for.
pub const STATE_COOKIE: &str = "refsp_logout_state";
/// How long the OP may take to send the browser back.
const STATE_SECONDS: i64 = 600;

/// The OP's discovery document, fetched now.
async fn discovery(http: &reqwest::Client, discovery_url: &str) -> Result<Value, String> {
    http.get(discovery_url)
        .send()
        .await
        .map_err(|e| format!("cannot fetch {discovery_url}: {e}"))?
        .error_for_status()
        .map_err(|e| format!("{discovery_url} answered {e}"))?
        .json::<Value>()
        .await
        .map_err(|e| format!("{discovery_url} is not JSON: {e}"))
}

/// The OP's issuer, from its discovery document fetched now.
pub async fn issuer(http: &reqwest::Client, discovery_url: &str) -> Result<String, String> {
    discovery(http, discovery_url).await?["issuer"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("the discovery document {discovery_url} has no issuer"))
}

/// The `sid` claim of an ID token this product verified (its payload read again: the
/// openidconnect claims type has no member for it).
pub fn sid_of(id_token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = id_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims["sid"].as_str().map(str::to_string)
}

/// The OP's `end_session_endpoint` from its discovery document, fetched now; `None` when it
/// publishes none (then only the session here ends).
pub async fn end_session_endpoint(
    http: &reqwest::Client,
    discovery_url: &str,
) -> Result<Option<String>, String> {
    let doc = discovery(http, discovery_url).await?;
    match doc.get("end_session_endpoint") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => url::Url::parse(s)
            .map(|_| Some(s.clone()))
            .map_err(|e| format!("end_session_endpoint {s:?} is not a URL: {e}")),
        Some(other) => Err(format!("end_session_endpoint is not a string: {other}")),
    }
}

/// The logout request's URL: the endpoint with its own query kept, then the parameters.
pub fn logout_url(
    endpoint: &str,
    client_id: &str,
    id_token: &str,
    post_logout_uri: &str,
    state: &str,
) -> Result<String, String> {
    let mut url = url::Url::parse(endpoint)
        .map_err(|e| format!("end_session_endpoint {endpoint:?} is not a URL: {e}"))?;
    url.query_pairs_mut()
        .append_pair("id_token_hint", id_token)
        .append_pair("client_id", client_id)
        .append_pair("post_logout_redirect_uri", post_logout_uri)
        .append_pair("state", state);
    Ok(url.into())
}

/// The jar with the state cookie set for this logout request.
pub fn remember_state(jar: CookieJar, state: &str) -> CookieJar {
    let mut c = Cookie::new(STATE_COOKIE, state.to_string());
    c.set_path("/");
    c.set_http_only(true);
    // Lax: the OP sends the browser back with a top-level GET, which carries it.
    c.set_same_site(SameSite::Lax);
    c.set_max_age(time::Duration::seconds(STATE_SECONDS));
    jar.add(c)
}

/// Whether `state` answers the logout request this browser sent, and the jar without the
/// cookie (a state is good once).
pub fn take_state(jar: CookieJar, state: Option<&str>) -> (bool, CookieJar) {
    let expected = jar.get(STATE_COOKIE).map(|c| c.value().to_string());
    let mut gone = Cookie::from(STATE_COOKIE);
    gone.set_path("/");
    let jar = jar.remove(gone);
    let ok = match (state, expected) {
        (Some(got), Some(want)) => {
            !want.is_empty()
                && got.len() == want.len()
                && openssl::memcmp::eq(got.as_bytes(), want.as_bytes())
        }
        _ => false,
    };
    (ok, jar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_state_this_browser_sent_is_good() {
        let jar = remember_state(CookieJar::new(), "s-123");
        let (ok, jar) = take_state(jar, Some("s-123"));
        assert!(ok);
        assert!(jar.get(STATE_COOKIE).is_none_or(|c| c.value().is_empty()));
        let jar = remember_state(CookieJar::new(), "s-123");
        assert!(!take_state(jar.clone(), Some("s-124")).0);
        assert!(!take_state(jar, None).0);
        assert!(!take_state(CookieJar::new(), Some("s-123")).0);
    }

    #[test]
    fn sid_is_read_from_the_payload() {
        use base64::Engine as _;
        let p =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sid":"s1","sub":"x"}"#);
        assert_eq!(sid_of(&format!("h.{p}.s")).as_deref(), Some("s1"));
        let none = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
        assert_eq!(sid_of(&format!("h.{none}.s")), None);
        assert_eq!(sid_of("garbage"), None);
    }

    #[test]
    fn the_logout_url_keeps_the_endpoint_query() {
        let u = logout_url("http://op/end?x=1", "c", "tok", "http://rp/out", "st").unwrap();
        assert_eq!(
            u,
            "http://op/end?x=1&id_token_hint=tok&client_id=c&post_logout_redirect_uri=http%3A%2F%2Frp%2Fout&state=st"
        );
        assert!(logout_url("not a url", "c", "t", "u", "s").is_err());
    }
}
