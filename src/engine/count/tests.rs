//! The mask counter's tests: stratum columns, keys packed, sorted by bucket and merged, each
//! against a tally or a sort worked out apart.

use super::*;

/// A stratum column is read as indices where it has labels and is `UInt32`, as text where
/// it is text, labels or not; an index past the labels and a null index are errors that
/// name the column.
#[test]
fn stratum_columns_coded_where_they_have_labels() {
    let labels = ["<40".to_string(), "40-49".to_string()];
    let frame = df!(
        "band" => [1u32, 0, 1],
        "past" => [0u32, 2, 1],
        "null" => [Some(0u32), None, Some(1)],
        "text" => ["<40", "40-49", "<40"],
    )
    .unwrap();
    match stratum_column(&frame, "band", Some(&labels)).unwrap() {
        StratumColumn::Coded(codes, coded_labels) => {
            assert_eq!(codes, [1, 0, 1]);
            assert_eq!(coded_labels, labels);
        }
        StratumColumn::Text(_) => panic!("band read as text"),
    }
    for labels in [Some(&labels[..]), None] {
        let text = stratum_column(&frame, "text", labels).unwrap();
        assert!(matches!(text, StratumColumn::Text(t) if t.get(1) == Some("40-49")));
    }
    let past = stratum_column(&frame, "past", Some(&labels)).err().unwrap();
    assert!(
        past.to_string().contains("past: index 2 past its 2 labels"),
        "{past}"
    );
    let null = stratum_column(&frame, "null", Some(&labels)).err().unwrap();
    assert!(null.to_string().contains("stratum column null: "), "{null}");
}

/// Keys placed by bucket and sorted within each come out as a sort of all of them gives:
/// 600 keys of 7 groups (a bucket each, numbered in the groups' order, given out of
/// order), many equal, in both key widths; with more buckets than keys, or without the
/// buckets, one sort does it.
#[test]
fn keys_sorted_by_buckets_as_by_one_sort() {
    let groups = [
        0u64,
        3,
        9,
        (1 << 32) | 3,
        (1 << 32) | 9,
        (4 << 32),
        (4 << 32) | 1,
    ];
    let keys: Vec<[u64; 3]> = (0..600u64)
        .map(|i| [groups[(i * 5 % 7) as usize], i * 7 % 13, i % 3])
        .collect();
    let buckets: Vec<u32> = (0..600).map(|i| (i * 5 % 7) as u32).collect();
    let mut expected = keys.clone();
    expected.sort_unstable();
    for count in [7, 100_000] {
        let got = sorted_by_buckets(keys.clone(), &buckets, count, 2);
        assert_eq!(got, expected, "{count} buckets");
    }
    // Keys without their buckets (too many to number): one sort.
    assert_eq!(sorted_by_buckets(keys.clone(), &[], 7, 2), expected);
    let wide: Vec<Vec<u64>> = keys.iter().map(|k| k.to_vec()).collect();
    let got = sorted_by_buckets(wide, &buckets, 7, 2);
    assert_eq!(got, expected.iter().map(|k| k.to_vec()).collect::<Vec<_>>());
}

/// General codes packed into their keys: row `r`'s code of criterion `k` at bit 2 (k mod
/// 32) of outcome word k / 32, for 40 criteria (two words) over 4,100 keys from row 3 (a
/// whole tile and part of the next), each key's group kept.
#[test]
fn general_codes_packed_into_their_keys() {
    let code = |r: usize, k: usize| ((r * 7 + k * 3) % 4) as u8;
    let columns: Vec<Vec<u8>> = (0..40)
        .map(|k| (0..4103).map(|r| code(r, k)).collect())
        .collect();
    let general: Vec<&[u8]> = columns.iter().map(Vec::as_slice).collect();
    let mut keys: Vec<[u64; 3]> = (0..4100).map(|i| [i as u64, 0, 0]).collect();
    pack_general(&mut keys, &general, 3);
    for (i, key) in keys.iter().enumerate() {
        let mut words = [0u64; 2];
        for k in 0..40 {
            words[k / 32] += u64::from(code(i + 3, k)) << (2 * (k % 32));
        }
        assert_eq!(key, &[i as u64, words[0], words[1]], "key {i}");
    }
    // Row 3: codes 1, 0, 3 for the first three criteria; row 4102, criterion 39: 3.
    assert_eq!(keys[0][1] & 0b11_1111, 0b11_00_01);
    assert_eq!(keys[4099][2] >> 14, 3);
}

