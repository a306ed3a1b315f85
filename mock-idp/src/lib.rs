//! The mock IdP: SAML 2.0 IdP and OIDC provider tenants whose responses can be shaped and
//! broken on purpose. It knows nothing of scenarios or of the harness: everything it does
//! is reachable over HTTP and its JSON control API.

pub mod clock;
pub mod config;
pub mod control;
pub mod dns;
pub mod error;
pub mod fault;
pub mod keys;
pub mod oidc;
pub mod profile;
pub mod record;
pub mod saml;
pub mod secret;
pub mod server;
pub mod tenant;
pub mod tls;

pub use error::{Error, Result};
