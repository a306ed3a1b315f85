//! Encrypted ID tokens (OIDC Core 10.2: sign, then encrypt): the signed ID token becomes the
//! plaintext of a JWE in compact serialization (RFC 7516) made to the RP's public key, which
//! the OP fetches from the `jwks_uri` the client registered, as a real OP does.
//!
//! The OP offers what an RP may meet: RSA-OAEP and RSA-OAEP-256 key transport, and RSA1_5
//! (PKCS #1 v1.5), which FAPI forbids because its decryption is a padding oracle, so that a
//! scenario can see whether the RP refuses it.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use openssl::hash::MessageDigest;
use openssl::md::Md;
use openssl::pkey::{PKey, Public};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use openssl::sign::Signer;
use openssl::symm::Cipher;
use proto::idp::IdTokenEncryption;
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// How long the OP waits for the RP's JWKS: an RP that does not answer fails the token
/// request rather than holding it.
const FETCH_TIMEOUT_SECONDS: u64 = 5;
/// A JWKS larger than this is not one.
const JWKS_LIMIT: usize = 256 * 1024;

/// Key transport (`alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTransport {
    RsaOaep,
    RsaOaep256,
    Rsa15,
}

/// Content encryption (`enc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentEnc {
    A128CbcHs256,
    A256CbcHs512,
    A128Gcm,
    A256Gcm,
}

impl KeyTransport {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "RSA-OAEP" => Some(Self::RsaOaep),
            "RSA-OAEP-256" => Some(Self::RsaOaep256),
            "RSA1_5" => Some(Self::Rsa15),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::RsaOaep => "RSA-OAEP",
            Self::RsaOaep256 => "RSA-OAEP-256",
            Self::Rsa15 => "RSA1_5",
        }
    }

    fn wrap(self, key: &PKey<Public>, cek: &[u8]) -> std::result::Result<Vec<u8>, String> {
        let e = |e: openssl::error::ErrorStack| format!("{} key transport: {e}", self.name());
        let mut ctx = PkeyCtx::new(key).map_err(e)?;
        ctx.encrypt_init().map_err(e)?;
        match self {
            Self::Rsa15 => ctx.set_rsa_padding(Padding::PKCS1).map_err(e)?,
            Self::RsaOaep => ctx.set_rsa_padding(Padding::PKCS1_OAEP).map_err(e)?,
            Self::RsaOaep256 => {
                ctx.set_rsa_padding(Padding::PKCS1_OAEP).map_err(e)?;
                ctx.set_rsa_oaep_md(Md::sha256()).map_err(e)?;
                ctx.set_rsa_mgf1_md(Md::sha256()).map_err(e)?;
            }
        }
        let mut out = Vec::new();
        ctx.encrypt_to_vec(cek, &mut out).map_err(e)?;
        Ok(out)
    }
}

impl ContentEnc {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "A128CBC-HS256" => Some(Self::A128CbcHs256),
            "A256CBC-HS512" => Some(Self::A256CbcHs512),
            "A128GCM" => Some(Self::A128Gcm),
            "A256GCM" => Some(Self::A256Gcm),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::A128CbcHs256 => "A128CBC-HS256",
            Self::A256CbcHs512 => "A256CBC-HS512",
            Self::A128Gcm => "A128GCM",
            Self::A256Gcm => "A256GCM",
        }
    }

    /// Content key length (the CBC-HMAC ones hold the MAC key, then the AES key: RFC 7518
    /// 5.2.2.1) and IV length.
    fn lengths(self) -> (usize, usize) {
        match self {
            Self::A128CbcHs256 => (32, 16),
            Self::A256CbcHs512 => (64, 16),
            Self::A128Gcm => (16, 12),
            Self::A256Gcm => (32, 12),
        }
    }

    /// `(ciphertext, tag)` of `plaintext` under `cek`, authenticating `aad`.
    fn seal(
        self,
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> std::result::Result<(Vec<u8>, Vec<u8>), String> {
        let e = |e: openssl::error::ErrorStack| format!("{} encryption: {e}", self.name());
        match self {
            Self::A128Gcm | Self::A256Gcm => {
                let cipher = if self == Self::A128Gcm {
                    Cipher::aes_128_gcm()
                } else {
                    Cipher::aes_256_gcm()
                };
                let mut tag = vec![0u8; 16];
                let ct =
                    openssl::symm::encrypt_aead(cipher, cek, Some(iv), aad, plaintext, &mut tag)
                        .map_err(e)?;
                Ok((ct, tag))
            }
            Self::A128CbcHs256 | Self::A256CbcHs512 => {
                let (cipher, digest) = if self == Self::A128CbcHs256 {
                    (Cipher::aes_128_cbc(), MessageDigest::sha256())
                } else {
                    (Cipher::aes_256_cbc(), MessageDigest::sha512())
                };
                let (mac_key, enc_key) = cek.split_at(cek.len() / 2);
                let ct = openssl::symm::encrypt(cipher, enc_key, Some(iv), plaintext).map_err(e)?;
                // RFC 7518 5.2.2.1: HMAC over AAD || IV || ciphertext || AAD length in bits
                // (64-bit big-endian), truncated to half the digest.
                let al = u64::try_from(aad.len())
                    .unwrap_or(u64::MAX / 8)
                    .saturating_mul(8)
                    .to_be_bytes();
                let hmac_key = PKey::hmac(mac_key).map_err(e)?;
                let mut signer = Signer::new(digest, &hmac_key).map_err(e)?;
                for part in [aad, iv, &ct, &al] {
                    signer.update(part).map_err(e)?;
                }
                let mut tag = signer.sign_to_vec().map_err(e)?;
                tag.truncate(mac_key.len());
                Ok((ct, tag))
            }
        }
    }
}

