//! Arguments of the steps that drive the mock OpenID provider between sign-ins (key
//! rotation, provider settings, back-channel logout) and of the two expectations that read
//! its side of the trial: what the RP sent it (`rp_sent`) and how the RP answered a logout
//! token (`logout_result`). The wire bodies are `proto::oidc_forge`'s; these are the
//! scenario's words for them.
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::input::shorthand::Shorthand;
use crate::input::template::Template;

pub use proto::oidc_forge::{LogoutVariant, NewKey, OldKey};

/// `rotate_keys: {}`, `rotate_keys: fresh`, or `{old: keep|remove, new: next|fresh}`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RotateArgs {
    /// Whether the old key stays in the JWKS (default: it leaves at once).
    #[serde(default)]
    pub old: OldKey,
    /// `next` (already listed: a cached JWKS still verifies) or `fresh` (never listed: the
    /// RP must fetch the JWKS again on the unknown kid). Default `next`.
    #[serde(default)]
    pub new: NewKey,
}
impl Shorthand for RotateArgs {
    const SHORT: &'static str = "next or fresh (the new key)";
    fn from_scalar(s: &str) -> Result<Self, String> {
        let new = match s {
            "next" => NewKey::Next,
            "fresh" => NewKey::Fresh,
            other => return Err(format!("unknown new key {other:?}: next or fresh")),
        };
        Ok(Self {
            old: OldKey::default(),
            new,
        })
    }
    fn from_empty() -> Result<Self, String> {
        Ok(Self::default())
    }
}

/// `oidc_provider: {...}`: the given settings change, the others stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct ProviderArgs {
    /// The JWKS endpoint answers this status (200 is the genuine key set).
    #[serde(default)]
    pub jwks_status: Option<u16>,
    /// The JWKS connection is cut before any answer.
    #[serde(default)]
    pub jwks_unreachable: Option<bool>,
    /// The JWKS lists a wrong key under the current kid, before the right one.
    #[serde(default)]
    pub jwks_kid_collision: Option<bool>,
    /// Discovery advertises `authorization_response_iss_parameter_supported` (RFC 9207).
    #[serde(default)]
    pub iss_parameter_supported: Option<bool>,
    /// The JWKS lists the current signing key alone (no next or retired keys).
    #[serde(default)]
    pub single_key: Option<bool>,
    /// Discovery advertises a jwks_uri made for this trial (`?run=<random>`): an RP that
    /// fetches another (cached, hard-coded, built from the issuer) is seen by `rp_sent:
    /// { keys_from_discovery: true }`.
    #[serde(default)]
    pub per_run_jwks_uri: Option<bool>,
    /// Discovery names the token and UserInfo endpoints under this base URL on another host
    /// (`{canary.url}`: whatever the RP sends there is caught by `no_egress`).
    #[serde(default)]
    pub endpoints_at: Option<Template>,
    /// Mix-up: the authorization endpoint bounces the browser to another OP's
    /// (`{main.authorization_endpoint}`) with the RP's client_id there (`{main.client_id}`).
    #[serde(default)]
    pub mix_up: Option<MixUpArgs>,
}

/// `mix_up: {authorization_endpoint, client_id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixUpArgs {
    pub authorization_endpoint: Template,
    pub client_id: Template,
}

impl<'de> Deserialize<'de> for ProviderArgs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let a = ProviderArgs::deserialize(d)?;
        if a.jwks_status.is_none()
            && a.jwks_unreachable.is_none()
            && a.jwks_kid_collision.is_none()
            && a.iss_parameter_supported.is_none()
            && a.per_run_jwks_uri.is_none()
            && a.endpoints_at.is_none()
            && a.mix_up.is_none()
            && a.single_key.is_none()
        {
            return Err(serde::de::Error::custom(
                "oidc_provider changes nothing: give at least one of jwks_status, \
                 jwks_unreachable, jwks_kid_collision, iss_parameter_supported, \
                 per_run_jwks_uri, endpoints_at, mix_up, single_key",
            ));
        }
        if let Some(s) = a.jwks_status
            && !(100..=599).contains(&s)
        {
            return Err(serde::de::Error::custom(format!(
                "jwks_status {s} is not an HTTP status (100-599)"
            )));
        }
        Ok(a)
    }
}

