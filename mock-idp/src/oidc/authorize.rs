//! The authorization endpoint and the login form behind it.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

use crate::fault::Fault;
use crate::http::params;
use crate::pages;
use crate::secret::REDACTED;
use crate::session::{self, session_user};
use crate::state::AppState;
use crate::tenant::{self, OidcClient, Tenant};

use super::claims::{Context, Person};
use super::error::OidcError;
use super::faults;
use super::hybrid;
use super::hybrid::{ResponseMode, ResponseType};
use super::layout::{Endpoint, Layout};
use super::layout::{LayoutKind, entra_v1_issuer};
use super::provider::{now, record, resolve};
use super::state::{AccessGrant, AuthRequest, CODE_SECONDS, CodeGrant, PkceMethod, new_secret};
use proto::oidc_forge::ForgeSpec;

/// Where an error goes once the redirect URI is known to be registered (RFC 6749 4.1.2.1).
fn error_redirect(
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Response {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(u) => u,
        Err(e) => {
            return OidcError::page(
                StatusCode::BAD_REQUEST,
                "redirect-uri-mismatch",
                format!("the redirect URI is not a URL: {e}"),
            )
            .into_response();
        }
    };
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("error", error);
        q.append_pair("error_description", description);
        if let Some(s) = state {
            q.append_pair("state", s);
        }
    }
    Redirect::to(url.as_str()).into_response()
}

/// Checks what can be checked before the redirect URI is trusted; failures are pages, never
/// redirects (authentik's strict redirect URI matching behaves the same way).
pub(super) fn client_and_redirect<'a>(
    t: &'a Tenant,
    p: &HashMap<String, String>,
) -> Result<(&'a OidcClient, String), OidcError> {
    let client_id = p.get("client_id").ok_or_else(|| {
        OidcError::page(
            StatusCode::BAD_REQUEST,
            "unknown-client",
            "client_id is missing",
        )
    })?;
    let client = t
        .oidc_clients
        .iter()
        .find(|c| &c.client_id == client_id)
        .ok_or_else(|| {
            OidcError::page(
                StatusCode::BAD_REQUEST,
                "unknown-client",
                format!("no client '{client_id}' is registered at this provider"),
            )
        })?;
    let redirect_uri = p.get("redirect_uri").ok_or_else(|| {
        OidcError::page(
            StatusCode::BAD_REQUEST,
            "redirect-uri-mismatch",
            "redirect_uri is missing",
        )
    })?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(OidcError::page(
            StatusCode::BAD_REQUEST,
            "redirect-uri-mismatch",
            format!(
                "Redirect URI Error: '{redirect_uri}' is not a registered redirect URI of client \
                 '{client_id}' (matching is strict: scheme, host, port, path and query must be equal)"
            ),
        ));
    }
    Ok((client, redirect_uri.clone()))
}

