//! Record tables as the engine sees them: each contract table reduced to standard columns
//! (`date` in days, a normalized `code`, the value), joined with the patient's index date, and
//! the record-level pieces of a query: source, window, converted value.

use std::collections::HashSet;

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray};
use polars_arrow::bitmap::{Bitmap, MutableBitmap};
use polars_arrow::datatypes::ArrowDataType;

use super::codes::{normalized_atc, normalized_icd10, CODE_SETS, DRUG_ATC};
use super::inputs::{days, Inputs};
use super::kernel::as_dtype;
use super::lookup::ROW;
use super::measures::{CODE_KEY, UNIT_KEY};
use super::observations::{OBSERVATION_KEY, TEXT_KEY};
use crate::definition::model::{ObservationDef, Source, ValueKind, Window};
use crate::extract::bitmaps::{dates_within, inline_view, u32s_equal, views_equal, DaysBack};
use crate::extract::distinct::{normal_form, text_flags, trimmed};
use crate::extract::Table;
use crate::udf::MapColumn;

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
            RecordTable::Measurement => {
                let mut columns = vec![
                    col("person_id"),
                    days("date").alias("date"),
                    col("value"),
                    col("range_high"),
                ];
                // Where the table was read into memory, its code and unit were read as their
                // keys only (`MeasureRules::text_keys`), which give the record's key.
                if !has(&inputs.measurement, CODE_KEY) {
                    // The unit trimmed where it is read (`measures.rs`): no trimmed copy.
                    columns.extend([col("loinc").alias("code"), col("unit")]);
                }
                with_read_keys(&inputs.measurement, columns, &[CODE_KEY, UNIT_KEY])
            }
            RecordTable::Observation => {
                let mut columns = vec![
                    col("person_id"),
                    days("date").alias("date"),
                    col("value_num"),
                    normal_form(col("value_text"), trimmed).alias("value_text"),
                ];
                // Where the key was computed as the table was read, the code was read as its
                // key only (`ObservationRules::code_text_key`).
                if !has(&inputs.observation, OBSERVATION_KEY) {
                    // Trimmed where it is read (the code key, `observations.rs`).
                    columns.push(col("code"));
                }
                let keys = [OBSERVATION_KEY, TEXT_KEY, DRUG_ATC];
                with_read_keys(&inputs.observation, columns, &keys)
            }
            RecordTable::Treatment => {
                let mut columns = vec![
                    col("person_id"),
                    days("start_date").alias("date"),
                    days("end_date").alias("end"),
                    col("kind"),
                ];
                // Where the words were computed as the table was read and no atom reads the
                // code, it was read as their key only (`AtcWords::text_key`). Else left out by
                // polars where only the words read it.
                if has(&inputs.treatment, "atc") {
                    columns.push(normalized_atc(col("atc")).alias("code"));
                }
                with_read_keys(&inputs.treatment, columns, &[CODE_SETS, DRUG_ATC])
            }
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

/// The record's date lies in the window relative to the index date `p_idx`: false where either
/// is null. One pass over the columns' values, packed eight flags at a time
/// ([`window_flags`]). As polars' comparisons of two columns ([`in_window_by_polars`], the
/// reference it is tested against), each comparison built its Boolean array a bit at a time
/// and each `and`, `or` and the fill a further array (1.3 % of a run's instructions, most of it
/// the treatments' windows, which no kernel reads).
pub(crate) fn in_window(window: &Window) -> Expr {
    let window = window.clone();
    let mut inputs = vec![col("date"), col("p_idx")];
    if matches!(window, Window::Ongoing { .. }) {
        inputs.push(col("end"));
    }
    map_multiple(
        move |columns: &mut [Column]| Ok(window_flags(&window, columns)?.into_column()),
        inputs,
        |_, fields| Ok(Field::new(fields[0].name().clone(), DataType::Boolean)),
    )
}

/// Whether each treatment started at least `days` before its patient's index date: polars'
/// `date <= p_idx - days` (Int32, wrapping as polars subtracts), null where either date is
/// null, its flags packed sixteen dates at a time ([`dates_within_by_chunk`]): polars computed
/// the difference as a column, then set the comparison's bits one at a time.
pub(crate) fn started_at_least_days_before(days: i32) -> Expr {
    map_multiple(
        move |columns: &mut [Column]| {
            let (date, idx) = (days_of(&columns[0])?, days_of(&columns[1])?);
            same_length(&date, &idx)?;
            let before = DaysBack {
                from: None,
                until: Some(days),
            };
            let flags = dates_within_by_chunk(&date, &idx, before);
            let validity = match (date.rechunk_validity(), idx.rechunk_validity()) {
                (Some(date), Some(idx)) => Some(&date & &idx),
                (date, idx) => date.or(idx),
            };
            let flags = BooleanArray::new(ArrowDataType::Boolean, flags, validity);
            Ok(BooleanChunked::with_chunk(columns[0].name().clone(), flags).into_column())
        },
        vec![col("date"), col("p_idx")],
        |_, fields| Ok(Field::new(fields[0].name().clone(), DataType::Boolean)),
    )
}

