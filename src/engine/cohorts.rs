//! Molecular matching: which patients carry a cohort's biomarker (from a test reported at or
//! before the index date, in an approved laboratory), and which carry a resistance biomarker of a
//! drug: per variant row, a flag per cohort and per resistant drug, reduced per patient
//! ([`super::per_patient`]).

use std::sync::Arc;

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, Utf8ViewArray};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::trusted_len::TrustedLen;

use super::inputs::{days, Inputs};
use super::kernel::optional_values;
use super::lookup::PatientRows;
use crate::definition::model::{Biomarker, Cohort, Definition};
use crate::extract::bitmaps::boolean_column;
use crate::extract::distinct::{normal_form, trimmed};
use crate::extract::ids::{TestIds, TextIds};
use crate::udf::MapColumn;

/// Column of the per-patient "carries cohort c's biomarker" flag.
pub(crate) fn biomarker_column(c: usize) -> String {
    format!("biomarker_{c}")
}

/// Column of "matched to cohort c": biomarker, tumour group, and not an on-label indication.
pub fn matched_column(c: usize) -> String {
    format!("matched_{c}")
}

/// The patients of `frame` matched to cohort `c`, as one bitmap (a null match is not a match).
pub fn matched_rows(frame: &DataFrame, c: usize) -> PolarsResult<Bitmap> {
    let matched = frame.column(&matched_column(c))?.bool()?.rechunk();
    Ok(true_rows(matched.downcast_as_array()))
}

/// The rows where `flags` is true, as a bitmap: null is not true.
pub(crate) fn true_rows(flags: &BooleanArray) -> Bitmap {
    match flags.validity() {
        Some(valid) => flags.values() & valid,
        None => flags.values().clone(),
    }
}

/// A glob (`V600*`, `*::ALK`) as an anchored regular expression.
pub(crate) fn glob_regex(glob: &str) -> String {
    let mut regex = String::from("^");
    for part in glob.split('*').enumerate() {
        if part.0 > 0 {
            regex.push_str(".*");
        }
        regex.push_str(&regex::escape(part.1));
    }
    regex.push('$');
    regex
}

/// True for a variant row that satisfies the biomarker rule.
pub(crate) fn biomarker_matches(biomarker: &Biomarker) -> Expr {
    let mut hit = col("gene").eq(lit(biomarker.gene.to_uppercase()));
    if let Some(class) = &biomarker.class {
        hit = hit.and(col("class").eq(lit(class.to_lowercase())));
    }
    if let Some(alteration) = &biomarker.alteration {
        hit = hit.and(if alteration.contains('*') {
            col("alteration")
                .str()
                .contains(lit(glob_regex(alteration)), true)
        } else {
            col("alteration").eq(lit(alteration.as_str()))
        });
    }
    if let Some(min) = biomarker.min_value {
        hit = hit.and(col("value").gt_eq(lit(min)));
    }
    hit.fill_null(lit(false))
}

fn any_of(biomarkers: &[Biomarker]) -> Expr {
    biomarkers
        .iter()
        .map(biomarker_matches)
        .reduce(Expr::or)
        .unwrap_or(lit(false))
}

/// The variant rows with their test's `report_date` and `approved_lab`; `person_id` is the
/// variant's. A variant counts with a test of its own person only: one whose test is not in the
/// partition's molecular tests, or is another person's, is dropped (validation counts it as an
/// orphan test id), so that the result does not depend on which partition holds the test.
///
/// The tests are looked up, not joined: their ids go into one table, and each variant's test is
/// most often found among the few test rows after the last one found (a test's findings follow
/// it in patient order), where polars' join hashed every variant into a table of test ids.
/// Test ids are unique, or validation has stopped the run.
pub(crate) fn variant_rows(inputs: &Inputs) -> PolarsResult<LazyFrame> {
    let tests = Arc::new(TestLookup::collect(inputs, None)?);
    let gathered = |name: &'static str, dtype: DataType| {
        let tests = Arc::clone(&tests);
        col(TEST_ROW)
            .map_column(
                move |rows: Column| tests.gather(name, rows.idx()?),
                move |_, _| Ok(Field::new(name.into(), dtype.clone())),
            )
            .alias(name)
    };
    let (report_date, approved_lab, test_person) = (
        gathered("report_date", DataType::Int32),
        gathered("approved_lab", DataType::Boolean),
        gathered(TEST_PERSON, tests.person_dtype()?),
    );
    let lookup = Arc::clone(&tests);
    let test_row = col("test_id").map_column(
        move |ids: Column| lookup.rows_of(ids.as_materialized_series()),
        |_, _| Ok(Field::new(TEST_ROW.into(), IDX_DTYPE)),
    );
    Ok(inputs
        .variant
        .clone()
        .select([
            col("person_id"),
            test_row.alias(TEST_ROW),
            normal_form(col("gene"), |gene| gene.trim().to_uppercase()).alias("gene"),
            normal_form(col("class"), |class| class.trim().to_lowercase()).alias("class"),
            normal_form(col("alteration"), trimmed).alias("alteration"),
            col("value"),
        ])
        .filter(col(TEST_ROW).is_not_null())
        .filter(test_person.eq(col("person_id")))
        .with_columns([report_date, approved_lab]))
}

