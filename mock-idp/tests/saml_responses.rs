#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every SAML fault, each proven by a check that is not our code: xmlsec1 for signatures
//! and encryption, samael's SP side for good responses, XML parsing for content faults.

mod saml_support;

use mock_idp::fault::Fault;
use mock_idp::saml::issue::{self, IdpView};
use mock_idp::tenant::{PendingAuthn, SamlOptions, SignMode, SpSpec, Tenant, TenantSpec, User};
use saml_support::*;
use time::OffsetDateTime;

const ACS: &str = "http://sp.test/acs?connection=org-1";
const AUDIENCE: &str = "urn:auth0:test:org-1";
const REQUEST_ID: &str = "_req-42";
const BASE: &str = "http://127.0.0.1:9";

fn tenant(profile: &str, sign: SignMode, sp_cert: Option<String>) -> Tenant {
    let spec = TenantSpec {
        id: Some("t1".into()),
        profile: serde_json::from_value(serde_json::json!(profile)).unwrap(),
        users: vec![User {
            email: "alice@acme.test".into(),
            given_name: "Alice".into(),
            family_name: "Ng".into(),
            groups: vec!["chatgpt".into()],
            ..Default::default()
        }],
        sp: Some(SpSpec {
            entity_id: Some(AUDIENCE.into()),
            acs_url: Some(ACS.into()),
            metadata_url: None,
            certificate_pem: sp_cert,
            ..Default::default()
        }),
        saml: SamlOptions {
            sign,
            ..Default::default()
        },
        ..Default::default()
    };
    Tenant::from_spec(spec).unwrap()
}

fn request() -> PendingAuthn {
    PendingAuthn {
        request_id: Some(REQUEST_ID.into()),
        acs_url: None,
        sp_issuer: None,
        relay_state: None,
    }
}

fn respond(t: &Tenant, faults: &[Fault]) -> String {
    let view = IdpView::of(t, BASE);
    issue::issue(&view, &t.users[0], Some(&request()), faults)
        .unwrap()
        .xml
}

fn metadata(t: &Tenant) -> String {
    mock_idp::saml::metadata::document(t, BASE).unwrap()
}

fn cert(t: &Tenant) -> String {
    t.keys.primary.cert_pem.clone()
}

#[test]
fn good_responses_verify_with_xmlsec1_and_parse_with_samael_in_every_sign_mode() {
    for sign in [SignMode::Assertion, SignMode::Response, SignMode::Both] {
        for profile in [
            "okta",
            "entra",
            "google",
            "authentik",
            "keycloak",
            "generic",
        ] {
            let t = tenant(profile, sign, None);
            let xml = respond(&t, &[]);
            assert!(xmlsec_verify(&xml, &cert(&t)), "{profile} {sign:?}: {xml}");
            let a = samael_accepts(&xml, &metadata(&t), AUDIENCE, ACS, Some(REQUEST_ID))
                .unwrap_or_else(|e| panic!("{profile} {sign:?}: {e}\n{xml}"));
            let nameid = a.subject.unwrap().name_id.unwrap().value;
            assert_eq!(nameid, "alice@acme.test");
            let els = elements(&xml);
            let sigs = all(&els, "SignatureMethod");
            let expected = if sign == SignMode::Both { 2 } else { 1 };
            assert_eq!(sigs.len(), expected);
            assert!(
                sigs.iter()
                    .all(|s| s.attrs["Algorithm"].ends_with("rsa-sha256"))
            );
            assert!(
                all(&els, "DigestMethod")
                    .iter()
                    .all(|d| d.attrs["Algorithm"].ends_with("#sha256"))
            );
        }
    }
}

#[test]
fn both_signatures_verify_on_their_own() {
    let t = tenant("generic", SignMode::Both, None);
    let xml = respond(&t, &[]);
    // The response signature is the first one xmlsec1 sees; cut out the assertion to
    // check the inner signature on its own too.
    let start = xml.find("<saml:Assertion").unwrap();
    let end = xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    assert!(xmlsec_verify(&xml, &cert(&t)));
    assert!(xmlsec_verify(&xml[start..end], &cert(&t)));
}