/// The rest of the request, answered by redirect when it is wrong.
pub(super) fn auth_request(
    client: &OidcClient,
    redirect_uri: String,
    p: &HashMap<String, String>,
) -> Result<AuthRequest, (&'static str, String)> {
    let response_type = p.get("response_type").map(String::as_str).unwrap_or("");
    let response_type =
        ResponseType::parse(response_type).map_err(|e| ("unsupported_response_type", e))?;
    let jarm = p
        .get("response_mode")
        .and_then(|m| super::state::JarmMode::parse(m));
    // JARM is served for the code flow only; its JWT replaces the plain query answer.
    let response_mode = match jarm {
        Some(_) if response_type.is_hybrid() => {
            return Err((
                "invalid_request",
                "a JARM response mode is served for response_type code only".into(),
            ));
        }
        Some(_) => ResponseMode::Query,
        None => ResponseMode::parse(p.get("response_mode").map(String::as_str), response_type)
            .map_err(|e| ("invalid_request", e))?,
    };
    // OIDC Core 3.3.2.11: an ID token from the authorization endpoint needs a nonce.
    if response_type.id_token && p.get("nonce").is_none_or(|n| n.is_empty()) {
        return Err((
            "invalid_request",
            "nonce is required when the response type includes id_token".into(),
        ));
    }
    let scopes: Vec<String> = p
        .get("scope")
        .map(|s| {
            s.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(("invalid_scope", "scope must include 'openid'".into()));
    }
    if let Some(extra) = scopes.iter().find(|s| !client.scopes.contains(s)) {
        return Err((
            "invalid_scope",
            format!("scope '{extra}' is not allowed for this client"),
        ));
    }
    let code_challenge = match (p.get("code_challenge"), p.get("code_challenge_method")) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err((
                "invalid_request",
                "code_challenge_method without code_challenge".into(),
            ));
        }
        (Some(c), method) => {
            let method = match method.map(String::as_str) {
                Some("S256") => PkceMethod::S256,
                // RFC 7636 4.3: plain is the default.
                Some("plain") | None => PkceMethod::Plain,
                Some(other) => {
                    return Err((
                        "invalid_request",
                        format!("code_challenge_method '{other}' is not supported"),
                    ));
                }
            };
            Some((c.clone(), method))
        }
    };
    Ok(AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        scopes,
        state: p.get("state").cloned(),
        nonce: p.get("nonce").cloned(),
        code_challenge,
        // A `*.jwt` response mode wraps the code flow's answer in one signed JWT.
        jarm,
        response_type,
        response_mode,
    })
}

pub async fn authorize(
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, OidcError> {
    let (shared, _) = resolve(&app, uri.path(), Endpoint::Authorize)?;
    let loose = params(query.unwrap_or_default().as_bytes());
    // A request passed by reference (request object, request_uri, PAR) stands for the
    // parameters it carries; what came loose is logged beside them.
    let (p, by_reference) =
        match super::request_object::resolve(&shared, app.base(), loose.clone()).await {
            Ok(r) => (r.params, r.shown),
            Err(f) => return Ok(refuse_by_reference(&shared, &loose, f, uri.path())),
        };
    let mut t = tenant::lock(&shared);
    if let Some(m) = t.oidc.forge.provider.mix_up.clone() {
        return Ok(mix_up(&mut t, &m, &p, uri.path()));
    }
    let checked = client_and_redirect(&t, &p).map(|(client, redirect)| {
        let request = auth_request(client, redirect.clone(), &p);
        (redirect, request)
    });
    let (redirect_uri, request) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            record(
                &mut t,
                "authorization_request",
                "GET",
                uri.path(),
                StatusCode::BAD_REQUEST.as_u16(),
                with_reference(
                    json!({ "params": p, "error": e.to_string() }),
                    &by_reference,
                ),
                &[],
            );
            return Err(e);
        }
    };
    let state = p.get("state").cloned();
    let request = match request {
        Ok(r) => r,
        Err((error, description)) => {
            record(
                &mut t,
                "authorization_request",
                "GET",
                uri.path(),
                StatusCode::SEE_OTHER.as_u16(),
                with_reference(
                    json!({ "params": p, "error": error, "error_description": description }),
                    &by_reference,
                ),
                &[],
            );
            return Ok(error_redirect(
                &redirect_uri,
                error,
                &description,
                state.as_deref(),
            ));
        }
    };
    record(
        &mut t,
        "authorization_request",
        "GET",
        uri.path(),
        StatusCode::OK.as_u16(),
        with_reference(json!({ "params": p }), &by_reference),
        &[],
    );
    // OIDC Core 3.1.2.1: `prompt=login` asks for a fresh login even with a session,
    // `prompt=none` forbids showing any page.
    let prompts: Vec<&str> = p
        .get("prompt")
        .map(|v| v.split(' ').collect())
        .unwrap_or_default();
    let session = if prompts.contains(&"login") {
        None
    } else {
        session_user(&t, &headers).and_then(|_| session::session_of(&t, &headers))
    };
    if let Some((cookie, uid)) = session {
        return Ok(complete(
            &mut t,
            request,
            &uid,
            &cookie,
            uri.path(),
            app.base(),
        ));
    }
    if prompts.contains(&"none") {
        return Ok(error_redirect(
            &request.redirect_uri,
            "login_required",
            "prompt=none but the user is not signed in",
            request.state.as_deref(),
        ));
    }
    let flow = new_secret();
    t.oidc.pending.insert(&flow, request);
    let action = Layout::url(app.base(), &format!("/t/{}/oidc/login", t.id));
    Ok(pages::login(
        &t.id,
        &action,
        &[("flow", flow.expose())],
        None,
    ))
}

