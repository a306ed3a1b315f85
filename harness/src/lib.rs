//! The harness: YAML scenarios drive a real browser through a target SP and assert outcomes.
pub mod admin;
pub mod browser;
pub mod container;
pub mod embedded;
pub mod error;
pub mod expect;
pub mod http_json;
pub mod idp;
pub mod idpcheck;
pub mod launch;
pub mod outcome;
pub mod process;
pub mod report;
pub mod run;
pub mod runner;
pub mod scenario;
pub mod secret;
pub mod sp_config;
pub mod sp_metadata;
pub mod steps;
pub mod suggest;
pub mod target;
pub mod template;
pub mod trial;

pub use error::{HarnessError, Result};
