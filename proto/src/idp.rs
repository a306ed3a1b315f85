//! The mock IdP's control API (`/_control/...`, table in mock-idp/README.md): what callers
//! send to create and shape tenants, and what the mock IdP answers. Checks that need more
//! than the types (URLs, certificates, email syntax, id syntax) are the mock IdP's; the
//! limits callers can check offline are the constants below.

use crate::fault::{Fault, Protocol};
use crate::forge::{ForgeRecord, ForgeSpec};
use crate::object::object_only;
use crate::profile::Profile;
use serde::{Deserialize, Serialize};
use sso_secret::Secret;
use std::collections::BTreeMap;

/// `PUT .../clock` and `clock_offset_seconds`: at most this far from real time, either way
/// (100 years of 365 days). A tenant's "now" is real time plus the offset, and every date
/// the tenant derives from it must stay representable.
pub const MAX_CLOCK_OFFSET_SECONDS: i64 = 100 * 365 * 24 * 3600;

/// Largest control API request body, in bytes; a larger one is answered 413.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// One DNS character-string holds at most this many bytes; a longer TXT value is served
/// split into several (RFC 1035 3.3.14), which resolvers join.
pub const TXT_CHARACTER_STRING_BYTES: usize = 255;

/// Largest DNS message (over TCP, two-byte length prefix): every value published under one
/// name must fit one answer of at most this size.
pub const DNS_MESSAGE_BYTES: usize = 65_535;

/// What a caller asks for when creating a tenant (`POST /_control/tenants`, or one entry of
/// `tenants:` in `mock-idp serve --config`). Every field is optional.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct TenantSpec {
    /// `[a-z0-9-]{1,40}`; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub profile: Profile,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub sp: Option<SpSpec>,
    #[serde(default)]
    pub saml: SamlOptions,
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Within +-[`MAX_CLOCK_OFFSET_SECONDS`].
    #[serde(default)]
    pub clock_offset_seconds: i64,
    #[serde(default)]
    pub apps: Vec<App>,
    #[serde(default)]
    pub oidc_clients: Vec<OidcClient>,
    /// Keep the tenant (key, certificate, OIDC clients and secrets, SP values) in the
    /// server's state directory across restarts, so a hand-configured SP can trust it. Needs
    /// an explicit `id` and `mock-idp serve --state-dir DIR`; test trials then shape it with
    /// a [`TrialOverlay`] instead of creating tenants of their own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
}

/// A user of a tenant's directory (`users[]`, `POST .../users`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct User {
    pub email: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    /// Empty: any non-empty password is accepted.
    #[serde(default, serialize_with = "crate::secret::serialize")]
    pub password: Secret,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Extra SAML attributes, multi-valued.
    #[serde(default)]
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Extra or overriding OIDC claims.
    #[serde(default)]
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// Stable id (SAML `uid`, OIDC `sub`); generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// Any subset of a user's fields (`PATCH .../users/{email}`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::secret::serialize_opt"
    )]
    pub password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What the SP under test told us about itself (`sp`, `PUT .../sp`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct SpSpec {
    #[serde(default)]
    pub entity_id: Option<String>,
    #[serde(default)]
    pub acs_url: Option<String>,
    #[serde(default)]
    pub metadata_url: Option<String>,
    /// The SP's certificate, to encrypt assertions to.
    #[serde(default)]
    pub certificate_pem: Option<String>,
    /// The SP's SingleLogoutService: where logout messages go through the browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_url: Option<String>,
    /// How they go there (default `post`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_binding: Option<crate::slo::SloBinding>,
}

/// Which parts of a SAML response are signed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignMode {
    #[default]
    Assertion,
    Response,
    Both,
}

/// `saml` of a tenant spec.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct SamlOptions {
    #[serde(default)]
    pub sign: SignMode,
    /// RSA-SHA1 + SHA-1 digests for every response (the `sha1_signature` fault does it once).
    #[serde(default)]
    pub sha1: bool,
    /// Every SAML response of the tenant is forged this way (`faults/next` can give one for
    /// the next response instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forge: Option<ForgeSpec>,
    /// How the tenant's logout messages (single logout) are shaped; absent: genuine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout: Option<crate::slo::LogoutForge>,
}

