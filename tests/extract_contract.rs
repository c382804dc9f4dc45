//! The extract contract, rule by rule: `eligo check --data` on small extracts written with
//! arrow-rs into temporary folders. Each broken rule gives exit 1 and a message naming the file,
//! the column and the rule; valid variants (timestamps, string ids, partitions) are accepted.

mod fixtures;

use std::path::Path;

use assert_cmd::Command;
use eligo::extract::{Extract, IdType, Table};
use fixtures::*;
use polars::prelude::*;

/// Runs `eligo --quiet check --data DIR`: (exit code, stdout, stderr).
fn check(dir: &Path) -> (i32, String, String) {
    let out = Command::cargo_bin("eligo")
        .unwrap()
        .args(["--quiet", "check", "--data"])
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts exit 1 and that stderr holds every one of `parts`; returns stderr.
fn rejected(dir: &Path, parts: &[&str]) -> String {
    let (code, _, stderr) = check(dir);
    assert_eq!(code, 1, "expected exit 1, stderr: {stderr}");
    for part in parts {
        assert!(stderr.contains(part), "missing {part:?} in: {stderr}");
    }
    stderr
}

#[test]
fn a_valid_extract_passes() {
    let dir = tempfile::tempdir().unwrap();
    valid(dir.path());
    let (code, stdout, stderr) = check(dir.path());
    assert_eq!(code, 0, "{stderr}");
    // The fixture stores only the required columns: the optional ones are listed as absent.
    assert!(
        stdout.contains(
            "birth_year, death_date, region, site, index_date (not in the files: scanned as nulls)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("0 rows are set aside"), "{stdout}");
    assert!(stdout.contains("id type       Int64"), "{stdout}");
}

#[test]
fn missing_person_table() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("measurement.parquet"),
        measurement(&[Some(1)]),
    );
    rejected(
        dir.path(),
        &["the person table is missing", "person.parquet"],
    );
}

#[test]
fn missing_required_column() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("person.parquet"),
        vec![("person_id", int_ids(&[1, 2]))],
    );
    rejected(
        dir.path(),
        &["person.parquet", "has no column sex", "requires"],
    );
}

#[test]
fn a_required_column_in_upper_case() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("person.parquet"),
        vec![("person_id", int_ids(&[1])), ("Sex", texts(&["F"]))],
    );
    rejected(
        dir.path(),
        &["has no column sex", "The file has Sex: rename it to sex"],
    );
}

#[test]
fn files_beside_the_tables_are_listed_as_ignored() {
    let dir = tempfile::tempdir().unwrap();
    valid(dir.path());
    // A misspelt table name: not part of the contract, so check says it is ignored.
    write(&dir.path().join("persons.parquet"), person(&[9]));
    let (code, stdout, _) = check(dir.path());
    assert_eq!(code, 0);
    assert!(
        stdout.contains("persons.parquet is not a table of the contract and is ignored"),
        "{stdout}"
    );
}

#[test]
fn wrong_type() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("person.parquet"), person(&[1]));
    let mut m = measurement(&[Some(1)]);
    m[3] = ("value", texts(&["130"]));
    write(&dir.path().join("measurement.parquet"), m);
    rejected(
        dir.path(),
        &[
            "measurement.parquet: column value: expected Float64",
            "found Utf8",
        ],
    );
}

#[test]
fn null_required_id() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("person.parquet"), person(&[1, 2]));
    write(
        &dir.path().join("measurement.parquet"),
        measurement(&[Some(1), None, Some(2), None]),
    );
    // Two of four rows lack person_id.
    rejected(
        dir.path(),
        &[
            "measurement.parquet: column person_id: 2 rows have no person_id",
            "required",
        ],
    );
}

#[test]
fn null_required_value_names_the_patients() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("person.parquet"), person(&[1, 2, 3]));
    let mut m = measurement(&[Some(1), Some(2), Some(3)]);
    m[4] = ("unit", strs(&[Some("g/L"), None, None]));
    write(&dir.path().join("measurement.parquet"), m);
    // Patients 2 and 3 have a result without a unit.
    rejected(
        dir.path(),
        &["column unit: 2 rows have no unit (first: person_id 2, 3)"],
    );
}

#[test]
fn duplicate_person_id() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("person.parquet"),
        person(&[17, 3, 204, 17, 204, 204, 5]),
    );
    // 17 occurs twice and 204 three times: two values are repeated.
    rejected(
        dir.path(),
        &[
            "person.parquet: column person_id: 2 values occur more than once (first: 17 (2 rows), 204 (3 rows)); person_id must be unique",
        ],
    );
}

