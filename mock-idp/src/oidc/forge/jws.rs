//! Compact JWS made exactly as a forge says: any `alg` text, any key (the OP's, published
//! extras, an attacker's, the OP's public key or the client secret as an HMAC key), any
//! `kid`, embedded keys and key URLs, `crit`, and broken signatures.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use serde_json::{Map, Value, json};

use crate::oidc::jwt::SigningKey;
use crate::secret::Secret;

use super::keys::{ForgeKeys, JwsKey, KeyError, Published, SignAlg, hmac_sha256};
use proto::oidc_forge::{JwsSpec, KeyChoice, SignatureMode};

/// A spec that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Key(String),
    #[error("{0}")]
    Alg(String),
    #[error("{0}")]
    Embed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    #[error("{0}")]
    Plan(#[from] PlanError),
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("the client has no secret to key HS256 with")]
    NoClientSecret,
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// What a spec resolves to before any key is touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The header's `alg` text, verbatim.
    pub alg_text: String,
    /// The algorithm computed, if any (`none` and unknown texts compute nothing).
    pub sign: Option<SignAlg>,
    pub key: KeyChoice,
    pub signature: SignatureMode,
}

impl Plan {
    /// The extra key the OP must publish for this plan.
    pub fn published(&self) -> Option<Published> {
        if self.key != KeyChoice::Op {
            return None;
        }
        match self.sign? {
            SignAlg::Ps256 => Some(Published::Ps256),
            SignAlg::Es256 => Some(Published::Es256),
            SignAlg::EdDsa => Some(Published::Eddsa),
            SignAlg::Rs256 | SignAlg::Hs256 => None,
        }
    }
}

fn is_hmac_key(k: KeyChoice) -> bool {
    matches!(
        k,
        KeyChoice::OpPublicAsHmacPem
            | KeyChoice::OpPublicAsHmacPkcs1Pem
            | KeyChoice::OpPublicAsHmacDer
            | KeyChoice::OpPublicAsHmacPkcs1Der
            | KeyChoice::OpPublicAsHmacJwk
            | KeyChoice::ClientSecret
            | KeyChoice::EmptySecret
            | KeyChoice::AttackerSecret
    )
}

/// Resolves defaults and refuses combinations no key can make.
pub fn plan(spec: &JwsSpec) -> Result<Plan, PlanError> {
    let alg_text = match (&spec.header.alg, spec.key) {
        (Some(a), _) => a.clone(),
        (None, Some(KeyChoice::None)) => "none".into(),
        (None, Some(k)) if is_hmac_key(k) => "HS256".into(),
        (None, _) => "RS256".into(),
    };
    let sign = if alg_text.eq_ignore_ascii_case("none") {
        None
    } else {
        SignAlg::parse(&alg_text)
    };
    let key = spec.key.unwrap_or(match sign {
        None => KeyChoice::None,
        Some(SignAlg::Hs256) => KeyChoice::ClientSecret,
        Some(_) => KeyChoice::Op,
    });
    match (sign, key) {
        (None, KeyChoice::None) => {}
        (None, k) => {
            return Err(PlanError::Key(format!(
                "alg '{alg_text}' computes no signature, so key must be none (not {})",
                key_name(k)
            )));
        }
        (Some(a), KeyChoice::None) => {
            return Err(PlanError::Key(format!(
                "alg {} needs a key; key none only goes with alg none",
                a.name()
            )));
        }
        (Some(SignAlg::Hs256), k) if !is_hmac_key(k) => {
            return Err(PlanError::Key(format!(
                "HS256 needs an HMAC key (op_public_as_hmac_*, client_secret, empty_secret, attacker_secret), not {}",
                key_name(k)
            )));
        }
        (Some(a), k) if a != SignAlg::Hs256 && is_hmac_key(k) => {
            return Err(PlanError::Key(format!(
                "{} is an HMAC key; it signs HS256 only, not {}",
                key_name(k),
                a.name()
            )));
        }
        (Some(a), KeyChoice::OpNext) if !matches!(a, SignAlg::Rs256 | SignAlg::Ps256) => {
            return Err(PlanError::Key(format!(
                "op_next is an RSA key; it signs RS256 or PS256, not {}",
                a.name()
            )));
        }
        _ => {}
    }
    let asymmetric = sign.is_some_and(|a| a != SignAlg::Hs256);
    // The one symmetric key a header may carry is the attacker's own secret (an `oct` JWK);
    // the OP's secrets and public-key confusions are never shipped.
    let oct = sign == Some(SignAlg::Hs256) && key == KeyChoice::AttackerSecret;
    if spec.header.jwk && !asymmetric && !oct {
        return Err(PlanError::Embed(
            "jwk embeds a public key, or the attacker's own secret (key attacker_secret): \
             it needs an asymmetric signing key or attacker_secret"
                .into(),
        ));
    }
    if spec.header.x5c && !asymmetric {
        return Err(PlanError::Embed(
            "x5c embeds a certificate: it needs an asymmetric signing key".into(),
        ));
    }
    Ok(Plan {
        alg_text,
        sign,
        key,
        signature: spec.signature.unwrap_or(SignatureMode::Valid),
    })
}

