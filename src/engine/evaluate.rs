//! Evaluation: the patient core (index date, age, primary cancer), the record tables' atoms and
//! molecular matching per patient ([`super::per_patient`]), then every criterion's outcome per
//! patient and per drug, collected with polars' streaming engine into the patient-level frame.

use polars::prelude::*;

use super::codes::in_set;
use super::cohorts::{biomarker_column, matched_column, tumour_fits};
use super::compile::{resistance_column, Compiler, Context, Reduce};
use super::inputs::{days, epoch_days, Inputs};
use super::lookup::PatientRows;
use super::per_patient::PerPatient;
use super::records::RecordTable;
use super::EngineError;
use crate::definition::model::{CodePattern, CodeSet, Criterion, Definition, Vocabulary};

/// Column of general criterion `i` (outcome code) in the patient-level frame.
pub fn criterion_column(i: usize) -> String {
    format!("criterion_{i}")
}

/// Column of the `j`-th cohort criterion of drug `d` (the definition's cohort criteria, then the
/// drug's own).
pub fn drug_criterion_column(d: usize, j: usize) -> String {
    format!("drug_{d}_criterion_{j}")
}

/// The criteria evaluated for every patient x cohort pair of drug `d`: the definition's cohort
/// criteria, then the drug's own, in this order everywhere (columns, mask table, reports). A
/// cohort's row reads the general criteria, then these ([`drug_columns`]).
pub(crate) fn drug_criteria(definition: &Definition, d: usize) -> impl Iterator<Item = &Criterion> {
    definition
        .cohort_criteria
        .iter()
        .chain(&definition.drugs[d].criteria)
}

/// The outcome columns of the general criteria, in definition order.
pub(crate) fn general_columns(definition: &Definition) -> Vec<String> {
    (0..definition.criteria.len())
        .map(criterion_column)
        .collect()
}

/// The outcome columns of drug `d`'s criteria (see [`drug_criteria`]).
pub(crate) fn drug_columns(definition: &Definition, d: usize) -> Vec<String> {
    (0..drug_criteria(definition, d).count())
        .map(|j| drug_criterion_column(d, j))
        .collect()
}

/// Stratum columns of the patient-level frame, in `Stratum::DIMENSIONS` order.
pub const STRATUM_COLUMNS: [&str; 5] = [
    "stratum_region",
    "stratum_site",
    "stratum_tumour_group",
    "stratum_sex",
    "stratum_age_band",
];

/// The code set the definition names `name`, or the convention of impress-norway.md.
fn named_or(definition: &Definition, name: &str, default: CodeSet) -> CodeSet {
    definition
        .code_sets
        .iter()
        .find(|s| s.name == name)
        .cloned()
        .unwrap_or(default)
}

