//! Finding the tables of an extract and reading their Parquet footers: `NAME.parquet` or a folder
//! `NAME/` of `*.parquet` files (found recursively; hive `key=value/` folders allowed; hidden and
//! `_`-prefixed names ignored). Checks, from metadata only, the contract's columns and types and
//! that all files of a table share one schema, and keeps the null counts the row groups'
//! statistics record (validation need not decode a column for them). Reads no data pages.

use std::collections::BTreeMap;
use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use arrow::datatypes::{DataType as ArrowType, SchemaRef};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::file::metadata::ParquetMetaData;

use super::partition::Bound;
use super::row_groups::GroupSpan;
use super::schema::{self, Column, IdType, Kind};
use super::{ExtractError, Table};

/// A hive partition value for a contract column (`None`: the default partition, null).
pub type HiveValue = (&'static str, Option<String>);

/// One Parquet file of a table, with what its footer says.
#[derive(Debug, Clone)]
pub struct TableFile {
    pub path: PathBuf,
    pub bytes: u64,
    pub rows: u64,
    /// Hive partition values (`key=value` folders) for contract columns the file itself lacks.
    pub hive: Vec<HiveValue>,
    /// Null counts of the contract columns whose every row group records one in its statistics
    /// (as arrow-rs, pyarrow, polars, DuckDB and Spark write them).
    pub nulls: BTreeMap<&'static str, u64>,
    /// Each row group's rows and `person_id` range, where every row group's statistics record
    /// it exactly (see [`super::row_groups`]).
    pub groups: Option<Vec<GroupSpan>>,
}

/// A table found in the extract: where it is, its files, and its columns as the files have them.
#[derive(Debug, Clone)]
pub struct TableSource {
    pub table: Table,
    /// `NAME.parquet`, or the folder `NAME/`.
    pub location: PathBuf,
    pub files: Vec<TableFile>,
    /// Contract columns stored in the files (the same in every file), with their file type.
    pub stored: BTreeMap<&'static str, ArrowType>,
    /// The type of person_id in the files (None when person_id only comes from hive folders).
    pub id_type: Option<IdType>,
    /// Contract columns stored as Timestamps with a time zone (from the first file's Arrow schema).
    pub zones: BTreeMap<&'static str, String>,
}

impl TableSource {
    pub fn rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }

    /// The nulls of `column` as the scan reads it, from the files' statistics: None unless the
    /// column is stored in the files, is read without a cast that could make a null (its own
    /// type, a string, a narrower integer, or any number as Float64), and every file records
    /// its count.
    pub fn recorded_nulls(&self, column: &Column) -> Option<u64> {
        let stored = self.stored.get(column.name)?;
        if !schema::reads_without_new_nulls(column.kind, stored) {
            return None;
        }
        self.files
            .iter()
            .map(|f| f.nulls.get(column.name).copied())
            .sum()
    }
}

/// Finds `table` in `dir`: Ok(None) when the extract has no such table.
pub fn locate(dir: &Path, table: Table) -> Result<Option<TableSource>, ExtractError> {
    let file = dir.join(format!("{}.parquet", table.name()));
    let folder = dir.join(table.name());
    let (location, paths) = match (file.exists(), folder.is_dir()) {
        (true, true) => {
            return Err(ExtractError::TableTwice {
                table,
                file,
                folder,
            })
        }
        (false, false) => return Ok(None),
        // Spark writes `NAME.parquet/` as a folder of part files: read it as the table's folder.
        (true, false) if file.is_dir() => (file.clone(), parquet_files(&file)?),
        (true, false) => (file.clone(), vec![file]),
        (false, true) => (folder.clone(), parquet_files(&folder)?),
    };
    if paths.is_empty() {
        return Err(ExtractError::EmptyFolder {
            table,
            path: location,
        });
    }
    let mut files = Vec::with_capacity(paths.len());
    let mut first: Option<(PathBuf, SchemaRef)> = None;
    let mut names: Vec<String> = Vec::new();
    let mut zones = BTreeMap::new();
    let mut stored = BTreeMap::new();
    let mut id_type = None;
    for path in paths {
        let Footer {
            schema,
            rows,
            bytes,
            zones: file_zones,
            nulls: file_nulls,
            groups,
        } = read_footer(&path)?;
        match &first {
            None => {
                stored = check_columns(table, &path, &schema)?;
                zones = file_zones
                    .into_iter()
                    .filter_map(|(name, zone)| schema::column(table, &name).map(|c| (c.name, zone)))
                    .collect();
                names = schema.fields().iter().map(|f| f.name().clone()).collect();
                if let Some(t) = stored.get("person_id") {
                    id_type = schema::accepts(Kind::Id, t).ok().flatten();
                }
                first = Some((path.clone(), schema));
            }
            Some((first_path, first_schema)) => {
                if let Some(difference) = schema_difference(first_schema, &schema) {
                    return Err(ExtractError::SchemaMismatch {
                        table,
                        first: first_path.clone(),
                        other: path,
                        difference,
                    });
                }
            }
        }
        let hive = hive_values(&location, &path, table, &stored);
        for column in schema::columns(table).iter().filter(|c| c.required) {
            if !stored.contains_key(column.name) && !hive.iter().any(|(k, _)| *k == column.name) {
                let similar = names
                    .iter()
                    .find(|n| n.eq_ignore_ascii_case(column.name))
                    .cloned();
                return Err(ExtractError::MissingColumn {
                    path,
                    table,
                    column: column.name,
                    similar,
                });
            }
        }
        let nulls = file_nulls
            .into_iter()
            .filter_map(|(name, n)| schema::column(table, &name).map(|c| (c.name, n)))
            .collect();
        files.push(TableFile {
            path,
            bytes,
            rows,
            hive,
            nulls,
            groups,
        });
    }
    Ok(Some(TableSource {
        table,
        location,
        files,
        stored,
        id_type,
        zones,
    }))
}

