//! [`super::RowChecks`]: counted in memory as by polars, over parts, chunks and nulls.

use super::*;
use crate::extract::schema::IdType;
use crate::extract::DataQuality;
use polars_arrow::bitmap::Bitmap;

fn checks(table: Table) -> RowChecks {
    let ids = Series::new("person_id".into(), [1i64, 2, 3]);
    let dense = Arc::new(DenseIds::of(&ids).unwrap());
    // T1 is patient 1's test, T2 patient 2's.
    let tests = StringChunked::new("test_id".into(), ["T1", "T2"]);
    let owners = Series::new("person_id".into(), [1i64, 2]);
    let (tests, _) = TestIds::of(&tests, &owners).unwrap();
    RowChecks::of(table, Some(&dense), &TestSet::All(Arc::new(tests)))
}

/// `rows` of `table` counted in memory, which must agree with polars' count of them, recorded
/// as a run records a partition's findings.
fn recorded(table: Table, rows: &DataFrame) -> DataQuality {
    let checks = checks(table);
    let in_memory = checks.count_in_memory(rows).unwrap();
    assert_eq!(in_memory, checks.count(rows.clone().lazy()).unwrap());
    let mut quality = DataQuality::default();
    in_memory.record(&mut quality);
    quality
}

/// A run reads into memory only the engine's columns and [`RowChecks::columns`]: a frame of
/// just those must be enough for every table's checks.
#[test]
fn the_checks_read_only_their_columns() {
    for table in Table::ALL {
        let checks = checks(table);
        let columns: Vec<Expr> = checks.columns().into_iter().map(col).collect();
        let rows = super::super::scan::empty(table, IdType::Int64).select(columns);
        let found = checks.count(rows);
        assert!(found.is_ok(), "{table}: {found:?}");
    }
    let names = |table| checks(table).columns();
    assert_eq!(
        names(Table::Observation),
        ["value_num", "value_text", "person_id", "code"]
    );
    assert_eq!(
        names(Table::Variant),
        ["class", "value", "person_id", "test_id"]
    );
    assert_eq!(names(Table::Person), ["sex"]);
}

/// Counts over two parts of a table add up to the counts over the whole, worked out by hand:
/// patient 9 is no one's (2 rows), -1.0 is out of domain (1), "furlong" (twice) and " g/L"
/// are no contract unit (3); recorded twice, each count doubles.
#[test]
fn counts_over_parts_add_up() {
    let rows = || {
        df!(
            "person_id" => [1i64, 9, 2, 9, 3],
            "value" => [Some(1.0), Some(-1.0), None, Some(0.0), Some(2.0)],
            "unit" => [Some("g/L"), Some("furlong"), Some("furlong"), None, Some(" g/L")],
        )
        .unwrap()
        .lazy()
    };
    let checks = checks(Table::Measurement);
    let mut parts = checks.count(rows().slice(0, 2)).unwrap();
    parts.add(&checks.count(rows().slice(2, 3)).unwrap());
    let whole = checks.count(rows()).unwrap();
    assert_eq!(parts, whole);
    let in_memory = checks.count_in_memory(&rows().collect().unwrap()).unwrap();
    assert_eq!(in_memory, whole);
    let mut quality = DataQuality::default();
    parts.record(&mut quality);
    parts.record(&mut quality);
    let mut q = |column| quality.column_mut(Table::Measurement, column).clone();
    assert_eq!(q("person_id").orphan_rows, 4);
    assert_eq!(q("value").out_of_domain, 2);
    // " g/L" is not a contract unit either: units are compared as written.
    assert_eq!(q("unit").unconvertible_units, 6);
}

/// Variants, counted in memory and by polars alike, worked out by hand: test ids T3, a null
/// and T0 are no test's (3), T1 of patient 4 is patient 1's test and T2 of a null person is no
/// test of the row's person (2; T1 of patient 1 and T2 of patient 2 are their own), 5 in all;
/// patients 0 and 4 and a null id are no one's (3);
/// values -0.5 and -inf are below zero (2; NaN, -0.0, a null and 0.3 are not); classes
/// "SNV" and "gain" are not the contract's (2; a null is no finding).
#[test]
fn variants_counted_in_memory_as_by_polars() {
    let rows = df!(
        "person_id" => [Some(1i64), Some(0), Some(2), None, Some(3), Some(4), Some(2)],
        "test_id" => [Some("T1"), Some("T3"), None, Some("T2"), Some("T0"), Some("T1"), Some("T2")],
        "value" => [Some(-0.5), Some(f64::NAN), Some(-0.0), None, Some(f64::NEG_INFINITY), Some(0.3), Some(1.0)],
        "class" => [Some("snv"), Some("SNV"), Some("fusion"), None, Some("gain"), Some("amplification"), Some("snv")],
    )
    .unwrap();
    let mut quality = recorded(Table::Variant, &rows);
    let mut q = |column| quality.column_mut(Table::Variant, column).clone();
    assert_eq!(q("test_id").orphan_rows, 5);
    assert_eq!(q("person_id").orphan_rows, 3);
    assert_eq!(q("value").out_of_domain, 2);
    assert_eq!(q("class").out_of_domain, 2);
}

