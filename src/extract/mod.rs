//! The input contract (`extract-contract.md`, version 1): locate each table of an extract, check
//! its schema, scan it lazily with polars in a normalized form, validate it and count data-quality
//! findings. Nothing here knows about trial definitions.

pub(crate) mod bitmaps;
pub mod damaged;
mod dictionary;
pub(crate) mod distinct;
mod error;
pub mod findings;
pub mod ids;
mod locate;
mod meta;
pub mod partition;
mod quality;
pub mod row_groups;
mod scan;
pub mod schema;
pub mod text_keys;
mod validate;

pub use error::ExtractError;
pub use meta::{suggestion as meta_key_suggestion, ExtractMeta};
pub use quality::{ColumnQuality, DataQuality, TableQuality};
pub use schema::IdType;
pub use validate::{Defer, Validation, MAX_DEFERRED_ROWS};

use std::fmt;
use std::path::{Path, PathBuf};

use locate::TableSource;

/// One input file of an extract: a Parquet file of a table, or `extract.toml` (table `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub table: Option<Table>,
    pub path: PathBuf,
    pub bytes: u64,
}

/// An opened extract: its tables located and their footers checked against the contract.
///
/// Where the contract leaves room, these readings hold:
/// - a table with 0 rows is valid (person too: an extract of no patients); an empty folder is not;
/// - `NAME.parquet` may be a folder (as Spark writes it); hidden and `_`-prefixed files are skipped;
/// - ids are Int64 or a string type, nothing else; other kinds accept compatible types and are cast
///   (any integer for birth_year; floats and integers for numbers; Timestamps of any unit for dates,
///   truncated to the date in UTC: see [`Extract::notes`]);
/// - unknown keys in extract.toml are ignored and listed by `eligo check`;
/// - region is not checked against Norway's four regions (the contract gives them as an example);
/// - a unit outside the contract's list (plus `U/mL`, `ng/mL`) counts as an unconvertible unit;
///   a variant whose test_id is not a test of its own person in molecular_test (no test's, or
///   another person's) counts as an orphan row on `test_id`, and matches no biomarker;
/// - a file holding a column polars cannot open (a 256-bit decimal, Float16) is an error, even if unused.
#[derive(Debug, Clone)]
pub struct Extract {
    root: PathBuf,
    meta: ExtractMeta,
    meta_file: Option<InputFile>,
    id_type: IdType,
    tables: Vec<TableSource>,
}

impl Extract {
    /// Locates tables, reads extract.toml and every file's Parquet footer/schema; checks required
    /// tables, columns and types, schema agreement across files of a table, id type agreement
    /// across tables. Metadata only: cheap. Corrupt, truncated or not-Parquet files fail here.
    pub fn open(dir: &Path) -> Result<Extract, ExtractError> {
        if !dir.is_dir() {
            return Err(ExtractError::NotAFolder {
                path: dir.to_path_buf(),
            });
        }
        let meta_path = dir.join("extract.toml");
        let (meta, meta_file) = if meta_path.is_file() {
            let text = std::fs::read_to_string(&meta_path).map_err(|source| ExtractError::Io {
                path: meta_path.clone(),
                source,
            })?;
            let meta = ExtractMeta::parse(&meta_path, &text)?;
            let file = InputFile {
                table: None,
                bytes: text.len() as u64,
                path: meta_path,
            };
            (meta, Some(file))
        } else {
            (ExtractMeta::default(), None)
        };
        let mut tables = Vec::new();
        for table in Table::ALL {
            match locate::locate(dir, table)? {
                Some(source) => tables.push(source),
                None if table == Table::Person => {
                    return Err(ExtractError::MissingTable {
                        dir: dir.to_path_buf(),
                        table,
                    })
                }
                None => {}
            }
        }
        // One id type for every table: the first table that stores person_id sets it.
        let mut id: Option<(IdType, &Path)> = None;
        for source in &tables {
            let (Some(found), Some(file)) = (source.id_type, source.files.first()) else {
                continue;
            };
            match id {
                None => id = Some((found, &file.path)),
                Some((first_type, first)) if first_type != found => {
                    return Err(ExtractError::IdTypeMismatch {
                        first: first.to_path_buf(),
                        first_type,
                        other: file.path.clone(),
                        other_type: found,
                    })
                }
                Some(_) => {}
            }
        }
        let id_type = id.map(|(t, _)| t).unwrap_or(IdType::Utf8);
        // Hive partition values must parse as their column's type.
        for source in &tables {
            for file in &source.files {
                for (name, value) in &file.hive {
                    if let Some(column) = schema::column(source.table, name) {
                        scan::hive_literal(&column, value.as_deref(), id_type)
                            .map(drop)
                            .map_err(|found| ExtractError::WrongType {
                                path: file.path.clone(),
                                column: column.name.to_string(),
                                expected: column.kind.expected(),
                                found,
                            })?;
                    }
                }
            }
        }
        Ok(Extract {
            root: dir.to_path_buf(),
            meta,
            meta_file,
            id_type,
            tables,
        })
    }