/// What a dashboard tile does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppMode {
    /// The tile opens the app's URL (the SP's Tile URL).
    #[default]
    Link,
    /// The IdP posts an unsolicited Response to the SP's ACS, `RelayState` = the URL.
    IdpInitiated,
}

/// One tile on the tenant's IdP dashboard (`apps[]`, `PUT .../apps` takes `[App]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct App {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub mode: AppMode,
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(String::from).to_vec()
}

/// An OIDC client of the tenant (`oidc_clients[]`, `POST .../oidc/clients`, which answers it
/// back with the secret `[redacted]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct OidcClient {
    pub client_id: String,
    #[serde(serialize_with = "crate::secret::serialize")]
    pub client_secret: Secret,
    pub redirect_uris: Vec<String>,
    /// Where the end_session endpoint may send the browser back (OpenID Connect
    /// RP-Initiated Logout 1.0, `post_logout_redirect_uri`); a redirect URI is accepted too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// OpenID Connect Front-Channel Logout 1.0: the RP's logout URI, which the OP loads in
    /// an iframe (with `iss` and `sid`) when the browser's session at the OP ends; the ID
    /// tokens of such a client carry `sid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// Default `openid email profile`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Empty: every user may sign in.
    #[serde(default)]
    pub allowed_groups: Vec<String>,
    /// Every sign-in of this client is forged so (`proto::oidc_forge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forge: Option<crate::oidc_forge::ForgeSpec>,
    /// The client registered encrypted ID tokens (OpenID Connect Dynamic Client
    /// Registration 1.0 `id_token_encrypted_response_alg`/`_enc` with its `jwks_uri`): the
    /// token endpoint's ID tokens are nested JWTs, the signed token encrypted to the RP's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_encryption: Option<IdTokenEncryption>,
    /// How this client must pass its authorization requests (PAR, request objects); absent:
    /// as it likes, query parameters included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_request: Option<AuthRequestRules>,
}

/// How the OP encrypts a client's ID tokens (JWE compact serialization, RFC 7516).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct IdTokenEncryption {
    /// Key transport: `RSA-OAEP`, `RSA-OAEP-256` or `RSA1_5` (which an RP should refuse:
    /// PKCS #1 v1.5 decryption is a padding oracle).
    pub alg: String,
    /// Content encryption: `A128CBC-HS256`, `A256CBC-HS512`, `A128GCM` or `A256GCM`.
    pub enc: String,
    /// Where the RP publishes its encryption key (a JWKS); the OP fetches it when it issues
    /// a token, as an OP does with a registered `jwks_uri`.
    pub jwks_uri: String,
}

/// What a client registered about passing its authorization request by reference: RFC 9126
/// (PAR) and OpenID Connect Core 6 / RFC 9101 (request objects), with the client metadata
/// names of those specifications where they have one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct AuthRequestRules {
    /// RFC 9126 7.3: the authorization endpoint takes this client's requests only by a
    /// `request_uri` its PAR endpoint issued; the discovery document then says
    /// `require_pushed_authorization_requests: true`.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// The mock OP's own rule: every authorization request of this client carries its
    /// parameters in a request object (`request`, `request_uri`, or inside the PAR push);
    /// loose query parameters alone are refused with invalid_request. (RFC 9101's
    /// `require_signed_request_object` is this rule without `none`.)
    #[serde(default)]
    pub require_request_object: bool,
    /// OpenID Connect Registration 2: the one JWS `alg` this client's request objects use
    /// (`none` or `RS256`); absent: RS256 only (`none` is accepted only when registered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg: Option<String>,
    /// OpenID Connect Registration 2: where the client's public keys are (its RS256 request
    /// objects are verified with them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
}

/// `PUT .../faults` (standing) and `POST .../faults/next` (next response only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct FaultsBody {
    pub faults: Vec<Fault>,
}

