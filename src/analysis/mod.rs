//! Analyses on top of the store: the gap analysis (where the program does not reach the people
//! who need it; formulas in [`gap`], [`run`] measures, scores and saves) and budget allocation
//! ([`budget`]: which proposals to fund, and why the others are not).

pub mod budget;
pub mod gap;
pub mod live;
pub mod live_delta;
pub mod run;
