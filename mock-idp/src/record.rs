//! The exchange log: every request and response a tenant saw, decoded for humans and for
//! support evidence. Nothing secret is ever put here: SAML XML carries no keys, login posts
//! are logged without the password, and JWT signatures are replaced by the OIDC module.

use crate::fault::{Fault, Protocol};
use quick_xml::events::Event;
use quick_xml::{Reader, Writer};
use serde::Serialize;

/// At most this many exchanges per tenant are kept; older ones are dropped first.
pub const MAX_EXCHANGES: usize = 2000;

#[derive(Debug, Clone, Serialize)]
pub struct HttpInfo {
    pub method: String,
    pub path: String,
    pub status: u16,
}

#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub at: String,
    pub tenant: String,
    pub protocol: Protocol,
    /// `authn_request`, `saml_response`, `login`, `id_token`, `token_request`, ...
    pub kind: String,
    pub http: HttpInfo,
    /// Pretty XML (SAML) or a JSON object (OIDC: JWT header and claims).
    pub decoded: serde_json::Value,
    pub faults: Vec<Fault>,
    /// For a forged SAML response: the attack (name, CWE, CVE) and the signing choices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forge: Option<serde_json::Value>,
}

/// Indents XML for reading. Input that does not parse is returned as it came, because a
/// broken message is exactly what a reader of the log needs to see.
pub fn pretty_xml(xml: &str) -> String {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(event) => {
                if writer.write_event(event).is_err() {
                    return xml.to_string();
                }
            }
            Err(_) => return xml.to_string(),
        }
    }
    String::from_utf8(writer.into_inner()).unwrap_or_else(|_| xml.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_and_keeps_escapes() {
        let p = pretty_xml("<a x=\"1\"><b>tom&amp;jerry</b><c/></a>");
        assert!(p.contains("\n  <b>tom&amp;jerry</b>"), "{p}");
    }

    #[test]
    fn broken_xml_is_kept_verbatim() {
        assert_eq!(pretty_xml("<a><b></a>"), "<a><b></a>");
    }
}
