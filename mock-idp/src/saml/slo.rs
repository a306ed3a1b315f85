//! Single logout at the IdP: the SingleLogoutService (`P/saml/slo`, both bindings), where an
//! SP sends its LogoutRequest (answered with a LogoutResponse through the browser) and its
//! LogoutResponse to an IdP-initiated logout; and `P/saml/logout`, a browser visit that ends
//! the IdP session and sends the SP a LogoutRequest for it. Both messages the IdP sends are
//! shaped by the tenant's `saml.logout` forge. Every message is in the exchange log:
//! `logout_request` / `logout_response` (from the SP), `idp_logout_request` /
//! `idp_logout_response` (sent by the IdP).

use super::logout::{self, Message, Outgoing, RequestParams, ResponseParams};
use super::sso::record;
use crate::error::Result;
use crate::http::form;
use crate::pages;
use crate::record::pretty_xml;
use crate::session::{self, session_cookies};
use crate::state::AppState;
use crate::tenant::{self, Tenant};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use proto::slo::SloBinding;
use std::collections::HashMap;

/// Ends the browser's session at this tenant (every cookie value it sent).
fn end_session(t: &mut Tenant, headers: &HeaderMap) {
    for sid in session_cookies(headers) {
        t.sessions.remove(&sid);
    }
}

/// The message as the browser carries it, with the IdP session cookie expired.
fn deliver(id: &str, m: Message) -> Response {
    let mut resp = match m.outgoing {
        Outgoing::Post {
            url,
            field,
            value,
            relay_state,
        } => pages::post_message(&url, field, &value, relay_state.as_deref()),
        Outgoing::Redirect { url } => Redirect::to(&url).into_response(),
    };
    if let Ok(v) = HeaderValue::from_str(&session::expire_cookie(id)) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

fn refuse(t: &mut Tenant, kind: &str, method: &str, path: &str, why: &str) -> Response {
    record(t, kind, method, path, 400, why.into(), vec![]);
    pages::error(StatusCode::BAD_REQUEST, why)
}

/// `GET P/saml/logout`: IdP-initiated single logout of the signed-in user.
pub async fn idp_logout(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let shared = state.tenants.get(&id)?;
    let path = format!("/t/{id}/saml/logout");
    let kind = "idp_logout_request";
    let (view, session, binding, forge) = {
        let mut t = tenant::lock(&shared);
        let Some(uid) = session::session_uid(&t, &headers) else {
            return Ok(refuse(
                &mut t,
                kind,
                "GET",
                &path,
                "no one is signed in at this IdP in this browser: nothing to log out",
            ));
        };
        let Some(session) = t.saml_sessions.get(&uid).cloned() else {
            return Ok(refuse(
                &mut t,
                kind,
                "GET",
                &path,
                "the signed-in user has no SAML session at the SP: the IdP sent them no response",
            ));
        };
        if t.sp.slo_url.is_none() {
            return Ok(refuse(
                &mut t,
                kind,
                "GET",
                &path,
                "no SP SingleLogoutService known: set the tenant's sp.slo_url",
            ));
        }
        end_session(&mut t, &headers);
        t.saml_sessions.remove(&uid);
        let forge = t.saml.logout.clone().unwrap_or_default();
        let binding = forge
            .binding
            .or(t.sp.slo_binding)
            .unwrap_or(SloBinding::Post);
        let view = super::issue::IdpView::of(&t, state.base());
        (view, session, binding, forge)
    };
    let Some(slo_url) = view.sp.slo_url.clone() else {
        return Ok(pages::error(StatusCode::BAD_REQUEST, "no sp.slo_url"));
    };
    let p = RequestParams::new(&view.entity_id, &slo_url, view.now, &session, &forge);
    let keys = view.keys.clone();
    let message = tokio::task::spawn_blocking(move || logout::request(&p, binding, &keys, &forge))
        .await
        .map_err(|e| crate::error::Error::Config(format!("signing failed: {e}")))??;
    let mut t = tenant::lock(&shared);
    record(
        &mut t,
        kind,
        "GET",
        &path,
        200,
        pretty_xml(&message.xml).into(),
        vec![],
    );
    Ok(deliver(&id, message))
}

pub async fn slo_redirect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response> {
    slo(state, id, q, true, "GET", headers).await
}

pub async fn slo_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    slo(state, id, form(&body), false, "POST", headers).await
}

