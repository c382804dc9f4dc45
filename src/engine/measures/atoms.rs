//! The measurement kernel ([`crate::engine::kernel`]): a record's (LOINC, unit) key names the
//! measures that convert it; the record's value is converted once per such measure, and only
//! that measure's atoms test it.

use std::sync::Arc;

use polars::prelude::*;
use polars_arrow::array::PrimitiveArray;
use polars_arrow::bitmap::Bitmap;

use super::{converted, valid, MeasureRules, Rule, MEASURE_KEY};
use crate::engine::kernel::{
    all_valid, input, optional_values, AtomSlots, Kernel, NumberAtom, Reach, RecordAtom,
};
use crate::extract::distinct::map_distinct;

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

    /// Folds a morsel's records into the atoms' slots; with `COUNT`, also counts into `counts`
    /// (per patient row) the records whose key no measure converts, whatever their other values.
    fn fold_records<const COUNT: bool>(&mut self, records: &Records, counts: &mut [u32]) {
        let unconvertible = &*self.rules.unconvertible;
        let highs = records.highs;
        // Zipped, not indexed: no bounds check on the record's columns (same lengths, checked
        // by the caller).
        let each = (records.rows.iter().zip(records.keys.iter()))
            .zip(records.dates.iter().zip(records.values.iter()))
            .enumerate();
        for (i, ((&row, &key), (&date, &value))) in each {
            let row = row as usize;
            self.atoms.look_ahead(row);
            if COUNT && unconvertible.get(key as usize).copied().unwrap_or(false) {
                counts[row] += 1;
            }
            if records
                .complete
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
    }
}

/// A morsel's measurement records, column by column, all as long as `rows`.
struct Records<'a> {
    rows: &'a [IdxSize],
    keys: &'a [u32],
    dates: &'a [i32],
    values: &'a [f64],
    highs: &'a PrimitiveArray<f64>,
    /// Where some record lacks its key, date or value: the records that have all three.
    complete: Option<&'a Bitmap>,
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
        let complete = all_valid(&[keys.validity(), dates.validity(), values.validity()]);
        let records = Records {
            rows,
            keys: keys.values(),
            dates: dates.values(),
            values: values.values(),
            highs,
            complete: complete.as_ref(),
        };
        // The unconvertible units counted in the pass that folds the records: a pass of their
        // own read every record's key and row once more.
        match self.unconvertible.take() {
            Some((name, mut counts)) => {
                self.fold_records::<true>(&records, &mut counts);
                self.unconvertible = Some((name, counts));
            }
            None => self.fold_records::<false>(&records, &mut []),
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
