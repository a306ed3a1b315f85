//! The keys a forge signs with beyond the OP's RSA pair: keys the OP publishes only when a
//! forge asks (PS256, ES256, EdDSA) and real attacker keys that no JWKS lists. Each is a
//! fresh key of this tenant, so a token made with one proves nothing about another tenant.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Signer};
use openssl::x509::{X509, X509NameBuilder};
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::secret::REDACTED;

/// Signing algorithms the forge can compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignAlg {
    Rs256,
    Ps256,
    Es256,
    EdDsa,
    Hs256,
}

impl SignAlg {
    /// Exact JOSE names, then any case of them (a case variant is still signed, so an RP that
    /// compares case-insensitively shows up as accepting it).
    pub fn parse(alg: &str) -> Option<SignAlg> {
        [
            ("RS256", SignAlg::Rs256),
            ("PS256", SignAlg::Ps256),
            ("ES256", SignAlg::Es256),
            ("EdDSA", SignAlg::EdDsa),
            ("HS256", SignAlg::Hs256),
        ]
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(alg))
        .map(|(_, a)| a)
    }

    pub fn name(self) -> &'static str {
        match self {
            SignAlg::Rs256 => "RS256",
            SignAlg::Ps256 => "PS256",
            SignAlg::Es256 => "ES256",
            SignAlg::EdDsa => "EdDSA",
            SignAlg::Hs256 => "HS256",
        }
    }

    /// Signature length in bytes, for `garbage` and `zero` signatures.
    pub fn signature_len(self) -> usize {
        match self {
            SignAlg::Rs256 | SignAlg::Ps256 => 256,
            SignAlg::Es256 | SignAlg::EdDsa => 64,
            SignAlg::Hs256 => 32,
        }
    }
}

/// The kind of an asymmetric key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    P256,
    Ed25519,
}

impl KeyKind {
    pub fn fits(self, alg: SignAlg) -> bool {
        matches!(
            (self, alg),
            (KeyKind::Rsa, SignAlg::Rs256 | SignAlg::Ps256)
                | (KeyKind::P256, SignAlg::Es256)
                | (KeyKind::Ed25519, SignAlg::EdDsa)
        )
    }
}

/// Extra keys the OP publishes in its JWKS when a forge signs with them (the names are the
/// wire contract's; which algorithm each signs is the forge's).
pub use proto::oidc_forge::Published;

/// The algorithm a published extra key signs.
pub trait PublishedAlg {
    fn alg(self) -> SignAlg;
}

impl PublishedAlg for Published {
    fn alg(self) -> SignAlg {
        match self {
            Published::Ps256 => SignAlg::Ps256,
            Published::Es256 => SignAlg::Es256,
            Published::Eddsa => SignAlg::EdDsa,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("openssl: {0}")]
    Openssl(#[from] openssl::error::ErrorStack),
    #[error("{0}")]
    Tenant(String),
    #[error("a {kind:?} key cannot sign {alg}")]
    Mismatch { kind: KeyKind, alg: &'static str },
}

/// One asymmetric key with its JWKS identity. `Debug` never shows the private key.
#[derive(Clone)]
pub struct JwsKey {
    kid: String,
    kind: KeyKind,
    pkey: PKey<Private>,
    /// The algorithm the JWK advertises.
    alg: SignAlg,
}

impl std::fmt::Debug for JwsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwsKey")
            .field("kid", &self.kid)
            .field("kind", &self.kind)
            .field("key", &REDACTED)
            .finish()
    }
}

/// A kid derived from the public key, so two keys never share one by accident.
pub fn kid_of(prefix: &str, pkey: &PKey<Private>) -> Result<String, KeyError> {
    let der = pkey.public_key_to_der()?;
    let digest = sha2::Sha256::digest(&der);
    Ok(format!("{prefix}{}", &hex::encode(digest)[..16]))
}

impl JwsKey {
    pub fn new(kid: String, pkey: PKey<Private>, alg: SignAlg) -> Result<Self, KeyError> {
        let kind = match pkey.id() {
            Id::RSA => KeyKind::Rsa,
            Id::EC => KeyKind::P256,
            Id::ED25519 => KeyKind::Ed25519,
            _ => {
                return Err(KeyError::Mismatch {
                    kind: KeyKind::Rsa,
                    alg: alg.name(),
                });
            }
        };
        if !kind.fits(alg) {
            return Err(KeyError::Mismatch {
                kind,
                alg: alg.name(),
            });
        }
        Ok(Self {
            kid,
            kind,
            pkey,
            alg,
        })
    }

