//! Per-tenant signing keys. RSA-2048 keys are made with openssl (rcgen's ring backend cannot
//! generate RSA), certificates are issued by rcgen, and each key is parsed once into a
//! `PKey` that signs for the tenant's whole life.
//!
//! Making an RSA-2048 key costs 50 ms on a quiet core and over a second under load, and every
//! tenant needs its own, so a [`KeyPool`] makes them ahead of time on a background thread:
//! creating a tenant then only issues its certificate.

use crate::error::{Error, Result};
use crate::secret::Secret;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use openssl::x509::X509;
use sha2::Digest as _;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, LazyLock, Mutex, Weak};
use time::{Duration, OffsetDateTime};

/// Keys the process-wide pool keeps ready: enough for a burst of parallel trials, and
/// bounded (a key is ~2 KB) so an idle server stops spending CPU once it is full.
pub const POOL_CAPACITY: usize = 8;

fn generate_rsa() -> Result<PKey<Private>> {
    Ok(PKey::from_rsa(Rsa::generate(2048)?)?)
}

/// Fresh RSA-2048 keys made ahead of time. Each key is handed out once, so no two tenants (and
/// no two keys of one tenant) ever share one. When the pool is empty, [`KeyPool::take`]
/// makes a key inline: a burst is slower, never stuck.
#[derive(Clone)]
pub struct KeyPool {
    shared: Arc<PoolShared>,
}

struct PoolShared {
    ready: Mutex<VecDeque<PKey<Private>>>,
    /// Wakes the refill thread when a key is taken.
    taken: Condvar,
    capacity: usize,
    started: std::sync::Once,
}

impl std::fmt::Debug for KeyPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPool")
            .field("ready", &self.ready())
            .field("capacity", &self.shared.capacity)
            .finish()
    }
}

impl KeyPool {
    /// A pool that is empty until [`KeyPool::start`] runs its refill thread.
    pub fn new(capacity: usize) -> Self {
        Self {
            shared: Arc::new(PoolShared {
                ready: Mutex::new(VecDeque::with_capacity(capacity)),
                taken: Condvar::new(),
                capacity,
                started: std::sync::Once::new(),
            }),
        }
    }

