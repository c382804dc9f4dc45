//! The restricted outputs, never published: `patients.parquet` (`person_id`, one Utf8 column per
//! criterion id with `pass`, `fail`, `unknown`, `n/a`, `status`, one column per cohort id with the
//! patient's cohort status, null where not matched) and `masks.parquet` (the unsuppressed mask
//! table with one column per criterion, which registries can pool).

use std::borrow::Cow;
use std::collections::HashMap;

use polars::prelude::*;
use polars_arrow::bitmap::MutableBitmap;

use super::cohorts::matched_rows;
use super::compile::{FAIL, NOT_APPLICABLE, PASS, UNKNOWN};
use super::evaluate::{drug_columns, general_columns};
use super::mask::{MaskTable, Status, Stratum};
use super::EngineError;
use crate::definition::model::Definition;

/// The restricted words of the outcome codes, indexed by code (`PASS` ... `NOT_APPLICABLE`).
pub const OUTCOME_WORDS: [&str; 4] = {
    let mut words = [""; 4];
    words[PASS as usize] = "pass";
    words[FAIL as usize] = "fail";
    words[UNKNOWN as usize] = "unknown";
    words[NOT_APPLICABLE as usize] = "n/a";
    words
};

/// The words of the status codes [`status`] gives.
pub const STATUS_WORDS: [&str; 3] = ["ineligible", "possibly eligible", "eligible"];

/// Per row, bit 0: some criterion of `columns` fails; bit 1: some is unknown. Column by column,
/// a branch-free byte each.
fn fails_and_unknown(columns: &[&[u8]], height: usize) -> Vec<u8> {
    let mut flags = vec![0u8; height];
    for codes in columns {
        for (flag, code) in flags.iter_mut().zip(*codes) {
            *flag |= u8::from(*code == FAIL) | u8::from(*code == UNKNOWN) << 1;
        }
    }
    flags
}

/// The status code ([`STATUS_WORDS`]) of [`fails_and_unknown`]'s flags: `ineligible` where any
/// criterion fails, else `possibly eligible` where any is unknown, else `eligible`.
fn status(flags: u8) -> u8 {
    match Status::given(flags & 1 != 0, flags & 2 != 0) {
        Status::Ineligible => 0,
        Status::PossiblyEligible => 1,
        Status::Eligible => 2,
    }
}

/// Outcome code columns of `frame`, each as one contiguous slice (rechunked where needed).
fn code_columns(frame: &DataFrame, names: &[String]) -> Result<Vec<UInt8Chunked>, EngineError> {
    names
        .iter()
        .map(|name| {
            let codes = frame.column(name)?.u8()?.rechunk().into_owned();
            match codes.null_count() {
                0 => Ok(codes),
                _ => Err(EngineError::Internal(format!(
                    "outcome column {name} has nulls"
                ))),
            }
        })
        .collect()
}

fn slices(columns: &[UInt8Chunked]) -> Result<Vec<&[u8]>, EngineError> {
    columns
        .iter()
        .map(|c| {
            c.cont_slice()
                .map_err(|e| EngineError::Internal(format!("outcome column {}: {e}", c.name())))
        })
        .collect()
}

/// A frame some of whose columns hold words as UInt8 codes: where `words[i]` is given, column
/// `i`'s word is `words[i][code]` (null where the code is null); other columns are as they are.
/// Written as Parquet dictionary pages straight from the codes, its word columns read as Utf8.
pub struct Coded<'a> {
    pub frame: DataFrame,
    pub words: Vec<Option<Words<'a>>>,
}