#[test]
fn duplicate_person_id_in_a_folder_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("person");
    write(&folder.join("a.parquet"), person(&[1, 2]));
    write(&folder.join("b.parquet"), person(&[3, 4, 4]));
    rejected(
        dir.path(),
        &["b.parquet: column person_id: 1 values occur more than once (first: 4 (2 rows))"],
    );
    // Repeated across two files: the folder is named.
    write(&folder.join("b.parquet"), person(&[3, 2]));
    rejected(
        dir.path(),
        &["person: column person_id: 1 values occur more than once (first: 2 (2 rows))"],
    );
}

#[test]
fn duplicate_test_id() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("person.parquet"), person(&[1, 2]));
    write(
        &dir.path().join("molecular_test.parquet"),
        molecular_test(&[(1, "T1"), (2, "T1"), (2, "T2")]),
    );
    rejected(
        dir.path(),
        &[
            "molecular_test.parquet: column test_id: 1 values occur more than once (first: T1 (2 rows))",
            "test_id must be unique",
        ],
    );
}

#[test]
fn ids_of_different_types_across_tables() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("person.parquet"), person(&[1]));
    let mut m = measurement(&[Some(1)]);
    m[0] = ("person_id", texts(&["1"]));
    write(&dir.path().join("measurement.parquet"), m);
    rejected(
        dir.path(),
        &[
            "person.parquet and ",
            "measurement.parquet: person_id is Int64 in one and Utf8 in the other",
        ],
    );
}

#[test]
fn truncated_parquet_file() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = person_bytes();
    std::fs::write(dir.path().join("person.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    rejected(dir.path(), &["person.parquet: not a readable Parquet file"]);
}

#[test]
fn a_file_that_is_not_parquet() {
    let dir = tempfile::tempdir().unwrap();
    valid(dir.path());
    std::fs::write(
        dir.path().join("measurement.parquet"),
        "person_id,loinc\n1,718-7\n",
    )
    .unwrap();
    rejected(
        dir.path(),
        &[
            "measurement.parquet: not a readable Parquet file",
            "export it again",
        ],
    );
}

#[test]
fn table_given_as_file_and_folder() {
    let dir = tempfile::tempdir().unwrap();
    valid(dir.path());
    write(
        &dir.path().join("measurement").join("part-0.parquet"),
        measurement(&[Some(1)]),
    );
    rejected(
        dir.path(),
        &[
            "measurement.parquet and ",
            "the measurement table is given twice",
        ],
    );
}

#[test]
fn empty_table_folder() {
    let dir = tempfile::tempdir().unwrap();
    valid(dir.path());
    std::fs::create_dir_all(dir.path().join("diagnosis")).unwrap();
    std::fs::write(dir.path().join("diagnosis").join("_SUCCESS"), "").unwrap();
    rejected(
        dir.path(),
        &["diagnosis: the diagnosis folder holds no .parquet files"],
    );
}

#[test]
fn files_of_a_table_with_different_schemas() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("person").join("a.parquet"), person(&[1]));
    let mut b = person(&[2]);
    b.push(("site", texts(&["Haukeland"])));
    write(&dir.path().join("person").join("b.parquet"), b);
    rejected(
        dir.path(),
        &[
            "a.parquet and ",
            "b.parquet: the files of the person table differ",
            "column site",
        ],
    );
}

#[test]
fn malformed_extract_toml() {
    let dir = tempfile::tempdir().unwrap();
    valid(dir.path());
    std::fs::write(
        dir.path().join("extract.toml"),
        "registry = \"Kreftregisteret\"\nextracted_on = 2025-13-01\n",
    )
    .unwrap();
    // Month 13 is not a date: toml points at line 2.
    rejected(dir.path(), &["extract.toml:2:"]);
}

#[test]
fn empty_tables_are_valid() {
    // The contract has no rule against a table without rows: a person table with 0 rows is an
    // extract of no patients (every count will be 0), not a broken one.
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("person.parquet"), person(&[]));
    write(&dir.path().join("measurement.parquet"), measurement(&[]));
    let (code, stdout, stderr) = check(dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("0 rows are set aside"), "{stdout}");
    let extract = Extract::open(dir.path()).unwrap();
    assert_eq!(extract.rows(Table::Person), 0);
}

