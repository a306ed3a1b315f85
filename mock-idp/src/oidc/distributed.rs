//! The claims endpoint of distributed claims (OIDC Core 5.6.2): a UserInfo answer whose forge
//! has a distributed source names this endpoint and an access token of its own; the endpoint
//! answers that source's signed JWT (`application/jwt`) to that token only, sent as a Bearer
//! token wherever RFC 6750 allows. Every request is recorded as a `claims` exchange (with
//! where the token was and which source it unlocked), so a scenario can tell that the RP
//! fetched the claims (`idp_saw: [claims]`); a request without the right token is a
//! `claims_refused` exchange, so it never passes for a fetch.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;
use crate::tenant;

use super::error::OidcError;
use super::provider::{now, record};
use super::userinfo::find_token;

pub async fn claims(
    State(app): State<AppState>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OidcError> {
    let shared = app.tenants.get(&id)?;
    let found = find_token(&headers, uri.query(), &body);
    let token_in = found.as_ref().map(|(place, _)| *place);
    let mut t = tenant::lock(&shared);
    let answer = (|| {
        let token = found
            .as_ref()
            .map(|(_, token)| token.as_str())
            .ok_or_else(|| OidcError::invalid_token("no Bearer access token"))?;
        let grant =
            t.oidc.claim_tokens.get(token).cloned().ok_or_else(|| {
                OidcError::invalid_token("not an access token of a claims source")
            })?;
        if now(&t) >= grant.expires_at {
            return Err(OidcError::invalid_token("the access token has expired"));
        }
        Ok(grant)
    })();
    match answer {
        Ok(grant) => {
            let shown = json!({
                "source": grant.source,
                "token_in": token_in,
                "body": super::jwt::decode_for_record(&grant.jwt),
            });
            record(
                &mut t,
                "claims",
                method.as_str(),
                uri.path(),
                200,
                shown,
                &[],
            );
            let mut r = grant.jwt.into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwt"),
            );
            Ok(r)
        }
        Err(e) => {
            let shown = json!({ "error": e.to_string(), "token_in": token_in });
            record(
                &mut t,
                "claims_refused",
                method.as_str(),
                uri.path(),
                401,
                shown,
                &[],
            );
            Err(e)
        }
    }
}
