//! SAML 2.0 IdP: metadata, SSO (Redirect and POST bindings), login, dashboard, signed and
//! breakable responses.

pub mod bench;
pub mod encrypt;
pub mod issue;
pub mod metadata;
pub mod pages;
pub mod request;
pub mod response;
pub mod sign;
pub mod xml;

use crate::clock::rfc3339;
use crate::error::{Error, Result};
use crate::fault::{Fault, Protocol};
use crate::profile::Profile;
use crate::record::{Exchange, HttpInfo, pretty_xml};
use crate::server::AppState;
use crate::tenant::{self, AppMode, DeliveredResponse, PendingAuthn, Tenant, random_id};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The IdP's session cookie; named so it never collides with an SP's on the same host.
pub const SESSION_COOKIE: &str = "mockidp_session";
/// How long the `slow_response` fault waits.
pub const SLOW_RESPONSE: std::time::Duration = std::time::Duration::from_secs(5);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/t/{id}/saml/metadata", get(metadata_handler))
        .route("/t/{id}/saml/sso", get(sso_redirect).post(sso_post))
        .route("/t/{id}/saml/idp-initiated", get(idp_initiated))
        .route("/t/{id}/login", get(login_page).post(login_submit))
        .route("/t/{id}/dashboard", get(dashboard))
        .route("/t/{id}/apps/{app}", get(app_tile))
}