/// A range's keys counted by hand: six rows of two general criteria and one cohort (rows
/// 1, 2 and 4 matched, one drug criterion), the range's three strata interned as 5, 2 and
/// 5 (a null and "not recorded" are one stratum). Rows 0 and 3 are one population key in
/// stratum 5 though their local strata differ; each other key is a patient's own.
#[test]
fn a_ranges_keys_counted_with_two_local_strata_as_one() {
    let general: [&[u8]; 2] = [&[1, 2, 1, 1, 2, 3], &[0, 0, 3, 0, 3, 1]];
    let drug: &[u8] = &[2, 1, 1, 2, 1, 0];
    let matched = Bitmap::from_iter([false, true, true, false, true, false]);
    let columns = Columns {
        strata: Vec::new(),
        general: general.to_vec(),
        cohorts: vec![(matched, vec![drug])],
    };
    let local = [0u32, 1, 2, 2, 2, 1];
    let global = [5u32, 2, 5];
    let counts: Vec<([u64; 2], u64)> = count_rows(&columns, 0..6, &local, &global, 1);
    // A key's word: criterion k's code at bits 2k (the drug's criterion is the third).
    let word = |codes: [u64; 3]| codes[0] | codes[1] << 2 | codes[2] << 4;
    let cohort = |stratum: u64| (1 << 32) | stratum;
    let expected = vec![
        ([2, word([2, 0, 0])], 1),         // row 1
        ([2, word([3, 1, 0])], 1),         // row 5
        ([5, word([1, 0, 0])], 2),         // rows 0 and 3
        ([5, word([1, 3, 0])], 1),         // row 2
        ([5, word([2, 3, 0])], 1),         // row 4
        ([cohort(2), word([2, 0, 1])], 1), // row 1
        ([cohort(5), word([1, 3, 1])], 1), // row 2
        ([cohort(5), word([2, 3, 1])], 1), // row 4
    ];
    assert_eq!(counts, expected);
}

/// Strata interned as 0 = "b" and 1 = "a" are renumbered a = 0, b = 1: each group's keys
/// move as a block, in their order, population before cohorts; counts are kept.
#[test]
fn strata_renumbered_move_whole_blocks_in_the_new_order() {
    let key = |cohort: Option<u32>, stratum: u32, outcomes: u64| [group(cohort, stratum), outcomes];
    let mut counts = vec![
        (key(None, 0, 1), 5),
        (key(None, 0, 7), 1),
        (key(None, 1, 3), 2),
        (key(Some(0), 0, 2), 4),
        (key(Some(0), 1, 1), 6),
        (key(Some(0), 1, 9), 3),
    ];
    assert!(counts.is_sorted());
    let renumbered = in_stratum_order(&mut counts, &[1, 0]);
    assert_eq!(
        renumbered,
        vec![
            (key(None, 0, 3), 2),
            (key(None, 1, 1), 5),
            (key(None, 1, 7), 1),
            (key(Some(0), 0, 1), 6),
            (key(Some(0), 0, 9), 3),
            (key(Some(0), 1, 2), 4),
        ]
    );
}

