//! JSON control API (`/_control/...`): create and shape tenants, publish DNS TXT values,
//! read the exchange log. The bodies are the wire contract's types (`proto::idp`); the table
//! is in mock-idp/README.md; the routes are assembled in `server.rs`. Nothing depends on
//! this module: it depends on the state, the tenants and the DNS store.

use crate::dns;
use crate::error::{Error, Result};
use crate::fault::{self, FaultInfo};
use crate::record::Exchange;
use crate::saml::forge;
use crate::state::AppState;
use crate::tenant::{
    self, App, OidcClient, SpSpec, Tenant, TenantInfo, TenantSpec, User, UserPatch,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use proto::idp::{ClockBody, DnsInfo, FaultsBody, MAX_BODY_BYTES, NextBody, TxtBody};
use serde::de::DeserializeOwned;

/// A JSON body whose errors name the path of the bad field (`users[0].email`).
pub struct JsonBody<T>(pub T);

/// Parses JSON, naming the path of the first bad field on error.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Error::bad_input(path, e.inner().to_string())
    })?;
    de.end()
        .map_err(|e| Error::bad_input(".", format!("trailing data: {e}")))?;
    Ok(value)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            // Over the limit is not malformed input: 413 with the limit, not 400.
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::TooLarge {
                    limit: MAX_BODY_BYTES,
                }
            } else {
                Error::BadRequest(e.to_string())
            }
        })?;
        if bytes.is_empty() {
            return Err(Error::bad_input(".", "expected a JSON body"));
        }
        from_json(&bytes).map(JsonBody)
    }
}

/// Creates a tenant (key generation runs off the async workers) and registers it.
pub async fn create(state: &AppState, spec: TenantSpec) -> Result<TenantInfo> {
    let base = state.base().to_string();
    let tenant = tokio::task::spawn_blocking(move || {
        let tenant = Tenant::from_spec(spec)?;
        // A standing forge is dry-run against the tenant it will shape (`saml.forge`).
        if let Some(f) = &tenant.saml.forge {
            forge::check(&tenant, f, &base, "saml.forge")?;
        }
        Ok::<_, Error>(tenant)
    })
    .await
    .map_err(|e| Error::Config(format!("tenant creation failed: {e}")))??;
    let shared = state.tenants.insert(tenant)?;
    let info = tenant::lock(&shared).info(state.base());
    Ok(info)
}

pub async fn create_tenant(
    State(state): State<AppState>,
    JsonBody(spec): JsonBody<TenantSpec>,
) -> Result<(StatusCode, Json<TenantInfo>)> {
    Ok((StatusCode::CREATED, Json(create(&state, spec).await?)))
}

pub async fn list_tenants(State(state): State<AppState>) -> Json<Vec<String>> {
    let mut ids = state.tenants.ids();
    ids.sort();
    Json(ids)
}

pub async fn get_tenant(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TenantInfo>> {
    let t = state.tenants.get(&id)?;
    let info = tenant::lock(&t).info(state.base());
    Ok(Json(info))
}

pub async fn delete_tenant(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    state.tenants.remove(&id)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn put_sp(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(sp): JsonBody<SpSpec>,
) -> Result<Json<TenantInfo>> {
    let t = state.tenants.get(&id)?;
    tenant::validate_sp(&sp, "")?;
    let mut t = tenant::lock(&t);
    t.sp = sp;
    Ok(Json(t.info(state.base())))
}

pub async fn put_faults(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<FaultsBody>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    tenant::lock(&t).faults = body.faults;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn post_next_faults(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NextBody>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    let mut t = tenant::lock(&t);
    if let Some(f) = &body.forge {
        // A dry run of the edits on an unsigned response: no signing under the lock.
        forge::check(&t, f, state.base(), "forge")?;
    }
    t.next_faults = body.faults;
    t.next_forge = body.forge;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /_control/forge/attacks`: the forge's attack table (name, CWE, CVE, what it needs).
pub async fn get_attacks() -> Json<Vec<forge::AttackInfo>> {
    Json(proto::forge::infos())
}

pub async fn put_clock(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ClockBody>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    tenant::validate_clock_offset(body.offset_seconds, "offset_seconds")?;
    tenant::lock(&t).clock.offset_seconds = body.offset_seconds;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn post_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(user): JsonBody<User>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    tenant::lock(&t).add_user(user, "")?;
    Ok(StatusCode::CREATED)
}

pub async fn patch_user(
    State(state): State<AppState>,
    Path((id, email)): Path<(String, String)>,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    tenant::lock(&t).patch_user(&email, patch)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn put_apps(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(apps): JsonBody<Vec<App>>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    tenant::validate_apps(&apps, "")?;
    tenant::lock(&t).apps = apps;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn post_oidc_client(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(client): JsonBody<OidcClient>,
) -> Result<(StatusCode, Json<OidcClient>)> {
    let t = state.tenants.get(&id)?;
    tenant::lock(&t).add_oidc_client(client.clone(), "")?;
    Ok((StatusCode::CREATED, Json(client)))
}

pub async fn get_exchanges(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<Exchange>>> {
    let t = state.tenants.get(&id)?;
    let exchanges = tenant::lock(&t).exchanges.clone();
    Ok(Json(exchanges))
}

/// The last SAML response delivered, as posted: a replay scenario posts it again itself.
pub async fn get_last_saml_response(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<proto::idp::LastSamlResponse>> {
    let t = state.tenants.get(&id)?;
    let last = tenant::lock(&t).last_saml_response.clone();
    match last {
        Some(d) => Ok(Json(proto::idp::LastSamlResponse {
            acs_url: d.acs_url,
            saml_response: d.saml_response_b64,
            relay_state: d.relay_state,
        })),
        // 404: nothing to replay yet.
        None => Err(Error::NotFound),
    }
}

pub async fn post_txt(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<TxtBody>,
) -> Result<StatusCode> {
    dns::validate_name(&body.name)?;
    state.txt.add(&body.name, &body.value)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_txt(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<TxtBody>,
) -> Result<StatusCode> {
    dns::validate_name(&body.name)?;
    state.txt.remove(&body.name, &body.value);
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get_dns(State(state): State<AppState>) -> Json<DnsInfo> {
    Json(DnsInfo {
        addr: state.dns_addr.to_string(),
    })
}

pub async fn get_faults() -> Json<Vec<FaultInfo>> {
    Json(fault::infos())
}