/// `P/saml/slo`: an SP's LogoutRequest (answered) or LogoutResponse (shown).
async fn slo(
    state: AppState,
    id: String,
    params: HashMap<String, String>,
    redirect: bool,
    method: &str,
    headers: HeaderMap,
) -> Result<Response> {
    let shared = state.tenants.get(&id)?;
    let path = format!("/t/{id}/saml/slo");
    if let Some(v) = params.get("SAMLResponse") {
        let mut t = tenant::lock(&shared);
        let msg = match logout::decode(v, "SAMLResponse", redirect) {
            Ok(m) => m,
            Err(e) => {
                return Ok(refuse(
                    &mut t,
                    "logout_response",
                    method,
                    &path,
                    &e.to_string(),
                ));
            }
        };
        record(
            &mut t,
            "logout_response",
            method,
            &path,
            200,
            pretty_xml(&msg.xml).into(),
            vec![],
        );
        let status = msg.status.unwrap_or_else(|| "(no StatusCode)".into());
        let body = format!(
            "<h1>Signed out</h1>\n<p>The IdP session has ended; the service provider answered the logout request.</p>\n<p>Status: <span id=\"slo-status\">{}</span></p>",
            pages::escape(&status)
        );
        return Ok(Html(pages::page("Signed out", &body)).into_response());
    }
    let Some(v) = params.get("SAMLRequest") else {
        let mut t = tenant::lock(&shared);
        return Ok(refuse(
            &mut t,
            "logout_request",
            method,
            &path,
            "missing SAMLRequest or SAMLResponse (a query parameter for HTTP-Redirect, a form field for HTTP-POST)",
        ));
    };
    let relay_state = params.get("RelayState").cloned();
    let (view, request, binding, forge) = {
        let mut t = tenant::lock(&shared);
        let request = match logout::decode(v, "SAMLRequest", redirect) {
            Ok(r) if r.root == "LogoutRequest" => r,
            Ok(r) => {
                let why = format!(
                    "the SingleLogoutService takes a LogoutRequest; this SAMLRequest's root element is <{}>",
                    r.root
                );
                return Ok(refuse(&mut t, "logout_request", method, &path, &why));
            }
            Err(e) => {
                return Ok(refuse(
                    &mut t,
                    "logout_request",
                    method,
                    &path,
                    &e.to_string(),
                ));
            }
        };
        record(
            &mut t,
            "logout_request",
            method,
            &path,
            200,
            pretty_xml(&request.xml).into(),
            vec![],
        );
        if t.sp.slo_url.is_none() {
            return Ok(refuse(
                &mut t,
                "idp_logout_response",
                method,
                &path,
                "no SP SingleLogoutService known to answer to: set the tenant's sp.slo_url",
            ));
        }
        // The user asked to leave: the IdP session ends whatever the answer says.
        if let Some(uid) = session::session_uid(&t, &headers) {
            t.saml_sessions.remove(&uid);
        }
        end_session(&mut t, &headers);
        let forge = t.saml.logout.clone().unwrap_or_default();
        let binding = forge
            .binding
            .or(t.sp.slo_binding)
            .unwrap_or(SloBinding::Post);
        (
            super::issue::IdpView::of(&t, state.base()),
            request,
            binding,
            forge,
        )
    };
    let Some(slo_url) = view.sp.slo_url.clone() else {
        return Ok(pages::error(StatusCode::BAD_REQUEST, "no sp.slo_url"));
    };
    let p = ResponseParams::new(
        &view.entity_id,
        &slo_url,
        view.now,
        request.id.as_deref(),
        &forge,
    );
    let keys = view.keys.clone();
    let message = tokio::task::spawn_blocking(move || {
        logout::response(&p, relay_state.as_deref(), binding, &keys, &forge)
    })
    .await
    .map_err(|e| crate::error::Error::Config(format!("signing failed: {e}")))??;
    let mut t = tenant::lock(&shared);
    record(
        &mut t,
        "idp_logout_response",
        method,
        &path,
        200,
        pretty_xml(&message.xml).into(),
        vec![],
    );
    Ok(deliver(&id, message))
}
