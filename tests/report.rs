//! Reports from hand-built mask tables: every expected number below is worked out by hand in the
//! comments, from the semantics in product.md and impress-norway.md.

mod support;

use std::collections::BTreeMap;

use eligo::report::disclosure::{Leak, Ledger};
use eligo::report::{self, attrition, Disclosure, ReportError};
use support::*;

/// The worked example: criteria A, B, C; 70 patients in 8 outcome patterns.
///
/// | pattern (A B C) | patients | stratum | status |
/// |---|---|---|---|
/// | P P P | 10 + 10 | S0, S1 | eligible |
/// | P P U | 10 | S0 | possibly eligible |
/// | F P P | 6 | S1 | ineligible (sole A) |
/// | P F P | 5 | S0 | ineligible (sole B) |
/// | U P P | 7 | S1 | possibly eligible |
/// | F F P | 8 | S0 | ineligible |
/// | N P P | 5 | S1 | eligible (n/a counts as pass) |
/// | P U F | 9 | S1 | ineligible (sole C) |
///
/// Eligible 20 + 5 = 25; possibly 10 + 7 = 17; ineligible 6 + 5 + 8 + 9 = 28.
fn worked() -> Fixture {
    let mut f = Fixture::new(&["A", "B", "C"]);
    f.cohort("X", &["E9"], &[8, 24], 2);
    f.cohort("Y", &["I3"], &[8, 24], 8);
    for (stratum, pattern, n) in [
        (0, "PPP", 10),
        (1, "PPP", 10),
        (0, "PPU", 10),
        (1, "FPP", 6),
        (0, "PFP", 5),
        (1, "UPP", 7),
        (0, "FFP", 8),
        (1, "NPP", 5),
        (1, "PUF", 9),
    ] {
        f.patients(None, stratum, pattern, n);
    }
    // Cohort X (general A B C, then E9), stages 8/24, 2 enrolled.
    f.patients(Some(0), 0, "PPPP", 12); // eligible
    f.patients(Some(0), 0, "PPUP", 6); // possibly eligible
    f.patients(Some(0), 1, "PPPF", 5); // E9 fails
    f.patients(Some(0), 1, "FPPP", 7); // A fails
                                       // Cohort Y (then I3), stages 8/24 with 8 enrolled: stage 1 full, stage 2 open.
    f.patients(Some(1), 1, "PPPF", 6);
    f
}

#[test]
fn attrition_by_hand_in_definition_order() {
    let f = worked();
    let csv = f.csv(Disclosure::default(), "attrition.csv");
    // Step A: 14 fail (FPP 6 + FFP 8) -> 56 possibly left; A passes or is n/a for 70-14-7 = 49.
    // Step B: PFP 5 newly fail -> 51; of the 49, PFP 5 and PUF 9 do not pass B -> 35.
    // Step C: PUF 9 fail -> 42 (= 25 eligible + 17 possibly); PPU 10 drops from eligible -> 25.
    assert_eq!(
        csv,
        "step,criterion,text,remaining_eligible,remaining_possibly_eligible,excluded\n\
         0,all patients,,70,70,\n\
         1,A,A text,49,56,14\n\
         2,B,B text,35,51,5\n\
         3,C,C text,25,42,9\n"
    );
}

#[test]
fn attrition_in_another_order() {
    let f = worked();
    let steps = attrition(&f.masks(), &[2, 1, 0]).unwrap();
    let got: Vec<(u64, u64, u64)> = steps
        .iter()
        .map(|s| {
            (
                s.remaining_eligible,
                s.remaining_possibly_eligible,
                s.excluded,
            )
        })
        .collect();
    // C first: 9 fail (PUF) -> 61; C passes for 70 - 9 - 10 (PPU) = 51.
    // Then B: PFP 5 + FFP 8 fail -> 48; of the 51, PFP and FFP do not pass B -> 38.
    // Then A: FPP 6 fail -> 42; FPP 6 and UPP 7 do not pass A -> 25.
    assert_eq!(got, [(70, 70, 0), (51, 61, 9), (38, 48, 13), (25, 42, 6)]);
    assert!(matches!(
        attrition(&f.masks(), &[3]),
        Err(ReportError::MaskShape(_))
    ));
}

