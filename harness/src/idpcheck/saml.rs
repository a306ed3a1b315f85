//! What the SAML checks look at: the IdP metadata (SSO URL, signing certificate, entity ID)
//! and the SAML response the product received in real sign-ins (read from the reference SP's
//! test-mode record: NameID, attributes, signatures, encryption), plus the product's verdict.
use quick_xml::events::Event;
use serde::Serialize;
use serde_json::{Value, json};

use super::catalogue::CheckKind;
use super::finding::{Finding, out_of_group_finding, sign_in_finding, tile_finding};
use super::flow::SignIn;

const CLAIMS: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/";
/// Documented names of the first name (seed: givenname or name; the Okta example: given_name).
pub const GIVEN_NAMES: [&str; 3] = [
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
    "given_name",
];
pub const FAMILY_NAMES: [&str; 2] = [
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    "family_name",
];

#[derive(Debug, Clone, Serialize)]
pub struct Metadata {
    pub entity_id: String,
    pub sso_url: String,
    /// Base64 DER of the signing certificate(s).
    pub certificates: Vec<String>,
}

impl Metadata {
    pub fn certificate_pem(&self) -> String {
        let b64 = self.certificates.first().cloned().unwrap_or_default();
        let lines: Vec<String> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    }
}

/// The parts of a SAML response the checks judge.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResponseFacts {
    pub issuer: Option<String>,
    pub encrypted_assertion: bool,
    pub response_signed: bool,
    pub assertion_signed: bool,
    pub signature_methods: Vec<String>,
    /// Base64 DER of every certificate in a signature's KeyInfo.
    pub signing_certificates: Vec<String>,
    pub name_id: Option<String>,
    pub name_id_format: Option<String>,
    pub attributes: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Default)]
pub struct SamlFacts {
    pub metadata_url: String,
    pub expected_email: String,
    pub out_of_group_email: String,
    pub metadata: Option<Result<Metadata, String>>,
    pub sign_in: Option<SignIn>,
    /// `last-sso` of the reference SP after the in-group sign-in.
    pub evidence: Option<Value>,
    pub tile: Option<SignIn>,
    /// `last-sso` after the IdP-initiated sign-in.
    pub tile_evidence: Option<Value>,
    pub out_of_group: Option<SignIn>,
}

impl SamlFacts {
    fn response(&self) -> Option<Result<ResponseFacts, String>> {
        response_of(self.evidence.as_ref())
    }
}

fn response_of(evidence: Option<&Value>) -> Option<Result<ResponseFacts, String>> {
    let xml = evidence?["response_xml"].as_str()?;
    Some(parse_response(xml))
}

pub fn evidence_json(f: &SamlFacts) -> Value {
    json!({
        "metadata_url": f.metadata_url,
        "metadata": f.metadata.as_ref().map(|m| match m {
            Ok(m) => json!(m),
            Err(e) => json!({ "error": e }),
        }),
        "response": f.response().map(|r| match r {
            Ok(r) => json!(r),
            Err(e) => json!({ "error": e }),
        }),
        "response_xml": f.evidence.as_ref().and_then(|e| e["response_xml"].as_str()),
        "sign_in": f.sign_in,
        "tile": f.tile,
        "out_of_group": f.out_of_group,
    })
}

pub async fn gather_metadata(f: &mut SamlFacts) {
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let got = async {
        let r = http
            .get(&f.metadata_url)
            .send()
            .await
            .map_err(|e| format!("cannot fetch the metadata {}: {e}", f.metadata_url))?;
        if !r.status().is_success() {
            return Err(format!(
                "the metadata {} answered HTTP {}",
                f.metadata_url,
                r.status().as_u16()
            ));
        }
        let text = r
            .text()
            .await
            .map_err(|e| format!("reading the metadata: {e}"))?;
        parse_metadata(&text)
    }
    .await;
    f.metadata = Some(got);
}

