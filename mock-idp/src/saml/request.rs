//! Decoding an AuthnRequest from the HTTP-Redirect (deflate + base64) or HTTP-POST
//! (base64) binding. Only the fields an IdP acts on are read. Each error says which step
//! failed (base64, inflate, UTF-8, XML, root element) and where, because an SP developer
//! reads it to find what their library sent.

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

/// The XML text of a `SAMLRequest`/`SAMLResponse` value: base64, then (HTTP-Redirect)
/// inflated, at most `MAX_XML` bytes, UTF-8; each error names `field` and the step that failed.
/// AuthnRequests and logout messages arrive the same way.
pub fn decode_text(value: &str, field: &str, redirect: bool) -> Result<String> {
    let cleaned: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let raw = B64
        .decode(cleaned.as_bytes())
        .map_err(|e| Error::BadRequest(format!("{field} is not base64: {e}")))?;
    let xml = if redirect {
        let mut out = Vec::new();
        // One byte over the limit tells "too large" apart from "exactly the limit",
        // instead of parsing a message cut short and calling it broken XML.
        flate2::read::DeflateDecoder::new(raw.as_slice())
            .take(MAX_XML + 1)
            .read_to_end(&mut out)
            .map_err(|e| {
                Error::BadRequest(format!(
                    "{field} does not inflate (the HTTP-Redirect binding sends it \
                     deflated, then base64): {e}"
                ))
            })?;
        out
    } else {
        raw
    };
    if xml.len() as u64 > MAX_XML {
        return Err(Error::BadRequest(format!(
            "{field} is larger than {} KiB once decoded; no SP sends messages of this size",
            MAX_XML / 1024
        )));
    }
    String::from_utf8(xml).map_err(|e| {
        Error::BadRequest(format!(
            "{field} is not UTF-8 (invalid byte at {} of the decoded message)",
            e.utf8_error().valid_up_to()
        ))
    })
}

pub fn decode(value: &str, binding: Binding) -> Result<AuthnRequest> {
    parse(&decode_text(
        value,
        "SAMLRequest",
        matches!(binding, Binding::Redirect),
    )?)
}

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// Non-blank text before the root element: the request is not XML (or not only XML).
fn text_before_root(text: &[u8], at: u64) -> Result<()> {
    let blank = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
    if blank == text.len() {
        return Ok(());
    }
    let at = at + blank as u64;
    let text = String::from_utf8_lossy(&text[blank..]);
    let start: String = text.trim_end().chars().take(40).collect();
    Err(Error::BadRequest(format!(
        "SAMLRequest is not XML: text {start:?} at byte {at} of the decoded request, where the \
         AuthnRequest element should start"
    )))
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
        let at = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                return Err(Error::BadRequest(format!(
                    "SAMLRequest is not XML: {e} (at byte {} of the decoded request)",
                    reader.error_position()
                )));
            }
        };
        match event {
            // Text where the root element should start: quick-xml reads it without
            // complaint, so it is caught here rather than reported as "empty".
            Event::Text(ref t) if !seen_root => text_before_root(t.as_ref(), at)?,
            Event::CData(ref t) if !seen_root => text_before_root(t.as_ref(), at)?,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_start = matches!(event, Event::Start(_));
                if !seen_root {
                    if local(e.name().as_ref()) != b"AuthnRequest" {
                        return Err(Error::BadRequest(format!(
                            "SAMLRequest is not an AuthnRequest: its root element is <{}>",
                            String::from_utf8_lossy(e.name().as_ref())
                        )));
                    }
                    seen_root = true;
                    for a in e.attributes().flatten() {
                        let value = a
                            .unescape_value()
                            .map_err(|err| {
                                Error::BadRequest(format!(
                                    "SAMLRequest: attribute {} of the AuthnRequest does not \
                                     unescape: {err}",
                                    String::from_utf8_lossy(a.key.as_ref())
                                ))
                            })?
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
                let text = t.unescape().map_err(|e| {
                    Error::BadRequest(format!(
                        "SAMLRequest: the Issuer's text does not unescape: {e}"
                    ))
                })?;
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
        return Err(Error::BadRequest(if xml.trim().is_empty() {
            "SAMLRequest is empty".into()
        } else {
            "SAMLRequest has no element: only a declaration, comments or processing \
             instructions"
                .into()
        }));
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

    fn message(r: Result<AuthnRequest>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn each_error_names_the_step_that_failed() {
        let e = message(decode(&encode_redirect("not xml"), Binding::Redirect));
        assert!(e.contains("SAMLRequest is not XML"), "{e}");
        assert!(e.contains("\"not xml\" at byte 0"), "{e}");
        assert!(!e.contains("empty"), "{e}");
        let e = message(decode(&B64.encode("  \n hello <a/>"), Binding::Post));
        assert!(
            e.contains("not XML") && e.contains("\"hello\" at byte 4"),
            "{e}"
        );
        let e = message(decode(&B64.encode("<a/>"), Binding::Post));
        assert!(e.contains("root element is <a>"), "{e}");
        let e = message(decode(
            &B64.encode("<samlp:AuthnRequest><x></y>"),
            Binding::Post,
        ));
        assert!(e.contains("not XML") && e.contains("at byte"), "{e}");
        let e = message(decode(&B64.encode("  "), Binding::Post));
        assert!(e.contains("SAMLRequest is empty"), "{e}");
        let e = message(decode(
            &B64.encode("<?xml version=\"1.0\"?><!-- c -->"),
            Binding::Post,
        ));
        assert!(e.contains("no element"), "{e}");
        let e = message(decode(&B64.encode(b"<a\xff/>"), Binding::Post));
        assert!(e.contains("not UTF-8") && e.contains("at 2"), "{e}");
        let e = message(decode(&B64.encode("<AuthnRequest/>"), Binding::Redirect));
        assert!(e.contains("does not inflate"), "{e}");
        let e = message(decode("!!!", Binding::Post));
        assert!(e.contains("not base64"), "{e}");
    }

    #[test]
    fn oversized_requests_are_called_that() {
        let big = format!(
            "<AuthnRequest ID=\"_x\">{}</AuthnRequest>",
            "a".repeat(MAX_XML as usize)
        );
        let e = message(decode(&encode_redirect(&big), Binding::Redirect));
        assert!(e.contains("larger than 256 KiB"), "{e}");
        let e = message(decode(&B64.encode(&big), Binding::Post));
        assert!(e.contains("larger than 256 KiB"), "{e}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode("!!!", Binding::Post).is_err());
        assert!(decode(&B64.encode("<a/>"), Binding::Post).is_err());
        assert!(decode(&B64.encode("not xml"), Binding::Redirect).is_err());
        assert!(decode("", Binding::Post).is_err());
    }
}
