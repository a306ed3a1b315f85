//! The wire form of a forge: what the caller asks the OP to break in one sign-in (or in every
//! sign-in of a client or tenant). Every struct denies unknown fields, so a misspelt member
//! is a 400 naming its path rather than a silently genuine token.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Distinguishes "member absent" (`None`: the default) from "member is `null`" (`Some(None)`:
/// leave it out of the header), which a plain `Option` cannot.
fn present<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// One forge. Everything is optional: `{}` is a genuine sign-in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Token endpoint JSON mutations, in order (`access_token`, `token_type`, `id_token`...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_response: Vec<ClaimOp>,
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
}

/// How a JWS other than the ID token is made (userinfo JWT, logout token).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwsSpec {
    #[serde(default, skip_serializing_if = "HeaderSpec::is_empty")]
    pub header: HeaderSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureMode>,
}

/// The JOSE header. Absent members take the genuine value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

fn is_false(b: &bool) -> bool {
    !*b
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

/// One JSON mutation. The same operations serve the ID token claims, the token response and
/// userinfo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// RFC 9207 `iss` in the authorization response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssParam {
    Absent,
    Correct,
    Wrong,
}

fn at(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_string()
    } else {
        format!("{prefix}.{field}")
    }
}

/// A later layer that changes `alg` without naming a key must not inherit a key that cannot
/// sign that alg (a fault's `none` under a forge's HS256): the key then follows the alg.
fn forget_unfit_key(spec: &mut JwsSpec, alg_changed: bool) {
    if alg_changed && matches!(super::jws::plan(spec), Err(super::jws::PlanError::Key(_))) {
        spec.key = None;
    }
}

impl JwsSpec {
    /// `over` wins member by member.
    pub fn overlay(&mut self, over: &JwsSpec) {
        self.header.overlay(&over.header);
        if over.key.is_some() {
            self.key = over.key;
        }
        if over.signature.is_some() {
            self.signature = over.signature;
        }
        forget_unfit_key(self, over.header.alg.is_some() && over.key.is_none());
    }

    pub fn validate(&self, path: &str) -> Result<()> {
        super::jws::plan(self).map(|_| ()).map_err(|e| {
            let field = match &e {
                super::jws::PlanError::Key(_) => "key",
                super::jws::PlanError::Alg(_) => "header.alg",
                super::jws::PlanError::Embed(_) => "header",
            };
            Error::bad_input(at(path, field), e.to_string())
        })
    }
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

    /// `over` wins member by member; operation lists add up (`self`'s first).
    pub fn overlay(&mut self, over: &ForgeSpec) {
        self.header.overlay(&over.header);
        if over.key.is_some() {
            self.key = over.key;
        }
        if over.signature.is_some() {
            self.signature = over.signature;
        }
        let mut jws = self.id_token_jws();
        forget_unfit_key(&mut jws, over.header.alg.is_some() && over.key.is_none());
        self.key = jws.key;
        self.claims.extend(over.claims.iter().cloned());
        self.token_response
            .extend(over.token_response.iter().cloned());
        if over.token_error.is_some() {
            self.token_error.clone_from(&over.token_error);
        }
        self.userinfo.extend(over.userinfo.iter().cloned());
        match (&mut self.userinfo_jwt, &over.userinfo_jwt) {
            (Some(mine), Some(theirs)) => mine.overlay(theirs),
            (mine @ None, Some(theirs)) => *mine = Some(theirs.clone()),
            _ => {}
        }
        if over.authorization_iss.is_some() {
            self.authorization_iss = over.authorization_iss;
        }
        if over.allow_code_reuse.is_some() {
            self.allow_code_reuse = over.allow_code_reuse;
        }
        if over.canary_url.is_some() {
            self.canary_url.clone_from(&over.canary_url);
        }
        // The preset is expanded by `expanded`; the overlay keeps the last name for the log.
        if over.preset.is_some() {
            self.preset.clone_from(&over.preset);
        }
    }

    /// The spec with its preset expanded: the catalogue entry, then this spec's own members.
    pub fn expanded(&self) -> Result<ForgeSpec> {
        let mut out = match &self.preset {
            Some(name) => super::catalogue::preset(name).ok_or_else(|| {
                Error::bad_input(
                    "preset",
                    format!("unknown preset '{name}' (mock-idp oidc-forge --list)"),
                )
            })?,
            None => ForgeSpec::default(),
        };
        out.overlay(self);
        Ok(out)
    }

