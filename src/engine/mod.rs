//! Compiles a checked definition into polars expressions, evaluates every criterion for every
//! patient (and every matched patient x cohort pair) with three-valued outcomes, and counts the
//! mask table. The only module that builds query plans.

mod codes;
mod cohorts;
mod compile;
mod count;
mod diagnoses;
mod evaluate;
pub mod in_order;
pub mod inputs;
mod kernel;
mod lookup;
pub mod mask;
mod measures;
mod observations;
mod outcome;
mod patient_core;
mod per_patient;
mod records;
mod reduce;
mod restricted;
mod variants;

pub use codes::matches as code_matches;
pub use count::{count, MaskCounter};
pub use evaluate::{patient_outcomes, patient_outcomes_checked, Evaluation};
pub use inputs::Inputs;
pub use restricted::{
    patients as restricted_patients, Coded, MaskFrames, OUTCOME_WORDS, STATUS_WORDS,
};

use polars::prelude::{Column, DataFrame, PolarsError, PolarsResult};

/// `frame` with the columns `which` picks in one chunk each and the others as they are: a
/// column read as one slice needs one chunk, while rechunking a string column nothing reads
/// that way sums and copies its views for nothing.
fn rechunked(frame: &DataFrame, which: impl Fn(&Column) -> bool) -> PolarsResult<DataFrame> {
    let columns = (frame.columns().iter())
        .map(|column| match which(column) {
            true => column.rechunk(),
            false => column.clone(),
        })
        .collect();
    DataFrame::new(frame.height(), columns)
}

/// Why evaluation could not finish.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The query engine failed (reading, joining, computing).
    #[error("evaluation failed: {0}")]
    Polars(#[from] PolarsError),
    /// The definition asks for something the engine cannot evaluate.
    #[error("the definition asks for something the engine cannot evaluate: {0}")]
    Unsupported(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// Evaluation panicked: polars' Parquet reader asserts on some damaged pages (validation
    /// decodes only what it checks value by value, so a page it does not read can reach
    /// evaluation); otherwise a bug. The command line looks for a damaged column to tell which.
    #[error("evaluation stopped on a panic (see the message above)")]
    Panicked,
}

#[cfg(test)]
mod tests;
