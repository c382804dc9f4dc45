//! Record tables as the engine sees them: each contract table reduced to standard columns
//! (`date` in days, a normalized `code`, the value), joined with the patient's index date, and
//! the record-level pieces of a query: source, window, converted value.

use polars::prelude::*;

use super::codes::{in_set, normalized_atc, normalized_icd10};
use super::inputs::{days, Inputs};
use crate::definition::model::{
    Conversion, Definition, Measure, MeasureValue, ObservationDef, Source, ValueKind, Window,
};

/// The tables that record-level queries read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum RecordTable {
    Diagnosis,
    Measurement,
    Observation,
    Treatment,
    MolecularTest,
}

impl RecordTable {
    pub(crate) fn of(source: &Source) -> RecordTable {
        match source {
            Source::Diagnosis(_) => RecordTable::Diagnosis,
            Source::Treatment(_) => RecordTable::Treatment,
            Source::Measure(_) => RecordTable::Measurement,
            Source::Observation(_) => RecordTable::Observation,
            Source::MolecularTest => RecordTable::MolecularTest,
        }
    }

    /// The table's rows in standard form: `person_id`, `date` (days; for treatments the start),
    /// and the table's own columns, normalized.
    pub(crate) fn rows(self, inputs: &Inputs) -> LazyFrame {
        match self {
            RecordTable::Diagnosis => inputs.diagnosis.clone().select([
                col("person_id"),
                days("date").alias("date"),
                normalized_icd10("icd10").alias("code"),
            ]),
            RecordTable::Measurement => inputs.measurement.clone().select([
                col("person_id"),
                days("date").alias("date"),
                col("loinc").alias("code"),
                col("value"),
                col("unit").str().strip_chars(lit(NULL)).alias("unit"),
                col("range_high"),
            ]),
            RecordTable::Observation => inputs.observation.clone().select([
                col("person_id"),
                days("date").alias("date"),
                col("code").str().strip_chars(lit(NULL)).alias("code"),
                col("value_num"),
                col("value_text")
                    .str()
                    .strip_chars(lit(NULL))
                    .alias("value_text"),
            ]),
            RecordTable::Treatment => inputs.treatment.clone().select([
                col("person_id"),
                days("start_date").alias("date"),
                days("end_date").alias("end"),
                normalized_atc(col("atc")).alias("code"),
                col("kind"),
            ]),
            RecordTable::MolecularTest => inputs.molecular_test.clone().select([
                col("person_id"),
                days("report_date").alias("date"),
                col("approved_lab"),
            ]),
        }
    }
}

/// The record's date lies in the window relative to the index date `p_idx`.
pub(crate) fn in_window(window: &Window) -> Expr {
    let date = col("date");
    let idx = col("p_idx");
    let expr = match window {
        Window::UpToIndex => date.lt_eq(idx),
        Window::WithinDays(n) => date
            .clone()
            .lt_eq(idx.clone())
            .and(date.gt_eq(idx - lit(*n as i32))),
        Window::Ongoing { grace_days } => date.lt_eq(idx.clone()).and(
            col("end")
                .is_null()
                .or(col("end").gt_eq(idx - lit(*grace_days as i32))),
        ),
    };
    expr.fill_null(lit(false))
}

/// The record belongs to the source (code set, measure, observation), before any value check.
pub(crate) fn of_source(definition: &Definition, source: &Source) -> Expr {
    match source {
        Source::Diagnosis(Some(set)) | Source::Treatment(Some(set)) => {
            in_set(col("code"), &definition.code_sets[*set])
        }
        Source::Diagnosis(None) | Source::Treatment(None) | Source::MolecularTest => lit(true),
        Source::Measure(m) => one_of(col("code"), &definition.measures[*m].loinc),
        Source::Observation(o) => col("code").eq(lit(definition.observations[*o].code.as_str())),
    }
}

