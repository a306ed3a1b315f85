//! A strict first read of a SAML response with quick-xml, before samael sees it.
//!
//! samael hands the document to libxml in recover mode, which silently drops what follows a
//! bare `&`, and it only returns what is signed; so this pass (a) refuses anything that is not
//! well-formed, (b) collects what samael does not check: the Response's Destination and
//! InResponseTo, whether anything is signed at all, the certificate embedded in each
//! signature, and encrypted parts.
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::{ASSERTION_NS, DSIG_NS, PROTOCOL_NS};

#[derive(Debug, Default)]
pub struct Inspected {
    pub destination: Option<String>,
    pub in_response_to: Option<String>,
    /// InResponseTo of every SubjectConfirmationData.
    pub confirmation_in_response_to: Vec<String>,
    pub response_signed: bool,
    pub assertion_signed: bool,
    /// base64 DER of every `ds:X509Certificate` inside a `ds:Signature`.
    pub embedded_certs: Vec<String>,
    pub encrypted: bool,
    pub assertions: usize,
    pub issuer: Option<String>,
    /// Every samlp:StatusCode Value, outermost first.
    pub status_codes: Vec<String>,
    /// Algorithm of every ds:SignatureMethod and ds:DigestMethod.
    pub algorithms: Vec<String>,
}

pub fn inspect(xml: &str) -> Result<Inspected, String> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut out = Inspected::default();
    // (namespace, local name) of the open elements
    let mut stack: Vec<(String, String)> = Vec::new();
    let mut saw_root = false;
    loop {
        let pos = reader.buffer_position();
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("the SAML response is not well-formed XML (byte {pos}): {e}"))?;
        let ns = match resolved {
            ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
            _ => String::new(),
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if !saw_root {
                    saw_root = true;
                    if local != "Response" || ns != PROTOCOL_NS {
                        return Err(format!(
                            "the posted document is a <{local}> in namespace {ns:?}, not a SAML 2.0 Response"
                        ));
                    }
                } else if stack.is_empty() {
                    return Err("the SAML response has more than one root element".into());
                }
                let attr = |name: &str| -> Result<Option<String>, String> {
                    for a in e.attributes() {
                        let a =
                            a.map_err(|err| format!("bad XML attribute in <{local}>: {err}"))?;
                        if a.key.as_ref() == name.as_bytes() {
                            let v = a.unescape_value().map_err(|err| {
                                format!("bad XML attribute {name} in <{local}>: {err}")
                            })?;
                            return Ok(Some(v.into_owned()));
                        }
                    }
                    Ok(None)
                };
                let parent = stack.last().map(|(_, l)| l.as_str()).unwrap_or("");
                match (ns.as_str(), local.as_str()) {
                    (PROTOCOL_NS, "Response") if stack.is_empty() => {
                        out.destination = attr("Destination")?;
                        out.in_response_to = attr("InResponseTo")?;
                    }
                    (ASSERTION_NS, "Assertion") => out.assertions += 1,
                    (PROTOCOL_NS, "StatusCode") => {
                        if let Some(v) = attr("Value")? {
                            out.status_codes.push(v);
                        }
                    }
                    (ASSERTION_NS, "EncryptedAssertion" | "EncryptedID" | "EncryptedAttribute") => {
                        out.encrypted = true
                    }
                    (ASSERTION_NS, "SubjectConfirmationData") => {
                        if let Some(v) = attr("InResponseTo")? {
                            out.confirmation_in_response_to.push(v);
                        }
                    }
                    (DSIG_NS, "SignatureMethod" | "DigestMethod") => {
                        if let Some(a) = attr("Algorithm")? {
                            out.algorithms.push(a);
                        }
                    }
                    (DSIG_NS, "Signature") => match parent {
                        "Response" if stack.len() == 1 => out.response_signed = true,
                        "Assertion" => out.assertion_signed = true,
                        _ => {}
                    },
                    _ => {}
                }
                // Validate every attribute value (bare `&` and unknown entities are errors).
                for a in e.attributes() {
                    let a = a.map_err(|err| format!("bad XML attribute in <{local}>: {err}"))?;
                    a.unescape_value()
                        .map_err(|err| format!("bad XML attribute value in <{local}>: {err}"))?;
                }
                if matches!(event, Event::Start(_)) {
                    stack.push((ns, local));
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| {
                    format!("the SAML response is not well-formed XML (byte {pos}): {e}")
                })?;
                let text = text.trim();
                let in_sig = stack.iter().any(|(n, l)| n == DSIG_NS && l == "Signature");
                match stack.last() {
                    Some((n, l)) if n == DSIG_NS && l == "X509Certificate" && in_sig => {
                        out.embedded_certs.push(text.split_whitespace().collect());
                    }
                    Some((n, l)) if n == ASSERTION_NS && l == "Issuer" && out.issuer.is_none() => {
                        out.issuer = Some(text.to_string());
                    }
                    _ => {}
                }
            }
            Event::DocType(_) => {
                return Err("the SAML response carries a DOCTYPE, which is refused".into());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err("the SAML response is empty".into());
    }
    if !stack.is_empty() {
        return Err("the SAML response ends before its elements are closed".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bare_ampersand_and_other_roots() {
        let bad = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><x>a & b</x></samlp:Response>"#;
        assert!(inspect(bad).unwrap_err().contains("not well-formed"));
        let other = r#"<foo xmlns="urn:x"/>"#;
        assert!(
            inspect(other)
                .unwrap_err()
                .contains("not a SAML 2.0 Response")
        );
    }

    #[test]
    fn collects_destination_signatures_and_encryption() {
        let xml = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Destination="http://sp/acs?connection=org-1&amp;x=1" InResponseTo="_r1">
<saml:Issuer>idp</saml:Issuer>
<saml:Assertion><ds:Signature><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AB
CD</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>
<saml:Subject><saml:SubjectConfirmation><saml:SubjectConfirmationData InResponseTo="_r1"/></saml:SubjectConfirmation></saml:Subject></saml:Assertion>
<saml:EncryptedAssertion/></samlp:Response>"#;
        let i = inspect(xml).unwrap();
        assert_eq!(
            i.destination.as_deref(),
            Some("http://sp/acs?connection=org-1&x=1")
        );
        assert_eq!(i.in_response_to.as_deref(), Some("_r1"));
        assert!(i.assertion_signed && !i.response_signed && i.encrypted);
        assert_eq!(i.embedded_certs, vec!["ABCD".to_string()]);
        assert_eq!(i.confirmation_in_response_to, vec!["_r1".to_string()]);
        assert_eq!(i.issuer.as_deref(), Some("idp"));
    }
}
