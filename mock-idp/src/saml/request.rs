//! Decoding an AuthnRequest from the HTTP-Redirect (deflate + base64) or HTTP-POST
//! (base64) binding. Only the fields an IdP acts on are read.

use crate::error::{Error, Result};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use quick_xml::Reader;
use quick_xml::events::Event;
use std::io::Read as _;

/// Larger inputs are refused: no SP sends AuthnRequests of this size.
const MAX_XML: u64 = 256 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthnRequest {
    pub id: Option<String>,
    pub acs_url: Option<String>,
    pub destination: Option<String>,
    pub issuer: Option<String>,
    /// The decoded XML, for the exchange log.
    pub xml: String,
}

#[derive(Debug, Clone, Copy)]
pub enum Binding {
    Redirect,
    Post,
}

fn b64(value: &str) -> Result<Vec<u8>> {
    let cleaned: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    B64.decode(cleaned.as_bytes())
        .map_err(|e| Error::BadRequest(format!("SAMLRequest is not base64: {e}")))
}

pub fn decode(value: &str, binding: Binding) -> Result<AuthnRequest> {
    let raw = b64(value)?;
    let xml = match binding {
        Binding::Post => raw,
        Binding::Redirect => {
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(raw.as_slice())
                .take(MAX_XML)
                .read_to_end(&mut out)
                .map_err(|e| Error::BadRequest(format!("SAMLRequest does not inflate: {e}")))?;
            out
        }
    };
    let xml =
        String::from_utf8(xml).map_err(|_| Error::BadRequest("SAMLRequest is not UTF-8".into()))?;
    parse(&xml)
}

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

pub fn parse(xml: &str) -> Result<AuthnRequest> {
    let mut reader = Reader::from_str(xml);
    let mut req = AuthnRequest {
        xml: xml.to_string(),
        ..Default::default()
    };
    let mut seen_root = false;
    let mut in_issuer = false;
    let mut depth = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| Error::BadRequest(format!("SAMLRequest is not XML: {e}")))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_start = matches!(event, Event::Start(_));
                if !seen_root {
                    if local(e.name().as_ref()) != b"AuthnRequest" {
                        return Err(Error::BadRequest(
                            "SAMLRequest is not an AuthnRequest".into(),
                        ));
                    }
                    seen_root = true;
                    for a in e.attributes().flatten() {
                        let value = a
                            .unescape_value()
                            .map_err(|e| Error::BadRequest(format!("bad attribute: {e}")))?
                            .into_owned();
                        match local(a.key.as_ref()) {
                            b"ID" => req.id = Some(value),
                            b"AssertionConsumerServiceURL" => req.acs_url = Some(value),
                            b"Destination" => req.destination = Some(value),
                            _ => {}
                        }
                    }
                } else if depth == 1 && local(e.name().as_ref()) == b"Issuer" && is_start {
                    in_issuer = true;
                }
                if is_start {
                    depth += 1;
                }
            }
            Event::Text(t) if in_issuer => {
                let text = t
                    .unescape()
                    .map_err(|e| Error::BadRequest(format!("bad Issuer: {e}")))?;
                req.issuer = Some(text.trim().to_string());
            }
            Event::End(_) => {
                in_issuer = false;
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(Error::BadRequest("SAMLRequest is empty".into()));
    }
    Ok(req)
}

/// Encodes an AuthnRequest for the Redirect binding (used by tests and the bench).
pub fn encode_redirect(xml: &str) -> String {
    use std::io::Write as _;
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = enc.write_all(xml.as_bytes());
    B64.encode(enc.finish().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_req1" Version="2.0" AssertionConsumerServiceURL="http://sp/acs?a=1&amp;b=2"><saml:Issuer>urn:sp</saml:Issuer></samlp:AuthnRequest>"#;

    #[test]
    fn round_trips_both_bindings() {
        let r = decode(&encode_redirect(REQ), Binding::Redirect).unwrap();
        assert_eq!(r.id.as_deref(), Some("_req1"));
        assert_eq!(r.acs_url.as_deref(), Some("http://sp/acs?a=1&b=2"));
        assert_eq!(r.issuer.as_deref(), Some("urn:sp"));
        let r = decode(&B64.encode(REQ), Binding::Post).unwrap();
        assert_eq!(r.id.as_deref(), Some("_req1"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode("!!!", Binding::Post).is_err());
        assert!(decode(&B64.encode("<a/>"), Binding::Post).is_err());
        assert!(decode(&B64.encode("not xml"), Binding::Redirect).is_err());
        assert!(decode("", Binding::Post).is_err());
    }
}
