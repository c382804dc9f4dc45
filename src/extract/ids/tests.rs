//! The id sets at their edges: repeats, ranges, chunks, nulls, and both paths against a join.

use super::*;

fn ids(values: &[i64]) -> Series {
    Series::new("person_id".into(), values)
}

/// How many of `records` an `absent` expression flags, summed by polars.
fn absent_rows(records: LazyFrame, absent: Expr) -> Option<u64> {
    let out = records.select([absent.sum().alias("n")]).collect().unwrap();
    out.column("n").unwrap().get(0).unwrap().extract::<u64>()
}

#[test]
fn repeats_are_found_next_to_each_other() {
    assert!(!has_repeats(&ids(&[1, 2, 5])).unwrap());
    assert!(has_repeats(&ids(&[1, 2, 2, 5])).unwrap());
    let text = Series::new("person_id".into(), ["a", "b", "b"]);
    assert!(has_repeats(&text).unwrap());
    assert!(!has_repeats(&ids(&[])).unwrap());
    // Across chunks: 2 ends one and starts the next.
    let mut chunked = ids(&[1, 2]);
    chunked.append(&ids(&[2, 5])).unwrap();
    assert!(has_repeats(&chunked).unwrap());
    // Nulls (sorted first): two of them are a repeat, one is not; Int32 ids alike.
    let nullable = |values: &[Option<i32>]| Series::new("person_id".into(), values);
    assert!(has_repeats(&nullable(&[None, None, Some(1)])).unwrap());
    assert!(!has_repeats(&nullable(&[None, Some(1), Some(2)])).unwrap());
    assert!(has_repeats(&nullable(&[Some(1), Some(4), Some(4)])).unwrap());
}

/// Ids over two chunks, a null among them: the nulls are no id, the others all are.
#[test]
fn dense_ids_of_chunks_with_nulls() {
    let mut sorted = Series::new("person_id".into(), [None, Some(3i64)]);
    sorted
        .append(&Series::new("person_id".into(), [Some(5i64)]))
        .unwrap();
    let set = DenseIds::of(&sorted).unwrap();
    let members: Vec<i64> = (0..8).filter(|&id| set.contains(id)).collect();
    assert_eq!(members, [3, 5]);
}

#[test]
fn membership_at_the_ends_of_the_range_and_outside_it() {
    let set = DenseIds::of(&ids(&[-3, 0, 63, 64, 200])).unwrap();
    for present in [-3, 0, 63, 64, 200] {
        assert!(set.contains(present), "{present}");
    }
    for absent in [i64::MIN, -4, -2, 1, 62, 65, 199, 201, i64::MAX] {
        assert!(!set.contains(absent), "{absent}");
    }
    // From the lowest id on: i64::MAX is 2^64 - 1 past it, which wraps to -1 in an i64.
    let lowest = DenseIds::of(&ids(&[i64::MIN, i64::MIN + 1])).unwrap();
    assert!(lowest.contains(i64::MIN) && lowest.contains(i64::MIN + 1));
    for absent in [i64::MIN + 2, -1, 0, i64::MAX] {
        assert!(!lowest.contains(absent), "{absent}");
    }
}

#[test]
fn sparse_or_text_ids_are_left_to_a_join() {
    // Two ids 2^40 apart: a bitmap would take 128 GiB.
    assert!(DenseIds::of(&ids(&[0, 1 << 40])).is_none());
    assert!(DenseIds::of(&ids(&[i64::MIN, i64::MAX])).is_none());
    assert!(DenseIds::of(&Series::new("person_id".into(), ["a"])).is_none());
    // 1,000 ids over 64,000 values: within 64 bits per id.
    let spread: Vec<i64> = (0..1000).map(|i| i * 64).collect();
    assert!(DenseIds::of(&ids(&spread)).is_some());
}

#[test]
fn no_patients_make_every_record_absent() {
    let set = DenseIds::of(&ids(&[])).unwrap();
    assert!(!set.contains(0));
}

