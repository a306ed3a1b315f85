//! A run: the mock IdP and browser pool shared by every trial (`harness`), and the CLI's
//! whole run with its reports (`runner`).
pub mod harness;
pub mod runner;
pub mod shard;
