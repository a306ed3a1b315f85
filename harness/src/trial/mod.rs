//! One trial: its context (tenant, browser, target, values learnt), the steps, the
//! expectations, and what it produced.
pub mod ctx;
pub mod expect;
pub mod failure;
pub mod outcome;
pub mod probe;
pub mod steps;
pub mod verdict;
