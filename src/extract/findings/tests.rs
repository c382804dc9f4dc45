//! The findings' rules on values at their edges.

use super::*;

fn count(table: Table, column: &str, df: DataFrame) -> u64 {
    let (_, rule) = domain_rules(table)
        .into_iter()
        .find(|(c, _)| *c == column)
        .unwrap();
    let out = df
        .clone()
        .lazy()
        .select([count_true(rule.expr(column)).alias("n")])
        .collect()
        .unwrap();
    let by_polars = out.column("n").unwrap().u64().unwrap().get(0).unwrap();
    let in_memory = rule.count(column, &df, &mut None, None).unwrap();
    assert_eq!(
        in_memory, by_polars,
        "{table}.{column}: in memory and by polars"
    );
    // The texts' allowed codes as a reader computes them on read, where there are texts.
    if let Ok(texts) = df.column("value_text").and_then(|texts| texts.str()) {
        let allowed: Vec<TextAllowed> = texts.iter().map(text_allowed).collect();
        let on_read = rule.count(column, &df, &mut None, Some(&allowed)).unwrap();
        assert_eq!(
            on_read, by_polars,
            "{table}.{column}: from the bits on read"
        );
    }
    by_polars
}

#[test]
fn ecog_and_grades_are_whole_numbers_from_0_to_5() {
    // Out of domain: ECOG 7, ECOG 1.5, CTCAE grade -1. In domain: ECOG 0, neuropathy 5,
    // an unknown code with value 9, a null value_num, a null code with value 7.
    let df = df!(
        "code" => [Some("89247-1"), Some("89247-1"), Some("ctcae-max-grade"), Some("89247-1"), Some("neuropathy-grade"), Some("weight-class"), Some("89247-1"), None],
        "value_num" => [Some(7.0), Some(1.5), Some(-1.0), Some(0.0), Some(5.0), Some(9.0), None, Some(7.0)],
        "value_text" => [None::<&str>, None, None, None, None, None, None, None],
    )
    .unwrap();
    assert_eq!(count(Table::Observation, "value_num", df), 3);
}

/// Grades at the edges of the domain, by polars' float order (NaN above every number): out
/// are NaN, both infinities, 5.000001 and 1e300, and the neighbours of whole numbers (the
/// double just below 5 and just above 3, 0.5 and 1e-300: none is whole); in are -0.0, 0, 4
/// and 5, and a graded value under a padded code (codes are compared as stored).
#[test]
fn grades_at_the_edges_of_their_domain() {
    let values = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        5.000001,
        1e300,
        -0.0,
        0.0,
        4.0,
        5.0,
        2.5,
        f64::from_bits(5.0f64.to_bits() - 1),
        f64::from_bits(3.0f64.to_bits() + 1),
        0.5,
        1e-300,
    ];
    let mut codes = vec![Some("89247-1"); values.len()];
    codes[9] = Some(" 89247-1");
    let df = df!(
        "code" => codes,
        "value_num" => values.map(Some),
        "value_text" => [None::<&str>; 14],
    )
    .unwrap();
    assert_eq!(count(Table::Observation, "value_num", df), 9);
}

/// A null grade is no finding whatever value its slot holds: two graded rows whose values
/// are both 7, the first null.
#[test]
fn a_null_grade_is_no_finding_whatever_its_slot_holds() {
    let values = PrimitiveArray::new(
        ArrowDataType::Float64,
        vec![7.0f64, 7.0].into(),
        Some(polars_arrow::bitmap::Bitmap::from([false, true])),
    );
    let df = df!(
        "code" => ["89247-1", "89247-1"],
        "value_num" => Float64Chunked::from_chunk_iter("value_num".into(), [values]),
        "value_text" => [None::<&str>; 2],
    )
    .unwrap();
    assert_eq!(count(Table::Observation, "value_num", df), 1);
}

#[test]
fn text_codes_have_their_values() {
    // Out: extent "advanced", pregnant "yes". In: extent "metastatic", allergy with any ATC
    // code (not a closed list), a null value_text.
    let df = df!(
        "code" => ["extent", "pregnant", "extent", "allergy", "nursing"],
        "value_num" => [None::<f64>, None, None, None, None],
        "value_text" => [Some("advanced"), Some("yes"), Some("metastatic"), Some("L01EC02"), None],
    )
    .unwrap();
    assert_eq!(count(Table::Observation, "value_text", df), 2);
}

#[test]
fn sex_outside_f_m_u() {
    let df = df!("sex" => [Some("F"), Some("X"), Some("m"), None, Some("U")]).unwrap();
    // "X" and lower-case "m" are not in the contract's list; null is a null, not a finding.
    assert_eq!(count(Table::Person, "sex", df), 2);
}
