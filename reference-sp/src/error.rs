//! Errors of the crate boundary (`Error`) and of request handlers (`AppError`, one
//! `IntoResponse`): JSON for the admin API, an HTML error page with the documented message,
//! an error ID and a UTC time for the browser.
use crate::html::{esc, page};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Failures starting or running the SP.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error("SP signing key: {0}")]
    Key(String),
    #[error("bad option {option}: {message}")]
    Option {
        option: &'static str,
        message: String,
    },
}

/// A failure a person sees in the browser: the documented message, optionally a documented
/// error code, and the technical reason.
#[derive(Debug, Clone)]
pub struct UserError {
    pub status: StatusCode,
    pub message: String,
    pub code: Option<&'static str>,
    pub detail: Option<String>,
    /// The organisation whose sign-in failed, for the support request.
    pub org: Option<String>,
}

impl UserError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            code: None,
            detail: None,
            org: None,
        }
    }
    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Admin API: a field of the request is wrong.
    #[error("{field}: {message}")]
    BadInput { field: String, message: String },
    /// Admin API: refused by a documented rule.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("missing or wrong admin token")]
    Unauthorized,
    /// Browser: an error page.
    #[error("{}", .0.message)]
    Page(UserError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn bad(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }
    pub fn page(status: StatusCode, message: impl Into<String>) -> Self {
        Self::Page(UserError::new(status, message))
    }
}

impl AppError {
    /// Names the organisation on a browser error page (support asks for it).
    pub fn for_org(self, org: &str) -> Self {
        match self {
            AppError::Page(mut e) if e.org.is_none() && !org.is_empty() => {
                e.org = Some(org.to_string());
                AppError::Page(e)
            }
            other => other,
        }
    }
}

impl From<UserError> for AppError {
    fn from(e: UserError) -> Self {
        Self::Page(e)
    }
}

impl From<crate::db::DbError> for AppError {
    fn from(e: crate::db::DbError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Internal(format!("database error: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::BadInput { field, message } => (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({"error": format!("{field}: {message}"), "field": field})),
            )
                .into_response(),
            AppError::Conflict(message) => (
                StatusCode::CONFLICT,
                Json(serde_json::json!({"error": message})),
            )
                .into_response(),
            AppError::NotFound(message) => (
                StatusCode::NOT_FOUND,
                Json(serde_json::json!({"error": message})),
            )
                .into_response(),
            AppError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                Json(serde_json::json!({"error": "missing or wrong admin token (Authorization: Bearer ...)"})),
            )
                .into_response(),
            AppError::Page(e) => error_page(&e),
            AppError::Internal(message) => error_page(
                &UserError::new(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong")
                    .detail(message),
            ),
        }
    }
}

/// The page every browser-facing failure shows: the documented message in `#error`, plus an
/// ID and a time with zone that a user quotes to support. Each one is logged under that ID.
pub fn error_page(e: &UserError) -> Response {
    let id = format!("err-{}", uuid::Uuid::new_v4().simple());
    let now = time::OffsetDateTime::now_utc();
    let when = crate::clock::display_utc(now);
    tracing::warn!(
        error_id = %id,
        status = e.status.as_u16(),
        code = e.code.unwrap_or(""),
        org = e.org.as_deref().unwrap_or(""),
        detail = e.detail.as_deref().unwrap_or(""),
        "{}",
        e.message
    );
    let mut body = format!("<p id=\"error\" class=\"error\">{}</p>\n", esc(&e.message));
    if let Some(code) = e.code {
        body.push_str(&format!(
            "<p>Error code: <code id=\"error-code\">{}</code></p>\n",
            esc(code)
        ));
    }
    if let Some(detail) = &e.detail {
        body.push_str(&format!(
            "<p>Reason: <span id=\"error-detail\">{}</span></p>\n",
            esc(detail)
        ));
    }
    if let Some(org) = &e.org {
        body.push_str(&format!(
            "<p>Organization ID: <code id=\"error-org\">{}</code></p>\n",
            esc(org)
        ));
    }
    body.push_str(&format!(
        "<p>Error ID: <code id=\"error-id\">{}</code></p>\n<p>Time: <time id=\"error-time\" datetime=\"{}\">{}</time></p>\n\
         <p><a id=\"back-to-login\" href=\"/login\">Back to sign in</a></p>",
        esc(&id),
        esc(&now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()),
        esc(&when)
    ));
    (e.status, page("Sign-in problem", &body)).into_response()
}
