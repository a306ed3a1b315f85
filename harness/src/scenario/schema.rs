//! The scenario file format (documented in scenarios/README.md). Unknown keys are errors.
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::input::shorthand::{Shorthand, one_or_many};

use crate::input::template::Template;
pub use crate::scenario::forge::{ScenarioForge, ScenarioOidcForge};
pub use crate::scenario::meta::{AnchorId, Severity, WeaknessId};
pub use crate::scenario::oidc_steps::{
    FrontchannelArgs, LogoutArgs, LogoutResult, ProviderArgs, RotateArgs, RpSent, UseIdpArgs,
};
use crate::scenario::vocabulary::{RunsIn, step_vocabulary};
use crate::secret::Secret;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Human name of the scenario.
    pub scenario: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Behaviour IDs of the catalogue this scenario proves, e.g. `LOGIN-1`.
    #[serde(default)]
    pub covers: Vec<BehaviourId>,
    /// Target capabilities; a target missing one skips the trial and says which.
    #[serde(default)]
    pub requires: Vec<Capability>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Rows of the anchor tables (`scenarios/ANCHORS.md`) this scenario covers.
    #[serde(default)]
    pub anchors: Vec<AnchorId>,
    /// The weakness an SP that fails this scenario has (`CWE-347`).
    #[serde(default)]
    pub cwe: Option<WeaknessId>,
    /// Published cases of that weakness (`CVE-2022-41912`).
    #[serde(default)]
    pub cve: Vec<WeaknessId>,
    #[serde(default)]
    pub severity: Option<Severity>,
    /// One line: what an SP that fails this should change.
    #[serde(default)]
    pub remediation: Option<String>,
    #[serde(default)]
    pub idp: IdpSpec,
    /// Admin and mock-IdP actions before the browser steps; a browser step here is an error
    /// (checked by the loader, which knows each item's place in the file).
    #[serde(default)]
    pub setup: Vec<Step>,
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Checked after the last step; `per_target` may replace them for one target.
    #[serde(default, deserialize_with = "one_or_many")]
    pub expect: Vec<Expectation>,
    #[serde(default)]
    pub per_target: BTreeMap<String, PerTarget>,
    /// Default poll timeout of every step, in milliseconds.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// One trial per variant (`file/variant-name`) instead of one for the file: the same
    /// steps with another forge, faults or expectations (see `Variant`).
    #[serde(default)]
    pub variants: Vec<Variant>,
}

/// One trial of a file with `variants:`. What it gives replaces the file's value (`saml`
/// replaces `idp.saml`, `oidc` replaces `idp.oidc`, `faults` replaces `idp.faults`, a non-empty `expect` replaces the
/// file's `expect`); `requires` and `tags` add to the file's; the rest is the file's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Lower-case words and dashes, unique in the file: the trial is `file/name`.
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub anchors: Vec<AnchorId>,
    #[serde(default)]
    pub cwe: Option<WeaknessId>,
    #[serde(default)]
    pub cve: Vec<WeaknessId>,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub remediation: Option<String>,
    #[serde(default)]
    pub requires: Vec<Capability>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub saml: Option<SamlOptions>,
    /// Replaces `idp.oidc` (its `forge` above all).
    #[serde(default)]
    pub oidc: Option<OidcOptions>,
    #[serde(default)]
    pub faults: Option<Vec<FaultName>>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub expect: Vec<Expectation>,
    #[serde(default)]
    pub per_target: BTreeMap<String, PerTarget>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerTarget {
    /// Replaces the scenario's `expect` list on that target.
    #[serde(default, deserialize_with = "one_or_many")]
    pub expect: Vec<Expectation>,
}

/// `LOGIN-1`, `ERR-8`...
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct BehaviourId(pub String);

impl<'de> Deserialize<'de> for BehaviourId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = s.split_once('-').is_some_and(|(family, n)| {
            !family.is_empty()
                && family.chars().all(|c| c.is_ascii_uppercase())
                && !n.is_empty()
                && n.chars().all(|c| c.is_ascii_digit())
        });
        if ok {
            Ok(Self(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "behaviour ID {s:?} is not of the form FAMILY-N (e.g. LOGIN-1)"
            )))
        }
    }
}

