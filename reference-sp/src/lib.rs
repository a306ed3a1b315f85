//! The reference SP: an executable model of the documented SSO product. It knows nothing of
//! the harness; the harness reaches it over HTTP like any other SP.
//!
//! ```no_run
//! # async fn f() -> Result<(), reference_sp::Error> {
//! let sp = reference_sp::serve(reference_sp::Options::new("sp.sqlite")).await?;
//! println!("{}", sp.base_url());
//! # Ok(()) }
//! ```
//!
//! Layers, each using only the ones above it (`scripts/module-graph --crate reference-sp`
//! checks that no file imports another in a cycle; this file only declares and re-exports):
//! - basics: `secret`, `clock`, `html` (page rendering), `db`, `error` (error pages and
//!   their mapping), `messages`, `password`, `dns`, `certs`, `store`, `saml/`, `oidc` (with
//!   `oidc_par` and `oidc_request_uri`, its requests by reference), `oidc_logout`,
//!   `session` (the session cookie), `signin` (who may sign in where);
//! - start-up values: `options` (`Options`, `SocialOptions`);
//! - shared state: `state` (`AppState`, `Shared`);
//! - admin actions: `admin_ops` (shared by the admin API and the Identity page);
//! - HTTP: `routes/`: the leaves `api` (bearer token, JSON bodies, org URLs) and
//!   `sso_start` (starting a sign-in), then the handlers `admin_api`, `test_api`, `login`,
//!   `identity`, `sso`, `slo`, `backchannel`, `frontchannel`, which never use each other;
//! - assembly: `server` (`serve`, `RunningSp`, every route, listed only there).
mod admin_ops;
mod certs;
mod clock;
mod db;
mod dns;
mod error;
mod html;
mod logout_token;
mod messages;
mod oidc;
mod oidc_claim_sources;
mod oidc_discovery;
mod oidc_hybrid;
mod oidc_jarm;
mod oidc_jwe;
mod oidc_jws;
mod oidc_logout;
mod oidc_par;
mod oidc_refresh;
mod oidc_request_uri;
mod oidc_userinfo;
mod options;
mod password;
mod routes;
mod saml;
pub mod secret;
mod server;
mod session;
mod signin;
mod state;
mod store;

pub use error::Error;
pub use options::{Options, SocialOptions};
pub use secret::Secret;
pub use server::{RunningSp, serve};
