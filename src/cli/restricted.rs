//! `restricted/` of `eligo run --restricted`: the patient-level results and the unsuppressed mask
//! table, their outcome codes written as dictionary pages of the restricted words, each a row
//! group at a time, so that the Utf8 columns of a whole registry never sit in memory at once.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use polars::io::parquet::write::{get_encodings, BatchedWriter};
use polars::prelude::*;
use polars_parquet::parquet::compression::Compression;
use polars_parquet::parquet::page::{CompressedDictPage, DataPageHeader};
use polars_parquet::parquet::CowBuffer;
use polars_parquet::write::{
    array_to_columns, compress, CompressedDataPage, CompressedPage, CompressionOptions, DynIter,
    DynStreamingIterator, Encoding, FallibleStreamingIterator, Page, ParquetType,
    StatisticsOptions, Version, WriteOptions, ZstdLevel,
};
use rayon::prelude::*;

use super::Failure;
use crate::definition::model::Definition;
use crate::engine::{self, mask::MaskTable};
use crate::report::word_pages::word_pages;

/// Rows converted and written at a time.
const ROWS: usize = 131_072;

/// Bytes buffered before a restricted file is written to: a few of its pages.
const WRITE_BUFFER: usize = 1 << 20;

/// Every restricted file's compression: zstd at level 1. Level 3, polars' default, took 3.8 % of
/// a run's instructions to compress pages of outcome keys and mask counts that level 1 packs
/// nearly as small.
fn compression() -> ParquetCompression {
    ParquetCompression::Zstd(ZstdLevel::try_new(1).ok())
}

/// The encodings of a column of `dtype`: a 64-bit integer column's (`restricted/patients`'
/// `person_id`) delta-encoded, where polars writes eight bytes a value. A partition's ids
/// ascend, so their deltas pack into a few bits; written plain they were 45 % of the bytes
/// the file's pages gave zstd to compress. Every other column's are polars' (`by_polars`).
fn integer_encodings(dtype: &DataType, by_polars: Vec<Encoding>) -> Vec<Encoding> {
    match dtype {
        DataType::Int64 => vec![Encoding::DeltaBinaryPacked],
        _ => by_polars,
    }
}

/// A Parquet file written frame by frame (zstd); the schema is the first frame's.
///
/// Through a buffer: the writer serializes each page header, and at the end each page's index
/// entries, a field at a time, and straight to the file each field was a `write` call of its
/// own (800,000 calls at 10 M patients, most of a byte). The writer's end flushes the buffer,
/// so an error writing it is the end's error.
struct ParquetSink {
    path: PathBuf,
    file: std::fs::File,
    writer: Option<BatchedWriter<BufWriter<std::fs::File>>>,
    /// The file's Parquet columns and their encodings (for frames encoded here).
    columns: Vec<(ParquetType, Vec<Encoding>)>,
}

impl ParquetSink {
    fn create(path: PathBuf) -> Result<ParquetSink, Failure> {
        let file = std::fs::File::create(&path)
            .map_err(|e| Failure::runtime(format!("{}: {e}", path.display())))?;
        Ok(ParquetSink {
            path,
            file,
            writer: None,
            columns: Vec::new(),
        })
    }

    fn error(&self, e: &dyn std::fmt::Display) -> Failure {
        Failure::runtime(format!("{}: {e}", self.path.display()))
    }

    /// The writer, created for `schema` on first use.
    fn writer(
        &mut self,
        schema: &Schema,
    ) -> Result<&mut BatchedWriter<BufWriter<std::fs::File>>, Failure> {
        let writer = match self.writer.take() {
            Some(writer) => writer,
            None => {
                let file = self.file.try_clone().map_err(|e| self.error(&e))?;
                let mut writer = ParquetWriter::new(BufWriter::with_capacity(WRITE_BUFFER, file))
                    .with_compression(compression())
                    .batched(schema)
                    .map_err(|e| self.error(&e))?;
                let encodings = get_encodings(&schema.to_arrow(CompatLevel::newest()));
                self.columns = writer
                    .parquet_schema()
                    .fields()
                    .iter()
                    .cloned()
                    .zip(encodings.iter().cloned())
                    .zip(schema.iter_values())
                    .map(|((type_, encodings), dtype)| (type_, integer_encodings(dtype, encodings)))
                    .collect();
                writer
            }
        };
        Ok(self.writer.insert(writer))
    }

