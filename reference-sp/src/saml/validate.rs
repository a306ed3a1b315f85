//! Strict validation of a posted SAML response. samael verifies the signature and the
//! standard conditions; this module adds what it lacks (ARCHITECTURE.md): unsigned responses are
//! refused even if samael would accept them, the embedded certificate must be the configured
//! one, the Response's Destination is checked even when only the assertion is signed,
//! encrypted assertions are refused (ATTR-4), and the identity is read strictly (ATTR-1/2/5).
//! InResponseTo and the replay cache need the database: the ACS handler checks them.
use super::inspect::inspect;
use base64::Engine as _;
use samael::crypto::AllowedSignatureAlgorithm;
use samael::key_info::{KeyInfo, X509Data};
use samael::metadata::{EntityDescriptor, IdpSsoDescriptor, KeyDescriptor};
use samael::schema::Assertion;
use samael::service_provider::{Error as SamlError, ServiceProvider};
use std::sync::Mutex;

/// libxml and xmlsec keep global state; one verification at a time in this process.
static XMLSEC: Mutex<()> = Mutex::new(());

/// Holds the process-wide xmlsec lock (single logout verifies with xmlsec too).
pub fn xmlsec_lock() -> std::sync::MutexGuard<'static, ()> {
    XMLSEC.lock().unwrap_or_else(|p| p.into_inner())
}

/// The allowed clock skew for NotBefore / NotOnOrAfter.
pub const MAX_SKEW_SECONDS: i64 = 60;

