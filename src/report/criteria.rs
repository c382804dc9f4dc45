//! Per general criterion: outcome counts, sole exclusions (patients who fail it and nothing else)
//! and the gain if it were relaxed (patients it alone keeps from being eligible).

use rayon::prelude::*;

use crate::engine::mask::Outcome;

use super::aggregate::Row;

/// True counts of one criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CriterionCounts {
    pub pass: u64,
    pub fail: u64,
    pub unknown: u64,
    pub not_applicable: u64,
    /// Fail this criterion and no other: relaxing it makes them not ineligible.
    pub sole_exclusions: u64,
    /// This criterion fails or is unknown and every other passes: relaxing it (treating it as
    /// pass) makes them eligible.
    pub gain_if_relaxed: u64,
}

/// Counts of criterion `c` over population rows.
/// The counts of the first `criteria` columns, in one pass over the rows (in parallel). A row's
/// own outcome and its counts of fails and of outcomes not passing answer both questions about
/// the others: they all do not fail where the row fails once, this being it; they all pass where
/// this is the only one not passing.
pub fn counts(rows: &[Row], criteria: usize) -> Vec<CriterionCounts> {
    let add = |mut counts: Vec<CriterionCounts>, row: &Row| {
        let n = row.patients;
        for (k, own) in counts.iter_mut().zip(row.outcomes.iter()) {
            match own {
                Outcome::Pass => k.pass += n,
                Outcome::Fail => k.fail += n,
                Outcome::Unknown => k.unknown += n,
                Outcome::NotApplicable => k.not_applicable += n,
            }
            if own == Outcome::Fail && row.fails == 1 {
                k.sole_exclusions += n;
            }
            if !own.passes() && row.not_passing == 1 {
                k.gain_if_relaxed += n;
            }
        }
        counts
    };
    let merge = |mut a: Vec<CriterionCounts>, b: Vec<CriterionCounts>| {
        for (a, b) in a.iter_mut().zip(b) {
            a.pass += b.pass;
            a.fail += b.fail;
            a.unknown += b.unknown;
            a.not_applicable += b.not_applicable;
            a.sole_exclusions += b.sole_exclusions;
            a.gain_if_relaxed += b.gain_if_relaxed;
        }
        a
    };
    let zero = || vec![CriterionCounts::default(); criteria];
    rows.par_iter().fold(zero, add).reduce(zero, merge)
}

pub fn fails_per_column(rows: &[Row], columns: usize) -> Vec<u64> {
    let mut fails = vec![0; columns];
    for row in rows {
        for (i, o) in row.outcomes.iter().enumerate().take(columns) {
            if o == Outcome::Fail {
                fails[i] += row.patients;
            }
        }
    }
    fails
}