impl fmt::Display for BehaviourId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a target can do; scenarios require them, target descriptors list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    Saml,
    Oidc,
    IdpInitiated,
    TileUrl,
    DomainVerification,
    EnforceSso,
    PasswordLogin,
    SocialLogin,
    /// The target's clock can be moved (`advance_clock: {on: target}`).
    TestClock,
    /// The SSO lookup request can be blocked (ERR-4).
    SsoLookupBlock,
    PlatformOrg,
    SpMetadata,
    EncryptedAssertions,
    WorkspaceSwitcher,
    /// Set-up through an admin API (not by hand).
    AdminApi,
    /// SAML single logout: `sp.slo_url` takes the IdP's LogoutRequest, `sp.slo_start_url`
    /// starts a sign-out that asks the IdP too, `sp.slo_done_url` says both ended.
    SingleLogout,
    /// JARM (JWT Secured Authorization Response Mode): the target can be connected with
    /// `response_mode: query.jwt` (its admin API or `{sp.oidc_response_mode}` in its set-up).
    OidcJarm,
    /// OIDC hybrid flow (`{idp.response_type}` `code id_token`..., by form_post).
    OidcHybrid,
    /// The hybrid flow's ID token as a detached signature (FAPI 1 Advanced: `s_hash`
    /// required when `{idp.detached_signature}` is `true`).
    OidcDetachedSignature,
    /// Two OIDC OPs in one RP (`use_idp: attacker`): `connect` under each, and `start_login`
    /// signs in at the current one (`{idp.name}`, or an organisation per OP).
    OidcTwoOps,
    /// The RP refreshes its OIDC tokens when asked (`procedures.refresh`: a refresh_token
    /// grant, the refreshed ID token checked, UserInfo called with the new access token).
    OidcRefresh,
    /// Login initiated by a third party (OpenID Connect Core 4): the target declares
    /// `sp.initiate_login_url`, which takes `iss` (and `login_hint`, `target_link_uri`).
    OidcThirdPartyLogin,
    /// The RP decrypts ID tokens encrypted to its key (OIDC Core 10.2): the target declares
    /// `sp.oidc_jwks_uri`, where it publishes that key.
    OidcEncryptedIdToken,
    /// The RP takes UserInfo claims from aggregated claims sources (OIDC Core 5.6.2: a
    /// signed JWT in `_claim_sources`) and shows the phone number it got so.
    OidcAggregatedClaims,
    /// The RP fetches UserInfo claims from distributed claims sources (OIDC Core 5.6.2: an
    /// endpoint and an access token in `_claim_sources`) and shows the phone number so.
    OidcDistributedClaims,
    /// The RP pushes its authorization request to the OP's PAR endpoint (RFC 9126) when the
    /// OP's discovery says `require_pushed_authorization_requests: true`
    /// (`idp.oidc.require_par`).
    OidcPar,
    /// The RP passes its authorization request as a request object it hosts at a
    /// `request_uri` (OpenID Connect Core 6.2), signed RS256 with the keys it publishes at
    /// `sp.oidc_jwks_uri`, when set up so (`{idp.request_object_alg}`) or when the OP's
    /// discovery says `require_signed_request_object: true` (RFC 9101 10.5).
    OidcRequestUri,
    /// ... and can be set up to send them unsigned (`{idp.request_object_alg}` `none`), which
    /// a careful product never does unasked.
    OidcRequestUriNone,
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        f.write_str(&s)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    #[default]
    Saml,
    Oidc,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Saml => "SAML",
            Protocol::Oidc => "OIDC",
        })
    }
}

/// IdP profile names are the wire contract's (`okta`, `entra`, `google`, ...).
pub use proto::profile::Profile;

/// The mock IdP tenant made fresh for every trial.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpSpec {
    #[serde(default)]
    pub protocol: Protocol,
    #[serde(default)]
    pub profile: Profile,
    #[serde(default)]
    pub users: Vec<IdpUser>,
    /// Fault names of the mock IdP (`mock-idp faults`), applied to every response.
    #[serde(default)]
    pub faults: Vec<FaultName>,
    #[serde(default)]
    pub clock: Option<ClockSpec>,
    #[serde(default)]
    pub saml: Option<SamlOptions>,
    #[serde(default)]
    pub oidc: Option<OidcOptions>,
    /// Dashboard tiles; by default one `workspace` and one `platform` tile linking to the
    /// organisation's Tile URLs.
    #[serde(default)]
    pub apps: Option<Vec<IdpApp>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpUser {
    pub email: String,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    /// Generated per trial when absent.
    #[serde(default)]
    pub password: Option<Secret>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub claims: BTreeMap<String, serde_json::Value>,
}