/// The words of a coded column, by code: the outcomes' and statuses' own, or a mask table's
/// cohort ids and stratum values.
pub type Words<'a> = Cow<'a, [&'a str]>;

/// Whether a column of `words` words is written as codes: its codes are bytes, and a
/// dictionary of no words (a definition without cohorts) is left to polars' writer.
fn coded_words(words: usize) -> bool {
    (1..=1 << u8::BITS).contains(&words)
}

/// The restricted patient-level frame. Whether any criterion fails or is unknown is computed once
/// for the general criteria and once per drug, then combined per cohort (a cohort's status reads
/// the general criteria and its drug's): 24 cohorts over ~35 columns each made this file cost
/// more than the mask table. Computed over the code columns' bytes: as ~100 polars expressions
/// it took 0.27 s of a 1 M run.
pub fn patients(
    patients: &DataFrame,
    definition: &Definition,
) -> Result<Coded<'static>, EngineError> {
    let height = patients.height();
    let general = code_columns(patients, &general_columns(definition))?;
    let general_flags = fails_and_unknown(&slices(&general)?, height);
    let drug_flags = (0..definition.drugs.len())
        .map(|d| {
            let columns = code_columns(patients, &drug_columns(definition, d))?;
            Ok(fails_and_unknown(&slices(&columns)?, height))
        })
        .collect::<Result<Vec<_>, EngineError>>()?;
    let mut columns: Vec<Column> = vec![patients.column("person_id")?.clone()];
    let mut words: Vec<Option<Words>> = vec![None];
    for (criterion, codes) in definition.criteria.iter().zip(general) {
        columns.push(codes.with_name(criterion.id.as_str().into()).into_column());
        words.push(Some(Cow::Borrowed(&OUTCOME_WORDS)));
    }
    let statuses: Vec<u8> = general_flags.iter().map(|f| status(*f)).collect();
    columns.push(UInt8Chunked::from_vec("status".into(), statuses).into_column());
    words.push(Some(Cow::Borrowed(&STATUS_WORDS)));
    for (c, cohort) in definition.cohorts.iter().enumerate() {
        // Null where not matched (a null match counts as not matched).
        let validity = matched_rows(patients, c)?;
        let statuses: Vec<u8> = general_flags
            .iter()
            .zip(&drug_flags[cohort.drug])
            .map(|(general, drug)| status(general | drug))
            .collect();
        let name = cohort.id.as_str().into();
        columns.push(UInt8Chunked::from_vec_validity(name, statuses, Some(validity)).into_column());
        words.push(Some(Cow::Borrowed(&STATUS_WORDS)));
    }
    let frame = DataFrame::new(height, columns)?;
    Ok(Coded { frame, words })
}

/// One stratum dimension of a mask table as words: its values in the order the strata first
/// give them, and each stratum's value by its position among them.
struct StratumWords<'a> {
    name: &'static str,
    words: Vec<&'a str>,
    /// Per stratum (`MaskTable::strata`), the position of its value in `words`.
    codes: Vec<usize>,
}

impl<'a> StratumWords<'a> {
    /// The dimensions ([`Stratum::DIMENSIONS`]) of `masks`' strata.
    fn of(masks: &'a MaskTable) -> Vec<StratumWords<'a>> {
        Stratum::DIMENSIONS
            .iter()
            .map(|&name| {
                let mut position: HashMap<&str, usize> = HashMap::new();
                let mut words = Vec::new();
                let codes = masks
                    .strata
                    .iter()
                    .map(|stratum| {
                        let value = stratum.get(name).unwrap_or("not recorded");
                        *position.entry(value).or_insert_with(|| {
                            words.push(value);
                            words.len() - 1
                        })
                    })
                    .collect();
                StratumWords { name, words, codes }
            })
            .collect()
    }
}

/// The mask table as frames, a slice of its rows at a time: `cohort` (null for the population
/// rows), the five stratum columns, one Utf8 column per criterion id (general criteria, then
/// every cohort criterion id; null where a row does not carry that criterion) and `patients`.
/// The criterion columns are outcome codes; the cohort and stratum columns are codes too, of
/// their ids and values (polars' writer hashed each of their strings: at 10 M patients, 3.3 M
/// rows of six Utf8 columns), unless one has more words than a byte can number.
pub struct MaskFrames<'a> {
    masks: &'a MaskTable,
    /// The criterion ids, one column each.
    ids: Vec<String>,
    /// The output column of each criterion of a population row.
    general: Vec<Option<usize>>,
    /// The output column of each criterion of each cohort's rows.
    per_cohort: Vec<Vec<Option<usize>>>,
    cohort_words: Vec<&'a str>,
    dimensions: Vec<StratumWords<'a>>,
}

