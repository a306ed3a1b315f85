#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The SAML message forge, proven by checks that are not the forge's code: `xmlsec1` for
//! every signature an attack relies on (on the whole message when xmlsec1 can, else on the
//! signed element cut out with its signature), `xmlsec1 --sign` as an independent digest
//! calculator, `xmlsec1 --decrypt` for encrypted variants, and quick-xml readers for where
//! the forged identity ends up. "mallory" signs in (genuine), "alice" is who she wants to be
//! (forged).

mod saml_support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mock_idp::fault::Fault;
use mock_idp::saml::forge::dom::{self, Element, Node};
use mock_idp::saml::forge::{self, ForgeSpec};
use mock_idp::saml::issue::IdpView;
use mock_idp::tenant::{PendingAuthn, SamlOptions, SignMode, SpSpec, Tenant, TenantSpec, User};
use quick_xml::events::Event;
use saml_support::*;
use serde_json::{Value, json};
use std::io::Write as _;
use std::process::Command;

const ACS: &str = "http://sp.test/acs?connection=org-1";
const AUDIENCE: &str = "urn:auth0:test:org-1";
const GENUINE: &str = "mallory@acme.test";
const FORGED: &str = "alice@acme.test";
const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";

fn tenant_for(email: &str, sign: SignMode, sp_cert: Option<String>) -> Tenant {
    Tenant::from_spec(TenantSpec {
        id: Some("forge".into()),
        users: vec![User {
            email: email.into(),
            given_name: "Mal".into(),
            family_name: "Lory".into(),
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
    })
    .unwrap()
}

fn tenant(sign: SignMode) -> Tenant {
    tenant_for(GENUINE, sign, None)
}

fn request() -> PendingAuthn {
    PendingAuthn {
        request_id: Some("_req-7".into()),
        acs_url: None,
        sp_issuer: None,
        relay_state: None,
    }
}

fn run(t: &Tenant, spec: Value, faults: &[Fault]) -> forge::Forged {
    let spec: ForgeSpec = serde_json::from_value(spec).unwrap();
    let view = IdpView::of(t, "http://127.0.0.1:9");
    forge::issue(&view, &t.users[0], Some(&request()), faults, &spec).unwrap()
}

/// The forged message as the SP decodes it.
fn forged(t: &Tenant, spec: Value) -> String {
    let f = run(t, spec, &[]);
    String::from_utf8(B64.decode(f.saml_response).unwrap()).unwrap()
}

fn cert(t: &Tenant) -> String {
    t.keys.primary.cert_pem.clone()
}

fn attacker_cert(t: &Tenant) -> String {
    t.keys.unknown().unwrap().cert_pem.clone()
}

fn temp(content: &[u8], suffix: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
    f.write_all(content).unwrap();
    f
}

/// `xmlsec1 --verify` with the ID attributes named (`a`: Assertion, `r`: Response).
fn xmlsec(xml: &str, cert_pem: &str, ids: &str, extra: &[&str]) -> Result<(), String> {
    let doc = temp(xml.as_bytes(), ".xml");
    let cert = temp(cert_pem.as_bytes(), ".pem");
    let mut cmd = Command::new("xmlsec1");
    cmd.arg("--verify")
        .args(extra)
        .arg("--pubkey-cert-pem")
        .arg(cert.path());
    if ids.contains('a') {
        cmd.args(["--id-attr:ID", ASSERTION_ID_ATTR]);
    }
    if ids.contains('r') {
        cmd.args(["--id-attr:ID", RESPONSE_ID_ATTR]);
    }
    let out = cmd
        .arg(doc.path())
        .output()
        .expect("xmlsec1 must be installed");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn verifies(xml: &str, cert_pem: &str) -> bool {
    xmlsec(xml, cert_pem, "ar", &[]).is_ok()
}

fn parse(xml: &str) -> dom::Document {
    dom::parse(xml).unwrap_or_else(|e| panic!("{e}\n{xml}"))
}

fn root(xml: &str) -> Element {
    parse(xml).root().unwrap().clone()
}

/// Every element of `el` (itself included) matching `pred`, in document order.
fn all_where(el: &Element, pred: &dyn Fn(&Element) -> bool) -> Vec<Element> {
    let mut out = Vec::new();
    fn walk(e: &Element, pred: &dyn Fn(&Element) -> bool, out: &mut Vec<Element>) {
        if pred(e) {
            out.push(e.clone());
        }
        for c in e.elements() {
            walk(c, pred, out);
        }
    }
    walk(el, pred, &mut out);
    out
}

fn nameids(el: &Element) -> Vec<String> {
    all_where(el, &|e| e.is(NS_SAML, "NameID"))
        .iter()
        .map(Element::text)
        .collect()
}

fn child_assertions(el: &Element) -> Vec<Element> {
    el.elements()
        .filter(|e| e.is(NS_SAML, "Assertion"))
        .cloned()
        .collect()
}

fn has_signature(el: &Element) -> bool {
    el.child(NS_DS, "Signature").is_some()
}

fn reference_of(sig: &Element) -> String {
    sig.find(&|e| e.is(NS_DS, "Reference"))
        .unwrap()
        .attr("URI")
        .unwrap()
        .trim_start_matches('#')
        .to_string()
}

/// The genuine signed element, cut out of a forged message: the element with `id` whose
/// NameIDs are genuine, with the signature that references `id` (reduced to SignedInfo,
/// SignatureValue and KeyInfo) put back after its Issuer. What an SP is meant to check.
fn genuine_signed(xml: &str, id: &str) -> String {
    let doc = parse(xml);
    let mut candidates = Vec::new();
    let mut signatures = Vec::new();
    for n in &doc.nodes {
        if let Node::Element(e) = n {
            candidates.extend(all_where(e, &|x| x.attr("ID") == Some(id)));
            signatures.extend(all_where(e, &|x| {
                x.is(NS_DS, "Signature")
                    && x.child(NS_DS, "SignedInfo").is_some()
                    && reference_of(x) == id
            }));
        }
    }
    let target = candidates
        .into_iter()
        .find(|c| {
            let n = nameids(c);
            !n.is_empty() && n.iter().all(|v| v == GENUINE)
        })
        .unwrap_or_else(|| panic!("no genuine element {id} in\n{xml}"));
    let sig = signatures
        .first()
        .unwrap_or_else(|| panic!("no signature for {id}"));
    let mut clean = sig.clone();
    let mut seen_signed_info = false;
    clean.children.retain(|n| match n {
        Node::Element(e) if e.is(NS_DS, "SignedInfo") => {
            !std::mem::replace(&mut seen_signed_info, true)
        }
        Node::Element(e) => e.is(NS_DS, "SignatureValue") || e.is(NS_DS, "KeyInfo"),
        _ => true,
    });
    let mut el = target;
    el.children
        .retain(|n| !matches!(n, Node::Element(e) if e.is(NS_DS, "Signature")));
    el.insert_after_child(NS_SAML, "Issuer", clean);
    dom::write_element(&el)
}

/// What a reader that takes the first text node of the first `local` element sees.
fn first_text_node(xml: &str, local: &str) -> String {
    let mut r = quick_xml::Reader::from_str(xml);
    let mut inside = false;
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) if e.local_name().as_ref() == local.as_bytes() => inside = true,
            Event::Text(t) if inside => return t.unescape().unwrap().into_owned(),
            Event::Comment(_) | Event::CData(_) if inside => return String::new(),
            Event::End(_) if inside => return String::new(),
            Event::Eof => panic!("no {local}"),
            _ => {}
        }
    }
}

fn throwaway_keypair() -> (String, String) {
    let key = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let mut name = openssl::x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "test").unwrap();
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
    (
        String::from_utf8(b.build().to_pem().unwrap()).unwrap(),
        String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap(),
    )
}

/// The DigestValue xmlsec1 computes for `el` under the reference in `signed_info`
/// (`xmlsec1 --sign` of `el` carrying a template made from that SignedInfo): an independent
/// digest of what the forge claims to have digested.
fn xmlsec_digest(el: &Element, signed_info: &Element) -> String {
    let mut si = signed_info.clone();
    if let Some(dv) = si.find_mut(&|e| e.is(NS_DS, "DigestValue")) {
        dv.children.clear();
    }
    let tmpl = Element::new(Some("ds"), "Signature", Some(NS_DS))
        .declare(Some("ds"), NS_DS)
        .with_child(si)
        .with_child(Element::new(Some("ds"), "SignatureValue", Some(NS_DS)));
    let mut doc = el.clone();
    doc.children
        .retain(|n| !matches!(n, Node::Element(e) if e.is(NS_DS, "Signature")));
    doc.insert_after_child(NS_SAML, "Issuer", tmpl);
    let (_, key) = throwaway_keypair();
    let file = temp(dom::write_element(&doc).as_bytes(), ".xml");
    let key = temp(key.as_bytes(), ".pem");
    let out = Command::new("xmlsec1")
        .arg("--sign")
        .arg("--privkey-pem")
        .arg(key.path())
        .args([
            "--id-attr:ID",
            ASSERTION_ID_ATTR,
            "--id-attr:ID",
            RESPONSE_ID_ATTR,
        ])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signed = root(&String::from_utf8(out.stdout).unwrap());
    signed.find(&|e| e.is(NS_DS, "DigestValue")).unwrap().text()
}

// ---------------------------------------------------------------- layer 1: edits and times

/// What an edit must have done to the response.
type Check = Box<dyn Fn(&Element)>;