    /// Writes a frame of codes as its words: each word column as dictionary pages whose keys are
    /// the codes themselves. polars' writer would hash every string of a 50-column frame twice
    /// (a cardinality estimate, then the dictionary) to find the four words again. The schema is
    /// the same as for the frame of words: Utf8 columns; the other columns are written as polars
    /// writes them. A word column's statistics are those of its dictionary (every word): bounds
    /// of its values, as Parquet requires, if not the tightest.
    fn write_coded(&mut self, coded: &engine::Coded<'_>) -> Result<(), Failure> {
        let frame = &coded.frame;
        let mut schema = frame.schema().as_ref().clone();
        for ((_, dtype), words) in schema.iter_mut().zip(&coded.words) {
            if words.is_some() {
                *dtype = DataType::String;
            }
        }
        self.writer(&schema)?;
        if frame.height() == 0 {
            return Ok(());
        }
        // What `ParquetWriter` uses with the same settings.
        let options = WriteOptions {
            statistics: StatisticsOptions::default(),
            compression: CompressionOptions::from(compression()),
            version: Version::V1,
            data_page_size: None,
        };
        // Every column's pages encoded and compressed in parallel, then written in order:
        // through the writer's own iterators both ran one column after the other on the
        // writing thread (at 10 M patients, 2.9 s of `restricted/masks`' 5.2 s). A word column's
        // pages are encoded from its codes (`report::word_pages`); the others as polars would.
        let columns = frame
            .columns()
            .par_iter()
            .zip(&coded.words)
            .zip(&self.columns)
            .map(|((column, words), (type_, encoding))| {
                let series = column.as_materialized_series().rechunk();
                let leaves: Vec<Vec<Page>> = match words {
                    None => {
                        let array = series.to_arrow(0, CompatLevel::newest());
                        array_to_columns(array, type_.clone(), options, encoding)?
                            .into_iter()
                            .map(|pages| pages.collect::<PolarsResult<Vec<Page>>>())
                            .collect::<PolarsResult<_>>()?
                    }
                    Some(words) => {
                        let codes = series.cast(&DataType::UInt8)?;
                        let codes = codes.u8()?.downcast_as_array();
                        let pages = word_pages(codes.values(), codes.validity(), words, type_)
                            .map_err(|e| polars_err!(ComputeError: "{e}"))?;
                        vec![pages.into()]
                    }
                };
                leaves
                    .into_iter()
                    .map(|pages| {
                        pages
                            .into_iter()
                            .map(compressed)
                            .collect::<PolarsResult<Vec<CompressedPage>>>()
                    })
                    .collect::<PolarsResult<Vec<_>>>()
            })
            .collect::<PolarsResult<Vec<_>>>()
            .map_err(|e| self.error(&e))?;
        let columns = columns.into_iter().flatten().map(|pages| {
            Ok(DynStreamingIterator::new(Compressed {
                pages: pages.into_iter(),
                current: None,
            }))
        });
        let path = self.path.clone();
        let error =
            |e: &dyn std::fmt::Display| Failure::runtime(format!("{}: {e}", path.display()));
        let writer = self.writer(&schema)?;
        let mut file = writer.get_writer().lock().map_err(|e| error(&e))?;
        file.write(frame.height() as u64, DynIter::new(columns))
            .map_err(|e| error(&e))
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

/// `page` compressed as [`compression`] says, by this thread's zstd context. polars' `compress`
/// makes a context per page, and making one asks the processor for its features (`cpuid`),
/// which a virtual machine traps: 0.65 % of a 10 M run's samples, for about 11,000 pages.
/// What `compress` writes otherwise: a version 1 data page's whole buffer is compressed.
fn compressed(page: Page) -> PolarsResult<CompressedPage> {
    thread_local! {
        static CONTEXT: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    let options = CompressionOptions::from(compression());
    let CompressionOptions::Zstd(level) = options else {
        return Ok(compress(page, vec![], options)?);
    };
    let level = level.map(|l| l.compression_level()).unwrap_or_default();
    let zstd = |buffer: &[u8]| -> PolarsResult<Vec<u8>> {
        CONTEXT
            .with_borrow_mut(|context| {
                let context = match context {
                    Some(context) => context,
                    None => context.insert(zstd::bulk::Compressor::new(level)?),
                };
                context.compress(buffer)
            })
            .map_err(|e| polars_err!(ComputeError: "compressing a page: {e}"))
    };
    let compression = Compression::Zstd;
    Ok(match page {
        Page::Data(page) => {
            let DataPageHeader::V1(_) = page.header() else {
                return Ok(compress(Page::Data(page), vec![], options)?);
            };
            let buffer = CowBuffer::Owned(zstd(page.buffer())?);
            let rows = page.num_rows.unwrap_or_default();
            CompressedPage::Data(CompressedDataPage::new(
                page.header().clone(),
                buffer,
                compression,
                page.buffer().len(),
                page.descriptor.clone(),
                rows,
            ))
        }
        Page::Dict(page) => CompressedPage::Dict(CompressedDictPage::new(
            CowBuffer::Owned(zstd(&page.buffer)?),
            compression,
            page.buffer.len(),
            page.num_values,
            page.is_sorted,
        )),
    })
}

/// One column's pages, compressed already, as the writer takes them.
struct Compressed {
    pages: std::vec::IntoIter<CompressedPage>,
    current: Option<CompressedPage>,
}

impl FallibleStreamingIterator for Compressed {
    type Item = CompressedPage;
    type Error = PolarsError;

    fn advance(&mut self) -> Result<(), PolarsError> {
        self.current = self.pages.next();
        Ok(())
    }

    fn get(&self) -> Option<&CompressedPage> {
        self.current.as_ref()
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
            let coded =
                engine::restricted_patients(&slice, self.definition).map_err(Failure::runtime)?;
            self.sink.write_coded(&coded)?;
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
    let frames = engine::MaskFrames::new(masks);
    let mut start = 0;
    loop {
        let coded = frames
            .slice(start..start + ROWS)
            .map_err(Failure::runtime)?;
        sink.write_coded(&coded)?;
        start += ROWS;
        if start >= masks.rows.len() {
            break;
        }
    }
    sink.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Coded, OUTCOME_WORDS, STATUS_WORDS};
    use arrow::array::{Array, StringArray};
    use std::borrow::Cow;

    /// Word columns written from their codes read back, by arrow-rs, as the words: 13 rows (not
    /// a whole number of 8-row groups), a column without nulls, one with nulls at rows 0, 7, 8
    /// and 12, one all null; then a second row group of rows 3..13 (a bitmap at offset 3).
    #[test]
    fn coded_columns_read_back_as_their_words() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coded.parquet");
        let outcomes: Vec<u8> = (0..13).map(|i| i % 4).collect();
        let statuses: Vec<Option<u8>> = (0..13u8)
            .map(|i| (![0, 7, 8, 12].contains(&i)).then_some(i % 3))
            .collect();
        let frame = DataFrame::new(
            13,
            vec![
                Column::new("id".into(), (0..13i64).collect::<Vec<_>>()),
                Column::new("outcome".into(), outcomes.clone()),
                Column::new("status".into(), statuses.clone()),
                Column::new("none".into(), vec![None::<u8>; 13]),
            ],
        )
        .unwrap();
        let words = vec![
            None,
            Some(Cow::Borrowed(&OUTCOME_WORDS[..])),
            Some(Cow::Borrowed(&STATUS_WORDS[..])),
            Some(Cow::Borrowed(&STATUS_WORDS[..])),
        ];
        let mut sink = ParquetSink::create(path.clone()).unwrap();
        let whole = Coded {
            frame: frame.clone(),
            words: words.clone(),
        };
        sink.write_coded(&whole).unwrap();
        let sliced = Coded {
            frame: frame.slice(3, 10),
            words,
        };
        sink.write_coded(&sliced).unwrap();
        sink.finish().unwrap();

        let file = std::fs::File::open(&path).unwrap();
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 2);
        let mut read: Vec<Vec<Option<String>>> = vec![Vec::new(); 3];
        for batch in reader.build().unwrap() {
            let batch = batch.unwrap();
            for (c, column) in read.iter_mut().enumerate() {
                let text =
                    arrow::compute::cast(batch.column(c + 1), &arrow::datatypes::DataType::Utf8)
                        .unwrap();
                let text = text.as_any().downcast_ref::<StringArray>().unwrap();
                column.extend(
                    (0..text.len()).map(|r| text.is_valid(r).then(|| text.value(r).into())),
                );
            }
        }
        let rows = (0..13).chain(3..13);
        let expected_outcomes: Vec<Option<String>> = rows
            .clone()
            .map(|r| Some(OUTCOME_WORDS[outcomes[r] as usize].into()))
            .collect();
        let expected_statuses: Vec<Option<String>> = rows
            .clone()
            .map(|r| statuses[r].map(|s| STATUS_WORDS[s as usize].into()))
            .collect();
        assert_eq!(read[0], expected_outcomes);
        assert_eq!(read[1], expected_statuses);
        assert_eq!(read[2], vec![None; 23]);
        // Spelled out for the first rows: pass fail unknown n/a; null eligible ...
        assert_eq!(
            read[0][..4],
            [
                Some("pass".into()),
                Some("fail".into()),
                Some("unknown".into()),
                Some("n/a".into())
            ]
        );
        assert_eq!(
            read[1][..3],
            [
                None,
                Some("possibly eligible".into()),
                Some("eligible".into())
            ]
        );
    }

    /// A file that cannot take its bytes fails the sink's end, named, though every write before
    /// it fit in the buffer: `/dev/full` takes none (ENOSPC), and a frame of 13 rows is a few
    /// hundred bytes, far below the buffer.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_write_that_fails_in_the_buffer_fails_the_end() {
        let frame = df!("id" => (0..13i64).collect::<Vec<_>>()).unwrap();
        let mut sink = ParquetSink::create(PathBuf::from("/dev/full")).unwrap();
        let coded = Coded {
            frame,
            words: vec![None],
        };
        sink.write_coded(&coded).unwrap();
        let Err(failure) = sink.finish() else {
            panic!("a full device took the file");
        };
        let message = failure.message;
        assert!(message.starts_with("/dev/full: "), "{message}");
        assert!(message.contains("No space left"), "{message}");
    }

