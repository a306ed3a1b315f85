//! The front channel of the hybrid flow (OIDC Core 3.3): which response types and modes an
//! authorization request may ask for, the ID token the authorization endpoint itself returns
//! (with `c_hash`, `at_hash` and `s_hash`, FAPI 1 Advanced's detached signature over code and
//! state), and how the parameters travel back (query, fragment or an auto-submitted form).
//! The code flow's answer is the special case `code` by query, so `authorize.rs` has one path.

use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::{Map, Value, json};

use proto::oidc_forge::ClaimOp;

use crate::pages;

use super::error::OidcError;
use super::forge::mutate::{self, Members, half_hash};
use super::jwt::{self, Forgery, SigningKey};

/// The response types this provider serves, as discovery lists them.
pub const SUPPORTED: [&str; 4] = ["code", "code id_token", "code token", "code id_token token"];
/// The response modes, as discovery lists them.
pub const MODES: [&str; 3] = ["query", "fragment", "form_post"];

/// What the authorization endpoint returns besides the code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseType {
    pub id_token: bool,
    pub token: bool,
}

impl ResponseType {
    /// A space-separated set in any order (OAuth 2.0 Multiple Response Types 3); every
    /// supported type includes `code`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut out = ResponseType::default();
        let mut code = false;
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let seen = match word {
                "code" => std::mem::replace(&mut code, true),
                "id_token" => std::mem::replace(&mut out.id_token, true),
                "token" => std::mem::replace(&mut out.token, true),
                _ => {
                    return Err(format!(
                        "response_type '{text}' is not supported; use one of: {}",
                        SUPPORTED.join(", ")
                    ));
                }
            };
            if seen {
                return Err(format!("response_type '{text}' names '{word}' twice"));
            }
        }
        if !code {
            return Err(format!(
                "response_type '{text}' is not supported (no implicit flow); use one of: {}",
                SUPPORTED.join(", ")
            ));
        }
        Ok(out)
    }

    /// The canonical spelling (as discovery lists it).
    pub fn name(self) -> &'static str {
        match (self.id_token, self.token) {
            (false, false) => SUPPORTED[0],
            (true, false) => SUPPORTED[1],
            (false, true) => SUPPORTED[2],
            (true, true) => SUPPORTED[3],
        }
    }

    pub fn is_hybrid(self) -> bool {
        self.id_token || self.token
    }
}

/// How the parameters go back to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

impl ResponseMode {
    /// The mode asked for, or the response type's default (query for `code`, fragment for the
    /// hybrid types). Tokens never go in a query (OAuth 2.0 Multiple Response Types 5).
    pub fn parse(asked: Option<&str>, rt: ResponseType) -> Result<Self, String> {
        match asked {
            None if rt.is_hybrid() => Ok(ResponseMode::Fragment),
            None | Some("query") if !rt.is_hybrid() => Ok(ResponseMode::Query),
            Some("query") => {
                Err("response_mode 'query' cannot carry tokens; use fragment or form_post".into())
            }
            Some("fragment") => Ok(ResponseMode::Fragment),
            Some("form_post") => Ok(ResponseMode::FormPost),
            Some(other) => Err(format!(
                "response_mode '{other}' is not supported; use one of: {}",
                MODES.join(", ")
            )),
            None => Ok(ResponseMode::Query),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::Fragment => "fragment",
            ResponseMode::FormPost => "form_post",
        }
    }
}

/// Sends `params` to the redirect URI the way `mode` says.
pub fn deliver(
    redirect_uri: &str,
    mode: ResponseMode,
    params: &[(&str, String)],
) -> Result<Response, OidcError> {
    let url = url::Url::parse(redirect_uri)
        .map_err(|e| OidcError::Internal(format!("registered redirect URI does not parse: {e}")))?;
    match link(url, mode, params) {
        Some(url) => Ok(Redirect::to(url.as_str()).into_response()),
        None => Ok(form_post(redirect_uri, params)),
    }
}

/// The redirect carrying `params` in the query or the fragment; `None` for form_post, which
/// is a page, not a link.
pub fn link(mut url: url::Url, mode: ResponseMode, params: &[(&str, String)]) -> Option<url::Url> {
    match mode {
        ResponseMode::Query => {
            let mut q = url.query_pairs_mut();
            for (k, v) in params {
                q.append_pair(k, v);
            }
        }
        ResponseMode::Fragment => {
            let mut f = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in params {
                f.append_pair(k, v);
            }
            url.set_fragment(Some(&f.finish()));
        }
        ResponseMode::FormPost => return None,
    }
    Some(url)
}

