//! How the SP is started (`reference_sp::Options`): plain values, read by the shared state
//! and the server. It sits below both so that neither needs the crate root.
use crate::secret::Secret;
use std::net::SocketAddr;
use std::path::PathBuf;

/// A Google-like social sign-in provider (an OIDC provider, e.g. a mock IdP tenant with the
/// `google` profile).
#[derive(Debug, Clone)]
pub struct SocialOptions {
    pub discovery_url: String,
    pub client_id: String,
    pub client_secret: Secret,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    pub db_path: PathBuf,
    /// DNS server asked for domain-verification TXT records (UDP); the system's first
    /// nameserver when absent.
    pub dns_server: Option<SocketAddr>,
    /// Bearer token of the admin API; without one the admin API refuses every call.
    pub admin_token: Option<Secret>,
    /// The URL browsers use to reach this SP; `http://{bound address}` when absent.
    pub public_url: Option<url::Url>,
    /// Enables `/api/admin/test/*` (clock offset, blocking the SSO look-up).
    pub test_mode: bool,
    pub social: Option<SocialOptions>,
    /// A messages file (`--messages`): YAML mapping of message key to the text shown
    /// instead of the documented one (see README "Messages file"); documented texts when absent.
    pub messages: Option<PathBuf>,
}

impl Options {
    pub fn new(db_path: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            db_path: db_path.into(),
            dns_server: None,
            admin_token: None,
            public_url: None,
            test_mode: false,
            social: None,
            messages: None,
        }
    }
}
