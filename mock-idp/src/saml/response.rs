//! Builds a SAML Response (and its Assertion) from typed parameters, signs the parts the
//! tenant signs and encrypts the assertion when asked. Faults are applied before this
//! point, by choosing the parameters (see `issue.rs`).

use super::encrypt::{self, Cipher, Transport, Wrapper};
use super::sign::Split;
use super::xml::{CanonWriter, NS_SAML, NS_SAMLP};
use crate::clock::rfc3339;
use crate::error::Result;
use crate::keys::{HashAlg, SigningKey};
use openssl::x509::X509;
use std::sync::Arc;
use time::OffsetDateTime;

pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
pub const STATUS_RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
pub const STATUS_AUTHN_FAILED: &str = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const PPT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    pub name_format: &'static str,
    pub values: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct NameId {
    pub value: String,
    pub format: &'static str,
}

#[derive(Debug, Clone)]
pub struct Status {
    pub code: &'static str,
    pub sub_code: Option<&'static str>,
}

impl Status {
    pub fn success() -> Self {
        Self {
            code: STATUS_SUCCESS,
            sub_code: None,
        }
    }

    pub fn is_success(&self) -> bool {
        self.code == STATUS_SUCCESS
    }
}

/// Everything the XML says, decided before writing.
#[derive(Debug, Clone)]
pub struct ResponseParams {
    pub response_id: String,
    pub assertion_id: String,
    pub issuer: String,
    pub issuer_format: Option<&'static str>,
    pub destination: Option<String>,
    pub in_response_to: Option<String>,
    pub issue_instant: OffsetDateTime,
    pub status: Status,
    pub nameid: Option<NameId>,
    pub recipient: String,
    pub audience: String,
    pub not_before: OffsetDateTime,
    pub not_on_or_after: OffsetDateTime,
    pub authn_instant: OffsetDateTime,
    pub session_index: String,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug, Clone)]
pub struct Signing {
    pub key: Arc<SigningKey>,
    pub hash: HashAlg,
    pub assertion: bool,
    pub response: bool,
}

#[derive(Debug, Clone)]
pub struct Encryption {
    pub cipher: Cipher,
    pub transport: Transport,
    pub recipient_cert: X509,
}

/// Output options beyond the parameters.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    pub signing: Option<Signing>,
    pub encryption: Option<Encryption>,
    /// Replace the NameID value after signing (fault `tampered`; no effect once encrypted).
    pub tamper_nameid: Option<String>,
}

fn issuer(w: &mut CanonWriter, p: &ResponseParams, declare_ns: bool) {
    let ns: &[(&str, &str)] = if declare_ns {
        &[("saml", NS_SAML)]
    } else {
        &[]
    };
    match p.issuer_format {
        Some(f) => w.leaf("saml:Issuer", ns, &[("Format", f)], &p.issuer),
        None => w.leaf("saml:Issuer", ns, &[], &p.issuer),
    }
}

