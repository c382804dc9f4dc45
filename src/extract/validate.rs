//! The data checks of the contract, run with polars' streaming engine so that they work at
//! registry scale: one aggregate pass per table (rows, nulls where the Parquet footers'
//! statistics do not give them, values out of domain, unknown units, orphan rows by a bitmap of
//! the person ids where they are dense integers, and variants' orphan test ids by a hash set of
//! the tests' ids), uniqueness of person_id and test_id, and orphan rows by anti-join where the
//! person ids are not dense integers.
//! Errors stop the check; findings are counted into [`DataQuality`].

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;

use super::distinct::{boolean_column, map_distinct, text_flags};
use super::ids;
use super::scan::FILE_COLUMN;
use super::schema;
use super::{DataQuality, Extract, ExtractError, Table, TableQuality};
use crate::progress::Progress;

/// Units the contract lists (UCUM as labs send them), plus `U/mL` (CA-125) and `ng/mL` (PSA).
pub const UNITS: &[&str] = &[
    "10*9/L",
    "10*3/uL",
    "/uL",
    "g/dL",
    "g/L",
    "mmol/L",
    "umol/L",
    "mg/dL",
    "U/L",
    "mL/min",
    "mL/min/{1.73_m2}",
    "%",
    "ms",
    "kg",
    "U/mL",
    "ng/mL",
];

/// Observation codes whose value_num is a grade or score from 0 to 5 (whole numbers).
pub const GRADED_CODES: &[&str] = &["89247-1", "ctcae-max-grade", "neuropathy-grade"];

/// Observation codes whose value_text has a fixed set of values.
pub const TEXT_CODES: &[(&str, &[&str])] = &[
    ("extent", &["local", "locally-advanced", "metastatic"]),
    ("std-tx-exhausted", &["true", "false"]),
    ("recist-measurable", &["true", "false"]),
    ("brain-mets-status", &["none", "stable", "progressive"]),
    ("dysphagia", &["true", "false"]),
    ("pregnant", &["true", "false"]),
    ("nursing", &["true", "false"]),
];

const SEXES: &[&str] = &["F", "M", "U"];
const KINDS: &[&str] = &["drug", "radiotherapy"];
const METHODS: &[&str] = &[
    "ngs-panel",
    "wes",
    "rna-seq",
    "ihc",
    "fish",
    "pcr",
    "array-cnv",
    "sanger",
    "nanostring",
];
const SPECIMENS: &[&str] = &["tissue-primary", "tissue-metastasis", "plasma-cfdna"];
const CLASSES: &[&str] = &[
    "snv",
    "indel",
    "amplification",
    "deletion",
    "fusion",
    "expression",
    "signature",
];

/// A non-null value outside `values`, looked up once per distinct value of a chunk
/// ([`text_flags`]): as chains of string comparisons, the 22 units cost 22 passes over every
/// measurement.
fn outside(column: &str, values: &'static [&'static str]) -> Expr {
    text_flags(col(column), move |value| !values.contains(&value))
}

/// An observation of one of [`TEXT_CODES`] whose non-null `value_text` is not one of its code's,
/// in one pass: per distinct code its position in [`TEXT_CODES`], per distinct value a bit for
/// each of those codes that allows it.
fn text_outside() -> Expr {
    map_multiple(
        |inputs: &mut [Column]| {
            let (codes, texts) = (inputs[0].str()?, inputs[1].str()?);
            let code = map_distinct(codes, |code| {
                code.and_then(|code| TEXT_CODES.iter().position(|(c, _)| *c == code))
            });
            let allowed = map_distinct(texts, |text| {
                text.map(|text| {
                    TEXT_CODES
                        .iter()
                        .enumerate()
                        .filter(|(_, (_, values))| values.contains(&text))
                        .fold(0u32, |bits, (c, _)| bits | 1 << c)
                })
            });
            let flags: Vec<bool> = code
                .iter()
                .zip(&allowed)
                .map(|(code, allowed)| match (code, allowed) {
                    (Some(code), Some(allowed)) => allowed >> code & 1 == 0,
                    _ => false,
                })
                .collect();
            Ok(boolean_column(codes.name().clone(), &flags).into_column())
        },
        [col("code"), col("value_text")],
        |_, fields| Ok(Field::new(fields[0].name().clone(), DataType::Boolean)),
    )
}

/// Out-of-domain rules: (column, expression true for an out-of-domain row). Region is not
/// checked: the contract names Norway's regions as an example, not as a closed list.
pub fn domain_rules(table: Table) -> Vec<(&'static str, Expr)> {
    match table {
        Table::Person => vec![("sex", outside("sex", SEXES))],
        Table::Measurement => vec![("value", col("value").lt(lit(0.0)))],
        Table::Observation => {
            let v = col("value_num");
            let graded = text_flags(col("code"), |code| GRADED_CODES.contains(&code)).and(
                v.clone().lt(lit(0.0)).or(v.clone().gt(lit(5.0))).or(v
                    .clone()
                    .cast(DataType::Int64)
                    .cast(DataType::Float64)
                    .neq(v)),
            );
            let text = text_outside();
            vec![("value_num", graded), ("value_text", text)]
        }
        Table::Treatment => vec![("kind", outside("kind", KINDS))],
        Table::MolecularTest => vec![
            ("method", outside("method", METHODS)),
            ("specimen", outside("specimen", SPECIMENS)),
        ],
        Table::Variant => vec![
            ("class", outside("class", CLASSES)),
            ("value", col("value").lt(lit(0.0))),
        ],
        Table::Diagnosis => Vec::new(),
    }
}

/// Counts a boolean rule's true rows (nulls count as false), as UInt64.
fn count_true(rule: Expr) -> Expr {
    rule.fill_null(lit(false)).sum().cast(DataType::UInt64)
}

