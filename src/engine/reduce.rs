//! Per-patient reduction of record-level atoms by the records' patient row
//! ([`super::lookup::ROW`]): each record folds its value into a slot of an array as long as the
//! patient core, so no record is hashed and no per-table result is joined back. Fed morsel by
//! morsel from polars' streaming engine (`sink_batches`); the result is aligned with the core's
//! rows. The hash group-by keeps every other case (ids without a [`super::lookup::PatientRows`]).

use std::ops::BitOr;
use std::sync::{Arc, Mutex};

use polars::prelude::*;
use polars_arrow::array::PrimitiveArray;
use polars_arrow::bitmap::iterator::TrueIdxIter;
use polars_arrow::bitmap::utils::SlicesIterator;
use polars_arrow::types::NativeType;

use super::compile::Reduce;
use super::kernel::Kernel;
use super::lookup::ROW;
use crate::extract::bitmaps::packed;
use crate::prefetch::{prefetch, prefetch_block};

/// An integer type an atom can hold.
pub(crate) trait Word: Copy + Ord + BitOr<Output = Self> + Default {
    const MIN: Self;
    /// The sum, wrapping on overflow (a count of records per patient cannot reach it; bad input
    /// must not panic).
    fn plus(self, other: Self) -> Self;
}

macro_rules! words {
    ($($ty:ty),*) => {
        $(impl Word for $ty {
            const MIN: Self = <$ty>::MIN;
            fn plus(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
        })*
    };
}
words!(i8, i16, i32, i64, u8, u16, u32, u64);

/// One atom's per-patient values: `values[row]` is meaningful where `seen[row]`. Slots start at
/// the reduction's identity (the type's minimum for max, 0 for or and sum), so that folding a
/// value needs no branch on whether the slot has one yet.
pub(crate) struct Slots<N> {
    values: Vec<N>,
    seen: Vec<bool>,
}

impl<N: Word> Slots<N> {
    pub(crate) fn new(patients: usize, reduce: Reduce) -> Self {
        let identity = match reduce {
            Reduce::Max => N::MIN,
            Reduce::BitOr | Reduce::Sum => N::default(),
        };
        Slots {
            values: vec![identity; patients],
            seen: vec![false; patients],
        }
    }

    /// Whether patient `row`'s slot has a value and it is at least `value`: folding `value` by
    /// max would change nothing.
    #[inline(always)]
    pub(crate) fn at_least(&self, row: usize, value: N) -> bool {
        self.seen[row] && self.values[row] >= value
    }

    /// Asks for the cache lines of patient `row`'s slot ([`prefetch`]).
    #[inline(always)]
    pub(crate) fn prefetch(&self, row: usize) {
        prefetch(&self.values, row);
        prefetch(&self.seen, row);
    }

    /// Folds one value into the slot of patient `row` by max.
    #[inline(always)]
    pub(crate) fn max(&mut self, row: usize, value: N) {
        let slot = &mut self.values[row];
        *slot = (*slot).max(value);
        self.seen[row] = true;
    }

    /// Folds each record's value into its patient's slot; null values are skipped, as polars'
    /// aggregations skip them.
    fn fold(&mut self, rows: &[IdxSize], values: &PrimitiveArray<N>, reduce: Reduce)
    where
        N: NativeType,
    {
        match reduce {
            Reduce::Max => self.fold_with(rows, values, |a, b| a.max(b)),
            Reduce::BitOr => self.fold_with(rows, values, |a, b| a | b),
            Reduce::Sum => self.fold_with(rows, values, N::plus),
        }
    }

    #[inline(always)]
    fn fold_with(&mut self, rows: &[IdxSize], values: &PrimitiveArray<N>, f: impl Fn(N, N) -> N)
    where
        N: NativeType,
    {
        let mut put = |row: IdxSize, value: N| {
            let row = row as usize;
            let slot = &mut self.values[row];
            *slot = f(*slot, value);
            self.seen[row] = true;
        };
        match values.validity().filter(|v| v.unset_bits() > 0) {
            None => {
                for (&row, &value) in rows.iter().zip(values.values().iter()) {
                    put(row, value);
                }
            }
            // Mostly null (a `latest` key is null on other measures' records): the set bits are
            // found a word at a time.
            Some(validity) => {
                let values = values.values();
                for i in TrueIdxIter::new(values.len(), Some(validity)) {
                    put(rows[i], values[i]);
                }
            }
        }
    }

    pub(crate) fn finish<T>(self, name: &str) -> Series
    where
        T: PolarsNumericType<Native = N>,
    {
        // The slots as they are, nulls where no record was seen (a slot's value there is the
        // reduction's identity, never read).
        let seen = packed(&self.seen);
        ChunkedArray::<T>::from_vec_validity(name.into(), self.values, Some(seen)).into_series()
    }
}

/// An atom's slots, typed by the atom's column.
enum Accumulator {
    I8(Slots<i8>),
    I16(Slots<i16>),
    I32(Slots<i32>),
    I64(Slots<i64>),
    U8(Slots<u8>),
    U16(Slots<u16>),
    U32(Slots<u32>),
    U64(Slots<u64>),
}

macro_rules! each_type {
    ($accumulator:expr, $slots:ident, $ty:ident, $body:expr) => {
        match $accumulator {
            Accumulator::I8($slots) => {
                type $ty = Int8Type;
                $body
            }
            Accumulator::I16($slots) => {
                type $ty = Int16Type;
                $body
            }
            Accumulator::I32($slots) => {
                type $ty = Int32Type;
                $body
            }
            Accumulator::I64($slots) => {
                type $ty = Int64Type;
                $body
            }
            Accumulator::U8($slots) => {
                type $ty = UInt8Type;
                $body
            }
            Accumulator::U16($slots) => {
                type $ty = UInt16Type;
                $body
            }
            Accumulator::U32($slots) => {
                type $ty = UInt32Type;
                $body
            }
            Accumulator::U64($slots) => {
                type $ty = UInt64Type;
                $body
            }
        }
    };
}

impl Accumulator {
    /// Slots for a column of `dtype`, or None where it is not an integer type.
    fn new(dtype: &DataType, patients: usize, reduce: Reduce) -> Option<Accumulator> {
        Some(match dtype {
            DataType::Int8 => Accumulator::I8(Slots::new(patients, reduce)),
            DataType::Int16 => Accumulator::I16(Slots::new(patients, reduce)),
            DataType::Int32 => Accumulator::I32(Slots::new(patients, reduce)),
            DataType::Int64 => Accumulator::I64(Slots::new(patients, reduce)),
            DataType::UInt8 => Accumulator::U8(Slots::new(patients, reduce)),
            DataType::UInt16 => Accumulator::U16(Slots::new(patients, reduce)),
            DataType::UInt32 => Accumulator::U32(Slots::new(patients, reduce)),
            DataType::UInt64 => Accumulator::U64(Slots::new(patients, reduce)),
            _ => return None,
        })
    }

    /// Folds a column of the accumulator's type (one chunk) into the slots of `rows`.
    fn fold(&mut self, rows: &[IdxSize], column: &Series, reduce: Reduce) -> PolarsResult<()> {
        each_type!(self, slots, T, {
            let values: &ChunkedArray<T> = column.as_ref().as_ref();
            slots.fold(rows, values.downcast_as_array(), reduce);
        });
        Ok(())
    }

    fn finish(self, name: &str) -> Series {
        each_type!(self, slots, T, slots.finish::<T>(name))
    }
}

/// The per-patient reduction of one table's atoms.
pub(crate) struct PatientReduction {
    patients: usize,
    columns: Vec<(String, Reduce, DataType)>,
    accumulators: Vec<Accumulator>,
    /// Atoms folded from the records' own columns, not from atom columns.
    kernel: Option<Box<dyn Kernel>>,
}

impl PatientReduction {
    /// Slots for `columns` (name, reduction, dtype) over `patients` rows, or None where some
    /// column is not of an integer type (the hash group-by then reduces it).
    pub(crate) fn new(
        columns: Vec<(String, Reduce, DataType)>,
        patients: usize,
    ) -> Option<PatientReduction> {
        let accumulators = columns
            .iter()
            .map(|(_, reduce, dtype)| Accumulator::new(dtype, patients, *reduce))
            .collect::<Option<Vec<_>>>()?;
        Some(PatientReduction {
            patients,
            columns,
            accumulators,
            kernel: None,
        })
    }

    /// The reduction with `kernel`'s atoms folded from each morsel too (the morsels then hold
    /// its [`Kernel::inputs`]).
    pub(crate) fn with_kernel(self, kernel: Box<dyn Kernel>) -> PatientReduction {
        PatientReduction {
            kernel: Some(kernel),
            ..self
        }
    }

    /// Folds one morsel holding [`ROW`] and the columns, piece by piece where its columns are
    /// chunked apart ([`super::aligned_pieces`]).
    pub(crate) fn fold(&mut self, morsel: &DataFrame) -> PolarsResult<()> {
        (super::aligned_pieces(morsel).iter()).try_for_each(|piece| self.fold_piece(piece))
    }

    /// Folds a piece of a morsel, its columns one chunk each (else each is rechunked). Records
    /// without a patient row (orphans, [`super::lookup::PatientRows::attach`]) are skipped: the
    /// stretches of rows between them are folded one after another, sliced without a copy.
    fn fold_piece(&mut self, morsel: &DataFrame) -> PolarsResult<()> {
        let rows = morsel.column(ROW)?.as_materialized_series().rechunk();
        let orphans = rows.idx()?.downcast_as_array().validity();
        match orphans.filter(|valid| valid.unset_bits() > 0) {
            None => self.fold_rows(morsel),
            Some(valid) => SlicesIterator::new(valid).try_for_each(|(start, length)| {
                self.fold_rows(&morsel.slice(start as i64, length))
            }),
        }
    }

    /// Folds rows every one of which has its patient row.
    fn fold_rows(&mut self, morsel: &DataFrame) -> PolarsResult<()> {
        let rows = morsel.column(ROW)?.as_materialized_series().rechunk();
        let rows = rows.idx()?;
        polars_ensure!(rows.null_count() == 0, ComputeError: "a record without its patient row");
        let rows = rows.cont_slice()?;
        // The largest row, by a reduction the compiler vectorizes (a short-circuiting `all` is
        // a branch a row).
        let mut largest = 0;
        for (block, chunk) in rows.chunks(1024).enumerate() {
            prefetch_block(rows, block * 1024..block * 1024 + chunk.len());
            largest = chunk.iter().fold(largest, |largest, &row| largest.max(row));
        }
        polars_ensure!(
            rows.is_empty() || (largest as usize) < self.patients,
            ComputeError: "a record's patient row is outside the patient core"
        );
        for ((name, reduce, dtype), accumulator) in self.columns.iter().zip(&mut self.accumulators)
        {
            let column = morsel.column(name)?.as_materialized_series().rechunk();
            polars_ensure!(column.len() == rows.len(), ShapeMismatch: "atom `{name}` is not as long as its rows");
            polars_ensure!(
                column.dtype() == dtype,
                SchemaMismatch: "atom `{name}` is {}, not {dtype}", column.dtype()
            );
            accumulator.fold(rows, &column, *reduce)?;
        }
        if let Some(kernel) = &mut self.kernel {
            kernel.fold(rows, morsel)?;
        }
        Ok(())
    }

    /// Runs `records` (holding [`ROW`] and the columns) with the streaming engine, folding every
    /// morsel; gives one column per atom, aligned with the patient core's rows.
    pub(crate) fn run(self, records: LazyFrame) -> PolarsResult<Vec<Column>> {
        let state = Arc::new(Mutex::new(self));
        let sink = Arc::clone(&state);
        records
            .sink_batches(
                PlanCallback::new(move |morsel: DataFrame| {
                    let mut reduction = sink.lock().map_err(
                        |_| polars_err!(ComputeError: "a per-patient reduction failed earlier"),
                    )?;
                    reduction.fold(&morsel)?;
                    Ok(false)
                }),
                false,
                None,
            )?
            .collect_with_engine(Engine::Streaming)?;
        let reduction = Arc::try_unwrap(state)
            .map_err(|_| polars_err!(ComputeError: "the streaming sink outlived its query"))?
            .into_inner()
            .map_err(|_| polars_err!(ComputeError: "a per-patient reduction failed"))?;
        Ok(reduction.finish())
    }

    /// One column per atom, null for patients with no value.
    pub(crate) fn finish(self) -> Vec<Column> {
        let mut columns: Vec<Column> = self
            .columns
            .iter()
            .zip(self.accumulators)
            .map(|((name, _, _), accumulator)| accumulator.finish(name).into_column())
            .collect();
        columns.extend(self.kernel.map(Kernel::finish).unwrap_or_default());
        columns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn morsel(rows: &[IdxSize], max: &[Option<i32>], or: &[u64], sum: &[u32]) -> DataFrame {
        df!(
            ROW => rows,
            "max" => max,
            "or" => or,
            "sum" => sum,
        )
        .unwrap()
    }

    fn reduction(patients: usize) -> PatientReduction {
        PatientReduction::new(
            vec![
                ("max".into(), Reduce::Max, DataType::Int32),
                ("or".into(), Reduce::BitOr, DataType::UInt64),
                ("sum".into(), Reduce::Sum, DataType::UInt32),
            ],
            patients,
        )
        .unwrap()
    }

    /// The slots of the two morsels below, worked out by hand.
    fn folded_by_hand() -> DataFrame {
        df!(
            "max" => [Some(9i32), None, None, Some(-4)],
            "or" => [Some(0b1011u64), Some(0b11), None, Some(0b100)],
            "sum" => [Some(12u32), Some(8), None, Some(1)],
        )
        .unwrap()
    }

    /// Worked out by hand: patient 0 has records in both morsels, 1 only null `max` values, 2
    /// none, 3 one record; nulls are skipped, as in a group-by.
    #[test]
    fn records_fold_into_their_patients_slots_across_morsels() {
        let first = morsel(
            &[3, 0, 1],
            &[Some(-4), Some(7), None],
            &[0b100, 0b001, 0b10],
            &[1, 2, 3],
        );
        let second = morsel(
            &[0, 1, 0],
            &[Some(9), None, None],
            &[0b010, 0b01, 0b1000],
            &[4, 5, 6],
        );
        let records = first.vstack(&second).unwrap().lazy();
        let mut by_morsel = reduction(4);
        by_morsel.fold(&first).unwrap();
        by_morsel.fold(&second).unwrap();
        let folded = by_morsel.finish();
        let streamed = reduction(4).run(records).unwrap();
        for columns in [folded, streamed] {
            let frame = DataFrame::new(4, columns).unwrap();
            assert_eq!(frame, folded_by_hand());
        }
    }

    /// The two morsels above as one, its columns chunked apart: rows in one chunk, `max` cut
    /// after 2 and 4 rows, `or` after 3, `sum` after 1. The pieces are cut at every boundary
    /// (1, 2, 3, 4), each column one chunk, and the folds are the hand-worked values above.
    #[test]
    fn a_morsel_chunked_apart_folds_piece_by_piece() {
        let chunked = |name: &str, parts: Vec<Series>| -> Column {
            let mut parts = parts.into_iter();
            let mut column = parts.next().unwrap();
            for part in parts {
                column.append(&part).unwrap();
            }
            column.with_name(name.into()).into_column()
        };
        let max = [Some(-4), Some(7), None, Some(9), None, None];
        let or = [0b100u64, 0b001, 0b10, 0b010, 0b01, 0b1000];
        let sum = [1u32, 2, 3, 4, 5, 6];
        let frame = DataFrame::new(
            6,
            vec![
                Column::new(ROW.into(), [3 as IdxSize, 0, 1, 0, 1, 0]),
                chunked(
                    "max",
                    vec![
                        Series::new("".into(), &max[..2]),
                        Series::new("".into(), &max[2..4]),
                        Series::new("".into(), &max[4..]),
                    ],
                ),
                chunked(
                    "or",
                    vec![
                        Series::new("".into(), &or[..3]),
                        Series::new("".into(), &or[3..]),
                    ],
                ),
                chunked(
                    "sum",
                    vec![
                        Series::new("".into(), &sum[..1]),
                        Series::new("".into(), &sum[1..]),
                    ],
                ),
            ],
        )
        .unwrap();
        let pieces = crate::engine::aligned_pieces(&frame);
        let heights: Vec<usize> = pieces.iter().map(DataFrame::height).collect();
        assert_eq!(heights, [1, 1, 1, 1, 2]);
        for piece in &pieces {
            assert!(piece.columns().iter().all(|c| c.n_chunks() == 1));
        }
        let mut reduction = reduction(4);
        reduction.fold(&frame).unwrap();
        let folded = DataFrame::new(4, reduction.finish()).unwrap();
        assert_eq!(folded, folded_by_hand());
    }

    /// Orphan records (a null row, [`super::super::lookup::PatientRows::attach`]) first, two
    /// together in the middle and last, with values that would change every slot they reached
    /// (a larger `max`, new `or` bits, more `sum`): skipped, the folds are the hand-worked
    /// values above, morsel by morsel and streamed.
    #[test]
    fn orphan_records_are_skipped() {
        let with_orphans =
            |rows: &[Option<IdxSize>], max: &[Option<i32>], or: &[u64], sum: &[u32]| {
                df!(ROW => rows, "max" => max, "or" => or, "sum" => sum).unwrap()
            };
        let first = with_orphans(
            &[None, Some(3), Some(0), None, None, Some(1), None],
            &[
                Some(99),
                Some(-4),
                Some(7),
                Some(99),
                Some(99),
                None,
                Some(99),
            ],
            &[1 << 40, 0b100, 0b001, 1 << 41, 1 << 42, 0b10, 1 << 43],
            &[1000, 1, 2, 1000, 1000, 3, 1000],
        );
        let second = with_orphans(
            &[Some(0), Some(1), None, Some(0)],
            &[Some(9), None, Some(99), None],
            &[0b010, 0b01, 1 << 44, 0b1000],
            &[4, 5, 1000, 6],
        );
        let mut by_morsel = reduction(4);
        by_morsel.fold(&first).unwrap();
        by_morsel.fold(&second).unwrap();
        let folded = by_morsel.finish();
        let records = first.vstack(&second).unwrap().lazy();
        let streamed = reduction(4).run(records).unwrap();
        for columns in [folded, streamed] {
            let frame = DataFrame::new(4, columns).unwrap();
            assert_eq!(frame, folded_by_hand());
        }
        // A morsel of orphans only folds nothing.
        let mut nothing = reduction(2);
        nothing
            .fold(&with_orphans(
                &[None, None],
                &[Some(1), None],
                &[1, 2],
                &[3, 4],
            ))
            .unwrap();
        let frame = DataFrame::new(2, nothing.finish()).unwrap();
        assert_eq!(frame.column("max").unwrap().null_count(), 2);
    }

    #[test]
    fn only_integer_columns_are_reduced_by_row() {
        let spec = |dtype| vec![("x".into(), Reduce::Max, dtype)];
        assert!(PatientReduction::new(spec(DataType::Int8), 3).is_some());
        assert!(PatientReduction::new(spec(DataType::Float64), 3).is_none());
        assert!(PatientReduction::new(spec(DataType::Boolean), 3).is_none());
    }

    /// A row outside the core is an error, not a panic.
    #[test]
    fn a_row_outside_the_core_is_an_error() {
        let records = morsel(&[0, 4], &[Some(1), Some(2)], &[1, 1], &[1, 1]);
        assert!(reduction(4).fold(&records).is_err());
        assert!(reduction(4).run(records.lazy()).is_err());
    }

    /// Max of an unsigned column (the variants' flags as bytes on the polars path) keeps its
    /// flags: worked out by hand, patient 0 had a "no" (0) and a "yes" (1), 1 only a "no", which
    /// is a value (0), not "no record", 2 only a null, 3 nothing; a signed `any` code of -128 is
    /// a value too.
    #[test]
    fn max_keeps_the_minimum_of_a_column_as_a_value() {
        let mut reduction = PatientReduction::new(
            vec![
                ("flag".into(), Reduce::Max, DataType::UInt8),
                ("code".into(), Reduce::Max, DataType::Int8),
            ],
            4,
        )
        .unwrap();
        let morsel = df!(
            ROW => [0 as IdxSize, 1, 0, 2],
            "flag" => [Some(0u8), Some(0), Some(1), None],
            "code" => [Some(2i8), Some(i8::MIN), Some(0), None],
        )
        .unwrap();
        reduction.fold(&morsel).unwrap();
        let folded = DataFrame::new(4, reduction.finish()).unwrap();
        let by_hand = df!(
            "flag" => [Some(1u8), Some(0), None, None],
            "code" => [Some(2i8), Some(i8::MIN), None, None],
        )
        .unwrap();
        assert_eq!(folded, by_hand);
    }
}
