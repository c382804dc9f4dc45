//! `eligo synth` driven as a user runs it: byte-identical output whatever the thread count,
//! partitions that union to the single-file extract, the contract's schema read back with
//! arrow-rs, prevalences worked out from the published figures, and an independent pyarrow reader.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type, SchemaRef};
use assert_cmd::Command;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const TABLES: [&str; 7] = [
    "person",
    "diagnosis",
    "measurement",
    "observation",
    "treatment",
    "molecular_test",
    "variant",
];

fn synth(out: &Path, patients: u64, seed: u64, extra: &[&str]) {
    let mut cmd = Command::cargo_bin("eligo").unwrap_or_else(|e| panic!("binary: {e}"));
    cmd.args(["--quiet", "synth", "--patients", &patients.to_string()])
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

/// Every file under `dir`, relative path -> bytes.
fn files(dir: &Path) -> HashMap<PathBuf, Vec<u8>> {
    let mut found = HashMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let rel = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
                found.insert(rel, bytes);
            }
        }
    }
    found
}

/// A Parquet file's Arrow schema and all its rows in one batch.
fn read(path: &Path) -> (SchemaRef, RecordBatch) {
    let file = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap_or_else(|e| panic!("{e}"));
    let schema = builder.schema().clone();
    let batches: Vec<RecordBatch> = builder
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|b| b.unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let all = concat_batches(&schema, &batches).unwrap_or_else(|e| panic!("{e}"));
    (schema, all)
}

#[test]
fn same_seed_same_bytes_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (one, two, other) = (
        dir.path().join("t1"),
        dir.path().join("t2"),
        dir.path().join("s2"),
    );
    synth(&one, 3000, 11, &["--threads", "1"]);
    synth(&two, 3000, 11, &["--threads", "2"]);
    synth(&other, 3000, 12, &["--threads", "2"]);
    let (a, b, c) = (files(&one), files(&two), files(&other));
    // 7 tables + extract.toml, nothing else (no leftover .tmp files)
    assert_eq!(a.len(), 8);
    assert_eq!(a, b, "thread count changed the output");
    for table in TABLES {
        let name = PathBuf::from(format!("{table}.parquet"));
        assert_ne!(
            a[&name], c[&name],
            "{table}: seeds 11 and 12 gave the same file"
        );
    }
    let toml = String::from_utf8_lossy(&a[&PathBuf::from("extract.toml")]).to_string();
    assert!(toml.contains("registry = \"Synthetic registry (eligo synth, seed 11)\""));
    assert!(toml.contains("extracted_on = 2026-01-15"));
    assert!(toml.contains("period_start = 2021-06-01"));
    assert!(toml.contains("period_end = 2025-12-31"));
}

#[test]
fn partitions_union_to_the_single_file_extract() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (single, parted) = (dir.path().join("single"), dir.path().join("parted"));
    synth(&single, 3000, 5, &[]);
    synth(&parted, 3000, 5, &["--partitions", "3"]);
    for table in TABLES {
        let parts: Vec<PathBuf> = (0..3)
            .map(|p| parted.join(table).join(format!("part-{p:05}.parquet")))
            .collect();
        assert_eq!(
            fs::read_dir(parted.join(table))
                .map(|d| d.count())
                .unwrap_or(0),
            3,
            "{table}"
        );
        let (schema, whole) = read(&single.join(format!("{table}.parquet")));
        let batches: Vec<RecordBatch> = parts.iter().map(|p| read(p).1).collect();
        // patients are split in contiguous ranges (0..1000, 1000..2000, 2000..3000), so the parts
        // in order hold exactly the rows of the single file, in the same order
        let union = concat_batches(&schema, &batches).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(union, whole, "{table}");
        if table == "person" {
            assert_eq!(
                batches.iter().map(|b| b.num_rows()).collect::<Vec<_>>(),
                [1000, 1000, 1000]
            );
        }
    }
}