    /// A fresh key for `alg` (RSA keys come from the process-wide pool).
    pub fn generate(prefix: &str, alg: SignAlg) -> Result<Self, KeyError> {
        let pkey = match alg {
            SignAlg::Rs256 | SignAlg::Ps256 => crate::keys::KeyPool::global()
                .take()
                .map_err(|e| KeyError::Tenant(e.to_string()))?,
            SignAlg::Es256 => {
                let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
                PKey::from_ec_key(EcKey::generate(&group)?)?
            }
            SignAlg::EdDsa => PKey::generate_ed25519()?,
            SignAlg::Hs256 => {
                return Err(KeyError::Mismatch {
                    kind: KeyKind::Rsa,
                    alg: "HS256",
                });
            }
        };
        let kid = kid_of(prefix, &pkey)?;
        Self::new(kid, pkey, alg)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    pub fn pkey(&self) -> &PKey<Private> {
        &self.pkey
    }

    /// The same key under another kid (the `kid` collision of the JWKS).
    pub fn with_kid(&self, kid: &str) -> Self {
        Self {
            kid: kid.to_string(),
            ..self.clone()
        }
    }

    /// The public JWK as a JWKS lists it.
    pub fn public_jwk(&self) -> Result<Value, KeyError> {
        let mut jwk = match self.kind {
            KeyKind::Rsa => {
                let rsa = self.pkey.rsa()?;
                json!({"kty": "RSA", "n": B64URL.encode(rsa.n().to_vec()), "e": B64URL.encode(rsa.e().to_vec())})
            }
            KeyKind::P256 => {
                let ec = self.pkey.ec_key()?;
                let mut ctx = openssl::bn::BigNumContext::new()?;
                let mut x = BigNum::new()?;
                let mut y = BigNum::new()?;
                ec.public_key()
                    .affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx)?;
                json!({"kty": "EC", "crv": "P-256",
                       "x": B64URL.encode(x.to_vec_padded(32)?), "y": B64URL.encode(y.to_vec_padded(32)?)})
            }
            KeyKind::Ed25519 => {
                let raw = self.pkey.raw_public_key()?;
                json!({"kty": "OKP", "crv": "Ed25519", "x": B64URL.encode(raw)})
            }
        };
        jwk["use"] = json!("sig");
        jwk["alg"] = json!(self.alg.name());
        jwk["kid"] = json!(self.kid);
        Ok(jwk)
    }

    /// A self-signed certificate of this key, as DER (for `x5c` and `x5u`).
    pub fn certificate_der(&self) -> Result<Vec<u8>, KeyError> {
        let mut name = X509NameBuilder::new()?;
        name.append_entry_by_text("CN", &format!("mock-idp forge {}", self.kid))?;
        let name = name.build();
        let mut b = X509::builder()?;
        b.set_version(2)?;
        let serial = BigNum::from_u32(rand::random::<u32>() >> 1)?.to_asn1_integer()?;
        b.set_serial_number(&serial)?;
        b.set_subject_name(&name)?;
        b.set_issuer_name(&name)?;
        b.set_pubkey(&self.pkey)?;
        b.set_not_before(&*openssl::asn1::Asn1Time::days_from_now(0)?)?;
        b.set_not_after(&*openssl::asn1::Asn1Time::days_from_now(3650)?)?;
        // Ed25519 signs without a separate digest.
        let digest = match self.kind {
            KeyKind::Ed25519 => MessageDigest::null(),
            _ => MessageDigest::sha256(),
        };
        b.sign(&self.pkey, digest)?;
        Ok(b.build().to_der()?)
    }