pub struct Expected<'a> {
    pub acs_url: &'a str,
    pub entity_id: &'a str,
    pub cert_der: &'a [u8],
    /// The IdP's entity ID when the owner configured it; otherwise the response's own
    /// Issuer is used (the documented product takes only an SSO URL and a certificate).
    pub idp_entity_id: Option<&'a str>,
    /// The SP's clock (movable in test mode).
    pub now: time::OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct Identity {
    /// The IdP's stable user id (`uid` attribute), or the email when there is none.
    pub subject: String,
    pub email: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

#[derive(Debug)]
pub struct Validated {
    pub assertion_id: String,
    /// The Issuer the response was accepted from.
    pub issuer: String,
    pub in_response_to: Option<String>,
    pub identity: Identity,
    /// What a LogoutRequest for this sign-in names: the NameID and the SessionIndex.
    pub name_id: Option<String>,
    pub session_index: Option<String>,
}

#[derive(Debug)]
pub enum Rejection {
    /// ERR-6: signed by another certificate than the configured one.
    Thumbprint(String),
    /// ATTR-4: encrypted parts are not decrypted, so there is no identity.
    Encrypted,
    /// ERR-7: the IdP answered with a refusal status.
    AccessDenied(String),
    /// ATTR-1: no usable email.
    NoEmail(String),
    /// ATTR-5: several email values.
    SeveralEmails(Vec<String>),
    Invalid(String),
}

const EMAIL_ATTRIBUTES: &[&str] = &[
    "email",
    "emailaddress",
    "mail",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
    "urn:oid:0.9.2342.19200300.100.1.3",
];
/// In order of preference (the Okta example sends both `name` and `given_name`).
const GIVEN_NAME_ATTRIBUTES: &[&str] = &[
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    "given_name",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
];
const FAMILY_NAME_ATTRIBUTES: &[&str] = &[
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    "family_name",
];
const UID_ATTRIBUTE: &str = "uid";

pub fn validate(saml_response_b64: &str, exp: &Expected<'_>) -> Result<Validated, Rejection> {
    let compact: String = saml_response_b64
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| {
            Rejection::Invalid(format!("the SAMLResponse form field is not base64: {e}"))
        })?;
    let xml = String::from_utf8(bytes)
        .map_err(|_| Rejection::Invalid("the SAML response is not UTF-8 text".into()))?;
    let seen = inspect(&xml).map_err(Rejection::Invalid)?;
    if seen.encrypted {
        return Err(Rejection::Encrypted);
    }
    // An error answer carries no assertion and is often unsigned: report the IdP's status.
    let success = "urn:oasis:names:tc:SAML:2.0:status:Success";
    let failed_status = seen
        .status_codes
        .first()
        .is_some_and(|c| c.as_str() != success);
    if seen.assertions == 0 && failed_status {
        let all = seen.status_codes.join(" / ");
        let denied = seen
            .status_codes
            .iter()
            .any(|c| c.ends_with(":RequestDenied"));
        return Err(if denied {
            Rejection::AccessDenied(format!("the IdP answered with status {all}"))
        } else {
            Rejection::Invalid(format!(
                "the IdP answered with status {all} and no assertion"
            ))
        });
    }
    super::profile::check(&xml, exp.now, MAX_SKEW_SECONDS, exp.entity_id)
        .map_err(Rejection::Invalid)?;
    if !seen.response_signed && !seen.assertion_signed {
        return Err(Rejection::Invalid(
            "the SAML response is not signed: neither the Response nor the Assertion carries a signature".into(),
        ));
    }
    if let Some(weak) = seen
        .algorithms
        .iter()
        .find(|a| a.ends_with("#rsa-sha1") || a.ends_with("#sha1") || a.ends_with("#dsa-sha1"))
    {
        return Err(Rejection::Invalid(format!(
            "the response is signed with SHA-1 ({weak}); only RSA-SHA256 (or stronger) signatures with SHA-256 digests are accepted"
        )));
    }
    let configured = crate::certs::sha256_fingerprint(exp.cert_der);
    for embedded in &seen.embedded_certs {
        let der = base64::engine::general_purpose::STANDARD
            .decode(embedded)
            .map_err(|_| {
                Rejection::Invalid("the signature's X509Certificate is not base64".into())
            })?;
        if der != exp.cert_der {
            return Err(Rejection::Thumbprint(format!(
                "the response is signed with the certificate {}, but the Identity page has {configured}",
                crate::certs::sha256_fingerprint(&der)
            )));
        }
    }
    if seen.assertions > 1 {
        return Err(Rejection::Invalid(format!(
            "the response carries {} assertions; exactly one is accepted",
            seen.assertions
        )));
    }
    if let Some(dest) = &seen.destination {
        if dest != exp.acs_url {
            return Err(Rejection::Invalid(format!(
                "the response's Destination {dest:?} is not this SP's ACS URL {:?}",
                exp.acs_url
            )));
        }
    }
    let in_response_to = match (
        &seen.in_response_to,
        seen.confirmation_in_response_to.first(),
    ) {
        (Some(a), Some(b)) if a != b => {
            return Err(Rejection::Invalid(format!(
                "the Response answers request {a:?} but its assertion answers {b:?}"
            )));
        }
        (Some(a), _) => Some(a.clone()),
        (None, b) => b.cloned(),
    };
    let issuer = match (exp.idp_entity_id, &seen.issuer) {
        (Some(configured), _) => configured.to_string(),
        (None, Some(issuer)) if !issuer.is_empty() => issuer.clone(),
        _ => return Err(Rejection::Invalid("the response names no Issuer".into())),
    };
    let sp = service_provider(exp, &issuer);
    let assertion = {
        let _guard = XMLSEC.lock().unwrap_or_else(|p| p.into_inner());
        sp.parse_xml_response(&xml, None)
    }
    .map_err(|e| explain(e, exp, !seen.embedded_certs.is_empty()))?;
    let identity = identity(&assertion)?;
    let name_id = assertion
        .subject
        .as_ref()
        .and_then(|s| s.name_id.as_ref())
        .map(|n| n.value.trim().to_string());
    let session_index = assertion
        .authn_statements
        .as_ref()
        .and_then(|a| a.iter().find_map(|s| s.session_index.clone()));
    Ok(Validated {
        name_id,
        session_index,
        assertion_id: assertion.id.clone(),
        issuer,
        in_response_to,
        identity,
    })
}

