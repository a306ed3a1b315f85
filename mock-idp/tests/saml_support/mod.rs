//! Independent checks used by the SAML tests: the `xmlsec1` command line (not our code),
//! samael's SP-side parser, and a small quick-xml reader for the fields a test looks at.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use quick_xml::Reader;
use quick_xml::events::Event;
use std::collections::HashMap;
use std::io::Write as _;
use std::process::Command;

pub const ASSERTION_ID_ATTR: &str = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion";
pub const RESPONSE_ID_ATTR: &str = "urn:oasis:names:tc:SAML:2.0:protocol:Response";

fn temp(content: &str, suffix: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    f.write_all(content.as_bytes()).unwrap();
    f
}

/// `xmlsec1 --verify --pubkey-cert-pem cert.pem --id-attr:ID ...`: true when it says OK.
pub fn xmlsec_verify(xml: &str, cert_pem: &str) -> bool {
    let doc = temp(xml, ".xml");
    let cert = temp(cert_pem, ".pem");
    let out = Command::new("xmlsec1")
        .arg("--verify")
        .arg("--pubkey-cert-pem")
        .arg(cert.path())
        .arg("--id-attr:ID")
        .arg(ASSERTION_ID_ATTR)
        .arg("--id-attr:ID")
        .arg(RESPONSE_ID_ATTR)
        .arg(doc.path())
        .output()
        .expect("xmlsec1 must be installed");
    out.status.success()
}

/// `xmlsec1 --verify` with the ID attribute of the given `namespace:Element`s registered.
pub fn xmlsec_verify_ids(xml: &str, cert_pem: &str, id_elements: &[&str]) -> bool {
    let doc = temp(xml, ".xml");
    let cert = temp(cert_pem, ".pem");
    let mut cmd = Command::new("xmlsec1");
    cmd.arg("--verify")
        .arg("--pubkey-cert-pem")
        .arg(cert.path());
    for e in id_elements {
        cmd.arg("--id-attr:ID").arg(e);
    }
    let out = cmd
        .arg(doc.path())
        .output()
        .expect("xmlsec1 must be installed");
    out.status.success()
}

/// `xmlsec1 --decrypt --privkey-pem sp-key.pem`: the decrypted document.
pub fn xmlsec_decrypt(xml: &str, key_pem: &str) -> Result<String, String> {
    let doc = temp(xml, ".xml");
    let key = temp(key_pem, ".pem");
    let out = Command::new("xmlsec1")
        .arg("--decrypt")
        .arg("--privkey-pem")
        .arg(key.path())
        .arg(doc.path())
        .output()
        .expect("xmlsec1 must be installed");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// One element as a test sees it: local name, attributes, direct text.
#[derive(Debug, Clone)]
pub struct El {
    pub name: String,
    pub attrs: HashMap<String, String>,
    pub text: String,
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name).into_owned();
    match s.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => s,
    }
}

/// Every element in document order (attributes keyed by local name).
pub fn elements(xml: &str) -> Vec<El> {
    let mut reader = Reader::from_str(xml);
    let mut out: Vec<El> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                out.push(el(&e));
                stack.push(out.len() - 1);
            }
            Event::Empty(e) => out.push(el(&e)),
            Event::Text(t) => {
                if let Some(&i) = stack.last() {
                    out[i].text.push_str(&t.unescape().unwrap());
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn el(e: &quick_xml::events::BytesStart<'_>) -> El {
    El {
        name: local(e.name().as_ref()),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    local(a.key.as_ref()),
                    a.unescape_value().unwrap().into_owned(),
                )
            })
            .collect(),
        text: String::new(),
    }
}

pub fn first<'a>(els: &'a [El], name: &str) -> Option<&'a El> {
    els.iter().find(|e| e.name == name)
}

pub fn all<'a>(els: &'a [El], name: &str) -> Vec<&'a El> {
    els.iter().filter(|e| e.name == name).collect()
}

/// The values of the attribute named `name`.
pub fn attribute_values(xml: &str, name: &str) -> Option<Vec<String>> {
    let els = elements(xml);
    let i = els.iter().position(|e| {
        e.name == "Attribute" && e.attrs.get("Name").map(String::as_str) == Some(name)
    })?;
    Some(
        els[i + 1..]
            .iter()
            .take_while(|e| e.name == "AttributeValue")
            .map(|e| e.text.clone())
            .collect(),
    )
}

/// samael's SP side parses (and, with IdP metadata, verifies) the response.
pub fn samael_accepts(
    xml: &str,
    idp_metadata: &str,
    audience: &str,
    acs: &str,
    request_id: Option<&str>,
) -> Result<samael::schema::Assertion, String> {
    let sp = samael::service_provider::ServiceProvider {
        entity_id: Some(audience.to_string()),
        acs_url: Some(acs.to_string()),
        idp_metadata: idp_metadata
            .parse()
            .map_err(|e| format!("metadata: {e:?}"))?,
        allow_idp_initiated: request_id.is_none(),
        ..Default::default()
    };
    let ids: Vec<&str> = request_id.into_iter().collect();
    let ids = (!ids.is_empty()).then_some(ids.as_slice());
    sp.parse_xml_response(xml, ids)
        .map_err(|e| format!("{e:?}"))
}

/// The value of a hidden input in an HTML form.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

pub fn form_action(html: &str) -> Option<String> {
    let marker = "action=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}
