//! SSO endpoints: the application link and Tile URLs (LOGIN-3, ERR-8), which start a sign-in
//! through `sso_start`, the ACS, SP metadata (CFG-5), the OIDC callbacks (custom connection,
//! "Test SSO", social sign-in).
use super::sso_start::{PENDING_TTL_SECONDS, Start, start_sso, test_result};
use crate::error::{AppError, UserError};
use crate::messages;
use crate::oidc;
use crate::oidc_hybrid;
use crate::oidc_jarm;
use crate::saml::validate::{self, Expected, Identity, Rejection};
use crate::state::Shared;
use crate::store::{self, Method, Product, SsoConfig};
use crate::{session, signin};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use base64::Engine as _;
use proto::sp_admin::{LastIdToken, LastOidcError, LastSamlResponse, LastSso, SsoProtocol};
use rusqlite::{OptionalExtension, params};
use serde::Deserialize;

/// CFG-5: nothing (an empty 404) until a healthy SAML connection exists.
pub async fn metadata(
    State(st): State<Shared>,
    Path(org): Path<String>,
) -> Result<Response, AppError> {
    let cfg = {
        let c = st.db.conn()?;
        store::sso_config(&c, &org)?
    };
    let healthy = matches!(&cfg, Some(SsoConfig::Saml(s))
        if crate::certs::parse_certificate(&s.certificate_pem).is_ok() && url::Url::parse(&s.sso_url).is_ok());
    if !healthy {
        return Ok(StatusCode::NOT_FOUND.into_response());
    }
    let xml = crate::saml::metadata::sp_metadata(
        &st.entity_id(&org),
        &st.acs_url(&org),
        &crate::certs::der_base64(&st.sp_key.cert_der),
    )
    .map_err(AppError::Internal)?;
    Ok((
        [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
        xml,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct AcsQuery {
    connection: Option<String>,
}

#[derive(Deserialize)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse", default)]
    saml_response: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

fn rejection_to_error(r: Rejection) -> UserError {
    match r {
        Rejection::Thumbprint(d) => messages::invalid_thumbprint(d),
        Rejection::Encrypted => messages::sso_failed(
            "the SAML response or assertion is encrypted; encrypted responses are not decrypted, so the user's identity and attributes could not be read",
        ),
        Rejection::AccessDenied(d) => messages::idp_refused(d),
        Rejection::NoEmail(d) => messages::sso_failed(format!("no usable email: {d}")),
        Rejection::SeveralEmails(list) => messages::sso_failed(format!(
            "the SAML response carries several email addresses ({}); send exactly one so the account is not tied to the wrong user",
            list.join(", ")
        )),
        Rejection::Invalid(d) => messages::sso_failed(d),
    }
}

pub async fn acs(
    State(st): State<Shared>,
    jar: CookieJar,
    Query(q): Query<AcsQuery>,
    Form(f): Form<AcsForm>,
) -> Result<Response, AppError> {
    let org = q.connection.clone().unwrap_or_default();
    acs_inner(st, jar, q, f).await.map_err(|e| e.for_org(&org))
}

async fn acs_inner(
    st: Shared,
    jar: CookieJar,
    q: AcsQuery,
    f: AcsForm,
) -> Result<Response, AppError> {
    let Some(org_id) = q.connection.filter(|c| !c.is_empty()) else {
        return Err(messages::sso_failed("the ACS URL lacks ?connection={organization ID}").into());
    };
    if f.saml_response.trim().is_empty() {
        return Err(messages::sso_failed("the POST has no SAMLResponse field").into());
    }
    if st.test_mode {
        let compact: String = f
            .saml_response
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let xml = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        st.record_sso(LastSso::Saml(LastSamlResponse {
            org_id: org_id.clone(),
            protocol: SsoProtocol::Saml,
            relay_state: f.relay_state.clone(),
            response_xml: xml,
        }));
    }
    let (org, cfg) = {
        let c = st.db.conn()?;
        let org = store::get_org(&c, &org_id)?.ok_or_else(|| {
            AppError::page(StatusCode::NOT_FOUND, format!("No organization {org_id}."))
        })?;
        (org, store::sso_config(&c, &org_id)?)
    };
    let Some(SsoConfig::Saml(saml)) = cfg else {
        return Err(
            messages::connection_not_enabled(format!("{org_id} has no SAML connection")).into(),
        );
    };
    if !org.any_sso() {
        return Err(
            messages::connection_not_enabled(format!("SSO is not enabled for {org_id}")).into(),
        );
    }
    // IdP-initiated through a tile whose RelayState is our Tile URL: only the active one works.
    if let Some(relay) = &f.relay_state {
        for product in [Product::Workspace, Product::Platform] {
            if relay == &st.tile_url(&org_id, product) && product != org.active_tile {
                return Err(messages::connection_not_enabled(format!(
                    "the {} Tile URL is not active for {org_id}; the active one is the {}'s",
                    product.as_str(),
                    org.active_tile.as_str()
                ))
                .into());
            }
        }
    }
    let cert_der = crate::certs::parse_certificate(&saml.certificate_pem)
        .and_then(|x| x.to_der().map_err(|e| e.to_string()))
        .map_err(|e| {
            messages::sso_failed(format!("the configured certificate is unusable: {e}"))
        })?;
    let acs_url = st.acs_url(&org_id);
    let entity_id = st.entity_id(&org_id);
    let raw = f.saml_response.clone();
    let idp_entity = saml.idp_entity_id.clone();
    let now = st.clock.now();
    let validated = tokio::task::spawn_blocking(move || {
        validate::validate(
            &raw,
            &Expected {
                acs_url: &acs_url,
                entity_id: &entity_id,
                cert_der: &cert_der,
                idp_entity_id: idp_entity.as_deref(),
                now,
            },
        )
    })
    .await
    .map_err(|e| AppError::Internal(format!("validation task failed: {e}")))?
    .map_err(rejection_to_error)?;
    let now = st.now();
    // The assertion ID is recorded at once and on its own: a response that fails a later
    // check must not become usable again, and a second use of any response is a replay.
    {
        let c = st.db.conn()?;
        c.execute(
            "DELETE FROM used_assertions WHERE seen_at < ?1",
            [now - 86_400],
        )?;
        let fresh = c.execute(
            "INSERT OR IGNORE INTO used_assertions(id, org_id, seen_at) VALUES (?1, ?2, ?3)",
            params![validated.assertion_id, org_id, now],
        )?;
        if fresh == 0 {
            return Err(messages::sso_failed(format!(
                "the assertion {} was already used (replay)",
                validated.assertion_id
            ))
            .into());
        }
    }
    let outstanding = jar.iter().any(|c| {
        c.name()
            .starts_with(super::sso_start::PENDING_COOKIE_PREFIX)
    });
    if validated.in_response_to.is_none() && outstanding {
        return Err(messages::sso_failed(
            "the response names no InResponseTo, but this browser is waiting for the answer to a sign-in request this SP sent: an unsolicited response is refused while one is outstanding",
        )
        .into());
    }
    if let Some(irt) = &validated.in_response_to {
        // Known to the server is not enough: the request must be this browser's, or an
        // attacker's own sign-in, posted from the victim's browser, would sign the victim
        // in to the attacker's account (login CSRF, SAML-SP-63).
        if jar
            .get(&super::sso_start::saml_request_cookie(irt))
            .is_none()
        {
            return Err(messages::sso_failed(format!(
                "InResponseTo {irt:?} answers a sign-in request this browser did not send"
            ))
            .into());
        }
        let c = st.db.conn()?;
        let answered = c.execute(
            "DELETE FROM pending_logins WHERE id = ?1 AND kind = 'saml' AND org_id = ?2 AND created_at >= ?3",
            params![irt, org_id, now - PENDING_TTL_SECONDS],
        )?;
        if answered == 0 {
            return Err(messages::sso_failed(format!(
                "InResponseTo {irt:?} does not answer a sign-in request this SP sent for {org_id} (unknown, expired or already answered)"
            ))
            .into());
        }
    }
    if saml.idp_entity_id.is_none() {
        // Trust on first use: the documented set-up takes no IdP entity ID, so the Issuer of
        // the first accepted response is pinned; later responses must carry the same one.
        let c = st.db.conn()?;
        c.execute(
            "UPDATE sso_configs SET saml_idp_entity_id = ?1 WHERE org_id = ?2 AND protocol = 'saml' AND saml_idp_entity_id IS NULL",
            params![validated.issuer, org_id],
        )?;
    }
    // Answered: the browser waits for nothing any more (an IdP tile later is welcome).
    let answered: Vec<String> = jar
        .iter()
        .map(|c| c.name().to_string())
        .filter(|n| n.starts_with(super::sso_start::PENDING_COOKIE_PREFIX))
        .collect();
    let jar = answered.into_iter().fold(jar, |jar, name| {
        jar.remove(axum_extra::extract::cookie::Cookie::build((name, "")).path("/sso/saml"))
    });
    let resp = finish_sso_login(&st, jar, &org_id, &validated.identity, None, None)?;
    // What a LogoutRequest for this sign-in will name (single logout).
    if let Some(value) = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{}=", session::COOKIE)))
    {
        let sid = value.split(';').next().unwrap_or_default().to_string();
        let c = st.db.conn()?;
        let jar = CookieJar::new().add(axum_extra::extract::cookie::Cookie::new(
            session::COOKIE,
            sid,
        ));
        session::set_saml_subject(
            &c,
            &jar,
            validated.name_id.as_deref(),
            validated.session_index.as_deref(),
        )?;
    }
    Ok(resp)
}

fn finish_sso_login(
    st: &Shared,
    jar: CookieJar,
    org_id: &str,
    identity: &Identity,
    oidc: Option<&session::OidcFacts<'_>>,
    tokens: Option<&session::OidcTokens>,
) -> Result<Response, AppError> {
    let now = st.now();
    let (jar, needs_profile) = st.db.tx(|tx| -> Result<_, AppError> {
        let (user, needs_profile) = signin::resolve_sso_user(tx, org_id, identity)?;
        let jar = session::create(
            tx,
            jar,
            user.id,
            Method::Sso,
            Some(org_id),
            needs_profile,
            now,
        )?;
        if let Some(facts) = oidc {
            session::set_oidc(tx, &jar, facts)?;
        }
        if let Some(tokens) = tokens {
            session::set_oidc_tokens(tx, &jar, tokens)?;
        }
        Ok((jar, needs_profile))
    })?;
    tracing::info!(org = org_id, email = %identity.email, "SSO sign-in");
    let to = if needs_profile {
        "/welcome".to_string()
    } else {
        format!("/home?workspace={org_id}")
    };
    Ok((jar, Redirect::to(&to)).into_response())
}

pub async fn tile(
    State(st): State<Shared>,
    Path((org_id, product)): Path<(String, String)>,
) -> Result<Response, AppError> {
    tile_inner(&st, &org_id, &product)
        .await
        .map_err(|e| e.for_org(&org_id))
}

async fn tile_inner(st: &Shared, org_id: &str, product: &str) -> Result<Response, AppError> {
    let Some(product) = Product::parse(product) else {
        return Err(AppError::page(StatusCode::NOT_FOUND, "No such Tile URL."));
    };
    let org = {
        let c = st.db.conn()?;
        store::get_org(&c, org_id)?
    }
    .ok_or_else(|| AppError::page(StatusCode::NOT_FOUND, format!("No organization {org_id}.")))?;
    if !org.any_sso() {
        return Err(
            messages::connection_not_enabled(format!("SSO is not enabled for {org_id}")).into(),
        );
    }
    if org.active_tile != product {
        return Err(messages::connection_not_enabled(format!(
            "the {} Tile URL is not active for {org_id}; only one Tile URL is active at a time and the active one is the {}'s",
            product.as_str(),
            org.active_tile.as_str()
        ))
        .into());
    }
    start_sso(st, org_id, Start::Login { hint: None }).await
}

pub async fn start_link(
    State(st): State<Shared>,
    Path(org_id): Path<String>,
) -> Result<Response, AppError> {
    start_sso(&st, &org_id, Start::Login { hint: None })
        .await
        .map_err(|e| e.for_org(&org_id))
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    /// RFC 9207: the issuer the authorization response says it comes from.
    iss: Option<String>,
    /// JARM: the whole authorization response as one signed JWT (`oidc_jarm`).
    response: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    /// Hybrid flow: the ID token (and access token) of the authorization response.
    id_token: Option<String>,
    access_token: Option<String>,
}

struct PendingRow {
    kind: String,
    org_id: Option<String>,
    pending: oidc::Pending,
}

fn take_pending(st: &Shared, state: &str) -> Result<Option<PendingRow>, AppError> {
    let c = st.db.conn()?;
    let row = c
        .query_row(
            "DELETE FROM pending_logins WHERE id = ?1 AND kind IN ('oidc','oidc_test','social') AND created_at >= ?2 RETURNING kind, org_id, nonce, pkce_verifier",
            params![state, st.now() - PENDING_TTL_SECONDS],
            |r| {
                Ok(PendingRow {
                    kind: r.get(0)?,
                    org_id: r.get(1)?,
                    pending: oidc::Pending {
                        state: state.to_string(),
                        nonce: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                        pkce_verifier: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    },
                })
            },
        )
        .optional()?;
    Ok(row)
}

/// Whether this browser holds the cookie its own start of the sign-in with `state` set.
fn started_here(jar: &CookieJar, state: &str) -> bool {
    jar.get(&super::sso_start::oidc_state_cookie(state))
        .is_some()
}

pub async fn oidc_callback(
    State(st): State<Shared>,
    jar: CookieJar,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, AppError> {
    // A JARM response carries state inside the JWT: read it there only to find the sign-in
    // (and so the connection whose keys verify the JWT, in `oidc_finish`).
    let jarm_state = match q.response.as_deref() {
        Some(r) => Some(oidc_jarm::unverified_state(r).map_err(messages::sso_failed)?),
        None => None,
    };
    let Some(state) = jarm_state.as_deref().or(q.state.as_deref()) else {
        return Err(messages::sso_failed("the OIDC callback has no state parameter").into());
    };
    if !started_here(&jar, state) {
        return Err(messages::sso_failed(
            "the OIDC state was not issued to this browser (no sign-in was started here)",
        )
        .into());
    }
    let Some(p) = take_pending(&st, state)? else {
        return Err(
            messages::sso_failed("the OIDC state is unknown, expired or already used").into(),
        );
    };
    let org_id = p.org_id.clone().unwrap_or_default();
    oidc_finish(&st, jar, q, p)
        .await
        .map_err(|e| e.for_org(&org_id))
}

/// The hybrid flow's form_post (OAuth 2.0 Form Post Response Mode): the same parameters in
/// the body.
pub async fn oidc_callback_post(
    st: State<Shared>,
    jar: CookieJar,
    Form(q): Form<CallbackQuery>,
) -> Result<Response, AppError> {
    oidc_callback(st, jar, Query(q)).await
}

async fn oidc_finish(
    st: &Shared,
    jar: CookieJar,
    mut q: CallbackQuery,
    p: PendingRow,
) -> Result<Response, AppError> {
    let test = p.kind == "oidc_test";
    let org_id = p.org_id.clone().unwrap_or_default();
    let cfg = {
        let c = st.db.conn()?;
        store::sso_config(&c, &org_id)?
    };
    let Some(SsoConfig::Oidc(o)) = cfg else {
        return Err(messages::connection_not_enabled(format!(
            "{org_id} no longer has an OIDC connection"
        ))
        .into());
    };
    if let Err(reason) = jarm_response(st, &o, &p.pending.state, &mut q).await {
        if test {
            return Ok(test_result(Err(reason)));
        }
        return Err(messages::sso_failed(reason).into());
    }
    if let Some(error) = &q.error {
        let desc = q.error_description.clone().unwrap_or_default();
        st.record_sso(LastSso::OidcError(LastOidcError {
            error: error.clone(),
            error_description: desc.clone(),
            org_id: org_id.clone(),
            protocol: SsoProtocol::Oidc,
        }));
        if test {
            return Ok(test_result(Err(format!(
                "the IdP answered error={error} {desc}"
            ))));
        }
        return Err(if error == "access_denied" {
            messages::idp_refused(format!(
                "the IdP refused the user: error=access_denied {desc}"
            ))
            .into()
        } else {
            messages::sso_failed(format!("the IdP answered error={error} {desc}")).into()
        });
    }
    let Some(code) = q.code.as_deref() else {
        return Err(messages::sso_failed("the OIDC callback has neither code nor error").into());
    };
    let rp = st.org_rp(&o);
    // Hybrid: the front ID token binds the code (and state, access token) before the code is
    // redeemed; a GET with only a code for a hybrid connection is refused here too.
    if o.flow.hybrid {
        let front = oidc_hybrid::FrontChannel {
            id_token: q.id_token.as_deref(),
            code,
            state: &p.pending.state,
            access_token: q.access_token.as_deref(),
        };
        let checked = oidc_hybrid::check(
            &st.http,
            &o.discovery_url,
            &o.client_id,
            o.flow,
            &front,
            &p.pending.nonce,
            st.now(),
        )
        .await;
        if let Err(reason) = checked {
            if let Some(jwt) = &q.id_token {
                st.record_sso(oidc_evidence(&org_id, jwt, Some(&reason)));
            }
            if test {
                return Ok(test_result(Err(reason)));
            }
            return Err(messages::sso_failed(reason).into());
        }
    }
    let mut raw = None;
    let claims = oidc::finish(&st.http, &rp, code, &p.pending, q.iss.as_deref(), &mut raw).await;
    if let Some(jwt) = &raw {
        st.record_sso(oidc_evidence(&org_id, jwt, claims.as_ref().err()));
    }
    let claims = match claims {
        Ok(c) => c,
        Err(reason) if test => return Ok(test_result(Err(reason))),
        Err(reason) => return Err(messages::sso_failed(reason).into()),
    };
    let missing: Vec<&str> = [
        ("email", claims.email.is_none()),
        ("given_name", claims.given_name.is_none()),
        ("family_name", claims.family_name.is_none()),
    ]
    .into_iter()
    .filter_map(|(n, m)| m.then_some(n))
    .collect();
    if test {
        return Ok(test_result(if missing.is_empty() {
            Ok(format!(
                "the IdP signed in {} (sub {}) with the claims sub, email, given_name, family_name",
                claims.email.as_deref().unwrap_or(""),
                claims.sub
            ))
        } else {
            Err(format!(
                "the ID token lacks the required claims: {}",
                missing.join(", ")
            ))
        }));
    }
    let Some(email) = claims.email.clone() else {
        return Err(messages::sso_failed("the ID token has no email claim").into());
    };
    let identity = Identity {
        subject: claims.sub.clone(),
        email,
        given_name: claims.given_name.clone(),
        family_name: claims.family_name.clone(),
    };
    let sid = raw.as_deref().and_then(crate::oidc_logout::sid_of);
    let facts = raw.as_deref().map(|id_token| session::OidcFacts {
        id_token,
        phone: claims.contact.phone.as_deref(),
        address: claims.contact.address.as_deref(),
        sid: sid.as_deref(),
    });
    let tokens = session::OidcTokens {
        refresh_token: claims.refresh_token.clone(),
        iss: claims.iss.clone(),
        sub: claims.sub.clone(),
    };
    finish_sso_login(st, jar, &org_id, &identity, facts.as_ref(), Some(&tokens))
}

/// A connection set to JARM takes only a verified JARM response, and one that is not takes
/// none: the verified JWT's code, error and issuer replace the query's, so the rest of the
/// flow reads them as from a plain response.
async fn jarm_response(
    st: &Shared,
    o: &store::OidcConfig,
    state: &str,
    q: &mut CallbackQuery,
) -> Result<(), String> {
    let Some(response) = q.response.take() else {
        return match &o.response_mode {
            Some(mode) => Err(format!(
                "this connection asks for a {mode} (JARM) response, and the callback has no response JWT"
            )),
            None => Ok(()),
        };
    };
    if o.response_mode.is_none() {
        return Err("the callback carries a JARM response this connection did not ask for".into());
    }
    let answer = oidc_jarm::verify(
        &st.http,
        &o.discovery_url,
        &o.client_id,
        state,
        &response,
        st.now(),
    )
    .await?;
    // Nothing from the query is kept: only the verified JWT speaks.
    *q = CallbackQuery {
        code: None,
        state: Some(state.to_string()),
        iss: None,
        response: None,
        error: None,
        error_description: None,
        id_token: None,
        access_token: None,
    };
    match answer {
        oidc_jarm::Answer::Code { iss, code } => {
            q.code = Some(code);
            q.iss = Some(iss);
        }
        oidc_jarm::Answer::Error { error, description } => {
            q.error = Some(error);
            q.error_description = description;
        }
    }
    Ok(())
}

pub async fn social_callback(
    State(st): State<Shared>,
    jar: CookieJar,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, AppError> {
    let Some(social) = st.social.clone() else {
        return Err(AppError::page(
            StatusCode::NOT_FOUND,
            "Social sign-in is not configured on this server.",
        ));
    };
    let Some(state) = q.state.as_deref() else {
        return Err(messages::sso_failed("the callback has no state parameter").into());
    };
    if !started_here(&jar, state) {
        return Err(AppError::page(
            StatusCode::BAD_REQUEST,
            "Google sign-in failed: the state was not issued to this browser",
        ));
    }
    let Some(p) = take_pending(&st, state)?.filter(|p| p.kind == "social") else {
        return Err(AppError::page(
            StatusCode::BAD_REQUEST,
            "Google sign-in failed: the state is unknown, expired or already used",
        ));
    };
    if let Some(error) = &q.error {
        return Err(AppError::page(
            StatusCode::FORBIDDEN,
            format!("Google sign-in failed: error={error}"),
        ));
    }
    let code = q.code.as_deref().unwrap_or_default();
    let rp = st.social_rp(&social);
    let claims = oidc::finish(&st.http, &rp, code, &p.pending, q.iss.as_deref(), &mut None)
        .await
        .map_err(|r| {
            AppError::page(
                StatusCode::BAD_GATEWAY,
                format!("Google sign-in failed: {r}"),
            )
        })?;
    let Some(email) = claims.email else {
        return Err(AppError::page(
            StatusCode::BAD_GATEWAY,
            "Google sign-in failed: no email claim",
        ));
    };
    let now = st.now();
    let jar = st.db.tx(|tx| -> Result<_, AppError> {
        let user = signin::resolve_social_user(
            tx,
            &email,
            claims.given_name.as_deref(),
            claims.family_name.as_deref(),
            now,
        )?;
        session::create(tx, jar, user.id, Method::Social, None, false, now)
    })?;
    Ok((jar, Redirect::to("/home")).into_response())
}

/// The ID token's header and claims (not its signature) and why it was refused, if it was.
fn oidc_evidence(org_id: &str, jwt: &str, refused: Option<&String>) -> LastSso {
    let part = |i: usize| -> serde_json::Value {
        jwt.split('.')
            .nth(i)
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .ok()
            })
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(serde_json::Value::Null)
    };
    LastSso::IdToken(LastIdToken {
        id_token_claims: part(1),
        id_token_header: part(0),
        org_id: org_id.to_string(),
        protocol: SsoProtocol::Oidc,
        refused: refused.cloned(),
    })
}
