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
    #[error(transparent)]
    Messages(#[from] MessagesError),
}

/// A messages file (`--messages`) that cannot be used: the SP does not start with texts it
/// cannot show as written. `file:line` points at the entry.
#[derive(Debug, thiserror::Error)]
pub enum MessagesError {
    #[error("cannot read the messages file {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}:{line}: unknown message key `{key}`{}; the keys are: {known}", did_you_mean(.suggestion))]
    UnknownKey {
        file: String,
        line: usize,
        key: String,
        suggestion: Option<&'static str>,
        known: String,
    },
    #[error(
        "{file}:{line}: message `{key}` has no placeholder `{{{placeholder}}}`; it has: {allowed}"
    )]
    UnknownPlaceholder {
        file: String,
        line: usize,
        key: String,
        placeholder: String,
        allowed: String,
    },
    #[error("{file}:{line}: message `{key}` must be a non-empty text")]
    NotText {
        file: String,
        line: usize,
        key: String,
    },
}

fn did_you_mean(suggestion: &Option<&'static str>) -> String {
    suggestion
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

/// A failure a person sees in the browser: the documented message, optionally a documented
/// error code, and the technical reason.
#[derive(Debug, Clone)]
pub struct UserError {
    pub status: StatusCode,
    /// The documented text, placeholders filled in.
    pub message: String,
    /// The message's stable name and its placeholders' values, so that a messages file can
    /// replace the text; `None` for texts no file can change. Boxed: every handler's error
    /// type carries a `UserError`, and most never have one.
    pub key: Option<Box<MessageKey>>,
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
            key: None,
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
    /// Names the message and the values of its placeholders (see `messages`).
    pub fn keyed(mut self, name: &'static str, args: Vec<(&'static str, String)>) -> Self {
        self.key = Some(Box::new(MessageKey { name, args }));
        self
    }
}

/// A documented message's key in a messages file (`messages::KEYS`) and the values of its
/// placeholders (`email`, `method`, `reason`).
#[derive(Debug, Clone)]
pub struct MessageKey {
    pub name: &'static str,
    pub args: Vec<(&'static str, String)>,
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
/// A page whose message has a key carries a [`ShownError`], so that the messages file can put
/// its own text in (the server's last layer) under the same ID and time.
pub fn error_page(e: &UserError) -> Response {
    let shown = ShownError {
        error: e.clone(),
        id: format!("err-{}", uuid::Uuid::new_v4().simple()),
        at: time::OffsetDateTime::now_utc(),
    };
    tracing::warn!(
        error_id = %shown.id,
        status = e.status.as_u16(),
        code = e.code.unwrap_or(""),
        org = e.org.as_deref().unwrap_or(""),
        detail = e.detail.as_deref().unwrap_or(""),
        "{}",
        e.message
    );
    let mut response = shown.render(&e.message);
    if e.key.is_some() {
        response.extensions_mut().insert(shown);
    }
    response
}

/// An error page as it was shown and logged: the error, its ID and time.
#[derive(Debug, Clone)]
pub struct ShownError {
    pub error: UserError,
    id: String,
    at: time::OffsetDateTime,
}

impl ShownError {
    /// The page with `message` in `#error`; the rest (code, reason, ID, time) as logged.
    pub fn render(&self, message: &str) -> Response {
        let e = &self.error;
        let mut body = format!("<p id=\"error\" class=\"error\">{}</p>\n", esc(message));
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
            esc(&self.id),
            esc(&self
                .at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()),
            esc(&crate::clock::display_utc(self.at))
        ));
        (e.status, page("Sign-in problem", &body)).into_response()
    }
}
