//! The decode floor of the benchmark: the time to merely read and decode the Parquet columns that
//! the engine reads (`READ_COLUMNS`, whatever the definition), with the same polars reader eligo uses, computing a
//! trivial aggregate of every value (sums; byte lengths of strings). Not counts: polars can
//! answer a count from the Parquet statistics without decoding anything.
//!
//! `cargo run --release --example decode_floor -- EXTRACT_DIR`

use std::path::Path;
use std::time::Instant;

use eligo::engine::inputs::READ_COLUMNS;
use eligo::extract::Extract;
use polars::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: decode_floor EXTRACT_DIR")?;
    let extract = Extract::open(Path::new(&dir))?;
    let started = Instant::now();
    let mut checksum = 0f64;
    for (table, columns) in READ_COLUMNS {
        let table_started = Instant::now();
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
        eprintln!("{table}: {:.3} s", table_started.elapsed().as_secs_f64());
    }
    println!(
        "decode floor: checksum {checksum:.0} in {:.3} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
