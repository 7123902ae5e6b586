//! Analyses on top of the store: budget allocation (which proposals to fund, and why the others
//! are not). Formulas and solvers are pure functions; the API and CLI feed them from the store.

pub mod budget;