#[test]
fn absent_counts_what_an_anti_join_counts() {
    let set = Arc::new(DenseIds::of(&ids(&[10, 11, 13])).unwrap());
    let records = df!("person_id" => [Some(10i64), Some(12), None, Some(13), Some(99), Some(10)])
        .unwrap()
        .lazy();
    // 12, the null and 99.
    assert_eq!(absent_rows(records, set.absent("person_id")), Some(3));
}

/// Row by row, over a chunk with nulls and one without (after a slice, so the first chunk's
/// bits start mid-byte): absent where not a member or null. The null's value in the buffer
/// is a member's (10), as a Parquet reader may leave it.
#[test]
fn absent_flags_row_by_row_over_chunks() {
    let set = Arc::new(DenseIds::of(&ids(&[10, 11, 13])).unwrap());
    let values = vec![12i64, 10, 10, 11, 12, 13, 14, 10, 99, 11];
    let valid: Bitmap = [true, true, false, true, true, true, true, true, true, true]
        .into_iter()
        .collect();
    let array =
        polars_arrow::array::PrimitiveArray::new(ArrowDataType::Int64, values.into(), Some(valid));
    let mut column = Int64Chunked::with_chunk("person_id".into(), array).slice(1, 9);
    column
        .append(&Int64Chunked::from_slice("person_id".into(), &[13, 9, 10]))
        .unwrap();
    assert_eq!(column.chunks().len(), 2);
    let records = DataFrame::new(12, vec![column.into_series().into_column()]).unwrap();
    let out = records
        .lazy()
        .select([set.absent("person_id")])
        .collect()
        .unwrap();
    let flags: Vec<Option<bool>> = out
        .column("person_id")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect();
    // 10, null, 11, 12, 13, 14, 10, 99, 11 | 13, 9, 10
    let want = [
        false, true, false, true, false, true, false, true, false, false, true, false,
    ];
    assert_eq!(flags, want.map(Some));
}

fn text_ids(values: &[Option<&str>]) -> (TextIds, bool) {
    let ids = StringChunked::from_iter_options("test_id".into(), values.iter().copied());
    TextIds::of(&ids).unwrap()
}

/// The set of `values` as hash tables, whatever their order.
fn hashed_ids(values: &[Option<&str>]) -> (TextIds, bool) {
    let ids = StringChunked::from_iter_options("test_id".into(), values.iter().copied());
    let ids = ids.downcast_iter().next().unwrap().clone();
    TextIds::hashed(ids)
}

proptest::proptest! {
    /// Either path, on ids short enough to repeat and to be prefixes of each other, sorted
    /// and deduplicated (searched) or as drawn: the repeats a set of the ids sees, each
    /// lookup found at a row holding it (from any `from`), or not found where no row does.
    #[test]
    fn both_paths_agree_with_a_set_of_the_ids(
        drawn in proptest::collection::vec("[A-C]{0,3}", 0..40),
        sort in proptest::bool::ANY,
        lookups in proptest::collection::vec(("[A-C]{0,3}", 0usize..50), 0..40),
    ) {
        let mut ids = drawn;
        if sort {
            ids.sort();
            ids.dedup();
        }
        let set: std::collections::BTreeSet<&str> = ids.iter().map(String::as_str).collect();
        let values: Vec<Option<&str>> = ids.iter().map(|id| Some(id.as_str())).collect();
        let (searched, repeats) = text_ids(&values);
        proptest::prop_assert_eq!(repeats, set.len() < ids.len());
        if sort {
            proptest::prop_assert!(searched.ascending);
        }
        for ids_set in [searched, hashed_ids(&values).0] {
            for (id, from) in &lookups {
                match ids_set.row_near(id, *from) {
                    Some(row) => proptest::prop_assert_eq!(&ids[row], id),
                    None => proptest::prop_assert!(!set.contains(id.as_str())),
                }
            }
        }
    }
}