    /// The JWS signature of `input` (ES256 as the raw `r || s` pair JWS requires).
    pub fn sign(&self, alg: SignAlg, input: &[u8]) -> Result<Vec<u8>, KeyError> {
        if !self.kind.fits(alg) {
            return Err(KeyError::Mismatch {
                kind: self.kind,
                alg: alg.name(),
            });
        }
        match alg {
            SignAlg::Rs256 => {
                let mut s = Signer::new(MessageDigest::sha256(), &self.pkey)?;
                s.update(input)?;
                Ok(s.sign_to_vec()?)
            }
            SignAlg::Ps256 => {
                let mut s = Signer::new(MessageDigest::sha256(), &self.pkey)?;
                s.set_rsa_padding(Padding::PKCS1_PSS)?;
                // RFC 7518 3.5: the salt is as long as the hash.
                s.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
                s.set_rsa_mgf1_md(MessageDigest::sha256())?;
                s.update(input)?;
                Ok(s.sign_to_vec()?)
            }
            SignAlg::Es256 => {
                let digest = sha2::Sha256::digest(input);
                let sig = EcdsaSig::sign(&digest, &*self.pkey.ec_key()?)?;
                let mut out = sig.r().to_vec_padded(32)?;
                out.extend(sig.s().to_vec_padded(32)?);
                Ok(out)
            }
            SignAlg::EdDsa => {
                let mut s = Signer::new_without_digest(&self.pkey)?;
                Ok(s.sign_oneshot_to_vec(input)?)
            }
            SignAlg::Hs256 => Err(KeyError::Mismatch {
                kind: self.kind,
                alg: "HS256",
            }),
        }
    }
}

/// HS256 over `input` keyed with `key` (RFC 2104), written out because the forge needs keys
/// a library may refuse, such as the empty key a `kid` of `/dev/null` reads.
pub fn hmac_sha256(key: &[u8], input: &[u8]) -> Result<Vec<u8>, KeyError> {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&sha2::Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let mut inner = sha2::Sha256::new();
    inner.update(pad(0x36));
    inner.update(input);
    let mut outer = sha2::Sha256::new();
    outer.update(pad(0x5c));
    outer.update(inner.finalize());
    Ok(outer.finalize().to_vec())
}

/// The tenant's forge keys, made together on first use and then kept.
#[derive(Debug)]
pub struct ForgeKeys {
    pub op_ps256: JwsKey,
    pub op_es256: JwsKey,
    pub op_eddsa: JwsKey,
    pub attacker_rsa: JwsKey,
    pub attacker_es256: JwsKey,
    pub attacker_eddsa: JwsKey,
    /// Listed first under the OP's current kid by the JWKS `kid_collision` setting.
    pub collision_rsa: JwsKey,
}

impl ForgeKeys {
    /// Makes every key: three RSA keys from the pool (the attacker's is the tenant's
    /// `unknown` key, which the SAML `unknown_key` fault also uses), the others inline (fast).
    pub fn generate(tenant: &crate::keys::TenantKeys) -> Result<Arc<Self>, KeyError> {
        let unknown = tenant
            .unknown()
            .map_err(|e| KeyError::Tenant(e.to_string()))?;
        let attacker_pkey = unknown.private_key().clone();
        Ok(Arc::new(Self {
            op_ps256: JwsKey::generate("op-ps256-", SignAlg::Ps256)?,
            op_es256: JwsKey::generate("op-es256-", SignAlg::Es256)?,
            op_eddsa: JwsKey::generate("op-eddsa-", SignAlg::EdDsa)?,
            attacker_rsa: JwsKey::new(
                kid_of("attacker-rsa-", &attacker_pkey)?,
                attacker_pkey,
                SignAlg::Rs256,
            )?,
            attacker_es256: JwsKey::generate("attacker-es256-", SignAlg::Es256)?,
            attacker_eddsa: JwsKey::generate("attacker-eddsa-", SignAlg::EdDsa)?,
            collision_rsa: JwsKey::generate("collision-", SignAlg::Rs256)?,
        }))
    }

    pub fn published(&self, p: Published) -> &JwsKey {
        match p {
            Published::Ps256 => &self.op_ps256,
            Published::Es256 => &self.op_es256,
            Published::Eddsa => &self.op_eddsa,
        }
    }

    /// The attacker key for `alg` (RSA for RS256 and PS256).
    pub fn attacker(&self, alg: SignAlg) -> Option<&JwsKey> {
        match alg {
            SignAlg::Rs256 | SignAlg::Ps256 => Some(&self.attacker_rsa),
            SignAlg::Es256 => Some(&self.attacker_es256),
            SignAlg::EdDsa => Some(&self.attacker_eddsa),
            SignAlg::Hs256 => None,
        }
    }