#[test]
fn criteria_sole_exclusions_and_gain_if_relaxed() {
    let f = worked();
    let rows = rows(&f.csv(Disclosure::default(), "criteria.csv"));
    let get = |id: &str| {
        let r = rows.iter().find(|r| r["id"] == id).unwrap();
        [
            "pass",
            "fail",
            "unknown",
            "n/a",
            "sole_exclusions",
            "gain_if_relaxed",
        ]
        .map(|c| r[c].clone())
    };
    // A: pass PPP20+PPU10+PFP5+PUF9 = 44; fail FPP6+FFP8 = 14; unknown UPP 7; n/a NPP 5.
    //    sole: FPP 6 (FFP also fails B). gain: FPP 6 + UPP 7 = 13 (B and C pass).
    assert_eq!(get("A"), ["44", "14", "7", "5", "6", "13"]);
    // B: pass 20+10+6+7+5 = 48; fail PFP5+FFP8 = 13; unknown PUF 9. sole: PFP 5. gain: PFP 5
    //    (PUF has C failing).
    assert_eq!(get("B"), ["48", "13", "9", "0", "5", "5"]);
    // C: pass 20+6+5+7+8+5 = 51; fail PUF 9; unknown PPU 10. sole: PUF 9 (B is only unknown).
    //    gain: PPU 10 (PUF has B unknown, so relaxing C alone does not make it eligible).
    assert_eq!(get("C"), ["51", "9", "10", "0", "9", "10"]);
    // Not-assessable criteria are listed with their reason and no counts.
    let i12 = rows.iter().find(|r| r["id"] == "I12").unwrap();
    assert_eq!(
        (i12["assessable"].as_str(), i12["fail"].as_str()),
        ("no", "")
    );
    assert_eq!(
        i12["not_assessable_reason"],
        "no consent data in a registry"
    );
    assert_eq!(
        rows.iter().find(|r| r["id"] == "A").unwrap()["missing_rule"],
        "unknown"
    );
}

#[test]
fn cohorts_accrual_and_months_to_fill() {
    let f = worked();
    let rows = rows(&f.csv(Disclosure::default(), "cohorts.csv"));
    let x = &rows[0];
    // The period 2020-01-01..2023-12-31 is 1461 days = 4.0 years.
    // X: matched 12+6+5+7 = 30, eligible 12 (3.0/year), possibly 6 (1.5/year).
    // Stage 1: 8 - 2 enrolled = 6 at 3/12 a month = 24.0 months; stage 2: 22 / 0.25 = 88.0.
    // With possible, 18/4 = 4.5 a year = 0.375 a month: 6/0.375 = 16.0; 22/0.375 = 58.67.
    // Next open stage is stage 1, 24.0 <= 24 months horizon: reachable.
    // Most fails among matched: A with 7 (E9 has 5).
    let expect_x: BTreeMap<&str, &str> = [
        ("matched", "30"),
        ("eligible", "12"),
        ("possibly_eligible", "6"),
        ("eligible_per_year", "3.0"),
        ("possibly_per_year", "1.5"),
        ("stages", "8;24"),
        ("enrolled", "2"),
        ("months_to_stage1", "24.0"),
        ("months_to_stage2", "88.0"),
        ("months_to_stage1_with_possible", "16.0"),
        ("months_to_stage2_with_possible", "58.7"),
        ("next_stage", "stage 1"),
        ("reachable", "yes"),
        ("top_excluding_criterion", "A"),
        ("drug", "drug-a"),
    ]
    .into();
    for (column, value) in expect_x {
        assert_eq!(x[column], value, "cohort X, {column}");
    }
    // Y: 6 matched, nobody eligible: 0.0 a year. Stage 1 is full (0.0 months); stage 2 needs 16
    // at no accrual: never (empty cell), so not reachable. I3 fails all 6.
    let y = &rows[1];
    for (column, value) in [
        ("matched", "6"),
        ("eligible", "0"),
        ("eligible_per_year", "0.0"),
        ("months_to_stage1", "0.0"),
        ("months_to_stage2", ""),
        ("next_stage", "stage 2"),
        ("reachable", "no"),
        ("top_excluding_criterion", "I3"),
    ] {
        assert_eq!(y[column], value, "cohort Y, {column}");
    }
}

