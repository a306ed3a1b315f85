//! SAML single logout. `/sso/saml/slo?connection=ORG` (both bindings) takes the IdP's
//! LogoutRequest (a session the IdP ends) and its LogoutResponse (the answer to ours);
//! `/sso/saml/logout` signs the user out here and asks the IdP to end its session too;
//! `/signed-out` says both ended. A LogoutRequest ends sessions only when it is signed with the
//! configured certificate, comes from the configured IdP, is SAML 2.0 with a well-formed ID,
//! has not expired, and names a live session; otherwise the session stays and the page says
//! why. "Signed out everywhere" is shown only for a signed, Success LogoutResponse from the
//! IdP that answers the request this browser sent.
use super::sso_start::PENDING_TTL_SECONDS;
use crate::error::AppError;
use crate::saml::logout::{self, Incoming, Message, Outgoing, STATUS_REQUESTER, STATUS_SUCCESS};
use crate::saml::validate::MAX_SKEW_SECONDS;
use crate::state::Shared;
use crate::store::{self, SamlConfig, SsoConfig};
use crate::{html, password, session};
use axum::Form;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use rusqlite::params;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The ID of the LogoutRequest this browser is waiting for an answer to.
const LOGOUT_COOKIE: &str = "saml_logout";

#[derive(Deserialize)]
pub struct SloQuery {
    connection: Option<String>,
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

#[derive(Deserialize)]
pub struct SloForm {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

fn refused(what: &str, why: impl std::fmt::Display) -> AppError {
    AppError::page(StatusCode::BAD_REQUEST, format!("{what}: {why}"))
}

fn saml_config(st: &Shared, org: &str) -> Result<SamlConfig, AppError> {
    let c = st.db.conn()?;
    match store::sso_config(&c, org)? {
        Some(SsoConfig::Saml(s)) => Ok(s),
        _ => Err(refused(
            "Sign-out refused",
            format!("{org} has no SAML connection"),
        )),
    }
}

fn cert_der(cfg: &SamlConfig) -> Result<Vec<u8>, AppError> {
    crate::certs::parse_certificate(&cfg.certificate_pem)
        .and_then(|x| x.to_der().map_err(|e| e.to_string()))
        .map_err(|e| {
            refused(
                "Sign-out refused",
                format!("the configured certificate is unusable: {e}"),
            )
        })
}

fn instant(t: OffsetDateTime) -> Result<String, AppError> {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .map_err(|e| AppError::Internal(e.to_string()))
}

fn sp_key(st: &Shared) -> Result<openssl::pkey::PKey<openssl::pkey::Private>, AppError> {
    openssl::pkey::PKey::private_key_from_pem(st.sp_key.private_key_pem.expose().as_bytes())
        .map_err(|e| AppError::Internal(format!("the SP key is unusable: {e}")))
}

/// A logout message from `field`, its signature verified with the organisation's IdP
/// certificate, of the expected root element, and passing the checks both kinds share.
fn verified(
    st: &Shared,
    org: &str,
    incoming: Incoming<'_>,
    field: &str,
    root: &str,
    what: &str,
) -> Result<(SamlConfig, Message), AppError> {
    let cfg = saml_config(st, org)?;
    let cert = cert_der(&cfg)?;
    let m = logout::verify(incoming, field, &cert).map_err(|e| refused(what, e))?;
    if m.root != root {
        return Err(refused(
            what,
            format!("the {field} is a <{}>, not a {root}", m.root),
        ));
    }
    check_common(&m, &cfg, st, org).map_err(|e| refused(what, e))?;
    Ok((cfg, m))
}

/// The checks every message from the IdP must pass besides its signature.
fn check_common(m: &Message, cfg: &SamlConfig, st: &Shared, org: &str) -> Result<(), String> {
    if m.version.as_deref() != Some("2.0") {
        return Err(format!(
            "Version is {:?}; only SAML 2.0 is accepted",
            m.version.as_deref().unwrap_or("(none)")
        ));
    }
    match &m.id {
        Some(id) if logout::is_xml_id(id) => {}
        other => {
            return Err(format!(
                "ID {:?} is not a well-formed XML ID",
                other.as_deref().unwrap_or("(none)")
            ));
        }
    }
    let Some(expected) = cfg.idp_entity_id.as_deref() else {
        return Err("the IdP's entity ID is not known yet (no sign-in through it so far)".into());
    };
    if m.issuer.as_deref() != Some(expected) {
        return Err(format!(
            "Issuer {:?} is not the configured IdP {expected:?}",
            m.issuer.as_deref().unwrap_or("(none)")
        ));
    }
    if let Some(d) = &m.destination {
        if d != &st.slo_url(org) {
            return Err(format!("Destination {d:?} is not this SP's logout URL"));
        }
    }
    Ok(())
}

fn check_request_times(m: &Message, now: OffsetDateTime) -> Result<(), String> {
    let parse = |name: &str, v: &str| {
        OffsetDateTime::parse(v, &Rfc3339).map_err(|_| format!("{name} {v:?} is not a dateTime"))
    };
    if let Some(v) = &m.not_on_or_after {
        let t = parse("NotOnOrAfter", v)?;
        if now >= t + time::Duration::seconds(MAX_SKEW_SECONDS) {
            return Err(format!("the LogoutRequest expired at {v}"));
        }
    }
    let Some(v) = &m.issue_instant else {
        return Err("the LogoutRequest has no IssueInstant".into());
    };
    let t = parse("IssueInstant", v)?;
    if t > now + time::Duration::seconds(MAX_SKEW_SECONDS) {
        return Err(format!("IssueInstant {v} is in the future"));
    }
    Ok(())
}

pub async fn slo_get(
    State(st): State<Shared>,
    jar: CookieJar,
    Query(q): Query<SloQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let org = q.connection.clone().unwrap_or_default();
    let raw = raw.unwrap_or_default();
    let incoming = Incoming::Redirect { raw_query: &raw };
    dispatch(
        &st,
        jar,
        &org,
        q.saml_request.is_some(),
        q.saml_response.is_some(),
        incoming,
        q.relay_state.as_deref(),
    )
    .map_err(|e| e.for_org(&org))
}

pub async fn slo_post(
    State(st): State<Shared>,
    jar: CookieJar,
    Query(q): Query<SloQuery>,
    Form(f): Form<SloForm>,
) -> Result<Response, AppError> {
    let org = q.connection.clone().unwrap_or_default();
    let (is_request, value) = match (&f.saml_request, &f.saml_response) {
        (Some(v), _) => (true, v.as_str()),
        (None, Some(v)) => (false, v.as_str()),
        (None, None) => (false, ""),
    };
    let incoming = Incoming::Post { value };
    let has = !value.is_empty();
    dispatch(
        &st,
        jar,
        &org,
        is_request && has,
        !is_request && has,
        incoming,
        f.relay_state.as_deref(),
    )
    .map_err(|e| e.for_org(&org))
}

fn dispatch(
    st: &Shared,
    jar: CookieJar,
    org: &str,
    is_request: bool,
    is_response: bool,
    incoming: Incoming<'_>,
    relay_state: Option<&str>,
) -> Result<Response, AppError> {
    if org.is_empty() {
        return Err(refused(
            "Sign-out refused",
            "the logout URL lacks ?connection={organization ID}",
        ));
    }
    if is_request {
        logout_request(st, jar, org, incoming, relay_state)
    } else if is_response {
        logout_response(st, jar, org, incoming)
    } else {
        Err(refused(
            "Sign-out refused",
            "no SAMLRequest or SAMLResponse",
        ))
    }
}

/// The IdP ends a session: verify everything, end the sessions it names, answer.
fn logout_request(
    st: &Shared,
    jar: CookieJar,
    org: &str,
    incoming: Incoming<'_>,
    relay_state: Option<&str>,
) -> Result<Response, AppError> {
    const WHAT: &str = "Sign-out request refused; you are still signed in";
    let (cfg, m) = verified(st, org, incoming, "SAMLRequest", "LogoutRequest", WHAT)?;
    check_request_times(&m, st.clock.now()).map_err(|e| refused(WHAT, e))?;
    let Some(name_id) = m.name_id.as_deref().filter(|n| !n.is_empty()) else {
        return Err(refused(WHAT, "the LogoutRequest names no NameID"));
    };
    let ended = {
        let c = st.db.conn()?;
        session::end_saml_sessions(&c, org, name_id, &m.session_indexes)?
    };
    tracing::info!(org, ended, "SAML LogoutRequest from the IdP");
    let status = if ended > 0 {
        STATUS_SUCCESS
    } else {
        STATUS_REQUESTER
    };
    let Some(idp_slo) = cfg.slo_url.as_deref() else {
        // Nowhere to answer: say what happened here.
        return Ok(html::page(
            "Signed out",
            &format!(
                "<p id=\"signed-out\">{} session(s) ended at the identity provider's request.</p>",
                ended
            ),
        )
        .into_response());
    };
    let id = format!("_{}", password::random_token());
    let now = instant(st.clock.now())?;
    let entity = st.entity_id(org);
    let answer = Outgoing {
        id: &id,
        issue_instant: &now,
        destination: idp_slo,
        issuer: &entity,
        in_response_to: m.id.as_deref(),
        name_id: None,
        status: Some(status),
    };
    let url = answer
        .redirect_url(relay_state, &sp_key(st)?)
        .map_err(|e| AppError::page(StatusCode::BAD_GATEWAY, e))?;
    // The ended sessions' rows are gone, so their cookies name nothing any more.
    Ok((jar, Redirect::to(url.as_str())).into_response())
}

/// The IdP answers our LogoutRequest: only a signed Success answer to this browser's request
/// counts as "signed out everywhere".
fn logout_response(
    st: &Shared,
    jar: CookieJar,
    org: &str,
    incoming: Incoming<'_>,
) -> Result<Response, AppError> {
    const WHAT: &str = "You are signed out of this service, but your identity provider did not confirm that it ended your session there (close the browser to be sure)";
    let waiting = jar.get(LOGOUT_COOKIE).map(|c| c.value().to_string());
    let jar = jar
        .remove(axum_extra::extract::cookie::Cookie::build((LOGOUT_COOKIE, "")).path("/sso/saml"));
    let result = (|| -> Result<(), AppError> {
        let (_, m) = verified(st, org, incoming, "SAMLResponse", "LogoutResponse", WHAT)?;
        let Some(irt) = m.in_response_to.as_deref() else {
            return Err(refused(WHAT, "the LogoutResponse names no InResponseTo"));
        };
        let now = st.now();
        let answered = {
            let c = st.db.conn()?;
            c.execute(
                "DELETE FROM pending_logins WHERE id = ?1 AND kind = 'saml_logout' AND org_id = ?2 AND created_at >= ?3",
                params![irt, org, now - PENDING_TTL_SECONDS],
            )?
        };
        if answered == 0 || waiting.as_deref() != Some(irt) {
            return Err(refused(
                WHAT,
                format!(
                    "InResponseTo {irt:?} does not answer the sign-out request this browser sent"
                ),
            ));
        }
        if m.status.as_deref() != Some(STATUS_SUCCESS) {
            return Err(refused(
                WHAT,
                format!(
                    "the identity provider answered with status {}",
                    m.status.as_deref().unwrap_or("(none)")
                ),
            ));
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok((jar, Redirect::to("/signed-out")).into_response()),
        Err(e) => Ok((jar, e).into_response()),
    }
}

/// `GET /sso/saml/logout`: sign out here, then ask the IdP to end its session too.
pub async fn start(State(st): State<Shared>, jar: CookieJar) -> Result<Response, AppError> {
    let subject = {
        let c = st.db.conn()?;
        session::saml_subject(&c, &jar)?
    };
    let c = st.db.conn()?;
    let jar = session::destroy(&c, jar)?;
    drop(c);
    let Some((org, name_id, session_index)) = subject else {
        return Ok((jar, Redirect::to("/login")).into_response());
    };
    let cfg = saml_config(&st, &org)?;
    let Some(idp_slo) = cfg.slo_url.as_deref() else {
        return Ok((jar, Redirect::to("/login")).into_response());
    };
    let id = format!("_{}", password::random_token());
    let now = instant(st.clock.now())?;
    let entity = st.entity_id(&org);
    let req = Outgoing {
        id: &id,
        issue_instant: &now,
        destination: idp_slo,
        issuer: &entity,
        in_response_to: None,
        name_id: Some((&name_id, session_index.as_deref())),
        status: None,
    };
    let url = req
        .redirect_url(None, &sp_key(&st)?)
        .map_err(|e| AppError::page(StatusCode::BAD_GATEWAY, e))?;
    {
        let c = st.db.conn()?;
        c.execute(
            "INSERT INTO pending_logins(id, kind, org_id, created_at) VALUES (?1, 'saml_logout', ?2, ?3)",
            params![id, org, st.now()],
        )?;
    }
    let mut resp = (jar, Redirect::to(url.as_str())).into_response();
    let cookie = format!(
        "{LOGOUT_COOKIE}={id}; Path=/sso/saml; HttpOnly; SameSite=Lax; Max-Age={PENDING_TTL_SECONDS}"
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// `GET /signed-out`: the IdP confirmed the single logout.
pub async fn signed_out() -> Response {
    html::page(
        "Signed out",
        "<p id=\"signed-out\">You are signed out of this service and of your identity provider.</p>\n<p><a href=\"/login\">Sign in again</a></p>",
    )
    .into_response()
}
