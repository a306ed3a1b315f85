//! The admin JSON API (README contract): automated set-up mirroring the Identity page. The
//! request and answer bodies are the wire contract's (`proto::sp_admin`).
use super::api::{authorize, body, org_urls};
use crate::admin_ops::{self, NewMember};
use crate::error::AppError;
use crate::state::Shared;
use crate::store::{self, Product, SsoConfig};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use proto::sp_admin::{
    AddDomain, AddUser, CreateOrg, OrgState, PutEnforce, PutOidc, PutSaml, PutSso, PutTile,
    SsoEnabled, SsoView, UserAdded,
};

pub async fn create_org(
    State(st): State<Shared>,
    headers: HeaderMap,
    payload: Result<Json<CreateOrg>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    let org = admin_ops::create_org(&st, None, &b.name, &b.plan, &b.billing)?;
    Ok((StatusCode::CREATED, Json(org_urls(&st, &org.id))).into_response())
}

pub async fn get_org(
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
        None => None,
        Some(SsoConfig::Saml(s)) => {
            let fp = crate::certs::parse_certificate(&s.certificate_pem)
                .ok()
                .and_then(|x| x.to_der().ok())
                .map(|d| crate::certs::sha256_fingerprint(&d));
            Some(SsoView::Saml {
                certificate_sha256: fp,
                idp_entity_id: s.idp_entity_id,
                sso_url: s.sso_url,
            })
        }
        Some(SsoConfig::Oidc(o)) => Some(SsoView::Oidc {
            client_id: o.client_id,
            client_secret: o.client_secret,
            discovery_url: o.discovery_url,
            idp_name: o.idp_name,
        }),
    };
    let state = OrgState {
        urls: org_urls(&st, &org),
        active_tile: o.active_tile,
        billing: o.billing,
        domains,
        enforced: o.enforced,
        members,
        name: o.name,
        plan: o.plan,
        sso,
        sso_enabled: SsoEnabled {
            platform: o.platform_sso,
            workspace: o.workspace_sso,
        },
    };
    // Through a `Value`: the answer has always been a sorted-key object, nested ones too.
    let v = serde_json::to_value(&state).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Json(v).into_response())
}

pub async fn add_user(
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
        Json(UserAdded {
            email: b.email.trim().to_string(),
            org_id: org,
        }),
    )
        .into_response())
}

pub async fn add_domain(
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

pub async fn list_domains(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    Ok(Json(admin_ops::list_domains(&st, &org)?).into_response())
}

pub async fn check_domain(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path((org, domain)): Path<(String, String)>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    Ok(Json(admin_ops::check_domain(&st, &org, &domain).await?).into_response())
}

pub async fn put_saml(
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
        b.slo_url.as_deref(),
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn put_oidc(
    State(st): State<Shared>,
    headers: HeaderMap,
    Path(org): Path<String>,
    payload: Result<Json<PutOidc>, JsonRejection>,
) -> Result<Response, AppError> {
    authorize(&st, &headers)?;
    let b = body(payload)?;
    let flow = crate::oidc_hybrid::Flow::parse(b.response_type.as_deref(), b.require_s_hash)
        .map_err(|e| AppError::bad("response_type", e))?;
    admin_ops::put_oidc(
        &st,
        &org,
        &b.idp_name,
        &b.client_id,
        &b.client_secret,
        &b.discovery_url,
        admin_ops::ResponseShape {
            mode: b.response_mode.as_deref(),
            flow,
        },
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn put_sso(
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

pub async fn put_enforce(
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

pub async fn put_tile(
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
pub async fn delete_profile(
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
