//! Records joined with their patient's columns by array lookups instead of a hash join, where a
//! partition's person ids are unique integers that fill most of their range (as registry keys
//! and `eligo synth` ids do): a record's patient row is `rows[id - min]`, computed per morsel of
//! the streaming scan. Other ids (strings, sparse or repeated integers) keep polars' join.

use std::sync::Arc;

use polars::prelude::*;

use polars_arrow::bitmap::MutableBitmap;

use crate::extract::bitmaps::{packed, packed_where};
use crate::extract::ids::dense_range;
use crate::prefetch::{blocks, prefetch_block, BLOCK};
use crate::udf::MapColumn;

/// The row of each person id of the patient core, as an array over the ids' range.
#[derive(Debug)]
pub(crate) struct PatientRows {
    min: i64,
    /// `ABSENT` where no patient has the id.
    rows: Vec<IdxSize>,
}

const ABSENT: IdxSize = IdxSize::MAX;

/// The records' column holding their patient's row of the core (dropped before aggregation).
pub(crate) const ROW: &str = "__patient_row";

/// The variants' column holding their test's row in the partition's molecular tests, null where
/// no test has their test id (found as the variants are read, `Tables::read`, for the orphans'
/// count and the variants' matching both).
pub(crate) const TEST_ROW: &str = "__test_row";

impl PatientRows {
    /// At most this many array slots per patient (so at most 32 bytes per patient).
    const MAX_SLOTS_PER_ID: usize = 8;
    /// Any range up to this many slots (256 KiB) is dense enough, however few the patients.
    const MIN_SLOTS: usize = 1 << 16;

    /// The lookup of `core`'s `person_id` column, or None where the ids are not Int64, repeat,
    /// or are too sparse.
    pub(crate) fn of(core: &DataFrame) -> Option<Arc<PatientRows>> {
        let ids = core.column("person_id").ok()?.as_materialized_series();
        let ids = ids.i64().ok()?;
        if ids.null_count() > 0 || ids.len() >= ABSENT as usize {
            return None;
        }
        let (min, range) = dense_range(ids, Self::MAX_SLOTS_PER_ID, Self::MIN_SLOTS)?;
        let mut rows = vec![ABSENT; range];
        for (row, id) in ids.into_no_null_iter().enumerate() {
            let slot = &mut rows[id.abs_diff(min) as usize];
            if *slot != ABSENT {
                return None;
            }
            *slot = row as IdxSize;
        }
        Some(Arc::new(PatientRows { min, rows }))
    }

    /// The patient row of each id ([`ROW`]), null where the id is null or no patient's. A loop
    /// over the values (collecting `Option`s through an iterator cost about 130 instructions a
    /// record, callgrind, more than the lookup); null ids are looked up as any value and their
    /// rows cleared after. The validity is packed eight rows to a byte, and left out where
    /// every record has its patient (most morsels).
    fn rows_of(&self, ids: &Int64Chunked) -> IdxCa {
        let (min, table) = (self.min, self.rows.as_slice());
        let mut rows: Vec<IdxSize> = Vec::with_capacity(ids.len());
        let mut valid = MutableBitmap::with_capacity(ids.len());
        let mut all_found = true;
        for array in ids.downcast_iter() {
            let values = array.values().as_slice();
            let nulls = array.validity().filter(|v| v.unset_bits() > 0);
            // A block at a time, every step on it while it is in cache: its ids asked for
            // ahead (`crate::prefetch`), looked up, the null ids' rows made absent, the
            // validity packed and the absent rows cleared. As passes over the whole table,
            // each step read the rows from memory again. By `chunks`, not `prefetch::blocks`:
            // through the ranges this loop took about a fifth more samples (`perf`, 10 M).
            for (b, block) in values.chunks(BLOCK).enumerate() {
                let start = b * BLOCK;
                prefetch_block(values, start..start + block.len());
                let at = rows.len();
                rows.extend(block.iter().map(|&id| row_in(table, min, id)));
                let block_rows = &mut rows[at..];
                if let Some(nulls) = nulls {
                    let nulls = !&nulls.clone().sliced(start, block.len());
                    for i in nulls.true_idx_iter() {
                        block_rows[i] = ABSENT;
                    }
                }
                let found = packed_where(block_rows, |row| row != ABSENT);
                valid.extend_from_bitmap(&found);
                if found.unset_bits() > 0 {
                    all_found = false;
                    for row in block_rows.iter_mut() {
                        *row = if *row == ABSENT { 0 } else { *row };
                    }
                }
            }
        }
        match all_found {
            true => IdxCa::from_vec(ROW.into(), rows),
            false => IdxCa::from_vec_validity(ROW.into(), rows, Some(valid.freeze())),
        }
    }