impl IdpUser {
    /// The user as the mock IdP's directory holds it, with the trial's password for them.
    pub fn wire(&self, password: &Secret) -> proto::idp::User {
        proto::idp::User {
            email: self.email.clone(),
            given_name: self.given_name.clone().unwrap_or_default(),
            family_name: self.family_name.clone().unwrap_or_default(),
            password: password.clone(),
            groups: self.groups.clone(),
            attributes: self.attributes.clone(),
            claims: self.claims.clone().into_iter().collect(),
            uid: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSpec {
    pub offset: Span,
}

/// Which parts of a SAML response are signed (the wire contract's names).
pub use proto::idp::SignMode as SignWhat;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlOptions {
    #[serde(default)]
    pub sign: Option<SignWhat>,
    #[serde(default)]
    pub sha1: Option<bool>,
    /// The mock IdP's forge for every response of the trial's tenant (`mock-idp forge --list`).
    #[serde(default)]
    pub forge: Option<ScenarioForge>,
    /// How the tenant's single logout messages are shaped (signature, times, Version, ID,
    /// Issuer, NameID, InResponseTo, status, binding); absent: genuine.
    #[serde(default)]
    pub logout: Option<proto::slo::LogoutForge>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcOptions {
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub allowed_groups: Vec<String>,
    /// Redirect URIs registered at the IdP; default: the SP's OIDC redirect URI.
    #[serde(default)]
    pub redirect_uris: Option<Vec<Template>>,
    /// The mock IdP's OIDC forge for every sign-in of the client the trial registers
    /// (`configure_sso: oidc`); `mock-idp oidc-forge --list` names the presets.
    #[serde(default)]
    pub forge: Option<ScenarioOidcForge>,
    /// The response type the RP is set up to ask for (`code` when absent; `code id_token`,
    /// `code token`, `code id_token token`: the hybrid flow, OIDC Core 3.3). Targets see it
    /// as `{idp.response_type}`; scenarios that set a hybrid type require `oidc-hybrid`.
    #[serde(default)]
    pub response_type: Option<String>,
    /// The response mode the RP is set up to ask for (`query`, `fragment`, `form_post`;
    /// absent: the response type's default). `{idp.response_mode}`.
    #[serde(default)]
    pub response_mode: Option<String>,
    /// The RP is set up to treat the front-channel ID token as a detached signature (FAPI 1
    /// Advanced): `s_hash` required. `{idp.detached_signature}` is `true` or `false`.
    #[serde(default)]
    pub detached_signature: bool,
    /// The client is registered for encrypted ID tokens: the mock OP encrypts the token
    /// endpoint's ID tokens with this key transport and content encryption to the key the
    /// target publishes at `sp.oidc_jwks_uri`. Scenarios that set it require
    /// `oidc-encrypted-id-token`.
    #[serde(default)]
    pub id_token_encryption: Option<EncryptionOption>,
    /// The client is registered with `require_pushed_authorization_requests` (RFC 9126): the
    /// mock OP's discovery says so and its authorization endpoint takes only request_uris
    /// its PAR endpoint issued. Scenarios that set it require `oidc-par`.
    #[serde(default)]
    pub require_par: bool,
    /// The client is registered to send every authorization request as a request object
    /// signed so (loose parameters alone are refused); RS256 objects are verified with the
    /// keys at the target's `sp.oidc_jwks_uri`. `{idp.request_object_alg}` (`off` without).
    #[serde(default)]
    pub request_object: Option<RequestObjectOption>,
}

/// `idp.oidc.id_token_encryption`: `alg` (`RSA-OAEP`, `RSA-OAEP-256`, `RSA1_5`) and `enc`
/// (`A128CBC-HS256`, `A256CBC-HS512`, `A128GCM`, `A256GCM`); the mock IdP checks the names
/// when the client is registered and its error names the member.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptionOption {
    pub alg: String,
    pub enc: String,
}

/// `idp.oidc.request_object: { alg: none | RS256 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestObjectOption {
    pub alg: RequestObjectAlg,
}

/// How the RP signs its request objects (the client's registered
/// `request_object_signing_alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RequestObjectAlg {
    #[serde(rename = "none")]
    None,
    #[serde(rename = "RS256")]
    Rs256,
}

impl RequestObjectAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Rs256 => "RS256",
        }
    }
}

