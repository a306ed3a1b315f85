//! What one tenant's OIDC provider remembers between requests: authorization requests waiting
//! for a login, issued codes and access tokens, and its parsed signing keys. It lives inside
//! the tenant, so deleting a tenant forgets all of it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::fault::Fault;
use crate::secret::Secret;

use proto::oidc_forge::ForgeSpec;

use super::forge::state::TenantForge;
use super::jwt::SigningKey;

/// How long an authorization code may wait for the token request (tenant clock).
pub const CODE_SECONDS: i64 = 60;
/// How long an access token is good for userinfo.
pub const ACCESS_TOKEN_SECONDS: i64 = 3600;
/// Entries kept per map at most; the oldest are dropped first so a long run cannot grow
/// without bound.
const MAX_ENTRIES: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceMethod {
    S256,
    Plain,
}

/// A JWT response mode (JARM: JWT Secured Authorization Response Mode): how the signed
/// `response` parameter travels back to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JarmMode {
    /// `query.jwt`, and `jwt` with the code flow: in the redirect's query.
    Query,
    /// `form_post.jwt`: an auto-submitted form.
    FormPost,
    /// `fragment.jwt`: in the redirect's fragment.
    Fragment,
}

impl JarmMode {
    /// The JARM mode a `response_mode` value asks for; `None` for the plain modes.
    pub fn parse(response_mode: &str) -> Option<Self> {
        match response_mode {
            "jwt" | "query.jwt" => Some(Self::Query),
            "form_post.jwt" => Some(Self::FormPost),
            "fragment.jwt" => Some(Self::Fragment),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query.jwt",
            Self::FormPost => "form_post.jwt",
            Self::Fragment => "fragment.jwt",
        }
    }
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<(String, PkceMethod)>,
    /// Set when the client asked for a JARM response.
    pub jarm: Option<JarmMode>,
    /// What the authorization endpoint returns besides the code (hybrid flow).
    pub response_type: super::hybrid::ResponseType,
    pub response_mode: super::hybrid::ResponseMode,
}

/// An issued, not yet redeemed authorization code.
#[derive(Debug, Clone)]
pub struct CodeGrant {
    pub request: AuthRequest,
    /// The OP session's public id for the ID token (`sid`), for a client with a
    /// front-channel logout URI.
    pub sid: Option<String>,
    pub user_uid: String,
    pub auth_time: i64,
    pub expires_at: i64,
    /// The faults chosen when the user was sent back: one sign-in is one "response".
    pub faults: Vec<Fault>,
    /// The forge chosen at the same moment (`oidc::forge`), if any.
    pub forge: Option<Arc<ForgeSpec>>,
}

#[derive(Debug, Clone)]
pub struct AccessGrant {
    pub client_id: String,
    /// The scope values granted: what UserInfo may release (`claims::released`).
    pub scopes: Vec<String>,
    pub user_uid: String,
    pub expires_at: i64,
    pub faults: Vec<Fault>,
    pub forge: Option<Arc<ForgeSpec>>,
    /// Issued by a `refresh_token` grant (the exchange log says so for userinfo calls).
    pub refreshed: bool,
}

/// An issued refresh token: what the sign-in it came from granted. Refresh tokens rotate:
/// each refresh answers a new one and the presented one is spent.
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub client_id: String,
    pub user_uid: String,
    pub scopes: Vec<String>,
    /// The original sign-in's (OIDC Core 12.2: a refreshed ID token keeps it).
    pub auth_time: i64,
    pub faults: Vec<Fault>,
    pub forge: Option<Arc<ForgeSpec>>,
}

/// The tenant's signing key and the next key of its rotation, as JWS keys.
#[derive(Debug, Clone)]
pub struct OidcKeys {
    pub current: SigningKey,
    pub next: SigningKey,
}

/// A map whose keys are one-time secrets (codes, tokens, flow ids): `Debug` shows only how
/// many there are.
pub struct SecretMap<V> {
    entries: HashMap<String, (u64, V)>,
    counter: u64,
}

impl<V> Default for SecretMap<V> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            counter: 0,
        }
    }
}

impl<V> std::fmt::Debug for SecretMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} entries", self.entries.len())
    }
}

impl<V> SecretMap<V> {
    pub fn insert(&mut self, key: &Secret, value: V) {
        if self.entries.len() >= MAX_ENTRIES {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (n, _))| *n)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.entries.remove(&k);
            }
        }
        self.counter += 1;
        self.entries
            .insert(key.expose().to_string(), (self.counter, value));
    }

    /// Removes and returns: codes and flows are single use.
    pub fn take(&mut self, key: &str) -> Option<V> {
        self.entries.remove(key).map(|(_, v)| v)
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries.get(key).map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// An authorization request pushed to the PAR endpoint, waiting for its one use.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub client_id: String,
    pub params: HashMap<String, String>,
    pub expires_at: i64,
    /// How the log showed the request object inside the push, if there was one.
    pub object: Option<serde_json::Value>,
}

/// Per-tenant OIDC state.
#[derive(Debug, Default)]
pub struct TenantOidc {
    /// Flow id (hidden field of the login form) -> the request waiting for a login.
    pub pending: SecretMap<AuthRequest>,
    pub codes: SecretMap<CodeGrant>,
    pub access_tokens: SecretMap<AccessGrant>,
    pub refresh_tokens: SecretMap<RefreshGrant>,
    /// (client_id, user uid) -> the `sid` of the last ID token issued to that client for that
    /// user: a logout token for them carries it too (Back-Channel Logout 1.0, 2.4), since an
    /// RP that got a sid indexes its sessions by it.
    pub sids: std::collections::BTreeMap<(String, String), String>,
    /// Made on first use from the tenant's keys, then kept: parsed once, not per token.
    pub keys: Option<Arc<OidcKeys>>,
    /// Forges, extra keys and provider settings (`oidc::forge`).
    pub forge: TenantForge,
    /// Access token of a distributed claims source -> what the claims endpoint answers it.
    pub claim_tokens: SecretMap<DistributedClaims>,
    /// Handle of an issued PAR request_uri -> the request pushed (`oidc::par`), one use.
    pub pushed: SecretMap<Pushed>,
}

/// What the claims endpoint (`oidc::distributed`) answers one access token: the source's
/// signed JWT, until the UserInfo access token it came with expires.
#[derive(Debug, Clone)]
pub struct DistributedClaims {
    pub source: String,
    pub jwt: String,
    pub expires_at: i64,
}

/// A fresh unguessable value for codes, tokens and flow ids.
pub fn new_secret() -> Secret {
    Secret::new(hex::encode(rand::random::<[u8; 24]>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_keys() {
        let mut m = SecretMap::default();
        let s = new_secret();
        m.insert(&s, 1);
        let shown = format!("{m:?}");
        assert!(!shown.contains(s.expose()), "{shown}");
        assert_eq!(m.take(s.expose()), Some(1));
        assert_eq!(m.take(s.expose()), None, "single use");
    }

    #[test]
    fn oldest_entries_are_dropped_at_the_limit() {
        let mut m = SecretMap::default();
        let first = new_secret();
        m.insert(&first, 0);
        for i in 1..=MAX_ENTRIES {
            m.insert(&new_secret(), i);
        }
        assert_eq!(m.len(), MAX_ENTRIES);
        assert!(m.get(first.expose()).is_none());
    }
}
