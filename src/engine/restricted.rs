//! The restricted outputs, never published: `patients.parquet` (`person_id`, one Utf8 column per
//! criterion id with `pass`, `fail`, `unknown`, `n/a`, `status`, one column per cohort id with the
//! patient's cohort status, null where not matched) and `masks.parquet` (the unsuppressed mask
//! table with one column per criterion, which registries can pool).

use polars::prelude::*;

use super::cohorts::matched_column;
use super::compile::{FAIL, NOT_APPLICABLE, PASS, UNKNOWN};
use super::evaluate::{criterion_column, drug_columns, general_columns};
use super::mask::{MaskTable, Outcome};
use super::EngineError;
use crate::definition::model::Definition;

/// The restricted words of the outcome codes, indexed by code (`PASS` ... `NOT_APPLICABLE`).
pub const OUTCOME_WORDS: [&str; 4] = {
    let mut words = [""; 4];
    words[PASS as usize] = "pass";
    words[FAIL as usize] = "fail";
    words[UNKNOWN as usize] = "unknown";
    words[NOT_APPLICABLE as usize] = "n/a";
    words
};

/// The words of the status codes [`status`] gives.
pub const STATUS_WORDS: [&str; 3] = ["ineligible", "possibly eligible", "eligible"];

/// Whether any of the outcome `columns` has `code` (false without columns).
fn any_is(columns: &[String], code: u8) -> Expr {
    columns
        .iter()
        .map(|c| col(c.as_str()).eq(lit(code)))
        .reduce(Expr::or)
        .unwrap_or(lit(false))
}

/// The status code ([`STATUS_WORDS`]): `ineligible` where any criterion fails, else `possibly
/// eligible` where any is unknown, else `eligible`.
fn status(fails: Expr, unknown: Expr) -> Expr {
    when(fails)
        .then(lit(0u8))
        .when(unknown)
        .then(lit(1u8))
        .otherwise(lit(2u8))
        .cast(DataType::UInt8)
}

/// A frame some of whose columns hold words as UInt8 codes: where `words[i]` is given, column
/// `i`'s word is `words[i][code]` (null where the code is null); other columns are as they are.
/// Written as Parquet dictionary pages straight from the codes, its word columns read as Utf8.
pub struct Coded {
    pub frame: DataFrame,
    pub words: Vec<Option<&'static [&'static str]>>,
}

/// The restricted patient-level frame. Whether any criterion fails or is unknown is computed once
/// for the general criteria and once per drug, then combined per cohort (a cohort's status reads
/// the general criteria and its drug's): 24 cohorts over ~35 columns each made this file cost
/// more than the mask table.
pub fn patients(patients: &DataFrame, definition: &Definition) -> Result<Coded, EngineError> {
    const GENERAL_FAILS: &str = "__general_fails";
    const GENERAL_UNKNOWN: &str = "__general_unknown";
    let drug_fails = |d: usize| format!("__drug_{d}_fails");
    let drug_unknown = |d: usize| format!("__drug_{d}_unknown");
    let general = general_columns(definition);
    let mut flags = vec![
        any_is(&general, FAIL).alias(GENERAL_FAILS),
        any_is(&general, UNKNOWN).alias(GENERAL_UNKNOWN),
    ];
    for d in 0..definition.drugs.len() {
        let columns = drug_columns(definition, d);
        flags.push(any_is(&columns, FAIL).alias(drug_fails(d)));
        flags.push(any_is(&columns, UNKNOWN).alias(drug_unknown(d)));
    }
    let mut select = vec![col("person_id")];
    let mut words: Vec<Option<&'static [&'static str]>> = vec![None];
    for (i, criterion) in definition.criteria.iter().enumerate() {
        select.push(col(criterion_column(i)).alias(criterion.id.as_str()));
        words.push(Some(&OUTCOME_WORDS));
    }
    select.push(status(col(GENERAL_FAILS), col(GENERAL_UNKNOWN)).alias("status"));
    words.push(Some(&STATUS_WORDS));
    for (c, cohort) in definition.cohorts.iter().enumerate() {
        let d = cohort.drug;
        let fails = col(GENERAL_FAILS).or(col(drug_fails(d)));
        let unknown = col(GENERAL_UNKNOWN).or(col(drug_unknown(d)));
        let cohort_status = when(col(matched_column(c)))
            .then(status(fails, unknown))
            .otherwise(lit(NULL).cast(DataType::UInt8));
        select.push(cohort_status.alias(cohort.id.as_str()));
        words.push(Some(&STATUS_WORDS));
    }
    let frame = patients
        .clone()
        .lazy()
        .with_columns(flags)
        .select(select)
        .collect()?;
    Ok(Coded { frame, words })
}

