//! The contract's value-by-value findings: values out of domain, unknown units, orphan rows
//! (by the person ids' bitmap) and variants' orphan test ids. [`RowChecks`] counts them for one
//! table: in one polars aggregate pass over a whole table (`eligo check`, and validation where a
//! run cannot take them over), or straight from the columns of each partition's rows as a run
//! reads them into memory for evaluation ([`RowFindings`], summed over the partitions: the same
//! counts, without decoding the table a second time). Each check's rule gives both.

use std::collections::BTreeSet;
use std::sync::Arc;

use polars::prelude::*;
use polars_arrow::array::PrimitiveArray;
use polars_arrow::types::NativeType;

use super::bitmaps::{boolean_column, with_bits};
use super::distinct::{map_distinct, text_flags};
use super::ids::{DenseIds, TestIds};
use super::validate::number;
use super::Table;
use crate::prefetch::{blocks, prefetch_block};
use crate::udf::MapColumn;

/// Units the contract lists (UCUM as labs send them), plus `U/mL` (CA-125) and `ng/mL` (PSA).
pub const UNITS: &[&str] = &[
    "10*9/L",
    "10*3/uL",
    "/uL",
    "g/dL",
    "g/L",
    "mmol/L",
    "umol/L",
    "mg/dL",
    "U/L",
    "mL/min",
    "mL/min/{1.73_m2}",
    "%",
    "ms",
    "kg",
    "U/mL",
    "ng/mL",
];

/// Observation codes whose value_num is a grade or score from 0 to 5 (whole numbers).
pub const GRADED_CODES: &[&str] = &["89247-1", "ctcae-max-grade", "neuropathy-grade"];

/// Observation codes whose value_text has a fixed set of values.
pub const TEXT_CODES: &[(&str, &[&str])] = &[
    ("extent", &["local", "locally-advanced", "metastatic"]),
    ("std-tx-exhausted", &["true", "false"]),
    ("recist-measurable", &["true", "false"]),
    ("brain-mets-status", &["none", "stable", "progressive"]),
    ("dysphagia", &["true", "false"]),
    ("pregnant", &["true", "false"]),
    ("nursing", &["true", "false"]),
];

const SEXES: &[&str] = &["F", "M", "U"];
const KINDS: &[&str] = &["drug", "radiotherapy"];
const METHODS: &[&str] = &[
    "ngs-panel",
    "wes",
    "rna-seq",
    "ihc",
    "fish",
    "pcr",
    "array-cnv",
    "sanger",
    "nanostring",
];
const SPECIMENS: &[&str] = &["tissue-primary", "tissue-metastasis", "plasma-cfdna"];
/// The contract's variant classes (a biomarker's `class` in a definition is one of them).
pub const CLASSES: &[&str] = &[
    "snv",
    "indel",
    "amplification",
    "deletion",
    "fusion",
    "expression",
    "signature",
];

/// An observation code's kind for its findings, a byte: `GRADED` for one of
/// [`GRADED_CODES`], and its position in [`TEXT_CODES`] (else `NOT_TEXT`) in the low bits.
pub type CodeKind = u8;
const GRADED: CodeKind = 0x80;
const NOT_TEXT: CodeKind = 0x7F;

/// An observation code's [`CodeKind`] (of the code as recorded).
pub fn code_kind(code: Option<&str>) -> CodeKind {
    const _: () = assert!(TEXT_CODES.len() <= 8, "a code's bit in a byte");
    let graded = code.is_some_and(|c| GRADED_CODES.contains(&c));
    let text = code.and_then(|code| TEXT_CODES.iter().position(|(c, _)| *c == code));
    (if graded { GRADED } else { 0 }) | text.map_or(NOT_TEXT, |position| position as u8)
}

/// Each observation's [`CodeKind`], once per distinct code: the grade and the text checks
/// both read it (each had mapped the codes of its own, about 20 instructions a row).
fn code_kinds(codes: &StringChunked) -> Vec<CodeKind> {
    map_distinct(codes, code_kind)
}

/// `frame`'s observation [`code_kinds`], computed on first use.
fn kinds_of<'k>(
    kinds: &'k mut Option<Vec<CodeKind>>,
    frame: &DataFrame,
) -> PolarsResult<&'k [CodeKind]> {
    Ok(match kinds {
        Some(kinds) => kinds,
        None => kinds.insert(code_kinds(frame.column("code")?.str()?)),
    })
}