    /// The patient row of each of `ids` ([`ROW`]; any integer type), null where the id is
    /// null or no patient's: the orphan rows.
    pub(crate) fn rows_column(&self, ids: &Column) -> PolarsResult<Column> {
        let ids = ids.as_materialized_series().cast(&DataType::Int64)?;
        Ok(self.rows_of(ids.i64()?).into_column())
    }

    /// `records` with [`ROW`] (unless they have it: found by this lookup as their table was read,
    /// `engine::tables`) and `core`'s `columns` beside each record. A record whose patient
    /// is not in the core (an orphan row) keeps a null [`ROW`] and null columns, and whoever
    /// folds the records skips it (`reduce::PatientReduction`, `patient_core`), as an inner
    /// join would have dropped it. Dropped here by a filter, it copied every column of each
    /// streaming morsel holding one (the synthetic extract has an orphan every 11,000
    /// measurements, so nearly every morsel): 2 % of a run's CPU time at 1 M patients.
    pub(crate) fn attach(
        self: &Arc<Self>,
        records: LazyFrame,
        core: &DataFrame,
        columns: &[&str],
    ) -> PolarsResult<LazyFrame> {
        let lookup = Arc::clone(self);
        let row = col("person_id").map_column(
            move |ids: Column| {
                Ok(lookup
                    .rows_of(ids.as_materialized_series().i64()?)
                    .into_column())
            },
            |_, _| Ok(Field::new(ROW.into(), IDX_DTYPE)),
        );
        let mut gathered = Vec::with_capacity(columns.len());
        for &name in columns {
            // Numbers in one chunk (`gather` reads them as one slice), strings as they are.
            let source = core.column(name)?.as_materialized_series();
            let source = match source.dtype() {
                DataType::String => source.clone(),
                _ => source.rechunk(),
            };
            let field = Field::new(name.into(), source.dtype().clone());
            gathered.push(
                col(ROW)
                    .map_column(
                        move |rows: Column| gather(&source, rows.idx()?),
                        move |_, _| Ok(field.clone()),
                    )
                    .alias(name),
            );
        }
        let records = match records.clone().collect_schema()?.contains(ROW) {
            true => records,
            false => records.with_column(row.alias(ROW)),
        };
        Ok(records.with_columns(gathered))
    }
}

/// The row of `id` in `table` (the rows of ids from `min` on), [`ABSENT`] where no patient has
/// it.
#[inline(always)]
fn row_in(table: &[IdxSize], min: i64, id: i64) -> IdxSize {
    // `id - min` taken modulo 2^64 is exact for an id from `min` on; an id below `min` wraps
    // past 2^63, beyond any slot: one bounds check, as `DenseIds::contains` does.
    let slot = id.wrapping_sub(min) as u64;
    usize::try_from(slot)
        .ok()
        .and_then(|slot| table.get(slot).copied())
        .unwrap_or(ABSENT)
}

/// `source` (one chunk) at `rows`, null where the row is null (an orphan record). Integer
/// columns (`p_idx`, gathered for every diagnosis, observation, treatment and molecular test
/// record) by a loop over the values and the validity's bits: polars' `take` cost about 58
/// instructions a record (callgrind). Other columns by `take`.
fn gather(source: &Series, rows: &IdxCa) -> PolarsResult<Column> {
    match source.dtype() {
        DataType::Int32 => Ok(gather_numbers(source.i32()?, rows)?.into_column()),
        _ => Ok(source.take(rows)?.into_column()),
    }
}