fn key_name(k: KeyChoice) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{k:?}"))
}

/// Everything a forge may sign with.
pub struct Material<'a> {
    /// The OP's current RS256 key (its kid is the default `kid` of HMAC confusions).
    pub current: &'a SigningKey,
    pub next: &'a SigningKey,
    pub forge: &'a ForgeKeys,
    pub client_secret: Option<&'a Secret>,
    /// Where `jku` points.
    pub jku: &'a str,
    /// Where `x5u` points.
    pub x5u: &'a str,
}

enum Signing {
    Asym(JwsKey),
    Hmac { key: Vec<u8>, kid: Option<String> },
    Nothing,
}

/// The HMAC secret an RP confusing public and shared keys would use.
pub fn public_key_bytes(current: &SigningKey, choice: KeyChoice) -> Result<Vec<u8>, ForgeError> {
    let pkey = current.private_key();
    Ok(match choice {
        KeyChoice::OpPublicAsHmacPem => pkey.public_key_to_pem()?,
        KeyChoice::OpPublicAsHmacDer => pkey.public_key_to_der()?,
        KeyChoice::OpPublicAsHmacPkcs1Pem => pkey.rsa()?.public_key_to_pem_pkcs1()?,
        KeyChoice::OpPublicAsHmacPkcs1Der => pkey.rsa()?.public_key_to_der_pkcs1()?,
        // The exact text the JWKS endpoint serves for this key.
        KeyChoice::OpPublicAsHmacJwk => serde_json::to_vec(&serde_json::to_value(current.jwk())?)?,
        _ => {
            return Err(PlanError::Key(format!(
                "{} is not a public-key HMAC key",
                key_name(choice)
            ))
            .into());
        }
    })
}

impl From<openssl::error::ErrorStack> for ForgeError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        ForgeError::Key(KeyError::Openssl(e))
    }
}

fn signing(plan: &Plan, m: &Material<'_>) -> Result<Signing, ForgeError> {
    let Some(alg) = plan.sign else {
        return Ok(Signing::Nothing);
    };
    let rsa = |k: &SigningKey| JwsKey::new(k.kid().to_string(), k.private_key().clone(), alg);
    Ok(match plan.key {
        KeyChoice::Op => Signing::Asym(match alg {
            SignAlg::Rs256 => rsa(m.current)?,
            SignAlg::Ps256 => m.forge.op_ps256.clone(),
            SignAlg::Es256 => m.forge.op_es256.clone(),
            SignAlg::EdDsa => m.forge.op_eddsa.clone(),
            SignAlg::Hs256 => return Err(PlanError::Key("op cannot sign HS256".into()).into()),
        }),
        KeyChoice::OpNext => Signing::Asym(rsa(m.next)?),
        KeyChoice::Attacker => Signing::Asym(
            m.forge
                .attacker(alg)
                .cloned()
                .ok_or_else(|| PlanError::Key("no attacker key for HS256".into()))?,
        ),
        KeyChoice::ClientSecret => Signing::Hmac {
            key: m
                .client_secret
                .ok_or(ForgeError::NoClientSecret)?
                .expose()
                .as_bytes()
                .to_vec(),
            kid: None,
        },
        KeyChoice::EmptySecret => Signing::Hmac {
            key: Vec::new(),
            kid: None,
        },
        // 32 random bytes per token: nothing but the header's jwk can verify it.
        KeyChoice::AttackerSecret => Signing::Hmac {
            key: (0..32).map(|_| rand::random::<u8>()).collect(),
            kid: None,
        },
        KeyChoice::None => Signing::Nothing,
        public => Signing::Hmac {
            key: public_key_bytes(m.current, public)?,
            kid: Some(m.current.kid().to_string()),
        },
    })
}