#[test]
fn text_is_escaped_and_survives_verification() {
    let spec = TenantSpec {
        id: Some("esc".into()),
        users: vec![User {
            email: "tom&jerry@acme.test".into(),
            given_name: "Zoë <\"Z\"> & 'co'".into(),
            family_name: "Ñúñez\r\nOK".into(),
            attributes: [("dept".to_string(), vec!["R&D <lab>".to_string()])].into(),
            ..Default::default()
        }],
        sp: Some(SpSpec {
            entity_id: Some("urn:sp?a=1&b=\"2\"".into()),
            acs_url: Some("http://sp.test/acs?x=1&y=<2>".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let t = Tenant::from_spec(spec).unwrap();
    let xml = respond(&t, &[]);
    assert!(xmlsec_verify(&xml, &cert(&t)), "{xml}");
    let els = elements(&xml);
    assert_eq!(first(&els, "NameID").unwrap().text, "tom&jerry@acme.test");
    assert_eq!(first(&els, "Audience").unwrap().text, "urn:sp?a=1&b=\"2\"");
    assert_eq!(
        first(&els, "Response").unwrap().attrs["Destination"],
        "http://sp.test/acs?x=1&y=<2>"
    );
    let given = attribute_values(
        &xml,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    );
    assert_eq!(given.unwrap(), vec!["Zoë <\"Z\"> & 'co'".to_string()]);
    let family = attribute_values(
        &xml,
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    );
    assert_eq!(family.unwrap(), vec!["Ñúñez\r\nOK".to_string()]);
    assert_eq!(
        attribute_values(&xml, "dept").unwrap(),
        vec!["R&D <lab>".to_string()]
    );
}

#[test]
fn okta_profile_matches_the_seed_example() {
    let t = tenant("okta", SignMode::Assertion, None);
    let xml = respond(&t, &[]);
    let els = elements(&xml);
    let nameid = first(&els, "NameID").unwrap();
    assert_eq!(
        nameid.attrs["Format"],
        "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
    );
    assert_eq!(
        first(&els, "Issuer").unwrap().attrs["Format"],
        "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
    );
    assert_eq!(attribute_values(&xml, "name").unwrap(), vec!["Alice Ng"]);
    assert_eq!(attribute_values(&xml, "given_name").unwrap(), vec!["Alice"]);
    assert_eq!(attribute_values(&xml, "family_name").unwrap(), vec!["Ng"]);
    assert_eq!(attribute_values(&xml, "nickname").unwrap(), vec![""]);
    assert_eq!(
        first(&els, "SubjectConfirmationData").unwrap().attrs["Recipient"],
        ACS
    );
    assert!(attribute_values(&xml, "uid").unwrap()[0].starts_with('u'));
}

#[test]
fn signature_faults_fail_xmlsec1_with_the_tenant_certificate() {
    for sign in [SignMode::Assertion, SignMode::Response, SignMode::Both] {
        let t = tenant("generic", sign, None);
        for fault in [
            Fault::Unsigned,
            Fault::UnknownKey,
            Fault::ExpiredCertificate,
            Fault::KeyRotation,
            Fault::Tampered,
        ] {
            let xml = respond(&t, &[fault]);
            assert!(!xmlsec_verify(&xml, &cert(&t)), "{fault} {sign:?} verified");
        }
    }
}

#[test]
fn samael_with_the_tenant_metadata_rejects_signature_faults() {
    let t = tenant("generic", SignMode::Assertion, None);
    let md = metadata(&t);
    samael_accepts(&respond(&t, &[]), &md, AUDIENCE, ACS, Some(REQUEST_ID)).unwrap();
    for fault in [
        Fault::Unsigned,
        Fault::UnknownKey,
        Fault::ExpiredCertificate,
        Fault::Tampered,
    ] {
        let xml = respond(&t, &[fault]);
        assert!(
            samael_accepts(&xml, &md, AUDIENCE, ACS, Some(REQUEST_ID)).is_err(),
            "samael accepted {fault}"
        );
    }
}

#[test]
fn unsigned_has_no_signature() {
    let t = tenant("generic", SignMode::Both, None);
    let xml = respond(&t, &[Fault::Unsigned]);
    assert!(first(&elements(&xml), "Signature").is_none());
}

#[test]
fn unknown_expired_and_rotated_keys_are_real_signatures_by_other_certificates() {
    let t = tenant("generic", SignMode::Assertion, None);
    let cases = [
        (Fault::UnknownKey, t.keys.unknown().unwrap()),
        (Fault::ExpiredCertificate, t.keys.expired().unwrap()),
        (Fault::KeyRotation, t.keys.rotated().unwrap()),
    ];
    for (fault, key) in cases {
        let xml = respond(&t, &[fault]);
        assert!(xmlsec_verify(&xml, &key.cert_pem), "{fault}");
        let embedded = first(&elements(&xml), "X509Certificate")
            .unwrap()
            .text
            .clone();
        assert_eq!(embedded, key.cert_base64(), "{fault}");
        assert_ne!(embedded, t.keys.primary.cert_base64());
    }
    let expired =
        openssl::x509::X509::from_pem(t.keys.expired().unwrap().cert_pem.as_bytes()).unwrap();
    assert!(expired.not_after() < openssl::asn1::Asn1Time::days_from_now(0).unwrap());
}

#[test]
fn key_rotation_lists_both_certificates_in_metadata() {
    let mut t = tenant("generic", SignMode::Assertion, None);
    assert_eq!(all(&elements(&metadata(&t)), "X509Certificate").len(), 1);
    t.faults = vec![Fault::KeyRotation];
    let md = metadata(&t);
    let certs: Vec<String> = all(&elements(&md), "X509Certificate")
        .iter()
        .map(|e| e.text.clone())
        .collect();
    assert_eq!(
        certs,
        vec![
            t.keys.primary.cert_base64(),
            t.keys.rotated().unwrap().cert_base64()
        ]
    );
    // An SP that reads the metadata trusts the new key.
    let xml = respond(&t, &[Fault::KeyRotation]);
    samael_accepts(&xml, &md, AUDIENCE, ACS, Some(REQUEST_ID)).unwrap();
}

#[test]
fn sha1_mode_signs_with_rsa_sha1() {
    let t = tenant("generic", SignMode::Assertion, None);
    let xml = respond(&t, &[Fault::Sha1Signature]);
    assert!(xmlsec_verify(&xml, &cert(&t)));
    let els = elements(&xml);
    assert_eq!(
        first(&els, "SignatureMethod").unwrap().attrs["Algorithm"],
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    );
    assert_eq!(
        first(&els, "DigestMethod").unwrap().attrs["Algorithm"],
        "http://www.w3.org/2000/09/xmldsig#sha1"
    );
    let mut t = tenant("generic", SignMode::Response, None);
    t.saml.sha1 = true;
    let xml = respond(&t, &[]);
    assert!(xmlsec_verify(&xml, &cert(&t)));
    assert!(
        first(&elements(&xml), "SignatureMethod").unwrap().attrs["Algorithm"].ends_with("rsa-sha1")
    );
}

#[test]
fn tampered_changes_the_nameid_after_signing() {
    let t = tenant("generic", SignMode::Assertion, None);
    let xml = respond(&t, &[Fault::Tampered]);
    assert_eq!(
        first(&elements(&xml), "NameID").unwrap().text,
        issue::TAMPERED_EMAIL
    );
}

#[test]
fn content_faults_change_what_they_name_and_stay_validly_signed() {
    let t = tenant("generic", SignMode::Assertion, None);
    let good = elements(&respond(&t, &[]));
    let check = |fault: Fault, f: &dyn Fn(&[El])| {
        let xml = respond(&t, &[fault]);
        assert!(
            xmlsec_verify(&xml, &cert(&t)),
            "{fault} must still be validly signed"
        );
        f(&elements(&xml));
    };
    assert_eq!(first(&good, "Audience").unwrap().text, AUDIENCE);
    check(Fault::WrongAudience, &|e| {
        assert_eq!(first(e, "Audience").unwrap().text, issue::WRONG_AUDIENCE)
    });
    check(Fault::WrongRecipient, &|e| {
        assert_eq!(
            first(e, "SubjectConfirmationData").unwrap().attrs["Recipient"],
            issue::WRONG_RECIPIENT
        );
        assert_eq!(first(e, "Response").unwrap().attrs["Destination"], ACS);
    });
    check(Fault::WrongDestination, &|e| {
        assert_eq!(
            first(e, "Response").unwrap().attrs["Destination"],
            issue::WRONG_DESTINATION
        );
        assert_eq!(
            first(e, "SubjectConfirmationData").unwrap().attrs["Recipient"],
            ACS
        );
    });
    check(Fault::WrongIssuer, &|e| {
        assert!(
            all(e, "Issuer")
                .iter()
                .all(|i| i.text == issue::WRONG_ISSUER)
        );
    });
    let parse =
        |s: &str| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap();
    let now = OffsetDateTime::now_utc();
    check(Fault::NotYetValid, &|e| {
        let c = first(e, "Conditions").unwrap();
        assert!(parse(&c.attrs["NotBefore"]) > now + time::Duration::minutes(30));
    });
    check(Fault::ExpiredAssertion, &|e| {
        let c = first(e, "Conditions").unwrap();
        assert!(parse(&c.attrs["NotOnOrAfter"]) < now - time::Duration::minutes(30));
        let s = first(e, "SubjectConfirmationData").unwrap();
        assert!(parse(&s.attrs["NotOnOrAfter"]) < now);
    });
    assert_eq!(
        first(&good, "Response").unwrap().attrs["InResponseTo"],
        REQUEST_ID
    );
    check(Fault::InResponseToMismatch, &|e| {
        let irt = &first(e, "Response").unwrap().attrs["InResponseTo"];
        assert_ne!(irt, REQUEST_ID);
        assert_eq!(
            &first(e, "SubjectConfirmationData").unwrap().attrs["InResponseTo"],
            irt
        );
    });
    check(Fault::Unsolicited, &|e| {
        assert!(
            !first(e, "Response")
                .unwrap()
                .attrs
                .contains_key("InResponseTo")
        );
        assert!(
            !first(e, "SubjectConfirmationData")
                .unwrap()
                .attrs
                .contains_key("InResponseTo")
        );
    });
    check(Fault::MissingNameid, &|e| {
        assert!(first(e, "NameID").is_none());
        assert!(first(e, "Subject").is_some());
    });
    let email_attr = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress";
    let xml = respond(&t, &[Fault::MultipleEmails]);
    let emails = attribute_values(&xml, email_attr).unwrap();
    assert_eq!(emails.len(), 2);
    assert_ne!(emails[0], emails[1]);
    let xml = respond(&t, &[Fault::NoNameAttributes]);
    for name in ["givenname", "surname", "name"] {
        let full = format!("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/{name}");
        assert!(attribute_values(&xml, &full).is_none(), "{name}");
    }
    assert!(attribute_values(&xml, email_attr).is_some());
}

#[test]
fn status_faults_carry_no_assertion() {
    let t = tenant("generic", SignMode::Response, None);
    let xml = respond(&t, &[Fault::StatusResponder]);
    let e = elements(&xml);
    let codes: Vec<&str> = all(&e, "StatusCode")
        .iter()
        .map(|c| c.attrs["Value"].as_str())
        .collect();
    assert_eq!(codes, vec!["urn:oasis:names:tc:SAML:2.0:status:Responder"]);
    assert!(first(&e, "Assertion").is_none());
    assert!(xmlsec_verify(&xml, &cert(&t)));
    let xml = respond(&t, &[Fault::StatusAuthnFailed]);
    let e = elements(&xml);
    let codes: Vec<&str> = all(&e, "StatusCode")
        .iter()
        .map(|c| c.attrs["Value"].as_str())
        .collect();
    assert_eq!(
        codes,
        vec![
            "urn:oasis:names:tc:SAML:2.0:status:Responder",
            "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
        ]
    );
}

#[test]
fn changed_email_keeps_the_uid() {
    let t = tenant("generic", SignMode::Assertion, None);
    let before = respond(&t, &[]);
    let after = respond(&t, &[Fault::ChangedEmail]);
    let nb = first(&elements(&before), "NameID").unwrap().text.clone();
    let na = first(&elements(&after), "NameID").unwrap().text.clone();
    assert_ne!(nb, na);
    assert!(na.ends_with("@acme.test"));
    assert_eq!(
        attribute_values(&before, "uid"),
        attribute_values(&after, "uid")
    );
}

fn sp_keypair() -> (String, String) {
    let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
    let key = openssl::pkey::PKey::from_rsa(rsa).unwrap();
    let mut name = openssl::x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "sp.test").unwrap();
    let name = name.build();
    let mut b = openssl::x509::X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&openssl::asn1::Asn1Time::days_from_now(2).unwrap())
        .unwrap();
    b.sign(&key, openssl::hash::MessageDigest::sha256())
        .unwrap();
    let cert = String::from_utf8(b.build().to_pem().unwrap()).unwrap();
    let key = String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap();
    (cert, key)
}

#[test]
fn encrypted_assertions_decrypt_with_xmlsec1_and_the_sp_key() {
    let (sp_cert, sp_key) = sp_keypair();
    for sign in [SignMode::Assertion, SignMode::Both] {
        let t = tenant("generic", sign, Some(sp_cert.clone()));
        for (fault, alg) in [
            (
                Fault::EncryptedAssertion,
                "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
            ),
            (
                Fault::EncryptedAssertionGcm,
                "http://www.w3.org/2009/xmlenc11#aes256-gcm",
            ),
        ] {
            let xml = respond(&t, &[fault]);
            assert!(
                !xml.contains("alice@acme.test"),
                "{fault}: plaintext leaked"
            );
            let e = elements(&xml);
            assert!(first(&e, "Assertion").is_none());
            let methods: Vec<&str> = all(&e, "EncryptionMethod")
                .iter()
                .map(|m| m.attrs["Algorithm"].as_str())
                .collect();
            assert_eq!(
                methods,
                vec![alg, "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"]
            );
            if sign == SignMode::Both {
                assert!(
                    xmlsec_verify(&xml, &cert(&t)),
                    "{fault}: response signature over the encrypted assertion"
                );
            }
            let plain = xmlsec_decrypt(&xml, &sp_key).unwrap_or_else(|e| panic!("{fault}: {e}"));
            let e = elements(&plain);
            assert_eq!(first(&e, "NameID").unwrap().text, "alice@acme.test");
            let start = plain.find("<saml:Assertion").unwrap();
            let end = plain.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
            assert!(
                xmlsec_verify(&plain[start..end], &cert(&t)),
                "{fault}: decrypted assertion keeps its signature"
            );
        }
    }
    // Another SP key cannot decrypt it.
    let t = tenant("generic", SignMode::Assertion, Some(sp_cert));
    let (_, other_key) = sp_keypair();
    assert!(xmlsec_decrypt(&respond(&t, &[Fault::EncryptedAssertion]), &other_key).is_err());
}

#[test]
fn encryption_without_an_sp_certificate_is_a_clear_error() {
    let t = tenant("generic", SignMode::Assertion, None);
    let view = IdpView::of(&t, BASE);
    let e = issue::issue(&view, &t.users[0], None, &[Fault::EncryptedAssertion]).unwrap_err();
    assert!(e.to_string().contains("sp.certificate_pem"), "{e}");
}
