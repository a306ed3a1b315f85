//! The OIDC forge of the mock IdP: what the caller asks the OP to break in one sign-in (or in
//! every sign-in of a client or tenant), the provider settings (JWKS failures, published
//! extra keys, rotation), back-channel logout requests and the control answers that are more
//! than a status. The mock IdP does the forging (`mock-idp/src/oidc/forge/`) and the checks
//! that need it (does this key sign that algorithm? does the preset exist?); this is only the
//! wire shape. Every struct denies unknown fields, so a misspelt member is a 400 naming its
//! path rather than a silently genuine token.

use crate::object::object_only;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Distinguishes "member absent" (`None`: the default) from "member is `null`" (`Some(None)`:
/// leave it out of the header), which a plain `Option` cannot.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One forge (`PUT .../oidc/forge`, `POST .../oidc/forge/next`, `OidcClient.forge`).
/// Everything is optional: `{}` is a genuine sign-in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct ForgeSpec {
    /// A named variant of the catalogue (`mock-idp oidc-forge --list`); the members below
    /// are applied over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// ID token JOSE header.
    #[serde(default, skip_serializing_if = "HeaderSpec::is_empty")]
    pub header: HeaderSpec,
    /// ID token signing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyChoice>,
    /// ID token signature bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureMode>,
    /// ID token claim mutations, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<ClaimOp>,
    /// Mutations of the ID token the authorization endpoint returns in a hybrid flow
    /// (`code id_token`, `code id_token token`), in order: its `c_hash`, `at_hash` and `s_hash`
    /// are shaped here, apart from the token endpoint's ID token (`claims`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub front_claims: Vec<ClaimOp>,
    /// Token endpoint JSON mutations, in order (`access_token`, `token_type`, `id_token`...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_response: Vec<ClaimOp>,
    /// Mutations of the ID token a `refresh_token` grant answers (OIDC Core 12.2: its iss
    /// and sub must be the original's), in order; the refreshed token is otherwise genuine.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refresh_claims: Vec<ClaimOp>,
    /// The token endpoint answers this error instead of tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_error: Option<TokenError>,
    /// Userinfo claim mutations, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub userinfo: Vec<ClaimOp>,
    /// Present: userinfo answers a signed JWT (`application/jwt`) made by this JWS spec;
    /// `{}` is a genuine RS256 signature by the OP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_jwt: Option<JwsSpec>,
    /// Shapes the JARM response JWT (JWT Secured Authorization Response Mode) of a sign-in
    /// whose RP asked for a `*.jwt` response mode; absent: a genuine one. Has no effect when
    /// the RP asked for a plain response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jarm: Option<JarmSpec>,
    /// The authorization endpoint answers this error response (RFC 6749 4.1.2.1) instead of
    /// a code once the user signed in (its description may carry markup, for an RP that
    /// reflects it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_error: Option<AuthorizationError>,
    /// RFC 9207 `iss` parameter of the authorization response (default: absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_iss: Option<IssParam>,
    /// The code of this sign-in may be redeemed more than once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_code_reuse: Option<bool>,
    /// Where `jku` and `x5u` point (default: the tenant's own attacker-key URLs, whose
    /// fetches are logged as `canary` exchanges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_url: Option<String>,
    /// RP-initiated logout: the end_session endpoint sends the browser back to the
    /// post-logout redirect URI with this state instead of the RP's; empty: with no state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_logout_state: Option<String>,
    /// Shapes the encryption of an ID token whose client registered encrypted ID tokens
    /// (`OidcClient.id_token_encryption`); no effect on other clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwe: Option<JweSpec>,
    /// Aggregated and distributed claims (OIDC Core 5.6.2) in the UserInfo answer: each
    /// source's claims leave the plain answer and are named in `_claim_names`, their values
    /// reachable only through `_claim_sources`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claim_sources: Vec<ClaimSource>,
}

