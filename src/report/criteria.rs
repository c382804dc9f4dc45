//! Per general criterion: outcome counts, sole exclusions (patients who fail it and nothing else)
//! and the gain if it were relaxed (patients it alone keeps from being eligible).

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
pub fn counts(rows: &[Row], c: usize) -> CriterionCounts {
    let mut counts = CriterionCounts::default();
    for row in rows {
        let n = row.patients;
        let own = row.outcomes[c];
        match own {
            Outcome::Pass => counts.pass += n,
            Outcome::Fail => counts.fail += n,
            Outcome::Unknown => counts.unknown += n,
            Outcome::NotApplicable => counts.not_applicable += n,
        }
        let others = || {
            row.outcomes
                .iter()
                .enumerate()
                .filter(move |(i, _)| *i != c)
                .map(|(_, o)| *o)
        };
        if own == Outcome::Fail && others().all(|o| o != Outcome::Fail) {
            counts.sole_exclusions += n;
        }
        if !own.passes() && others().all(Outcome::passes) {
            counts.gain_if_relaxed += n;
        }
    }
    counts
}

/// Fails per column among `rows` (general and, for cohort rows, cohort criteria).
pub fn fails_per_column(rows: &[Row], columns: usize) -> Vec<u64> {
    let mut fails = vec![0; columns];
    for row in rows {
        for (i, o) in row.outcomes.iter().enumerate().take(columns) {
            if *o == Outcome::Fail {
                fails[i] += row.patients;
            }
        }
    }
    fails
}
