//! The token endpoint: client authentication (client_secret_basic or client_secret_post),
//! the single-use code, PKCE, and the ID token.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::fault::Fault;
use crate::http::params;
use crate::secret::REDACTED;
use crate::state::AppState;
use crate::tenant;

use super::claims::{self, Context, Person};
use super::error::OidcError;
use super::grant::{
    ClientAuth, Facts, Issued, Signing, TokenResponse, authenticate, deliverable, encryption_of,
    sign_id_token,
};
use super::layout::{Endpoint, Layout, LayoutKind, entra_v1_issuer};
use super::provider::{effective_email, keys, now, record, resolve};
use super::state::{ACCESS_TOKEN_SECONDS, AccessGrant, PkceMethod, RefreshGrant, new_secret};
use super::{faults, forge, jwt};

/// How long the `slow_response` fault holds the token response.
pub const SLOW_SECONDS: u64 = 5;

/// Who the caller says it is: `(client_id, client_secret, method)`.
pub(super) fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(String, String, ClientAuth), OidcError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    match (basic, form.get("client_secret")) {
        (Some(_), Some(_)) => Err(OidcError::invalid_request(
            "use one client authentication method, not both client_secret_basic and client_secret_post",
        )),
        (Some(b64), None) => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| {
                    OidcError::invalid_client(format!("Authorization header is not base64: {e}"))
                })?;
            let text = String::from_utf8(raw)
                .map_err(|_| OidcError::invalid_client("Authorization header is not UTF-8"))?;
            let (id, secret) = text
                .split_once(':')
                .ok_or_else(|| OidcError::invalid_client("Authorization header has no ':'"))?;
            // RFC 6749 2.3.1: both parts are form-urlencoded before base64.
            let decode = |s: &str| -> String {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Ok((decode(id), decode(secret), ClientAuth::Basic))
        }
        (None, Some(secret)) => {
            let id = form
                .get("client_id")
                .ok_or_else(|| OidcError::invalid_client("client_secret without client_id"))?;
            Ok((id.clone(), secret.clone(), ClientAuth::Post))
        }
        (None, None) => Err(OidcError::invalid_client(
            "no client authentication (client_secret_basic or client_secret_post)",
        )),
    }
}

fn pkce_ok(challenge: &str, method: PkceMethod, verifier: &str) -> bool {
    match method {
        PkceMethod::Plain => challenge == verifier,
        PkceMethod::S256 => {
            let digest = Sha256::digest(verifier.as_bytes());
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) == challenge
        }
    }
}

/// A request to the token or PAR endpoint as the exchange log shows it: every secret
/// redacted.
pub(super) fn shown(form: &HashMap<String, String>, auth: Option<ClientAuth>) -> serde_json::Value {
    let redacted: serde_json::Map<String, serde_json::Value> = form
        .iter()
        .map(|(k, v)| {
            let value = match k.as_str() {
                "code" | "client_secret" | "code_verifier" | "refresh_token" => {
                    REDACTED.to_string()
                }
                _ => v.clone(),
            };
            (k.clone(), serde_json::Value::String(value))
        })
        .collect();
    json!({
        "form": redacted,
        "client_auth": auth.map(|a| match a {
            ClientAuth::Basic => "client_secret_basic",
            ClientAuth::Post => "client_secret_post",
        }),
    })
}