/// Only non-null ids in strictly ascending byte order are searched; a tie, a descent or a
/// null sends the ids to the hash tables, which find the repeat.
#[test]
fn ascending_ids_are_searched_and_others_hashed() {
    let ascending = |values: &[Option<&str>]| text_ids(values).0.ascending;
    assert!(ascending(&[Some("T1"), Some("T2"), Some("T3")]));
    assert!(ascending(&[Some("T1")]) && ascending(&[]));
    // Byte order: upper case before lower case, a prefix before its extensions, ASCII
    // before a multi-byte character.
    assert!(ascending(&[
        Some("T"),
        Some("T1"),
        Some("t"),
        Some("z"),
        Some("é")
    ]));
    assert!(!ascending(&[Some("T2"), Some("T1")]));
    assert!(!ascending(&[Some("T1"), None, Some("T2")]));
    let (tie, repeats) = text_ids(&[Some("T1"), Some("T2"), Some("T2"), Some("T3")]);
    assert!(!tie.ascending && repeats);
    assert!(!text_ids(&[Some("T2"), Some("T1")]).1);
}

/// Ascending ids, searched: each found at its row, from any `from`; ids before the first,
/// after the last, between two, a prefix or an extension of one are not found; and the
/// same answers from the hash tables over the same ids.
#[test]
fn ascending_ids_are_found_as_the_hash_tables_find_them() {
    let ids: Vec<String> = (0..1000).map(|i| format!("T{:05}-1", 3 * i + 1)).collect();
    let values: Vec<Option<&str>> = ids.iter().map(|id| Some(id.as_str())).collect();
    let (searched, repeats) = text_ids(&values);
    assert!(searched.ascending && !repeats);
    let (hashed, _) = hashed_ids(&values);
    assert!(!hashed.ascending);
    for (row, id) in ids.iter().enumerate() {
        for from in [0, row.saturating_sub(2), row, row + 3, 999] {
            assert_eq!(searched.row_near(id, from), Some(row), "{id} from {from}");
        }
    }
    let mut absent: Vec<String> = (0..3001)
        .filter(|i| i % 3 != 1)
        .map(|i| format!("T{i:05}-1"))
        .collect();
    absent.extend(["", "A", "T", "T00001", "T00001-10", "T02998-1 ", "U"].map(String::from));
    for id in &absent {
        assert_eq!(searched.row_near(id, 0), None, "{id}");
        assert_eq!(hashed.row_near(id, 0), None, "{id}");
    }
}

#[test]
fn text_ids_find_their_repeats_and_their_members() {
    let (set, repeats) = text_ids(&[Some("T1"), Some("T2"), None, Some("a longer test id")]);
    assert!(!repeats);
    for present in ["T1", "T2", "a longer test id"] {
        assert!(set.contains(present), "{present}");
    }
    // Neither a prefix, nor a case variant, nor the empty string (a null is no value).
    for absent in ["T", "t1", "T3", "", "a longer test i"] {
        assert!(!set.contains(absent), "{absent}");
    }
    // A repeat found whether it is next to its first or far from it.
    assert!(text_ids(&[Some("T1"), Some("T1")]).1);
    assert!(
        text_ids(&[
            Some("a longer test id"),
            None,
            Some("T2"),
            Some("a longer test id")
        ])
        .1
    );
    // Nulls are not repeats of each other.
    assert!(!text_ids(&[None, None, Some("T1")]).1);
    let (empty, repeats) = text_ids(&[]);
    assert!(!repeats && !empty.contains("T1"));
}

/// The tests of `values`, test `i` of person `persons[i]`.
fn test_ids(values: &[Option<&str>], persons: Series) -> TestIds {
    let ids = StringChunked::from_iter_options("test_id".into(), values.iter().copied());
    TestIds::of(&ids, &persons).unwrap().0
}

