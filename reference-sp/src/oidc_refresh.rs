//! Refreshing an OIDC sign-in's tokens (OIDC Core 12): the refresh_token grant, the refreshed
//! ID token verified like the first one (signature, issuer, audience, expiry; no nonce is
//! required) and, as OIDC Core 12.2 requires, naming the same iss and sub as the ID token the
//! session was signed in with; then UserInfo with the new access token, about that same
//! subject. A refresh that fails any of these changes nothing about the session.
use crate::oidc::{self, RpConfig};
use crate::secret::Secret;
use openidconnect::core::CoreClient;
use openidconnect::{
    ClientId, ClientSecret, Nonce, OAuth2TokenResponse as _, RefreshToken, TokenResponse as _,
};

/// What the session keeps from its sign-in.
pub struct Original<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
}

/// The refreshed session's next refresh token (the OP may rotate it, or keep the old one).
pub struct Refreshed {
    pub refresh_token: Option<Secret>,
}

pub async fn refresh(
    http: &reqwest::Client,
    cfg: &RpConfig<'_>,
    refresh_token: &Secret,
    original: &Original<'_>,
) -> Result<Refreshed, String> {
    let meta = oidc::discover(http, cfg.discovery_url).await?;
    let userinfo_url = meta.userinfo_endpoint().map(|u| u.url().to_string());
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(cfg.client_id.to_string()),
        Some(ClientSecret::new(cfg.client_secret.expose().to_string())),
    );
    let token = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.expose().to_string()))
        .map_err(|e| format!("the provider has no token endpoint: {e}"))?
        .request_async(&crate::oidc_jwe::DecryptingHttp {
            http,
            key: cfg.enc_key,
        })
        .await
        .map_err(|e| format!("the refresh request failed: {}", oidc::error_chain(&e)))?;
    oidc::check_token_type(token.token_type())?;
    // OIDC Core 12.2: the refresh answer may omit the ID token; when it has one, it is
    // verified as at sign-in and must be about the same user from the same issuer.
    if let Some(id_token) = token.id_token() {
        let refused = |why: String| format!("the refreshed ID token was refused: {why}");
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, |_: Option<&Nonce>| Ok(()))
            .map_err(|e| refused(oidc::error_chain(&e)))?;
        oidc::check_claims(claims, cfg.client_id, oidc::unix_now())?;
        oidc::check_nbf(&id_token.to_string(), oidc::unix_now())?;
        // Not echoed: the page shows this reason, and the values are the OP's (or a forger's).
        if claims.issuer().as_str() != original.iss {
            return Err(refused(
                "its iss is not the original ID token's (OIDC Core 12.2)".into(),
            ));
        }
        if claims.subject().as_str() != original.sub {
            return Err(refused(
                "its sub is not the original ID token's (OIDC Core 12.2)".into(),
            ));
        }
    }
    if let Some(url) = &userinfo_url {
        crate::oidc_userinfo::check(
            http,
            url,
            token.access_token().secret(),
            original.sub,
            cfg.discovery_url,
            cfg.client_id,
        )
        .await?;
    }
    Ok(Refreshed {
        refresh_token: token
            .refresh_token()
            .map(|t| Secret::new(t.secret().clone())),
    })
}