/// Per observation (of `kinds`, [`code_kinds`]), whether it is one of [`TEXT_CODES`] and its
/// non-null `value_text` is not one of its code's, in one pass: per distinct value a bit for
/// each of those codes that allows it (so the pass reads two bytes a row; every code allows a
/// null value).
fn texts_outside<'a>(
    kinds: &'a [CodeKind],
    texts: &StringChunked,
) -> impl Iterator<Item = bool> + 'a {
    outside_allowed(kinds, map_distinct(texts, text_allowed))
}

/// The observations (of `kinds`) whose text's [`text_allowed`] bits (`allowed`) exclude their
/// code: [`texts_outside`] from bits a reader computed before.
fn outside_allowed<'a>(
    kinds: &'a [CodeKind],
    allowed: impl IntoIterator<Item = TextAllowed> + 'a,
) -> impl Iterator<Item = bool> + 'a {
    (kinds.iter().zip(allowed)).map(|(kind, allowed)| {
        let code = kind & NOT_TEXT;
        code != NOT_TEXT && allowed >> code & 1 == 0
    })
}

/// Of a `value_text` (as recorded), a bit for each of [`TEXT_CODES`] that allows it; every bit
/// where null (every code allows a null value).
pub type TextAllowed = u8;

/// The [`TextAllowed`] bits of `text`, which the text check reads: for a reader that maps every
/// observation's text anyway (`engine::tables::Tables::read`).
pub fn text_allowed(text: Option<&str>) -> TextAllowed {
    match text {
        Some(text) => (TEXT_CODES.iter().enumerate())
            .filter(|(_, (_, values))| values.contains(&text))
            .fold(0u8, |bits, (c, _)| bits | 1 << c),
        None => u8::MAX,
    }
}

/// Per observation (of `kinds`, [`code_kinds`]), whether it is one of [`GRADED_CODES`] and its
/// `value_num` is not a whole number from 0 to 5 (NaN and the infinities are not), in one
/// pass. As polars expressions (a code test, two comparisons, a round trip through Int64 and
/// three three-valued `or`/`and`) it was 0.2 s of a 1 M run's observation findings.
fn grades_outside(kinds: &[CodeKind], values: &Column) -> PolarsResult<Vec<bool>> {
    let values = values.as_materialized_series().cast(&DataType::Float64)?;
    polars_ensure!(
        kinds.len() == values.len(),
        ShapeMismatch: "{} observation codes for {} values", kinds.len(), values.len()
    );
    // NaN is in no range (polars orders it above every number). Within 0..=5 a value is whole
    // where adding and taking away 2^52 leaves it as it is (the sum rounds to a whole number;
    // a cast to an integer saturates behind a branch, and `trunc` is a libm call). `&` and
    // `|`, not `&&` and `||`, and the nulls cleared after: graded and ungraded codes
    // interleave, and the branches on each row's kind, value and validity mispredicted
    // (0.9 % of a 10 M run's samples).
    const WHOLE: f64 = 4_503_599_627_370_496.0;
    let outside = |v: f64| !(0.0..=5.0).contains(&v) | ((v + WHOLE) - WHOLE != v);
    let graded = |kind: &CodeKind| kind & GRADED != 0;
    let mut flags: Vec<bool> = Vec::with_capacity(kinds.len());
    // Array by array, values and validity apart: the arrays' iterators of optional values cost
    // more than the test.
    for array in values.f64()?.downcast_iter() {
        let start = flags.len();
        let kinds = &kinds[start..start + array.len()];
        let values = array.values().as_slice();
        for rows in blocks(values.len()) {
            prefetch_block(kinds, rows.clone());
            prefetch_block(values, rows.clone());
            let pairs = kinds[rows.clone()].iter().zip(&values[rows]);
            flags.extend(pairs.map(|(kind, &value)| graded(kind) & outside(value)));
        }
        // By words of the validity: null values (the text observations') are three rows in
        // five of the synthetic extract's, too many to visit one by one.
        if let Some(valid) = array.validity().filter(|valid| valid.unset_bits() > 0) {
            with_bits(&mut flags[start..], valid, |flag, valid| *flag &= valid);
        }
    }
    Ok(flags)
}

