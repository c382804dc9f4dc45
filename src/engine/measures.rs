//! Measurement values by a table-driven kernel. Each measurement record's (LOINC, unit) pair is
//! mapped once to a small integer key; per measure, a rule per key compiled from the definition
//! (not this measure, unconvertible unit, scale, ratio to the upper limit of normal, eGFR from
//! creatinine) turns the record's value into the measure's unit in one pass over plain arrays.
//!
//! Written as polars expressions, every measure compared the unit string once per declared unit
//! on every row and computed its converted value two to six times per row (polars does not share
//! a `when/then` that appears twice): more than half of the measurement table's time.

use std::borrow::Cow;
use std::sync::Arc;

use foldhash::HashMap;
use polars::prelude::*;
use polars_arrow::array::{BooleanArray, PrimitiveArray, Utf8ViewArray};
use polars_arrow::bitmap::MutableBitmap;

use crate::definition::model::{Conversion, Definition, Measure, MeasureValue};
use crate::extract::distinct::map_distinct;
use crate::extract::text_keys::TextKey;
use crate::prefetch::{blocks, prefetch_block};
use crate::udf::MapColumn;

/// Column of each measurement record's (LOINC, unit) key, computed before the measures' values.
pub(crate) const MEASURE_KEY: &str = "__measure_key";
/// A measurement's code key, as the table is read ([`MeasureRules::text_keys`]).
pub(crate) const CODE_KEY: &str = "__loinc_key";
/// A measurement's unit key, as the table is read ([`MeasureRules::text_keys`]).
pub(crate) const UNIT_KEY: &str = "__unit_key";
/// The bit of a unit key that says the unit as recorded was flagged.
const FLAG_BIT: u32 = 31;
const FLAGGED: u32 = 1 << FLAG_BIT;

/// How one measure reads a record with a given (LOINC, unit) pair.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    /// Not a record of this measure.
    Other,
    /// A record of this measure whose unit it cannot convert: no value.
    Unconvertible,
    /// `value * factor` (the factor is 1 for the measure's own unit).
    Scale(f64),
    /// `value / range_high` where the record has an upper limit of normal above 0, else
    /// `value * factor / fallback`.
    RatioToUln { factor: f64, fallback: f64 },
    /// Creatinine in mg/dL is `value * factor`; the value is its eGFR (CKD-EPI 2021).
    Egfr { factor: f64 },
}

/// The rules of every measure of a definition, indexed by record key.
#[derive(Debug)]
pub(crate) struct MeasureRules {
    /// LOINC code -> index from 1 (0: any other code).
    codes: HashMap<Box<str>, u32>,
    /// Unit, trimmed -> index from 1 (0: any other unit, or none).
    units: HashMap<Box<str>, u32>,
    /// Per measure, the rule of each key (`code * stride + unit`).
    rules: Vec<Arc<[Rule]>>,
    domains: Vec<Option<(f64, f64)>>,
    /// Per key: a record of some measure whose unit none of those measures can convert.
    unconvertible: Arc<[bool]>,
}

/// Index of each distinct string from 1, in order of first appearance.
pub(crate) fn index<'a>(values: impl IntoIterator<Item = &'a str>) -> HashMap<Box<str>, u32> {
    let mut index = HashMap::default();
    for value in values {
        let next = index.len() as u32 + 1;
        index.entry(value.into()).or_insert(next);
    }
    index
}

/// The factor from `unit` to the measure's unit: 1 for its own, else the first conversion's.
fn factor(unit: &str, own: Option<&str>, conversions: &[Conversion]) -> Option<f64> {
    if own == Some(unit) {
        return Some(1.0);
    }
    conversions
        .iter()
        .find(|c| c.from == unit)
        .map(|c| c.factor)
}