/// How many variants name no test of their own person, worked out by hand: T4 (no test), the
/// null, patient 2's T1 (patient 1's test) and t2 (ids are case-sensitive): 4. Alike with
/// Int64 and string person ids, and by polars' expression.
#[test]
fn variants_name_tests_of_their_own_person() {
    let tests = [Some("T1"), Some("T2"), Some("T3")];
    let persons = [1i64, 1, 2, 3, 2, 2];
    let variant_tests = [
        Some("T1"),
        Some("T4"),
        None,
        Some("T3"),
        Some("T1"),
        Some("t2"),
    ];
    let want = [false, true, true, false, true, true];
    for strings in [false, true] {
        let ids = |values: &[i64]| {
            let ids = Series::new("person_id".into(), values);
            match strings {
                true => ids.cast(&DataType::String).unwrap(),
                false => ids,
            }
        };
        let set = Arc::new(test_ids(&tests, ids(&[1, 2, 3])));
        let variant_persons = ids(&persons);
        let variant_ids = Series::new("test_id".into(), variant_tests);
        assert_eq!(set.not_own(&variant_persons, &variant_ids).unwrap(), want);
        // Each variant's test row, whoever's test it is (patient 2's T1 is row 0), and the
        // same count.
        let (rows, not_own) = set.rows_of(&variant_persons, &variant_ids).unwrap();
        let rows: Vec<Option<IdxSize>> = rows.iter().collect();
        assert_eq!(rows, [Some(0), None, None, Some(2), Some(0), None]);
        assert_eq!(not_own, 4, "strings: {strings}");
        let variants = DataFrame::new(
            persons.len(),
            vec![variant_persons.into_column(), variant_ids.into_column()],
        )
        .unwrap()
        .lazy();
        let expr = set.not_own_expr("person_id", "test_id");
        assert_eq!(absent_rows(variants, expr), Some(4), "strings: {strings}");
    }
    // A null person names no test of its own, a person beside no tests neither.
    let set = test_ids(&tests, Series::new("person_id".into(), [1i64, 2, 3]));
    let persons = Series::new("person_id".into(), [None, Some(1i64)]);
    let ids = Series::new("test_id".into(), ["T1", "T1"]);
    assert_eq!(set.not_own(&persons, &ids).unwrap(), [true, false]);
    let (rows, not_own) = set.rows_of(&persons, &ids).unwrap();
    assert_eq!((rows.null_count(), not_own), (0, 1));
    let none = TestIds::empty();
    assert_eq!(none.not_own(&persons, &ids).unwrap(), [true, true]);
    let (rows, not_own) = none.rows_of(&persons, &ids).unwrap();
    assert_eq!((rows.null_count(), not_own), (2, 2));
}

/// In the window after `from`, beyond it, before it: the row a probe finds. A null row in
/// the window is not the empty id (its view reads as "").
#[test]
fn text_ids_are_found_near_or_far() {
    let (set, _) = text_ids(&[
        Some("T1"),
        None,
        Some("T2"),
        Some("a longer test id"),
        Some("T3"),
        Some("T4"),
    ]);
    assert_eq!(set.row_near("T1", 0), Some(0));
    assert_eq!(set.row_near("T2", 0), Some(2));
    assert_eq!(set.row_near("a longer test id", 1), Some(3));
    // Row 4 is the fifth from 0: found by the probe, as are rows before `from`.
    assert_eq!(set.row_near("T3", 0), Some(4));
    assert_eq!(set.row_near("T1", 5), Some(0));
    assert_eq!(set.row_near("T4", 9), Some(5));
    for absent in ["", "T", "T5", "a longer test i"] {
        assert_eq!(set.row_near(absent, 0), None, "{absent}");
    }
}