/// Every `*.parquet` file under `dir`, sorted; hidden and `_`-prefixed entries are skipped
/// (`.DS_Store`, `_SUCCESS`, Spark's `_temporary/`).
fn parquet_files(dir: &Path) -> Result<Vec<PathBuf>, ExtractError> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|source| ExtractError::Io {
            path: current.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| ExtractError::Io {
                path: current.clone(),
                source,
            })?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if name.to_ascii_lowercase().ends_with(".parquet") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The Arrow schema (as the Parquet types say it), row count and size of a file. Never panics:
/// a parser panic on garbage is turned into an error too.
fn read_footer(path: &Path) -> Result<Footer, ExtractError> {
    let not_parquet = |reason: String| ExtractError::NotParquet {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(|source| ExtractError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bytes = file
        .metadata()
        .map_err(|source| ExtractError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    // The Parquet types are the contract's language; the embedded Arrow schema (which differs
    // between writers) is not needed to check them.
    let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
    let loaded = catch_unwind(AssertUnwindSafe(|| {
        ArrowReaderMetadata::load(&file, options)
    }))
    .map_err(|_| not_parquet("the footer could not be parsed".into()))?
    .map_err(|err| not_parquet(err.to_string()))?;
    let rows = loaded.metadata().file_metadata().num_rows();
    let rows = u64::try_from(rows).map_err(|_| not_parquet(format!("row count {rows}")))?;
    check_layout(loaded.metadata(), rows, bytes).map_err(not_parquet)?;
    // Time zones of Timestamp columns live only in the embedded Arrow schema (Parquet says just
    // "adjusted to UTC"); read them from it where a writer left one, for `Extract::notes`.
    let file_metadata = loaded.metadata().file_metadata();
    let zones = catch_unwind(AssertUnwindSafe(|| {
        parquet::arrow::parquet_to_arrow_schema(
            file_metadata.schema_descr(),
            file_metadata.key_value_metadata(),
        )
    }))
    .ok()
    .and_then(Result::ok)
    .map(|schema| {
        schema
            .fields()
            .iter()
            .filter_map(|f| match f.data_type() {
                ArrowType::Timestamp(_, Some(zone)) => Some((f.name().clone(), zone.to_string())),
                _ => None,
            })
            .collect()
    })
    .unwrap_or_default();
    Ok(Footer {
        schema: loaded.schema().clone(),
        rows,
        bytes,
        zones,
        nulls: recorded_nulls(loaded.metadata()),
        groups: person_id_spans(loaded.metadata()),
    })
}

/// The null counts of the file's flat columns that every row group's statistics record (and
/// none beyond its group's rows, which only a damaged footer says): (column, nulls).
fn recorded_nulls(metadata: &ParquetMetaData) -> Vec<(String, u64)> {
    let columns = metadata.file_metadata().schema_descr().columns();
    let mut nulls = Vec::new();
    'columns: for (c, column) in columns.iter().enumerate() {
        if column.path().parts().len() != 1 || column.max_rep_level() != 0 {
            continue;
        }
        let mut total: u64 = 0;
        for group in metadata.row_groups() {
            let count = group
                .columns()
                .get(c)
                .and_then(|chunk| chunk.statistics())
                .and_then(|statistics| statistics.null_count_opt());
            match count {
                Some(n) if i64::try_from(n).is_ok_and(|n| n <= group.num_rows()) => total += n,
                _ => continue 'columns,
            }
        }
        nulls.push((column.name().to_string(), total));
    }
    nulls
}

/// What a file's footer says.
struct Footer {
    schema: SchemaRef,
    rows: u64,
    bytes: u64,
    /// Timestamp columns with a time zone, from the embedded Arrow schema: (column, zone).
    zones: Vec<(String, String)>,
    /// See [`recorded_nulls`].
    nulls: Vec<(String, u64)>,
    /// See [`person_id_spans`].
    groups: Option<Vec<GroupSpan>>,
}

/// Each row group's rows and the range of its `person_id` statistics (numbers stored as
/// integers; text only where the statistics are exact and in the current, byte-wise, order);
/// None where a row group with rows records no such range.
pub(super) fn person_id_spans(metadata: &ParquetMetaData) -> Option<Vec<GroupSpan>> {
    use parquet::file::statistics::Statistics;
    let columns = metadata.file_metadata().schema_descr().columns();
    let column = columns
        .iter()
        .position(|c| c.path().parts() == ["person_id"] && c.max_rep_level() == 0)?;
    let text = |bytes: Option<&[u8]>| Some(Bound::Text(std::str::from_utf8(bytes?).ok()?.into()));
    let mut spans = Vec::with_capacity(metadata.num_row_groups());
    for group in metadata.row_groups() {
        let rows = u64::try_from(group.num_rows()).ok()?;
        if rows == 0 {
            continue;
        }
        let statistics = group.column(column).statistics()?;
        let (min, max) = match statistics {
            Statistics::Int64(s) => (Bound::Int(*s.min_opt()?), Bound::Int(*s.max_opt()?)),
            Statistics::Int32(s) => (
                Bound::Int((*s.min_opt()?).into()),
                Bound::Int((*s.max_opt()?).into()),
            ),
            Statistics::ByteArray(s)
                if s.min_is_exact() && s.max_is_exact() && !statistics.is_min_max_deprecated() =>
            {
                (text(s.min_bytes_opt())?, text(s.max_bytes_opt())?)
            }
            _ => return None,
        };
        let nulls = statistics.null_count_opt() != Some(0);
        spans.push(GroupSpan {
            rows,
            min,
            max,
            nulls,
        });
    }
    Some(spans)
}

/// Checks that the footer describes data inside the file: every column chunk's byte range lies
/// within the file, and the row groups add up to the file's row count. A damaged footer that
/// points elsewhere would otherwise reach the data readers.
fn check_layout(metadata: &ParquetMetaData, rows: u64, bytes: u64) -> Result<(), String> {
    let mut total: u64 = 0;
    for (i, group) in metadata.row_groups().iter().enumerate() {
        let group_rows = u64::try_from(group.num_rows())
            .map_err(|_| format!("row group {i} has {} rows", group.num_rows()))?;
        total = total.saturating_add(group_rows);
        for column in group.columns() {
            let start = column
                .dictionary_page_offset()
                .unwrap_or(column.data_page_offset());
            let end = u64::try_from(start)
                .ok()
                .zip(u64::try_from(column.compressed_size()).ok())
                .and_then(|(start, len)| start.checked_add(len));
            if column.data_page_offset() < 0 || end.is_none_or(|end| end > bytes) {
                return Err(format!(
                    "row group {i}, column {}: its data lies outside the file",
                    column.column_path()
                ));
            }
        }
    }
    if total != rows {
        return Err(format!(
            "the row groups hold {total} rows but the footer says {rows}"
        ));
    }
    Ok(())
}

/// Checks the types of the contract columns the file has; returns them by name.
fn check_columns(
    table: Table,
    path: &Path,
    schema: &SchemaRef,
) -> Result<BTreeMap<&'static str, ArrowType>, ExtractError> {
    let mut stored = BTreeMap::new();
    for column in schema::columns(table) {
        let Ok(field) = schema.field_with_name(column.name) else {
            continue;
        };
        if schema::accepts(column.kind, field.data_type()).is_err() {
            return Err(ExtractError::WrongType {
                path: path.to_path_buf(),
                column: column.name.to_string(),
                expected: column.kind.expected(),
                found: field.data_type().to_string(),
            });
        }
        stored.insert(column.name, field.data_type().clone());
    }
    // polars (as built) cannot open a file that has some column types (256-bit decimals, Float16,
    // intervals), even in a column the contract does not use: say so here, not in the scan.
    if let Some(field) = schema
        .fields()
        .iter()
        .find(|f| schema::unreadable(f.data_type()))
    {
        return Err(ExtractError::UnreadableColumn {
            path: path.to_path_buf(),
            column: field.name().clone(),
            found: field.data_type().to_string(),
        });
    }
    Ok(stored)
}

/// How two files' schemas differ (names and types; order and nullability do not matter).
fn schema_difference(first: &SchemaRef, other: &SchemaRef) -> Option<String> {
    let a: BTreeMap<&str, &ArrowType> = first
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type()))
        .collect();
    let b: BTreeMap<&str, &ArrowType> = other
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type()))
        .collect();
    for (name, t) in &a {
        match b.get(name) {
            None => return Some(format!("column {name} is only in the first")),
            Some(u) if u != t => {
                return Some(format!("column {name} is {t} in one and {u} in the other"))
            }
            Some(_) => {}
        }
    }
    b.keys()
        .find(|name| !a.contains_key(*name))
        .map(|name| format!("column {name} is only in the second"))
}