fn rule(measure: &Measure, code: &str, unit: &str) -> Rule {
    if !measure.loinc.iter().any(|c| c == code) {
        return Rule::Other;
    }
    let own = Some(measure.unit.as_str());
    let rule = match &measure.value {
        MeasureValue::Value => factor(unit, own, &measure.conversions).map(Rule::Scale),
        MeasureValue::RatioToUln { fallback } => {
            factor(unit, own, &measure.conversions).map(|factor| Rule::RatioToUln {
                factor,
                fallback: *fallback,
            })
        }
        MeasureValue::EgfrFromCreatinine {
            creatinine_loinc,
            creatinine_units,
        } => {
            if creatinine_loinc.iter().any(|c| c == code) {
                factor(unit, None, creatinine_units).map(|factor| Rule::Egfr { factor })
            } else {
                factor(unit, own, &measure.conversions).map(Rule::Scale)
            }
        }
    };
    rule.unwrap_or(Rule::Unconvertible)
}

/// An eGFR measure's creatinine LOINC codes and units; none for other measures.
fn creatinine(measure: &Measure) -> (&[String], &[Conversion]) {
    match &measure.value {
        MeasureValue::EgfrFromCreatinine {
            creatinine_loinc,
            creatinine_units,
        } => (creatinine_loinc, creatinine_units),
        _ => (&[], &[]),
    }
}

impl MeasureRules {
    pub(crate) fn new(definition: &Definition) -> MeasureRules {
        let measures = &definition.measures;
        let codes = index(measures.iter().flat_map(|m| {
            let (creatinine, _) = creatinine(m);
            m.loinc.iter().chain(creatinine).map(String::as_str)
        }));
        let units = index(measures.iter().flat_map(|m| {
            let (_, creatinine) = creatinine(m);
            std::iter::once(m.unit.as_str()).chain(
                m.conversions
                    .iter()
                    .chain(creatinine)
                    .map(|c| c.from.as_str()),
            )
        }));
        fn by_index(index: &HashMap<Box<str>, u32>) -> Vec<Option<&str>> {
            let mut names = vec![None; index.len() + 1];
            for (name, &i) in index {
                names[i as usize] = Some(name.as_ref());
            }
            names
        }
        let (code_names, unit_names) = (by_index(&codes), by_index(&units));
        let keys = || {
            code_names
                .iter()
                .flat_map(|code| unit_names.iter().map(move |unit| (*code, *unit)))
        };
        // Index 0 stands for any other code or unit: it matches no measure's list.
        let rules: Vec<Arc<[Rule]>> = measures
            .iter()
            .map(|measure| {
                keys()
                    .map(|(code, unit)| match (code, unit) {
                        (Some(code), Some(unit)) => rule(measure, code, unit),
                        (Some(code), None) => rule(measure, code, ""),
                        (None, _) => Rule::Other,
                    })
                    .collect()
            })
            .collect();
        let unconvertible = (0..code_names.len() * unit_names.len())
            .map(|key| {
                let of_some = rules.iter().any(|r| r[key] != Rule::Other);
                let converted = rules
                    .iter()
                    .any(|r| !matches!(r[key], Rule::Other | Rule::Unconvertible));
                of_some && !converted
            })
            .collect();
        MeasureRules {
            codes,
            units,
            rules,
            domains: measures.iter().map(|m| m.domain).collect(),
            unconvertible,
        }
    }

    fn stride(&self) -> u32 {
        self.units.len() as u32 + 1
    }

    /// The record key (UInt32) of the standard measurement columns `code` and `unit` (trimmed).
    pub(crate) fn key(self: &Arc<Self>) -> Expr {
        let this = Arc::clone(self);
        map_multiple(
            move |columns: &mut [Column]| {
                let keys = this.keys_of(columns[0].str()?, columns[1].str()?);
                Ok(UInt32Chunked::from_vec(MEASURE_KEY.into(), keys).into_column())
            },
            [col("code"), col("unit")],
            |_, _| Ok(Field::new(MEASURE_KEY.into(), DataType::UInt32)),
        )
    }

