//! Starting an SSO sign-in: the SAML AuthnRequest or OIDC authorization redirect for an
//! organisation (email-first page, application link, Tile URL, "Test SSO") and the social
//! one, with the pending request it leaves for the answer. Shared by the sign-in pages, the
//! Identity page and the SSO endpoints; it uses none of them.
use crate::error::{AppError, UserError};
use crate::html::{esc, page};
use crate::messages;
use crate::oidc;
use crate::password;
use crate::saml::authn_request::AuthnRequest;
use crate::state::Shared;
use crate::store::{self, SsoConfig};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use rusqlite::params;

/// Unanswered sign-in requests are forgotten after this long.
pub const PENDING_TTL_SECONDS: i64 = 600;

pub enum Start {
    Login {
        hint: Option<String>,
    },
    /// CFG-6 "Test SSO": runs the flow and reports, without signing in.
    Test,
}

/// Sends the browser to the organisation's IdP (SAML AuthnRequest or OIDC authorization).
/// The prefix of the cookies that mark a browser with an outstanding SAML AuthnRequest (one
/// per request: `saml_request_cookie`).
pub const PENDING_COOKIE_PREFIX: &str = "saml_pending_";

pub async fn start_sso(st: &Shared, org_id: &str, how: Start) -> Result<Response, AppError> {
    let (org, cfg) = {
        let c = st.db.conn()?;
        let org = store::get_org(&c, org_id)?.ok_or_else(|| {
            AppError::page(StatusCode::NOT_FOUND, format!("No organization {org_id}."))
        })?;
        (org, store::sso_config(&c, org_id)?)
    };
    let test = matches!(how, Start::Test);
    if !test && !org.any_sso() {
        return Err(
            messages::connection_not_enabled(format!("SSO is not enabled for {org_id}")).into(),
        );
    }
    let now = st.now();
    match cfg {
        None => Err(
            messages::connection_not_enabled(format!("{org_id} has no SSO configuration")).into(),
        ),
        Some(SsoConfig::Saml(s)) => {
            if test {
                return Err(AppError::page(
                    StatusCode::BAD_REQUEST,
                    "Test SSO is part of the custom OIDC wizard; this organization uses SAML.",
                ));
            }
            let id = format!("_{}", password::random_token());
            let instant = time::OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
                .format(&time::format_description::well_known::Rfc3339)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let acs = st.acs_url(org_id);
            let entity = st.entity_id(org_id);
            let req = AuthnRequest {
                id: &id,
                issue_instant: &instant,
                destination: &s.sso_url,
                acs_url: &acs,
                issuer: &entity,
            };
            let url = req
                .redirect_url(&id)
                .map_err(|e| AppError::page(StatusCode::BAD_GATEWAY, e))?;
            let c = st.db.conn()?;
            c.execute(
                "DELETE FROM pending_logins WHERE created_at < ?1",
                [now - PENDING_TTL_SECONDS],
            )?;
            c.execute(
                "INSERT INTO pending_logins(id, kind, org_id, created_at) VALUES (?1, 'saml', ?2, ?3)",
                params![id, org_id, now],
            )?;
            // This browser now waits for the answer to this request: the ACS refuses an
            // unsolicited response while such a cookie is there (SAML-SP-61), and a response
            // whose InResponseTo this browser's cookies do not name (SAML-SP-63). The IdP's
            // POST back is cross-site wherever the IdP is on another site, and a Lax cookie
            // is not sent with it: over HTTPS the cookie is SameSite=None; Secure. Browsers
            // refuse None without Secure, so over plain HTTP it is Lax, and the IdP must then
            // share the SP's site (as in the lab: both on 127.0.0.1).
            let mut resp = Redirect::to(url.as_str()).into_response();
            let same_site = if st.base().starts_with("https://") {
                "None; Secure"
            } else {
                "Lax"
            };
            let cookie = format!(
                "{}=1; Path=/sso/saml; HttpOnly; SameSite={same_site}; Max-Age={PENDING_TTL_SECONDS}",
                saml_request_cookie(&id)
            );
            if let Ok(v) = axum::http::HeaderValue::from_str(&cookie) {
                resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
            }
            Ok(resp)
        }
        Some(SsoConfig::Oidc(o)) => {
            let rp = st.org_rp(&o);
            let hint = match &how {
                Start::Login { hint } => hint.as_deref(),
                Start::Test => None,
            };
            let begun = match oidc::begin(&st.http, &rp, hint).await {
                Ok((url, pending)) => by_reference(st, &o.discovery_url, url)
                    .await
                    .map(|url| (url, pending)),
                Err(reason) => Err(reason),
            };
            let (url, pending) = match begun {
                Ok(v) => v,
                Err(reason) if test => return Ok(test_result(Err(reason))),
                Err(reason) => return Err(messages::sso_failed(reason).into()),
            };
            let kind = if test { "oidc_test" } else { "oidc" };
            let c = st.db.conn()?;
            c.execute(
                "INSERT INTO pending_logins(id, kind, org_id, nonce, pkce_verifier, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![pending.state, kind, org_id, pending.nonce, pending.pkce_verifier, now],
            )?;
            Ok(bind_oidc_state(
                Redirect::to(url.as_str()).into_response(),
                &pending.state,
            ))
        }
    }
}

