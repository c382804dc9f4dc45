//! `eligo check`: validate a definition (and with --data, an extract) without running.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use crate::progress::Progress;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The trial definition to check.
    #[arg(long)]
    pub pipeline: Option<PathBuf>,
    /// An extract to validate against the contract.
    #[arg(long)]
    pub data: Option<PathBuf>,
}

pub fn execute(_args: CheckArgs, _progress: &Progress) -> Result<(), Failure> {
    Err(Failure::usage("`eligo check` is not built yet"))
}