#[test]
fn timestamps_are_truncated_to_dates() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("person.parquet"), person(&[1, 2]));
    let mut m = measurement(&[Some(1), Some(2)]);
    m[2] = (
        "date",
        timestamps(&["2024-03-05 23:59:59", "2024-03-06 00:00:00"]),
    );
    write(&dir.path().join("measurement.parquet"), m);
    assert_eq!(check(dir.path()).0, 0);
    let extract = Extract::open(dir.path()).unwrap();
    let df = extract
        .scan(Table::Measurement)
        .unwrap()
        .select([col("date").cast(DataType::String)])
        .collect()
        .unwrap();
    let dates: Vec<_> = (0..2)
        .map(|i| {
            df.column("date")
                .unwrap()
                .get(i)
                .unwrap()
                .get_str()
                .unwrap()
                .to_string()
        })
        .collect();
    // One second before midnight is still the 5th.
    assert_eq!(dates, ["2024-03-05", "2024-03-06"]);
}

#[test]
fn string_ids_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("person.parquet"),
        vec![
            ("person_id", texts(&["p-1", "p-2"])),
            ("sex", texts(&["F", "M"])),
        ],
    );
    let mut m = measurement(&[Some(1)]);
    m[0] = ("person_id", texts(&["p-2"]));
    write(&dir.path().join("measurement.parquet"), m);
    let (code, stdout, stderr) = check(dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("id type       Utf8"), "{stdout}");
    let extract = Extract::open(dir.path()).unwrap();
    assert_eq!(extract.id_type(), IdType::Utf8);
    let schema = extract
        .scan(Table::Person)
        .unwrap()
        .collect_schema()
        .unwrap();
    assert_eq!(schema.get("person_id"), Some(&DataType::String));
}

#[test]
fn a_folder_of_files_is_one_table() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("person.parquet"), person(&[1, 2, 3]));
    let folder = dir.path().join("measurement");
    write(
        &folder.join("part-0.parquet"),
        measurement(&[Some(1), Some(2)]),
    );
    write(
        &folder.join("sub").join("part-1.parquet"),
        measurement(&[Some(3)]),
    );
    // Ignored: hidden files, markers, other extensions.
    std::fs::write(folder.join(".DS_Store"), "x").unwrap();
    std::fs::write(folder.join("_SUCCESS"), "").unwrap();
    std::fs::write(folder.join("README.txt"), "notes").unwrap();
    let (code, stdout, stderr) = check(dir.path());
    assert_eq!(code, 0, "{stderr}");
    let extract = Extract::open(dir.path()).unwrap();
    // 2 + 1 rows in two files.
    assert_eq!(extract.rows(Table::Measurement), 3);
    let n = extract
        .scan(Table::Measurement)
        .unwrap()
        .collect()
        .unwrap()
        .height();
    assert_eq!(n, 3);
    assert!(stdout.contains("measurement"), "{stdout}");
    let files = extract.files();
    assert_eq!(
        files
            .iter()
            .filter(|f| f.table == Some(Table::Measurement))
            .count(),
        2
    );
}

#[test]
fn hive_partitions_become_columns() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("person");
    // region lives in the folder names (percent-encoded as pyarrow writes Sør-Øst).
    write(
        &folder.join("region=Vest").join("p.parquet"),
        person(&[1, 2]),
    );
    write(
        &folder.join("region=S%C3%B8r-%C3%98st").join("p.parquet"),
        person(&[3]),
    );
    assert_eq!(check(dir.path()).0, 0);
    let extract = Extract::open(dir.path()).unwrap();
    let df = extract
        .scan(Table::Person)
        .unwrap()
        .sort(["person_id"], SortMultipleOptions::default())
        .collect()
        .unwrap();
    let regions: Vec<_> = (0..3)
        .map(|i| {
            df.column("region")
                .unwrap()
                .get(i)
                .unwrap()
                .get_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(regions, ["Vest", "Vest", "Sør-Øst"]);
}

#[test]
fn findings_are_counted_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
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
    // variant: test T9 is not in molecular_test; class "weird" and value -1 are out of domain.
    write(
        &d.join("variant.parquet"),
        vec![
            ("person_id", int_ids(&[1, 2])),
            ("test_id", texts(&["T1", "T9"])),
            ("gene", texts(&["BRAF", "KRAS"])),
            ("class", texts(&["snv", "weird"])),
            ("value", floats(&[Some(0.4), Some(-1.0)])),
        ],
    );
    let extract = Extract::open(d).unwrap();
    let q = extract
        .validate(&eligo::progress::Progress::new(true))
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
    assert_eq!(c(Table::Variant, "test_id").orphan_rows, 1);
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
    // + 1 test orphan + 1 class + 1 variant value = 11.
    assert_eq!(q.findings(), 11);
    assert_eq!(extract.meta().registry.as_deref(), Some("test"));

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
    assert!(stdout.contains("11 rows are set aside"), "{stdout}");
}

