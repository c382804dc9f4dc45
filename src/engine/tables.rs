//! A partition's tables as evaluation reads them: each table with value-by-value checks read
//! into memory once, before its first use, its findings counted on the rows read and the keys its
//! readers share computed there, then let go after its last use.

use std::borrow::Cow;
use std::sync::Arc;

use polars::prelude::*;

use super::codes::{normalized_icd10, AtcWords};
use super::compile::KeyRules;
use super::inputs::Inputs;
use super::lookup::{PatientRows, TEST_ROW};
use super::measures::MeasureRules;
use super::records::NORMAL_ICD10;
use super::EngineError;
use crate::extract::findings::{
    code_kind, text_allowed, unit_outside_contract, RowChecks, RowFindings,
};
use crate::extract::ids::TestIds;
use crate::extract::Table;

/// A partition's tables as evaluation reads them: each table with checks is read into memory
/// before its first use ([`Tables::need`]), its findings counted, and dropped after its last
/// ([`Tables::done`]). Without checks, the lazy scans as given.
pub(crate) struct Tables<'c> {
    inputs: Inputs,
    checks: &'c [RowChecks],
    findings: RowFindings,
    /// The tables read into memory so far.
    read: Vec<Table>,
    /// Once the definition is compiled: what the measurement, observation and treatment
    /// records' keys and words are computed by as those tables are read ([`Tables::read`]).
    keys: Option<KeyRules>,
    /// Once the persons are read, where their ids have the lookup: each record's patient row,
    /// found as its table is read ([`ROW`](super::lookup::ROW)).
    patient_rows: Option<Arc<PatientRows>>,
    /// The partition's molecular tests, once read where the variants' checks look their test
    /// ids up among them ([`RowChecks::needs_partition_tests`]).
    tests: Option<Arc<TestIds>>,
}

