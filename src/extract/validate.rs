//! The data checks of the contract, run with polars' streaming engine so that they work at
//! registry scale: one aggregate pass per table (rows, nulls where the Parquet footers'
//! statistics do not give them, and the value-by-value findings of [`super::findings`]),
//! uniqueness of person_id and test_id, and orphan rows by anti-join where the person ids are not
//! dense integers. Errors stop the check; findings are counted into [`DataQuality`].
//!
//! A run may leave a table's value-by-value findings to its evaluation ([`Validation::deferred`]),
//! which reads each partition's rows into memory and counts them there: the table is then
//! decoded once, not twice. Only findings are left: every error is decided here, before
//! anything is evaluated or written.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;

use super::findings::{RowChecks, TestSet};
use super::ids::{self, TestIdSpan};
use super::scan::FILE_COLUMN;
use super::schema;
use super::{DataQuality, Extract, ExtractError, Table, TableQuality};
use crate::progress::Progress;

/// What validation found, and what it left to a run.
pub struct Validation {
    pub quality: DataQuality,
    /// The person ids, sorted (read for the checks), from which a run cuts its partitions.
    pub person_ids: Series,
    /// Tables whose value-by-value findings are not in `quality` yet: the run counts them on
    /// each partition's rows ([`RowChecks::count`]) and records their sum. Empty unless asked.
    pub deferred: Vec<RowChecks>,
    /// Whether the uniqueness of the molecular tests' ids is left to the run, with their
    /// findings: it reads each partition's tests and decides it from their spans
    /// ([`super::Extract::check_test_ids`]) before it writes anything.
    pub test_ids_left: bool,
}

/// Whether [`super::Extract::validate_for_run`] may leave tables' findings to a run ([`Validation::deferred`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defer {
    /// Every finding counted here (`eligo check`).
    Nothing,
    /// A table's findings are left to the run where no scan is needed here for anything else
    /// (its nulls are in the footers' statistics, orphans are found by the person ids' bitmap)
    /// and a partition's share of its rows, which the run reads into memory, is at most
    /// `max_rows` (a run passes [`MAX_DEFERRED_ROWS`]).
    Findings { max_rows: u64 },
}

/// At most this many rows of a table per partition (a partition's share of the table's rows,
/// were they spread as the patients are) are read into memory to count its findings during
/// evaluation: about 0.5 GB of measurements. Above it (few partitions of many rows), the table
/// is checked by a streamed pass of its own, as `eligo check` does.
pub const MAX_DEFERRED_ROWS: u64 = 8_000_000;

