//! Per-tenant signing keys. RSA-2048 keys are made with openssl (rcgen's ring backend cannot
//! generate RSA), certificates are issued by rcgen, and each key is parsed once into a
//! `PKey` that signs for the tenant's whole life.

use crate::error::Result;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use sha2::Digest as _;
use std::sync::{Arc, Mutex};
use time::{Duration, OffsetDateTime};

/// Hash used for a signature and for digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    Sha256,
    Sha1,
}

impl HashAlg {
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
            HashAlg::Sha1 => sha1::Sha1::digest(data).to_vec(),
        }
    }

    fn message_digest(self) -> MessageDigest {
        match self {
            HashAlg::Sha256 => MessageDigest::sha256(),
            HashAlg::Sha1 => MessageDigest::sha1(),
        }
    }
}

/// A private key with its certificate. The private key never leaves this struct except
/// through [`SigningKey::private_key`], and `Debug` does not show it.
pub struct SigningKey {
    pkey: PKey<Private>,
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    pub fingerprint_sha1: String,
    pub fingerprint_sha256: String,
    pub not_after: OffsetDateTime,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("private_key", &crate::secret::REDACTED)
            .field("fingerprint_sha256", &self.fingerprint_sha256)
            .finish()
    }
}

/// How long a certificate is valid, relative to now.
#[derive(Debug, Clone, Copy)]
pub enum Validity {
    /// From yesterday for ten years.
    Current,
    /// From 400 days ago until yesterday.
    Expired,
}

impl SigningKey {
    pub fn generate(common_name: &str, validity: Validity) -> Result<Self> {
        let pkey = PKey::from_rsa(Rsa::generate(2048)?)?;
        let pkcs8_pem = String::from_utf8_lossy(&pkey.private_key_to_pem_pkcs8()?).into_owned();
        let key_pair = rcgen::KeyPair::from_pem_and_sign_algo(&pkcs8_pem, &rcgen::PKCS_RSA_SHA256)?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, common_name);
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "mock-idp");
        let now = OffsetDateTime::now_utc();
        let (from, until) = match validity {
            Validity::Current => (now - Duration::days(1), now + Duration::days(3650)),
            Validity::Expired => (now - Duration::days(400), now - Duration::days(1)),
        };
        params.not_before = from;
        params.not_after = until;
        let cert = params.self_signed(&key_pair)?;
        let cert_der = cert.der().to_vec();
        Ok(Self {
            pkey,
            cert_pem: cert.pem(),
            fingerprint_sha1: fingerprint(&sha1::Sha1::digest(&cert_der)),
            fingerprint_sha256: fingerprint(&sha2::Sha256::digest(&cert_der)),
            cert_der,
            not_after: until,
        })
    }

    /// RSA PKCS#1 v1.5 signature over `data`.
    pub fn sign(&self, data: &[u8], hash: HashAlg) -> Result<Vec<u8>> {
        let mut signer = Signer::new(hash.message_digest(), &self.pkey)?;
        signer.update(data)?;
        Ok(signer.sign_to_vec()?)
    }

    /// The certificate as base64 DER, the form `ds:X509Certificate` and metadata carry.
    pub fn cert_base64(&self) -> String {
        B64.encode(&self.cert_der)
    }

    /// For protocol modules that need the key itself (JWS signing, JWKS).
    pub fn private_key(&self) -> &PKey<Private> {
        &self.pkey
    }
}

/// `AB:CD:...` upper-case hex, as IdP consoles show certificate fingerprints.
fn fingerprint(digest: &[u8]) -> String {
    digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A key made on first use: the extra keys cost ~100 ms each and most tenants never use them.
#[derive(Debug, Default)]
struct LazyKey(Mutex<Option<Arc<SigningKey>>>);

impl LazyKey {
    fn get(&self, common_name: &str, validity: Validity) -> Result<Arc<SigningKey>> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(key) = slot.as_ref() {
            return Ok(key.clone());
        }
        let key = Arc::new(SigningKey::generate(common_name, validity)?);
        *slot = Some(key.clone());
        Ok(key)
    }
}

/// The keys of one tenant: the signing key the SP is told about, the next key of a rotation,
/// an expired one and one the SP never hears of.
#[derive(Debug)]
pub struct TenantKeys {
    tenant: String,
    pub primary: Arc<SigningKey>,
    rotated: LazyKey,
    expired: LazyKey,
    unknown: LazyKey,
}

impl TenantKeys {
    pub fn generate(tenant: &str) -> Result<Self> {
        Ok(Self {
            tenant: tenant.to_string(),
            primary: Arc::new(SigningKey::generate(
                &format!("mock-idp {tenant}"),
                Validity::Current,
            )?),
            rotated: LazyKey::default(),
            expired: LazyKey::default(),
            unknown: LazyKey::default(),
        })
    }

    /// The new certificate of a rotation: listed in metadata next to the primary one.
    pub fn rotated(&self) -> Result<Arc<SigningKey>> {
        self.rotated.get(
            &format!("mock-idp {} (next)", self.tenant),
            Validity::Current,
        )
    }

    pub fn expired(&self) -> Result<Arc<SigningKey>> {
        self.expired.get(
            &format!("mock-idp {} (expired)", self.tenant),
            Validity::Expired,
        )
    }

    pub fn unknown(&self) -> Result<Arc<SigningKey>> {
        self.unknown.get(
            &format!("mock-idp {} (unknown)", self.tenant),
            Validity::Current,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::x509::X509;

    #[test]
    fn certificate_matches_key_and_signature_verifies() {
        let key = SigningKey::generate("t", Validity::Current).unwrap();
        let cert = X509::from_pem(key.cert_pem.as_bytes()).unwrap();
        let public = cert.public_key().unwrap();
        assert!(public.public_eq(key.private_key()));
        let sig = key.sign(b"hello", HashAlg::Sha256).unwrap();
        let mut v = openssl::sign::Verifier::new(MessageDigest::sha256(), &public).unwrap();
        v.update(b"hello").unwrap();
        assert!(v.verify(&sig).unwrap());
        assert_eq!(key.fingerprint_sha256.len(), 32 * 3 - 1);
        let der_sha1 = cert.digest(MessageDigest::sha1()).unwrap();
        assert_eq!(key.fingerprint_sha1, fingerprint(&der_sha1));
    }

    #[test]
    fn expired_certificate_ended_in_the_past() {
        let key = SigningKey::generate("t", Validity::Expired).unwrap();
        let cert = X509::from_pem(key.cert_pem.as_bytes()).unwrap();
        let now = openssl::asn1::Asn1Time::days_from_now(0).unwrap();
        assert!(cert.not_after() < now);
    }
}
