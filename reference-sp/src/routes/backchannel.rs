//! `POST /sso/oidc/backchannel-logout/{org}`: the organisation's OP ends sessions it
//! started (OpenID Connect Back-Channel Logout 1.0). The logout token is verified like an
//! ID token (the OP's keys, RS256, issuer, audience, age) plus its own rules (events, no
//! nonce, sub or sid, jti used once); then every session that OP's sign-in of that subject
//! made in this organisation ends. 200 when the token was valid (whether or not a session
//! matched), 400 with the reason otherwise; never cached.
use crate::error::AppError;
use crate::logout_token;
use crate::oidc_jws;
use crate::state::Shared;
use crate::store::{self, SsoConfig};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::params;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    logout_token: Option<String>,
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}

pub async fn backchannel_logout(
    State(st): State<Shared>,
    Path(org): Path<String>,
    Form(form): Form<LogoutForm>,
) -> Result<Response, AppError> {
    match end_sessions(&st, &org, form.logout_token.as_deref()).await {
        Ok(ended) => {
            tracing::info!(org, ended, "back-channel logout");
            Ok(answer(
                StatusCode::OK,
                serde_json::json!({ "ended": ended }),
            ))
        }
        Err(Refused(why)) => {
            tracing::warn!(org, reason = %why, "back-channel logout token refused");
            Ok(answer(
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "error": "invalid_request", "error_description": why }),
            ))
        }
    }
}

struct Refused(String);

impl From<String> for Refused {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Refused {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

impl From<AppError> for Refused {
    fn from(e: AppError) -> Self {
        Self(e.to_string())
    }
}

/// How many sessions the token ended.
async fn end_sessions(st: &Shared, org: &str, token: Option<&str>) -> Result<usize, Refused> {
    let token = token.ok_or("the request has no logout_token")?;
    let cfg = {
        let c = st.db.conn().map_err(AppError::from)?;
        store::sso_config(&c, org).map_err(AppError::from)?
    };
    let Some(SsoConfig::Oidc(o)) = cfg else {
        return Err(format!("organisation {org} has no OIDC connection").into());
    };
    let keys = oidc_jws::fetch(&st.http, &o.discovery_url).await?;
    let (_, claims) = oidc_jws::verify(token, &keys.jwks)?;
    let now = st.now();
    let logout = logout_token::check(&claims, &keys.issuer, &o.client_id, now)?;
    let replay_id = format!("logout:{}:{}", keys.issuer, logout.jti);
    let ended = st
        .db
        .tx(|tx| -> Result<usize, AppError> {
            let fresh = tx.execute(
                "INSERT OR IGNORE INTO used_assertions(id, org_id, seen_at) VALUES (?1, ?2, ?3)",
                params![replay_id, org, now],
            )?;
            if fresh == 0 {
                return Err(AppError::Conflict(
                    "this logout token (jti) was already used".into(),
                ));
            }
            // The product keeps no OP session id, so sid alone matches no session.
            let Some(sub) = &logout.sub else {
                return Ok(0);
            };
            Ok(tx.execute(
                "DELETE FROM sessions WHERE sso_org = ?1 AND user_id IN \
                 (SELECT user_id FROM sso_profiles WHERE org_id = ?1 AND subject = ?2)",
                params![org, sub],
            )?)
        })
        .map_err(Refused::from)?;
    Ok(ended)
}
