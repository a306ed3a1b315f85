//! The exchange log: every request and response a tenant saw, decoded for humans and for
//! support evidence. Nothing secret is ever put here: SAML XML carries no keys, login posts
//! are logged without the password, and JWT signatures are replaced by the OIDC module.
//! The entry's shape is the wire contract's (`proto::idp::Exchange`).

use quick_xml::events::Event;
use quick_xml::{Reader, Writer};

pub use proto::idp::{Exchange, HttpInfo};

/// At most this many exchanges per tenant are kept; older ones are dropped first.
pub const MAX_EXCHANGES: usize = 2000;

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
