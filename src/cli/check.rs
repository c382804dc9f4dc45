//! `eligo check`: validate a definition (and with --data, an extract) without running.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Args;

use super::Failure;
use crate::definition::{self, Definition};
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

pub fn execute(args: CheckArgs, _progress: &Progress) -> Result<(), Failure> {
    if args.pipeline.is_none() && args.data.is_none() {
        return Err(Failure::usage(
            "nothing to check: give --pipeline FILE (a trial definition) and/or --data DIR (an extract)",
        ));
    }
    if let Some(path) = &args.pipeline {
        let definition = check_pipeline(path)?;
        println!("{}", summary(&definition));
    }
    if args.data.is_some() {
        return Err(Failure::usage("`eligo check --data` is not built yet"));
    }
    Ok(())
}

/// Loads and checks a definition; on errors prints every diagnostic to stderr (coloured on a
/// terminal) and fails with exit code 2.
pub fn check_pipeline(path: &Path) -> Result<Definition, Failure> {
    definition::load(path).map_err(|diagnostics| {
        eprint!("{}", diagnostics.render(std::io::stderr().is_terminal()));
        Failure::usage(format!(
            "{}: {} error{} in the trial definition",
            path.display(),
            diagnostics.len(),
            if diagnostics.len() == 1 { "" } else { "s" }
        ))
    })
}

/// `ok: 26 criteria, 24 cohorts, ...`: what the definition holds.
pub fn summary(d: &Definition) -> String {
    let drug_criteria: usize = d.drugs.iter().map(|x| x.criteria.len()).sum();
    format!(
        "ok: {} criteria, {} cohorts ({} drugs, {} drug criteria, {} cohort criteria), {} not assessable, \
         {} code sets, {} measures, {} observations, {} tumour groups in {} (blake3 {})",
        d.criteria.len(),
        d.cohorts.len(),
        d.drugs.len(),
        drug_criteria,
        d.cohort_criteria.len(),
        d.not_assessable.len(),
        d.code_sets.len(),
        d.measures.len(),
        d.observations.len(),
        d.tumour_groups.len(),
        d.path.display(),
        &d.hash[..d.hash.len().min(12)],
    )
}
