//! Secrets never print their value; the type is shared by every crate (crate `sso-secret`).
pub use sso_secret::{REDACTED, Secret};
