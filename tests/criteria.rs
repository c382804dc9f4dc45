//! Every general criterion of IMPRESS-Norway at its edges, through the binary and the shipped
//! definition: thresholds exactly met, each unit the contract lists, day D vs D+1 of a window,
//! records after the index date, same-date ties, out-of-domain values, missing data and n/a.
//! Expected outcomes are worked out by hand from impress-norway.md (comments say how).

mod common;

use common::Fixture;

const HB: &str = "718-7";
const ANC: &str = "751-8";
const PLT: &str = "777-3";
const BILI: &str = "1975-2";
const AST: &str = "1920-8";
const ALT: &str = "1742-6";
const CREA: &str = "2160-0";
const CLEARANCE: &str = "2164-2";
const EGFR: &str = "98979-8";
const LVEF: &str = "10230-1";
const CA125: &str = "10334-1";
const PSA: &str = "2857-1";
const ECOG: &str = "89247-1";

fn alive_and_diagnosis(x: &mut Fixture) {
    let p = x.patient();
    x.expect(p, "D0", "pass", "no death date");
    let p = x.patient();
    x.person_mut(p).death = Some(x.index - 1);
    x.expect(p, "D0", "fail", "died the day before the index date");
    let p = x.patient();
    x.person_mut(p).death = Some(x.index);
    x.expect(p, "D0", "pass", "died on the index date: death_date >= idx");

    let p = x.patient();
    x.expect(p, "I1a", "fail", "no diagnosis at all: missing = fail");
    let p = x.patient();
    x.diagnosis(p, "C34.1", -100)
        .expect(p, "I1a", "pass", "lung primary");
    let p = x.patient();
    x.diagnosis(p, "C44.9", -100).expect(
        p,
        "I1a",
        "fail",
        "C44 (skin, non-melanoma) is not a primary",
    );
    let p = x.patient();
    x.diagnosis(p, "C78.7", -100).expect(
        p,
        "I1a",
        "fail",
        "a metastasis only (C77-C79) is not a primary",
    );
    let p = x.patient();
    x.diagnosis(p, "C341", 1).expect(
        p,
        "I1a",
        "fail",
        "primary recorded after the index date: no look-ahead",
    );
}

fn extent_and_standard_treatment(x: &mut Fixture) {
    let p = x.patient();
    x.obs_text(p, "extent", -10, "metastatic")
        .expect(p, "I1b", "pass", "metastatic");
    let p = x.patient();
    x.obs_text(p, "extent", -10, "local")
        .expect(p, "I1b", "fail", "local, no C77-C79");
    let p = x.patient();
    x.expect(p, "I1b", "unknown", "no extent, no metastasis");
    let p = x.patient();
    x.obs_text(p, "extent", -10, "local")
        .diagnosis(p, "C79.3", -5)
        .expect(p, "I1b", "pass", "local, but a C79.3 diagnosis: metastatic");
    let p = x.patient();
    x.obs_text(p, "extent", -10, "local")
        .obs_text(p, "extent", -10, "metastatic")
        .expect(
            p,
            "I1b",
            "fail",
            "same-date tie local/metastatic: the least favourable (local)",
        );
    let p = x.patient();
    x.obs_text(p, "extent", 1, "metastatic").expect(
        p,
        "I1b",
        "unknown",
        "extent recorded after the index date is not used",
    );
    let p = x.patient();
    x.obs_text(p, "extent", -400, "locally-advanced").expect(
        p,
        "I1b",
        "pass",
        "latest extent <= idx has no window",
    );

    let p = x.patient();
    x.obs_text(p, "std-tx-exhausted", -3, "true")
        .expect(p, "I1c", "pass", "true");
    let p = x.patient();
    x.obs_text(p, "std-tx-exhausted", -3, "false")
        .expect(p, "I1c", "fail", "false");
    let p = x.patient();
    x.expect(p, "I1c", "unknown", "no record");
    let p = x.patient();
    x.obs_text(p, "std-tx-exhausted", -3, "true")
        .obs_text(p, "std-tx-exhausted", -3, "false")
        .expect(p, "I1c", "fail", "same-date tie: the answer that fails");
}

