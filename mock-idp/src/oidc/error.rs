//! How the OIDC endpoints fail. Browser-facing failures are HTML pages with a stable element
//! id for scenarios to assert on; back-channel failures are RFC 6749 error JSON, because that
//! is what a relying party parses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::page;

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("not found")]
    NotFound,
    /// Not found under an Entra tenant: Entra's own 404 wording (ERR-9), as the SAML side.
    #[error("not found (entra)")]
    EntraNotFound,
    /// Shown to the browser, never redirected: the redirect URI cannot be trusted.
    #[error("{message}")]
    Page {
        status: StatusCode,
        /// The element id scenarios look for, e.g. `redirect-uri-mismatch`.
        id: &'static str,
        message: String,
    },
    /// RFC 6749 section 5.2 / RFC 6750 section 3.1 error.
    #[error("{error}: {description}")]
    OAuth {
        status: StatusCode,
        error: &'static str,
        description: String,
        /// `WWW-Authenticate` challenge for 401 answers.
        challenge: Option<&'static str>,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl OidcError {
    pub fn page(status: StatusCode, id: &'static str, message: impl Into<String>) -> Self {
        Self::Page {
            status,
            id,
            message: message.into(),
        }
    }

    pub fn oauth(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self::OAuth {
            status,
            error,
            description: description.into(),
            challenge: None,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::oauth(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::oauth(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::OAuth {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: description.into(),
            challenge: Some("Basic realm=\"mock-idp\""),
        }
    }

    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::OAuth {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_token",
            description: description.into(),
            challenge: Some("Bearer error=\"invalid_token\""),
        }
    }
}

impl From<crate::error::Error> for OidcError {
    fn from(e: crate::error::Error) -> Self {
        use crate::error::Error;
        match e {
            Error::UnknownTenant(_) | Error::NotFound => OidcError::NotFound,
            other => OidcError::Internal(other.to_string()),
        }
    }
}

impl From<super::jwt::JwtError> for OidcError {
    fn from(e: super::jwt::JwtError) -> Self {
        OidcError::Internal(e.to_string())
    }
}

impl From<serde_json::Error> for OidcError {
    fn from(e: serde_json::Error) -> Self {
        OidcError::Internal(e.to_string())
    }
}

#[derive(Serialize)]
struct OAuthBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl IntoResponse for OidcError {
    fn into_response(self) -> Response {
        match self {
            OidcError::NotFound => crate::pages::not_found(false),
            OidcError::EntraNotFound => crate::pages::not_found(true),
            OidcError::Page {
                status,
                id,
                message,
            } => (status, Html(page::error(id, &message))).into_response(),
            OidcError::OAuth {
                status,
                error,
                description,
                challenge,
            } => {
                let mut response = (
                    status,
                    axum::Json(OAuthBody {
                        error,
                        error_description: &description,
                    }),
                )
                    .into_response();
                let headers = response.headers_mut();
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                if let Some(c) = challenge {
                    headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
                }
                response
            }
            OidcError::Internal(message) => {
                tracing::error!("oidc: {message}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html(page::error("internal-error", &message)),
                )
                    .into_response()
            }
        }
    }
}
