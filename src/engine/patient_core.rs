//! The patient core: one row per patient of the partition, sorted by `person_id`, with what
//! every criterion reads of the person (`p_sex`, `p_age`, `p_idx`, `p_death`, `region`, `site`),
//! the primary cancer (`p_primary`: the latest primary-cancer diagnosis at or before the index
//! date, same-date ties: the lowest code), the code sets holding it (`p_primary_sets`) and its
//! tumour group (`p_group`). Where the ids have an
//! array lookup ([`PatientRows`]), the primary is chosen by patient row in one pass over the
//! selected diagnoses; otherwise by group-bys and joins on `person_id`.

use std::sync::Arc;

use polars::prelude::*;

use super::codes::{first_set, in_set, in_set_by_word, set_bits};
use super::inputs::{days, epoch_days, year_of_days, Inputs};
use super::lookup::{PatientRows, ROW};
use super::records::RecordTable;
use super::EngineError;
use crate::definition::model::{CodePattern, CodeSet, Definition, Vocabulary};
use crate::extract::distinct::map_distinct;
use crate::udf::MapColumn;

/// The code set the definition names `name`, or the convention of impress-norway.md.
fn named_or(definition: &Definition, name: &str, default: CodeSet) -> CodeSet {
    definition
        .code_sets
        .iter()
        .find(|s| s.name == name)
        .cloned()
        .unwrap_or(default)
}

/// Primary cancer by the convention of impress-norway.md: ICD-10 C00-C97 but not C44 and not
/// C77-C79.
pub(crate) fn conventional_primary_cancer() -> CodeSet {
    CodeSet {
        name: "primary_cancer".into(),
        vocabulary: Vocabulary::Icd10,
        patterns: vec![CodePattern::Range("C00".into(), "C97".into())],
        except: vec![
            CodePattern::Prefix("C44".into()),
            CodePattern::Range("C77".into(), "C79".into()),
        ],
    }
}

/// Primary cancer: the definition's `primary_cancer` set, else [`conventional_primary_cancer`].
pub(crate) fn primary_cancer_set(definition: &Definition) -> CodeSet {
    named_or(definition, "primary_cancer", conventional_primary_cancer())
}

/// Haematological primary: C81-C96.
pub(crate) fn haematological_set(definition: &Definition) -> CodeSet {
    named_or(
        definition,
        "haematological",
        CodeSet {
            name: "haematological".into(),
            vocabulary: Vocabulary::Icd10,
            patterns: vec![CodePattern::Range("C81".into(), "C96".into())],
            except: vec![],
        },
    )
}

/// The core's word of the definition's code sets that hold the primary cancer (a bit per set,
/// [`set_bits`]; 0 without a primary): `primary in` read as a bit, the primary's code tested
/// once per distinct code for every set, instead of once per condition.
pub(crate) const PRIMARY_SETS: &str = "p_primary_sets";

/// `primary in` the definition's code set `set` (false without a primary): its bit of
/// [`PRIMARY_SETS`], where the word holds it.
pub(crate) fn primary_in(definition: &Definition, set: usize) -> Expr {
    in_set_by_word(PRIMARY_SETS, "p_primary", &definition.code_sets, set)
}

/// Whether the primary cancer is haematological ([`haematological_set`]).
pub(crate) fn haematological_primary(definition: &Definition) -> Expr {
    let named = |set: &CodeSet| set.name == "haematological";
    match definition.code_sets.iter().position(named) {
        Some(set) => primary_in(definition, set),
        None => in_set(col("p_primary"), &haematological_set(definition)),
    }
}

/// The partition's persons ([`person`]'s columns) sorted by `person_id`, the rows of the patient
/// core, and the lookup of their rows where the ids allow one. Read before any record table, so
/// that each record's patient row is found as its table is read (`engine::tables`).
pub(crate) fn persons(
    inputs: &Inputs,
    as_of: chrono::NaiveDate,
) -> Result<(DataFrame, Option<Arc<PatientRows>>), EngineError> {
    let person = person(inputs, as_of)
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let person = match ascending_ids(person.column("person_id")?)? {
        true => flagged_ascending(person)?,
        false => person.sort(["person_id"], SortMultipleOptions::default())?,
    };
    let rows = PatientRows::of(&person);
    Ok((person, rows))
}

