//! OpenID Connect relying party (custom OIDC connections, CFG-6 / LOGIN-7, and the
//! Google-like social sign-in): authorization code flow with PKCE, state and nonce; the ID
//! token is verified against the provider's discovery document and JWKS (openidconnect).
use crate::secret::Secret;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};

const WELL_KNOWN: &str = "/.well-known/openid-configuration";

pub struct RpConfig<'a> {
    pub discovery_url: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a Secret,
    pub redirect_uri: String,
}

/// What the callback needs to finish the flow; kept server-side, keyed by `state`.
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

#[derive(Debug, Clone)]
pub struct Claims {
    pub sub: String,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

/// Reads the discovery document; the issuer it names must be the one the discovery URL
/// belongs to (authentik: `https://host/application/o/<slug>/`).
async fn discover(
    http: &reqwest::Client,
    discovery_url: &str,
) -> Result<CoreProviderMetadata, String> {
    let url = url::Url::parse(discovery_url)
        .map_err(|e| format!("the discovery URL {discovery_url:?} is not a URL: {e}"))?;
    let doc: serde_json::Value = http
        .get(url.clone())
        .send()
        .await
        .map_err(|e| format!("cannot fetch the discovery document {url}: {e}"))?
        .error_for_status()
        .map_err(|e| format!("the discovery document {url} answered {e}"))?
        .json()
        .await
        .map_err(|e| format!("the discovery document {url} is not JSON: {e}"))?;
    let issuer = doc
        .get("issuer")
        .and_then(|v| v.as_str())
        .ok_or_else(|| format!("the discovery document {url} has no \"issuer\""))?;
    let expected = format!("{}{WELL_KNOWN}", issuer.trim_end_matches('/'));
    if expected != url.as_str() {
        return Err(format!(
            "the discovery document at {url} names the issuer {issuer:?}, whose discovery URL would be {expected}"
        ));
    }
    let issuer =
        IssuerUrl::new(issuer.to_string()).map_err(|e| format!("issuer {issuer:?}: {e}"))?;
    CoreProviderMetadata::discover_async(issuer, http)
        .await
        .map_err(|e| format!("OIDC discovery failed: {}", error_chain(&e)))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}

/// The provider's authorization URL for a fresh sign-in, and what to keep for the callback.
pub async fn begin(
    http: &reqwest::Client,
    cfg: &RpConfig<'_>,
    login_hint: Option<&str>,
) -> Result<(url::Url, Pending), String> {
    let meta = discover(http, cfg.discovery_url).await?;
    let redirect = RedirectUrl::new(cfg.redirect_uri.clone()).map_err(|e| e.to_string())?;
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(cfg.client_id.to_string()),
        Some(ClientSecret::new(cfg.client_secret.expose().to_string())),
    )
    .set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge);
    if let Some(hint) = login_hint {
        req = req.add_extra_param("login_hint", hint.to_string());
    }
    let (url, state, nonce) = req.url();
    Ok((
        url,
        Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        },
    ))
}

/// Exchanges the code, verifies the ID token (signature, issuer, audience, expiry, nonce).
/// `raw_id_token` receives the token as received, before it is verified (test-mode evidence).
pub async fn finish(
    http: &reqwest::Client,
    cfg: &RpConfig<'_>,
    code: &str,
    pending: &Pending,
    raw_id_token: &mut Option<String>,
) -> Result<Claims, String> {
    let meta = discover(http, cfg.discovery_url).await?;
    let redirect = RedirectUrl::new(cfg.redirect_uri.clone()).map_err(|e| e.to_string())?;
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(cfg.client_id.to_string()),
        Some(ClientSecret::new(cfg.client_secret.expose().to_string())),
    )
    .set_redirect_uri(redirect);
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(|e| format!("the provider has no token endpoint: {e}"))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
        .request_async(http)
        .await
        .map_err(|e| format!("the token request failed: {}", error_chain(&e)))?;
    let id_token = token
        .id_token()
        .ok_or("the token response has no id_token")?;
    *raw_id_token = Some(id_token.to_string());
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &Nonce::new(pending.nonce.clone()))
        .map_err(|e| format!("the ID token was refused: {}", error_chain(&e)))?;
    Ok(Claims {
        sub: claims.subject().as_str().to_string(),
        email: claims.email().map(|e| e.as_str().to_string()),
        given_name: claims
            .given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string()),
        family_name: claims
            .family_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string()),
    })
}
