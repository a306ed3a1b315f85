//! The pushed authorization request endpoint (RFC 9126): the client POSTs its authorization
//! request (loose parameters, or a request object in `request`) with the same client
//! authentication as at the token endpoint, and gets back a one-use `request_uri`
//! (`urn:ietf:params:oauth:request_uri:...`) bound to its client_id, which it then sends to
//! the authorization endpoint with only its client_id.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::http::params;
use crate::state::AppState;
use crate::tenant::{self, Tenant};

use super::error::OidcError;
use super::grant::{ClientAuth, authenticate};
use super::layout::Endpoint;
use super::provider::{record, resolve};
use super::request_object::{self as ro, ClientView, PAR_URN_PREFIX, Pushed};
use super::state::new_secret;

/// How long a pushed request waits for its use (RFC 9126 2.2 suggests 5 to 600 seconds).
pub const PAR_SECONDS: i64 = 60;

pub async fn par(
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OidcError> {
    let (shared, _) = resolve(&app, uri.path(), Endpoint::Par)?;
    let form = params(&body);
    let outcome = push(&shared, app.base(), &headers, &form).await;
    let mut t = tenant::lock(&shared);
    match outcome {
        Ok((auth, handle, object)) => {
            let request_uri = format!("{PAR_URN_PREFIX}{handle}");
            let mut decoded = super::token::shown(&form, Some(auth));
            decoded["request_uri"] = json!(request_uri);
            decoded["request_object"] = object.unwrap_or(Value::Null);
            record(
                &mut t,
                "pushed_authorization_request",
                "POST",
                uri.path(),
                StatusCode::CREATED.as_u16(),
                decoded,
                &[],
            );
            let body = json!({ "request_uri": request_uri, "expires_in": PAR_SECONDS });
            let mut r = (StatusCode::CREATED, axum::Json(body)).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(r)
        }
        Err(e) => {
            let status = match &e {
                OidcError::OAuth { status, .. } => status.as_u16(),
                _ => 500,
            };
            let mut decoded = super::token::shown(&form, None);
            decoded["error"] = json!(e.to_string());
            record(
                &mut t,
                "pushed_authorization_request",
                "POST",
                uri.path(),
                status,
                decoded,
                &[],
            );
            Err(e)
        }
    }
}

/// Authenticates the client, checks the request as the authorization endpoint would, and
/// keeps it: `(how the client authenticated, the handle of the request_uri, the request
/// object as the log shows it)`.
async fn push(
    shared: &std::sync::Mutex<Tenant>,
    base: &str,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(ClientAuth, String, Option<Value>), OidcError> {
    let (client_id, secret, auth) = super::token::client_credentials(headers, form)?;
    let view = {
        let t = tenant::lock(shared);
        authenticate(&t, &client_id, &secret)?;
        ClientView::of(&t, &client_id, base)
            .ok_or_else(|| OidcError::invalid_client(format!("unknown client '{client_id}'")))?
    };
    if form.contains_key("request_uri") {
        return Err(OidcError::invalid_request(
            "a pushed authorization request must not carry request_uri (RFC 9126 2.1)",
        ));
    }
    // client_id and client_secret authenticate the push; the rest is the request.
    let mut loose: HashMap<String, String> = form
        .iter()
        .filter(|(k, _)| k.as_str() != "client_secret")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    loose.insert("client_id".into(), client_id.clone());
    let (params, object) = match form.get("request") {
        Some(jwt) => {
            let parsed = ro::verify(shared, jwt, &view).await.map_err(|e| {
                OidcError::oauth(StatusCode::BAD_REQUEST, "invalid_request_object", e)
            })?;
            let (params, contradicting) = ro::merge(&loose, &parsed.claims);
            if contradicting.iter().any(|k| k == "client_id") {
                return Err(OidcError::oauth(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_object",
                    "the request object's client_id is not the authenticated client",
                ));
            }
            let shown = json!({ "alg": parsed.alg, "claims": parsed.claims, "contradicting": contradicting });
            (params, Some(shown))
        }
        None if view.rules.require_request_object => {
            return Err(OidcError::invalid_request(
                "this client must push its authorization request as a request object (request)",
            ));
        }
        None => (loose, None),
    };
    let mut t = tenant::lock(shared);
    // The checks of the authorization endpoint, answered here as JSON errors.
    let (client, redirect) = super::authorize::client_and_redirect(&t, &params)
        .map_err(|e| OidcError::invalid_request(e.to_string()))?;
    super::authorize::auth_request(client, redirect, &params).map_err(|(error, description)| {
        OidcError::oauth(StatusCode::BAD_REQUEST, error, description)
    })?;
    let handle = new_secret();
    let pushed = Pushed {
        client_id,
        params,
        expires_at: super::provider::now(&t).saturating_add(PAR_SECONDS),
        object: object.clone(),
    };
    t.oidc.pushed.insert(&handle, pushed);
    Ok((auth, handle.expose().to_string(), object))
}

/// What a client of the tenant registered, said in the discovery document so an RP that
/// reads it knows: `require_pushed_authorization_requests: true` (RFC 9126 5) and
/// `require_signed_request_object: true` (RFC 9101 10.5, for RS256 request objects).
pub fn adjust_discovery(t: &Tenant, doc: &mut Value) {
    let any = |f: &dyn Fn(&proto::idp::AuthRequestRules) -> bool| {
        t.oidc_clients
            .iter()
            .any(|c| c.auth_request.as_ref().is_some_and(f))
    };
    let par = any(&|r| r.require_pushed_authorization_requests);
    let signed = any(&|r| {
        r.require_request_object && r.request_object_signing_alg.as_deref() != Some("none")
    });
    if let Some(d) = doc.as_object_mut() {
        if par {
            d.insert("require_pushed_authorization_requests".into(), json!(true));
        }
        if signed {
            d.insert("require_signed_request_object".into(), json!(true));
        }
    }
}
