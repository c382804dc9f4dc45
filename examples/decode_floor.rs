//! The decode floor of the benchmark: the time to merely read and decode the Parquet columns that
//! the IMPRESS-Norway definition reads, with the same polars reader eligo uses, computing a
//! trivial aggregate of every value (sums; byte lengths of strings). Not counts: polars can
//! answer a count from the Parquet statistics without decoding anything.
//!
//! `cargo run --release --example decode_floor -- EXTRACT_DIR`

use std::path::Path;
use std::time::Instant;

use eligo::extract::{Extract, Table};
use polars::prelude::*;

/// The columns the shipped definition reads, per table.
const COLUMNS: [(Table, &[&str]); 7] = [
    (
        Table::Person,
        &[
            "person_id",
            "sex",
            "birth_year",
            "death_date",
            "region",
            "site",
            "index_date",
        ],
    ),
    (Table::Diagnosis, &["person_id", "icd10", "date"]),
    (
        Table::Measurement,
        &["person_id", "loinc", "date", "value", "unit", "range_high"],
    ),
    (
        Table::Observation,
        &["person_id", "code", "date", "value_num", "value_text"],
    ),
    (
        Table::Treatment,
        &["person_id", "atc", "kind", "start_date", "end_date"],
    ),
    (
        Table::MolecularTest,
        &["person_id", "test_id", "approved_lab", "report_date"],
    ),
    (
        Table::Variant,
        &[
            "person_id",
            "test_id",
            "gene",
            "class",
            "alteration",
            "value",
        ],
    ),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: decode_floor EXTRACT_DIR")?;
    let extract = Extract::open(Path::new(&dir))?;
    let started = Instant::now();
    let mut checksum = 0f64;
    for (table, columns) in COLUMNS {
        let frame = extract.scan(table)?;
        let schema = frame.clone().collect_schema()?;
        let sums: Vec<Expr> = columns
            .iter()
            .map(|c| {
                let value = match schema.get(c) {
                    Some(DataType::String) => col(*c).str().len_bytes(),
                    _ => col(*c).cast(DataType::Float64),
                };
                value.cast(DataType::Float64).sum()
            })
            .collect();
        let frame = frame
            .select(sums)
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single();
        for column in frame.columns() {
            checksum += column.f64()?.get(0).unwrap_or(0.0);
        }
    }
    println!(
        "decode floor: checksum {checksum:.0} in {:.3} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