    /// Everything serde cannot check: the preset exists, keys fit algorithms, numbers are in
    /// range, URLs parse. `path` prefixes every reported path (`oidc_clients[0].forge`).
    pub fn validate(&self, path: &str) -> Result<()> {
        let spec = self.expanded().map_err(|e| match e {
            Error::BadInput { path: p, message } => Error::bad_input(at(path, &p), message),
            other => other,
        })?;
        if let Some(url) = &spec.canary_url {
            url::Url::parse(url).map_err(|e| {
                Error::bad_input(
                    at(path, "canary_url"),
                    format!("'{url}' is not an absolute URL: {e}"),
                )
            })?;
        }
        spec.id_token_jws().validate(path)?;
        if let Some(jwt) = &spec.userinfo_jwt {
            jwt.validate(&at(path, "userinfo_jwt"))?;
        }
        if let Some(e) = &spec.token_error
            && !(400..=599).contains(&e.status)
        {
            return Err(Error::bad_input(
                at(path, "token_error.status"),
                format!("{} is not an error status (400-599)", e.status),
            ));
        }
        for (list, ops) in [
            ("claims", &spec.claims),
            ("token_response", &spec.token_response),
            ("userinfo", &spec.userinfo),
        ] {
            for (i, op) in ops.iter().enumerate() {
                if op.name().is_empty() {
                    return Err(Error::bad_input(
                        format!("{}[{i}].name", at(path, list)),
                        "must not be empty",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether the OP must publish the extra key this spec signs with (PS256, ES256, EdDSA
    /// with `key: op`), for the ID token or the userinfo JWT.
    pub fn publishes(&self) -> Vec<super::keys::Published> {
        let Ok(spec) = self.expanded() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for jws in std::iter::once(spec.id_token_jws()).chain(spec.userinfo_jwt.clone()) {
            if let Ok(plan) = super::jws::plan(&jws)
                && let Some(p) = plan.published()
                && !out.contains(&p)
            {
                out.push(p);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> std::result::Result<ForgeSpec, String> {
        crate::control::from_json::<ForgeSpec>(v.to_string().as_bytes()).map_err(|e| match e {
            Error::BadInput { path, message } => format!("{path}: {message}"),
            other => other.to_string(),
        })
    }

    #[test]
    fn the_briefs_example_parses() {
        let s = parse(json!({
            "header": {"alg": "none"}, "signature": "empty", "key": "none",
            "claims": [{"op": "set", "name": "aud", "value": ["x", "y"]}],
            "token_response": [{"op": "remove", "name": "token_type"}],
            "userinfo": [{"op": "duplicate", "name": "sub"}],
            "canary_url": "http://127.0.0.1:9/canary"
        }))
        .unwrap();
        assert_eq!(s.header.alg.as_deref(), Some("none"));
        assert_eq!(
            s.claims[0],
            ClaimOp::Set {
                name: "aud".into(),
                value: json!(["x", "y"])
            }
        );
        s.validate("").unwrap();
    }

    #[test]
    fn null_and_absent_kid_differ() {
        let absent = parse(json!({"header": {"alg": "RS256"}})).unwrap();
        let null = parse(json!({"header": {"kid": null}})).unwrap();
        let text = parse(json!({"header": {"kid": "x"}})).unwrap();
        assert_eq!(absent.header.kid, None);
        assert_eq!(null.header.kid, Some(None));
        assert_eq!(text.header.kid, Some(Some("x".into())));
        let back: ForgeSpec = serde_json::from_value(serde_json::to_value(&null).unwrap()).unwrap();
        assert_eq!(back, null, "round trip keeps the null");
    }

    #[test]
    fn unknown_members_are_refused_with_their_path() {
        let e = parse(json!({"header": {"alg": "none", "algo": 1}})).unwrap_err();
        assert!(e.starts_with("header"), "{e}");
        assert!(e.contains("algo"), "{e}");
        let e =
            parse(json!({"claims": [{"op": "set", "name": "a", "value": 1, "x": 2}]})).unwrap_err();
        assert!(e.starts_with("claims[0]"), "{e}");
        let e = parse(json!({"claims": [{"op": "sett", "name": "a"}]})).unwrap_err();
        assert!(e.starts_with("claims[0]"), "{e}");
        let e = parse(json!({"key": "opp"})).unwrap_err();
        assert!(e.starts_with("key"), "{e}");
    }

    #[test]
    fn semantic_errors_name_their_path() {
        let check = |v: Value| parse(v).unwrap().validate("forge").unwrap_err().to_string();
        assert!(check(json!({"preset": "nope"})).starts_with("forge.preset"));
        assert!(check(json!({"canary_url": "not a url"})).starts_with("forge.canary_url"));
        assert!(
            check(json!({"header": {"alg": "ES256"}, "key": "op_public_as_hmac_pem"}))
                .starts_with("forge.key")
        );
        assert!(
            check(json!({"token_error": {"status": 200}})).starts_with("forge.token_error.status")
        );
        assert!(
            check(json!({"userinfo_jwt": {"header": {"alg": "HS256"}, "key": "attacker"}}))
                .starts_with("forge.userinfo_jwt.key")
        );
        assert!(
            check(json!({"claims": [{"op": "remove", "name": ""}]}))
                .starts_with("forge.claims[0].name")
        );
    }

    #[test]
    fn a_new_alg_drops_only_a_key_that_cannot_sign_it() {
        let kept =
            parse(json!({"preset": "hs256_op_public_pkcs1_pem", "header": {"alg": "HS256"}}))
                .unwrap()
                .expanded()
                .unwrap();
        assert_eq!(kept.key, Some(KeyChoice::OpPublicAsHmacPkcs1Pem));
        let mut a = parse(json!({"key": "attacker"})).unwrap();
        a.overlay(&parse(json!({"header": {"alg": "nOnE"}})).unwrap());
        assert_eq!(
            a.key, None,
            "attacker cannot sign none: the default follows the alg"
        );
        a.validate("").unwrap();
        let mut b = parse(json!({"key": "attacker"})).unwrap();
        b.overlay(&parse(json!({"header": {"alg": "ES256"}})).unwrap());
        assert_eq!(
            b.key,
            Some(KeyChoice::Attacker),
            "an attacker ES256 key exists"
        );
    }

    #[test]
    fn overlay_lets_the_later_spec_win_and_adds_lists() {
        let mut a =
            parse(json!({"header": {"alg": "none"}, "claims": [{"op": "remove", "name": "a"}]}))
                .unwrap();
        let b = parse(json!({"header": {"kid": null}, "key": "attacker", "header2": 1}));
        assert!(b.is_err());
        let b = parse(
            json!({"header": {"alg": "RS256", "kid": null}, "key": "attacker",
            "claims": [{"op": "remove", "name": "b"}]}),
        )
        .unwrap();
        a.overlay(&b);
        assert_eq!(a.header.alg.as_deref(), Some("RS256"));
        assert_eq!(a.header.kid, Some(None));
        assert_eq!(a.key, Some(KeyChoice::Attacker));
        assert_eq!(a.claims.len(), 2);
    }
}
