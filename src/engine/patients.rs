//! The patient-level results as published to `restricted/patients.parquet`: `person_id`, one
//! Utf8 column per criterion id (`pass`, `fail`, `unknown`, `n/a`), `status`, and one column per
//! cohort id with the patient's cohort status (null where not matched).

use polars::prelude::*;

use super::cohorts::matched_column;
use super::compile::{FAIL, NOT_APPLICABLE, PASS, UNKNOWN};
use super::evaluate::{criterion_column, drug_criterion_column};
use super::EngineError;
use crate::definition::model::Definition;

fn word(code: Expr) -> Expr {
    when(code.clone().eq(lit(PASS)))
        .then(lit("pass"))
        .when(code.clone().eq(lit(FAIL)))
        .then(lit("fail"))
        .when(code.clone().eq(lit(UNKNOWN)))
        .then(lit("unknown"))
        .when(code.eq(lit(NOT_APPLICABLE)))
        .then(lit("n/a"))
        .otherwise(lit(NULL).cast(DataType::String))
}

/// `eligible`, `possibly eligible` or `ineligible` over outcome columns.
fn status(columns: &[String]) -> Expr {
    let any_is = |code: u8| {
        columns
            .iter()
            .map(|c| col(c.as_str()).eq(lit(code)))
            .reduce(Expr::or)
            .unwrap_or(lit(false))
    };
    when(any_is(FAIL))
        .then(lit("ineligible"))
        .when(any_is(UNKNOWN))
        .then(lit("possibly eligible"))
        .otherwise(lit("eligible"))
}

/// The restricted patient-level frame.
pub fn restricted(patients: &DataFrame, definition: &Definition) -> Result<DataFrame, EngineError> {
    let general: Vec<String> = (0..definition.criteria.len())
        .map(criterion_column)
        .collect();
    let mut select = vec![col("person_id")];
    for (i, criterion) in definition.criteria.iter().enumerate() {
        select.push(word(col(criterion_column(i))).alias(criterion.id.as_str()));
    }
    select.push(status(&general).alias("status"));
    for (c, cohort) in definition.cohorts.iter().enumerate() {
        let drug = &definition.drugs[cohort.drug];
        let mut columns = general.clone();
        let own = definition.cohort_criteria.len() + drug.criteria.len();
        columns.extend((0..own).map(|j| drug_criterion_column(cohort.drug, j)));
        select.push(
            when(col(matched_column(c)))
                .then(status(&columns))
                .otherwise(lit(NULL).cast(DataType::String))
                .alias(cohort.id.as_str()),
        );
    }
    Ok(patients.clone().lazy().select(select).collect()?)
}