#[test]
fn strata_add_up_to_totals() {
    let f = worked();
    let csv = f.csv(Disclosure::default(), "strata.csv");
    // S0: PPP10 PPU10 PFP5 FFP8 = 33 patients, 10 eligible, 10 possibly.
    // S1: PPP10 FPP6 UPP7 NPP5 PUF9 = 37 patients, 10+5 = 15 eligible, 7 possibly.
    assert!(csv.starts_with(
        "dimension,value,patients,eligible,possibly_eligible\nall,all,70,25,17\n\
         region,North,33,10,10\nregion,South,37,15,7\n"
    ));
    assert!(csv.contains("age_band,60-69,33,10,10\nage_band,70-79,37,15,7\n"));
}

#[test]
fn a_stratum_of_three_and_its_sibling_are_suppressed() {
    // One criterion, everyone passes. Regions: 3 (North), 40 (South), 30 (West).
    // North's 3 is shown as <5; otherwise 73 - 40 - 30 = 3 recovers it, so the smallest
    // non-zero sibling (West, 30) is suppressed too. Eligible splits the same way.
    let mut f = Fixture::new(&["A"]);
    f.stratum("North");
    f.stratum("South");
    f.stratum("West");
    f.patients(None, 2, "P", 3);
    f.patients(None, 3, "P", 40);
    f.patients(None, 4, "P", 30);
    let csv = f.csv(Disclosure::default(), "strata.csv");
    assert!(
        csv.contains(
            "all,all,73,73,0\nregion,North,<5,<5,0\nregion,South,40,40,0\n\
             region,West,suppressed,suppressed,0\n"
        ),
        "{csv}"
    );
    // The rule is stated.
    let html = f.render(Disclosure::default())["report.html"].clone();
    assert!(
        html.contains("from 1 to 4 are shown as &lt;5"),
        "rule missing"
    );
}

#[test]
fn attacker_catches_a_leaky_waterfall() {
    // A waterfall published with only primary suppression: 60 -> 57 (3 excluded, hidden) -> 50
    // (7 excluded). Anyone computes 60 - 57 = 3: the check must name the cell and the value.
    let mut ledger = Ledger::new();
    let r0 = ledger.cell("attrition.csv: step 0, remaining", 60);
    let r1 = ledger.cell("attrition.csv: step 1, remaining", 57);
    let x1 = ledger.cell("attrition.csv: step 1, excluded", 3);
    let r2 = ledger.cell("attrition.csv: step 2, remaining", 50);
    let x2 = ledger.cell("attrition.csv: step 2, excluded", 7);
    ledger.difference(r0, r1, x1);
    ledger.difference(r1, r2, x2);
    ledger.suppress_primary(5);
    let k5 = Disclosure::default();
    assert_eq!(
        ledger.attack(k5),
        Err(Leak {
            cell: "attrition.csv: step 1, excluded".into(),
            value: 3
        })
    );
    // The full procedure hides enough that nothing is pinned.
    ledger.suppress(k5).unwrap();
    assert_eq!(ledger.attack(k5), Ok(()));
}

#[test]
fn rounding_to_base_five() {
    let f = worked();
    let d = Disclosure {
        min_cell: 5,
        round: 5,
    };
    // 70 -> 70, 25 -> 25, 17 -> 15 (nearest multiple of 5), 28 -> 30.
    let csv = f.csv(d, "strata.csv");
    assert!(
        csv.starts_with("dimension,value,patients,eligible,possibly_eligible\nall,all,70,25,15\n")
    );
    let attr = f.csv(d, "attrition.csv");
    // 49 -> 50, 56 -> 55, 14 -> 15; 35, 51 -> 50, 5; 25, 42 -> 40, 9 -> 10.
    assert!(attr.contains("1,A,A text,50,55,15\n2,B,B text,35,50,5\n3,C,C text,25,40,10\n"));
    let html = f.render(d)["report.html"].clone();
    assert!(html.contains("rounded to the nearest multiple of 5"));
    // Cohort accrual from the rounded count: 12 -> 10 eligible over 4 years = 2.5 a year.
    assert_eq!(
        rows(&f.csv(d, "cohorts.csv"))[0]["eligible_per_year"],
        "2.5"
    );
}

#[test]
fn disclosure_settings_are_checked() {
    let f = worked();
    let err = f
        .build(Disclosure {
            min_cell: 2,
            round: 1,
        })
        .unwrap_err();
    assert!(matches!(err, ReportError::MinCell(2)), "{err}");
    assert!(err.is_usage(), "a bad --min-cell is a usage error (exit 2)");
    // Base 3 with k 5 could round a 5 down to 3: refused.
    let err = f
        .build(Disclosure {
            min_cell: 5,
            round: 3,
        })
        .unwrap_err();
    assert!(matches!(err, ReportError::Round { .. }), "{err}");
    assert!(f
        .build(Disclosure {
            min_cell: 3,
            round: 1
        })
        .is_ok());
}

