//! The reports of a whole run on a hand-sized extract, with every number worked out by hand:
//! attrition, per-criterion counts, sole exclusions, gains if relaxed, cohort counts and accrual.
//! Also: the run replaces its output folder atomically, and the same inputs give the same CSVs.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::Fixture;

/// A patient who passes every general criterion and every cohort criterion of VEM-BRAF-CRC
/// (vemurafenib + cobimetinib for BRAF V600 colorectal cancer).
fn complete(x: &mut Fixture) -> i64 {
    let p = without_haemoglobin(x);
    x.lab(p, "718-7", -5, 12.0, "g/dL");
    p
}

/// As [`complete`], but with no haemoglobin result: I4b unknown.
fn without_haemoglobin(x: &mut Fixture) -> i64 {
    let p = untested(x);
    let test = x.test(p, Some(true), -20);
    x.variant(p, &test, "BRAF", "snv", Some("V600E"), Some(0.3));
    p
}

/// As [`without_haemoglobin`], but with no molecular test.
fn untested(x: &mut Fixture) -> i64 {
    let p = x.patient();
    x.diagnosis(p, "C18.7", -200)
        .obs_text(p, "extent", -10, "metastatic")
        .obs_text(p, "std-tx-exhausted", -10, "true")
        .obs_text(p, "recist-measurable", -10, "true")
        .obs_num(p, "89247-1", -5, 1.0)
        .lab(p, "751-8", -5, 3.0, "10*9/L")
        .lab(p, "777-3", -5, 200.0, "10*9/L")
        .lab_uln(p, "1975-2", -5, 10.0, "umol/L", 21.0)
        .lab_uln(p, "1920-8", -5, 20.0, "U/L", 35.0)
        .lab_uln(p, "1742-6", -5, 20.0, "U/L", 45.0)
        .lab(p, "98979-8", -5, 90.0, "mL/min/{1.73_m2}")
        .lab(p, "8636-3", -5, 420.0, "ms")
        .lab(p, "10230-1", -5, 60.0, "%");
    p
}

/// The fixture: 25 patients in five groups.
/// - A, 6: complete                                    -> eligible
/// - B, 5: complete but ECOG 3 the day before idx     -> fail I2 only
/// - C, 4: complete but no haemoglobin                 -> I4b unknown only: possibly eligible
/// - D, 3: complete but ECOG 3 and Hb 8 g/dL           -> fail I2 and I4b
/// - E, 7: complete but died 10 days before idx        -> fail D0 only
fn fixture() -> Fixture {
    let mut x = Fixture::new();
    for _ in 0..6 {
        complete(&mut x);
    }
    for _ in 0..5 {
        let p = complete(&mut x);
        x.obs_num(p, "89247-1", -1, 3.0);
    }
    for _ in 0..4 {
        without_haemoglobin(&mut x);
    }
    for _ in 0..3 {
        let p = complete(&mut x);
        x.obs_num(p, "89247-1", -1, 3.0)
            .lab(p, "718-7", -1, 8.0, "g/dL");
    }
    for _ in 0..7 {
        let p = complete(&mut x);
        x.person_mut(p).death = Some(x.index - 10);
    }
    x
}

fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .map(str::to_string)
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn row<'a>(
    rows: &'a [HashMap<String, String>],
    key: &str,
    value: &str,
) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| r.get(key).map(String::as_str) == Some(value))
        .unwrap_or_else(|| panic!("no row with {key} = {value}"))
}