/// The mask table as a frame: `cohort` (null for the population rows), the five stratum columns,
/// one Utf8 column per criterion id (general criteria, then every cohort criterion id; null where
/// a row does not carry that criterion) and `patients`; rows `rows` of the table, so that a
/// large table is written a slice at a time. The criterion columns are outcome codes.
pub fn masks(masks: &MaskTable, rows: std::ops::Range<usize>) -> Result<Coded, EngineError> {
    let mut ids: Vec<String> = masks.criteria.clone();
    for cohort in &masks.cohorts {
        for id in &cohort.criteria {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
    }
    // The output column of each criterion of a population row and of each cohort's rows.
    let position = |name: &String| ids.iter().position(|id| id == name);
    let general: Vec<Option<usize>> = masks.criteria.iter().map(position).collect();
    let per_cohort: Vec<Vec<Option<usize>>> = masks
        .cohorts
        .iter()
        .map(|c| {
            general
                .iter()
                .copied()
                .chain(c.criteria.iter().map(position))
                .collect()
        })
        .collect();
    let rows = &masks.rows[rows.start.min(masks.rows.len())..rows.end.min(masks.rows.len())];
    let n = rows.len();
    let mut cohort = Vec::with_capacity(n);
    let mut strata: Vec<Vec<&str>> = (0..5).map(|_| Vec::with_capacity(n)).collect();
    let mut outcomes: Vec<Vec<Option<u8>>> = vec![vec![None; n]; ids.len()];
    let mut patients = Vec::with_capacity(n);
    for (r, row) in rows.iter().enumerate() {
        cohort.push(row.cohort.map(|c| masks.cohorts[c].id.as_str()));
        let stratum = &masks.strata[row.stratum];
        for (d, dimension) in super::mask::Stratum::DIMENSIONS.iter().enumerate() {
            strata[d].push(stratum.get(dimension).unwrap_or("not recorded"));
        }
        let columns = match row.cohort {
            Some(c) => &per_cohort[c],
            None => &general,
        };
        for (i, column) in columns.iter().enumerate() {
            if let Some(column) = column {
                let outcome: Outcome = row.outcomes.get(i);
                outcomes[*column][r] = Some(outcome as u8);
            }
        }
        patients.push(row.patients);
    }
    let mut columns: Vec<Column> = vec![Series::new("cohort".into(), cohort).into()];
    let mut words = vec![None];
    for (d, dimension) in super::mask::Stratum::DIMENSIONS.iter().enumerate() {
        columns.push(Series::new((*dimension).into(), &strata[d]).into());
        words.push(None);
    }
    for (id, values) in ids.iter().zip(outcomes) {
        columns.push(Series::new(id.as_str().into(), values).into());
        words.push(Some(&OUTCOME_WORDS[..]));
    }
    columns.push(Series::new("patients".into(), patients).into());
    words.push(None);
    let frame = DataFrame::new_infer_height(columns)?;
    Ok(Coded { frame, words })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_words_are_the_outcomes_words_by_code() {
        for outcome in Outcome::ALL {
            assert_eq!(OUTCOME_WORDS[outcome as usize], outcome.as_str());
        }
    }
}
