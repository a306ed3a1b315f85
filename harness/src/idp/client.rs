//! Client of the mock IdP's JSON control API. Every body is a `proto::idp` type, the one
//! definition the mock IdP also reads: a field renamed there fails to compile here.
use serde::Deserialize;
use serde_json::Value;

use crate::error::{HarnessError, Result};
use crate::net::http_json::{CallError, call, parse};

use proto::idp::{
    App, ClockBody, FaultsBody, OidcClient, SpSpec, TenantSpec, TrialOverlay, TxtBody, UserPatch,
};
pub use proto::idp::{OidcInfo, SamlInfo, TenantInfo};
use proto::secret::to_request_value;

/// The last SAML response a tenant sent, exactly as posted (for replay scenarios).
#[derive(Debug, Clone, Deserialize)]
pub struct LastSamlResponse {
    /// Base64, as the IdP's form posted it; a captured credential, so kept as a secret.
    pub saml_response: crate::secret::Secret,
    #[serde(default)]
    pub relay_state: Option<String>,
    pub acs_url: String,
}

#[derive(Clone)]
pub struct IdpClient {
    base: String,
    http: reqwest::Client,
}

fn err(e: CallError) -> HarnessError {
    HarnessError::Idp(e.to_string())
}

impl IdpClient {
    /// `base` is the mock IdP's base URL, e.g. `http://127.0.0.1:PORT/`.
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
        }
    }

    pub fn base_url(&self) -> String {
        format!("{}/", self.base)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value> {
        call(&self.http, method, &self.url(path), None, body)
            .await
            .map_err(err)
    }

    /// Sends a typed body; secrets in it (passwords, client secrets) go out in clear, to
    /// their owner, and nowhere else.
    async fn send_typed<T: serde::Serialize>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &T,
    ) -> Result<Value> {
        let v = to_request_value(body).map_err(|e| HarnessError::Idp(format!("{path}: {e}")))?;
        self.send(method, path, Some(&v)).await
    }

    pub async fn create_tenant(&self, spec: &TenantSpec) -> Result<TenantInfo> {
        let v = self
            .send_typed(reqwest::Method::POST, "/_control/tenants", spec)
            .await?;
        parse(v, "POST /_control/tenants").map_err(err)
    }

    /// A tenant as it is now; `Ok(None)` when there is none by that id.
    pub async fn get_tenant(&self, id: &str) -> Result<Option<TenantInfo>> {
        match call(
            &self.http,
            reqwest::Method::GET,
            &self.url(&format!("/_control/tenants/{id}")),
            None,
            None,
        )
        .await
        {
            Ok(v) => parse(v, "GET /_control/tenants/{id}")
                .map(Some)
                .map_err(err),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    /// Takes a pinned tenant for one trial and applies the trial's users, faults, clock and
    /// SAML/OIDC options to it. `Ok(None)`: another trial holds it now (HTTP 409).
    pub async fn begin_trial(
        &self,
        id: &str,
        overlay: &TrialOverlay,
    ) -> Result<Option<TenantInfo>> {
        let path = format!("/_control/tenants/{id}/trial");
        let v = to_request_value(overlay).map_err(|e| HarnessError::Idp(format!("{path}: {e}")))?;
        match call(
            &self.http,
            reqwest::Method::PUT,
            &self.url(&path),
            None,
            Some(&v),
        )
        .await
        {
            Ok(v) => parse(v, "PUT .../trial").map(Some).map_err(err),
            Err(e) if e.status == Some(409) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    /// Puts a pinned tenant back as it was set up (its persisted base) and frees it.
    pub async fn end_trial(&self, id: &str, trial_id: &str) -> Result<()> {
        self.send(
            reqwest::Method::DELETE,
            &format!("/_control/tenants/{id}/trial?trial_id={trial_id}"),
            None,
        )
        .await
        .map(|_| ())
    }

    /// The secret of a pinned tenant's OIDC client, for `staging init` to print again.
    pub async fn oidc_client_secret(
        &self,
        id: &str,
        client_id: &str,
    ) -> Result<crate::secret::Secret> {
        let v = self
            .send(
                reqwest::Method::GET,
                &format!("/_control/tenants/{id}/oidc/clients/{client_id}/secret"),
                None,
            )
            .await?;
        let body: proto::idp::ClientSecretBody =
            parse(v, "GET .../oidc/clients/{client_id}/secret").map_err(err)?;
        Ok(body.client_secret)
    }

    pub async fn delete_tenant(&self, id: &str) -> Result<()> {
        self.send(
            reqwest::Method::DELETE,
            &format!("/_control/tenants/{id}"),
            None,
        )
        .await
        .map(|_| ())
    }

    pub async fn put_sp(&self, id: &str, sp: &SpSpec) -> Result<()> {
        self.send_typed(
            reqwest::Method::PUT,
            &format!("/_control/tenants/{id}/sp"),
            sp,
        )
        .await
        .map(|_| ())
    }

    pub async fn set_faults(&self, id: &str, faults: &FaultsBody, next_only: bool) -> Result<()> {
        let (method, path) = if next_only {
            (
                reqwest::Method::POST,
                format!("/_control/tenants/{id}/faults/next"),
            )
        } else {
            (
                reqwest::Method::PUT,
                format!("/_control/tenants/{id}/faults"),
            )
        };
        self.send_typed(method, &path, faults).await.map(|_| ())
    }

    pub async fn set_clock(&self, id: &str, offset_seconds: i64) -> Result<()> {
        self.send_typed(
            reqwest::Method::PUT,
            &format!("/_control/tenants/{id}/clock"),
            &ClockBody { offset_seconds },
        )
        .await
        .map(|_| ())
    }

    pub async fn patch_user(&self, id: &str, email: &str, changes: &UserPatch) -> Result<()> {
        self.send_typed(
            reqwest::Method::PATCH,
            &format!("/_control/tenants/{id}/users/{email}"),
            changes,
        )
        .await
        .map(|_| ())
    }

    pub async fn put_apps(&self, id: &str, apps: &[App]) -> Result<()> {
        self.send_typed(
            reqwest::Method::PUT,
            &format!("/_control/tenants/{id}/apps"),
            &apps,
        )
        .await
        .map(|_| ())
    }

    pub async fn add_oidc_client(&self, id: &str, client: &OidcClient) -> Result<()> {
        self.send_typed(
            reqwest::Method::POST,
            &format!("/_control/tenants/{id}/oidc/clients"),
            client,
        )
        .await
        .map(|_| ())
    }

    pub async fn exchanges(&self, id: &str) -> Result<Vec<Value>> {
        let v = self
            .send(
                reqwest::Method::GET,
                &format!("/_control/tenants/{id}/exchanges"),
                None,
            )
            .await?;
        parse(v, "GET exchanges").map_err(err)
    }

    /// The mock IdP's DNS server (`GET /_control/dns`), which answers the TXT records of
    /// domain verification: an SP started for a trial is given it.
    pub async fn dns_addr(&self) -> Result<std::net::SocketAddr> {
        #[derive(Deserialize)]
        struct Dns {
            addr: String,
        }
        let v = self
            .send(reqwest::Method::GET, "/_control/dns", None)
            .await?;
        let dns: Dns = parse(v, "GET /_control/dns").map_err(err)?;
        dns.addr.parse().map_err(|e| {
            HarnessError::Idp(format!(
                "GET /_control/dns: {:?} is not an address: {e}",
                dns.addr
            ))
        })
    }

    /// `GET /_control/tenants/{id}/saml/last-response`.
    pub async fn last_saml_response(&self, id: &str) -> Result<LastSamlResponse> {
        let v = self
            .send(
                reqwest::Method::GET,
                &format!("/_control/tenants/{id}/saml/last-response"),
                None,
            )
            .await?;
        parse(v, "GET saml/last-response").map_err(err)
    }

    pub async fn add_txt(&self, name: &str, value: &str) -> Result<()> {
        self.send_typed(
            reqwest::Method::POST,
            "/_control/dns/txt",
            &TxtBody {
                name: name.into(),
                value: value.into(),
            },
        )
        .await
        .map(|_| ())
    }

    pub async fn remove_txt(&self, name: &str, value: &str) -> Result<()> {
        self.send_typed(
            reqwest::Method::DELETE,
            "/_control/dns/txt",
            &TxtBody {
                name: name.into(),
                value: value.into(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `POST /_control/tenants/{id}/oidc/rotate`: the OP's signing key changes.
    pub async fn rotate_oidc_keys(
        &self,
        id: &str,
        body: &proto::oidc_forge::RotateBody,
    ) -> Result<proto::oidc_forge::RotateAnswer> {
        let v = self
            .send_typed(
                reqwest::Method::POST,
                &format!("/_control/tenants/{id}/oidc/rotate"),
                body,
            )
            .await?;
        parse(v, "POST oidc/rotate").map_err(err)
    }

    /// `GET /_control/tenants/{id}/oidc/provider`.
    pub async fn oidc_provider(&self, id: &str) -> Result<proto::oidc_forge::ProviderSettings> {
        let v = self
            .send(
                reqwest::Method::GET,
                &format!("/_control/tenants/{id}/oidc/provider"),
                None,
            )
            .await?;
        parse(v, "GET oidc/provider").map_err(err)
    }

    /// `PUT /_control/tenants/{id}/oidc/provider`.
    pub async fn put_oidc_provider(
        &self,
        id: &str,
        settings: &proto::oidc_forge::ProviderSettings,
    ) -> Result<()> {
        self.send_typed(
            reqwest::Method::PUT,
            &format!("/_control/tenants/{id}/oidc/provider"),
            settings,
        )
        .await
        .map(|_| ())
    }

    /// `POST /_control/tenants/{id}/oidc/backchannel-logout`: the mock OP posts a logout
    /// token to the RP and answers what the RP said.
    pub async fn backchannel_logout(
        &self,
        id: &str,
        req: &proto::oidc_forge::LogoutRequest,
    ) -> Result<proto::oidc_forge::LogoutAnswer> {
        let v = self
            .send_typed(
                reqwest::Method::POST,
                &format!("/_control/tenants/{id}/oidc/backchannel-logout"),
                req,
            )
            .await?;
        parse(v, "POST oidc/backchannel-logout").map_err(err)
    }

    /// `GET /_control/tenants/{id}/oidc/requests[?kind=]`: what the RP sent the mock OP.
    pub async fn oidc_requests(
        &self,
        id: &str,
        kind: Option<&str>,
    ) -> Result<proto::idp::RequestsAnswer> {
        let query = kind
            .map(|k| {
                format!(
                    "?kind={}",
                    url::form_urlencoded::byte_serialize(k.as_bytes()).collect::<String>()
                )
            })
            .unwrap_or_default();
        let v = self
            .send(
                reqwest::Method::GET,
                &format!("/_control/tenants/{id}/oidc/requests{query}"),
                None,
            )
            .await?;
        parse(v, "GET oidc/requests").map_err(err)
    }
}