fn assertion(p: &ResponseParams) -> Split {
    let mut w = CanonWriter::new();
    let instant = rfc3339(p.issue_instant);
    w.start(
        "saml:Assertion",
        &[("saml", NS_SAML)],
        &[
            ("ID", &p.assertion_id),
            ("IssueInstant", &instant),
            ("Version", "2.0"),
        ],
    );
    issuer(&mut w, p, false);
    let head = w.into_bytes();

    let mut w = CanonWriter::new();
    w.start("saml:Subject", &[], &[]);
    if let Some(n) = &p.nameid {
        w.leaf("saml:NameID", &[], &[("Format", n.format)], &n.value);
    }
    w.start("saml:SubjectConfirmation", &[], &[("Method", BEARER)]);
    let not_on_or_after = rfc3339(p.not_on_or_after);
    let mut scd: Vec<(&str, &str)> = vec![
        ("NotOnOrAfter", &not_on_or_after),
        ("Recipient", &p.recipient),
    ];
    if let Some(irt) = &p.in_response_to {
        scd.push(("InResponseTo", irt));
    }
    w.leaf("saml:SubjectConfirmationData", &[], &scd, "");
    w.end("saml:SubjectConfirmation");
    w.end("saml:Subject");
    let not_before = rfc3339(p.not_before);
    w.start(
        "saml:Conditions",
        &[],
        &[
            ("NotBefore", &not_before),
            ("NotOnOrAfter", &not_on_or_after),
        ],
    );
    w.start("saml:AudienceRestriction", &[], &[]);
    w.leaf("saml:Audience", &[], &[], &p.audience);
    w.end("saml:AudienceRestriction");
    w.end("saml:Conditions");
    let authn_instant = rfc3339(p.authn_instant);
    w.start(
        "saml:AuthnStatement",
        &[],
        &[
            ("AuthnInstant", &authn_instant),
            ("SessionIndex", &p.session_index),
        ],
    );
    w.start("saml:AuthnContext", &[], &[]);
    w.leaf("saml:AuthnContextClassRef", &[], &[], PPT);
    w.end("saml:AuthnContext");
    w.end("saml:AuthnStatement");
    if !p.attributes.is_empty() {
        w.start("saml:AttributeStatement", &[], &[]);
        for a in &p.attributes {
            w.start(
                "saml:Attribute",
                &[],
                &[("Name", &a.name), ("NameFormat", a.name_format)],
            );
            for v in &a.values {
                w.leaf("saml:AttributeValue", &[], &[], v);
            }
            w.end("saml:Attribute");
        }
        w.end("saml:AttributeStatement");
    }
    w.end("saml:Assertion");
    Split {
        head,
        tail: w.into_bytes(),
    }
}

fn signed_assertion(p: &ResponseParams, shape: &Shape) -> Result<Vec<u8>> {
    match shape.signing.as_ref().filter(|s| s.assertion) {
        Some(s) => assertion(p).signed(&s.key, s.hash, &p.assertion_id),
        None => Ok(assertion(p).unsigned()),
    }
}

/// The Response document (no XML declaration), ready to be base64-encoded.
pub fn build(p: &ResponseParams, shape: &Shape) -> Result<String> {
    let body = if p.status.is_success() {
        let a = signed_assertion(p, shape)?;
        match &shape.encryption {
            Some(e) => Some(encrypt::encrypted_element(
                Wrapper::Assertion,
                &a,
                e.cipher,
                e.transport,
                &e.recipient_cert,
            )?),
            None => Some(a),
        }
    } else {
        None
    };

    let mut w = CanonWriter::new();
    let instant = rfc3339(p.issue_instant);
    let mut attrs: Vec<(&str, &str)> = vec![
        ("ID", &p.response_id),
        ("IssueInstant", &instant),
        ("Version", "2.0"),
    ];
    if let Some(d) = &p.destination {
        attrs.push(("Destination", d));
    }
    if let Some(irt) = &p.in_response_to {
        attrs.push(("InResponseTo", irt));
    }
    w.start("samlp:Response", &[("samlp", NS_SAMLP)], &attrs);
    issuer(&mut w, p, true);
    let head = w.into_bytes();

    let mut w = CanonWriter::new();
    w.start("samlp:Status", &[], &[]);
    w.start("samlp:StatusCode", &[], &[("Value", p.status.code)]);
    if let Some(sub) = p.status.sub_code {
        w.leaf("samlp:StatusCode", &[], &[("Value", sub)], "");
    }
    w.end("samlp:StatusCode");
    w.end("samlp:Status");
    if let Some(b) = &body {
        w.raw(b);
    }
    w.end("samlp:Response");
    let split = Split {
        head,
        tail: w.into_bytes(),
    };
    let bytes = match shape.signing.as_ref().filter(|s| s.response) {
        Some(s) => split.signed(&s.key, s.hash, &p.response_id)?,
        None => split.unsigned(),
    };
    // Every part was written from &str, so the bytes are UTF-8 (and are not copied again).
    let xml = String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok(match (&shape.tamper_nameid, &p.nameid) {
        (Some(new), Some(old)) => tamper(&xml, &old.value, new),
        _ => xml,
    })
}

/// Changes the NameID text of a finished (signed) document: the point of the `tampered`
/// fault is a byte edit after signing, so this is deliberately not a rebuild.
fn tamper(xml: &str, old: &str, new: &str) -> String {
    use super::xml::escape_text;
    let from = format!(">{}</saml:NameID>", escape_text(old));
    let to = format!(">{}</saml:NameID>", escape_text(new));
    xml.replacen(&from, &to, 1)
}
