//! The attrition waterfall: criteria applied one after another, in definition order or any other.
//! Remaining eligible: every criterion so far passes (or is n/a). Remaining possibly eligible: none
//! so far fails (this includes the eligible ones). Excluded: patients newly failing at the step.

use rayon::prelude::*;

use crate::engine::mask::{MaskTable, Outcomes};

use super::aggregate::{self, Row};
use super::ReportError;

/// True counts of one step (step 0: every patient, no criterion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttritionCounts {
    /// Index of the general criterion applied at this step; None for the start.
    pub criterion: Option<usize>,
    pub remaining_eligible: u64,
    /// Patients with no fail so far, eligible ones included.
    pub remaining_possibly_eligible: u64,
    /// Remaining possibly eligible before this step minus after it (0 at the start).
    pub excluded: u64,
}

/// The waterfall over the general criteria in `order` (indices into `masks.criteria`).
pub fn attrition(masks: &MaskTable, order: &[usize]) -> Result<Vec<AttritionCounts>, ReportError> {
    aggregate::check_shape(masks)?;
    if let Some(bad) = order.iter().find(|i| **i >= masks.criteria.len()) {
        return Err(ReportError::MaskShape(format!(
            "attrition order names criterion {bad}, but there are {}",
            masks.criteria.len()
        )));
    }
    Ok(waterfall(&aggregate::population(masks), order))
}

pub(crate) fn waterfall(rows: &[Row], order: &[usize]) -> Vec<AttritionCounts> {
    // Patients by the first step at which their row fails, and by the first at which it stops
    // passing (`order.len()`: never). After step s remain those whose first lies beyond s.
    let steps = order.len();
    // Each criterion's first step (`steps` where the order leaves it out).
    let mut step_of = vec![steps; order.iter().max().map_or(0, |&c| c + 1)];
    for (step, &criterion) in order.iter().enumerate().rev() {
        step_of[criterion] = step;
    }
    let histogram = |mut at: Vec<[u64; 2]>, row: &Row| {
        // The earliest steps of the row's outcomes that do not pass, and of those that fail,
        // found from the set bits of its words (none for a row that passes every criterion):
        // a few outcomes a row, where walking the steps read each outcome up to the first
        // fail (about 170 instructions a row, callgrind).
        let (mut first_fail, mut first_not_passing) = (steps, steps);
        if row.not_passing > 0 {
            for (w, &word) in row.outcomes.words().iter().enumerate() {
                let (low, high) = (word & Outcomes::LOW_BITS, (word >> 1) & Outcomes::LOW_BITS);
                let fails = low & !high;
                let mut not_passing = low ^ high;
                while not_passing != 0 {
                    let shift = not_passing.trailing_zeros();
                    let criterion = w * Outcomes::PER_WORD + shift as usize / 2;
                    let step = step_of.get(criterion).copied().unwrap_or(steps);
                    first_not_passing = first_not_passing.min(step);
                    if fails >> shift & 1 == 1 {
                        first_fail = first_fail.min(step);
                    }
                    not_passing &= not_passing - 1;
                }
            }
        }
        at[first_fail][0] += row.patients;
        at[first_not_passing][1] += row.patients;
        at
    };
    let zero = || vec![[0u64; 2]; steps + 1];
    let at = rows
        .par_iter()
        .fold(zero, histogram)
        .reduce(zero, |mut a, b| {
            for (a, b) in a.iter_mut().zip(b) {
                a[0] += b[0];
                a[1] += b[1];
            }
            a
        });
    let total: u64 = rows.iter().map(|r| r.patients).sum();
    let mut result = vec![AttritionCounts {
        criterion: None,
        remaining_eligible: total,
        remaining_possibly_eligible: total,
        excluded: 0,
    }];
    let (mut possibly, mut eligible) = (total, total);
    for (step, criterion) in order.iter().enumerate() {
        let before = possibly;
        possibly -= at[step][0];
        eligible -= at[step][1];
        result.push(AttritionCounts {
            criterion: Some(*criterion),
            remaining_eligible: eligible,
            remaining_possibly_eligible: possibly,
            excluded: before - possibly,
        });
    }
    result
}