/// A client's registration, checked when the client is added (`path` names the member).
pub fn validate(e: &IdTokenEncryption, path: &str) -> Result<()> {
    if KeyTransport::parse(&e.alg).is_none() {
        return Err(Error::bad_input(
            format!("{path}.alg"),
            format!(
                "'{}' is not a key transport the mock OP offers (RSA-OAEP, RSA-OAEP-256, RSA1_5)",
                e.alg
            ),
        ));
    }
    if ContentEnc::parse(&e.enc).is_none() {
        return Err(Error::bad_input(
            format!("{path}.enc"),
            format!(
                "'{}' is not a content encryption the mock OP offers (A128CBC-HS256, A256CBC-HS512, A128GCM, A256GCM)",
                e.enc
            ),
        ));
    }
    match url::Url::parse(&e.jwks_uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        Ok(u) => Err(Error::bad_input(
            format!("{path}.jwks_uri"),
            format!("'{}' is not http(s) but {}", e.jwks_uri, u.scheme()),
        )),
        Err(err) => Err(Error::bad_input(
            format!("{path}.jwks_uri"),
            format!("'{}' is not an absolute URL: {err}", e.jwks_uri),
        )),
    }
}

/// The RP's encryption key as its JWKS lists it.
pub struct RpKey {
    key: PKey<Public>,
    kid: Option<String>,
}

/// The first RSA key of the JWKS meant for encryption (`use` absent or `enc`).
pub fn pick_key(jwks: &Value) -> std::result::Result<RpKey, String> {
    use super::client_keys::{KeyUse, rsa_keys, rsa_public};
    let jwk = rsa_keys(jwks, KeyUse::Enc)?
        .into_iter()
        .next()
        .ok_or("the JWKS lists no RSA key for encryption (kty RSA, use enc or absent)")?;
    Ok(RpKey {
        key: rsa_public(jwk)?,
        kid: jwk.get("kid").and_then(Value::as_str).map(str::to_string),
    })
}

/// Fetches the RP's JWKS. The error says what went wrong, for the token endpoint's answer
/// and the exchange log.
pub async fn fetch_key(jwks_uri: &str) -> std::result::Result<RpKey, String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(FETCH_TIMEOUT_SECONDS))
        .build()
        .map_err(|e| format!("http client: {e}"))?;
    let answer = client
        .get(jwks_uri)
        .send()
        .await
        .map_err(|e| format!("cannot fetch the client's jwks_uri {jwks_uri}: {e}"))?;
    let status = answer.status();
    if !status.is_success() {
        return Err(format!(
            "the client's jwks_uri {jwks_uri} answered {status}"
        ));
    }
    let body = answer
        .bytes()
        .await
        .map_err(|e| format!("reading the client's jwks_uri {jwks_uri}: {e}"))?;
    if body.len() > JWKS_LIMIT {
        return Err(format!(
            "the client's jwks_uri {jwks_uri} answered more than {JWKS_LIMIT} bytes"
        ));
    }
    let jwks: Value = serde_json::from_slice(&body)
        .map_err(|e| format!("the client's jwks_uri {jwks_uri} is not JSON: {e}"))?;
    pick_key(&jwks).map_err(|e| format!("the client's jwks_uri {jwks_uri}: {e}"))
}