fn service_provider(exp: &Expected<'_>, issuer: &str) -> ServiceProvider {
    let cert_b64 = base64::engine::general_purpose::STANDARD.encode(exp.cert_der);
    let idp = IdpSsoDescriptor {
        id: None,
        valid_until: None,
        cache_duration: None,
        protocol_support_enumeration: Some(super::PROTOCOL_NS.to_string()),
        error_url: None,
        signature: None,
        key_descriptors: vec![KeyDescriptor {
            key_use: Some("signing".into()),
            key_info: KeyInfo {
                id: None,
                x509_data: Some(X509Data {
                    certificates: vec![cert_b64],
                }),
            },
            encryption_methods: None,
        }],
        organization: None,
        contact_people: vec![],
        artifact_resolution_service: vec![],
        single_logout_services: vec![],
        manage_name_id_services: vec![],
        name_id_formats: vec![],
        want_authn_requests_signed: None,
        single_sign_on_services: vec![],
        name_id_mapping_services: vec![],
        assertion_id_request_services: vec![],
        attribute_profiles: vec![],
        attributes: vec![],
    };
    ServiceProvider {
        entity_id: Some(exp.entity_id.to_string()),
        acs_url: Some(exp.acs_url.to_string()),
        idp_metadata: EntityDescriptor {
            entity_id: Some(issuer.to_string()),
            idp_sso_descriptors: Some(vec![idp]),
            ..EntityDescriptor::default()
        },
        // InResponseTo is checked against the database by the ACS handler.
        allow_idp_initiated: true,
        max_clock_skew: chrono::Duration::seconds(MAX_SKEW_SECONDS),
        max_issue_delay: chrono::Duration::seconds(90),
        allowed_signature_algorithms: Some(vec![
            AllowedSignatureAlgorithm::RsaSha256,
            AllowedSignatureAlgorithm::RsaSha384,
            AllowedSignatureAlgorithm::RsaSha512,
            AllowedSignatureAlgorithm::EcdsaSha256,
            AllowedSignatureAlgorithm::EcdsaSha384,
            AllowedSignatureAlgorithm::EcdsaSha512,
        ]),
        ..ServiceProvider::default()
    }
}

/// `cert_matched`: the signature embeds the configured certificate, so a failed verification
/// means changed content, not a wrong key.
fn explain(e: SamlError, exp: &Expected<'_>, cert_matched: bool) -> Rejection {
    use SamlError as E;
    match e {
        E::FailedToValidateSignature if cert_matched => Rejection::Invalid(
            "the signature does not verify: the signed content was changed after signing (digest or signature mismatch)".into(),
        ),
        E::FailedToValidateSignature => Rejection::Thumbprint(
            "the signature does not verify with the certificate configured on the Identity page".into(),
        ),
        E::ResponseBadStatusCode { code } => {
            if code.ends_with("RequestDenied") {
                Rejection::AccessDenied(format!("the IdP answered with status {code}"))
            } else {
                Rejection::Invalid(format!("the IdP answered with status {code}"))
            }
        }
        E::AssertionConditionAudienceRestrictionFailed { .. } => Rejection::Invalid(format!(
            "the assertion's Audience is not this SP's entity ID {:?}",
            exp.entity_id
        )),
        E::AssertionRecipientMismatch { assertion_recipient, .. } => Rejection::Invalid(format!(
            "the assertion's Recipient {:?} is not this SP's ACS URL {:?}",
            assertion_recipient.unwrap_or_default(),
            exp.acs_url
        )),
        E::DestinationValidationError { response_destination, .. } => Rejection::Invalid(format!(
            "the response's Destination {:?} is not this SP's ACS URL {:?}",
            response_destination.unwrap_or_default(),
            exp.acs_url
        )),
        E::AssertionIssuerMismatch { issuer, entity_id } | E::ResponseIssuerMismatch { issuer, entity_id } => {
            Rejection::Invalid(format!(
                "the response's Issuer {:?} is not the configured IdP entity ID {:?}",
                issuer.unwrap_or_default(),
                entity_id.unwrap_or_default()
            ))
        }
        E::AssertionConditionExpired { time } | E::AssertionSubjectConfirmationExpired { time } => {
            Rejection::Invalid(format!("the assertion expired (NotOnOrAfter, with {MAX_SKEW_SECONDS} s skew, was {time})"))
        }
        E::AssertionConditionExpiredBefore { time } | E::AssertionSubjectConfirmationExpiredBefore { time } => {
            Rejection::Invalid(format!("the assertion is not yet valid (NotBefore, with {MAX_SKEW_SECONDS} s skew, is {time})"))
        }
        E::AssertionExpired { time } | E::ResponseExpired { time } => Rejection::Invalid(format!(
            "the response was issued too long ago (IssueInstant + 90 s = {time})"
        )),
        E::MissingPrivateKeySP | E::EncryptedAssertionsNotYetSupported => Rejection::Encrypted,
        other => Rejection::Invalid(format!("the SAML response was refused: {other}")),
    }
}

