//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): ends the browser's session at
//! the tenant and, when the RP names a registered URI, sends the browser back there. The
//! exchange log keeps what a scenario judges the RP by: whether its `id_token_hint` is an ID
//! token this OP issued, which `post_logout_redirect_uri` it named and whether that is
//! registered, and the `state` it sent. A client's forge may answer the post-logout redirect
//! with another state, or none (`post_logout_state`), as an attacker driving the browser
//! to the RP's post-logout page would.

use axum::body::Bytes;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use crate::http::params;
use crate::session::{self, session_cookies};
use crate::state::AppState;
use crate::tenant::{self, OidcClient, Tenant};

use super::error::OidcError;
use super::jwt;
use super::layout::Endpoint;
use super::page;
use super::provider::{record, resolve};

/// What the RP's `id_token_hint` is, as the log writes it.
fn hint_kind(t: &Tenant, hint: Option<&str>) -> &'static str {
    let Some(hint) = hint else {
        return "absent";
    };
    let shown = jwt::decode_for_record(hint);
    // The log keeps every ID token this tenant issued (header and claims, the signature
    // redacted): the hint is one of them when both parts are equal.
    let issued = t.exchanges.iter().any(|e| {
        e.kind == "id_token"
            && e.decoded.get("header") == shown.get("header")
            && e.decoded.get("claims") == shown.get("claims")
    });
    if issued { "issued" } else { "not_issued" }
}

/// Whether `uri` is registered with `client`: as a post-logout redirect URI, or as a
/// redirect URI (what OPs without a separate list accept).
fn registers(client: &OidcClient, uri: &str) -> bool {
    client.post_logout_redirect_uris.iter().any(|r| r == uri)
        || client.redirect_uris.iter().any(|r| r == uri)
}

/// The client the request is for: named by `client_id`, else by the hint's `aud`, else the
/// one that registered the post-logout URI.
fn client_of<'a>(
    t: &'a Tenant,
    client_id: Option<&str>,
    hint: Option<&str>,
    target: Option<&str>,
) -> Option<&'a OidcClient> {
    let aud = hint
        .map(jwt::decode_for_record)
        .and_then(|d| match &d["claims"]["aud"] {
            Value::String(s) => Some(s.clone()),
            Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_string),
            _ => None,
        });
    let by_id = |id: &str| t.oidc_clients.iter().find(|c| c.client_id == id);
    client_id
        .and_then(by_id)
        .or_else(|| aud.as_deref().and_then(by_id))
        .or_else(|| target.and_then(|u| t.oidc_clients.iter().find(|c| registers(c, u))))
}

/// The front-channel logout URLs to load for the ended sessions `sids`: every client with a
/// front-channel logout URI, with `iss` and `sid` added to its query (OpenID Connect
/// Front-Channel Logout 1.0, 2).
fn frontchannel_frames(t: &Tenant, issuer: &str, sids: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for uri in t
        .oidc_clients
        .iter()
        .filter_map(|c| c.frontchannel_logout_uri.as_deref())
    {
        for sid in sids {
            if let Ok(mut url) = url::Url::parse(uri) {
                url.query_pairs_mut()
                    .append_pair("iss", issuer)
                    .append_pair("sid", sid);
                out.push(url.into());
            }
        }
    }
    out
}

pub async fn end_session(
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OidcError> {
    let (shared, layout) = resolve(&app, uri.path(), Endpoint::EndSession)?;
    let p = if method == Method::POST {
        params(&body)
    } else {
        params(query.unwrap_or_default().as_bytes())
    };
    let mut t = tenant::lock(&shared);
    let mut ended = 0;
    let mut sids = Vec::new();
    for cookie in session_cookies(&headers) {
        if t.sessions.remove(&cookie).is_some() {
            ended += 1;
            sids.push(session::public_sid(&cookie));
        }
    }
    let frames = frontchannel_frames(
        &t,
        &super::wellknown::issuer_url(app.base(), &layout),
        &sids,
    );
    let target = p.get("post_logout_redirect_uri").cloned();
    let hint = p.get("id_token_hint").map(String::as_str);
    let client = client_of(
        &t,
        p.get("client_id").map(String::as_str),
        hint,
        target.as_deref(),
    );
    let registered = match (&target, client) {
        (Some(uri), Some(c)) => registers(c, uri),
        _ => false,
    };
    // The state the browser goes back with: the RP's, unless the client's forge says.
    let forged_state = client
        .and_then(|c| c.forge.as_ref())
        .and_then(|f| f.post_logout_state.clone());
    let back_state = match &forged_state {
        Some(s) if s.is_empty() => None,
        Some(s) => Some(s.clone()),
        None => p.get("state").cloned(),
    };
    let status = match (&target, registered) {
        (Some(_), false) => StatusCode::BAD_REQUEST,
        (Some(_), true) => StatusCode::SEE_OTHER,
        (None, _) => StatusCode::OK,
    };
    let decoded = json!({
        "post_logout_redirect_uri": target,
        "registered": registered,
        "state": p.get("state"),
        "client_id": client.map(|c| c.client_id.clone()),
        "id_token_hint": hint_kind(&t, hint),
        "sessions_ended": ended,
        "state_sent_back": back_state,
        "state_forged": forged_state.is_some(),
        "frontchannel": frames,
    });
    record(
        &mut t,
        "end_session",
        method.as_str(),
        uri.path(),
        status.as_u16(),
        decoded,
        &[],
    );
    let expire = session::expire_cookie(&t.id);
    drop(t);
    let mut response = match target {
        Some(uri) if registered => {
            let mut url = url::Url::parse(&uri)
                .map_err(|e| OidcError::Internal(format!("registered URI does not parse: {e}")))?;
            if let Some(s) = &back_state {
                url.query_pairs_mut().append_pair("state", s);
            }
            if frames.is_empty() {
                Redirect::to(url.as_str()).into_response()
            } else {
                Html(page::signed_out_with_frames(&frames, Some(url.as_str()))).into_response()
            }
        }
        Some(uri) => OidcError::page(
            StatusCode::BAD_REQUEST,
            "post-logout-redirect-uri-mismatch",
            format!("'{uri}' is not a registered post-logout redirect URI of the client"),
        )
        .into_response(),
        None if frames.is_empty() => Html(page::signed_out()).into_response(),
        None => Html(page::signed_out_with_frames(&frames, None)).into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&expire) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}