/// OAuth 2.0 Form Post Response Mode: a page whose form posts itself to the redirect URI.
fn form_post(action: &str, params: &[(&str, String)]) -> Response {
    let mut body = format!(
        "<form method=\"post\" action=\"{}\">\n",
        pages::escape(action)
    );
    for (k, v) in params {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            pages::escape(k),
            pages::escape(v)
        ));
    }
    body.push_str("<noscript><button type=\"submit\">Continue</button></noscript>\n</form>\n<script>document.forms[0].submit();</script>");
    Html(pages::page("Signing in", &body)).into_response()
}

/// What the front-channel ID token is made of.
pub struct Front<'a> {
    pub key: &'a SigningKey,
    /// The genuine claims the token endpoint would sign (iss, aud, sub, nonce, times...).
    pub claims: Map<String, Value>,
    pub code: &'a str,
    pub state: Option<&'a str>,
    pub access_token: Option<&'a str>,
    /// The forge's `front_claims`, applied last.
    pub ops: &'a [ClaimOp],
    pub ctx: mutate::Context<'a>,
}

/// The ID token of the authorization response: `c_hash` of the code, `at_hash` when an access
/// token comes with it, `s_hash` of the state (always, as FAPI 1 Advanced asks), then the
/// forge's front mutations. Answers the token and its claims as signed (for the log).
pub fn front_id_token(f: Front<'_>) -> Result<(String, Value), OidcError> {
    let mut claims = f.claims;
    claims.insert("c_hash".into(), json!(half_hash(f.code)));
    if let Some(at) = f.access_token {
        claims.insert("at_hash".into(), json!(half_hash(at)));
    }
    if let Some(s) = f.state {
        claims.insert("s_hash".into(), json!(half_hash(s)));
    }
    let mut members = Members::from_map(claims);
    members.apply(f.ops, &f.ctx);
    // A member written twice collapses here (the last wins): front mutations shape the
    // hashes, and duplicates are the token endpoint forge's business.
    let text = members
        .to_text()
        .map_err(|e| OidcError::Internal(e.to_string()))?;
    let signed: Value =
        serde_json::from_str(&text).map_err(|e| OidcError::Internal(e.to_string()))?;
    let token = jwt::sign(f.key, &signed, Forgery::Genuine)
        .map_err(|e| OidcError::Internal(format!("signing the front-channel ID token: {e}")))?;
    Ok((token, signed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_types_are_sets_that_include_code() {
        let rt = ResponseType::parse("id_token code").unwrap();
        assert_eq!(
            rt,
            ResponseType {
                id_token: true,
                token: false
            }
        );
        assert!(rt.is_hybrid());
        assert!(!ResponseType::parse("code").unwrap().is_hybrid());
        assert!(ResponseType::parse("code id_token token").unwrap().token);
        for bad in ["id_token", "token", "", "code code", "code device"] {
            assert!(ResponseType::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn modes_default_by_type_and_never_put_tokens_in_the_query() {
        let code = ResponseType::default();
        let hybrid = ResponseType::parse("code id_token").unwrap();
        assert_eq!(ResponseMode::parse(None, code), Ok(ResponseMode::Query));
        assert_eq!(
            ResponseMode::parse(None, hybrid),
            Ok(ResponseMode::Fragment)
        );
        assert!(ResponseMode::parse(Some("query"), hybrid).is_err());
        assert_eq!(
            ResponseMode::parse(Some("form_post"), code),
            Ok(ResponseMode::FormPost)
        );
        assert!(ResponseMode::parse(Some("jwt"), code).is_err());
    }

    #[test]
    fn fragment_and_form_post_carry_every_parameter() {
        let params = [("code", "c1".to_string()), ("state", "a&b".to_string())];
        let r = deliver("http://rp/cb", ResponseMode::Fragment, &params).unwrap();
        let loc = r.headers()[axum::http::header::LOCATION].to_str().unwrap();
        assert_eq!(loc, "http://rp/cb#code=c1&state=a%26b");
        let r = deliver("http://rp/cb", ResponseMode::FormPost, &params).unwrap();
        assert_eq!(r.status(), axum::http::StatusCode::OK);
    }
}
