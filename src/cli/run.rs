//! `eligo run`: the main job. Reads the extract, evaluates the definition, writes the reports.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use crate::progress::Progress;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The trial definition.
    #[arg(long, default_value = "pipelines/impress-norway.toml")]
    pub pipeline: PathBuf,
    /// The extract: a folder of Parquet tables (see the extract contract).
    #[arg(long, default_value = "data-samples")]
    pub data: PathBuf,
    /// The output folder, replaced atomically when the run completes.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// The as-of date (YYYY-MM-DD): index date where a patient has none, and no look-ahead past it.
    /// Default: extract.toml's extracted_on, else today.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Counts from 1 to k-1 are published as `<k` (at least 3).
    #[arg(long, default_value_t = 5)]
    pub min_cell: u32,
    /// Round published counts to this base (1: no rounding).
    #[arg(long, default_value_t = 1)]
    pub round: u32,
    /// Also write `restricted/`: the unsuppressed mask table and patient-level results.
    #[arg(long)]
    pub restricted: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn execute(_args: RunArgs, _progress: &Progress) -> Result<(), Failure> {
    Err(Failure::usage(
        "`eligo run` is not built yet: evaluation and reports land with issue #4",
    ))
}
