//! JSON control API (`/_control/...`): create and shape tenants, publish DNS TXT values,
//! read the exchange log. The bodies are the wire contract's types (`proto::idp`); the table
//! is in mock-idp/README.md; the routes are assembled in `server.rs`. Nothing depends on
//! this module: it depends on the state, the tenants and the DNS store.

use crate::dns;
use crate::error::{Error, Result};
use crate::fault::{self, FaultInfo};
use crate::pinned;
use crate::record::Exchange;
use crate::saml::forge;
use crate::state::AppState;
use crate::statedir::StateDir;
use crate::tenant::{
    self, App, OidcClient, SpSpec, Tenant, TenantInfo, TenantSpec, User, UserPatch,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, RawQuery, Request, State};
use axum::http::StatusCode;
use proto::idp::{ClockBody, DnsInfo, FaultsBody, MAX_BODY_BYTES, NextBody, TrialOverlay, TxtBody};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

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

/// Creates a tenant (key generation runs off the async workers) and registers it. A pinned
/// one (`spec.pinned`) is also written to the state directory.
pub async fn create(state: &AppState, spec: TenantSpec) -> Result<TenantInfo> {
    let base = state.base().to_string();
    let state_dir = if spec.pinned {
        let sd = pinned::state_dir_for(state, &spec)?;
        // Before any key is spent or file written: the id is taken here already.
        if let Some(id) = &spec.id {
            if state.tenants.get(id).is_ok() {
                return Err(Error::TenantExists(id.clone()));
            }
        }
        Some(sd)
    } else {
        None
    };
    let tenant = tokio::task::spawn_blocking(move || {
        let mut tenant = Tenant::from_spec(spec)?;
        // A standing forge is dry-run against the tenant it will shape (`saml.forge`).
        if let Some(f) = &tenant.saml.forge {
            forge::check(&tenant, f, &base, "saml.forge")?;
        }
        if let Some(sd) = &state_dir {
            pinned::pin(&mut tenant, sd)?;
        }
        Ok::<_, Error>(tenant)
    })
    .await
    .map_err(|e| Error::Config(format!("tenant creation failed: {e}")))??;
    let dir = tenant.pinned.as_ref().map(|p| p.dir.clone());
    let shared = match state.tenants.insert(tenant) {
        Ok(shared) => shared,
        Err(e) => {
            // Lost a race for the id: the directory written just now is not the winner's.
            if let Some(dir) = dir {
                let _ = StateDir::remove_tenant(&dir);
            }
            return Err(e);
        }
    };
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

/// Deletes a tenant; a pinned one's directory too.
pub async fn delete_tenant(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let shared = state.tenants.get(&id)?;
    // A pinned tenant's directory goes first: should that fail, the tenant is still there
    // and the call can be repeated.
    let dir = tenant::lock(&shared).pinned.as_ref().map(|p| p.dir.clone());
    if let Some(dir) = dir {
        tokio::task::spawn_blocking(move || StateDir::remove_tenant(&dir))
            .await
            .map_err(|e| Error::Config(format!("removing the tenant's directory failed: {e}")))??;
    }
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
    t.change(|t| {
        t.sp = sp;
        Ok(())
    })?;
    Ok(Json(t.info(state.base())))
}

pub async fn put_faults(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<FaultsBody>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    tenant::lock(&t).change(|t| {
        t.faults = body.faults;
        Ok(())
    })?;
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
    tenant::lock(&t).change(|t| {
        t.clock.offset_seconds = body.offset_seconds;
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn post_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(user): JsonBody<User>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    tenant::lock(&t).change(|t| t.add_user(user, ""))?;
    Ok(StatusCode::CREATED)
}

pub async fn patch_user(
    State(state): State<AppState>,
    Path((id, email)): Path<(String, String)>,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    tenant::lock(&t).change(|t| t.patch_user(&email, patch))?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn put_apps(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(apps): JsonBody<Vec<App>>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    tenant::validate_apps(&apps, "")?;
    tenant::lock(&t).change(|t| {
        t.apps = apps;
        Ok(())
    })?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn post_oidc_client(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(client): JsonBody<OidcClient>,
) -> Result<(StatusCode, Json<OidcClient>)> {
    let t = state.tenants.get(&id)?;
    tenant::lock(&t).change(|t| t.add_oidc_client(client.clone(), ""))?;
    Ok((StatusCode::CREATED, Json(client)))
}

/// `GET /_control/tenants/{id}/oidc/clients/{client_id}/secret`: pinned tenants only. The
/// body is written by hand because a `Secret` serialises as `[redacted]` everywhere else.
pub async fn get_client_secret(
    State(state): State<AppState>,
    Path((id, client_id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>> {
    let t = state.tenants.get(&id)?;
    let t = tenant::lock(&t);
    let found = t
        .oidc_clients
        .iter()
        .find(|c| c.client_id == client_id)
        .filter(|_| t.pinned.is_some());
    match found {
        Some(c) => Ok(Json(
            serde_json::json!({ "client_secret": c.client_secret.expose() }),
        )),
        // The same 404 as any unknown path: nothing tells which clients exist.
        None => Err(Error::NotFound),
    }
}

/// `PUT /_control/tenants/{id}/trial`.
pub async fn put_trial(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(overlay): JsonBody<TrialOverlay>,
) -> Result<Json<TenantInfo>> {
    let shared = state.tenants.get(&id)?;
    let mut t = tenant::lock(&shared);
    pinned::apply(&mut t, overlay, state.base(), OffsetDateTime::now_utc())?;
    Ok(Json(t.info(state.base())))
}

/// `DELETE /_control/tenants/{id}/trial?trial_id=...`.
pub async fn delete_trial(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode> {
    let trial_id = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "trial_id")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| {
            Error::bad_input(
                "trial_id",
                "the query parameter trial_id (the trial giving the tenant back) is required",
            )
        })?;
    pinned::check_trial_id(&trial_id, "trial_id")?;
    let shared = state.tenants.get(&id)?;
    pinned::release(
        &mut tenant::lock(&shared),
        &trial_id,
        OffsetDateTime::now_utc(),
    )?;
    Ok(StatusCode::NO_CONTENT)
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
