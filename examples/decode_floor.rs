//! The decode floor of the benchmark: the time to merely read and decode the Parquet columns that
//! the engine reads (`READ_COLUMNS`, whatever the definition), with the same polars reader eligo uses, computing a
//! trivial aggregate of every value (sums; byte lengths of strings). Not counts: polars can
//! answer a count from the Parquet statistics without decoding anything.
//!
//! With PARTITION_PATIENTS, each table is read partition by partition as `eligo run` reads it
//! (its `person_id` range filters, a partition per rayon thread), to see what reading by
//! partition costs beyond reading each table whole.
//!
//! `cargo run --release --example decode_floor -- EXTRACT_DIR [PARTITION_PATIENTS]`

use std::path::Path;
use std::time::Instant;

use eligo::engine::inputs::READ_COLUMNS;
use eligo::extract::partition::{partitions, Partition};
use eligo::extract::{Extract, Table};
use polars::prelude::*;
use rayon::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: decode_floor EXTRACT_DIR [PARTITION_PATIENTS]")?;
    let extract = Extract::open(Path::new(&dir))?;
    if let Some(size) = std::env::args().nth(2) {
        return by_partition(&extract, size.parse()?);
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

/// The floor read partition by partition on rayon's threads (two on this 2-core machine, as
/// `eligo run` evaluates two partitions at a time), each table's scan and sums built once and
/// filtered per partition, as `eligo run` filters its inputs: the same checksum as the whole
/// read.
fn by_partition(extract: &Extract, size: usize) -> Result<(), Box<dyn std::error::Error>> {
    let parts = partitions(&extract.scan(Table::Person)?, size)?;
    let started = Instant::now();
    let tables = (READ_COLUMNS.iter())
        .map(|(table, columns)| sums_of(extract, *table, columns))
        .collect::<Result<Vec<_>, _>>()?;
    let read = |part: &Partition| -> PolarsResult<f64> {
        let frames = tables.iter().cloned();
        frames
            .map(|(frame, sums)| checksum_of(part.filter(frame), sums))
            .sum()
    };
    let checksums: Vec<f64> = parts
        .par_iter()
        .with_max_len(1)
        .map(read)
        .collect::<PolarsResult<_>>()?;
    println!(
        "decode floor, {} partitions: checksum {:.0} in {:.3} s",
        parts.len(),
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