fn ecog(x: &mut Fixture) {
    let p = x.patient();
    x.obs_num(p, ECOG, -30, 2.0)
        .expect(p, "I2", "pass", "ECOG exactly 2 on day 30");
    let p = x.patient();
    x.obs_num(p, ECOG, -30, 3.0)
        .expect(p, "I2", "fail", "ECOG 3");
    let p = x.patient();
    x.obs_num(p, ECOG, -31, 1.0)
        .expect(p, "I2", "unknown", "day 31: outside the 30-day window");
    let p = x.patient();
    x.obs_num(p, ECOG, -1, 7.0)
        .obs_num(p, ECOG, -5, 1.0)
        .expect(
            p,
            "I2",
            "pass",
            "ECOG 7 is out of domain: dropped, the older valid 1 is used",
        );
    let p = x.patient();
    x.obs_num(p, ECOG, -2, 1.0)
        .obs_num(p, ECOG, -2, 3.0)
        .expect(p, "I2", "fail", "same-date tie 1/3: the highest");
}

fn blood_counts(x: &mut Fixture) {
    let p = x.patient();
    x.lab(p, ANC, -1, 1.5, "10*9/L")
        .expect(p, "I4a", "pass", "ANC exactly 1.5: >= 1.5");
    let p = x.patient();
    x.lab(p, ANC, -1, 1.49, "10*9/L")
        .expect(p, "I4a", "fail", "1.49");
    let p = x.patient();
    x.lab(p, ANC, -1, 1500.0, "/uL")
        .expect(p, "I4a", "pass", "1500 /uL = 1.5 x10^9/L");
    let p = x.patient();
    x.lab(p, ANC, -1, 1.4, "10*3/uL")
        .expect(p, "I4a", "fail", "10*3/uL equals 10*9/L: 1.4");
    let p = x.patient();
    x.diagnosis(p, "C91.0", -50)
        .lab(p, ANC, -1, 0.5, "10*9/L")
        .expect(p, "I4a", "n/a", "haematological primary (C91)")
        .expect(p, "I4b", "n/a", "haematological primary (C91)")
        .expect(p, "I4c", "n/a", "haematological primary (C91)");
    let p = x.patient();
    x.expect(p, "I4a", "unknown", "no ANC");

    let p = x.patient();
    x.lab(p, HB, -30, 9.0, "g/dL")
        .expect(p, "I4b", "fail", "Hb exactly 9 g/dL on day 30: not > 9");
    let p = x.patient();
    x.lab(p, HB, -1, 91.0, "g/L")
        .expect(p, "I4b", "pass", "91 g/L = 9.1 g/dL");
    let p = x.patient();
    x.lab(p, HB, -1, 90.0, "g/L")
        .expect(p, "I4b", "fail", "90 g/L = 9.0 g/dL: not > 9");
    let p = x.patient();
    x.lab(p, HB, -1, 5.6, "mmol/L")
        .expect(p, "I4b", "pass", "5.6 mmol/L x 1.611 = 9.02 g/dL");
    let p = x.patient();
    x.lab(p, HB, -1, 5.5, "mmol/L")
        .expect(p, "I4b", "fail", "5.5 mmol/L x 1.611 = 8.86 g/dL");
    let p = x.patient();
    x.lab(p, HB, -31, 12.0, "g/dL")
        .expect(p, "I4b", "unknown", "day 31: outside the window");
    let p = x.patient();
    x.lab(p, HB, -2, 10.0, "g/dL")
        .lab(p, HB, -2, 8.5, "g/dL")
        .expect(p, "I4b", "fail", "same-date tie 10/8.5: the lowest");
    let p = x.patient();
    x.lab(p, HB, 1, 12.0, "g/dL")
        .lab(p, HB, -5, 8.0, "g/dL")
        .expect(p, "I4b", "fail", "the record after idx is ignored: 8.0");
    let p = x.patient();
    x.lab(p, HB, -1, 100.0, "mg/L")
        .lab(p, HB, -3, 10.0, "g/dL")
        .expect(
            p,
            "I4b",
            "pass",
            "mg/L cannot be converted: dropped, the older 10 g/dL is used",
        );

    let p = x.patient();
    x.lab(p, PLT, -1, 75.0, "10*9/L")
        .expect(p, "I4c", "fail", "platelets exactly 75: not > 75");
    let p = x.patient();
    x.lab(p, PLT, -1, 76.0, "10*3/uL")
        .expect(p, "I4c", "pass", "76");
    let p = x.patient();
    x.lab(p, PLT, -1, 75001.0, "/uL")
        .expect(p, "I4c", "pass", "75001 /uL = 75.001");
    let p = x.patient();
    x.lab(p, PLT, -1, -5.0, "10*9/L").expect(
        p,
        "I4c",
        "unknown",
        "a negative count is out of domain: dropped",
    );
}