/// Ids compared by their views: of 12 bytes (held whole in the view) differing only in the
/// last byte, of 13 and more sharing their length and first four bytes, an id that is a
/// prefix of another. Each is found at its own row, near and by the probe, and a near miss
/// is no match.
#[test]
fn ids_alike_in_their_views_are_told_apart() {
    // In byte order, so that one set is searched and the other hashed.
    let values = [
        "T0000",
        "T00000000001-1",
        "T00000000001-10",
        "T00000000001-2",
        "T0000000001A",
        "T0000000001B",
    ];
    let (searched, _) = text_ids(&values.map(Some));
    assert!(searched.ascending);
    let (hashed, _) = hashed_ids(&values.map(Some));
    for set in [&searched, &hashed] {
        for (row, id) in values.iter().enumerate() {
            assert_eq!(set.row_near(id, row), Some(row), "{id} from its row");
            assert_eq!(set.row_near(id, 0), Some(row), "{id} from 0");
            assert_eq!(
                set.row_near(id, values.len()),
                Some(row),
                "{id} from the end"
            );
        }
        for absent in ["T0000000001C", "T00000000001-3", "T00000000001-11", "T000"] {
            assert_eq!(set.row_near(absent, 0), None, "{absent}");
            assert_eq!(set.row_near(absent, 2), None, "{absent}");
        }
    }
}

/// Row by row over two chunks, the lookups in the set's order, reversed, repeated, with
/// orphans and nulls: absent exactly where the id is null or not a member. The set holds
/// nulls (hash tables), or not (ascending, searched).
#[test]
fn absent_text_ids_row_by_row() {
    let ids: Vec<Option<String>> = (0..200)
        .map(|i| (i % 9 != 4).then(|| format!("T{i:03}-1")))
        .collect();
    let with_nulls: Vec<Option<&str>> = ids.iter().map(Option::as_deref).collect();
    let without: Vec<Option<&str>> = with_nulls.iter().copied().filter(Option::is_some).collect();
    // Test `T{i:03}-1` is person i's.
    let persons = |values: &[Option<&str>]| -> Series {
        let persons = values
            .iter()
            .map(|id| id.map(|id| id[1..4].parse::<i64>().unwrap()));
        Series::new("person_id".into(), persons.collect::<Vec<_>>())
    };
    for (values, ascending) in [(&with_nulls, false), (&without, true)] {
        let set = test_ids(values, persons(values));
        assert_eq!(set.ids.ascending, ascending);
        absent_row_by_row(set);
    }
}

/// Each variant of person i: absent exactly where its id is null or not a member.
fn absent_row_by_row(set: TestIds) {
    let mut lookups: Vec<Option<String>> = Vec::new();
    for i in (0..200).chain((0..200).rev()).chain([7, 7, 7, 150, 3, 3]) {
        lookups.push(Some(format!("T{i:03}-1")));
        if i % 13 == 0 {
            lookups.push(None);
            lookups.push(Some(format!("T{i:03}-2")));
        }
    }
    let member = |id: &str| id.ends_with("-1") && id[1..4].parse::<u32>().unwrap() % 9 != 4;
    let want: Vec<bool> = lookups
        .iter()
        .map(|id| id.as_deref().is_none_or(|id| !member(id)))
        .collect();
    // Both ways: the 22 ids never inserted (i % 9 == 4), and a null and a "-2" id after each
    // of the 16 multiples of 13.
    assert_eq!(want.iter().filter(|a| **a).count(), 2 * (22 + 2 * 16));
    let half = lookups.len() / 2;
    let mut column = StringChunked::from_iter_options(
        "test_id".into(),
        lookups[..half].iter().map(Option::as_deref),
    );
    column
        .append(&StringChunked::from_iter_options(
            "test_id".into(),
            lookups[half..].iter().map(Option::as_deref),
        ))
        .unwrap();
    let person = |id: &Option<String>| id.as_deref().map_or(0, |id| id[1..4].parse().unwrap());
    let persons = Series::new(
        "person_id".into(),
        lookups.iter().map(person).collect::<Vec<i64>>(),
    );
    let variants = DataFrame::new(
        lookups.len(),
        vec![persons.into_column(), column.into_series().into_column()],
    )
    .unwrap()
    .lazy();
    let out = variants
        .select([Arc::new(set).not_own_expr("person_id", "test_id")])
        .collect()
        .unwrap();
    let flags: Vec<Option<bool>> = out
        .column("test_id")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(flags, want.into_iter().map(Some).collect::<Vec<_>>());
}

