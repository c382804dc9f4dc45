//! Parquet output: one ArrowWriter per table (ZSTD, 128k-row groups, constant `created_by`), files
//! written as `*.tmp` and renamed when complete, tables as files or `table/part-NNNNN.parquet`
//! folders, and `extract.toml`. Nothing run-dependent goes into a file.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use super::schema::{schema, Table};
use super::{SynthError, ROW_GROUP_ROWS};

/// Where each table's files go.
pub struct Layout {
    out: PathBuf,
    partitioned: bool,
}

/// An open table file: the writer, its temporary path and its final path.
pub struct TableWriter {
    writer: ArrowWriter<BufWriter<File>>,
    tmp: PathBuf,
    path: PathBuf,
    rows: u64,
}

impl Layout {
    /// Checks that `out` does not hold a table in the other layout, and clears stale parts.
    pub fn new(out: &Path, partitions: Option<usize>) -> Result<Layout, SynthError> {
        let partitioned = partitions.is_some();
        for table in Table::ALL {
            let file = out.join(format!("{}.parquet", table.name()));
            let dir = out.join(table.name());
            if partitioned && file.exists() {
                return Err(SynthError::Layout {
                    path: out.to_path_buf(),
                    table: table.name(),
                    found: "a single file",
                });
            }
            if !partitioned && dir.exists() {
                return Err(SynthError::Layout {
                    path: out.to_path_buf(),
                    table: table.name(),
                    found: "a folder",
                });
            }
            if partitioned {
                std::fs::create_dir_all(&dir).map_err(|source| SynthError::Io {
                    path: dir.clone(),
                    source,
                })?;
                // parts of an earlier run with more partitions would join the table: remove them
                let entries = std::fs::read_dir(&dir).map_err(|source| SynthError::Io {
                    path: dir.clone(),
                    source,
                })?;
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    if name.starts_with("part-") && name.ends_with(".parquet") {
                        let path = entry.path();
                        std::fs::remove_file(&path)
                            .map_err(|source| SynthError::Io { path, source })?;
                    }
                }
            }
        }
        Ok(Layout {
            out: out.to_path_buf(),
            partitioned,
        })
    }

    /// Opens the seven writers of partition `part`.
    pub fn open(&self, part: usize) -> Result<Vec<TableWriter>, SynthError> {
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(format!("eligo synth {}", env!("CARGO_PKG_VERSION")))
            .build();
        Table::ALL
            .iter()
            .map(|table| {
                let path = if self.partitioned {
                    self.out
                        .join(table.name())
                        .join(format!("part-{part:05}.parquet"))
                } else {
                    self.out.join(format!("{}.parquet", table.name()))
                };
                let tmp = path.with_extension("parquet.tmp");
                let file = File::create(&tmp).map_err(|source| SynthError::Io {
                    path: tmp.clone(),
                    source,
                })?;
                let writer = ArrowWriter::try_new(
                    BufWriter::with_capacity(1 << 20, file),
                    schema(*table),
                    Some(props.clone()),
                )
                .map_err(|source| SynthError::Parquet {
                    path: tmp.clone(),
                    source,
                })?;
                Ok(TableWriter {
                    writer,
                    tmp,
                    path,
                    rows: 0,
                })
            })
            .collect()
    }
}

/// Writes a window of chunks (each one batch per table), tables in parallel, chunks in order.
pub fn write_window(
    writers: &mut [TableWriter],
    chunks: &[Vec<RecordBatch>],
) -> Result<(), SynthError> {
    writers.par_iter_mut().enumerate().try_for_each(|(t, w)| {
        for chunk in chunks {
            let batch = &chunk[t];
            w.writer
                .write(batch)
                .map_err(|source| SynthError::Parquet {
                    path: w.tmp.clone(),
                    source,
                })?;
            w.rows += batch.num_rows() as u64;
        }
        Ok(())
    })
}

/// Finishes every file and moves it to its final name; returns the paths and row counts.
pub fn close(writers: Vec<TableWriter>) -> Result<Vec<(PathBuf, u64)>, SynthError> {
    writers
        .into_iter()
        .map(|w| {
            let TableWriter {
                writer,
                tmp,
                path,
                rows,
            } = w;
            writer.close().map_err(|source| SynthError::Parquet {
                path: tmp.clone(),
                source,
            })?;
            std::fs::rename(&tmp, &path).map_err(|source| SynthError::Io {
                path: path.clone(),
                source,
            })?;
            Ok((path, rows))
        })
        .collect()
}

/// `extract.toml`: depends only on the seed.
pub fn extract_toml(out: &Path, seed: u64) -> Result<(), SynthError> {
    let text = format!(
        "# Written by `eligo synth`; the contract's metadata (extract-contract.md).\n\
         registry = \"Synthetic registry (eligo synth, seed {seed})\"\n\
         extracted_on = 2026-01-15\n\
         period_start = 2021-06-01\n\
         period_end = 2025-12-31\n"
    );
    let path = out.join("extract.toml");
    std::fs::write(&path, text).map_err(|source| SynthError::Io { path, source })
}
