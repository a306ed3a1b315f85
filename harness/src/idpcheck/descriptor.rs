//! IdP descriptors (`targets/idp/*.yaml`): which IdP application to check, how to get through
//! its login page, and with which users. Secrets are named by environment variable, never
//! written in the file; a descriptor with a `launch:` block describes a local peer the harness
//! starts itself (and then makes up its own secrets).
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{HarnessError, Result};
use crate::input::location::{Located, Location};
use crate::input::yaml::parse_yaml;
use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdpKind {
    Authentik,
    Okta,
    GenericOidc,
    GenericSaml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Oidc,
    Saml,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Oidc => "oidc",
            Protocol::Saml => "saml",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpDescriptor {
    /// A name for reports.
    pub idp: String,
    pub kind: IdpKind,
    #[serde(default)]
    pub oidc: Option<OidcApp>,
    #[serde(default)]
    pub saml: Option<SamlApp>,
    pub login: LoginPage,
    pub users: Users,
    #[serde(default)]
    pub sp: SpSide,
    /// Only for local peers the harness starts; a real tenant's descriptor has none.
    #[serde(default)]
    pub launch: Option<Launch>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcApp {
    /// `https://<host>/application/o/<slug>/.well-known/openid-configuration` for authentik.
    #[serde(default)]
    pub discovery_url: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    /// Name of the environment variable holding the client secret.
    #[serde(default)]
    pub client_secret_env: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlApp {
    /// The IdP metadata URL of the application (Okta: "Identity Provider metadata").
    #[serde(default)]
    pub metadata_url: Option<String>,
    /// The application's IdP-initiated link (Okta: the app's embed link), for the Tile check.
    #[serde(default)]
    pub idp_initiated_url: Option<String>,
}

/// CSS selectors of the IdP's login page.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginPage {
    pub username: String,
    pub password: String,
    pub submit: String,
    /// Two-step pages (Okta Identity Engine, authentik): pressed after the username.
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Users {
    /// A user assigned to the application (in its group).
    pub in_group: User,
    /// A user of the same domain who is not assigned to the application.
    pub out_of_group: User,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// What is typed into the login page (defaults to the email).
    #[serde(default)]
    pub username: Option<String>,
    pub email: String,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    /// Name of the environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
}

impl User {
    pub fn login_name(&self) -> &str {
        self.username.as_deref().unwrap_or(&self.email)
    }
    pub fn domain(&self) -> &str {
        self.email.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

/// How the reference SP must run so that what was registered at the IdP matches it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpSide {
    /// Loopback port of the SP (the redirect URI / ACS URL registered at the IdP use it);
    /// a free port when absent (only sensible for launched peers).
    #[serde(default)]
    pub port: Option<u16>,
    /// Organisation ID in the ACS URL (`?connection=`) and Audience (`urn:reference-sp:<id>`).
    #[serde(default = "default_org_id")]
    pub org_id: String,
}

fn default_org_id() -> String {
    "org-idpcheck".to_string()
}

impl Default for SpSide {
    fn default() -> Self {
        Self {
            port: None,
            org_id: default_org_id(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Peer {
    /// node oidc-provider at `/application/o/<slug>/` (peers/node/authentik-like.mjs).
    OidcProvider,
    /// SimpleSAMLphp under Apache (peers/simplesamlphp/).
    Simplesamlphp,
    /// The workspace's mock IdP started in-process, one tenant shaped by `profile` and
    /// `idp_faults`. Its OIDC authorization endpoint answers a request without a session
    /// with its login form (HTTP 200), as Keycloak and many other IdPs do.
    MockIdp,
}

/// A misconfiguration to build into the launched peer's application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerFault {
    /// The application releases no `family_name` (OIDC) / surname (SAML).
    MissingFamilyName,
    /// Another redirect URI than the product's is registered.
    WrongRedirectUri,
    /// ID tokens signed with HS256 (authentik without a signing key).
    IdTokenHs256,
    /// The assertion is encrypted.
    EncryptedAssertion,
    /// Neither response nor assertion is signed.
    UnsignedResponse,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Launch {
    pub peer: Peer,
    /// authentik application slug (OIDC peer).
    #[serde(default = "default_slug")]
    pub slug: String,
    #[serde(default)]
    pub faults: Vec<PeerFault>,
    /// mock-idp only: which IdP the tenant imitates (`okta`, `authentik`, `keycloak`, ...).
    #[serde(default)]
    pub profile: Option<proto::profile::Profile>,
    /// mock-idp only: the mock IdP's own faults (`mock-idp faults` lists them), standing for
    /// every response, e.g. `id_token_missing_email` or `no_name_attributes`.
    #[serde(default)]
    pub idp_faults: Vec<proto::fault::Fault>,
}

fn default_slug() -> String {
    "chatgpt".to_string()
}

/// A descriptor and its file.
#[derive(Debug, Clone)]
pub struct LoadedDescriptor {
    pub path: PathBuf,
    pub descriptor: IdpDescriptor,
    /// The file's text, to point at the line that names a missing environment variable.
    pub text: String,
}

impl LoadedDescriptor {
    pub fn protocol(&self) -> Protocol {
        if self.descriptor.saml.is_some() {
            Protocol::Saml
        } else {
            Protocol::Oidc
        }
    }

    /// The value of the environment variable `var_key` names, or an error naming the file,
    /// the key and the variable.
    pub fn secret_from_env(&self, key: &str, var: Option<&str>) -> Result<Secret> {
        let Some(var) = var else {
            return Err(HarnessError::Target(format!(
                "{}: {key}: missing (name the environment variable that holds it)",
                self.path.display()
            )));
        };
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
            _ => {
                let leaf = key.rsplit('.').next().unwrap_or(key);
                let location = self
                    .text
                    .lines()
                    .enumerate()
                    .find_map(|(i, l)| l.find(var).filter(|_| l.contains(leaf)).map(|c| (i, c)))
                    .map(|(i, c)| Location::new(&self.path, i + 1, c + 1))
                    .unwrap_or_else(|| Location::start_of(&self.path));
                Err(HarnessError::Target(format!(
                    "{location}: {key}: environment variable {var} is not set"
                )))
            }
        }
    }
}

/// Reads and checks one descriptor; every error names file:line:col and the key.
pub fn load_descriptor(path: &Path) -> Result<LoadedDescriptor> {
    let text = crate::input::read::read_text(path).map_err(|e| HarnessError::Load(vec![e]))?;
    let descriptor = parse_descriptor(&text, path).map_err(|e| HarnessError::Load(vec![e]))?;
    Ok(LoadedDescriptor {
        path: path.to_path_buf(),
        descriptor,
        text,
    })
}

/// Typed parse plus the rules serde cannot express.
pub fn parse_descriptor(text: &str, file: &Path) -> std::result::Result<IdpDescriptor, Located> {
    let d: IdpDescriptor = parse_yaml(text, file)?;
    let at = |key: &str, message: String| Located {
        location: key_location(text, file, key),
        message: format!("{key}: {message}"),
    };
    // authentik and Okta both offer OIDC and SAML applications; only the generic kinds fix one.
    let oidc_kind = d.kind == IdpKind::GenericOidc;
    match (&d.oidc, &d.saml) {
        (Some(_), Some(_)) => {
            return Err(at(
                "saml",
                "a descriptor checks one application: either oidc or saml".into(),
            ));
        }
        (None, None) => {
            let key = if oidc_kind { "oidc" } else { "saml" };
            return Err(at(
                "kind",
                format!("kind {:?} needs an `{key}:` block", kind_name(d.kind)),
            ));
        }
        (Some(_), None) if d.kind == IdpKind::GenericSaml => {
            return Err(at("oidc", "kind generic-saml takes a `saml:` block".into()));
        }
        (None, Some(_)) if oidc_kind => {
            return Err(at(
                "saml",
                format!("kind {} takes an `oidc:` block", kind_name(d.kind)),
            ));
        }
        _ => {}
    }
    if let Some(l) = &d.launch {
        let fits = match l.peer {
            Peer::OidcProvider => d.oidc.is_some(),
            Peer::Simplesamlphp => d.saml.is_some(),
            Peer::MockIdp => true,
        };
        if !fits {
            return Err(at(
                "peer",
                "this peer does not speak the protocol of the descriptor".into(),
            ));
        }
        if l.peer != Peer::MockIdp && (l.profile.is_some() || !l.idp_faults.is_empty()) {
            return Err(at(
                "launch",
                "profile and idp_faults are for the mock-idp peer only".into(),
            ));
        }
        return Ok(d);
    }
    // A real tenant: every value must be given, secrets by environment variable.
    if let Some(o) = &d.oidc {
        if o.discovery_url.is_none() {
            return Err(at("oidc", "needs discovery_url (no launch block)".into()));
        }
        if o.client_id.is_none() {
            return Err(at("oidc", "needs client_id (no launch block)".into()));
        }
        if o.client_secret_env.is_none() {
            return Err(at(
                "oidc",
                "needs client_secret_env, the environment variable holding the client secret"
                    .into(),
            ));
        }
    }
    if let Some(s) = &d.saml {
        if s.metadata_url.is_none() {
            return Err(at("saml", "needs metadata_url (no launch block)".into()));
        }
    }
    for (key, u) in [
        ("in_group", &d.users.in_group),
        ("out_of_group", &d.users.out_of_group),
    ] {
        if u.password_env.is_none() {
            return Err(at(
                key,
                "needs password_env, the environment variable holding the password".into(),
            ));
        }
    }
    if d.sp.port.is_none() {
        return Err(at(
            "sp",
            "needs port: the SP's loopback port that the redirect URI / ACS URL registered at the IdP uses"
                .into(),
        ));
    }
    Ok(d)
}

fn kind_name(k: IdpKind) -> &'static str {
    match k {
        IdpKind::Authentik => "authentik",
        IdpKind::Okta => "okta",
        IdpKind::GenericOidc => "generic-oidc",
        IdpKind::GenericSaml => "generic-saml",
    }
}

/// Line and column of the first `key:` in the text (the start of the file if absent).
fn key_location(text: &str, file: &Path, key: &str) -> Location {
    let needle = format!("{key}:");
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with(&needle) {
            return Location::new(file, i + 1, line.len() - trimmed.len() + 1);
        }
    }
    Location::start_of(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = "idp: Acme authentik\nkind: authentik\noidc:\n  discovery_url: https://auth.acme.test/application/o/chatgpt/.well-known/openid-configuration\n  client_id: abc\n  client_secret_env: ACME_SECRET\nlogin: {username: '#u', password: '#p', submit: '#s'}\nusers:\n  in_group: {email: a@acme.test, password_env: A_PW}\n  out_of_group: {email: b@acme.test, password_env: B_PW}\nsp: {port: 8085}\n";

    fn err(text: &str) -> String {
        parse_descriptor(text, Path::new("x.yaml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn real_tenant_parses() {
        let d = parse_descriptor(REAL, Path::new("x.yaml")).unwrap();
        assert_eq!(d.kind, IdpKind::Authentik);
        assert_eq!(d.sp.org_id, "org-idpcheck");
    }

    #[test]
    fn unknown_key_is_located_with_a_suggestion() {
        let e = err(&REAL.replace("client_id:", "clientid:"));
        assert!(e.starts_with("x.yaml:5:3: "), "{e}");
        assert!(e.contains("did you mean 'client_id'"), "{e}");
    }

    #[test]
    fn missing_secret_variable_names_the_key() {
        let e = err(&REAL.replace("  client_secret_env: ACME_SECRET\n", ""));
        assert!(
            e.starts_with("x.yaml:3:1: oidc: needs client_secret_env"),
            "{e}"
        );
        let e = err(&REAL.replace(", password_env: B_PW", ""));
        assert!(
            e.starts_with("x.yaml:10:3: out_of_group: needs password_env"),
            "{e}"
        );
    }

    #[test]
    fn protocol_must_fit_the_kind() {
        let e = err(&REAL.replace("kind: authentik", "kind: generic-saml"));
        assert!(
            e.starts_with("x.yaml:3:1: oidc: kind generic-saml takes a `saml:` block"),
            "{e}"
        );
        parse_descriptor(
            &REAL.replace("kind: authentik", "kind: okta"),
            Path::new("x.yaml"),
        )
        .unwrap();
        let e = err(&REAL.replace("kind: authentik", "kind: okat"));
        assert!(e.contains("did you mean 'okta'"), "{e}");
    }

    #[test]
    fn a_missing_environment_variable_is_located() {
        let text = REAL.replace("ACME_SECRET", "SSO_HARNESS_TEST_UNSET_7F3A");
        let d = LoadedDescriptor {
            path: PathBuf::from("x.yaml"),
            descriptor: parse_descriptor(&text, Path::new("x.yaml")).unwrap(),
            text: text.clone(),
        };
        let e = d
            .secret_from_env(
                "oidc.client_secret_env",
                Some("SSO_HARNESS_TEST_UNSET_7F3A"),
            )
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "target: x.yaml:6:22: oidc.client_secret_env: environment variable SSO_HARNESS_TEST_UNSET_7F3A is not set"
        );
    }

    #[test]
    fn the_mock_idp_peer_takes_a_profile_and_its_own_faults() {
        let mock = "idp: m\nkind: generic-oidc\noidc: {}\nlogin: {username: '#u', password: '#p', submit: '#s'}\nusers:\n  in_group: {email: a@acme.test}\n  out_of_group: {email: b@acme.test}\nlaunch:\n  peer: mock-idp\n  profile: keycloak\n  idp_faults: [id_token_missing_email]\n";
        let d = parse_descriptor(mock, Path::new("x.yaml")).unwrap();
        let l = d.launch.unwrap();
        assert_eq!(l.peer, Peer::MockIdp);
        assert_eq!(l.profile, Some(proto::profile::Profile::Keycloak));
        assert_eq!(l.idp_faults, vec![proto::fault::Fault::IdTokenMissingEmail]);
        let e = err(&mock.replace("id_token_missing_email", "id_token_missing_emial"));
        assert!(e.starts_with("x.yaml:11:"), "{e}");
        let e = err(&mock.replace("peer: mock-idp", "peer: oidc-provider"));
        assert!(
            e.contains("launch: profile and idp_faults are for the mock-idp peer only"),
            "{e}"
        );
    }

    #[test]
    fn real_tenant_needs_the_sp_port() {
        let e = err(&REAL.replace("sp: {port: 8085}\n", ""));
        assert!(e.contains("sp: needs port"), "{e}");
    }
}
