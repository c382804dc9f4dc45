//! From the mask table to true (unsuppressed) counts: its rows with their fails and outcomes not
//! passing counted, the headline statuses, and a shape check so that no later step can index
//! past a row's outcomes. Nothing here is published directly; every count goes through the
//! disclosure ledger first.

use rayon::prelude::*;

use crate::engine::mask::{MaskTable, Outcomes, Status, Stratum};

use super::ReportError;

/// One mask row, with what every aggregate asks of it counted once: its failing and its
/// not passing outcomes (the status, sole exclusions and gain if relaxed follow from them, so no
/// aggregate walks a row's outcomes twice).
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub outcomes: &'a Outcomes,
    pub stratum: &'a Stratum,
    /// Index of `stratum` in the mask table's strata.
    pub stratum_index: usize,
    pub patients: u64,
    /// Outcomes that fail.
    pub fails: u32,
    /// Outcomes that do not pass: fail or unknown.
    pub not_passing: u32,
}

impl Row<'_> {
    pub fn status(&self) -> Status {
        Status::given(self.fails > 0, self.not_passing > 0)
    }
}

/// Checks that every row has as many outcomes as its columns and a valid stratum.
pub fn check_shape(masks: &MaskTable) -> Result<(), ReportError> {
    for (i, row) in masks.rows.iter().enumerate() {
        let expected = match row.cohort {
            None => masks.criteria.len(),
            Some(c) => match masks.cohorts.get(c) {
                Some(cohort) => masks.criteria.len() + cohort.criteria.len(),
                None => {
                    return Err(ReportError::MaskShape(format!(
                        "row {i} names cohort {c}, but the mask table has {} cohorts",
                        masks.cohorts.len()
                    )))
                }
            },
        };
        if row.outcomes.len() != expected {
            return Err(ReportError::MaskShape(format!(
                "row {i} has {} outcomes where its columns are {expected}",
                row.outcomes.len()
            )));
        }
        if row.stratum >= masks.strata.len() {
            return Err(ReportError::MaskShape(format!(
                "row {i} names stratum {}, but the mask table has {}",
                row.stratum,
                masks.strata.len()
            )));
        }
    }
    Ok(())
}

/// Rows of the population (one per patient combination). Call after [`check_shape`].
pub fn population(masks: &MaskTable) -> Vec<Row<'_>> {
    decode(masks, None)
}

/// Rows of patients matched to cohort `c`, with general then cohort criteria.
pub fn cohort(masks: &MaskTable, c: usize) -> Vec<Row<'_>> {
    decode(masks, Some(c))
}

fn decode(masks: &MaskTable, cohort: Option<usize>) -> Vec<Row<'_>> {
    masks
        .rows
        .par_iter()
        .filter(|r| r.cohort == cohort)
        .filter_map(|r| {
            Some(Row {
                stratum: masks.strata.get(r.stratum)?,
                stratum_index: r.stratum,
                patients: r.patients,
                fails: r.outcomes.fails(),
                not_passing: r.outcomes.not_passing(),
                outcomes: &r.outcomes,
            })
        })
        .collect()
}

/// Patients by overall status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Headline {
    pub patients: u64,
    pub eligible: u64,
    pub possibly_eligible: u64,
    pub ineligible: u64,
}

pub fn headline(rows: &[Row]) -> Headline {
    let mut h = Headline::default();
    for row in rows {
        h.patients += row.patients;
        match row.status() {
            Status::Eligible => h.eligible += row.patients,
            Status::PossiblyEligible => h.possibly_eligible += row.patients,
            Status::Ineligible => h.ineligible += row.patients,
        }
    }
    h
}