pub async fn token(
    State(app): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OidcError> {
    let (shared, layout) = resolve(&app, uri.path(), Endpoint::Token)?;
    let form = params(&body);
    let path = uri.path().to_string();
    let outcome = issue(&app, &shared, &layout, &headers, &form).await;
    // Refreshes are logged as kinds of their own, so what a scenario asks about sign-ins
    // (`token_request`, `id_token`) stays about sign-ins.
    let refresh = form.get("grant_type").map(String::as_str) == Some("refresh_token");
    let (request_kind, token_kind) = if refresh {
        ("refresh_request", "refreshed_id_token")
    } else {
        ("token_request", "id_token")
    };
    let mut t = tenant::lock(&shared);
    match outcome {
        Ok(issued) => {
            let status = issued.answer.status.as_u16();
            let mut decoded = shown(&form, Some(issued.auth));
            // What the query over the log answers: PKCE method and nonce of this sign-in.
            decoded["client_id"] = json!(issued.facts.client_id);
            decoded["pkce"] = json!(issued.facts.pkce);
            decoded["nonce_sent"] = json!(issued.facts.nonce_sent);
            record(
                &mut t,
                request_kind,
                "POST",
                &path,
                status,
                decoded,
                &issued.faults,
            );
            if let Some(id_token) = &issued.id_token {
                let mut shown = jwt::decode_for_record(id_token);
                if let Some(forge) = &issued.forge {
                    shown["forge"] = json!(forge);
                }
                if let Some(text) = &issued.payload_text {
                    shown["payload_text"] = json!(text);
                }
                if let Some(header) = &issued.jwe {
                    shown["jwe"] = header.clone();
                    // A kind of its own, so a scenario can ask whether the token really
                    // went out encrypted (`idp_saw: [encrypted_id_token]`).
                    record(
                        &mut t,
                        "encrypted_id_token",
                        "POST",
                        &path,
                        status,
                        json!({ "jwe": header }),
                        &issued.faults,
                    );
                }
                record(
                    &mut t,
                    token_kind,
                    "POST",
                    &path,
                    status,
                    shown,
                    &issued.faults,
                );
            }
            drop(t);
            let mut r = (issued.answer.status, issued.answer.body).into_response();
            let headers = r.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(issued.answer.content_type),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(r)
        }
        Err((e, active)) => {
            let status = match &e {
                OidcError::OAuth { status, .. } => status.as_u16(),
                _ => 500,
            };
            let mut decoded = shown(&form, None);
            decoded["error"] = json!(e.to_string());
            record(
                &mut t,
                request_kind,
                "POST",
                &path,
                status,
                decoded,
                &active,
            );
            Err(e)
        }
    }
}

async fn issue(
    app: &AppState,
    shared: &std::sync::Mutex<tenant::Tenant>,
    layout: &Layout,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Issued, (OidcError, Vec<Fault>)> {
    let no_faults = |e: OidcError| (e, Vec::new());
    let (client_id, secret, auth) = client_credentials(headers, form).map_err(no_faults)?;
    if form.get("grant_type").map(String::as_str) == Some("refresh_token") {
        return super::refresh::issue(app, shared, layout, (client_id, secret, auth), form).await;
    }
    // Everything under the lock is checked and copied out; signing happens after it is
    // released so parallel sign-ins do not queue on one tenant.
    let (grant, user, keys, now, rotated, client_secret, forge_keys, encryption) = {
        let mut t = tenant::lock(shared);
        let client_secret = authenticate(&t, &client_id, &secret).map_err(no_faults)?;
        let encryption = encryption_of(&t, &client_id);
        match form.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {}
            other => {
                return Err(no_faults(OidcError::oauth(
                    StatusCode::BAD_REQUEST,
                    "unsupported_grant_type",
                    format!(
                        "grant_type {other:?} is not supported; use authorization_code or refresh_token"
                    ),
                )));
            }
        }
        let code = form
            .get("code")
            .ok_or_else(|| no_faults(OidcError::invalid_request("code is missing")))?;
        let grant = t.oidc.codes.take(code).ok_or_else(|| {
            no_faults(OidcError::invalid_grant(
                "the code is unknown or was already used",
            ))
        })?;
        if forge::allows_code_reuse(grant.forge.as_deref()) {
            // The forge lets the RP redeem it again: an RP must not, and the log shows it.
            t.oidc
                .codes
                .insert(&crate::secret::Secret::new(code.clone()), grant.clone());
        }
        let active = grant.faults.clone();
        let fail = |e: OidcError| (e, active.clone());
        let now = now(&t);
        if grant.request.client_id != client_id {
            return Err(fail(OidcError::invalid_grant(
                "the code was issued to another client",
            )));
        }
        if now >= grant.expires_at {
            return Err(fail(OidcError::invalid_grant("the code has expired")));
        }
        if form.get("redirect_uri") != Some(&grant.request.redirect_uri) {
            return Err(fail(OidcError::invalid_grant(
                "redirect_uri differs from the one of the authorization request",
            )));
        }
        match (&grant.request.code_challenge, form.get("code_verifier")) {
            (None, None) => {}
            (None, Some(_)) => {
                return Err(fail(OidcError::invalid_grant(
                    "code_verifier sent but the authorization request had no code_challenge",
                )));
            }
            (Some(_), None) => {
                return Err(fail(OidcError::invalid_grant("code_verifier is missing")));
            }
            (Some((challenge, method)), Some(verifier)) => {
                if !pkce_ok(challenge, *method, verifier) {
                    return Err(fail(OidcError::invalid_grant("PKCE verification failed")));
                }
            }
        }
        if active.contains(&Fault::TokenInvalidGrant) {
            return Err(fail(OidcError::invalid_grant(
                "the grant is invalid (fault token_invalid_grant)",
            )));
        }
        let user = t.user_by_uid(&grant.user_uid).cloned().ok_or_else(|| {
            fail(OidcError::invalid_grant(
                "the user of this code no longer exists",
            ))
        })?;
        let keys = keys(&mut t).map_err(fail)?;
        // A standing `key_rotation` moves OIDC to the next key too; the JWKS always lists
        // both, so an RP that follows the JWKS keeps verifying.
        let rotated = t.faults.contains(&Fault::KeyRotation);
        let forge_keys = match forge::effective(grant.forge.as_deref(), &grant.faults) {
            Some(_) => Some(forge::keys_locked(&mut t).map_err(fail)?),
            None => None,
        };
        (
            grant,
            user,
            keys,
            now,
            rotated,
            client_secret,
            forge_keys,
            encryption,
        )
    };
    let active = grant.faults.clone();
    let fail = |e: OidcError| (e, active.clone());
    if active.contains(&Fault::SlowResponse) {
        tokio::time::sleep(Duration::from_secs(SLOW_SECONDS)).await;
    }
    let issuer = Layout::url(app.base(), &layout.issuer);
    let tenant_id = layout
        .issuer
        .strip_prefix("/t/")
        .and_then(|r| r.split('/').next())
        .unwrap_or_default()
        .to_string();
    let v1 = (layout.kind == LayoutKind::Entra).then(|| entra_v1_issuer(&tenant_id));
    let email = effective_email(&user.user.email, &active);
    let extra = claims::released(&user.user.claims, &grant.request.scopes);
    let person = Person {
        sub: &user.uid,
        email: &email,
        given_name: &user.user.given_name,
        family_name: &user.user.family_name,
        groups: &user.user.groups,
        extra: &extra,
    };
    let ctx = Context {
        issuer: &issuer,
        v1_issuer: v1.as_deref(),
        client_id: &client_id,
        nonce: grant.request.nonce.as_deref(),
        now,
        auth_time: grant.auth_time,
    };
    let mut claims = claims::id_token(&person, &ctx, &faults::claim_faults(&active))
        .map_err(|e| fail(e.into()))?;
    if let Some(sid) = &grant.sid {
        claims.insert("sid".into(), json!(sid));
    }
    let key = if rotated { &keys.next } else { &keys.current };
    let facts = Facts {
        client_id: client_id.clone(),
        pkce: grant.request.code_challenge.as_ref().map(|(_, m)| match m {
            PkceMethod::S256 => "S256",
            PkceMethod::Plain => "plain",
        }),
        nonce_sent: grant.request.nonce.is_some(),
    };
    let forged = forge::effective(grant.forge.as_deref(), &active);
    if let Some(answer) = forged.as_ref().and_then(forge::token_error) {
        return Ok(Issued {
            answer,
            auth,
            id_token: None,
            faults: active,
            facts,
            forge: forged,
            payload_text: None,
            jwe: None,
        });
    }
    let access_token = new_secret();
    let code = form.get("code").map(String::as_str);
    let (id_token, payload_text) = sign_id_token(
        forged.as_ref(),
        claims,
        Signing {
            key,
            next: &keys.next,
            forge_keys: forge_keys.as_deref(),
            client_secret: &client_secret,
            base: app.base(),
            tenant: &tenant_id,
            ctx: forge::mutate::Context {
                now,
                client_id: &client_id,
                issuer: &issuer,
                access_token: Some(access_token.expose()),
                code,
            },
            faults: &active,
        },
    )
    .map_err(fail)?;
    let (delivered, jwe) = deliverable(&id_token, encryption.as_ref(), forged.as_ref())
        .await
        .map_err(fail)?;
    let refresh_token = new_secret();
    {
        let mut t = tenant::lock(shared);
        if let Some(sid) = &grant.sid {
            t.oidc
                .sids
                .insert((client_id.clone(), user.uid.clone()), sid.clone());
        }
        t.oidc.access_tokens.insert(
            &access_token,
            AccessGrant {
                client_id: client_id.clone(),
                user_uid: user.uid.clone(),
                expires_at: now.saturating_add(ACCESS_TOKEN_SECONDS),
                faults: active.clone(),
                forge: grant.forge.clone(),
                scopes: grant.request.scopes.clone(),
                refreshed: false,
            },
        );
        t.oidc.refresh_tokens.insert(
            &refresh_token,
            RefreshGrant {
                client_id: client_id.clone(),
                user_uid: user.uid.clone(),
                scopes: grant.request.scopes.clone(),
                auth_time: grant.auth_time,
                faults: active.clone(),
                forge: grant.forge.clone(),
            },
        );
    }
    let response = TokenResponse {
        access_token: access_token.expose().to_string(),
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_SECONDS,
        id_token: delivered,
        scope: grant.request.scopes.join(" "),
        refresh_token: Some(refresh_token.expose().to_string()),
    };
    let answer = match &forged {
        None => forge::Answer {
            status: StatusCode::OK,
            body: serde_json::to_string(&response).map_err(|e| fail(e.into()))?,
            content_type: "application/json",
        },
        Some(spec) => {
            let map = match serde_json::to_value(&response).map_err(|e| fail(e.into()))? {
                serde_json::Value::Object(m) => m,
                _ => serde_json::Map::new(),
            };
            let ctx = forge::mutate::Context {
                now,
                client_id: &client_id,
                issuer: &issuer,
                access_token: Some(access_token.expose()),
                code,
            };
            forge::token_response(spec, map, &ctx).map_err(fail)?
        }
    };
    Ok(Issued {
        answer,
        auth,
        id_token: Some(id_token),
        faults: active,
        facts,
        forge: forged,
        payload_text,
        jwe,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc7636_example() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_ok(challenge, PkceMethod::S256, verifier));
        assert!(!pkce_ok(challenge, PkceMethod::S256, "other"));
        assert!(pkce_ok("abc", PkceMethod::Plain, "abc"));
        assert!(!pkce_ok("abc", PkceMethod::Plain, "abd"));
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut h = HeaderMap::new();
        let b64 = base64::engine::general_purpose::STANDARD.encode("my%3Aclient:s%2Bcret");
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {b64}").parse().unwrap(),
        );
        let (id, secret, how) = client_credentials(&h, &HashMap::new()).unwrap();
        assert_eq!(
            (id.as_str(), secret.as_str(), how),
            ("my:client", "s+cret", ClientAuth::Basic)
        );
        let mut form = HashMap::new();
        form.insert("client_secret".to_string(), "x".to_string());
        assert!(
            client_credentials(&h, &form).is_err(),
            "both methods at once"
        );
        form.insert("client_id".to_string(), "c".to_string());
        let (_, _, how) = client_credentials(&HeaderMap::new(), &form).unwrap();
        assert_eq!(how, ClientAuth::Post);
    }

    #[test]
    fn logged_token_requests_hide_secrets() {
        let mut form = HashMap::new();
        form.insert("code".to_string(), "code-canary".to_string());
        form.insert("client_secret".to_string(), "secret-canary".to_string());
        form.insert("code_verifier".to_string(), "verifier-canary".to_string());
        form.insert("grant_type".to_string(), "authorization_code".to_string());
        let text = shown(&form, Some(ClientAuth::Post)).to_string();
        assert!(!text.contains("canary"), "{text}");
        assert!(text.contains("authorization_code"));
    }
}
