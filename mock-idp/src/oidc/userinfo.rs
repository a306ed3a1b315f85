//! The userinfo endpoint (Bearer access token from the token endpoint). The token is taken
//! from wherever the RP put it (RFC 6750: the Authorization header, a form body, or the
//! query) and the record says which (`token_in`): an RP that puts it in the query leaks it
//! into logs and Referer headers (OIDC-RP-12), and a test tool must see that, not refuse it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::fault::Fault;
use crate::state::AppState;
use crate::tenant;

use super::claims::{self, ClaimFault, Person};
use super::error::OidcError;
use super::layout::{Endpoint, Layout};
use super::provider::{effective_email, now, record, resolve};
use super::state::AccessGrant;

pub async fn userinfo(
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OidcError> {
    let (shared, layout) = resolve(&app, uri.path(), Endpoint::Userinfo)?;
    let found = find_token(&headers, uri.query(), &body);
    let token_in = found.as_ref().map(|(place, _)| *place);
    let mut t = tenant::lock(&shared);
    let answer = (|| {
        let token = found
            .as_ref()
            .map(|(_, token)| token.as_str())
            .ok_or_else(|| OidcError::invalid_token("no Bearer access token"))?;
        let grant = t
            .oidc
            .access_tokens
            .get(token.trim())
            .cloned()
            .ok_or_else(|| OidcError::invalid_token("unknown access token"))?;
        if now(&t) >= grant.expires_at {
            return Err(OidcError::invalid_token("the access token has expired"));
        }
        let user = t
            .user_by_uid(&grant.user_uid)
            .cloned()
            .ok_or_else(|| OidcError::invalid_token("the user of this token no longer exists"))?;
        // The missing-claim faults describe the ID token; userinfo keeps them so an RP that
        // fills gaps from userinfo is visible as such in the log.
        let claim_faults: Vec<ClaimFault> = grant
            .faults
            .contains(&Fault::EmailNotVerified)
            .then_some(ClaimFault::EmailNotVerified)
            .into_iter()
            .collect();
        let email = effective_email(&user.user.email, &grant.faults);
        let extra = claims::released(&user.user.claims, &grant.scopes);
        let person = Person {
            sub: &user.uid,
            email: &email,
            given_name: &user.user.given_name,
            family_name: &user.user.family_name,
            groups: &user.user.groups,
            extra: &extra,
        };
        let sub_mismatch = grant.faults.contains(&Fault::UserinfoSubMismatch);
        let claims = claims::userinfo(&person, &claim_faults, sub_mismatch)?;
        Ok((claims, grant))
    })();
    match answer {
        Ok((claims, grant)) => {
            let mut claims = claims;
            let forged = match &grant.forge {
                Some(spec) => Some(forged_userinfo(
                    &mut t,
                    &app,
                    &layout,
                    spec,
                    &grant,
                    &mut claims,
                )?),
                None => None,
            };
            let mut shown =
                json!({ "claims": claims, "token_in": token_in, "refreshed": grant.refreshed });
            if let Some(answer) = &forged {
                shown = json!({
                    "claims": claims,
                    "token_in": token_in,
                    "refreshed": grant.refreshed,
                    "forge": grant.forge.as_deref(),
                    "content_type": answer.content_type,
                    "body": if answer.content_type == "application/jwt" {
                        super::jwt::decode_for_record(&answer.body)
                    } else {
                        json!(answer.body)
                    },
                });
            }
            record(
                &mut t,
                "userinfo",
                method.as_str(),
                uri.path(),
                200,
                shown,
                &grant.faults,
            );
            Ok(match forged {
                None => Json(claims).into_response(),
                Some(answer) => {
                    let mut r = (answer.status, answer.body).into_response();
                    r.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(answer.content_type),
                    );
                    r
                }
            })
        }
        Err(e) => {
            record(
                &mut t,
                "userinfo",
                method.as_str(),
                uri.path(),
                401,
                json!({ "error": e.to_string(), "token_in": token_in }),
                &[],
            );
            Err(e)
        }
    }
}

/// Where the RP put the access token: `header` (`Authorization: Bearer`, the scheme in any
/// case), `body` (`access_token` in a form body) or `query` (`?access_token=`); the first
/// place that has one, in that order.
pub(crate) fn find_token(
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Option<(&'static str, String)> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    let from_form = |raw: &[u8]| {
        url::form_urlencoded::parse(raw)
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.trim().to_string())
    };
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    from_header
        .map(|t| ("header", t))
        .or_else(|| {
            is_form
                .then(|| from_form(body))
                .flatten()
                .map(|t| ("body", t))
        })
        .or_else(|| from_form(query?.as_bytes()).map(|t| ("query", t)))
        .filter(|(_, t)| !t.is_empty())
}

/// The userinfo answer a forge asks for (mutated JSON, or a JWT, with its claims sources),
/// made under the tenant lock. `claims` gains the sources' members (for the record).
fn forged_userinfo(
    t: &mut tenant::Tenant,
    app: &AppState,
    layout: &Layout,
    spec: &super::forge::spec::ForgeSpec,
    grant: &AccessGrant,
    claims: &mut Map<String, Value>,
) -> Result<super::forge::Answer, OidcError> {
    let keys = super::keys(t)?;
    let forge_keys = super::forge::keys_locked(t)?;
    let client_secret = t
        .oidc_clients
        .iter()
        .find(|c| c.client_id == grant.client_id)
        .map(|c| c.client_secret.clone());
    let issuer = Layout::url(app.base(), &layout.issuer);
    let inputs = super::forge::TokenInputs {
        current: &keys.current,
        next: &keys.next,
        forge_keys: &forge_keys,
        client_secret: client_secret.as_ref(),
        base: app.base(),
        tenant: &t.id,
        ctx: super::forge::mutate::Context {
            now: now(t),
            client_id: &grant.client_id,
            issuer: &issuer,
            access_token: None,
            code: None,
        },
    };
    let claims_url = super::layout::claims_endpoint(app.base(), &t.id);
    let issued = super::forge::sources::attach(spec, claims, &inputs, &claims_url)?;
    let answer = super::forge::userinfo(spec, claims.clone(), &inputs)?;
    for source in issued {
        t.oidc.claim_tokens.insert(
            &source.token,
            super::state::DistributedClaims {
                source: source.source,
                jwt: source.jwt,
                expires_at: grant.expires_at,
            },
        );
    }
    Ok(answer)
}

#[cfg(test)]
mod token_place_tests {
    use super::*;

    #[test]
    fn the_token_is_found_where_the_rp_put_it() {
        let mut h = HeaderMap::new();
        assert_eq!(find_token(&h, None, b""), None);
        assert_eq!(
            find_token(&h, Some("access_token=q1"), b""),
            Some(("query", "q1".into()))
        );
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        assert_eq!(
            find_token(&h, Some("access_token=q1"), b"access_token=b1"),
            Some(("body", "b1".into()))
        );
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer h1"));
        assert_eq!(
            find_token(&h, Some("access_token=q1"), b"access_token=b1"),
            Some(("header", "h1".into()))
        );
    }
}