/// What a check flags, as a polars expression (an aggregate pass over a scan: `eligo check`, and
/// validation where a run cannot take it over) and as a count over a frame in memory (each
/// partition's rows in a run): the count skips polars' Boolean column, its fill and its sum, and
/// the expression stays the reference (`row_checks` tests both on the same rows).
#[derive(Clone)]
enum Rule {
    /// A text not among these values (a null is not a finding).
    Outside(&'static [&'static str]),
    /// A number below zero (neither a null nor NaN is).
    Negative,
    /// An observation of a graded code whose `value_num` is out of its domain
    /// ([`grades_outside`]).
    GradeOutside,
    /// An observation of a text code whose `value_text` is not one of its code's
    /// ([`texts_outside`]).
    TextOutside,
    /// An id that is no person's (a null id too).
    NoPerson(Arc<DenseIds>),
    /// A test id that is no molecular test of the row's person (a null too; another person's
    /// test too).
    NoTest(TestSet),
}

/// The molecular tests a variant's test id is looked up among.
#[derive(Clone)]
pub enum TestSet {
    /// The extract's tests, read whole by validation.
    All(Arc<TestIds>),
    /// The tests of the rows' partition: a test of a row's person is in that person's
    /// partition, so a variant's test is found there or nowhere. The run's reader looks the
    /// variants up among them itself and counts the orphans
    /// ([`RowChecks::without_partition_tests`]); otherwise they are given to the checks
    /// ([`RowChecks::with_tests`]). Counting before either is an error.
    Partition,
}

impl TestSet {
    fn tests(&self) -> PolarsResult<&Arc<TestIds>> {
        match self {
            TestSet::All(tests) => Ok(tests),
            TestSet::Partition => Err(polars_err!(ComputeError: "{UNREAD_TESTS}")),
        }
    }
}

const UNREAD_TESTS: &str =
    "the variants' test ids were checked before their partition's tests were read";

impl Rule {
    /// True for a flagged row of `column`, null or false otherwise.
    fn expr(&self, column: &str) -> Expr {
        match self {
            Rule::Outside(values) => text_flags(col(column), |value| !values.contains(&value)),
            Rule::Negative => col(column).lt(lit(0.0)),
            Rule::GradeOutside => map_multiple(
                |inputs: &mut [Column]| {
                    let flags = grades_outside(&code_kinds(inputs[0].str()?), &inputs[1])?;
                    Ok(boolean_column(inputs[0].name().clone(), &flags).into_column())
                },
                [col("code"), col(column)],
                |_, fields| Ok(Field::new(fields[0].name().clone(), DataType::Boolean)),
            ),
            Rule::TextOutside => map_multiple(
                |inputs: &mut [Column]| {
                    let kinds = code_kinds(inputs[0].str()?);
                    let flags: Vec<bool> = texts_outside(&kinds, inputs[1].str()?).collect();
                    Ok(boolean_column(inputs[0].name().clone(), &flags).into_column())
                },
                [col("code"), col(column)],
                |_, fields| Ok(Field::new(fields[0].name().clone(), DataType::Boolean)),
            ),
            Rule::NoPerson(ids) => ids.absent(column),
            Rule::NoTest(tests) => match tests.tests() {
                Ok(tests) => tests.not_own_expr("person_id", column),
                Err(_) => col(column).map_column(
                    |_| Err(polars_err!(ComputeError: "{UNREAD_TESTS}")),
                    |_, field| Ok(field.clone()),
                ),
            },
        }
    }

    /// The rows of `frame` flagged: as many as [`Rule::expr`] is true on. `kinds` holds the
    /// frame's observation [`code_kinds`] once a rule has needed them.
    fn count(
        &self,
        column: &str,
        frame: &DataFrame,
        kinds: &mut Option<Vec<CodeKind>>,
        texts: Option<&[TextAllowed]>,
    ) -> PolarsResult<u64> {
        let values = frame.column(column)?;
        let trues = |flags: &[bool]| flags.iter().filter(|f| **f).count() as u64;
        Ok(match self {
            Rule::Outside(values_allowed) => trues(&map_distinct(values.str()?, |value| {
                value.is_some_and(|value| !values_allowed.contains(&value))
            })),
            Rule::Negative => {
                let numbers = values.as_materialized_series().cast(&DataType::Float64)?;
                let numbers = numbers.f64()?.downcast_iter();
                numbers
                    .map(|array| valid_where(array, |v| v < 0.0))
                    .sum::<usize>() as u64
            }
            Rule::GradeOutside => trues(&grades_outside(kinds_of(kinds, frame)?, values)?),
            Rule::TextOutside => {
                let kinds = kinds_of(kinds, frame)?;
                let flagged = |flagged: &bool| *flagged;
                match texts {
                    Some(texts) => outside_allowed(kinds, texts.iter().copied())
                        .filter(flagged)
                        .count() as u64,
                    None => texts_outside(kinds, values.str()?).filter(flagged).count() as u64,
                }
            }
            // The ids `absent` flags (a null too): every row but the valid ones in the set,
            // counted without building its Boolean column (counting `DenseIds::absent`'s
            // bitmaps instead cost 0.9 % more of a run, callgrind).
            Rule::NoPerson(ids) => {
                let series = values.as_materialized_series().cast(&DataType::Int64)?;
                let arrays = series.i64()?.downcast_iter();
                // Every id looked up, though a patient's records are mostly next to each other:
                // remembering the last id's answer took a branch that mispredicts at every new
                // patient, 2.5x the time of the bitmap's lookup (1.9 against 0.8 ns a row).
                let present = arrays.map(|array| valid_where(array, |id| ids.contains(id)));
                (series.len() - present.sum::<usize>()) as u64
            }
            Rule::NoTest(tests) => {
                let persons = frame.column("person_id")?.as_materialized_series();
                trues(
                    &tests
                        .tests()?
                        .not_own(persons, values.as_materialized_series())?,
                )
            }
        })
    }
}

