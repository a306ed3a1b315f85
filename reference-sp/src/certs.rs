//! Certificates: the SP's own signing certificate (made once, kept in the database so the
//! metadata stays stable across restarts) and parsing of IdP certificates pasted by owners.
use crate::db::Db;
use crate::secret::Secret;
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};
use rusqlite::OptionalExtension;

pub struct SpKey {
    pub cert_der: Vec<u8>,
    /// Signs single logout messages (the documented product does not sign AuthnRequests).
    pub private_key_pem: Secret,
}

pub fn load_or_create_sp_key(db: &Db) -> Result<SpKey, String> {
    let conn = db.conn().map_err(|e| e.to_string())?;
    let get = |k: &str| -> Result<Option<String>, String> {
        conn.query_row("SELECT value FROM settings WHERE key = ?1", [k], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| e.to_string())
    };
    if let (Some(cert), Some(key)) = (get("sp_cert_pem")?, get("sp_key_pem")?) {
        let x509 = X509::from_pem(cert.as_bytes()).map_err(|e| e.to_string())?;
        return Ok(SpKey {
            cert_der: x509.to_der().map_err(|e| e.to_string())?,
            private_key_pem: Secret::new(key),
        });
    }
    let (cert_pem, key_pem, cert_der) = generate().map_err(|e| e.to_string())?;
    conn.execute(
        "INSERT INTO settings(key, value) VALUES ('sp_cert_pem', ?1), ('sp_key_pem', ?2)",
        [&cert_pem, &key_pem],
    )
    .map_err(|e| e.to_string())?;
    Ok(SpKey {
        cert_der,
        private_key_pem: Secret::new(key_pem),
    })
}

fn generate() -> Result<(String, String, Vec<u8>), openssl::error::ErrorStack> {
    let rsa = Rsa::generate(2048)?;
    let key = PKey::from_rsa(rsa)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", "reference-sp")?;
    let name = name.build();
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(64, openssl::bn::MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(&key)?;
    let not_before = Asn1Time::days_from_now(0)?;
    let not_after = Asn1Time::days_from_now(3650)?;
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    b.sign(&key, MessageDigest::sha256())?;
    let cert = b.build();
    let pem = String::from_utf8_lossy(&cert.to_pem()?).into_owned();
    let key_pem = String::from_utf8_lossy(&key.private_key_to_pem_pkcs8()?).into_owned();
    Ok((pem, key_pem, cert.to_der()?))
}

/// Parses a certificate as an owner pastes it: PEM, or the bare base64 body of one.
pub fn parse_certificate(text: &str) -> Result<X509, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("is empty; paste the IdP's X.509 signing certificate (PEM)".into());
    }
    if trimmed.contains("-----BEGIN") {
        return X509::from_pem(trimmed.as_bytes())
            .map_err(|e| format!("is not a valid X.509 certificate in PEM: {e}"));
    }
    use base64::Engine as _;
    let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| "is neither PEM nor base64 DER".to_string())?;
    X509::from_der(&der).map_err(|e| format!("is not a valid X.509 certificate: {e}"))
}

pub fn sha256_fingerprint(der: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(der);
    digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub fn der_base64(der: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(der)
}
