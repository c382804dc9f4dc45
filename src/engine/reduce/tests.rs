//! The per-patient reductions against tallies worked out by hand: max, bitwise or and sum by
//! patient row, nulls, chunk boundaries, and the kernels' one-column max slots.

use super::*;

fn morsel(rows: &[IdxSize], max: &[Option<i32>], or: &[u64], sum: &[u32]) -> DataFrame {
    df!(
        ROW => rows,
        "max" => max,
        "or" => or,
        "sum" => sum,
    )
    .unwrap()
}

fn reduction(patients: usize) -> PatientReduction {
    PatientReduction::new(
        vec![
            ("max".into(), Reduce::Max, DataType::Int32),
            ("or".into(), Reduce::BitOr, DataType::UInt64),
            ("sum".into(), Reduce::Sum, DataType::UInt32),
        ],
        patients,
    )
    .unwrap()
}

/// The slots of the two morsels below, worked out by hand.
fn folded_by_hand() -> DataFrame {
    df!(
        "max" => [Some(9i32), None, None, Some(-4)],
        "or" => [Some(0b1011u64), Some(0b11), None, Some(0b100)],
        "sum" => [Some(12u32), Some(8), None, Some(1)],
    )
    .unwrap()
}

/// Worked out by hand: patient 0 has records in both morsels, 1 only null `max` values, 2
/// none, 3 one record; nulls are skipped, as in a group-by.
#[test]
fn records_fold_into_their_patients_slots_across_morsels() {
    let first = morsel(
        &[3, 0, 1],
        &[Some(-4), Some(7), None],
        &[0b100, 0b001, 0b10],
        &[1, 2, 3],
    );
    let second = morsel(
        &[0, 1, 0],
        &[Some(9), None, None],
        &[0b010, 0b01, 0b1000],
        &[4, 5, 6],
    );
    let records = first.vstack(&second).unwrap().lazy();
    let mut by_morsel = reduction(4);
    by_morsel.fold(&first).unwrap();
    by_morsel.fold(&second).unwrap();
    let folded = by_morsel.finish();
    let streamed = reduction(4).run(records).unwrap();
    for columns in [folded, streamed] {
        let frame = DataFrame::new(4, columns).unwrap();
        assert_eq!(frame, folded_by_hand());
    }
}

/// The two morsels above as one, its columns chunked apart: rows in one chunk, `max` cut
/// after 2 and 4 rows, `or` after 3, `sum` after 1. The pieces are cut at every boundary
/// (1, 2, 3, 4), each column one chunk, and the folds are the hand-worked values above.
#[test]
fn a_morsel_chunked_apart_folds_piece_by_piece() {
    let chunked = |name: &str, parts: Vec<Series>| -> Column {
        let mut parts = parts.into_iter();
        let mut column = parts.next().unwrap();
        for part in parts {
            column.append(&part).unwrap();
        }
        column.with_name(name.into()).into_column()
    };
    let max = [Some(-4), Some(7), None, Some(9), None, None];
    let or = [0b100u64, 0b001, 0b10, 0b010, 0b01, 0b1000];
    let sum = [1u32, 2, 3, 4, 5, 6];
    let frame = DataFrame::new(
        6,
        vec![
            Column::new(ROW.into(), [3 as IdxSize, 0, 1, 0, 1, 0]),
            chunked(
                "max",
                vec![
                    Series::new("".into(), &max[..2]),
                    Series::new("".into(), &max[2..4]),
                    Series::new("".into(), &max[4..]),
                ],
            ),
            chunked(
                "or",
                vec![
                    Series::new("".into(), &or[..3]),
                    Series::new("".into(), &or[3..]),
                ],
            ),
            chunked(
                "sum",
                vec![
                    Series::new("".into(), &sum[..1]),
                    Series::new("".into(), &sum[1..]),
                ],
            ),
        ],
    )
    .unwrap();
    let pieces = crate::engine::aligned_pieces(&frame);
    let heights: Vec<usize> = pieces.iter().map(DataFrame::height).collect();
    assert_eq!(heights, [1, 1, 1, 1, 2]);
    for piece in &pieces {
        assert!(piece.columns().iter().all(|c| c.n_chunks() == 1));
    }
    let mut reduction = reduction(4);
    reduction.fold(&frame).unwrap();
    let folded = DataFrame::new(4, reduction.finish()).unwrap();
    assert_eq!(folded, folded_by_hand());
}

