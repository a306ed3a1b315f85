//! The harness: YAML scenarios drive a real browser through a target SP and assert outcomes.
//!
//! The modules follow the data flow of one trial (see ARCHITECTURE.md):
//! `input` (files) -> `scenario` (model) -> `target` (the SP: descriptor, launch, admin) and
//! `idp` (mock IdP client) -> `browser` -> `trial` (steps, expectations, outcome) -> `run`
//! (pool, jobs, CLI runner) -> `report`; `staging` (init, the pinned IdP) drives the runner. `idpcheck` is the IdP application checks' own room.
pub mod browser;
pub mod canary;
pub mod children;
pub mod error;
pub mod idp;
pub mod idpcheck;
#[macro_use]
pub mod input;
pub mod net;
pub mod newtarget;
pub mod report;
pub mod run;
pub mod scenario;
pub mod secret;
pub mod staging;
pub mod target;
pub mod trial;

pub use error::{HarnessError, Result};
