//! Molecular matching and the cohort criteria (I3, E8, E9, E11, and the drug's own criteria from
//! its SmPC) at their edges, through the binary and the shipped definition. Every patient is
//! complete (passes every general criterion) and carries one variation, so the cohort status in
//! `restricted/patients.parquet` shows the criterion under test. Expectations are worked out from
//! impress-norway.md and the cohort table in pipelines/impress-norway.toml.

mod common;

use common::Fixture;

const VEM: &str = "VEM-BRAF-CRC"; // vemurafenib + cobimetinib (oral), BRAF V600, colorectal
const PAN: &str = "PAN-EGFR-AMP-SOLID"; // panitumumab (iv), EGFR amplification >= 6, solid

/// A patient passing every general criterion, with a colorectal primary (or `icd10`), QTc 420 ms
/// and LVEF 60 % (the drugs' own criteria), and a test from an approved lab; no variant yet.
fn complete(x: &mut Fixture, icd10: &str) -> (i64, String) {
    let p = x.patient();
    x.diagnosis(p, icd10, -200)
        .obs_text(p, "extent", -10, "metastatic")
        .obs_text(p, "std-tx-exhausted", -10, "true")
        .obs_text(p, "recist-measurable", -10, "true")
        .obs_num(p, "89247-1", -5, 1.0)
        .lab(p, "751-8", -5, 3.0, "10*9/L")
        .lab(p, "718-7", -5, 12.0, "g/dL")
        .lab(p, "777-3", -5, 200.0, "10*9/L")
        .lab_uln(p, "1975-2", -5, 10.0, "umol/L", 21.0)
        .lab_uln(p, "1920-8", -5, 20.0, "U/L", 35.0)
        .lab_uln(p, "1742-6", -5, 20.0, "U/L", 45.0)
        .lab(p, "98979-8", -5, 90.0, "mL/min/{1.73_m2}");
    let test = x.test(p, Some(true), -20);
    (p, test)
}

/// Complete, colorectal, BRAF V600E: matched to VEM-BRAF-CRC; the drug's criteria need QTc and
/// LVEF, added unless the case is about them.
fn braf(x: &mut Fixture, qtc: Option<f64>, lvef: Option<f64>) -> i64 {
    let (p, test) = complete(x, "C18.7");
    x.variant(p, &test, "BRAF", "snv", Some("V600E"), Some(0.3));
    if let Some(qtc) = qtc {
        x.lab(p, "8636-3", -5, qtc, "ms");
    }
    if let Some(lvef) = lvef {
        x.lab(p, "10230-1", -5, lvef, "%");
    }
    p
}

fn matching(x: &mut Fixture) {
    let p = braf(x, Some(420.0), Some(60.0));
    x.expect(p, VEM, "eligible", "complete, BRAF V600E colorectal");
    x.expect(p, "I7", "pass", "matched to a cohort");

    let (p, test) = complete(x, "C18.7");
    x.variant(p, &test, "BRAF", "snv", Some("V600K"), Some(0.3))
        .lab(p, "8636-3", -5, 420.0, "ms")
        .lab(p, "10230-1", -5, 60.0, "%")
        .expect(p, VEM, "eligible", "V600K matches the pattern V600*");

    let (p, test) = complete(x, "C18.7");
    x.variant(p, &test, "BRAF", "snv", Some("G469A"), Some(0.3))
        .expect(p, "I7", "fail", "BRAF G469A matches no cohort");

    let p = x.patient();
    x.diagnosis(p, "C18.7", -200);
    let test = x.test(p, Some(false), -20);
    x.variant(p, &test, "BRAF", "snv", Some("V600E"), Some(0.3))
        .expect(
            p,
            "I7",
            "fail",
            "the variant comes from a lab that is not approved",
        );

    let p = x.patient();
    x.diagnosis(p, "C18.7", -200);
    let test = x.test(p, Some(true), 5);
    x.variant(p, &test, "BRAF", "snv", Some("V600E"), Some(0.3))
        .expect(p, "I7", "fail", "the test is reported after the index date");

    // BRAF V600E lung cancer is outside VEM-BRAF-CRC's tumour group, and dabrafenib +
    // trametinib is approved for it (on-label), so DT-BRAF-SOLID leaves lung out: no cohort.
    let (p, test) = complete(x, "C34.1");
    x.variant(p, &test, "BRAF", "snv", Some("V600E"), Some(0.3));
    x.expect(
        p,
        "I7",
        "fail",
        "BRAF V600E lung cancer is an approved indication",
    );
    // In a pancreatic primary (an 'other solid' group), dabrafenib + trametinib takes it.
    let (p, test) = complete(x, "C25.0");
    x.variant(p, &test, "BRAF", "snv", Some("V600E"), Some(0.3))
        .lab(p, "10230-1", -5, 60.0, "%")
        .expect(
            p,
            "DT-BRAF-SOLID",
            "eligible",
            "BRAF V600E pancreatic cancer",
        );

    // EGFR amplification: copy number 6 is the threshold (>= 6), 5 is below it; colorectal
    // cancer is panitumumab's on-label indication and is excluded.
    let (p, test) = complete(x, "C34.1");
    x.variant(p, &test, "EGFR", "amplification", None, Some(6.0))
        .expect(
            p,
            PAN,
            "eligible",
            "EGFR copy number 6 in lung (iv drug: I3 n/a)",
        );
    let (p, test) = complete(x, "C34.1");
    x.variant(p, &test, "EGFR", "amplification", None, Some(5.0))
        .expect(p, "I7", "fail", "copy number 5 is below 6");
    let (p, test) = complete(x, "C18.7");
    x.variant(p, &test, "EGFR", "amplification", None, Some(8.0))
        .expect(
            p,
            "I7",
            "fail",
            "colorectal is panitumumab's on-label indication",
        );
}