    /// The pool every tenant draws from; the server starts it.
    pub fn global() -> &'static KeyPool {
        static POOL: LazyLock<KeyPool> = LazyLock::new(|| KeyPool::new(POOL_CAPACITY));
        &POOL
    }

    /// Starts the refill thread (once; later calls do nothing). A plain OS thread, not a tokio
    /// worker: key generation is seconds of CPU that must not stall request handling. Should
    /// the thread not start, `take` still works by generating inline.
    pub fn start(&self) {
        self.shared.started.call_once(|| {
            let weak = Arc::downgrade(&self.shared);
            let spawned = std::thread::Builder::new()
                .name("mock-idp-keypool".into())
                .spawn(move || refill(weak));
            if let Err(e) = spawned {
                tracing::warn!("key pool: no refill thread ({e}); keys are made inline");
            }
        });
    }

    /// How many keys are ready now.
    pub fn ready(&self) -> usize {
        self.lock().len()
    }

    /// A key no one else has been given: a ready one, or a new one made inline.
    pub fn take(&self) -> Result<PKey<Private>> {
        let ready = self.lock().pop_front();
        self.shared.taken.notify_one();
        match ready {
            Some(key) => Ok(key),
            None => generate_rsa(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<PKey<Private>>> {
        self.shared.ready.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The refill loop. It holds the pool only weakly between rounds, so a dropped pool (tests)
/// ends its thread; the global one lives as long as the process.
fn refill(pool: Weak<PoolShared>) {
    loop {
        let Some(shared) = pool.upgrade() else {
            return;
        };
        let full = {
            let ready = shared.ready.lock().unwrap_or_else(|p| p.into_inner());
            if ready.len() >= shared.capacity {
                // Timed so a dropped pool is noticed; a take wakes it at once.
                let (ready, _) = shared
                    .taken
                    .wait_timeout(ready, std::time::Duration::from_secs(1))
                    .unwrap_or_else(|p| p.into_inner());
                ready.len() >= shared.capacity
            } else {
                false
            }
        };
        if full {
            continue;
        }
        // Generated outside the lock: `take` must never wait for a key being made.
        match generate_rsa() {
            Ok(key) => {
                let mut ready = shared.ready.lock().unwrap_or_else(|p| p.into_inner());
                if ready.len() < shared.capacity {
                    ready.push_back(key);
                }
            }
            Err(e) => {
                tracing::warn!("key pool: RSA key generation failed: {e}");
                drop(shared);
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
    }
}

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
    /// A key from the process-wide pool with a new certificate for `common_name`.
    pub fn generate(common_name: &str, validity: Validity) -> Result<Self> {
        Self::with_key(KeyPool::global().take()?, common_name, validity)
    }

    /// Issues a certificate for `pkey`, which must be a key no other `SigningKey` holds.
    pub fn with_key(pkey: PKey<Private>, common_name: &str, validity: Validity) -> Result<Self> {
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

    /// A key and certificate as a pinned tenant's directory keeps them: the certificate's
    /// text is kept byte for byte (its fingerprints, and so what an SP was configured with,
    /// stay the same), and it must be the key's.
    pub fn from_pem(key_pem: &Secret, cert_pem: &str) -> Result<Self> {
        let pkey = PKey::private_key_from_pem(key_pem.expose().as_bytes())
            .map_err(|e| Error::Config(format!("not a PEM private key: {e}")))?;
        let cert = X509::from_pem(cert_pem.as_bytes())
            .map_err(|e| Error::Config(format!("not a PEM X.509 certificate: {e}")))?;
        if !cert.public_key()?.public_eq(&pkey) {
            return Err(Error::Config(
                "the certificate is not for the private key beside it".into(),
            ));
        }
        let cert_der = cert.to_der()?;
        let epoch = Asn1Time::from_unix(0)?;
        let until = epoch.diff(cert.not_after())?;
        let not_after = OffsetDateTime::UNIX_EPOCH
            .saturating_add(Duration::days(i64::from(until.days)))
            .saturating_add(Duration::seconds(i64::from(until.secs)));
        Ok(Self {
            pkey,
            cert_pem: cert_pem.to_string(),
            fingerprint_sha1: fingerprint(&sha1::Sha1::digest(&cert_der)),
            fingerprint_sha256: fingerprint(&sha2::Sha256::digest(&cert_der)),
            cert_der,
            not_after,
        })
    }

    /// The private key as PKCS#8 PEM, for a pinned tenant's directory only.
    pub fn private_key_pem(&self) -> Result<Secret> {
        let pem = self.pkey.private_key_to_pem_pkcs8()?;
        String::from_utf8(pem)
            .map(Secret::new)
            .map_err(|_| Error::Config("openssl wrote a PEM key that is not UTF-8".into()))
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
    fn ready(key: SigningKey) -> Self {
        Self(Mutex::new(Some(Arc::new(key))))
    }

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

    /// A pinned tenant's keys as its directory keeps them: the signing key and, when kept,
    /// the next key of the rotation (the OIDC JWKS lists it, so it must survive a restart
    /// for the JWKS to stay the same).
    pub fn from_parts(tenant: &str, primary: SigningKey, next: Option<SigningKey>) -> Self {
        Self {
            tenant: tenant.to_string(),
            primary: Arc::new(primary),
            rotated: next.map(LazyKey::ready).unwrap_or_default(),
            expired: LazyKey::default(),
            unknown: LazyKey::default(),
        }
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

    fn public_der(key: &PKey<Private>) -> Vec<u8> {
        key.public_key_to_der().unwrap()
    }

    fn wait_until_full(pool: &KeyPool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while pool.ready() < pool.shared.capacity {
            assert!(std::time::Instant::now() < deadline, "pool never filled");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    #[test]
    fn pool_hands_out_distinct_keys_and_refills() {
        let pool = KeyPool::new(3);
        pool.start();
        wait_until_full(&pool);
        let mut seen = std::collections::HashSet::new();
        // 3 ready, then 3 more made inline or by the refill thread.
        for _ in 0..6 {
            assert!(seen.insert(public_der(&pool.take().unwrap())));
        }
        wait_until_full(&pool);
        assert_eq!(pool.ready(), 3);
    }

    #[test]
    fn empty_pool_generates_inline() {
        let pool = KeyPool::new(4);
        assert_eq!(pool.ready(), 0);
        let a = pool.take().unwrap();
        let b = pool.take().unwrap();
        assert_eq!(a.bits(), 2048);
        assert_ne!(public_der(&a), public_der(&b));
        assert_eq!(pool.ready(), 0, "never started: nothing refills it");
    }

    #[test]
    fn dropped_pool_ends_its_thread() {
        let pool = KeyPool::new(1);
        pool.start();
        let weak = Arc::downgrade(&pool.shared);
        drop(pool);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while weak.upgrade().is_some() {
            assert!(
                std::time::Instant::now() < deadline,
                "refill thread kept the pool"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    #[test]
    fn a_key_read_back_from_pem_is_the_same_key_and_certificate() {
        let key = SigningKey::generate("t", Validity::Current).unwrap();
        let pem = key.private_key_pem().unwrap();
        assert!(pem.expose().starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = SigningKey::from_pem(&pem, &key.cert_pem).unwrap();
        assert_eq!(back.cert_pem, key.cert_pem);
        assert_eq!(back.cert_der, key.cert_der);
        assert_eq!(back.fingerprint_sha256, key.fingerprint_sha256);
        assert_eq!(back.fingerprint_sha1, key.fingerprint_sha1);
        assert!(back.private_key().public_eq(key.private_key()));
        assert_eq!(
            back.not_after.unix_timestamp(),
            key.not_after.unix_timestamp()
        );
        // Another key's certificate is refused.
        let other = SigningKey::generate("u", Validity::Current).unwrap();
        let e = SigningKey::from_pem(&pem, &other.cert_pem).unwrap_err();
        assert!(e.to_string().contains("not for the private key"), "{e}");
        assert!(SigningKey::from_pem(&Secret::new("junk"), &key.cert_pem).is_err());
    }

    #[test]
    fn expired_certificate_ended_in_the_past() {
        let key = SigningKey::generate("t", Validity::Expired).unwrap();
        let cert = X509::from_pem(key.cert_pem.as_bytes()).unwrap();
        let now = openssl::asn1::Asn1Time::days_from_now(0).unwrap();
        assert!(cert.not_after() < now);
    }
}
