//! `eligo synth`: write a synthetic extract, deterministic for a seed.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use crate::progress::Progress;
use crate::synth::{self, SynthConfig, SynthError, Table};

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
    /// Worker threads (default: all cores). Does not change the output.
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn execute(args: SynthArgs, progress: &Progress) -> Result<(), Failure> {
    let config = SynthConfig {
        patients: args.patients,
        seed: args.seed,
        partitions: args.partitions,
        threads: args.threads,
    };
    let summary = synth::generate(&config, &args.out, progress).map_err(|e| match e {
        SynthError::Arguments(_) | SynthError::Layout { .. } => Failure::usage(e),
        _ => Failure::runtime(e),
    })?;
    println!(
        "Wrote a synthetic extract of {} patients (seed {}) to {}:",
        args.patients,
        args.seed,
        args.out.display()
    );
    println!();
    println!("| table | rows |");
    println!("|---|---:|");
    for (table, rows) in Table::ALL.iter().zip(summary.rows) {
        println!("| {} | {rows} |", table.name());
    }
    Ok(())
}