#[test]
fn files_lists_extract_toml_and_every_parquet_file() {
    let dir = tempfile::tempdir().unwrap();
    valid(dir.path());
    std::fs::write(dir.path().join("extract.toml"), "registry = \"x\"\n").unwrap();
    let extract = Extract::open(dir.path()).unwrap();
    let files = extract.files();
    let tables: Vec<_> = files.iter().map(|f| f.table).collect();
    assert_eq!(
        tables,
        [None, Some(Table::Person), Some(Table::Measurement)]
    );
    assert_eq!(files[0].bytes, 15);
    assert!(files.iter().all(|f| f.bytes > 0));
}

#[test]
fn absent_tables_scan_empty_with_the_contract_schema() {
    let dir = tempfile::tempdir().unwrap();
    valid(dir.path());
    let extract = Extract::open(dir.path()).unwrap();
    assert!(!extract.is_present(Table::Variant));
    let mut lf = extract.scan(Table::Variant).unwrap();
    let schema = lf.collect_schema().unwrap();
    let names: Vec<_> = schema.iter_names().map(|n| n.to_string()).collect();
    assert_eq!(
        names,
        [
            "person_id",
            "test_id",
            "gene",
            "class",
            "alteration",
            "value",
            "tier"
        ]
    );
    assert_eq!(schema.get("value"), Some(&DataType::Float64));
    assert_eq!(lf.collect().unwrap().height(), 0);
    // A present table scans only the contract's columns, absent nullable ones as nulls.
    let person = extract.scan(Table::Person).unwrap().collect().unwrap();
    assert_eq!(person.width(), 7);
    assert_eq!(person.column("site").unwrap().null_count(), 3);
}

#[test]
fn pipeline_alone_is_not_built_yet() {
    let out = Command::cargo_bin("eligo")
        .unwrap()
        .args(["check", "--pipeline", "pipelines/impress-norway.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_spark_folder_named_like_a_file_is_the_table() {
    // Spark's `df.write.parquet("person.parquet")` makes a folder of part files and markers.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("person.parquet");
    write(&folder.join("part-00000.snappy.parquet"), person(&[1, 2]));
    write(&folder.join("part-00001.snappy.parquet"), person(&[3]));
    std::fs::write(folder.join("_SUCCESS"), "").unwrap();
    std::fs::create_dir_all(folder.join("_temporary")).unwrap();
    assert_eq!(check(dir.path()).0, 0);
    assert_eq!(Extract::open(dir.path()).unwrap().rows(Table::Person), 3);
}

#[test]
fn kind_types_are_cast_to_the_contract_types() {
    // Int16 birth_year, Float32 and Int64 numbers, dictionary-encoded strings: all accepted and
    // scanned as Int32, Float64 and String.
    use arrow::array::{DictionaryArray, Float32Array, Int16Array};
    use arrow::datatypes::Int32Type;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let sex: DictionaryArray<Int32Type> = vec!["F", "M"].into_iter().collect();
    write(
        &dir.path().join("person.parquet"),
        vec![
            ("person_id", int_ids(&[1, 2])),
            ("sex", Arc::new(sex)),
            ("birth_year", Arc::new(Int16Array::from(vec![1950, 1961]))),
        ],
    );
    let mut m = measurement(&[Some(1), Some(2)]);
    m[3] = ("value", Arc::new(Float32Array::from(vec![1.5, 130.0])));
    m.push(("range_high", int_ids(&[160, 160])));
    write(&dir.path().join("measurement.parquet"), m);
    assert_eq!(check(dir.path()).0, 0);
    let extract = Extract::open(dir.path()).unwrap();
    let person = extract.scan(Table::Person).unwrap().collect().unwrap();
    assert_eq!(person.column("sex").unwrap().dtype(), &DataType::String);
    assert_eq!(
        person.column("birth_year").unwrap().get(1).unwrap(),
        AnyValue::Int32(1961)
    );
    let m = extract.scan(Table::Measurement).unwrap().collect().unwrap();
    assert_eq!(
        m.column("value").unwrap().get(0).unwrap(),
        AnyValue::Float64(1.5)
    );
    assert_eq!(
        m.column("range_high").unwrap().get(0).unwrap(),
        AnyValue::Float64(160.0)
    );
}

#[test]
fn a_hive_value_of_the_wrong_type() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path()
            .join("person")
            .join("birth_year=unknown")
            .join("p.parquet"),
        person(&[1]),
    );
    rejected(
        dir.path(),
        &[
            "p.parquet: column birth_year: expected Int32",
            "\"unknown\"",
        ],
    );
}

