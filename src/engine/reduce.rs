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
    /// Whether the minimum is a value that atoms about never hold, so that it can stand for "no
    /// record" ([`MaxSlots`]): a signed type's (an `any` code is 0 to 2, a `latest` key reaches it
    /// only by wrapping); not an unsigned type's 0 (a flag's "no").
    const MIN_IS_RARE: bool;
    /// The sum, wrapping on overflow (a count of records per patient cannot reach it; bad input
    /// must not panic).
    fn plus(self, other: Self) -> Self;
}

macro_rules! words {
    ($rare:expr; $($ty:ty),*) => {
        $(impl Word for $ty {
            const MIN: Self = <$ty>::MIN;
            const MIN_IS_RARE: bool = $rare;
            fn plus(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
        })*
    };
}
words!(true; i8, i16, i32, i64);
words!(false; u8, u16, u32, u64);

/// One atom's per-patient values. By max of a signed type, the values alone ([`MaxSlots`]);
/// otherwise (bitwise or or sum, whose identity 0 is a value too, or max of an unsigned type) the
/// values beside whether each patient had a record: `values[row]` is meaningful where
/// `seen[row]`. Slots start at the reduction's identity, so
/// that folding a value needs no branch on whether the slot has one yet.
pub(crate) enum Slots<N> {
    Max(MaxSlots<N>),
    Flagged { values: Vec<N>, seen: Vec<bool> },
}

impl<N: Word> Slots<N> {
    pub(crate) fn new(patients: usize, reduce: Reduce) -> Self {
        match reduce {
            Reduce::Max if N::MIN_IS_RARE => Slots::Max(MaxSlots::new(patients)),
            Reduce::Max | Reduce::BitOr | Reduce::Sum => Slots::Flagged {
                values: vec![
                    if reduce == Reduce::Max {
                        N::MIN
                    } else {
                        N::default()
                    };
                    patients
                ],
                seen: vec![false; patients],
            },
        }
    }

    /// Folds each record's value into its patient's slot by `reduce` (the one the slots were
    /// made for); null values are skipped, as polars' aggregations skip them.
    fn fold(&mut self, rows: &[IdxSize], values: &PrimitiveArray<N>, reduce: Reduce)
    where
        N: NativeType,
    {
        let (values_of, seen) = match self {
            Slots::Max(slots) => {
                each_valid(rows, values, |row, value| slots.max(row, value));
                return;
            }
            Slots::Flagged { values, seen } => (values, seen),
        };
        let mut fold_with = |f: fn(N, N) -> N| {
            each_valid(rows, values, |row, value| {
                let slot = &mut values_of[row];
                *slot = f(*slot, value);
                seen[row] = true;
            })
        };
        match reduce {
            Reduce::Max => fold_with(|a, b| a.max(b)),
            Reduce::BitOr => fold_with(|a, b| a | b),
            Reduce::Sum => fold_with(N::plus),
        }
    }

    pub(crate) fn finish<T>(self, name: &str) -> Series
    where
        T: PolarsNumericType<Native = N>,
    {
        match self {
            Slots::Max(slots) => slots.finish::<T>(name),
            // The slots as they are, nulls where no record was seen (a slot's value there is
            // the reduction's identity, never read).
            Slots::Flagged { values, seen } => {
                let seen = packed(&seen);
                ChunkedArray::<T>::from_vec_validity(name.into(), values, Some(seen)).into_series()
            }
        }
    }
}

/// `put(row, value)` of each record of `rows` whose value is not null.
#[inline(always)]
fn each_valid<N: NativeType>(
    rows: &[IdxSize],
    values: &PrimitiveArray<N>,
    mut put: impl FnMut(usize, N),
) {
    match values.validity().filter(|v| v.unset_bits() > 0) {
        None => {
            for (&row, &value) in rows.iter().zip(values.values().iter()) {
                put(row as usize, value);
            }
        }
        // Mostly null (a `latest` key is null on other measures' records): the set bits are
        // found a word at a time.
        Some(validity) => {
            let values = values.values();
            for i in TrueIdxIter::new(values.len(), Some(validity)) {
                put(rows[i] as usize, values[i]);
            }
        }
    }
}

/// One atom's per-patient values folded by max, a kernel's or a polars column's: a single column,
/// where slots by or and sum keep a second one of flags. A slot starts at the type's minimum, which stands for "no record"; a
/// record whose value is that minimum itself (a `latest` key wraps to `i32::MIN` only for a date
/// about three million years before the common era; an `any` code never does) is remembered
/// apart, so that its patient still has a value. A kernel's fold then writes one array, not two.
pub(crate) struct MaxSlots<N> {
    values: Vec<N>,
    /// The rows folded a value equal to `N::MIN`: nearly always none.
    at_min: Vec<usize>,
}

impl<N: Word> MaxSlots<N> {
    pub(crate) fn new(patients: usize) -> Self {
        MaxSlots {
            values: vec![N::MIN; patients],
            at_min: Vec::new(),
        }
    }

    /// Whether patient `row`'s slot has a value and it is at least `value`: folding `value` by
    /// max would change nothing.
    #[inline(always)]
    pub(crate) fn at_least(&self, row: usize, value: N) -> bool {
        let slot = self.values[row];
        match slot == N::MIN {
            // Above the minimum, the slot has a value.
            false => slot >= value,
            true => value == N::MIN && self.at_min.contains(&row),
        }
    }

    /// Asks for the cache line of patient `row`'s slot ([`prefetch`]).
    #[inline(always)]
    pub(crate) fn prefetch(&self, row: usize) {
        prefetch(&self.values, row);
    }

    /// Folds one value into the slot of patient `row` by max.
    #[inline(always)]
    pub(crate) fn max(&mut self, row: usize, value: N) {
        let slot = &mut self.values[row];
        *slot = (*slot).max(value);
        if value == N::MIN {
            self.fold_min(row);
        }
    }

    /// Out of the fold's loop: taken about never.
    #[cold]
    #[inline(never)]
    fn fold_min(&mut self, row: usize) {
        self.at_min.push(row);
    }

    /// The slots as a column, null where no record was folded.
    pub(crate) fn finish<T>(self, name: &str) -> Series
    where
        T: PolarsNumericType<Native = N>,
    {
        let mut seen: Vec<bool> = self.values.iter().map(|&v| v != N::MIN).collect();
        for row in self.at_min {
            seen[row] = true;
        }
        let seen = packed(&seen);
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
mod tests;