/// How an encrypted ID token is broken. `{}` is a genuine JWE to the RP's key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct JweSpec {
    /// One bit of the authentication tag flipped: the ciphertext is no longer the OP's, and
    /// an RP must refuse it (RFC 7516 5.2 step 14) rather than use what it decrypts to.
    #[serde(default, skip_serializing_if = "is_false")]
    pub flip_tag: bool,
}

/// One claims source of a UserInfo answer (OIDC Core 5.6.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct ClaimSource {
    /// The source's name in `_claim_sources` (`src1`); each of its claims maps to it in
    /// `_claim_names`.
    pub name: String,
    /// `aggregated`: the signed JWT sits in the answer; `distributed`: the answer names an
    /// endpoint and an access token, and the endpoint answers the signed JWT.
    pub kind: ClaimSourceKind,
    /// The claims the source vouches for, with their values; a member of the same name
    /// leaves the plain answer.
    pub claims: Map<String, Value>,
    /// How the source's JWT is signed; absent or `{}`: RS256 by the OP's key. `key:
    /// attacker` is a key no JWKS lists, `header: {alg: none}` no signature at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwsSpec>,
    /// Distributed only: the endpoint the answer names (default: the tenant's own claims
    /// endpoint, `/t/{id}/oidc/claims`, which answers only the access token it issued).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// How an RP reaches a claims source's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimSourceKind {
    Aggregated,
    Distributed,
}

impl ForgeSpec {
    /// The JWS members of the ID token.
    pub fn id_token_jws(&self) -> JwsSpec {
        JwsSpec {
            header: self.header.clone(),
            key: self.key,
            signature: self.signature,
        }
    }
}

/// How a JWS other than the ID token is made (userinfo JWT, logout token).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct JwsSpec {
    #[serde(default, skip_serializing_if = "HeaderSpec::is_empty")]
    pub header: HeaderSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureMode>,
}

/// How the JARM response JWT is made: its JWS members as for any other JWS, and mutations of
/// its claims (`iss`, `aud`, `exp`, `code`, `state`). `{}` is a genuine RS256 signature by
/// the OP over the genuine claims.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct JarmSpec {
    #[serde(default, skip_serializing_if = "HeaderSpec::is_empty")]
    pub header: HeaderSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureMode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<ClaimOp>,
}

impl JarmSpec {
    /// The JWS members (header, key, signature).
    pub fn jws(&self) -> JwsSpec {
        JwsSpec {
            header: self.header.clone(),
            key: self.key,
            signature: self.signature,
        }
    }
}

/// The JOSE header. Absent members take the genuine value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct HeaderSpec {
    /// Any text (`none`, `nOnE`, `RS256`, `HS256`, `PS256`, `ES256`, `EdDSA`...). A known
    /// algorithm in another case is signed with that algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `null`: no `typ`; absent: `JWT`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub typ: Option<Option<String>>,
    /// `null`: no `kid`; absent: the signing key's kid.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub kid: Option<Option<String>>,
    /// Embed the signing key's public JWK (`jwk` header).
    #[serde(default, skip_serializing_if = "is_false")]
    pub jwk: bool,
    /// `jku`: the canary URL.
    #[serde(default, skip_serializing_if = "is_false")]
    pub jku: bool,
    /// `x5u`: the canary URL.
    #[serde(default, skip_serializing_if = "is_false")]
    pub x5u: bool,
    /// `x5c`: a self-signed certificate of the signing key.
    #[serde(default, skip_serializing_if = "is_false")]
    pub x5c: bool,
    /// `crit` names; each is also set (to `true`) unless `extra` gives it a value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crit: Vec<String>,
    /// Any further members, set last (they may override the ones above).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl HeaderSpec {
    pub fn is_empty(&self) -> bool {
        self == &HeaderSpec::default()
    }

    /// `over` wins member by member; flags and lists add up.
    pub fn overlay(&mut self, over: &HeaderSpec) {
        if over.alg.is_some() {
            self.alg.clone_from(&over.alg);
        }
        if over.typ.is_some() {
            self.typ.clone_from(&over.typ);
        }
        if over.kid.is_some() {
            self.kid.clone_from(&over.kid);
        }
        self.jwk |= over.jwk;
        self.jku |= over.jku;
        self.x5u |= over.x5u;
        self.x5c |= over.x5c;
        for c in &over.crit {
            if !self.crit.contains(c) {
                self.crit.push(c.clone());
            }
        }
        for (k, v) in &over.extra {
            self.extra.insert(k.clone(), v.clone());
        }
    }
}

