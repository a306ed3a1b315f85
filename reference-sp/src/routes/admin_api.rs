//! The admin JSON API (README contract): automated set-up mirroring the Identity page.
use super::Shared;
use crate::Secret;
use crate::admin_ops::{self, NewMember};
use crate::error::AppError;
use crate::store::{self, Product, SsoConfig};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/admin/orgs", post(create_org))
        .route("/api/admin/orgs/{org}", get(get_org))
        .route("/api/admin/orgs/{org}/users", post(add_user))
        .route(
            "/api/admin/orgs/{org}/domains",
            post(add_domain).get(list_domains),
        )
        .route(
            "/api/admin/orgs/{org}/domains/{domain}/check",
            post(check_domain),
        )
        .route("/api/admin/orgs/{org}/sso/saml", put(put_saml))
        .route("/api/admin/orgs/{org}/sso/oidc", put(put_oidc))
        .route("/api/admin/orgs/{org}/sso", put(put_sso))
        .route("/api/admin/orgs/{org}/enforce", put(put_enforce))
        .route("/api/admin/orgs/{org}/tile", put(put_tile))
        .route(
            "/api/admin/orgs/{org}/sso/profiles/{email}",
            axum::routing::delete(delete_profile),
        )
}

pub fn authorize(state: &Shared, headers: &HeaderMap) -> Result<(), AppError> {
    let Some(expected) = &state.admin_token else {
        return Err(AppError::Unauthorized);
    };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let (a, b) = (given.as_bytes(), expected.expose().as_bytes());
    if a.is_empty() || a.len() != b.len() || !openssl::memcmp::eq(a, b) {
        return Err(AppError::Unauthorized);
    }
    Ok(())
}

/// JSON bodies: a syntax or type error names the field serde points at.
pub fn body<T>(payload: Result<Json<T>, JsonRejection>) -> Result<T, AppError> {
    match payload {
        Ok(Json(v)) => Ok(v),
        Err(JsonRejection::JsonDataError(e)) => {
            let text = e.body_text();
            let rest = text
                .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                .unwrap_or(&text)
                .to_string();
            Err(AppError::bad(field_of(&rest), rest))
        }
        Err(e) => Err(AppError::bad("body", e.body_text())),
    }
}

