//! Layer 2: enveloped XML signatures over parsed elements, with every choice the forge
//! offers (RSA-SHA1/256/384/512, any digest, X509Data / RSAKeyValue / no KeyInfo, any key).
//! The genuine path keeps `saml/sign.rs`, which signs bytes it wrote itself.

use super::c14n::exc_c14n;
use super::dom::Element;
use crate::error::{Error, Result};
use crate::keys::SigningKey;
use crate::saml::xml::{NS_DS, NS_SAML};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use openssl::hash::MessageDigest;
use openssl::sign::Signer;
use proto::forge::{DigestAlgorithm, KeyInfoChoice, SignatureAlgorithm};

pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// The XML-DSig URI of a signature algorithm.
pub fn signature_uri(alg: SignatureAlgorithm) -> &'static str {
    match alg {
        SignatureAlgorithm::RsaSha1 => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        SignatureAlgorithm::RsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        SignatureAlgorithm::RsaSha384 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        SignatureAlgorithm::RsaSha512 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    }
}

fn signature_md(alg: SignatureAlgorithm) -> MessageDigest {
    match alg {
        SignatureAlgorithm::RsaSha1 => MessageDigest::sha1(),
        SignatureAlgorithm::RsaSha256 => MessageDigest::sha256(),
        SignatureAlgorithm::RsaSha384 => MessageDigest::sha384(),
        SignatureAlgorithm::RsaSha512 => MessageDigest::sha512(),
    }
}

/// The XML-DSig URI of a digest algorithm.
pub fn digest_uri(alg: DigestAlgorithm) -> &'static str {
    match alg {
        DigestAlgorithm::Sha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
        DigestAlgorithm::Sha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
        DigestAlgorithm::Sha384 => "http://www.w3.org/2001/04/xmldsig-more#sha384",
        DigestAlgorithm::Sha512 => "http://www.w3.org/2001/04/xmlenc#sha512",
    }
}

pub fn digest(alg: DigestAlgorithm, data: &[u8]) -> Result<Vec<u8>> {
    let md = match alg {
        DigestAlgorithm::Sha1 => MessageDigest::sha1(),
        DigestAlgorithm::Sha256 => MessageDigest::sha256(),
        DigestAlgorithm::Sha384 => MessageDigest::sha384(),
        DigestAlgorithm::Sha512 => MessageDigest::sha512(),
    };
    Ok(openssl::hash::hash(md, data)?.to_vec())
}

/// How to sign.
#[derive(Debug, Clone, Copy)]
pub struct SignOptions<'a> {
    pub key: &'a SigningKey,
    pub signature: SignatureAlgorithm,
    pub digest: DigestAlgorithm,
    pub key_info: KeyInfoChoice,
}

pub fn ds(local: &str) -> Element {
    Element::new(Some("ds"), local, Some(NS_DS))
}

/// `ds:SignedInfo` with one enveloped, exclusive-c14n reference to `#id`.
pub fn signed_info(
    signature: SignatureAlgorithm,
    digest: DigestAlgorithm,
    id: &str,
    digest_value: &[u8],
) -> Element {
    ds("SignedInfo")
        .with_child(ds("CanonicalizationMethod").with_attr("Algorithm", EXC_C14N))
        .with_child(ds("SignatureMethod").with_attr("Algorithm", signature_uri(signature)))
        .with_child(
            ds("Reference")
                .with_attr("URI", &format!("#{id}"))
                .with_child(
                    ds("Transforms")
                        .with_child(ds("Transform").with_attr("Algorithm", ENVELOPED))
                        .with_child(ds("Transform").with_attr("Algorithm", EXC_C14N)),
                )
                .with_child(ds("DigestMethod").with_attr("Algorithm", digest_uri(digest)))
                .with_child(ds("DigestValue").with_text(&B64.encode(digest_value))),
        )
}

fn key_info(key: &SigningKey, choice: KeyInfoChoice) -> Result<Option<Element>> {
    Ok(match choice {
        KeyInfoChoice::None => None,
        KeyInfoChoice::X509 => Some(ds("KeyInfo").with_child(
            ds("X509Data").with_child(ds("X509Certificate").with_text(&key.cert_base64())),
        )),
        KeyInfoChoice::RsaKeyValue => {
            let rsa = key.private_key().rsa()?;
            Some(
                ds("KeyInfo").with_child(
                    ds("KeyValue").with_child(
                        ds("RSAKeyValue")
                            .with_child(ds("Modulus").with_text(&B64.encode(rsa.n().to_vec())))
                            .with_child(ds("Exponent").with_text(&B64.encode(rsa.e().to_vec()))),
                    ),
                ),
            )
        }
    })
}

