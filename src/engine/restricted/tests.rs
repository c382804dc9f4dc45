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

/// Whether some criterion fails (bit 0) or is unknown (bit 1), over 2,500 rows (whole blocks
/// and a part) of one to six columns (groups of four and what is left): row by row, a
/// pass (0) or not applicable (3) sets neither bit. Worked out by hand for row 0 of six columns.
#[test]
fn fails_and_unknown_flag_every_row() {
    let code = |r: usize, c: usize| ((r * 5 + c * 3 + r / 7) % 4) as u8;
    let columns: Vec<Vec<u8>> = (0..6)
        .map(|c| (0..2500).map(|r| code(r, c)).collect())
        .collect();
    let slices: Vec<&[u8]> = columns.iter().map(Vec::as_slice).collect();
    for width in 1..=6 {
        let flags = fails_and_unknown(&slices[..width], 2500);
        for (r, flags) in flags.iter().enumerate() {
            let fails = (0..width).any(|c| code(r, c) == FAIL);
            let unknown = (0..width).any(|c| code(r, c) == UNKNOWN);
            assert_eq!(*flags, u8::from(fails) | u8::from(unknown) << 1, "row {r}");
        }
    }
    // Row 0's codes are 0, 3, 2, 1, 0, 3: one fails, one is unknown.
    assert_eq!(fails_and_unknown(&slices, 2500)[0], 0b11);
    assert_eq!(fails_and_unknown(&slices[..2], 2500)[0], 0);
}

/// A population row and two cohort rows whose cohorts share a criterion id: each criterion id
/// is one column, null where a row does not carry it.
#[test]
fn mask_rows_worked_out_by_hand() {
    use crate::engine::mask::{CohortColumns, MaskRow, Outcomes};
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

/// A stratum of site H1, lung, women 60-69, in `region`.
fn stratum(region: &str) -> crate::engine::mask::Stratum {
    crate::engine::mask::Stratum {
        region: region.into(),
        site: "H1".into(),
        tumour_group: "lung".into(),
        sex: "F".into(),
        age_band: "60-69".into(),
    }
}

/// Outcomes across a word's edge (criterion 32 is the first of the second word) and a run of
/// two population rows: each cell is its row's outcome, worked out from how the rows are built
/// (criterion i of row k is outcome (i + k) % 4). A row whose outcomes do not match its
/// group's criteria is an error, not a cell read past its words.
#[test]
fn outcomes_across_a_words_edge_and_a_run_of_rows() {
    use crate::engine::mask::{MaskRow, Outcomes};
    let criteria: Vec<String> = (0..34).map(|i| format!("G{i}")).collect();
    let row = |k: usize, len: usize| MaskRow {
        cohort: None,
        stratum: 0,
        outcomes: Outcomes::from_slice(
            &(0..len)
                .map(|i| Outcome::ALL[(i + k) % 4])
                .collect::<Vec<_>>(),
        ),
        patients: k as u64 + 5,
    };
    let mut table = MaskTable {
        criteria: criteria.clone(),
        cohorts: vec![],
        strata: vec![stratum("North")],
        rows: vec![row(0, 34), row(1, 34)],
    };
    let frames = MaskFrames::new(&table);
    let coded = frames.slice(0..2).unwrap();
    for (i, id) in criteria.iter().enumerate() {
        let codes: Vec<Option<u8>> = (coded.frame.column(id).unwrap().u8().unwrap())
            .iter()
            .collect();
        assert_eq!(
            codes,
            [Some((i % 4) as u8), Some(((i + 1) % 4) as u8)],
            "{id}"
        );
    }
    table.rows.push(row(2, 33));
    let frames = MaskFrames::new(&table);
    assert!(frames.slice(0..3).is_err());
    assert!(frames.slice(0..2).is_ok());
}

/// A slice longer than a decoded block ([`BLOCK_ROWS`]), starting inside the population's run
/// and ending inside a cohort's, with 34 general criteria (two words) and a cohort criterion:
/// each cell is worked out from how the rows are built (criterion i of row k is outcome
/// (i + k) % 4, and the cohort criterion of row k is outcome (k * 3) % 4), null where a row's
/// group has no such criterion.
#[test]
fn a_slice_across_blocks_and_groups() {
    use crate::engine::mask::{CohortColumns, MaskRow, Outcomes};
    let general = 34;
    let outcome = |i: usize, k: usize| Outcome::ALL[(i + k) % 4];
    let row = |k: usize, cohort: Option<usize>| {
        let mut outcomes: Vec<Outcome> = (0..general).map(|i| outcome(i, k)).collect();
        if cohort.is_some() {
            outcomes.push(Outcome::ALL[(k * 3) % 4]);
        }
        MaskRow {
            cohort,
            stratum: 0,
            outcomes: Outcomes::from_slice(&outcomes),
            patients: k as u64 + 1,
        }
    };
    let (population, cohort) = (1500, 1300);
    let rows: Vec<MaskRow> = (0..population)
        .map(|k| row(k, None))
        .chain((population..population + cohort).map(|k| row(k, Some(0))))
        .collect();
    let table = MaskTable {
        criteria: (0..general).map(|i| format!("G{i}")).collect(),
        cohorts: vec![CohortColumns {
            id: "A".into(),
            criteria: vec!["D1".into()],
        }],
        strata: vec![stratum("North")],
        rows,
    };
    let frames = MaskFrames::new(&table);
    let rows = 700..population + 1200;
    let coded = frames.slice(rows.clone()).unwrap();
    assert_eq!(coded.frame.height(), rows.len());
    let codes = |id: &str| -> Vec<Option<u8>> {
        (coded.frame.column(id).unwrap().u8().unwrap())
            .iter()
            .collect()
    };
    for i in [0, 1, 31, 32, 33] {
        let expected: Vec<Option<u8>> = rows.clone().map(|k| Some(outcome(i, k) as u8)).collect();
        assert_eq!(codes(&format!("G{i}")), expected, "G{i}");
    }
    let expected: Vec<Option<u8>> = rows
        .clone()
        .map(|k| (k >= population).then(|| Outcome::ALL[(k * 3) % 4] as u8))
        .collect();
    assert_eq!(codes("D1"), expected);
    let patients: Vec<u64> = (coded.frame.column("patients").unwrap().u64().unwrap())
        .into_no_null_iter()
        .collect();
    assert_eq!(patients, rows.map(|k| k as u64 + 1).collect::<Vec<_>>());
}
