//! From the mask table to true (unsuppressed) counts: its rows with their fails and outcomes not
//! passing counted, the headline statuses, and a shape check so that no later step can index
//! past a row's outcomes. Nothing here is published directly; every count goes through the
//! disclosure ledger first.

use rayon::prelude::*;

use crate::engine::mask::{MaskRow, MaskTable, Outcomes, Status, Stratum};

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

/// Per cohort, the rows of patients matched to it, with general then cohort criteria: one pass
/// over the table for every cohort, not one per cohort.
pub fn cohorts(masks: &MaskTable) -> Vec<Vec<Row<'_>>> {
    let mut cohorts: Vec<Vec<Row>> = vec![Vec::new(); masks.cohorts.len()];
    for mask_row in &masks.rows {
        let Some(rows) = mask_row.cohort.and_then(|c| cohorts.get_mut(c)) else {
            continue;
        };
        rows.extend(row(masks, mask_row));
    }
    cohorts
}

fn decode(masks: &MaskTable, cohort: Option<usize>) -> Vec<Row<'_>> {
    masks
        .rows
        .par_iter()
        .filter(|r| r.cohort == cohort)
        .filter_map(|r| row(masks, r))
        .collect()
}

/// The mask row `r` with its counts; None where its stratum is not in the table ([`check_shape`]
/// rules that out).
fn row<'a>(masks: &'a MaskTable, r: &'a MaskRow) -> Option<Row<'a>> {
    Some(Row {
        stratum: masks.strata.get(r.stratum)?,
        stratum_index: r.stratum,
        patients: r.patients,
        fails: r.outcomes.fails(),
        not_passing: r.outcomes.not_passing(),
        outcomes: &r.outcomes,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::mask::{CohortColumns, Outcome, Outcomes};

    /// Rows of two cohorts and the population, in no order: each cohort gets its own rows, in
    /// table order, with their counts; the population rows go to no cohort.
    #[test]
    fn cohort_rows_grouped_in_one_pass() {
        use Outcome::*;
        let stratum = Stratum {
            region: "North".into(),
            site: "H1".into(),
            tumour_group: "lung".into(),
            sex: "F".into(),
            age_band: "60-69".into(),
        };
        let row = |cohort: Option<usize>, outcomes: &[Outcome], patients: u64| MaskRow {
            cohort,
            stratum: 0,
            outcomes: Outcomes::from_slice(outcomes),
            patients,
        };
        let cohort = |id: &str| CohortColumns {
            id: id.into(),
            criteria: vec!["C1".into()],
        };
        let masks = MaskTable {
            criteria: vec!["I1".into()],
            cohorts: vec![cohort("A"), cohort("B")],
            strata: vec![stratum],
            rows: vec![
                row(Some(1), &[Pass, Fail], 4),
                row(None, &[Unknown], 9),
                row(Some(0), &[Unknown, Fail], 2),
                row(Some(1), &[Pass, NotApplicable], 7),
            ],
        };
        let grouped = cohorts(&masks);
        let summary = |rows: &[Row]| -> Vec<(u64, u32, u32)> {
            rows.iter()
                .map(|r| (r.patients, r.fails, r.not_passing))
                .collect()
        };
        assert_eq!(grouped.len(), 2);
        assert_eq!(summary(&grouped[0]), [(2, 1, 2)]);
        assert_eq!(summary(&grouped[1]), [(4, 1, 1), (7, 0, 0)]);
        assert_eq!(grouped[1][0].outcomes.get(1), Fail);
        assert_eq!(summary(&population(&masks)), [(9, 0, 1)]);
    }
}