fn gather_numbers<T: PolarsNumericType>(
    source: &ChunkedArray<T>,
    rows: &IdxCa,
) -> PolarsResult<ChunkedArray<T>> {
    let name = source.name().clone();
    if source.is_empty() || rows.is_empty() {
        return Ok(source.take(rows)?.with_name(name));
    }
    let source = source.downcast_as_array();
    let values = source.values();
    let mut gathered = Vec::with_capacity(rows.len());
    for chunk in rows.downcast_iter() {
        // A null row's slot holds some value (`rows_of` gives 0); it is looked up like any
        // other and hidden by the validity below.
        let rows = chunk.values().as_slice();
        for block in blocks(rows.len()) {
            prefetch_block(rows, block.clone());
            let rows = &rows[block];
            // Checked once a block, by a max the compiler vectorizes: a check and a possible
            // early return per row kept the loop from being a plain gather.
            let largest = rows.iter().fold(0, |largest, &row| largest.max(row));
            polars_ensure!(
                (largest as usize) < values.len(),
                OutOfBounds: "patient row {largest} beyond the patient core"
            );
            gathered.extend(rows.iter().map(|&row| values[row as usize]));
        }
    }
    let source_nulls = source.validity().filter(|v| v.unset_bits() > 0);
    let validity = match (source_nulls, rows.null_count()) {
        (None, 0) => None,
        (source_nulls, _) => {
            let flags: Vec<bool> = (rows.downcast_iter())
                .flat_map(|chunk| chunk.iter())
                .map(|row| match (row, source_nulls) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    (Some(&row), Some(valid)) => valid.get_bit(row as usize),
                })
                .collect();
            Some(packed(&flags))
        }
    };
    Ok(ChunkedArray::from_vec_validity(name, gathered, validity))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core(ids: &[i64]) -> DataFrame {
        let n = ids.len() as i32;
        df!(
            "person_id" => ids,
            "p_idx" => (0..n).map(|i| (i != 1).then_some(100 + i)).collect::<Vec<_>>(),
            "p_sex" => (0..n).map(|i| if i % 2 == 0 { Some("F") } else { None }).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn only_unique_dense_integer_ids_get_a_lookup() {
        assert!(PatientRows::of(&core(&[5, 3, 4])).is_some());
        assert!(PatientRows::of(&core(&[5, 3, 5])).is_none(), "repeated id");
        assert!(PatientRows::of(&core(&[0, 1 << 40])).is_none(), "sparse");
        assert!(PatientRows::of(&core(&[i64::MIN, i64::MAX])).is_none());
        let text = df!("person_id" => ["a", "b"]).unwrap();
        assert!(PatientRows::of(&text).is_none());
    }

    /// `gather_numbers` over several blocks and two chunks of rows: the value at each row is
    /// the row times 3 (null at every seventh row of the source), nulls where the row is null;
    /// a row past the source is an error naming it, not a panic.
    #[test]
    fn gathers_numbers_by_row_over_blocks_and_chunks() {
        let source: Int32Chunked = (0..3000)
            .map(|r: i32| (r % 7 != 0).then_some(r * 3))
            .collect();
        let wanted = |r: u32| (!r.is_multiple_of(7)).then_some(r as i32 * 3);
        let first: Vec<Option<IdxSize>> = (0..2500).map(|i| (i % 11 != 5).then_some(i)).collect();
        let second: Vec<Option<IdxSize>> = (0..1200).map(|i| Some(2999 - i)).collect();
        let mut rows = IdxCa::new("rows".into(), &first);
        rows.append(&IdxCa::new("rows".into(), &second)).unwrap();
        assert_eq!(rows.chunks().len(), 2);
        let gathered = gather_numbers(&source, &rows).unwrap();
        let expected: Vec<Option<i32>> = (first.iter().chain(&second))
            .map(|row| row.and_then(wanted))
            .collect();
        assert_eq!(gathered.iter().collect::<Vec<_>>(), expected);
        let past = IdxCa::new("rows".into(), &[Some(0), Some(3000)]);
        let err = gather_numbers(&source, &past).unwrap_err().to_string();
        assert!(err.contains("patient row 3000"), "{err}");
    }

    /// Worked out by hand: core ids 12, 10, 11, 20 are rows 0-3; null ids, ids below the
    /// smallest, beyond the range and in its gaps have no row; two chunks.
    #[test]
    fn rows_of_ids_across_chunks() {
        let rows = PatientRows::of(&core(&[12, 10, 11, 20])).unwrap();
        let mut ids = Int64Chunked::new("id".into(), [Some(11i64), None, Some(9), Some(20)]);
        ids.append(&Int64Chunked::new(
            "id".into(),
            [Some(15i64), Some(10), Some(i64::MIN), Some(1 << 40)],
        ))
        .unwrap();
        let got: Vec<Option<IdxSize>> = rows.rows_of(&ids).iter().collect();
        assert_eq!(
            got,
            [Some(2), None, None, Some(3), None, Some(1), None, None]
        );
        // Every id a patient's: rows without a validity.
        let all = Int64Chunked::new("id".into(), [20i64, 10, 12, 11, 10]);
        let got = rows.rows_of(&all);
        assert_eq!(got.null_count(), 0);
        assert_eq!(got.into_no_null_iter().collect::<Vec<_>>(), [3, 1, 0, 2, 1]);
        // Nulls whose values are patients' ids: their rows cleared all the same.
        let validity = Some(polars_arrow::bitmap::Bitmap::from([false, true, false]));
        let nulls = Int64Chunked::from_vec_validity("id".into(), vec![12, 11, 10], validity);
        let got: Vec<Option<IdxSize>> = rows.rows_of(&nulls).iter().collect();
        assert_eq!(got, [None, Some(2), None]);
    }

    /// Ids over several blocks of the lookup and two chunks (1,500 and 1,700 rows, neither a
    /// whole number of blocks or bytes), against a map from each core id to its row: orphans
    /// (ids of no patient) and null ids in different blocks and chunks have no row, every
    /// other id its patient's.
    #[test]
    fn rows_of_ids_over_blocks_and_chunks() {
        let core_ids: Vec<i64> = (0..500).map(|i| 1000 + 3 * i).collect();
        let rows = PatientRows::of(&core(&core_ids)).unwrap();
        let row_of: std::collections::HashMap<i64, IdxSize> = (core_ids.iter())
            .enumerate()
            .map(|(row, &id)| (id, row as IdxSize))
            .collect();
        let id = |i: usize| -> Option<i64> {
            match i {
                5 | 1030 | 2600 => Some(1001 + 3 * (i as i64 % 500)), // between two patients
                1100 | 2049 => None,
                _ => Some(core_ids[(i * 7) % 500]),
            }
        };
        let all: Vec<Option<i64>> = (0..3200).map(id).collect();
        let mut ids = Int64Chunked::new("id".into(), &all[..1500]);
        ids.append(&Int64Chunked::new("id".into(), &all[1500..]))
            .unwrap();
        let got: Vec<Option<IdxSize>> = rows.rows_of(&ids).iter().collect();
        let expected: Vec<Option<IdxSize>> = (all.iter())
            .map(|id| id.and_then(|id| row_of.get(&id).copied()))
            .collect();
        assert_eq!(got, expected);
        assert_eq!(got.iter().filter(|row| row.is_none()).count(), 5);
    }

    /// The lookup gives what the inner join gives: each record with its patient's columns
    /// (nulls kept, of the integer `p_idx` too), record order kept; orphans are kept with a null
    /// row and null columns, for the fold to skip; from a core of one chunk and of two (a
    /// string column is gathered from its chunks).
    #[test]
    fn attach_agrees_with_an_inner_join() {
        let whole = core(&[12, 10, 11, 20]);
        let mut chunked = whole.slice(0, 2);
        chunked.vstack_mut(&whole.slice(2, 2)).unwrap();
        assert_eq!(chunked.column("p_sex").unwrap().n_chunks(), 2);
        for core in [whole, chunked] {
            attach_agrees_with_an_inner_join_on(core);
        }
    }

    fn attach_agrees_with_an_inner_join_on(core: DataFrame) {
        let records = df!(
            "person_id" => [Some(11i64), Some(9), Some(20), None, Some(12), Some(21), Some(11), Some(10)],
            "value" => [1, 2, 3, 4, 5, 6, 7, 8],
        )
        .unwrap()
        .lazy();
        let rows = PatientRows::of(&core).unwrap();
        let all = rows
            .attach(records.clone(), &core, &["p_idx", "p_sex"])
            .unwrap()
            .collect()
            .unwrap();
        // Orphans by hand: 9 (below the range), null, 21 (beyond it): values 2, 4, 6.
        let orphans = all
            .clone()
            .lazy()
            .filter(col(ROW).is_null())
            .collect()
            .unwrap();
        let values: Vec<Option<i32>> = orphans
            .column("value")
            .unwrap()
            .i32()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(values, [Some(2), Some(4), Some(6)]);
        for name in ["p_idx", "p_sex"] {
            assert_eq!(orphans.column(name).unwrap().null_count(), 3, "{name}");
        }
        let attached = all
            .lazy()
            .filter(col(ROW).is_not_null())
            .select([col("person_id"), col("value"), col("p_idx"), col("p_sex")])
            .collect()
            .unwrap();
        let joined = records
            .inner_join(core.clone().lazy(), col("person_id"), col("person_id"))
            .select([col("person_id"), col("value"), col("p_idx"), col("p_sex")])
            .sort(["value"], SortMultipleOptions::default())
            .collect()
            .unwrap();
        assert_eq!(attached, joined);
        // Worked out by hand: 11 is row 2 (p_idx 102, sex F), 20 row 3 (103, null), 12 row 0,
        // 10 row 1 (no p_idx).
        let idx: Vec<Option<i32>> = attached
            .column("p_idx")
            .unwrap()
            .i32()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(idx, [Some(102), Some(103), Some(100), Some(102), None]);
    }
}
