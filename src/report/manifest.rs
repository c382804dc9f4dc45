//! The run manifest (`manifest.json`): what was run on what, for provenance: tool version, the
//! definition and its hash, every input file with its size and blake3 hash, the as-of date, the
//! disclosure rule, row counts of the published tables, timings per stage and the exit status.

use std::io::Read;
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

/// Bytes read and hashed at a time: bounded memory for any size, and large enough that blake3
/// hashes many of a buffer's 1 KiB chunks at once (SIMD lanes). One thread: a run hashes its
/// inputs on a thread of its own beside evaluation (`cli::run`), not on the cores evaluating.
const HASH_BUFFER: usize = 8 << 20;

/// The blake3 hash of a file's bytes, hex, read in [`HASH_BUFFER`] pieces.
pub fn hash_file(path: &Path) -> Result<String, ReportError> {
    let read_error = |source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; HASH_BUFFER];
    loop {
        let n = fill(&mut file, &mut buffer).map_err(read_error)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Reads until `buffer` is full or the file ends; the bytes read.
fn fill(file: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_file_matches_one_shot_hash_across_chunks() {
        // Two and a half buffers span three reads; the streamed hash must equal blake3 of the
        // bytes.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let bytes: Vec<u8> = (0..HASH_BUFFER * 5 / 2).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(
            hash_file(&path).unwrap(),
            blake3::hash(&bytes).to_hex().to_string()
        );
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

    /// A reader that gives at most 3 bytes a read, as pipes and network files may.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(buffer.len()).min(3);
            buffer[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn short_reads_fill_the_buffer_until_the_end() {
        let bytes: Vec<u8> = (0..10).collect();
        let mut reader = Trickle(&bytes);
        let mut buffer = [0u8; 4];
        // 4, 4, then the last 2, then the end.
        assert_eq!(fill(&mut reader, &mut buffer).unwrap(), 4);
        assert_eq!(buffer, [0, 1, 2, 3]);
        assert_eq!(fill(&mut reader, &mut buffer).unwrap(), 4);
        assert_eq!(buffer, [4, 5, 6, 7]);
        assert_eq!(fill(&mut reader, &mut buffer).unwrap(), 2);
        assert_eq!(buffer[..2], [8, 9]);
        assert_eq!(fill(&mut reader, &mut buffer).unwrap(), 0);
    }
}
