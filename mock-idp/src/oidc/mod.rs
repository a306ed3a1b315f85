//! The OpenID Connect provider of each tenant: discovery, JWKS with a rotated key, the
//! authorization code flow with PKCE, the token, userinfo and end-session endpoints, all at
//! the URL layout of the product the tenant's profile imitates, and all breakable by the
//! OIDC faults. This file only declares the parts; the routes are assembled in `server.rs`
//! (every path of every layout), the shared per-request helpers are in `provider.rs`.

pub mod authorize;
pub mod bench;
pub mod claims;
pub mod client_keys;
pub mod discovery;
pub mod distributed;
pub mod end_session;
pub mod error;
pub mod faults;
pub mod forge;
pub mod grant;
pub mod hybrid;
pub mod jarm;
pub mod jwe;
pub mod jwt;
pub mod layout;
pub mod page;
pub mod par;
pub mod provider;
pub mod refresh;
pub mod request_object;
pub mod request_rules;
pub mod state;
pub mod token;
pub mod userinfo;
pub mod wellknown;

pub use crate::session::SESSION_COOKIE;
pub use error::OidcError;
pub use provider::keys;
pub use state::TenantOidc;
