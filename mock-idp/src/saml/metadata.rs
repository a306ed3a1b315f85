//! IdP metadata: entity ID, signing certificate(s), SingleLogoutService, NameID format, SSO
//! endpoints.

use super::xml::{CanonWriter, NS_DS, NS_MD};
use crate::error::Result;
use crate::fault::Fault;
use crate::profile::ProfileBehaviour as _;
use crate::tenant::Tenant;

const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

/// The metadata document. While the fault `key_rotation` is set (standing or next) it lists
/// both certificates, current one first; otherwise only the current one, so what an SP
/// downloads never depends on what the OIDC side did with the next key.
pub fn document(tenant: &Tenant, base: &str) -> Result<String> {
    let info = tenant.info(base);
    let mut certs = vec![tenant.keys.primary.cert_base64()];
    if tenant.has_fault(Fault::KeyRotation) {
        certs.push(tenant.keys.rotated()?.cert_base64());
    }
    let mut w = CanonWriter::new();
    w.start(
        "md:EntityDescriptor",
        &[("md", NS_MD), ("ds", NS_DS)],
        &[("entityID", &info.saml.entity_id)],
    );
    w.start(
        "md:IDPSSODescriptor",
        &[],
        &[
            ("WantAuthnRequestsSigned", "false"),
            ("protocolSupportEnumeration", PROTOCOL),
        ],
    );
    for cert in &certs {
        w.start("md:KeyDescriptor", &[], &[("use", "signing")]);
        w.start("ds:KeyInfo", &[], &[]);
        w.start("ds:X509Data", &[], &[]);
        w.leaf("ds:X509Certificate", &[], &[], cert);
        w.end("ds:X509Data");
        w.end("ds:KeyInfo");
        w.end("md:KeyDescriptor");
    }
    // SAML metadata orders SingleLogoutService before NameIDFormat (SSODescriptorType).
    for binding in [REDIRECT, POST] {
        w.leaf(
            "md:SingleLogoutService",
            &[],
            &[("Binding", binding), ("Location", &info.saml.slo_url)],
            "",
        );
    }
    w.leaf("md:NameIDFormat", &[], &[], tenant.profile.nameid_format());
    w.leaf(
        "md:SingleSignOnService",
        &[],
        &[("Binding", REDIRECT), ("Location", &info.saml.sso_url)],
        "",
    );
    w.leaf(
        "md:SingleSignOnService",
        &[],
        &[("Binding", POST), ("Location", &info.saml.sso_url_post)],
        "",
    );
    w.end("md:IDPSSODescriptor");
    w.end("md:EntityDescriptor");
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&String::from_utf8_lossy(&w.into_bytes()));
    Ok(out)
}