pub async fn start_social(st: &Shared, hint: Option<&str>) -> Result<Response, AppError> {
    let Some(social) = &st.social else {
        return Err(AppError::page(
            StatusCode::NOT_FOUND,
            "Social sign-in is not configured on this server.",
        ));
    };
    let rp = st.social_rp(social);
    let (url, pending) = oidc::begin(&st.http, &rp, hint).await.map_err(|r| {
        AppError::from(UserError::new(
            StatusCode::BAD_GATEWAY,
            format!("Google sign-in failed: {r}"),
        ))
    })?;
    let c = st.db.conn()?;
    c.execute(
        "INSERT INTO pending_logins(id, kind, nonce, pkce_verifier, created_at) VALUES (?1, 'social', ?2, ?3, ?4)",
        params![pending.state, pending.nonce, pending.pkce_verifier, st.now()],
    )?;
    Ok(bind_oidc_state(
        Redirect::to(url.as_str()).into_response(),
        &pending.state,
    ))
}

/// The authorization URL as a signed request object by reference when the OP's discovery
/// requires signed request objects (`oidc_request_uri`); unchanged otherwise.
async fn by_reference(st: &Shared, discovery_url: &str, url: url::Url) -> Result<url::Url, String> {
    // Already pushed (PAR): the request is the OP's, the browser carries a reference only.
    if url.query_pairs().any(|(k, _)| k == "request_uri") {
        return Ok(url);
    }
    match crate::oidc_request_uri::issuer_if_required(&st.http, discovery_url).await? {
        Some(issuer) => crate::oidc_request_uri::by_reference(
            &st.request_objects,
            &st.sp_key,
            st.base(),
            url,
            &issuer,
            st.now(),
        ),
        None => Ok(url),
    }
}

/// The cookie that says this browser started the OIDC sign-in with `state`. A state known
/// to the server is not enough: an attacker can start a sign-in, sign in at the IdP as
/// themself and send the victim the callback link, which would sign the victim in to the
/// attacker's account (login CSRF, OIDC-RP-69). One cookie per sign-in, named by a hash of
/// its state, so two sign-ins under way in one browser (two tabs) do not overwrite each
/// other; each expires with its pending row.
pub fn oidc_state_cookie(state: &str) -> String {
    pending_cookie("oidc_pending_", state)
}

/// The cookie that says this browser sent the SAML AuthnRequest `id`: the same reasoning as
/// `oidc_state_cookie` for a Response whose InResponseTo is known to the server (SAML-SP-63).
pub fn saml_request_cookie(id: &str) -> String {
    pending_cookie(PENDING_COOKIE_PREFIX, id)
}

/// `prefix` and the first 16 hex digits of the SHA-256 of `value`: a cookie name per
/// sign-in that shows neither the state nor the request ID.
fn pending_cookie(prefix: &str, value: &str) -> String {
    use sha2::Digest as _;
    let digest = hex::encode(sha2::Sha256::digest(value.as_bytes()));
    format!("{prefix}{}", &digest[..16])
}

fn bind_oidc_state(mut resp: Response, state: &str) -> Response {
    let cookie = format!(
        "{}=1; Path=/sso; HttpOnly; SameSite=Lax; Max-Age={PENDING_TTL_SECONDS}",
        oidc_state_cookie(state)
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    resp
}

/// The page "Test SSO" ends on (CFG-6): the outcome, never a session.
pub fn test_result(outcome: Result<String, String>) -> Response {
    let (status, body) = match outcome {
        Ok(msg) => (
            StatusCode::OK,
            format!(
                "<p id=\"test-result\" class=\"success\" data-outcome=\"success\">Test SSO succeeded: {}</p>",
                esc(&msg)
            ),
        ),
        Err(reason) => (
            StatusCode::OK,
            format!(
                "<p id=\"test-result\" class=\"error\" data-outcome=\"failure\">Test SSO failed: {}</p>",
                esc(&reason)
            ),
        ),
    };
    (status, page("Test Single Sign-On", &body)).into_response()
}
