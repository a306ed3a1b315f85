//! Encrypted ID tokens (OIDC Core 10.2: the OP signs, then encrypts to the RP's key). The RP
//! holds one RSA encryption key (made once, kept in the database like the SAML SP key) and
//! publishes its public half at `/sso/oidc/jwks`, the `jwks_uri` an OP is given. A token
//! response whose `id_token` is a JWE is decrypted before openidconnect sees it; the signed
//! token inside is then verified exactly as an unencrypted one would be: encryption to a key
//! anyone may fetch is not authentication.
//!
//! What is refused: RSA1_5 key transport (PKCS #1 v1.5 decryption is a padding oracle:
//! Bleichenbacher; FAPI 1 Advanced forbids it), compression (`zip`), a tag that does not
//! authenticate the ciphertext, and a plaintext that is not a signed JWT.

use crate::db::Db;
use crate::secret::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use openssl::hash::MessageDigest;
use openssl::md::Md;
use openssl::pkey::{PKey, Private};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::{Padding, Rsa};
use openssl::sign::Signer;
use openssl::symm::Cipher;
use rusqlite::OptionalExtension;
use serde_json::{Value, json};

/// The RP's encryption key pair.
pub struct EncKey {
    key: PKey<Private>,
    kid: String,
}

impl std::fmt::Debug for EncKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncKey")
            .field("kid", &self.kid)
            .field("key", &crate::secret::REDACTED)
            .finish()
    }
}

const SETTING: &str = "oidc_enc_key_pem";

impl EncKey {
    /// The key kept in the database, made on first use.
    pub fn load_or_create(db: &Db) -> Result<Self, String> {
        let conn = db.conn().map_err(|e| e.to_string())?;
        let kept: Option<String> = conn
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [SETTING],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| e.to_string())?;
        let pem = match kept {
            Some(pem) => Secret::new(pem),
            None => {
                let rsa = Rsa::generate(2048).map_err(|e| e.to_string())?;
                let pem = rsa.private_key_to_pem().map_err(|e| e.to_string())?;
                let pem = String::from_utf8(pem).map_err(|e| e.to_string())?;
                conn.execute(
                    "INSERT INTO settings(key, value) VALUES (?1, ?2)",
                    [SETTING, pem.as_str()],
                )
                .map_err(|e| e.to_string())?;
                Secret::new(pem)
            }
        };
        Self::from_pem(&pem)
    }

    fn from_pem(pem: &Secret) -> Result<Self, String> {
        let rsa = Rsa::private_key_from_pem(pem.expose().as_bytes()).map_err(|e| e.to_string())?;
        // The kid names the key by its modulus, so it changes only with the key.
        let digest = openssl::hash::hash(MessageDigest::sha256(), &rsa.n().to_vec())
            .map_err(|e| e.to_string())?;
        let kid = format!("enc-{}", hex::encode(&digest[..8]));
        let key = PKey::from_rsa(rsa).map_err(|e| e.to_string())?;
        Ok(Self { key, kid })
    }

    /// The JWKS an OP fetches (`GET /sso/oidc/jwks`).
    pub fn jwks(&self) -> Value {
        let (n, e) = match self.key.rsa() {
            Ok(rsa) => (B64.encode(rsa.n().to_vec()), B64.encode(rsa.e().to_vec())),
            Err(_) => (String::new(), String::new()),
        };
        json!({"keys": [{"kty": "RSA", "use": "enc", "kid": self.kid, "n": n, "e": e}]})
    }

    /// The signed JWT inside `jwe`, or why it is refused.
    pub fn decrypt(&self, jwe: &str) -> Result<String, String> {
        let refused = |why: String| format!("the encrypted ID token was refused: {why}");
        let parts: Vec<&str> = jwe.split('.').collect();
        let [protected, wrapped, iv, ct, tag] = parts[..] else {
            return Err(refused(format!(
                "it has {} parts, a compact JWE has 5",
                parts.len()
            )));
        };
        let decode = |what: &str, s: &str| {
            B64.decode(s)
                .map_err(|e| refused(format!("its {what} is not base64url: {e}")))
        };
        let header: Value = serde_json::from_slice(&decode("header", protected)?)
            .map_err(|e| refused(format!("its header is not JSON: {e}")))?;
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
        let enc = header.get("enc").and_then(Value::as_str).unwrap_or("");
        if header.get("zip").is_some() {
            return Err(refused("compressed (zip) content is not accepted".into()));
        }
        let oaep_md = match alg {
            "RSA-OAEP" => Md::sha1(),
            "RSA-OAEP-256" => Md::sha256(),
            "RSA1_5" => {
                return Err(refused(
                    "RSA1_5 key transport is not accepted (PKCS #1 v1.5 decryption is a padding oracle)"
                        .into(),
                ));
            }
            other => return Err(refused(format!("key transport {other:?} is not accepted"))),
        };
        let content =
            Content::parse(enc).ok_or_else(|| refused(format!("enc {enc:?} is not accepted")))?;
        let openssl_err =
            |e: openssl::error::ErrorStack| refused(format!("decryption failed: {e}"));
        let mut ctx = PkeyCtx::new(&self.key).map_err(openssl_err)?;
        ctx.decrypt_init().map_err(openssl_err)?;
        ctx.set_rsa_padding(Padding::PKCS1_OAEP)
            .map_err(openssl_err)?;
        ctx.set_rsa_oaep_md(oaep_md).map_err(openssl_err)?;
        ctx.set_rsa_mgf1_md(oaep_md).map_err(openssl_err)?;
        let mut cek = Vec::new();
        ctx.decrypt_to_vec(&decode("encrypted key", wrapped)?, &mut cek)
            .map_err(|_| refused("its content key was not encrypted to this RP's key".into()))?;
        let plain = content
            .open(
                &cek,
                &decode("iv", iv)?,
                protected.as_bytes(),
                &decode("ciphertext", ct)?,
                &decode("tag", tag)?,
            )
            .map_err(refused)?;
        let text =
            String::from_utf8(plain).map_err(|_| refused("its plaintext is not text".into()))?;
        // Nested JWT: what was encrypted must be the OP's signed token (three parts), whose
        // signature the caller then checks; an encrypted claims set is not signed by anyone.
        if text.split('.').count() != 3 {
            return Err(refused("its plaintext is not a signed JWT (JWS)".into()));
        }
        Ok(text)
    }
}