#[test]
fn each_edit_op_does_what_it_says_and_the_result_is_signed() {
    let t = tenant(SignMode::Assertion);
    let cases: Vec<(Value, Check)> = vec![
        (
            json!({"op": "set", "path": "Response/@Destination", "value": "https://elsewhere.test/acs"}),
            Box::new(|r: &Element| {
                assert_eq!(r.attr("Destination"), Some("https://elsewhere.test/acs"))
            }),
        ),
        (
            json!({"op": "remove", "path": "Response/@Destination"}),
            Box::new(|r: &Element| assert_eq!(r.attr("Destination"), None)),
        ),
        (
            json!({"op": "set", "path": "Assertion/Subject/NameID", "value": "bob@acme.test"}),
            Box::new(|r: &Element| assert_eq!(nameids(r), vec!["bob@acme.test"])),
        ),
        (
            json!({"op": "remove", "path": "Assertion/Conditions/AudienceRestriction"}),
            Box::new(|r: &Element| {
                assert!(r.find(&|e| e.local == "AudienceRestriction").is_none())
            }),
        ),
        (
            json!({"op": "empty", "path": "Assertion/Conditions/AudienceRestriction/Audience"}),
            Box::new(|r: &Element| {
                assert_eq!(r.find(&|e| e.local == "Audience").unwrap().text(), "")
            }),
        ),
        (
            json!({"op": "remove", "path": "Assertion/AuthnStatement"}),
            Box::new(|r: &Element| assert!(r.find(&|e| e.local == "AuthnStatement").is_none())),
        ),
        (
            json!({"op": "duplicate", "path": "Assertion/Subject/NameID", "value": FORGED}),
            Box::new(|r: &Element| assert_eq!(nameids(r), vec![GENUINE, FORGED])),
        ),
        (
            json!({"op": "insert", "path": "Response/Status/StatusCode/StatusCode", "value": ""}),
            Box::new(|r: &Element| {
                let codes = all_where(r, &|e| e.local == "StatusCode");
                assert_eq!(codes.len(), 2);
                assert!(codes[0].elements().any(|c| c.local == "StatusCode"));
            }),
        ),
        (
            json!({"op": "set", "path": "Response/Status/StatusCode/@Value", "value": "urn:oasis:names:tc:SAML:2.0:status:Requester"}),
            Box::new(|r: &Element| {
                assert!(
                    r.find(&|e| e.local == "StatusCode")
                        .unwrap()
                        .attr("Value")
                        .unwrap()
                        .ends_with("Requester")
                )
            }),
        ),
        (
            json!({"op": "insert", "path": "Assertion/Subject", "position": "first",
                   "xml": "<saml:BaseID xmlns:x=\"urn:x\" x:y=\"1\">b</saml:BaseID>"}),
            Box::new(|r: &Element| {
                let s = r.find(&|e| e.local == "Subject").unwrap();
                assert!(s.elements().next().unwrap().is(NS_SAML, "BaseID"));
            }),
        ),
        (
            json!({"op": "set", "path": "Assertion/AttributeStatement/Attribute[@Name='uid']/AttributeValue", "value": "u-forged"}),
            Box::new(|r: &Element| {
                let a = r
                    .find(&|e| e.local == "Attribute" && e.attr("Name") == Some("uid"))
                    .unwrap();
                assert_eq!(a.elements().next().unwrap().text(), "u-forged");
            }),
        ),
    ];
    for (edit, check) in cases {
        let xml = forged(&t, json!({"edits": [edit.clone()]}));
        check(&root(&xml));
        // Edits come before signing: the result verifies.
        xmlsec(&xml, &cert(&t), "ar", &[]).unwrap_or_else(|e| panic!("{edit}: {e}\n{xml}"));
    }
    // Duplicating an attribute makes the document not well-formed, on purpose.
    let xml = forged(
        &t,
        json!({"sign": "none", "edits": [{"op": "duplicate", "path": "Response/@Destination", "value": "https://evil.test/"}]}),
    );
    assert!(xml.contains(&format!(" Destination=\"{ACS}\" ")));
    assert!(xml.contains(" Destination=\"https://evil.test/\""));
    assert!(dom::parse(&xml).is_err());
}

#[test]
fn edit_values_fill_placeholders_such_as_the_acs_url_in_another_case() {
    let t = tenant(SignMode::Both);
    for (value, want) in [
        (
            "{{acs_url_upper_path}}",
            "http://sp.test/ACS?connection=org-1",
        ),
        (
            "{{acs_url_upper_host}}",
            "HTTP://SP.TEST/acs?connection=org-1",
        ),
        ("{{acs_url}}#x&y", "http://sp.test/acs?connection=org-1#x&y"),
    ] {
        let xml = forged(
            &t,
            json!({"edits": [{"op": "set", "path": "Response/@Destination", "value": value}]}),
        );
        let r = root(&xml);
        assert_eq!(r.attr("Destination"), Some(want), "{value}");
        assert!(verifies(&xml, &cert(&t)), "{value}");
    }
    // An unknown placeholder is refused with the field's path before any sign-in.
    let spec: ForgeSpec = serde_json::from_value(
        json!({"edits": [{"op": "set", "path": "Response/@Destination", "value": "{{acs}}"}]}),
    )
    .unwrap();
    let e = forge::check(&t, &spec, "http://127.0.0.1:9", "saml.forge")
        .unwrap_err()
        .to_string();
    assert!(e.contains("saml.forge.edits[0].value"), "{e}");
    assert!(e.contains("unknown placeholder {{acs}}"), "{e}");
}

#[test]
fn times_are_offsets_from_the_tenant_now_per_field() {
    let t = tenant(SignMode::Assertion);
    let spec: ForgeSpec = serde_json::from_value(json!({"times": {
        "Response/@IssueInstant": -10,
        "Assertion/@IssueInstant": -20,
        "Assertion/Conditions/@NotBefore": 3600,
        "Assertion/Conditions/@NotOnOrAfter": -3600,
        "Assertion/Subject/SubjectConfirmation/SubjectConfirmationData/@NotOnOrAfter": -60,
        "Assertion/Subject/SubjectConfirmation/SubjectConfirmationData/@NotBefore": 30,
        "Assertion/AuthnStatement/@AuthnInstant": -7200,
        "Assertion/AuthnStatement/@SessionNotOnOrAfter": 86400
    }}))
    .unwrap();
    let mut view = IdpView::of(&t, "http://127.0.0.1:9");
    view.now = time::macros::datetime!(2030-06-01 12:00:00 UTC);
    let f = forge::issue(&view, &t.users[0], Some(&request()), &[], &spec).unwrap();
    let xml = String::from_utf8(B64.decode(f.saml_response).unwrap()).unwrap();
    let r = root(&xml);
    let at = |local: &str, attr: &str| {
        r.find(&|e| e.local == local)
            .unwrap()
            .attr(attr)
            .unwrap()
            .to_string()
    };
    assert_eq!(r.attr("IssueInstant").unwrap(), "2030-06-01T11:59:50.000Z");
    assert_eq!(at("Assertion", "IssueInstant"), "2030-06-01T11:59:40.000Z");
    assert_eq!(at("Conditions", "NotBefore"), "2030-06-01T13:00:00.000Z");
    assert_eq!(at("Conditions", "NotOnOrAfter"), "2030-06-01T11:00:00.000Z");
    assert_eq!(
        at("SubjectConfirmationData", "NotOnOrAfter"),
        "2030-06-01T11:59:00.000Z"
    );
    assert_eq!(
        at("SubjectConfirmationData", "NotBefore"),
        "2030-06-01T12:00:30.000Z"
    );
    assert_eq!(
        at("AuthnStatement", "AuthnInstant"),
        "2030-06-01T10:00:00.000Z"
    );
    assert_eq!(
        at("AuthnStatement", "SessionNotOnOrAfter"),
        "2030-06-02T12:00:00.000Z"
    );
    assert!(verifies(&xml, &cert(&t)), "{xml}");
}

// ---------------------------------------------------------------- layer 2: signing choices

fn signatures(el: &Element) -> Vec<Element> {
    all_where(el, &|e| e.is(NS_DS, "Signature"))
}

fn algorithm(sig: &Element, local: &str) -> String {
    sig.find(&|e| e.is(NS_DS, local))
        .unwrap()
        .attr("Algorithm")
        .unwrap()
        .to_string()
}

#[test]
fn sign_choice_puts_signatures_where_it_says() {
    let t = tenant(SignMode::Assertion);
    for (sign, response, assertion) in [
        (json!("none"), false, false),
        (json!("assertion"), false, true),
        (json!("response"), true, false),
        (json!("both"), true, true),
        (json!({"element": "Assertion"}), false, true),
        (json!({"element": "Response"}), true, false),
    ] {
        let xml = forged(&t, json!({"sign": sign}));
        let r = root(&xml);
        assert_eq!(has_signature(&r), response, "{sign}");
        let a = &child_assertions(&r)[0];
        assert_eq!(has_signature(a), assertion, "{sign}");
        if response {
            assert_eq!(
                reference_of(r.child(NS_DS, "Signature").unwrap()),
                r.attr("ID").unwrap()
            );
            xmlsec(&xml, &cert(&t), "r", &[]).unwrap();
        }
        if assertion {
            let sig = a.child(NS_DS, "Signature").unwrap();
            assert_eq!(reference_of(sig), a.attr("ID").unwrap());
            // Right after the Issuer, as the schema wants.
            assert!(a.elements().nth(1).unwrap().is(NS_DS, "Signature"));
            xmlsec(&dom::write_element(a), &cert(&t), "a", &[]).unwrap();
        }
        assert_eq!(verifies(&xml, &cert(&t)), response || assertion, "{sign}");
    }
}

