//! Types with meaning and no I/O: administrative codes, the vocabularies of partners,
//! programs and proposals, coordinate reference systems and tile coordinates.

pub mod codes;
pub mod crs;
pub mod tile;
pub mod vocab;

pub use codes::{new_tracking_code, AreaCode, AreaLevel};
pub use vocab::{PartnerType, ProgramType, ProposalCategory, ProposalStatus};
