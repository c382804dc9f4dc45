//! Extracts that follow the contract in its less common forms: timestamps, string ids, folders,
//! hive partitions, Spark output, compatible types; and what `scan` and `files` give for them.

use assert_cmd::Command;
use eligo::extract::{Extract, IdType, Table};
use polars::prelude::*;

use super::check;
use super::fixtures::*;

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
fn pipeline_and_data_are_checked_together() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("person.parquet"), person(&[1, 2]));
    let out = Command::cargo_bin("eligo")
        .unwrap()
        .args([
            "check",
            "--pipeline",
            "pipelines/impress-norway.toml",
            "--data",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ok: 25 criteria"), "{stdout}");
    assert!(stdout.contains("follows the contract"), "{stdout}");
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

#[test]
fn extra_decimal_and_struct_columns_are_ignored() {
    // SQL exports carry decimals, and some exports nest structs; the contract ignores extra
    // columns, so the extract is valid and the run reads around them.
    use arrow::array::{Decimal128Array, Int32Array, StructArray};
    use arrow::datatypes::{DataType as ArrowType, Field};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let weight = Decimal128Array::from(vec![7050_i128, 8125])
        .with_precision_and_scale(10, 2)
        .unwrap();
    let address = StructArray::from(vec![(
        Arc::new(Field::new("zip", ArrowType::Int32, true)),
        Arc::new(Int32Array::from(vec![5020, 7030])) as arrow::array::ArrayRef,
    )]);
    let mut p = person(&[1, 2]);
    p.push(("weight", Arc::new(weight)));
    p.push(("address", Arc::new(address)));
    write(&dir.path().join("person.parquet"), p);
    let out = Command::cargo_bin("eligo")
        .unwrap()
        .args(["check", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("follows the contract"), "{stdout}");
}
