//! SAML 2.0 IdP: metadata, SSO (Redirect and POST bindings), login, dashboard, signed and
//! breakable responses.

pub mod bench;
pub mod encrypt;
pub mod forge;
pub mod issue;
pub mod metadata;
pub mod pages;
mod portal;
pub mod request;
pub mod response;
pub mod sign;
mod sso;
pub mod xml;

pub use portal::tenant_fallback;

use crate::clock::rfc3339;
use crate::fault::{Fault, Protocol};
use crate::record::{Exchange, HttpInfo};
use crate::server::AppState;
use crate::tenant::Tenant;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use axum::routing::get;
use std::collections::HashMap;

/// The IdP's session cookie; named so it never collides with an SP's on the same host.
pub const SESSION_COOKIE: &str = "mockidp_session";
/// How long the `slow_response` fault waits.
pub const SLOW_RESPONSE: std::time::Duration = std::time::Duration::from_secs(5);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/t/{id}/saml/metadata", get(sso::metadata_handler))
        .route(
            "/t/{id}/saml/sso",
            get(sso::sso_redirect).post(sso::sso_post),
        )
        .route("/t/{id}/saml/idp-initiated", get(portal::idp_initiated))
        .route(
            "/t/{id}/login",
            get(portal::login_page).post(portal::login_submit),
        )
        .route("/t/{id}/dashboard", get(portal::dashboard))
        .route("/t/{id}/apps/{app}", get(portal::app_tile))
}

pub(crate) fn record(
    t: &mut Tenant,
    kind: &str,
    method: &str,
    path: &str,
    status: u16,
    decoded: serde_json::Value,
    faults: Vec<Fault>,
) {
    record_forged(t, kind, method, path, status, decoded, faults, None);
}

/// `record`, plus what the forge did to this response (attack, CWE, signing choices).
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_forged(
    t: &mut Tenant,
    kind: &str,
    method: &str,
    path: &str,
    status: u16,
    decoded: serde_json::Value,
    faults: Vec<Fault>,
    forge: Option<forge::ForgeRecord>,
) {
    let exchange = Exchange {
        at: rfc3339(t.clock.now()),
        tenant: t.id.clone(),
        protocol: Protocol::Saml,
        kind: kind.to_string(),
        http: HttpInfo {
            method: method.to_string(),
            path: path.to_string(),
            status,
        },
        decoded,
        faults,
        forge: forge.and_then(|f| serde_json::to_value(f).ok()),
    };
    t.record(exchange);
}

/// The uid of the user signed in to this tenant, from the `mockidp_session` cookie.
pub fn session_uid(t: &Tenant, headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == SESSION_COOKIE)
        .find_map(|(_, value)| t.sessions.get(value).cloned())
}

pub(crate) fn form(body: &Bytes) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}
