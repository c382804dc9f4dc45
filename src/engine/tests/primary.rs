//! The primary cancer of the patient core at its edges (the latest diagnosis, same-date ties,
//! records after the index date, codes that are not primaries, normalization), the same whether
//! chosen by patient row or by group-bys and joins (sparse or string ids).

use polars::prelude::*;

use super::super::patient_core::{patient_core, persons};
use super::super::records::NORMAL_ICD10;
use super::*;

#[test]
fn the_primary_is_the_latest_primary_diagnosis_then_the_lowest_code() {
    let idx = date("2025-01-31");
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
    let mut inputs = empty_inputs(six_women(idx));
    inputs.diagnosis = frame(vec![
        ids("person_id", &[1, 1, 2, 2, 3, 3, 4, 4, 6, 6]),
        s(
            "icd10",
            &[
                "C18.7", " c34.1 ", // 1: the later one, normalized
                "C50.9", "C18.7", // 2: same date: the lowest code
                "C34.1", "C44.1", // 3: after the index date; skin is not a primary
                "C78.0", "C61", // 4: a metastasis is not a primary: the older prostate
                "C25.0", "C80.9", // 6: on the index date counts; C80 is a primary too
            ],
        ),
        dates(
            "date",
            &[
                Some(idx - 100),
                Some(idx - 10),
                Some(idx - 10),
                Some(idx - 10),
                Some(idx + 1),
                Some(idx - 5),
                Some(idx - 3),
                Some(idx - 300),
                Some(idx),
                Some(idx - 1),
            ],
        ),
    ]);
    let want = [
        Some("C341"),
        Some("C187"),
        None,
        Some("C61"),
        None,
        Some("C250"),
    ];
    let primaries = |inputs: &Inputs| -> Vec<Option<String>> {
        let (person, rows) = persons(inputs, as_of).unwrap();
        let core = patient_core(inputs, &hb_and_stroke(), person, rows.as_ref()).unwrap();
        let column = core.column("p_primary").unwrap();
        column
            .str()
            .unwrap()
            .iter()
            .map(|code| code.map(String::from))
            .collect()
    };
    let want: Vec<Option<String>> = want.iter().map(|c| c.map(String::from)).collect();
    let (_, rows) = persons(&inputs, as_of).unwrap();
    assert!(rows.is_some(), "dense ids have a row lookup");
    assert_eq!(primaries(&inputs), want);
    for other_ids in [
        col("person_id") * lit(1i64 << 40),
        (col("person_id") + lit(100i64)).cast(DataType::String),
    ] {
        let inputs = with_ids(&inputs, other_ids);
        let (_, rows) = persons(&inputs, as_of).unwrap();
        assert!(rows.is_none());
        assert_eq!(primaries(&inputs), want);
    }
    // A run computes the normal form as the table is read (`NORMAL_ICD10`) and the records
    // read that column: with it beside codes that are no ICD-10 at all, the same primaries.
    let mut read = inputs.clone();
    read.diagnosis = (inputs.diagnosis.clone()).with_columns([
        crate::engine::codes::normalized_icd10("icd10").alias(NORMAL_ICD10),
        lit("not a code").alias("icd10"),
    ]);
    assert_eq!(primaries(&read), want);
}