/// Orphan records (a null row, [`super::super::lookup::PatientRows::attach`]) first, two
/// together in the middle and last, with values that would change every slot they reached
/// (a larger `max`, new `or` bits, more `sum`): skipped, the folds are the hand-worked
/// values above, morsel by morsel and streamed.
#[test]
fn orphan_records_are_skipped() {
    let with_orphans = |rows: &[Option<IdxSize>], max: &[Option<i32>], or: &[u64], sum: &[u32]| {
        df!(ROW => rows, "max" => max, "or" => or, "sum" => sum).unwrap()
    };
    let first = with_orphans(
        &[None, Some(3), Some(0), None, None, Some(1), None],
        &[
            Some(99),
            Some(-4),
            Some(7),
            Some(99),
            Some(99),
            None,
            Some(99),
        ],
        &[1 << 40, 0b100, 0b001, 1 << 41, 1 << 42, 0b10, 1 << 43],
        &[1000, 1, 2, 1000, 1000, 3, 1000],
    );
    let second = with_orphans(
        &[Some(0), Some(1), None, Some(0)],
        &[Some(9), None, Some(99), None],
        &[0b010, 0b01, 1 << 44, 0b1000],
        &[4, 5, 1000, 6],
    );
    let mut by_morsel = reduction(4);
    by_morsel.fold(&first).unwrap();
    by_morsel.fold(&second).unwrap();
    let folded = by_morsel.finish();
    let records = first.vstack(&second).unwrap().lazy();
    let streamed = reduction(4).run(records).unwrap();
    for columns in [folded, streamed] {
        let frame = DataFrame::new(4, columns).unwrap();
        assert_eq!(frame, folded_by_hand());
    }
    // A morsel of orphans only folds nothing.
    let mut nothing = reduction(2);
    nothing
        .fold(&with_orphans(
            &[None, None],
            &[Some(1), None],
            &[1, 2],
            &[3, 4],
        ))
        .unwrap();
    let frame = DataFrame::new(2, nothing.finish()).unwrap();
    assert_eq!(frame.column("max").unwrap().null_count(), 2);
}

#[test]
fn only_integer_columns_are_reduced_by_row() {
    let spec = |dtype| vec![("x".into(), Reduce::Max, dtype)];
    assert!(PatientReduction::new(spec(DataType::Int8), 3).is_some());
    assert!(PatientReduction::new(spec(DataType::Float64), 3).is_none());
    assert!(PatientReduction::new(spec(DataType::Boolean), 3).is_none());
}

/// A row outside the core is an error, not a panic.
#[test]
fn a_row_outside_the_core_is_an_error() {
    let records = morsel(&[0, 4], &[Some(1), Some(2)], &[1, 1], &[1, 1]);
    assert!(reduction(4).fold(&records).is_err());
    assert!(reduction(4).run(records.lazy()).is_err());
}

/// Max of an unsigned column (the variants' flags as bytes on the polars path) keeps its flags:
/// worked out by hand, patient 0 had a "no" (0) and a "yes" (1), 1 only a "no", which is a value
/// (0), not "no record", 2 only a null, 3 nothing; a signed `any` code of -128 is a value too.
#[test]
fn max_keeps_the_minimum_of_a_column_as_a_value() {
    let mut reduction = PatientReduction::new(
        vec![
            ("flag".into(), Reduce::Max, DataType::UInt8),
            ("code".into(), Reduce::Max, DataType::Int8),
        ],
        4,
    )
    .unwrap();
    let morsel = df!(
        ROW => [0 as IdxSize, 1, 0, 2],
        "flag" => [Some(0u8), Some(0), Some(1), None],
        "code" => [Some(2i8), Some(i8::MIN), Some(0), None],
    )
    .unwrap();
    reduction.fold(&morsel).unwrap();
    let folded = DataFrame::new(4, reduction.finish()).unwrap();
    let by_hand = df!(
        "flag" => [Some(1u8), Some(0), None, None],
        "code" => [Some(2i8), Some(i8::MIN), None, None],
    )
    .unwrap();
    assert_eq!(folded, by_hand);
}

/// Max slots by hand over four patients: 5 then 3 keeps 5; a patient with no record is null;
/// a record of the type's minimum (the "no record" mark) is still a value, and one folded
/// before a larger value is overtaken by it. `at_least` is "has a value, and it is at least".
#[test]
fn max_slots_keep_a_value_at_the_minimum_apart_from_no_record() {
    let mut slots = MaxSlots::<i32>::new(4);
    for (row, value) in [(0, 5), (0, 3), (2, i32::MIN), (3, i32::MIN), (3, 7)] {
        slots.max(row, value);
    }
    assert!(slots.at_least(0, 5) && !slots.at_least(0, 6));
    assert!(!slots.at_least(1, i32::MIN) && !slots.at_least(1, -100));
    assert!(slots.at_least(2, i32::MIN) && !slots.at_least(2, i32::MIN + 1));
    assert!(slots.at_least(3, 7) && !slots.at_least(3, 8));
    let column = slots.finish::<Int32Type>("max");
    let column = column.i32().unwrap();
    let values: Vec<Option<i32>> = (0..4).map(|row| column.get(row)).collect();
    assert_eq!(values, [Some(5), None, Some(i32::MIN), Some(7)]);
}

/// Max slots against a model of optional maxima, on random folds of small values crossing the
/// minimum of `i8` (the `any` codes' type): one or two folds a patient on average, so that many
/// patients have only the minimum.
#[test]
fn max_slots_agree_with_optional_maxima() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let values = [i8::MIN, i8::MIN + 1, -1, 0, 1, 2, i8::MAX];
    let patients = 200;
    let mut slots = MaxSlots::<i8>::new(patients);
    let mut model: Vec<Option<i8>> = vec![None; patients];
    for _ in 0..300 {
        let row = rng.random_range(0..patients);
        let value = values[rng.random_range(0..values.len())];
        let asked = values[rng.random_range(0..values.len())];
        let expected = model[row].is_some_and(|m| m >= asked);
        assert_eq!(slots.at_least(row, asked), expected, "{row} {asked}");
        slots.max(row, value);
        model[row] = Some(model[row].map_or(value, |m| m.max(value)));
    }
    let column = slots.finish::<Int8Type>("max");
    let column = column.i8().unwrap();
    let values: Vec<Option<i8>> = (0..patients).map(|row| column.get(row)).collect();
    assert_eq!(values, model);
}
