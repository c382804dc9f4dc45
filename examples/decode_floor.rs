//! The decode floor of the benchmark: the time to merely read and decode the Parquet columns that
//! the engine reads (`READ_COLUMNS`, whatever the definition), with the same polars reader eligo uses, computing a
//! trivial aggregate of every value (sums; byte lengths of strings). Not counts: polars can
//! answer a count from the Parquet statistics without decoding anything.
//!
//! With PARTITION_PATIENTS, each table is read partition by partition as `eligo run` reads it
//! (by row groups, each decoded once, where they are in `person_id` order; as many partitions at
//! a time), to see what reading by partition costs beyond reading each table whole; with
//! `filter`, by the partitions' `person_id` range filters alone, as `eligo run` read before.
//!
//! `cargo run --release --example decode_floor -- EXTRACT_DIR [PARTITION_PATIENTS [filter]]`

use std::path::Path;
use std::time::Instant;

use eligo::engine::in_order::{in_order, PARTITIONS_AT_ONCE};
use eligo::engine::inputs::READ_COLUMNS;
use eligo::extract::partition::{partitions, Partition};
use eligo::extract::row_groups::RowGroupReader;
use eligo::extract::{Extract, Table};
use polars::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: decode_floor EXTRACT_DIR [PARTITION_PATIENTS]")?;
    let extract = Extract::open(Path::new(&dir))?;
    if let Some(size) = std::env::args().nth(2) {
        let filter = std::env::args().nth(3).as_deref() == Some("filter");
        return by_partition(&extract, size.parse()?, filter);
    }
    let started = Instant::now();
    let mut checksum = 0f64;
    for (table, columns) in READ_COLUMNS {
        let table_started = Instant::now();
        let (frame, sums) = sums_of(&extract, table, columns)?;
        checksum += checksum_of(frame, sums)?;
        eprintln!("{table}: {:.3} s", table_started.elapsed().as_secs_f64());
    }
    println!(
        "decode floor: checksum {checksum:.0} in {:.3} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The floor read partition by partition, two at a time as `eligo run` evaluates them, each table's scan and sums built once: by row
/// groups through `eligo run`'s reader (the rows in memory, as `eligo run` reads them), or with
/// `filter` by the range filters: the same checksum as the whole read.
fn by_partition(
    extract: &Extract,
    size: usize,
    filter: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let parts = partitions(&extract.scan(Table::Person)?, size)?;
    let started = Instant::now();
    let tables = (READ_COLUMNS.iter())
        .map(|(table, columns)| sums_of(extract, *table, columns))
        .collect::<Result<Vec<_>, _>>()?;
    let reader = RowGroupReader::new(
        (READ_COLUMNS.iter().zip(&tables)).filter_map(|((table, _), (frame, _))| {
            Some((*table, frame.clone(), extract.layout(*table)?))
        }),
        &parts,
    );
    let read = |part: &Partition| -> PolarsResult<f64> {
        let mut checksum = 0.0;
        for ((table, columns), (frame, sums)) in READ_COLUMNS.iter().zip(tables.iter().cloned()) {
            let columns: Vec<PlSmallStr> = columns.iter().map(|c| (*c).into()).collect();
            let rows = match filter {
                false => reader.read(*table, part, &columns, &[]),
                true => None,
            };
            checksum += match rows {
                Some(rows) => checksum_of(rows?.lazy(), sums)?,
                None => checksum_of(part.filter(frame), sums)?,
            };
        }
        Ok(checksum)
    };
    // As many partitions at a time, on threads of their own, as `eligo run` evaluates.
    let mut checksums = Vec::with_capacity(parts.len());
    let at_once = PARTITIONS_AT_ONCE;
    in_order(&parts, at_once, at_once + 1, read, |_, checksum| {
        checksums.push(checksum);
        Ok(())
    })?;
    let (decoded, _) = reader.decoded_and_kept();
    println!(
        "decode floor, {} partitions{}: checksum {:.0} in {:.3} s",
        parts.len(),
        match filter {
            true => " by range filters".to_string(),
            false => format!(", {decoded} row groups read through eligo run's reader"),
        },
        checksums.iter().sum::<f64>(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The scan of `table` and the sum of each of its `columns` (byte lengths of strings).
fn sums_of(
    extract: &Extract,
    table: Table,
    columns: &[&str],
) -> Result<(LazyFrame, Vec<Expr>), Box<dyn std::error::Error>> {
    let frame = extract.scan(table)?;
    let schema = frame.clone().collect_schema()?;
    let sums = columns
        .iter()
        .map(|c| {
            let value = match schema.get(c) {
                Some(DataType::String) => col(*c).str().len_bytes(),
                _ => col(*c).cast(DataType::Float64),
            };
            value.cast(DataType::Float64).sum()
        })
        .collect();
    Ok((frame, sums))
}

/// The total of `sums` over `frame`.
fn checksum_of(frame: LazyFrame, sums: Vec<Expr>) -> PolarsResult<f64> {
    let frame = frame
        .select(sums)
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let mut checksum = 0f64;
    for column in frame.columns() {
        checksum += column.f64()?.get(0).unwrap_or(0.0);
    }
    Ok(checksum)
}