/// How many valid rows of `array` pass `test`: every value tested in a plain loop (which the
/// compiler can unroll or vectorize), then the null rows' passes taken back, one by one (a few
/// rows of most arrays). Zipping the values with the validity's bits cost about 8 instructions
/// a row more (callgrind).
fn valid_where<T: NativeType>(array: &PrimitiveArray<T>, test: impl Fn(T) -> bool) -> usize {
    let values = array.values().as_slice();
    let passed = values.iter().filter(|&&v| test(v)).count();
    let nulls = array.validity().filter(|valid| valid.unset_bits() > 0);
    let null_passed = nulls.map_or(0, |valid| {
        (!valid)
            .true_idx_iter()
            .filter(|&i| test(values[i]))
            .count()
    });
    passed - null_passed
}

/// Out-of-domain rules: (column, expression true for an out-of-domain row). Region is not
/// checked: the contract names Norway's regions as an example, not as a closed list. A rule
/// reads its column, and an observation's rules the observation's code too
/// ([`RowChecks::columns`]).
fn domain_rules(table: Table) -> Vec<(&'static str, Rule)> {
    match table {
        Table::Person => vec![("sex", Rule::Outside(SEXES))],
        Table::Measurement => vec![("value", Rule::Negative)],
        Table::Observation => vec![
            ("value_num", Rule::GradeOutside),
            ("value_text", Rule::TextOutside),
        ],
        Table::Treatment => vec![("kind", Rule::Outside(KINDS))],
        Table::MolecularTest => vec![
            ("method", Rule::Outside(METHODS)),
            ("specimen", Rule::Outside(SPECIMENS)),
        ],
        Table::Variant => vec![("class", Rule::Outside(CLASSES)), ("value", Rule::Negative)],
        Table::Diagnosis => Vec::new(),
    }
}

/// Counts a boolean rule's true rows (nulls count as false), as UInt64.
fn count_true(rule: Expr) -> Expr {
    rule.fill_null(lit(false)).sum().cast(DataType::UInt64)
}

/// Whether a measurement's unit (as recorded, not trimmed) is one the contract does not list:
/// the units check of [`RowChecks`].
pub fn unit_outside_contract(unit: &str) -> bool {
    !UNITS.contains(&unit)
}

/// What a check counts, on which [`super::ColumnQuality`] field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finding {
    OutOfDomain,
    UnknownUnit,
    Orphan,
}

impl Finding {
    fn suffix(self) -> &'static str {
        match self {
            Finding::OutOfDomain => "domain",
            Finding::UnknownUnit => "units",
            Finding::Orphan => "orphans",
        }
    }
}

