//! Data-quality findings counted exactly on a crafted extract.

use arrow::array::ArrayRef;
use std::path::Path;
use std::sync::Arc;

use eligo::engine::{patient_outcomes_checked, Inputs};
use eligo::extract::findings::RowFindings;
use eligo::extract::ids::TestIds;
use eligo::extract::partition::split;
use eligo::extract::{Defer, Extract, Table};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use super::check;
use super::fixtures::*;

/// Null counts come from the Parquet footers' statistics where every file of a table records
/// them, else from a scan of the data: the same counts either way, over row groups, over a table
/// in two files, and where only one of the two files records them.
#[test]
fn null_counts_with_and_without_footer_statistics() {
    let recorded = || {
        WriterProperties::builder()
            .set_max_row_group_row_count(Some(2))
            .build()
    };
    let unrecorded = || {
        WriterProperties::builder()
            .set_statistics_enabled(EnabledStatistics::None)
            .build()
    };
    for (case, first, second) in [
        ("recorded", recorded(), recorded()),
        ("unrecorded", unrecorded(), unrecorded()),
        ("mixed", recorded(), unrecorded()),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut person = person(&[1, 2, 3, 4, 5]);
        person.push((
            "region",
            strs(&[None, Some("Vest"), None, None, Some("Nord")]),
        ));
        write_with(&d.join("person.parquet"), person, first.clone());
        // Measurements in two files: range_high has 2 + 1 nulls, range_low is not stored.
        let part = |ids: &[Option<i64>], high: &[Option<f64>]| {
            let mut m = measurement(ids);
            m.push(("range_high", floats(high)));
            m
        };
        write_with(
            &d.join("measurement/part-0.parquet"),
            part(&[Some(1), Some(2), Some(3)], &[None, Some(160.0), None]),
            first,
        );
        write_with(
            &d.join("measurement/part-1.parquet"),
            part(&[Some(4), Some(5)], &[Some(160.0), None]),
            second,
        );
        let extract = Extract::open(d).unwrap();
        let q = extract
            .validate(&eligo::progress::Progress::new(true), 1_000)
            .unwrap();
        let nulls = |t: Table, col: &str| {
            let t = q.tables.iter().find(|x| x.table == t).unwrap();
            t.columns.iter().find(|c| c.column == col).unwrap().nulls
        };
        assert_eq!(nulls(Table::Person, "region"), 3, "{case}");
        assert_eq!(nulls(Table::Person, "sex"), 0, "{case}");
        assert_eq!(nulls(Table::Measurement, "range_high"), 3, "{case}");
        assert_eq!(nulls(Table::Measurement, "range_low"), 5, "{case}");
        assert_eq!(nulls(Table::Measurement, "loinc"), 0, "{case}");
    }
}

/// An extract with a finding of every kind (see the comments), written to `d`.
fn findings_extract(d: &Path) {
    std::fs::write(
        d.join("extract.toml"),
        "registry = \"test\"\nperiod_start = 2022-01-01\nperiod_end = \"2024-12-31\"\n",
    )
    .unwrap();
    // person: sex X is out of domain; one region is null.
    write(
        &d.join("person.parquet"),
        vec![
            ("person_id", int_ids(&[1, 2, 3])),
            ("sex", texts(&["F", "M", "X"])),
            ("region", strs(&[Some("Vest"), None, Some("Nord")])),
        ],
    );
    // measurement: patient 9 is not in person (2 orphan rows); -2.0 is out of domain;
    // "furlong" is an unknown unit (U/mL is CA-125's unit and is known).
    write(
        &d.join("measurement.parquet"),
        vec![
            ("person_id", int_ids(&[1, 2, 9, 9, 3])),
            (
                "loinc",
                texts(&["718-7", "1975-2", "718-7", "718-7", "10334-1"]),
            ),
            ("date", dates(&["2024-01-01"; 5])),
            (
                "value",
                floats(&[Some(130.0), Some(-2.0), Some(3.0), Some(4.0), Some(35.0)]),
            ),
            ("unit", texts(&["g/L", "mg/dL", "furlong", "g/L", "U/mL"])),
            ("range_low", floats(&[Some(117.0); 5])),
            ("range_high", floats(&[Some(153.0); 5])),
        ],
    );
    // observation: ECOG 7 is out of domain, ECOG 1 is fine; extent "spread" is out of domain.
    write(
        &d.join("observation.parquet"),
        vec![
            ("person_id", int_ids(&[1, 2, 3])),
            ("code", texts(&["89247-1", "89247-1", "extent"])),
            ("date", dates(&["2024-01-01"; 3])),
            ("value_num", floats(&[Some(7.0), Some(1.0), None])),
            ("value_text", strs(&[None, None, Some("spread")])),
        ],
    );
    // molecular_test: method "guesswork" is out of domain; one specimen is null.
    let mut mt = molecular_test(&[(1, "T1"), (2, "T2")]);
    mt[2] = ("method", texts(&["ngs-panel", "guesswork"]));
    mt.push(("specimen", strs(&[None, Some("tissue-primary")])));
    mt.push(("approved_lab", bools(&[Some(true), None])));
    write(&d.join("molecular_test.parquet"), mt);
    // variant: test T9 is not in molecular_test, and T1 is not patient 3's (in another
    // partition where they hold one patient each); class "weird" and value -1 are out of domain.
    write(
        &d.join("variant.parquet"),
        vec![
            ("person_id", int_ids(&[1, 2, 3])),
            ("test_id", texts(&["T1", "T9", "T1"])),
            ("gene", texts(&["BRAF", "KRAS", "EGFR"])),
            ("class", texts(&["snv", "weird", "snv"])),
            ("value", floats(&[Some(0.4), Some(-1.0), Some(0.5)])),
            ("alteration", texts(&["V600E", "G12C", "L858R"])),
            ("tier", texts(&["I", "II", "I"])),
        ],
    );
}