/// Primary cancer: ICD-10 C00-C97 but not C44 and not C77-C79.
pub(crate) fn primary_cancer_set(definition: &Definition) -> CodeSet {
    named_or(
        definition,
        "primary_cancer",
        CodeSet {
            name: "primary_cancer".into(),
            vocabulary: Vocabulary::Icd10,
            patterns: vec![CodePattern::Range("C00".into(), "C97".into())],
            except: vec![
                CodePattern::Prefix("C44".into()),
                CodePattern::Range("C77".into(), "C79".into()),
            ],
        },
    )
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

/// The patient core: `person_id`, `p_sex` (F/M/U, else null), `p_birth_year`, `p_death` and
/// `p_idx` (days), `p_age` (year of idx - birth year), `region`, `site`, `p_primary` (the
/// latest primary cancer at or before idx, normalized ICD-10; same-date ties: the lowest code).
pub(crate) fn core(
    inputs: &Inputs,
    definition: &Definition,
    as_of: chrono::NaiveDate,
) -> LazyFrame {
    let sex = col("sex").str().strip_chars(lit(NULL));
    let person = inputs.person.clone().select([
        col("person_id"),
        when(sex.clone().is_in(
            lit(Series::new("sex".into(), ["F", "M", "U"])).implode(false),
            false,
        ))
        .then(sex)
        .otherwise(lit(NULL).cast(DataType::String))
        .alias("p_sex"),
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
    let person = person.with_column(
        (col("p_idx").cast(DataType::Date).dt().year() - col("p_birth_year")).alias("p_age"),
    );
    let primary_set = primary_cancer_set(definition);
    let primaries = RecordTable::Diagnosis
        .rows(inputs)
        .inner_join(
            person.clone().select([col("person_id"), col("p_idx")]),
            col("person_id"),
            col("person_id"),
        )
        .filter(
            col("date")
                .lt_eq(col("p_idx"))
                .and(in_set(col("code"), &primary_set)),
        )
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
        .left_join(primary, col("person_id"), col("person_id"))
        .with_column(tumour_group(definition).alias("p_group"))
}

/// The index of the patient's tumour group: the first group, in the definition's priority order,
/// whose codes match the primary cancer; null without a primary or without a matching group.
fn tumour_group(definition: &Definition) -> Expr {
    let mut group = lit(NULL).cast(DataType::UInt32);
    for (g, tumour_group) in definition.tumour_groups.iter().enumerate().rev() {
        let set = &definition.code_sets[tumour_group.codes];
        group = when(in_set(col("p_primary"), set))
            .then(lit(g as u32))
            .otherwise(group);
    }
    group
}

fn strata(definition: &Definition) -> Vec<Expr> {
    let recorded = |name: &str| {
        col(name)
            .fill_null(lit("not recorded"))
            .alias(format!("stratum_{name}"))
    };
    let mut group = when(col("p_primary").is_null())
        .then(lit("no primary"))
        .otherwise(lit("other"));
    for (g, tumour_group) in definition.tumour_groups.iter().enumerate().rev() {
        group = when(col("p_group").eq(lit(g as u32)))
            .then(lit(tumour_group.label.as_str()))
            .otherwise(group);
    }
    let age = col("p_age");
    let mut band = when(age.clone().is_null())
        .then(lit("not recorded"))
        .otherwise(lit("80+"));
    for (upper, label) in [
        (80, "70-79"),
        (70, "60-69"),
        (60, "50-59"),
        (50, "40-49"),
        (40, "<40"),
    ] {
        band = when(age.clone().lt(lit(upper)))
            .then(lit(label))
            .otherwise(band);
    }
    vec![
        recorded("region"),
        recorded("site"),
        group.alias(STRATUM_COLUMNS[2]),
        col("p_sex")
            .fill_null(lit("not recorded"))
            .alias(STRATUM_COLUMNS[3]),
        band.alias(STRATUM_COLUMNS[4]),
    ]
}

/// What [`patient_outcomes`] gives.
pub struct Evaluation {
    /// The patient-level frame: `person_id`, the stratum columns, one outcome column per general
    /// criterion, `matched_c` per cohort and one outcome column per drug criterion.
    pub patients: DataFrame,
    /// Measurement rows of the patients (orphan rows are not evaluated) of the definition's
    /// measures whose unit none of those measures can convert: a data-quality finding (the rows
    /// are dropped from evaluation). Counted in the measurement group-by, not in a scan of its own.
    pub unconvertible_units: u64,
}

/// The per-patient count of unconvertible measurement rows, summed after evaluation.
const UNCONVERTIBLE: &str = "__unconvertible_units";

/// Evaluates every criterion for every patient.
pub fn patient_outcomes(
    inputs: &Inputs,
    definition: &Definition,
    as_of: chrono::NaiveDate,
) -> Result<Evaluation, EngineError> {
    let core = core(inputs, definition, as_of)
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    // Dense integer ids: each record finds its patient by an array lookup, not a hash join.
    let patient_rows = PatientRows::of(&core);
    let core_frame = core;

    let mut compiler = Compiler::new(definition);
    let none = Context { drug: None };
    let mut general = Vec::new();
    for (i, criterion) in definition.criteria.iter().enumerate() {
        general.push(
            compiler
                .criterion(criterion, none)?
                .alias(criterion_column(i)),
        );
    }
    let mut per_drug = Vec::new();
    for (d, drug) in definition.drugs.iter().enumerate() {
        let ctx = Context {
            drug: Some((d, drug)),
        };
        for (j, criterion) in drug_criteria(definition, d).enumerate() {
            per_drug.push(
                compiler
                    .criterion(criterion, ctx)?
                    .alias(drug_criterion_column(d, j)),
            );
        }
    }

    let unconvertible = compiler.unconvertible_unit();
    let mut per_patient = PerPatient::new(&core_frame, patient_rows);
    let mut counted_unconvertible = false;
    for (table, atoms) in compiler.atoms() {
        let mut reductions: Vec<(String, Reduce)> = atoms
            .iter()
            .map(|atom| (atom.name.clone(), atom.reduce))
            .collect();
        let mut columns: Vec<Expr> = atoms.iter().map(|atom| atom.column.clone()).collect();
        if *table == RecordTable::Measurement {
            if let Some(unconvertible) = &unconvertible {
                columns.push(
                    unconvertible
                        .clone()
                        .cast(DataType::UInt32)
                        .alias(UNCONVERTIBLE),
                );
                reductions.push((UNCONVERTIBLE.to_string(), Reduce::Sum));
                counted_unconvertible = true;
            }
        }
        let shared: Vec<Expr> = compiler
            .shared()
            .get(table)
            .map(|columns| columns.iter().map(|(_, expr)| expr.clone()).collect())
            .unwrap_or_default();
        let prepared = [compiler.prepared(*table), shared];
        per_patient.records(table.rows(inputs), &prepared, columns, reductions)?;
    }
    per_patient.variants(inputs, definition)?;
    let mut wide = per_patient.into_wide()?;
    let mut fills: Vec<Expr> = compiler
        .any_columns()
        .iter()
        .map(|name| col(name.as_str()).fill_null(lit(0i8)))
        .collect();
    for c in 0..definition.cohorts.len() {
        fills.push(col(biomarker_column(c)).fill_null(lit(false)));
    }
    for (d, drug) in definition.drugs.iter().enumerate() {
        if !drug.resistance.is_empty() {
            fills.push(col(resistance_column(d)).fill_null(lit(false)));
        } else {
            fills.push(lit(false).alias(resistance_column(d)));
        }
    }
    wide = wide.with_columns(fills);

    let haematological = in_set(col("p_primary"), &haematological_set(definition));
    let matched: Vec<Expr> = definition
        .cohorts
        .iter()
        .enumerate()
        .map(|(c, cohort)| {
            col(biomarker_column(c))
                .and(tumour_fits(cohort, haematological.clone()))
                .alias(matched_column(c))
        })
        .collect();
    let any_matched = (0..definition.cohorts.len())
        .map(|c| col(matched_column(c)))
        .reduce(Expr::or)
        .unwrap_or(lit(false));
    wide = wide
        .with_columns(matched)
        .with_column(any_matched.alias("matched_any"))
        .with_columns(general)
        .with_columns(per_drug)
        .with_columns(strata(definition));

    let mut keep = vec![col("person_id")];
    keep.extend(STRATUM_COLUMNS.iter().map(|c| col(*c)));
    keep.extend(general_columns(definition).into_iter().map(col));
    keep.extend((0..definition.cohorts.len()).map(|c| col(matched_column(c))));
    for d in 0..definition.drugs.len() {
        keep.extend(drug_columns(definition, d).into_iter().map(col));
    }
    if counted_unconvertible {
        keep.push(col(UNCONVERTIBLE));
    }
    let mut patients = wide
        .select(keep)
        .sort(["person_id"], SortMultipleOptions::default())
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let mut unconvertible_units = 0;
    if counted_unconvertible {
        let column = patients.drop_in_place(UNCONVERTIBLE)?;
        unconvertible_units = column
            .as_materialized_series()
            .cast(&DataType::UInt64)?
            .u64()?
            .sum()
            .unwrap_or(0);
    }
    Ok(Evaluation {
        patients,
        unconvertible_units,
    })
}
