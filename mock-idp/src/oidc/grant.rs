//! What every grant of the token endpoint (`token`: authorization_code, `refresh`:
//! refresh_token) shares: client authentication against the tenant's clients, the token
//! response body, and what the endpoint answers and logs.

use serde::Serialize;

use crate::fault::Fault;
use crate::tenant;

use super::error::OidcError;
use super::forge;

#[derive(Serialize)]
pub(crate) struct TokenResponse {
    /// Plain text: this response goes to the client the token is for.
    pub(crate) access_token: String,
    pub(crate) token_type: &'static str,
    pub(crate) expires_in: i64,
    pub(crate) id_token: String,
    pub(crate) scope: String,
    /// Every code redemption gets one (as OPs that grant offline access by default do), and
    /// every refresh a new one (rotation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) refresh_token: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    Basic,
    Post,
}

/// The sign-in facts the token request record carries.
pub(crate) struct Facts {
    pub(crate) client_id: String,
    pub(crate) pkce: Option<&'static str>,
    pub(crate) nonce_sent: bool,
}

/// What the token endpoint answers, and what the log keeps of it.
pub(crate) struct Issued {
    pub(crate) answer: forge::Answer,
    pub(crate) auth: ClientAuth,
    pub(crate) id_token: Option<String>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) facts: Facts,
    pub(crate) forge: Option<forge::spec::ForgeSpec>,
    /// The ID token payload text when it repeats a member.
    pub(crate) payload_text: Option<String>,
}

/// The registered client's secret when `secret` is it.
pub(crate) fn authenticate(
    t: &tenant::Tenant,
    client_id: &str,
    secret: &str,
) -> Result<crate::secret::Secret, OidcError> {
    let client = t
        .oidc_clients
        .iter()
        .find(|c| c.client_id == client_id)
        .ok_or_else(|| OidcError::invalid_client(format!("unknown client '{client_id}'")))?;
    if client.client_secret.expose() != secret {
        return Err(OidcError::invalid_client("wrong client secret"));
    }
    Ok(client.client_secret.clone())
}
