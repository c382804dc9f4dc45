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

/// Prints the changes on stdout; a missing or unreadable report file is a runtime error (exit 1)
/// that names the file.
pub fn execute(args: DiffArgs, _progress: &Progress) -> Result<(), Failure> {
    let text = crate::report::diff(&args.old, &args.new).map_err(Failure::runtime)?;
    print!("{text}");
    Ok(())
}