#[test]
fn text_ids_over_every_part() {
    // 10,000 ids spread over the 64 parts: each is found, its neighbours' prefixes are not,
    // and one repeat among them is found.
    let ids: Vec<String> = (0..10_000).map(|i| format!("T{i:05}-1")).collect();
    let values: Vec<Option<&str>> = ids.iter().map(|id| Some(id.as_str())).collect();
    for (all, repeats) in [text_ids(&values), hashed_ids(&values)] {
        assert!(!repeats);
        assert!(ids.iter().all(|id| all.contains(id)));
        assert!(!ids.iter().any(|id| all.contains(&id[..id.len() - 1])));
        assert!(!all.contains("T10000-1"));
    }
    let mut repeated = values.clone();
    repeated.push(Some("T04321-1"));
    assert!(text_ids(&repeated).1);
    assert!(!TextIds::empty().contains("T00000-1"));
}

/// The span of `values`' ids, searched (where ascending) or hashed as [`TextIds::of`] builds
/// them.
fn span(values: &[Option<&str>]) -> TestIdSpan {
    let (ids, repeats) = text_ids(values);
    TestIdSpan::of(&ids, repeats)
}

fn unique(min: &str, max: &str) -> TestIdSpan {
    TestIdSpan::Unique {
        min: min.into(),
        max: max.into(),
    }
}

/// A partition's span: its smallest and largest id in byte order ("T10" before "T9"), whether
/// its tests are in ascending order or not; a repeat decides it; no ids, or only nulls, span
/// nothing.
#[test]
fn a_partitions_test_ids_span_their_smallest_to_their_largest() {
    assert_eq!(
        span(&[Some("T1"), Some("T10"), Some("T9")]),
        unique("T1", "T9")
    );
    assert_eq!(
        span(&[Some("T9"), Some("T1"), Some("T10")]),
        unique("T1", "T9")
    );
    assert_eq!(span(&[Some("T5")]), unique("T5", "T5"));
    // A null leaves the ids hashed; it is no id.
    assert_eq!(span(&[None, Some("T2"), Some("T1")]), unique("T1", "T2"));
    let repeated = TestIdSpan::Unproven { repeats: true };
    assert_eq!(span(&[Some("T1"), Some("T2"), Some("T1")]), repeated);
    assert_eq!(span(&[]), TestIdSpan::Empty);
    assert_eq!(span(&[None]), TestIdSpan::Empty);
}

/// Partitions' spans in order: disjoint and ascending ranges prove the ids unique; an overlap,
/// a shared bound or ranges out of order prove nothing; a repeat anywhere stays one; empty
/// partitions change nothing.
#[test]
fn consecutive_spans_prove_uniqueness_only_in_ascending_order() {
    let unproven = TestIdSpan::Unproven { repeats: false };
    let repeated = TestIdSpan::Unproven { repeats: true };
    let (a, b, c) = (unique("A1", "A5"), unique("B1", "B1"), unique("C0", "C9"));
    assert_eq!(a.then(&b).then(&c), unique("A1", "C9"));
    assert_eq!(a.then(&b.then(&c)), unique("A1", "C9"));
    assert_eq!(a.then(&TestIdSpan::Empty).then(&b), unique("A1", "B1"));
    assert_eq!(TestIdSpan::Empty.then(&a), a);
    // "A5" ends the first and starts the second; "A3" lies inside the first.
    assert_eq!(a.then(&unique("A5", "A9")), unproven);
    assert_eq!(a.then(&unique("A3", "B0")), unproven);
    assert_eq!(b.then(&a), unproven);
    assert_eq!(unproven.then(&c), unproven);
    assert_eq!(a.then(&repeated).then(&c), repeated);
    assert_eq!(unproven.then(&repeated), repeated);
    assert_eq!(repeated.then(&unproven), repeated);
}