/// Which key signs. The algorithm comes from the header's `alg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyChoice {
    /// A key the OP publishes: its RSA signing key for RS256, a published RSA key for PS256,
    /// a published P-256 key for ES256, a published Ed25519 key for EdDSA (the last three
    /// are added to the JWKS when a forge asks for them).
    Op,
    /// The next key of the OP's rotation (RSA; listed in the JWKS).
    OpNext,
    /// A real attacker key (RSA, P-256 or Ed25519 by `alg`) that no JWKS lists.
    Attacker,
    /// HS256 keyed with the OP's RSA public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    OpPublicAsHmacPem,
    /// ... as PKCS#1 PEM (`-----BEGIN RSA PUBLIC KEY-----`).
    OpPublicAsHmacPkcs1Pem,
    /// ... as SPKI DER bytes.
    OpPublicAsHmacDer,
    /// ... as PKCS#1 DER bytes.
    OpPublicAsHmacPkcs1Der,
    /// ... as the JWK JSON text exactly as the JWKS serves it.
    OpPublicAsHmacJwk,
    /// HS256 keyed with the client's secret.
    ClientSecret,
    /// HS256 keyed with the empty string (what a `kid` pointing at `/dev/null` reads).
    EmptySecret,
    /// HS256 keyed with a fresh random secret of the attacker's; with `header.jwk` the
    /// secret itself ships in the header as an `oct` JWK (an RP that takes keys from the
    /// header then verifies the token with the key the token brought).
    AttackerSecret,
    /// No key (with `alg: none` and its case variants).
    None,
}

/// What goes in the third segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureMode {
    /// The signature the algorithm and key give (empty for `none`).
    Valid,
    /// An empty third segment.
    Empty,
    /// Random bytes of the algorithm's length.
    Garbage,
    /// The valid signature with one bit flipped.
    Flipped,
    /// All zero bytes of the algorithm's length (for ES256: r = s = 0, the "psychic
    /// signature").
    Zero,
    /// No third segment at all: `header.payload`.
    Absent,
}

/// One JSON mutation. The same operations serve the ID token claims, the token response,
/// userinfo and logout tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClaimOp {
    /// Every member of that name is removed.
    Remove { name: String },
    /// The member takes any JSON value (added when absent).
    Set { name: String, value: Value },
    /// The member appears twice in the JSON text: the genuine value and `value` (default: a
    /// different value of the same type). `forged_first` puts the forged one first.
    Duplicate {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<Value>,
        #[serde(default, skip_serializing_if = "is_false")]
        forged_first: bool,
    },
    /// The member keeps its meaning in another JSON type (number as string, string as
    /// number, boolean as string, array as object, object as array).
    WrongType { name: String },
    /// A NumericDate `seconds` from the tenant's now (negative: the past).
    RelativeTime { name: String, seconds: i64 },
    /// `aud` as a string (the client) or an array (the client, then `extra`).
    Audience {
        form: AudienceForm,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        extra: Vec<String>,
    },
    /// `azp`: `value`, or the client id when absent.
    Azp {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// `at_hash` over the access token or `c_hash` over the code; `correct: false` hashes
    /// something else.
    Hash {
        name: HashClaim,
        #[serde(default = "yes")]
        correct: bool,
    },
    /// A near miss of the genuine issuer.
    Issuer { variant: IssuerVariant },
}

fn yes() -> bool {
    true
}

