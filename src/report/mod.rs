//! From the mask table to every output of a run: attrition, criteria, cohorts, strata, data
//! quality, the HTML report and the manifest, all under disclosure control, written atomically.
//! [`build`] computes and suppresses; [`Reports::write`] renders into a folder (usually an
//! [`OutputFolder`]). No count reaches a file without passing the disclosure ledger.

pub mod aggregate;
pub mod attrition;
mod build;
mod charts;
pub mod cohorts;
pub mod criteria;
pub mod diff;
pub mod disclosure;
mod html;
pub mod manifest;
pub mod output;
pub mod quality;
pub mod strata;
mod summary;
pub mod tables;
pub mod word_pages;

use std::path::{Path, PathBuf};

pub use attrition::{attrition, AttritionCounts};
pub use build::build;
pub use diff::diff;
pub use disclosure::{Disclosure, Published};
pub use manifest::{hash_file, InputFile, Manifest};
pub use output::OutputFolder;

use crate::definition::model::Definition;
use crate::engine::mask::MaskTable;
use crate::extract::DataQuality;

/// What the run was about: the registry, the as-of date and the period the extract covers
/// (accrual per year is counted over it, both ends included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    pub registry: Option<String>,
    pub as_of: chrono::NaiveDate,
    pub period_start: chrono::NaiveDate,
    pub period_end: chrono::NaiveDate,
}

impl RunInfo {
    /// Days of the period (both ends included) / 365.25.
    pub fn period_years(&self) -> f64 {
        ((self.period_end - self.period_start).num_days() + 1) as f64 / 365.25
    }
}

/// Everything the reports are made from.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    pub definition: &'a Definition,
    pub masks: &'a MaskTable,
    pub quality: &'a DataQuality,
    pub run: &'a RunInfo,
    pub disclosure: Disclosure,
    pub manifest: &'a Manifest,
}

/// The computed, disclosure-controlled tables of one run. Holds published numbers only.
#[derive(Debug, Clone)]
pub struct Reports {
    pub disclosure: Disclosure,
    pub trial_id: String,
    pub trial_title: String,
    pub registration: String,
    pub registry: Option<String>,
    pub as_of: chrono::NaiveDate,
    pub period_start: chrono::NaiveDate,
    pub period_end: chrono::NaiveDate,
    pub horizon_months: f64,
    pub definition_path: String,
    pub definition_hash: String,
    pub headline: tables::Headline,
    pub attrition: Vec<tables::AttritionRow>,
    pub criteria: Vec<tables::CriterionRow>,
    pub not_assessable: Vec<tables::NotAssessableRow>,
    pub cohorts: Vec<tables::CohortRow>,
    pub strata: Vec<tables::StratumRow>,
    pub quality: Vec<tables::QualityRow>,
    pub manifest: Manifest,
    /// Seconds spent in `build`, recorded in the manifest as the `report` stage.
    pub build_seconds: f64,
}

/// The files of an output folder, in the order they are written (manifest last).
pub const FILES: [&str; 7] = [
    "attrition.csv",
    "criteria.csv",
    "cohorts.csv",
    "strata.csv",
    "data_quality.csv",
    "report.html",
    "manifest.json",
];

impl Reports {
    /// Every published file as bytes, in [`FILES`] order.
    pub fn render(&self) -> Result<Vec<(&'static str, Vec<u8>)>, ReportError> {
        let csvs = [
            tables::attrition_csv(&self.attrition)?,
            tables::criteria_csv(&self.criteria, &self.not_assessable)?,
            tables::cohorts_csv(&self.cohorts)?,
            tables::strata_csv(&self.headline, &self.strata)?,
            tables::quality_csv(&self.quality)?,
        ];
        let mut manifest = self.manifest.clone();
        manifest.disclosure = self.disclosure;
        manifest.disclosure_rule = self.disclosure.rule();
        manifest.rows = vec![
            manifest::TableRows::new("attrition.csv", self.attrition.len()),
            manifest::TableRows::new(
                "criteria.csv",
                self.criteria.len() + self.not_assessable.len(),
            ),
            manifest::TableRows::new("cohorts.csv", self.cohorts.len()),
            manifest::TableRows::new("strata.csv", self.strata.len() + 1),
            manifest::TableRows::new("data_quality.csv", self.quality.len()),
        ];
        manifest.add_timing("report", self.build_seconds);
        let mut files: Vec<(&'static str, Vec<u8>)> =
            FILES[..5].iter().copied().zip(csvs).collect();
        files.push(("report.html", html::render(self)?.into_bytes()));
        files.push(("manifest.json", manifest.to_json()?.into_bytes()));
        Ok(files)
    }

    /// Writes every file into `dir` (which must exist; usually [`OutputFolder::path`]), each
    /// flushed to disk before this returns, so that a commit after it never publishes a file
    /// that a crash could truncate.
    pub fn write(&self, dir: &Path) -> Result<(), ReportError> {
        use std::io::Write;
        for (name, bytes) in self.render()? {
            let path = dir.join(name);
            let written = std::fs::File::create(&path).and_then(|mut file| {
                file.write_all(&bytes)?;
                file.sync_all()
            });
            written.map_err(|source| ReportError::Write { path, source })?;
        }
        Ok(())
    }

    /// A short Markdown summary for stdout.
    pub fn summary_markdown(&self) -> String {
        summary::markdown(self)
    }
}

impl ReportError {
    /// Whether the command line is at fault (exit code 2) rather than the run (exit code 1).
    pub fn is_usage(&self) -> bool {
        matches!(self, ReportError::MinCell(_) | ReportError::Round { .. })
    }
}

/// Why the reports could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(
        "--min-cell {0} is below 3: registries never publish counts below 3 patients; use 3 or \
         more (the default is 5)"
    )]
    MinCell(u32),
    #[error(
        "--round {round} does not fit --min-cell {min_cell}: use 1 (no rounding) or a base of at \
         least {min_cell}, so that no rounded count shows a value from 1 to {}",
        min_cell.saturating_sub(1)
    )]
    Round { round: u32, min_cell: u32 },
    #[error(
        "the run period ends on {end}, before it starts on {start}: check the extract's period"
    )]
    Period {
        start: chrono::NaiveDate,
        end: chrono::NaiveDate,
    },
    #[error("the mask table does not fit the definition: {0} (the engine and definition disagree; this is a bug)")]
    MaskShape(String),
    #[error(
        "disclosure check failed: {cell} could be recomputed as {value} from the published \
         numbers, so nothing was published; raise --min-cell or --round, or report this as a bug"
    )]
    Disclosure { cell: String, value: u64 },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("cannot render {what}: {message}")]
    Render { what: String, message: String },
}
