//! SAML 2.0 IdP: metadata, SSO (Redirect and POST bindings), login, dashboard, signed and
//! breakable responses. This file only declares the parts; the routes are assembled in
//! `server.rs`, and the session and pages shared with OIDC are `crate::session` and
//! `crate::pages`. Nothing here imports this file, so the parts form no cycle with it.

pub mod bench;
pub mod encrypt;
pub mod forge;
pub mod issue;
pub mod logout;
pub mod metadata;
pub mod portal;
pub mod request;
pub mod response;
pub mod sign;
pub mod slo;
pub mod sso;
pub mod xml;

pub use crate::session::SESSION_COOKIE;
pub use portal::tenant_fallback;
pub use sso::SLOW_RESPONSE;
