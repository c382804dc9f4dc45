//! `eligo diff OLD NEW`: what changed between two runs' reports.

use std::path::PathBuf;

use clap::Args;

use super::Failure;
use crate::progress::Progress;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier run's output folder.
    pub old: PathBuf,
    /// The later run's output folder.
    pub new: PathBuf,
}

pub fn execute(_args: DiffArgs, _progress: &Progress) -> Result<(), Failure> {
    Err(Failure::usage(
        "`eligo diff` is not built yet: it lands with the reports (issue #4)",
    ))
}
