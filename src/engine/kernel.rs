//! Record atoms folded straight into their patients' slots, in one pass over a table's records:
//! what the measurement and observation kernels share (the atom, its window, test and `latest`
//! key on one record, and the per-patient slots).
//!
//! As polars expressions, every atom of a table is computed on every record of it: each source's
//! value, then per atom the window, the test and the `latest` key, a dozen columns over the
//! whole table, of which each atom keeps the tenth that are its source's records. A kernel finds
//! a record's sources (measures, observations) by a small key, computes the record's value once
//! per source, and only that source's atoms test it. The polars expressions stay the reference:
//! the hash group-by path evaluates them, and the tests check that both agree.

use std::sync::Arc;

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;

use super::cohorts::TestLookup;
use super::compile::{Reduce, DATE_OFFSET};
use super::diagnoses::DiagnosisKernel;
use super::measures::atoms::MeasureKernel;
use super::measures::{greater, less, MeasureRules};
use super::observations::{ObservationKernel, ObservationRules};
use super::reduce::Slots;
use super::variants::{VariantKernel, VariantRules};
use crate::definition::model::{CmpOp, CodeSet, Window};
use crate::prefetch::prefetch;
pub(crate) use resolved::{NumberAtom, TextAtom};

/// A record's value of one source, valid in its domain, as the generic fold (the tests'
/// reference) reads it.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value {
    Number(f64),
    /// A text, by its key in the definition's vocabulary (`observations::TEXT_KEY`).
    Text(u32),
}

/// What a `latest` test asks of the record's value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Truth {
    /// `value <op> threshold`, in polars' float order.
    Compare(CmpOp, f64),
    /// The text is one of these text keys (only texts of the observation's domain, so never
    /// the key of a missing or an unlisted text).
    TextIn(Vec<u32>),
}

#[cfg(test)]
impl Truth {
    fn holds(&self, value: Value) -> bool {
        match (self, value) {
            (Truth::Compare(op, threshold), Value::Number(value)) => {
                compare(value, *op, *threshold)
            }
            (Truth::TextIn(texts), Value::Text(text)) => texts.contains(&text),
            // The compiler gives a kernel atom only where the test fits the value's kind.
            _ => false,
        }
    }
}

/// What an atom asks of its source's records in the window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Test {
    /// `any`: 2 where a record has a value (0 and no record are the same to the criterion).
    Any,
    /// `latest ... <truth>`: the record's key `(date + DATE_OFFSET) * 2 + bit`, with `bit`
    /// chosen by whether the truth holds, so that the largest key is the latest record and its
    /// ties are broken by the tie rule.
    Latest {
        truth: Truth,
        bit_if_holds: i32,
        bit_if_not: i32,
    },
}

/// An atom over one source's records (a measure's, an observation's) without a `where` filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RecordAtom {
    /// The measure or observation, by index in the definition.
    pub source: usize,
    /// How many days before the index date the window reaches (None: any time up to it).
    lookback: Option<i32>,
    pub test: Test,
}

impl RecordAtom {
    /// The atom of `test` on source `source`'s records in `window`; None for a window a kernel
    /// does not evaluate (`ongoing`, a treatment's).
    pub(crate) fn new(source: usize, window: &Window, test: Test) -> Option<RecordAtom> {
        let lookback = match window {
            Window::UpToIndex => None,
            Window::WithinDays(days) => Some(*days as i32),
            Window::Ongoing { .. } => return None,
        };
        Some(RecordAtom {
            source,
            lookback,
            test,
        })
    }

    /// Whether a record of `date` is in the atom's window ([`in_window`]).
    #[inline(always)]
    fn in_window(&self, date: i32, idx: i32) -> bool {
        in_window(self.lookback, date, idx)
    }

    /// The atom's value for a record of `date` with `value`, or None outside the window.
    #[cfg(test)]
    fn of(&self, date: i32, idx: i32, value: Value) -> Option<i32> {
        if !self.in_window(date, idx) {
            return None;
        }
        Some(match &self.test {
            Test::Any => 2,
            Test::Latest {
                truth,
                bit_if_holds,
                bit_if_not,
            } => {
                let bit = if truth.holds(value) {
                    *bit_if_holds
                } else {
                    *bit_if_not
                };
                latest_key(date, bit)
            }
        })
    }

    /// The largest value `RecordAtom::of` (the tests' reference) can give a record of `date` in
    /// the window, whatever the record's value.
    #[inline(always)]
    fn largest(&self, date: i32) -> i32 {
        match &self.test {
            Test::Any => 2,
            Test::Latest {
                bit_if_holds,
                bit_if_not,
                ..
            } => latest_key(date, *bit_if_holds).max(latest_key(date, *bit_if_not)),
        }
    }
}