/// [`in_window`] of the `date`, `p_idx` (and, for `ongoing`, `end`) columns, in days: the
/// comparisons of the values in Int32 arithmetic (wrapping, as polars subtracts), packed, then
/// the validities and-ed in (`end`'s or-ed: no end is ongoing). The values are compared in the
/// chunks of `date` (the table's row groups as read), each beside its slice of the others
/// ([`dates_within_by_chunk`]): the dates copied into one chunk first cost 0.4 % of a run's
/// instructions.
fn window_flags(window: &Window, columns: &[Column]) -> PolarsResult<BooleanChunked> {
    let (date, idx) = (days_of(&columns[0])?, days_of(&columns[1])?);
    same_length(&date, &idx)?;
    let lookback = match window {
        Window::WithinDays(days) => Some(*days as i32),
        _ => None,
    };
    let within = DaysBack {
        from: lookback,
        until: Some(0),
    };
    let mut flags = dates_within_by_chunk(&date, &idx, within);
    for valid in [date.rechunk_validity(), idx.rechunk_validity()]
        .into_iter()
        .flatten()
    {
        flags = &flags & &valid;
    }
    if let Window::Ongoing { grace_days } = window {
        let end = days_of(&columns[2])?;
        polars_ensure!(
            end.len() == idx.len(),
            ShapeMismatch: "{} treatment ends beside {} index dates", end.len(), idx.len()
        );
        let grace = *grace_days as i32;
        let ended_at_most = DaysBack {
            from: Some(grace),
            until: None,
        };
        let mut open = dates_within_by_chunk(&end, &idx, ended_at_most);
        if let Some(valid) = end.rechunk_validity() {
            open = &open | &!&valid;
        }
        flags = &flags & &open;
    }
    let flags = BooleanArray::new(ArrowDataType::Boolean, flags, None);
    Ok(BooleanChunked::with_chunk(columns[0].name().clone(), flags))
}

/// Whether each value of the UInt32 key column `keys` is `key`, null where the key is null: what
/// polars' `eq` of a literal gives, its bits packed sixteen keys at a time ([`u32s_equal`]) where
/// polars sets them one at a time (an observation's source, tested on every observation record
/// once per observation a query reads; with `not`, whether a record has a text).
pub(crate) fn key_is(keys: Expr, key: u32) -> Expr {
    keys.map_column(
        move |keys: Column| {
            let keys = keys.as_materialized_series().cast(&DataType::UInt32)?;
            let arrays = keys.u32()?.downcast_iter().map(|array| {
                let equal = u32s_equal(array.values(), key);
                BooleanArray::new(ArrowDataType::Boolean, equal, array.validity().cloned())
            });
            Ok(BooleanChunked::from_chunk_iter(keys.name().clone(), arrays).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
    )
}

/// Whether each text of `texts` is `text`, false where null: polars' `eq` of the literal with
/// its nulls filled with false (the treatments' `kind is`), the bits packed eight at a time
/// from the views ([`views_equal`]) where polars sets them one at a time. A text too long to be
/// held in a view is compared by polars.
pub(crate) fn text_is(texts: Expr, text: &str) -> Expr {
    let Some(wanted) = inline_view(text) else {
        return texts.eq(lit(text)).fill_null(lit(false));
    };
    texts.map_column(
        move |texts: Column| {
            let texts = texts.as_materialized_series().cast(&DataType::String)?;
            let arrays = texts.str()?.downcast_iter().map(|array| {
                let equal = views_equal(array.views(), wanted);
                let equal = match array.validity() {
                    Some(valid) => &equal & valid,
                    None => equal,
                };
                BooleanArray::new(ArrowDataType::Boolean, equal, None)
            });
            Ok(BooleanChunked::from_chunk_iter(texts.name().clone(), arrays).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
    )
}

/// A date column in days since 1970-01-01 (Int32).
fn days_of(column: &Column) -> PolarsResult<Int32Chunked> {
    Ok(as_dtype(column, &DataType::Int32)?.i32()?.clone())
}

/// An error unless the record dates and the index dates beside them are as many.
fn same_length(date: &Int32Chunked, idx: &Int32Chunked) -> PolarsResult<()> {
    polars_ensure!(
        date.len() == idx.len(),
        ShapeMismatch: "{} record dates beside {} index dates", date.len(), idx.len()
    );
    Ok(())
}

/// Whether each of `dates` lies in `window` of the base date beside it in `bases` (as long as
/// each other, nulls' values included; [`dates_within`]), by `dates`' chunks: `bases` sliced
/// beside each, copied only where its chunks do not line up with them (the index dates,
/// gathered in one chunk, are sliced without a copy; an end shares its start's chunks).
fn dates_within_by_chunk(dates: &Int32Chunked, bases: &Int32Chunked, window: DaysBack) -> Bitmap {
    let mut flags = MutableBitmap::with_capacity(dates.len());
    let mut offset = 0;
    // An empty chunk has nothing to pair (and its slice of `bases` may have no chunk).
    for chunk in dates.downcast_iter().filter(|chunk| chunk.len() > 0) {
        let beside = bases.slice(offset as i64, chunk.len());
        let beside = match beside.chunks().len() {
            1 => beside,
            _ => beside.rechunk().into_owned(),
        };
        let beside = beside.downcast_as_array().values().as_slice();
        flags.extend_from_bitmap(&dates_within(chunk.values(), beside, window));
        offset += chunk.len();
    }
    flags.freeze()
}

/// [`in_window`] as polars expressions: the reference of the tests.
#[cfg(test)]
pub(crate) fn in_window_by_polars(window: &Window) -> Expr {
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
mod tests;