/// The JSON field a serde error is about: `missing field `x``, `unknown field `x``, or the
/// `path: message` form of serde_path_to_error.
fn field_of(message: &str) -> String {
    for marker in ["missing field `", "unknown field `"] {
        if let Some(i) = message.find(marker) {
            let after = &message[i + marker.len()..];
            if let Some(end) = after.find('`') {
                return after[..end].to_string();
            }
        }
    }
    match message.split_once(": ") {
        Some((path, _)) if !path.contains(' ') && !path.is_empty() && path != "." => {
            path.to_string()
        }
        _ => "body".to_string(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOrg {
    name: String,
    plan: String,
    billing: String,
}

async fn create_org(
    State(st): State<Shared>,
    headers: HeaderMap,
    payload: Result<Json<CreateOrg>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    let org = admin_ops::create_org(&st, None, &b.name, &b.plan, &b.billing)?;
    Ok((StatusCode::CREATED, Json(org_urls(&st, &org.id))).into_response())
}

pub(super) fn org_urls(st: &Shared, org: &str) -> serde_json::Value {
    json!({
        "org_id": org,
        "acs_url": st.acs_url(org),
        "entity_id": st.entity_id(org),
        "metadata_url": st.metadata_url(org),
        "tile_urls": {
            "workspace": st.tile_url(org, Product::Workspace),
            "platform": st.tile_url(org, Product::Platform),
        },
        "oidc_redirect_uri": st.oidc_redirect_uri(),
        "application_link": st.application_link(org),
    })
}

async fn get_org(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let o = admin_ops::require_org(&st, &org)?;
    let domains = admin_ops::list_domains(&st, &org)?;
    let c = st.db.conn()?;
    let members = store::members_of(&c, &org)?;
    let sso = match store::sso_config(&c, &org)? {
        None => serde_json::Value::Null,
        Some(SsoConfig::Saml(s)) => {
            let fp = crate::certs::parse_certificate(&s.certificate_pem)
                .ok()
                .and_then(|x| x.to_der().ok())
                .map(|d| crate::certs::sha256_fingerprint(&d));
            json!({"protocol": "saml", "sso_url": s.sso_url, "certificate_sha256": fp, "idp_entity_id": s.idp_entity_id})
        }
        Some(SsoConfig::Oidc(o)) => json!({
            "protocol": "oidc", "idp_name": o.idp_name, "client_id": o.client_id,
            "client_secret": o.client_secret, "discovery_url": o.discovery_url,
        }),
    };
    let mut v = org_urls(&st, &org);
    if let Some(m) = v.as_object_mut() {
        m.insert("name".into(), json!(o.name));
        m.insert("plan".into(), json!(o.plan));
        m.insert("billing".into(), json!(o.billing));
        m.insert(
            "sso_enabled".into(),
            json!({"workspace": o.workspace_sso, "platform": o.platform_sso}),
        );
        m.insert("enforced".into(), json!(o.enforced));
        m.insert("active_tile".into(), json!(o.active_tile));
        m.insert("sso".into(), sso);
        m.insert("domains".into(), json!(domains));
        m.insert("members".into(), json!(members));
    }
    Ok(Json(v).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddUser {
    email: String,
    role: String,
    method: String,
    password: Option<Secret>,
    given_name: Option<String>,
    family_name: Option<String>,
}

async fn add_user(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path(org): Path<String>,
    payload: Result<Json<AddUser>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    admin_ops::add_member(
        &st,
        &org,
        &NewMember {
            email: &b.email,
            role: &b.role,
            method: &b.method,
            password: b.password.as_ref(),
            given_name: b.given_name.as_deref(),
            family_name: b.family_name.as_deref(),
        },
    )?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"email": b.email.trim(), "org_id": org})),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddDomain {
    domain: String,
}

async fn add_domain(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path(org): Path<String>,
    payload: Result<Json<AddDomain>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    let d = admin_ops::add_domain(&st, &org, &b.domain)?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

async fn list_domains(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    Ok(Json(admin_ops::list_domains(&st, &org)?).into_response())
}

async fn check_domain(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path((org, domain)): Path<(String, String)>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    Ok(Json(admin_ops::check_domain(&st, &org, &domain).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutSaml {
    sso_url: String,
    certificate_pem: String,
    idp_entity_id: Option<String>,
}

async fn put_saml(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path(org): Path<String>,
    payload: Result<Json<PutSaml>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    admin_ops::put_saml(
        &st,
        &org,
        &b.sso_url,
        &b.certificate_pem,
        b.idp_entity_id.as_deref(),
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutOidc {
    idp_name: String,
    client_id: String,
    client_secret: Secret,
    discovery_url: String,
}

async fn put_oidc(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path(org): Path<String>,
    payload: Result<Json<PutOidc>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    admin_ops::put_oidc(
        &st,
        &org,
        &b.idp_name,
        &b.client_id,
        &b.client_secret,
        &b.discovery_url,
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutSso {
    enabled: bool,
    product: Option<String>,
}

async fn put_sso(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path(org): Path<String>,
    payload: Result<Json<PutSso>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    let product = match b.product.as_deref() {
        None => Product::Workspace,
        Some(p) => Product::parse(p).ok_or_else(|| {
            AppError::bad(
                "product",
                format!("{p:?} is not one of workspace, platform"),
            )
        })?,
    };
    admin_ops::set_sso(&st, &org, b.enabled, product)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutEnforce {
    enforced: bool,
}

async fn put_enforce(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path(org): Path<String>,
    payload: Result<Json<PutEnforce>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    admin_ops::set_enforce(&st, &org, b.enforced)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutTile {
    active: String,
}

async fn put_tile(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path(org): Path<String>,
    payload: Result<Json<PutTile>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    admin_ops::set_tile(&st, &org, &b.active)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// What support does for ERR-5: forget the lingering SSO profile(s) of an old address so the
/// next SSO sign-in maps the IdP's user afresh.
async fn delete_profile(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path((org, email)): Path<(String, String)>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    admin_ops::require_org(&st, &org)?;
    let c = st.db.conn()?;
    let n = store::delete_sso_profiles(&c, &org, &email)?;
    if n == 0 {
        return Err(AppError::NotFound(format!(
            "no SSO profile for {email} in {org}"
        )));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
