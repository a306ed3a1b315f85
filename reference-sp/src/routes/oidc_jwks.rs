//! `GET /sso/oidc/jwks`: the RP's public keys, the `jwks_uri` an OP is given. One document
//! for every connection, two keys: the encryption key ID tokens are encrypted to (`use: enc`,
//! `crate::oidc_jwe`) and the SP key its request objects are signed with (`use: sig`,
//! `crate::oidc_request_uri`); each OP picks the one its job needs by `use`.
use crate::state::Shared;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub async fn jwks(State(st): State<Shared>) -> Response {
    let signing = match crate::oidc_request_uri::jwks(&st.sp_key) {
        Ok(doc) => doc,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    };
    let keys: Vec<Value> = [st.oidc_enc_key.jwks(), signing]
        .iter()
        .filter_map(|doc| doc.get("keys").and_then(Value::as_array))
        .flatten()
        .cloned()
        .collect();
    Json(serde_json::json!({ "keys": keys })).into_response()
}
