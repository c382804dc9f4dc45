//! The synthetic registry: deterministic, realistic extracts of any size, written with arrow-rs.
//! Patients are generated in fixed-size chunks in parallel (rayon) and written strictly in chunk
//! order, each patient from its own ChaCha stream, so the bytes depend only on the arguments.
//! Owns nothing of reading extracts: that is `extract/`.

mod alterations;
mod care;
mod clinical;
pub mod date;
pub mod epidemiology;
mod patient;
mod random;
pub mod schema;
mod tables;
mod write;

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::progress::Progress;

pub use patient::{orphan_id, person_id};
pub use schema::Table;

/// First and last day of the extract period (index dates fall in it), and the extraction date.
pub const PERIOD_START: i32 = date::days(2021, 6, 1);
pub const PERIOD_END: i32 = date::days(2025, 12, 31);
pub const EXTRACTED_ON: i32 = date::days(2026, 1, 15);

/// Patients per chunk: the unit of parallel work and of each write.
pub const CHUNK_PATIENTS: u64 = 8192;
/// Rows per Parquet row group.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub patients: u64,
    pub seed: u64,
    /// `None`: one file per table; `Some(k)`: a folder per table with k files.
    pub partitions: Option<usize>,
    /// Worker threads; `None`: rayon's default (all cores).
    pub threads: Option<usize>,
}

/// Row counts per table, in [`Table::ALL`] order, of what was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SynthSummary {
    pub rows: [u64; 7],
    pub files: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{0}")]
    Arguments(String),
    #[error("cannot write {path}: {source}; check that the folder is writable and has space")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write Parquet file {path}: {source}")]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("cannot build the {table} batch: {source}")]
    Arrow {
        table: &'static str,
        source: arrow::error::ArrowError,
    },
    #[error("{path} already holds `{table}` in the other layout ({found}); write to an empty folder or remove it")]
    Layout {
        path: PathBuf,
        table: &'static str,
        found: &'static str,
    },
    #[error("cannot start {threads} worker threads: {message}")]
    Threads { threads: usize, message: String },
}

/// Writes a synthetic extract for `config` into `out` (created if missing): the seven tables of
/// the extract contract and `extract.toml`. The same config gives byte-identical files whatever
/// the thread count.
pub fn generate(
    config: &SynthConfig,
    out: &Path,
    progress: &Progress,
) -> Result<SynthSummary, SynthError> {
    if config.partitions == Some(0) {
        return Err(SynthError::Arguments(
            "--partitions must be at least 1".into(),
        ));
    }
    if config.threads == Some(0) {
        return Err(SynthError::Arguments("--threads must be at least 1".into()));
    }
    let parts = config.partitions.unwrap_or(1) as u64;
    if parts > config.patients.max(1) {
        return Err(SynthError::Arguments(format!(
            "--partitions {parts} is more than --patients {}: every file must hold patients",
            config.patients
        )));
    }
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = config.threads {
        builder = builder.num_threads(t);
    }
    let pool = builder.build().map_err(|e| SynthError::Threads {
        threads: config.threads.unwrap_or(0),
        message: e.to_string(),
    })?;
    let window = 2 * pool.current_num_threads().max(1);
    std::fs::create_dir_all(out).map_err(|source| SynthError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let layout = write::Layout::new(out, config.partitions)?;
    let key = ChaCha8Rng::seed_from_u64(config.seed).get_seed();
    let bar = progress.bar("synth: patients", config.patients);
    let stage = progress.stage(&format!(
        "synth: {} patients, seed {}",
        config.patients, config.seed
    ));

    let mut summary = SynthSummary::default();
    pool.install(|| -> Result<(), SynthError> {
        for part in 0..parts {
            // partition `part` holds patients [N*part/K, N*(part+1)/K)
            let first = config.patients * part / parts;
            let last = config.patients * (part + 1) / parts;
            let chunks: Vec<(u64, u64)> = (first..last)
                .step_by(CHUNK_PATIENTS as usize)
                .map(|s| (s, (s + CHUNK_PATIENTS).min(last)))
                .collect();
            let mut writers = layout.open(part as usize)?;
            let mut pending: Option<Vec<Vec<arrow::record_batch::RecordBatch>>> = None;
            let mut windows = chunks.chunks(window);
            loop {
                let next = windows.next();
                // generate the next window while the previous one is written
                let (generated, written) = rayon::join(
                    || {
                        next.map(|w| {
                            w.par_iter()
                                .map(|&(s, e)| generate_chunk(key, s, e))
                                .collect::<Result<Vec<_>, _>>()
                        })
                    },
                    || match pending.take() {
                        Some(batches) => write::write_window(&mut writers, &batches),
                        None => Ok(()),
                    },
                );
                written?;
                match generated {
                    Some(batches) => {
                        let batches = batches?;
                        if let Some(bar) = &bar {
                            let n: usize = batches.iter().map(|b| b[0].num_rows()).sum();
                            bar.inc(n as u64);
                        }
                        pending = Some(batches);
                    }
                    None => break,
                }
            }
            let files = write::close(writers)?;
            for (i, (path, rows)) in files.into_iter().enumerate() {
                summary.rows[i] += rows;
                summary.files.push(path);
            }
        }
        Ok(())
    })?;
    write::extract_toml(out, config.seed)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    stage.done();
    Ok(summary)
}

/// Patients `start..end` (0-based numbers) as one record batch per table.
fn generate_chunk(
    key: [u8; 32],
    start: u64,
    end: u64,
) -> Result<Vec<arrow::record_batch::RecordBatch>, SynthError> {
    let mut tables = tables::Tables::default();
    let mut scratch = String::new();
    for n in start..end {
        patient::generate(&mut tables, key, n, &mut scratch);
    }
    tables.finish().map_err(|source| SynthError::Arrow {
        table: "chunk",
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_weights_sum_to_cancer_in_norway_2023() {
        // Cancer in Norway 2023: 38,094 new cases in all.
        let total: u32 = epidemiology::SITES.iter().map(|s| s.cases).sum();
        assert_eq!(total, epidemiology::TOTAL_CASES);
        // Health region shares: 56 + 20 + 14 + 9 = 99 %, 1 % left without a region.
        let regions: u32 = epidemiology::REGIONS.iter().map(|r| r.1).sum();
        assert_eq!(regions, 990);
    }

    #[test]
    fn a_chunk_does_not_depend_on_its_neighbours() {
        // Patient 5 generated alone equals patient 5 generated inside chunk 0..10.
        let key = ChaCha8Rng::seed_from_u64(7).get_seed();
        let alone = generate_chunk(key, 5, 6).unwrap_or_default();
        let inside = generate_chunk(key, 0, 10).unwrap_or_default();
        assert_eq!(alone.len(), 7);
        let person = inside[0].slice(5, 1);
        assert_eq!(person, alone[0]);
    }
}