#[test]
fn findings_are_counted_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    findings_extract(d);
    let extract = Extract::open(d).unwrap();
    // Partitions of one patient: orphan rows are counted per person_id range and add up.
    let q = extract
        .validate(&eligo::progress::Progress::new(true), 1)
        .unwrap();
    let c = |t: Table, col: &str| {
        let t = q.tables.iter().find(|x| x.table == t).unwrap();
        t.columns.iter().find(|c| c.column == col).unwrap().clone()
    };
    assert_eq!(c(Table::Person, "sex").out_of_domain, 1);
    assert_eq!(c(Table::Person, "region").nulls, 1);
    assert_eq!(c(Table::Person, "region").out_of_domain, 0);
    assert_eq!(c(Table::Measurement, "person_id").orphan_rows, 2);
    assert_eq!(c(Table::Measurement, "value").out_of_domain, 1);
    assert_eq!(c(Table::Measurement, "unit").unconvertible_units, 1);
    assert_eq!(c(Table::Observation, "value_num").out_of_domain, 1);
    assert_eq!(c(Table::Observation, "value_num").nulls, 1);
    assert_eq!(c(Table::Observation, "value_text").out_of_domain, 1);
    assert_eq!(c(Table::Observation, "value_text").nulls, 2);
    assert_eq!(c(Table::Observation, "person_id").orphan_rows, 0);
    assert_eq!(c(Table::MolecularTest, "method").out_of_domain, 1);
    assert_eq!(c(Table::MolecularTest, "specimen").nulls, 1);
    assert_eq!(c(Table::MolecularTest, "approved_lab").nulls, 1);
    assert_eq!(c(Table::Variant, "test_id").orphan_rows, 2);
    assert_eq!(c(Table::Variant, "class").out_of_domain, 1);
    assert_eq!(c(Table::Variant, "value").out_of_domain, 1);
    // Absent tables are listed with no rows.
    let treatment = q
        .tables
        .iter()
        .find(|x| x.table == Table::Treatment)
        .unwrap();
    assert!(!treatment.present);
    assert_eq!(treatment.rows, 0);
    // Set aside: 1 sex + 2 orphans + 1 value + 1 unit + 1 ECOG + 1 extent + 1 method
    // + 2 test orphans + 1 class + 1 variant value = 12.
    assert_eq!(q.findings(), 12);
    assert_eq!(extract.meta().registry.as_deref(), Some("test"));
    // A run leaves a table's value-by-value findings to evaluation, which counts them on each
    // partition's rows, where the footers give every null count (here every table present
    // but person: no diagnosis, no treatment). Summed, the same quality: with partitions of one
    // patient (a share of 5 / 3 measurements), of two, one of all (5 measurements, 3
    // observations); at most 2 rows per partition, measurements and observations are left to
    // it only in partitions of one, and in one partition of all the 3 variants are not: the
    // tests' ids are then read here, for the variants' checks, and not left to the run.
    let (m, o, t, v) = (
        Table::Measurement,
        Table::Observation,
        Table::MolecularTest,
        Table::Variant,
    );
    for (size, max_rows, expected) in [
        (1, 1_000, vec![m, o, t, v]),
        (2, 1_000, vec![m, o, t, v]),
        (1_000, 1_000, vec![m, o, t, v]),
        (1, 2, vec![m, o, t, v]),
        (1_000, 2, vec![t]),
    ] {
        let case = format!("partitions of {size}, at most {max_rows} rows");
        let run = extract
            .validate_for_run(
                &eligo::progress::Progress::new(true),
                size,
                Defer::Findings { max_rows },
            )
            .unwrap();
        let deferred: Vec<Table> = run.deferred.iter().map(|c| c.table()).collect();
        assert_eq!(deferred, expected, "{case}");
        // The specimens' dictionary holds only a contract value: that column is not read for
        // its domain. The methods' holds "guesswork": that one is.
        let tests = run.deferred.iter().find(|c| c.table() == t).unwrap();
        // Its ids too where the variants are left to the run: it reads each partition's tests,
        // and decides their uniqueness from them.
        let left = expected.contains(&v);
        let columns = match left {
            true => vec!["method", "person_id", "test_id"],
            false => vec!["method", "person_id"],
        };
        assert_eq!(tests.columns(), columns, "{case}");
        assert_eq!(
            (tests.spans_test_ids(), run.test_ids_left),
            (left, left),
            "{case}"
        );
        assert_ne!(run.quality, q, "{case}: findings left for the run");
        let mut found = RowFindings::default();
        for partition in split(&run.person_ids, size).unwrap() {
            // The variants' test ids are looked up among the partition's tests.
            let tests = partition.filter(extract.scan(t).unwrap());
            let tests = Arc::new(TestIds::read(tests).unwrap().0);
            for checks in &run.deferred {
                let rows = partition.filter(extract.scan(checks.table()).unwrap());
                let checks = match checks.needs_partition_tests() {
                    true => checks.with_tests(&tests),
                    false => checks.clone(),
                };
                found.add(&checks.count(rows).unwrap());
            }
        }
        let mut quality = run.quality;
        found.record(&mut quality);
        assert_eq!(quality, q, "{case}");
    }
    let (code, stdout, stderr) = check(d);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("period        2022-01-01 to 2024-12-31"),
        "{stdout}"
    );
    assert!(stdout.contains("measurement.person_id"), "{stdout}");
    assert!(
        stdout.contains("2 orphan rows (patient not in person)"),
        "{stdout}"
    );
    assert!(stdout.contains("1 unknown unit"), "{stdout}");
    assert!(stdout.contains("12 rows are set aside"), "{stdout}");
}

