//! The scenario model: what a scenario file says, as typed values, the step vocabulary, and
//! the loader that turns files into it (with `crate::input`'s YAML reading).
pub mod forge;
pub mod load;
pub mod meta;
pub mod oidc_steps;
pub mod schema;
pub mod vocabulary;
