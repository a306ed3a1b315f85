//! `GET /sso/oidc/initiate/{org}?iss=..[&login_hint=..][&target_link_uri=..]`: login
//! initiated by a third party (OpenID Connect Core 1.0, section 4). Any page can send a
//! browser here, so `iss` decides nothing by itself: the sign-in starts only when it is the
//! issuer of this organisation's own OIDC connection, learnt from the configured discovery
//! URL. An unknown `iss` is never fetched (that would let anyone aim this server's requests,
//! CWE-918), and `target_link_uri` is accepted only on this site (no open redirect,
//! CWE-601). A refused request gets a 400 page with the reason.
use crate::error::AppError;
use crate::html::{esc, page};
use crate::oidc_logout;
use crate::state::Shared;
use crate::store::{self, SsoConfig};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::sso_start::{Start, start_sso};

#[derive(Deserialize)]
pub struct InitiateQuery {
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    login_hint: Option<String>,
    #[serde(default)]
    target_link_uri: Option<String>,
}

pub async fn initiate_login(
    State(st): State<Shared>,
    Path(org): Path<String>,
    Query(q): Query<InitiateQuery>,
) -> Result<Response, AppError> {
    if let Err(why) = check(&st, &org, &q).await {
        tracing::warn!(org, "third-party login refused: {why}");
        return Ok((
            StatusCode::BAD_REQUEST,
            [(header::CACHE_CONTROL, "no-store")],
            page(
                "Sign-in refused",
                &format!("<p id=\"error\">Sign-in refused: {}</p>", esc(&why)),
            ),
        )
            .into_response());
    }
    // The sign-in lands on the home page as every other one does; a same-site
    // target_link_uri was only checked, not carried (the product has no deep links yet).
    start_sso(
        &st,
        &org,
        Start::Login {
            hint: q.login_hint.filter(|h| !h.is_empty()),
        },
    )
    .await
    .map_err(|e| e.for_org(&org))
}

/// Why the request may not start a sign-in, if it may not.
async fn check(st: &Shared, org: &str, q: &InitiateQuery) -> Result<(), String> {
    let Some(iss) = q.iss.as_deref().filter(|s| !s.is_empty()) else {
        return Err("the request has no iss".into());
    };
    if let Some(target) = &q.target_link_uri {
        if !same_site(st.base(), target) {
            return Err("target_link_uri is not on this site".into());
        }
    }
    let cfg = {
        let c = st.db.conn().map_err(|e| e.to_string())?;
        store::sso_config(&c, org).map_err(|e| e.to_string())?
    };
    let Some(SsoConfig::Oidc(o)) = cfg else {
        return Err(format!("organisation {org} has no OIDC connection"));
    };
    // Only the configured discovery URL is fetched, whatever iss says.
    let issuer = oidc_logout::issuer(&st.http, &o.discovery_url).await?;
    if iss != issuer {
        return Err("iss is not this organisation's identity provider".into());
    }
    Ok(())
}

/// True when `target` (absolute, or relative to the site) has the site's origin.
fn same_site(base: &str, target: &str) -> bool {
    let Ok(base) = url::Url::parse(base) else {
        return false;
    };
    match base.join(target) {
        Ok(t) => t.origin() == base.origin(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::same_site;

    #[test]
    fn target_link_uri_stays_on_site() {
        let base = "http://127.0.0.1:4000";
        assert!(same_site(base, "/home"));
        assert!(same_site(base, "http://127.0.0.1:4000/app"));
        assert!(!same_site(base, "http://evil.test/"));
        assert!(!same_site(base, "//evil.test/x"));
        assert!(!same_site(base, "http://127.0.0.1:4001/"));
    }
}
