//! What an in-place refresh of the live gap run writes: the rows of the new results that differ
//! from the rows the run holds, matched by key. Pure; `store::gap_live` writes it.
//!
//! One coverage edit re-measures a few kelurahan, but their new scores can move the rank (and
//! sometimes the class) of many other kelurahan and cells, and a new maximum of a raw figure
//! rescales every need: so the whole run is re-scored (cheap) and compared row by row, and only
//! rows with any different field are written.

use std::cmp::Ordering;

use crate::analysis::gap::{AreaResult, CellResult, GapResults};
use crate::store::gap::{Followup, Overlap};

/// Every row of a run: its scored results, follow-up gaps and overlaps, each list sorted by its
/// key (area code; cell column and row; kelurahan and program; kelurahan and program type).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveRows {
    pub results: GapResults,
    pub followup: Vec<Followup>,
    pub overlap: Vec<Overlap>,
}

fn by_area(a: &AreaResult, b: &AreaResult) -> Ordering {
    a.code.cmp(&b.code)
}

fn by_cell(a: &CellResult, b: &CellResult) -> Ordering {
    (a.i, a.j).cmp(&(b.i, b.j))
}

fn by_followup(a: &Followup, b: &Followup) -> Ordering {
    (&a.kelurahan_code, &a.program_code).cmp(&(&b.kelurahan_code, &b.program_code))
}

fn by_overlap(a: &Overlap, b: &Overlap) -> Ordering {
    (&a.kelurahan_code, &a.program_type).cmp(&(&b.kelurahan_code, &b.program_type))
}

impl LiveRows {
    /// Sorts every list by its key. `compute` already returns its results in that order; rows
    /// read back from the database are put in it here (PostgreSQL's text order follows its
    /// collation, not Rust's byte order).
    pub fn new(
        mut results: GapResults,
        mut followup: Vec<Followup>,
        mut overlap: Vec<Overlap>,
    ) -> Self {
        results.kelurahan.sort_by(by_area);
        results.kecamatan.sort_by(by_area);
        results.cells.sort_by(by_cell);
        followup.sort_by(by_followup);
        overlap.sort_by(by_overlap);
        LiveRows {
            results,
            followup,
            overlap,
        }
    }
}

/// The rows of one table to write: new rows whose key the run holds with other figures
/// (`changed`), new keys (`added`), and the run's rows whose key is gone (`removed`).
#[derive(Debug)]
pub struct Delta<'a, T> {
    pub changed: Vec<&'a T>,
    pub added: Vec<&'a T>,
    pub removed: Vec<&'a T>,
}

impl<T> Delta<'_, T> {
    /// How many rows this writes.
    pub fn len(&self) -> usize {
        self.changed.len() + self.added.len() + self.removed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What turns a run's rows into new rows, table by table.
#[derive(Debug)]
pub struct RunDelta<'a> {
    pub kelurahan: Delta<'a, AreaResult>,
    pub kecamatan: Delta<'a, AreaResult>,
    pub cells: Delta<'a, CellResult>,
    pub followup: Delta<'a, Followup>,
    pub overlap: Delta<'a, Overlap>,
}

