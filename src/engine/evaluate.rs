//! Evaluation: the patient core (index date, age, primary cancer), the record tables' atoms and
//! molecular matching per patient ([`super::per_patient`]), then every criterion's outcome per
//! patient and per drug, collected with polars' streaming engine into the patient-level frame.

use std::collections::HashMap;

use polars::prelude::*;

use super::cohorts::{biomarker_column, flag_rules, matched, matched_column};
use super::compile::{resistance_column, Atom, Compiler, Context, Reduce};
use super::inputs::Inputs;
use super::kernel::RecordAtom;
use super::outcome::OutcomeParts;
use super::patient_core::{haematological_primary, patient_core, persons};
use super::per_patient::{PerPatient, PERSON_COLUMNS};
use super::records::RecordTable;
use super::tables::Tables;
use super::EngineError;
use crate::definition::model::{Criterion, Definition};
use crate::extract::findings::{RowChecks, RowFindings};
use crate::extract::Table;

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

/// Stratum columns of the patient-level frame, in `Stratum::DIMENSIONS` order: region, site and
/// sex as text, the tumour group and the age band as an index into their labels
/// ([`stratum_labels`]).
pub const STRATUM_COLUMNS: [&str; 5] = [
    "stratum_region",
    "stratum_site",
    "stratum_tumour_group",
    "stratum_sex",
    "stratum_age_band",
];

/// Age bands of the strata: (upper bound, label), ascending; `80+` above the last.
const AGE_BANDS: [(i32, &str); 5] = [
    (40, "<40"),
    (50, "40-49"),
    (60, "50-59"),
    (70, "60-69"),
    (80, "70-79"),
];

/// Per stratum column, where evaluation gives it as a `UInt32` index per patient, the labels
/// the indices stand for (the tumour group and the age band); None for the columns given as
/// text. The counter numbers each range's distinct values: an index is its own number, where a
/// label gathered into a string per patient was numbered again from the string (`map_distinct`
/// over two of the five columns, 20 M strings at 10 M patients).
pub(crate) fn stratum_labels(definition: &Definition) -> [Option<Vec<String>>; 5] {
    [
        None,
        None,
        Some(tumour_group_labels(definition)),
        None,
        Some(age_band_labels()),
    ]
}

/// The index `pick` gives each row from `inputs`, as a `UInt32` column.
fn coded(
    inputs: Vec<Expr>,
    pick: impl Fn(&[Column]) -> PolarsResult<Vec<u32>> + Send + Sync + 'static,
) -> Expr {
    map_multiple(
        move |columns: &mut [Column]| {
            Ok(UInt32Chunked::from_vec(PlSmallStr::EMPTY, pick(columns)?).into_column())
        },
        inputs,
        |_, _| Ok(Field::new(PlSmallStr::EMPTY, DataType::UInt32)),
    )
}

/// The tumour groups' labels in the definition's order, then `no primary` and `other`.
fn tumour_group_labels(definition: &Definition) -> Vec<String> {
    let groups = definition.tumour_groups.iter().map(|g| g.label.clone());
    groups
        .chain(["no primary".to_string(), "other".to_string()])
        .collect()
}

/// The index of the tumour group's label (`p_group`), else of `no primary` (no `p_primary`),
/// else of `other` ([`tumour_group_labels`]).
fn tumour_group_stratum(definition: &Definition) -> Expr {
    let no_primary = definition.tumour_groups.len() as u32;
    let other = no_primary + 1;
    coded(vec![col("p_primary"), col("p_group")], move |columns| {
        let group = columns[1]
            .as_materialized_series()
            .cast(&DataType::UInt32)?;
        let absent = columns[0].is_null();
        Ok(absent
            .iter()
            .zip(group.u32()?.iter())
            .map(|(no_primary_code, group)| match group {
                Some(g) if g < no_primary => g,
                _ if no_primary_code == Some(true) => no_primary,
                _ => other,
            })
            .collect())
    })
}

/// The bands' labels in ascending order, then `80+` and `not recorded`.
fn age_band_labels() -> Vec<String> {
    let bands = AGE_BANDS.iter().map(|(_, label)| label.to_string());
    bands
        .chain(["80+".to_string(), "not recorded".to_string()])
        .collect()
}