#[test]
fn a_null_hive_partition_of_a_required_column() {
    // pyarrow writes a null partition value as __HIVE_DEFAULT_PARTITION__: sex is required.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("person");
    write(
        &folder.join("sex=F").join("p.parquet"),
        vec![("person_id", int_ids(&[1, 2]))],
    );
    write(
        &folder
            .join("sex=__HIVE_DEFAULT_PARTITION__")
            .join("p.parquet"),
        vec![("person_id", int_ids(&[3]))],
    );
    rejected(
        dir.path(),
        &[
            "__HIVE_DEFAULT_PARTITION__",
            "column sex: 1 rows have no sex (first: person_id 3)",
        ],
    );
}

#[test]
fn an_extra_decimal_column_is_named_not_a_crash() {
    // Decimals come from SQL exports; the polars reader as built cannot open such a file, so
    // open() names the column instead of the scan failing later.
    use arrow::array::Decimal128Array;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let weight = Decimal128Array::from(vec![7050_i128])
        .with_precision_and_scale(10, 2)
        .unwrap();
    let mut p = person(&[1]);
    p.push(("weight", Arc::new(weight)));
    write(&dir.path().join("person.parquet"), p);
    rejected(
        dir.path(),
        &["person.parquet: column weight: eligo cannot read Decimal128(10, 2) columns"],
    );
}

#[test]
fn extra_columns_of_other_types_are_ignored() {
    // A time of day, a list and a time-zoned timestamp: extra columns the reader can skip.
    use arrow::array::{ListArray, Time64MicrosecondArray, TimestampMicrosecondArray};
    use arrow::datatypes::Int32Type;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let mut p = person(&[1]);
    p.push((
        "seen_at",
        Arc::new(Time64MicrosecondArray::from(vec![3_600_000_000])),
    ));
    p.push((
        "codes",
        Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1)]),
        ])),
    ));
    // 2024-01-01 23:00 UTC.
    p.push((
        "index_date",
        Arc::new(TimestampMicrosecondArray::from(vec![1_704_150_000_000_000]).with_timezone("UTC")),
    ));
    write(&dir.path().join("person.parquet"), p);
    let (code, stdout, stderr) = check(dir.path());
    assert_eq!(code, 0, "{stderr}");
    // Without a period in extract.toml the summary gives the range of index_date.
    assert!(
        stdout.contains("not given: index_date runs from 2024-01-01 to 2024-01-01"),
        "{stdout}"
    );
    let extract = Extract::open(dir.path()).unwrap();
    let df = extract
        .scan(Table::Person)
        .unwrap()
        .select([col("index_date").cast(DataType::String)])
        .collect()
        .unwrap();
    assert_eq!(
        df.column("index_date").unwrap().get(0).unwrap().get_str(),
        Some("2024-01-01")
    );
}

#[test]
fn files_may_order_their_columns_differently() {
    // The same columns in another order are the same schema.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("person");
    write(&folder.join("a.parquet"), person(&[1, 2]));
    write(
        &folder.join("b.parquet"),
        vec![("sex", texts(&["M"])), ("person_id", int_ids(&[3]))],
    );
    assert_eq!(check(dir.path()).0, 0);
    let extract = Extract::open(dir.path()).unwrap();
    let df = extract
        .scan(Table::Person)
        .unwrap()
        .sort(["person_id"], SortMultipleOptions::default())
        .collect()
        .unwrap();
    assert_eq!(
        df.column("sex").unwrap().get(2).unwrap().get_str(),
        Some("M")
    );
}

#[test]
fn zoned_timestamps_are_truncated_in_utc_and_noted() {
    // 2024-01-01 23:30 UTC is 00:30 on the 2nd in Oslo; polars is built without time zones, so
    // the date is the UTC one, and check says so.
    use arrow::array::TimestampMillisecondArray;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let mut p = person(&[1]);
    p.push((
        "index_date",
        Arc::new(
            TimestampMillisecondArray::from(vec![1_704_151_800_000]).with_timezone("Europe/Oslo"),
        ),
    ));
    write(&dir.path().join("person.parquet"), p);
    let (code, stdout, stderr) = check(dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("note: person.index_date holds timestamps in time zone Europe/Oslo"),
        "{stdout}"
    );
    assert!(
        stdout.contains("index_date runs from 2024-01-01 to 2024-01-01"),
        "{stdout}"
    );
}
