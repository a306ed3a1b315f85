//! The mock IdP: SAML 2.0 IdP and OIDC provider tenants whose responses can be shaped and
//! broken on purpose. It knows nothing of scenarios or of the harness: everything it does
//! is reachable over HTTP and its JSON control API, whose bodies are the wire contract's
//! types (crate `sso-proto`, `proto::idp`).
//!
//! Layers, each using only the ones above it (`scripts/module-graph --crate mock-idp` checks
//! that no file imports another in a cycle):
//! - wire and basics: `proto`, `error`, `secret`, `clock`, `fault`, `profile`, `keys`,
//!   `statedir` (the pinned tenants' files), `record`, `dns`, `http`, `pages`;
//! - tenants: `tenant` (with the OIDC per-tenant state and URL layout it holds), `session`;
//! - shared state: `state` (`AppState`);
//! - protocols: `saml/`, `oidc/` (handlers use the state, tenants, session and pages);
//! - the control API: `control`, `pinned` (pinned tenants and trial overlays); assembly:
//!   `server` (every route), `config`.

pub mod clock;
pub mod config;
pub mod control;
pub mod dns;
pub mod error;
pub mod fault;
pub mod http;
pub mod keys;
pub mod oidc;
pub mod pages;
pub mod pinned;
pub mod profile;
pub mod record;
pub mod saml;
pub mod secret;
pub mod server;
pub mod session;
pub mod state;
pub mod statedir;
pub mod tenant;
pub mod tls;

pub use error::{Error, Result};
