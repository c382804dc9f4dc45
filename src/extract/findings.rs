//! The contract's value-by-value findings: values out of domain, unknown units, orphan rows
//! (by the person ids' bitmap) and variants' orphan test ids. [`RowChecks`] counts them for one
//! table: in one polars aggregate pass over a whole table (`eligo check`, and validation where a
//! run cannot take them over), or straight from the columns of each partition's rows as a run
//! reads them into memory for evaluation ([`RowFindings`], summed over the partitions: the same
//! counts, without decoding the table a second time). Each check's rule gives both.

use std::sync::Arc;

use polars::prelude::*;
use polars_arrow::array::{PrimitiveArray, Utf8ViewArray};

use super::distinct::{boolean_column, map_distinct, text_flags};
use super::ids::{DenseIds, TextIds};
use super::validate::number;
use super::{DataQuality, Table};

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

/// Per observation, whether it is one of [`TEXT_CODES`] and its non-null `value_text` is not one
/// of its code's, in one pass: per distinct code its position in [`TEXT_CODES`], per distinct
/// value a bit for each of those codes that allows it (a byte each, so the pass reads two bytes
/// a row; every code allows a null value).
fn texts_outside(codes: &StringChunked, texts: &StringChunked) -> impl Iterator<Item = bool> {
    const NOT_TEXT: u8 = u8::MAX;
    const _: () = assert!(TEXT_CODES.len() <= 8, "a code's bit in a byte");
    let code = map_distinct(codes, |code| {
        code.and_then(|code| TEXT_CODES.iter().position(|(c, _)| *c == code))
            .map_or(NOT_TEXT, |position| position as u8)
    });
    let allowed = map_distinct(texts, |text| match text {
        Some(text) => (TEXT_CODES.iter().enumerate())
            .filter(|(_, (_, values))| values.contains(&text))
            .fold(0u8, |bits, (c, _)| bits | 1 << c),
        None => u8::MAX,
    });
    (code.into_iter().zip(allowed))
        .map(|(code, allowed)| code != NOT_TEXT && allowed >> code & 1 == 0)
}