    /// A page compressed by the thread's context is the page polars' `compress` gives, byte for
    /// byte: the dictionary and data pages of a dictionary-encoded string column and the plain
    /// data pages of an integer column, twice (the second time from the context made the
    /// first).
    #[test]
    fn pages_compressed_by_the_threads_context_are_polars_pages() {
        let frame = df!(
            "text" => (0..5_000).map(|i| ["pass", "fail", "unknown"][i % 3]).collect::<Vec<_>>(),
            "number" => (0..5_000i64).map(|i| i * i).collect::<Vec<_>>(),
        )
        .unwrap();
        let schema = frame.schema().to_arrow(CompatLevel::newest());
        let encodings = get_encodings(&schema);
        let options = WriteOptions {
            statistics: StatisticsOptions::default(),
            compression: CompressionOptions::from(compression()),
            version: Version::V1,
            data_page_size: None,
        };
        let pages = || {
            let mut pages = Vec::new();
            let columns = frame.columns().iter().zip(schema.iter_values());
            for ((column, field), encoding) in columns.zip(encodings.iter()) {
                let array = column
                    .as_materialized_series()
                    .to_arrow(0, CompatLevel::newest());
                let type_ = polars_parquet::arrow::write::to_parquet_type(field).unwrap();
                for leaf in array_to_columns(array, type_, options, encoding).unwrap() {
                    pages.extend(leaf.map(|page| page.unwrap()));
                }
            }
            pages
        };
        let dictionaries = pages()
            .iter()
            .filter(|p| matches!(p, Page::Dict(_)))
            .count();
        assert_eq!((dictionaries, pages().len() - dictionaries), (1, 2));
        let theirs: Vec<String> = (pages().into_iter())
            .map(|page| format!("{:?}", compress(page, vec![], options.compression).unwrap()))
            .collect();
        for _ in 0..2 {
            let ours: Vec<String> = (pages().into_iter())
                .map(|page| format!("{:?}", compressed(page).unwrap()))
                .collect();
            assert_eq!(ours, theirs);
        }
    }

    /// A code with no word is an error naming the file and the column, not a corrupt file.
    #[test]
    fn a_code_without_a_word_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.parquet");
        let frame = DataFrame::new(2, vec![Column::new("status".into(), vec![0u8, 3])]).unwrap();
        let coded = Coded {
            frame,
            words: vec![Some(Cow::Borrowed(&STATUS_WORDS[..]))],
        };
        let mut sink = ParquetSink::create(path).unwrap();
        let error = sink.write_coded(&coded).unwrap_err().message;
        assert!(error.contains("bad.parquet"), "{error}");
        assert!(
            error.contains("column status: code 3 has no word"),
            "{error}"
        );
    }
}