/// A contract column: name, Arrow type, required.
type Column = (&'static str, DataType, bool);

#[test]
fn schema_is_the_contracts() {
    use DataType::{Boolean, Date32, Float64, Int32, Int64, Utf8};
    // Typed out from extract-contract.md (required = non-nullable); ids are Int64.
    let contract: [(&str, &[Column]); 7] = [
        (
            "person",
            &[
                ("person_id", Int64, true),
                ("sex", Utf8, true),
                ("birth_year", Int32, false),
                ("death_date", Date32, false),
                ("region", Utf8, false),
                ("site", Utf8, false),
                ("index_date", Date32, false),
            ],
        ),
        (
            "diagnosis",
            &[
                ("person_id", Int64, true),
                ("icd10", Utf8, true),
                ("date", Date32, true),
                ("morphology", Utf8, false),
                ("oncotree", Utf8, false),
            ],
        ),
        (
            "measurement",
            &[
                ("person_id", Int64, true),
                ("loinc", Utf8, true),
                ("date", Date32, true),
                ("value", Float64, true),
                ("unit", Utf8, true),
                ("range_low", Float64, false),
                ("range_high", Float64, false),
            ],
        ),
        (
            "observation",
            &[
                ("person_id", Int64, true),
                ("code", Utf8, true),
                ("date", Date32, true),
                ("value_num", Float64, false),
                ("value_text", Utf8, false),
            ],
        ),
        (
            "treatment",
            &[
                ("person_id", Int64, true),
                ("atc", Utf8, false),
                ("kind", Utf8, true),
                ("start_date", Date32, true),
                ("end_date", Date32, false),
            ],
        ),
        (
            "molecular_test",
            &[
                ("person_id", Int64, true),
                ("test_id", Utf8, true),
                ("method", Utf8, true),
                ("specimen", Utf8, false),
                ("approved_lab", Boolean, false),
                ("report_date", Date32, true),
            ],
        ),
        (
            "variant",
            &[
                ("person_id", Int64, true),
                ("test_id", Utf8, true),
                ("gene", Utf8, true),
                ("class", Utf8, true),
                ("alteration", Utf8, false),
                ("value", Float64, false),
                ("tier", Utf8, false),
            ],
        ),
    ];
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    synth(dir.path(), 3000, 3, &[]);
    for (table, columns) in contract {
        let (schema, batch) = read(&dir.path().join(format!("{table}.parquet")));
        let found: Vec<(String, DataType, bool)> = schema
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone(), !f.is_nullable()))
            .collect();
        let expected: Vec<(String, DataType, bool)> = columns
            .iter()
            .map(|(n, t, r)| (n.to_string(), t.clone(), *r))
            .collect();
        assert_eq!(found, expected, "{table}");
        for (i, (name, _, required)) in columns.iter().enumerate() {
            if *required {
                assert_eq!(batch.column(i).null_count(), 0, "{table}.{name}");
            }
        }
    }
    // unique keys: person_id in person, test_id in molecular_test
    let (_, person) = read(&dir.path().join("person.parquet"));
    let ids: HashSet<i64> = person
        .column(0)
        .as_primitive::<Int64Type>()
        .values()
        .iter()
        .copied()
        .collect();
    assert_eq!(ids.len(), 3000);
    let (_, tests) = read(&dir.path().join("molecular_test.parquet"));
    let test_ids: HashSet<&str> = tests
        .column(1)
        .as_string::<i32>()
        .iter()
        .flatten()
        .collect();
    assert_eq!(test_ids.len(), tests.num_rows());
}