    /// The measurement table's text columns as it is read ([`TextKey`]): each `loinc`'s code
    /// key ([`CODE_KEY`]) and each `unit`'s unit key, trimmed ([`UNIT_KEY`]), with the bit
    /// [`FLAGGED`] where `flagged` holds the unit as recorded (the contract's units check). Both
    /// computed once per dictionary entry or distinct string; [`MeasureRules::key_of_keys`]
    /// then combines them.
    pub(crate) fn text_keys(
        self: &Arc<Self>,
        flagged: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> [TextKey; 2] {
        let (codes, units) = (Arc::clone(self), Arc::clone(self));
        [
            TextKey::new("loinc", CODE_KEY, move |code| codes.code_key(code)),
            TextKey::new("unit", UNIT_KEY, move |unit| units.unit_key(unit, &flagged)),
        ]
    }

    /// How many units of measurements read with [`MeasureRules::text_keys`] are flagged,
    /// counted as the table is read (the contract's units check). The records' keys are not
    /// computed there but where evaluation reads the records, morsel by morsel
    /// ([`MeasureRules::key_of_keys`]): computed for a partition's whole table as it was read,
    /// they were a column of fresh pages written, then read back from memory by the kernel.
    pub(crate) fn flagged_units(frame: &DataFrame) -> PolarsResult<u64> {
        let units = frame.column(UNIT_KEY)?.u32()?;
        polars_ensure!(
            units.null_count() == 0,
            ComputeError: "a measurement's unit key is missing"
        );
        Ok((units.downcast_iter())
            .map(|units| (units.values().iter()).map(|unit| u64::from(unit >> FLAG_BIT)))
            .map(Iterator::sum::<u64>)
            .sum())
    }

    /// The record key (UInt32) of measurements read with [`MeasureRules::text_keys`]: from their
    /// code and unit keys ([`CODE_KEY`], [`UNIT_KEY`]).
    pub(crate) fn key_of_keys(self: &Arc<Self>) -> Expr {
        let this = Arc::clone(self);
        map_multiple(
            move |columns: &mut [Column]| {
                let keys = this.keys_of_keys(columns[0].u32()?, columns[1].u32()?)?;
                Ok(keys.into_column())
            },
            [col(CODE_KEY), col(UNIT_KEY)],
            |_, _| Ok(Field::new(MEASURE_KEY.into(), DataType::UInt32)),
        )
    }

    /// `records` read with [`MeasureRules::text_keys`] (a row group of them, `engine::tables`
    /// folding them as they are read) with their record key, [`MEASURE_KEY`], beside:
    /// [`MeasureRules::key_of_keys`] without a plan.
    pub(crate) fn with_key(&self, mut records: DataFrame) -> PolarsResult<DataFrame> {
        let (codes, units) = (records.column(CODE_KEY)?, records.column(UNIT_KEY)?);
        let keys = self.keys_of_keys(codes.u32()?, units.u32()?)?;
        records.with_column(keys.with_name(MEASURE_KEY.into()).into_column())?;
        Ok(records)
    }

    fn keys_of_keys(
        &self,
        codes: &UInt32Chunked,
        units: &UInt32Chunked,
    ) -> PolarsResult<UInt32Chunked> {
        polars_ensure!(
            codes.null_count() == 0 && units.null_count() == 0,
            ComputeError: "a measurement's code or unit key is missing"
        );
        // Chunk by chunk, as read (a row group's each): one chunk of each copied all of them,
        // and its fresh pages were a tenth of a run's page faults at 1 M patients (`perf`).
        let (codes, units) = match codes.chunk_lengths().eq(units.chunk_lengths()) {
            true => (Cow::Borrowed(codes), Cow::Borrowed(units)),
            false => (codes.rechunk(), units.rechunk()),
        };
        let chunks: Vec<(&[u32], &[u32])> = (codes.downcast_iter().zip(units.downcast_iter()))
            .map(|(codes, units)| (codes.values().as_slice(), units.values().as_slice()))
            .collect();
        let keys = self.combined(&chunks, codes.len());
        Ok(UInt32Chunked::from_vec(MEASURE_KEY.into(), keys))
    }

    /// A record's code key: the code's index among the definition's codes, 0 for any other.
    fn code_key(&self, code: Option<&str>) -> u32 {
        code.and_then(|code| self.codes.get(code))
            .copied()
            .unwrap_or(0)
    }

    /// A record's unit key: the trimmed unit's index among the definition's units (0 for any
    /// other), with the bit [`FLAGGED`] where `flagged` holds the unit as recorded.
    fn unit_key(&self, unit: Option<&str>, flagged: impl Fn(&str) -> bool) -> u32 {
        let key = unit.and_then(|unit| self.units.get(unit.trim()));
        let flag = match unit.is_some_and(flagged) {
            true => FLAGGED,
            false => 0,
        };
        key.copied().unwrap_or(0) | flag
    }

    /// Each record's key from its code and unit keys, given in `chunks` of equal lengths (`len`
    /// records in all): a plain loop, which the compiler vectorizes, over each block of records
    /// in turn, its lines asked for ahead (`crate::prefetch`).
    fn combined(&self, chunks: &[(&[u32], &[u32])], len: usize) -> Vec<u32> {
        let stride = self.stride();
        let mut keys = Vec::with_capacity(len);
        for (codes, units) in chunks {
            for rows in blocks(codes.len()) {
                prefetch_block(codes, rows.clone());
                prefetch_block(units, rows.clone());
                let (block_codes, block_units) = (&codes[rows.clone()], &units[rows]);
                let pairs = block_codes.iter().zip(block_units);
                keys.extend(pairs.map(|(code, unit)| code * stride + (unit & !FLAGGED)));
            }
        }
        keys
    }

    /// Each record's key from its code and unit (trimmed), each looked up once per distinct
    /// value of a chunk.
    fn keys_of(&self, codes: &StringChunked, units: &StringChunked) -> Vec<u32> {
        let codes = map_distinct(codes, |code| self.code_key(code));
        let units = map_distinct(units, |unit| self.unit_key(unit, |_| false));
        self.combined(&[(&codes, &units)], codes.len())
    }

    /// Whether the record is of some measure but has a unit none of those measures converts.
    pub(crate) fn unconvertible(self: &Arc<Self>) -> Expr {
        let table = Arc::clone(&self.unconvertible);
        col(MEASURE_KEY).map_column(
            move |keys: Column| {
                let keys = keys.as_materialized_series().rechunk();
                let keys = keys.u32()?.cont_slice()?;
                let flags: MutableBitmap = keys.iter().map(|&key| table[key as usize]).collect();
                let flags = BooleanArray::new(ArrowDataType::Boolean, flags.into(), None);
                Ok(BooleanChunked::with_chunk(PlSmallStr::EMPTY, flags).into_column())
            },
            |_, _| Ok(Field::new(PlSmallStr::EMPTY, DataType::Boolean)),
        )
    }

    /// Measure `m`'s value (Float64) of each record, in the measure's unit: null where the record
    /// is not of the measure, its unit cannot be converted, or the value is out of the measure's
    /// domain (below 0 or outside its plausible range). Reads `value`, `range_high`, and for eGFR
    /// the patient's `p_sex` and `p_age`.
    pub(crate) fn value(self: &Arc<Self>, m: usize) -> Expr {
        let rules = Arc::clone(&self.rules[m]);
        let domain = self.domains[m];
        map_multiple(
            move |columns: &mut [Column]| {
                let columns = Inputs::of(columns)?;
                let inputs = columns.arrays();
                let keys = inputs.key.values().as_slice();
                let mut values = vec![0.0; keys.len()];
                let mut validity = MutableBitmap::from_len_zeroed(keys.len());
                for (i, &key) in keys.iter().enumerate() {
                    let rule = rules[key as usize];
                    if matches!(rule, Rule::Other | Rule::Unconvertible) {
                        continue;
                    }
                    if let Some(value) = inputs.value(rule, i).filter(|&v| valid(v, domain)) {
                        values[i] = value;
                        validity.set(i, true);
                    }
                }
                let values = PrimitiveArray::new(
                    ArrowDataType::Float64,
                    values.into(),
                    Some(validity.into()),
                );
                Ok(Float64Chunked::with_chunk(PlSmallStr::EMPTY, values).into_column())
            },
            [
                col(MEASURE_KEY),
                col("value"),
                col("range_high"),
                col("p_sex"),
                col("p_age"),
            ],
            |_, _| Ok(Field::new(PlSmallStr::EMPTY, DataType::Float64)),
        )
    }
}

/// The columns one measure's value reads, each one chunk of its type.
struct Inputs {
    key: UInt32Chunked,
    value: Float64Chunked,
    range_high: Float64Chunked,
    sex: StringChunked,
    age: Int32Chunked,
}

impl Inputs {
    fn of(columns: &[Column]) -> PolarsResult<Inputs> {
        let typed = |i: usize, dtype: &DataType| -> PolarsResult<Series> {
            Ok(columns[i].as_materialized_series().cast(dtype)?.rechunk())
        };
        Ok(Inputs {
            key: typed(0, &DataType::UInt32)?.u32()?.clone(),
            value: typed(1, &DataType::Float64)?.f64()?.clone(),
            range_high: typed(2, &DataType::Float64)?.f64()?.clone(),
            sex: typed(3, &DataType::String)?.str()?.clone(),
            age: typed(4, &DataType::Int32)?.i32()?.clone(),
        })
    }