/// The compact JWE of `plaintext` (a signed JWT: `cty` says so) to `key`; `flip_tag` breaks
/// the authentication tag on purpose.
pub fn encrypt(
    plaintext: &str,
    key: &RpKey,
    how: &IdTokenEncryption,
    flip_tag: bool,
) -> std::result::Result<String, String> {
    let alg = KeyTransport::parse(&how.alg).ok_or_else(|| format!("alg {:?}", how.alg))?;
    let enc = ContentEnc::parse(&how.enc).ok_or_else(|| format!("enc {:?}", how.enc))?;
    let mut header = json!({"alg": alg.name(), "enc": enc.name(), "cty": "JWT"});
    if let Some(kid) = &key.kid {
        header["kid"] = json!(kid);
    }
    let protected = B64.encode(header.to_string());
    let (cek_len, iv_len) = enc.lengths();
    let mut cek = vec![0u8; cek_len];
    let mut iv = vec![0u8; iv_len];
    openssl::rand::rand_bytes(&mut cek).map_err(|e| e.to_string())?;
    openssl::rand::rand_bytes(&mut iv).map_err(|e| e.to_string())?;
    let wrapped = alg.wrap(&key.key, &cek)?;
    let (ct, mut tag) = enc.seal(&cek, &iv, protected.as_bytes(), plaintext.as_bytes())?;
    if flip_tag && let Some(first) = tag.first_mut() {
        *first ^= 0x01;
    }
    Ok(format!(
        "{protected}.{}.{}.{}.{}",
        B64.encode(wrapped),
        B64.encode(iv),
        B64.encode(ct),
        B64.encode(tag)
    ))
}

