//! `eligo synth`: write a synthetic extract, deterministic for a seed.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use crate::progress::Progress;

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Number of patients.
    #[arg(long, default_value_t = 5000)]
    pub patients: u64,
    /// Seed: the same seed gives byte-identical files, whatever the thread count.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Write each table as a folder of this many Parquet files.
    #[arg(long)]
    pub partitions: Option<usize>,
}

pub fn execute(_args: SynthArgs, _progress: &Progress) -> Result<(), Failure> {
    Err(Failure::usage("`eligo synth` is not built yet"))
}
