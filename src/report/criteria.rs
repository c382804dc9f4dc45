//! Per general criterion: outcome counts, sole exclusions (patients who fail it and nothing else)
//! and the gain if it were relaxed (patients it alone keeps from being eligible).

use rayon::prelude::*;

use crate::engine::mask::{Outcome, Outcomes};

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

/// The counts of the first `criteria` columns of rows that hold at least that many outcomes
/// (population rows, `aggregate::check_shape`), in one pass over the rows (in parallel). Only
/// the outcomes that are not a pass are visited, a set bit of the row's words at a time, each
/// adding the row's patients to its criterion's count of its code; a pass is every patient less
/// the others. A row that fails once, or does not pass once, adds them to that one criterion's
/// sole exclusions, or gain, found from the row's words. Visiting every outcome cost about 330
/// instructions a row (callgrind), where most outcomes pass.
pub fn counts(rows: &[Row], criteria: usize) -> Vec<CriterionCounts> {
    /// Per criterion: patients by outcome code, sole exclusions, gain if relaxed.
    type Sums = Vec<([u64; 4], u64, u64)>;
    let add = |mut sums: Sums, row: &Row| {
        let n = row.patients;
        debug_assert!(row.outcomes.len() >= criteria);
        for (w, &word) in row.outcomes.words().iter().enumerate() {
            // The low bit of each pair whose code is not 00 (a pass).
            let mut coded = (word | word >> 1) & Outcomes::LOW_BITS;
            while coded != 0 {
                let shift = coded.trailing_zeros();
                let criterion = w * Outcomes::PER_WORD + shift as usize / 2;
                if let Some((by_code, _, _)) = sums.get_mut(criterion) {
                    by_code[(word >> shift & 0b11) as usize] += n;
                }
                coded &= coded - 1;
            }
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
    let patients: u64 = rows.iter().map(|row| row.patients).sum();
    sums.into_iter()
        .map(|(by_code, sole_exclusions, gain_if_relaxed)| {
            let [fail, unknown, not_applicable] =
                [Outcome::Fail, Outcome::Unknown, Outcome::NotApplicable]
                    .map(|code| by_code[code as usize]);
            CriterionCounts {
                pass: patients - fail - unknown - not_applicable,
                fail,
                unknown,
                not_applicable,
                sole_exclusions,
                gain_if_relaxed,
            }
        })
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
