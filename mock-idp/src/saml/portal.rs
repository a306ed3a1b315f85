//! What the user sees of the IdP itself: the login form, the dashboard with its tiles,
//! IdP-initiated sign-in, and 404 pages.

use super::sso::{answer, record};
use crate::error::{Error, Result};
use crate::http::form;
use crate::pages;
use crate::profile::Profile;
use crate::session::{self, session_uid};
use crate::state::AppState;
use crate::tenant::{self, AppMode};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

fn login_url(id: &str, key: &str, value: &str) -> String {
    let mut url = format!("/t/{id}/login?{key}=");
    url.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
    url
}

pub async fn login_page(
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

pub async fn login_submit(
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
        let sid = session::start(&mut t, &uid);
        (uid, sid)
    };
    let cookie = session::set_cookie(&id, &sid);
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

pub async fn dashboard(
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

pub async fn app_tile(
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

pub async fn idp_initiated(
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
