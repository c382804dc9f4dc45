//! The ids other tables refer to. The person table's ids, read once and sorted: repeated ids are
//! adjacent (uniqueness without a hash table), and Int64 ids that fill most of their range become
//! a bitmap over it, so that a record's "is this patient in person?" is one bit test instead of a
//! hash probe (orphan counts). The molecular tests' ids, as a set over the column itself: where
//! they are in ascending order (as registries export them) a binary search, else a hash set;
//! uniqueness as it is built, and variants' orphan test ids by a lookup per row.

use std::hash::BuildHasher;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use foldhash::fast::FixedState;
use hashbrown::hash_table::{Entry, HashTable};
use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, Utf8ViewArray};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::trusted_len::TrustedLen;
use rayon::prelude::*;

/// The non-null `person_id`s of the person table, sorted ascending. The nulls are dropped after
/// decoding, not by the Parquet reader: polars' filtered decoder panics, or aborts the process
/// on an allocation of 2^61 bytes, on damaged pages where the plain decoder errs. A panic
/// becomes an error.
pub fn sorted_ids(person: &LazyFrame) -> PolarsResult<Series> {
    let query = person
        .clone()
        .select([col("person_id")])
        .drop_nulls(None)
        .sort(["person_id"], SortMultipleOptions::default())
        .with_predicate_pushdown(false);
    let ids = catch_unwind(AssertUnwindSafe(|| query.collect()))
        .map_err(|_| polars_err!(ComputeError: "the Parquet reader stopped on damaged data"))??;
    Ok(ids.column("person_id")?.as_materialized_series().clone())
}

/// Whether a sorted id column holds some id more than once.
pub fn has_repeats(sorted: &Series) -> PolarsResult<bool> {
    Ok(match sorted.dtype() {
        DataType::String => {
            let ids = sorted.str()?;
            ids.iter().zip(ids.iter().skip(1)).any(|(a, b)| a == b)
        }
        _ => {
            let ids = sorted.cast(&DataType::Int64)?;
            let ids = ids.i64()?;
            let repeats = ids.iter().zip(ids.iter().skip(1)).any(|(a, b)| a == b);
            repeats
        }
    })
}

/// The smallest id and the length of the range `min..=max` of `ids`, where that range has at most
/// `per_id` slots per id (or `at_least` slots, however few the ids); None for no ids, nulls only,
/// or ids too sparse for an array over their range.
pub fn dense_range(ids: &Int64Chunked, per_id: usize, at_least: usize) -> Option<(i64, usize)> {
    let (min, max) = (ids.min()?, ids.max()?);
    let range = usize::try_from(i128::from(max) - i128::from(min) + 1).ok()?;
    let budget = ids.len().saturating_mul(per_id).max(at_least);
    (range <= budget).then_some((min, range))
}