/// The JWE's protected header, for the exchange log (the plaintext is logged apart, as the
/// signed token it is).
pub fn header_for_record(jwe: &str) -> Value {
    jwe.split('.')
        .next()
        .and_then(|h| B64.decode(h).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::pkey::Private;
    use openssl::rsa::Rsa;

    fn rp_key() -> (PKey<Private>, RpKey) {
        let rsa = Rsa::generate(2048).unwrap();
        let private = PKey::from_rsa(rsa.clone()).unwrap();
        let public =
            Rsa::from_public_components(rsa.n().to_owned().unwrap(), rsa.e().to_owned().unwrap())
                .unwrap();
        (
            private,
            RpKey {
                key: PKey::from_rsa(public).unwrap(),
                kid: Some("rp-1".into()),
            },
        )
    }

    fn how(alg: &str, enc: &str) -> IdTokenEncryption {
        IdTokenEncryption {
            alg: alg.into(),
            enc: enc.into(),
            jwks_uri: "http://127.0.0.1:9/jwks".into(),
        }
    }

    /// Decrypts the way RFC 7516 5.2 says, written apart from `encrypt` (openssl's
    /// decrypting calls), so a mistake in one is not mirrored in the other.
    fn open(jwe: &str, key: &PKey<Private>) -> std::result::Result<String, String> {
        let parts: Vec<&str> = jwe.split('.').collect();
        assert_eq!(parts.len(), 5);
        let d = |s: &str| B64.decode(s).unwrap();
        let header: Value = serde_json::from_slice(&d(parts[0])).unwrap();
        let mut ctx = PkeyCtx::new(key).unwrap();
        ctx.decrypt_init().unwrap();
        match header["alg"].as_str().unwrap() {
            "RSA1_5" => ctx.set_rsa_padding(Padding::PKCS1).unwrap(),
            "RSA-OAEP" => ctx.set_rsa_padding(Padding::PKCS1_OAEP).unwrap(),
            _ => {
                ctx.set_rsa_padding(Padding::PKCS1_OAEP).unwrap();
                ctx.set_rsa_oaep_md(Md::sha256()).unwrap();
                ctx.set_rsa_mgf1_md(Md::sha256()).unwrap();
            }
        }
        let mut cek = Vec::new();
        ctx.decrypt_to_vec(&d(parts[1]), &mut cek).unwrap();
        let (iv, ct, tag) = (d(parts[2]), d(parts[3]), d(parts[4]));
        let aad = parts[0].as_bytes();
        let plain = match header["enc"].as_str().unwrap() {
            "A128GCM" => {
                openssl::symm::decrypt_aead(Cipher::aes_128_gcm(), &cek, Some(&iv), aad, &ct, &tag)
            }
            "A256GCM" => {
                openssl::symm::decrypt_aead(Cipher::aes_256_gcm(), &cek, Some(&iv), aad, &ct, &tag)
            }
            enc => {
                let (cipher, digest) = if enc == "A128CBC-HS256" {
                    (Cipher::aes_128_cbc(), MessageDigest::sha256())
                } else {
                    (Cipher::aes_256_cbc(), MessageDigest::sha512())
                };
                let (mac, k) = cek.split_at(cek.len() / 2);
                let mut signer = Signer::new(digest, &PKey::hmac(mac).unwrap()).unwrap();
                let bits = ((aad.len() as u64) * 8).to_be_bytes();
                let mut input = aad.to_vec();
                input.extend_from_slice(&iv);
                input.extend_from_slice(&ct);
                input.extend_from_slice(&bits);
                signer.update(&input).unwrap();
                let full = signer.sign_to_vec().unwrap();
                if full[..mac.len()] != tag[..] {
                    return Err("tag".into());
                }
                openssl::symm::decrypt(cipher, k, Some(&iv), &ct)
            }
        }
        .map_err(|e| e.to_string())?;
        Ok(String::from_utf8(plain).unwrap())
    }

    #[test]
    fn every_offered_combination_round_trips() {
        let (private, public) = rp_key();
        for alg in ["RSA-OAEP", "RSA-OAEP-256", "RSA1_5"] {
            for enc in ["A128CBC-HS256", "A256CBC-HS512", "A128GCM", "A256GCM"] {
                let jwe = encrypt("a.b.c", &public, &how(alg, enc), false).unwrap();
                let header = header_for_record(&jwe);
                assert_eq!(header["alg"], alg);
                assert_eq!(header["enc"], enc);
                assert_eq!(header["cty"], "JWT");
                assert_eq!(header["kid"], "rp-1");
                assert_eq!(open(&jwe, &private).unwrap(), "a.b.c", "{alg} {enc}");
            }
        }
    }

    #[test]
    fn a_flipped_tag_does_not_authenticate() {
        let (private, public) = rp_key();
        for enc in ["A128CBC-HS256", "A256GCM"] {
            let jwe = encrypt("a.b.c", &public, &how("RSA-OAEP", enc), true).unwrap();
            assert!(open(&jwe, &private).is_err(), "{enc}");
        }
    }

    #[test]
    fn the_encryption_key_is_picked_from_the_jwks() {
        let rsa = Rsa::generate(2048).unwrap();
        let b = |n: &openssl::bn::BigNumRef| B64.encode(n.to_vec());
        let jwks = json!({"keys": [
            {"kty": "EC", "use": "enc", "crv": "P-256", "x": "", "y": ""},
            {"kty": "RSA", "use": "sig", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "e1", "n": b(rsa.n()), "e": b(rsa.e())},
        ]});
        let key = pick_key(&jwks).unwrap();
        assert_eq!(key.kid.as_deref(), Some("e1"));
        let e = pick_key(&json!({"keys": [{"kty": "RSA", "use": "sig"}]}))
            .err()
            .unwrap();
        assert!(e.contains("no RSA key for encryption"), "{e}");
        assert!(pick_key(&json!({})).is_err());
    }

    #[test]
    fn registrations_are_checked() {
        assert!(validate(&how("RSA-OAEP", "A128CBC-HS256"), "c").is_ok());
        let e = validate(&how("RSA-OAEP-384", "A128CBC-HS256"), "c").unwrap_err();
        assert!(e.to_string().contains("c.alg"), "{e}");
        let e = validate(&how("RSA-OAEP", "A192GCM"), "c").unwrap_err();
        assert!(e.to_string().contains("c.enc"), "{e}");
        let mut bad = how("RSA-OAEP", "A128GCM");
        bad.jwks_uri = "file:///etc/passwd".into();
        assert!(validate(&bad, "c").is_err());
    }
}
