//! Single logout messages: the LogoutRequest the IdP sends for a session it ends, the
//! LogoutResponse it answers an SP's LogoutRequest with, both shaped by the tenant's
//! `saml.logout` forge; their two bindings (an enveloped signature for HTTP-POST, a query
//! signature for HTTP-Redirect); and reading the logout messages an SP sends. The handlers
//! are in `slo.rs`.

use super::response::STATUS_SUCCESS;
use super::sign::Split;
use super::xml::{CanonWriter, NS_SAML, NS_SAMLP};
use crate::clock::rfc3339;
use crate::error::{Error, Result};
use crate::keys::{HashAlg, SigningKey, TenantKeys};
use crate::tenant::{SamlSession, random_id};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use proto::slo::{LogoutForge, LogoutSignature, SloBinding};
use quick_xml::Reader;
use quick_xml::events::Event;
use std::io::Write as _;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

/// Everything a LogoutRequest says, decided before writing.
#[derive(Debug, Clone)]
pub struct RequestParams {
    pub id: String,
    pub version: String,
    pub issue_instant: OffsetDateTime,
    pub not_on_or_after: OffsetDateTime,
    pub destination: String,
    pub issuer: String,
    pub session: SamlSession,
}

/// Everything a LogoutResponse says.
#[derive(Debug, Clone)]
pub struct ResponseParams {
    pub id: String,
    pub version: String,
    pub issue_instant: OffsetDateTime,
    pub destination: String,
    pub in_response_to: Option<String>,
    pub issuer: String,
    pub status: String,
}

impl RequestParams {
    /// The genuine request for `session`, then what the forge changes.
    pub fn new(
        issuer: &str,
        destination: &str,
        now: OffsetDateTime,
        session: &SamlSession,
        forge: &LogoutForge,
    ) -> Self {
        let mut session = session.clone();
        if let Some(n) = &forge.name_id {
            session.name_id = n.clone();
        }
        if let Some(s) = &forge.session_index {
            session.session_index = s.clone();
        }
        let after = Duration::seconds(forge.not_on_or_after_seconds.unwrap_or(300));
        Self {
            id: forge.id.clone().unwrap_or_else(|| random_id("_lr")),
            version: forge.version.clone().unwrap_or_else(|| "2.0".into()),
            issue_instant: now,
            not_on_or_after: now.saturating_add(after),
            destination: destination.to_string(),
            issuer: forge.issuer.clone().unwrap_or_else(|| issuer.to_string()),
            session,
        }
    }
}

impl ResponseParams {
    /// The genuine answer to the SP's request `in_response_to`, then what the forge changes.
    pub fn new(
        issuer: &str,
        destination: &str,
        now: OffsetDateTime,
        in_response_to: Option<&str>,
        forge: &LogoutForge,
    ) -> Self {
        Self {
            id: forge.id.clone().unwrap_or_else(|| random_id("_ls")),
            version: forge.version.clone().unwrap_or_else(|| "2.0".into()),
            issue_instant: now,
            destination: destination.to_string(),
            in_response_to: forge
                .in_response_to
                .clone()
                .or_else(|| in_response_to.map(str::to_string)),
            issuer: forge.issuer.clone().unwrap_or_else(|| issuer.to_string()),
            status: forge
                .status
                .clone()
                .unwrap_or_else(|| STATUS_SUCCESS.to_string()),
        }
    }
}

fn issuer(w: &mut CanonWriter, issuer: &str) {
    w.leaf("saml:Issuer", &[("saml", NS_SAML)], &[], issuer);
}