/// A variant's row in its partition's tests ([`TestLookup`]), null where it has none (so that
/// what is gathered at it is null too, wherever polars evaluates the gathers).
const TEST_ROW: &str = "test_row";
/// The tests' `person_id` column: a variant counts with a test of its own person.
const TEST_PERSON: &str = "test_person";

/// A partition's molecular tests: their ids as a set of rows, the columns variants need.
pub(crate) struct TestLookup {
    ids: TestIdSet,
    /// `report_date`, `approved_lab` and the test's person as [`TEST_PERSON`].
    columns: DataFrame,
}

/// The set of a partition's test ids: built here, or the one the reader built as it read the
/// tests into memory (`engine::tables`), of the same rows.
enum TestIdSet {
    Own(TextIds),
    Read(Arc<TestIds>),
}

impl TestLookup {
    /// The lookup of the partition's tests (`inputs.molecular_test`), with the set of their ids
    /// `read` where the reader built it from the same rows (held in memory).
    pub(crate) fn collect(inputs: &Inputs, read: Option<Arc<TestIds>>) -> PolarsResult<TestLookup> {
        let mut columns = vec![
            days("report_date").alias("report_date"),
            col("approved_lab"),
            col("person_id").alias(TEST_PERSON),
        ];
        if read.is_none() {
            columns.push(col("test_id").cast(DataType::String));
        }
        let tests = (inputs.molecular_test.clone().select(columns))
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single();
        let ids = match read {
            Some(read) => {
                polars_ensure!(
                    read.len() == tests.height(),
                    ShapeMismatch: "{} test ids read beside {} tests", read.len(), tests.height()
                );
                TestIdSet::Read(read)
            }
            None => {
                let (ids, _) = TextIds::of(tests.column("test_id")?.str()?)
                    .map_err(|e| polars_err!(ComputeError: "molecular tests: {e}"))?;
                TestIdSet::Own(ids)
            }
        };
        let mut columns = tests.select(["report_date", "approved_lab", TEST_PERSON])?;
        columns.rechunk_mut();
        Ok(TestLookup { ids, columns })
    }

    fn ids(&self) -> &TextIds {
        match &self.ids {
            TestIdSet::Own(ids) => ids,
            TestIdSet::Read(tests) => tests.ids(),
        }
    }

    /// The type of the tests' person ids.
    fn person_dtype(&self) -> PolarsResult<DataType> {
        Ok(self.columns.column(TEST_PERSON)?.dtype().clone())
    }

    /// Each test's patient row in `rows`' core, by test row: None for a test of no patient of
    /// the partition.
    pub(crate) fn patient_rows(&self, rows: &PatientRows) -> PolarsResult<Vec<Option<IdxSize>>> {
        let found = rows.rows_column(self.columns.column(TEST_PERSON)?)?;
        Ok(optional_values(found.idx()?))
    }

