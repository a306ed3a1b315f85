//! `staging:` of a target file: an SP a person configured by hand, once, with the values of
//! one pinned mock IdP tenant (`sso-harness staging init` prints them). Every trial on such a
//! target uses that tenant (its key and certificate survive restarts in `idp.state_dir`),
//! applies its users, faults and clock to it for the trial's duration, and treats the set-up
//! the person did at init as already done instead of pretending to do it again.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::scenario::schema::{Profile, Protocol};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StagingSpec {
    /// The pinned tenant's id on the mock IdP (`[a-z0-9-]`, at most 40).
    pub tenant: String,
    /// The protocol the SP's organisation was configured with; scenarios of the other one
    /// are skipped with that reason (an organisation has one SSO connection at a time).
    pub protocol: Protocol,
    /// The IdP profile the tenant imitates (URL layout, attribute and claim names); fixed,
    /// because the SP stored the URLs of this layout.
    #[serde(default)]
    pub profile: Profile,
    pub idp: StagingIdp,
    /// Domains the person verified for the organisation at init.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Users the person invited to the organisation at init (emails).
    #[serde(default)]
    pub users: Vec<String>,
}

/// Where the mock IdP of a staging target lives. Its address is fixed: the SP stored URLs
/// that contain it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StagingIdp {
    /// Where browsers and the SP reach the mock IdP, e.g. `http://127.0.0.1:8790/`. When
    /// nothing answers there, the harness serves it itself, on that port.
    pub url: url::Url,
    /// The tenant's key, certificate and OIDC clients, relative to the target file. Back it
    /// up: a new key means configuring the SP again.
    pub state_dir: PathBuf,
    /// The mock IdP's DNS server, for SPs that verify domains against it (fixed too).
    #[serde(default)]
    pub dns: Option<SocketAddr>,
}

impl StagingSpec {
    /// Checks what serde cannot: the tenant id's syntax and the IdP URL's shape.
    pub fn check(&self) -> Result<(), String> {
        let id_ok = !self.tenant.is_empty()
            && self.tenant.len() <= 40
            && self
                .tenant
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(format!(
                "staging.tenant: {:?} must be 1 to 40 of a-z, 0-9 and '-'",
                self.tenant
            ));
        }
        if !matches!(self.idp.url.scheme(), "http" | "https")
            || self.idp.url.port_or_known_default().is_none()
        {
            return Err(format!(
                "staging.idp.url: {} must be an http(s) URL with a host and port",
                self.idp.url
            ));
        }
        if self.idp.state_dir.as_os_str().is_empty() {
            return Err("staging.idp.state_dir: must not be empty".into());
        }
        Ok(())
    }

    /// The state directory, relative to the target file's folder unless absolute.
    pub fn state_dir(&self, target_file: &Path) -> PathBuf {
        if self.idp.state_dir.is_absolute() {
            self.idp.state_dir.clone()
        } else {
            target_file
                .parent()
                .unwrap_or(Path::new("."))
                .join(&self.idp.state_dir)
        }
    }

    /// The base URL with a trailing slash.
    pub fn idp_url(&self) -> String {
        let u = self.idp.url.to_string();
        if u.ends_with('/') { u } else { format!("{u}/") }
    }

    pub fn has_domain(&self, domain: &str) -> bool {
        self.domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(domain.trim()))
    }

    pub fn has_user(&self, email: &str) -> bool {
        self.users
            .iter()
            .any(|u| u.eq_ignore_ascii_case(email.trim()))
    }
}

/// Whether a URL host is this machine's loopback (what an SP elsewhere cannot reach).
pub fn is_loopback(host: Option<&str>) -> bool {
    matches!(host, Some("127.0.0.1" | "localhost" | "[::1]" | "::1"))
}
