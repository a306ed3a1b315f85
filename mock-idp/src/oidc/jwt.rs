//! Compact JWS (RS256) for ID tokens, and the forged variants the token faults ask for.
//!
//! The private key is parsed once into an openssl `PKey` and kept: parsing a PEM per token
//! would cost more than the RSA operation itself (the bench measures exactly this path).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use serde::Serialize;

use crate::secret::REDACTED;

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("the signing key is not an RSA key: {0}")]
    NotRsa(openssl::error::ErrorStack),
    #[error("signing failed: {0}")]
    Sign(#[from] openssl::error::ErrorStack),
    #[error("could not serialise the JWT: {0}")]
    Json(#[from] serde_json::Error),
}

/// One RSA signing key with its JWKS identity. Cheap to clone (the `PKey` is refcounted).
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    key: PKey<Private>,
    jwk: Jwk,
    /// SPKI PEM of the public key: the HMAC secret of the `hs256_with_public_key` forgery,
    /// which is what a confused verifier would feed to HMAC.
    public_pem: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("key", &REDACTED)
            .finish()
    }
}

/// A public RSA key as published in the JWKS document.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
    pub kid: String,
    pub n: String,
    pub e: String,
}

/// The JWKS document.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl SigningKey {
    pub fn new(kid: impl Into<String>, key: PKey<Private>) -> Result<Self, JwtError> {
        let kid = kid.into();
        let rsa = key.rsa().map_err(JwtError::NotRsa)?;
        let jwk = Jwk {
            kty: "RSA".into(),
            use_: "sig".into(),
            alg: "RS256".into(),
            kid: kid.clone(),
            n: B64.encode(rsa.n().to_vec()),
            e: B64.encode(rsa.e().to_vec()),
        };
        let public_pem = key.public_key_to_pem()?;
        Ok(Self {
            kid,
            key,
            jwk,
            public_pem,
        })
    }

    /// A fresh RSA-2048 key, for keys that exist only to be wrong (and for tests).
    pub fn generate(kid: impl Into<String>) -> Result<Self, JwtError> {
        let rsa = openssl::rsa::Rsa::generate(2048)?;
        Self::new(kid, PKey::from_rsa(rsa)?)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    pub fn public_pem(&self) -> &[u8] {
        &self.public_pem
    }

    /// For the forge (`oidc::forge`), which signs with this key in other ways (PS256,
    /// HMAC confusions).
    pub(crate) fn private_key(&self) -> &PKey<Private> {
        &self.key
    }

    fn rs256(&self, input: &[u8]) -> Result<Vec<u8>, JwtError> {
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key)?;
        signer.update(input)?;
        Ok(signer.sign_to_vec()?)
    }
}

/// How the token is signed. Everything but `Genuine` is a fault an RP must reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Forgery {
    #[default]
    Genuine,
    /// RS256 with the right key, then one bit of the signature flipped.
    BadSignature,
    /// `alg: none` and an empty signature.
    AlgNone,
    /// `alg: HS256` keyed with the public key's PEM (the key-confusion attack).
    Hs256WithPublicKey,
    /// RS256 with the right key, but a `kid` that is not in the JWKS.
    UnknownKid,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

/// The `kid` the `unknown_kid` forgery announces; never present in any JWKS.
pub const UNKNOWN_KID: &str = "mock-idp-unknown-kid";

/// Signs `claims` as a compact JWS.
pub fn sign(
    key: &SigningKey,
    claims: &impl Serialize,
    forgery: Forgery,
) -> Result<String, JwtError> {
    let (alg, kid) = match forgery {
        Forgery::Genuine | Forgery::BadSignature => ("RS256", Some(key.kid())),
        Forgery::UnknownKid => ("RS256", Some(UNKNOWN_KID)),
        Forgery::AlgNone => ("none", None),
        Forgery::Hs256WithPublicKey => ("HS256", Some(key.kid())),
    };
    let header = serde_json::to_vec(&Header {
        alg,
        typ: "JWT",
        kid,
    })?;
    let payload = serde_json::to_vec(claims)?;
    let mut token = String::with_capacity(header.len() * 2 + payload.len() * 2 + 350);
    B64.encode_string(&header, &mut token);
    token.push('.');
    B64.encode_string(&payload, &mut token);
    let signature = match forgery {
        Forgery::Genuine | Forgery::UnknownKid => key.rs256(token.as_bytes())?,
        Forgery::BadSignature => {
            let mut sig = key.rs256(token.as_bytes())?;
            if let Some(last) = sig.last_mut() {
                *last ^= 0x01;
            }
            sig
        }
        Forgery::AlgNone => Vec::new(),
        Forgery::Hs256WithPublicKey => {
            let hmac_key = PKey::hmac(key.public_pem())?;
            let mut signer = Signer::new(MessageDigest::sha256(), &hmac_key)?;
            signer.update(token.as_bytes())?;
            signer.sign_to_vec()?
        }
    };
    token.push('.');
    B64.encode_string(&signature, &mut token);
    Ok(token)
}