/// `POST .../faults/next`: faults and/or a forge for the next response only (both optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct NextBody {
    #[serde(default)]
    pub faults: Vec<Fault>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forge: Option<ForgeSpec>,
}

/// `PUT .../clock`: within +-[`MAX_CLOCK_OFFSET_SECONDS`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct ClockBody {
    pub offset_seconds: i64,
}

/// Lease of a pinned tenant when a [`TrialOverlay`] gives no `ttl_seconds`.
pub const DEFAULT_TRIAL_TTL_SECONDS: u64 = 600;
/// Longest lease a trial may ask for: a crashed trial frees the tenant within this.
pub const MAX_TRIAL_TTL_SECONDS: u64 = 3600;

fn default_trial_ttl() -> u64 {
    DEFAULT_TRIAL_TTL_SECONDS
}

/// `PUT /_control/tenants/{id}/trial` (pinned tenants only): one test trial takes the tenant
/// for `ttl_seconds` and lays its directory, SAML options, faults and clock over the
/// persisted base. Everything the previous holder left (exchanges, sessions, flows, forges)
/// is cleared first; `DELETE .../trial?trial_id=` puts the base back.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct TrialOverlay {
    /// `[a-z0-9-]{1,40}`: who holds the tenant. The same id again re-applies.
    pub trial_id: String,
    /// Lease length, 1 to [`MAX_TRIAL_TTL_SECONDS`]; default [`DEFAULT_TRIAL_TTL_SECONDS`].
    #[serde(default = "default_trial_ttl")]
    pub ttl_seconds: u64,
    /// The directory for the trial: replaces the base's users.
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub saml: SamlOptions,
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Within +-[`MAX_CLOCK_OFFSET_SECONDS`].
    #[serde(default)]
    pub clock_offset_seconds: i64,
    /// Laid over every OIDC client of the tenant for the trial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<TrialOidc>,
}

/// `oidc` of a [`TrialOverlay`]: each member given replaces that member of every OIDC client
/// of the tenant (the clients, their ids, secrets and redirect URIs stay the base's).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct TrialOidc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forge: Option<crate::oidc_forge::ForgeSpec>,
}

/// Who holds a pinned tenant (`TenantInfo.trial`). Times are RFC 3339 UTC, real time (not
/// the tenant's clock, which the trial may move).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct TrialLease {
    pub trial_id: String,
    pub since: String,
    pub until: String,
    /// Past `until`: the overlay is still in force, but the next `PUT .../trial` of any trial
    /// takes the tenant over (and any change outside a trial first restores the base).
    #[serde(default)]
    pub expired: bool,
}

/// `POST` / `DELETE /_control/dns/txt`: one value of a multi-valued TXT record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct TxtBody {
    pub name: String,
    pub value: String,
}

object_only!(
    TenantSpec,
    User,
    UserPatch,
    SpSpec,
    SamlOptions,
    App,
    OidcClient,
    IdTokenEncryption,
    AuthRequestRules,
    FaultsBody,
    NextBody,
    ClockBody,
    TxtBody,
    TrialOverlay,
    TrialOidc,
);

/// `GET /_control/dns`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct DnsInfo {
    /// `127.0.0.1:PORT`, UDP and TCP.
    pub addr: String,
}

/// What creating or reading a tenant answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct TenantInfo {
    pub id: String,
    pub profile: Profile,
    pub saml: SamlInfo,
    pub oidc: Option<OidcInfo>,
    /// The standing faults in force (`faults`, `PUT .../faults`, a trial's overlay).
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Kept in the server's state directory across restarts (`TenantSpec.pinned`).
    #[serde(default)]
    pub pinned: bool,
    /// The trial holding a pinned tenant now (`PUT .../trial`), if any.
    #[serde(default)]
    pub trial: Option<TrialLease>,
}