#[test]
fn algorithms_and_mixed_digests_are_what_the_xml_says_and_verify() {
    let t = tenant(SignMode::Assertion);
    let cases = [
        ("rsa-sha1", None, "xmldsig#rsa-sha1", "xmldsig#sha1"),
        (
            "rsa-sha256",
            None,
            "xmldsig-more#rsa-sha256",
            "xmlenc#sha256",
        ),
        (
            "rsa-sha384",
            None,
            "xmldsig-more#rsa-sha384",
            "xmldsig-more#sha384",
        ),
        (
            "rsa-sha512",
            None,
            "xmldsig-more#rsa-sha512",
            "xmlenc#sha512",
        ),
        (
            "rsa-sha256",
            Some("sha1"),
            "xmldsig-more#rsa-sha256",
            "xmldsig#sha1",
        ),
        (
            "rsa-sha1",
            Some("sha512"),
            "xmldsig#rsa-sha1",
            "xmlenc#sha512",
        ),
    ];
    for (sig_alg, digest, sig_uri, digest_uri) in cases {
        let mut spec = json!({"sign": "both", "signature_algorithm": sig_alg});
        if let Some(d) = digest {
            spec["digest_algorithm"] = json!(d);
        }
        let xml = forged(&t, spec);
        let sigs = signatures(&root(&xml));
        assert_eq!(sigs.len(), 2);
        for s in &sigs {
            assert!(
                algorithm(s, "SignatureMethod").ends_with(sig_uri),
                "{sig_alg}"
            );
            assert!(
                algorithm(s, "DigestMethod").ends_with(digest_uri),
                "{digest:?}"
            );
        }
        assert!(verifies(&xml, &cert(&t)), "{sig_alg} {digest:?}\n{xml}");
    }
}

#[test]
fn key_info_choices() {
    let t = tenant(SignMode::Assertion);
    let xml = forged(&t, json!({"key_info": "x509"}));
    let r = root(&xml);
    let ki = r.find(&|e| e.is(NS_DS, "KeyInfo")).unwrap();
    assert_eq!(
        ki.find(&|e| e.local == "X509Certificate").unwrap().text(),
        t.keys.primary.cert_base64()
    );
    assert!(verifies(&xml, &cert(&t)));

    let xml = forged(&t, json!({"key_info": "rsa_key_value"}));
    let r = root(&xml);
    let ki = r.find(&|e| e.is(NS_DS, "KeyInfo")).unwrap();
    assert!(ki.find(&|e| e.local == "X509Data").is_none());
    let rsa = t.keys.primary.private_key().rsa().unwrap();
    assert_eq!(
        B64.decode(ki.find(&|e| e.local == "Modulus").unwrap().text())
            .unwrap(),
        rsa.n().to_vec()
    );
    assert_eq!(
        B64.decode(ki.find(&|e| e.local == "Exponent").unwrap().text())
            .unwrap(),
        rsa.e().to_vec()
    );
    assert!(verifies(&xml, &cert(&t)));

    let xml = forged(&t, json!({"key_info": "none"}));
    let r = root(&xml);
    assert!(r.find(&|e| e.is(NS_DS, "KeyInfo")).is_none());
    assert!(r.find(&|e| e.is(NS_DS, "SignatureValue")).is_some());
    assert!(verifies(&xml, &cert(&t)));
}

#[test]
fn attacker_key_is_not_the_tenant_key_and_ships_its_own_certificate() {
    let t = tenant(SignMode::Assertion);
    let xml = forged(&t, json!({"signing_key": "attacker"}));
    let shipped = root(&xml)
        .find(&|e| e.local == "X509Certificate")
        .unwrap()
        .text();
    assert_eq!(shipped, t.keys.unknown().unwrap().cert_base64());
    assert_ne!(shipped, t.keys.primary.cert_base64());
    // Checked against the keys xmlsec1 is given, not the one the message carries.
    assert!(
        xmlsec(
            &xml,
            &attacker_cert(&t),
            "a",
            &["--enabled-key-data", "x509"]
        )
        .is_ok()
    );
    assert!(xmlsec(&xml, &cert(&t), "a", &["--enabled-key-data", "x509"]).is_err());
}

#[test]
fn key_faults_still_pick_the_tenant_key_under_a_forge() {
    let t = tenant(SignMode::Assertion);
    let f = run(
        &t,
        json!({"signature_algorithm": "rsa-sha512"}),
        &[Fault::KeyRotation],
    );
    let xml = String::from_utf8(B64.decode(f.saml_response).unwrap()).unwrap();
    let rotated = t.keys.rotated().unwrap();
    assert!(
        xmlsec(
            &xml,
            &rotated.cert_pem,
            "a",
            &["--enabled-key-data", "x509"]
        )
        .is_ok()
    );
    assert!(xmlsec(&xml, &cert(&t), "a", &["--enabled-key-data", "x509"]).is_err());
    // `unsigned` wins over the forge's sign choice; `tampered` still breaks the digest.
    let f = run(&t, json!({"sign": "both"}), &[Fault::Unsigned]);
    let xml = String::from_utf8(B64.decode(f.saml_response).unwrap()).unwrap();
    assert!(signatures(&root(&xml)).is_empty());
    let f = run(&t, json!({}), &[Fault::Tampered]);
    let xml = String::from_utf8(B64.decode(f.saml_response).unwrap()).unwrap();
    assert!(!verifies(&xml, &cert(&t)));
}

// ---------------------------------------------------------------- templates

const TEMPLATE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"
                xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"
                xmlns:unused="urn:unused"
                Version="2.0" ID="{{response_id}}" IssueInstant="{{now}}"
                Destination="{{destination}}" InResponseTo="{{in_response_to}}">
  <!-- hand-written: indented, namespaces declared on the root, attributes in any order -->
  <saml:Issuer>{{issuer}}</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion Version="2.0" IssueInstant="{{now-5}}" ID="{{assertion_id}}">
    <saml:Issuer>{{issuer}}</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="{{nameid_format}}">{{nameid}}</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData Recipient="{{recipient}}" NotOnOrAfter="{{not_on_or_after}}" InResponseTo="{{in_response_to}}"/>
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotBefore="{{not_before}}" NotOnOrAfter="{{now+300}}">
      <saml:AudienceRestriction><saml:Audience>{{audience}}</saml:Audience></saml:AudienceRestriction>
    </saml:Conditions>
    <saml:AuthnStatement AuthnInstant="{{now}}" SessionIndex="{{session_index}}">
      <saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>
    </saml:AuthnStatement>
    <saml:AttributeStatement>
      <saml:Attribute Name="email"><saml:AttributeValue>{{email}}</saml:AttributeValue></saml:Attribute>
      <saml:Attribute Name="uid"><saml:AttributeValue>{{uid}}</saml:AttributeValue></saml:Attribute>
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"#;

#[test]
fn a_hand_written_template_is_filled_signed_and_verifies() {
    let t = tenant(SignMode::Assertion);
    for sign in [
        json!({"element": "Assertion"}),
        json!({"element": "Response"}),
        json!("both"),
    ] {
        let xml = forged(&t, json!({"template": TEMPLATE, "sign": sign}));
        assert!(!xml.contains("{{"), "{xml}");
        let r = root(&xml);
        assert_eq!(nameids(&r), vec![GENUINE]);
        assert_eq!(r.attr("Destination"), Some(ACS));
        assert_eq!(r.attr("InResponseTo"), Some("_req-7"));
        assert_eq!(r.find(&|e| e.local == "Audience").unwrap().text(), AUDIENCE);
        assert_eq!(
            r.find(&|e| e.local == "AttributeValue").unwrap().text(),
            GENUINE
        );
        // Whitespace, the unused namespace and the comment stay; the signature holds.
        assert!(xml.contains("xmlns:unused=\"urn:unused\""));
        assert!(xml.contains("<!-- hand-written"));
        xmlsec(&xml, &cert(&t), "ar", &[]).unwrap_or_else(|e| panic!("{sign}: {e}\n{xml}"));
    }
    // Then transformed by name like any other response.
    let xml = forged(
        &t,
        json!({"template": TEMPLATE, "sign": {"element": "Assertion"}, "attack": "xsw3", "forged_identity": FORGED}),
    );
    let r = root(&xml);
    let a = child_assertions(&r);
    assert_eq!(nameids(&a[0]), vec![FORGED]);
    assert!(verifies(&xml, &cert(&t)));
}

// ---------------------------------------------------------------- layer 3: attacks

fn attack(t: &Tenant, name: &str) -> String {
    forged(t, json!({"attack": name, "forged_identity": FORGED}))
}