/// The LogoutRequest in two parts around its signature's place (after Issuer).
fn request_xml(p: &RequestParams) -> Split {
    let mut w = CanonWriter::new();
    let instant = rfc3339(p.issue_instant);
    let after = rfc3339(p.not_on_or_after);
    w.start(
        "samlp:LogoutRequest",
        &[("samlp", NS_SAMLP)],
        &[
            ("Destination", &p.destination),
            ("ID", &p.id),
            ("IssueInstant", &instant),
            ("NotOnOrAfter", &after),
            ("Version", &p.version),
        ],
    );
    issuer(&mut w, &p.issuer);
    let head = w.into_bytes();
    let mut w = CanonWriter::new();
    w.leaf(
        "saml:NameID",
        &[("saml", NS_SAML)],
        &[("Format", &p.session.name_id_format)],
        &p.session.name_id,
    );
    w.leaf("samlp:SessionIndex", &[], &[], &p.session.session_index);
    w.end("samlp:LogoutRequest");
    Split {
        head,
        tail: w.into_bytes(),
    }
}

fn response_xml(p: &ResponseParams) -> Split {
    let mut w = CanonWriter::new();
    let instant = rfc3339(p.issue_instant);
    let mut attrs: Vec<(&str, &str)> = vec![("Destination", &p.destination), ("ID", &p.id)];
    if let Some(irt) = &p.in_response_to {
        attrs.push(("InResponseTo", irt));
    }
    attrs.push(("IssueInstant", &instant));
    attrs.push(("Version", &p.version));
    w.start("samlp:LogoutResponse", &[("samlp", NS_SAMLP)], &attrs);
    issuer(&mut w, &p.issuer);
    let head = w.into_bytes();
    let mut w = CanonWriter::new();
    w.start("samlp:Status", &[], &[]);
    w.leaf("samlp:StatusCode", &[], &[("Value", &p.status)], "");
    w.end("samlp:Status");
    w.end("samlp:LogoutResponse");
    Split {
        head,
        tail: w.into_bytes(),
    }
}

/// Which key signs, per the forge (None: unsigned).
fn signing_key(keys: &TenantKeys, forge: &LogoutForge) -> Result<Option<Arc<SigningKey>>> {
    Ok(match forge.signature {
        LogoutSignature::None => None,
        LogoutSignature::AttackerKey => Some(keys.unknown()?),
        LogoutSignature::Genuine | LogoutSignature::Bad => Some(keys.primary.clone()),
    })
}

/// A signature value that no longer verifies: one base64 character changed (still base64,
/// same length), so the SP must check the value, not only that one is there.
fn spoil(b64: &str) -> String {
    let mut chars: Vec<char> = b64.chars().collect();
    if let Some(c) = chars.get_mut(b64.len() / 2) {
        *c = if *c == 'A' { 'B' } else { 'A' };
    }
    chars.into_iter().collect()
}

/// How a message reaches the SP: the form to post, or the URL to redirect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Post {
        url: String,
        field: &'static str,
        value: String,
        relay_state: Option<String>,
    },
    Redirect {
        url: String,
    },
}

/// A finished message: how it goes, and its XML for the exchange log.
#[derive(Debug, Clone)]
pub struct Message {
    pub outgoing: Outgoing,
    pub xml: String,
}

/// `SAMLRequest` or `SAMLResponse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Response,
}

impl Kind {
    pub fn field(self) -> &'static str {
        match self {
            Kind::Request => "SAMLRequest",
            Kind::Response => "SAMLResponse",
        }
    }
}