    /// Each variant test id's row in the tests, None where no test has it (or it is null).
    pub(crate) fn rows<'a>(
        &'a self,
        ids: &'a Utf8ViewArray,
    ) -> impl TrustedLen<Item = Option<usize>> + 'a {
        self.ids().rows_of(ids)
    }

    /// The tests' report dates (days since the epoch), and whether each is from an approved
    /// laboratory (not where that is not recorded), by row.
    pub(crate) fn dates_and_approval(&self) -> PolarsResult<(Vec<Option<i32>>, Vec<bool>)> {
        let dates = optional_values(self.columns.column("report_date")?.i32()?);
        // True where recorded true: the values and-ed with the validity, array by array.
        let approved = self.columns.column("approved_lab")?.bool()?;
        let mut approval = Vec::with_capacity(approved.len());
        for array in approved.downcast_iter() {
            approval.extend(true_rows(array).iter());
        }
        Ok((dates, approval))
    }

    /// Each variant test id's row in the tests, null where no test has it.
    fn rows_of(&self, ids: &Series) -> PolarsResult<Column> {
        let mut rows = Vec::with_capacity(ids.len());
        for array in ids.str()?.downcast_iter() {
            let found = self.ids().rows_of(array);
            rows.extend(found.map(|row| row.map(|row| row as IdxSize)));
        }
        Ok(IdxCa::from_iter_options(TEST_ROW.into(), rows.into_iter()).into_column())
    }

    /// The tests' column `name` at `rows`.
    fn gather(&self, name: &str, rows: &IdxCa) -> PolarsResult<Column> {
        self.columns.column(name)?.take(rows)
    }
}

/// Variant rows (with their patient's `p_idx`) that count: reported at or before the index date.
pub(crate) fn reported_by_index(variants: LazyFrame) -> LazyFrame {
    variants.filter(col("report_date").lt_eq(col("p_idx")))
}

/// A per-patient flag of molecular matching: set where some variant of the patient, reported by
/// the index date, matches one of `biomarkers` (from an approved laboratory, if `approved_only`).
pub(crate) struct FlagRule<'d> {
    /// The flag's column.
    pub name: String,
    pub approved_only: bool,
    pub biomarkers: &'d [Biomarker],
}

/// The biomarker flag of every cohort (from an approved laboratory), then the resistance flag of
/// every drug that has one, in this order everywhere.
pub(crate) fn flag_rules(definition: &Definition) -> Vec<FlagRule<'_>> {
    let cohorts = definition
        .cohorts
        .iter()
        .enumerate()
        .map(|(c, cohort)| FlagRule {
            name: biomarker_column(c),
            approved_only: true,
            biomarkers: &cohort.biomarkers,
        });
    let resistance = definition
        .drugs
        .iter()
        .enumerate()
        .filter(|(_, drug)| !drug.resistance.is_empty())
        .map(|(d, drug)| FlagRule {
            name: super::compile::resistance_column(d),
            approved_only: false,
            biomarkers: &drug.resistance,
        });
    cohorts.chain(resistance).collect()
}

/// Per variant row, the Boolean flags of [`flag_rules`], whose `any` per patient is the flag,
/// each with its column name: the reference the variant kernel ([`super::variants`]) agrees
/// with, and the path for ids without the row lookup.
pub(crate) fn variant_flags(definition: &Definition) -> Vec<(String, Expr)> {
    let approved = col("approved_lab").fill_null(lit(false));
    flag_rules(definition)
        .into_iter()
        .map(|rule| {
            let hit = any_of(rule.biomarkers);
            let flag = match rule.approved_only {
                true => approved.clone().and(hit),
                false => hit,
            };
            (rule.name, flag)
        })
        .collect()
}

