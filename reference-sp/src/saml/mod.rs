//! SAML 2.0 for the SP: AuthnRequests (HTTP-Redirect), SP metadata, and strict validation of
//! responses at the ACS (samael verifies; `inspect` and `validate` add what samael lacks).
pub mod authn_request;
pub mod inspect;
pub mod logout;
pub mod metadata;
pub mod profile;
pub mod validate;

pub const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const METADATA_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const POST_BINDING: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
pub const EMAIL_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

/// quick-xml writes into a Vec, which cannot fail; keep the error type anyway.
pub(crate) fn xml_err(e: impl std::fmt::Display) -> String {
    format!("XML writer: {e}")
}
