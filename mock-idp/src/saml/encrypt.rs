//! XML Encryption of an assertion to the SP's certificate: a fresh content key wrapped with
//! RSA-OAEP (MGF1 with SHA-1, the `rsa-oaep-mgf1p` every SAML stack reads), content
//! encrypted with AES-128-CBC or AES-256-GCM.

use super::xml::{CanonWriter, NS_DS, NS_SAML, NS_XENC};
use crate::error::Result;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use openssl::rsa::Padding;
use openssl::symm;
use openssl::x509::X509;

const RSA_OAEP: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
const TYPE_ELEMENT: &str = "http://www.w3.org/2001/04/xmlenc#Element";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    Aes128Cbc,
    Aes256Gcm,
}

impl Cipher {
    fn uri(self) -> &'static str {
        match self {
            Cipher::Aes128Cbc => "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
            Cipher::Aes256Gcm => "http://www.w3.org/2009/xmlenc11#aes256-gcm",
        }
    }
}

/// `iv || ciphertext` (CBC) or `iv || ciphertext || tag` (GCM), as XML-Enc lays them out.
fn encrypt_content(cipher: Cipher, key: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    match cipher {
        Cipher::Aes128Cbc => {
            let iv: [u8; 16] = rand::random();
            let ct = symm::encrypt(symm::Cipher::aes_128_cbc(), key, Some(&iv), plaintext)?;
            let mut out = iv.to_vec();
            out.extend_from_slice(&ct);
            Ok(out)
        }
        Cipher::Aes256Gcm => {
            let iv: [u8; 12] = rand::random();
            let mut tag = [0u8; 16];
            let ct = symm::encrypt_aead(
                symm::Cipher::aes_256_gcm(),
                key,
                Some(&iv),
                &[],
                plaintext,
                &mut tag,
            )?;
            let mut out = iv.to_vec();
            out.extend_from_slice(&ct);
            out.extend_from_slice(&tag);
            Ok(out)
        }
    }
}

/// `<saml:EncryptedAssertion>` holding `assertion` (a complete, possibly signed element).
pub fn encrypted_assertion(assertion: &[u8], cipher: Cipher, recipient: &X509) -> Result<Vec<u8>> {
    let key: Vec<u8> = match cipher {
        Cipher::Aes128Cbc => rand::random::<[u8; 16]>().to_vec(),
        Cipher::Aes256Gcm => rand::random::<[u8; 32]>().to_vec(),
    };
    let rsa = recipient.public_key()?.rsa()?;
    let mut wrapped = vec![0u8; rsa.size() as usize];
    let n = rsa.public_encrypt(&key, &mut wrapped, Padding::PKCS1_OAEP)?;
    wrapped.truncate(n);
    let content = encrypt_content(cipher, &key, assertion)?;

    let mut w = CanonWriter::new();
    w.start("saml:EncryptedAssertion", &[("saml", NS_SAML)], &[]);
    let id = crate::tenant::random_id("_enc");
    w.start(
        "xenc:EncryptedData",
        &[("xenc", NS_XENC)],
        &[("Id", &id), ("Type", TYPE_ELEMENT)],
    );
    w.leaf(
        "xenc:EncryptionMethod",
        &[],
        &[("Algorithm", cipher.uri())],
        "",
    );
    w.start("ds:KeyInfo", &[("ds", NS_DS)], &[]);
    w.start("xenc:EncryptedKey", &[], &[]);
    w.start("xenc:EncryptionMethod", &[], &[("Algorithm", RSA_OAEP)]);
    w.leaf("ds:DigestMethod", &[], &[("Algorithm", SHA1)], "");
    w.end("xenc:EncryptionMethod");
    w.start("xenc:CipherData", &[], &[]);
    w.leaf("xenc:CipherValue", &[], &[], &B64.encode(&wrapped));
    w.end("xenc:CipherData");
    w.end("xenc:EncryptedKey");
    w.end("ds:KeyInfo");
    w.start("xenc:CipherData", &[], &[]);
    w.leaf("xenc:CipherValue", &[], &[], &B64.encode(&content));
    w.end("xenc:CipherData");
    w.end("xenc:EncryptedData");
    w.end("saml:EncryptedAssertion");
    Ok(w.into_bytes())
}