fn attr_values<'a>(assertion: &'a Assertion, names: &[&str]) -> Vec<(&'a str, String)> {
    let mut out = Vec::new();
    for statement in assertion.attribute_statements.iter().flatten() {
        for attribute in &statement.attributes {
            let Some(name) = attribute.name.as_deref() else {
                continue;
            };
            if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                continue;
            }
            for value in &attribute.values {
                let v = value.value.as_deref().unwrap_or("").trim();
                if !v.is_empty() {
                    out.push((name, v.to_string()));
                }
            }
        }
    }
    out
}

fn first_by_preference(assertion: &Assertion, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        attr_values(assertion, std::slice::from_ref(n))
            .into_iter()
            .next()
            .map(|(_, v)| v)
    })
}

fn looks_like_email(s: &str) -> bool {
    let mut parts = s.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(l), Some(d), None) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
    ) && !s.chars().any(char::is_whitespace)
}

fn identity(assertion: &Assertion) -> Result<Identity, Rejection> {
    let name_id = assertion
        .subject
        .as_ref()
        .and_then(|s| s.name_id.as_ref())
        .map(|n| n.value.trim().to_string())
        .unwrap_or_default();
    if name_id.is_empty() {
        return Err(Rejection::NoEmail(
            "the assertion has no NameID; the email is read from the NameID".into(),
        ));
    }
    if !looks_like_email(&name_id) {
        return Err(Rejection::NoEmail(format!(
            "the NameID {name_id:?} is not an email address"
        )));
    }
    let mut emails = vec![name_id.to_lowercase()];
    for (_, v) in attr_values(assertion, EMAIL_ATTRIBUTES) {
        let v = v.to_lowercase();
        if !emails.contains(&v) {
            emails.push(v);
        }
    }
    if emails.len() > 1 {
        return Err(Rejection::SeveralEmails(emails));
    }
    let subject = attr_values(assertion, &[UID_ATTRIBUTE])
        .into_iter()
        .next()
        .map(|(_, v)| v)
        .unwrap_or_else(|| name_id.to_lowercase());
    Ok(Identity {
        subject,
        email: name_id,
        given_name: first_by_preference(assertion, GIVEN_NAME_ATTRIBUTES),
        family_name: first_by_preference(assertion, FAMILY_NAME_ATTRIBUTES),
    })
}

#[cfg(test)]
mod tests {
    use super::looks_like_email;

    #[test]
    fn email_shape() {
        assert!(looks_like_email("a@acme.test"));
        assert!(!looks_like_email("a@b@acme.test"));
        assert!(!looks_like_email("alice"));
        assert!(!looks_like_email("a b@acme.test"));
    }
}