fn liver_and_kidney(x: &mut Fixture) {
    let p = x.patient();
    x.lab_uln(p, BILI, -1, 31.0, "umol/L", 21.0)
        .expect(p, "I4d", "pass", "31/21 = 1.48 x ULN");
    let p = x.patient();
    x.lab_uln(p, BILI, -1, 31.5, "umol/L", 21.0).expect(
        p,
        "I4d",
        "fail",
        "31.5/21 = 1.5 x ULN exactly: not < 1.5",
    );
    let p = x.patient();
    x.lab(p, BILI, -1, 31.5, "umol/L").expect(
        p,
        "I4d",
        "fail",
        "no range_high: fallback ULN 21 umol/L, 1.5 x ULN",
    );
    let p = x.patient();
    x.lab(p, BILI, -1, 1.8, "mg/dL").expect(
        p,
        "I4d",
        "pass",
        "1.8 mg/dL x 17.1 = 30.78 umol/L = 1.466 x 21",
    );
    let p = x.patient();
    x.lab(p, BILI, -1, 1.85, "mg/dL").expect(
        p,
        "I4d",
        "fail",
        "1.85 mg/dL x 17.1 = 31.64 umol/L = 1.506 x 21",
    );
    let p = x.patient();
    x.expect(p, "I4d", "unknown", "no bilirubin");

    let p = x.patient();
    x.lab_uln(p, AST, -1, 87.0, "U/L", 35.0)
        .expect(p, "I4e", "pass", "87/35 = 2.49 x ULN");
    let p = x.patient();
    x.lab_uln(p, AST, -1, 87.5, "U/L", 35.0).expect(
        p,
        "I4e",
        "fail",
        "87.5/35 = 2.5 x ULN exactly",
    );
    let p = x.patient();
    x.diagnosis(p, "C78.7", -20)
        .lab_uln(p, AST, -1, 170.0, "U/L", 35.0)
        .expect(p, "I4e", "pass", "liver metastases: limit 5 x ULN, 4.86");
    let p = x.patient();
    x.diagnosis(p, "C787", -20)
        .lab(p, AST, -1, 175.0, "U/L")
        .expect(
            p,
            "I4e",
            "fail",
            "liver metastases, fallback ULN 35: 5.0 exactly",
        );
    let p = x.patient();
    x.diagnosis(p, "C78.7", 3)
        .lab_uln(p, AST, -1, 100.0, "U/L", 35.0)
        .expect(
            p,
            "I4e",
            "fail",
            "liver metastasis after idx does not raise the limit: 2.86",
        );

    let p = x.patient();
    x.lab_uln(p, ALT, -1, 112.0, "U/L", 45.0)
        .expect(p, "I4f", "pass", "112/45 = 2.49");
    let p = x.patient();
    x.lab(p, ALT, -1, 112.5, "U/L")
        .expect(p, "I4f", "fail", "fallback ULN 45: 2.5 exactly");

    let p = x.patient();
    x.lab(p, EGFR, -1, 40.0, "mL/min/{1.73_m2}")
        .expect(p, "I4g", "pass", "eGFR exactly 40");
    let p = x.patient();
    x.lab(p, EGFR, -1, 39.9, "mL/min/{1.73_m2}")
        .expect(p, "I4g", "fail", "39.9");
    let p = x.patient();
    x.lab(p, CLEARANCE, -1, 40.0, "mL/min").expect(
        p,
        "I4g",
        "pass",
        "creatinine clearance 40 mL/min",
    );
    // CKD-EPI 2021, woman born 1960, idx 2025 (age 65), computed independently in Python:
    // Scr 1.45 mg/dL -> 40.03; 1.46 -> 39.70; 128.2 umol/L (1.4499 mg/dL) -> 40.03.
    let p = x.patient();
    x.lab(p, CREA, -1, 1.45, "mg/dL").expect(
        p,
        "I4g",
        "pass",
        "eGFR from creatinine 1.45 mg/dL, F 65: 40.03",
    );
    let p = x.patient();
    x.lab(p, CREA, -1, 1.46, "mg/dL").expect(
        p,
        "I4g",
        "fail",
        "eGFR from creatinine 1.46 mg/dL, F 65: 39.70",
    );
    let p = x.patient();
    x.lab(p, CREA, -1, 128.2, "umol/L").expect(
        p,
        "I4g",
        "pass",
        "128.2 umol/L / 88.42 = 1.4499 mg/dL: 40.03",
    );
    // Man, age 65: 1.85 mg/dL -> 39.92.
    let p = x.patient();
    x.person_mut(p).sex = "M".into();
    x.lab(p, CREA, -1, 1.85, "mg/dL").expect(
        p,
        "I4g",
        "fail",
        "eGFR from creatinine 1.85 mg/dL, M 65: 39.92",
    );
    let p = x.patient();
    x.person_mut(p).sex = "U".into();
    x.lab(p, CREA, -1, 0.5, "mg/dL")
        .expect(p, "I4g", "unknown", "sex U: CKD-EPI not computable");
    let p = x.patient();
    x.lab(p, CREA, -1, 0.5, "mg/dL")
        .lab(p, EGFR, -1, 35.0, "mL/min/{1.73_m2}")
        .expect(
            p,
            "I4g",
            "fail",
            "same-date tie of computed 104 and reported 35: the lowest",
        );
    let p = x.patient();
    x.lab(p, EGFR, -2, 35.0, "mL/min/{1.73_m2}")
        .lab(p, CREA, -1, 0.5, "mg/dL")
        .expect(
            p,
            "I4g",
            "pass",
            "the latest of the three sources: creatinine the day after",
        );
}

