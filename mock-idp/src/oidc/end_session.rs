//! RP-initiated logout: ends the browser's session at the tenant and, when the RP names a
//! registered URI, sends the browser back there.

use axum::body::Bytes;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::json;

use crate::http::params;
use crate::session::{self, session_cookies};
use crate::state::AppState;
use crate::tenant;

use super::error::OidcError;
use super::layout::Endpoint;
use super::page;
use super::provider::{record, resolve};

pub async fn end_session(
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OidcError> {
    let (shared, _) = resolve(&app, uri.path(), Endpoint::EndSession)?;
    let p = if method == Method::POST {
        params(&body)
    } else {
        params(query.unwrap_or_default().as_bytes())
    };
    let mut t = tenant::lock(&shared);
    let mut ended = 0;
    for cookie in session_cookies(&headers) {
        if t.sessions.remove(&cookie).is_some() {
            ended += 1;
        }
    }
    let target = p.get("post_logout_redirect_uri").cloned();
    let registered = target.as_ref().is_some_and(|uri| {
        t.oidc_clients
            .iter()
            .any(|c| c.redirect_uris.iter().any(|r| r == uri))
    });
    let status = match (&target, registered) {
        (Some(_), false) => StatusCode::BAD_REQUEST,
        (Some(_), true) => StatusCode::SEE_OTHER,
        (None, _) => StatusCode::OK,
    };
    record(
        &mut t,
        "end_session",
        method.as_str(),
        uri.path(),
        status.as_u16(),
        json!({
            "post_logout_redirect_uri": target,
            "state": p.get("state"),
            "id_token_hint": p.contains_key("id_token_hint"),
            "sessions_ended": ended,
        }),
        &[],
    );
    let expire = session::expire_cookie(&t.id);
    drop(t);
    let mut response = match target {
        Some(uri) if registered => {
            let mut url = url::Url::parse(&uri)
                .map_err(|e| OidcError::Internal(format!("registered URI does not parse: {e}")))?;
            if let Some(s) = p.get("state") {
                url.query_pairs_mut().append_pair("state", s);
            }
            Redirect::to(url.as_str()).into_response()
        }
        Some(uri) => OidcError::page(
            StatusCode::BAD_REQUEST,
            "post-logout-redirect-uri-mismatch",
            format!("'{uri}' is not a registered redirect URI of any client"),
        )
        .into_response(),
        None => Html(page::signed_out()).into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&expire) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}