/// What a dashboard tile does (the wire contract's names).
pub use proto::idp::AppMode;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpApp {
    pub name: String,
    pub url: Template,
    #[serde(default)]
    pub mode: AppMode,
}

/// A fault of the mock IdP, checked against the wire contract's list when the scenario is
/// loaded (`faults: [wrong_audiance]` fails `sso-harness check` at its place, with a
/// suggestion), not when the trial runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FaultName(pub proto::fault::Fault);

impl FaultName {
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some(f) = proto::fault::Fault::from_name(s) {
            return Ok(Self(f));
        }
        Err(match proto::fault::closest(s) {
            Some(n) => {
                format!("unknown fault '{s}' (did you mean '{n}'?); `mock-idp faults` lists them")
            }
            None => format!("unknown fault '{s}'; `mock-idp faults` lists them"),
        })
    }

    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }
}

impl<'de> Deserialize<'de> for FaultName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A signed duration: `8d`, `-2h`, `90s`, `15m`, or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Span {
    pub seconds: i64,
}

impl Span {
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let (num, unit) = match t.char_indices().last() {
            Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c),
            _ => (t, 's'),
        };
        let n: i64 = num
            .trim()
            .parse()
            .map_err(|_| format!("duration {s:?}: expected e.g. 8d, -2h, 15m, 90s"))?;
        let mult = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            other => {
                return Err(format!(
                    "duration {s:?}: unknown unit '{other}' (s, m, h, d)"
                ));
            }
        };
        n.checked_mul(mult)
            .map(|seconds| Self { seconds })
            .ok_or_else(|| format!("duration {s:?} is too large"))
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Span;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 8d, -2h, 15m, 90s")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Span, E> {
                Span::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Span, E> {
                Ok(Span { seconds: v })
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Span, E> {
                i64::try_from(v)
                    .map(|seconds| Span { seconds })
                    .map_err(|_| E::custom("duration too large"))
            }
        }
        d.deserialize_any(V)
    }
}

/// `{}`: a step without arguments.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatArgs {
    pub times: u32,
    pub steps: Vec<Step>,
}

