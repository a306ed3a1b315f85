//! What every handler shares: the database, the clock, the SP key, and the URL layout of the
//! contract (README "URLs of one organisation"). Handlers, the admin actions and the server
//! read it; it knows none of them.
use crate::certs::SpKey;
use crate::clock::Clock;
use crate::db::Db;
use crate::error::Error;
use crate::messages::Messages;
use crate::options::{Options, SocialOptions};
use crate::secret::Secret;
use crate::store::Product;
use proto::sp_admin::LastSso;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// The state as axum handlers receive it (`State<Shared>`).
pub type Shared = Arc<AppState>;

pub struct AppState {
    pub db: Db,
    base: String,
    pub admin_token: Option<Secret>,
    pub dns_server: Option<SocketAddr>,
    pub test_mode: bool,
    pub social: Option<SocialOptions>,
    /// The messages file's texts (the documented ones without a file).
    pub messages: Messages,
    pub clock: Clock,
    pub block_sso_lookup: AtomicBool,
    /// Test mode only: what the IdP sent in the last SSO sign-in, for an IdP administrator's
    /// checks (the decoded SAML response, or the ID token's header and claims).
    pub last_sso: Mutex<Option<serde_json::Value>>,
    pub sp_key: SpKey,
    /// Encrypted OIDC ID tokens are made to this key (`crate::oidc_jwe`).
    pub oidc_enc_key: crate::oidc_jwe::EncKey,
    /// For OIDC back-channel calls; never follows redirects (an OIDC requirement).
    pub http: reqwest::Client,
    /// Request objects waiting for the OP's fetch (`oidc_request_uri`).
    pub request_objects: crate::oidc_request_uri::Hosted,
}

impl AppState {
    pub fn new(options: &Options, base_url: &url::Url) -> Result<Self, Error> {
        // A bad messages file stops the start before the database is touched.
        let messages = match &options.messages {
            Some(path) => Messages::load(path)?,
            None => Messages::default(),
        };
        let db = Db::open(&options.db_path)?;
        let sp_key = crate::certs::load_or_create_sp_key(&db).map_err(Error::Key)?;
        let oidc_enc_key = crate::oidc_jwe::EncKey::load_or_create(&db).map_err(Error::Key)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Option {
                option: "http client",
                message: e.to_string(),
            })?;
        Ok(Self {
            db,
            base: base_url.as_str().trim_end_matches('/').to_string(),
            admin_token: options.admin_token.clone(),
            dns_server: options.dns_server.or_else(crate::dns::system_server),
            test_mode: options.test_mode,
            social: options.social.clone(),
            messages,
            clock: Clock::default(),
            block_sso_lookup: AtomicBool::new(false),
            last_sso: Mutex::new(None),
            sp_key,
            oidc_enc_key,
            http,
            request_objects: Default::default(),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }
    /// The relying party of an organisation's OIDC connection.
    pub fn org_rp<'a>(&'a self, o: &'a crate::store::OidcConfig) -> crate::oidc::RpConfig<'a> {
        crate::oidc::RpConfig {
            discovery_url: &o.discovery_url,
            client_id: &o.client_id,
            client_secret: &o.client_secret,
            redirect_uri: self.oidc_redirect_uri(),
            response_mode: o.response_mode.as_deref(),
            flow: o.flow,
            enc_key: &self.oidc_enc_key,
        }
    }

    /// The relying party of the Google-like social sign-in (the code flow, plain response).
    pub fn social_rp<'a>(&'a self, social: &'a SocialOptions) -> crate::oidc::RpConfig<'a> {
        crate::oidc::RpConfig {
            discovery_url: &social.discovery_url,
            client_id: &social.client_id,
            client_secret: &social.client_secret,
            redirect_uri: self.social_redirect_uri(),
            response_mode: None,
            flow: Default::default(),
            enc_key: &self.oidc_enc_key,
        }
    }
    pub fn acs_url(&self, org: &str) -> String {
        format!("{}/sso/saml/acs?connection={org}", self.base)
    }
    /// The SingleLogoutService of an organisation's SAML connection (both bindings).
    pub fn slo_url(&self, org: &str) -> String {
        format!("{}/sso/saml/slo?connection={org}", self.base)
    }
    pub fn entity_id(&self, org: &str) -> String {
        format!("urn:reference-sp:{org}")
    }
    pub fn metadata_url(&self, org: &str) -> String {
        format!("{}/sso/saml/metadata/{org}", self.base)
    }
    pub fn tile_url(&self, org: &str, product: Product) -> String {
        format!("{}/sso/tile/{org}/{}", self.base, product.as_str())
    }
    pub fn oidc_redirect_uri(&self) -> String {
        format!("{}/sso/oidc/callback", self.base)
    }
    /// Where the OP sends the browser after RP-initiated logout.
    pub fn oidc_post_logout_uri(&self) -> String {
        format!("{}/sso/oidc/signed-out", self.base)
    }
    pub fn social_redirect_uri(&self) -> String {
        format!("{}/sso/social/callback", self.base)
    }
    /// CFG-6: the generated direct sign-in link (application link).
    pub fn application_link(&self, org: &str) -> String {
        format!("{}/sso/start/{org}", self.base)
    }
    /// Keeps `record` as the last SSO evidence, in test mode only. Stored as a `Value`: the
    /// answer has always been a sorted-key object.
    pub fn record_sso(&self, record: LastSso) {
        if self.test_mode {
            if let (Ok(value), Ok(mut slot)) = (serde_json::to_value(record), self.last_sso.lock())
            {
                *slot = Some(value);
            }
        }
    }
    pub fn now(&self) -> i64 {
        self.clock.now_unix()
    }
}