/// Whether a record of `date` is in a window of `lookback` days (None: any time) up to index
/// date `idx`: `date <= idx` and, within a number of days, `date >= idx - days` (polars'
/// wrapping Int32 arithmetic, as `records::in_window` computes it).
#[inline(always)]
fn in_window(lookback: Option<i32>, date: i32, idx: i32) -> bool {
    date <= idx && lookback.is_none_or(|days| date >= idx.wrapping_sub(days))
}

/// A `latest` atom's key of a record of `date` whose truth chose `bit` (polars' wrapping Int32
/// arithmetic, as the expressions compute it).
#[inline(always)]
fn latest_key(date: i32, bit: i32) -> i32 {
    date.wrapping_add(DATE_OFFSET)
        .wrapping_mul(2)
        .wrapping_add(bit)
}

/// `value <op> threshold` in polars' float order (NaN above every number, equal to itself).
#[inline(always)]
fn compare(value: f64, op: CmpOp, threshold: f64) -> bool {
    match op {
        CmpOp::Lt => less(value, threshold),
        CmpOp::Le => !greater(value, threshold),
        CmpOp::Gt => greater(value, threshold),
        CmpOp::Ge => !less(value, threshold),
        CmpOp::Eq => !less(value, threshold) && !greater(value, threshold),
        CmpOp::Ne => less(value, threshold) || greater(value, threshold),
    }
}

/// Each patient row's index date (`p_idx`), for every kernel of every partition.
pub(crate) fn index_dates(core: &DataFrame) -> PolarsResult<Vec<Option<i32>>> {
    let idx = core.column("p_idx")?.as_materialized_series();
    Ok(optional_values(idx.cast(&DataType::Int32)?.i32()?))
}

/// A column's values as options (None where null), array by array: every value, then the null
/// rows cleared one by one (few in most arrays). The chunked array's own iterator cost about
/// 60 instructions a value, an array's iterator of options (not of a trusted length, so pushed
/// one at a time) about 20 (callgrind).
pub(crate) fn optional_values<T: PolarsNumericType>(
    column: &ChunkedArray<T>,
) -> Vec<Option<T::Native>> {
    let mut values = Vec::with_capacity(column.len());
    for array in column.downcast_iter() {
        let start = values.len();
        values.extend(array.values().iter().map(|&v| Some(v)));
        if let Some(valid) = array.validity().filter(|valid| valid.unset_bits() > 0) {
            for i in (!valid).true_idx_iter() {
                values[start + i] = None;
            }
        }
    }
    values
}

/// Which record dates some atom of a set of sources could count: up to the index date, within
/// the atoms' lookbacks (or any time, where one has none). A kernel tests it once per record
/// before the record's sources and their atoms: most records outside every window (a third of
/// the measurements of a synthetic extract) then cost one or two comparisons.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Reach {
    /// Some atom has no lookback: every date up to the index date.
    unbounded: bool,
    /// The distinct lookbacks, in days.
    lookbacks: Vec<i32>,
}

impl Reach {
    /// Whether a record of `date` is in the window of some atom, for index date `idx`: exactly
    /// [`RecordAtom::in_window`] of some atom (wrapping arithmetic included).
    #[inline(always)]
    pub(crate) fn may_count(&self, date: i32, idx: i32) -> bool {
        date <= idx
            && (self.unbounded
                || (self.lookbacks.iter()).any(|&days| date >= idx.wrapping_sub(days)))
    }
}

/// One atom's per-patient slots: an `any` code (Int8) or a `latest` key (Int32), by max.
enum Slot {
    Any(Slots<i8>),
    Latest(Slots<i32>),
}

/// The atoms of one kernel with their slots, and each patient's index date.
pub(crate) struct AtomSlots {
    names: Vec<String>,
    /// Each atom beside its slots: one index per atom a record tests.
    atoms: Vec<(RecordAtom, Slot)>,
    /// Per source, its atoms (positions in `atoms`).
    of_source: Vec<Vec<usize>>,
    idx: Vec<Option<i32>>,
    /// The block of patient rows whose slots were last asked for ([`AtomSlots::look_ahead`]).
    block: usize,
}

