//! The greedy fallback, used beyond the exact method's size limit (and as the exact method's
//! incumbent): best priority per rupiah first, then floor repair.
//!
//! 1. Start from the must-fund proposals.
//! 2. Visit the free proposals by priority per rupiah, highest first (ties: lower id), and fund
//!    each one that fits the budget, its kecamatan cap and its category cap.
//! 3. Floor repair, kecamatan by kecamatan (largest shortfall first): fund its unfunded proposals
//!    by priority per rupiah while the floor is unmet. When one does not fit the budget or its
//!    category cap, free room by dropping funded proposals elsewhere (lowest priority per rupiah
//!    first, never a must-fund one, never below another kecamatan's floor, only ones that ease
//!    the blocking rule); if that cannot make room, undo the drops and try the next proposal.
//!
//! Greedy gives no optimality guarantee; `bench/budget.rs` measures its gap against the exact
//! method. It can fail to meet floors that are feasible; [`select`] then reports the kecamatan.

use std::cmp::Ordering;

use super::{Fix, Prepared, Reason};

/// Sorts proposal indices by priority per rupiah, highest first, ties by lower id.
pub(crate) fn sort_by_ratio(p: &Prepared, order: &mut [usize]) {
    let ratio = |i: usize| p.items[i].priority / p.items[i].cost.max(1) as f64;
    order.sort_by(|&a, &b| {
        ratio(b)
            .partial_cmp(&ratio(a))
            .unwrap_or(Ordering::Equal)
            .then(p.items[a].id.cmp(&p.items[b].id))
    });
}

/// The greedy selection, or the indices of the kecamatan whose floors it could not meet.
pub(crate) fn select(p: &Prepared) -> Result<Vec<bool>, Vec<usize>> {
    let mut selected = p.fixed_selection();
    let mut t = p.totals(&selected);
    let mut order: Vec<usize> = (0..p.items.len())
        .filter(|&i| p.items[i].fix == Fix::Free)
        .collect();
    sort_by_ratio(p, &mut order);
    for &i in &order {
        if p.fits(&t, &p.items[i]) {
            selected[i] = true;
            t.add(&p.items[i]);
        }
    }

    let mut unmet = p.unmet_floors(&t);
    unmet.sort_by_key(|&k| std::cmp::Reverse(i128::from(p.kec_floor[k]) - t.kec[k]));
    for k in unmet {
        for &j in order.iter().filter(|&&j| p.items[j].kec == k) {
            if t.kec[k] >= i128::from(p.kec_floor[k]) {
                break;
            }
            if selected[j] {
                continue;
            }
            let item = &p.items[j];
            let blocked = p.blocked_by(&t, item);
            if blocked.iter().any(|(r, _)| *r == Reason::KecamatanCap) {
                continue;
            }
            // Drop proposals elsewhere, lowest ratio first, until `item` fits.
            let mut dropped = Vec::new();
            for &d in order.iter().rev() {
                if p.fits(&t, item) {
                    break;
                }
                let other = &p.items[d];
                let eases = p.blocked_by(&t, item).iter().any(|(r, _)| match r {
                    Reason::BudgetExhausted => true,
                    Reason::CategoryCap => other.cat == item.cat,
                    _ => false,
                });
                if selected[d]
                    && eases
                    && other.kec != k
                    && t.kec[other.kec] - i128::from(other.cost)
                        >= i128::from(p.kec_floor[other.kec])
                {
                    selected[d] = false;
                    t.remove(other);
                    dropped.push(d);
                }
            }
            if p.fits(&t, item) {
                selected[j] = true;
                t.add(item);
            } else {
                for d in dropped {
                    selected[d] = true;
                    t.add(&p.items[d]);
                }
            }
        }
    }
    let unmet = p.unmet_floors(&t);
    if unmet.is_empty() {
        Ok(selected)
    } else {
        Err(unmet)
    }
}
