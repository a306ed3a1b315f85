//! `--test-mode` only: move the SP clock, block the email-first SSO look-up (ERR-4), read
//! the password-reset mails the SP "sent" (they hold one-time links, so never outside tests),
//! create an organisation with a chosen ID (an IdP application registered with it first), and
//! read what the IdP sent in the last SSO sign-in (for IdP application checks).
use super::api::{authorize, body, org_urls};
use crate::error::AppError;
use crate::state::Shared;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use proto::sp_admin::{CreateOrgWithId, OutboxMail, PutBlockSsoLookup, PutClock};
use std::sync::atomic::Ordering;

pub async fn put_clock(
    State(st): State<Shared>,
    headers: HeaderMap,
    payload: Result<Json<PutClock>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    st.clock.set_offset(b.offset_seconds);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn put_block(
    State(st): State<Shared>,
    headers: HeaderMap,
    payload: Result<Json<PutBlockSsoLookup>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    st.block_sso_lookup.store(b.blocked, Ordering::Relaxed);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn outbox(State(st): State<Shared>, headers: HeaderMap) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let c = st.db.conn()?;
    let mut q = c.prepare("SELECT recipient, subject, link FROM outbox ORDER BY id")?;
    let rows = q
        .query_map([], |r| {
            Ok(OutboxMail {
                to: r.get(0)?,
                subject: r.get(1)?,
                link: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(rows).into_response())
}

pub async fn create_org_with_id(
    State(st): State<Shared>,
    headers: HeaderMap,
    payload: Result<Json<CreateOrgWithId>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    let org = crate::admin_ops::create_org(&st, Some(&b.org_id), &b.name, &b.plan, &b.billing)?;
    Ok((StatusCode::CREATED, Json(org_urls(&st, &org.id))).into_response())
}

/// `null` until an SSO sign-in reached the SP; else a `proto::sp_admin::LastSso`, kept as
/// the sorted-key JSON it has always been sent as.
pub async fn last_sso(State(st): State<Shared>, headers: HeaderMap) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let last = st.last_sso.lock().ok().and_then(|g| g.clone());
    Ok(Json(last.unwrap_or(serde_json::Value::Null)).into_response())
}

pub async fn clear_last_sso(
    State(st): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    if let Ok(mut slot) = st.last_sso.lock() {
        *slot = None;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