/// The index of `p_age`'s band, of `not recorded` where it is null ([`age_band_labels`]).
fn age_band_stratum() -> Expr {
    coded(vec![col("p_age")], |columns| {
        let age = columns[0].as_materialized_series().cast(&DataType::Int32)?;
        Ok(age
            .i32()?
            .iter()
            .map(|age| match age {
                Some(age) => AGE_BANDS.partition_point(|(upper, _)| *upper <= age) as u32,
                None => AGE_BANDS.len() as u32 + 1,
            })
            .collect())
    })
}

fn strata(definition: &Definition) -> Vec<Expr> {
    // Region, site and sex as read, nulls kept: the counter names a null stratum value "not
    // recorded" (`count::strata`), and the rows of one value keep the one view their decoded
    // dictionary page gave them. Filled here, each column's views were copied, 0.7 % of a run's
    // samples at 1 M patients.
    vec![
        col("region").alias(STRATUM_COLUMNS[0]),
        col("site").alias(STRATUM_COLUMNS[1]),
        tumour_group_stratum(definition).alias(STRATUM_COLUMNS[2]),
        col("p_sex").alias(STRATUM_COLUMNS[3]),
        age_band_stratum().alias(STRATUM_COLUMNS[4]),
    ]
}

/// What [`patient_outcomes`] gives.
pub struct Evaluation {
    /// The patient-level frame: `person_id`, the stratum columns, one outcome column per general
    /// criterion, `matched_c` per cohort and one outcome column per drug criterion.
    pub patients: DataFrame,
    /// Measurement rows of the patients (orphan rows are not evaluated) of the definition's
    /// measures whose unit none of those measures can convert: a data-quality finding (the rows
    /// are dropped from evaluation). Counted with the measurement atoms, not in a scan of its own.
    pub unconvertible_units: u64,
}

/// The per-patient count of unconvertible measurement rows, summed after evaluation.
const UNCONVERTIBLE: &str = "__unconvertible_units";

/// Evaluates every criterion for every patient. A panic (polars' Parquet reader asserts on some
/// damaged pages, such as a dictionary index out of range) is an error, not a crash.
pub fn patient_outcomes(
    inputs: &Inputs,
    definition: &Definition,
    as_of: chrono::NaiveDate,
) -> Result<Evaluation, EngineError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        evaluate(&mut Tables::new(inputs.clone(), &[]), definition, as_of)
    }))
    .map_err(|_| EngineError::Panicked)?
}

/// [`patient_outcomes`] of a partition whose `checks`' tables are each read into memory when
/// evaluation first needs them ([`Inputs::read_into_memory`]), where validation's
/// value-by-value findings are counted, and let go after their last use: the run decodes those
/// tables once, not once to validate and once to evaluate, and holds about one at a time. A
/// panic is an error, as in [`patient_outcomes`].
pub fn patient_outcomes_checked(
    inputs: &Inputs,
    definition: &Definition,
    as_of: chrono::NaiveDate,
    checks: &[RowChecks],
) -> Result<(Evaluation, RowFindings), EngineError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut tables = Tables::new(inputs.clone(), checks);
        let evaluation = evaluate(&mut tables, definition, as_of)?;
        Ok((evaluation, tables.into_findings()?))
    }))
    .map_err(|_| EngineError::Panicked)?
}

