//! The measurement kernel ([`crate::engine::kernel`]): a record's (LOINC, unit) key names the
//! measures that convert it; the record's value is converted once per such measure, and only
//! that measure's atoms test it.

use std::sync::Arc;

use polars::prelude::*;

use super::{converted, valid, MeasureRules, Rule, MEASURE_KEY};
use crate::engine::kernel::{
    all_valid, input, optional_values, AtomSlots, Kernel, NumberAtom, Reach, RecordAtom,
};
use crate::extract::distinct::map_distinct;
use crate::prefetch::{blocks, prefetch_block};

/// A measure's work on a record of a key that it converts: the rule, the measure's domain and
/// its atoms, resolved once per key.
struct Step {
    measure: usize,
    rule: Rule,
    domain: Option<(f64, f64)>,
    atoms: Vec<NumberAtom>,
}

/// A patient's sex and age, for eGFR; None where either is missing.
type SexAge = Option<(&'static str, i32)>;

/// The measurement atoms of one table's pass, with their slots.
pub(crate) struct MeasureKernel {
    rules: Arc<MeasureRules>,
    atoms: AtomSlots,
    /// Per record key, the measures read by some atom that give its records a value, and the
    /// dates their atoms could count.
    measures_of_key: Vec<(Vec<Step>, Reach)>,
    /// Per patient row.
    sex_age: Vec<SexAge>,
    /// Where counted ([`MeasureKernel::counting`]): the column's name, and per patient row the
    /// records of some measure whose unit none of those measures converts.
    unconvertible: Option<(&'static str, Vec<u32>)>,
}

impl MeasureKernel {
    /// The kernel of `atoms` (name, atom of a measure) over the patients of `core` (`p_idx`,
    /// `p_sex`, `p_age`, by row).
    pub(crate) fn new(
        rules: Arc<MeasureRules>,
        atoms: Vec<(String, RecordAtom)>,
        core: &DataFrame,
    ) -> PolarsResult<MeasureKernel> {
        let column = |name: &str, dtype: &DataType| -> PolarsResult<Series> {
            core.column(name)?.as_materialized_series().cast(dtype)
        };
        let (sex, age) = (
            column("p_sex", &DataType::String)?,
            column("p_age", &DataType::Int32)?,
        );
        // eGFR reads "F" and "M"; any other sex gives no value. Each distinct sex is matched
        // once, the ages read array by array (the chunked arrays' iterators cost about 180
        // instructions a patient, callgrind).
        let sexes = map_distinct(sex.str()?, |sex| {
            sex.map(|sex| match sex {
                "F" => "F",
                "M" => "M",
                _ => "",
            })
        });
        let ages = optional_values(age.i32()?);
        let sex_age = sexes.into_iter().zip(ages).map(|(s, a)| s.zip(a)).collect();
        let atoms = AtomSlots::new(atoms, rules.rules.len(), core)?;
        let keys = rules.rules.first().map_or(0, |rules| rules.len());
        let measures_of_key = (0..keys)
            .map(|key| {
                let measures: Vec<(usize, Rule)> = (0..rules.rules.len())
                    .map(|m| (m, rules.rules[m][key]))
                    .filter(|(m, rule)| {
                        !matches!(rule, Rule::Other | Rule::Unconvertible) && atoms.reads(*m)
                    })
                    .collect();
                let reach = atoms.reach(measures.iter().map(|(m, _)| *m));
                let steps = (measures.into_iter())
                    .map(|(measure, rule)| Step {
                        measure,
                        rule,
                        domain: rules.domains[measure],
                        atoms: atoms.number_atoms(measure),
                    })
                    .collect();
                (steps, reach)
            })
            .collect();
        Ok(MeasureKernel {
            rules,
            atoms,
            measures_of_key,
            sex_age,
            unconvertible: None,
        })
    }

    /// The kernel also counting, per patient, the records whose unit none of their measures
    /// converts (`MeasureRules::unconvertible`, as a UInt32 column `name`), where `name` is
    /// given: the count rides on the kernel's pass instead of a polars column and reduction
    /// of its own.
    pub(crate) fn counting(mut self, name: Option<&'static str>) -> MeasureKernel {
        let patients = self.sex_age.len();
        self.unconvertible = name.map(|name| (name, vec![0; patients]));
        self
    }
}

impl Kernel for MeasureKernel {
    fn inputs(&self) -> &'static [&'static str] {
        &["date", MEASURE_KEY, "value", "range_high"]
    }

    fn fold(&mut self, rows: &[IdxSize], morsel: &DataFrame) -> PolarsResult<()> {
        let (dates, keys, values, highs) = (
            input(morsel, "date", &DataType::Int32)?,
            input(morsel, MEASURE_KEY, &DataType::UInt32)?,
            input(morsel, "value", &DataType::Float64)?,
            input(morsel, "range_high", &DataType::Float64)?,
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
        if let Some((_, counts)) = &mut self.unconvertible {
            let unconvertible = &self.rules.unconvertible;
            // The morsel's first pass over its keys and rows, decoded a while before: their
            // loads went to memory (12 % of the kernel's samples at 10 M patients) until
            // asked for ahead.
            let keys = keys.values().as_slice();
            for block in blocks(rows.len()) {
                prefetch_block(keys, block.clone());
                prefetch_block(rows, block.clone());
                for (key, &row) in keys[block.clone()].iter().zip(&rows[block]) {
                    if unconvertible.get(*key as usize).copied().unwrap_or(false) {
                        counts[row as usize] += 1;
                    }
                }
            }
        }
        let complete = all_valid(&[keys.validity(), dates.validity(), values.validity()]);
        // Zipped, not indexed: no bounds check on the record's columns (same lengths, above).
        let records = (rows.iter().zip(keys.values().iter()))
            .zip(dates.values().iter().zip(values.values().iter()))
            .enumerate();
        for (i, ((&row, &key), (&date, &value))) in records {
            let row = row as usize;
            self.atoms.look_ahead(row);
            if complete
                .as_ref()
                .is_some_and(|complete| !complete.get_bit(i))
            {
                continue;
            }
            let Some((measures, reach)) = self.measures_of_key.get(key as usize) else {
                continue;
            };
            let Some(idx) = self.atoms.idx(row) else {
                continue;
            };
            if !reach.may_count(date, idx) {
                continue;
            }
            let sex_age = &self.sex_age;
            for step in measures {
                // An eGFR is two powers: not computed for a record that could change none of
                // the measure's slots. Any other value costs less than that test (about 70
                // instructions a record, callgrind), and folding it changes nothing either.
                if matches!(step.rule, Rule::Egfr { .. })
                    && self.atoms.settled(row, (date, idx), step.measure)
                {
                    continue;
                }
                let Some(value) = converted(step.rule, value, || highs.get(i), || sex_age[row])
                else {
                    continue;
                };
                if valid(value, step.domain) {
                    (self.atoms).fold_number(row, (date, idx), &step.atoms, value);
                }
            }
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Vec<Column> {
        let mut columns = self.atoms.finish();
        if let Some((name, counts)) = self.unconvertible {
            columns.push(UInt32Chunked::from_vec(name.into(), counts).into_column());
        }
        columns
    }
}

#[cfg(test)]
mod tests;