impl ClaimOp {
    /// The member the operation writes.
    pub fn name(&self) -> &str {
        match self {
            ClaimOp::Remove { name }
            | ClaimOp::Set { name, .. }
            | ClaimOp::Duplicate { name, .. }
            | ClaimOp::WrongType { name }
            | ClaimOp::RelativeTime { name, .. } => name,
            ClaimOp::Audience { .. } => "aud",
            ClaimOp::Azp { .. } => "azp",
            ClaimOp::Hash { name, .. } => match name {
                HashClaim::AtHash => "at_hash",
                HashClaim::CHash => "c_hash",
            },
            ClaimOp::Issuer { .. } => "iss",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudienceForm {
    String,
    Array,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashClaim {
    AtHash,
    CHash,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssuerVariant {
    /// Another issuer altogether.
    Other,
    /// The trailing slash added or removed.
    TrailingSlash,
    /// `http` for `https` and the reverse.
    Scheme,
    /// The host in upper case.
    HostCase,
}

/// An error answer of the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct TokenError {
    /// 400 to 599.
    #[serde(default = "bad_request")]
    pub status: u16,
    #[serde(default = "invalid_grant")]
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// Any JSON sent verbatim instead of `{"error", "error_description"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

fn bad_request() -> u16 {
    400
}

fn invalid_grant() -> String {
    "invalid_grant".into()
}

/// An error response of the authorization endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct AuthorizationError {
    #[serde(default = "access_denied")]
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

fn access_denied() -> String {
    "access_denied".into()
}

/// RFC 9207 `iss` in the authorization response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssParam {
    Absent,
    Correct,
    Wrong,
}

/// An extra key the OP can publish in its JWKS (beside its RSA signing keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Published {
    Ps256,
    Es256,
    Eddsa,
}

impl Published {
    pub const ALL: [Published; 3] = [Published::Ps256, Published::Es256, Published::Eddsa];
}

/// Tenant-wide provider behaviour (`PUT /_control/tenants/{id}/oidc/provider`, and what
/// `GET` answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct ProviderSettings {
    /// The JWKS endpoint's status; anything but 200 answers `{"error": ...}`.
    #[serde(default = "ok")]
    pub jwks_status: u16,
    /// The JWKS connection is cut before any answer.
    #[serde(default)]
    pub jwks_unreachable: bool,
    /// The JWKS lists a second, wrong key under the current kid, before the right one.
    #[serde(default)]
    pub jwks_kid_collision: bool,
    /// Discovery says `authorization_response_iss_parameter_supported: true` (RFC 9207).
    #[serde(default)]
    pub iss_parameter_supported: bool,
    /// Extra keys listed whether or not a forge uses them.
    #[serde(default)]
    pub publish: Vec<Published>,
    /// The JWKS lists the current signing key alone (no next key, no retired keys): what an
    /// OP with one key serves, so a token without `kid` has exactly one candidate.
    #[serde(default)]
    pub single_key: bool,
    /// Discovery advertises the JWKS at `jwks_uri?run=<tag>`, a URL only this run knows;
    /// each JWKS fetch is recorded with whether it used it (`advertised`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri_tag: Option<String>,
    /// Discovery names the token and UserInfo endpoints under this base URL (another host:
    /// the attacker's) instead of the tenant's own; the authorization endpoint, the issuer
    /// and the JWKS stay. `None`: the genuine endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints_at: Option<String>,
    /// Mix-up (OIDC-RP-72): this OP's authorization endpoint sends the browser on to another
    /// OP's, with the RP's client_id there and every other parameter (state, nonce,
    /// redirect_uri, PKCE) as the RP sent them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix_up: Option<MixUp>,
}

/// Where a mix-up attacker's authorization endpoint bounces the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixUp {
    /// The honest OP's authorization endpoint.
    pub authorization_endpoint: String,
    /// The client_id the RP has at the honest OP.
    pub client_id: String,
}

fn ok() -> u16 {
    200
}

impl Default for ProviderSettings {
    fn default() -> Self {
        Self {
            jwks_status: ok(),
            jwks_unreachable: false,
            jwks_kid_collision: false,
            iss_parameter_supported: false,
            publish: Vec::new(),
            jwks_uri_tag: None,
            endpoints_at: None,
            mix_up: None,
            single_key: false,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OldKey {
    /// The old key stays in the JWKS (tokens signed before the rotation still verify).
    Keep,
    /// The old key leaves the JWKS at once.
    #[default]
    Remove,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NewKey {
    /// The next key, which the JWKS already listed, becomes current: an RP with a cached
    /// JWKS keeps verifying.
    #[default]
    Next,
    /// A key no JWKS has listed yet: an RP must fetch the JWKS again on the unknown kid.
    Fresh,
}

/// `POST /_control/tenants/{id}/oidc/rotate` (an empty body is the defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct RotateBody {
    #[serde(default)]
    pub old: OldKey,
    #[serde(default)]
    pub new: NewKey,
}

/// What `POST .../oidc/rotate` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotateAnswer {
    pub previous_kid: String,
    pub current_kid: String,
    pub next_kid: String,
    /// Every kid the JWKS lists after the rotation, in its order.
    pub jwks_kids: Vec<Value>,
}

/// How a back-channel logout token is broken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogoutVariant {
    #[default]
    Valid,
    AlgNone,
    /// HS256 keyed with the OP's public key (SPKI PEM) instead of RS256.
    WrongAlg,
    NoEvents,
    WrongEvents,
    WithNonce,
    WrongAud,
    WrongIss,
    /// RS256 by an attacker's key under the OP's kid.
    AttackerKey,
    /// Neither `sub` nor `sid` (one is required).
    NoSubOrSid,
}

/// `POST /_control/tenants/{id}/oidc/backchannel-logout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct LogoutRequest {
    /// The RP's back-channel logout URL.
    pub url: String,
    /// The audience; must be a registered client.
    pub client_id: String,
    #[serde(default)]
    pub variant: LogoutVariant,
    /// The user's email: `sub` is their stable uid.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub sub: Option<String>,
    #[serde(default)]
    pub sid: Option<String>,
    /// Further claim mutations after the variant's.
    #[serde(default)]
    pub claims: Vec<ClaimOp>,
    /// Laid over the variant's header, key and signature.
    #[serde(default)]
    pub jws: Option<JwsSpec>,
}

/// What `POST .../oidc/backchannel-logout` answers: what the RP said to the logout token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutAnswer {
    /// The RP's HTTP status; `null` when no answer came (then `error` says why).
    pub status: Option<u16>,
    /// The start of the RP's answer body.
    pub body: String,
    pub error: Option<String>,
    pub variant: LogoutVariant,
    /// The token sent, decoded (header, claims) with `claims_text` as signed.
    pub logout_token: Value,
}

