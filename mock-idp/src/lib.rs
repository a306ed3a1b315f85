//! The mock IdP: SAML 2.0 IdP and OIDC provider tenants whose responses can be shaped and
//! broken on purpose. It knows nothing of scenarios or of the harness: everything it does
//! is reachable over HTTP and its JSON control API.

pub mod secret;
