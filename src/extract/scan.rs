//! Lazy polars scans of a table in normalized form: the contract's columns in contract order,
//! dates as Date, ids as the extract's id type, numbers as Float64, absent nullable columns as
//! nulls, hive partition values as literal columns. Builds plans only; reads no data.

use polars::prelude::*;

use super::locate::{HiveValue, TableFile, TableSource};
use super::schema::{self, Column, IdType, Kind};
use super::{ExtractError, Table};

/// The name of the column that holds each row's file path, when asked for.
pub const FILE_COLUMN: &str = "__eligo_file";

/// The empty frame of a table with the contract schema (an absent table).
pub fn empty(table: Table, id_type: IdType) -> LazyFrame {
    let schema: Schema = schema::columns(table)
        .iter()
        .map(|c| Field::new(c.name.into(), schema::normalized(c.kind, id_type)))
        .collect();
    DataFrame::empty_with_schema(&schema).lazy()
}

/// The normalized scan of a located table; with `with_file`, plus [`FILE_COLUMN`].
pub fn scan_source(
    source: &TableSource,
    id_type: IdType,
    with_file: bool,
) -> Result<LazyFrame, ExtractError> {
    // Files with the same hive values scan together as one multi-file scan.
    let mut groups: Vec<(&[HiveValue], Vec<&TableFile>)> = Vec::new();
    for file in &source.files {
        match groups
            .iter_mut()
            .find(|(hive, _)| *hive == file.hive.as_slice())
        {
            Some((_, files)) => files.push(file),
            None => groups.push((file.hive.as_slice(), vec![file])),
        }
    }
    let mut frames = Vec::with_capacity(groups.len());
    for (hive, files) in groups {
        let read_error = |message: String| ExtractError::Read {
            table: source.table,
            path: files
                .first()
                .map(|f| f.path.clone())
                .unwrap_or_else(|| source.location.clone()),
            message,
        };
        let paths: Vec<PlRefPath> = files
            .iter()
            .map(|f| PlRefPath::try_from_path(&f.path))
            .collect::<PolarsResult<_>>()
            .map_err(|e| read_error(e.to_string()))?;
        let args = ScanArgsParquet {
            hive_options: HiveOptions::new_disabled(),
            glob: false,
            include_file_paths: with_file.then(|| FILE_COLUMN.into()),
            ..ScanArgsParquet::default()
        };
        let lf = LazyFrame::scan_parquet_files(paths.into_iter().collect(), args)
            .map_err(|e| read_error(e.to_string()))?;
        let mut exprs = Vec::new();
        for column in schema::columns(source.table) {
            let target = schema::normalized(column.kind, id_type);
            let expr = if let Some(stored) = source.stored.get(column.name) {
                // A plain column where the file's type is already the normalized one: a cast,
                // even a no-op one, stops polars from pushing filters (a partition's person_id
                // range) into the Parquet reader, where row-group statistics prune.
                if reads_as(stored, &target) {
                    col(column.name)
                } else {
                    col(column.name).cast(target)
                }
            } else if let Some((_, value)) = hive.iter().find(|(k, _)| *k == column.name) {
                hive_literal(column, value.as_deref(), id_type).map_err(|message| {
                    ExtractError::WrongType {
                        path: files
                            .first()
                            .map(|f| f.path.clone())
                            .unwrap_or_else(|| source.location.clone()),
                        column: column.name.to_string(),
                        expected: column.kind.expected(),
                        found: message,
                    }
                })?
            } else {
                lit(NULL).cast(target)
            };
            exprs.push(expr.alias(column.name));
        }
        if with_file {
            exprs.push(col(FILE_COLUMN));
        }
        frames.push(lf.select(exprs));
    }
    match frames.len() {
        1 => Ok(frames.remove(0)),
        _ => concat(frames, UnionArgs::default()).map_err(|e| ExtractError::Read {
            table: source.table,
            path: source.location.clone(),
            message: e.to_string(),
        }),
    }
}

/// Whether polars reads a Parquet column of Arrow type `stored` as `target` without a cast.
/// Not claimed for strings: polars reads a string column as Categorical where the file's
/// embedded Arrow schema says Dictionary, which `stored` does not always show.
fn reads_as(stored: &arrow::datatypes::DataType, target: &DataType) -> bool {
    use arrow::datatypes::DataType as A;
    matches!(
        (stored, target),
        (A::Int64, DataType::Int64)
            | (A::Int32, DataType::Int32)
            | (A::Float64, DataType::Float64)
            | (A::Boolean, DataType::Boolean)
            | (A::Date32, DataType::Date)
    )
}

/// A hive partition value as a literal of the column's normalized type.
pub fn hive_literal(column: &Column, value: Option<&str>, id_type: IdType) -> Result<Expr, String> {
    let target = schema::normalized(column.kind, id_type);
    let Some(value) = value else {
        return Ok(lit(NULL).cast(target));
    };
    let bad = || format!("the partition folder value {value:?}");
    let expr = match (column.kind, id_type) {
        (Kind::Utf8, _) | (Kind::Id, IdType::Utf8) => lit(value.to_string()),
        (Kind::Id, IdType::Int64) => lit(value.parse::<i64>().map_err(|_| bad())?),
        (Kind::Int32, _) => lit(value.parse::<i32>().map_err(|_| bad())?),
        (Kind::Float64, _) => lit(value.parse::<f64>().map_err(|_| bad())?),
        (Kind::Boolean, _) => lit(value.parse::<bool>().map_err(|_| bad())?),
        (Kind::Date, _) => {
            let date = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| bad())?;
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).ok_or_else(bad)?;
            let days = i32::try_from((date - epoch).num_days()).map_err(|_| bad())?;
            lit(days)
        }
    };
    Ok(expr.cast(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_literals_parse_to_the_column_type() {
        let region = schema::column(Table::Person, "region").unwrap();
        let birth = schema::column(Table::Person, "birth_year").unwrap();
        let index = schema::column(Table::Person, "index_date").unwrap();
        assert!(hive_literal(&region, Some("Vest"), IdType::Int64).is_ok());
        assert!(hive_literal(&birth, Some("1950"), IdType::Int64).is_ok());
        assert!(hive_literal(&birth, Some("nineteen"), IdType::Int64).is_err());
        assert!(hive_literal(&index, Some("2024-02-30"), IdType::Int64).is_err());
        // 2024-01-02 is day 19724 since 1970-01-01.
        let df = DataFrame::empty()
            .lazy()
            .select([hive_literal(&index, Some("2024-01-02"), IdType::Int64)
                .unwrap()
                .cast(DataType::Int32)
                .alias("d")])
            .collect()
            .unwrap();
        assert_eq!(
            df.column("d").unwrap().get(0).unwrap(),
            AnyValue::Int32(19724)
        );
    }
}
