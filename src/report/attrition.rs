//! The attrition waterfall: criteria applied one after another, in definition order or any other.
//! Remaining eligible: every criterion so far passes (or is n/a). Remaining possibly eligible: none
//! so far fails (this includes the eligible ones). Excluded: patients newly failing at the step.

use crate::engine::mask::{MaskTable, Outcome};

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
    // For each row: the first step at which it fails, and the first at which it stops passing.
    let firsts: Vec<(usize, usize, u64)> = rows
        .iter()
        .map(|row| {
            let at = |pred: fn(Outcome) -> bool| {
                order
                    .iter()
                    .position(|c| pred(row.outcomes[*c]))
                    .unwrap_or(order.len())
            };
            (
                at(|o| o == Outcome::Fail),
                at(|o| !o.passes()),
                row.patients,
            )
        })
        .collect();
    let total: u64 = rows.iter().map(|r| r.patients).sum();
    let mut steps = vec![AttritionCounts {
        criterion: None,
        remaining_eligible: total,
        remaining_possibly_eligible: total,
        excluded: 0,
    }];
    for (step, criterion) in order.iter().enumerate() {
        // After applying criteria order[0..=step]: rows whose first fail lies beyond `step`.
        let possibly: u64 = firsts
            .iter()
            .filter(|(fail, _, _)| *fail > step)
            .map(|(_, _, n)| n)
            .sum();
        let eligible: u64 = firsts
            .iter()
            .filter(|(_, not_pass, _)| *not_pass > step)
            .map(|(_, _, n)| n)
            .sum();
        let before = steps
            .last()
            .map(|s| s.remaining_possibly_eligible)
            .unwrap_or(total);
        steps.push(AttritionCounts {
            criterion: Some(*criterion),
            remaining_eligible: eligible,
            remaining_possibly_eligible: possibly,
            excluded: before - possibly,
        });
    }
    steps
}
