//! Each rule of the contract broken once: exit 1 and a message naming the file, the column and
//! the rule.

use super::assert_rejected;
use super::fixtures::*;

#[test]
fn missing_person_table() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("measurement.parquet"),
        measurement(&[Some(1)]),
    );
    assert_rejected(
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
    assert_rejected(
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
    assert_rejected(
        dir.path(),
        &["has no column sex", "The file has Sex: rename it to sex"],
    );
}

#[test]
fn wrong_type() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("person.parquet"), person(&[1]));
    let mut m = measurement(&[Some(1)]);
    m[3] = ("value", texts(&["130"]));
    write(&dir.path().join("measurement.parquet"), m);
    assert_rejected(
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
    assert_rejected(
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
    assert_rejected(
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
    assert_rejected(
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
    assert_rejected(
        dir.path(),
        &["b.parquet: column person_id: 1 values occur more than once (first: 4 (2 rows))"],
    );
    // Repeated across two files: the folder is named.
    write(&folder.join("b.parquet"), person(&[3, 2]));
    assert_rejected(
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
    assert_rejected(
        dir.path(),
        &[
            "molecular_test.parquet: column test_id: 1 values occur more than once (first: T1 (2 rows))",
            "test_id must be unique",
        ],
    );
}

#[test]
fn the_first_broken_table_in_contract_order_is_the_error() {
    // Measurement (third in contract order) and molecular_test (sixth) both break the contract:
    // the error is the measurement table's, the first, every time.
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("person.parquet"), person(&[1, 2]));
    write(
        &dir.path().join("measurement.parquet"),
        measurement(&[Some(1), None]),
    );
    write(
        &dir.path().join("molecular_test.parquet"),
        molecular_test(&[(1, "T1"), (2, "T1")]),
    );
    for _ in 0..3 {
        let stderr = assert_rejected(
            dir.path(),
            &["measurement.parquet: column person_id: 1 rows have no person_id"],
        );
        assert!(!stderr.contains("test_id"), "{stderr}");
    }
}

#[test]
fn ids_of_different_types_across_tables() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("person.parquet"), person(&[1]));
    let mut m = measurement(&[Some(1)]);
    m[0] = ("person_id", texts(&["1"]));
    write(&dir.path().join("measurement.parquet"), m);
    assert_rejected(
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
    assert_rejected(dir.path(), &["person.parquet: not a readable Parquet file"]);
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
    assert_rejected(
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
    assert_rejected(
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
    assert_rejected(
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
    assert_rejected(
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
    assert_rejected(dir.path(), &["extract.toml:2:"]);
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
    assert_rejected(
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
    assert_rejected(
        dir.path(),
        &[
            "__HIVE_DEFAULT_PARTITION__",
            "column sex: 1 rows have no sex (first: person_id 3)",
        ],
    );
}
