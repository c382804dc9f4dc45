//! Measurement atoms folded straight into their patients' slots, in one pass over the records.
//!
//! As polars expressions, every atom of every measure is computed on every measurement record:
//! each measure's value, then per atom the window, the test and the `latest` key, a dozen
//! columns over the whole table, of which each atom keeps the tenth that are its measure's
//! records. Here a record's (LOINC, unit) key names the measures that convert it; the record's
//! value is converted once per such measure, and only that measure's atoms test it and fold
//! their result into the patient's slot. The polars expressions stay the reference: the hash
//! group-by path evaluates them, and the tests check that both agree.

use std::sync::Arc;

use polars::prelude::*;

use super::{converted, greater, less, valid, MeasureRules, Rule, MEASURE_KEY};
use crate::definition::model::{CmpOp, Window};
use crate::engine::compile::{Reduce, DATE_OFFSET};
use crate::engine::reduce::Slots;

/// What an atom the kernel evaluates asks of its measure's records in the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Test {
    /// `any`: 2 where a record has a value (0 and no record are the same to the criterion).
    Any,
    /// `latest ... <op> <threshold>`: the record's key `(date + DATE_OFFSET) * 2 + bit`, with
    /// `bit` chosen by whether the test holds, so that the largest key is the latest record and
    /// its ties are broken by the tie rule.
    Latest {
        op: CmpOp,
        threshold: f64,
        bit_if_holds: i32,
        bit_if_not: i32,
    },
}

/// An atom over one measure's records without a `where` filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct MeasureAtom {
    pub measure: usize,
    /// How many days before the index date the window reaches (None: any time up to it).
    lookback: Option<i32>,
    pub test: Test,
}

impl MeasureAtom {
    /// The atom of `test` on measure `measure`'s records in `window`; None for a window the
    /// kernel does not evaluate (`ongoing`, a treatment's).
    pub(crate) fn new(measure: usize, window: &Window, test: Test) -> Option<MeasureAtom> {
        let lookback = match window {
            Window::UpToIndex => None,
            Window::WithinDays(days) => Some(*days as i32),
            Window::Ongoing { .. } => return None,
        };
        Some(MeasureAtom {
            measure,
            lookback,
            test,
        })
    }

    /// `date <= idx` and, within a number of days, `date >= idx - days` (polars' wrapping
    /// Int32 arithmetic, as `records::in_window` computes it).
    fn in_window(&self, date: i32, idx: i32) -> bool {
        date <= idx
            && self
                .lookback
                .is_none_or(|days| date >= idx.wrapping_sub(days))
    }

    /// The atom's value for a record of `date` whose value is `value`, or None where the record
    /// is outside the window.
    fn of(&self, date: i32, idx: i32, value: f64) -> Option<i32> {
        if !self.in_window(date, idx) {
            return None;
        }
        Some(match self.test {
            Test::Any => 2,
            Test::Latest {
                op,
                threshold,
                bit_if_holds,
                bit_if_not,
            } => {
                let bit = if holds(value, op, threshold) {
                    bit_if_holds
                } else {
                    bit_if_not
                };
                date.wrapping_add(DATE_OFFSET)
                    .wrapping_mul(2)
                    .wrapping_add(bit)
            }
        })
    }
}

/// `value <op> threshold` in polars' float order (NaN above every number, equal to itself).
fn holds(value: f64, op: CmpOp, threshold: f64) -> bool {
    match op {
        CmpOp::Lt => less(value, threshold),
        CmpOp::Le => !greater(value, threshold),
        CmpOp::Gt => greater(value, threshold),
        CmpOp::Ge => !less(value, threshold),
        CmpOp::Eq => !less(value, threshold) && !greater(value, threshold),
        CmpOp::Ne => less(value, threshold) || greater(value, threshold),
    }
}

/// One atom's per-patient slots: an `any` code (Int8) or a `latest` key (Int32), reduced by max.
enum AtomSlots {
    Any(Slots<i8>),
    Latest(Slots<i32>),
}