    fn arrays(&self) -> Arrays<'_> {
        Arrays {
            key: self.key.downcast_as_array(),
            value: self.value.downcast_as_array(),
            range_high: self.range_high.downcast_as_array(),
            sex: self.sex.downcast_as_array(),
            age: self.age.downcast_as_array(),
        }
    }
}

struct Arrays<'a> {
    key: &'a PrimitiveArray<u32>,
    value: &'a PrimitiveArray<f64>,
    range_high: &'a PrimitiveArray<f64>,
    sex: &'a Utf8ViewArray,
    age: &'a PrimitiveArray<i32>,
}

impl Arrays<'_> {
    /// The record's value under `rule` (a rule of the measure), before the domain check.
    fn value(&self, rule: Rule, i: usize) -> Option<f64> {
        let patient = || Some((self.sex.get(i)?, self.age.get(i)?));
        converted(rule, self.value.get(i)?, || self.range_high.get(i), patient)
    }
}

/// A record's `value` under `rule` (a rule of the measure), before the domain check: its upper
/// limit of normal `range_high` is read for a ratio to it only, and its patient's sex and age
/// for eGFR only.
#[inline(always)]
fn converted<'a>(
    rule: Rule,
    value: f64,
    range_high: impl FnOnce() -> Option<f64>,
    patient: impl FnOnce() -> Option<(&'a str, i32)>,
) -> Option<f64> {
    match rule {
        Rule::Other | Rule::Unconvertible => None,
        Rule::Scale(factor) => Some(value * factor),
        Rule::RatioToUln { factor, fallback } => Some(match range_high() {
            Some(high) if greater(high, 0.0) => value / high,
            _ => value * factor / fallback,
        }),
        Rule::Egfr { factor } => {
            let (sex, age) = patient()?;
            egfr_ckd_epi_2021(value * factor, sex, age)
        }
    }
}