fn local(name: &[u8]) -> String {
    let n = String::from_utf8_lossy(name);
    n.rsplit(':').next().unwrap_or_default().to_string()
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| local(a.key.as_ref()) == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// Entity ID, HTTP-Redirect SSO URL (else HTTP-POST) and signing certificates of an IdP.
pub fn parse_metadata(xml: &str) -> Result<Metadata, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut entity_id = None;
    let (mut redirect, mut post) = (None, None);
    let mut certs = Vec::new();
    let mut key_use: Option<String> = None;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Err(e) => return Err(format!("the metadata is not well-formed XML: {e}")),
            Ok(Event::Eof) => break,
            Ok(ev @ (Event::Start(_) | Event::Empty(_))) => {
                let (e, empty) = match &ev {
                    Event::Start(e) => (e, false),
                    Event::Empty(e) => (e, true),
                    _ => continue,
                };
                let name = local(e.name().as_ref());
                match name.as_str() {
                    "EntityDescriptor" if entity_id.is_none() => entity_id = attr(e, "entityID"),
                    "KeyDescriptor" => key_use = attr(e, "use"),
                    "SingleSignOnService" if stack.iter().any(|s| s == "IDPSSODescriptor") => {
                        let binding = attr(e, "Binding").unwrap_or_default();
                        let loc = attr(e, "Location");
                        if binding.ends_with("HTTP-Redirect") {
                            redirect = redirect.or(loc);
                        } else if binding.ends_with("HTTP-POST") {
                            post = post.or(loc);
                        }
                    }
                    _ => {}
                }
                text.clear();
                if !empty {
                    stack.push(name);
                }
            }
            Ok(Event::Text(t)) => {
                if let Ok(s) = t.unescape() {
                    text.push_str(&s);
                }
            }
            Ok(Event::End(_)) => {
                let name = stack.pop().unwrap_or_default();
                if name == "X509Certificate"
                    && stack.iter().any(|s| s == "IDPSSODescriptor")
                    && stack.iter().any(|s| s == "KeyDescriptor")
                    && key_use.as_deref().is_none_or(|u| u == "signing")
                {
                    certs.push(text.split_whitespace().collect::<String>());
                }
                if name == "KeyDescriptor" {
                    key_use = None;
                }
            }
            Ok(_) => {}
        }
    }
    let entity_id = entity_id.ok_or("the metadata has no EntityDescriptor entityID")?;
    let sso_url = redirect
        .or(post)
        .ok_or("the metadata has no IDPSSODescriptor SingleSignOnService")?;
    if certs.is_empty() {
        return Err("the metadata publishes no signing certificate (KeyDescriptor use=\"signing\" with an X509Certificate)".into());
    }
    Ok(Metadata {
        entity_id,
        sso_url,
        certificates: certs,
    })
}

/// The judged parts of a decoded SAML response.
pub fn parse_response(xml: &str) -> Result<ResponseFacts, String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut out = ResponseFacts::default();
    let mut text = String::new();
    let mut attr_name: Option<String> = None;
    loop {
        match reader.read_event() {
            Err(e) => return Err(format!("the SAML response is not well-formed XML: {e}")),
            Ok(Event::Eof) => break,
            Ok(ev @ (Event::Start(_) | Event::Empty(_))) => {
                let (e, empty) = match &ev {
                    Event::Start(e) => (e, false),
                    Event::Empty(e) => (e, true),
                    _ => continue,
                };
                let name = local(e.name().as_ref());
                match name.as_str() {
                    "EncryptedAssertion" => out.encrypted_assertion = true,
                    "Signature" => match stack.last().map(String::as_str) {
                        Some("Response") => out.response_signed = true,
                        Some("Assertion") => out.assertion_signed = true,
                        _ => {}
                    },
                    "SignatureMethod" => {
                        if let Some(a) = attr(e, "Algorithm") {
                            out.signature_methods.push(a);
                        }
                    }
                    "NameID" if stack.iter().any(|s| s == "Subject") => {
                        out.name_id_format = attr(e, "Format");
                    }
                    "Attribute" => {
                        attr_name = attr(e, "Name");
                        if let Some(n) = &attr_name {
                            out.attributes.push((n.clone(), Vec::new()));
                        }
                    }
                    _ => {}
                }
                text.clear();
                if !empty {
                    stack.push(name);
                }
            }
            Ok(Event::Text(t)) => {
                if let Ok(s) = t.unescape() {
                    text.push_str(&s);
                }
            }
            Ok(Event::End(_)) => {
                let name = stack.pop().unwrap_or_default();
                let value = text.trim().to_string();
                match name.as_str() {
                    "NameID" if stack.iter().any(|s| s == "Subject") => {
                        out.name_id = Some(value);
                    }
                    "Issuer" if stack.last().is_some_and(|s| s == "Response") => {
                        out.issuer = Some(value);
                    }
                    "X509Certificate" if stack.iter().any(|s| s == "Signature") => out
                        .signing_certificates
                        .push(value.split_whitespace().collect()),
                    "AttributeValue" => {
                        if let (Some(n), Some(last)) = (&attr_name, out.attributes.last_mut()) {
                            if &last.0 == n {
                                last.1.push(value);
                            }
                        }
                    }
                    "Attribute" => attr_name = None,
                    _ => {}
                }
                text.clear();
            }
            Ok(_) => {}
        }
    }
    Ok(out)
}