impl AtomSlots {
    /// Slots for `atoms` (name, atom) of `sources` sources, over the patients of `core`.
    pub(crate) fn new(
        atoms: Vec<(String, RecordAtom)>,
        sources: usize,
        core: &DataFrame,
    ) -> PolarsResult<AtomSlots> {
        polars_ensure!(
            atoms.iter().all(|(_, atom)| atom.source < sources),
            ComputeError: "a kernel atom reads a source its table does not have"
        );
        let idx = index_dates(core)?;
        let of_source = (0..sources)
            .map(|s| {
                (0..atoms.len())
                    .filter(|&a| atoms[a].1.source == s)
                    .collect()
            })
            .collect();
        let (names, atoms) = atoms
            .into_iter()
            .map(|(name, atom)| {
                let slot = match atom.test {
                    Test::Any => Slot::Any(Slots::new(core.height(), Reduce::Max)),
                    Test::Latest { .. } => Slot::Latest(Slots::new(core.height(), Reduce::Max)),
                };
                (name, (atom, slot))
            })
            .unzip();
        Ok(AtomSlots {
            names,
            atoms,
            of_source,
            idx,
            block: usize::MAX,
        })
    }

    /// The record dates some atom of `sources` could count ([`Reach`]).
    pub(crate) fn reach(&self, sources: impl IntoIterator<Item = usize>) -> Reach {
        let mut reach = Reach::default();
        for source in sources {
            for &a in self.of_source.get(source).into_iter().flatten() {
                match self.atoms[a].0.lookback {
                    None => reach.unbounded = true,
                    Some(days) if !reach.lookbacks.contains(&days) => reach.lookbacks.push(days),
                    Some(_) => {}
                }
            }
        }
        reach
    }

    /// Whether some atom reads the records of `source`.
    pub(crate) fn reads(&self, source: usize) -> bool {
        self.of_source
            .get(source)
            .is_some_and(|atoms| !atoms.is_empty())
    }

    /// The index date of patient `row`.
    #[inline(always)]
    pub(crate) fn idx(&self, row: usize) -> Option<i32> {
        self.idx[row]
    }

    /// Whether no value of a record of patient `row` (index date `idx`) of `date`, of `source`,
    /// could change a slot of that source's atoms: each is outside its window, or its slot
    /// already holds a result at least as large as any the record could give. Such a record's
    /// value need not be computed (an eGFR is two `powf`).
    #[inline(always)]
    pub(crate) fn settled(&self, row: usize, (date, idx): (i32, i32), source: usize) -> bool {
        self.of_source[source].iter().all(|&a| {
            let (atom, slot) = &self.atoms[a];
            !atom.in_window(date, idx)
                || match slot {
                    // An `any` atom's result is its code, 2.
                    Slot::Any(slots) => slots.at_least(row, atom.largest(date) as i8),
                    Slot::Latest(slots) => slots.at_least(row, atom.largest(date)),
                }
        })
    }

    /// Called with each record's patient `row`: where the row enters a block of
    /// [`PREFETCH_ROWS`] patients, asks for the next block's slots. Records in patient order
    /// then find their slots in the caches; in any other order it only costs the asking.
    #[inline(always)]
    pub(crate) fn look_ahead(&mut self, row: usize) {
        let block = row / PREFETCH_ROWS;
        if block != self.block {
            self.block = block;
            self.prefetch(row + PREFETCH_ROWS);
        }
    }

    /// Asks for the cache lines of every atom's slot of patient `row`, and of its index date.
    #[inline(always)]
    fn prefetch(&self, row: usize) {
        prefetch(&self.idx, row);
        for (_, slot) in &self.atoms {
            match slot {
                Slot::Any(slots) => slots.prefetch(row),
                Slot::Latest(slots) => slots.prefetch(row),
            }
        }
    }

    /// Folds a record of patient `row` (index date `idx`), of `date`, with `value` of `source`,
    /// into the slots of that source's atoms, each atom's test matched to the value: the
    /// reference that the kernels' resolved folds ([`AtomSlots::fold_number`],
    /// [`AtomSlots::fold_text`]) are checked against.
    #[cfg(test)]
    pub(crate) fn fold(
        &mut self,
        row: usize,
        (date, idx): (i32, i32),
        source: usize,
        value: Value,
    ) {
        for &a in &self.of_source[source] {
            let (atom, slot) = &mut self.atoms[a];
            let Some(result) = atom.of(date, idx, value) else {
                continue;
            };
            match slot {
                // An `any` atom's result is its code, 2.
                Slot::Any(slots) => slots.max(row, result as i8),
                Slot::Latest(slots) => slots.max(row, result),
            }
        }
    }

    /// One column per atom, aligned with the core's rows: null where no record counted.
    pub(crate) fn finish(self) -> Vec<Column> {
        self.names
            .iter()
            .zip(self.atoms)
            .map(|(name, (_, slot))| {
                match slot {
                    Slot::Any(slots) => slots.finish::<Int8Type>(name),
                    Slot::Latest(slots) => slots.finish::<Int32Type>(name),
                }
                .into_column()
            })
            .collect()
    }
}

/// How many patient rows ahead a kernel asks for its slots, in blocks of as many: one cache line
/// of a `latest` slot's keys (sixteen Int32s).
pub(crate) const PREFETCH_ROWS: usize = 16;

