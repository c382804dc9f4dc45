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
mod tables;
mod variants;

pub use codes::matches as code_matches;
pub use count::{count, MaskCounter};
pub use evaluate::{patient_outcomes, patient_outcomes_checked, Evaluation};
pub use inputs::Inputs;
pub use restricted::{
    patients as restricted_patients, Coded, MaskFrames, OUTCOME_WORDS, STATUS_WORDS,
};

use polars::prelude::{Column, DataFrame, PolarsError, PolarsResult};
use rayon::prelude::*;

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

/// `frame` cut at every chunk boundary of any of its columns, in order: pieces whose columns are
/// one chunk each, sliced without a copy. A streaming morsel's columns are chunked apart (a
/// table read into memory by its pages, a computed key in one chunk); rechunking them copied
/// every record's values once more (1.2 % of a run's instructions).
fn aligned_pieces(frame: &DataFrame) -> Vec<DataFrame> {
    let mut cuts = vec![0, frame.height()];
    for series in frame.columns().iter().filter_map(Column::as_series) {
        cuts.extend(series.chunk_lengths().scan(0, |end, length| {
            *end += length;
            Some(*end)
        }));
    }
    cuts.sort_unstable();
    cuts.dedup();
    (cuts.windows(2))
        .map(|cut| frame.slice(cut[0] as i64, cut[1] - cut[0]))
        .collect()
}

/// The rows of a range [`in_parallel`] maps.
const PARALLEL_ROWS: usize = 1 << 18;

/// `f` of each range of `height` rows (offset, length), in parallel (rayon; one after the other
/// inside [`in_order::one_thread_each`]), in order: for a table in memory that one thread would
/// map alone.
fn in_parallel<T: Send>(height: usize, f: impl Fn(i64, usize) -> T + Sync) -> Vec<T> {
    const ROWS: usize = PARALLEL_ROWS;
    let part = |range: usize| f((range * ROWS) as i64, ROWS.min(height - range * ROWS));
    match in_order::on_this_thread() {
        true => (0..height.div_ceil(ROWS)).map(part).collect(),
        false => (0..height.div_ceil(ROWS))
            .into_par_iter()
            .map(part)
            .collect(),
    }
}

/// `parts` one after another, `len` values in all, copied slice by slice (a flat map of them
/// collected value by value cost about 12 instructions a value).
fn concatenated<'a, T: Copy + 'a>(parts: impl Iterator<Item = &'a [T]>, len: usize) -> Vec<T> {
    let mut all = Vec::with_capacity(len);
    for part in parts {
        all.extend_from_slice(part);
    }
    all
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