#[test]
fn html_numbers_agree_with_the_csvs() {
    let f = worked_with_small_counts();
    let files = f.render(Disclosure::default());
    let html = &files["report.html"];
    let cells = html_cells(html);
    let mut checked = 0;
    for r in rows(&files["attrition.csv"]) {
        for c in [
            "remaining_eligible",
            "remaining_possibly_eligible",
            "excluded",
        ] {
            assert_eq!(cells[&format!("attrition/{}/{c}", r["step"])], r[c]);
            checked += 1;
        }
    }
    for r in rows(&files["criteria.csv"])
        .iter()
        .filter(|r| r["assessable"] == "yes")
    {
        for c in [
            "pass",
            "fail",
            "unknown",
            "n/a",
            "sole_exclusions",
            "gain_if_relaxed",
        ] {
            assert_eq!(cells[&format!("criteria/{}/{c}", r["id"])], r[c]);
            checked += 1;
        }
    }
    for r in rows(&files["cohorts.csv"]) {
        for c in [
            "matched",
            "eligible",
            "possibly_eligible",
            "eligible_per_year",
            "reachable",
        ] {
            assert_eq!(cells[&format!("cohorts/{}/{c}", r["id"])], r[c]);
            checked += 1;
        }
    }
    for r in rows(&files["strata.csv"]) {
        if r["dimension"] == "all" {
            assert_eq!(cells["headline/patients"], r["patients"]);
            assert_eq!(cells["headline/eligible"], r["eligible"]);
            assert_eq!(cells["headline/possibly_eligible"], r["possibly_eligible"]);
            continue;
        }
        for c in ["patients", "eligible", "possibly_eligible"] {
            let key = format!("strata/{}={}/{c}", r["dimension"], r["value"]);
            assert_eq!(cells[&key], r[c], "{key}");
            checked += 1;
        }
    }
    // Every data-cell was compared (headline aside).
    assert_eq!(checked + 4, cells.len());
    assert!(
        html.contains("&lt;5"),
        "the small counts are suppressed in the HTML too"
    );
    // Self-contained: no scripts, no links to fetch (the SVG namespace is a name, not a fetch).
    let fetchable = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for banned in [
        "<script", "http://", "https://", "<link", "@import", "url(", "src=",
    ] {
        assert!(!fetchable.contains(banned), "report.html contains {banned}");
    }
}

#[test]
fn outputs_are_byte_identical_whatever_the_row_order() {
    let f = worked_with_small_counts();
    let a = f.render(Disclosure::default());
    let mut g = f.clone();
    g.reverse_rows();
    let b = g.render(Disclosure::default());
    for name in [
        "attrition.csv",
        "criteria.csv",
        "cohorts.csv",
        "strata.csv",
        "data_quality.csv",
        "report.html",
    ] {
        assert_eq!(a[name], b[name], "{name}");
    }
}

#[test]
fn write_commit_and_diff() {
    // Also leaves a sample for tests/browser/render.sh when ELIGO_SAMPLE_REPORT is set.
    if let Some(dir) = std::env::var_os("ELIGO_SAMPLE_REPORT") {
        worked_with_small_counts().write_to(std::path::Path::new(&dir), Disclosure::default());
    }
    let root = tempfile::tempdir().unwrap();
    let target = root.path().join("reports");
    let f = worked();
    let old = root.path().join("old");
    f.write_to(&old, Disclosure::default());
    // Tonight: 10 more PPP patients in cohort X's population and X's eligible; A fails 4 more.
    let mut g = worked();
    g.patients(None, 0, "PPP", 10);
    g.patients(None, 0, "FPP", 4);
    g.patients(Some(0), 0, "PPPP", 10);
    g.write_to(&target, Disclosure::default());
    let manifest = std::fs::read_to_string(target.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"min_cell\": 5"));
    assert!(manifest.contains("\"stage\": \"report\""));
    let text = report::diff(&old, &target).unwrap();
    // Eligible 25 -> 35; patients 70 -> 84; A fails 14 -> 18; X eligible 12 -> 22.
    assert!(text.contains("patients: 70 → 84 (+14)"), "{text}");
    assert!(text.contains("eligible: 25 → 35 (+10)"), "{text}");
    assert!(text.contains("A: fail 14 → 18 (+4)"), "{text}");
    assert!(
        text.contains("X: matched 30 → 40 (+10); eligible 12 → 22 (+10)"),
        "{text}"
    );
    std::fs::remove_file(old.join("cohorts.csv")).unwrap();
    let err = report::diff(&old, &target).unwrap_err().to_string();
    assert!(err.contains("cohorts.csv"), "{err}");
}