fn measurable_disease_and_test(x: &mut Fixture) {
    let p = x.patient();
    x.obs_text(p, "recist-measurable", -5, "true")
        .expect(p, "I5", "pass", "measurable");
    let p = x.patient();
    x.obs_text(p, "recist-measurable", -5, "false").expect(
        p,
        "I5",
        "fail",
        "not measurable, no marker exception",
    );
    let p = x.patient();
    x.expect(p, "I5", "unknown", "no record");
    let p = x.patient();
    x.diagnosis(p, "C56", -60)
        .obs_text(p, "recist-measurable", -5, "false")
        .lab(p, CA125, -3, 40.0, "U/mL")
        .expect(p, "I5", "pass", "ovarian with CA-125 40 > 35: evaluable");
    let p = x.patient();
    x.diagnosis(p, "C56", -60)
        .lab(p, CA125, -3, 35.0, "U/mL")
        .expect(
            p,
            "I5",
            "unknown",
            "ovarian, CA-125 exactly 35 (not > 35), no RECIST status",
        );
    let p = x.patient();
    x.diagnosis(p, "C61", -60)
        .lab(p, PSA, -3, 5.0, "ng/mL")
        .expect(p, "I5", "pass", "prostate with PSA 5 > 4");
    let p = x.patient();
    x.diagnosis(p, "C61", -60)
        .obs_text(p, "recist-measurable", -5, "false")
        .lab(p, PSA, -3, 4.0, "ng/mL")
        .expect(
            p,
            "I5",
            "fail",
            "prostate, PSA exactly 4 (not > 4), not measurable",
        );
    let p = x.patient();
    x.diagnosis(p, "C34.1", -60)
        .obs_text(p, "recist-measurable", -5, "false")
        .lab(p, PSA, -3, 40.0, "ng/mL")
        .expect(p, "I5", "fail", "PSA exception only for a prostate primary");

    let p = x.patient();
    x.test(p, Some(true), -10);
    x.expect(p, "I6", "pass", "a test from an approved lab");
    let p = x.patient();
    x.test(p, Some(false), -10);
    x.expect(p, "I6", "fail", "tests exist, none approved");
    let p = x.patient();
    x.expect(p, "I6", "fail", "no test at all");
    let p = x.patient();
    x.test(p, None, -10);
    x.expect(p, "I6", "unknown", "approved_lab null");
    let p = x.patient();
    x.test(p, Some(true), 2);
    x.expect(
        p,
        "I6",
        "fail",
        "the only approved test is reported after idx",
    );
    let p = x.patient();
    x.test(p, Some(false), -10);
    x.test(p, None, -5);
    x.expect(p, "I6", "unknown", "one not approved, one unknown");
}