#[test]
fn attrition_criteria_and_cohorts_worked_out_by_hand() {
    let x = fixture();
    let results = x.run(&[]);
    let out = &results.out;

    // Attrition in definition order (D0, I1a, I1b, I1c, I2, I4a, I4b, ...): remaining possibly
    // eligible 25 -> 18 after D0 (E out) -> 10 after I2 (B and D out); remaining eligible also
    // drops to 6 at I4b, where C's unknown stops them from being certain.
    let attrition = read_csv(&out.join("attrition.csv"));
    let step = |id: &str| row(&attrition, "criterion", id);
    assert_eq!(step("all patients")["remaining_eligible"], "25");
    assert_eq!(step("D0")["remaining_possibly_eligible"], "18");
    assert_eq!(step("D0")["excluded"], "7");
    assert_eq!(step("I2")["remaining_possibly_eligible"], "10");
    assert_eq!(step("I2")["remaining_eligible"], "10");
    assert_eq!(step("I2")["excluded"], "8");
    assert_eq!(step("I4b")["remaining_eligible"], "6");
    assert_eq!(step("I4b")["remaining_possibly_eligible"], "10");
    assert_eq!(step("I4b")["excluded"], "0");
    assert_eq!(step("E12")["remaining_eligible"], "6");
    assert_eq!(step("E12")["remaining_possibly_eligible"], "10");

    // Per criterion: D0 fails E (7), sole exclusion for all 7, relaxing it makes them eligible.
    // I2 fails B and D (8); only B fails it alone (5); relaxing it makes B eligible (5).
    // I4b fails D (3), unknown for C (4); no one fails it alone; relaxing it makes C eligible.
    let criteria = read_csv(&out.join("criteria.csv"));
    let c = |id: &str| row(&criteria, "id", id);
    assert_eq!(
        (c("D0")["pass"].as_str(), c("D0")["fail"].as_str()),
        ("18", "7")
    );
    assert_eq!(c("D0")["sole_exclusions"], "7");
    assert_eq!(c("D0")["gain_if_relaxed"], "7");
    assert_eq!(
        (c("I2")["pass"].as_str(), c("I2")["fail"].as_str()),
        ("17", "8")
    );
    assert_eq!(c("I2")["sole_exclusions"], "5");
    assert_eq!(c("I2")["gain_if_relaxed"], "5");
    assert_eq!(c("I4b")["pass"], "18");
    assert_eq!(c("I4b")["fail"], "3");
    assert_eq!(c("I4b")["unknown"], "4");
    assert_eq!(c("I4b")["sole_exclusions"], "0");
    assert_eq!(c("I4b")["gain_if_relaxed"], "4");
    assert_eq!(c("E12")["pass"], "25");
    assert_eq!(c("E12")["n/a"], "0");

    // The cohort: all 25 carry BRAF V600E in colorectal cancer. Eligible 6 (A), possibly 4 (C).
    // Fixture period: the index dates (all 2025-06-01), one day = 1/365.25 year, so accrual is
    // 6 x 365.25 = 2191.5 a year and stage 1 (8) fills in 8 / (2191.5 / 12) = 0.04 months.
    let cohorts = read_csv(&out.join("cohorts.csv"));
    let vem = row(&cohorts, "id", "VEM-BRAF-CRC");
    assert_eq!(vem["matched"], "25");
    assert_eq!(vem["eligible"], "6");
    assert_eq!(vem["possibly_eligible"], "4");
    assert_eq!(vem["reachable"], "yes");
    // No other cohort matches: BRAF V600E colorectal is only in VEM-BRAF-CRC.
    for other in cohorts.iter().filter(|r| r["id"] != "VEM-BRAF-CRC") {
        assert_eq!(other["matched"], "0", "{}", other["id"]);
    }

    // Patient level agrees: status per group.
    let status = |p: i64| results.get(p, "status").unwrap();
    assert_eq!(status(1), "eligible");
    assert_eq!(status(7), "ineligible");
    assert_eq!(status(12), "possibly eligible");
    assert_eq!(status(16), "ineligible");
    assert_eq!(status(19), "ineligible");
    assert_eq!(results.get(1, "VEM-BRAF-CRC").as_deref(), Some("eligible"));
    assert_eq!(
        results.get(12, "VEM-BRAF-CRC").as_deref(),
        Some("possibly eligible")
    );
}

#[test]
fn same_inputs_give_byte_identical_csvs_at_any_thread_count() {
    let x = fixture();
    let one = x.run(&["--threads", "1"]);
    let two = x.run(&["--threads", "2"]);
    assert_same_csvs(&one.out, &two.out, "between 1 and 2 threads");
}

/// Every published CSV is byte-identical in the two output folders.
fn assert_same_csvs(a: &Path, b: &Path, what: &str) {
    for file in [
        "attrition.csv",
        "criteria.csv",
        "cohorts.csv",
        "strata.csv",
        "data_quality.csv",
    ] {
        let left = std::fs::read(a.join(file)).unwrap();
        let right = std::fs::read(b.join(file)).unwrap();
        assert!(left == right, "{file} differs {what}");
    }
}

/// `restricted/masks.parquet` (the mask table, counted by sorting packed outcomes) against
/// `restricted/patients.parquet` (each patient's own outcome words), two outputs computed apart:
/// per general criterion and outcome, the population rows' patients add up to the patients with
/// that outcome; per cohort, its rows' patients to the patients matched to it. Partitions of 4
/// patients, so the table is counted across several.
#[test]
fn restricted_mask_table_adds_up_to_the_patient_file() {
    let x = fixture();
    let results = x.run(&["--partition-patients", "4"]);
    let masks = common::read_masks(&results.out.join("restricted/masks.parquet"));
    let patients = &results.patients;
    let population = masks.iter().filter(|(row, _)| row["cohort"].is_none());
    assert_eq!(population.clone().map(|(_, n)| n).sum::<u64>(), 25);
    let criteria = ["I1a", "I4b", "I7", "E2a"];
    let words = ["pass", "fail", "unknown", "n/a"];
    let mut checked = 0;
    for criterion in criteria {
        for word in words {
            let counted: u64 = population
                .clone()
                .filter(|(row, _)| row[criterion].as_deref() == Some(word))
                .map(|(_, n)| n)
                .sum();
            let listed = patients
                .values()
                .filter(|p| p[criterion].as_deref() == Some(word))
                .count() as u64;
            assert_eq!(counted, listed, "{criterion} {word}");
            checked += counted;
        }
    }
    assert_eq!(
        checked,
        4 * 25,
        "every patient has one outcome per criterion"
    );
    let cohorts: std::collections::BTreeSet<String> = masks
        .iter()
        .filter_map(|(row, _)| row["cohort"].clone())
        .collect();
    assert!(cohorts.contains("VEM-BRAF-CRC"), "{cohorts:?}");
    for cohort in &cohorts {
        let counted: u64 = masks
            .iter()
            .filter(|(row, _)| row["cohort"].as_deref() == Some(cohort.as_str()))
            .map(|(_, n)| n)
            .sum();
        let matched = patients.values().filter(|p| p[cohort].is_some()).count() as u64;
        assert_eq!(counted, matched, "{cohort}");
    }
}

