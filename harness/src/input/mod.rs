//! Reading files: YAML with `file:line:col` locations, scenario discovery, the one-key enum
//! and shorthand forms, `{placeholder}` templates, did-you-mean suggestions.
pub mod discover;
pub mod location;
pub mod placeholders;
pub mod places;
pub mod read;
pub mod shorthand;
pub mod suggest;
#[macro_use]
pub(crate) mod tagged;
pub mod template;
pub mod yaml;
