//! `GET /sso/oidc/request/{ref}`: a request object the product hosts for the OP to fetch,
//! once (`oidc_request_uri`); the key the OP verifies it with is in `/sso/oidc/jwks`
//! (`oidc_jwks`).
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::Shared;

pub async fn request_object(State(st): State<Shared>, Path(reference): Path<String>) -> Response {
    match st.request_objects.take(&reference, st.now()) {
        Some(jwt) => (
            [(header::CONTENT_TYPE, "application/oauth-authz-req+jwt")],
            jwt,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such request object").into_response(),
    }
}