impl<'a> MaskFrames<'a> {
    pub fn new(masks: &'a MaskTable) -> MaskFrames<'a> {
        let mut ids: Vec<String> = masks.criteria.clone();
        for cohort in &masks.cohorts {
            for id in &cohort.criteria {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
        }
        let position = |name: &String| ids.iter().position(|id| id == name);
        let general: Vec<Option<usize>> = masks.criteria.iter().map(position).collect();
        let per_cohort = masks
            .cohorts
            .iter()
            .map(|c| {
                general
                    .iter()
                    .copied()
                    .chain(c.criteria.iter().map(position))
                    .collect()
            })
            .collect();
        MaskFrames {
            masks,
            ids,
            general,
            per_cohort,
            cohort_words: masks.cohorts.iter().map(|c| c.id.as_str()).collect(),
            dimensions: StratumWords::of(masks),
        }
    }

    /// Rows `rows` of the table (clamped to it) as a frame.
    pub fn slice(&self, rows: std::ops::Range<usize>) -> Result<Coded<'_>, EngineError> {
        let all = &self.masks.rows;
        let rows = &all[rows.start.min(all.len())..rows.end.min(all.len())];
        let n = rows.len();
        let mut cohort = Vec::with_capacity(n);
        let mut strata = Vec::with_capacity(n);
        // Codes and validity per criterion column: null where a row does not carry the criterion.
        let mut outcomes: Vec<(Vec<u8>, MutableBitmap)> = (0..self.ids.len())
            .map(|_| (vec![0; n], MutableBitmap::from_len_zeroed(n)))
            .collect();
        let mut patients = Vec::with_capacity(n);
        for (r, row) in rows.iter().enumerate() {
            cohort.push(row.cohort);
            strata.push(row.stratum);
            let columns = match row.cohort {
                Some(c) => &self.per_cohort[c],
                None => &self.general,
            };
            for (outcome, column) in row.outcomes.iter().zip(columns) {
                if let Some(column) = column {
                    let (codes, valid) = &mut outcomes[*column];
                    codes[r] = outcome as u8;
                    valid.set(r, true);
                }
            }
            patients.push(row.patients);
        }
        let width = self.ids.len() + 7;
        let mut columns: Vec<Column> = Vec::with_capacity(width);
        let mut words: Vec<Option<Words>> = Vec::with_capacity(width);
        if coded_words(self.cohort_words.len()) {
            let codes = cohort.iter().map(|c| c.map(|c| c as u8));
            columns.push(UInt8Chunked::from_iter_options("cohort".into(), codes).into_column());
            words.push(Some(Cow::Borrowed(&self.cohort_words)));
        } else {
            let ids: Vec<Option<&str>> = cohort
                .iter()
                .map(|c| c.map(|c| self.cohort_words[c]))
                .collect();
            columns.push(Series::new("cohort".into(), ids).into());
            words.push(None);
        }
        for dimension in &self.dimensions {
            let name = dimension.name.into();
            let codes = strata.iter().map(|s| dimension.codes[*s]);
            if coded_words(dimension.words.len()) {
                let codes: Vec<u8> = codes.map(|code| code as u8).collect();
                columns.push(UInt8Chunked::from_vec(name, codes).into_column());
                words.push(Some(Cow::Borrowed(&dimension.words)));
            } else {
                let values: Vec<&str> = codes.map(|code| dimension.words[code]).collect();
                columns.push(Series::new(name, values).into());
                words.push(None);
            }
        }
        for (id, (codes, valid)) in self.ids.iter().zip(outcomes) {
            let validity = Some(valid.into());
            let codes = UInt8Chunked::from_vec_validity(id.as_str().into(), codes, validity);
            columns.push(codes.into_column());
            words.push(Some(Cow::Borrowed(&OUTCOME_WORDS[..])));
        }
        columns.push(Series::new("patients".into(), patients).into());
        words.push(None);
        let frame = DataFrame::new_infer_height(columns)?;
        Ok(Coded { frame, words })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::cohorts::matched_column;
    use crate::engine::mask::Outcome;

    #[test]
    fn outcome_words_are_the_outcomes_words_by_code() {
        for outcome in Outcome::ALL {
            assert_eq!(OUTCOME_WORDS[outcome as usize], outcome.as_str());
        }
        // Each status flag combination's code names the status in the restricted words.
        for (flags, expected) in [
            (0, Status::Eligible),
            (2, Status::PossiblyEligible),
            (1, Status::Ineligible),
            (3, Status::Ineligible),
        ] {
            assert_eq!(STATUS_WORDS[status(flags) as usize], expected.as_str());
        }
    }

    /// A population row and two cohort rows whose cohorts share a criterion id: each criterion id
    /// is one column, null where a row does not carry it.
    #[test]
    fn mask_rows_worked_out_by_hand() {
        use crate::engine::mask::{CohortColumns, MaskRow, Outcomes, Stratum};
        let stratum = |region: &str| Stratum {
            region: region.into(),
            site: "H1".into(),
            tumour_group: "lung".into(),
            sex: "F".into(),
            age_band: "60-69".into(),
        };
        let row =
            |cohort: Option<usize>, stratum: usize, outcomes: &[Outcome], patients: u64| MaskRow {
                cohort,
                stratum,
                outcomes: Outcomes::from_slice(outcomes),
                patients,
            };
        use Outcome::*;
        let table = MaskTable {
            criteria: vec!["I1".into(), "I2".into()],
            cohorts: vec![
                CohortColumns {
                    id: "A".into(),
                    criteria: vec!["C1".into(), "D1".into()],
                },
                CohortColumns {
                    id: "B".into(),
                    criteria: vec!["C1".into()],
                },
            ],
            strata: vec![stratum("North"), stratum("South")],
            rows: vec![
                row(None, 0, &[Pass, Fail], 3),
                row(Some(0), 1, &[Unknown, NotApplicable, Fail, Pass], 2),
                row(Some(1), 0, &[Pass, Pass, Unknown], 1),
            ],
        };
        let frames = MaskFrames::new(&table);
        let coded = frames.slice(0..3).unwrap();
        let column = |name: &str| {
            coded
                .frame
                .column(name)
                .unwrap()
                .as_materialized_series()
                .clone()
        };
        let codes = |name: &str| -> Vec<Option<u8>> { column(name).u8().unwrap().iter().collect() };
        let texts = |name: &str| words_read(&coded, name);
        let names: Vec<&str> = coded
            .frame
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "cohort",
                "region",
                "site",
                "tumour_group",
                "sex",
                "age_band",
                "I1",
                "I2",
                "C1",
                "D1",
                "patients"
            ]
        );
        assert_eq!(texts("cohort"), [None, Some("A".into()), Some("B".into())]);
        assert_eq!(
            texts("region"),
            [
                Some("North".into()),
                Some("South".into()),
                Some("North".into())
            ]
        );
        // Codes: 0 pass, 1 fail, 2 unknown, 3 n/a.
        assert_eq!(codes("I1"), [Some(0), Some(2), Some(0)]);
        assert_eq!(codes("I2"), [Some(1), Some(3), Some(0)]);
        assert_eq!(codes("C1"), [None, Some(1), Some(2)]);
        assert_eq!(codes("D1"), [None, Some(0), None]);
        let patients: Vec<Option<u64>> = column("patients").u64().unwrap().iter().collect();
        assert_eq!(patients, [Some(3), Some(2), Some(1)]);
        assert_eq!(texts("site"), vec![Some("H1".to_string()); 3]);
        let words = |i: usize| coded.words[i].as_ref().map(|w| w.to_vec());
        assert_eq!(words(6), Some(OUTCOME_WORDS.to_vec()));
        assert_eq!(words(0), Some(vec!["A", "B"]));
        assert_eq!(words(1), Some(vec!["North", "South"]));
        assert_eq!(words(10), None);
        // A slice of the rows, as the writer asks for them: rows 1..2 only.
        let slice = frames.slice(1..2).unwrap();
        assert_eq!(slice.frame.height(), 1);
        let c1: Vec<Option<u8>> = slice
            .frame
            .column("C1")
            .unwrap()
            .u8()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(c1, [Some(1)]);
    }