fn cohort_criteria(x: &mut Fixture) {
    // I3 (oral drugs): dysphagia within 90 days, or malabsorption (K90).
    let p = braf(x, Some(420.0), Some(60.0));
    x.obs_text(p, "dysphagia", -90, "true")
        .expect(p, VEM, "ineligible", "I3: dysphagia on day 90");
    let p = braf(x, Some(420.0), Some(60.0));
    x.obs_text(p, "dysphagia", -91, "true").expect(
        p,
        VEM,
        "eligible",
        "I3: dysphagia on day 91 is outside the window",
    );
    let p = braf(x, Some(420.0), Some(60.0));
    x.diagnosis(p, "K90.0", -300).expect(
        p,
        VEM,
        "ineligible",
        "I3: malabsorption (coeliac disease)",
    );
    let (p, test) = complete(x, "C34.1");
    x.variant(p, &test, "EGFR", "amplification", None, Some(8.0))
        .obs_text(p, "dysphagia", -5, "true")
        .expect(p, PAN, "eligible", "I3 is n/a for an iv drug");

    // E8: an allergy to one of the drug's substances.
    let p = braf(x, Some(420.0), Some(60.0));
    x.obs_text(p, "allergy", -100, "L01EE02").expect(
        p,
        VEM,
        "ineligible",
        "E8: allergy to cobimetinib",
    );
    let p = braf(x, Some(420.0), Some(60.0));
    x.obs_text(p, "allergy", -100, " l01ec01 ").expect(
        p,
        VEM,
        "ineligible",
        "E8: allergy to vemurafenib, written in lower case with spaces",
    );
    let p = braf(x, Some(420.0), Some(60.0));
    x.obs_text(p, "allergy", -100, "L01FD01").expect(
        p,
        VEM,
        "eligible",
        "E8: allergy to trastuzumab (another cohort's drug) is not to this drug",
    );
    let p = braf(x, Some(420.0), Some(60.0));
    x.obs_text(p, "allergy", -100, "J01CA04").expect(
        p,
        VEM,
        "eligible",
        "E8: allergy to amoxicillin is not to the drug",
    );

    // E9: treated before with the drug.
    let p = braf(x, Some(420.0), Some(60.0));
    x.treatment(p, Some("L01EC01"), -300, Some(-200)).expect(
        p,
        VEM,
        "ineligible",
        "E9: vemurafenib before",
    );
    let p = braf(x, Some(420.0), Some(60.0));
    x.treatment(p, Some("L01EC02"), -300, Some(-200)).expect(
        p,
        VEM,
        "eligible",
        "E9: dabrafenib (another cohort's drug) before is not this drug",
    );
    let p = braf(x, Some(420.0), Some(60.0));
    x.treatment(p, Some("L01EC01"), 10, None).expect(
        p,
        VEM,
        "eligible",
        "E9: a start after the index date is not used",
    );

    // E11: a resistance biomarker of the drug (RAS mutation for panitumumab).
    let (p, test) = complete(x, "C34.1");
    x.variant(p, &test, "EGFR", "amplification", None, Some(8.0))
        .variant(p, &test, "KRAS", "snv", Some("G12D"), Some(0.2))
        .expect(p, PAN, "ineligible", "E11: KRAS G12D with panitumumab");

    // The drugs' own criteria (SmPC): QTc <= 500 ms for vemurafenib, LVEF >= 50 % for
    // cobimetinib; unknown where not measured.
    let p = braf(x, Some(500.0), Some(60.0));
    x.expect(p, VEM, "eligible", "QTc exactly 500 ms: not > 500");
    let p = braf(x, Some(501.0), Some(60.0));
    x.expect(p, VEM, "ineligible", "QTc 501 ms");
    let p = braf(x, Some(420.0), Some(50.0));
    x.expect(p, VEM, "eligible", "LVEF exactly 50 %");
    let p = braf(x, Some(420.0), Some(49.0));
    x.expect(p, VEM, "ineligible", "LVEF 49 %");
    let p = braf(x, None, Some(60.0));
    x.expect(p, VEM, "possibly eligible", "QTc not measured: unknown");
}

#[test]
fn matching_and_cohort_criteria_at_their_edges() {
    let mut x = Fixture::new();
    matching(&mut x);
    cohort_criteria(&mut x);
    let results = x.run(&[]);
    let wrong = x.mismatches(&results);
    assert!(
        wrong.is_empty(),
        "{} mismatches:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