/// A patient's columns that measurement atoms read, by patient row.
struct Patient {
    idx: Option<i32>,
    /// Sex and age, for eGFR; None where either is missing.
    sex_age: Option<(&'static str, i32)>,
}

/// The measurement atoms of one table's pass, with their slots.
pub(crate) struct MeasureKernel {
    rules: Arc<MeasureRules>,
    atoms: Vec<(String, MeasureAtom)>,
    slots: Vec<AtomSlots>,
    /// Per record key, the measures that give its records a value, with their rule.
    measures_of_key: Vec<Vec<(usize, Rule)>>,
    /// Per measure, its atoms (positions in `atoms`).
    atoms_of_measure: Vec<Vec<usize>>,
    patients: Vec<Patient>,
}

impl MeasureKernel {
    /// The record columns the kernel reads (besides the patient row).
    pub(crate) const INPUTS: [&'static str; 4] = ["date", MEASURE_KEY, "value", "range_high"];

    /// The kernel of `atoms` (name, atom) over the patients of `core` (`p_idx`, `p_sex`,
    /// `p_age`, by row).
    pub(crate) fn new(
        rules: Arc<MeasureRules>,
        atoms: Vec<(String, MeasureAtom)>,
        core: &DataFrame,
    ) -> PolarsResult<MeasureKernel> {
        let column = |name: &str, dtype: &DataType| -> PolarsResult<Series> {
            core.column(name)?.as_materialized_series().cast(dtype)
        };
        let (idx, sex, age) = (
            column("p_idx", &DataType::Int32)?,
            column("p_sex", &DataType::String)?,
            column("p_age", &DataType::Int32)?,
        );
        let patients = idx
            .i32()?
            .iter()
            .zip(sex.str()?.iter())
            .zip(age.i32()?.iter())
            .map(|((idx, sex), age)| {
                // eGFR reads "F" and "M"; any other sex gives no value.
                let sex = sex.map(|sex| match sex {
                    "F" => "F",
                    "M" => "M",
                    _ => "",
                });
                Patient {
                    idx,
                    sex_age: sex.zip(age),
                }
            })
            .collect();
        let keys = rules.rules.first().map_or(0, |rules| rules.len());
        let measures_of_key = (0..keys)
            .map(|key| {
                (0..rules.rules.len())
                    .map(|m| (m, rules.rules[m][key]))
                    .filter(|(m, rule)| {
                        !matches!(rule, Rule::Other | Rule::Unconvertible)
                            && atoms.iter().any(|(_, atom)| atom.measure == *m)
                    })
                    .collect()
            })
            .collect();
        let atoms_of_measure = (0..rules.rules.len())
            .map(|m| {
                (0..atoms.len())
                    .filter(|&a| atoms[a].1.measure == m)
                    .collect()
            })
            .collect();
        let height = core.height();
        let slots = atoms
            .iter()
            .map(|(_, atom)| match atom.test {
                Test::Any => AtomSlots::Any(Slots::new(height, Reduce::Max)),
                Test::Latest { .. } => AtomSlots::Latest(Slots::new(height, Reduce::Max)),
            })
            .collect();
        Ok(MeasureKernel {
            rules,
            atoms,
            slots,
            measures_of_key,
            atoms_of_measure,
            patients,
        })
    }

    /// Folds one morsel of records: `rows` (their patient rows, checked to be in the core) and
    /// the [`MeasureKernel::INPUTS`] columns of `morsel`.
    pub(crate) fn fold(&mut self, rows: &[IdxSize], morsel: &DataFrame) -> PolarsResult<()> {
        let column = |name: &str, dtype: &DataType| -> PolarsResult<Series> {
            let column = morsel.column(name)?.as_materialized_series();
            Ok(column.cast(dtype)?.rechunk())
        };
        let (dates, keys, values, highs) = (
            column("date", &DataType::Int32)?,
            column(MEASURE_KEY, &DataType::UInt32)?,
            column("value", &DataType::Float64)?,
            column("range_high", &DataType::Float64)?,
        );
        let (dates, keys) = (
            dates.i32()?.downcast_as_array(),
            keys.u32()?.downcast_as_array(),
        );
        let (values, highs) = (
            values.f64()?.downcast_as_array(),
            highs.f64()?.downcast_as_array(),
        );
        polars_ensure!(
            [dates.len(), keys.len(), values.len(), highs.len()] == [rows.len(); 4],
            ShapeMismatch: "measurement columns are not as long as their rows"
        );
        for (i, &row) in rows.iter().enumerate() {
            let Some(measures) = keys
                .get(i)
                .and_then(|key| self.measures_of_key.get(key as usize))
            else {
                continue;
            };
            let row = row as usize;
            let patient = &self.patients[row];
            let (Some(date), Some(idx), Some(value)) = (dates.get(i), patient.idx, values.get(i))
            else {
                continue;
            };
            for &(m, rule) in measures {
                let value = converted(rule, value, highs.get(i), || patient.sex_age)
                    .filter(|&v| valid(v, self.rules.domains[m]));
                let Some(value) = value else { continue };
                for &a in &self.atoms_of_measure[m] {
                    let Some(result) = self.atoms[a].1.of(date, idx, value) else {
                        continue;
                    };
                    match &mut self.slots[a] {
                        // An `any` atom's result is its code, 2.
                        AtomSlots::Any(slots) => slots.max(row, result as i8),
                        AtomSlots::Latest(slots) => slots.max(row, result),
                    }
                }
            }
        }
        Ok(())
    }

    /// One column per atom, aligned with the core's rows: null where no record counted.
    pub(crate) fn finish(self) -> Vec<Column> {
        self.atoms
            .iter()
            .zip(self.slots)
            .map(|((name, _), slots)| {
                match slots {
                    AtomSlots::Any(slots) => slots.finish::<Int8Type>(name),
                    AtomSlots::Latest(slots) => slots.finish::<Int32Type>(name),
                }
                .into_column()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