#[test]
fn prevalence_and_edges_of_20000_patients() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    synth(dir.path(), 20_000, 2026, &[]);
    let (_, diagnosis) = read(&dir.path().join("diagnosis.parquet"));
    let pid = diagnosis.column(0).as_primitive::<Int64Type>();
    let icd = diagnosis.column(1).as_string::<i32>();
    let with = |prefix: &str| -> HashSet<i64> {
        (0..diagnosis.num_rows())
            .filter(|&i| icd.value(i).starts_with(prefix))
            .map(|i| pid.value(i))
            .collect()
    };
    // Lung: 3,319 of 38,094 new cases in Cancer in Norway 2023 = 8.71 %; ~3 % of patients
    // also carry an earlier primary (a lung one for 8.7 % of those), so ~8.95 % have any C34
    // code. Binomial sd at n = 20,000 is 0.2 points: the band is about +-4 sd.
    let lung = with("C34").len() as f64 / 20_000.0;
    assert!((0.081..=0.098).contains(&lung), "lung share {lung}");

    // Melanoma with BRAF V600: 45 % of melanomas carry it; a test shows it when its method can
    // (ngs/wes 78 % of tests, minus 30 % of the 12 % plasma ones; pcr/sanger 8 %), so ~85 % of
    // tested patients have a test that would: 0.45 x 0.85 = 0.38 of tested melanoma patients.
    // n ~ 1,300: sd 1.4 points; band 0.32..0.46.
    let melanoma = with("C43");
    let (_, tests) = read(&dir.path().join("molecular_test.parquet"));
    let tested: HashSet<i64> = tests
        .column(0)
        .as_primitive::<Int64Type>()
        .values()
        .iter()
        .copied()
        .collect();
    let (_, variant) = read(&dir.path().join("variant.parquet"));
    let vp = variant.column(0).as_primitive::<Int64Type>();
    let gene = variant.column(2).as_string::<i32>();
    let alteration = variant.column(4).as_string::<i32>();
    let braf: HashSet<i64> = (0..variant.num_rows())
        .filter(|&i| {
            gene.value(i) == "BRAF"
                && alteration.is_valid(i)
                && alteration.value(i).starts_with("V600")
        })
        .map(|i| vp.value(i))
        .collect();
    let tested_melanoma: Vec<&i64> = melanoma.iter().filter(|p| tested.contains(p)).collect();
    let share = tested_melanoma.iter().filter(|p| braf.contains(p)).count() as f64
        / tested_melanoma.len() as f64;
    assert!(
        (0.32..=0.46).contains(&share),
        "melanoma BRAF V600 share {share}"
    );

    // ICD-10 codes appear with and without the dot; metastases and comorbidities exist.
    assert!(!with("C78.7").is_empty() && !with("C787").is_empty());
    assert!(!with("C79.3").is_empty() || !with("C793").is_empty());

    // Edge cases: ~0.36 % of patients each (5 % over 14 kinds) = ~70 of 20,000.
    let (_, m) = read(&dir.path().join("measurement.parquet"));
    let loinc = m.column(1).as_string::<i32>();
    let value = m.column(3).as_primitive::<Float64Type>();
    let unit = m.column(4).as_string::<i32>();
    let has = |code: &str, v: f64, u: &str| {
        (0..m.num_rows())
            .any(|i| loinc.value(i) == code && value.value(i) == v && unit.value(i) == u)
    };
    assert!(has("718-7", 9.0, "g/dL") && has("718-7", 90.0, "g/L"));
    assert!(has("751-8", 1.5, "10*9/L") && has("777-3", 75.0, "10*9/L"));
    assert!(has("718-7", 120.0, "mg/L") && has("777-3", 12.0, "%") && has("777-3", -5.0, "10*9/L"));
    // orphan rows: about 1 patient in 1,000 writes one, with the even id after the patient's
    let ids = m.column(0).as_primitive::<Int64Type>();
    let orphans = (0..m.num_rows()).filter(|&i| ids.value(i) % 2 == 0).count();
    assert!((5..=40).contains(&orphans), "orphan rows {orphans}");
    // ... so that the table stays sorted by person_id, as the partitions of `eligo run` want
    assert!((1..m.num_rows()).all(|i| ids.value(i - 1) <= ids.value(i)));
    // dates of measurements stay near the extract period (2021-06-01 minus 60 days and later)
    let dates = m.column(2).as_primitive::<Date32Type>();
    let min = dates.values().iter().min().copied().unwrap_or_default();
    assert!(min >= 18_779 - 400, "earliest lab {min}");
}

#[test]
fn independent_pyarrow_reader_accepts_the_extract() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/read_extract.py");
    let probe = std::process::Command::new("python3")
        .args(["-c", "import pyarrow"])
        .status();
    if !matches!(probe, Ok(s) if s.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but python3 with pyarrow is missing"
        );
        eprintln!("note: skipping the pyarrow reader: python3 with pyarrow is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (name, extra) in [("single", &[][..]), ("parted", &["--partitions", "2"][..])] {
        let out = dir.path().join(name);
        synth(&out, 3000, 9, extra);
        let output = std::process::Command::new("python3")
            .arg(&script)
            .arg(&out)
            .output()
            .unwrap_or_else(|e| panic!("python3: {e}"));
        assert!(
            output.status.success(),
            "{name}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("person: "));
    }
}
