//! The forge's control calls (JSON, 400 with the path of a bad field, 404 for an unknown
//! tenant) and the canary URLs an RP fetches when it follows `jku` or `x5u`. The bodies and
//! answers are the wire contract's (`proto::oidc_forge`); the routes are listed in
//! `server.rs`.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::control::{JsonBody, from_json};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::tenant::{self, Tenant};

use proto::idp::RequestsAnswer;
use proto::oidc_forge::{
    AttackerKeys, Canaries, ForgeKeysInfo, ForgeState, LogoutAnswer, PublishedKey, RotateAnswer,
};

use super::keys::{ForgeKeys, PublishedAlg as _};
use super::logout::{self, LogoutRequest};
use super::provider::{self, ProviderSettings, RotateBody};
use super::query::{self, Query};
use super::spec::{Forge as _, ForgeSpec};
use super::{catalogue, default_canaries};

/// Makes the tenant's forge keys if they are not yet: off the async workers and without the
/// tenant lock (RSA keys may have to be generated when the pool is empty).
async fn ensure_keys(shared: &Arc<Mutex<Tenant>>) -> Result<Arc<ForgeKeys>> {
    let tenant_keys = {
        let t = tenant::lock(shared);
        if let Some(k) = &t.oidc.forge.keys {
            return Ok(k.clone());
        }
        t.keys.clone()
    };
    let made = tokio::task::spawn_blocking(move || ForgeKeys::generate(&tenant_keys))
        .await
        .map_err(|e| Error::Config(format!("forge key generation failed: {e}")))?
        .map_err(|e| Error::Config(format!("forge keys: {e}")))?;
    let mut t = tenant::lock(shared);
    Ok(t.oidc.forge.keys.get_or_insert(made).clone())
}

pub async fn get_forge(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ForgeState>> {
    let shared = state.tenants.get(&id)?;
    let t = tenant::lock(&shared);
    let clients = t
        .oidc_clients
        .iter()
        .filter_map(|c| Some((c.client_id.clone(), c.forge.clone()?)))
        .collect();
    Ok(Json(ForgeState {
        standing: t.oidc.forge.standing.as_deref().cloned(),
        next: t.oidc.forge.next.as_deref().cloned(),
        clients,
    }))
}

/// Which forge a control call sets: the standing one, or the next sign-in's.
#[derive(Clone, Copy)]
enum Slot {
    Standing,
    Next,
}

/// Validates a forge, makes the keys it publishes, and puts it in its slot.
async fn install(state: &AppState, id: &str, spec: ForgeSpec, slot: Slot) -> Result<StatusCode> {
    let shared = state.tenants.get(id)?;
    spec.validate("")?;
    ensure_keys(&shared).await?;
    let mut t = tenant::lock(&shared);
    t.oidc.forge.asked.extend(spec.publishes());
    let spec = Some(Arc::new(spec));
    match slot {
        Slot::Standing => t.oidc.forge.standing = spec,
        Slot::Next => t.oidc.forge.next = spec,
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn put_forge(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(spec): JsonBody<ForgeSpec>,
) -> Result<StatusCode> {
    install(&state, &id, spec, Slot::Standing).await
}

pub async fn delete_forge(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let shared = state.tenants.get(&id)?;
    let mut t = tenant::lock(&shared);
    t.oidc.forge.standing = None;
    t.oidc.forge.next = None;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn post_next(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(spec): JsonBody<ForgeSpec>,
) -> Result<StatusCode> {
    install(&state, &id, spec, Slot::Next).await
}

pub async fn get_keys(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ForgeKeysInfo>> {
    let shared = state.tenants.get(&id)?;
    let keys = ensure_keys(&shared).await?;
    let cert = keys
        .attacker_rsa
        .certificate_der()
        .and_then(|der| Ok(openssl::x509::X509::from_der(&der)?.to_pem()?))
        .map_err(|e| Error::Config(e.to_string()))?;
    let jwks = keys
        .attacker_jwks()
        .map_err(|e| Error::Config(e.to_string()))?;
    let t = tenant::lock(&shared);
    let published = super::published(&t)
        .into_iter()
        .map(|p| PublishedKey {
            alg: p.alg().name().to_string(),
            kid: keys.published(p).kid().to_string(),
        })
        .collect();
    let (jku, x5u) = default_canaries(state.base(), &t.id);
    Ok(Json(ForgeKeysInfo {
        attacker: AttackerKeys {
            jwks,
            certificate_pem: String::from_utf8_lossy(&cert).into_owned(),
        },
        published,
        canary: Canaries { jku, x5u },
    }))
}

pub async fn get_provider(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ProviderSettings>> {
    let shared = state.tenants.get(&id)?;
    let settings = tenant::lock(&shared).oidc.forge.provider.clone();
    Ok(Json(settings))
}

pub async fn put_provider(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(settings): JsonBody<ProviderSettings>,
) -> Result<StatusCode> {
    let shared = state.tenants.get(&id)?;
    provider::validate(&settings)?;
    if provider::needs_keys(&settings) {
        ensure_keys(&shared).await?;
    }
    tenant::lock(&shared).oidc.forge.provider = settings;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn post_rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<RotateAnswer>> {
    let shared = state.tenants.get(&id)?;
    // An empty body rotates with the defaults.
    let body: RotateBody = if body.is_empty() {
        RotateBody::default()
    } else {
        from_json(&body)?
    };
    Ok(Json(provider::rotate(&shared, body).await?))
}

pub async fn post_logout(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<LogoutRequest>,
) -> Result<Json<LogoutAnswer>> {
    let shared = state.tenants.get(&id)?;
    ensure_keys(&shared).await?;
    Ok(Json(logout::send(&shared, state.base(), req).await?))
}

pub async fn get_requests(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<RequestsAnswer>> {
    let shared = state.tenants.get(&id)?;
    let q = Query::parse(raw.as_deref().unwrap_or(""))?;
    let t = tenant::lock(&shared);
    Ok(Json(query::answer(&t.exchanges, &q, t.clock.now())))
}

pub async fn get_catalogue() -> Json<Vec<catalogue::VariantInfo>> {
    Json(catalogue::infos())
}

/// Logs a canary fetch: the RP followed a key URL from a token header.
fn record_canary(shared: &Arc<Mutex<Tenant>>, path: &str, query: Option<&str>, doc: &str) {
    let mut t = tenant::lock(shared);
    crate::oidc::provider::record(
        &mut t,
        "canary",
        "GET",
        path,
        StatusCode::OK.as_u16(),
        json!({ "document": doc, "query": query }),
        &[],
    );
}

pub async fn canary_jwks(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    let shared = state.tenants.get(&id)?;
    let keys = ensure_keys(&shared).await?;
    let doc = keys
        .attacker_jwks()
        .map_err(|e| Error::Config(e.to_string()))?;
    record_canary(
        &shared,
        &format!("/t/{id}/forge/attacker-jwks"),
        raw.as_deref(),
        "attacker_jwks",
    );
    Ok(Json(doc).into_response())
}

pub async fn canary_cert(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    let shared = state.tenants.get(&id)?;
    let keys = ensure_keys(&shared).await?;
    let pem = keys
        .attacker_rsa
        .certificate_der()
        .and_then(|der| Ok(openssl::x509::X509::from_der(&der)?.to_pem()?))
        .map_err(|e| Error::Config(e.to_string()))?;
    record_canary(
        &shared,
        &format!("/t/{id}/forge/attacker-cert"),
        raw.as_deref(),
        "attacker_certificate",
    );
    let mut r = pem.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pem-certificate-chain"),
    );
    Ok(r)
}