/// Orphan rows are counted alike whichever way the person ids are held: a bitmap over dense
/// integer ids, anti joins per partition for sparse integer ids and for string ids. Orphans lie
/// before, between and after the patients' ids.
#[test]
fn orphans_are_counted_alike_for_dense_sparse_and_string_ids() {
    let orphans = |person: ArrayRef, records: ArrayRef| {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("person.parquet"),
            vec![("person_id", person), ("sex", texts(&["F"; 3]))],
        );
        let mut m = measurement(&[Some(0); 6]);
        m[0] = ("person_id", records);
        write(&dir.path().join("measurement.parquet"), m);
        let q = Extract::open(dir.path())
            .unwrap()
            .validate(&eligo::progress::Progress::new(true), 2)
            .unwrap();
        q.tables
            .iter()
            .find(|t| t.table == Table::Measurement)
            .unwrap()
            .columns
            .iter()
            .find(|c| c.column == "person_id")
            .unwrap()
            .orphan_rows
    };
    // Patients 10, 12, 13 (dense): records of 9, 11 and 14 are orphans.
    assert_eq!(
        orphans(int_ids(&[12, 10, 13]), int_ids(&[9, 10, 11, 12, 13, 14])),
        3
    );
    // Patients 2^40 apart (sparse): the same three kinds of orphans.
    let (a, b, c) = (1i64 << 40, 2i64 << 40, 3i64 << 40);
    assert_eq!(
        orphans(
            int_ids(&[c, a, b]),
            int_ids(&[a - 1, a, a + 1, b, c, c + 1])
        ),
        3
    );
    assert_eq!(
        orphans(
            texts(&["p12", "p10", "p13"]),
            texts(&["p09", "p10", "p11", "p12", "p13", "p14"])
        ),
        3
    );
}