    /// Column `name` of `coded` as its words: a coded column's codes looked up, another's strings.
    fn words_read(coded: &Coded, name: &str) -> Vec<Option<String>> {
        let at = coded.frame.get_column_index(name).unwrap();
        let column = coded.frame.column(name).unwrap();
        match &coded.words[at] {
            Some(words) => column
                .u8()
                .unwrap()
                .iter()
                .map(|code| code.map(|code| words[code as usize].to_string()))
                .collect(),
            None => column
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map(String::from))
                .collect(),
        }
    }

    /// A dimension with more values than a byte numbers (300 sites) is written as strings, one
    /// with 256 (regions) still as codes, and each row reads its own stratum's values; a table
    /// without cohorts has a cohort column of nulls.
    #[test]
    fn strata_beyond_a_byte_of_words_stay_strings() {
        use crate::engine::mask::{MaskRow, Outcomes};
        let strata: Vec<Stratum> = (0..300)
            .map(|i| Stratum {
                region: format!("R{}", i % 256),
                site: format!("S{i}"),
                tumour_group: "lung".into(),
                sex: if i % 2 == 0 { "F" } else { "M" }.into(),
                age_band: "60-69".into(),
            })
            .collect();
        let rows = [299, 0, 256, 1, 255]
            .into_iter()
            .map(|stratum| MaskRow {
                cohort: None,
                stratum,
                outcomes: Outcomes::from_slice(&[Outcome::Pass]),
                patients: 5,
            })
            .collect();
        let table = MaskTable {
            criteria: vec!["I1".into()],
            cohorts: Vec::new(),
            strata,
            rows,
        };
        let frames = MaskFrames::new(&table);
        let coded = frames.slice(0..5).unwrap();
        let at = |name: &str| coded.frame.get_column_index(name).unwrap();
        assert!(coded.words[at("site")].is_none());
        assert_eq!(
            coded.words[at("region")].as_ref().map(|w| w.len()),
            Some(256)
        );
        let expected = |values: [&str; 5]| -> Vec<Option<String>> {
            values.iter().map(|v| Some(v.to_string())).collect()
        };
        assert_eq!(
            words_read(&coded, "site"),
            expected(["S299", "S0", "S256", "S1", "S255"])
        );
        assert_eq!(
            words_read(&coded, "region"),
            expected(["R43", "R0", "R0", "R1", "R255"])
        );
        assert_eq!(
            words_read(&coded, "sex"),
            expected(["M", "F", "F", "M", "M"])
        );
        // No cohorts: no words, so the cohort column is nulls as strings.
        assert!(coded.words[at("cohort")].is_none());
        assert_eq!(words_read(&coded, "cohort"), vec![None; 5]);
    }

    /// Four patients of the shipped definition, every outcome passing but for those set below,
    /// and two cohorts of different drugs.
    #[test]
    fn statuses_worked_out_by_hand() {
        let definition = crate::engine::kernel::tests::shipped();
        let first = &definition.cohorts[0];
        let (other, _) = definition
            .cohorts
            .iter()
            .enumerate()
            .find(|(_, c)| c.drug != first.drug)
            .expect("cohorts of two drugs");
        let mut columns = vec![Column::new("person_id".into(), [10i64, 11, 12, 13])];
        let general = general_columns(&definition);
        let set = |name: &str, at: &[(usize, u8)]| {
            let mut codes = vec![PASS; 4];
            for (row, code) in at {
                codes[*row] = *code;
            }
            Column::new(name.into(), codes)
        };
        for (i, name) in general.iter().enumerate() {
            columns.push(match i {
                // Patient 1: unknown; patient 2: fails; patient 3: n/a (passes).
                0 => set(name, &[(1, UNKNOWN), (2, FAIL), (3, NOT_APPLICABLE)]),
                _ => set(name, &[]),
            });
        }
        for d in 0..definition.drugs.len() {
            for (j, name) in drug_columns(&definition, d).iter().enumerate() {
                columns.push(match (d == first.drug, j) {
                    // The first cohort's drug: patient 1 fails it, patient 3 is unknown.
                    (true, 0) => set(name, &[(1, FAIL), (3, UNKNOWN)]),
                    _ => set(name, &[]),
                });
            }
        }
        for c in 0..definition.cohorts.len() {
            let matched = match c {
                0 => vec![Some(true), Some(true), Some(false), None],
                c if c == other => vec![Some(false), Some(true), Some(true), Some(true)],
                _ => vec![Some(false); 4],
            };
            columns.push(Column::new(matched_column(c).into(), matched));
        }
        let frame = DataFrame::new(4, columns).unwrap();
        let coded = patients(&frame, &definition).unwrap();
        let codes = |name: &str| -> Vec<Option<u8>> {
            let column = coded.frame.column(name).unwrap();
            column.u8().unwrap().iter().collect()
        };
        let (eligible, possibly, ineligible) = (Some(2), Some(1), Some(0));
        assert_eq!(STATUS_WORDS[2], "eligible");
        assert_eq!(codes("status"), [eligible, possibly, ineligible, eligible]);
        // The general criteria and the first drug's: patient 1 fails the drug's, patient 3 is
        // unknown for it; patient 2 is not matched, patient 3's match is null.
        assert_eq!(codes(&first.id), [eligible, ineligible, None, None]);
        // The other drug's criteria all pass: the general status where matched.
        assert_eq!(
            codes(&definition.cohorts[other].id),
            [None, possibly, ineligible, eligible]
        );
        assert_eq!(
            codes(&definition.criteria[0].id),
            [Some(PASS), Some(UNKNOWN), Some(FAIL), Some(NOT_APPLICABLE)]
        );
        assert_eq!(coded.words.len(), coded.frame.width());
    }
}
