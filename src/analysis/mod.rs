//! Analyses on top of the store: the gap analysis (where the program does not reach the people
//! who need it). Formulas are pure functions in [`gap`]; [`run`] measures, scores and saves.

pub mod gap;
pub mod run;
