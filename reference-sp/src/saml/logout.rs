//! Single logout messages for the SP: reading and verifying what the IdP sends (a
//! LogoutRequest for a session it ends, a LogoutResponse to our own request) and writing what
//! we send (our LogoutRequest, our LogoutResponse). What we send always goes by HTTP-Redirect
//! with a query signature (RSA-SHA256, the SP key); what we accept is signed by the configured
//! IdP certificate, by an enveloped signature over the whole message (HTTP-POST) or by a query
//! signature (HTTP-Redirect). Nothing unsigned is read.
use super::{ASSERTION_NS, PROTOCOL_NS, xml_err};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use samael::crypto::{CertificateDer, Crypto, CryptoProvider, ReduceMode};
use std::io::{Read as _, Write as _};

pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
pub const STATUS_REQUESTER: &str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
const MAX_XML: u64 = 64 * 1024;

/// The signature algorithms a query signature may use, with their digests.
fn query_alg(uri: &str) -> Option<MessageDigest> {
    match uri {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => Some(MessageDigest::sha256()),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => Some(MessageDigest::sha384()),
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => Some(MessageDigest::sha512()),
        _ => None,
    }
}

/// What the SP reads of a verified logout message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// `LogoutRequest` or `LogoutResponse`.
    pub root: String,
    pub id: Option<String>,
    pub version: Option<String>,
    pub issue_instant: Option<String>,
    pub not_on_or_after: Option<String>,
    pub destination: Option<String>,
    pub in_response_to: Option<String>,
    pub issuer: Option<String>,
    pub name_id: Option<String>,
    pub session_indexes: Vec<String>,
    pub status: Option<String>,
}

/// One incoming message, as the binding carried it.
pub enum Incoming<'a> {
    /// The base64 form value (`SAMLRequest` or `SAMLResponse`).
    Post { value: &'a str },
    /// The raw (still percent-encoded) query string.
    Redirect { raw_query: &'a str },
}

fn local(name: &[u8]) -> String {
    let l = match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    };
    String::from_utf8_lossy(l).into_owned()
}

/// The fields of a logout message (the XML must already be the verified part only).
pub fn read(xml: &str) -> Result<Message, String> {
    let mut reader = Reader::from_str(xml);
    let mut m = Message::default();
    let mut depth = 0usize;
    let mut text_of: Option<&'static str> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("the logout message is not XML: {e}"))?;
        match event {
            Event::DocType(_) => return Err("the logout message has a DOCTYPE".into()),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = local(e.name().as_ref());
                let attr = |key: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == key.as_bytes())
                        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
                };
                if depth == 0 {
                    m.root = name.clone();
                    m.id = attr("ID");
                    m.version = attr("Version");
                    m.issue_instant = attr("IssueInstant");
                    m.not_on_or_after = attr("NotOnOrAfter");
                    m.destination = attr("Destination");
                    m.in_response_to = attr("InResponseTo");
                } else if depth == 2 && name == "StatusCode" && m.status.is_none() {
                    m.status = attr("Value");
                }
                text_of = match (depth, name.as_str()) {
                    (1, "Issuer") => Some("issuer"),
                    (1, "NameID") => Some("name_id"),
                    (1, "SessionIndex") => Some("session_index"),
                    _ => None,
                };
                if !empty {
                    depth += 1;
                }
            }
            Event::Text(t) => {
                if let Some(which) = text_of {
                    let v = t
                        .unescape()
                        .map_err(|e| format!("bad text in the logout message: {e}"))?
                        .trim()
                        .to_string();
                    match which {
                        "issuer" => m.issuer = Some(v),
                        "name_id" => m.name_id = Some(v),
                        _ => m.session_indexes.push(v),
                    }
                }
            }
            Event::End(_) => {
                text_of = None;
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if m.root.is_empty() {
        return Err("the logout message is empty".into());
    }
    Ok(m)
}

fn inflate(raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(raw)
        .take(MAX_XML + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("the message does not inflate: {e}"))?;
    if out.len() as u64 > MAX_XML {
        return Err("the logout message is too large".into());
    }
    Ok(out)
}

/// The raw value of `key` in a percent-encoded query, exactly as sent (query signatures are
/// over the encoded bytes).
fn raw_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

