//! Child processes and private files of a run: the registry that owns every child and the
//! run's temporary directories (`registry`), guards that stop a process tree when dropped
//! (`guard`), what `/proc` says about processes (`procs`), and files created private from the
//! start (`private`).
pub mod guard;
pub mod private;
pub mod procs;
pub mod registry;
