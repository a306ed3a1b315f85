//! The crate's one error type. Control handlers and browser-facing handlers both return it;
//! its `IntoResponse` gives JSON with the path of the bad field for control calls.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use proto::idp::ErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad control or config input; `path` is the JSON path of the bad field.
    #[error("{path}: {message}")]
    BadInput { path: String, message: String },
    #[error("unknown tenant '{0}'")]
    UnknownTenant(String),
    #[error("tenant '{0}' already exists")]
    TenantExists(String),
    /// A conflict the message explains (a pinned tenant held by another trial).
    #[error("{0}")]
    Conflict(String),
    #[error("unknown user '{0}'")]
    UnknownUser(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A request body over the control API's limit (`proto::idp::MAX_BODY_BYTES`).
    #[error("request body is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Config(String),
    #[error("crypto: {0}")]
    Crypto(#[from] openssl::error::ErrorStack),
    #[error("certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("xml: {0}")]
    Xml(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    pub fn bad_input(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::BadInput {
            path: path.into(),
            message: message.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Error::BadInput { .. } | Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::UnknownTenant(_) | Error::UnknownUser(_) | Error::NotFound => {
                StatusCode::NOT_FOUND
            }
            Error::TenantExists(_) | Error::Conflict(_) => StatusCode::CONFLICT,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<quick_xml::Error> for Error {
    fn from(e: quick_xml::Error) -> Self {
        Error::Xml(e.to_string())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let body = match &self {
            Error::BadInput { path, message } => ErrorBody {
                error: message.clone(),
                path: Some(path.clone()),
            },
            other => ErrorBody {
                error: other.to_string(),
                path: None,
            },
        };
        (self.status(), axum::Json(body)).into_response()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