/// What `GET .../oidc/forge` answers: the forges in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgeState {
    /// `PUT .../oidc/forge`: every sign-in until changed.
    pub standing: Option<ForgeSpec>,
    /// `POST .../oidc/forge/next`: the next sign-in only.
    pub next: Option<ForgeSpec>,
    /// `OidcClient.forge`, by client id.
    pub clients: BTreeMap<String, ForgeSpec>,
}

/// What `GET .../oidc/forge/keys` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgeKeysInfo {
    pub attacker: AttackerKeys,
    /// The extra keys the JWKS lists now.
    pub published: Vec<PublishedKey>,
    pub canary: Canaries,
}

/// The attacker's keys, for a test that verifies what it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackerKeys {
    /// A JWKS document (`{"keys": [...]}`) of every attacker key.
    pub jwks: Value,
    pub certificate_pem: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedKey {
    /// `PS256`, `ES256` or `EdDSA`.
    pub alg: String,
    pub kid: String,
}

/// The tenant's own canary URLs (`jku`, `x5u`); a fetch is logged as a `canary` exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canaries {
    pub jku: String,
    pub x5u: String,
}

/// What a correct relying party does with a forge variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    Reject,
    Accept,
    /// Either is defensible (local policy), but the RP must not fail in any other way.
    Either,
}