impl RunDelta<'_> {
    /// How many rows this writes, all tables together.
    pub fn len(&self) -> usize {
        self.kelurahan.len()
            + self.kecamatan.len()
            + self.cells.len()
            + self.followup.len()
            + self.overlap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The rows that differ between `old` (what the run holds) and `new`. Values compare with `==`,
/// so 0.0 and -0.0 count as equal and a NaN always as changed (the score never makes one).
pub fn diff<'a>(old: &'a LiveRows, new: &'a LiveRows) -> RunDelta<'a> {
    RunDelta {
        kelurahan: diff_sorted(&old.results.kelurahan, &new.results.kelurahan, by_area),
        kecamatan: diff_sorted(&old.results.kecamatan, &new.results.kecamatan, by_area),
        cells: diff_sorted(&old.results.cells, &new.results.cells, by_cell),
        followup: diff_sorted(&old.followup, &new.followup, by_followup),
        overlap: diff_sorted(&old.overlap, &new.overlap, by_overlap),
    }
}

/// A merge of two lists sorted by `cmp` (one pass, no index: a national run has millions of
/// cells).
fn diff_sorted<'a, T: PartialEq>(
    old: &'a [T],
    new: &'a [T],
    cmp: fn(&T, &T) -> Ordering,
) -> Delta<'a, T> {
    debug_assert!(old.windows(2).all(|w| cmp(&w[0], &w[1]) == Ordering::Less));
    debug_assert!(new.windows(2).all(|w| cmp(&w[0], &w[1]) == Ordering::Less));
    let mut d = Delta {
        changed: Vec::new(),
        added: Vec::new(),
        removed: Vec::new(),
    };
    let (mut o, mut n) = (old.iter().peekable(), new.iter().peekable());
    loop {
        match (o.peek(), n.peek()) {
            (None, None) => break,
            (Some(_), None) => d.removed.extend(o.by_ref()),
            (None, Some(_)) => d.added.extend(n.by_ref()),
            (Some(a), Some(b)) => match cmp(a, b) {
                Ordering::Less => d.removed.extend(o.next()),
                Ordering::Greater => d.added.extend(n.next()),
                Ordering::Equal => {
                    let (a, b) = (o.next(), n.next());
                    if a != b {
                        d.changed.extend(b);
                    }
                }
            },
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::gap::{compute, CellPiece, KelurahanInput, Weights};

    fn kel(code: &str, kec: &str, covered: f64, low: i64, cells: &[(i32, i32)]) -> KelurahanInput {
        KelurahanInput {
            code: code.into(),
            kecamatan_code: kec.into(),
            area_m2: 1e6,
            covered_m2: covered,
            programs: vec![],
            partners: vec![],
            weight_total: None,
            weight_covered: None,
            proposals: 0,
            supports: 0,
            population: Some(1000),
            households: Some(300),
            low_income_households: Some(low),
            cells: cells
                .iter()
                .map(|&(i, j)| CellPiece {
                    i,
                    j,
                    land_m2: 1e6 / cells.len() as f64,
                    covered_m2: covered / cells.len() as f64,
                    proposals: 0,
                    supports: 0,
                })
                .collect(),
        }
    }

    fn rows(input: Vec<KelurahanInput>) -> LiveRows {
        LiveRows::new(compute(&Weights::default(), &input), vec![], vec![])
    }

    fn base() -> Vec<KelurahanInput> {
        vec![
            kel("1", "A", 0.0, 100, &[(0, 0), (0, 1)]),
            kel("2", "A", 5e5, 50, &[(1, 0)]),
            kel("3", "B", 9e5, 10, &[(2, 0), (2, 1)]),
        ]
    }

    #[test]
    fn the_same_rows_write_nothing() {
        let (a, b) = (rows(base()), rows(base()));
        assert!(diff(&a, &b).is_empty());
    }

    #[test]
    fn a_changed_figure_writes_its_rows_and_the_ranks_it_moves() {
        let old = rows(base());
        let mut input = base();
        // Kelurahan 3 loses its coverage: its score rises above kelurahan 2's.
        input[2] = kel("3", "B", 0.0, 10, &[(2, 0), (2, 1)]);
        let new = rows(input);
        let d = diff(&old, &new);
        let codes: Vec<&str> = d
            .kelurahan
            .changed
            .iter()
            .map(|a| a.code.as_str())
            .collect();
        assert!(codes.contains(&"3"), "{codes:?}");
        assert!(d.kelurahan.added.is_empty() && d.kelurahan.removed.is_empty());
        // Every changed row is exactly the new one, and every row left out is unchanged.
        for k in &new.results.kelurahan {
            let before = old
                .results
                .kelurahan
                .iter()
                .find(|o| o.code == k.code)
                .unwrap();
            assert_eq!(codes.contains(&k.code.as_str()), before != k, "{}", k.code);
        }
        assert!(d.cells.changed.iter().any(|c| c.i == 2));
        assert!(d.kecamatan.changed.iter().any(|a| a.code == "B"));
    }

    #[test]
    fn rows_that_come_and_go_are_added_and_removed() {
        let old = rows(base());
        let mut input = base();
        input.remove(1); // kelurahan 2 (and its only cell) could not be measured this time
        input.push(kel("4", "C", 0.0, 5, &[(9, 9)]));
        let new = rows(input);
        let d = diff(&old, &new);
        let gone: Vec<&str> = d
            .kelurahan
            .removed
            .iter()
            .map(|a| a.code.as_str())
            .collect();
        let came: Vec<&str> = d.kelurahan.added.iter().map(|a| a.code.as_str()).collect();
        assert_eq!((gone, came), (vec!["2"], vec!["4"]));
        let gone: Vec<(i32, i32)> = d.cells.removed.iter().map(|c| (c.i, c.j)).collect();
        let came: Vec<(i32, i32)> = d.cells.added.iter().map(|c| (c.i, c.j)).collect();
        assert_eq!((gone, came), (vec![(1, 0)], vec![(9, 9)]));
        let came: Vec<&str> = d.kecamatan.added.iter().map(|a| a.code.as_str()).collect();
        assert_eq!(came, vec!["C"]);
    }

    #[test]
    fn followup_and_overlap_rows_compare_whole() {
        let f = |k: &str, p: &str| Followup {
            kelurahan_code: k.into(),
            program_code: p.into(),
            program_type: "pelatihan".into(),
            partner_code: "x".into(),
            training_ended: chrono::NaiveDate::from_ymd_opt(2025, 1, 31).unwrap(),
            window_closed: chrono::NaiveDate::from_ymd_opt(2025, 7, 31).unwrap(),
        };
        let o = |k: &str, m2: f64| Overlap {
            kelurahan_code: k.into(),
            program_type: "pelatihan".into(),
            partner_codes: vec!["a".into(), "b".into()],
            overlap_m2: m2,
        };
        let old = LiveRows::new(
            GapResults::default(),
            vec![f("2", "p"), f("1", "p")],
            vec![o("1", 10.0), o("2", 5.0)],
        );
        let new = LiveRows::new(
            GapResults::default(),
            vec![f("1", "p"), f("3", "q")],
            vec![o("1", 10.0), o("2", 6.0)],
        );
        let d = diff(&old, &new);
        assert_eq!(d.followup.removed.len(), 1);
        assert_eq!(d.followup.removed[0].kelurahan_code, "2");
        assert_eq!(d.followup.added[0].kelurahan_code, "3");
        assert!(d.followup.changed.is_empty());
        assert_eq!(d.overlap.changed.len(), 1);
        assert_eq!(d.overlap.changed[0].overlap_m2, 6.0);
        assert_eq!(d.len(), 3);
    }
}
