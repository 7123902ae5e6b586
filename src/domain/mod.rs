//! Types with meaning and no I/O: administrative codes and the vocabularies of partners,
//! programs and proposals.

pub mod codes;
pub mod vocab;

pub use codes::{new_tracking_code, AreaCode, AreaLevel};
pub use vocab::{PartnerType, ProgramType, ProposalCategory, ProposalStatus};