pub fn evaluate(kind: CheckKind, f: &SamlFacts) -> Finding {
    match kind {
        CheckKind::SamlMetadata => metadata(f),
        CheckKind::SamlSignIn => sign_in_judged(
            sign_in_finding(f.sign_in.as_ref(), &f.expected_email),
            f.sign_in.as_ref(),
            f.evidence.as_ref(),
            &f.expected_email,
        ),
        CheckKind::SamlNameidEmail => with_response(f, |r| nameid(r, &f.expected_email)),
        CheckKind::SamlNameAttributes => with_response(f, names),
        CheckKind::SamlSigned => signed(f),
        CheckKind::SamlNotEncrypted => match f.response() {
            None => no_response(f),
            Some(Err(e)) => Finding::not_checked(e),
            Some(Ok(r)) if r.encrypted_assertion => Finding::fail(
                "the response carries an EncryptedAssertion: the product does not decrypt SAML, so it cannot read the user's email or names"
                    .into(),
            ),
            Some(Ok(_)) => Finding::pass("the assertion is sent in the clear".into()),
        },
        CheckKind::IdpInitiated => sign_in_judged(
            tile_finding(f.tile.as_ref(), &f.expected_email),
            f.tile.as_ref(),
            f.tile_evidence.as_ref(),
            &f.expected_email,
        ),
        CheckKind::OutOfGroupRefused => {
            out_of_group_finding(f.out_of_group.as_ref(), &f.out_of_group_email)
        }
        other => Finding::not_checked(format!("{other:?} is an OIDC check")),
    }
}

/// A sign-in that did not succeed, with what explains it when the product received a
/// response and refused it (or asked for the name): the assertion's encryption, signature,
/// NameID or name attributes, each its own check with its own fix; or the product's words
/// (Audience, ACS URL) and the IdP's own refusal, which pick the sign-in's fix.
fn sign_in_judged(
    finding: Finding,
    s: Option<&SignIn>,
    evidence: Option<&Value>,
    email: &str,
) -> Finding {
    let Some(s) = s else { return finding };
    if finding.verdict != super::finding::CheckVerdict::Fail {
        return finding;
    }
    let detail = format!(
        "{} {}",
        s.sp_error.as_deref().unwrap_or_default(),
        s.sp_error_detail.as_deref().unwrap_or_default()
    )
    .to_lowercase();
    let mut explained = Vec::new();
    match response_of(evidence) {
        // The product read the response and asked for the name it lacked.
        Some(Ok(r)) if s.name_prompt && names(&r).verdict != super::finding::CheckVerdict::Pass => {
            explained.push(CheckKind::SamlNameAttributes);
        }
        // The product refused what it received.
        Some(Ok(r)) if s.sp_error.is_some() && !s.name_prompt => {
            if r.encrypted_assertion {
                explained.push(CheckKind::SamlNotEncrypted);
            } else {
                let unsigned = !r.response_signed && !r.assertion_signed;
                if unsigned || detail.contains("thumbprint") || detail.contains("signature") {
                    explained.push(CheckKind::SamlSigned);
                }
                if r.name_id
                    .as_deref()
                    .is_none_or(|id| !id.eq_ignore_ascii_case(email))
                {
                    explained.push(CheckKind::SamlNameidEmail);
                }
            }
        }
        _ => {}
    }
    let finding = if s.sp_error.is_none() && s.reached_login {
        finding.because("idp_refused")
    } else if detail.contains("audience") {
        finding.because("audience")
    } else if detail.contains("destination")
        || detail.contains("recipient")
        || detail.contains("acs url")
    {
        finding.because("acs_url")
    } else {
        finding
    };
    finding.explained_by(explained)
}

fn metadata(f: &SamlFacts) -> Finding {
    match &f.metadata {
        None => Finding::fail("the metadata was not fetched".into()),
        Some(Err(e)) => Finding::fail(e.clone()),
        Some(Ok(m)) => Finding::pass(format!(
            "entity {}, SSO URL {}, {} signing certificate(s)",
            m.entity_id,
            m.sso_url,
            m.certificates.len()
        )),
    }
}

fn no_response(f: &SamlFacts) -> Finding {
    let why = f
        .sign_in
        .as_ref()
        .map(SignIn::describe)
        .unwrap_or_else(|| "the sign-in did not run".into());
    Finding::not_checked(format!("no SAML response reached the product: {why}"))
}

