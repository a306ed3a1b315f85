//! The SSO endpoint (both bindings), metadata, and answering: signing the user's Response or
//! applying the fault that replaces it, delivered by an auto-submitting form.

use super::{issue, metadata, request};
use crate::clock::rfc3339;
use crate::error::{Error, Result};
use crate::fault::{Fault, Protocol};
use crate::http::form;
use crate::pages;
use crate::profile::Profile;
use crate::record::{Exchange, HttpInfo, pretty_xml};
use crate::session::session_uid;
use crate::state::AppState;
use crate::tenant::{self, DeliveredResponse, PendingAuthn, Tenant, random_id};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Unanswered AuthnRequests kept per tenant.
const MAX_PENDING: usize = 10_000;
/// How long the `slow_response` fault waits.
pub const SLOW_RESPONSE: std::time::Duration = std::time::Duration::from_secs(5);

/// Appends one SAML exchange to the tenant's log. `decoded` must already be free of secrets.
pub fn record(
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
pub fn record_forged(
    t: &mut Tenant,
    kind: &str,
    method: &str,
    path: &str,
    status: u16,
    decoded: serde_json::Value,
    faults: Vec<Fault>,
    forge: Option<proto::forge::ForgeRecord>,
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
        forge,
    };
    t.record(exchange);
}

pub async fn metadata_handler(
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

pub async fn sso_redirect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response> {
    sso(state, id, q, request::Binding::Redirect, "GET", headers).await
}

pub async fn sso_post(
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
            // Named per binding: a POST whose request sits in the query string (or a GET with
            // a body) is the usual mistake behind this.
            let missing = match binding {
                request::Binding::Redirect => {
                    "missing SAMLRequest query parameter (HTTP-Redirect binding: GET with \
                     ?SAMLRequest=, deflated and base64)"
                }
                request::Binding::Post => {
                    "missing SAMLRequest form field (HTTP-POST binding: a form-urlencoded body \
                     with SAMLRequest=, base64)"
                }
            };
            return Ok(pages::error(StatusCode::BAD_REQUEST, missing));
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
        // Abandoned sign-ins are never collected otherwise; a burst beyond this many
        // unanswered requests starts over rather than growing without end.
        if t.pending_saml.len() >= MAX_PENDING {
            t.pending_saml.clear();
        }
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
pub async fn answer(
    state: &AppState,
    shared: &Arc<Mutex<Tenant>>,
    uid: &str,
    pending: Option<PendingAuthn>,
    relay_state: Option<String>,
    method: &str,
    path: &str,
) -> Result<Response> {
    let (view, user, faults, last, forge) = {
        let mut t = tenant::lock(shared);
        let user = t
            .user_by_uid(uid)
            .cloned()
            .ok_or_else(|| Error::UnknownUser(uid.to_string()))?;
        let faults = t.take_faults(Protocol::Saml);
        let forge = t.next_forge.take().or_else(|| t.saml.forge.clone());
        let view = issue::IdpView::of(&t, state.base());
        (view, user, faults, t.last_saml_response.clone(), forge)
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
    let delivery = super::forge::deliver(view, user, pending, faults.clone(), forge).await?;
    let mut t = tenant::lock(shared);
    if let Some(session) = delivery.session.clone() {
        t.saml_sessions.insert(uid.to_string(), session);
    }
    t.last_saml_response = Some(DeliveredResponse {
        acs_url: delivery.acs_url.clone(),
        saml_response_b64: delivery.saml_response.clone(),
        relay_state: relay_state.clone(),
    });
    record_forged(
        &mut t,
        "saml_response",
        method,
        path,
        200,
        delivery.decoded.into(),
        faults.clone(),
        delivery.forge,
    );
    let deliver = if faults.contains(&Fault::SamlResponseHeld) {
        pages::held_post_form
    } else {
        pages::post_form
    };
    Ok(deliver(
        &delivery.acs_url,
        &delivery.saml_response,
        relay_state.as_deref(),
    ))
}
