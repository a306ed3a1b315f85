//! Child processes of a run (chromedriver and its browsers, SP processes, peers): the guards
//! that stop a process tree when dropped.
pub mod guard;