fn utf8(bytes: Vec<u8>) -> String {
    // Every part was written from &str.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Signs (or not) and encodes one message for its binding.
#[allow(clippy::too_many_arguments)]
fn finish(
    split: Split,
    id: &str,
    kind: Kind,
    to: &str,
    relay_state: Option<&str>,
    binding: SloBinding,
    keys: &TenantKeys,
    forge: &LogoutForge,
) -> Result<Message> {
    let key = signing_key(keys, forge)?;
    match binding {
        SloBinding::Post => {
            let xml = match &key {
                Some(k) => utf8(split.signed(k, HashAlg::Sha256, id)?),
                None => utf8(split.unsigned()),
            };
            let xml = if forge.signature == LogoutSignature::Bad {
                spoil_enveloped(&xml)
            } else {
                xml
            };
            Ok(Message {
                outgoing: Outgoing::Post {
                    url: to.to_string(),
                    field: kind.field(),
                    value: B64.encode(xml.as_bytes()),
                    relay_state: relay_state.map(str::to_string),
                },
                xml,
            })
        }
        SloBinding::Redirect => {
            // The HTTP-Redirect binding signs the query, not the XML (SAML bindings 3.4.4.1).
            let xml = utf8(split.unsigned());
            let mut deflater =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            deflater
                .write_all(xml.as_bytes())
                .and_then(|_| deflater.try_finish())
                .map_err(|e| Error::Config(format!("deflate failed: {e}")))?;
            let deflated = deflater
                .finish()
                .map_err(|e| Error::Config(format!("deflate failed: {e}")))?;
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let mut query = format!("{}={}", kind.field(), enc(&B64.encode(deflated)));
            if let Some(rs) = relay_state {
                query.push_str(&format!("&RelayState={}", enc(rs)));
            }
            if let Some(k) = &key {
                query.push_str(&format!("&SigAlg={}", enc(RSA_SHA256)));
                let mut sig = B64.encode(k.sign(query.as_bytes(), HashAlg::Sha256)?);
                if forge.signature == LogoutSignature::Bad {
                    sig = spoil(&sig);
                }
                query.push_str(&format!("&Signature={}", enc(&sig)));
            }
            let sep = if to.contains('?') { '&' } else { '?' };
            Ok(Message {
                outgoing: Outgoing::Redirect {
                    url: format!("{to}{sep}{query}"),
                },
                xml,
            })
        }
    }
}

fn spoil_enveloped(xml: &str) -> String {
    const OPEN: &str = "<ds:SignatureValue>";
    let Some(start) = xml.find(OPEN).map(|i| i + OPEN.len()) else {
        return xml.to_string();
    };
    let Some(len) = xml[start..].find('<') else {
        return xml.to_string();
    };
    format!(
        "{}{}{}",
        &xml[..start],
        spoil(&xml[start..start + len]),
        &xml[start + len..]
    )
}

/// The IdP's LogoutRequest for a session, signed and encoded as the forge and binding say.
pub fn request(
    p: &RequestParams,
    binding: SloBinding,
    keys: &TenantKeys,
    forge: &LogoutForge,
) -> Result<Message> {
    finish(
        request_xml(p),
        &p.id,
        Kind::Request,
        &p.destination,
        None,
        binding,
        keys,
        forge,
    )
}

/// The IdP's LogoutResponse to an SP's LogoutRequest.
pub fn response(
    p: &ResponseParams,
    relay_state: Option<&str>,
    binding: SloBinding,
    keys: &TenantKeys,
    forge: &LogoutForge,
) -> Result<Message> {
    finish(
        response_xml(p),
        &p.id,
        Kind::Response,
        &p.destination,
        relay_state,
        binding,
        keys,
        forge,
    )
}

/// What the IdP reads of a logout message an SP sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Incoming {
    /// `LogoutRequest` or `LogoutResponse` (the root's local name).
    pub root: String,
    pub id: Option<String>,
    pub in_response_to: Option<String>,
    pub issuer: Option<String>,
    pub name_id: Option<String>,
    pub status: Option<String>,
    pub xml: String,
}

/// Base64 (and, for HTTP-Redirect, inflate) a `SAMLRequest`/`SAMLResponse` value; each error
/// names the step that failed.
pub fn decode(value: &str, field: &str, redirect: bool) -> Result<Incoming> {
    read(&super::request::decode_text(value, field, redirect)?, field)
}

fn local(name: &[u8]) -> String {
    let l = match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    };
    String::from_utf8_lossy(l).into_owned()
}

