//! The product's documented messages, word for word (catalogue: scenarios/documented/CATALOGUE.md).
use crate::error::UserError;
use axum::http::StatusCode;

pub const PRODUCT: &str = "ChatGPT";

/// ERR-1
pub fn not_in_workspace(email: &str) -> UserError {
    UserError::new(
        StatusCode::FORBIDDEN,
        format!(
            "Your Identity Provider signed you in as {email}, but that email has not been added to your {PRODUCT} workspace."
        ),
    )
}

/// ERR-2. `method` is how this attempt signed in ("a password", "Google").
pub fn method_mismatch(email: &str, method: &str) -> UserError {
    UserError::new(
        StatusCode::FORBIDDEN,
        format!(
            "You tried signing in as {email} using {method}, which is not the authentication method you used during sign up. Try again using the authentication method you used during sign up. (error=identity_provider_mismatch)"
        ),
    )
    .code("identity_provider_mismatch")
}

pub const USE_SSO: &str = "Oops! Please use your organization's SSO to access your account.";

/// ERR-3 / ERR-7: the workspace requires SSO and another method was used.
pub fn require_sso() -> UserError {
    UserError::new(StatusCode::FORBIDDEN, USE_SSO).code("require_sso_login")
}

/// ERR-7: the IdP refused the user (not in its access group for the application).
pub fn idp_refused(detail: impl Into<String>) -> UserError {
    UserError::new(StatusCode::FORBIDDEN, USE_SSO)
        .code("access_denied")
        .detail(detail)
}

/// ERR-4
pub fn sso_info_failed() -> UserError {
    UserError::new(
        StatusCode::BAD_GATEWAY,
        "Something went wrong while getting your SSO info",
    )
}

/// ERR-5
pub fn no_accessible_workspaces(detail: impl Into<String>) -> UserError {
    UserError::new(StatusCode::FORBIDDEN, "No accessible workspaces").detail(detail)
}

/// ERR-6
pub fn invalid_thumbprint(detail: impl Into<String>) -> UserError {
    UserError::new(StatusCode::FORBIDDEN, "Invalid thumbprint").detail(detail)
}

/// ERR-8
pub fn connection_not_enabled(detail: impl Into<String>) -> UserError {
    UserError::new(StatusCode::FORBIDDEN, "the connection is not enabled").detail(detail)
}

/// Any other SSO failure: the reason itself is the message.
pub fn sso_failed(reason: impl Into<String>) -> UserError {
    let reason = reason.into();
    UserError::new(
        StatusCode::FORBIDDEN,
        format!("SSO sign-in failed: {reason}"),
    )
}