fn decoded(raw: &str) -> String {
    url::form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Verifies `incoming` (a `field` message: `SAMLRequest` or `SAMLResponse`) with the IdP's
/// certificate and returns what it says. Unsigned, badly signed or wrongly signed messages
/// are refused with the reason.
pub fn verify(incoming: Incoming<'_>, field: &str, cert_der: &[u8]) -> Result<Message, String> {
    match incoming {
        Incoming::Post { value } => {
            let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = B64
                .decode(compact)
                .map_err(|e| format!("{field} is not base64: {e}"))?;
            if bytes.len() as u64 > MAX_XML {
                return Err("the logout message is too large".into());
            }
            let xml = String::from_utf8(bytes).map_err(|_| format!("{field} is not UTF-8"))?;
            if !xml.contains("Signature") {
                return Err(format!(
                    "the {field} is not signed: a logout message must carry the IdP's signature"
                ));
            }
            // Only what the one signature covers is read: a message wrapped around a signed
            // element, or signed by another key, yields nothing.
            let signed = {
                let _guard = super::validate::xmlsec_lock();
                Crypto::reduce_xml_to_signed(
                    &xml,
                    &[CertificateDer::from(cert_der.to_vec())],
                    ReduceMode::PreDigest,
                )
            }
            .map_err(|e| {
                format!("the {field}'s signature does not verify with the configured IdP certificate: {e}")
            })?;
            let whole = read(&xml)?;
            let m = read(&signed)?;
            // The signed element must be the message itself, not some element inside it.
            if m.root != whole.root || m.id != whole.id || m.id.is_none() {
                return Err(format!(
                    "the {field}'s signature covers <{}>, not the message <{}> itself",
                    m.root, whole.root
                ));
            }
            Ok(m)
        }
        Incoming::Redirect { raw_query } => {
            let value =
                raw_param(raw_query, field).ok_or_else(|| format!("the query has no {field}"))?;
            let (Some(sig_alg), Some(sig)) = (
                raw_param(raw_query, "SigAlg"),
                raw_param(raw_query, "Signature"),
            ) else {
                return Err(format!(
                    "the {field} is not signed: the query has no SigAlg and Signature"
                ));
            };
            let alg = decoded(sig_alg);
            let digest = query_alg(&alg)
                .ok_or_else(|| format!("the query signature algorithm {alg:?} is not accepted"))?;
            // SAML bindings 3.4.4.1: the signed octets are the encoded parameters in this order.
            let mut signed = format!("{field}={value}");
            if let Some(rs) = raw_param(raw_query, "RelayState") {
                signed.push_str(&format!("&RelayState={rs}"));
            }
            signed.push_str(&format!("&SigAlg={sig_alg}"));
            let sig = B64
                .decode(decoded(sig))
                .map_err(|e| format!("the query Signature is not base64: {e}"))?;
            let cert = openssl::x509::X509::from_der(cert_der)
                .map_err(|e| format!("the configured certificate is unusable: {e}"))?;
            let key = cert
                .public_key()
                .map_err(|e| format!("the configured certificate is unusable: {e}"))?;
            let mut v = openssl::sign::Verifier::new(digest, &key).map_err(|e| e.to_string())?;
            v.update(signed.as_bytes()).map_err(|e| e.to_string())?;
            if !v.verify(&sig).unwrap_or(false) {
                return Err(format!(
                    "the {field}'s query signature does not verify with the configured IdP certificate"
                ));
            }
            let raw = B64
                .decode(decoded(value))
                .map_err(|e| format!("{field} is not base64: {e}"))?;
            let xml =
                String::from_utf8(inflate(&raw)?).map_err(|_| format!("{field} is not UTF-8"))?;
            read(&xml)
        }
    }
}

/// An XML ID: an NCName (a letter or `_` first), as SAML's xs:ID requires.
pub fn is_xml_id(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || "_-.".contains(c))
}

/// What we write: a LogoutRequest (`name_id` given) or a LogoutResponse (`status` given).
pub struct Outgoing<'a> {
    pub id: &'a str,
    pub issue_instant: &'a str,
    pub destination: &'a str,
    pub issuer: &'a str,
    pub in_response_to: Option<&'a str>,
    pub name_id: Option<(&'a str, Option<&'a str>)>,
    pub status: Option<&'a str>,
}