/// A run's whole path on the extract of `findings_are_counted_exactly`: each partition
/// evaluated with its tables read into memory, the findings counted there
/// (`patient_outcomes_checked`), summed; with the whole definition, and with its general
/// criteria alone, which read no variants (their findings are then counted from the files).
/// Either way, the quality `eligo check` reports.
#[test]
fn a_runs_evaluation_counts_the_findings_check_counts() {
    let dir = tempfile::tempdir().unwrap();
    findings_extract(dir.path());
    let extract = Extract::open(dir.path()).unwrap();
    let progress = eligo::progress::Progress::new(true);
    let want = extract.validate(&progress, 1_000).unwrap();
    let pipeline = concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/impress-norway.toml");
    let whole = eligo::definition::load(Path::new(pipeline)).unwrap();
    let mut general = whole.clone();
    general.cohorts.clear();
    general.drugs.clear();
    general.cohort_criteria.clear();
    let inputs = Inputs::of(&extract).unwrap();
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 1, 15).unwrap();
    for (name, definition) in [("whole", &whole), ("general", &general)] {
        for size in [1, 1_000] {
            let defer = Defer::Findings { max_rows: 1_000 };
            let run = extract.validate_for_run(&progress, size, defer).unwrap();
            assert_eq!(run.deferred.len(), 4, "{name}, partitions of {size}");
            let mut found = RowFindings::default();
            for partition in split(&run.person_ids, size).unwrap() {
                let (_, counted) = patient_outcomes_checked(
                    &inputs.partition(&partition),
                    definition,
                    as_of,
                    &run.deferred,
                )
                .unwrap();
                found.add(&counted);
            }
            let mut quality = run.quality;
            found.record(&mut quality);
            assert_eq!(quality, want, "{name}, partitions of {size}");
        }
    }
}

/// A run counts orphan rows where it looks up each record's patient row, as its tables are read
/// (`engine::tables`): the same counts as `eligo check`, worked out by hand. Patients 10, 12 and
/// 13: measurements of 9 (before the first), 11 (between) and 14 (after the last) are orphans
/// (3; a null id rejects the extract); diagnoses, which the patient core and the diagnosis atoms
/// both read, of 9 and 14 (2, counted once). Partitions of one patient, two, and all.
#[test]
fn a_runs_orphans_are_the_records_without_a_patient_row() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("person.parquet"), person(&[12, 10, 13]));
    let ids = [Some(9), Some(10), Some(11), Some(12), Some(13), Some(14)];
    // Every column of the contract, so that the footers give every null count and the run
    // leaves the tables' findings to evaluation.
    let mut m = measurement(&ids);
    m.push(("range_low", floats(&[Some(117.0); 6])));
    m.push(("range_high", floats(&[Some(153.0); 6])));
    write(&d.join("measurement.parquet"), m);
    write(
        &d.join("diagnosis.parquet"),
        vec![
            ("person_id", int_ids(&[9, 12, 14, 13])),
            ("icd10", texts(&["C18.7"; 4])),
            ("date", dates(&["2024-01-01"; 4])),
            ("morphology", strs(&[None; 4])),
            ("oncotree", strs(&[None; 4])),
        ],
    );
    let extract = Extract::open(d).unwrap();
    let progress = eligo::progress::Progress::new(true);
    let orphans = |quality: &eligo::extract::DataQuality| -> Vec<(Table, u64)> {
        (quality.tables.iter())
            .flat_map(|t| t.columns.iter().map(move |c| (t.table, c)))
            .filter(|(_, c)| c.column == "person_id" && c.orphan_rows > 0)
            .map(|(table, c)| (table, c.orphan_rows))
            .collect()
    };
    let want = vec![(Table::Diagnosis, 2), (Table::Measurement, 3)];
    assert_eq!(orphans(&extract.validate(&progress, 1_000).unwrap()), want);
    let pipeline = concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/impress-norway.toml");
    let definition = eligo::definition::load(Path::new(pipeline)).unwrap();
    let inputs = Inputs::of(&extract).unwrap();
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 1, 15).unwrap();
    for size in [1, 2, 1_000] {
        let defer = Defer::Findings { max_rows: 1_000 };
        let run = extract.validate_for_run(&progress, size, defer).unwrap();
        let deferred: Vec<Table> = run.deferred.iter().map(|c| c.table()).collect();
        assert_eq!(deferred, [Table::Diagnosis, Table::Measurement]);
        let mut found = RowFindings::default();
        for partition in split(&run.person_ids, size).unwrap() {
            let partition = inputs.partition(&partition);
            let checked = patient_outcomes_checked(&partition, &definition, as_of, &run.deferred);
            found.add(&checked.unwrap().1);
        }
        let mut quality = run.quality;
        found.record(&mut quality);
        assert_eq!(orphans(&quality), want, "partitions of {size}");
    }
}

