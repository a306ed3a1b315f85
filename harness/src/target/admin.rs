//! Admin drivers: how set-up steps reach a target (its admin API, a config file, or a human).
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::HarnessError;
use crate::net::http_json::{CallError, call, parse};
use crate::secret::Secret;
use proto::sp_admin;

/// The answer to "create an organisation" (reference SP admin API contract).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrgInfo {
    pub org_id: String,
    #[serde(default)]
    pub acs_url: Option<String>,
    #[serde(default)]
    pub entity_id: Option<String>,
    #[serde(default)]
    pub metadata_url: Option<String>,
    #[serde(default)]
    pub tile_urls: Option<TileUrls>,
    #[serde(default)]
    pub oidc_redirect_uri: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TileUrls {
    #[serde(default)]
    pub workspace: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DomainAttempt {
    pub domain: String,
    pub txt_name: String,
    pub txt_value: String,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CheckResult {
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Why an admin action did not happen.
#[derive(Debug)]
pub enum AdminError {
    /// The SP refused by a documented rule (HTTP 409): scenarios may expect this.
    Refused(String),
    Failed(HarnessError),
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminError::Refused(m) => write!(f, "refused: {m}"),
            AdminError::Failed(e) => write!(f, "{e}"),
        }
    }
}

/// A typed request body of the reference SP's admin API (`proto::sp_admin`), secrets in
/// clear for their owner.
fn body<T: serde::Serialize>(t: &T) -> Option<Value> {
    proto::secret::to_request_value(t).ok()
}

/// A name enum's wire spelling (`enterprise`, `owner`, ...).
fn wire_name<T: serde::Serialize>(t: &T) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn admin_err(e: CallError) -> AdminError {
    if e.status == Some(409) {
        AdminError::Refused(e.message)
    } else {
        AdminError::Failed(HarnessError::Admin(e.to_string()))
    }
}

pub enum AdminDriver {
    ReferenceSpApi {
        base: String,
        token: Secret,
        http: reqwest::Client,
    },
    /// A real SP configured by files (crate::target::sp_config).
    ConfigTemplate {
        sp: std::sync::Arc<crate::target::sp_config::ConfigTemplateSp>,
    },
    Manual {
        org_id: String,
    },
}

/// What a manual driver did: nothing, but the log says what was assumed.
pub const MANUAL_NOTE: &str = "manual admin driver: assumed done by hand";

impl AdminDriver {
    pub fn reference_sp_api(base: &str, token: Secret) -> Self {
        Self::ReferenceSpApi {
            base: base.trim_end_matches('/').to_string(),
            token,
            http: reqwest::Client::new(),
        }
    }

    async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, AdminError> {
        match self {
            Self::ReferenceSpApi { base, token, http } => call(
                http,
                method,
                &format!("{base}{path}"),
                Some(token.expose()),
                body.as_ref(),
            )
            .await
            .map_err(admin_err),
            Self::ConfigTemplate { sp } => Err(AdminError::Failed(HarnessError::Admin(format!(
                "target {}: configured by files, it has no admin API for {method} {path}; scenarios for any SP use `connect:` instead",
                sp.target
            )))),
            Self::Manual { .. } => Ok(json!({ "note": MANUAL_NOTE })),
        }
    }

    /// Config-template targets: renders the SP's files from the trial's values and (re)starts
    /// it. None for other drivers, which are configured through their API.
    pub async fn apply_config(
        &self,
        vars: &crate::input::template::Vars,
    ) -> Option<Result<String, AdminError>> {
        match self {
            Self::ConfigTemplate { sp } => Some(sp.apply(vars).await.map_err(AdminError::Failed)),
            _ => None,
        }
    }

    pub fn is_manual(&self) -> bool {
        matches!(self, Self::Manual { .. })
    }

    pub async fn create_org(
        &self,
        name: &str,
        plan: &Value,
        billing: &Value,
    ) -> Result<OrgInfo, AdminError> {
        match self {
            Self::Manual { org_id } => {
                return Ok(OrgInfo {
                    org_id: org_id.clone(),
                    ..OrgInfo::default()
                });
            }
            // One SP, one "organisation": its URLs come from the target file's `sp:` block.
            Self::ConfigTemplate { .. } => {
                return Ok(OrgInfo {
                    org_id: "sp".into(),
                    ..OrgInfo::default()
                });
            }
            Self::ReferenceSpApi { .. } => {}
        }
        let v = self
            .api(
                reqwest::Method::POST,
                "/api/admin/orgs",
                body(&sp_admin::CreateOrg {
                    name: name.to_string(),
                    plan: wire_name(&plan),
                    billing: wire_name(&billing),
                }),
            )
            .await?;
        parse(v, "POST /api/admin/orgs").map_err(admin_err)
    }

    pub async fn add_user(&self, org: &str, user: &sp_admin::AddUser) -> Result<(), AdminError> {
        self.api(
            reqwest::Method::POST,
            &format!("/api/admin/orgs/{org}/users"),
            body(user),
        )
        .await
        .map(|_| ())
    }

    pub async fn add_domain(
        &self,
        org: &str,
        domain: &str,
    ) -> Result<Option<DomainAttempt>, AdminError> {
        if self.is_manual() {
            return Ok(None);
        }
        let v = self
            .api(
                reqwest::Method::POST,
                &format!("/api/admin/orgs/{org}/domains"),
                body(&sp_admin::AddDomain {
                    domain: domain.to_string(),
                }),
            )
            .await?;
        parse(v, "POST domains").map(Some).map_err(admin_err)
    }

    pub async fn check_domain(
        &self,
        org: &str,
        domain: &str,
    ) -> Result<Option<CheckResult>, AdminError> {
        if self.is_manual() {
            return Ok(None);
        }
        let v = self
            .api(
                reqwest::Method::POST,
                &format!("/api/admin/orgs/{org}/domains/{domain}/check"),
                None,
            )
            .await?;
        parse(v, "POST domains/check").map(Some).map_err(admin_err)
    }

    pub async fn configure_saml(
        &self,
        org: &str,
        sso_url: &str,
        certificate_pem: &str,
        idp_entity_id: Option<&str>,
        slo_url: Option<&str>,
    ) -> Result<(), AdminError> {
        let put = sp_admin::PutSaml {
            sso_url: sso_url.to_string(),
            certificate_pem: certificate_pem.to_string(),
            // Without it the SP pins the Issuer of the first response it accepts, so a
            // wrong-issuer fault on the very first sign-in would go unnoticed.
            idp_entity_id: idp_entity_id.map(str::to_string),
            // The IdP's SingleLogoutService: the SP's sign-out asks the IdP to end its session.
            slo_url: slo_url.map(str::to_string),
        };
        self.api(
            reqwest::Method::PUT,
            &format!("/api/admin/orgs/{org}/sso/saml"),
            body(&put),
        )
        .await
        .map(|_| ())
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn configure_oidc(
        &self,
        org: &str,
        idp_name: &str,
        client_id: &str,
        client_secret: &Secret,
        discovery_url: &str,
        response_mode: Option<&str>,
        response_type: Option<&str>,
        require_s_hash: bool,
    ) -> Result<(), AdminError> {
        self.api(
            reqwest::Method::PUT,
            &format!("/api/admin/orgs/{org}/sso/oidc"),
            body(&sp_admin::PutOidc {
                idp_name: idp_name.to_string(),
                client_id: client_id.to_string(),
                client_secret: client_secret.clone(),
                discovery_url: discovery_url.to_string(),
                response_mode: response_mode.map(str::to_string),
                response_type: response_type.map(str::to_string),
                require_s_hash,
            }),
        )
        .await
        .map(|_| ())
    }

    pub async fn set_sso(&self, org: &str, enabled: bool) -> Result<(), AdminError> {
        self.api(
            reqwest::Method::PUT,
            &format!("/api/admin/orgs/{org}/sso"),
            body(&sp_admin::PutSso {
                enabled,
                product: None,
            }),
        )
        .await
        .map(|_| ())
    }

    pub async fn set_enforce(&self, org: &str, enforced: bool) -> Result<(), AdminError> {
        self.api(
            reqwest::Method::PUT,
            &format!("/api/admin/orgs/{org}/enforce"),
            body(&sp_admin::PutEnforce { enforced }),
        )
        .await
        .map(|_| ())
    }

    pub async fn set_tile(&self, org: &str, active: &Value) -> Result<(), AdminError> {
        self.api(
            reqwest::Method::PUT,
            &format!("/api/admin/orgs/{org}/tile"),
            body(&sp_admin::PutTile {
                active: active.as_str().unwrap_or_default().to_string(),
            }),
        )
        .await
        .map(|_| ())
    }

    pub async fn set_clock(&self, offset_seconds: i64) -> Result<(), AdminError> {
        if self.is_manual() {
            return Err(AdminError::Failed(HarnessError::Admin(
                "a manually administered target has no test clock".into(),
            )));
        }
        self.api(
            reqwest::Method::PUT,
            "/api/admin/test/clock",
            body(&sp_admin::PutClock { offset_seconds }),
        )
        .await
        .map(|_| ())
    }

    pub async fn block_sso_lookup(&self, blocked: bool) -> Result<(), AdminError> {
        self.api(
            reqwest::Method::PUT,
            "/api/admin/test/block-sso-lookup",
            body(&sp_admin::PutBlockSsoLookup { blocked }),
        )
        .await
        .map(|_| ())
    }
}
