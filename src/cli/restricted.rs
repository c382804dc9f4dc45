//! `restricted/` of `eligo run --restricted`: the patient-level results and the unsuppressed mask
//! table, each converted to its restricted words and written a row group at a time, so that the
//! Utf8 columns of a whole registry never sit in memory at once.

use std::path::{Path, PathBuf};

use polars::io::parquet::write::BatchedWriter;
use polars::prelude::*;

use super::Failure;
use crate::definition::model::Definition;
use crate::engine::{self, mask::MaskTable};

/// Rows converted and written at a time.
const ROWS: usize = 131_072;

/// A Parquet file written frame by frame (zstd); the schema is the first frame's.
struct ParquetSink {
    path: PathBuf,
    file: std::fs::File,
    writer: Option<BatchedWriter<std::fs::File>>,
}

impl ParquetSink {
    fn create(path: PathBuf) -> Result<ParquetSink, Failure> {
        let file = std::fs::File::create(&path)
            .map_err(|e| Failure::runtime(format!("{}: {e}", path.display())))?;
        Ok(ParquetSink {
            path,
            file,
            writer: None,
        })
    }

    fn error(&self, e: &dyn std::fmt::Display) -> Failure {
        Failure::runtime(format!("{}: {e}", self.path.display()))
    }

    fn write(&mut self, frame: &DataFrame) -> Result<(), Failure> {
        if self.writer.is_none() {
            let file = self.file.try_clone().map_err(|e| self.error(&e))?;
            let writer = ParquetWriter::new(file)
                .with_compression(ParquetCompression::Zstd(None))
                .batched(frame.schema())
                .map_err(|e| self.error(&e))?;
            self.writer = Some(writer);
        }
        match &mut self.writer {
            Some(writer) => writer
                .write_batch(frame)
                .map_err(|e| Failure::runtime(format!("{}: {e}", self.path.display()))),
            None => Ok(()),
        }
    }

    fn finish(self) -> Result<(), Failure> {
        match self.writer {
            Some(writer) => writer
                .finish()
                .map(|_| ())
                .map_err(|e| Failure::runtime(format!("{}: {e}", self.path.display()))),
            None => Ok(()),
        }
    }
}

fn restricted_dir(folder: &Path) -> Result<PathBuf, Failure> {
    let dir = folder.join("restricted");
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::runtime(format!("{}: {e}", dir.display())))?;
    Ok(dir)
}

/// `restricted/patients.parquet`, written a partition at a time. Partitions come in `person_id`
/// order, so the file is sorted.
pub struct PatientWriter<'a> {
    sink: ParquetSink,
    definition: &'a Definition,
}

impl<'a> PatientWriter<'a> {
    pub fn create(folder: &Path, definition: &'a Definition) -> Result<PatientWriter<'a>, Failure> {
        let path = restricted_dir(folder)?.join("patients.parquet");
        Ok(PatientWriter {
            sink: ParquetSink::create(path)?,
            definition,
        })
    }

    /// Appends one partition's patient-level frame (an empty one still fixes the schema).
    pub fn write(&mut self, patients: &DataFrame) -> Result<(), Failure> {
        let mut offset = 0;
        while offset < patients.height() || (offset == 0 && self.sink.writer.is_none()) {
            let slice = patients.slice(offset as i64, ROWS);
            let frame =
                engine::restricted_patients(&slice, self.definition).map_err(Failure::runtime)?;
            self.sink.write(&frame)?;
            offset += ROWS;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<(), Failure> {
        self.sink.finish()
    }
}

/// `restricted/masks.parquet`: the unsuppressed mask table (millions of rows at 10 M patients).
pub fn write_masks(folder: &Path, masks: &MaskTable) -> Result<(), Failure> {
    let mut sink = ParquetSink::create(restricted_dir(folder)?.join("masks.parquet"))?;
    let mut start = 0;
    loop {
        let frame =
            engine::restricted_masks(masks, start..start + ROWS).map_err(Failure::runtime)?;
        sink.write(&frame)?;
        start += ROWS;
        if start >= masks.rows.len() {
            break;
        }
    }
    sink.finish()
}