/// An authorization request's record with how it was passed by reference, if it was.
fn with_reference(
    mut decoded: serde_json::Value,
    by_reference: &Option<serde_json::Value>,
) -> serde_json::Value {
    if let Some(r) = by_reference {
        decoded["request_object"] = r.clone();
    }
    decoded
}

/// A request passed by reference that the OP refuses: logged, then answered at the redirect
/// URI when the loose client_id and redirect_uri are a registered pair (OpenID Connect Core
/// 6.4: invalid_request_uri, invalid_request_object), else as a page.
fn refuse_by_reference(
    shared: &std::sync::Mutex<Tenant>,
    loose: &HashMap<String, String>,
    f: super::request_object::Failure,
    path: &str,
) -> Response {
    let mut t = tenant::lock(shared);
    let mut decoded = json!({
        "params": loose,
        "error": f.error,
        "error_description": f.description,
    });
    if let Some(s) = f.shown {
        decoded["request_object"] = s;
    }
    let redirect = client_and_redirect(&t, loose).map(|(_, r)| r).ok();
    let status = if redirect.is_some() {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::BAD_REQUEST
    };
    record(
        &mut t,
        "authorization_request",
        "GET",
        path,
        status.as_u16(),
        decoded,
        &[],
    );
    match redirect {
        Some(r) => error_redirect(
            &r,
            f.error,
            &f.description,
            loose.get("state").map(String::as_str),
        ),
        None => OidcError::page(
            StatusCode::BAD_REQUEST,
            "invalid-request-object",
            format!("{}: {}", f.error, f.description),
        )
        .into_response(),
    }
}

/// The mix-up attacker's authorization endpoint: the RP's request, client_id swapped for the
/// one the RP has at the honest OP, goes on to the honest OP. Whatever code that OP issues
/// comes back to the RP's redirect URI under the state the RP gave this OP.
fn mix_up(
    t: &mut Tenant,
    m: &proto::oidc_forge::MixUp,
    p: &HashMap<String, String>,
    path: &str,
) -> Response {
    let Ok(mut to) = url::Url::parse(&m.authorization_endpoint) else {
        return OidcError::Internal("mix_up endpoint does not parse".into()).into_response();
    };
    {
        let mut q = to.query_pairs_mut();
        let mut names: Vec<&String> = p.keys().collect();
        names.sort();
        for k in names {
            let v = if k == "client_id" {
                &m.client_id
            } else {
                &p[k]
            };
            q.append_pair(k, v);
        }
    }
    record(
        t,
        "authorization_request",
        "GET",
        path,
        StatusCode::FOUND.as_u16(),
        json!({ "params": p, "mix_up": to.as_str() }),
        &[],
    );
    Redirect::to(to.as_str()).into_response()
}

