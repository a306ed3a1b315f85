//! The one wire contract of the workspace. Three programs talk over HTTP: the mock IdP (its
//! control API), the reference SP (its admin API) and the harness that drives both. Every
//! JSON body any of them sends or answers is defined here, once; the programs use these types
//! and never restate them (README.md of this crate).
//!
//! - [`idp`]: the mock IdP's control API (`/_control/...`): tenant specs, tenant info,
//!   faults, clock, DNS TXT bodies, the exchange log and the error body.
//! - [`fault`]: every fault a tenant can be told to apply, with its protocol and description;
//!   names can be checked offline ([`Fault::from_name`], [`fault::closest`]).
//! - [`forge`]: the SAML message forge (`saml.forge`, `faults/next`'s `forge`): edits, signing
//!   choices, the attack table with CWE and CVE, and what the exchange log says of a forgery.
//! - [`oidc_forge`]: the OIDC forge (`oidc/forge`, `OidcClient.forge`): ID token, token
//!   response and userinfo forgeries, provider settings, rotation, back-channel logout, and
//!   the catalogue of variants.
//! - [`slo`]: SAML single logout: the binding to the SP and how logout messages are shaped.
//! - [`profile`]: the names of the IdP profiles a tenant imitates (behaviour stays in mock-idp).
//! - [`sp_admin`]: the reference SP's admin API (`/api/admin/...`) requests and answers.
//! - [`secret`]: how request bodies carry secrets (they print as `[redacted]` otherwise).

mod names;
mod object;

pub mod fault;
pub mod forge;
pub mod idp;
pub mod oidc_forge;
pub mod profile;
pub mod secret;
pub mod slo;
pub mod sp_admin;

pub use fault::{Fault, FaultInfo, Protocol};
pub use names::{UnknownName, closest};
pub use profile::Profile;
pub use sso_secret::Secret;