/// Reads the fields the IdP acts on; other content is kept only in `xml`.
pub fn read(xml: &str, field: &str) -> Result<Incoming> {
    let mut reader = Reader::from_str(xml);
    let mut out = Incoming {
        xml: xml.to_string(),
        ..Default::default()
    };
    let mut depth = 0usize;
    let mut text_of: Option<&'static str> = None;
    loop {
        let event = reader.read_event().map_err(|e| {
            Error::BadRequest(format!(
                "{field} is not XML: {e} (at byte {})",
                reader.error_position()
            ))
        })?;
        match event {
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
                    out.root = name.clone();
                    out.id = attr("ID");
                    out.in_response_to = attr("InResponseTo");
                } else if name == "StatusCode" && out.status.is_none() {
                    out.status = attr("Value");
                }
                text_of = match (depth, name.as_str()) {
                    (1, "Issuer") => Some("issuer"),
                    (1, "NameID") => Some("name_id"),
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
                        .map(|v| v.trim().to_string())
                        .unwrap_or_default();
                    match which {
                        "issuer" => out.issuer = Some(v),
                        _ => out.name_id = Some(v),
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
    if out.root.is_empty() {
        return Err(Error::BadRequest(format!("{field} is empty")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> SamlSession {
        SamlSession {
            name_id: "sam@acme.test".into(),
            name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
            session_index: "_s1".into(),
        }
    }

    #[test]
    fn forge_fields_replace_the_genuine_values() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let genuine = RequestParams::new(
            "idp",
            "https://sp/slo",
            now,
            &session(),
            &LogoutForge::default(),
        );
        assert_eq!(genuine.version, "2.0");
        assert_eq!(genuine.issuer, "idp");
        assert!(genuine.not_on_or_after > now);
        let forge = LogoutForge {
            not_on_or_after_seconds: Some(-3600),
            version: Some("1.1".into()),
            issuer: Some("https://evil.invalid".into()),
            name_id: Some("victim@acme.test".into()),
            ..Default::default()
        };
        let p = RequestParams::new("idp", "https://sp/slo", now, &session(), &forge);
        assert!(p.not_on_or_after < now);
        assert_eq!(p.version, "1.1");
        assert_eq!(p.issuer, "https://evil.invalid");
        assert_eq!(p.session.name_id, "victim@acme.test");
        assert_eq!(p.session.session_index, "_s1");
        let xml = utf8(request_xml(&p).unsigned());
        let read = read(&xml, "SAMLRequest").unwrap();
        assert_eq!(read.root, "LogoutRequest");
        assert_eq!(read.issuer.as_deref(), Some("https://evil.invalid"));
        assert_eq!(read.name_id.as_deref(), Some("victim@acme.test"));
        assert!(xml.contains("Version=\"1.1\""), "{xml}");
    }

    #[test]
    fn response_carries_in_response_to_and_status() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let forge = LogoutForge {
            status: Some("urn:oasis:names:tc:SAML:2.0:status:Requester".into()),
            ..Default::default()
        };
        let p = ResponseParams::new("idp", "https://sp/slo", now, Some("_req1"), &forge);
        let xml = utf8(response_xml(&p).unsigned());
        let r = read(&xml, "SAMLResponse").unwrap();
        assert_eq!(r.root, "LogoutResponse");
        assert_eq!(r.in_response_to.as_deref(), Some("_req1"));
        assert_eq!(
            r.status.as_deref(),
            Some("urn:oasis:names:tc:SAML:2.0:status:Requester")
        );
    }

    #[test]
    fn spoiled_signature_differs_in_one_character() {
        let s = spoil("QUJDREVG");
        assert_eq!(s.len(), 8);
        assert_ne!(s, "QUJDREVG");
        let xml = "<a><ds:SignatureValue>QUJDREVG</ds:SignatureValue></a>";
        assert_ne!(spoil_enveloped(xml), xml);
    }
}