/// Matched to cohort `c` (Boolean, never null): the patient carries its biomarker
/// (`biomarker_c`, filled), the tumour group (`p_group`, the first that holds the primary) is one
/// of the cohort's (with none given: the primary is a solid tumour, not `haematological`), and
/// it is not an on-label indication. One pass over the patients who carry the biomarker, with a
/// table of the groups: as Boolean expressions (two group tests, the solid test, three-valued
/// `and`, `not` and fills) it was a dozen kernels over every patient per cohort.
pub(crate) fn matched(c: usize, cohort: &Cohort, haematological: Expr) -> Expr {
    let table = |groups: &[usize]| {
        let mut member = vec![false; groups.iter().max().map_or(0, |g| g + 1)];
        for &g in groups {
            member[g] = true;
        }
        member
    };
    let in_groups = (!cohort.tumour_groups.is_empty()).then(|| table(&cohort.tumour_groups));
    let on_label = table(&cohort.on_label);
    let name = matched_column(c);
    let field = Field::new(name.as_str().into(), DataType::Boolean);
    map_multiple(
        move |columns: &mut [Column]| {
            let one = |i: usize, dtype: &DataType| -> PolarsResult<Series> {
                let column = columns[i].as_materialized_series();
                Ok(column.cast(dtype)?.rechunk())
            };
            let (biomarker, group) = (one(0, &DataType::Boolean)?, one(1, &DataType::UInt32)?);
            let (primary, haematological) =
                (one(2, &DataType::String)?, one(3, &DataType::Boolean)?);
            let patients = biomarker.len();
            let mut flags = vec![false; patients];
            if patients > 0 {
                let biomarker = biomarker.bool()?.downcast_as_array();
                let group = group.u32()?.downcast_as_array();
                let primary = primary.str()?.downcast_as_array();
                let haematological = haematological.bool()?.downcast_as_array();
                let member = |table: &[bool], i: usize| {
                    group
                        .get(i)
                        .is_some_and(|g| table.get(g as usize).copied().unwrap_or(false))
                };
                for i in true_rows(biomarker).true_idx_iter() {
                    let fits = match &in_groups {
                        Some(groups) => member(groups, i),
                        None => primary.is_valid(i) && haematological.get(i) == Some(false),
                    };
                    flags[i] = fits && !member(&on_label, i);
                }
            }
            Ok(boolean_column(name.as_str().into(), &flags).into_column())
        },
        [
            col(biomarker_column(c)),
            col("p_group"),
            col("p_primary"),
            haematological,
        ],
        move |_, _| Ok(field.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::{glob_regex, matched};
    use crate::definition::model::Cohort;
    use polars::prelude::*;

    fn cohort(tumour_groups: Vec<usize>, on_label: Vec<usize>) -> Cohort {
        Cohort {
            id: "C".into(),
            drug: 0,
            biomarkers: vec![],
            biomarker_label: String::new(),
            tumour_groups,
            tumour_label: String::new(),
            on_label,
            stages: vec![],
            enrolled: 0,
            source: String::new(),
        }
    }

    /// Worked out by hand, over two chunks. Groups 2 and 0 with group 0 on label; every solid
    /// tumour with group 1 on label. Patients: a carrier in group 2, in group 0 (on label), in
    /// group 1, in group 7 (beyond the tables), without a group but with a solid primary, with a
    /// haematological primary (group 3), without a primary; then one not carrying the
    /// biomarker in group 2, and one whose biomarker is null.
    #[test]
    fn matched_by_biomarker_group_and_label() {
        let mut group = UInt32Chunked::from_iter([Some(2), Some(0), Some(1), Some(7)]);
        group
            .append(&UInt32Chunked::from_iter([
                None,
                Some(3),
                None,
                Some(2),
                Some(2),
            ]))
            .unwrap();
        let patients = df!(
            "biomarker_0" => [Some(true), Some(true), Some(true), Some(true), Some(true), Some(true), Some(true), Some(false), None],
            "p_primary" => [Some("C18.7"), Some("C34.1"), Some("C50.9"), Some("C61"), Some("C44.9"), Some("C91.0"), None, Some("C18.7"), Some("C18.7")],
            "haematological" => [false, false, false, false, false, true, false, false, false],
        )
        .unwrap()
        .hstack(&[group.with_name("p_group".into()).into_column()])
        .unwrap()
        .lazy()
        .select([
            matched(0, &cohort(vec![2, 0], vec![0]), col("haematological")).alias("groups"),
            matched(0, &cohort(vec![], vec![1]), col("haematological")).alias("solid"),
        ])
        .collect()
        .unwrap();
        let column = |name: &str| -> Vec<Option<bool>> {
            patients
                .column(name)
                .unwrap()
                .bool()
                .unwrap()
                .iter()
                .collect()
        };
        let (t, f) = (Some(true), Some(false));
        assert_eq!(column("groups"), [t, f, f, f, f, f, f, f, f]);
        assert_eq!(column("solid"), [t, t, f, t, t, f, f, f, f]);
    }

    #[test]
    fn globs_are_anchored_and_escaped() {
        assert_eq!(glob_regex("V600*"), "^V600.*$");
        assert_eq!(glob_regex("*::ALK"), "^.*::ALK$");
        assert_eq!(glob_regex("E746_A750del"), "^E746_A750del$");
        let re = regex::Regex::new(&glob_regex("V600*")).unwrap();
        assert!(re.is_match("V600E") && re.is_match("V600K") && !re.is_match("AV600E"));
    }
}