/// `backchannel_logout: alg_none`, or `{variant, user, sid}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct LogoutArgs {
    /// How the logout token is made (default `valid`): valid, alg_none, wrong_alg,
    /// no_events, wrong_events, with_nonce, wrong_aud, wrong_iss, attacker_key,
    /// no_sub_or_sid.
    #[serde(default)]
    pub variant: LogoutVariant,
    /// Whose sessions end: an IdP user's email (default the first user); the token's `sub`
    /// is that user's subject at the mock OP.
    #[serde(default)]
    pub user: Option<Template>,
    /// A `sid` claim as well.
    #[serde(default)]
    pub sid: Option<Template>,
}
impl Shorthand for LogoutArgs {
    const SHORT: &'static str = "a logout token variant (valid, alg_none, wrong_alg, ...)";
    fn from_scalar(s: &str) -> Result<Self, String> {
        Ok(Self {
            variant: logout_variant(s)?,
            ..Self::default()
        })
    }
    fn from_empty() -> Result<Self, String> {
        Ok(Self::default())
    }
}

/// `frontchannel_logout: forged_sid`: what the front-channel logout request a page makes the
/// browser load carries instead of the OP's (`iss` and the `sid` of alice's sign-in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrontchannelArgs {
    /// The OP's iss and a sid no sign-in had.
    ForgedSid,
    /// The OP's iss and no sid.
    NoSid,
    /// The sid of the trial's sign-in, with another issuer.
    WrongIss,
}

/// Every logout token variant's name, for error messages.
const LOGOUT_VARIANTS: &[&str] = &[
    "valid",
    "alg_none",
    "wrong_alg",
    "no_events",
    "wrong_events",
    "with_nonce",
    "wrong_aud",
    "wrong_iss",
    "attacker_key",
    "no_sub_or_sid",
];

fn logout_variant(s: &str) -> Result<LogoutVariant, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| {
        let hint = crate::input::suggest::did_you_mean(s, LOGOUT_VARIANTS.iter().copied())
            .map(|c| format!(" (did you mean '{c}'?)"))
            .unwrap_or_default();
        format!(
            "unknown logout token variant '{s}'{hint}: one of {}",
            LOGOUT_VARIANTS.join(", ")
        )
    })
}

/// `nonce: unguessable`, `state: unguessable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Freshness {
    /// Present in every authorization request, at least `MIN_LEN` characters with at least
    /// `MIN_DISTINCT` different ones, and never the same value twice in the trial.
    Unguessable,
}

impl Freshness {
    pub const MIN_LEN: usize = 16;
    pub const MIN_DISTINCT: usize = 8;
}

/// The PKCE method (RFC 7636), as written on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Pkce {
    S256,
    #[serde(rename = "plain")]
    Plain,
}

impl fmt::Display for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Pkce::S256 => "S256",
            Pkce::Plain => "plain",
        })
    }
}

/// How the RP authenticated at the token endpoint (the mock OP's record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    ClientSecretBasic,
    ClientSecretPost,
}

impl ClientAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuth::ClientSecretBasic => "client_secret_basic",
            ClientAuth::ClientSecretPost => "client_secret_post",
        }
    }
}

/// How an authorization request passed its parameters (the mock OP's record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestBy {
    /// A request_uri the OP's PAR endpoint issued (RFC 9126).
    Par,
    /// A request object the OP fetched from the RP's request_uri (OpenID Connect Core 6.2).
    RequestUri,
    /// A request object by value (`request`, OpenID Connect Core 6.1).
    Request,
}

impl RequestBy {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestBy::Par => "par",
            RequestBy::RequestUri => "request_uri",
            RequestBy::Request => "request",
        }
    }
}

/// Where the access token went on a UserInfo call (the mock OP's record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPlace {
    Header,
    Body,
    Query,
}

impl TokenPlace {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPlace::Header => "header",
            TokenPlace::Body => "body",
            TokenPlace::Query => "query",
        }
    }
}