/// Whether `ids` are non-null and strictly ascending (bytes order for text, as polars sorts
/// it), so that sorting would leave them where they are. Extracts written from a sorted key
/// (the synthetic one, registries' exports) are, and polars' sort of them was about 170
/// instructions a patient (callgrind, 250,000 patients): an arg-sort, then a gather of every
/// column.
fn ascending_ids(ids: &Column) -> PolarsResult<bool> {
    if ids.null_count() > 0 {
        return Ok(false);
    }
    fn strictly_ascending<T: PartialOrd>(mut values: impl Iterator<Item = T>) -> bool {
        let Some(mut last) = values.next() else {
            return true;
        };
        values.all(|value| {
            let ascending = last < value;
            last = value;
            ascending
        })
    }
    let ids = ids.as_materialized_series();
    Ok(match ids.dtype() {
        DataType::Int64 => strictly_ascending(ids.i64()?.into_no_null_iter()),
        DataType::String => {
            strictly_ascending(ids.str()?.downcast_iter().flat_map(|ids| ids.values_iter()))
        }
        _ => false,
    })
}

/// `person` with its `person_id` column flagged as sorted ascending, as polars' sort leaves it
/// (its joins and group-bys on the ids read the flag).
fn flagged_ascending(mut person: DataFrame) -> PolarsResult<DataFrame> {
    let mut ids = person.column("person_id")?.clone();
    ids.set_sorted_flag(polars::series::IsSorted::Ascending);
    person.with_column(ids)?;
    Ok(person)
}

/// The patient core of `person` ([`persons`]), `rows` its lookup.
pub(crate) fn patient_core(
    inputs: &Inputs,
    definition: &Definition,
    person: DataFrame,
    rows: Option<&Arc<PatientRows>>,
) -> Result<DataFrame, EngineError> {
    let primaries = RecordTable::Diagnosis.rows(inputs);
    let primary_set = primary_cancer_set(definition);
    let is_primary = move || {
        col("date")
            .lt_eq(col("p_idx"))
            .and(in_set(col("code"), &primary_set))
    };
    let core = match rows {
        Some(rows) => {
            let selected = rows
                .attach(primaries, &person, &["p_idx"])?
                .filter(is_primary())
                .select([col(ROW), col("date"), col("code")])
                .collect_with_engine(Engine::Streaming)?
                .unwrap_single();
            let primary = latest_then_lowest(selected, person.height())?;
            person.hstack(&[primary])?.lazy()
        }
        None => {
            let primaries = primaries
                .inner_join(
                    person
                        .clone()
                        .lazy()
                        .select([col("person_id"), col("p_idx")]),
                    col("person_id"),
                    col("person_id"),
                )
                .filter(is_primary())
                .select([col("person_id"), col("date"), col("code")]);
            // The latest date per patient, then the lowest code on it: two plain aggregations.
            let latest = primaries
                .clone()
                .group_by([col("person_id")])
                .agg([col("date").max()]);
            let primary = primaries
                .join(
                    latest,
                    [col("person_id"), col("date")],
                    [col("person_id"), col("date")],
                    JoinArgs::new(JoinType::Inner),
                )
                .group_by([col("person_id")])
                .agg([col("code").min().alias("p_primary")]);
            person
                .lazy()
                .left_join(primary, col("person_id"), col("person_id"))
                .sort(["person_id"], SortMultipleOptions::default())
        }
    };
    let core = core
        .with_columns([
            tumour_group(definition).alias("p_group"),
            set_bits(col("p_primary"), &definition.code_sets).alias(PRIMARY_SETS),
        ])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    Ok(core)
}

/// The person table's columns: `person_id`, `p_sex` (F/M/U, else null), `p_birth_year`,
/// `p_death` and `p_idx` (days; idx defaults to the as-of date), `p_age` (year of idx - birth
/// year), `region`, `site`.
fn person(inputs: &Inputs, as_of: chrono::NaiveDate) -> LazyFrame {
    let person = inputs.person.clone().select([
        col("person_id"),
        sex(col("sex")).alias("p_sex"),
        col("birth_year")
            .cast(DataType::Int32)
            .alias("p_birth_year"),
        days("death_date").alias("p_death"),
        days("index_date")
            .fill_null(lit(epoch_days(as_of)))
            .alias("p_idx"),
        col("region"),
        col("site"),
    ]);
    person.with_column((year(col("p_idx")) - col("p_birth_year")).alias("p_age"))
}