fn toxicity_and_brain(x: &mut Fixture) {
    let p = x.patient();
    x.obs_num(p, "ctcae-max-grade", -10, 3.0)
        .expect(p, "E2a", "fail", "grade 3 > 2");
    let p = x.patient();
    x.obs_num(p, "ctcae-max-grade", -10, 2.0)
        .expect(p, "E2a", "pass", "grade 2");
    let p = x.patient();
    x.expect(p, "E2a", "pass", "absence = pass")
        .expect(p, "E2b", "pass", "absence = pass")
        .expect(p, "E2c", "pass", "no status, no C79.3: pass")
        .expect(p, "E3", "pass", "absence = pass")
        .expect(p, "E4", "pass", "absence = pass")
        .expect(p, "E5", "pass", "absence = pass")
        .expect(p, "E6", "pass", "absence = pass")
        .expect(p, "E10", "pass", "absence = pass")
        .expect(
            p,
            "E12",
            "pass",
            "woman, no pregnancy or nursing record: absence = pass",
        );
    let p = x.patient();
    x.obs_num(p, "ctcae-max-grade", -31, 4.0).expect(
        p,
        "E2a",
        "pass",
        "day 31: outside the window",
    );

    let p = x.patient();
    x.obs_num(p, "neuropathy-grade", -10, 3.0)
        .expect(p, "E2b", "fail", "grade 3 >= 3");
    let p = x.patient();
    x.obs_num(p, "neuropathy-grade", -10, 2.0)
        .expect(p, "E2b", "pass", "grade 2");

    let p = x.patient();
    x.obs_text(p, "brain-mets-status", -10, "progressive")
        .expect(p, "E2c", "fail", "progressive");
    let p = x.patient();
    x.obs_text(p, "brain-mets-status", -10, "stable")
        .diagnosis(p, "C79.3", -30)
        .expect(p, "E2c", "pass", "stable");
    let p = x.patient();
    x.diagnosis(p, "C79.3", -30)
        .expect(p, "E2c", "unknown", "brain metastasis, no status");
    let p = x.patient();
    x.obs_text(p, "brain-mets-status", -10, "stable")
        .obs_text(p, "brain-mets-status", -10, "progressive")
        .expect(p, "E2c", "fail", "same-date tie: progressive > stable");

    let p = x.patient();
    x.diagnosis(p, "C71.9", -100)
        .treatment(p, Some("N03AF01"), -200, None)
        .expect(p, "E2d", "fail", "GBM on carbamazepine, ongoing");
    let p = x.patient();
    x.diagnosis(p, "C71.9", -100)
        .treatment(p, Some("N03AB02"), -200, Some(-14))
        .expect(p, "E2d", "fail", "phenytoin ended 14 days before idx");
    let p = x.patient();
    x.diagnosis(p, "C71.9", -100)
        .treatment(p, Some("N03AB02"), -200, Some(-15))
        .expect(p, "E2d", "pass", "ended 15 days before idx");
    let p = x.patient();
    x.diagnosis(p, "C34.1", -100)
        .treatment(p, Some("N03AF01"), -200, None)
        .expect(p, "E2d", "n/a", "not a C71 primary");
}

fn comorbidities(x: &mut Fixture) {
    let p = x.patient();
    x.diagnosis(p, "I48.0", -180)
        .expect(p, "E3", "fail", "arrhythmia on day 180");
    let p = x.patient();
    x.diagnosis(p, "I48.0", -181)
        .expect(p, "E3", "pass", "day 181");
    let p = x.patient();
    x.diagnosis(p, "I20.0", -10)
        .expect(p, "E3", "fail", "unstable angina I20.0");
    let p = x.patient();
    x.diagnosis(p, "I20.9", -10)
        .expect(p, "E3", "pass", "I20.9 is not I20.0");

    let p = x.patient();
    x.lab(p, LVEF, -365, 39.0, "%")
        .expect(p, "E4", "fail", "LVEF 39 on day 365");
    let p = x.patient();
    x.lab(p, LVEF, -10, 40.0, "%")
        .expect(p, "E4", "pass", "LVEF exactly 40: not < 40");
    let p = x.patient();
    x.lab(p, LVEF, -366, 30.0, "%")
        .expect(p, "E4", "pass", "day 366");

    let p = x.patient();
    x.diagnosis(p, "I63.9", -122)
        .expect(p, "E5", "fail", "stroke on day 122");
    let p = x.patient();
    x.diagnosis(p, "I639", -123)
        .expect(p, "E5", "pass", "day 123");
    let p = x.patient();
    x.diagnosis(p, "G45.9", -5).expect(p, "E5", "fail", "TIA");

    let p = x.patient();
    x.diagnosis(p, "K92.2", -30)
        .expect(p, "E6", "fail", "GI bleeding on day 30");
    let p = x.patient();
    x.diagnosis(p, "K92.3", -3)
        .expect(p, "E6", "pass", "K92.3 is outside K92.0-K92.2");
    let p = x.patient();
    x.diagnosis(p, "K25.0", -31)
        .expect(p, "E6", "pass", "day 31");
}