/// `expect: { rp_sent: {...} }`: what the RP sent the mock OP in this trial, from its
/// requests query (`GET .../oidc/requests`). Every field given must hold for every request
/// of its kind; a kind the RP never sent is a failure (nothing to judge is no pass).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct RpSent {
    /// Every authorization request carried a nonce that cannot be guessed and was not
    /// repeated.
    #[serde(default)]
    pub nonce: Option<Freshness>,
    /// The same for state.
    #[serde(default)]
    pub state: Option<Freshness>,
    /// Every authorization request used this PKCE method, and every code redemption sent
    /// a verifier the mock OP accepted.
    #[serde(default)]
    pub pkce: Option<Pkce>,
    /// Every token request authenticated the client so, and the mock OP accepted it.
    #[serde(default)]
    pub client_auth: Option<ClientAuth>,
    /// Every UserInfo call carried the access token in one of these places.
    #[serde(default)]
    pub access_token_in: Vec<TokenPlace>,
    /// The RP redeemed a refresh token and called UserInfo with the access token the
    /// refresh answered, and the mock OP accepted both (OIDC Core 12).
    #[serde(default)]
    pub userinfo_after_refresh: bool,
    /// Every authorization request asked for this response mode (`query.jwt`: JARM), and
    /// the mock OP answered in it.
    #[serde(default)]
    pub response_mode: Option<String>,
    /// RP-initiated logout: the RP sent the browser to the end_session endpoint so.
    #[serde(default)]
    pub end_session: Option<EndSessionSent>,
    /// `true`: the RP read the discovery document and fetched the JWKS at the jwks_uri it
    /// advertised for this trial (`oidc_provider: { per_run_jwks_uri: true }` first), every
    /// time.
    #[serde(default)]
    pub keys_from_discovery: Option<bool>,
    /// Every authorization request passed its parameters so (`par`, `request_uri`,
    /// `request`), the mock OP accepted it, and no loose query parameter beside the
    /// reference contradicted what it carried.
    #[serde(default)]
    pub request_by: Option<RequestBy>,
}

/// `rp_sent: { end_session: { id_token_hint: true, post_logout_redirect_uri: true } }`:
/// what every logout request the RP sent the mock OP's end_session endpoint carried
/// (OpenID Connect RP-Initiated Logout 1.0, 2). `true` asks for it; leaving a field out
/// asks nothing of it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct EndSessionSent {
    /// An `id_token_hint` that is an ID token the mock OP issued in this trial.
    #[serde(default)]
    pub id_token_hint: bool,
    /// A `post_logout_redirect_uri` registered with the trial's client (the target's
    /// `sp.post_logout_redirect_uri`), so the OP sent the browser back.
    #[serde(default)]
    pub post_logout_redirect_uri: bool,
}

impl<'de> Deserialize<'de> for EndSessionSent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let a = EndSessionSent::deserialize(d)?;
        if !a.id_token_hint && !a.post_logout_redirect_uri {
            return Err(serde::de::Error::custom(
                "end_session asserts nothing: give id_token_hint: true, \
                 post_logout_redirect_uri: true, or both",
            ));
        }
        Ok(a)
    }
}

impl RpSent {
    pub fn is_empty(&self) -> bool {
        self.nonce.is_none()
            && self.state.is_none()
            && self.pkce.is_none()
            && self.client_auth.is_none()
            && self.access_token_in.is_empty()
            && self.response_mode.is_none()
            && self.end_session.is_none()
            && self.keys_from_discovery.is_none()
            && self.request_by.is_none()
            && !self.userinfo_after_refresh
    }
}

impl<'de> Deserialize<'de> for RpSent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let a = RpSent::deserialize(d)?;
        if a.is_empty() {
            return Err(serde::de::Error::custom(
                "rp_sent asserts nothing: give at least one of nonce, state, pkce, \
                 client_auth, access_token_in, response_mode, end_session, keys_from_discovery, \
                 userinfo_after_refresh, request_by",
            ));
        }
        Ok(a)
    }
}

