//! Scenario files: schema, loader, locations.
pub mod load;
pub mod location;
pub mod schema;
pub mod shorthand;
#[macro_use]
pub(crate) mod tagged;
