//! `GET /sso/oidc/frontchannel-logout/{org}?iss=..&sid=..`: the organisation's OP, in an
//! iframe of its signed-out page, ends the sessions of its sign-in session `sid` (OpenID
//! Connect Front-Channel Logout 1.0, with the session required). Any page can make a browser
//! load this URL, so nothing ends unless `iss` is the OP of this organisation's connection
//! and `sid` names sessions its ID tokens made here; the browser's own cookie decides
//! nothing. 200 when the request was the OP's (whether or not a session matched), 400 with
//! the reason otherwise; never cached, and frameable (the OP loads it in an iframe).
use crate::html::{esc, page};
use crate::oidc_logout;
use crate::state::Shared;
use crate::store::{self, SsoConfig};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::params;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct FrontchannelQuery {
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    sid: Option<String>,
}

pub async fn frontchannel_logout(
    State(st): State<Shared>,
    Path(org): Path<String>,
    Query(q): Query<FrontchannelQuery>,
) -> Response {
    let (status, body) = match end_sessions(&st, &org, &q).await {
        Ok(n) => {
            tracing::info!(org, ended = n, "front-channel logout");
            (
                StatusCode::OK,
                format!(
                    "<p id=\"signed-out\">{n} session(s) ended at the identity provider's request.</p>"
                ),
            )
        }
        Err(why) => {
            tracing::warn!(org, "front-channel logout refused: {why}");
            (
                StatusCode::BAD_REQUEST,
                format!("<p id=\"error\">Sign-out refused: {}</p>", esc(&why)),
            )
        }
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        page("Signed out", &body),
    )
        .into_response()
}

async fn end_sessions(st: &Shared, org: &str, q: &FrontchannelQuery) -> Result<usize, String> {
    let cfg = {
        let c = st.db.conn().map_err(|e| e.to_string())?;
        store::sso_config(&c, org).map_err(|e| e.to_string())?
    };
    let Some(SsoConfig::Oidc(o)) = cfg else {
        return Err(format!("organisation {org} has no OIDC connection"));
    };
    let issuer = oidc_logout::issuer(&st.http, &o.discovery_url).await?;
    match &q.iss {
        Some(iss) if *iss == issuer => {}
        Some(_) => return Err("iss is not this organisation's identity provider".into()),
        None => return Err("the request has no iss".into()),
    }
    let Some(sid) = q.sid.as_deref().filter(|s| !s.is_empty()) else {
        return Err("the request has no sid".into());
    };
    let c = st.db.conn().map_err(|e| e.to_string())?;
    c.execute(
        "DELETE FROM sessions WHERE sso_org = ?1 AND oidc_sid = ?2",
        params![org, sid],
    )
    .map_err(|e| e.to_string())
}