    /// The extract's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The metadata of extract.toml (all fields None without the file).
    pub fn meta(&self) -> &ExtractMeta {
        &self.meta
    }

    /// The type of person_id in every table (Utf8 if no table stores person_id itself).
    pub fn id_type(&self) -> IdType {
        self.id_type
    }

    /// Whether the extract has the table (an absent table holds no rows).
    pub fn is_present(&self, table: Table) -> bool {
        self.source(table).is_some()
    }

    /// Rows of the table, from the Parquet footers (0 for an absent table).
    pub fn rows(&self, table: Table) -> u64 {
        self.source(table).map_or(0, TableSource::rows)
    }

    /// Whether the table's files hold the contract column (themselves or as hive folders).
    /// A column the extract lacks scans as nulls.
    pub fn has_column(&self, table: Table, column: &str) -> bool {
        self.source(table).is_some_and(|s| {
            s.stored.contains_key(column)
                || s.files
                    .iter()
                    .any(|f| f.hive.iter().any(|(k, _)| *k == column))
        })
    }

    /// Entries of the extract's folder that are not part of the contract (`persons.parquet`,
    /// `notes.txt`); hidden and `_`-prefixed names are left out. They are ignored; `eligo
    /// check` lists them so that a misnamed table does not go unnoticed.
    pub fn ignored(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut ignored: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|path| {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                !name.starts_with('.')
                    && !name.starts_with('_')
                    && name != "extract.toml"
                    && !self.tables.iter().any(|t| &t.location == path)
            })
            .collect();
        ignored.sort();
        ignored
    }

    /// Readings worth telling the user about: date columns stored as Timestamps with a time
    /// zone other than UTC, which are truncated to their UTC date (polars is built without time
    /// zone support), so a local midnight east of Greenwich falls on the day before.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for source in &self.tables {
            for (column, zone) in &source.zones {
                let utc = ["UTC", "+00:00", "Z", "Etc/UTC", "+0000"];
                if !utc.contains(&zone.as_str()) {
                    notes.push(format!(
                        "{}.{column} holds timestamps in time zone {zone}: each is truncated to its UTC date",
                        source.table
                    ));
                }
            }
        }
        notes
    }

    /// Where the table is: `NAME.parquet` or the folder `NAME/` (None when absent).
    pub fn location(&self, table: Table) -> Option<&Path> {
        self.source(table).map(|s| s.location.as_path())
    }

    /// Every input file: extract.toml first (table `None`), then each table's Parquet files in
    /// contract order of tables and path order within a table.
    pub fn files(&self) -> Vec<InputFile> {
        let mut files: Vec<InputFile> = self.meta_file.iter().cloned().collect();
        for source in &self.tables {
            files.extend(source.files.iter().map(|f| InputFile {
                table: Some(source.table),
                path: f.path.clone(),
                bytes: f.bytes,
            }));
        }
        files
    }

    /// A lazy scan of the table in normalized form: only the contract's columns (in contract
    /// order), dates as polars Date (Timestamps truncated to Date), ids as in the file (Int64 or
    /// String), Float64 values. An absent table scans as an empty frame with the contract schema.
    pub fn scan(&self, table: Table) -> Result<polars::prelude::LazyFrame, ExtractError> {
        match self.source(table) {
            Some(source) => scan::scan_source(source, self.id_type, false),
            None => Ok(scan::empty(table, self.id_type)),
        }
    }

    /// Full data checks (reads the data, lazily, only the needed columns, with the streaming
    /// engine): required values non-null, person_id and test_id unique (errors, with the count
    /// and up to 5 offending keys); orphan rows, nulls, values out of domain and unknown units
    /// are counted as findings, orphan rows a `person_id` partition of `partition_patients` at a
    /// time (see [`partition`]).
    pub fn validate(
        &self,
        progress: &crate::progress::Progress,
        partition_patients: usize,
    ) -> Result<DataQuality, ExtractError> {
        validate::validate(self, progress, partition_patients, Defer::Nothing)
            .map(|validation| validation.quality)
    }

    /// [`Extract::validate`] for a run: also gives the person ids it read, sorted (a run cuts
    /// its partitions from them, [`partition::split`], instead of reading and sorting them
    /// again), and, with [`Defer::Findings`], leaves tables' value-by-value findings to the
    /// run's evaluation ([`Validation::deferred`]).
    pub fn validate_for_run(
        &self,
        progress: &crate::progress::Progress,
        partition_patients: usize,
        defer: Defer,
    ) -> Result<Validation, ExtractError> {
        validate::validate(self, progress, partition_patients, defer)
    }

    /// Decides the uniqueness of the molecular tests' ids where validation left it to a run
    /// ([`Validation::test_ids_left`]), from `span`, the spans of the run's partitions' tests
    /// added in order ([`findings::RowFindings::test_id_span`]).
    pub fn check_test_ids(
        &self,
        span: &ids::TestIdSpan,
        progress: &crate::progress::Progress,
    ) -> Result<(), ExtractError> {
        validate::check_test_ids(self, span, progress)
    }

    /// The row groups of `table` in `person_id` order, where its files' statistics show them so
    /// ([`row_groups::Layout::of`]).
    pub fn layout(&self, table: Table) -> Option<row_groups::Layout> {
        row_groups::Layout::of(self.source(table)?)
    }

    /// Where `table`'s row groups are stored, to read its text columns as keys
    /// ([`text_keys`]); None where a file does not record its row groups.
    pub fn column_chunks(&self, table: Table) -> Option<text_keys::ColumnChunks> {
        text_keys::ColumnChunks::of(self.source(table)?)
    }

    /// [`Extract::scan`] plus a column [`scan::FILE_COLUMN`] with each row's file (for errors).
    fn scan_with_file(&self, table: Table) -> Result<polars::prelude::LazyFrame, ExtractError> {
        match self.source(table) {
            Some(source) => scan::scan_source(source, self.id_type, true),
            None => Ok(scan::empty(table, self.id_type)),
        }
    }

    /// A contract column's nulls from its files' Parquet statistics, where they are exactly what
    /// a scan would count (see [`TableSource::recorded_nulls`]).
    pub(crate) fn recorded_nulls(&self, table: Table, column: &schema::Column) -> Option<u64> {
        self.source(table)?.recorded_nulls(column)
    }

    /// The distinct values of a text column of `table` from its files' Parquet dictionaries,
    /// where every row's value is in one ([`dictionary::dictionary_values`]); None otherwise,
    /// or where the files do not store the column.
    pub(crate) fn dictionary_values(
        &self,
        table: Table,
        column: &str,
    ) -> Option<std::collections::BTreeSet<String>> {
        let source = self.source(table)?;
        if !source.stored.contains_key(column) {
            return None;
        }
        let paths = source.files.iter().map(|f| f.path.as_path());
        dictionary::dictionary_values(paths, column)
    }

    fn source(&self, table: Table) -> Option<&TableSource> {
        self.tables.iter().find(|s| s.table == table)
    }
}

/// The seven tables of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Person,
    Diagnosis,
    Measurement,
    Observation,
    Treatment,
    MolecularTest,
    Variant,
}

impl Table {
    pub const ALL: [Table; 7] = [
        Table::Person,
        Table::Diagnosis,
        Table::Measurement,
        Table::Observation,
        Table::Treatment,
        Table::MolecularTest,
        Table::Variant,
    ];

    /// The file stem: `person`, `molecular_test`, ...
    pub fn name(self) -> &'static str {
        match self {
            Table::Person => "person",
            Table::Diagnosis => "diagnosis",
            Table::Measurement => "measurement",
            Table::Observation => "observation",
            Table::Treatment => "treatment",
            Table::MolecularTest => "molecular_test",
            Table::Variant => "variant",
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