/// Runs every check; the first contract violation is the error. Also gives the person ids,
/// sorted (read for the checks), from which a run cuts its partitions.
pub fn validate(
    extract: &Extract,
    progress: &Progress,
    partition_patients: usize,
    defer: Defer,
) -> Result<Validation, ExtractError> {
    let mut quality = DataQuality::default();
    let mut person_ids = None;
    // Dense person ids as a bitmap, once the person table is read: each later table counts its
    // orphan rows in its own aggregate pass, a bit test per row, instead of a pass of its own.
    let mut dense_ids: Option<Arc<ids::DenseIds>> = None;
    // The molecular tests' ids and persons, once that table is read: variants count their orphan
    // test ids (no test of their person) in their aggregate pass. An extract without molecular
    // tests has no test ids. Where both tables' findings are left to a run, it looks each
    // variant's test up among its partition's tests, and the ids are not read here.
    let mut test_ids = TestSet::All(Arc::new(ids::TestIds::empty()));
    let mut test_ids_left = false;
    let mut deferred_checks = Vec::new();
    // A table's rows per partition, were they spread as the patients are: the share of the
    // largest partition (partitions hold at most `partition_patients` patients, their ids
    // unique where they are dense).
    let mut share = (1u64, 1u64);
    for table in Table::ALL {
        let columns = schema::columns(table);
        let Some(location) = extract.location(table) else {
            quality.tables.push(TableQuality {
                table,
                present: false,
                rows: 0,
                columns: Vec::new(),
            });
            for column in columns {
                quality.column_mut(table, column.name);
            }
            continue;
        };
        let lf = extract.scan(table)?;
        // Null counts from the footers' statistics where every file records them: a column
        // read for nothing else (a measurement's LOINC code, a diagnosis' date) is not decoded.
        let recorded = recorded_nulls(extract, table);
        let defers = |table: Table, recorded: &[Option<u64>]| match defer {
            Defer::Nothing => false,
            Defer::Findings { max_rows } => {
                table != Table::Person
                    && dense_ids.is_some()
                    && recorded.iter().all(Option::is_some)
                    && u128::from(extract.rows(table)) * u128::from(share.0) / u128::from(share.1)
                        <= u128::from(max_rows)
            }
        };
        let deferred = defers(table, &recorded);
        if table == Table::MolecularTest && deferred {
            let variants = Table::Variant;
            test_ids_left = !extract.is_present(variants)
                || defers(variants, &recorded_nulls(extract, variants));
            if test_ids_left {
                test_ids = TestSet::Partition;
            }
        }
        // A text column whose dictionaries hold only allowed values is not read for its domain.
        let checks = RowChecks::of(table, dense_ids.as_ref(), &test_ids)
            .without_proven(|column| extract.dictionary_values(table, column));
        let stage = match deferred {
            true => progress.stage(&format!("checking {table} (its values while evaluating)")),
            false => progress.stage(&format!("checking {table}")),
        };
        let mut aggregates = Vec::new();
        for (column, _) in columns.iter().zip(&recorded).filter(|(_, n)| n.is_none()) {
            aggregates.push(
                col(column.name)
                    .null_count()
                    .cast(DataType::UInt64)
                    .alias(format!("{}:nulls", column.name)),
            );
        }
        if !deferred {
            aggregates.extend(checks.aggregates());
        }
        // A deferred table's rows are its footers' count: nothing is left to decode here.
        let (rows, counts) = match aggregates.is_empty() && deferred {
            true => (extract.rows(table), DataFrame::empty()),
            false => {
                aggregates.push(len().cast(DataType::UInt64).alias("rows"));
                let counts = collect(lf.clone().select(aggregates), table, location)?;
                (number(&counts, "rows"), counts)
            }
        };
        quality.tables.push(TableQuality {
            table,
            present: true,
            rows,
            columns: Vec::new(),
        });
        for (column, recorded) in columns.iter().zip(recorded) {
            let nulls =
                recorded.unwrap_or_else(|| number(&counts, &format!("{}:nulls", column.name)));
            if column.required && nulls > 0 {
                return Err(required_null(extract, table, column.name, nulls, location)?);
            }
            quality.column_mut(table, column.name).nulls = nulls;
        }
        match deferred {
            true => deferred_checks.push(checks),
            false => checks.findings(&counts).record(&mut quality),
        }
        match table {
            // Sorted once, for uniqueness here and the later tables' orphan counts; the group-by
            // of `check_unique` only runs to describe repeats found.
            Table::Person => {
                let ids = ids::sorted_ids(&lf).map_err(|e| read_error(table, location, e))?;
                if ids::has_repeats(&ids).map_err(|e| read_error(table, location, e))? {
                    check_unique(extract, table, "person_id", location)?;
                }
                dense_ids = ids::DenseIds::of(&ids).map(Arc::new);
                let patients = ids.len().max(1) as u64;
                share = ((partition_patients.max(1) as u64).min(patients), patients);
                person_ids = Some(ids);
            }
            Table::MolecularTest if !test_ids_left => {
                test_ids = TestSet::All(Arc::new(all_test_ids(extract, location)?));
            }
            _ => {}
        }
        stage.done();
    }
    let person_ids = match person_ids {
        Some(ids) => ids,
        None => {
            let location = extract.location(Table::Person).unwrap_or(extract.root());
            ids::sorted_ids(&extract.scan(Table::Person)?)
                .map_err(|e| read_error(Table::Person, location, e))?
        }
    };
    // Ids without the bitmap: orphan rows by anti joins, a stage of their own.
    if dense_ids.is_none() {
        let stage = progress.stage("checking references");
        let referring: Vec<(Table, &Path)> = Table::ALL[1..]
            .iter()
            .filter_map(|t| extract.location(*t).map(|l| (*t, l)))
            .collect();
        let orphans = orphans_by_partition(extract, &referring, &person_ids, partition_patients)?;
        for ((table, _), count) in referring.iter().zip(orphans) {
            quality.column_mut(*table, "person_id").orphan_rows = count;
        }
        stage.done();
    }
    Ok(Validation {
        quality,
        person_ids,
        deferred: deferred_checks,
        test_ids_left,
    })
}

