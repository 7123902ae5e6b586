//! Roles and the proposal lifecycle: which status may follow which, and who may move it. Pure;
//! the store applies a transition only after [`check_transition`] allows it.

use super::ProposalStatus::{self, *};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Resident,
    Moderator,
    Planner,
    Official,
    Admin,
    /// Partner staff, tied to one partner (`app_user.partner_code`): writes only that partner's
    /// programs, coverage and progress reports (docs/partners.md).
    Mitra,
}

impl Role {
    pub const ALL: &'static [Role] = &[
        Role::Resident,
        Role::Moderator,
        Role::Planner,
        Role::Official,
        Role::Admin,
        Role::Mitra,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::Moderator => "moderator",
            Role::Planner => "planner",
            Role::Official => "official",
            Role::Admin => "admin",
            Role::Mitra => "mitra",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.as_str() == s)
    }

    /// Staff of the city (moderators, planners, officials, admins). Partner staff (mitra) are not:
    /// they see only their own partner's unpublished entries.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Resident | Role::Mitra)
    }

    /// Staff roles may carry an area scope; residents, admins and partner staff never do.
    pub fn may_have_area(self) -> bool {
        matches!(self, Role::Moderator | Role::Planner | Role::Official)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of step a legal transition is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionKind {
    /// A step forward along the build path (or a verification decision).
    Advance,
    /// Rejection: needs a public reason.
    Reject,
    /// Merge into another proposal: needs the target, which takes over the supports.
    Merge,
    /// An unfunded proposal goes back to `diverifikasi` in next year's cycle (`cycle_year + 1`).
    CarryOver,
}

/// Why a transition is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a proposal cannot go from {from} to {to}")]
pub struct IllegalTransition {
    pub from: ProposalStatus,
    pub to: ProposalStatus,
}

/// The transition table. Every pair not listed is illegal.
///
/// ```
/// use sigap::domain::{check_transition, ProposalStatus::*, TransitionKind};
/// assert_eq!(check_transition(Diajukan, Diverifikasi), Ok(TransitionKind::Advance));
/// assert_eq!(check_transition(Diprioritaskan, Diverifikasi), Ok(TransitionKind::CarryOver));
/// assert!(check_transition(Diajukan, Selesai).is_err());
/// ```
pub fn check_transition(
    from: ProposalStatus,
    to: ProposalStatus,
) -> Result<TransitionKind, IllegalTransition> {
    let kind = match (from, to) {
        (Diajukan, Diverifikasi) => TransitionKind::Advance,
        (Diajukan, Ditolak) => TransitionKind::Reject,
        // A duplicate may be noticed before or after verification.
        (Diajukan | Diverifikasi, Digabung) => TransitionKind::Merge,
        (Diverifikasi, Diprioritaskan)
        | (Diprioritaskan, Dianggarkan)
        | (Dianggarkan, Dikerjakan)
        | (Dikerjakan, Selesai) => TransitionKind::Advance,
        // Not funded this cycle: carried over to the next one.
        (Diverifikasi | Diprioritaskan, Diverifikasi) => TransitionKind::CarryOver,
        _ => return Err(IllegalTransition { from, to }),
    };
    Ok(kind)
}

/// The roles that may make a transition out of `from`: moderators decide on submissions (and
/// merge duplicates), planners and officials move verified proposals along the build path.
/// Admins may do everything.
pub fn roles_for(from: ProposalStatus, to: ProposalStatus) -> &'static [Role] {
    match (from, to) {
        (Diajukan, _) | (_, Digabung) => &[Role::Moderator, Role::Admin],
        _ => &[Role::Planner, Role::Official, Role::Admin],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ProposalStatus; 8] = [
        Diajukan,
        Diverifikasi,
        Ditolak,
        Digabung,
        Diprioritaskan,
        Dianggarkan,
        Dikerjakan,
        Selesai,
    ];

    #[test]
    fn exactly_the_listed_transitions_are_legal() {
        let legal: Vec<(ProposalStatus, ProposalStatus)> = ALL
            .iter()
            .flat_map(|a| ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| check_transition(*a, *b).is_ok())
            .collect();
        assert_eq!(
            legal,
            vec![
                (Diajukan, Diverifikasi),
                (Diajukan, Ditolak),
                (Diajukan, Digabung),
                (Diverifikasi, Diverifikasi),
                (Diverifikasi, Digabung),
                (Diverifikasi, Diprioritaskan),
                (Diprioritaskan, Diverifikasi),
                (Diprioritaskan, Dianggarkan),
                (Dianggarkan, Dikerjakan),
                (Dikerjakan, Selesai),
            ]
        );
    }

    #[test]
    fn final_states_have_no_way_out() {
        for end in [Ditolak, Digabung, Selesai] {
            for to in ALL {
                assert!(check_transition(end, to).is_err(), "{end} -> {to}");
            }
        }
    }

    #[test]
    fn is_final_is_exactly_no_way_out() {
        for from in ALL {
            let stuck = ALL.iter().all(|to| check_transition(from, *to).is_err());
            assert_eq!(from.is_final(), stuck, "{from}");
        }
    }

    #[test]
    fn kinds_and_roles() {
        assert_eq!(
            check_transition(Diajukan, Ditolak),
            Ok(TransitionKind::Reject)
        );
        assert_eq!(
            check_transition(Diverifikasi, Digabung),
            Ok(TransitionKind::Merge)
        );
        assert_eq!(
            check_transition(Diverifikasi, Diverifikasi),
            Ok(TransitionKind::CarryOver)
        );
        assert!(roles_for(Diajukan, Diverifikasi).contains(&Role::Moderator));
        assert!(!roles_for(Diajukan, Diverifikasi).contains(&Role::Planner));
        assert!(roles_for(Diverifikasi, Digabung).contains(&Role::Moderator));
        assert!(roles_for(Dianggarkan, Dikerjakan).contains(&Role::Official));
        assert!(!roles_for(Dianggarkan, Dikerjakan).contains(&Role::Moderator));
        for from in ALL {
            for to in ALL {
                assert!(roles_for(from, to).contains(&Role::Admin));
                assert!(!roles_for(from, to).contains(&Role::Resident));
            }
        }
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