fn with_response(f: &SamlFacts, judge: impl Fn(&ResponseFacts) -> Finding) -> Finding {
    match f.response() {
        None => no_response(f),
        Some(Err(e)) => Finding::not_checked(e),
        Some(Ok(r)) if r.encrypted_assertion => Finding::not_checked(
            "the assertion is encrypted, so neither the product nor this check can read it (see saml-not-encrypted)"
                .into(),
        ),
        Some(Ok(r)) => judge(&r),
    }
}

fn nameid(r: &ResponseFacts, email: &str) -> Finding {
    let Some(id) = &r.name_id else {
        return Finding::fail("the assertion's Subject has no NameID".into())
            .because("missing_nameid");
    };
    let format = r
        .name_id_format
        .as_deref()
        .map(|f| f.rsplit(':').next().unwrap_or(f).to_string())
        .unwrap_or_else(|| "no Format".into());
    if !id.eq_ignore_ascii_case(email) {
        return Finding::fail(format!(
            "the NameID is {id:?} ({format}), not the user's email {email:?}"
        ))
        .because("nameid_not_email");
    }
    Finding::pass(format!("NameID {id} ({format})"))
}

fn first_value<'a>(r: &'a ResponseFacts, names: &[&str]) -> Option<(&'a str, &'a str)> {
    r.attributes.iter().find_map(|(n, vals)| {
        let v = vals.iter().find(|v| !v.trim().is_empty())?;
        names
            .contains(&n.as_str())
            .then_some((n.as_str(), v.as_str()))
    })
}

fn short(name: &str) -> String {
    name.strip_prefix(CLAIMS)
        .map(|s| format!(".../claims/{s}"))
        .unwrap_or_else(|| name.to_string())
}