/// Per observation, whether it is one of [`GRADED_CODES`] and its `value_num` is not a whole
/// number from 0 to 5 (NaN and the infinities are not), in one pass: per distinct code whether
/// it is graded. As polars expressions (a code test, two comparisons, a round trip through
/// Int64 and three three-valued `or`/`and`) it was 0.2 s of a 1 M run's observation findings.
fn grades_outside(codes: &StringChunked, values: &Column) -> PolarsResult<Vec<bool>> {
    let values = values.as_materialized_series().cast(&DataType::Float64)?;
    let graded = map_distinct(codes, |code| {
        code.is_some_and(|c| GRADED_CODES.contains(&c))
    });
    // NaN is in no range (polars orders it above every number). Within 0..=5 a value is whole
    // where it survives a round trip through an integer (exact there; `trunc` is a libm call).
    let outside = |v: f64| !(0.0..=5.0).contains(&v) || (v as i64) as f64 != v;
    let mut flags: Vec<bool> = Vec::with_capacity(graded.len());
    // Array by array, values and validity apart: the arrays' iterators of optional values cost
    // more than the test.
    for array in values.f64()?.downcast_iter() {
        let graded = &graded[flags.len()..flags.len() + array.len()];
        let rows = graded.iter().zip(array.values().iter());
        match array.validity().filter(|valid| valid.unset_bits() > 0) {
            None => flags.extend(rows.map(|(graded, &value)| *graded && outside(value))),
            Some(valid) => flags.extend(
                (rows.zip(valid.iter()))
                    .map(|((graded, &value), valid)| valid && *graded && outside(value)),
            ),
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
    /// A test id that is no molecular test's (a null too).
    NoTest(Arc<TextIds>),
}

impl Rule {
    /// True for a flagged row of `column`, null or false otherwise.
    fn expr(&self, column: &str) -> Expr {
        match self {
            Rule::Outside(values) => text_flags(col(column), |value| !values.contains(&value)),
            Rule::Negative => col(column).lt(lit(0.0)),
            Rule::GradeOutside => map_multiple(
                |inputs: &mut [Column]| {
                    let flags = grades_outside(inputs[0].str()?, &inputs[1])?;
                    Ok(boolean_column(inputs[0].name().clone(), &flags).into_column())
                },
                [col("code"), col(column)],
                |_, fields| Ok(Field::new(fields[0].name().clone(), DataType::Boolean)),
            ),
            Rule::TextOutside => map_multiple(
                |inputs: &mut [Column]| {
                    let flags: Vec<bool> =
                        texts_outside(inputs[0].str()?, inputs[1].str()?).collect();
                    Ok(boolean_column(inputs[0].name().clone(), &flags).into_column())
                },
                [col("code"), col(column)],
                |_, fields| Ok(Field::new(fields[0].name().clone(), DataType::Boolean)),
            ),
            Rule::NoPerson(ids) => ids.absent(column),
            Rule::NoTest(ids) => ids.absent(column),
        }
    }

    /// The rows of `frame` flagged: as many as [`Rule::expr`] is true on.
    fn count(&self, column: &str, frame: &DataFrame) -> PolarsResult<u64> {
        let values = frame.column(column)?;
        let trues = |flags: &[bool]| flags.iter().filter(|f| **f).count() as u64;
        Ok(match self {
            Rule::Outside(values_allowed) => trues(&map_distinct(values.str()?, |value| {
                value.is_some_and(|value| !values_allowed.contains(&value))
            })),
            Rule::Negative => {
                let numbers = values.as_materialized_series().cast(&DataType::Float64)?;
                let numbers = numbers.f64()?;
                let below = |array: &PrimitiveArray<f64>| match array.validity() {
                    Some(valid) => (array.values().iter().zip(valid.iter()))
                        .filter(|(v, valid)| *valid && **v < 0.0)
                        .count(),
                    None => array.values().iter().filter(|v| **v < 0.0).count(),
                };
                numbers.downcast_iter().map(below).sum::<usize>() as u64
            }
            Rule::GradeOutside => trues(&grades_outside(frame.column("code")?.str()?, values)?),
            Rule::TextOutside => {
                let flags = texts_outside(frame.column("code")?.str()?, values.str()?);
                flags.filter(|flagged| *flagged).count() as u64
            }
            // The ids `absent` flags (a null too), counted without building its Boolean column:
            // counting `DenseIds::absent`'s bitmaps instead cost 0.9 % more of a run (callgrind).
            Rule::NoPerson(ids) => {
                let series = values.as_materialized_series().cast(&DataType::Int64)?;
                let absent = |array: &PrimitiveArray<i64>| {
                    let values = array.values().iter();
                    match array.validity() {
                        Some(valid) => (values.zip(valid.iter()))
                            .filter(|(id, valid)| !*valid || !ids.contains(**id))
                            .count(),
                        None => values.filter(|id| !ids.contains(**id)).count(),
                    }
                };
                series.i64()?.downcast_iter().map(absent).sum::<usize>() as u64
            }
            Rule::NoTest(ids) => {
                let series = values.as_materialized_series().cast(&DataType::String)?;
                let absent =
                    |array: &Utf8ViewArray| ids.rows_of(array).filter(|row| row.is_none()).count();
                series.str()?.downcast_iter().map(absent).sum::<usize>() as u64
            }
        })
    }
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
}

impl RowChecks {
    /// `table`'s checks: its domain rules, the measurements' units, orphan rows where the person
    /// ids are `dense` (else counted by anti joins, [`super::validate`]), and the variants'
    /// test ids missing from `tests`.
    pub(crate) fn of(
        table: Table,
        dense: Option<&Arc<DenseIds>>,
        tests: &Arc<TextIds>,
    ) -> RowChecks {
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
            checks.push(("test_id", Finding::Orphan, Rule::NoTest(Arc::clone(tests))));
        }
        RowChecks { table, checks }
    }

    pub fn table(&self) -> Table {
        self.table
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
        for name in self.checks.iter().map(|(column, _, _)| *column).chain(code) {
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
        RowFindings { counts }
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
        let counts = self
            .checks
            .iter()
            .map(|(column, finding, rule)| {
                Ok((self.table, *column, *finding, rule.count(column, rows)?))
            })
            .collect::<PolarsResult<_>>()?;
        Ok(RowFindings { counts })
    }
}

/// Counts of [`RowChecks`]: per table, column and finding, the rows flagged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowFindings {
    counts: Vec<(Table, &'static str, Finding, u64)>,
}

impl RowFindings {
    /// Adds `other`'s counts (another partition's rows) to these.
    pub fn add(&mut self, other: &RowFindings) {
        for &(table, column, finding, n) in &other.counts {
            match (self.counts.iter_mut())
                .find(|(t, c, f, _)| (*t, *c, *f) == (table, column, finding))
            {
                Some(count) => count.3 += n,
                None => self.counts.push((table, column, finding, n)),
            }
        }
    }

    /// Adds the counts to `quality`'s columns.
    pub fn record(&self, quality: &mut DataQuality) {
        for &(table, column, finding, n) in &self.counts {
            let q = quality.column_mut(table, column);
            match finding {
                Finding::OutOfDomain => q.out_of_domain += n,
                Finding::UnknownUnit => q.unconvertible_units += n,
                Finding::Orphan => q.orphan_rows += n,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(table: Table, column: &str, df: DataFrame) -> u64 {
        let (_, rule) = domain_rules(table)
            .into_iter()
            .find(|(c, _)| *c == column)
            .unwrap();
        let out = df
            .clone()
            .lazy()
            .select([count_true(rule.expr(column)).alias("n")])
            .collect()
            .unwrap();
        let by_polars = out.column("n").unwrap().u64().unwrap().get(0).unwrap();
        let in_memory = rule.count(column, &df).unwrap();
        assert_eq!(
            in_memory, by_polars,
            "{table}.{column}: in memory and by polars"
        );
        by_polars
    }

    #[test]
    fn ecog_and_grades_are_whole_numbers_from_0_to_5() {
        // Out of domain: ECOG 7, ECOG 1.5, CTCAE grade -1. In domain: ECOG 0, neuropathy 5,
        // an unknown code with value 9, a null value_num, a null code with value 7.
        let df = df!(
            "code" => [Some("89247-1"), Some("89247-1"), Some("ctcae-max-grade"), Some("89247-1"), Some("neuropathy-grade"), Some("weight-class"), Some("89247-1"), None],
            "value_num" => [Some(7.0), Some(1.5), Some(-1.0), Some(0.0), Some(5.0), Some(9.0), None, Some(7.0)],
            "value_text" => [None::<&str>, None, None, None, None, None, None, None],
        )
        .unwrap();
        assert_eq!(count(Table::Observation, "value_num", df), 3);
    }

    /// Grades at the edges of the domain, by polars' float order (NaN above every number): out
    /// are NaN, both infinities, 5.000001 and 1e300; in are -0.0, 0, 4 and 5, and a graded
    /// value under a padded code (codes are compared as stored).
    #[test]
    fn grades_at_the_edges_of_their_domain() {
        let values = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            5.000001,
            1e300,
            -0.0,
            0.0,
            4.0,
            5.0,
            2.5,
        ];
        let mut codes = vec![Some("89247-1"); values.len()];
        codes[9] = Some(" 89247-1");
        let df = df!(
            "code" => codes,
            "value_num" => values.map(Some),
            "value_text" => [None::<&str>; 10],
        )
        .unwrap();
        assert_eq!(count(Table::Observation, "value_num", df), 5);
    }

    #[test]
    fn text_codes_have_their_values() {
        // Out: extent "advanced", pregnant "yes". In: extent "metastatic", allergy with any ATC
        // code (not a closed list), a null value_text.
        let df = df!(
            "code" => ["extent", "pregnant", "extent", "allergy", "nursing"],
            "value_num" => [None::<f64>, None, None, None, None],
            "value_text" => [Some("advanced"), Some("yes"), Some("metastatic"), Some("L01EC02"), None],
        )
        .unwrap();
        assert_eq!(count(Table::Observation, "value_text", df), 2);
    }

    #[test]
    fn sex_outside_f_m_u() {
        let df = df!("sex" => [Some("F"), Some("X"), Some("m"), None, Some("U")]).unwrap();
        // "X" and lower-case "m" are not in the contract's list; null is a null, not a finding.
        assert_eq!(count(Table::Person, "sex", df), 2);
    }
}

#[cfg(test)]
mod row_checks {
    use super::*;
    use crate::extract::schema::IdType;

    fn checks(table: Table) -> RowChecks {
        let ids = Series::new("person_id".into(), [1i64, 2, 3]);
        let dense = Arc::new(DenseIds::of(&ids).unwrap());
        let tests = StringChunked::new("test_id".into(), ["T1", "T2"]);
        let (tests, _) = TextIds::of(&tests).unwrap();
        RowChecks::of(table, Some(&dense), &Arc::new(tests))
    }

    /// A run reads into memory only the engine's columns and [`RowChecks::columns`]: a frame of
    /// just those must be enough for every table's checks.
    #[test]
    fn the_checks_read_only_their_columns() {
        for table in Table::ALL {
            let checks = checks(table);
            let columns: Vec<Expr> = checks.columns().into_iter().map(col).collect();
            let rows = super::super::scan::empty(table, IdType::Int64).select(columns);
            let found = checks.count(rows);
            assert!(found.is_ok(), "{table}: {found:?}");
        }
        let names = |table| checks(table).columns();
        assert_eq!(
            names(Table::Observation),
            ["value_num", "value_text", "person_id", "code"]
        );
        assert_eq!(
            names(Table::Variant),
            ["class", "value", "person_id", "test_id"]
        );
        assert_eq!(names(Table::Person), ["sex"]);
    }

    /// Counts over two parts of a table add up to the counts over the whole, worked out by hand:
    /// patient 9 is no one's (2 rows), -1.0 is out of domain (1), "furlong" (twice) and " g/L"
    /// are no contract unit (3); recorded twice, each count doubles.
    #[test]
    fn counts_over_parts_add_up() {
        let rows = || {
            df!(
                "person_id" => [1i64, 9, 2, 9, 3],
                "value" => [Some(1.0), Some(-1.0), None, Some(0.0), Some(2.0)],
                "unit" => [Some("g/L"), Some("furlong"), Some("furlong"), None, Some(" g/L")],
            )
            .unwrap()
            .lazy()
        };
        let checks = checks(Table::Measurement);
        let mut parts = checks.count(rows().slice(0, 2)).unwrap();
        parts.add(&checks.count(rows().slice(2, 3)).unwrap());
        let whole = checks.count(rows()).unwrap();
        assert_eq!(parts, whole);
        let in_memory = checks.count_in_memory(&rows().collect().unwrap()).unwrap();
        assert_eq!(in_memory, whole);
        let mut quality = DataQuality::default();
        parts.record(&mut quality);
        parts.record(&mut quality);
        let mut q = |column| quality.column_mut(Table::Measurement, column).clone();
        assert_eq!(q("person_id").orphan_rows, 4);
        assert_eq!(q("value").out_of_domain, 2);
        // " g/L" is not a contract unit either: units are compared as written.
        assert_eq!(q("unit").unconvertible_units, 6);
    }

    /// Variants, counted in memory and by polars alike, worked out by hand: test ids T3, a null
    /// and T0 are no test's (3; T1 and T2 are); patients 0 and 4 and a null id are no one's (3);
    /// values -0.5 and -inf are below zero (2; NaN, -0.0, a null and 0.3 are not); classes
    /// "SNV" and "gain" are not the contract's (2; a null is no finding).
    #[test]
    fn variants_counted_in_memory_as_by_polars() {
        let rows = df!(
            "person_id" => [Some(1i64), Some(0), Some(2), None, Some(3), Some(4), Some(3)],
            "test_id" => [Some("T1"), Some("T3"), None, Some("T2"), Some("T0"), Some("T1"), Some("T2")],
            "value" => [Some(-0.5), Some(f64::NAN), Some(-0.0), None, Some(f64::NEG_INFINITY), Some(0.3), Some(1.0)],
            "class" => [Some("snv"), Some("SNV"), Some("fusion"), None, Some("gain"), Some("amplification"), Some("snv")],
        )
        .unwrap();
        let checks = checks(Table::Variant);
        let in_memory = checks.count_in_memory(&rows).unwrap();
        assert_eq!(in_memory, checks.count(rows.clone().lazy()).unwrap());
        let mut quality = DataQuality::default();
        in_memory.record(&mut quality);
        let mut q = |column| quality.column_mut(Table::Variant, column).clone();
        assert_eq!(q("test_id").orphan_rows, 3);
        assert_eq!(q("person_id").orphan_rows, 3);
        assert_eq!(q("value").out_of_domain, 2);
        assert_eq!(q("class").out_of_domain, 2);
    }

    /// A frame of several chunks (two partitions' reads appended) counts as its rows do.
    #[test]
    fn chunks_counted_in_memory_as_by_polars() {
        let part = |ids: [i64; 3], kinds: [Option<&str>; 3]| {
            df!("person_id" => ids, "kind" => kinds).unwrap()
        };
        let mut rows = part([1, 7, 2], [Some("drug"), Some("surgery"), None]);
        rows.vstack_mut(&part(
            [3, 3, 8],
            [Some("radiotherapy"), Some("Drug"), Some("drug")],
        ))
        .unwrap();
        assert_eq!(rows.first_col_n_chunks(), 2);
        let checks = checks(Table::Treatment);
        let in_memory = checks.count_in_memory(&rows).unwrap();
        assert_eq!(in_memory, checks.count(rows.clone().lazy()).unwrap());
        let mut quality = DataQuality::default();
        in_memory.record(&mut quality);
        // Patients 7 and 8 are no one's; "surgery" and "Drug" are not kinds of the contract.
        assert_eq!(
            quality
                .column_mut(Table::Treatment, "person_id")
                .orphan_rows,
            2
        );
        assert_eq!(
            quality.column_mut(Table::Treatment, "kind").out_of_domain,
            2
        );
    }
}
