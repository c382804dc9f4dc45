//! Record tables as the engine sees them: each contract table reduced to standard columns
//! (`date` in days, a normalized `code`, the value), joined with the patient's index date, and
//! the record-level pieces of a query: source, window, converted value.

use std::collections::HashSet;

use polars::prelude::*;

use super::codes::{normalized_atc, normalized_icd10, CODE_SETS, DRUG_ATC};
use super::inputs::{days, Inputs};
use super::lookup::ROW;
use super::measures::MEASURE_KEY;
use super::observations::{OBSERVATION_KEY, TEXT_KEY};
use crate::definition::model::{ObservationDef, Source, ValueKind, Window};
use crate::extract::distinct::{normal_form, text_flags, trimmed};
use crate::extract::Table;

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

    /// The contract table.
    pub(crate) fn table(self) -> Table {
        match self {
            RecordTable::Diagnosis => Table::Diagnosis,
            RecordTable::Measurement => Table::Measurement,
            RecordTable::Observation => Table::Observation,
            RecordTable::Treatment => Table::Treatment,
            RecordTable::MolecularTest => Table::MolecularTest,
        }
    }

    /// The table's rows in standard form: `person_id`, `date` (days; for treatments the start),
    /// and the table's own columns, normalized.
    pub(crate) fn rows(self, inputs: &Inputs) -> LazyFrame {
        match self {
            RecordTable::Diagnosis => {
                // In normal form where it was computed as the table was read.
                let code = match has(&inputs.diagnosis, NORMAL_ICD10) {
                    true => col(NORMAL_ICD10).alias("code"),
                    false => normalized_icd10("icd10").alias("code"),
                };
                let columns = vec![col("person_id"), days("date").alias("date"), code];
                with_read_keys(&inputs.diagnosis, columns, &[])
            }
            RecordTable::Measurement => with_read_keys(
                &inputs.measurement,
                vec![
                    col("person_id"),
                    days("date").alias("date"),
                    col("loinc").alias("code"),
                    col("value"),
                    // Trimmed where it is read (`measures.rs`): no trimmed copy of every unit.
                    col("unit"),
                    col("range_high"),
                ],
                &[MEASURE_KEY],
            ),
            RecordTable::Observation => with_read_keys(
                &inputs.observation,
                vec![
                    col("person_id"),
                    days("date").alias("date"),
                    // Trimmed where it is read (the code key, `observations.rs`).
                    col("code"),
                    col("value_num"),
                    normal_form(col("value_text"), trimmed).alias("value_text"),
                ],
                &[OBSERVATION_KEY, TEXT_KEY],
            ),
            RecordTable::Treatment => with_read_keys(
                &inputs.treatment,
                vec![
                    col("person_id"),
                    days("start_date").alias("date"),
                    days("end_date").alias("end"),
                    // Left out by polars where only the words below read it.
                    normalized_atc(col("atc")).alias("code"),
                    col("kind"),
                ],
                &[CODE_SETS, DRUG_ATC],
            ),
            RecordTable::MolecularTest => with_read_keys(
                &inputs.molecular_test,
                vec![
                    col("person_id"),
                    days("report_date").alias("date"),
                    col("approved_lab"),
                ],
                &[],
            ),
        }
    }
}

/// The diagnoses' ICD-10 codes in normal form ([`normalized_icd10`]), where computed as the
/// table was read (`engine::tables`).
pub(crate) const NORMAL_ICD10: &str = "__icd10_normal_form";

/// `columns` of `table`, and those of the columns `keys` it has (computed as the table was
/// read, `engine::tables`), and the records' patient row ([`ROW`]) where it was found then.
fn with_read_keys(table: &LazyFrame, mut columns: Vec<Expr>, keys: &[&str]) -> LazyFrame {
    columns.extend(
        (keys.iter().chain([&ROW]))
            .filter(|key| has(table, key))
            .map(|key| col(*key)),
    );
    table.clone().select(columns)
}

/// Whether `table` has the column `name`: the records' keys where they were computed as the
/// table was read (`engine::tables`).
fn has(table: &LazyFrame, name: &str) -> bool {
    let schema = table.clone().collect_schema();
    schema.is_ok_and(|schema| schema.contains(name))
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

/// `text` equals one of `values` (null where `text` is null). Not polars' `is_in`, which hashes
/// every row (its streaming engine runs it as a semi join; it was the top of the profile on
/// measurement rows). A few values become a chain of equalities, comparing a short string view
/// per value; more are looked up in a set once per distinct text ([`text_flags`]).
pub(crate) fn one_of<S: AsRef<str>>(text: Expr, values: &[S]) -> Expr {
    const CHAIN: usize = 8;
    if values.is_empty() || values.len() > CHAIN {
        let values: HashSet<String> = values.iter().map(|v| v.as_ref().to_string()).collect();
        return when(text.clone().is_null())
            .then(lit(NULL).cast(DataType::Boolean))
            .otherwise(text_flags(text, move |t| values.contains(t)));
    }
    values
        .iter()
        .map(|v| text.clone().eq(lit(v.as_ref())))
        .reduce(Expr::or)
        .unwrap_or(lit(false))
}

/// `low <= value <= high`.
fn between(value: Expr, low: f64, high: f64) -> Expr {
    value.clone().gt_eq(lit(low)).and(value.lt_eq(lit(high)))
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