/// RSA PKCS#1 v1.5 over the canonical form of `signed_info`.
pub fn signature_value(
    key: &SigningKey,
    alg: SignatureAlgorithm,
    signed_info: &Element,
) -> Result<Vec<u8>> {
    let mut signer = Signer::new(signature_md(alg), key.private_key())?;
    signer.update(&exc_c14n(signed_info, None))?;
    Ok(signer.sign_to_vec()?)
}

/// The digest of `el` as a reference to it sees it: canonical, comments and `exclude`
/// (its enveloped signature, if any) left out.
pub fn reference_digest(
    el: &Element,
    exclude: Option<&Element>,
    alg: DigestAlgorithm,
) -> Result<Vec<u8>> {
    digest(alg, &exc_c14n(el, exclude))
}

/// Signs `el` (which must carry an `ID`) with an enveloped signature placed after its
/// Issuer. Signatures already inside `el` are part of what is signed.
pub fn sign_in_place(el: &mut Element, opts: &SignOptions<'_>) -> Result<()> {
    let id = el
        .attr("ID")
        .ok_or_else(|| Error::Xml(format!("<{}> has no ID to sign", el.qname())))?
        .to_string();
    let digest = reference_digest(el, None, opts.digest)?;
    let si = signed_info(opts.signature, opts.digest, &id, &digest);
    let value = signature_value(opts.key, opts.signature, &si)?;
    let mut sig = ds("Signature")
        .declare(Some("ds"), NS_DS)
        .with_child(si)
        .with_child(ds("SignatureValue").with_text(&B64.encode(value)));
    if let Some(ki) = key_info(opts.key, opts.key_info)? {
        sig = sig.with_child(ki);
    }
    el.insert_after_child(NS_SAML, "Issuer", sig);
    Ok(())
}

pub fn is_signature(e: &Element) -> bool {
    e.is(NS_DS, "Signature")
}

#[cfg(test)]
mod tests {
    use super::super::dom::{self, parse};
    use super::*;
    use crate::keys::Validity;

    #[test]
    fn signature_value_verifies_over_the_canonical_signed_info() {
        let key = SigningKey::generate("t", Validity::Current).unwrap();
        let doc = parse("<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_a\"><saml:Issuer>i</saml:Issuer><saml:Subject>s</saml:Subject></saml:Assertion>").unwrap();
        let mut a = doc.root().unwrap().clone();
        for (sig, dig) in [
            (SignatureAlgorithm::RsaSha384, DigestAlgorithm::Sha384),
            (SignatureAlgorithm::RsaSha256, DigestAlgorithm::Sha1),
        ] {
            let mut el = a.clone();
            sign_in_place(
                &mut el,
                &SignOptions {
                    key: &key,
                    signature: sig,
                    digest: dig,
                    key_info: KeyInfoChoice::RsaKeyValue,
                },
            )
            .unwrap();
            // Signature sits right after Issuer.
            assert!(is_signature(el.elements().nth(1).unwrap()));
            let s = el.elements().nth(1).unwrap();
            let si = s.child(NS_DS, "SignedInfo").unwrap();
            let value = B64
                .decode(s.child(NS_DS, "SignatureValue").unwrap().text())
                .unwrap();
            let public = openssl::pkey::PKey::public_key_from_pem(
                &key.private_key().public_key_to_pem().unwrap(),
            )
            .unwrap();
            let mut v = openssl::sign::Verifier::new(signature_md(sig), &public).unwrap();
            v.update(&exc_c14n(si, None)).unwrap();
            assert!(v.verify(&value).unwrap());
            // The digest is over the element without its signature.
            let digest = si.find(&|e| e.local == "DigestValue").unwrap().text();
            assert_eq!(
                B64.decode(digest).unwrap(),
                super::digest(dig, &exc_c14n(&a, None)).unwrap()
            );
            let text = dom::write_element(&el);
            assert!(text.contains("<ds:Modulus>"), "{text}");
        }
        a.set_attr("ID", "_b");
        assert!(!dom::write_element(&a).contains("Signature"));
    }
}
