//! XML Encryption of an assertion (or a NameID, or an Attribute) to the SP's certificate: a
//! fresh content key wrapped with RSA-OAEP (MGF1 with SHA-1, the `rsa-oaep-mgf1p` every SAML
//! stack reads), content encrypted with AES-128-CBC or AES-256-GCM. The weak choices an SP
//! should refuse (RSA PKCS#1 v1.5 key transport, open to Bleichenbacher's oracle, and
//! 3DES-CBC) exist so that a scenario can offer them.

use super::xml::{CanonWriter, NS_DS, NS_SAML, NS_XENC};
use crate::error::Result;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use openssl::rsa::Padding;
use openssl::symm;
use openssl::x509::X509;

const RSA_OAEP: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
const RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
const TYPE_ELEMENT: &str = "http://www.w3.org/2001/04/xmlenc#Element";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    Aes128Cbc,
    Aes256Gcm,
    /// Deprecated by XML Encryption 1.1; offered only to see whether an SP refuses it.
    TripleDesCbc,
}

impl Cipher {
    fn uri(self) -> &'static str {
        match self {
            Cipher::Aes128Cbc => "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
            Cipher::Aes256Gcm => "http://www.w3.org/2009/xmlenc11#aes256-gcm",
            Cipher::TripleDesCbc => "http://www.w3.org/2001/04/xmlenc#tripledes-cbc",
        }
    }

    fn key_len(self) -> usize {
        match self {
            Cipher::Aes128Cbc => 16,
            Cipher::Aes256Gcm => 32,
            Cipher::TripleDesCbc => 24,
        }
    }
}

/// How the content key is wrapped to the SP's RSA key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    RsaOaep,
    /// PKCS#1 v1.5: an SP that decrypts it is a padding oracle (XML Encryption 1.1 forbids it).
    Rsa15,
}

impl Transport {
    fn uri(self) -> &'static str {
        match self {
            Transport::RsaOaep => RSA_OAEP,
            Transport::Rsa15 => RSA_1_5,
        }
    }

    fn padding(self) -> Padding {
        match self {
            Transport::RsaOaep => Padding::PKCS1_OAEP,
            Transport::Rsa15 => Padding::PKCS1,
        }
    }
}

/// The element an encrypted SAML object is wrapped in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapper {
    Assertion,
    NameId,
    Attribute,
}

impl Wrapper {
    fn qname(self) -> &'static str {
        match self {
            Wrapper::Assertion => "saml:EncryptedAssertion",
            Wrapper::NameId => "saml:EncryptedID",
            Wrapper::Attribute => "saml:EncryptedAttribute",
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
        Cipher::TripleDesCbc => {
            let iv: [u8; 8] = rand::random();
            let ct = symm::encrypt(symm::Cipher::des_ede3_cbc(), key, Some(&iv), plaintext)?;
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

/// `<saml:EncryptedAssertion>` (or `EncryptedID`, `EncryptedAttribute`) holding `plain` (a
/// complete element, possibly signed, declaring every namespace it uses).
pub fn encrypted_element(
    wrapper: Wrapper,
    plain: &[u8],
    cipher: Cipher,
    transport: Transport,
    recipient: &X509,
) -> Result<Vec<u8>> {
    let mut key = vec![0u8; cipher.key_len()];
    openssl::rand::rand_bytes(&mut key)?;
    let rsa = recipient.public_key()?.rsa()?;
    let mut wrapped = vec![0u8; rsa.size() as usize];
    let n = rsa.public_encrypt(&key, &mut wrapped, transport.padding())?;
    wrapped.truncate(n);
    let content = encrypt_content(cipher, &key, plain)?;

    let mut w = CanonWriter::new();
    w.start(wrapper.qname(), &[("saml", NS_SAML)], &[]);
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
    w.start(
        "xenc:EncryptionMethod",
        &[],
        &[("Algorithm", transport.uri())],
    );
    if transport == Transport::RsaOaep {
        w.leaf("ds:DigestMethod", &[], &[("Algorithm", SHA1)], "");
    }
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
    w.end(wrapper.qname());
    Ok(w.into_bytes())
}