fn names(r: &ResponseFacts) -> Finding {
    let given = first_value(r, &GIVEN_NAMES);
    let family = first_value(r, &FAMILY_NAMES);
    let sent = if r.attributes.is_empty() {
        "none".to_string()
    } else {
        r.attributes
            .iter()
            .map(|(n, _)| short(n))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (given, family) {
        (Some((gn, gv)), Some((fan, fav))) => Finding::pass(format!(
            "first name {gv:?} from {}, last name {fav:?} from {}",
            short(gn),
            short(fan)
        )),
        (None, None) => Finding::fail(format!(
            "no first-name and no last-name attribute under the documented names (attributes sent: {sent})"
        ))
        .because("missing_given_name")
        .because("missing_family_name"),
        (Some(_), None) => Finding::fail(format!(
            "no last-name attribute (.../claims/surname or family_name) with a value (attributes sent: {sent})"
        ))
        .because("missing_family_name"),
        (None, Some(_)) => Finding::fail(format!(
            "no first-name attribute (.../claims/givenname, .../claims/name or given_name) with a value (attributes sent: {sent})"
        ))
        .because("missing_given_name"),
    }
}

fn signed(f: &SamlFacts) -> Finding {
    let r = match f.response() {
        None => return no_response(f),
        Some(Err(e)) => return Finding::not_checked(e),
        Some(Ok(r)) => r,
    };
    if !r.response_signed && !r.assertion_signed {
        if r.encrypted_assertion {
            return Finding::not_checked(
                "the Response is not signed and the assertion is encrypted: any signature is inside it (see saml-not-encrypted)"
                    .into(),
            );
        }
        return Finding::fail("neither the Response nor the Assertion is signed".into());
    }
    if let Some(weak) = r.signature_methods.iter().find(|a| a.ends_with("sha1")) {
        return Finding::fail(format!(
            "signed with SHA-1 ({weak}); the product needs RSA-SHA256"
        ));
    }
    let meta = match &f.metadata {
        Some(Ok(m)) => m,
        _ => {
            return Finding::not_checked(
                "the metadata's certificate is unknown (see saml-metadata)".into(),
            );
        }
    };
    if let Some(other) = r
        .signing_certificates
        .iter()
        .find(|c| !meta.certificates.contains(c))
    {
        return Finding::fail(format!(
            "signed with a certificate that is not the metadata's ({}...): the product answers \"Invalid thumbprint\"",
            other.chars().take(24).collect::<String>()
        ));
    }
    let what = match (r.response_signed, r.assertion_signed) {
        (true, true) => "the Response and the Assertion are",
        (true, false) => "the Response is",
        _ => "the Assertion is",
    };
    if let Some(s) = &f.sign_in {
        let text = format!(
            "{} {}",
            s.sp_error.as_deref().unwrap_or_default(),
            s.sp_error_detail.as_deref().unwrap_or_default()
        );
        let lower = text.to_lowercase();
        if lower.contains("thumbprint") || lower.contains("signature") {
            return Finding::fail(format!(
                "{what} signed, but the product refused the signature with the metadata's certificate: {}",
                text.trim()
            ));
        }
    }
    Finding::pass(format!(
        "{what} signed ({}) with the metadata's certificate",
        r.signature_methods
            .first()
            .map(|a| a.rsplit('#').next().unwrap_or(a).to_string())
            .unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OKTA_EXAMPLE: &str = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml2:Issuer xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion">http://www.okta.com/abc123</saml2:Issuer><saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion"><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/></ds:SignedInfo><ds:KeyInfo><ds:X509Data><ds:X509Certificate>MIIB
AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature><saml2:Subject><saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">
email@email.email
</saml2:NameID></saml2:Subject><saml2:AttributeStatement><saml2:Attribute Name="name"><saml2:AttributeValue>Hugh Mann</saml2:AttributeValue></saml2:Attribute><saml2:Attribute Name="family_name"><saml2:AttributeValue>Mann</saml2:AttributeValue></saml2:Attribute><saml2:Attribute Name="nickname"><saml2:AttributeValue/></saml2:Attribute><saml2:Attribute Name="given_name"><saml2:AttributeValue>Hugh</saml2:AttributeValue></saml2:Attribute></saml2:AttributeStatement></saml2:Assertion></samlp:Response>"#;

    #[test]
    fn the_documented_okta_example_passes() {
        let r = parse_response(OKTA_EXAMPLE).unwrap();
        assert!(r.assertion_signed && !r.response_signed && !r.encrypted_assertion);
        assert_eq!(r.signing_certificates, vec!["MIIBAAAA".to_string()]);
        assert_eq!(
            nameid(&r, "email@email.email").verdict,
            super::super::finding::CheckVerdict::Pass
        );
        let n = names(&r);
        assert_eq!(
            n.verdict,
            super::super::finding::CheckVerdict::Pass,
            "{}",
            n.reason
        );
        assert!(
            n.reason.contains("\"Hugh\" from given_name"),
            "{}",
            n.reason
        );
    }

    #[test]
    fn a_missing_surname_is_named() {
        let xml = OKTA_EXAMPLE.replace("Name=\"family_name\"", "Name=\"lastName\"");
        let n = names(&parse_response(&xml).unwrap());
        assert_eq!(n.verdict, super::super::finding::CheckVerdict::Fail);
        assert!(
            n.reason.starts_with("no last-name attribute"),
            "{}",
            n.reason
        );
        assert!(n.reason.contains("lastName"), "{}", n.reason);
    }

    fn refused(msg: &str, name_prompt: bool) -> SignIn {
        SignIn {
            reached_login: true,
            sp_error: Some(msg.into()),
            name_prompt,
            ..Default::default()
        }
    }

    #[test]
    fn a_sign_in_stopped_by_missing_names_is_explained_by_them() {
        let no_names = OKTA_EXAMPLE
            .replace("Name=\"given_name\"", "Name=\"firstName\"")
            .replace("Name=\"family_name\"", "Name=\"lastName\"");
        let evidence = json!({ "response_xml": no_names });
        let email = "email@email.email";
        let s = refused("the product asks for the user's name and birthday", true);
        let f = sign_in_judged(
            sign_in_finding(Some(&s), email),
            Some(&s),
            Some(&evidence),
            email,
        );
        assert_eq!(f.verdict, super::super::finding::CheckVerdict::Fail);
        assert_eq!(f.explained_by, vec![CheckKind::SamlNameAttributes]);
        assert!(f.causes.is_empty(), "{:?}", f.causes);
        // The product refusing the Audience is the sign-in's own failure, with its own fix,
        // even when the names are missing too.
        let s = refused(
            "SSO sign-in failed: the assertion's Audience is not this SP's entity ID",
            false,
        );
        let f = sign_in_judged(
            sign_in_finding(Some(&s), email),
            Some(&s),
            Some(&evidence),
            email,
        );
        assert!(f.explained_by.is_empty(), "{:?}", f.explained_by);
        assert_eq!(f.causes, vec!["audience"]);
    }

    #[test]
    fn metadata_gives_url_and_signing_certificate() {
        let xml = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://idp.test/e"><md:IDPSSODescriptor><md:KeyDescriptor use="encryption"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>ENC</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>SI
GN</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="http://idp.test/post"/><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://idp.test/redirect"/></md:IDPSSODescriptor></md:EntityDescriptor>"#;
        let m = parse_metadata(xml).unwrap();
        assert_eq!(m.entity_id, "http://idp.test/e");
        assert_eq!(m.sso_url, "http://idp.test/redirect");
        assert_eq!(m.certificates, vec!["SIGN".to_string()]);
        assert!(parse_metadata("<EntityDescriptor entityID='x'/>").is_err());
    }
}