/// Float order as polars compares: NaN is greater than every number (and equal to itself).
#[inline(always)]
pub(crate) fn greater(a: f64, b: f64) -> bool {
    if a.is_nan() {
        !b.is_nan()
    } else {
        a > b
    }
}

#[inline(always)]
pub(crate) fn less(a: f64, b: f64) -> bool {
    greater(b, a)
}

/// `value >= 0`, and within the measure's domain if it has one (polars' float order).
#[inline(always)]
fn valid(value: f64, domain: Option<(f64, f64)>) -> bool {
    let at_least = |low: f64| !less(value, low);
    at_least(0.0) && domain.is_none_or(|(low, high)| at_least(low) && !greater(value, high))
}

/// Ages whose factor 0.9938^age is looked up rather than computed (a `powf` per creatinine record
/// was 2 % of a run's instructions).
const TABULATED_AGES: usize = 151;

/// 0.9938^age: looked up for ages 0 to 150, from the same `powf` (so the same bits), else
/// computed.
fn age_factor(age: i32) -> f64 {
    static FACTORS: std::sync::LazyLock<[f64; TABULATED_AGES]> =
        std::sync::LazyLock::new(|| std::array::from_fn(|age| 0.9938f64.powf(age as f64)));
    match usize::try_from(age) {
        Ok(age) if age < TABULATED_AGES => FACTORS[age],
        _ => 0.9938f64.powf(f64::from(age)),
    }
}

