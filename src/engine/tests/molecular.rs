//! Molecular matching at its edges (approved laboratory, report date against the index date, a
//! test missing from the test table or another patient's, normalized gene names, resistance),
//! the same whether the flags are reduced by patient row or by polars' group-by (sparse or
//! string ids).

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

/// A variant row: person, test, gene, class, alteration, value.
type Variant<'a> = (
    i64,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<f64>,
);

fn cohort(id: &str, biomarker: Biomarker) -> Cohort {
    Cohort {
        id: id.into(),
        drug: 0,
        biomarkers: vec![biomarker],
        biomarker_label: id.into(),
        tumour_groups: vec![],
        tumour_label: "solid".into(),
        on_label: vec![],
        stages: vec![8, 24],
        enrolled: 0,
        source: String::new(),
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
        biomarker_label: "BRAF V600".into(),
        ..cohort("VEM-BRAF", biomarker("BRAF", Some("V600*")))
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
        ids("person_id", &[1, 2, 2, 3, 3, 4, 4, 5, 5, 6]),
        s(
            "test_id",
            &["T1", "T2", "T5", "T3", "T3", "T9", "T1", "T5", "T5", "T6"],
        ),
        s(
            "gene",
            &[
                "BRAF", "BRAF", "KRAS", "BRAF", "KRAS", "BRAF", "BRAF", " kras ", "BRAF", "BRAF",
            ],
        ),
        s("class", &["snv"; 10]),
        sn(
            "alteration",
            &[
                Some("V600E"),
                Some("V600E"),
                Some("G12C"),
                Some("V600E"),
                Some("G12C"),
                Some("V600E"),
                Some("V600E"),
                Some("G12C"),
                Some("V600K"),
                Some("V600E"),
            ],
        ),
        f("value", &[None; 10]),
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
        .slice(6, 4)
        .vstack(&variants.slice(0, 6))
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
    // 1: approved, before the index date. 2: not an approved lab; its KRAS names patient 5's
    // test T5, not its own. 3: reported after the index date (its KRAS too). 4: test T9 is not
    // in the test table, and T1 is patient 1's test. 5: reported on the index date, V600K and
    // KRAS (gene name normalized). 6: approval not recorded.
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

/// The biomarker rules at their edges, worked out by hand, alike by patient row (the variant
/// kernel) and by group-by (string ids): three cohorts (ERBB2 amplification with copy number
/// >= 6; BRAF snv V600*; EGFR `exon19del` of any class) and resistance KRAS.
#[test]
fn biomarker_rules_at_their_edges() {
    let idx = date("2025-01-31");
    let mut definition = braf_cohort();
    definition.cohorts = vec![
        cohort(
            "ERBB2-AMP",
            Biomarker {
                class: Some("amplification".into()),
                min_value: Some(6.0),
                ..biomarker("ERBB2", None)
            },
        ),
        cohort(
            "BRAF-V600",
            Biomarker {
                class: Some("snv".into()),
                ..biomarker("BRAF", Some("V600*"))
            },
        ),
        cohort("EGFR-19", biomarker("EGFR", Some("exon19del"))),
    ];
    let patients: Vec<i64> = (1..=12).collect();
    let mut inputs = empty_inputs(women(12, idx));
    inputs.diagnosis = frame(vec![
        ids("person_id", &patients),
        s("icd10", &["C18.7"; 12]),
        dates("date", &[Some(idx - 100); 12]),
    ]);
    // One approved test per patient, and an unapproved one (U12) for patient 12.
    let mut tests: Vec<String> = patients.iter().map(|p| format!("T{p}")).collect();
    tests.push("U12".into());
    let mut test_patients = patients.clone();
    test_patients.push(12);
    let mut approved = vec![Some(true); 12];
    approved.push(Some(false));
    inputs.molecular_test = frame(vec![
        ids("person_id", &test_patients),
        Series::new("test_id".into(), tests).into(),
        s("method", &["NGS"; 13]),
        Series::new("approved_lab".into(), approved).into(),
        dates("report_date", &[Some(idx - 20); 13]),
    ]);
    #[rustfmt::skip]
    let variants: [Variant; 14] = [
        (1, "T1", Some("ERBB2"), Some("amplification"), None, Some(3.0)),
        (1, "T1", Some("ERBB2"), Some("amplification"), None, Some(6.0)), // at the minimum
        (2, "T2", Some("ERBB2"), Some("amplification"), None, Some(5.99)),
        (3, "T3", Some(" erbb2 "), Some("Amplification "), None, Some(7.0)), // normalized
        (4, "T4", Some("ERBB2"), Some("amplification"), None, None), // no copy number
        (5, "T5", Some("BRAF"), Some("snv"), Some(" V600E "), None), // trimmed
        (6, "T6", Some("BRAF"), Some("snv"), Some("v600e"), None), // globs keep case
        (7, "T7", Some("BRAF"), None, Some("V600E"), None), // no class
        (8, "T8", Some("BRAF"), Some("snv"), None, None), // no alteration
        (9, "T9", Some("EGFR"), Some("indel"), Some("exon19del"), None),
        (10, "T10", Some("EGFR"), Some("indel"), Some("exon19del2"), None), // not a glob
        (11, "T11", None, Some("snv"), Some("V600E"), None), // no gene
        (12, "U12", Some("BRAF"), Some("snv"), Some("V600E"), None), // unapproved laboratory
        (12, "U12", Some("KRAS"), Some("snv"), Some("G12C"), None), // resistance: any lab
    ];
    inputs.variant = frame(vec![
        ids("person_id", &variants.map(|v| v.0)),
        s("test_id", &variants.map(|v| v.1)),
        sn("gene", &variants.map(|v| v.2)),
        sn("class", &variants.map(|v| v.3)),
        sn("alteration", &variants.map(|v| v.4)),
        f("value", &variants.map(|v| v.5)),
    ]);
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
    let (t, x) = (true, false);
    let want: [[bool; 12]; 3] = [
        [t, x, t, x, x, x, x, x, x, x, x, x],
        [x, x, x, x, t, x, x, x, x, x, x, x],
        [x, x, x, x, x, x, x, x, t, x, x, x],
    ];
    let mut want_resistance = [PASS; 12];
    want_resistance[11] = FAIL;
    for inputs in [
        inputs.clone(),
        with_ids(&inputs, col("person_id").cast(DataType::String)),
    ] {
        let mut patients = patient_outcomes(&inputs, &definition, as_of)
            .unwrap()
            .patients;
        // In patient order (string ids sort as strings).
        let order = patients
            .column("person_id")
            .unwrap()
            .cast(&DataType::String)
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap();
        let patients = patients
            .with_column(order.with_name("order".into()))
            .unwrap()
            .sort(["order"], SortMultipleOptions::default())
            .unwrap();
        for (c, want) in want.iter().enumerate() {
            let column = patients.column(&format!("matched_{c}")).unwrap();
            let got: Vec<bool> = column.bool().unwrap().iter().map(|v| v.unwrap()).collect();
            assert_eq!(got, want, "cohort {c}");
        }
        let column = patients.column(&drug_criterion_column(0, 0)).unwrap();
        let got: Vec<u8> = column.u8().unwrap().iter().map(|v| v.unwrap()).collect();
        assert_eq!(got, want_resistance);
    }
}