/// The SAML IdP side of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct SamlInfo {
    pub entity_id: String,
    pub metadata_url: String,
    /// HTTP-Redirect binding.
    pub sso_url: String,
    /// HTTP-POST binding (same URL, POST).
    pub sso_url_post: String,
    pub dashboard_url: String,
    /// IdP-initiated sign-in: after login, posts an unsolicited Response to the SP's ACS
    /// (`?relay_state=...` optional).
    pub idp_initiated_url: String,
    /// Per app (dashboard tile): the URL that starts that tile's sign-in.
    pub tile_urls: BTreeMap<String, String>,
    /// SingleLogoutService (both bindings): where an SP sends its LogoutRequest, and its
    /// LogoutResponse to an IdP-initiated logout.
    #[serde(default)]
    pub slo_url: String,
    /// IdP-initiated logout: a browser visit ends the IdP session and sends a LogoutRequest
    /// for the signed-in user to the SP's `slo_url`.
    #[serde(default)]
    pub logout_url: String,
    pub certificate_pem: String,
    pub fingerprint_sha1: String,
    pub fingerprint_sha256: String,
}

/// The OIDC provider side of a tenant; the URLs follow the tenant's profile.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct OidcInfo {
    pub issuer: String,
    pub discovery_url: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub end_session_endpoint: String,
}

/// The request line and status of one recorded exchange.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct HttpInfo {
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// One recorded request/response of a tenant (`GET .../exchanges`), secrets never included.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Exchange {
    /// RFC 3339 UTC with milliseconds, by the tenant's clock.
    pub at: String,
    pub tenant: String,
    pub protocol: Protocol,
    /// `authn_request`, `saml_response`, `login`, `id_token`, `token_request`, ...
    pub kind: String,
    pub http: HttpInfo,
    /// Pretty XML (SAML) or a JSON object (OIDC: JWT header and claims).
    pub decoded: serde_json::Value,
    pub faults: Vec<Fault>,
    /// A forged SAML response: the attack (name, CWE, CVE) and the signing choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forge: Option<ForgeRecord>,
}

/// `GET .../saml/last-response`: the last SAML response the tenant delivered, exactly as its
/// form posted it (base64), for replay scenarios. `404` before the first one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct LastSamlResponse {
    pub acs_url: String,
    pub saml_response: String,
    #[serde(default)]
    pub relay_state: Option<String>,
}

/// `GET /_control/tenants/{id}/oidc/clients/{client_id}/secret` of a pinned tenant: the
/// secret a person pasted into the SP, for `staging init` to show again. Only pinned tenants
/// answer (404 otherwise): a trial's throwaway clients have no one to show it to.
#[derive(Debug, Clone, Deserialize)]
pub struct ClientSecretBody {
    pub client_secret: Secret,
}