/// `base.powf(exponent)`, remembered per thread in a direct-mapped table of the last powers
/// computed: creatinine is recorded to a few hundred values (436 distinct among the 1.3 M of the
/// synthetic 1 M extract), so nearly every record's power was computed before, and a `powf` per
/// creatinine record was 0.6 % of a 10 M run's samples. The same bits as `powf`: a slot answers
/// only the base and exponent, bit for bit, it was computed for.
fn remembered_powf(base: f64, exponent: f64) -> f64 {
    const SLOTS: usize = 1 << 10;
    type Slot = Option<(u64, u64, f64)>;
    thread_local! {
        static POWERS: std::cell::RefCell<[Slot; SLOTS]> =
            const { std::cell::RefCell::new([None; SLOTS]) };
    }
    let key = (base.to_bits(), exponent.to_bits());
    let hash = (key.0 ^ key.1.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let slot = (hash >> (64 - SLOTS.trailing_zeros())) as usize;
    POWERS.with_borrow_mut(|powers| match powers[slot] {
        Some((b, e, power)) if (b, e) == key => power,
        _ => {
            let power = base.powf(exponent);
            powers[slot] = Some((key.0, key.1, power));
            power
        }
    })
}

/// eGFR (mL/min/1.73 m2) by CKD-EPI 2021 (Inker et al., NEJM 2021), race-free:
/// 142 x min(Scr/k, 1)^a x max(Scr/k, 1)^-1.200 x 0.9938^age x 1.012 (female), with
/// k = 0.7 (F) / 0.9 (M), a = -0.241 (F) / -0.302 (M). Age = year(idx) - birth year.
/// Sex `U` gives no value.
pub(crate) fn egfr_ckd_epi_2021(scr_mg_dl: f64, sex: &str, age: i32) -> Option<f64> {
    let (kappa, alpha, sex_factor) = match sex {
        "F" => (0.7, -0.241, 1.012),
        "M" => (0.9, -0.302, 1.0),
        _ => return None,
    };
    let ratio = scr_mg_dl / kappa;
    let low = if less(ratio, 1.0) { ratio } else { 1.0 };
    let high = if greater(ratio, 1.0) { ratio } else { 1.0 };
    // One of the two factors is 1, and 1 to any power is exactly 1: no `powf` for it.
    let power = |base: f64, exponent: f64| {
        if base == 1.0 {
            1.0
        } else {
            remembered_powf(base, exponent)
        }
    };
    Some(142.0 * power(low, alpha) * power(high, -1.200) * age_factor(age) * sex_factor)
}

pub(crate) mod atoms;

#[cfg(test)]
mod tests;
