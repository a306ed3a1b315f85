//! The mock IdP and the reference SP started in-process (they are still reached only over
//! HTTP, exactly as a remote IdP or SP would be).
use std::any::Any;
use std::net::SocketAddr;

use crate::error::{HarnessError, Result};
use crate::secret::Secret;

/// A running mock IdP: base URL, DNS address, and what keeps it alive.
pub struct EmbeddedIdp {
    pub base_url: String,
    pub dns_addr: Option<SocketAddr>,
    pub guard: Box<dyn Any + Send + Sync>,
}

pub async fn start_mock_idp() -> Result<EmbeddedIdp> {
    let idp = mock_idp::server::serve(mock_idp::server::ServeOptions::default())
        .await
        .map_err(|e| HarnessError::Idp(format!("cannot start the in-process mock IdP: {e}")))?;
    Ok(EmbeddedIdp {
        base_url: idp.base_url().to_string(),
        dns_addr: Some(idp.dns_addr()),
        guard: Box::new(idp),
    })
}

/// One reference SP with its own SQLite file (removed with the guard) and test mode on.
struct SpGuard {
    _sp: reference_sp::RunningSp,
    _dir: tempfile::TempDir,
}

/// A Google-like provider for the SP's "Continue with Google" (a mock IdP tenant).
pub struct SocialProvider {
    /// Port the SP must listen on: its redirect URI was registered before it started.
    pub port: u16,
    pub discovery_url: String,
    pub client_id: String,
    pub client_secret: Secret,
}

pub async fn start_reference_sp(
    dns: Option<SocketAddr>,
    social: Option<SocialProvider>,
) -> Result<(String, Secret, Box<dyn Any + Send + Sync>)> {
    let dir = tempfile::Builder::new()
        .prefix("sso-harness-sp-")
        .tempdir()
        .map_err(|e| HarnessError::Target(format!("reference SP scratch dir: {e}")))?;
    let token = Secret::generate("admin");
    let mut opts = reference_sp::Options::new(dir.path().join("sp.sqlite"));
    opts.dns_server = dns;
    opts.admin_token = Some(reference_sp::Secret::new(token.expose().to_string()));
    opts.test_mode = true;
    if let Some(s) = social {
        opts.listen = SocketAddr::from(([127, 0, 0, 1], s.port));
        opts.social = Some(reference_sp::SocialOptions {
            discovery_url: s.discovery_url,
            client_id: s.client_id,
            client_secret: reference_sp::Secret::new(s.client_secret.expose().to_string()),
        });
    }
    let sp = reference_sp::serve(opts).await.map_err(|e| {
        HarnessError::Target(format!("cannot start the in-process reference SP: {e}"))
    })?;
    let base = sp.base_url().to_string();
    Ok((base, token, Box::new(SpGuard { _sp: sp, _dir: dir })))
}
