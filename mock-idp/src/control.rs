//! JSON control API (`/_control/...`): create and shape tenants, publish DNS TXT values,
//! read the exchange log. The contract is the table in mock-idp/README.md.

use crate::error::{Error, Result};
use crate::fault::{self, Fault, FaultInfo};
use crate::record::Exchange;
use crate::server::AppState;
use crate::tenant::{
    self, App, OidcClient, SpSpec, Tenant, TenantInfo, TenantSpec, User, UserPatch,
};
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde::Deserialize;
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
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        if bytes.is_empty() {
            return Err(Error::bad_input(".", "expected a JSON body"));
        }
        from_json(&bytes).map(JsonBody)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsBody {
    faults: Vec<Fault>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockBody {
    offset_seconds: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TxtBody {
    name: String,
    value: String,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_control/tenants", post(create_tenant).get(list_tenants))
        .route(
            "/_control/tenants/{id}",
            get(get_tenant).delete(delete_tenant),
        )
        .route("/_control/tenants/{id}/sp", put(put_sp))
        .route("/_control/tenants/{id}/faults", put(put_faults))
        .route("/_control/tenants/{id}/faults/next", post(post_next_faults))
        .route("/_control/tenants/{id}/clock", put(put_clock))
        .route("/_control/tenants/{id}/users", post(post_user))
        .route("/_control/tenants/{id}/users/{email}", patch(patch_user))
        .route("/_control/tenants/{id}/apps", put(put_apps))
        .route(
            "/_control/tenants/{id}/oidc/clients",
            post(post_oidc_client),
        )
        .route("/_control/tenants/{id}/exchanges", get(get_exchanges))
        .route("/_control/dns/txt", post(post_txt).delete(delete_txt))
        .route("/_control/dns", get(get_dns))
        .route("/_control/faults", get(get_faults))
        .merge(crate::oidc::forge::control::routes())
}

/// Creates a tenant (key generation runs off the async workers) and registers it.
pub async fn create(state: &AppState, spec: TenantSpec) -> Result<TenantInfo> {
    let tenant = tokio::task::spawn_blocking(move || Tenant::from_spec(spec))
        .await
        .map_err(|e| Error::Config(format!("tenant creation failed: {e}")))??;
    let shared = state.tenants.insert(tenant)?;
    let info = tenant::lock(&shared).info(state.base());
    Ok(info)
}

async fn create_tenant(
    State(state): State<AppState>,
    JsonBody(spec): JsonBody<TenantSpec>,
) -> Result<(StatusCode, Json<TenantInfo>)> {
    Ok((StatusCode::CREATED, Json(create(&state, spec).await?)))
}

async fn list_tenants(State(state): State<AppState>) -> Json<Vec<String>> {
    let mut ids = state.tenants.ids();
    ids.sort();
    Json(ids)
}

async fn get_tenant(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TenantInfo>> {
    let t = state.tenants.get(&id)?;
    let info = tenant::lock(&t).info(state.base());
    Ok(Json(info))
}

async fn delete_tenant(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    state.tenants.remove(&id)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn put_sp(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(sp): JsonBody<SpSpec>,
) -> Result<Json<TenantInfo>> {
    let t = state.tenants.get(&id)?;
    sp.validate("")?;
    let mut t = tenant::lock(&t);
    t.sp = sp;
    Ok(Json(t.info(state.base())))
}

async fn put_faults(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<FaultsBody>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    tenant::lock(&t).faults = body.faults;
    Ok(StatusCode::NO_CONTENT)
}

async fn post_next_faults(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<FaultsBody>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    tenant::lock(&t).next_faults = body.faults;
    Ok(StatusCode::NO_CONTENT)
}

async fn put_clock(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ClockBody>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    // Bounded so that date arithmetic can never overflow.
    const LIMIT: i64 = 100 * 365 * 24 * 3600;
    if body.offset_seconds.abs() > LIMIT {
        return Err(Error::bad_input(
            "offset_seconds",
            "must be within +-100 years",
        ));
    }
    tenant::lock(&t).clock.offset_seconds = body.offset_seconds;
    Ok(StatusCode::NO_CONTENT)
}

async fn post_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(user): JsonBody<User>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    tenant::lock(&t).add_user(user, "")?;
    Ok(StatusCode::CREATED)
}

async fn patch_user(
    State(state): State<AppState>,
    Path((id, email)): Path<(String, String)>,
    JsonBody(patch): JsonBody<UserPatch>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    tenant::lock(&t).patch_user(&email, patch)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn put_apps(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(apps): JsonBody<Vec<App>>,
) -> Result<StatusCode> {
    let t = state.tenants.get(&id)?;
    tenant::validate_apps(&apps, "")?;
    tenant::lock(&t).apps = apps;
    Ok(StatusCode::NO_CONTENT)
}

async fn post_oidc_client(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(client): JsonBody<OidcClient>,
) -> Result<(StatusCode, Json<OidcClient>)> {
    let t = state.tenants.get(&id)?;
    tenant::lock(&t).add_oidc_client(client.clone(), "")?;
    Ok((StatusCode::CREATED, Json(client)))
}

async fn get_exchanges(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<Exchange>>> {
    let t = state.tenants.get(&id)?;
    let exchanges = tenant::lock(&t).exchanges.clone();
    Ok(Json(exchanges))
}

async fn post_txt(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<TxtBody>,
) -> Result<StatusCode> {
    crate::dns::validate_name(&body.name)?;
    state.txt.add(&body.name, &body.value);
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_txt(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<TxtBody>,
) -> Result<StatusCode> {
    crate::dns::validate_name(&body.name)?;
    state.txt.remove(&body.name, &body.value);
    Ok(StatusCode::NO_CONTENT)
}

async fn get_dns(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "addr": state.dns_addr.to_string() }))
}

async fn get_faults() -> Json<Vec<FaultInfo>> {
    Json(fault::infos())
}