fn template(s: &str) -> Result<Template, String> {
    Template::parse(s)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct ClickArgs {
    pub selector: Template,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}
impl Shorthand for ClickArgs {
    const SHORT: &'static str = "a CSS selector";
    fn from_scalar(s: &str) -> Result<Self, String> {
        Ok(Self {
            selector: template(s)?,
            timeout_ms: None,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FillArgs {
    pub selector: Template,
    pub value: Template,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectArgs {
    pub selector: Template,
    #[serde(default)]
    pub value: Option<Template>,
    #[serde(default)]
    pub label: Option<Template>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct WaitArgs {
    pub selector: Template,
    /// Wait until the element also holds this text.
    #[serde(default)]
    pub text: Option<Template>,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}
impl Shorthand for WaitArgs {
    const SHORT: &'static str = "a CSS selector";
    fn from_scalar(s: &str) -> Result<Self, String> {
        Ok(Self {
            selector: template(s)?,
            text: None,
            timeout_ms: None,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct IdpLoginArgs {
    /// Email of one of the scenario's IdP users; default the first.
    #[serde(default)]
    pub user: Option<Template>,
    /// Default: that user's password.
    #[serde(default)]
    pub password: Option<Template>,
    /// The login page may never show: an RP may refuse before it sends the browser to the
    /// IdP (a broken discovery document) or after (the ID token). With `if_shown: true` a
    /// browser that settles on the SP's page without visiting the IdP passes this step, and
    /// the expectations judge what the SP did.
    #[serde(default)]
    pub if_shown: bool,
}
impl Shorthand for IdpLoginArgs {
    const SHORT: &'static str = "an email";
    fn from_scalar(s: &str) -> Result<Self, String> {
        Ok(Self {
            user: Some(template(s)?),
            password: None,
            if_shown: false,
        })
    }
    fn from_empty() -> Result<Self, String> {
        Ok(Self::default())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct TileArgs {
    /// `data-app` of the tile.
    pub app: Template,
    /// Sign in to the IdP when the dashboard asks (default true).
    #[serde(default)]
    pub login: Option<bool>,
}
impl Shorthand for TileArgs {
    const SHORT: &'static str = "an app name";
    fn from_scalar(s: &str) -> Result<Self, String> {
        Ok(Self {
            app: template(s)?,
            login: None,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct ScreenshotArgs {
    #[serde(default)]
    pub name: Option<String>,
}
impl Shorthand for ScreenshotArgs {
    const SHORT: &'static str = "a name";
    fn from_scalar(s: &str) -> Result<Self, String> {
        Ok(Self {
            name: Some(s.to_string()),
        })
    }
    fn from_empty() -> Result<Self, String> {
        Ok(Self::default())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    #[default]
    Enterprise,
    Edu,
    Team,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    #[default]
    Custom,
    Unlimited,
    Other,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct OrgArgs {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub plan: Plan,
    #[serde(default)]
    pub billing: Billing,
}
impl Shorthand for OrgArgs {
    const SHORT: &'static str = "an organisation name";
    fn from_scalar(s: &str) -> Result<Self, String> {
        Ok(Self {
            name: Some(s.to_string()),
            ..Self::default()
        })
    }
    fn from_empty() -> Result<Self, String> {
        Ok(Self::default())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    #[default]
    Member,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    Password,
    Social,
    Sso,
    Invited,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpUserArgs {
    pub email: Template,
    #[serde(default)]
    pub role: Role,
    pub method: SignInMethod,
    #[serde(default)]
    pub password: Option<Template>,
    #[serde(default)]
    pub given_name: Option<Template>,
    #[serde(default)]
    pub family_name: Option<Template>,
    /// The admin driver must refuse with a message containing this text.
    #[serde(default)]
    pub expect_error: Option<Template>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct DomainArgs {
    pub domain: Template,
    #[serde(default)]
    pub expect_error: Option<Template>,
}
impl Shorthand for DomainArgs {
    const SHORT: &'static str = "a domain";
    fn from_scalar(s: &str) -> Result<Self, String> {
        Ok(Self {
            domain: template(s)?,
            expect_error: None,
        })
    }
    fn from_empty() -> Result<Self, String> {
        // the domain of the first IdP user
        Self::from_scalar("{user.domain}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainStatus {
    Pending,
    Verified,
    Expired,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct CheckDomainArgs {
    pub domain: Template,
    /// Fails the step when the check answers another status.
    #[serde(default)]
    pub expect: Option<DomainStatus>,
}
impl Shorthand for CheckDomainArgs {
    const SHORT: &'static str = "a domain";
    fn from_scalar(s: &str) -> Result<Self, String> {
        Ok(Self {
            domain: template(s)?,
            expect: None,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct SsoArgs {
    /// Default: the scenario's `idp.protocol`.
    #[serde(default)]
    pub protocol: Option<Protocol>,
    /// SAML: default `{idp.sso_url}`.
    #[serde(default)]
    pub sso_url: Option<Template>,
    /// SAML: default `{idp.certificate_pem}`.
    #[serde(default)]
    pub certificate_pem: Option<Template>,
    /// OIDC: default the profile's name.
    #[serde(default)]
    pub idp_name: Option<Template>,
    /// OIDC: default `{idp.discovery_url}`.
    #[serde(default)]
    pub discovery_url: Option<Template>,
    #[serde(default)]
    pub expect_error: Option<Template>,
}
impl Shorthand for SsoArgs {
    const SHORT: &'static str = "saml or oidc";
    fn from_scalar(s: &str) -> Result<Self, String> {
        let protocol = match s {
            "saml" => Protocol::Saml,
            "oidc" => Protocol::Oidc,
            other => return Err(format!("unknown protocol {other:?}: saml or oidc")),
        };
        Ok(Self {
            protocol: Some(protocol),
            ..Self::default()
        })
    }
    fn from_empty() -> Result<Self, String> {
        Ok(Self::default())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TileKind {
    Workspace,
    Platform,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultScope {
    /// Every response until changed.
    #[default]
    Tenant,
    /// The next response only.
    Next,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct FaultArgs {
    pub faults: Vec<FaultName>,
    #[serde(default)]
    pub scope: FaultScope,
}
impl Shorthand for FaultArgs {
    const SHORT: &'static str = "a fault name";
    fn from_scalar(s: &str) -> Result<Self, String> {
        Ok(Self {
            faults: vec![FaultName::parse(s)?],
            scope: FaultScope::Tenant,
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockOwner {
    #[default]
    Idp,
    Target,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct ClockArgs {
    pub by: Span,
    #[serde(default)]
    pub on: ClockOwner,
}
impl Shorthand for ClockArgs {
    const SHORT: &'static str = "a duration such as 8d";
    fn from_scalar(s: &str) -> Result<Self, String> {
        Ok(Self {
            by: Span::parse(s)?,
            on: ClockOwner::Idp,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct TxtArgs {
    /// Default `{domain.txt_name}`.
    #[serde(default)]
    pub name: Option<Template>,
    /// Default `{domain.txt_value}`.
    #[serde(default)]
    pub value: Option<Template>,
}
impl Shorthand for TxtArgs {
    const SHORT: &'static str = "nothing (the last added domain's record)";
    fn from_scalar(s: &str) -> Result<Self, String> {
        Err(format!(
            "{s:?}: write publish_txt: {{}} for the last added domain's record, or {{name: ..., value: ...}}"
        ))
    }
    fn from_empty() -> Result<Self, String> {
        Ok(Self::default())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpUserUpdate {
    /// Which user (default the first).
    #[serde(default)]
    pub user: Option<Template>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    #[serde(default)]
    pub attributes: Option<BTreeMap<String, Vec<String>>>,
}

/// One check on the browser's state; every field given must hold (each polls until its
/// timeout). `screenshot: true` also keeps a screenshot.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct Expectation {
    /// Text somewhere on the page.
    #[serde(default)]
    pub text: Option<Template>,
    /// Text nowhere on the page.
    #[serde(default)]
    pub absent_text: Option<Template>,
    /// The current URL contains this.
    #[serde(default)]
    pub url: Option<Template>,
    /// HTTP status of the last document the browser loaded.
    #[serde(default)]
    pub status: Option<u16>,
    /// The target's signed-in marker shows this email.
    #[serde(default)]
    pub signed_in_as: Option<Template>,
    /// `false`: the target's signed-in marker is absent.
    #[serde(default)]
    pub signed_in: Option<bool>,
    /// The target's error element holds this text.
    #[serde(default)]
    pub error: Option<Template>,
    /// The target's display-name element holds this text.
    #[serde(default)]
    pub display_name: Option<Template>,
    /// A CSS selector that must match.
    #[serde(default)]
    pub element: Option<Template>,
    /// A CSS selector that must not match.
    #[serde(default)]
    pub absent_element: Option<Template>,
    /// A CSS selector matching markup the mock IdP put into a message the SP may show (an
    /// authorization error's error_description): it must not be an element of the SP's page.
    /// A match is the SP rendering injected markup (accepted: HTML injection, CWE-79).
    #[serde(default)]
    pub not_rendered: Option<Template>,
    /// `true`: the sign-in was refused, as the target's `rejection` block says it shows.
    #[serde(default)]
    pub rejected: Option<bool>,
    /// A line the target's logs got during this trial contains this text.
    #[serde(default)]
    pub log: Option<Template>,
    /// Identity oracle: the SP must not sign this identity in (the forged one). A refusal and
    /// a sign-in as the genuine user both hold; a session as this identity is the SP
    /// accepting what it must refuse.
    #[serde(default)]
    pub not_signed_in_as: Option<Template>,
    /// `true`: nothing fetched the trial's canary URL (`{canary.url}`): no jku/x5u/XXE/XSLT
    /// fetch by the SP.
    #[serde(default)]
    pub no_egress: Option<bool>,
    /// The browser never loaded a page from this host (`host` or `host:port`), or, given a
    /// URL (`http://...`), a page whose URL starts with it.
    #[serde(default)]
    pub no_redirect: Option<Template>,
    /// The session probe still finds a session as this identity: a forged logout message
    /// must not end it (no session is the SP accepting what it had to refuse).
    #[serde(default)]
    pub session_kept: Option<Template>,
    /// The mock IdP recorded exchanges of these kinds in this trial (e.g. `token_request`).
    #[serde(default)]
    pub idp_saw: Vec<String>,
    /// The mock IdP recorded no exchange of these kinds in this trial (NO-FOLLOW-UP: e.g. no
    /// `userinfo` call after a forged ID token).
    #[serde(default)]
    pub idp_did_not_see: Vec<String>,
    /// Bounded answer: the last page the SP served took at most this long, and the SP still
    /// answers a request to its base URL afterwards.
    #[serde(default)]
    pub answers_within_ms: Option<u64>,
    /// What the RP sent the mock OP in this trial (nonce, state, PKCE, client
    /// authentication, where the access token went), from its requests query.
    #[serde(default)]
    pub rp_sent: Option<RpSent>,
    /// How the RP answered the last `backchannel_logout` step, and whether the browser's
    /// session ended.
    #[serde(default)]
    pub logout_result: Option<LogoutResult>,
    /// A value only a forged message carries (a claim of a claims source the OP did not
    /// sign) is nowhere on the page: showing it is the SP adopting the forgery (accepted),
    /// not a mere difference in what the page says.
    #[serde(default)]
    pub not_adopted: Option<Template>,
    #[serde(default)]
    pub screenshot: bool,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

impl<'de> Deserialize<'de> for Expectation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let e = Expectation::deserialize(d)?;
        if e.is_empty() {
            return Err(serde::de::Error::custom(
                "expectation asserts nothing: give at least one of text, absent_text, url, status, \
                 signed_in_as, signed_in, error, display_name, element, absent_element, not_rendered, rejected, log, \
                 not_signed_in_as, no_egress, no_redirect, session_kept, idp_saw, idp_did_not_see, \
                 answers_within_ms, rp_sent, logout_result, not_adopted",
            ));
        }
        Ok(e)
    }
}

impl Expectation {
    pub fn is_empty(&self) -> bool {
        self.text.is_none()
            && self.absent_text.is_none()
            && self.url.is_none()
            && self.status.is_none()
            && self.signed_in_as.is_none()
            && self.signed_in.is_none()
            && self.error.is_none()
            && self.display_name.is_none()
            && self.element.is_none()
            && self.rejected.is_none()
            && self.log.is_none()
            && self.absent_element.is_none()
            && self.not_rendered.is_none()
            && self.not_signed_in_as.is_none()
            && self.no_egress.is_none()
            && self.no_redirect.is_none()
            && self.session_kept.is_none()
            && self.idp_saw.is_empty()
            && self.idp_did_not_see.is_empty()
            && self.answers_within_ms.is_none()
            && self.rp_sent.is_none()
            && self.logout_result.is_none()
            && self.not_adopted.is_none()
    }
}

shorthand_deserialize!(
    ClickArgs,
    WaitArgs,
    IdpLoginArgs,
    TileArgs,
    ScreenshotArgs,
    OrgArgs,
    DomainArgs,
    CheckDomainArgs,
    SsoArgs,
    FaultArgs,
    ClockArgs,
    TxtArgs
);

// The step vocabulary: the one place a step kind is named. Each line gives its YAML key, its
// variant and argument type, where it may run (`browser`: only in `steps`; `any`: also in
// `setup`) and its one-line description. Adding a step: a line here, its arm in
// `trial::steps`, a line in scenarios/README.md (a test checks every key is documented).
step_vocabulary! {
    "open" => Open(Template), Browser, "load a URL";
    "click" => Click(ClickArgs), Browser, "click the first element matching a CSS selector, waiting for it";
    "fill" => Fill(FillArgs), Browser, "set a form field's value as typing would";
    "select" => Select(SelectArgs), Browser, "choose an option of a select element by value or label";
    "submit" => Submit(Template), Browser, "submit a form (or click a submit button)";
    "wait_for" => WaitFor(WaitArgs), Browser, "wait until an element (holding a text) shows";
    "idp_login" => IdpLogin(IdpLoginArgs), Browser, "sign in on the mock IdP's login page";
    "tile" => Tile(TileArgs), Browser, "click a tile on the mock IdP dashboard";
    "expect" => Expect(Box<Expectation>), Browser, "check the page, the session or the logs";
    "screenshot" => Screenshot(ScreenshotArgs), Browser, "keep a screenshot in the report";
    "create_org" => CreateOrg(OrgArgs), Any, "create an organisation on the target";
    "add_user" => AddUser(SpUserArgs), Any, "add a user to the current organisation";
    "add_domain" => AddDomain(DomainArgs), Any, "add a domain to the organisation";
    "check_domain" => CheckDomain(CheckDomainArgs), Any, "press Check on a domain";
    "verify_domain" => VerifyDomain(DomainArgs), Any, "add a domain, publish its TXT record, check it";
    "configure_sso" => ConfigureSso(SsoArgs), Any, "configure SAML or OIDC with the tenant's values";
    "enable_sso" => EnableSso(bool), Any, "turn the SSO connection on or off";
    "enforce_sso" => EnforceSso(bool), Any, "turn Enforce SSO on or off";
    "active_tile" => ActiveTile(TileKind), Any, "which Tile URL of the SP is active";
    "block_sso_lookup" => BlockSsoLookup(bool), Any, "make the SP's SSO lookup fail";
    "set_fault" => SetFault(FaultArgs), Any, "set faults on the mock IdP tenant";
    "advance_clock" => AdvanceClock(ClockArgs), Any, "move the mock IdP's or the target's clock";
    "publish_txt" => PublishTxt(TxtArgs), Any, "publish a TXT record in the mock IdP's DNS";
    "remove_txt" => RemoveTxt(TxtArgs), Any, "remove a TXT record";
    "update_idp_user" => UpdateIdpUser(IdpUserUpdate), Any, "change a user on the mock IdP";
    "use_org" => UseOrg(String), Any, "switch to (or create) another organisation by name";
    "use_browser" => UseBrowser(String), Browser, "switch to another browser with its own cookies";
    "repeat" => Repeat(RepeatArgs), Any, "repeat steps; {n} counts from 1";
    "connect" => Connect(Protocol), Any, "the target's own way to trust the tenant";
    "start_login" => StartLogin(NoArgs), Browser, "the target's own way to start a sign-in";
    "sign_out" => SignOut(NoArgs), Browser, "the target's own way to sign out";
    "refresh" => Refresh(NoArgs), Browser, "the target's own way to refresh its OIDC tokens (procedures.refresh)";
    "replay_saml_response" => ReplaySamlResponse(NoArgs), Browser, "post the last SAML response again from a fresh browser";
    "rotate_keys" => RotateKeys(RotateArgs), Any, "rotate the mock OP's signing key";
    "oidc_provider" => OidcProvider(ProviderArgs), Any, "change the mock OP's JWKS answer or discovery (RFC 9207)";
    "backchannel_logout" => BackchannelLogout(LogoutArgs), Any, "the mock OP posts a logout token to the target's back-channel logout URL";
    "response_mode" => ResponseMode(String), Any, "the OIDC response mode the next `configure_sso: oidc` sets up (`query.jwt`: JARM)";
    "op_logout" => OpLogout(NoArgs), Browser, "sign out at the mock OP (its end_session endpoint): it loads the target's front-channel logout URL";
    "frontchannel_logout" => FrontchannelLogout(FrontchannelArgs), Browser, "the browser loads the target's front-channel logout URL with a forged sid or iss, as any page could make it";
    "use_idp" => UseIdp(UseIdpArgs), Any, "switch the mock IdP tenant later steps act on: main, or attacker (a second OP in the same RP)";
    "keep_response" => KeepResponse(NoArgs), Browser, "read the mock OP's held authorization response into {held.response_url} without opening it";
    "carry_response" => CarryResponse(String), Browser, "open the mock OP's held authorization response (fault authorization_response_held), or post the mock IdP's held SAML response (fault saml_response_held), in the named browser";
}

impl Scenario {
    /// Whether a step of this kind appears in `setup` or `steps` (inside `repeat` too).
    pub fn uses_step(&self, kind: &str) -> bool {
        fn any(steps: &[Step], kind: &str) -> bool {
            steps.iter().any(|s| match s {
                Step::Repeat(r) => any(&r.steps, kind),
                s => s.kind() == kind,
            })
        }
        any(&self.setup, kind) || any(&self.steps, kind)
    }
}

impl Step {
    /// Admin-driver steps (the others act on the mock IdP or the browser).
    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Step::CreateOrg(_)
                | Step::AddUser(_)
                | Step::AddDomain(_)
                | Step::CheckDomain(_)
                | Step::VerifyDomain(_)
                | Step::ConfigureSso(_)
                | Step::EnableSso(_)
                | Step::EnforceSso(_)
                | Step::ActiveTile(_)
                | Step::BlockSsoLookup(_)
                | Step::UseOrg(_)
        )
    }

    /// The first step that drives the browser, here or inside a `repeat`.
    pub fn first_browser_step(&self) -> Option<&'static str> {
        match self {
            Step::Repeat(r) => r.steps.iter().find_map(Step::first_browser_step),
            s if s.runs_in() == RunsIn::Browser => Some(s.kind()),
            _ => None,
        }
    }

    /// The keys allowed in `setup`.
    pub fn setup_kinds() -> Vec<&'static str> {
        Step::VOCABULARY
            .iter()
            .filter(|(_, r, _)| *r == RunsIn::Any)
            .map(|(k, _, _)| *k)
            .collect()
    }
}