    /// The attacker's public keys as a JWKS document (what the canary `jku` URL serves).
    pub fn attacker_jwks(&self) -> Result<Value, KeyError> {
        let keys = [
            &self.attacker_rsa,
            &self.attacker_es256,
            &self.attacker_eddsa,
        ]
        .iter()
        .map(|k| k.public_jwk())
        .collect::<Result<Vec<_>, _>>()?;
        Ok(json!({ "keys": keys }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::sign::Verifier;

    #[test]
    fn each_kind_signs_and_verifies_with_openssl() {
        for alg in [
            SignAlg::Rs256,
            SignAlg::Ps256,
            SignAlg::Es256,
            SignAlg::EdDsa,
        ] {
            let k = JwsKey::generate("t-", alg).unwrap();
            let sig = k.sign(alg, b"input").unwrap();
            assert_eq!(sig.len(), alg.signature_len(), "{alg:?}");
            let public = PKey::public_key_from_der(&k.pkey.public_key_to_der().unwrap()).unwrap();
            let ok = match alg {
                SignAlg::Rs256 => {
                    let mut v = Verifier::new(MessageDigest::sha256(), &public).unwrap();
                    v.update(b"input").unwrap();
                    v.verify(&sig).unwrap()
                }
                SignAlg::Ps256 => {
                    let mut v = Verifier::new(MessageDigest::sha256(), &public).unwrap();
                    v.set_rsa_padding(Padding::PKCS1_PSS).unwrap();
                    v.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH).unwrap();
                    v.update(b"input").unwrap();
                    v.verify(&sig).unwrap()
                }
                SignAlg::Es256 => {
                    let r = BigNum::from_slice(&sig[..32]).unwrap();
                    let s = BigNum::from_slice(&sig[32..]).unwrap();
                    let der = EcdsaSig::from_private_components(r, s)
                        .unwrap()
                        .to_der()
                        .unwrap();
                    let mut v = Verifier::new(MessageDigest::sha256(), &public).unwrap();
                    v.update(b"input").unwrap();
                    v.verify(&der).unwrap()
                }
                SignAlg::EdDsa => {
                    let mut v = Verifier::new_without_digest(&public).unwrap();
                    v.verify_oneshot(&sig, b"input").unwrap()
                }
                SignAlg::Hs256 => unreachable!(),
            };
            assert!(ok, "{alg:?}");
            assert!(k.sign(SignAlg::Hs256, b"x").is_err());
        }
    }

    #[test]
    fn hmac_matches_openssl_and_takes_the_empty_key() {
        for key in [&b"k"[..], &[7u8; 100][..], &[1u8; 64][..]] {
            let k = PKey::hmac(key).unwrap();
            let mut s = Signer::new(MessageDigest::sha256(), &k).unwrap();
            s.update(b"input").unwrap();
            assert_eq!(
                hmac_sha256(key, b"input").unwrap(),
                s.sign_to_vec().unwrap()
            );
        }
        // RFC 4231 has no empty-key vector; this one is HMAC-SHA256("", "") as published widely.
        assert_eq!(
            hex::encode(hmac_sha256(b"", b"").unwrap()),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"
        );
    }

    #[test]
    fn jwks_carry_the_right_members_and_certificates_match() {
        let ec = JwsKey::generate("e-", SignAlg::Es256).unwrap();
        let j = ec.public_jwk().unwrap();
        assert_eq!(
            (j["kty"].as_str(), j["crv"].as_str()),
            (Some("EC"), Some("P-256"))
        );
        assert_eq!(B64URL.decode(j["x"].as_str().unwrap()).unwrap().len(), 32);
        assert!(j.get("d").is_none(), "no private member");
        let ed = JwsKey::generate("d-", SignAlg::EdDsa).unwrap();
        assert_eq!(ed.public_jwk().unwrap()["kty"], "OKP");
        for k in [&ec, &ed] {
            let cert = X509::from_der(&k.certificate_der().unwrap()).unwrap();
            assert!(cert.public_key().unwrap().public_eq(k.pkey()));
        }
        assert!(!format!("{ec:?}").contains("PRIVATE"));
        assert!(JwsKey::new("x".into(), ec.pkey.clone(), SignAlg::Rs256).is_err());
    }
}