/// A table's atoms folded from the records' own columns by patient row.
pub(crate) trait Kernel: Send {
    /// The record columns it reads (besides the patient row).
    fn inputs(&self) -> &'static [&'static str];
    /// Folds one morsel of records: `rows` (their patient rows, checked to be in the core) and
    /// the [`Kernel::inputs`] columns of `morsel`.
    fn fold(&mut self, rows: &[IdxSize], morsel: &DataFrame) -> PolarsResult<()>;
    /// One column per atom, aligned with the core's rows.
    fn finish(self: Box<Self>) -> Vec<Column>;
}

/// The rows valid in every one of `validities` (None: a column without nulls), as one bitmap;
/// None where every row is. A kernel reads one bit a record instead of one per column.
pub(crate) fn all_valid(validities: &[Option<&Bitmap>]) -> Option<Bitmap> {
    (validities.iter().flatten()).fold(None, |all: Option<Bitmap>, &valid| {
        Some(all.map_or_else(|| valid.clone(), |all| &all & valid))
    })
}

/// Column `name` of `morsel` as one chunk of `dtype` ([`one_chunk`]).
pub(crate) fn input(morsel: &DataFrame, name: &str, dtype: &DataType) -> PolarsResult<Series> {
    one_chunk(morsel.column(name)?, dtype)
}

/// `column` as one chunk of `dtype`. Dates asked for as Int32 are their days as stored: a cast
/// copied them.
pub(crate) fn one_chunk(column: &Column, dtype: &DataType) -> PolarsResult<Series> {
    let cast = as_dtype(column, dtype)?;
    Ok(match cast.chunks().len() {
        1 => cast,
        _ => cast.rechunk(),
    })
}

/// `column` as `dtype`, in its chunks: a date column's days without a copy.
pub(crate) fn as_dtype(column: &Column, dtype: &DataType) -> PolarsResult<Series> {
    let column = column.as_materialized_series();
    match (column.dtype(), dtype) {
        (DataType::Date, DataType::Int32) => Ok(column.to_physical_repr().into_owned()),
        _ => column.cast(dtype),
    }
}

/// A table's kernel atoms (name, atom) with the rules that read its records; for variants, the
/// flags of molecular matching.
pub(crate) enum KernelAtoms {
    /// With, where given, the name of a per-patient column of the records whose unit none of
    /// their measures converts ([`MeasureKernel`]).
    Measures(
        Arc<MeasureRules>,
        Vec<(String, RecordAtom)>,
        Option<&'static str>,
    ),
    Observations(Arc<ObservationRules>, Vec<(String, RecordAtom)>),
    /// `any` atoms of code sets' diagnoses (a set by its index in the definition).
    Diagnoses(Arc<[CodeSet]>, Vec<(String, RecordAtom)>),
    /// Molecular matching: the definition's flags, with the partition's molecular tests and
    /// each test's patient row (None for a test of no patient of the partition); true where
    /// the variants come with their test's row (`lookup::TEST_ROW`).
    Variants(
        Arc<VariantRules>,
        Arc<TestLookup>,
        Vec<Option<IdxSize>>,
        bool,
    ),
}

impl KernelAtoms {
    /// Measurement atoms that also count, per patient, the records whose unit none of their
    /// measures converts, as the column `name`; other atoms as they are.
    pub(crate) fn counting_unconvertible(self, name: &'static str) -> KernelAtoms {
        match self {
            KernelAtoms::Measures(rules, atoms, _) => {
                KernelAtoms::Measures(rules, atoms, Some(name))
            }
            other => other,
        }
    }

    /// Whether the kernel counts the unconvertible records ([`KernelAtoms::counting_unconvertible`]).
    pub(crate) fn counts_unconvertible(&self) -> bool {
        matches!(self, KernelAtoms::Measures(_, _, Some(_)))
    }

    /// The kernel over the patients of `core`.
    pub(crate) fn build(self, core: &DataFrame) -> PolarsResult<Box<dyn Kernel>> {
        Ok(match self {
            KernelAtoms::Measures(rules, atoms, unconvertible) => {
                Box::new(MeasureKernel::new(rules, atoms, core)?.counting(unconvertible))
            }
            KernelAtoms::Observations(rules, atoms) => {
                Box::new(ObservationKernel::new(rules, atoms, core)?)
            }
            KernelAtoms::Diagnoses(sets, atoms) => {
                Box::new(DiagnosisKernel::new(sets, atoms, core)?)
            }
            KernelAtoms::Variants(rules, tests, test_patients, found) => Box::new(
                VariantKernel::new(rules, tests, test_patients, found, core)?,
            ),
        })
    }
}

mod resolved;
#[cfg(test)]
pub(crate) mod tests;