/// The calendar year of each day number (days since 1970-01-01; null where null), as Int32 by
/// integer arithmetic ([`year_of_days`]): polars' `dt().year()` converted each date through
/// chrono, about 160 instructions a patient (0.7 % of a run's).
fn year(days: Expr) -> Expr {
    days.map_column(
        |days: Column| {
            let days = days.as_materialized_series().cast(&DataType::Int32)?;
            let years: Int32Chunked = days.i32()?.apply_values(year_of_days);
            Ok(years.into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Int32)),
    )
}

/// The sex, trimmed, where it is F, M or U; else null. Once per distinct value
/// ([`map_distinct`]): polars' `strip_chars` wrote every patient's string again (about 540
/// instructions a patient, callgrind).
fn sex(sex: Expr) -> Expr {
    const SEXES: [Option<&str>; 4] = [Some("F"), Some("M"), Some("U"), None];
    sex.map_column(
        |sex: Column| {
            let sex = sex.str()?;
            let picked = map_distinct(sex, |sex| {
                let trimmed = sex.map(str::trim);
                let at = SEXES[..3].iter().position(|known| *known == trimmed);
                at.unwrap_or(3) as IdxSize
            });
            let labels = StringChunked::from_iter(SEXES);
            let picked = IdxCa::from_vec(PlSmallStr::EMPTY, picked);
            Ok(labels
                .take(&picked)?
                .with_name(sex.name().clone())
                .into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}

/// Per patient row, the code (`p_primary`) of the latest of `selected`'s diagnoses (`ROW`,
/// `date`, `code`), the lowest code among same-date ones; null for patients with none.
fn latest_then_lowest(mut selected: DataFrame, patients: usize) -> PolarsResult<Column> {
    selected.rechunk_mut();
    let rows = selected.column(ROW)?.idx()?;
    let dates = selected.column("date")?.i32()?;
    let codes = selected.column("code")?.str()?;
    let codes_array = codes.downcast_as_array();
    // Per patient: the chosen record's date and position.
    let mut chosen: Vec<Option<(i32, usize)>> = vec![None; patients];
    for (i, (row, date)) in rows.iter().zip(dates.iter()).enumerate() {
        let (Some(row), Some(date)) = (row, date) else {
            continue;
        };
        let Some(code) = codes_array.get(i) else {
            continue;
        };
        let slot = chosen.get_mut(row as usize).ok_or_else(
            || polars_err!(ComputeError: "a diagnosis's patient row is outside the patient core"),
        )?;
        let better = match *slot {
            None => true,
            Some((best_date, best)) => {
                date > best_date
                    || (date == best_date && codes_array.get(best).is_some_and(|b| code < b))
            }
        };
        if better {
            *slot = Some((date, i));
        }
    }
    let positions: IdxCa = chosen
        .into_iter()
        .map(|c| c.map(|(_, i)| i as IdxSize))
        .collect();
    Ok(codes
        .take(&positions)?
        .with_name("p_primary".into())
        .into_column())
}

/// The index of the patient's tumour group: the first group, in the definition's priority order,
/// whose codes match the primary cancer; null without a primary or without a matching group.
fn tumour_group(definition: &Definition) -> Expr {
    let sets = (definition.tumour_groups.iter())
        .map(|group| definition.code_sets[group.codes].clone())
        .collect();
    first_set(col("p_primary"), sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed F, M and U are kept; any other value (lower case, unknown, empty) and null give
    /// null; over two chunks. As polars' `strip_chars` and a list of the three gave them.
    #[test]
    fn sex_is_one_of_three_trimmed_values() {
        let mut sexes = StringChunked::from_iter([Some(" F "), Some("M"), Some("U"), Some("f")]);
        sexes
            .append(&StringChunked::from_iter([
                Some("X"),
                None,
                Some(""),
                Some("M\t"),
            ]))
            .unwrap();
        let frame = DataFrame::new(8, vec![sexes.with_name("sex".into()).into_column()]).unwrap();
        let trimmed = col("sex").str().strip_chars(lit(NULL));
        let by_polars = when(super::super::records::one_of(
            trimmed.clone(),
            &["F", "M", "U"],
        ))
        .then(trimmed)
        .otherwise(lit(NULL).cast(DataType::String));
        let got = frame
            .lazy()
            .select([sex(col("sex")), by_polars.alias("by_polars")])
            .collect()
            .unwrap();
        let column = |name: &str| -> Vec<Option<String>> {
            let column = got.column(name).unwrap().str().unwrap();
            column.iter().map(|s| s.map(String::from)).collect()
        };
        let want = [
            Some("F"),
            Some("M"),
            Some("U"),
            None,
            None,
            None,
            None,
            Some("M"),
        ];
        let want: Vec<Option<String>> = want.iter().map(|s| s.map(String::from)).collect();
        assert_eq!(column("sex"), want);
        assert_eq!(column("by_polars"), want);
    }

    /// Ids that sorting would leave in place: strictly ascending, integers by value and text
    /// by its bytes (upper case before lower, "A10" before "A9"). A tie, a descent or a null is
    /// sorted; so is any other type.
    #[test]
    fn ascending_ids_are_the_ones_a_sort_leaves_in_place() {
        let ints = |ids: &[Option<i64>]| Column::new("person_id".into(), ids);
        let texts = |ids: &[Option<&str>]| Column::new("person_id".into(), ids);
        let ascending = |ids: &Column| ascending_ids(ids).unwrap();
        assert!(ascending(&ints(&[])));
        assert!(ascending(&ints(&[Some(7)])));
        assert!(ascending(&ints(&[
            Some(-3),
            Some(0),
            Some(2),
            Some(i64::MAX)
        ])));
        assert!(!ascending(&ints(&[Some(1), Some(2), Some(2), Some(3)])));
        assert!(!ascending(&ints(&[Some(1), Some(3), Some(2)])));
        assert!(!ascending(&ints(&[Some(1), None, Some(3)])));
        assert!(ascending(&texts(&[
            Some("A10"),
            Some("A9"),
            Some("Z"),
            Some("a")
        ])));
        assert!(!ascending(&texts(&[Some("A9"), Some("A10")])));
        assert!(!ascending(&texts(&[Some("a"), Some("Z")])));
        assert!(!ascending(&texts(&[Some("p1"), Some("p1")])));
        assert!(!ascending(&texts(&[None, Some("p1")])));
        let floats = Column::new("person_id".into(), &[1.0f64, 2.0]);
        assert!(!ascending(&floats));

        // Where they are ascending, the frame is polars' sort of it, flag included.
        let person = df!(
            "person_id" => ["A10", "A9", "Z", "a"],
            "p_age" => [Some(40), None, Some(71), Some(18)],
        )
        .unwrap();
        let sorted = (person.clone())
            .sort(["person_id"], SortMultipleOptions::default())
            .unwrap();
        let flagged = flagged_ascending(person).unwrap();
        assert!(flagged.equals_missing(&sorted));
        let flag = |frame: &DataFrame| frame.column("person_id").unwrap().is_sorted_flag();
        assert_eq!(flag(&flagged), polars::series::IsSorted::Ascending);
        assert_eq!(flag(&flagged), flag(&sorted));
    }

    /// Ages from day numbers at the edges of years (the last and first day of a year, a leap
    /// day, before 1970 and before 1900), null where the birth year or the day is: the year
    /// of each day as chrono gives it, less the birth year.
    #[test]
    fn age_is_the_index_dates_year_less_the_birth_year() {
        let date = |y, m, d| epoch_days(chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap());
        let days = [
            Some(date(2025, 12, 31)),
            Some(date(2026, 1, 1)),
            Some(date(2024, 2, 29)),
            Some(date(1969, 12, 31)),
            Some(date(1899, 3, 1)),
            Some(date(2000, 3, 1)),
            None,
        ];
        let births = [
            Some(1950),
            Some(1950),
            Some(2000),
            Some(1969),
            Some(1850),
            None,
            Some(1950),
        ];
        let frame = df!("idx" => days, "birth" => births).unwrap();
        let got = (frame.lazy())
            .select([(year(col("idx")) - col("birth")).alias("age")])
            .collect()
            .unwrap();
        let ages: Vec<Option<i32>> = got.column("age").unwrap().i32().unwrap().iter().collect();
        assert_eq!(
            ages,
            [Some(75), Some(76), Some(24), Some(0), Some(49), None, None]
        );
    }
}