/// The worked example plus small counts: a region East with 2 eligible and 3 possibly eligible
/// patients, and a cohort Z with 3 matched.
fn worked_with_small_counts() -> Fixture {
    let mut f = worked();
    let east = f.stratum("East");
    f.patients(None, east, "PPP", 2);
    f.patients(None, east, "PPU", 3);
    f.cohort("Z", &["E11"], &[8, 24], 0);
    f.patients(Some(2), east, "PPPP", 3);
    f
}

#[test]
fn summary_markdown_for_stdout() {
    let md = worked()
        .build(Disclosure::default())
        .unwrap()
        .summary_markdown();
    // Headline of the worked example; A fails most (14), then B (13), then C (9).
    assert!(md.contains("| all patients | 70 |\n| eligible | 25 |\n| possibly eligible | 17 |\n| ineligible | 28 |"), "{md}");
    assert!(
        md.contains("**Excluding most:** A (14 fail), B (13 fail), C (9 fail)"),
        "{md}"
    );
    assert!(
        md.contains("**Cohorts reachable within 24 months:** X"),
        "{md}"
    );
    assert!(md.contains("**Not reachable:** Y"), "{md}");
    assert!(md.contains("shown as <5"), "{md}");
}

#[test]
fn diff_command_names_a_missing_file() {
    let root = tempfile::tempdir().unwrap();
    let (old, new) = (root.path().join("old"), root.path().join("new"));
    worked().write_to(&old, Disclosure::default());
    worked().write_to(&new, Disclosure::default());
    let out = assert_cmd::Command::cargo_bin("eligo")
        .unwrap()
        .args(["diff", old.to_str().unwrap(), new.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    // Same inputs: nothing changed.
    assert!(text.contains("patients: 70 → 70 (+0)"), "{text}");
    assert!(
        text.contains("criteria (fail, unknown)\n  no change"),
        "{text}"
    );
    std::fs::remove_file(new.join("manifest.json")).unwrap();
    let out = assert_cmd::Command::cargo_bin("eligo")
        .unwrap()
        .args(["diff", old.to_str().unwrap(), new.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("manifest.json"));
}

/// An IMPRESS-sized example for looking at the HTML (22 criteria, 8 cohorts, 4 regions):
/// `ELIGO_LARGE_SAMPLE=dir cargo test --test report large_sample`, then tests/browser/render.sh.
#[test]
fn large_sample() {
    let ids = [
        "D0", "I1a", "I1b", "I1c", "I2", "I4a", "I4b", "I4c", "I4d", "I4e", "I4f", "I4g", "I5",
        "I6", "I7", "E2a", "E2b", "E3", "E4", "E5", "E10", "E12",
    ];
    let mut f = Fixture::new(&ids);
    let regions = [f.stratum("Central"), f.stratum("West"), 0, 1];
    let mut seed = 7u64;
    let mut next = |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    for _ in 0..400 {
        let pattern: String = (0..ids.len())
            .map(|_| match next(100) {
                0..=87 => 'P',
                88..=93 => 'F',
                94..=98 => 'U',
                _ => 'N',
            })
            .collect();
        let region = regions[next(4) as usize];
        f.patients(None, region, &pattern, 1 + next(12));
    }
    for c in 0..8 {
        let id = format!("C{:02}", c + 1);
        f.cohort(&id, &["I3", "E9", "E11"], &[8, 24], (c % 3) as u32 * 4);
        for _ in 0..(c * 3) {
            let pattern: String = (0..ids.len() + 3)
                .map(|_| if next(100) < 92 { 'P' } else { 'U' })
                .collect();
            f.patients(Some(c), 0, &pattern, 1 + next(6));
        }
    }
    let files = f.render(Disclosure::default());
    // The waterfall ends at the headline's eligible count, whatever was suppressed.
    let attr = rows(&files["attrition.csv"]);
    let strata = rows(&files["strata.csv"]);
    assert_eq!(attr.len(), ids.len() + 1);
    assert_eq!(attr[ids.len()]["remaining_eligible"], strata[0]["eligible"]);
    if let Some(dir) = std::env::var_os("ELIGO_LARGE_SAMPLE") {
        f.write_to(std::path::Path::new(&dir), Disclosure::default());
    }
}

#[test]
fn data_quality_rows_are_suppressed_like_every_count() {
    // person: 70 rows, 2 null sexes (shown <5); measurement absent, 0 rows, no column findings.
    assert_eq!(
        worked().csv(Disclosure::default(), "data_quality.csv"),
        "table,present,column,rows,nulls,out_of_domain,unconvertible_units,orphan_rows\n\
         person,yes,sex,70,<5,0,0,0\n\
         measurement,no,,0,,,,\n"
    );
}

#[test]
fn inputs_that_do_not_fit_are_errors_not_panics() {
    // A mask row with two outcomes where the definition has three criteria.
    let mut f = worked();
    f.patients(None, 0, "PP", 5);
    let err = f.build(Disclosure::default()).unwrap_err();
    assert!(matches!(err, ReportError::MaskShape(_)), "{err}");
    // Criteria ids that differ from the definition's.
    let (mut masks, def) = (worked().masks(), worked().definition());
    masks.criteria[1] = "Bx".into();
    let quality = worked().quality();
    let run = worked().run();
    let mut backwards = run.clone();
    std::mem::swap(&mut backwards.period_start, &mut backwards.period_end);
    let manifest = report::Manifest::new(&def, &run);
    let input = |masks, run| report::ReportInput {
        definition: &def,
        masks,
        quality: &quality,
        run,
        disclosure: Disclosure::default(),
        manifest: &manifest,
    };
    let err = report::build(&input(&masks, &run)).unwrap_err().to_string();
    assert!(err.contains("Bx"), "{err}");
    // A period that ends before it starts.
    let err = report::build(&input(&worked().masks(), &backwards)).unwrap_err();
    assert!(matches!(err, ReportError::Period { .. }), "{err}");
}

#[test]
fn manifest_records_inputs_with_size_and_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (b, a) = (
        dir.path().join("person.parquet"),
        dir.path().join("diagnosis.parquet"),
    );
    std::fs::write(&b, b"abc").unwrap();
    std::fs::write(&a, b"").unwrap();
    let f = worked();
    let mut manifest = report::Manifest::new(&f.definition(), &f.run());
    manifest.add_input(&b).unwrap();
    manifest.add_input(&a).unwrap();
    // Sorted by path; blake3("abc") and blake3("") from the reference test vectors.
    let got: Vec<(u64, &str)> = manifest
        .inputs
        .iter()
        .map(|i| (i.bytes, i.blake3.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                0,
                "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
            ),
            (
                3,
                "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
            ),
        ]
    );
    let err = manifest
        .add_input(&dir.path().join("variant.parquet"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("variant.parquet"), "{err}");
}

#[test]
fn the_last_step_does_not_reveal_gain_if_relaxed() {
    // A, B; PP x40, PU x3, UP x20, FP x10. The last step's drop in remaining eligible,
    // 43 (A passes) - 40 (eligible), is exactly B's gain if relaxed (3, shown <5): the two
    // remaining-eligible counts of steps 1 and 2 must not both be published. (Possibly
    // eligible, 23, is large, so nothing else hides them by chance.)
    let mut f = Fixture::new(&["A", "B"]);
    f.patients(None, 0, "PP", 40);
    f.patients(None, 0, "PU", 3);
    f.patients(None, 0, "UP", 20);
    f.patients(None, 0, "FP", 10);
    let files = f.render(Disclosure::default());
    let b = rows(&files["criteria.csv"])
        .into_iter()
        .find(|r| r["id"] == "B")
        .unwrap();
    assert_eq!(b["gain_if_relaxed"], "<5");
    let attr = rows(&files["attrition.csv"]);
    let shown = |v: &str| v.parse::<u64>().is_ok();
    assert!(
        !(shown(&attr[1]["remaining_eligible"]) && shown(&attr[2]["remaining_eligible"])),
        "{attr:?}"
    );
}