/// Sends the signed-in user back to the client: with a code, or with `access_denied` when the
/// client's `allowed_groups` do not include them.
/// `op_session` is the browser's session cookie at the OP (its public `sid` goes into the ID
/// token of a client with a front-channel logout URI).
fn complete(
    t: &mut Tenant,
    request: AuthRequest,
    uid: &str,
    op_session: &str,
    path: &str,
    base: &str,
) -> Response {
    let active = faults::take(t, faults::for_sign_in);
    let forge = super::forge::take_for_sign_in(t, &request.client_id);
    let Some(user) = t.user_by_uid(uid).map(|u| u.user.clone()) else {
        return OidcError::page(
            StatusCode::BAD_REQUEST,
            "unknown-user",
            "the signed-in user no longer exists",
        )
        .into_response();
    };
    if active.contains(&Fault::UserNotAssigned) {
        record(
            t,
            "authorization_response",
            "GET",
            path,
            StatusCode::FORBIDDEN.as_u16(),
            json!({ "user": user.email, "error": "user not assigned (fault)" }),
            &active,
        );
        return pages::access_denied(&user.email);
    }
    let allowed = t
        .oidc_clients
        .iter()
        .find(|c| c.client_id == request.client_id)
        .map(|c| c.allowed_groups.clone())
        .unwrap_or_default();
    if !allowed.is_empty() && !user.groups.iter().any(|g| allowed.contains(g)) {
        let description = format!(
            "{} is in none of the groups allowed for this application",
            user.email
        );
        record(
            t,
            "authorization_response",
            "GET",
            path,
            StatusCode::SEE_OTHER.as_u16(),
            json!({ "user": user.email, "error": "access_denied", "error_description": description }),
            &active,
        );
        return error_redirect(
            &request.redirect_uri,
            "access_denied",
            &description,
            request.state.as_deref(),
        );
    }
    if let Some(e) = forge
        .as_deref()
        .and_then(|f| f.authorization_error.as_ref())
    {
        let description = e.error_description.clone().unwrap_or_default();
        record(
            t,
            "authorization_response",
            "GET",
            path,
            StatusCode::SEE_OTHER.as_u16(),
            json!({ "user": user.email, "error": e.error, "error_description": description, "forge": forge.as_deref() }),
            &active,
        );
        return error_redirect(
            &request.redirect_uri,
            &e.error,
            &description,
            request.state.as_deref(),
        );
    }
    let state = if active.contains(&Fault::StateMissing) {
        None
    } else if active.contains(&Fault::StateMismatch) {
        Some(format!(
            "{}-not-yours",
            request.state.as_deref().unwrap_or("state")
        ))
    } else {
        request.state.clone()
    };
    let held = active.contains(&Fault::AuthorizationResponseHeld);
    let code = new_secret();
    let now = now(t);
    let issuer = Layout::url(base, &super::provider::layout_of(t).issuer);
    let iss = super::forge::iss_param(forge.as_deref(), &issuer);
    // JARM: code, state and the issuer travel inside one signed JWT instead.
    let jarm = match request.jarm {
        Some(mode) => {
            let inputs = super::jarm::Inputs {
                forge: forge.as_deref(),
                issuer: &issuer,
                client_id: &request.client_id,
                code: code.expose(),
                state: state.as_deref(),
                base,
                now,
            };
            match super::jarm::response(t, &inputs) {
                Ok(made) => Some((mode, made)),
                Err(e) => return e.into_response(),
            }
        }
        None => None,
    };
    let rt = request.response_type;
    let mut params: Vec<(&str, String)> = vec![("code", code.expose().to_string())];
    // The hybrid flow's front channel: an access token and an ID token beside the code.
    let access_token = rt.token.then(new_secret);
    if let Some(at) = &access_token {
        params.push(("access_token", at.expose().to_string()));
        params.push(("token_type", "Bearer".into()));
        params.push(("expires_in", super::state::ACCESS_TOKEN_SECONDS.to_string()));
        t.oidc.access_tokens.insert(
            at,
            AccessGrant {
                client_id: request.client_id.clone(),
                scopes: request.scopes.clone(),
                // A front-channel token of the hybrid flow, not one a refresh gave.
                refreshed: false,
                user_uid: uid.to_string(),
                expires_at: now.saturating_add(super::state::ACCESS_TOKEN_SECONDS),
                faults: active.clone(),
                forge: forge.clone(),
            },
        );
    }
    let mut front = None;
    if rt.id_token {
        let made = front_id_token(
            t,
            &request,
            uid,
            &issuer,
            now,
            &active,
            forge.as_deref(),
            code.expose(),
            state.as_deref(),
            access_token.as_ref().map(|a| a.expose()),
        );
        match made {
            Ok((token, claims)) => {
                params.push(("id_token", token));
                front = Some(claims);
            }
            Err(e) => return e.into_response(),
        }
    }
    if let Some(s) = &state {
        params.push(("state", s.clone()));
    }
    // RFC 9207, only when a forge asks (the provider does not advertise it by default).
    if let Some(i) = &iss {
        params.push(("iss", i.clone()));
    }
    record(
        t,
        "authorization_response",
        "GET",
        path,
        StatusCode::SEE_OTHER.as_u16(),
        json!({
            "user": user.email,
            "redirect_uri": request.redirect_uri,
            "code": REDACTED,
            "state": state,
            "iss": if jarm.is_some() { None } else { iss.clone() },
            "response_mode": jarm
                .as_ref()
                .map_or(request.response_mode.name(), |(m, _)| m.as_str()),
            "jarm": jarm.as_ref().map(|(_, j)| j.record.clone()),
            "forge": forge.as_deref(),
            "response_type": request.response_type.name(),
            "access_token": access_token.as_ref().map(|_| REDACTED),
            "front_id_token_claims": front,
        }),
        &active,
    );
    let sid = t
        .oidc_clients
        .iter()
        .find(|c| c.client_id == request.client_id)
        .and_then(|c| c.frontchannel_logout_uri.as_ref())
        .map(|_| session::public_sid(op_session));
    let (request_redirect, response_mode) = (request.redirect_uri.clone(), request.response_mode);
    t.oidc.codes.insert(
        &code,
        CodeGrant {
            sid,
            request,
            user_uid: uid.to_string(),
            auth_time: now,
            expires_at: now.saturating_add(CODE_SECONDS),
            faults: active,
            forge,
        },
    );
    let redirect = match url::Url::parse(&request_redirect) {
        Ok(u) => u,
        Err(e) => {
            return OidcError::Internal(format!("registered redirect URI does not parse: {e}"))
                .into_response();
        }
    };
    // A held response (fault authorization_response_held) is shown as a link for the harness
    // to carry; a form_post response (plain or JARM) is no link, so it is delivered as usual.
    if held {
        let link = match &jarm {
            Some((mode, j)) => super::jarm::link(*mode, redirect.clone(), &j.token),
            None => hybrid::link(redirect.clone(), response_mode, &params),
        };
        if let Some(link) = link {
            return pages::held_response(link.as_str());
        }
    }
    match jarm {
        Some((mode, j)) => super::jarm::deliver(mode, redirect, &j.token),
        None => hybrid::deliver(&request_redirect, response_mode, &params)
            .unwrap_or_else(IntoResponse::into_response),
    }
}

