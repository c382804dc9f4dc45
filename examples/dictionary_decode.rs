//! What decoding a dictionary-encoded text column as dictionary indices would save against
//! decoding it as strings, as eligo's reader does: each row group's column chunks of the named
//! columns decoded by polars-io's column decoder, once as string views (`Utf8View`, what a
//! polars scan gives) and once through polars-parquet's categorical decoder (a
//! `Dictionary(UInt32, Utf8View)` field with polars' categorical metadata: one `u32` index per
//! row). Three rounds, one thread, the file read into memory first.
//!
//! ```text
//! cargo run --release --example dictionary_decode -- bench/data/synth-1000000/measurement.parquet loinc unit
//! ```
//!
//! The categorical decoder fails on a page that is not dictionary-encoded (a writer falls back
//! to plain pages where a dictionary grows too large); eligo's reader of text columns as keys
//! (`extract/text_keys.rs`) then decodes strings, this measurement stops.

use std::time::{Duration, Instant};

use eligo::extract::text_keys::indices_field;
use polars::io::prelude::_internal::to_deserializer;
use polars_arrow::datatypes::{ArrowDataType, Field};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: dictionary_decode FILE.parquet COLUMN...";
    let path = args.next().ok_or(usage)?;
    let columns: Vec<String> = args.collect();
    if columns.is_empty() {
        return Err(usage.into());
    }
    let mut file = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
    let metadata = polars_parquet::read::read_metadata(&mut file)?;
    let bytes = polars_buffer::Buffer::from(std::fs::read(&path)?);

    let decode = |as_indices: bool| -> Result<(usize, Duration), Box<dyn std::error::Error>> {
        let start = Instant::now();
        let mut values = 0;
        for group in &metadata.row_groups {
            for name in &columns {
                let chunks = group
                    .columns_under_root_iter(name)
                    .ok_or_else(|| format!("{path}: no column {name}"))?
                    .map(|chunk| {
                        let range = chunk.byte_range();
                        let range = range.start as usize..range.end as usize;
                        (chunk, bytes.clone().sliced(range))
                    })
                    .collect();
                let field = match as_indices {
                    false => Field::new(name.into(), ArrowDataType::Utf8View, true),
                    true => indices_field(name),
                };
                let (arrays, _) = to_deserializer(chunks, field, None)?;
                values += arrays.iter().map(|array| array.len()).sum::<usize>();
            }
        }
        Ok((values, start.elapsed()))
    };

    println!("round\tdecoded as\tvalues\tms");
    for round in 1..=3 {
        for (as_indices, what) in [(false, "strings"), (true, "indices")] {
            let (values, took) = decode(as_indices)?;
            let ms = took.as_secs_f64() * 1e3;
            println!("{round}\t{what}\t{values}\t{ms:.1}");
        }
    }
    Ok(())
}
