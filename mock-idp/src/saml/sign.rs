//! Enveloped XML signatures over elements the [`CanonWriter`] emitted. Because those bytes
//! are already in exclusive-canonical form, the digest is taken over them directly; only
//! `SignedInfo` gets its own canonical rendering (it carries `xmlns:ds` when it is the
//! apex of canonicalization, but inherits it in the document).

use super::xml::{CanonWriter, NS_DS};
use crate::error::Result;
use crate::keys::{HashAlg, SigningKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

fn signature_method(hash: HashAlg) -> &'static str {
    match hash {
        HashAlg::Sha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        HashAlg::Sha1 => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    }
}

fn digest_method(hash: HashAlg) -> &'static str {
    match hash {
        HashAlg::Sha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
        HashAlg::Sha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
    }
}

fn signed_info(hash: HashAlg, id: &str, digest_b64: &str, apex: bool) -> Vec<u8> {
    let mut w = CanonWriter::new();
    let ns: &[(&str, &str)] = if apex { &[("ds", NS_DS)] } else { &[] };
    w.start("ds:SignedInfo", ns, &[]);
    w.leaf(
        "ds:CanonicalizationMethod",
        &[],
        &[("Algorithm", EXC_C14N)],
        "",
    );
    w.leaf(
        "ds:SignatureMethod",
        &[],
        &[("Algorithm", signature_method(hash))],
        "",
    );
    let uri = format!("#{id}");
    w.start("ds:Reference", &[], &[("URI", &uri)]);
    w.start("ds:Transforms", &[], &[]);
    w.leaf("ds:Transform", &[], &[("Algorithm", ENVELOPED)], "");
    w.leaf("ds:Transform", &[], &[("Algorithm", EXC_C14N)], "");
    w.end("ds:Transforms");
    w.leaf(
        "ds:DigestMethod",
        &[],
        &[("Algorithm", digest_method(hash))],
        "",
    );
    w.leaf("ds:DigestValue", &[], &[], digest_b64);
    w.end("ds:Reference");
    w.end("ds:SignedInfo");
    w.into_bytes()
}

/// The `ds:Signature` element for the element with `ID="id"` whose canonical bytes,
/// without the signature, are `canonical`.
pub fn signature(key: &SigningKey, hash: HashAlg, id: &str, canonical: &[u8]) -> Result<Vec<u8>> {
    let digest = B64.encode(hash.digest(canonical));
    let value = key.sign(&signed_info(hash, id, &digest, true), hash)?;
    let mut w = CanonWriter::new();
    w.start("ds:Signature", &[("ds", NS_DS)], &[]);
    w.raw(&signed_info(hash, id, &digest, false));
    w.leaf("ds:SignatureValue", &[], &[], &B64.encode(value));
    w.start("ds:KeyInfo", &[], &[]);
    w.start("ds:X509Data", &[], &[]);
    w.leaf("ds:X509Certificate", &[], &[], &key.cert_base64());
    w.end("ds:X509Data");
    w.end("ds:KeyInfo");
    w.end("ds:Signature");
    Ok(w.into_bytes())
}

/// An element written in two parts around the place its signature goes (after Issuer).
pub struct Split {
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
}

impl Split {
    pub fn unsigned(self) -> Vec<u8> {
        let mut out = self.head;
        out.extend_from_slice(&self.tail);
        out
    }

    pub fn signed(self, key: &SigningKey, hash: HashAlg, id: &str) -> Result<Vec<u8>> {
        let mut whole = Vec::with_capacity(self.head.len() + self.tail.len() + 2048);
        whole.extend_from_slice(&self.head);
        whole.extend_from_slice(&self.tail);
        let sig = signature(key, hash, id, &whole)?;
        let mut out = self.head;
        out.extend_from_slice(&sig);
        out.extend_from_slice(&self.tail);
        Ok(out)
    }
}