fn record(
    t: &mut Tenant,
    kind: &str,
    method: &str,
    path: &str,
    status: u16,
    decoded: serde_json::Value,
    faults: Vec<Fault>,
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

fn form(body: &Bytes) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

async fn metadata_handler(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response> {
    let t = state.tenants.get(&id)?;
    let t = tenant::lock(&t);
    let doc = metadata::document(&t, state.base())?;
    Ok((
        [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
        doc,
    )
        .into_response())
}

async fn sso_redirect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response> {
    sso(state, id, q, request::Binding::Redirect, "GET", headers).await
}

async fn sso_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    sso(
        state,
        id,
        form(&body),
        request::Binding::Post,
        "POST",
        headers,
    )
    .await
}

/// Whether the `sso_url_404` fault is set; a next-response-only one is consumed.
fn take_sso_404(t: &mut Tenant) -> bool {
    if let Some(i) = t.next_faults.iter().position(|f| *f == Fault::SsoUrl404) {
        t.next_faults.remove(i);
        return true;
    }
    t.faults.contains(&Fault::SsoUrl404)
}

async fn sso(
    state: AppState,
    id: String,
    params: HashMap<String, String>,
    binding: request::Binding,
    method: &str,
    headers: HeaderMap,
) -> Result<Response> {
    let shared = state.tenants.get(&id)?;
    let path = format!("/t/{id}/saml/sso");
    let (flow, signed_in) = {
        let mut t = tenant::lock(&shared);
        if take_sso_404(&mut t) {
            record(
                &mut t,
                "authn_request",
                method,
                &path,
                404,
                serde_json::Value::Null,
                vec![Fault::SsoUrl404],
            );
            return Ok(pages::not_found(t.profile == Profile::Entra));
        }
        let Some(encoded) = params.get("SAMLRequest") else {
            return Ok(pages::error(
                StatusCode::BAD_REQUEST,
                "missing SAMLRequest parameter",
            ));
        };
        let req = match request::decode(encoded, binding) {
            Ok(r) => r,
            Err(e) => {
                record(
                    &mut t,
                    "authn_request",
                    method,
                    &path,
                    400,
                    serde_json::Value::String(e.to_string()),
                    vec![],
                );
                return Ok(pages::error(StatusCode::BAD_REQUEST, &e.to_string()));
            }
        };
        let flow = random_id("f");
        let signed_in = session_uid(&t, &headers);
        let status = if signed_in.is_some() { 200 } else { 303 };
        record(
            &mut t,
            "authn_request",
            method,
            &path,
            status,
            pretty_xml(&req.xml).into(),
            vec![],
        );
        t.pending_saml.insert(
            flow.clone(),
            PendingAuthn {
                request_id: req.id,
                acs_url: req.acs_url,
                sp_issuer: req.issuer,
                relay_state: params.get("RelayState").cloned(),
            },
        );
        (flow, signed_in)
    };
    match signed_in {
        Some(uid) => {
            let pending = tenant::lock(&shared).pending_saml.remove(&flow);
            let relay = pending.as_ref().and_then(|p| p.relay_state.clone());
            answer(&state, &shared, &uid, pending, relay, method, &path).await
        }
        None => Ok(Redirect::to(&format!("/t/{id}/login?flow={flow}")).into_response()),
    }
}

/// Signs the user's response (or applies the fault that replaces it) and delivers it by
/// an auto-submitting POST form.
async fn answer(
    state: &AppState,
    shared: &Arc<Mutex<Tenant>>,
    uid: &str,
    pending: Option<PendingAuthn>,
    relay_state: Option<String>,
    method: &str,
    path: &str,
) -> Result<Response> {
    let (view, user, faults, last) = {
        let mut t = tenant::lock(shared);
        let user = t
            .user_by_uid(uid)
            .cloned()
            .ok_or_else(|| Error::UnknownUser(uid.to_string()))?;
        let faults = t.take_faults(Protocol::Saml);
        let view = issue::IdpView::of(&t, state.base());
        (view, user, faults, t.last_saml_response.clone())
    };
    if faults.contains(&Fault::SlowResponse) {
        tokio::time::sleep(SLOW_RESPONSE).await;
    }
    if faults.contains(&Fault::UserNotAssigned) {
        let mut t = tenant::lock(shared);
        record(
            &mut t,
            "access_denied",
            method,
            path,
            403,
            serde_json::json!({"user": user.user.email}),
            faults,
        );
        return Ok(pages::access_denied(&user.user.email));
    }
    if faults.contains(&Fault::Replay)
        && let Some(last) = last
    {
        let xml = B64
            .decode(&last.saml_response_b64)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let mut t = tenant::lock(shared);
        record(
            &mut t,
            "saml_response",
            method,
            path,
            200,
            pretty_xml(&xml).into(),
            faults,
        );
        return Ok(pages::post_form(
            &last.acs_url,
            &last.saml_response_b64,
            last.relay_state.as_deref(),
        ));
    }
    let issued = {
        let (view, user, faults, pending) = (view, user, faults.clone(), pending.clone());
        tokio::task::spawn_blocking(move || issue::issue(&view, &user, pending.as_ref(), &faults))
            .await
            .map_err(|e| Error::Config(format!("signing failed: {e}")))??
    };
    let b64 = B64.encode(issued.xml.as_bytes());
    let mut t = tenant::lock(shared);
    t.last_saml_response = Some(DeliveredResponse {
        acs_url: issued.acs_url.clone(),
        saml_response_b64: b64.clone(),
        relay_state: relay_state.clone(),
    });
    record(
        &mut t,
        "saml_response",
        method,
        path,
        200,
        pretty_xml(&issued.xml).into(),
        faults,
    );
    Ok(pages::post_form(
        &issued.acs_url,
        &b64,
        relay_state.as_deref(),
    ))
}

fn login_url(id: &str, key: &str, value: &str) -> String {
    let mut url = format!("/t/{id}/login?{key}=");
    url.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
    url
}

async fn login_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    state.tenants.get(&id)?;
    let hidden: Vec<(&str, &str)> = ["flow", "next"]
        .iter()
        .filter_map(|k| q.get(*k).map(|v| (*k, v.as_str())))
        .collect();
    Ok(pages::login(&id, &format!("/t/{id}/login"), &hidden, None))
}

/// Only paths inside this tenant are followed after login: never an open redirect.
fn safe_next(id: &str, next: Option<&String>) -> String {
    let prefix = format!("/t/{id}/");
    match next {
        Some(n) if n.starts_with(&prefix) && !n.contains("//") => n.clone(),
        _ => format!("/t/{id}/dashboard"),
    }
}

async fn login_submit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let shared = state.tenants.get(&id)?;
    let f = form(&body);
    let username = f.get("username").map(String::as_str).unwrap_or("");
    let password = f.get("password").map(String::as_str).unwrap_or("");
    let path = format!("/t/{id}/login");
    let (uid, sid) = {
        let mut t = tenant::lock(&shared);
        let found = t.authenticate(username, password).map(|u| u.uid.clone());
        let status = if found.is_some() { 200 } else { 401 };
        record(
            &mut t,
            "login",
            "POST",
            &path,
            status,
            serde_json::json!({"username": username, "ok": found.is_some()}),
            vec![],
        );
        let Some(uid) = found else {
            let hidden: Vec<(&str, &str)> = ["flow", "next"]
                .iter()
                .filter_map(|k| f.get(*k).map(|v| (*k, v.as_str())))
                .collect();
            return Ok(pages::login(
                &id,
                &path,
                &hidden,
                Some("Wrong username or password."),
            ));
        };
        let sid = random_id("");
        t.sessions.insert(sid.clone(), uid.clone());
        (uid, sid)
    };
    let cookie = format!("{SESSION_COOKIE}={sid}; Path=/t/{id}/; HttpOnly; SameSite=Lax");
    let mut response = match f.get("flow") {
        Some(flow) => {
            let pending = tenant::lock(&shared).pending_saml.remove(flow);
            match pending {
                Some(p) => {
                    let relay = p.relay_state.clone();
                    answer(&state, &shared, &uid, Some(p), relay, "POST", &path).await?
                }
                None => pages::error(
                    StatusCode::BAD_REQUEST,
                    "this sign-in request has expired or was already used",
                ),
            }
        }
        None => Redirect::to(&safe_next(&id, f.get("next"))).into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

async fn dashboard(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let shared = state.tenants.get(&id)?;
    let t = tenant::lock(&shared);
    let Some(uid) = session_uid(&t, &headers) else {
        return Ok(
            Redirect::to(&login_url(&id, "next", &format!("/t/{id}/dashboard"))).into_response(),
        );
    };
    let email = t
        .user_by_uid(&uid)
        .map(|u| u.user.email.clone())
        .unwrap_or_default();
    let prefix = format!("/t/{id}");
    let tiles: Vec<pages::Tile> = t
        .apps
        .iter()
        .map(|a| pages::Tile {
            name: a.name.clone(),
            href: match a.mode {
                AppMode::Link => a.url.clone(),
                AppMode::IdpInitiated => tenant::tile_url(&prefix, &a.name),
            },
        })
        .collect();
    Ok(pages::dashboard(&id, &email, &tiles))
}

async fn app_tile(
    State(state): State<AppState>,
    Path((id, app)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let shared = state.tenants.get(&id)?;
    let (uid, app) = {
        let t = tenant::lock(&shared);
        let app = t
            .apps
            .iter()
            .find(|a| a.name == app)
            .cloned()
            .ok_or(Error::NotFound)?;
        (session_uid(&t, &headers), app)
    };
    let Some(uid) = uid else {
        let here = tenant::tile_url(&format!("/t/{id}"), &app.name);
        return Ok(Redirect::to(&login_url(&id, "next", &here)).into_response());
    };
    match app.mode {
        AppMode::Link => Ok(Redirect::to(&app.url).into_response()),
        AppMode::IdpInitiated => {
            let path = format!("/t/{id}/apps/{}", app.name);
            answer(&state, &shared, &uid, None, Some(app.url), "GET", &path).await
        }
    }
}

async fn idp_initiated(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response> {
    let shared = state.tenants.get(&id)?;
    let uid = session_uid(&tenant::lock(&shared), &headers);
    let Some(uid) = uid else {
        let mut here = format!("/t/{id}/saml/idp-initiated");
        if let Some(rs) = q.get("relay_state") {
            here.push_str("?relay_state=");
            here.extend(url::form_urlencoded::byte_serialize(rs.as_bytes()));
        }
        return Ok(Redirect::to(&login_url(&id, "next", &here)).into_response());
    };
    let path = format!("/t/{id}/saml/idp-initiated");
    answer(
        &state,
        &shared,
        &uid,
        None,
        q.get("relay_state").cloned(),
        "GET",
        &path,
    )
    .await
}

/// Unknown paths (the router's fallback): under an Entra tenant, a 404 in Entra's words.
pub async fn tenant_fallback(State(state): State<AppState>, uri: axum::http::Uri) -> Response {
    let entra = uri
        .path()
        .strip_prefix("/t/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|id| state.tenants.get(id).ok())
        .is_some_and(|t| tenant::lock(&t).profile == Profile::Entra);
    pages::not_found(entra)
}
