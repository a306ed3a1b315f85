//! What the two JSON APIs (admin and `--test-mode`) share: the bearer-token check, reading a
//! JSON body into a named-field error, and an organisation's URLs as the answers carry them.
//! A leaf of `routes/`: both API modules use it, it uses neither.
use crate::error::AppError;
use crate::state::Shared;
use crate::store::Product;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::HeaderMap;
use proto::sp_admin::{OrgUrls, TileUrls};

/// The admin token, compared in constant time; no token configured refuses every call.
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

pub fn org_urls(st: &Shared, org: &str) -> OrgUrls {
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