/// Content encryption (`enc`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Content {
    A128CbcHs256,
    A256CbcHs512,
    A128Gcm,
    A256Gcm,
}

impl Content {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "A128CBC-HS256" => Some(Self::A128CbcHs256),
            "A256CBC-HS512" => Some(Self::A256CbcHs512),
            "A128GCM" => Some(Self::A128Gcm),
            "A256GCM" => Some(Self::A256Gcm),
            _ => None,
        }
    }

    fn key_len(self) -> usize {
        match self {
            Self::A128CbcHs256 | Self::A256Gcm => 32,
            Self::A256CbcHs512 => 64,
            Self::A128Gcm => 16,
        }
    }

    /// The plaintext, once the tag authenticates `aad`, the IV and the ciphertext.
    fn open(
        self,
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        ct: &[u8],
        tag: &[u8],
    ) -> Result<Vec<u8>, String> {
        if cek.len() != self.key_len() {
            return Err(format!(
                "its content key has {} bytes, not {}",
                cek.len(),
                self.key_len()
            ));
        }
        let bad_tag =
            || "its authentication tag does not match (tampered or not the OP's)".to_string();
        match self {
            Self::A128Gcm | Self::A256Gcm => {
                let cipher = if self == Self::A128Gcm {
                    Cipher::aes_128_gcm()
                } else {
                    Cipher::aes_256_gcm()
                };
                if iv.len() != 12 || tag.len() != 16 {
                    return Err("its IV or tag has the wrong length for AES-GCM".into());
                }
                openssl::symm::decrypt_aead(cipher, cek, Some(iv), aad, ct, tag)
                    .map_err(|_| bad_tag())
            }
            Self::A128CbcHs256 | Self::A256CbcHs512 => {
                let (cipher, digest) = if self == Self::A128CbcHs256 {
                    (Cipher::aes_128_cbc(), MessageDigest::sha256())
                } else {
                    (Cipher::aes_256_cbc(), MessageDigest::sha512())
                };
                let (mac_key, enc_key) = cek.split_at(cek.len() / 2);
                if iv.len() != 16 {
                    return Err("its IV has the wrong length for AES-CBC".into());
                }
                // RFC 7518 5.2.2.1: the tag is checked before anything is decrypted, so a
                // forged ciphertext never reaches the padding check (no padding oracle).
                let al = u64::try_from(aad.len())
                    .unwrap_or(0)
                    .saturating_mul(8)
                    .to_be_bytes();
                let e = |e: openssl::error::ErrorStack| e.to_string();
                let hmac_key = PKey::hmac(mac_key).map_err(e)?;
                let mut signer = Signer::new(digest, &hmac_key).map_err(e)?;
                for part in [aad, iv, ct, &al] {
                    signer.update(part).map_err(e)?;
                }
                let full = signer.sign_to_vec().map_err(e)?;
                let expected = &full[..mac_key.len()];
                if tag.len() != expected.len() || !openssl::memcmp::eq(tag, expected) {
                    return Err(bad_tag());
                }
                openssl::symm::decrypt(cipher, enc_key, Some(iv), ct).map_err(|_| bad_tag())
            }
        }
    }
}