/// The measure's value of a measurement record, converted to the measure's unit (for ratios: the
/// ratio to the upper limit of normal); null where the unit cannot be converted or the value is
/// out of the measure's domain (such records are dropped).
pub(crate) fn measure_value(measure: &Measure) -> Expr {
    let converted = convert(col("value"), measure);
    let value = match &measure.value {
        MeasureValue::Value => converted,
        MeasureValue::RatioToUln { fallback } => when(
            converted
                .clone()
                .is_not_null()
                .and(col("range_high").gt(lit(0.0))),
        )
        .then(col("value") / col("range_high"))
        .otherwise(converted / lit(*fallback)),
        MeasureValue::EgfrFromCreatinine {
            creatinine_loinc,
            creatinine_units,
        } => when(is_one_of(creatinine_loinc))
            .then(egfr_ckd_epi_2021(convert_by(
                col("value"),
                creatinine_units,
            )))
            .otherwise(converted),
    };
    let valid = value.clone().gt_eq(lit(0.0));
    let valid = match measure.domain {
        Some((low, high)) => valid.and(between(value.clone(), low, high)),
        None => valid,
    };
    when(valid)
        .then(value)
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// `value` in `measure.unit`, or null where its unit is not the measure's nor a declared source.
fn convert(value: Expr, measure: &Measure) -> Expr {
    when(col("unit").eq(lit(measure.unit.as_str())))
        .then(value.clone())
        .otherwise(convert_by(value, &measure.conversions))
}

/// `value` converted by the first conversion whose unit is the record's, else null.
fn convert_by(value: Expr, conversions: &[Conversion]) -> Expr {
    let mut converted = lit(NULL).cast(DataType::Float64);
    for conversion in conversions.iter().rev() {
        converted = when(col("unit").eq(lit(conversion.from.as_str())))
            .then(value.clone() * lit(conversion.factor))
            .otherwise(converted);
    }
    converted
}

/// The record's LOINC code is one of `codes`.
fn is_one_of(codes: &[String]) -> Expr {
    one_of(col("code"), codes)
}

/// `text` equals one of `values` (null where `text` is null). A few values become a chain of
/// equalities: comparing a short string view per value is cheaper than hashing every row, which
/// polars' `is_in` does (it was the top of the profile on measurement rows). Many use `is_in`.
pub(crate) fn one_of<S: AsRef<str>>(text: Expr, values: &[S]) -> Expr {
    const CHAIN: usize = 8;
    if values.is_empty() || values.len() > CHAIN {
        let values: Vec<&str> = values.iter().map(AsRef::as_ref).collect();
        return text.is_in(
            lit(Series::new("values".into(), values)).implode(false),
            false,
        );
    }
    values
        .iter()
        .map(|v| text.clone().eq(lit(v.as_ref())))
        .reduce(Expr::or)
        .unwrap_or(lit(false))
}

/// The record's unit can be converted to the measure's unit (for eGFR measures, creatinine
/// records by the creatinine conversions, the others by the measure's).
pub(crate) fn measure_unit_convertible(measure: &Measure) -> Expr {
    let units = |conversions: &[Conversion], own: Option<&str>| {
        let mut units: Vec<&str> = own.into_iter().collect();
        units.extend(conversions.iter().map(|c| c.from.as_str()));
        one_of(col("unit"), &units)
    };
    let known = units(&measure.conversions, Some(measure.unit.as_str()));
    let known = match &measure.value {
        MeasureValue::EgfrFromCreatinine {
            creatinine_loinc,
            creatinine_units,
        } => when(is_one_of(creatinine_loinc))
            .then(units(creatinine_units, None))
            .otherwise(known),
        _ => known,
    };
    known.fill_null(lit(false))
}

/// `low <= value <= high`.
fn between(value: Expr, low: f64, high: f64) -> Expr {
    value.clone().gt_eq(lit(low)).and(value.lt_eq(lit(high)))
}

/// eGFR (mL/min/1.73 m2) by CKD-EPI 2021 (Inker et al., NEJM 2021), race-free:
/// 142 x min(Scr/k, 1)^a x max(Scr/k, 1)^-1.200 x 0.9938^age x 1.012 (female), with
/// k = 0.7 (F) / 0.9 (M), a = -0.241 (F) / -0.302 (M). Age = year(idx) - birth_year.
/// Sex `U` or a missing birth year gives no value.
pub(crate) fn egfr_ckd_epi_2021(scr_mg_dl: Expr) -> Expr {
    let female = col("p_sex").eq(lit("F"));
    let male = col("p_sex").eq(lit("M"));
    let kappa = when(female.clone())
        .then(lit(0.7))
        .when(male.clone())
        .then(lit(0.9))
        .otherwise(lit(NULL).cast(DataType::Float64));
    let alpha = when(female.clone())
        .then(lit(-0.241))
        .otherwise(lit(-0.302));
    let ratio = scr_mg_dl.clone() / kappa;
    let low = when(ratio.clone().lt(lit(1.0)))
        .then(ratio.clone())
        .otherwise(lit(1.0));
    let high = when(ratio.clone().gt(lit(1.0)))
        .then(ratio)
        .otherwise(lit(1.0));
    let age = col("p_age").cast(DataType::Float64);
    let sex_factor = when(female.clone()).then(lit(1.012)).otherwise(lit(1.0));
    let egfr =
        lit(142.0) * low.pow(alpha) * high.pow(lit(-1.200)) * lit(0.9938).pow(age) * sex_factor;
    // `when(null)` takes the `otherwise` branch, so a missing input must be caught explicitly.
    let computable = female
        .or(male)
        .and(col("p_age").is_not_null())
        .and(scr_mg_dl.is_not_null())
        .fill_null(lit(false));
    when(computable)
        .then(egfr)
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// The observation's value: value_num or value_text within the declared domain, else null.
pub(crate) fn observation_value(observation: &ObservationDef) -> Expr {
    match observation.kind {
        ValueKind::Number => {
            let v = col("value_num");
            let valid = match observation.number_domain {
                Some((low, high)) => between(v.clone(), low, high),
                None => v.clone().is_not_null(),
            };
            when(valid)
                .then(v)
                .otherwise(lit(NULL).cast(DataType::Float64))
        }
        ValueKind::Text => {
            let v = col("value_text");
            match &observation.text_domain {
                Some(values) => when(one_of(v.clone(), values))
                    .then(v)
                    .otherwise(lit(NULL).cast(DataType::String)),
                None => v,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `one_of` gives what `is_in` gives, for a chain of equalities and for a long list alike,
    /// including null for a null text.
    #[test]
    fn one_of_agrees_with_is_in() {
        let text = df!("t" => [Some("g/dL"), Some("g/L"), None, Some("mmol/L"), Some("")]).unwrap();
        let few = ["g/dL", "mmol/L"];
        let many: Vec<String> = (0..20)
            .map(|i| format!("u{i}"))
            .chain(["g/L".into()])
            .collect();
        let out = text
            .lazy()
            .select([
                one_of(col("t"), &few).alias("few"),
                one_of(col("t"), &many).alias("many"),
                one_of::<&str>(col("t"), &[]).alias("none"),
            ])
            .collect()
            .unwrap();
        let column = |name: &str| -> Vec<Option<bool>> {
            out.column(name).unwrap().bool().unwrap().iter().collect()
        };
        assert_eq!(
            column("few"),
            [Some(true), Some(false), None, Some(true), Some(false)]
        );
        assert_eq!(
            column("many"),
            [Some(false), Some(true), None, Some(false), Some(false)]
        );
        assert_eq!(column("none")[0], Some(false));
    }
}