/// The ID token of a hybrid authorization response, signed with the key the token endpoint
/// would use, and its claims as signed.
#[allow(clippy::too_many_arguments)]
fn front_id_token(
    t: &mut Tenant,
    request: &AuthRequest,
    uid: &str,
    issuer: &str,
    now: i64,
    active: &[Fault],
    forge: Option<&ForgeSpec>,
    code: &str,
    state: Option<&str>,
    access_token: Option<&str>,
) -> Result<(String, serde_json::Value), OidcError> {
    let keys = super::provider::keys(t)?;
    let key = if t.faults.contains(&Fault::KeyRotation) {
        &keys.next
    } else {
        &keys.current
    };
    let record = t
        .user_by_uid(uid)
        .cloned()
        .ok_or_else(|| OidcError::Internal("the signed-in user no longer exists".into()))?;
    let email = super::provider::effective_email(&record.user.email, active);
    let person = Person {
        sub: &record.uid,
        email: &email,
        given_name: &record.user.given_name,
        family_name: &record.user.family_name,
        groups: &record.user.groups,
        extra: &record.user.claims,
    };
    let layout = super::provider::layout_of(t);
    let v1 = (layout.kind == LayoutKind::Entra).then(|| entra_v1_issuer(&t.id));
    let ctx = Context {
        issuer,
        v1_issuer: v1.as_deref(),
        client_id: &request.client_id,
        nonce: request.nonce.as_deref(),
        now,
        auth_time: now,
    };
    let claims = super::claims::id_token(&person, &ctx, &faults::claim_faults(active))
        .map_err(|e| OidcError::Internal(e.to_string()))?;
    hybrid::front_id_token(hybrid::Front {
        key,
        claims,
        code,
        state,
        access_token,
        ops: forge.map(|f| f.front_claims.as_slice()).unwrap_or_default(),
        ctx: super::forge::mutate::Context {
            now,
            client_id: &request.client_id,
            issuer,
            access_token,
            code: Some(code),
        },
    })
}