/// The token endpoint's answer with a JWE `id_token` replaced by the signed token inside,
/// so that openidconnect verifies that one. An answer that is not JSON, or whose `id_token`
/// is already a JWS, passes unchanged.
pub fn decrypt_token_response(body: &[u8], key: &EncKey) -> Result<Option<Vec<u8>>, String> {
    let Ok(mut doc) = serde_json::from_slice::<Value>(body) else {
        return Ok(None);
    };
    let Some(token) = doc.get("id_token").and_then(Value::as_str) else {
        return Ok(None);
    };
    if token.split('.').count() != 5 {
        return Ok(None);
    }
    let inner = key.decrypt(token)?;
    doc["id_token"] = Value::String(inner);
    serde_json::to_vec(&doc)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Why a token request through [`DecryptingHttp`] failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{0}")]
    Http(#[from] openidconnect::HttpClientError<reqwest::Error>),
    #[error("{0}")]
    Refused(String),
}

/// The back-channel HTTP client for token requests: `http`, then the answer's encrypted ID
/// token (if any) decrypted with `key`.
pub struct DecryptingHttp<'a> {
    pub http: &'a reqwest::Client,
    pub key: &'a EncKey,
}

impl<'c> openidconnect::AsyncHttpClient<'c> for DecryptingHttp<'_> {
    type Error = TransportError;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<openidconnect::HttpResponse, TransportError>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let mut response = self.http.call(request).await?;
            if let Some(body) = decrypt_token_response(response.body(), self.key)
                .map_err(TransportError::Refused)?
            {
                *response.body_mut() = body;
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> EncKey {
        let rsa = Rsa::generate(2048).unwrap();
        let pem = String::from_utf8(rsa.private_key_to_pem().unwrap()).unwrap();
        EncKey::from_pem(&Secret::new(pem)).unwrap()
    }

    /// A JWE made by the mock IdP's encrypter (an implementation apart from this one).
    fn sealed(key: &EncKey, alg: &str, enc: &str, flip_tag: bool) -> String {
        let jwks = key.jwks();
        let rp = mock_idp::oidc::jwe::pick_key(&jwks).unwrap();
        let how = proto::idp::IdTokenEncryption {
            alg: alg.into(),
            enc: enc.into(),
            jwks_uri: "http://127.0.0.1:9/".into(),
        };
        mock_idp::oidc::jwe::encrypt("h.p.s", &rp, &how, flip_tag).unwrap()
    }

    #[test]
    fn oaep_tokens_open_in_every_content_encryption() {
        let k = key();
        for alg in ["RSA-OAEP", "RSA-OAEP-256"] {
            for enc in ["A128CBC-HS256", "A256CBC-HS512", "A128GCM", "A256GCM"] {
                assert_eq!(
                    k.decrypt(&sealed(&k, alg, enc, false)).unwrap(),
                    "h.p.s",
                    "{alg} {enc}"
                );
            }
        }
    }

    #[test]
    fn rsa1_5_a_bad_tag_and_another_key_are_refused() {
        let k = key();
        let e = k
            .decrypt(&sealed(&k, "RSA1_5", "A128CBC-HS256", false))
            .unwrap_err();
        assert!(e.contains("RSA1_5"), "{e}");
        for enc in ["A128CBC-HS256", "A256GCM"] {
            let e = k.decrypt(&sealed(&k, "RSA-OAEP", enc, true)).unwrap_err();
            assert!(e.contains("tag"), "{enc}: {e}");
        }
        let other = key();
        let e = other
            .decrypt(&sealed(&k, "RSA-OAEP", "A128GCM", false))
            .unwrap_err();
        assert!(e.contains("not encrypted to this RP's key"), "{e}");
    }

    #[test]
    fn only_a_signed_jwt_inside_is_accepted() {
        let k = key();
        let rp = mock_idp::oidc::jwe::pick_key(&k.jwks()).unwrap();
        let how = proto::idp::IdTokenEncryption {
            alg: "RSA-OAEP".into(),
            enc: "A128GCM".into(),
            jwks_uri: "http://127.0.0.1:9/".into(),
        };
        let claims_only = mock_idp::oidc::jwe::encrypt(r#"{"sub":"x"}"#, &rp, &how, false).unwrap();
        let e = k.decrypt(&claims_only).unwrap_err();
        assert!(e.contains("not a signed JWT"), "{e}");
    }

    #[test]
    fn token_responses_are_rewritten_only_when_encrypted() {
        let k = key();
        let plain = br#"{"id_token":"a.b.c","access_token":"t"}"#;
        assert!(decrypt_token_response(plain, &k).unwrap().is_none());
        assert!(decrypt_token_response(b"not json", &k).unwrap().is_none());
        let body =
            json!({"id_token": sealed(&k, "RSA-OAEP", "A256GCM", false), "access_token": "t"});
        let out = decrypt_token_response(body.to_string().as_bytes(), &k)
            .unwrap()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["id_token"], "h.p.s");
        assert_eq!(doc["access_token"], "t");
    }
}