/// Makes the token: `payload` is the exact JSON text of the second segment.
pub fn sign(spec: &JwsSpec, payload: &str, m: &Material<'_>) -> Result<String, ForgeError> {
    let plan = plan(spec)?;
    let signing = signing(&plan, m)?;
    let h = &spec.header;
    let mut header = Map::new();
    header.insert("alg".into(), json!(plan.alg_text));
    match &h.typ {
        None => {
            header.insert("typ".into(), json!("JWT"));
        }
        Some(Some(t)) => {
            header.insert("typ".into(), json!(t));
        }
        Some(None) => {}
    }
    let default_kid = match &signing {
        Signing::Asym(k) => Some(k.kid().to_string()),
        Signing::Hmac { kid, .. } => kid.clone(),
        Signing::Nothing => None,
    };
    let kid = match &h.kid {
        None => default_kid,
        Some(k) => k.clone(),
    };
    if let Some(kid) = kid {
        // Placeholders let a static preset name values only known per tenant and sign-in.
        let kid = kid
            .replace("{op_kid}", m.current.kid())
            .replace("{canary_jku}", m.jku)
            .replace("{canary_x5u}", m.x5u);
        header.insert("kid".into(), json!(kid));
    }
    if let (Signing::Hmac { key, .. }, true) = (&signing, h.jwk) {
        // RFC 7518 6.4: a symmetric key as a JWK; `plan` allows this for attacker_secret only.
        header.insert("jwk".into(), json!({"kty": "oct", "k": B64URL.encode(key)}));
    }
    if let Signing::Asym(key) = &signing {
        if h.jwk {
            header.insert("jwk".into(), key.public_jwk()?);
        }
        if h.x5c {
            // RFC 7515 4.1.6: standard base64 (not base64url) DER.
            header.insert("x5c".into(), json!([B64.encode(key.certificate_der()?)]));
        }
    }
    if h.jku {
        header.insert("jku".into(), json!(m.jku));
    }
    if h.x5u {
        header.insert("x5u".into(), json!(m.x5u));
    }
    if !h.crit.is_empty() {
        header.insert("crit".into(), json!(h.crit));
        for name in &h.crit {
            // RFC 7515 4.1.11: a listed extension must be present in the header.
            if !h.extra.contains_key(name) {
                header.insert(name.clone(), Value::Bool(true));
            }
        }
    }
    for (k, v) in &h.extra {
        header.insert(k.clone(), v.clone());
    }
    let header_text = serde_json::to_string(&header)?;
    let mut token = String::with_capacity(header_text.len() * 2 + payload.len() * 2 + 350);
    B64URL.encode_string(header_text.as_bytes(), &mut token);
    token.push('.');
    B64URL.encode_string(payload.as_bytes(), &mut token);
    let valid = || -> Result<Vec<u8>, ForgeError> {
        let input = token.as_bytes();
        Ok(match (&signing, plan.sign) {
            (Signing::Asym(key), Some(alg)) => key.sign(alg, input)?,
            (Signing::Hmac { key, .. }, Some(_)) => hmac_sha256(key, input)?,
            _ => Vec::new(),
        })
    };
    let length = plan.sign.map(SignAlg::signature_len).unwrap_or(64);
    let signature = match plan.signature {
        SignatureMode::Valid => valid()?,
        SignatureMode::Empty | SignatureMode::Absent => Vec::new(),
        SignatureMode::Garbage => (0..length).map(|_| rand::random::<u8>()).collect(),
        SignatureMode::Zero => vec![0u8; length],
        SignatureMode::Flipped => {
            let mut s = valid()?;
            if let Some(last) = s.last_mut() {
                *last ^= 0x01;
            }
            s
        }
    };
    if plan.signature != SignatureMode::Absent {
        token.push('.');
        B64URL.encode_string(&signature, &mut token);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::forge::spec::HeaderSpec;

    fn spec(alg: Option<&str>, key: Option<KeyChoice>) -> JwsSpec {
        JwsSpec {
            header: HeaderSpec {
                alg: alg.map(str::to_string),
                ..Default::default()
            },
            key,
            signature: None,
        }
    }

    #[test]
    fn defaults_follow_the_alg() {
        let p = plan(&spec(None, None)).unwrap();
        assert_eq!((p.alg_text.as_str(), p.key), ("RS256", KeyChoice::Op));
        let p = plan(&spec(Some("nOnE"), None)).unwrap();
        assert_eq!((p.sign, p.key), (None, KeyChoice::None));
        let p = plan(&spec(Some("HS256"), None)).unwrap();
        assert_eq!(p.key, KeyChoice::ClientSecret);
        let p = plan(&spec(None, Some(KeyChoice::OpPublicAsHmacJwk))).unwrap();
        assert_eq!(p.alg_text, "HS256");
        let p = plan(&spec(Some("es256"), Some(KeyChoice::Op))).unwrap();
        assert_eq!(p.sign, Some(SignAlg::Es256), "a case variant still signs");
        assert_eq!(p.published(), Some(Published::Es256));
        assert_eq!(
            plan(&spec(Some("ES256"), Some(KeyChoice::Attacker)))
                .unwrap()
                .published(),
            None
        );
    }

    #[test]
    fn impossible_combinations_are_refused() {
        for (alg, key) in [
            (Some("none"), KeyChoice::Op),
            (Some("RS256"), KeyChoice::None),
            (Some("HS256"), KeyChoice::Attacker),
            (Some("RS256"), KeyChoice::ClientSecret),
            (Some("ES256"), KeyChoice::OpNext),
            (Some("RS257"), KeyChoice::Op),
        ] {
            assert!(plan(&spec(alg, Some(key))).is_err(), "{alg:?} {key:?}");
        }
        let mut s = spec(Some("HS256"), None);
        s.header.jwk = true;
        assert!(matches!(plan(&s), Err(PlanError::Embed(_))));
        s.header.x5c = true;
        s.key = Some(KeyChoice::AttackerSecret);
        assert!(
            matches!(plan(&s), Err(PlanError::Embed(_))),
            "x5c needs a certificate"
        );
    }

    #[test]
    fn attacker_secret_may_ship_as_an_oct_jwk() {
        let mut s = spec(None, Some(KeyChoice::AttackerSecret));
        s.header.jwk = true;
        let p = plan(&s).unwrap();
        assert_eq!(
            (p.alg_text.as_str(), p.sign),
            ("HS256", Some(SignAlg::Hs256))
        );
    }
}