/// Every error answer of the control API: `400` (with `path`, the JSON path of the bad
/// field, `.` for the body itself), `404`, `409`, `413`, `500` (without).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// What `GET .../oidc/requests?since=T&kind=K` answers: which OIDC endpoints the RP called
/// (the exchange log, filtered and summed up; here beside `Exchange`, which it lists).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestsAnswer {
    /// The tenant's clock, RFC 3339.
    pub now: String,
    pub since: Option<String>,
    /// Per endpoint kind (`discovery`, `jwks`, `token_request`, `canary`...): called or not.
    pub called: BTreeMap<String, bool>,
    /// Per kind, one line per call (what it sent: PKCE, nonce, client auth...).
    pub summary: BTreeMap<String, Vec<serde_json::Value>>,
    pub exchanges: Vec<Exchange>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_tenant_spec_is_an_object_only() {
        let e = serde_json::from_str::<TenantSpec>("[]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected an object (TenantSpec)"), "{e}");
        let e = serde_json::from_value::<TenantSpec>(json!({"sp": []}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected an object (SpSpec)"), "{e}");
        let e = serde_json::from_value::<TenantSpec>(json!({"users": [["a@x.test"]]}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected an object (User)"), "{e}");
        let spec: TenantSpec = serde_json::from_str("{}").unwrap();
        assert_eq!(spec.profile, Profile::Generic);
        assert_eq!(spec.saml, SamlOptions::default());
    }

    #[test]
    fn unknown_fields_are_errors() {
        assert!(serde_json::from_value::<User>(json!({"email": "a@x", "emial": "x"})).is_err());
        assert!(serde_json::from_value::<ClockBody>(json!({"offset": 1})).is_err());
    }

    #[test]
    fn oidc_client_defaults_and_redacts() {
        let c: OidcClient = serde_json::from_value(json!({
            "client_id": "c", "client_secret": "s", "redirect_uris": ["http://rp/cb"]
        }))
        .unwrap();
        assert_eq!(c.scopes, ["openid", "email", "profile"]);
        assert_eq!(c.client_secret.expose(), "s");
        let shown = serde_json::to_value(&c).unwrap();
        assert_eq!(shown["client_secret"], "[redacted]");
    }

    #[test]
    fn trial_overlay_defaults_and_rejects_unknown_fields() {
        let o: TrialOverlay = serde_json::from_value(json!({"trial_id": "abc"})).unwrap();
        assert_eq!(o.ttl_seconds, DEFAULT_TRIAL_TTL_SECONDS);
        assert!(o.users.is_empty() && o.faults.is_empty() && o.oidc.is_none());
        let e = serde_json::from_value::<TrialOverlay>(json!({"trial_id": "a", "ttl": 5}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `ttl`"), "{e}");
        let e = serde_json::from_value::<TrialOverlay>(json!({"trial_id": "a", "oidc": []}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected an object (TrialOidc)"), "{e}");
        // Older answers without the new members still read.
        let old = json!({"id": "a", "profile": "okta", "oidc": null, "saml": {
            "entity_id": "e", "metadata_url": "m", "sso_url": "s", "sso_url_post": "s",
            "dashboard_url": "d", "idp_initiated_url": "i", "tile_urls": {},
            "certificate_pem": "c", "fingerprint_sha1": "f", "fingerprint_sha256": "f"}});
        let info: TenantInfo = serde_json::from_value(old).unwrap();
        assert!(!info.pinned && info.trial.is_none() && info.faults.is_empty());
    }

    #[test]
    fn pinned_is_left_out_of_an_unpinned_spec() {
        let spec: TenantSpec = serde_json::from_value(json!({"id": "a"})).unwrap();
        assert!(!spec.pinned);
        assert!(serde_json::to_value(&spec).unwrap().get("pinned").is_none());
        let spec: TenantSpec = serde_json::from_value(json!({"id": "a", "pinned": true})).unwrap();
        assert_eq!(serde_json::to_value(&spec).unwrap()["pinned"], true);
    }

    #[test]
    fn error_body_leaves_out_an_absent_path() {
        let e = ErrorBody {
            error: "unknown tenant 'x'".into(),
            path: None,
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"error":"unknown tenant 'x'"}"#
        );
        let e = ErrorBody {
            path: Some("users[0].email".into()),
            ..e
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"error":"unknown tenant 'x'","path":"users[0].email"}"#
        );
    }

    #[test]
    fn tenant_info_round_trips() {
        let info = TenantInfo {
            id: "a".into(),
            profile: Profile::Okta,
            saml: SamlInfo {
                entity_id: "e".into(),
                metadata_url: "m".into(),
                sso_url: "s".into(),
                sso_url_post: "s".into(),
                dashboard_url: "d".into(),
                idp_initiated_url: "i".into(),
                tile_urls: BTreeMap::from([("W".to_string(), "u".to_string())]),
                slo_url: "l".into(),
                logout_url: "o".into(),
                certificate_pem: "c".into(),
                fingerprint_sha1: "f1".into(),
                fingerprint_sha256: "f2".into(),
            },
            oidc: None,
            faults: vec![Fault::Unsigned],
            pinned: true,
            trial: Some(TrialLease {
                trial_id: "t1".into(),
                since: "2026-01-01T00:00:00.000Z".into(),
                until: "2026-01-01T00:10:00.000Z".into(),
                expired: false,
            }),
        };
        let wire = serde_json::to_string(&info).unwrap();
        assert!(
            wire.starts_with(r#"{"id":"a","profile":"okta","saml":{"entity_id":"e""#),
            "{wire}"
        );
        assert_eq!(serde_json::from_str::<TenantInfo>(&wire).unwrap(), info);
    }
}
