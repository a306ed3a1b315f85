//! JARM (JWT Secured Authorization Response Mode for OAuth 2.0): when the client asks for a
//! `*.jwt` response mode, the authorization response is one signed JWT `response` carrying
//! iss, aud (the client), exp, code and state. It is made by the forge's JWS signer (a
//! genuine one is the empty forge), so every way a forge breaks an ID token breaks it too.

use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value, json};

use crate::pages;
use crate::secret::REDACTED;
use crate::tenant::Tenant;

use super::OidcError;
use super::forge::{self, TokenInputs, mutate, spec::ForgeSpec};
use super::state::JarmMode;

/// How long a JARM response is good for (JARM 2.1 asks for a short lifetime).
pub const JARM_SECONDS: i64 = 600;

/// The sign-in facts the JWT is made from.
pub struct Inputs<'a> {
    pub forge: Option<&'a ForgeSpec>,
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub code: &'a str,
    pub state: Option<&'a str>,
    pub base: &'a str,
    /// Unix seconds by the tenant's clock.
    pub now: i64,
}

/// A made JARM response: the token, and how the exchange log shows it (header and claims
/// decoded, the code and the signature never shown).
pub struct Made {
    pub token: String,
    pub record: Value,
}

/// The genuine claims of a JARM response (JARM 2.1 and 4.1).
pub fn claims(i: &Inputs<'_>) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("iss".into(), json!(i.issuer));
    c.insert("aud".into(), json!(i.client_id));
    c.insert("exp".into(), json!(i.now.saturating_add(JARM_SECONDS)));
    c.insert("code".into(), json!(i.code));
    if let Some(s) = i.state {
        c.insert("state".into(), json!(s));
    }
    c
}

/// Makes the JWT under the tenant lock (one signature).
pub fn response(t: &mut Tenant, i: &Inputs<'_>) -> Result<Made, OidcError> {
    let keys = super::keys(t)?;
    let forge_keys = forge::keys_locked(t)?;
    let client_secret = t
        .oidc_clients
        .iter()
        .find(|c| c.client_id == i.client_id)
        .map(|c| c.client_secret.clone());
    let inputs = TokenInputs {
        current: &keys.current,
        next: &keys.next,
        forge_keys: &forge_keys,
        client_secret: client_secret.as_ref(),
        base: i.base,
        tenant: &t.id,
        ctx: mutate::Context {
            now: i.now,
            client_id: i.client_id,
            issuer: i.issuer,
            access_token: None,
            code: Some(i.code),
        },
    };
    let (token, payload) = forge::jarm(i.forge, claims(i), &inputs)?;
    let mut record = super::jwt::decode_for_record(&token);
    if record["claims"].get("code").is_some() {
        record["claims"]["code"] = json!(REDACTED);
    }
    // The payload as signed, when a forge wrote it member by member (duplicates show there).
    if i.forge.and_then(|f| f.jarm.as_ref()).is_some() {
        record["claims_text"] = json!(payload.replace(i.code, REDACTED));
    }
    Ok(Made { token, record })
}

/// Sends the browser back to the client with the JWT where the mode puts it.
pub fn deliver(mode: JarmMode, url: url::Url, token: &str) -> Response {
    match link(mode, url.clone(), token) {
        Some(to) => Redirect::to(to.as_str()).into_response(),
        None => pages::post_message(url.as_str(), "response", token, None),
    }
}

/// The response as a link to the client (query or fragment mode); `None` for form_post,
/// which only a POST can carry (so a held response cannot be shown as a link).
pub fn link(mode: JarmMode, mut url: url::Url, token: &str) -> Option<url::Url> {
    match mode {
        JarmMode::Query => {
            url.query_pairs_mut().append_pair("response", token);
            Some(url)
        }
        JarmMode::Fragment => {
            // A compact JWS is base64url and dots: nothing to escape in a fragment.
            url.set_fragment(Some(&format!("response={token}")));
            Some(url)
        }
        JarmMode::FormPost => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    #[test]
    fn modes_parse_and_plain_modes_are_not_jarm() {
        assert_eq!(JarmMode::parse("jwt"), Some(JarmMode::Query));
        assert_eq!(JarmMode::parse("query.jwt"), Some(JarmMode::Query));
        assert_eq!(JarmMode::parse("form_post.jwt"), Some(JarmMode::FormPost));
        assert_eq!(JarmMode::parse("fragment.jwt"), Some(JarmMode::Fragment));
        assert_eq!(JarmMode::parse("query"), None);
        assert_eq!(JarmMode::parse("form_post"), None);
    }

    #[test]
    fn claims_name_issuer_client_expiry_code_and_state() {
        let i = Inputs {
            forge: None,
            issuer: "http://op/",
            client_id: "c1",
            code: "the-code",
            state: Some("s1"),
            base: "http://op",
            now: 1000,
        };
        let c = claims(&i);
        assert_eq!(c["iss"], "http://op/");
        assert_eq!(c["aud"], "c1");
        assert_eq!(c["exp"], 1000 + JARM_SECONDS);
        assert_eq!(c["code"], "the-code");
        assert_eq!(c["state"], "s1");
        let no_state = claims(&Inputs { state: None, ..i });
        assert!(!no_state.contains_key("state"));
    }

    #[test]
    fn delivery_follows_the_mode() {
        let url = url::Url::parse("http://rp/cb?x=1").unwrap();
        let loc = |r: Response| r.headers()[header::LOCATION].to_str().unwrap().to_string();
        assert_eq!(
            loc(deliver(JarmMode::Query, url.clone(), "a.b.c")),
            "http://rp/cb?x=1&response=a.b.c"
        );
        assert_eq!(
            loc(deliver(JarmMode::Fragment, url.clone(), "a.b.c")),
            "http://rp/cb?x=1#response=a.b.c"
        );
        let post = deliver(JarmMode::FormPost, url, "a.b.c");
        assert!(post.headers().get(header::LOCATION).is_none());
    }
}
