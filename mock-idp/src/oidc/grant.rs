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
    /// The protected header of the JWE the ID token went out in, when the client registered
    /// encrypted ID tokens (`id_token` above is the signed token inside).
    pub(crate) jwe: Option<serde_json::Value>,
}

/// What signing an ID token needs, forged or not.
pub(crate) struct Signing<'a> {
    /// The key a genuine token is signed with (the current one, or the next after rotation).
    pub(crate) key: &'a super::jwt::SigningKey,
    pub(crate) next: &'a super::jwt::SigningKey,
    /// Present when the sign-in has a forge (the keys it may sign with).
    pub(crate) forge_keys: Option<&'a forge::keys::ForgeKeys>,
    pub(crate) client_secret: &'a crate::secret::Secret,
    pub(crate) base: &'a str,
    pub(crate) tenant: &'a str,
    pub(crate) ctx: forge::mutate::Context<'a>,
    /// The standing token faults (a forgery of a genuine token).
    pub(crate) faults: &'a [Fault],
}

/// The signed ID token (and its payload text when a forge repeats a member): shaped by
/// `forged` when the sign-in has a forge, else signed genuinely, as the faults allow.
pub(crate) fn sign_id_token(
    forged: Option<&forge::spec::ForgeSpec>,
    claims: serde_json::Map<String, serde_json::Value>,
    s: Signing<'_>,
) -> Result<(String, Option<String>), OidcError> {
    match (forged, s.forge_keys) {
        (Some(spec), Some(fk)) => {
            let inputs = forge::TokenInputs {
                current: s.key,
                next: s.next,
                forge_keys: fk,
                client_secret: Some(s.client_secret),
                base: s.base,
                tenant: s.tenant,
                ctx: s.ctx,
            };
            forge::id_token(spec, claims, &inputs)
        }
        _ => Ok((
            super::jwt::sign(s.key, &claims, super::faults::forgery(s.faults))?,
            None,
        )),
    }
}

/// The client's encrypted-ID-token registration, if it has one.
pub(crate) fn encryption_of(
    t: &tenant::Tenant,
    client_id: &str,
) -> Option<proto::idp::IdTokenEncryption> {
    t.oidc_clients
        .iter()
        .find(|c| c.client_id == client_id)
        .and_then(|c| c.id_token_encryption.clone())
}

/// What the token response's `id_token` carries: the signed token, or, for a client that
/// registered encryption, a JWE of it to the key its `jwks_uri` lists now (fetched per
/// token, so an RP that rotates its key is followed), with the JWE header for the log.
pub(crate) async fn deliverable(
    signed: &str,
    encryption: Option<&proto::idp::IdTokenEncryption>,
    forge: Option<&forge::spec::ForgeSpec>,
) -> Result<(String, Option<serde_json::Value>), OidcError> {
    let Some(how) = encryption else {
        return Ok((signed.to_string(), None));
    };
    let server_error = |why: String| {
        OidcError::oauth(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!("cannot encrypt the ID token: {why}"),
        )
    };
    let key = super::jwe::fetch_key(&how.jwks_uri)
        .await
        .map_err(server_error)?;
    let flip_tag = forge
        .and_then(|f| f.jwe.as_ref())
        .is_some_and(|j| j.flip_tag);
    let jwe = super::jwe::encrypt(signed, &key, how, flip_tag).map_err(server_error)?;
    let header = super::jwe::header_for_record(&jwe);
    Ok((jwe, Some(header)))
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
