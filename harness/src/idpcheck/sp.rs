//! The SP side of an IdP check: the reference SP started in-process on the port the IdP
//! application was registered with, one organisation with the descriptor's ID, the users'
//! domain verified (through the mock IdP's DNS server, started only for that), the users as
//! members, and the connection configured as a customer would (discovery URL + client, or
//! SSO URL + certificate).
use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::error::{HarnessError, Result};
use crate::net::http_json::call;
use crate::secret::Secret;
use crate::target::embedded::{EmbeddedIdp, start_mock_idp};

pub struct SpUnderCheck {
    pub base: String,
    pub org_id: String,
    token: Secret,
    http: reqwest::Client,
    idp: EmbeddedIdp,
    _sp: reference_sp::RunningSp,
    _dir: crate::children::registry::Scratch,
}

fn admin_err(e: impl std::fmt::Display) -> HarnessError {
    HarnessError::Admin(format!("reference SP: {e}"))
}

impl SpUnderCheck {
    pub async fn start(port: u16, org_id: &str) -> Result<Self> {
        let idp = start_mock_idp().await?;
        let dir = crate::children::registry::run()
            .scratch("sso-harness-idpcheck-sp-")
            .map_err(|e| HarnessError::Target(format!("reference SP scratch dir: {e}")))?;
        let token = Secret::generate("admin");
        let mut opts = reference_sp::Options::new(dir.path().join("sp.sqlite"));
        opts.listen = SocketAddr::from(([127, 0, 0, 1], port));
        opts.dns_server = idp.dns_addr;
        opts.admin_token = Some(token.clone());
        opts.test_mode = true;
        let sp = reference_sp::serve(opts).await.map_err(|e| {
            HarnessError::Target(format!(
                "cannot start the reference SP on 127.0.0.1:{port} (the port the IdP application was registered with): {e}"
            ))
        })?;
        let base = sp.base_url().to_string().trim_end_matches('/').to_string();
        let me = Self {
            base,
            org_id: org_id.to_string(),
            token,
            http: reqwest::Client::new(),
            idp,
            _sp: sp,
            _dir: dir,
        };
        me.admin(
            reqwest::Method::POST,
            "/api/admin/test/orgs",
            Some(json!({"org_id": org_id, "name": "IdP check", "plan": "enterprise", "billing": "custom"})),
        )
        .await?;
        Ok(me)
    }

    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        call(
            &self.http,
            method,
            &format!("{}{path}", self.base),
            Some(self.token.expose()),
            body.as_ref(),
        )
        .await
        .map_err(admin_err)
    }

    fn org_path(&self, rest: &str) -> String {
        format!("/api/admin/orgs/{}{rest}", self.org_id)
    }

    /// Publishes the SP's TXT record in the mock IdP's DNS and presses Check.
    pub async fn verify_domain(&self, domain: &str) -> Result<()> {
        let d = self
            .admin(
                reqwest::Method::POST,
                &self.org_path("/domains"),
                Some(json!({ "domain": domain })),
            )
            .await?;
        let (Some(name), Some(value)) = (d["txt_name"].as_str(), d["txt_value"].as_str()) else {
            return Err(admin_err(format!(
                "unexpected answer to adding {domain}: {d}"
            )));
        };
        call(
            &self.http,
            reqwest::Method::POST,
            &format!(
                "{}/_control/dns/txt",
                self.idp.base_url.trim_end_matches('/')
            ),
            None,
            Some(&json!({ "name": name, "value": value })),
        )
        .await
        .map_err(|e| HarnessError::Idp(e.to_string()))?;
        let r = self
            .admin(
                reqwest::Method::POST,
                &self.org_path(&format!("/domains/{domain}/check")),
                None,
            )
            .await?;
        if r["status"] != "verified" {
            return Err(admin_err(format!("domain {domain} did not verify: {r}")));
        }
        Ok(())
    }

    pub async fn add_member(&self, email: &str) -> Result<()> {
        self.admin(
            reqwest::Method::POST,
            &self.org_path("/users"),
            Some(json!({ "email": email, "role": "member", "method": "sso" })),
        )
        .await
        .map(|_| ())
    }

    pub async fn configure_oidc(
        &self,
        client_id: &str,
        client_secret: &Secret,
        discovery_url: &str,
    ) -> Result<()> {
        self.admin(
            reqwest::Method::PUT,
            &self.org_path("/sso/oidc"),
            Some(json!({
                "idp_name": "IdP under check",
                "client_id": client_id,
                "client_secret": client_secret.expose(),
                "discovery_url": discovery_url,
            })),
        )
        .await?;
        self.enable().await
    }

    pub async fn configure_saml(
        &self,
        sso_url: &str,
        certificate_pem: &str,
        idp_entity_id: Option<&str>,
    ) -> Result<()> {
        let mut body = json!({ "sso_url": sso_url, "certificate_pem": certificate_pem });
        if let Some(e) = idp_entity_id {
            body["idp_entity_id"] = json!(e);
        }
        self.admin(
            reqwest::Method::PUT,
            &self.org_path("/sso/saml"),
            Some(body),
        )
        .await?;
        self.enable().await
    }

    async fn enable(&self) -> Result<()> {
        self.admin(
            reqwest::Method::PUT,
            &self.org_path("/sso"),
            Some(json!({ "enabled": true })),
        )
        .await
        .map(|_| ())
    }

    /// What the IdP sent in the last SSO sign-in (`null` when nothing reached the SP).
    pub async fn last_sso(&self) -> Result<Value> {
        self.admin(reqwest::Method::GET, "/api/admin/test/last-sso", None)
            .await
    }

    pub async fn clear_last_sso(&self) -> Result<()> {
        self.admin(reqwest::Method::DELETE, "/api/admin/test/last-sso", None)
            .await
            .map(|_| ())
    }

    pub fn login_url(&self) -> String {
        format!("{}/login", self.base)
    }
    pub fn redirect_uri(&self) -> String {
        format!("{}/sso/oidc/callback", self.base)
    }
    pub fn application_link(&self) -> String {
        format!("{}/sso/start/{}", self.base, self.org_id)
    }
    pub fn acs_url(&self) -> String {
        format!("{}/sso/saml/acs?connection={}", self.base, self.org_id)
    }
    pub fn entity_id(&self) -> String {
        format!("urn:reference-sp:{}", self.org_id)
    }
}

/// The ACS URL, entity ID and redirect URI of an SP on `port` (known before it starts, as
/// the IdP application must be registered with them).
pub fn sp_urls(port: u16, org_id: &str) -> (String, String, String) {
    let base = format!("http://127.0.0.1:{port}");
    (
        format!("{base}/sso/saml/acs?connection={org_id}"),
        format!("urn:reference-sp:{org_id}"),
        format!("{base}/sso/oidc/callback"),
    )
}
