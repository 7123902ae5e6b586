//! Types with meaning and no I/O: administrative codes, the vocabularies of partners, programs
//! and proposals, credentials, roles and the proposal lifecycle, coordinate reference systems and
//! tile coordinates.

pub mod codes;
pub mod credentials;
pub mod crs;
pub mod lifecycle;
pub mod tile;
pub mod vocab;

pub use codes::{new_tracking_code, AreaCode, AreaLevel};
pub use lifecycle::{check_transition, roles_for, IllegalTransition, Role, TransitionKind};
pub use vocab::{FacilityCategory, PartnerType, ProgramType, ProposalCategory, ProposalStatus};