/// An elementwise expression over `column`: `absent` says, per id, whether it is missing from a
/// set (a null id must count as missing, as an anti join counts it). Polars runs it per morsel of
/// a streaming scan.
fn absent(
    column: &str,
    absent: impl Fn(&Series) -> PolarsResult<BooleanChunked> + Send + Sync + 'static,
) -> Expr {
    col(column).map(
        move |ids: Column| {
            let ids = ids.as_materialized_series();
            Ok(absent(ids)?.with_name(ids.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
    )
}

/// A set of Int64 ids as one bit per value of their range `min..=max`.
#[derive(Debug)]
pub struct DenseIds {
    min: i64,
    bits: Vec<u64>,
}

impl DenseIds {
    /// At most this many bits per id: 64 bits (8 bytes) per patient, so that the bitmap is never
    /// much larger than the ids themselves; sparser ids are left to a hash join.
    const MAX_BITS_PER_ID: usize = 64;
    /// Any range up to this many bits (8 KiB) is dense enough, however few the ids.
    const MIN_BITS: usize = 1 << 16;

    /// The bitmap of `sorted`'s ids, or None where they are not Int64 or too sparse.
    pub fn of(sorted: &Series) -> Option<DenseIds> {
        if sorted.dtype() != &DataType::Int64 {
            return None;
        }
        let ids = sorted.i64().ok()?;
        if ids.is_empty() {
            // No patients: every record is an orphan; an empty range says so.
            return Some(DenseIds {
                min: 0,
                bits: Vec::new(),
            });
        }
        let (min, range) = dense_range(ids, Self::MAX_BITS_PER_ID, Self::MIN_BITS)?;
        let mut bits = vec![0u64; range.div_ceil(64)];
        for id in ids.iter().flatten() {
            let offset = id.abs_diff(min);
            bits[(offset / 64) as usize] |= 1 << (offset % 64);
        }
        Some(DenseIds { min, bits })
    }

    pub fn contains(&self, id: i64) -> bool {
        // `id - min` taken modulo 2^64 is exact for an id from `min` on; an id below `min`
        // wraps past 2^63, beyond any word of the bits: one bounds check, no second branch.
        let offset = id.wrapping_sub(self.min) as u64;
        self.bits
            .get((offset / 64) as usize)
            .is_some_and(|word| word & (1 << (offset % 64)) != 0)
    }

    /// True where `column`'s id is not in the set (see [`absent`]).
    pub fn absent(self: &Arc<Self>, column: &str) -> Expr {
        let set = Arc::clone(self);
        absent(column, move |ids| {
            let ids = ids.cast(&DataType::Int64)?;
            // Bits packed straight from the values, a null (absent too) or-ed in from the
            // validity: collecting an `Option<bool>` per row wrote two bitmaps bit by bit, ~3 %
            // of a run's time over every table's person_id.
            let chunks = ids.i64()?.downcast_iter().map(|array| {
                let values = array.values().iter();
                let absent = Bitmap::from_trusted_len_iter(values.map(|&id| !set.contains(id)));
                let absent = match array.validity() {
                    Some(valid) => &absent | &!valid,
                    None => absent,
                };
                BooleanArray::new(ArrowDataType::Boolean, absent, None)
            });
            Ok(BooleanChunked::from_chunk_iter(ids.name().clone(), chunks))
        })
    }
}

/// A set of string ids over the ids' own column, with no copy of it. Where the ids are non-null
/// and strictly ascending (byte order), the column is the set: an id is found by a binary
/// search, and no table is built (a registry that exports its tests sorted, as the synthetic
/// extract does, has them unique by that alone). Otherwise hash tables of row numbers, 4 bytes
/// per id, split by hash into [`TextIds::PARTS`] tables built in parallel: a national
/// registry's ten million tests take a cache miss or two each (~270 ns), whichever thread
/// inserts them.
pub struct TextIds {
    ids: Utf8ViewArray,
    /// The hash tables; empty where the ids are ascending.
    parts: Vec<HashTable<u32>>,
    hasher: FixedState,
    ascending: bool,
}

impl TextIds {
    const PARTS: usize = 64;
    /// Rows compared by [`TextIds::row_near`] before it probes: a test, and tests without
    /// findings after it.
    const NEAR: usize = 4;

    /// The part of a hash: bits that neither the table's bucket (low bits) nor its tag (the top
    /// seven) use, so that the ids of one part do not all share a tag.
    fn part(hash: u64) -> usize {
        (hash >> 40) as usize % Self::PARTS
    }

    /// No ids.
    pub fn empty() -> TextIds {
        TextIds {
            ids: Utf8ViewArray::new_empty(ArrowDataType::Utf8View),
            parts: Vec::new(),
            hasher: FixedState::with_seed(0),
            ascending: true,
        }
    }

    /// The set of `ids`' non-null values, and whether some value occurs more than once. Fails on
    /// more ids than a u32 counts.
    pub fn of(ids: &StringChunked) -> Result<(TextIds, bool), String> {
        let ids = ids.rechunk();
        let ids = ids
            .downcast_iter()
            .next()
            .cloned()
            .unwrap_or_else(|| Utf8ViewArray::new_empty(ArrowDataType::Utf8View));
        if u32::try_from(ids.len()).is_err() {
            return Err(format!(
                "{} ids: at most {} are supported",
                ids.len(),
                u32::MAX
            ));
        }
        let ascending =
            ids.null_count() == 0 && (1..ids.len()).all(|row| ids.value(row - 1) < ids.value(row));
        if !ascending {
            return Ok(Self::hashed(ids));
        }
        let hasher = FixedState::with_seed(0);
        let set = TextIds {
            ids,
            parts: Vec::new(),
            hasher,
            ascending,
        };
        Ok((set, false))
    }

    /// The set of `ids`' non-null values as hash tables, and whether some value occurs more than
    /// once.
    fn hashed(ids: Utf8ViewArray) -> (TextIds, bool) {
        let hasher = FixedState::with_seed(0);
        let mut rows: Vec<Vec<(u64, u32)>> = vec![Vec::new(); Self::PARTS];
        for (row, id) in ids.iter().enumerate() {
            if let Some(id) = id {
                let hash = hasher.hash_one(id);
                rows[Self::part(hash)].push((hash, row as u32));
            }
        }
        let value = |row: &u32| ids.value(*row as usize);
        let built: Vec<(HashTable<u32>, bool)> = rows
            .into_par_iter()
            .map(|rows| {
                let mut part = HashTable::with_capacity(rows.len());
                let mut repeats = false;
                for (hash, row) in rows {
                    let id = value(&row);
                    match part.entry(hash, |r| value(r) == id, |r| hasher.hash_one(value(r))) {
                        Entry::Occupied(_) => repeats = true,
                        Entry::Vacant(slot) => {
                            slot.insert(row);
                        }
                    }
                }
                (part, repeats)
            })
            .collect();
        let repeats = built.iter().any(|(_, repeats)| *repeats);
        let parts = built.into_iter().map(|(part, _)| part).collect();
        let set = TextIds {
            ids,
            parts,
            hasher,
            ascending: false,
        };
        (set, repeats)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.probe(id).is_some()
    }

    /// The row of `id` in the ids' column: by a binary search where they are ascending, else
    /// by its hash.
    fn probe(&self, id: &str) -> Option<usize> {
        if self.ascending {
            let (mut low, mut high) = (0, self.ids.len());
            while low < high {
                let middle = low + (high - low) / 2;
                match self.ids.value(middle).cmp(id) {
                    std::cmp::Ordering::Less => low = middle + 1,
                    std::cmp::Ordering::Greater => high = middle,
                    std::cmp::Ordering::Equal => return Some(middle),
                }
            }
            return None;
        }
        let hash = self.hasher.hash_one(id);
        let value = |row: &u32| self.ids.value(*row as usize);
        self.parts[Self::part(hash)]
            .find(hash, |r| value(r) == id)
            .map(|row| *row as usize)
    }

    /// The row of `id` in the ids' column, comparing the [`TextIds::NEAR`] rows from `from` on
    /// before probing. Where the looked-up column follows the ids' order (a test's findings after
    /// it, both in patient order, as registries export them), the id is most often one of those
    /// rows, already in cache, while a probe of ten million ids costs a cache miss or two.
    pub fn row_near(&self, id: &str, from: usize) -> Option<usize> {
        let near = from..(from + Self::NEAR).min(self.ids.len());
        near.into_iter()
            .find(|&row| self.ids.is_valid(row) && self.ids.value(row) == id)
            .or_else(|| self.probe(id))
    }

    /// Per row of `ids`, the row of its id in the set's column: None where null or not a member.
    /// Each is looked up near the last one found ([`TextIds::row_near`]).
    pub fn rows_of<'a>(
        &'a self,
        ids: &'a Utf8ViewArray,
    ) -> impl TrustedLen<Item = Option<usize>> + 'a {
        let mut from = 0;
        (0..ids.len()).map(move |row| {
            let found = ids
                .is_valid(row)
                .then(|| self.row_near(ids.value(row), from))
                .flatten();
            from = found.unwrap_or(from);
            found
        })
    }

    /// True where `column`'s id is not in the set (see [`absent`]).
    pub fn absent(self: &Arc<Self>, column: &str) -> Expr {
        let set = Arc::clone(self);
        absent(column, move |ids| {
            let ids = ids.cast(&DataType::String)?;
            // Bits packed row by row, as DenseIds::absent does.
            let chunks = ids.str()?.downcast_iter().map(|array| {
                let absent = Bitmap::from_trusted_len_iter(set.rows_of(array).map(|r| r.is_none()));
                BooleanArray::new(ArrowDataType::Boolean, absent, None)
            });
            Ok(BooleanChunked::from_chunk_iter(ids.name().clone(), chunks))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(values: &[i64]) -> Series {
        Series::new("person_id".into(), values)
    }

    #[test]
    fn repeats_are_found_next_to_each_other() {
        assert!(!has_repeats(&ids(&[1, 2, 5])).unwrap());
        assert!(has_repeats(&ids(&[1, 2, 2, 5])).unwrap());
        let text = Series::new("person_id".into(), ["a", "b", "b"]);
        assert!(has_repeats(&text).unwrap());
        assert!(!has_repeats(&ids(&[])).unwrap());
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
        let records =
            df!("person_id" => [Some(10i64), Some(12), None, Some(13), Some(99), Some(10)])
                .unwrap()
                .lazy();
        let out = records
            .select([set.absent("person_id").sum().alias("n")])
            .collect()
            .unwrap();
        // 12, the null and 99.
        assert_eq!(
            out.column("n").unwrap().get(0).unwrap().extract::<u64>(),
            Some(3)
        );
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
        let array = polars_arrow::array::PrimitiveArray::new(
            ArrowDataType::Int64,
            values.into(),
            Some(valid),
        );
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

    #[test]
    fn absent_text_ids_count_what_an_anti_join_counts() {
        let (set, _) = text_ids(&[Some("T1"), Some("T2"), Some("T3")]);
        let variants =
            df!("test_id" => [Some("T1"), Some("T4"), None, Some("T3"), Some("T1"), Some("t2")])
                .unwrap()
                .lazy();
        let out = variants
            .select([Arc::new(set).absent("test_id").sum().alias("n")])
            .collect()
            .unwrap();
        // T4, the null and t2 (ids are case-sensitive).
        assert_eq!(
            out.column("n").unwrap().get(0).unwrap().extract::<u64>(),
            Some(3)
        );
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

    /// Row by row over two chunks, the lookups in the set's order, reversed, repeated, with
    /// orphans and nulls: absent exactly where the id is null or not a member. The set holds
    /// nulls (hash tables), or not (ascending, searched).
    #[test]
    fn absent_text_ids_row_by_row() {
        let ids: Vec<Option<String>> = (0..200)
            .map(|i| (i % 9 != 4).then(|| format!("T{i:03}-1")))
            .collect();
        let with_nulls: Vec<Option<&str>> = ids.iter().map(Option::as_deref).collect();
        let without: Vec<Option<&str>> =
            with_nulls.iter().copied().filter(Option::is_some).collect();
        for (set, ascending) in [
            (text_ids(&with_nulls).0, false),
            (text_ids(&without).0, true),
        ] {
            assert_eq!(set.ascending, ascending);
            absent_row_by_row(set);
        }
    }

    fn absent_row_by_row(set: TextIds) {
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
        let variants = DataFrame::new(lookups.len(), vec![column.into_series().into_column()])
            .unwrap()
            .lazy();
        let out = variants
            .select([Arc::new(set).absent("test_id")])
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
}
