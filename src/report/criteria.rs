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

/// The counts of the first `criteria` columns, in one pass over the rows (in parallel). Each
/// outcome adds the row's patients to its criterion's count of its code (an index, not a match);
/// a row that fails once, or does not pass once, adds them to that one criterion's sole
/// exclusions, or gain, found from the row's words.
pub fn counts(rows: &[Row], criteria: usize) -> Vec<CriterionCounts> {
    /// Per criterion: patients by outcome code, sole exclusions, gain if relaxed.
    type Sums = Vec<([u64; 4], u64, u64)>;
    let add = |mut sums: Sums, row: &Row| {
        let n = row.patients;
        for ((by_code, _, _), own) in sums.iter_mut().zip(row.outcomes.iter()) {
            by_code[own as usize] += n;
        }
        if row.fails == 1 {
            if let Some((_, sole, _)) = row.outcomes.first_fail().and_then(|k| sums.get_mut(k)) {
                *sole += n;
            }
        }
        if row.not_passing == 1 {
            let only = row.outcomes.first_not_passing();
            if let Some((_, _, gain)) = only.and_then(|k| sums.get_mut(k)) {
                *gain += n;
            }
        }
        sums
    };
    let merge = |mut a: Sums, b: Sums| {
        for ((a_codes, a_sole, a_gain), (b_codes, b_sole, b_gain)) in a.iter_mut().zip(b) {
            for (a, b) in a_codes.iter_mut().zip(b_codes) {
                *a += b;
            }
            *a_sole += b_sole;
            *a_gain += b_gain;
        }
        a
    };
    let zero = || vec![([0; 4], 0, 0); criteria];
    let sums = rows.par_iter().fold(zero, add).reduce(zero, merge);
    sums.into_iter()
        .map(
            |(by_code, sole_exclusions, gain_if_relaxed)| CriterionCounts {
                pass: by_code[Outcome::Pass as usize],
                fail: by_code[Outcome::Fail as usize],
                unknown: by_code[Outcome::Unknown as usize],
                not_applicable: by_code[Outcome::NotApplicable as usize],
                sole_exclusions,
                gain_if_relaxed,
            },
        )
        .collect()
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