/// A token as the exchange log shows it: header and claims decoded, signature never shown.
/// Anything that does not decode is shown as the reason, never as the raw text.
pub fn decode_for_record(token: &str) -> serde_json::Value {
    let mut parts = token.split('.');
    let mut part = |name: &str| -> serde_json::Value {
        match parts.next() {
            None => serde_json::Value::String(format!("missing {name}")),
            Some(text) => match B64.decode(text) {
                Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                    serde_json::Value::String(format!("{name} is not JSON: {e}"))
                }),
                Err(e) => serde_json::Value::String(format!("{name} is not base64url: {e}")),
            },
        }
    };
    let header = part("header");
    let claims = part("claims");
    serde_json::json!({ "header": header, "claims": claims, "signature": REDACTED })
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::sign::Verifier;
    use std::sync::LazyLock;

    static KEY: LazyLock<SigningKey> = LazyLock::new(|| SigningKey::generate("k1").unwrap());

    fn parts(token: &str) -> (serde_json::Value, serde_json::Value, Vec<u8>, String) {
        let p: Vec<&str> = token.split('.').collect();
        assert_eq!(p.len(), 3, "{token}");
        let h = serde_json::from_slice(&B64.decode(p[0]).unwrap()).unwrap();
        let c = serde_json::from_slice(&B64.decode(p[1]).unwrap()).unwrap();
        (
            h,
            c,
            B64.decode(p[2]).unwrap(),
            format!("{}.{}", p[0], p[1]),
        )
    }

    fn rs256_ok(input: &str, sig: &[u8]) -> bool {
        let public = PKey::public_key_from_pem(KEY.public_pem()).unwrap();
        let mut v = Verifier::new(MessageDigest::sha256(), &public).unwrap();
        v.update(input.as_bytes()).unwrap();
        v.verify(sig).unwrap_or(false)
    }

    #[test]
    fn genuine_tokens_verify_with_the_public_key() {
        let t = sign(&KEY, &serde_json::json!({"sub": "u1"}), Forgery::Genuine).unwrap();
        let (h, c, sig, input) = parts(&t);
        assert_eq!(h["alg"], "RS256");
        assert_eq!(h["kid"], "k1");
        assert_eq!(c["sub"], "u1");
        assert!(rs256_ok(&input, &sig));
    }

    #[test]
    fn bad_signature_does_not_verify() {
        let t = sign(
            &KEY,
            &serde_json::json!({"sub": "u1"}),
            Forgery::BadSignature,
        )
        .unwrap();
        let (h, _, sig, input) = parts(&t);
        assert_eq!(h["kid"], "k1");
        assert!(!rs256_ok(&input, &sig));
    }

    #[test]
    fn alg_none_has_an_empty_signature() {
        let t = sign(&KEY, &serde_json::json!({"sub": "u1"}), Forgery::AlgNone).unwrap();
        assert!(t.ends_with('.'), "{t}");
        let (h, _, sig, _) = parts(&t);
        assert_eq!(h["alg"], "none");
        assert!(sig.is_empty());
    }

    #[test]
    fn hs256_is_keyed_with_the_public_pem() {
        let t = sign(
            &KEY,
            &serde_json::json!({"sub": "u1"}),
            Forgery::Hs256WithPublicKey,
        )
        .unwrap();
        let (h, _, sig, input) = parts(&t);
        assert_eq!(h["alg"], "HS256");
        let k = PKey::hmac(KEY.public_pem()).unwrap();
        let mut s = Signer::new(MessageDigest::sha256(), &k).unwrap();
        s.update(input.as_bytes()).unwrap();
        assert_eq!(s.sign_to_vec().unwrap(), sig);
    }

    #[test]
    fn unknown_kid_is_signed_correctly_but_names_another_key() {
        let t = sign(&KEY, &serde_json::json!({"sub": "u1"}), Forgery::UnknownKid).unwrap();
        let (h, _, sig, input) = parts(&t);
        assert_eq!(h["kid"], UNKNOWN_KID);
        assert!(rs256_ok(&input, &sig));
    }

    #[test]
    fn jwk_carries_modulus_and_exponent() {
        let jwk = KEY.jwk();
        assert_eq!(jwk.kty, "RSA");
        assert_eq!(jwk.e, "AQAB");
        assert_eq!(B64.decode(&jwk.n).unwrap().len(), 256);
        assert!(!format!("{:?}", *KEY).contains("PRIVATE"));
    }

    #[test]
    fn record_shows_header_and_claims_but_never_the_signature() {
        let t = sign(&KEY, &serde_json::json!({"sub": "u1"}), Forgery::Genuine).unwrap();
        let sig = t.rsplit('.').next().unwrap().to_string();
        let shown = decode_for_record(&t);
        assert_eq!(shown["claims"]["sub"], "u1");
        assert_eq!(shown["header"]["alg"], "RS256");
        assert_eq!(shown["signature"], REDACTED);
        assert!(!shown.to_string().contains(&sig));
        let junk = decode_for_record("%%%.x");
        assert!(junk["header"].as_str().unwrap().contains("base64"));
    }
}