/// A run that leaves the molecular tests' ids to its partitions (every column present, so the
/// footers give every null count) decides their uniqueness from them before it writes
/// anything: repeated ids across partitions of one patient, or within one, reject the extract
/// as `eligo check` does, and no output folder is left; unique ids out of order across the
/// partitions are read whole once more and pass, as do ascending ones.
#[test]
fn a_run_rejects_repeated_test_ids_its_partitions_read() {
    let repeated = "molecular_test.parquet: column test_id: 1 values occur more than once \
                    (first: T1 (2 rows))";
    // (patient, test id) rows, patients per partition, the error expected.
    type Case<'a> = (&'a [(i64, &'a str)], usize, Option<&'a str>);
    let cases: [Case; 6] = [
        (&[(1, "T1"), (2, "T1"), (3, "T3")], 1, Some(repeated)),
        (&[(1, "T1"), (2, "T1"), (3, "T3")], 1_000, Some(repeated)),
        (&[(1, "T1"), (1, "T1"), (3, "T3")], 1, Some(repeated)),
        (&[(1, "T3"), (2, "T1"), (3, "T2")], 1, None),
        (&[(1, "T1"), (2, "T2"), (3, "T3")], 1, None),
        (&[(1, "T1"), (2, "T2"), (3, "T3")], 2, None),
    ];
    for (tests, size, error) in cases {
        let case = format!("{tests:?} in partitions of {size}");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("extract");
        std::fs::create_dir(&d).unwrap();
        write(
            &d.join("person.parquet"),
            vec![
                ("person_id", int_ids(&[1, 2, 3])),
                ("sex", texts(&["F", "M", "F"])),
            ],
        );
        let n = tests.len();
        let mut mt = molecular_test(tests);
        mt.push(("specimen", strs(&vec![Some("tissue-primary"); n])));
        mt.push(("approved_lab", bools(&vec![Some(true); n])));
        write(&d.join("molecular_test.parquet"), mt);
        let extract = Extract::open(&d).unwrap();
        let progress = eligo::progress::Progress::new(true);
        let defer = Defer::Findings { max_rows: 1_000 };
        let run = extract.validate_for_run(&progress, size, defer).unwrap();
        assert!(run.test_ids_left, "{case}");
        let out = dir.path().join("out");
        let ran = assert_cmd::Command::cargo_bin("eligo")
            .unwrap()
            .args(["--quiet", "run", "--as-of", "2025-01-15", "--data"])
            .arg(&d)
            .arg("--out")
            .arg(&out)
            .args(["--partition-patients", &size.to_string()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&ran.stderr);
        match error {
            Some(error) => {
                assert_eq!(ran.status.code(), Some(1), "{case}: {stderr}");
                assert!(stderr.contains(error), "{case}: {stderr}");
                assert!(
                    stderr.contains("test_id must be unique"),
                    "{case}: {stderr}"
                );
                assert!(!out.exists(), "{case}");
                let (code, _, checked) = check(&d);
                assert_eq!(code, 1, "{case}");
                assert!(checked.contains(error), "{case}: {checked}");
            }
            None => {
                assert_eq!(ran.status.code(), Some(0), "{case}: {stderr}");
                assert!(out.join("manifest.json").exists(), "{case}");
            }
        }
    }
}

/// Where a run leaves the variants' test ids to its partitions, each variant's test is found
/// once, as the variants are read, and the variants' matching reads that row instead of
/// looking the test up again: on the shipped sample (4,000 patients, 7,061 variants, cohorts
/// matched), in partitions of 700 patients, the same patient-level frame as the matching's own
/// lookup without the checks.
#[test]
fn the_matching_reads_the_test_rows_its_reader_found() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/data-samples");
    let extract = Extract::open(Path::new(data)).unwrap();
    let progress = eligo::progress::Progress::new(true);
    let size = 700;
    let defer = Defer::Findings {
        max_rows: eligo::extract::MAX_DEFERRED_ROWS,
    };
    let run = extract.validate_for_run(&progress, size, defer).unwrap();
    assert!(run.test_ids_left);
    let pipeline = concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/impress-norway.toml");
    let definition = eligo::definition::load(Path::new(pipeline)).unwrap();
    let inputs = Inputs::of(&extract).unwrap();
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    let mut matched = 0;
    for partition in split(&run.person_ids, size).unwrap() {
        let partition = inputs.partition(&partition);
        let (checked, _) =
            patient_outcomes_checked(&partition, &definition, as_of, &run.deferred).unwrap();
        let looked_up = eligo::engine::patient_outcomes(&partition, &definition, as_of).unwrap();
        assert_eq!(checked.patients, looked_up.patients);
        for c in 0..definition.cohorts.len() {
            let column = checked.patients.column(&format!("matched_{c}")).unwrap();
            matched += column.bool().unwrap().sum().unwrap_or(0);
        }
    }
    assert!(matched > 0, "no patient of the sample matched a cohort");
}
