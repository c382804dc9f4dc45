//! Unit tests of the expression parser: precedence, windows, tests, quantities, error places.

use super::*;
use crate::definition::model::CmpOp;

/// The tree without spans, as a compact string, so that shapes are easy to assert.
fn shape(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Const(b) => b.to_string(),
        ExprKind::Unknown => "unknown".into(),
        ExprKind::Not(x) => format!("not({})", shape(x)),
        ExprKind::And(xs) => format!(
            "and({})",
            xs.iter().map(shape).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::Or(xs) => format!(
            "or({})",
            xs.iter().map(shape).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::Confirmed(x) => format!("confirmed({})", shape(x)),
        ExprKind::PrimaryIn(n) => format!("primary_in({})", n.text),
        ExprKind::Any { source, .. } => format!("any({})", source.text),
        other => format!("{other:?}"),
    }
}

#[test]
fn not_binds_tighter_than_and_and_and_than_or() {
    // `not a and b or c` = ((not a) and b) or c
    let e = parse_condition("not primary in a and primary in b or primary in c").unwrap();
    assert_eq!(
        shape(&e),
        "or(and(not(primary_in(a)), primary_in(b)), primary_in(c))"
    );
    let e = parse_condition("primary in a or primary in b and not (primary in c or true)").unwrap();
    assert_eq!(
        shape(&e),
        "or(primary_in(a), and(primary_in(b), not(or(primary_in(c), true))))"
    );
}

#[test]
fn latest_with_window_and_unit() {
    let e = parse_condition("latest haemoglobin within 30 days > 9 g/dL").unwrap();
    let ExprKind::Latest {
        source,
        window,
        test,
    } = e.kind
    else {
        panic!("not a latest: {e:?}")
    };
    assert_eq!(source.text, "haemoglobin");
    assert_eq!(window.map(|w| w.kind), Some(WindowKind::Within(30)));
    let TestKind::Compare(CmpOp::Gt, qty) = test.kind else {
        panic!("not a comparison")
    };
    let QtyKind::Number { value, unit } = qty.kind else {
        panic!("not a number")
    };
    assert_eq!(value, 9.0);
    // `g/dL` sits at bytes 38..42 of the string.
    assert_eq!(
        unit.map(|u| (u.text, u.span)),
        Some(("g/dL".to_string(), 38..42))
    );
}

#[test]
fn glued_unit_and_conditional_limit() {
    let e =
        parse_condition("latest ast < if any liver_metastasis then 5xULN else 2.5 xULN").unwrap();
    let ExprKind::Latest { test, .. } = e.kind else {
        panic!()
    };
    let TestKind::Compare(CmpOp::Lt, qty) = test.kind else {
        panic!()
    };
    let QtyKind::If(cond, then, otherwise) = qty.kind else {
        panic!()
    };
    assert_eq!(shape(&cond), "any(liver_metastasis)");
    assert!(
        matches!(then.kind, QtyKind::Number { value, unit: Some(ref u) } if value == 5.0 && u.text == "xULN")
    );
    assert!(matches!(otherwise.kind, QtyKind::Number { value, .. } if value == 2.5));
}

#[test]
fn ongoing_or_ended_is_a_window_not_a_disjunction() {
    let e =
        parse_condition("any enzyme_inducers ongoing or ended within 14 days or false").unwrap();
    let ExprKind::Or(items) = e.kind else {
        panic!()
    };
    let ExprKind::Any { window, .. } = &items[0].kind else {
        panic!()
    };
    assert_eq!(
        window.as_ref().map(|w| w.kind),
        Some(WindowKind::OngoingOrEndedWithin(14))
    );
}

#[test]
fn where_clause_with_person_conditions() {
    let e = parse_condition(
        "any treatment ongoing where (atc in anticancer or kind is \"radiotherapy\") and not (atc in castration and primary in prostate)",
    )
    .unwrap();
    let ExprKind::Any {
        filter: Some(filter),
        ..
    } = e.kind
    else {
        panic!()
    };
    let RecKind::And(parts) = filter.kind else {
        panic!()
    };
    assert!(
        matches!(&parts[0].kind, RecKind::Or(x) if matches!(&x[1].kind, RecKind::KindIs(k) if k.text == "radiotherapy"))
    );
    let RecKind::Not(inner) = &parts[1].kind else {
        panic!()
    };
    let RecKind::And(both) = &inner.kind else {
        panic!()
    };
    assert!(matches!(&both[1].kind, RecKind::Person(p) if shape(p) == "primary_in(prostate)"));
}

#[test]
fn syntax_errors_point_at_the_token() {
    // `>` where a test was expected is fine; a missing number is not: the end of the text.
    let err = parse_condition("latest haemoglobin within 30 days >").unwrap_err();
    assert_eq!(err.span, 35..35);
    let err = parse_condition("latest ecog within thirty days <= 2").unwrap_err();
    assert_eq!(err.span, 19..25);
    let err = parse_condition("primary in a b").unwrap_err();
    assert_eq!(err.span, 13..14);
    let err = parse_condition("sex in [\"F\" \"U\"]").unwrap_err();
    assert!(err.message.contains("`,` or `]`"));
    assert!(parse_condition("").is_err());
    assert!(parse_condition("(true").is_err());
    assert!(parse_condition("latest extent is 'metastatic").is_err());
}