impl<'c> Tables<'c> {
    /// `inputs` as given; each of `checks`' tables is read into memory at its first use.
    pub(crate) fn new(inputs: Inputs, checks: &'c [RowChecks]) -> Tables<'c> {
        Tables {
            inputs,
            checks,
            findings: RowFindings::default(),
            read: Vec::new(),
            keys: None,
            patient_rows: None,
            tests: None,
        }
    }

    /// What the records' keys are computed by as their tables are read, from here on.
    pub(crate) fn compute_keys(&mut self, keys: KeyRules) {
        self.keys = Some(keys);
    }

    /// The lookup each record table's patient rows are found by as it is read, from here on
    /// (the persons of the partition, the rows of its patient core).
    pub(crate) fn find_patient_rows(&mut self, rows: Option<Arc<PatientRows>>) {
        self.patient_rows = rows;
    }

    /// The findings of every checked table: those evaluation read, counted as they were read,
    /// and the others (the definition needs none of their rows) counted from the files.
    ///
    /// The molecular tests and variants are read into memory all the same where the tests' ids
    /// are spanned or the variants' looked up among them: both need the partition's tests.
    pub(crate) fn into_findings(mut self) -> Result<RowFindings, EngineError> {
        for check in self.checks {
            if !self.read.contains(&check.table()) {
                match check.spans_test_ids() || check.needs_partition_tests() {
                    true => {
                        self.read(check)?;
                        self.read.push(check.table());
                    }
                    false => {
                        let rows = self.inputs.table_mut(check.table()).clone();
                        self.findings.add(&check.count(rows)?);
                    }
                }
            }
        }
        Ok(self.findings)
    }

    /// The partition's molecular tests, where they were read into memory for the checks: the
    /// set of their ids, of the rows the table holds in memory.
    pub(crate) fn tests(&self) -> Option<Arc<TestIds>> {
        self.tests.clone()
    }

    /// The partition's molecular tests, for the variants' checks: read with their own checks
    /// where they have them (which span their ids), else from the partition's rows.
    fn partition_tests(&mut self) -> Result<Arc<TestIds>, EngineError> {
        if self.tests.is_none() {
            self.need(&[Table::MolecularTest])?;
        }
        if let Some(tests) = &self.tests {
            return Ok(Arc::clone(tests));
        }
        let (tests, _) = TestIds::read(self.inputs.molecular_test.clone())?;
        let tests = Arc::new(tests);
        self.tests = Some(Arc::clone(&tests));
        Ok(tests)
    }

    /// The inputs, with each of `tables` that has checks read into memory and counted, unless
    /// it already was.
    pub(crate) fn need(&mut self, tables: &[Table]) -> Result<&Inputs, EngineError> {
        for &table in tables {
            let Some(check) = self.checks.iter().find(|c| c.table() == table) else {
                continue;
            };
            if !self.read.contains(&table) {
                self.read(check)?;
                self.read.push(table);
            }
        }
        Ok(&self.inputs)
    }

    /// The inputs, with the person table read into memory: by row groups where the partition's
    /// tables are read that way ([`Inputs::read_into_memory`]), its findings counted where it has
    /// checks. The persons' range filter had decoded each row group across a partition bound
    /// once per partition that overlaps it, as the other tables did before they were read by row
    /// groups. [`Tables::done`] lets it go.
    pub(crate) fn need_persons(&mut self) -> Result<&Inputs, EngineError> {
        let table = Table::Person;
        if !self.read.contains(&table) {
            match self.checks.iter().find(|c| c.table() == table) {
                Some(check) => self.read(check)?,
                // No check to count: read all the same, and marked read to be let go.
                None => {
                    self.inputs.read_into_memory(table, &[], &[])?;
                }
            }
            self.read.push(table);
        }
        Ok(&self.inputs)
    }

    /// Reads `check`'s table into memory and counts its findings. Once the definition is
    /// compiled, a measurement's LOINC and unit keys and an observation's code key are computed
    /// here too, as columns of the table, in the same mapping of the units and the codes that
    /// the findings read (the contract's units; the codes' kinds): the engine and validation
    /// had each mapped every row, the engine after the orphans' drop, morsel by morsel. (The
    /// measurement's two keys are combined where the kernel reads them.) The
    /// diagnoses' codes get their normal form here, for the two passes that read them, and the
    /// treatments' ATC codes the words their atoms read (`codes::AtcWords`).
    ///
    /// Once the persons are read, each record's patient row ([`ROW`](super::lookup::ROW)) is
    /// found here too, for every reader of the table, and the orphan rows are its nulls: the
    /// orphan check had looked up every person id a second time (1.3 % of a 10 M run's
    /// samples), and the diagnoses' patient rows were found twice, by the patient core and by
    /// the atoms.
    ///
    /// The molecular tests' ids, where the run takes them, are kept as the partition's tests
    /// and their span counted in the findings. Each variant's test is then found among them
    /// once ([`TEST_ROW`]), for the orphans' count here and the variants' matching: both had
    /// looked it up.
    fn read(&mut self, check: &RowChecks) -> Result<(), EngineError> {
        let table = check.table();
        let tests = match check.needs_partition_tests() {
            true => Some(self.partition_tests()?),
            false => None,
        };
        // The treatments' ATC codes read as keys of their words, where nothing reads them as
        // text.
        let atc_words = match (&self.keys, table) {
            (
                Some(KeyRules {
                    treatments: Some(words),
                    ..
                }),
                Table::Treatment,
            ) => Some(words),
            _ => None,
        };
        let atc_as_keys = atc_words
            .filter(|words| !words.codes_read && !check.columns().iter().any(|c| c == "atc"));
        // The measurements' codes and units read as their keys, the units check among them.
        let (keyed, columns) = match (&self.keys, table) {
            (Some(rules), Table::Measurement) if check.counts_units() => (
                rules.measures.text_keys(unit_outside_contract).to_vec(),
                check.without_units().columns(),
            ),
            // The observations' codes read as their keys and kinds.
            (Some(rules), Table::Observation) => (
                vec![rules.observations.code_text_key(code_kind)?],
                check.columns(),
            ),
            (_, Table::Treatment) => (
                atc_as_keys.map(AtcWords::text_key).into_iter().collect(),
                check.columns(),
            ),
            _ => (Vec::new(), check.columns()),
        };
        let mut rows = self.inputs.read_into_memory(table, &columns, &keyed)?;
        if check.spans_test_ids() {
            let (tests, repeats) = TestIds::of_frame(&rows)
                .map_err(|e| polars_err!(ComputeError: "molecular tests: {e}"))?;
            self.findings
                .add(&RowFindings::test_ids(tests.span(repeats)));
            self.tests = Some(Arc::new(tests));
        }
        // Findings counted as the rows' patients and tests are found.
        let mut found = RowFindings::default();
        let mut check = Cow::Borrowed(check);
        if let (Some(tests), Some(without)) = (tests, check.without_partition_tests()) {
            let persons = rows.column("person_id")?.as_materialized_series();
            let (test_rows, not_own) =
                tests.rows_of(persons, rows.column("test_id")?.as_materialized_series())?;
            rows.with_column(test_rows.with_name(TEST_ROW.into()).into_column())?;
            found.add(&RowFindings::test_orphans(not_own));
            check = Cow::Owned(without);
        }
        if let (Some(lookup), Some(without)) = (&self.patient_rows, check.without_orphans()) {
            let row = lookup.rows_column(rows.column("person_id")?)?;
            found.add(&RowFindings::orphans(table, row.null_count() as u64));
            rows.with_column(row)?;
            check = Cow::Owned(without);
        }
        let (findings, keys) = match (&self.keys, table) {
            // The records' keys are computed where evaluation reads them, from the code and
            // unit keys (`MeasureRules::key_of_keys`).
            (Some(_), Table::Measurement) if !keyed.is_empty() => {
                let outside = MeasureRules::flagged_units(&rows)?;
                let mut findings = check.without_units().count_in_memory(&rows)?;
                findings.add(&RowFindings::unknown_units(outside));
                (findings, Vec::new())
            }
            (Some(rules), Table::Observation) => {
                let (keys, kinds) = rules.observations.keys_with_kinds(&mut rows)?;
                let drugs = rules.observation_drugs.as_ref();
                let (texts, allowed, drug_words) =
                    (rules.observations).text_keys_with_allowed(&rows, text_allowed, drugs)?;
                let findings = check.count_observations_in_memory(&rows, kinds, &allowed)?;
                (
                    findings,
                    [keys, texts].into_iter().chain(drug_words).collect(),
                )
            }
            // The code sets' and the drugs' words from one mapping of the codes, or of their
            // keys.
            (_, Table::Treatment) => {
                let findings = check.count_in_memory(&rows)?;
                let words = match (atc_as_keys, atc_words) {
                    (Some(words), _) => words.columns_of_keys(&mut rows)?,
                    (None, Some(words)) => words.columns(rows.column("atc")?.str()?),
                    (None, None) => Vec::new(),
                };
                (findings, words)
            }
            // The patient core and the diagnosis atoms each read the records, and each had
            // computed the normal form.
            (_, Table::Diagnosis) => {
                let findings = check.count_in_memory(&rows)?;
                // By the streaming engine, morsels in parallel.
                let codes = (rows.clone().lazy())
                    .select([normalized_icd10("icd10").alias(NORMAL_ICD10)])
                    .collect_with_engine(Engine::Streaming)?
                    .unwrap_single();
                (findings, vec![codes.column(NORMAL_ICD10)?.clone()])
            }
            _ => (check.count_in_memory(&rows)?, Vec::new()),
        };
        self.findings.add(&findings);
        self.findings.add(&found);
        let mut keyed = rows;
        for keys in keys {
            keyed.with_column(keys)?;
        }
        *self.inputs.table_mut(table) = keyed.lazy();
        Ok(())
    }

    /// Lets go of a table read into memory: nothing later reads it (a lazy plan built on it
    /// keeps its own reference).
    pub(crate) fn done(&mut self, table: Table) -> Result<(), EngineError> {
        if self.read.contains(&table) {
            let frame = self.inputs.table_mut(table);
            let schema = frame.collect_schema()?;
            *frame = DataFrame::empty_with_schema(&schema).lazy();
        }
        Ok(())
    }
}