/// A table's columns' null counts from its footers' statistics, where every file records them
/// (in [`schema::columns`] order). A required column's count is taken only where it is zero: its
/// nulls are an error, decided on the data (a damaged footer must not make an error of its own,
/// nor send the error's scan into damaged pages).
fn recorded_nulls(extract: &Extract, table: Table) -> Vec<Option<u64>> {
    (schema::columns(table).iter())
        .map(|column| {
            extract
                .recorded_nulls(table, column)
                .filter(|&nulls| !column.required || nulls == 0)
        })
        .collect()
}

/// Every molecular test's id with its person, read whole; an error where some id occurs more
/// than once. The set is built from the column as read; `check_unique`'s group-by only runs to
/// describe repeats found.
fn all_test_ids(extract: &Extract, location: &Path) -> Result<ids::TestIds, ExtractError> {
    let table = Table::MolecularTest;
    let tests = collect(
        extract
            .scan(table)?
            .select([col("test_id"), col("person_id")]),
        table,
        location,
    )?;
    let (set, repeats) =
        ids::TestIds::of_frame(&tests).map_err(|e| read_error(table, location, e))?;
    if repeats {
        check_unique(extract, table, "test_id", location)?;
    }
    Ok(set)
}

/// Decides the uniqueness of the molecular tests' ids that validation left to a run
/// ([`Validation::test_ids_left`]) from `span`, the spans of its partitions' tests: proven
/// unique, or an error naming repeats. Where the span proves neither (tests not in patient
/// order with ascending ids), every id is read, as validation reads them otherwise.
pub fn check_test_ids(
    extract: &Extract,
    span: &TestIdSpan,
    progress: &Progress,
) -> Result<(), ExtractError> {
    let table = Table::MolecularTest;
    let Some(location) = extract.location(table) else {
        return Ok(());
    };
    match span {
        TestIdSpan::Empty | TestIdSpan::Unique { .. } => Ok(()),
        TestIdSpan::Unproven { repeats: true } => check_unique(extract, table, "test_id", location),
        TestIdSpan::Unproven { repeats: false } => {
            let stage = progress.stage(&format!("checking {table} ids"));
            all_test_ids(extract, location)?;
            stage.done();
            Ok(())
        }
    }
}

/// Orphan rows of each referring table by anti joins, per person_id partition: an anti join
/// against a partition's ids is a small hash table, where one against every id of a national
/// registry is slow (21 s -> 15 s at 10 M patients). For string ids and sparse integer ids.
fn orphans_by_partition(
    extract: &Extract,
    referring: &[(Table, &Path)],
    person_ids: &Series,
    partition_patients: usize,
) -> Result<Vec<u64>, ExtractError> {
    let person = extract.scan(Table::Person)?;
    let person_location = extract.location(Table::Person).unwrap_or(extract.root());
    let partitions = super::partition::split(person_ids, partition_patients)
        .map_err(|e| read_error(Table::Person, person_location, e))?;
    let mut orphans = vec![0u64; referring.len()];
    for partition in &partitions {
        let ids = collect(
            partition.filter(person.clone().select([col("person_id")])),
            Table::Person,
            person_location,
        )?
        .lazy();
        for (k, (table, location)) in referring.iter().enumerate() {
            let rows = partition.filter(extract.scan(*table)?);
            let counted = collect(
                orphan_rows(rows, ids.clone(), "person_id"),
                *table,
                location,
            )?;
            orphans[k] += number(&counted, "orphans");
        }
    }
    Ok(orphans)
}

fn read_error(table: Table, location: &Path, message: impl ToString) -> ExtractError {
    ExtractError::Read {
        table,
        path: location.to_path_buf(),
        message: message.to_string(),
    }
}

/// Rows of `rows` whose `key` is not among `keys`, counted into a column `orphans`. (An anti
/// join needs no unique keys; these are unique anyway, checked before.)
fn orphan_rows(rows: LazyFrame, keys: LazyFrame, key: &str) -> LazyFrame {
    rows.select([col(key)])
        .join(keys, [col(key)], [col(key)], JoinArgs::new(JoinType::Anti))
        .select([len().cast(DataType::UInt64).alias("orphans")])
}

