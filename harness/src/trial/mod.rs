//! One trial: its context (tenant, browser, target, values learnt), the steps, the
//! expectations, and what it produced.
pub mod by_reference;
pub mod ctx;
pub mod expect;
pub mod failure;
pub mod manual;
pub mod op_expect;
pub mod op_steps;
pub mod outcome;
pub mod probe;
pub mod setup_error;
pub mod steps;
pub mod verdict;
