//! Finding a damaged column: where the Parquet reader stopped on data it could not decode during
//! evaluation (validation decodes only what it checks value by value), each column of each table
//! is decoded alone, in the streaming engine, until one fails. Only run after such a failure.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use polars::prelude::*;

use super::{Extract, Table};

/// A column that could not be decoded: its table, the table's location and the column's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedColumn<'e> {
    pub table: Table,
    pub location: &'e Path,
    pub column: String,
}

/// An aggregate that needs every value decoded (a count can come from the footers' statistics).
fn decoded(name: &str, dtype: &DataType) -> Expr {
    let value = match dtype {
        DataType::String => col(name).str().len_bytes(),
        _ => col(name).cast(DataType::Float64),
    };
    value.cast(DataType::Float64).sum()
}

/// The first column (tables in contract order, columns in contract order) whose decoding fails
/// or panics; None where every column decodes.
pub fn first_damaged(extract: &Extract) -> Option<DamagedColumn<'_>> {
    for table in Table::ALL {
        let Some(location) = extract.location(table) else {
            continue;
        };
        let fails = |lf: LazyFrame| {
            !matches!(
                catch_unwind(AssertUnwindSafe(
                    || lf.collect_with_engine(Engine::Streaming)
                )),
                Ok(Ok(_))
            )
        };
        let damaged = |column: String| {
            Some(DamagedColumn {
                table,
                location,
                column,
            })
        };
        let Ok(lf) = extract.scan(table) else {
            return damaged("(the table's scan)".into());
        };
        let Ok(schema) = lf.clone().collect_schema() else {
            return damaged("(the table's schema)".into());
        };
        for (name, dtype) in schema.iter() {
            if fails(lf.clone().select([decoded(name, dtype)])) {
                return damaged(name.to_string());
            }
        }
    }
    None
}
