//! The mock IdP as the harness sees it: a client of its control API.
pub mod client;
