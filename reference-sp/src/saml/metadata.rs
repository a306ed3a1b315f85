//! The SP's SAML metadata (entity ID, ACS, signing certificate), written with quick-xml.
use super::{DSIG_NS, EMAIL_FORMAT, METADATA_NS, POST_BINDING, PROTOCOL_NS, xml_err};
use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};

pub fn sp_metadata(entity_id: &str, acs_url: &str, cert_base64: &str) -> Result<String, String> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let mut ev = |e: Event<'_>| w.write_event(e).map_err(xml_err);
    ev(Event::Start(
        BytesStart::new("md:EntityDescriptor").with_attributes([
            ("xmlns:md", METADATA_NS),
            ("xmlns:ds", DSIG_NS),
            ("entityID", entity_id),
        ]),
    ))?;
    ev(Event::Start(
        BytesStart::new("md:SPSSODescriptor").with_attributes([
            ("AuthnRequestsSigned", "false"),
            ("WantAssertionsSigned", "true"),
            ("protocolSupportEnumeration", PROTOCOL_NS),
        ]),
    ))?;
    ev(Event::Start(
        BytesStart::new("md:KeyDescriptor").with_attributes([("use", "signing")]),
    ))?;
    for name in ["ds:KeyInfo", "ds:X509Data", "ds:X509Certificate"] {
        ev(Event::Start(BytesStart::new(name)))?;
    }
    ev(Event::Text(BytesText::new(cert_base64)))?;
    for name in [
        "ds:X509Certificate",
        "ds:X509Data",
        "ds:KeyInfo",
        "md:KeyDescriptor",
    ] {
        ev(Event::End(BytesEnd::new(name)))?;
    }
    ev(Event::Start(BytesStart::new("md:NameIDFormat")))?;
    ev(Event::Text(BytesText::new(EMAIL_FORMAT)))?;
    ev(Event::End(BytesEnd::new("md:NameIDFormat")))?;
    ev(Event::Empty(
        BytesStart::new("md:AssertionConsumerService").with_attributes([
            ("Binding", POST_BINDING),
            ("Location", acs_url),
            ("index", "0"),
            ("isDefault", "true"),
        ]),
    ))?;
    ev(Event::End(BytesEnd::new("md:SPSSODescriptor")))?;
    ev(Event::End(BytesEnd::new("md:EntityDescriptor")))?;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&String::from_utf8(w.into_inner()).map_err(xml_err)?);
    Ok(out)
}