/// The array keys' comparison without branches sorts as the arrays' own order does: keys of
/// two, three and five words whose words are drawn from a few values (so that most pairs
/// share their first words, and many keys repeat), against `sort_unstable`.
#[test]
fn array_keys_sort_in_their_own_order() {
    fn check<const N: usize>(seed: u64) {
        let mut state = seed;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            [0, 1, 7, u64::MAX][(state >> 62) as usize]
        };
        let keys: Vec<[u64; N]> = (0..500).map(|_| std::array::from_fn(|_| next())).collect();
        let mut sorted = keys.clone();
        <[u64; N] as Key>::sort(&mut sorted);
        let mut expected = keys;
        expected.sort_unstable();
        assert_eq!(sorted, expected, "{N} words");
    }
    for seed in 0..20 {
        check::<2>(seed);
        check::<3>(seed);
        check::<5>(seed);
    }
}

/// Two sorted, unique runs of keys drawn from a few values (so that most heads tie or share
/// their first words) merge into the keys of both with their counts added, as a tally of the
/// two runs' keys in a `BTreeMap` counts them: array keys of two and three words and `Vec`
/// keys, runs of unequal lengths and empty runs.
#[test]
fn two_runs_merge_as_a_tally_of_their_keys() {
    fn run<K: Key>(next: &mut impl FnMut() -> u64, len: usize, words: usize) -> Vec<(K, u64)> {
        let mut tally = std::collections::BTreeMap::new();
        for _ in 0..len {
            let mut key = K::new(next() % 3, words);
            key.words_mut().iter_mut().for_each(|w| *w = next());
            *tally.entry(key).or_insert(0) += next() % 5 + 1;
        }
        tally.into_iter().collect()
    }
    fn check<K: Key + std::fmt::Debug>(seed: u64, words: usize) {
        let mut state = seed;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            [0, 1, u64::MAX, 1 << 63][(state >> 62) as usize]
        };
        let lengths = [(0, 0), (0, 40), (40, 0), (1, 200), (150, 150), (300, 7)];
        for (a_len, b_len) in lengths {
            let a: Vec<(K, u64)> = run(&mut next, a_len, words);
            let b: Vec<(K, u64)> = run(&mut next, b_len, words);
            let mut tally = std::collections::BTreeMap::new();
            for (key, patients) in a.iter().chain(&b) {
                *tally.entry(key.clone()).or_insert(0) += patients;
            }
            let expected: Vec<(K, u64)> = tally.into_iter().collect();
            assert_eq!(
                merge_two(&a, &b),
                expected,
                "seed {seed}, {a_len} and {b_len}"
            );
        }
    }
    for seed in 0..20 {
        check::<[u64; 2]>(seed, 1);
        check::<[u64; 3]>(seed, 2);
        check::<Vec<u64>>(seed, 3);
    }
}

/// Sorted, unique runs merge into one sorted run of unique keys, a key's counts added up
/// across runs: [0,4] is in three runs (1 + 3 + 2), [0,1] in two (1 + 5); an empty run, an
/// odd number of runs (one left alone at the first level) and keys already merged.
#[test]
fn sorted_runs_merge_and_add_up() {
    let mut counts: Counts<[u64; 2]> = Counts {
        merged: vec![([0, 1], 5), ([0, 9], 1)],
        runs: vec![
            vec![([0, 1], 1), ([0, 4], 1), ([1, 0], 2)],
            vec![([0, 2], 1), ([0, 4], 3)],
            vec![],
            vec![([0, 0], 7), ([0, 4], 2)],
            vec![([2, 0], 1)],
        ],
        unmerged: 9,
    };
    counts.merge();
    assert_eq!(
        counts.merged,
        vec![
            ([0, 0], 7),
            ([0, 1], 6),
            ([0, 2], 1),
            ([0, 4], 6),
            ([0, 9], 1),
            ([1, 0], 2),
            ([2, 0], 1)
        ]
    );
    assert!(counts.runs.is_empty());
    assert_eq!(counts.unmerged, 0);
    // Nothing to merge: the keys stay as they are.
    let before = counts.merged.clone();
    counts.merge();
    assert_eq!(counts.merged, before);
}
