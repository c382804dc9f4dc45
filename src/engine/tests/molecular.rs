//! Molecular matching at its edges (approved laboratory, report date against the index date, a
//! test missing from the test table, normalized gene names, resistance), the same whether the
//! flags are reduced by patient row or by polars' group-by (sparse or string ids).

use polars::prelude::*;

use super::super::compile::{FAIL, PASS};
use super::super::evaluate::drug_criterion_column;
use super::super::*;
use super::*;

fn biomarker(gene: &str, alteration: Option<&str>) -> Biomarker {
    Biomarker {
        gene: gene.into(),
        class: None,
        alteration: alteration.map(Into::into),
        min_value: None,
    }
}

/// One cohort (BRAF V600*, every solid tumour) of one drug, resistant with KRAS; the drug's one
/// cohort criterion excludes resistant patients.
fn braf_cohort() -> Definition {
    let mut definition = hb_and_stroke();
    definition.criteria = vec![];
    definition.measures = vec![];
    definition.cohort_criteria = vec![criterion(
        "E11",
        CriterionKind::Exclusion,
        Cond::ResistanceBiomarker,
        MissingRule::Unknown,
    )];
    definition.drugs = vec![Drug {
        name: "vemurafenib".into(),
        atc: vec!["L01EC01".into()],
        route: Route::Oral,
        resistance: vec![biomarker("KRAS", None)],
        criteria: vec![],
        source: String::new(),
    }];
    definition.cohorts = vec![Cohort {
        id: "VEM-BRAF".into(),
        drug: 0,
        biomarkers: vec![biomarker("BRAF", Some("V600*"))],
        biomarker_label: "BRAF V600".into(),
        tumour_groups: vec![],
        tumour_label: "solid".into(),
        on_label: vec![],
        stages: vec![8, 24],
        enrolled: 0,
        source: String::new(),
    }];
    definition
}

/// Six patients with a colorectal primary, their tests and findings (see below for what each
/// should give).
fn braf_inputs(idx: i32) -> Inputs {
    let mut inputs = empty_inputs(six_women(idx));
    // Every patient has a colorectal primary: a solid tumour.
    inputs.diagnosis = frame(vec![
        ids("person_id", &[1, 2, 3, 4, 5, 6]),
        s("icd10", &["C18.7"; 6]),
        dates("date", &[Some(idx - 100); 6]),
    ]);
    inputs.molecular_test = frame(vec![
        ids("person_id", &[1, 2, 3, 5, 6]),
        s("test_id", &["T1", "T2", "T3", "T5", "T6"]),
        s("method", &["NGS"; 5]),
        Series::new(
            "approved_lab".into(),
            [Some(true), Some(false), Some(true), Some(true), None],
        )
        .into(),
        dates(
            "report_date",
            &[
                Some(idx - 20),
                Some(idx - 20),
                Some(idx + 5), // after the index date
                Some(idx),     // on the index date: counts
                Some(idx - 20),
            ],
        ),
    ]);
    inputs.variant = frame(vec![
        ids("person_id", &[1, 2, 3, 3, 4, 5, 5, 6]),
        s("test_id", &["T1", "T2", "T3", "T3", "T9", "T5", "T5", "T6"]),
        s(
            "gene",
            &[
                "BRAF", "BRAF", "BRAF", "KRAS", "BRAF", " kras ", "BRAF", "BRAF",
            ],
        ),
        s("class", &["snv"; 8]),
        sn(
            "alteration",
            &[
                Some("V600E"),
                Some("V600E"),
                Some("V600E"),
                Some("G12C"),
                Some("V600E"),
                Some("G12C"),
                Some("V600K"),
                Some("V600E"),
            ],
        ),
        f("value", &[None; 8]),
    ]);
    inputs
}

#[test]
fn variants_count_from_approved_tests_reported_by_the_index_date() {
    let idx = date("2025-01-31");
    check_braf_outcomes(&braf_inputs(idx));
}

/// A variant's test is found wherever it lies in the test table: the tests in reverse order,
/// the variants rotated, so that no test is among the rows after the last one found.
#[test]
fn variants_find_their_test_in_any_order() {
    let idx = date("2025-01-31");
    let mut inputs = braf_inputs(idx);
    inputs.molecular_test = inputs.molecular_test.reverse();
    let variants = inputs.variant.clone().collect().unwrap();
    inputs.variant = variants
        .slice(5, 3)
        .vstack(&variants.slice(0, 5))
        .unwrap()
        .lazy();
    check_braf_outcomes(&inputs);
}

fn check_braf_outcomes(inputs: &Inputs) {
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
    let definition = braf_cohort();
    let evaluation = patient_outcomes(inputs, &definition, as_of).unwrap();
    let matched = |patients: &DataFrame| -> Vec<bool> {
        let column = patients.column("matched_0").unwrap();
        column.bool().unwrap().iter().map(|v| v.unwrap()).collect()
    };
    let resistance = |patients: &DataFrame| -> Vec<u8> {
        let column = patients.column(&drug_criterion_column(0, 0)).unwrap();
        column.u8().unwrap().iter().map(|v| v.unwrap()).collect()
    };
    // 1: approved, before the index date. 2: not an approved lab. 3: reported after the index
    // date (its KRAS too). 4: test T9 is not in the test table. 5: reported on the index date,
    // V600K and KRAS (gene name normalized). 6: approval not recorded.
    let want_matched = [true, false, false, false, true, false];
    let want_resistance = [PASS, PASS, PASS, PASS, FAIL, PASS];
    assert_eq!(matched(&evaluation.patients), want_matched);
    assert_eq!(resistance(&evaluation.patients), want_resistance);
    for other_ids in [
        col("person_id") * lit(1i64 << 40),
        (col("person_id") + lit(100i64)).cast(DataType::String),
    ] {
        let joined = patient_outcomes(&with_ids(inputs, other_ids), &definition, as_of).unwrap();
        assert_eq!(matched(&joined.patients), want_matched);
        assert_eq!(resistance(&joined.patients), want_resistance);
    }
}
