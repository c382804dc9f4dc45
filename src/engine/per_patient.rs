//! The per-patient values of the record tables' atoms and the variant flags, beside the patient
//! core: reduced by patient row into columns aligned with the core ([`super::reduce`]) where the
//! ids have an array lookup, else by a group-by on `person_id` left-joined to the core.

use std::sync::Arc;

use polars::prelude::*;

use super::cohorts::{flag_rules, reported_by_index, variant_flags, variant_rows, TestLookup};
use super::compile::Reduce;
use super::inputs::Inputs;
use super::kernel::KernelAtoms;
use super::lookup::{PatientRows, ROW, TEST_ROW};
use super::patient_core::PRIMARY_SETS;
use super::reduce::PatientReduction;
use super::variants::VariantRules;
use super::EngineError;
use crate::definition::model::Definition;
use crate::extract::ids::TestIds;

/// The patient core's columns that record-level expressions read.
pub(crate) const PERSON_COLUMNS: [&str; 6] = [
    "p_idx",
    "p_sex",
    "p_age",
    "p_death",
    "p_primary",
    PRIMARY_SETS,
];

/// The patient core and the per-patient columns gathered so far.
pub(crate) struct PerPatient<'c> {
    core: &'c DataFrame,
    rows: Option<Arc<PatientRows>>,
    /// Columns reduced by patient row, aligned with `core`.
    reduced: Vec<Column>,
    /// Group-bys on `person_id`, joined to the core at the end.
    grouped: Vec<LazyFrame>,
}

/// `key`, then `columns`.
fn keyed(key: Expr, columns: &[Expr]) -> Vec<Expr> {
    std::iter::once(key)
        .chain(columns.iter().cloned())
        .collect()
}

fn prepare(records: LazyFrame, steps: &[Vec<Expr>]) -> LazyFrame {
    steps
        .iter()
        .fold(records, |records, step| records.with_columns(step))
}