/// A null counts by its validity, whatever value it hides: worked out by hand, ids 1, 1, 3,
/// 3 are people's and 7 is not (1 orphan), and the nulls over 2 (a person's) and 9 are
/// orphans too (3 in all); -1.0 is below zero (1), the nulls over -2.0 and -0.5 are not.
/// In memory and by polars alike.
#[test]
fn nulls_count_whatever_values_they_hide() {
    let validity = |valid: &[bool]| Some(Bitmap::from(valid));
    let ids = Int64Chunked::from_vec_validity(
        "person_id".into(),
        vec![1, 1, 2, 3, 3, 7, 9],
        validity(&[true, true, false, true, true, true, false]),
    );
    let values = Float64Chunked::from_vec_validity(
        "value".into(),
        vec![-1.0, -2.0, 0.0, 5.0, -0.5, 1.0, 2.0],
        validity(&[true, false, true, true, false, true, true]),
    );
    let units = StringChunked::new("unit".into(), ["g/L"; 7]);
    let rows = DataFrame::new(
        7,
        vec![ids.into_column(), values.into_column(), units.into_column()],
    )
    .unwrap();
    let mut quality = recorded(Table::Measurement, &rows);
    let mut q = |column| quality.column_mut(Table::Measurement, column).clone();
    assert_eq!(q("person_id").orphan_rows, 3);
    assert_eq!(q("value").out_of_domain, 1);
}

/// Nulls over several words of the validity: 150 measurements, row `i` valued -1.0 where `i`
/// is even and 1.0 where odd, null where `i` is a multiple of 3 or from 60 to 70 (across the
/// first word's end). Below zero: the even rows that are neither, worked out by counting them
/// apart: 75 even rows, less the 25 multiples of 6, less the even rows from 60 to 70 that are
/// not multiples of 6 (62, 64, 68, 70) = 46. In memory and by polars alike.
#[test]
fn nulls_across_validity_words_count_whatever_values_they_hide() {
    let rows = 150;
    let null = |i: usize| i.is_multiple_of(3) || (60..=70).contains(&i);
    let values = Float64Chunked::from_vec_validity(
        "value".into(),
        (0..rows)
            .map(|i| if i % 2 == 0 { -1.0 } else { 1.0 })
            .collect(),
        Some(Bitmap::from_iter((0..rows).map(|i| !null(i)))),
    );
    let ids = Int64Chunked::new("person_id".into(), vec![1i64; rows]);
    let units = StringChunked::new("unit".into(), vec!["g/L"; rows]);
    let rows = DataFrame::new(
        rows,
        vec![ids.into_column(), values.into_column(), units.into_column()],
    )
    .unwrap();
    let mut quality = recorded(Table::Measurement, &rows);
    assert_eq!(
        quality
            .column_mut(Table::Measurement, "value")
            .out_of_domain,
        46
    );
}

/// Observations, whose grade and text checks share one reading of the codes, worked out by
/// hand: ECOG 7 is out of its grades (1; CTCAE 2 is in, and a text code's number is not a
/// grade), "regional" is no extent (1; "local" is one, a padded " extent" is no text code as
/// written, and a graded code's text is not checked). In memory and by polars alike.
#[test]
fn observations_counted_in_memory_as_by_polars() {
    let rows = df!(
        "person_id" => [1i64, 1, 2, 2, 3, 3, 3],
        "code" => [Some("89247-1"), Some("extent"), Some("extent"), Some("ctcae-max-grade"), Some(" extent"), None, Some("89247-1")],
        "value_num" => [Some(7.0), Some(9.0), None, Some(2.0), None, Some(8.0), Some(1.0)],
        "value_text" => [None, Some("regional"), Some("local"), None, Some("regional"), Some("x"), Some("y")],
    )
    .unwrap();
    let mut quality = recorded(Table::Observation, &rows);
    let mut q = |column| quality.column_mut(Table::Observation, column).clone();
    assert_eq!(q("value_num").out_of_domain, 1);
    assert_eq!(q("value_text").out_of_domain, 1);
}

/// A frame of several chunks (two partitions' reads appended) counts as its rows do.
#[test]
fn chunks_counted_in_memory_as_by_polars() {
    let part =
        |ids: [i64; 3], kinds: [Option<&str>; 3]| df!("person_id" => ids, "kind" => kinds).unwrap();
    let mut rows = part([1, 7, 2], [Some("drug"), Some("surgery"), None]);
    rows.vstack_mut(&part(
        [3, 3, 8],
        [Some("radiotherapy"), Some("Drug"), Some("drug")],
    ))
    .unwrap();
    assert_eq!(rows.first_col_n_chunks(), 2);
    let mut quality = recorded(Table::Treatment, &rows);
    // Patients 7 and 8 are no one's; "surgery" and "Drug" are not kinds of the contract.
    assert_eq!(
        quality
            .column_mut(Table::Treatment, "person_id")
            .orphan_rows,
        2
    );
    assert_eq!(
        quality.column_mut(Table::Treatment, "kind").out_of_domain,
        2
    );
}

/// A domain check is dropped only where the values given are all allowed: the molecular tests'
/// methods are (so `method` is not read), their specimens hold one value outside the contract
/// (` plasma-cfdna`, padded), and the orphans' and units' checks are never dropped.
#[test]
fn checks_proven_by_the_values_given() {
    let values = |column: &str| {
        let values: &[&str] = match column {
            "method" => &["wes", "ngs-panel"],
            "specimen" => &["tissue-primary", " plasma-cfdna"],
            "person_id" | "unit" => &["anything"],
            _ => return None,
        };
        Some(values.iter().map(|v| v.to_string()).collect())
    };
    let proven = checks(Table::MolecularTest).without_proven(values);
    assert_eq!(proven.columns(), ["specimen", "person_id"]);
    let proven = checks(Table::Measurement).without_proven(values);
    assert_eq!(proven.columns(), ["value", "unit", "person_id"]);
    assert!(proven.counts_units());
    // No values, no proof; no values at all (a column of nulls), nothing to flag.
    let proven = checks(Table::Treatment).without_proven(|_| None);
    assert_eq!(proven.columns(), ["kind", "person_id"]);
    let proven = checks(Table::Treatment).without_proven(|_| Some(BTreeSet::new()));
    assert_eq!(proven.columns(), ["person_id"]);
}