/// One table's value-by-value checks, as aggregates of one pass: each counts the rows its rule
/// flags.
#[derive(Clone)]
pub struct RowChecks {
    table: Table,
    checks: Vec<(&'static str, Finding, Rule)>,
    /// The molecular tests' ids are left to the run: each partition's reader takes the span of
    /// its tests' ids ([`TestIdSpan`]), from which the run decides their uniqueness.
    spans_test_ids: bool,
}

impl RowChecks {
    /// `table`'s checks: its domain rules, the measurements' units, orphan rows where the person
    /// ids are `dense` (else counted by anti joins, [`super::validate`]), and the variants'
    /// test ids missing from `tests`. Where `tests` are each partition's, the molecular tests'
    /// ids are left to the partitions too ([`RowChecks::spans_test_ids`]).
    pub(crate) fn of(table: Table, dense: Option<&Arc<DenseIds>>, tests: &TestSet) -> RowChecks {
        let mut checks: Vec<(&'static str, Finding, Rule)> = domain_rules(table)
            .into_iter()
            .map(|(column, rule)| (column, Finding::OutOfDomain, rule))
            .collect();
        if table == Table::Measurement {
            checks.push(("unit", Finding::UnknownUnit, Rule::Outside(UNITS)));
        }
        if let Some(dense) = dense.filter(|_| table != Table::Person) {
            checks.push((
                "person_id",
                Finding::Orphan,
                Rule::NoPerson(Arc::clone(dense)),
            ));
        }
        if table == Table::Variant {
            checks.push(("test_id", Finding::Orphan, Rule::NoTest(tests.clone())));
        }
        let spans_test_ids = table == Table::MolecularTest && matches!(tests, TestSet::Partition);
        RowChecks {
            table,
            checks,
            spans_test_ids,
        }
    }

    pub fn table(&self) -> Table {
        self.table
    }

    /// Whether the reader of a partition's rows of this table (the molecular tests) takes the
    /// span of their ids ([`TestIds::span`]) into its findings ([`RowFindings::test_ids`]).
    pub fn spans_test_ids(&self) -> bool {
        self.spans_test_ids
    }

    /// Whether these checks look up the variants' test ids among their partition's tests
    /// ([`TestSet::Partition`]).
    pub fn needs_partition_tests(&self) -> bool {
        (self.checks.iter()).any(|(_, _, rule)| matches!(rule, Rule::NoTest(TestSet::Partition)))
    }

    /// These checks with the variants' test ids looked up among `tests`: the tests of the
    /// partition whose rows they count.
    pub fn with_tests(&self, tests: &Arc<TestIds>) -> RowChecks {
        let mut checks = self.clone();
        for (_, _, rule) in &mut checks.checks {
            if let Rule::NoTest(set) = rule {
                *set = TestSet::All(Arc::clone(tests));
            }
        }
        checks
    }

    /// These checks but the out-of-domain checks of text columns whose every value `values`
    /// gives (the column's Parquet dictionaries, [`super::dictionary`]) and the domain allows:
    /// no row can be flagged, so the column need not be read for them.
    pub(crate) fn without_proven(
        self,
        mut values: impl FnMut(&str) -> Option<BTreeSet<String>>,
    ) -> RowChecks {
        let mut checks = self.checks;
        checks.retain(|(column, finding, rule)| match (finding, rule) {
            (Finding::OutOfDomain, Rule::Outside(allowed)) => !values(column)
                .is_some_and(|values| values.iter().all(|v| allowed.contains(&v.as_str()))),
            _ => true,
        });
        RowChecks {
            table: self.table,
            checks,
            spans_test_ids: self.spans_test_ids,
        }
    }

    /// These checks but the orphan check of the person ids, where they have one: for a reader
    /// that looks up every record's patient anyway and counts the records of none
    /// ([`RowFindings::orphans`]).
    pub fn without_orphans(&self) -> Option<RowChecks> {
        self.without(|rule| matches!(rule, Rule::NoPerson(_)))
    }

    /// These checks but the variants' test ids' among their partition's tests, where they have
    /// it: for a reader that looks up every variant's test anyway (`TestIds::rows_of`) and
    /// counts the orphans ([`RowFindings::test_orphans`]).
    pub fn without_partition_tests(&self) -> Option<RowChecks> {
        self.without(|rule| matches!(rule, Rule::NoTest(TestSet::Partition)))
    }

    /// These checks but those whose rule `dropped` says, where there are some.
    fn without(&self, dropped: impl Fn(&Rule) -> bool) -> Option<RowChecks> {
        (self.checks.iter().any(|(_, _, rule)| dropped(rule))).then(|| RowChecks {
            table: self.table,
            checks: (self.checks.iter())
                .filter(|(_, _, rule)| !dropped(rule))
                .cloned()
                .collect(),
            spans_test_ids: self.spans_test_ids,
        })
    }

    /// Whether the checks count the measurements' units outside the contract's list.
    pub fn counts_units(&self) -> bool {
        (self.checks.iter()).any(|(_, finding, _)| *finding == Finding::UnknownUnit)
    }

    /// These checks but the units': for a reader that maps every unit anyway and counts them
    /// in the same pass ([`unit_outside_contract`], [`RowFindings::unknown_units`]).
    pub fn without_units(&self) -> RowChecks {
        let checks = self.checks.iter().cloned();
        RowChecks {
            table: self.table,
            checks: checks
                .filter(|(_, finding, _)| *finding != Finding::UnknownUnit)
                .collect(),
            spans_test_ids: self.spans_test_ids,
        }
    }

    fn alias(column: &str, finding: Finding) -> String {
        format!("{column}:{}", finding.suffix())
    }

    /// The checks as aggregates (UInt64 counts), for a select of their own or beside others.
    pub(crate) fn aggregates(&self) -> Vec<Expr> {
        self.checks
            .iter()
            .map(|(column, finding, rule)| {
                count_true(rule.expr(column)).alias(Self::alias(column, *finding))
            })
            .collect()
    }

    /// The columns the checks read: each check's column, and an observation's code (which
    /// says what its value must be).
    pub fn columns(&self) -> Vec<PlSmallStr> {
        let mut columns: Vec<PlSmallStr> = Vec::new();
        let code = (self.table == Table::Observation).then_some("code");
        // A variant's test is checked against its person; the tests' ids, where the run spans
        // them, with theirs.
        let person = (self.checks.iter()).find_map(|(_, _, rule)| match rule {
            Rule::NoTest(_) => Some("person_id"),
            _ => None,
        });
        let tests = self.spans_test_ids.then_some(["test_id", "person_id"]);
        for name in (self.checks.iter().map(|(column, _, _)| *column))
            .chain(code)
            .chain(person)
            .chain(tests.into_iter().flatten())
        {
            if !columns.iter().any(|c| c == name) {
                columns.push(name.into());
            }
        }
        columns
    }

    /// The counts of [`RowChecks::aggregates`], read from the pass's one-row result.
    pub(crate) fn findings(&self, counts: &DataFrame) -> RowFindings {
        let counts = self
            .checks
            .iter()
            .map(|(column, finding, _)| {
                let n = number(counts, &Self::alias(column, *finding));
                (self.table, *column, *finding, n)
            })
            .collect();
        RowFindings::of(counts)
    }

    /// The findings among `rows` (the table's rows, or some of them), in one streaming pass.
    pub fn count(&self, rows: LazyFrame) -> PolarsResult<RowFindings> {
        let counts = rows
            .select(self.aggregates())
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single();
        Ok(self.findings(&counts))
    }

    /// The findings among `rows` in memory (a partition's rows of the table, with at least
    /// [`RowChecks::columns`]): the counts [`RowChecks::count`] gives, each rule counted straight
    /// from the columns. At 250,000 patients the polars passes were 8.5 % of a run's
    /// instructions.
    pub fn count_in_memory(&self, rows: &DataFrame) -> PolarsResult<RowFindings> {
        self.count_with_kinds(rows, None, None)
    }

    /// [`RowChecks::count_in_memory`] of observations whose codes' kinds (`kinds`, by
    /// [`code_kind`]) and texts' allowed codes (`texts`, by [`text_allowed`]) a reader that
    /// maps every code and text anyway computed in the same passes.
    pub fn count_observations_in_memory(
        &self,
        rows: &DataFrame,
        kinds: Vec<CodeKind>,
        texts: &[TextAllowed],
    ) -> PolarsResult<RowFindings> {
        polars_ensure!(
            kinds.len() == rows.height() && texts.len() == rows.height(),
            ShapeMismatch: "{} observation code kinds and {} texts for {} rows",
                kinds.len(), texts.len(), rows.height()
        );
        self.count_with_kinds(rows, Some(kinds), Some(texts))
    }

    fn count_with_kinds(
        &self,
        rows: &DataFrame,
        kinds: Option<Vec<CodeKind>>,
        texts: Option<&[TextAllowed]>,
    ) -> PolarsResult<RowFindings> {
        let mut kinds = kinds;
        let counts = self
            .checks
            .iter()
            .map(|(column, finding, rule)| {
                let count = rule.count(column, rows, &mut kinds, texts)?;
                Ok((self.table, *column, *finding, count))
            })
            .collect::<PolarsResult<_>>()?;
        Ok(RowFindings::of(counts))
    }
}

mod row_findings;

pub use row_findings::RowFindings;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod row_checks;