#[test]
fn partitions_of_a_few_patients_give_the_same_reports_and_patients() {
    // 25 patients in partitions of 4 (seven person_id ranges): the mask table adds up across
    // partitions, and the restricted patient file is the same rows in the same order.
    let x = fixture();
    let whole = x.run(&[]);
    let parts = x.run(&["--partition-patients", "4"]);
    assert_same_csvs(&whole.out, &parts.out, "with partitions of 4 patients");
    assert_eq!(whole.patients, parts.patients);
    // Partitions are evaluated four at a time, yet written in person_id order, every patient
    // once.
    let mut ids: Vec<i64> = whole.patients.keys().copied().collect();
    ids.sort_unstable();
    assert_eq!(ids.len(), 25);
    let patients = |out: &Path| common::person_order(&out.join("restricted/patients.parquet"));
    assert_eq!(patients(&parts.out), ids);
    assert_eq!(patients(&whole.out), ids);
    // the fixture's groups, by hand: A eligible (6), C possibly eligible (4), B, D, E ineligible
    let status = |s: &str| {
        parts
            .patients
            .values()
            .filter(|p| p.get("status").cloned().flatten().as_deref() == Some(s))
            .count()
    };
    assert_eq!(
        (
            status("eligible"),
            status("possibly eligible"),
            status("ineligible")
        ),
        (6, 4, 15)
    );
}

/// Every table in row groups of three rows, so that partitions of four patients begin and end
/// inside row groups of the person table and the others: each partition takes its rows of a row
/// group across its bounds (decoded once for all of them, `extract::row_groups`), and the
/// reports and patients are those of one partition, whose counts are worked out by hand above.
#[test]
fn row_groups_across_partition_bounds_give_the_same_reports_and_patients() {
    let mut x = fixture();
    let whole = x.run(&[]);
    x.row_group_rows = Some(3);
    let parts = x.run(&["--partition-patients", "4"]);
    assert_same_csvs(&whole.out, &parts.out, "in row groups of 3 rows");
    assert_eq!(whole.patients, parts.patients);
    let patients = |out: &Path| common::person_order(&out.join("restricted/patients.parquet"));
    assert_eq!(patients(&parts.out), (1..=25).collect::<Vec<i64>>());
}

/// A variant counts with a test of its own patient only, whichever partitions hold the two:
/// patient 26 is complete but for its own test, and its BRAF V600E names patient 1's test
/// (`T1-1`, in the first partition of 4 patients; 26 is in the seventh). In one partition or
/// seven, 26 is matched to no cohort, every report is the same, and the data quality report
/// counts its test id as the one orphan of `variant.test_id` (shown as "<3", below the minimum
/// cell of 3, where none would be "0", as `variant.person_id`'s are).
#[test]
fn a_variant_naming_another_patients_test_counts_in_no_partition() {
    let mut x = fixture();
    let p = untested(&mut x);
    x.lab(p, "718-7", -5, 12.0, "g/dL");
    x.variant(p, "T1-1", "BRAF", "snv", Some("V600E"), Some(0.3));
    assert_eq!(p, 26);
    let whole = x.run(&[]);
    let parts = x.run(&["--partition-patients", "4"]);
    assert_same_csvs(&whole.out, &parts.out, "with partitions of 4 patients");
    assert_eq!(whole.patients, parts.patients);
    for results in [&whole, &parts] {
        assert_eq!(results.get(p, "VEM-BRAF-CRC"), None);
        assert!(results.get(1, "VEM-BRAF-CRC").is_some());
        let quality = read_csv(&results.out.join("data_quality.csv"));
        let test_ids = quality
            .iter()
            .find(|r| r["table"] == "variant" && r["column"] == "test_id")
            .unwrap();
        assert_eq!(test_ids["orphan_rows"], "<3");
        let persons = quality
            .iter()
            .find(|r| r["table"] == "variant" && r["column"] == "person_id")
            .unwrap();
        assert_eq!(persons["orphan_rows"], "0");
    }
}