impl Outgoing<'_> {
    pub fn to_xml(&self) -> Result<String, String> {
        let mut w = Writer::new(Vec::new());
        let root_name = if self.name_id.is_some() {
            "samlp:LogoutRequest"
        } else {
            "samlp:LogoutResponse"
        };
        let mut root = BytesStart::new(root_name).with_attributes([
            ("xmlns:samlp", PROTOCOL_NS),
            ("xmlns:saml", ASSERTION_NS),
            ("ID", self.id),
            ("Version", "2.0"),
            ("IssueInstant", self.issue_instant),
            ("Destination", self.destination),
        ]);
        if let Some(irt) = self.in_response_to {
            root.push_attribute(("InResponseTo", irt));
        }
        w.write_event(Event::Start(root)).map_err(xml_err)?;
        w.write_event(Event::Start(BytesStart::new("saml:Issuer")))
            .map_err(xml_err)?;
        w.write_event(Event::Text(BytesText::new(self.issuer)))
            .map_err(xml_err)?;
        w.write_event(Event::End(BytesEnd::new("saml:Issuer")))
            .map_err(xml_err)?;
        if let Some((name_id, session_index)) = self.name_id {
            w.write_event(Event::Start(BytesStart::new("saml:NameID")))
                .map_err(xml_err)?;
            w.write_event(Event::Text(BytesText::new(name_id)))
                .map_err(xml_err)?;
            w.write_event(Event::End(BytesEnd::new("saml:NameID")))
                .map_err(xml_err)?;
            if let Some(si) = session_index {
                w.write_event(Event::Start(BytesStart::new("samlp:SessionIndex")))
                    .map_err(xml_err)?;
                w.write_event(Event::Text(BytesText::new(si)))
                    .map_err(xml_err)?;
                w.write_event(Event::End(BytesEnd::new("samlp:SessionIndex")))
                    .map_err(xml_err)?;
            }
        }
        if let Some(status) = self.status {
            w.write_event(Event::Start(BytesStart::new("samlp:Status")))
                .map_err(xml_err)?;
            w.write_event(Event::Empty(
                BytesStart::new("samlp:StatusCode").with_attributes([("Value", status)]),
            ))
            .map_err(xml_err)?;
            w.write_event(Event::End(BytesEnd::new("samlp:Status")))
                .map_err(xml_err)?;
        }
        w.write_event(Event::End(BytesEnd::new(root_name)))
            .map_err(xml_err)?;
        String::from_utf8(w.into_inner()).map_err(xml_err)
    }

    /// The HTTP-Redirect URL carrying this message, signed with the SP key.
    pub fn redirect_url(
        &self,
        relay_state: Option<&str>,
        key: &PKey<Private>,
    ) -> Result<url::Url, String> {
        let xml = self.to_xml()?;
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(xml.as_bytes()).map_err(xml_err)?;
        let deflated = enc.finish().map_err(xml_err)?;
        let field = if self.name_id.is_some() {
            "SAMLRequest"
        } else {
            "SAMLResponse"
        };
        let mut url = url::Url::parse(self.destination).map_err(|e| {
            format!(
                "the IdP's logout URL {:?} is not a URL: {e}",
                self.destination
            )
        })?;
        url.query_pairs_mut()
            .append_pair(field, &B64.encode(deflated));
        if let Some(rs) = relay_state {
            url.query_pairs_mut().append_pair("RelayState", rs);
        }
        samael::crypto::sign_url(url, key).map_err(|e| format!("signing the logout URL: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_be_ncnames() {
        assert!(is_xml_id("_abc-1.2"));
        assert!(is_xml_id("a1"));
        assert!(!is_xml_id("1abc"));
        assert!(!is_xml_id(""));
        assert!(!is_xml_id("_a b"));
    }

    #[test]
    fn fields_are_read_from_the_top_level_only() {
        let xml = r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r" Version="2.0" NotOnOrAfter="2030-01-01T00:00:00Z"><saml:Issuer>idp</saml:Issuer><saml:NameID>sam@acme.test</saml:NameID><samlp:SessionIndex>_s1</samlp:SessionIndex></samlp:LogoutRequest>"#;
        let m = read(xml).unwrap();
        assert_eq!(m.root, "LogoutRequest");
        assert_eq!(m.issuer.as_deref(), Some("idp"));
        assert_eq!(m.name_id.as_deref(), Some("sam@acme.test"));
        assert_eq!(m.session_indexes, vec!["_s1"]);
        assert!(read("<!DOCTYPE x><x/>").is_err());
    }

    #[test]
    fn unsigned_messages_are_refused() {
        let xml = B64.encode(
            r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r"/>"#,
        );
        let e = verify(Incoming::Post { value: &xml }, "SAMLRequest", b"x").unwrap_err();
        assert!(e.contains("not signed"), "{e}");
        let e = verify(
            Incoming::Redirect {
                raw_query: "SAMLRequest=abc",
            },
            "SAMLRequest",
            b"x",
        )
        .unwrap_err();
        assert!(e.contains("not signed"), "{e}");
    }
}
