//! A partition's tables as evaluation reads them: each table with value-by-value checks read
//! into memory once, before its first use, its findings counted on the rows read and the keys its
//! readers share computed there, then let go after its last use; or, for a table whose one reader
//! is a kernel, each row group counted and handed on as it is decoded ([`Tables::fold`]).

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
use crate::extract::text_keys::TextKey;
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
        let (tests, columns, keyed) = self.columns_to_read(check)?;
        let rows = self.inputs.read_into_memory(table, &columns, &keyed)?;
        if check.spans_test_ids() {
            let (tests, repeats) = TestIds::of_frame(&rows)
                .map_err(|e| polars_err!(ComputeError: "molecular tests: {e}"))?;
            self.findings
                .add(&RowFindings::test_ids(tests.span(repeats)));
            self.tests = Some(Arc::new(tests));
        }
        let read = Read {
            keys: self.keys.as_ref(),
            patient_rows: self.patient_rows.as_ref(),
            tests: tests.as_ref(),
            keyed: !keyed.is_empty(),
        };
        let (findings, rows) = read.counted(check, rows)?;
        self.findings.add(&findings);
        *self.inputs.table_mut(table) = rows.lazy();
        Ok(())
    }

    /// Whether [`Tables::fold`] hands `table`'s rows on a few row groups at a time: it has checks
    /// that count row by row (not the molecular tests' span of ids), it was not read yet, and
    /// the rows come with everything their fold reads: the measurements' code and unit keys,
    /// once the definition is compiled.
    pub(crate) fn folds(&self, table: Table) -> bool {
        self.folding_check(table).is_some()
    }

    /// `table`'s checks, where [`Tables::folds`] it.
    fn folding_check(&self, table: Table) -> Option<&'c RowChecks> {
        let check = self.checks.iter().find(|c| c.table() == table)?;
        let folds = table == Table::Measurement && self.keys.is_some() && check.counts_units();
        (folds && !check.spans_test_ids() && !self.read.contains(&table)).then_some(check)
    }

    /// Reads `table` (where [`Tables::folds`] it) in runs of row groups of at most [`FOLD_ROWS`]
    /// rows, each counted and given its keys and patient rows as [`Tables::read`] does the whole
    /// table, then handed to `f` soon after it was decoded, and let go: the partition's table is
    /// never whole in memory (0.1 GB less at the peak of a 10 M run, a tenth fewer page
    /// faults), and each pass over its rows (the findings, the patient rows, the keys, the
    /// kernel's fold) reads columns decoded just before.
    pub(crate) fn fold(
        &mut self,
        table: Table,
        mut f: impl FnMut(DataFrame) -> Result<(), EngineError>,
    ) -> Result<(), EngineError> {
        let check = self.folding_check(table).ok_or_else(|| {
            EngineError::Internal(format!("the {table:?} rows folded as they are read"))
        })?;
        let (tests, columns, keyed) = self.columns_to_read(check)?;
        let read = Read {
            keys: self.keys.as_ref(),
            patient_rows: self.patient_rows.as_ref(),
            tests: tests.as_ref(),
            keyed: !keyed.is_empty(),
        };
        let findings = &mut self.findings;
        (self.inputs).read_each(table, &columns, &keyed, FOLD_ROWS, |rows| {
            let (found, rows) = read.counted(check, rows)?;
            findings.add(&found);
            f(rows)
        })?;
        self.read.push(table);
        Ok(())
    }

    /// What `check`'s table is read with: the partition's molecular tests where its checks look
    /// ids up among them, its checks' columns, and the text columns read as keys.
    fn columns_to_read(&mut self, check: &RowChecks) -> Result<ToRead, EngineError> {
        let table = check.table();
        let tests = match check.needs_partition_tests() {
            true => Some(self.partition_tests()?),
            false => None,
        };
        let (_, atc_as_keys) = atc_words(self.keys.as_ref(), check);
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
        Ok((tests, columns, keyed))
    }
}

/// The most rows of whole row groups [`Tables::fold`] reads at once: four of the synthetic
/// extract's. Against the table read whole into memory and scanned by a plan, runs of one row
/// group (a read each) measured 3 % faster to 8 % slower at 10 M patients, runs of four as fast
/// or faster, and runs of eight or more slower (forty-ninth session, `BENCHMARKS.md`).
const FOLD_ROWS: u64 = 1 << 19;

/// What a table is read with ([`Tables::columns_to_read`]).
type ToRead = (Option<Arc<TestIds>>, Vec<PlSmallStr>, Vec<TextKey>);

/// The treatments' words where the definition's atoms read them, and the same where their ATC
/// codes are read as keys of those words (nothing reads them as text).
fn atc_words<'k>(
    keys: Option<&'k KeyRules>,
    check: &RowChecks,
) -> (Option<&'k AtcWords>, Option<&'k AtcWords>) {
    let words = match (keys, check.table()) {
        (
            Some(KeyRules {
                treatments: Some(words),
                ..
            }),
            Table::Treatment,
        ) => Some(words),
        _ => None,
    };
    let as_keys =
        words.filter(|words| !words.codes_read && !check.columns().iter().any(|c| c == "atc"));
    (words, as_keys)
}

/// How a table's rows read into memory are counted and completed ([`Read::counted`]).
struct Read<'t> {
    keys: Option<&'t KeyRules>,
    patient_rows: Option<&'t Arc<PatientRows>>,
    /// The partition's molecular tests, where the checks look the rows' test ids up in them.
    tests: Option<&'t Arc<TestIds>>,
    /// Whether the table's text columns were read as keys ([`Tables::columns_to_read`]).
    keyed: bool,
}

impl Read<'_> {
    /// The findings of `rows` (the table's, or a row group of them), and the rows with what
    /// their readers share: their tests' and patients' rows, and their keys and words.
    fn counted(
        &self,
        check: &RowChecks,
        mut rows: DataFrame,
    ) -> Result<(RowFindings, DataFrame), EngineError> {
        let table = check.table();
        let (atc_words, atc_as_keys) = atc_words(self.keys, check);
        // Findings counted as the rows' patients and tests are found.
        let mut found = RowFindings::default();
        let mut check = Cow::Borrowed(check);
        if let (Some(tests), Some(without)) = (self.tests, check.without_partition_tests()) {
            let persons = rows.column("person_id")?.as_materialized_series();
            let (test_rows, not_own) =
                tests.rows_of(persons, rows.column("test_id")?.as_materialized_series())?;
            rows.with_column(test_rows.with_name(TEST_ROW.into()).into_column())?;
            found.add(&RowFindings::test_orphans(not_own));
            check = Cow::Owned(without);
        }
        if let (Some(lookup), Some(without)) = (self.patient_rows, check.without_orphans()) {
            let row = lookup.rows_column(rows.column("person_id")?)?;
            found.add(&RowFindings::orphans(table, row.null_count() as u64));
            rows.with_column(row)?;
            check = Cow::Owned(without);
        }
        let (mut findings, keys) = match (self.keys, table) {
            // The records' keys are computed where evaluation reads them, from the code and
            // unit keys (`MeasureRules::key_of_keys`).
            (Some(_), Table::Measurement) if self.keyed => {
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
        findings.add(&found);
        for keys in keys {
            rows.with_column(keys)?;
        }
        Ok((findings, rows))
    }
}

impl Tables<'_> {
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