impl<'c> PerPatient<'c> {
    pub(crate) fn new(core: &'c DataFrame, rows: Option<Arc<PatientRows>>) -> PerPatient<'c> {
        PerPatient {
            core,
            rows,
            reduced: Vec::new(),
            grouped: Vec::new(),
        }
    }

    /// `records` (with `person_id`) with their patient's `columns` of the core beside them, by
    /// the row lookup where there is one (also giving [`ROW`]), else by a hash join; records of
    /// no patient in the core (orphan rows) are dropped either way.
    fn with_patient(&self, records: LazyFrame, columns: &[&str]) -> PolarsResult<LazyFrame> {
        match &self.rows {
            Some(rows) => rows.attach(records, self.core, columns),
            None => {
                let person: Vec<Expr> = std::iter::once("person_id")
                    .chain(columns.iter().copied())
                    .map(col)
                    .collect();
                Ok(records.inner_join(
                    self.core.clone().lazy().select(person),
                    col("person_id"),
                    col("person_id"),
                ))
            }
        }
    }

    /// Whether records are reduced by patient row (the ids have the lookup), so that atoms can go
    /// to a kernel ([`super::kernel`]).
    pub(crate) fn by_row(&self) -> bool {
        self.rows.is_some()
    }

    /// Reduces `columns` (each aliased to its name in `reductions`) of `records` per patient: by
    /// patient row where the ids have the lookup and every column is an integer, else by a
    /// group-by on `person_id`. `kernel`'s atoms (only by patient row) are folded from the
    /// records' own columns.
    fn reduce(
        &mut self,
        records: LazyFrame,
        columns: &[Expr],
        reductions: &[(String, Reduce)],
        kernel: Option<KernelAtoms>,
    ) -> Result<(), EngineError> {
        let by_kernel = kernel.is_some();
        if self.rows.is_some() {
            let kernel = kernel.map(|kernel| kernel.build(self.core)).transpose()?;
            let mut selected = keyed(col(ROW), columns);
            if let Some(kernel) = &kernel {
                selected.extend(kernel.inputs().iter().map(|name| col(*name)));
            }
            let by_row = records.clone().select(selected);
            let schema = by_row.clone().collect_schema()?;
            let spec = reductions
                .iter()
                .map(|(name, reduce)| {
                    let dtype = schema.get(name.as_str()).cloned();
                    (name.clone(), *reduce, dtype.unwrap_or(DataType::Null))
                })
                .collect();
            if let Some(mut reduction) = PatientReduction::new(spec, self.core.height()) {
                if let Some(kernel) = kernel {
                    reduction = reduction.with_kernel(kernel);
                }
                self.reduced.extend(reduction.run(by_row)?);
                return Ok(());
            }
        }
        if by_kernel {
            return Err(EngineError::Internal(
                "kernel atoms where records are not reduced by patient row".into(),
            ));
        }
        let aggregations: Vec<Expr> = reductions
            .iter()
            .map(|(name, reduce)| reduce.aggregate(name))
            .collect();
        self.grouped.push(
            records
                .select(keyed(col("person_id"), columns))
                .group_by([col("person_id")])
                .agg(aggregations),
        );
        Ok(())
    }

    /// One table's atoms: `columns` (each aliased to its name in `reductions`) over `records`
    /// (with `person_id`) and their patient's [`PERSON_COLUMNS`], computed after each step of
    /// `prepared` in turn (a step reads the columns of the steps before it); and the table's
    /// `kernel` atoms (only where [`PerPatient::by_row`]).
    pub(crate) fn records(
        &mut self,
        records: LazyFrame,
        prepared: &[Vec<Expr>],
        columns: Vec<Expr>,
        reductions: Vec<(String, Reduce)>,
        kernel: Option<KernelAtoms>,
    ) -> Result<(), EngineError> {
        let records = prepare(self.with_patient(records, &PERSON_COLUMNS)?, prepared);
        self.reduce(records, &columns, &reductions, kernel)
    }

    /// The fold of a table's `kernel` atoms (only by patient row) from frames of its records
    /// that [`PerPatient::fold`] is given, where every atom of the table is the kernel's and its
    /// records are folded as they are read (`Tables::fold`) rather than scanned by a plan.
    pub(crate) fn kernel_fold(&self, kernel: KernelAtoms) -> Result<PatientReduction, EngineError> {
        let (Some(_), Some(reduction)) = (
            &self.rows,
            PatientReduction::new(Vec::new(), self.core.height()),
        ) else {
            return Err(EngineError::Internal(
                "kernel atoms where records are not reduced by patient row".into(),
            ));
        };
        Ok(reduction.with_kernel(kernel.build(self.core)?))
    }

    /// Folds `records` (with `person_id`, the kernel's inputs, and [`ROW`] where it was found as
    /// they were read) into `reduction` ([`PerPatient::kernel_fold`]).
    pub(crate) fn fold(
        &self,
        reduction: &mut PatientReduction,
        mut records: DataFrame,
    ) -> Result<(), EngineError> {
        if !records.schema().contains(ROW) {
            let rows = self.rows.as_ref().ok_or_else(|| {
                EngineError::Internal("records folded without the patient rows' lookup".into())
            })?;
            records.with_column(rows.rows_column(records.column("person_id")?)?)?;
        }
        Ok(reduction.fold(&records)?)
    }

    /// The atoms' columns of a [`PerPatient::kernel_fold`] that every frame of its records went
    /// through.
    pub(crate) fn folded(&mut self, reduction: PatientReduction) {
        self.reduced.extend(reduction.finish());
    }

    /// Molecular matching: per patient, whether any variant reported by the index date carries a
    /// cohort's biomarker (Boolean `biomarker_c`) or a drug's resistance (`resistance_d`); null
    /// for patients without such a variant. By patient row, the variant kernel
    /// ([`super::variants`]) folds them; otherwise polars' flags per variant are reduced as 0/1
    /// bytes (the largest per patient), then Boolean again.
    /// `tests` is the set of the partition's test ids where the reader built it (`Tables::tests`).
    pub(crate) fn variants(
        &mut self,
        inputs: &Inputs,
        definition: &Definition,
        tests: Option<Arc<TestIds>>,
    ) -> Result<(), EngineError> {
        if flag_rules(definition).is_empty() {
            return Ok(());
        }
        if let Some(rows) = &self.rows {
            let tests = TestLookup::collect(inputs, tests)?;
            let test_patients = tests.patient_rows(rows)?;
            // Their tests found as the variants were read (`Tables::read`), in the same rows.
            let variants = inputs.variant.clone().collect_schema()?;
            let kernel = KernelAtoms::Variants(
                Arc::new(VariantRules::new(definition)?),
                Arc::new(tests),
                test_patients,
                variants.contains(TEST_ROW),
            );
            let records = self.with_patient(inputs.variant.clone(), &[])?;
            return self.reduce(records, &[], &[], Some(kernel));
        }
        let flags = variant_flags(definition);
        let variants = reported_by_index(self.with_patient(variant_rows(inputs)?, &["p_idx"])?);
        let bytes: Vec<Expr> = flags
            .iter()
            .map(|(name, flag)| {
                // A select of two constants by the mask, not a cast: polars casts a Boolean to
                // an integer bit by bit through an iterator.
                when(flag.clone())
                    .then(lit(1u8))
                    .otherwise(lit(0u8))
                    .alias(name)
            })
            .collect();
        let reductions: Vec<(String, Reduce)> = flags
            .into_iter()
            .map(|(name, _)| (name, Reduce::Max))
            .collect();
        let grouped = self.grouped.len();
        self.reduce(variants, &bytes, &reductions, None)?;
        let booleans: Vec<Expr> = reductions
            .iter()
            .map(|(name, _)| col(name.as_str()).cast(DataType::Boolean))
            .collect();
        for per_patient in &mut self.grouped[grouped..] {
            *per_patient = per_patient.clone().with_columns(&booleans);
        }
        Ok(())
    }

    /// Whether the rows of [`PerPatient::into_wide`] stay in the core's order: no group-by is
    /// joined (polars' joins do not promise an order).
    pub(crate) fn in_core_order(&self) -> bool {
        self.grouped.is_empty()
    }

    /// The core with every per-patient column.
    pub(crate) fn into_wide(self) -> Result<LazyFrame, EngineError> {
        let mut wide = self.core.clone().hstack(&self.reduced)?.lazy();
        for per_patient in self.grouped {
            wide = wide.left_join(per_patient, col("person_id"), col("person_id"));
        }
        Ok(wide)
    }
}