fn therapy_and_pregnancy(x: &mut Fixture) {
    let p = x.patient();
    x.treatment(p, Some("L01XC07"), -20, None)
        .expect(p, "E10", "fail", "anti-cancer drug ongoing");
    let p = x.patient();
    x.treatment(p, Some("L01XC07"), -60, Some(-1)).expect(
        p,
        "E10",
        "pass",
        "ended the day before idx",
    );
    let p = x.patient();
    x.treatment(p, Some("L01XC07"), -60, Some(0)).expect(
        p,
        "E10",
        "fail",
        "ends on the index date: end >= idx",
    );
    let p = x.patient();
    x.treatment(p, None, -5, None)
        .expect(p, "E10", "fail", "radiotherapy ongoing");
    let p = x.patient();
    x.diagnosis(p, "C61", -300)
        .treatment(p, Some("L02AE02"), -200, None)
        .expect(
            p,
            "E10",
            "pass",
            "castration for prostate cancer is allowed",
        );
    let p = x.patient();
    x.diagnosis(p, "C50.9", -300)
        .treatment(p, Some("L02AE02"), -200, None)
        .expect(p, "E10", "fail", "GnRH analogue without a prostate primary");
    let p = x.patient();
    x.treatment(p, Some("L02AB01"), -30, None).expect(
        p,
        "E10",
        "pass",
        "megestrol started 30 days before idx",
    );
    let p = x.patient();
    x.treatment(p, Some("L02AB01"), -29, None).expect(
        p,
        "E10",
        "fail",
        "megestrol started 29 days before idx",
    );
    let p = x.patient();
    x.treatment(p, Some("L01XC07"), 3, None)
        .expect(p, "E10", "pass", "starts after idx");

    let p = x.patient();
    x.person_mut(p).sex = "M".into();
    x.obs_text(p, "pregnant", -3, "true")
        .expect(p, "E12", "n/a", "men: n/a");
    let p = x.patient();
    x.obs_text(p, "pregnant", -3, "true")
        .expect(p, "E12", "fail", "pregnant");
    let p = x.patient();
    x.obs_text(p, "pregnant", -3, "false").expect(
        p,
        "E12",
        "pass",
        "not pregnant, nursing unknown",
    );
    let p = x.patient();
    x.person_mut(p).sex = "U".into();
    x.obs_text(p, "nursing", -3, "true")
        .expect(p, "E12", "fail", "sex U nursing");
    let p = x.patient();
    x.person_mut(p).sex = "X".into();
    x.obs_text(p, "pregnant", -3, "true").expect(
        p,
        "E12",
        "fail",
        "sex X is out of domain, so unknown: not known to be a man, E12 applies",
    );
    let p = x.patient();
    x.obs_text(p, "pregnant", -31, "true")
        .expect(p, "E12", "pass", "day 31: outside the window");
}

#[test]
fn general_criteria_at_their_edges() {
    let mut x = Fixture::new();
    alive_and_diagnosis(&mut x);
    extent_and_standard_treatment(&mut x);
    ecog(&mut x);
    blood_counts(&mut x);
    liver_and_kidney(&mut x);
    measurable_disease_and_test(&mut x);
    toxicity_and_brain(&mut x);
    comorbidities(&mut x);
    therapy_and_pregnancy(&mut x);
    let results = x.run(&[]);
    let wrong = x.mismatches(&results);
    assert!(
        wrong.is_empty(),
        "{} mismatches:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn index_date_defaults_to_the_as_of_date() {
    // As-of 2025-06-30; patient without index date: a Hb on 2025-06-29 is within 30 days of it
    // and one on 2025-05-30 (day 31) is not.
    let mut x = Fixture::new();
    // Padding patients so that the published counts are not all below the minimum cell.
    for _ in 0..12 {
        x.patient();
    }
    let as_of = common::days(common::AS_OF);
    let p = x.patient();
    x.person_mut(p).index = None;
    let offset = as_of - x.index;
    x.lab(p, HB, offset - 1, 10.0, "g/dL").expect(
        p,
        "I4b",
        "pass",
        "Hb the day before the as-of date",
    );
    let p = x.patient();
    x.person_mut(p).index = None;
    x.lab(p, HB, offset - 31, 10.0, "g/dL").expect(
        p,
        "I4b",
        "unknown",
        "31 days before the as-of date",
    );
    let results = x.run(&[]);
    let wrong = x.mismatches(&results);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
