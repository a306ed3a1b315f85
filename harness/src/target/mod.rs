//! The SP under test: its descriptor (`targets/*.yaml`), how it is launched (in-process,
//! local process, container, already running URL) and how set-up steps reach it (admin
//! drivers: its admin API, config templates, a person).
pub mod admin;
pub mod container;
pub mod descriptor;
pub mod embedded;
pub mod launch;
pub mod sp_config;
pub mod sp_metadata;
pub mod spawn;
pub mod staging;
