//! The run manifest (`manifest.json`): what was run on what, for provenance: tool version, the
//! definition and its hash, every input file with its size and blake3 hash, the as-of date, the
//! disclosure rule, row counts of the published tables, timings per stage and the exit status.

use std::path::Path;

use serde::Serialize;

use super::disclosure::Disclosure;
use super::{ReportError, RunInfo};
use crate::definition::model::Definition;

/// Fields serialize in declaration order, so the JSON is stable for the same run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    pub definition: DefinitionFile,
    /// Sorted by path.
    pub inputs: Vec<InputFile>,
    pub registry: Option<String>,
    pub as_of: String,
    pub period_start: String,
    pub period_end: String,
    pub disclosure: Disclosure,
    pub disclosure_rule: String,
    /// Data rows of each published table (header excluded).
    /// Rows of each input table (from the Parquet footers).
    pub input_rows: Vec<TableRows>,
    /// Rows of each published table.
    pub rows: Vec<TableRows>,
    /// Wall seconds per stage. `evaluate` runs to the last partition evaluated and `aggregate`
    /// is the time spent counting, most of it while later partitions are evaluated: the two
    /// overlap, so they add up to more than the run took.
    pub timings: Vec<Timing>,
    /// 0: the run succeeded (a failed run writes no manifest: its folder is never committed).
    pub exit_status: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefinitionFile {
    pub path: String,
    pub blake3: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputFile {
    pub path: String,
    pub bytes: u64,
    pub blake3: String,
}

impl InputFile {
    /// The file at `path`: its size and content hash (streamed; any size).
    pub fn of(path: &Path) -> Result<InputFile, ReportError> {
        let bytes = std::fs::metadata(path)
            .map_err(|source| ReportError::Read {
                path: path.to_path_buf(),
                source,
            })?
            .len();
        Ok(InputFile {
            path: path.display().to_string(),
            bytes,
            blake3: hash_file(path)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableRows {
    pub table: String,
    pub rows: u64,
}

impl TableRows {
    pub fn new(table: &str, rows: usize) -> TableRows {
        TableRows {
            table: table.to_string(),
            rows: rows as u64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timing {
    pub stage: String,
    pub seconds: f64,
}

impl Manifest {
    /// A manifest for a run of `definition`; add inputs and timings as the run goes.
    pub fn new(definition: &Definition, run: &RunInfo) -> Manifest {
        Manifest {
            tool: "eligo".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            definition: DefinitionFile {
                path: definition.path.display().to_string(),
                blake3: definition.hash.clone(),
            },
            inputs: Vec::new(),
            registry: run.registry.clone(),
            as_of: run.as_of.to_string(),
            period_start: run.period_start.to_string(),
            period_end: run.period_end.to_string(),
            disclosure: Disclosure::default(),
            disclosure_rule: String::new(),
            input_rows: Vec::new(),
            rows: Vec::new(),
            timings: Vec::new(),
            exit_status: 0,
        }
    }

    /// Records an input file: its size and content hash (streamed; any size).
    pub fn add_input(&mut self, path: &Path) -> Result<(), ReportError> {
        self.add_input_file(InputFile::of(path)?);
        Ok(())
    }

    /// Records an input file already measured and hashed ([`InputFile::of`]).
    pub fn add_input_file(&mut self, file: InputFile) {
        self.inputs.push(file);
        self.inputs.sort_by(|a, b| a.path.cmp(&b.path));
    }

    /// Records the row count of an input table.
    pub fn add_input_rows(&mut self, table: &str, rows: u64) {
        self.input_rows.push(TableRows {
            table: table.to_string(),
            rows,
        });
    }

    /// Records the seconds a stage took (`extract`, `evaluate`, ...), in the order of the run.
    pub fn add_timing(&mut self, stage: &str, seconds: f64) {
        self.timings.push(Timing {
            stage: stage.to_string(),
            seconds: (seconds * 1000.0).round() / 1000.0,
        });
    }

    pub fn to_json(&self) -> Result<String, ReportError> {
        let mut json = serde_json::to_string_pretty(self).map_err(|e| ReportError::Render {
            what: "manifest.json".into(),
            message: e.to_string(),
        })?;
        json.push('\n');
        Ok(json)
    }
}

/// The blake3 hash of a file's bytes, hex. Files of 16 KiB and more are memory-mapped, as
/// `b3sum` does: hashed from the page cache where the extract's reader has just put them,
/// not copied into a buffer first (the copies took 1.1 % of a 10 M run's CPU time). One
/// thread: a run hashes its inputs on a thread of its own beside evaluation (`cli::run`).
pub fn hash_file(path: &Path) -> Result<String, ReportError> {
    let mut hasher = blake3::Hasher::new();
    hasher
        .update_mmap(path)
        .map_err(|source| ReportError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(hasher.finalize().to_hex().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_file_matches_one_shot_hash_mapped_or_read() {
        // A file large enough to be mapped, one read through a buffer (under 16 KiB), and the
        // boundary between: each hash must equal blake3 of the bytes.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file.bin");
        for size in [(20 << 20) + 5, 16 * 1024, 16 * 1024 - 1, 1] {
            let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(
                hash_file(&path).unwrap(),
                blake3::hash(&bytes).to_hex().to_string(),
                "{size} bytes"
            );
        }
        // The known hash of the empty input (blake3 test vectors).
        std::fs::write(&path, b"").unwrap();
        assert_eq!(
            hash_file(&path).unwrap(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        let missing = dir.path().join("nope");
        let err = hash_file(&missing).unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
    }
}