#[test]
fn xsw1_and_xsw2_wrap_the_signed_response() {
    for sign in [SignMode::Response, SignMode::Both] {
        let t = tenant(sign);
        for name in ["xsw1", "xsw2"] {
            let xml = attack(&t, name);
            let r = root(&xml);
            // The evil Response (new ID) says the forged identity and keeps the signature.
            assert!(r.attr("ID").unwrap().starts_with("_evil"));
            let evil_assertion = &child_assertions(&r)[0];
            assert_eq!(nameids(evil_assertion), vec![FORGED]);
            assert!(!has_signature(evil_assertion));
            let sig = r.child(NS_DS, "Signature").unwrap();
            let orig_id = reference_of(sig);
            let orig = all_where(&r, &|e| {
                e.attr("ID") == Some(orig_id.as_str()) && e.local == "Response"
            });
            assert_eq!(orig.len(), 1);
            let inside_sig = sig.elements().any(|e| e.local == "Response");
            assert_eq!(inside_sig, name == "xsw1", "{name}");
            assert!(nameids(&orig[0]).iter().all(|n| n == GENUINE));
            // What the SP is meant to check still verifies.
            let genuine = genuine_signed(&xml, &orig_id);
            xmlsec(&genuine, &cert(&t), "r", &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
            if name == "xsw2" && sign == SignMode::Response {
                // Detached: xmlsec1 resolves the ID to the original and verifies it in place.
                xmlsec(&xml, &cert(&t), "r", &[]).unwrap();
            }
        }
    }
}

#[test]
fn xsw3_to_xsw8_wrap_the_signed_assertion() {
    let t = tenant(SignMode::Assertion);
    for name in ["xsw3", "xsw4", "xsw5", "xsw6", "xsw7", "xsw8"] {
        let xml = attack(&t, name);
        let r = root(&xml);
        let top = child_assertions(&r);
        let genuine_id = {
            let sig = signatures(&r).into_iter().next().unwrap();
            reference_of(&sig)
        };
        match name {
            "xsw3" => {
                assert_eq!(top.len(), 2);
                assert_eq!(nameids(&top[0]), vec![FORGED]);
                assert!(!has_signature(&top[0]) && has_signature(&top[1]));
                assert_ne!(top[0].attr("ID"), top[1].attr("ID"));
            }
            "xsw4" => {
                assert_eq!(top.len(), 1);
                assert!(!has_signature(&top[0]));
                assert_eq!(top[0].text(), "");
                let inner = child_assertions(&top[0]);
                assert_eq!(inner.len(), 1);
                assert_eq!(nameids(&inner[0]), vec![GENUINE]);
                assert!(has_signature(&inner[0]));
                assert_eq!(
                    top[0]
                        .child(NS_SAML, "Subject")
                        .unwrap()
                        .elements()
                        .next()
                        .unwrap()
                        .text(),
                    FORGED
                );
            }
            "xsw5" => {
                assert_eq!(top.len(), 2);
                assert_eq!(nameids(&top[0]), vec![FORGED]);
                assert!(has_signature(&top[0]) && !has_signature(&top[1]));
                assert_eq!(top[1].attr("ID").unwrap(), genuine_id);
                assert_ne!(top[0].attr("ID").unwrap(), genuine_id);
            }
            "xsw6" => {
                assert_eq!(top.len(), 1);
                let sig = top[0].child(NS_DS, "Signature").unwrap();
                assert_eq!(nameids(sig), vec![GENUINE]);
                assert_eq!(
                    top[0]
                        .child(NS_SAML, "Subject")
                        .unwrap()
                        .elements()
                        .next()
                        .unwrap()
                        .text(),
                    FORGED
                );
            }
            "xsw7" => {
                let ext = r.find(&|e| e.local == "Extensions").unwrap();
                let evil = child_assertions(ext);
                assert_eq!(nameids(&evil[0]), vec![FORGED]);
                assert_eq!(
                    evil[0].attr("ID").unwrap(),
                    genuine_id,
                    "same ID, on purpose"
                );
                assert_eq!(top.len(), 1);
                assert_eq!(nameids(&top[0]), vec![GENUINE]);
                // Extensions sits where the schema allows it: before Status.
                let order: Vec<&str> = r.elements().map(|e| e.local.as_str()).collect();
                assert_eq!(order, vec!["Issuer", "Extensions", "Status", "Assertion"]);
            }
            "xsw8" => {
                assert_eq!(top.len(), 1);
                assert_eq!(top[0].attr("ID").unwrap(), genuine_id);
                let sig = top[0].child(NS_DS, "Signature").unwrap();
                let object = sig.child(NS_DS, "Object").unwrap();
                assert_eq!(nameids(object), vec![GENUINE]);
                assert_eq!(
                    top[0]
                        .child(NS_SAML, "Subject")
                        .unwrap()
                        .elements()
                        .next()
                        .unwrap()
                        .text(),
                    FORGED
                );
            }
            _ => unreachable!(),
        }
        // The first NameID a naive reader takes is the forged one (xsw6 and xsw8 put the
        // original inside the Signature, which comes before the Subject).
        if !matches!(name, "xsw6" | "xsw8") {
            assert_eq!(first_text_node(&xml, "NameID"), FORGED, "{name}");
        }
        let genuine = genuine_signed(&xml, &genuine_id);
        xmlsec(&genuine, &cert(&t), "a", &[]).unwrap_or_else(|e| panic!("{name}: {e}\n{genuine}"));
        if matches!(name, "xsw3" | "xsw4" | "xsw5") {
            // xmlsec1 itself resolves these to the genuine element and verifies the message.
            assert!(verifies(&xml, &cert(&t)), "{name}");
        }
    }
}

#[test]
fn assertion_wrapping_with_an_encrypted_assertion() {
    let (sp_cert, sp_key) = throwaway_keypair();
    let t = tenant_for(GENUINE, SignMode::Assertion, Some(sp_cert));
    for name in ["xsw3", "xsw5", "duplicate_assertion"] {
        let xml = forged(
            &t,
            json!({"attack": name, "forged_identity": FORGED, "encrypt": "aes256-gcm"}),
        );
        assert!(
            !xml.contains(GENUINE) && !xml.contains(FORGED),
            "{name}: plaintext"
        );
        let r = root(&xml);
        let encrypted: Vec<Element> = r
            .elements()
            .filter(|e| e.local == "EncryptedAssertion")
            .cloned()
            .collect();
        assert_eq!(encrypted.len(), 2, "{name}");
        let mut seen = Vec::new();
        let mut verified = 0;
        for e in &encrypted {
            let plain = xmlsec_decrypt(&dom::write_element(e), &sp_key).unwrap();
            let a = root(&plain);
            let a = if a.local == "Assertion" {
                a
            } else {
                child_assertions(&a).remove(0)
            };
            seen.push(nameids(&a)[0].clone());
            if nameids(&a) == vec![GENUINE] && has_signature(&a) {
                xmlsec(&dom::write_element(&a), &cert(&t), "a", &[]).unwrap();
                verified += 1;
            }
        }
        // xsw5 moves the signature onto the evil copy, so only its digest still matches.
        assert_eq!(verified, usize::from(name != "xsw5"), "{name}");
        let expect = if name == "duplicate_assertion" {
            vec![GENUINE, FORGED]
        } else {
            vec![FORGED, GENUINE]
        };
        assert_eq!(seen, expect, "{name}");
    }
}

#[test]
fn response_wrapping_with_an_encrypted_assertion() {
    let (sp_cert, sp_key) = throwaway_keypair();
    let t = tenant_for(GENUINE, SignMode::Response, Some(sp_cert));
    let xml = forged(
        &t,
        json!({"attack": "xsw1", "forged_identity": FORGED, "encrypt": "aes128-cbc"}),
    );
    let r = root(&xml);
    let sig = r.child(NS_DS, "Signature").unwrap();
    let orig = sig.elements().find(|e| e.local == "Response").unwrap();
    // The original Response, with the signature put back, verifies over its ciphertext.
    let mut whole = orig.clone();
    let mut clean = sig.clone();
    clean
        .children
        .retain(|n| !matches!(n, Node::Element(e) if e.local == "Response"));
    whole.insert_after_child(NS_SAML, "Issuer", clean);
    xmlsec(&dom::write_element(&whole), &cert(&t), "r", &[]).unwrap();
    let genuine_enc = orig.child(NS_SAML, "EncryptedAssertion").unwrap();
    let evil_enc = r.child(NS_SAML, "EncryptedAssertion").unwrap();
    let plain = xmlsec_decrypt(&dom::write_element(genuine_enc), &sp_key).unwrap();
    assert_eq!(nameids(&root(&plain)), vec![GENUINE]);
    let plain = xmlsec_decrypt(&dom::write_element(evil_enc), &sp_key).unwrap();
    assert_eq!(nameids(&root(&plain)), vec![FORGED]);
}

#[test]
fn duplicate_assertion_puts_an_unsigned_copy_after_the_genuine_one() {
    let t = tenant(SignMode::Assertion);
    let xml = attack(&t, "duplicate_assertion");
    let top = child_assertions(&root(&xml));
    assert_eq!(top.len(), 2);
    assert_eq!(nameids(&top[0]), vec![GENUINE]);
    assert!(has_signature(&top[0]));
    assert_eq!(nameids(&top[1]), vec![FORGED]);
    assert!(!has_signature(&top[1]));
    assert!(verifies(&xml, &cert(&t)));
}

#[test]
fn signature_exclusion_removes_every_signature() {
    let t = tenant(SignMode::Both);
    let xml = forged(&t, json!({"attack": "signature_exclusion"}));
    assert!(signatures(&root(&xml)).is_empty());
    assert_eq!(nameids(&root(&xml)), vec![GENUINE]);
    assert!(!verifies(&xml, &cert(&t)));
    let xml = attack(&t, "signature_exclusion");
    assert_eq!(nameids(&root(&xml)), vec![FORGED]);
    let r = root(&xml);
    let email = r
        .find(&|e| {
            e.local == "Attribute" && e.attr("Name").is_some_and(|n| n.ends_with("emailaddress"))
        })
        .unwrap();
    assert_eq!(email.elements().next().unwrap().text(), FORGED);
}

#[test]
fn comment_and_cdata_in_nameid_keep_the_signature_and_truncate_naive_reads() {
    let genuine = "alice@acme.test.evil.test";
    for sign in [SignMode::Assertion, SignMode::Response, SignMode::Both] {
        let t = tenant_for(genuine, sign, None);
        for name in ["comment_in_nameid", "cdata_in_nameid"] {
            let xml = attack(&t, name);
            assert!(verifies(&xml, &cert(&t)), "{name} {sign:?}\n{xml}");
            let marker = if name == "comment_in_nameid" {
                "alice@acme.test<!---->.evil.test</saml:NameID>"
            } else {
                "alice@acme.test<![CDATA[.evil.test]]></saml:NameID>"
            };
            assert!(xml.contains(marker), "{xml}");
            // A reader of the first text node sees the forged identity; c14n the genuine one.
            assert_eq!(first_text_node(&xml, "NameID"), FORGED);
            let els = elements(&xml);
            if name == "comment_in_nameid" {
                assert_eq!(first(&els, "NameID").unwrap().text, genuine);
            }
            // The email attribute, equal to the NameID, is split the same way.
            let email = attribute_values(
                &xml,
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
            );
            if name == "comment_in_nameid" {
                assert_eq!(email.unwrap(), vec![genuine.to_string()]);
            }
        }
    }
    // With an encrypted assertion the split is inside, and the inner signature holds.
    let (sp_cert, sp_key) = throwaway_keypair();
    let t = tenant_for(genuine, SignMode::Assertion, Some(sp_cert));
    let xml = forged(
        &t,
        json!({"attack": "comment_in_nameid", "forged_identity": FORGED, "encrypt": "aes128-cbc"}),
    );
    let plain = xmlsec_decrypt(&xml, &sp_key).unwrap();
    assert!(plain.contains("alice@acme.test<!---->.evil.test"));
    let a = all_where(&root(&plain), &|e| e.is(NS_SAML, "Assertion")).remove(0);
    xmlsec(&dom::write_element(&a), &cert(&t), "a", &[]).unwrap();
}

#[test]
fn comment_in_nameid_needs_a_prefix_of_the_genuine_identity() {
    let t = tenant(SignMode::Assertion);
    let spec: ForgeSpec =
        serde_json::from_value(json!({"attack": "comment_in_nameid", "forged_identity": FORGED}))
            .unwrap();
    let view = IdpView::of(&t, "http://127.0.0.1:9");
    let e = forge::issue(&view, &t.users[0], Some(&request()), &[], &spec).unwrap_err();
    assert!(e.to_string().contains("must be a proper prefix"), "{e}");
}

#[test]
fn advice_wrapping_hides_the_genuine_assertion_in_advice() {
    let t = tenant(SignMode::Assertion);
    let xml = attack(&t, "advice_wrapping");
    let top = child_assertions(&root(&xml));
    assert_eq!(top.len(), 1);
    assert!(!has_signature(&top[0]));
    let advice = top[0].child(NS_SAML, "Advice").unwrap();
    let inner = child_assertions(advice);
    assert_eq!(nameids(&inner[0]), vec![GENUINE]);
    assert!(has_signature(&inner[0]));
    assert_eq!(first_text_node(&xml, "NameID"), FORGED);
    let order: Vec<&str> = top[0].elements().map(|e| e.local.as_str()).collect();
    assert_eq!(&order[..4], &["Issuer", "Subject", "Conditions", "Advice"]);
    assert!(verifies(&xml, &cert(&t)));
}

#[test]
fn response_in_advice_hides_the_genuine_response_in_the_evil_assertions_advice() {
    let t = tenant(SignMode::Response);
    let xml = attack(&t, "response_in_advice");
    let r = root(&xml);
    // The evil root (new ID) carries the genuine Response's Signature...
    assert!(r.attr("ID").unwrap().starts_with("_evil"));
    let sig = r.child(NS_DS, "Signature").unwrap();
    let orig_id = reference_of(sig);
    assert_ne!(r.attr("ID"), Some(orig_id.as_str()));
    // ...and one unsigned assertion (new ID) that says the forged identity, first in document
    // order, with the genuine Response (no Signature left in it) in its Advice.
    let top = child_assertions(&r);
    assert_eq!(top.len(), 1);
    assert!(top[0].attr("ID").unwrap().starts_with("_evil"));
    assert!(!has_signature(&top[0]));
    assert_eq!(first_text_node(&xml, "NameID"), FORGED);
    let order: Vec<&str> = top[0].elements().map(|e| e.local.as_str()).collect();
    assert_eq!(&order[..4], &["Issuer", "Subject", "Conditions", "Advice"]);
    let advice = top[0].child(NS_SAML, "Advice").unwrap();
    let inner: Vec<&Element> = advice.elements().collect();
    assert_eq!(inner.len(), 1);
    assert!(inner[0].is("urn:oasis:names:tc:SAML:2.0:protocol", "Response"));
    assert_eq!(inner[0].attr("ID"), Some(orig_id.as_str()));
    assert!(!has_signature(inner[0]));
    assert_eq!(nameids(inner[0]), vec![GENUINE]);
    // The genuine Response's ID appears once, and the signature still verifies against it
    // where it now sits.
    let same_id = all_where(&r, &|e| e.attr("ID") == Some(orig_id.as_str()));
    assert_eq!(same_id.len(), 1);
    assert!(verifies(&xml, &cert(&t)), "{xml}");
    // An assertion-only signature has no Response signature to move.
    let t = tenant(SignMode::Assertion);
    let spec: ForgeSpec =
        serde_json::from_value(json!({"attack": "response_in_advice", "forged_identity": FORGED}))
            .unwrap();
    let view = IdpView::of(&t, "http://127.0.0.1:9");
    assert!(forge::issue(&view, &t.users[0], Some(&request()), &[], &spec).is_err());
}

#[test]
fn comment_in_digest_value_keeps_signed_info_valid_and_hides_the_new_digest() {
    for sign in [SignMode::Assertion, SignMode::Response] {
        let t = tenant(sign);
        let xml = attack(&t, "comment_in_digest_value");
        let r = root(&xml);
        assert_eq!(nameids(&r), vec![FORGED]);
        // The content changed, so the reference digest no longer matches...
        assert!(!verifies(&xml, &cert(&t)));
        // ...but SignedInfo (comments dropped by c14n) is the genuine one: put the genuine
        // identity back and the message verifies.
        let restored = xml.replace(FORGED, GENUINE);
        assert!(verifies(&restored, &cert(&t)), "{sign:?}");
        // The comment holds the digest of the element as shipped, by xmlsec1's own reckoning.
        let signed = if sign == SignMode::Assertion {
            child_assertions(&r).remove(0)
        } else {
            r.clone()
        };
        let sig = signed.child(NS_DS, "Signature").unwrap();
        let dv = sig.find(&|e| e.is(NS_DS, "DigestValue")).unwrap();
        let comment = match &dv.children[0] {
            Node::Comment(c) => c.clone(),
            other => panic!("{other:?}"),
        };
        let si = sig.child(NS_DS, "SignedInfo").unwrap();
        assert_eq!(xmlsec_digest(&signed, si), comment);
        assert_eq!(first_text_node(&xml, "DigestValue"), "");
    }
}

#[test]
fn second_signed_info_references_the_evil_assertion_with_a_correct_digest() {
    let t = tenant(SignMode::Assertion);
    let xml = attack(&t, "second_signed_info");
    let r = root(&xml);
    let top = child_assertions(&r);
    assert_eq!(top.len(), 2);
    let evil = &top[0];
    assert_eq!(nameids(evil), vec![FORGED]);
    let sig = evil.child(NS_DS, "Signature").unwrap();
    let infos: Vec<&Element> = sig.elements().filter(|e| e.local == "SignedInfo").collect();
    assert_eq!(infos.len(), 2);
    let order: Vec<&str> = sig.elements().map(|e| e.local.as_str()).collect();
    assert_eq!(
        order,
        vec!["SignedInfo", "SignatureValue", "SignedInfo", "KeyInfo"]
    );
    assert_eq!(reference_of(sig), top[1].attr("ID").unwrap());
    let second_ref = infos[1].find(&|e| e.local == "Reference").unwrap();
    assert_eq!(
        second_ref.attr("URI").unwrap(),
        format!("#{}", evil.attr("ID").unwrap())
    );
    let claimed = infos[1].find(&|e| e.local == "DigestValue").unwrap().text();
    assert_eq!(xmlsec_digest(evil, infos[1]), claimed);
    let genuine = genuine_signed(&xml, top[1].attr("ID").unwrap());
    xmlsec(&genuine, &cert(&t), "a", &[]).unwrap();
}

#[test]
fn two_roots_puts_the_genuine_assertion_first_and_an_evil_response_second() {
    let t = tenant(SignMode::Assertion);
    let xml = attack(&t, "two_roots");
    let doc = parse(&xml);
    let roots: Vec<&Element> = doc
        .nodes
        .iter()
        .filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(roots.len(), 2);
    assert!(roots[0].is(NS_SAML, "Assertion"));
    assert_eq!(nameids(roots[0]), vec![GENUINE]);
    assert_eq!(roots[1].local, "Response");
    assert_eq!(nameids(roots[1]), vec![FORGED]);
    assert!(signatures(roots[1]).is_empty());
    // Not one XML document; its first element on its own is the genuine signed assertion.
    let first = dom::write_element(roots[0]);
    assert!(xml.starts_with(&first));
    xmlsec(&first, &cert(&t), "a", &[]).unwrap();
}

#[test]
fn nested_after_subject_moves_the_signature_and_nests_the_original_after_the_evil_subject() {
    let t = tenant(SignMode::Assertion);
    let xml = attack(&t, "nested_after_subject");
    let r = root(&xml);
    let top = child_assertions(&r);
    assert_eq!(top.len(), 1);
    let evil = &top[0];
    assert!(evil.attr("ID").unwrap().starts_with("_evil"));
    // The evil assertion carries the original Signature, which still names the original.
    let sig = evil.child(NS_DS, "Signature").unwrap();
    let genuine_id = reference_of(sig);
    assert_ne!(evil.attr("ID").unwrap(), genuine_id);
    let order: Vec<&str> = evil.elements().map(|e| e.local.as_str()).collect();
    assert_eq!(
        &order[..4],
        &["Issuer", "Signature", "Subject", "Assertion"]
    );
    let nested = child_assertions(evil);
    assert_eq!(nested.len(), 1);
    assert_eq!(nested[0].attr("ID").unwrap(), genuine_id);
    assert!(!has_signature(&nested[0]));
    assert_eq!(nameids(&nested[0]), vec![GENUINE]);
    // A naive reader takes the evil Subject, which comes first.
    assert_eq!(first_text_node(&xml, "NameID"), FORGED);
    let genuine = genuine_signed(&xml, &genuine_id);
    xmlsec(&genuine, &cert(&t), "a", &[]).unwrap_or_else(|e| panic!("{e}\n{genuine}"));
}

#[test]
fn second_signed_assertion_puts_an_attacker_signed_assertion_before_the_genuine_one() {
    let t = tenant(SignMode::Assertion);
    let xml = attack(&t, "second_signed_assertion");
    let r = root(&xml);
    let top = child_assertions(&r);
    assert_eq!(top.len(), 2);
    assert_eq!(nameids(&top[0]), vec![FORGED]);
    assert_eq!(nameids(&top[1]), vec![GENUINE]);
    assert!(has_signature(&top[0]) && has_signature(&top[1]));
    assert_eq!(
        reference_of(top[0].child(NS_DS, "Signature").unwrap()),
        top[0].attr("ID").unwrap()
    );
    // Each assertion on its own: the evil one verifies under the attacker's certificate only,
    // the genuine one under the tenant's.
    let evil = dom::write_element(&top[0]);
    xmlsec(&evil, &attacker_cert(&t), "a", &[]).unwrap();
    assert!(xmlsec(&evil, &cert(&t), "a", &["--enabled-key-data", "x509"]).is_err());
    let genuine = genuine_signed(&xml, top[1].attr("ID").unwrap());
    xmlsec(&genuine, &cert(&t), "a", &[]).unwrap();
    assert_eq!(first_text_node(&xml, "NameID"), FORGED);
}

#[test]
fn concealed_response_keeps_the_signed_response_whole_inside_an_evil_one() {
    for sign in [SignMode::Response, SignMode::Both] {
        let t = tenant(sign);
        let xml = attack(&t, "concealed_response");
        let r = root(&xml);
        assert!(r.attr("ID").unwrap().starts_with("_evil"));
        assert!(!has_signature(&r));
        let order: Vec<&str> = r.elements().map(|e| e.local.as_str()).collect();
        assert_eq!(order, vec!["Issuer", "Status", "Assertion", "Response"]);
        assert_eq!(nameids(&child_assertions(&r)[0]), vec![FORGED]);
        let inner = r.elements().last().unwrap();
        assert!(has_signature(inner));
        assert_eq!(
            reference_of(inner.child(NS_DS, "Signature").unwrap()),
            inner.attr("ID").unwrap()
        );
        assert!(nameids(inner).iter().all(|n| n == GENUINE));
        // The whole message verifies: the only signature finds its Response untouched.
        assert!(verifies(&xml, &cert(&t)), "{sign:?}\n{xml}");
        assert_eq!(first_text_node(&xml, "NameID"), FORGED);
    }
}

#[test]
fn doctype_id_attribute_lets_the_dtd_pick_the_genuine_element_for_an_id_lookup() {
    let t = tenant(SignMode::Assertion);
    let xml = attack(&t, "doctype_id_attribute");
    assert!(
        xml.starts_with("<!DOCTYPE samlp:Response [\n<!ATTLIST saml:Assertion ID ID #IMPLIED>"),
        "{xml}"
    );
    let r = root(&xml);
    let top = child_assertions(&r);
    assert_eq!(top.len(), 1);
    assert_eq!(nameids(&top[0]), vec![FORGED]);
    assert!(!has_signature(&top[0]));
    let ext = r
        .child("urn:oasis:names:tc:SAML:2.0:protocol", "Extensions")
        .unwrap();
    let genuine = &child_assertions(ext)[0];
    assert!(has_signature(genuine));
    assert_eq!(nameids(genuine), vec![GENUINE]);
    assert_eq!(genuine.attr("ID"), top[0].attr("ID"), "same ID, on purpose");
    // xmlsec1 told nothing about ID attributes learns them from the DTD (libxml2 registers
    // the first one it parses, the genuine assertion) and verifies the whole message.
    xmlsec(&xml, &cert(&t), "", &[]).unwrap_or_else(|e| panic!("{e}\n{xml}"));
}

#[test]
fn signed_element_in_issuer_nests_the_genuine_element_under_a_junk_signature() {
    for sign in [SignMode::Assertion, SignMode::Response] {
        let t = tenant(sign);
        let xml = attack(&t, "signed_element_in_issuer");
        let r = root(&xml);
        let evil = if sign == SignMode::Assertion {
            child_assertions(&r).remove(0)
        } else {
            r.clone()
        };
        assert!(evil.attr("ID").unwrap().starts_with("_evil"));
        let issuer = evil.child(NS_SAML, "Issuer").unwrap();
        let nested: Vec<&Element> = issuer.elements().collect();
        assert_eq!(nested.len(), 1);
        let genuine_id = nested[0].attr("ID").unwrap().to_string();
        assert!(nameids(nested[0]).iter().all(|n| n == GENUINE));
        let junk = evil.child(NS_DS, "Signature").unwrap();
        assert_eq!(reference_of(junk), evil.attr("ID").unwrap());
        // The evil element's own signature is junk; the nested one is genuine.
        let mut evil_alone = evil.clone();
        evil_alone.children.iter_mut().for_each(|n| {
            if let Node::Element(e) = n
                && e.local == "Issuer"
            {
                e.set_text("issuer");
            }
        });
        assert!(xmlsec(&dom::write_element(&evil_alone), &cert(&t), "ar", &[]).is_err());
        xmlsec(&dom::write_element(nested[0]), &cert(&t), "ar", &[]).unwrap();
        let genuine = genuine_signed(&xml, &genuine_id);
        xmlsec(&genuine, &cert(&t), "ar", &[]).unwrap();
    }
}

#[test]
fn attacker_key_value_resigns_the_forged_identity() {
    let t = tenant(SignMode::Both);
    let xml = attack(&t, "attacker_key_value");
    let r = root(&xml);
    assert_eq!(nameids(&r), vec![FORGED]);
    let sigs = signatures(&r);
    assert_eq!(sigs.len(), 2);
    let attacker = t.keys.unknown().unwrap();
    let n = attacker.private_key().rsa().unwrap().n().to_vec();
    for s in &sigs {
        assert!(s.find(&|e| e.local == "X509Data").is_none());
        let m = s.find(&|e| e.local == "Modulus").unwrap().text();
        assert_eq!(B64.decode(m).unwrap(), n);
    }
    // Valid under the attacker's key only...
    assert!(
        xmlsec(
            &xml,
            &attacker_cert(&t),
            "ar",
            &["--enabled-key-data", "x509"]
        )
        .is_ok()
    );
    assert!(xmlsec(&xml, &cert(&t), "ar", &["--enabled-key-data", "x509"]).is_err());
    // ...which a verifier that trusts the key in the message (xmlsec1's default) takes.
    assert!(xmlsec(&xml, &cert(&t), "ar", &[]).is_ok());
}

#[test]
fn doctype_fake_assertion_hides_an_evil_assertion_in_the_internal_subset() {
    let t = tenant(SignMode::Assertion);
    let xml = attack(&t, "doctype_fake_assertion");
    assert!(xml.starts_with("<!DOCTYPE samlp:Response ["), "{xml}");
    let doc = parse(&xml);
    let dtd = doc.doctype.clone().unwrap();
    assert!(
        dtd.contains("<!ENTITY fake-assertion '<saml:Assertion"),
        "{dtd}"
    );
    assert!(dtd.contains(&format!(">{FORGED}</saml:NameID>")));
    // The document's content is the genuine, signed response...
    assert_eq!(nameids(doc.root().unwrap()), vec![GENUINE]);
    assert!(verifies(&xml, &cert(&t)), "{xml}");
    // ...while the first NameID in the text is the forged one.
    let first_nameid = xml.split("<saml:NameID").nth(1).unwrap();
    assert!(first_nameid.contains(&format!(">{FORGED}<")));
}

#[test]
fn namespace_confusion_needs_dtd_defaults_to_see_the_evil_assertion() {
    let t = tenant(SignMode::Assertion);
    let xml = attack(&t, "namespace_confusion");
    assert!(xml.contains(&format!(
        "<!ATTLIST Assertion xmlns CDATA #FIXED \"{NS_SAML}\">"
    )));
    // A namespace-aware reader that ignores DTD defaults: one SAML assertion (genuine) and an
    // <Assertion> in no namespace.
    let mut reader = quick_xml::NsReader::from_str(&xml);
    let (mut saml, mut bare) = (0, 0);
    loop {
        match reader.read_resolved_event().unwrap() {
            (ns, Event::Start(e)) if e.local_name().as_ref() == b"Assertion" => match ns {
                quick_xml::name::ResolveResult::Bound(n) if n.as_ref() == NS_SAML.as_bytes() => {
                    saml += 1
                }
                quick_xml::name::ResolveResult::Unbound => bare += 1,
                other => panic!("{other:?}"),
            },
            (_, Event::Eof) => break,
            _ => {}
        }
    }
    assert_eq!((saml, bare), (1, 1));
    let r = root(&xml);
    let evil = r.elements().find(|e| e.local == "Assertion").unwrap();
    assert!(evil.ns.is_none() && evil.prefix.is_none());
    assert_eq!(first_text_node(&xml, "NameID"), FORGED);
    assert!(verifies(&xml, &cert(&t)));
}

#[test]
fn parser_attacks_point_at_the_canary() {
    let t = tenant(SignMode::Assertion);
    let canary = "http://127.0.0.1:9/canary/x1";
    let xml = forged(&t, json!({"attack": "xxe", "canary_url": canary}));
    let mut r = quick_xml::Reader::from_str(&xml);
    let dtd = loop {
        if let Event::DocType(d) = r.read_event().unwrap() {
            break String::from_utf8(d.to_vec()).unwrap();
        }
    };
    assert!(
        dtd.contains(&format!("<!ENTITY % remote SYSTEM \"{canary}\">\n%remote;")),
        "{dtd}"
    );
    assert!(dtd.contains(&format!("<!ENTITY xxe SYSTEM \"{canary}\">")));
    assert!(xml.contains("/saml/metadata&xxe;</saml:Issuer>"));

    let xml = forged(
        &t,
        json!({"attack": "entity_expansion", "canary_url": canary}),
    );
    assert!(xml.contains(&format!("<!ENTITY canary SYSTEM \"{canary}\">")));
    // Five levels of ten: 10^5 copies, the top one also pulls in the canary.
    for level in 1..=5 {
        let decl = format!("<!ENTITY lol{level} \"");
        let line = xml.lines().find(|l| l.starts_with(&decl)).unwrap();
        assert_eq!(line.matches(&format!("&lol{};", level - 1)).count(), 10);
    }
    assert!(xml.contains("&canary;\">"));
    assert!(xml.contains("&lol5;</saml:Issuer>"));

    let xml = forged(
        &t,
        json!({"attack": "xslt_transform", "canary_url": canary}),
    );
    let r = root(&xml);
    let transforms = r.find(&|e| e.local == "Transforms").unwrap();
    let first = transforms.elements().next().unwrap();
    assert_eq!(
        first.attr("Algorithm"),
        Some("http://www.w3.org/TR/1999/REC-xslt-19991116")
    );
    let copy = first.find(&|e| e.local == "copy-of").unwrap();
    assert_eq!(
        copy.attr("select").unwrap(),
        format!("document('{canary}')")
    );
    assert_eq!(transforms.elements().count(), 3);
    assert!(!verifies(&xml, &cert(&t)));
}

#[test]
fn junk_truncated_and_wrong_encoding() {
    let t = tenant(SignMode::Assertion);
    let f = run(&t, json!({"attack": "junk"}), &[]);
    assert!(B64.decode(&f.saml_response).is_err());
    let full = forged(&t, json!({}));
    let f = run(&t, json!({"attack": "truncated"}), &[]);
    let half = B64.decode(&f.saml_response).unwrap();
    assert!(half.len() * 2 >= full.len() - 8 && half.len() * 2 <= full.len() + 8);
    assert!(full.starts_with(std::str::from_utf8(&half[..20]).unwrap()));
    assert!(dom::parse(std::str::from_utf8(&half).unwrap()).is_err());
    let latin = tenant_for("zoë@acme.test", SignMode::Assertion, None);
    let f = run(&latin, json!({"attack": "wrong_encoding"}), &[]);
    let bytes = B64.decode(&f.saml_response).unwrap();
    assert!(bytes.starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(bytes.ends_with(b"<!-- caf\xE9 -->"));
    assert!(std::str::from_utf8(&bytes).is_err());
    let needle = b"zo\xEB@acme.test</saml:NameID>";
    assert!(bytes.windows(needle.len()).any(|w| w == needle));
}

#[test]
fn every_attack_runs_on_every_sign_mode_it_allows() {
    let (sp_cert, _) = throwaway_keypair();
    for sign in [SignMode::Assertion, SignMode::Response, SignMode::Both] {
        // Tenants (and their keys) are made once per sign mode.
        let plain = tenant_for(GENUINE, sign, Some(sp_cert.clone()));
        let prefixed = tenant_for("alice@acme.test.evil.test", sign, Some(sp_cert.clone()));
        for encrypt in [false, true] {
            for &a in forge::Attack::ALL {
                let t = if a.name().contains("in_nameid") {
                    &prefixed
                } else {
                    &plain
                };
                let mut spec = json!({"attack": a.name()});
                if a.needs_identity() {
                    spec["forged_identity"] = json!(FORGED);
                }
                if a.needs_canary() {
                    spec["canary_url"] = json!("http://127.0.0.1:9/c");
                }
                if encrypt {
                    spec["encrypt"] = json!("aes128-cbc");
                }
                let parsed: ForgeSpec = serde_json::from_value(spec.clone()).unwrap();
                let allowed =
                    forge::spec::check_fields(&parsed, "forge", forge::sign_choice(sign)).is_ok();
                let expected = match a.needs() {
                    forge::attack::Needs::ResponseSignature => sign != SignMode::Assertion,
                    forge::attack::Needs::AssertionSignature => sign != SignMode::Response,
                    _ => true,
                };
                assert_eq!(allowed, expected, "{a} {sign:?}");
                if !allowed {
                    continue;
                }
                let view = IdpView::of(t, "http://127.0.0.1:9");
                let f = forge::issue(&view, &t.users[0], Some(&request()), &[], &parsed)
                    .unwrap_or_else(|e| panic!("{a} {sign:?} encrypt={encrypt}: {e}"));
                assert_eq!(f.record.attack, Some(a));
                assert_eq!(f.record.cwe.as_deref(), Some(a.cwe()));
                assert_eq!(f.record.encrypted, encrypt);
                assert!(!f.saml_response.is_empty());
            }
        }
    }
}

// ---------------------------------------------------------------- over HTTP

mod http {
    use super::*;
    use mock_idp::saml::request::encode_redirect;
    use mock_idp::server::{RunningIdp, ServeOptions, serve};
    use reqwest::StatusCode;

    struct Idp {
        _idp: RunningIdp,
        base: String,
        c: reqwest::Client,
    }

    async fn start() -> Idp {
        let idp = serve(ServeOptions::default()).await.unwrap();
        let base = idp.base_url().as_str().trim_end_matches('/').to_string();
        Idp {
            _idp: idp,
            base,
            c: reqwest::Client::new(),
        }
    }

    impl Idp {
        async fn create(&self, body: Value) -> reqwest::Response {
            self.c
                .post(format!("{}/_control/tenants", self.base))
                .json(&body)
                .send()
                .await
                .unwrap()
        }

        async fn next(&self, id: &str, body: Value) -> reqwest::Response {
            self.c
                .post(format!("{}/_control/tenants/{id}/faults/next", self.base))
                .json(&body)
                .send()
                .await
                .unwrap()
        }

        /// Signs in as mallory and answers the posted SAMLResponse form value.
        async fn sign_in(&self, id: &str) -> String {
            let browser = reqwest::Client::builder()
                .cookie_store(true)
                .build()
                .unwrap();
            let request = format!(
                r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>{AUDIENCE}</saml:Issuer></samlp:AuthnRequest>"#
            );
            let page = browser
                .get(format!("{}/t/{id}/saml/sso", self.base))
                .query(&[("SAMLRequest", encode_redirect(&request))])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let action = form_action(&page).unwrap();
            let flow = hidden_input(&page, "flow").unwrap();
            let html = browser
                .post(format!("{}{action}", self.base))
                .form(&[("username", GENUINE), ("password", "pw"), ("flow", &flow)])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(form_action(&html).unwrap(), ACS);
            hidden_input(&html, "SAMLResponse").unwrap()
        }

        async fn exchanges(&self, id: &str) -> Vec<Value> {
            self.c
                .get(format!("{}/_control/tenants/{id}/exchanges", self.base))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        }
    }

    fn tenant_body(id: &str, saml: Value) -> Value {
        json!({"id": id, "users": [{"email": GENUINE}],
               "sp": {"entity_id": AUDIENCE, "acs_url": ACS}, "saml": saml})
    }

    #[tokio::test]
    async fn a_standing_forge_and_a_next_one_reach_the_sp_and_the_log() {
        let idp = start().await;
        let r = idp
            .create(tenant_body(
                "standing",
                json!({"sign": "assertion", "forge": {"attack": "xsw3", "forged_identity": FORGED}}),
            ))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let info: Value = r.json().await.unwrap();
        let cert = info["saml"]["certificate_pem"]
            .as_str()
            .unwrap()
            .to_string();
        let xml = String::from_utf8(B64.decode(idp.sign_in("standing").await).unwrap()).unwrap();
        let top = child_assertions(&root(&xml));
        assert_eq!(nameids(&top[0]), vec![FORGED]);
        assert!(verifies(&xml, &cert));
        let log = idp.exchanges("standing").await;
        let x = log
            .iter()
            .rev()
            .find(|x| x["kind"] == "saml_response")
            .unwrap();
        assert_eq!(x["forge"]["attack"], "xsw3");
        assert_eq!(x["forge"]["cwe"], "CWE-347");
        assert_eq!(x["forge"]["forged_identity"], FORGED);
        // The attack is logged verbatim (the SP's bytes), not re-indented.
        assert_eq!(x["decoded"].as_str().unwrap(), xml);

        // faults/next: a forge for one response, then back to the standing one.
        let r = idp
            .next(
                "standing",
                json!({"forge": {"attack": "junk"}, "faults": ["wrong_audience"]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let value = idp.sign_in("standing").await;
        assert!(B64.decode(&value).is_err());
        let log = idp.exchanges("standing").await;
        let x = log
            .iter()
            .rev()
            .find(|x| x["kind"] == "saml_response")
            .unwrap();
        assert_eq!(x["forge"]["attack"], "junk");
        assert_eq!(x["forge"]["cwe"], "CWE-20");
        assert_eq!(x["faults"], json!(["wrong_audience"]));
        let xml = String::from_utf8(B64.decode(idp.sign_in("standing").await).unwrap()).unwrap();
        assert_eq!(nameids(&child_assertions(&root(&xml))[0]), vec![FORGED]);
    }

    #[tokio::test]
    async fn bad_forge_specs_are_400_with_the_path() {
        let idp = start().await;
        let cases = [
            (json!({"forge": {"attak": "xsw3"}}), "saml.forge.attak"),
            (json!({"forge": {"attack": "xsw99"}}), "saml.forge.attack"),
            (
                json!({"forge": {"attack": "xsw1", "forged_identity": FORGED}}),
                "saml.forge.attack",
            ),
            (
                json!({"forge": {"attack": "xsw3"}}),
                "saml.forge.forged_identity",
            ),
            (
                json!({"forge": {"attack": "xxe", "canary_url": "ftp://x/y"}}),
                "saml.forge.canary_url",
            ),
            (
                json!({"forge": {"sign": {"element": "Subject"}}}),
                "saml.forge.sign.element",
            ),
            (json!({"forge": {"key_info": "pgp"}}), "saml.forge.key_info"),
            (
                json!({"forge": {"edits": [{"op": "set", "path": "Assertion/Subject/NameID", "value": "x"},
                                        {"op": "set", "path": "Assertion/Subjet/NameID", "value": "x"}]}}),
                "saml.forge.edits[1].path",
            ),
            (
                json!({"forge": {"edits": [{"op": "set", "path": "Assertion/Subject/NameID", "valu": "x"}]}}),
                "saml.forge.edits[0].valu",
            ),
            (
                json!({"forge": {"times": {"Assertion/Conditions/@NotAfter": 5}}}),
                "saml.forge.times[\"Assertion/Conditions/@NotAfter\"]",
            ),
            (
                json!({"forge": {"template": "<samlp:Response>{{whoami}}</samlp:Response>"}}),
                "saml.forge.template",
            ),
            (
                json!({"forge": {"template": "<Response><Assertion>{{nameid}}</Assertion></Response>"}}),
                "saml.forge.template",
            ),
            (
                json!({"forge": {"edits": [{"op": "remove", "path": "Assertion/@ID"}]}}),
                "saml.forge.sign",
            ),
        ];
        for (saml, path) in cases {
            let mut saml = saml;
            saml["sign"] = json!("assertion");
            let r = idp.create(tenant_body("bad", saml.clone())).await;
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{saml}");
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["path"], path, "{saml} -> {e}");
        }
        // The same checks on faults/next, where the spec lives at `forge`.
        let r = idp
            .create(tenant_body("ok", json!({"sign": "response"})))
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        for (body, path) in [
            (
                json!({"forge": {"attack": "xsw3", "forged_identity": FORGED}}),
                "forge.attack",
            ),
            (
                json!({"forge": {"edits": [{"op": "remove", "path": "Assertion/Nothing"}]}}),
                "forge.edits[0].path",
            ),
            (
                json!({"forge": {"signature_algorithm": "rsa-md5"}}),
                "forge.signature_algorithm",
            ),
            (json!({"forge": {}, "fault": []}), "fault"),
        ] {
            let r = idp.next("ok", body.clone()).await;
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["path"], path, "{body} -> {e}");
        }
        // Nothing was stored by a refused call: the next response is genuine.
        let xml = String::from_utf8(B64.decode(idp.sign_in("ok").await).unwrap()).unwrap();
        assert_eq!(nameids(&root(&xml)), vec![GENUINE]);
    }

    #[tokio::test]
    async fn the_attack_table_is_served() {
        let idp = start().await;
        let list: Vec<Value> = idp
            .c
            .get(format!("{}/_control/forge/attacks", idp.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list.len(), forge::Attack::ALL.len());
        let xsw1 = list.iter().find(|a| a["name"] == "xsw1").unwrap();
        assert_eq!(xsw1["cwe"], "CWE-347");
        assert_eq!(xsw1["needs"], "response_signature");
        let dup = list
            .iter()
            .find(|a| a["name"] == "duplicate_assertion")
            .unwrap();
        assert_eq!(dup["cve"], "CVE-2022-41912");
    }
}

#[test]
fn forge_list_prints_the_table() {
    let out = Command::new(env!("CARGO_BIN_EXE_mock-idp"))
        .args(["forge", "--list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("name "));
    for a in forge::Attack::ALL {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(a.name()))
            .unwrap_or_else(|| panic!("{a} missing"));
        assert!(line.contains(a.cwe()));
    }
    assert!(text.contains("CVE-2025-25291"));
    let out = Command::new(env!("CARGO_BIN_EXE_mock-idp"))
        .arg("forge")
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn the_readme_table_lists_every_attack_with_its_cwe_and_cve() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for a in forge::Attack::ALL {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", a.name())))
            .unwrap_or_else(|| panic!("README has no row for {a}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        // | attack | what | needs | CWE | CVE |
        assert_eq!(cells[4], a.cwe(), "{a}");
        assert_eq!(cells[5], a.cve().unwrap_or(""), "{a}");
        let needs = match a.needs() {
            forge::attack::Needs::Nothing => "-",
            forge::attack::Needs::AnySignature => "any",
            forge::attack::Needs::AssertionSignature => "assertion",
            forge::attack::Needs::ResponseSignature => "response",
        };
        assert_eq!(cells[3], needs, "{a}");
    }
}

/// The algorithm URIs of every `EncryptionMethod` in `xml`, in document order.
fn encryption_methods(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    root(xml).walk(&mut |e: &Element| {
        if e.local == "EncryptionMethod" {
            out.push(e.attr("Algorithm").unwrap_or_default().to_string());
        }
    });
    out
}

#[test]
fn weak_encryption_choices_are_what_they_say_and_still_decrypt() {
    // SAML-SP-14: an SP must refuse RSA PKCS#1 v1.5 key transport and 3DES; the forge has
    // to produce them correctly, or an SP's refusal would prove nothing.
    let (sp_cert, sp_key) = throwaway_keypair();
    let t = tenant_for(GENUINE, SignMode::Assertion, Some(sp_cert));
    for (choice, content, transport) in [
        (
            "tripledes-cbc",
            "http://www.w3.org/2001/04/xmlenc#tripledes-cbc",
            "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
        ),
        (
            "aes128-cbc-rsa1_5",
            "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
            "http://www.w3.org/2001/04/xmlenc#rsa-1_5",
        ),
    ] {
        let xml = forged(&t, json!({ "encrypt": choice }));
        assert!(!xml.contains(GENUINE), "{choice}: plaintext");
        assert_eq!(
            encryption_methods(&xml),
            vec![content, transport],
            "{choice}"
        );
        let plain = xmlsec_decrypt(&xml, &sp_key).unwrap_or_else(|e| panic!("{choice}: {e}"));
        // xmlsec1 puts the plaintext where the EncryptedData was, inside EncryptedAssertion.
        let a = all_where(&root(&plain), &|e| e.is(NS_SAML, "Assertion")).remove(0);
        assert_eq!(nameids(&a), vec![GENUINE], "{choice}");
        xmlsec(&dom::write_element(&a), &cert(&t), "a", &[])
            .unwrap_or_else(|e| panic!("{choice}: decrypted assertion's signature: {e}"));
    }
}

#[test]
fn identifiers_are_encrypted_before_the_assertion_is_signed() {
    // SAML-SP-104: EncryptedID and EncryptedAttribute, signed over their encrypted form.
    let (sp_cert, sp_key) = throwaway_keypair();
    let t = tenant_for(GENUINE, SignMode::Assertion, Some(sp_cert));
    let xml = forged(
        &t,
        json!({ "encrypt_name_id": true, "encrypt_attributes": true }),
    );
    assert!(!xml.contains(GENUINE), "the NameID is in plaintext");
    let r = root(&xml);
    let a = child_assertions(&r).remove(0);
    assert!(nameids(&a).is_empty(), "a plaintext NameID is left");
    let mut encrypted_ids = Vec::new();
    let mut encrypted_attrs = Vec::new();
    let mut plain_attrs = 0;
    a.walk(&mut |e: &Element| match e.local.as_str() {
        "EncryptedID" => encrypted_ids.push(e.clone()),
        "EncryptedAttribute" => encrypted_attrs.push(e.clone()),
        "Attribute" => plain_attrs += 1,
        _ => {}
    });
    assert_eq!(encrypted_ids.len(), 1);
    assert!(!encrypted_attrs.is_empty(), "no EncryptedAttribute");
    assert_eq!(plain_attrs, 0, "a plaintext Attribute is left");
    // The signature covers the encrypted forms: it verifies as sent.
    xmlsec(&dom::write_element(&a), &cert(&t), "a", &[]).unwrap();
    // And the SP's key opens each of them to the genuine values.
    let id = xmlsec_decrypt(&dom::write_element(&encrypted_ids[0]), &sp_key).unwrap();
    assert!(id.contains(&format!(">{GENUINE}</saml:NameID>")), "{id}");
    for e in &encrypted_attrs {
        let plain = xmlsec_decrypt(&dom::write_element(e), &sp_key).unwrap();
        assert!(plain.contains("<saml:Attribute "), "{plain}");
    }
    // Each alone leaves the other in plaintext.
    let only_id = forged(&t, json!({ "encrypt_name_id": true }));
    assert!(only_id.contains("EncryptedID") && !only_id.contains("EncryptedAttribute"));
    let only_attrs = forged(&t, json!({ "encrypt_attributes": true }));
    assert!(!only_attrs.contains("EncryptedID") && only_attrs.contains("EncryptedAttribute"));
    assert!(only_attrs.contains(&format!(">{GENUINE}</saml:NameID>")));
}
