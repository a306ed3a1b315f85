//! The HTTP surface: admin API, test controls, browser pages and SSO endpoints. This file
//! only declares; the routes are assembled in `crate::server`, the one place they are listed.
//! Handler modules share `api` (JSON API helpers) and `sso_start` (starting a sign-in), and
//! never use each other. Handlers and the form types they take are `pub` only so that
//! `server` can list them; the crate exports none of them (`mod routes` is private).
pub mod admin_api;
pub mod api;
pub mod backchannel;
pub mod frontchannel;
pub mod identity;
pub mod initiate;
pub mod login;
pub mod oidc_jwks;
pub mod oidc_refresh;
pub mod oidc_request;
pub mod slo;
pub mod sso;
pub mod sso_start;
pub mod test_api;