fn evaluate(
    tables: &mut Tables,
    definition: &Definition,
    as_of: chrono::NaiveDate,
) -> Result<Evaluation, EngineError> {
    // Sorted by `person_id`: columns reduced by patient row keep its order, so the patient frame
    // needs no sort of its own.
    let (person, patient_rows) = persons(tables.need_persons()?, as_of)?;
    tables.done(Table::Person)?;
    tables.find_patient_rows(patient_rows.clone());
    let inputs = tables.need(&[Table::Diagnosis])?;
    let core_frame = patient_core(inputs, definition, person, patient_rows.as_ref())?;
    // The numbers each record table gathers beside its records (`PatientRows::attach`) in one
    // chunk, once, not once per table. Only those: rechunking a string column (region, site,
    // the sex and the primary, which polars' `take` gathers from chunks) sums and copies its
    // strings (0.8 % of a run's instructions for region and site, 0.35 % for the other two).
    let core_frame = super::rechunked(&core_frame, |column| {
        PERSON_COLUMNS.contains(&column.name().as_str()) && column.dtype() != &DataType::String
    })?;

    let mut compiler = Compiler::new(definition);
    let none = Context { drug: None };
    let mut outcomes = Outcomes::default();
    for (i, criterion) in definition.criteria.iter().enumerate() {
        let parts = compiler.criterion_parts(criterion, none)?;
        outcomes.add(parts, criterion_column(i));
    }
    // A criterion that does not depend on the drug (most cohort criteria) compiles to the same
    // parts for every drug: computed once, copied to the other drugs' columns.
    for (d, drug) in definition.drugs.iter().enumerate() {
        let ctx = Context {
            drug: Some((d, drug)),
        };
        for (j, criterion) in drug_criteria(definition, d).enumerate() {
            let parts = compiler.criterion_parts(criterion, ctx)?;
            outcomes.add(parts, drug_criterion_column(d, j));
        }
    }

    tables.compute_keys(compiler.key_rules());
    let unconvertible = compiler.unconvertible_unit();
    let mut per_patient = PerPatient::new(&core_frame, patient_rows);
    let mut counted_unconvertible = false;
    for (table, atoms) in compiler.atoms() {
        // Measure and observation atoms go to their table's kernel where records are reduced by
        // patient row; the others, and all of them on the hash path, are polars columns.
        let (kernel, polars): (Vec<&Atom>, Vec<&Atom>) = atoms
            .iter()
            .partition(|atom| per_patient.by_row() && atom.kernel.is_some());
        let mut reductions: Vec<(String, Reduce)> = polars
            .iter()
            .map(|atom| (atom.name.clone(), atom.reduce))
            .collect();
        let mut columns: Vec<Expr> = polars.iter().map(|atom| atom.column.clone()).collect();
        let kernel: Vec<(String, RecordAtom)> = kernel
            .iter()
            .filter_map(|atom| Some((atom.name.clone(), atom.kernel.clone()?)))
            .collect();
        let mut kernel = match kernel.is_empty() {
            true => None,
            false => Some(compiler.kernel(*table, kernel).ok_or_else(|| {
                EngineError::Internal(format!("kernel atoms on {table:?} records"))
            })?),
        };
        if *table == RecordTable::Measurement && unconvertible.is_some() {
            // The measurement kernel counts them in its pass, where there is one.
            kernel = kernel.map(|kernel| kernel.counting_unconvertible(UNCONVERTIBLE));
            counted_unconvertible = kernel.as_ref().is_some_and(|k| k.counts_unconvertible());
        }
        if *table == RecordTable::Measurement && !counted_unconvertible {
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
        // A partition's measurements, where every atom that reads them is the kernel's, go to
        // it a row group at a time as they are read (`Tables::fold`), not through a plan. (The
        // shared columns are the polars atoms' and the kernel atoms' reference expressions.)
        let whole_kernel = columns.is_empty() && per_patient.by_row();
        let measurements = *table == RecordTable::Measurement;
        if let Some(atoms) =
            kernel.take_if(|_| measurements && whole_kernel && tables.folds(table.table()))
        {
            let measures = compiler.measures();
            let mut reduction = per_patient.kernel_fold(atoms)?;
            tables.fold(table.table(), |rows| {
                per_patient.fold(&mut reduction, measures.with_key(rows)?)
            })?;
            per_patient.folded(reduction);
            tables.done(table.table())?;
            continue;
        }
        let rows = table.rows(tables.need(&[table.table()])?);
        let schema = rows.clone().collect_schema()?;
        let prepared = [compiler.prepared(*table, &schema), shared];
        per_patient.records(rows, &prepared, columns, reductions, kernel)?;
        // The molecular tests are read again for the variants.
        if *table != RecordTable::MolecularTest {
            tables.done(table.table())?;
        }
    }
    tables.done(Table::Diagnosis)?;
    // Variants only where the definition has cohorts or resistance biomarkers to match.
    let variants: &[Table] = match flag_rules(definition).is_empty() {
        true => &[],
        false => &[Table::Variant, Table::MolecularTest],
    };
    tables.need(variants)?;
    let tests = tables.tests();
    per_patient.variants(tables.need(&[])?, definition, tests)?;
    tables.done(Table::Variant)?;
    tables.done(Table::MolecularTest)?;
    let in_core_order = per_patient.in_core_order();
    let mut wide = per_patient.into_wide()?;
    // An `any` atom's null (no record, or no row after the join) is read as 0 by its answer.
    let mut fills: Vec<Expr> = Vec::new();
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
    let answers: Vec<Expr> = compiler.answers().iter().map(|a| a.expr()).collect();
    wide = wide.with_columns(answers);

    let haematological = haematological_primary(definition);
    let matched: Vec<Expr> = definition
        .cohorts
        .iter()
        .enumerate()
        .map(|(c, cohort)| matched(c, cohort, haematological.clone()).alias(matched_column(c)))
        .collect();
    let any_matched = (0..definition.cohorts.len())
        .map(|c| col(matched_column(c)))
        .reduce(Expr::or)
        .unwrap_or(lit(false));
    let parts = outcomes.columns();
    let part_columns = parts.iter().map(|(name, expr)| expr.clone().alias(name));
    wide = wide
        .with_columns(matched)
        .with_column(any_matched.alias("matched_any"))
        .with_columns(part_columns.collect::<Vec<_>>())
        .with_columns(strata(definition));

    let mut keep = vec![col("person_id")];
    keep.extend(STRATUM_COLUMNS.iter().map(|c| col(*c)));
    keep.extend((0..definition.cohorts.len()).map(|c| col(matched_column(c))));
    keep.extend(parts.iter().map(|(name, _)| col(name.as_str())));
    if counted_unconvertible {
        keep.push(col(UNCONVERTIBLE));
    }
    let mut patients = wide.select(keep);
    if !in_core_order {
        patients = patients.sort(["person_id"], SortMultipleOptions::default());
    }
    let patients = patients
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let mut unconvertible_units = 0;
    if counted_unconvertible {
        unconvertible_units = (patients.column(UNCONVERTIBLE)?)
            .as_materialized_series()
            .cast(&DataType::UInt64)?
            .u64()?
            .sum()
            .unwrap_or(0);
    }
    let patients = outcomes.frame(&patients, definition)?;
    Ok(Evaluation {
        patients,
        unconvertible_units,
    })
}

/// The criteria's outcome columns: each distinct criterion's parts evaluated by polars once
/// ([`OutcomeParts::columns`]), their codes computed after ([`OutcomeParts::codes`]) and given
/// to every outcome column of the same parts.
#[derive(Default)]
struct Outcomes {
    /// Distinct parts, named by the first outcome column that has them.
    distinct: Vec<(OutcomeParts, String)>,
    /// Per outcome column, its parts in `distinct`.
    columns: HashMap<String, usize>,
}

impl Outcomes {
    fn add(&mut self, parts: OutcomeParts, column: String) {
        let index = match self
            .distinct
            .iter()
            .position(|(earlier, _)| *earlier == parts)
        {
            Some(index) => index,
            None => {
                self.distinct.push((parts, column.clone()));
                self.distinct.len() - 1
            }
        };
        self.columns.insert(column, index);
    }

    /// Every distinct criterion's part columns, by name.
    fn columns(&self) -> Vec<(String, Expr)> {
        (self.distinct.iter())
            .flat_map(|(parts, name)| parts.columns(name))
            .collect()
    }

    /// The patient frame: `evaluated`'s `person_id` and strata, the general criteria's outcomes,
    /// the cohorts' matches, and each drug's criteria's outcomes, in that order.
    fn frame(&self, evaluated: &DataFrame, definition: &Definition) -> PolarsResult<DataFrame> {
        let codes = (self.distinct.iter())
            .map(|(parts, name)| parts.codes(evaluated, name))
            .collect::<PolarsResult<Vec<Column>>>()?;
        let outcome = |name: String| -> PolarsResult<Column> {
            let index = self
                .columns
                .get(&name)
                .copied()
                .ok_or_else(|| polars_err!(ColumnNotFound: "no outcome computed for {name}"))?;
            Ok(codes[index].clone().with_name(name.into()))
        };
        let mut columns = vec![evaluated.column("person_id")?.clone()];
        for stratum in STRATUM_COLUMNS {
            columns.push(evaluated.column(stratum)?.clone());
        }
        for name in general_columns(definition) {
            columns.push(outcome(name)?);
        }
        for c in 0..definition.cohorts.len() {
            columns.push(evaluated.column(&matched_column(c))?.clone());
        }
        for d in 0..definition.drugs.len() {
            for name in drug_columns(definition, d) {
                columns.push(outcome(name)?);
            }
        }
        DataFrame::new(evaluated.height(), columns)
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::{strata, stratum_labels, STRATUM_COLUMNS};
    use crate::engine::kernel::tests::shipped;

    /// Labels worked out by hand from the shipped definition's 15 tumour groups (in priority
    /// order: 0 is non-small cell lung, 1 colorectal, 3 breast, 14 other solid) and the bands'
    /// edges; region, site and sex as they are, nulls kept (the counter names them "not
    /// recorded", `count::strata`).
    #[test]
    fn strata_at_their_edges() {
        let patients = df!(
            "region" => [Some("South"), None, Some("North"), None, None, None, None, None, None, None, None, None],
            "site" => [Some("H2"); 12],
            "p_sex" => [Some("F"), Some("M"), Some("U"), None, Some("F"), Some("F"), Some("F"), Some("F"), Some("F"), Some("F"), Some("F"), Some("F")],
            "p_primary" => [Some("C34.1"), Some("C18.7"), Some("C80.0"), Some("C44.9"), None, Some("X"), None, Some("C18.7"), Some("C18.7"), Some("C18.7"), Some("C18.7"), Some("C18.7")],
            "p_group" => [Some(0u32), Some(1), Some(14), None, None, Some(15), Some(3), Some(1), Some(1), Some(1), Some(1), Some(1)],
            "p_age" => [Some(39i32), Some(40), Some(79), Some(80), None, Some(-3), Some(120), Some(49), Some(50), Some(59), Some(69), Some(70)],
        )
        .unwrap();
        let definition = shipped();
        let mut got = patients
            .lazy()
            .select(strata(&definition))
            .collect()
            .unwrap();
        // The coded columns read back through their labels.
        for (name, labels) in STRATUM_COLUMNS.iter().zip(stratum_labels(&definition)) {
            if let Some(labels) = labels {
                let codes = got.column(name).unwrap().u32().unwrap().clone();
                let named: Vec<Option<&str>> = (codes.iter())
                    .map(|code| code.map(|code| labels[code as usize].as_str()))
                    .collect();
                let named = Column::new((*name).into(), named);
                got.with_column(named).unwrap();
            }
        }
        let colorectal = "Colorectal cancer";
        let want = df!(
            STRATUM_COLUMNS[0] => [Some("South"), None, Some("North"), None, None, None, None, None, None, None, None, None],
            STRATUM_COLUMNS[1] => ["H2"; 12],
            STRATUM_COLUMNS[2] => ["Lung cancer (non-small cell)", colorectal, "Other solid tumours", "other", "no primary", "other", "Breast cancer", colorectal, colorectal, colorectal, colorectal, colorectal],
            STRATUM_COLUMNS[3] => [Some("F"), Some("M"), Some("U"), None, Some("F"), Some("F"), Some("F"), Some("F"), Some("F"), Some("F"), Some("F"), Some("F")],
            STRATUM_COLUMNS[4] => ["<40", "40-49", "70-79", "80+", "not recorded", "<40", "80+", "40-49", "50-59", "50-59", "60-69", "70-79"],
        )
        .unwrap();
        assert_eq!(got, want);
    }
}