/// `POST /t/{id}/oidc/login`: checks the password, starts a session, finishes the flow.
pub async fn login(
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> Result<Response, OidcError> {
    let id = uri
        .path()
        .strip_prefix("/t/")
        .and_then(|r| r.split('/').next())
        .ok_or(OidcError::NotFound)?;
    let shared = app.tenants.get(id)?;
    let form = params(&body);
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let (flow, username, password) = (field("flow"), field("username"), field("password"));
    let mut t = tenant::lock(&shared);
    if t.oidc.pending.get(flow).is_none() {
        return Err(OidcError::page(
            StatusCode::BAD_REQUEST,
            "unknown-flow",
            "this sign-in has expired or was already used; start again from the application",
        ));
    }
    let Some(uid) = t.authenticate(username, password).map(|u| u.uid.clone()) else {
        record(
            &mut t,
            "login",
            "POST",
            uri.path(),
            StatusCode::OK.as_u16(),
            json!({ "username": username, "password": REDACTED, "result": "wrong username or password" }),
            &[],
        );
        let action = Layout::url(app.base(), uri.path());
        return Ok(pages::login(
            &t.id,
            &action,
            &[("flow", flow)],
            Some("Invalid username or password"),
        ));
    };
    let Some(request) = t.oidc.pending.take(flow) else {
        return Err(OidcError::NotFound);
    };
    record(
        &mut t,
        "login",
        "POST",
        uri.path(),
        StatusCode::SEE_OTHER.as_u16(),
        json!({ "username": username, "password": REDACTED, "result": "signed in" }),
        &[],
    );
    let session = new_secret();
    t.sessions.insert(session.expose().to_string(), uid.clone());
    let cookie = session::set_cookie(&t.id, session.expose());
    let mut response = complete(
        &mut t,
        request,
        &uid,
        session.expose(),
        uri.path(),
        app.base(),
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> OidcClient {
        serde_json::from_value(json!({
            "client_id": "c1", "client_secret": "s", "redirect_uris": ["http://rp/cb"]
        }))
        .unwrap()
    }

    fn p(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn request_checks_response_type_scope_and_pkce() {
        let c = client();
        let base = [("response_type", "code"), ("scope", "openid email")];
        let ok = auth_request(&c, "http://rp/cb".into(), &p(&base)).unwrap();
        assert_eq!(ok.scopes, vec!["openid", "email"]);
        assert!(ok.code_challenge.is_none());
        let e = auth_request(
            &c,
            "x".into(),
            &p(&[("response_type", "token"), ("scope", "openid")]),
        );
        assert_eq!(e.unwrap_err().0, "unsupported_response_type");
        let e = auth_request(
            &c,
            "x".into(),
            &p(&[("response_type", "code"), ("scope", "email")]),
        );
        assert_eq!(e.unwrap_err().0, "invalid_scope");
        let e = auth_request(
            &c,
            "x".into(),
            &p(&[("response_type", "code"), ("scope", "openid admin")]),
        );
        assert_eq!(e.unwrap_err().0, "invalid_scope");
        let mut q = base.to_vec();
        q.push(("code_challenge", "abc"));
        let plain = auth_request(&c, "x".into(), &p(&q)).unwrap();
        assert_eq!(plain.code_challenge.unwrap().1, PkceMethod::Plain);
        q.push(("code_challenge_method", "S512"));
        assert_eq!(
            auth_request(&c, "x".into(), &p(&q)).unwrap_err().0,
            "invalid_request"
        );
    }

    #[test]
    fn error_redirect_keeps_state() {
        let r = error_redirect("http://rp/cb?x=1", "access_denied", "no", Some("s1"));
        let loc = r.headers()[header::LOCATION].to_str().unwrap();
        assert_eq!(
            loc,
            "http://rp/cb?x=1&error=access_denied&error_description=no&state=s1"
        );
    }
}