impl Expect {
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Reject => "reject",
            Expect::Accept => "accept",
            Expect::Either => "either",
        }
    }
}

/// One row of `GET /_control/oidc/forge/catalogue` (and `mock-idp oidc-forge --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantInfo {
    pub name: String,
    /// `id_token`, `token_response`, `userinfo`, `authorization`, `jwks`, `logout`.
    pub target: String,
    pub expect: Expect,
    pub cwe: String,
    pub cve: Vec<String>,
    pub description: String,
    /// A preset: its forge spec (`{"preset": name}` asks for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Value>,
    /// Not a preset: the fault or control call that makes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub how: Option<String>,
}

object_only!(
    ForgeSpec,
    ClaimSource,
    JwsSpec,
    JarmSpec,
    JweSpec,
    HeaderSpec,
    TokenError,
    AuthorizationError,
    ProviderSettings,
    RotateBody,
    LogoutRequest
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn null_and_absent_kid_differ_and_round_trip() {
        let absent: ForgeSpec =
            serde_json::from_value(json!({"header": {"alg": "RS256"}})).unwrap();
        let null: ForgeSpec = serde_json::from_value(json!({"header": {"kid": null}})).unwrap();
        assert_eq!(absent.header.kid, None);
        assert_eq!(null.header.kid, Some(None));
        let back: ForgeSpec = serde_json::from_value(serde_json::to_value(&null).unwrap()).unwrap();
        assert_eq!(back, null, "round trip keeps the null");
    }

    #[test]
    fn bodies_are_objects_only() {
        for (v, name) in [
            (
                serde_json::from_value::<ForgeSpec>(json!([])).map(|_| ()),
                "ForgeSpec",
            ),
            (
                serde_json::from_value::<ForgeSpec>(json!({"header": []})).map(|_| ()),
                "HeaderSpec",
            ),
            (
                serde_json::from_value::<ProviderSettings>(json!([200])).map(|_| ()),
                "ProviderSettings",
            ),
            (
                serde_json::from_value::<RotateBody>(json!(["keep"])).map(|_| ()),
                "RotateBody",
            ),
        ] {
            let e = v.unwrap_err().to_string();
            assert!(e.contains(&format!("expected an object ({name})")), "{e}");
        }
    }

    #[test]
    fn unknown_members_and_ops_are_refused() {
        assert!(serde_json::from_value::<ForgeSpec>(json!({"headr": {}})).is_err());
        assert!(
            serde_json::from_value::<ForgeSpec>(json!({"claims": [{"op": "sett", "name": "a"}]}))
                .is_err()
        );
        assert!(
            serde_json::from_value::<LogoutRequest>(json!({"url": "x", "client_id": "c", "x": 1}))
                .is_err()
        );
    }

    #[test]
    fn header_overlay_lets_the_later_win_and_adds_flags() {
        let mut a = HeaderSpec {
            alg: Some("none".into()),
            crit: vec!["b64".into()],
            ..Default::default()
        };
        a.overlay(&HeaderSpec {
            kid: Some(None),
            jwk: true,
            crit: vec!["b64".into(), "exp".into()],
            ..Default::default()
        });
        assert_eq!(a.alg.as_deref(), Some("none"));
        assert_eq!(a.kid, Some(None));
        assert!(a.jwk);
        assert_eq!(a.crit, ["b64", "exp"]);
    }

    #[test]
    fn defaults_of_provider_and_token_error() {
        let p: ProviderSettings = serde_json::from_value(json!({})).unwrap();
        assert_eq!(p, ProviderSettings::default());
        assert_eq!(p.jwks_status, 200);
        let e: TokenError = serde_json::from_value(json!({})).unwrap();
        assert_eq!((e.status, e.error.as_str()), (400, "invalid_grant"));
    }
}