/// Hive `key=value` folders between the table folder and the file, for contract columns that
/// the file does not store. `__HIVE_DEFAULT_PARTITION__` is null; values are percent-decoded.
fn hive_values(
    location: &Path,
    path: &Path,
    table: Table,
    stored: &BTreeMap<&'static str, ArrowType>,
) -> Vec<HiveValue> {
    let Ok(relative) = path.strip_prefix(location) else {
        return Vec::new();
    };
    let mut values: Vec<HiveValue> = Vec::new();
    let parent = relative.parent().map(Path::to_path_buf).unwrap_or_default();
    for part in parent.components() {
        let part = part.as_os_str().to_string_lossy();
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        let Some(column) = schema::column(table, key) else {
            continue;
        };
        if stored.contains_key(column.name) {
            continue;
        }
        let value = match value {
            "__HIVE_DEFAULT_PARTITION__" => None,
            v => Some(percent_decode(v)),
        };
        values.retain(|(k, _)| *k != column.name);
        values.push((column.name, value));
    }
    values
}

/// Decodes `%XX` escapes (as pyarrow and Spark write them in partition folder names).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::properties::WriterProperties;
    use std::sync::Arc;

    /// Writes `person.parquet` into `dir` (ids 1-5; region with 3 nulls, one in each row group
    /// of two rows; birth_year Int64 with 1 null) with `properties`, and locates it.
    fn person_with(dir: &Path, properties: WriterProperties) -> TableSource {
        use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("person_id", Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5]))),
            ("sex", Arc::new(StringArray::from(vec!["F"; 5]))),
            (
                "region",
                Arc::new(StringArray::from(vec![
                    None,
                    Some("Vest"),
                    None,
                    None,
                    Some("Nord"),
                ])),
            ),
            (
                "birth_year",
                Arc::new(Int64Array::from(vec![
                    Some(1950),
                    None,
                    Some(1960),
                    Some(1970),
                    Some(1980),
                ])),
            ),
        ];
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let file = File::create(dir.join("person.parquet")).unwrap();
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(properties)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        locate(dir, Table::Person).unwrap().unwrap()
    }

    #[test]
    fn nulls_from_the_row_groups_statistics() {
        use parquet::file::properties::EnabledStatistics;
        let column = |name| schema::column(Table::Person, name).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let groups_of_two = WriterProperties::builder()
            .set_max_row_group_row_count(Some(2))
            .build();
        let source = person_with(dir.path(), groups_of_two);
        // Three row groups (2, 2, 1 rows); region's nulls are 1 + 1 + 1.
        assert_eq!(source.files[0].nulls.get("region"), Some(&3));
        assert_eq!(source.recorded_nulls(&column("region")), Some(3));
        assert_eq!(source.recorded_nulls(&column("person_id")), Some(0));
        // Stored as Int64, birth_year is cast to Int32, where a large year would become a null
        // the statistics do not count: the scan counts it.
        assert_eq!(source.files[0].nulls.get("birth_year"), Some(&1));
        assert_eq!(source.recorded_nulls(&column("birth_year")), None);
        // Not stored: scanned as nulls, counted in the scan.
        assert_eq!(source.recorded_nulls(&column("death_date")), None);

        let none = WriterProperties::builder()
            .set_statistics_enabled(EnabledStatistics::None)
            .build();
        let source = person_with(dir.path(), none);
        assert!(source.files[0].nulls.is_empty());
        assert_eq!(source.recorded_nulls(&column("region")), None);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("S%C3%B8r-%C3%98st"), "Sør-Øst");
        assert_eq!(percent_decode("Vest"), "Vest");
        // A lone or broken escape is kept as written.
        assert_eq!(percent_decode("50%"), "50%");
        assert_eq!(percent_decode("%zz1"), "%zz1");
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn hive_values_only_for_contract_columns_not_stored() {
        let location = Path::new("/x/person");
        let path =
            Path::new("/x/person/region=Vest/year=2020/sex=__HIVE_DEFAULT_PARTITION__/p.parquet");
        let mut stored = BTreeMap::new();
        stored.insert("person_id", ArrowType::Int64);
        let values = hive_values(location, path, Table::Person, &stored);
        assert_eq!(
            values,
            vec![("region", Some("Vest".to_string())), ("sex", None)]
        );
        // A key the file stores itself: the file's column wins.
        stored.insert("region", ArrowType::Utf8);
        let values = hive_values(location, path, Table::Person, &stored);
        assert_eq!(values, vec![("sex", None)]);
    }
}