/// What the browser's session should be after a logout token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionAfter {
    /// The session probe finds nobody signed in (a valid token ended it).
    Ended,
    /// The session probe still finds the user signed in (a broken token changed nothing).
    Kept,
}

/// `expect: { logout_result: { status: 400, session: kept } }`: how the RP answered the
/// last `backchannel_logout` step (the OpenID Foundation's oracle: 200 for a valid token,
/// 400 for a broken one) and what became of the browser's session.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct LogoutResult {
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub session: Option<SessionAfter>,
}

impl<'de> Deserialize<'de> for LogoutResult {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let a = LogoutResult::deserialize(d)?;
        if a.status.is_none() && a.session.is_none() {
            return Err(serde::de::Error::custom(
                "logout_result asserts nothing: give status, session (ended | kept), or both",
            ));
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_and_errors() {
        let r: RotateArgs = serde_yaml_ng::from_str("fresh").unwrap();
        assert_eq!(r.new, NewKey::Fresh);
        let l: LogoutArgs = serde_yaml_ng::from_str("alg_none").unwrap();
        assert_eq!(l.variant, LogoutVariant::AlgNone);
        let e = serde_yaml_ng::from_str::<LogoutArgs>("alg_nnoe")
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean 'alg_none'"), "{e}");
        assert!(serde_yaml_ng::from_str::<ProviderArgs>("{}").is_err());
        assert!(serde_yaml_ng::from_str::<ProviderArgs>("{jwks_status: 42}").is_err());
        assert!(serde_yaml_ng::from_str::<RpSent>("{}").is_err());
        assert!(serde_yaml_ng::from_str::<RpSent>("{pkce: s256}").is_err());
        let s: RpSent =
            serde_yaml_ng::from_str("{pkce: S256, access_token_in: [header, body]}").unwrap();
        assert_eq!(s.pkce, Some(Pkce::S256));
        assert!(serde_yaml_ng::from_str::<EndSessionSent>("{}").is_err());
        let s: RpSent = serde_yaml_ng::from_str("{end_session: {id_token_hint: true}}").unwrap();
        assert!(s.end_session.is_some_and(|e| e.id_token_hint));
        assert!(serde_yaml_ng::from_str::<LogoutResult>("{}").is_err());
        let r: LogoutResult = serde_yaml_ng::from_str("{status: 400, session: kept}").unwrap();
        assert_eq!(r.session, Some(SessionAfter::Kept));
    }
}

/// The OPs a trial can have: its own tenant, and a second one playing the attacker's OP that
/// the same RP trusts too (`{attacker.*}` placeholders).
pub const IDP_NAMES: &[&str] = &["main", "attacker"];

/// `use_idp: attacker`, or `{name: attacker, user: mallory@evil.test}`: the mock IdP tenant
/// the following steps act on (connect, faults, provider settings, the login page's
/// tenant). `attacker` is made on first use, with the scenario's users under the same
/// subjects (`sub`) as at the main OP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct UseIdpArgs {
    pub name: String,
    /// The scenario user the `{user.*}` placeholders name from now on (default: unchanged).
    #[serde(default)]
    pub user: Option<Template>,
}
impl Shorthand for UseIdpArgs {
    const SHORT: &'static str = "main or attacker";
    fn from_scalar(s: &str) -> Result<Self, String> {
        Ok(Self {
            name: s.to_string(),
            user: None,
        })
    }
}

impl<'de> Deserialize<'de> for UseIdpArgs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let a: UseIdpArgs = crate::input::shorthand::shorthand(d)?;
        if !IDP_NAMES.contains(&a.name.as_str()) {
            return Err(serde::de::Error::custom(format!(
                "unknown OP {:?}: one of {}",
                a.name,
                IDP_NAMES.join(", ")
            )));
        }
        Ok(a)
    }
}

impl crate::input::shorthand::FullForm for UseIdpArgs {
    fn from_full<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        UseIdpArgs::deserialize(d)
    }
}

crate::input::tagged::shorthand_deserialize!(RotateArgs, LogoutArgs);
