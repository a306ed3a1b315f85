//! `--test-mode` only: move the SP clock, block the email-first SSO look-up (ERR-4), read
//! the password-reset mails the SP "sent" (they hold one-time links, so never outside tests).
use super::Shared;
use super::admin_api::{authorize, body};
use crate::error::AppError;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::atomic::Ordering;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/admin/test/clock", put(put_clock))
        .route("/api/admin/test/block-sso-lookup", put(put_block))
        .route("/api/admin/test/outbox", get(outbox))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Clock {
    offset_seconds: i64,
}

async fn put_clock(
    State(st): State<Shared>,
    headers: HeaderMap,
    payload: Result<Json<Clock>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    st.clock.set_offset(b.offset_seconds);
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Block {
    blocked: bool,
}

async fn put_block(
    State(st): State<Shared>,
    headers: HeaderMap,
    payload: Result<Json<Block>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    st.block_sso_lookup.store(b.blocked, Ordering::Relaxed);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn outbox(State(st): State<Shared>, headers: HeaderMap) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let c = st.db.conn()?;
    let mut q = c.prepare("SELECT recipient, subject, link FROM outbox ORDER BY id")?;
    let rows = q
        .query_map([], |r| {
            Ok(serde_json::json!({"to": r.get::<_, String>(0)?, "subject": r.get::<_, String>(1)?, "link": r.get::<_, String>(2)?}))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(rows).into_response())
}