/// The error for a required column with nulls: names the first file that has one, with the
/// person_id of up to five such rows.
fn required_null(
    extract: &Extract,
    table: Table,
    column: &'static str,
    count: u64,
    location: &Path,
) -> Result<ExtractError, ExtractError> {
    // Filtered after decoding, not in the Parquet reader: polars' filtered decoder has aborted
    // the process on damaged pages (an allocation of 2^61 bytes) where the plain one errs.
    let first = extract
        .scan_with_file(table)?
        .filter(col(column).is_null())
        .select([col("person_id").cast(DataType::String), col(FILE_COLUMN)])
        .limit(5)
        .with_predicate_pushdown(false);
    let first = collect(first, table, location)?;
    let keys = if column == "person_id" {
        Vec::new()
    } else {
        strings(&first, "person_id")
    };
    let path = strings(&first, FILE_COLUMN)
        .into_iter()
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| location.to_path_buf());
    Ok(ExtractError::RequiredNull {
        path,
        column,
        count,
        keys,
    })
}

/// Errors when `key` occurs more than once: the count of such values and the first five
/// (smallest) with their row counts.
fn check_unique(
    extract: &Extract,
    table: Table,
    key: &'static str,
    location: &Path,
) -> Result<(), ExtractError> {
    let repeated = extract
        .scan(table)?
        .select([col(key)])
        .group_by([col(key)])
        .agg([len().cast(DataType::UInt64).alias("n")])
        .filter(col("n").gt(lit(1u64)));
    let count = number(
        &collect(
            repeated
                .clone()
                .select([len().cast(DataType::UInt64).alias("count")]),
            table,
            location,
        )?,
        "count",
    );
    if count == 0 {
        return Ok(());
    }
    let first = collect(
        repeated
            .sort([key], SortMultipleOptions::default())
            .limit(5)
            .select([col(key).cast(DataType::String), col("n")]),
        table,
        location,
    )?;
    let values = strings(&first, key);
    let keys = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{v} ({} rows)", number_at(&first, "n", i)))
        .collect();
    // Name the file that holds the first repeated value (the folder when it is in several).
    let mut path = location.to_path_buf();
    if let Some(value) = values.first() {
        let files = extract
            .scan_with_file(table)?
            .filter(col(key).cast(DataType::String).eq(lit(value.clone())))
            .select([col(FILE_COLUMN)])
            .unique(None, UniqueKeepStrategy::Any)
            .limit(2)
            .with_predicate_pushdown(false);
        if let [file] = strings(&collect(files, table, location)?, FILE_COLUMN).as_slice() {
            path = PathBuf::from(file);
        }
    }
    Err(ExtractError::Duplicate {
        path,
        column: key,
        count,
        keys,
    })
}

/// Collects with the streaming engine; a reader failure (or panic) becomes an error.
fn collect(lf: LazyFrame, table: Table, location: &Path) -> Result<DataFrame, ExtractError> {
    catch_unwind(AssertUnwindSafe(|| {
        lf.collect_with_engine(Engine::Streaming)
            .map(|r| r.unwrap_single())
    }))
    .map_err(|_| {
        read_error(
            table,
            location,
            "the Parquet reader stopped on damaged data",
        )
    })?
    .map_err(|e| read_error(table, location, e))
}

/// A UInt64 count from the first row of `df` (0 where the column is absent).
pub(super) fn number(df: &DataFrame, name: &str) -> u64 {
    number_at(df, name, 0)
}

fn number_at(df: &DataFrame, name: &str, row: usize) -> u64 {
    df.column(name)
        .ok()
        .and_then(|c| c.get(row).ok())
        .and_then(|v| v.extract::<u64>())
        .unwrap_or(0)
}

/// A String column's non-null values (of a small frame).
fn strings(df: &DataFrame, name: &str) -> Vec<String> {
    let Ok(column) = df.column(name) else {
        return Vec::new();
    };
    (0..column.len())
        .filter_map(|i| column.get(i).ok())
        .filter_map(|v| v.get_str().map(str::to_string))
        .collect()
}
