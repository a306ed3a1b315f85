//! The admin JSON API (README contract): automated set-up mirroring the Identity page. The
//! request and answer bodies are the wire contract's (`proto::sp_admin`).
use super::Shared;
use crate::admin_ops::{self, NewMember};
use crate::error::AppError;
use crate::store::{self, Product, SsoConfig};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use proto::sp_admin::{
    AddDomain, AddUser, CreateOrg, OrgState, OrgUrls, PutEnforce, PutOidc, PutSaml, PutSso,
    PutTile, SsoEnabled, SsoView, TileUrls, UserAdded,
};

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

pub(super) fn org_urls(st: &Shared, org: &str) -> OrgUrls {
    OrgUrls {
        acs_url: st.acs_url(org),
        application_link: st.application_link(org),
        entity_id: st.entity_id(org),
        metadata_url: st.metadata_url(org),
        oidc_redirect_uri: st.oidc_redirect_uri(),
        org_id: org.to_string(),
        tile_urls: TileUrls {
            platform: st.tile_url(org, Product::Platform),
            workspace: st.tile_url(org, Product::Workspace),
        },
    }
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
        Json(UserAdded {
            email: b.email.trim().to_string(),
            org_id: org,
        }),
    )
        .into_response())
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
