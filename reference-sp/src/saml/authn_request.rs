//! SP-initiated sign-in: an AuthnRequest written with quick-xml (escaped), sent with the
//! HTTP-Redirect binding (DEFLATE, base64, query string).
use super::{ASSERTION_NS, EMAIL_FORMAT, POST_BINDING, PROTOCOL_NS, xml_err};
use base64::Engine as _;
use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use std::io::Write as _;

pub struct AuthnRequest<'a> {
    pub id: &'a str,
    pub issue_instant: &'a str,
    pub destination: &'a str,
    pub acs_url: &'a str,
    pub issuer: &'a str,
}

impl AuthnRequest<'_> {
    pub fn to_xml(&self) -> Result<String, String> {
        let mut w = Writer::new(Vec::new());
        let root = BytesStart::new("samlp:AuthnRequest").with_attributes([
            ("xmlns:samlp", PROTOCOL_NS),
            ("xmlns:saml", ASSERTION_NS),
            ("ID", self.id),
            ("Version", "2.0"),
            ("IssueInstant", self.issue_instant),
            ("Destination", self.destination),
            ("AssertionConsumerServiceURL", self.acs_url),
            ("ProtocolBinding", POST_BINDING),
        ]);
        w.write_event(Event::Start(root)).map_err(xml_err)?;
        w.write_event(Event::Start(BytesStart::new("saml:Issuer")))
            .map_err(xml_err)?;
        w.write_event(Event::Text(BytesText::new(self.issuer)))
            .map_err(xml_err)?;
        w.write_event(Event::End(BytesEnd::new("saml:Issuer")))
            .map_err(xml_err)?;
        let policy = BytesStart::new("samlp:NameIDPolicy")
            .with_attributes([("Format", EMAIL_FORMAT), ("AllowCreate", "true")]);
        w.write_event(Event::Empty(policy)).map_err(xml_err)?;
        w.write_event(Event::End(BytesEnd::new("samlp:AuthnRequest")))
            .map_err(xml_err)?;
        String::from_utf8(w.into_inner()).map_err(xml_err)
    }

    /// The URL that carries this request to the IdP (HTTP-Redirect binding).
    pub fn redirect_url(&self, relay_state: &str) -> Result<url::Url, String> {
        let xml = self.to_xml()?;
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(xml.as_bytes()).map_err(xml_err)?;
        let deflated = enc.finish().map_err(xml_err)?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(deflated);
        let mut url = url::Url::parse(self.destination).map_err(|e| {
            format!(
                "the configured SSO URL {:?} is not a URL: {e}",
                self.destination
            )
        })?;
        url.query_pairs_mut()
            .append_pair("SAMLRequest", &encoded)
            .append_pair("RelayState", relay_state);
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_values_and_round_trips_through_deflate() {
        let req = AuthnRequest {
            id: "_abc",
            issue_instant: "2026-01-01T00:00:00Z",
            destination: "http://idp.test/sso?a=1&b=2",
            acs_url: "http://sp.test/acs?connection=org-1&x=<y>",
            issuer: "urn:reference-sp:org-1",
        };
        let xml = req.to_xml().unwrap();
        assert!(xml.contains(
            "AssertionConsumerServiceURL=\"http://sp.test/acs?connection=org-1&amp;x=&lt;y&gt;\""
        ));
        let url = req.redirect_url("rs").unwrap();
        let encoded = url
            .query_pairs()
            .find(|(k, _)| k == "SAMLRequest")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        let mut out = String::new();
        use std::io::Read as _;
        flate2::read::DeflateDecoder::new(&raw[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, xml);
        assert_eq!(url.query_pairs().find(|(k, _)| k == "a").unwrap().1, "1");
    }
}