/// Runs every check; the first contract violation is the error. Also gives the person ids,
/// sorted (read for the checks), from which a run cuts its partitions.
pub fn validate(
    extract: &Extract,
    progress: &Progress,
    partition_patients: usize,
) -> Result<(DataQuality, Series), ExtractError> {
    let mut quality = DataQuality::default();
    let mut person_ids = None;
    // Dense person ids as a bitmap, once the person table is read: each later table counts its
    // orphan rows in its own aggregate pass, a bit test per row, instead of a pass of its own.
    let mut dense_ids: Option<Arc<ids::DenseIds>> = None;
    // The molecular tests' ids, once that table is read: variants count their orphan test ids in
    // their aggregate pass. An extract without molecular tests has no test ids.
    let mut test_ids = Arc::new(ids::TextIds::empty());
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
        let stage = progress.stage(&format!("checking {table}"));
        let lf = extract.scan(table)?;
        let mut aggregates = vec![len().cast(DataType::UInt64).alias("rows")];
        // Null counts from the footers' statistics where every file records them: a column
        // read for nothing else (a measurement's LOINC code, a diagnosis' date) is not decoded.
        // A required column's nulls are an error: that is decided on the data, so its count
        // is taken from the statistics only where they record none (a damaged footer must not
        // make an error of its own, nor send the error's scan into damaged pages).
        let recorded: Vec<Option<u64>> = columns
            .iter()
            .map(|column| {
                extract
                    .recorded_nulls(table, column)
                    .filter(|&nulls| !column.required || nulls == 0)
            })
            .collect();
        for (column, _) in columns.iter().zip(&recorded).filter(|(_, n)| n.is_none()) {
            aggregates.push(
                col(column.name)
                    .null_count()
                    .cast(DataType::UInt64)
                    .alias(format!("{}:nulls", column.name)),
            );
        }
        for (column, rule) in domain_rules(table) {
            aggregates.push(count_true(rule).alias(format!("{column}:domain")));
        }
        if table == Table::Measurement {
            aggregates.push(count_true(outside("unit", UNITS)).alias("unit:units"));
        }
        if let Some(dense) = dense_ids.as_ref().filter(|_| table != Table::Person) {
            aggregates.push(count_true(dense.absent("person_id")).alias("person_id:orphans"));
        }
        if table == Table::Variant {
            aggregates.push(count_true(test_ids.absent("test_id")).alias("test_id:orphans"));
        }
        let counts = collect(lf.clone().select(aggregates), table, location)?;
        let rows = number(&counts, "rows");
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
            let q = quality.column_mut(table, column.name);
            q.nulls = nulls;
            q.out_of_domain = number(&counts, &format!("{}:domain", column.name));
            q.unconvertible_units = number(&counts, &format!("{}:units", column.name));
            q.orphan_rows = number(&counts, &format!("{}:orphans", column.name));
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
                person_ids = Some(ids);
            }
            // The set is built from the column as read; `check_unique`'s group-by only runs to
            // describe repeats found.
            Table::MolecularTest => {
                let ids = collect(lf.clone().select([col("test_id")]), table, location)?;
                let ids = ids
                    .column("test_id")
                    .and_then(|c| c.str().cloned())
                    .map_err(|e| read_error(table, location, e))?;
                let (set, repeats) =
                    ids::TextIds::of(&ids).map_err(|e| read_error(table, location, e))?;
                if repeats {
                    check_unique(extract, table, "test_id", location)?;
                }
                test_ids = Arc::new(set);
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
    Ok((quality, person_ids))
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
fn number(df: &DataFrame, name: &str) -> u64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn count(table: Table, column: &str, df: DataFrame) -> u64 {
        let (_, rule) = domain_rules(table)
            .into_iter()
            .find(|(c, _)| *c == column)
            .unwrap();
        let out = df
            .lazy()
            .select([count_true(rule).alias("n")])
            .collect()
            .unwrap();
        number(&out, "n")
    }

    #[test]
    fn ecog_and_grades_are_whole_numbers_from_0_to_5() {
        // Out of domain: ECOG 7, ECOG 1.5, CTCAE grade -1. In domain: ECOG 0, neuropathy 5,
        // an unknown code with value 9, a null value_num, a null code with value 7.
        let df = df!(
            "code" => [Some("89247-1"), Some("89247-1"), Some("ctcae-max-grade"), Some("89247-1"), Some("neuropathy-grade"), Some("weight-class"), Some("89247-1"), None],
            "value_num" => [Some(7.0), Some(1.5), Some(-1.0), Some(0.0), Some(5.0), Some(9.0), None, Some(7.0)],
            "value_text" => [None::<&str>, None, None, None, None, None, None, None],
        )
        .unwrap();
        assert_eq!(count(Table::Observation, "value_num", df), 3);
    }

    #[test]
    fn text_codes_have_their_values() {
        // Out: extent "advanced", pregnant "yes". In: extent "metastatic", allergy with any ATC
        // code (not a closed list), a null value_text.
        let df = df!(
            "code" => ["extent", "pregnant", "extent", "allergy", "nursing"],
            "value_num" => [None::<f64>, None, None, None, None],
            "value_text" => [Some("advanced"), Some("yes"), Some("metastatic"), Some("L01EC02"), None],
        )
        .unwrap();
        assert_eq!(count(Table::Observation, "value_text", df), 2);
    }

    #[test]
    fn sex_outside_f_m_u() {
        let df = df!("sex" => [Some("F"), Some("X"), Some("m"), None, Some("U")]).unwrap();
        // "X" and lower-case "m" are not in the contract's list; null is a null, not a finding.
        assert_eq!(count(Table::Person, "sex", df), 2);
    }
}
