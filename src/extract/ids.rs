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
use polars_arrow::array::{Array, BooleanArray, Utf8ViewArray, View};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::trusted_len::TrustedLen;
use rayon::prelude::*;

use super::bitmaps::{boolean_column, packed};
use crate::udf::MapColumn;

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
            let ids = sorted.cast(&DataType::Int64)?.rechunk();
            let ids = ids.i64()?.downcast_as_array();
            match ids.null_count() {
                // A plain loop over the values: the chunked array's iterator of optional ids
                // cost about 30 instructions an id (callgrind), on every run's person ids.
                0 => ids.values().windows(2).any(|pair| pair[0] == pair[1]),
                _ => ids.iter().zip(ids.iter().skip(1)).any(|(a, b)| a == b),
            }
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
    col(column).map_column(
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
        let mut set = |id: i64| {
            let offset = id.abs_diff(min);
            bits[(offset / 64) as usize] |= 1 << (offset % 64);
        };
        // Array by array, a plain loop where there are no nulls (the chunked array's iterator
        // of optional ids cost about 30 instructions an id).
        for array in ids.downcast_iter() {
            match array.null_count() {
                0 => array.values().iter().for_each(|&id| set(id)),
                _ => array.iter().flatten().for_each(|&id| set(id)),
            }
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

    /// True where `column`'s id is not in the set (see `absent`).
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
/// per id, split by hash into `TextIds::PARTS` tables built in parallel: a national
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

    /// The row of `id` in the ids' column, comparing the `TextIds::NEAR` rows from `from` on
    /// before probing. Where the looked-up column follows the ids' order (a test's findings after
    /// it, both in patient order, as registries export them), the id is most often one of those
    /// rows, already in cache, while a probe of ten million ids costs a cache miss or two.
    pub fn row_near(&self, id: &str, from: usize) -> Option<usize> {
        self.row_near_view(View::new_from_bytes(id.as_bytes(), 0, 0), id, from)
    }

    /// [`TextIds::row_near`] of `id`, whose view (in any array) is `view`. A row is compared by
    /// its view first: an id of up to 12 bytes is held whole in its view (zero-padded, as Arrow
    /// requires and polars checks), so equal views are equal ids; a longer one is compared
    /// byte by byte only where its length and first four bytes agree. Comparing strings had
    /// cost about 100 instructions a variant, for the findings' check and again for the kernel.
    fn row_near_view(&self, view: View, id: &str, from: usize) -> Option<usize> {
        let views = self.ids.views().as_slice();
        let near = from..(from + Self::NEAR).min(self.ids.len());
        let same = |row: usize| {
            let candidate = views[row];
            let equal = match view.is_inline() {
                true => candidate == view,
                false => {
                    candidate.length == view.length
                        && candidate.prefix == view.prefix
                        && self.ids.value(row) == id
                }
            };
            equal && self.ids.is_valid(row)
        };
        near.into_iter()
            .find(|&row| same(row))
            .or_else(|| self.probe(id))
    }

    /// Per row of `ids`, the row of its id in the set's column: None where null or not a member.
    /// Each is looked up near the last one found ([`TextIds::row_near`]).
    pub fn rows_of<'a>(
        &'a self,
        ids: &'a Utf8ViewArray,
    ) -> impl TrustedLen<Item = Option<usize>> + 'a {
        let mut from = 0;
        let views = ids.views().as_slice();
        (0..ids.len()).map(move |row| {
            let found = ids
                .is_valid(row)
                .then(|| self.row_near_view(views[row], ids.value(row), from))
                .flatten();
            from = found.unwrap_or(from);
            found
        })
    }
}

/// What a partition's molecular test ids prove about the uniqueness of the extract's, and what
/// consecutive partitions' prove together ([`TestIdSpan::then`]): ids unique within each
/// partition, each partition's from above the last one's largest, are unique throughout. A run
/// reads each partition's tests anyway; validation then need not read every test id to decide
/// the contract's uniqueness, where registries export their tests in patient order with ids
/// ascending (as the synthetic extract does). Otherwise the span is unproven, and the ids are
/// read whole after all (`validate::check_test_ids`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TestIdSpan {
    /// No ids.
    #[default]
    Empty,
    /// Unique ids, the smallest `min` and the largest `max` (byte order).
    Unique { min: String, max: String },
    /// Uniqueness not shown here: two partitions' ranges overlap, or some id occurs twice
    /// (`repeats`, which decides it).
    Unproven { repeats: bool },
}

impl TestIdSpan {
    /// The span of the ids in `ids`, of which some occur more than once where `repeats` says so
    /// ([`TextIds::of`]).
    pub fn of(ids: &TextIds, repeats: bool) -> TestIdSpan {
        if repeats {
            return TestIdSpan::Unproven { repeats };
        }
        let mut values = ids.ids.non_null_values_iter();
        let Some(first) = values.next() else {
            return TestIdSpan::Empty;
        };
        let (min, max) = match ids.ascending {
            true => (first, ids.ids.value(ids.ids.len() - 1)),
            false => values.fold((first, first), |(min, max), id| (min.min(id), max.max(id))),
        };
        TestIdSpan::Unique {
            min: min.to_string(),
            max: max.to_string(),
        }
    }

    /// The span of these ids and `next`'s together.
    pub fn then(&self, next: &TestIdSpan) -> TestIdSpan {
        use TestIdSpan::*;
        match (self, next) {
            (Empty, span) | (span, Empty) => span.clone(),
            (Unique { min, max }, Unique { min: from, max: to }) if max < from => Unique {
                min: min.clone(),
                max: to.clone(),
            },
            (Unproven { repeats: true }, _) | (_, Unproven { repeats: true }) => {
                Unproven { repeats: true }
            }
            _ => Unproven { repeats: false },
        }
    }
}

/// The molecular tests' ids with each test's person: a variant counts with a test of its own
/// person only, so that a variant naming another person's test is an orphan whichever
/// partitions the two persons fall in (the engine reads a partition's own tests).
pub struct TestIds {
    ids: TextIds,
    /// Each test's `person_id`, by row of `ids`, in one chunk (Int64 or String, as read).
    persons: Series,
}

impl TestIds {
    /// No tests.
    pub fn empty() -> TestIds {
        TestIds {
            ids: TextIds::empty(),
            persons: Series::new_empty("person_id".into(), &DataType::Int64),
        }
    }

    /// The tests of `ids` with their `persons` (row by row), and whether some id occurs more
    /// than once ([`TextIds::of`]).
    pub fn of(ids: &StringChunked, persons: &Series) -> Result<(TestIds, bool), String> {
        if ids.len() != persons.len() {
            return Err(format!(
                "{} test ids but {} person ids",
                ids.len(),
                persons.len()
            ));
        }
        let (ids, repeats) = TextIds::of(ids)?;
        let persons = persons.rechunk();
        Ok((TestIds { ids, persons }, repeats))
    }

    /// The tests of `rows` (a String `test_id` and a `person_id` column) and whether some id
    /// occurs more than once ([`TestIds::of`]).
    pub fn of_frame(rows: &DataFrame) -> Result<(TestIds, bool), String> {
        let ids = rows.column("test_id").and_then(|ids| ids.str());
        let persons = rows.column("person_id");
        let (ids, persons) = ids
            .and_then(|ids| Ok((ids, persons?)))
            .map_err(|e| e.to_string())?;
        TestIds::of(ids, persons.as_materialized_series())
    }

    /// The tests of `rows`, read into memory ([`TestIds::of_frame`]).
    pub fn read(rows: LazyFrame) -> PolarsResult<(TestIds, bool)> {
        let rows = rows
            .select([col("test_id").cast(DataType::String), col("person_id")])
            .collect()?;
        TestIds::of_frame(&rows).map_err(|e| polars_err!(ComputeError: "molecular tests: {e}"))
    }

    /// The tests' ids as a set of their rows.
    pub(crate) fn ids(&self) -> &TextIds {
        &self.ids
    }

    /// How many tests.
    pub(crate) fn len(&self) -> usize {
        self.persons.len()
    }

    /// The span of the tests' ids, some of which occur more than once where `repeats` says so.
    pub fn span(&self, repeats: bool) -> TestIdSpan {
        TestIdSpan::of(&self.ids, repeats)
    }

    /// Per row, whether `tests` names no test of the row's person in `persons`: its id is null
    /// or no test's, the test is another person's, or the row's person is null.
    pub fn not_own(&self, persons: &Series, tests: &Series) -> PolarsResult<Vec<bool>> {
        let mut not_own = Vec::with_capacity(tests.len());
        self.each_row(persons, tests, |_, other| not_own.push(other))?;
        Ok(not_own)
    }

    /// Per row, the row of the test `tests` names in these tests (null where its id is null or
    /// no test's; whoever's test it is), and how many rows name no test of their own person
    /// ([`TestIds::not_own`]): for a reader that counts the orphans and keeps the rows for the
    /// variants' matching, which would look each test up again.
    pub fn rows_of(&self, persons: &Series, tests: &Series) -> PolarsResult<(IdxCa, u64)> {
        // The values and their validity apart, the validity packed once (an optional row a
        // time into a chunked array set its bits one by one).
        let mut rows = Vec::with_capacity(tests.len());
        let mut valid = Vec::with_capacity(tests.len());
        let mut not_own = 0;
        self.each_row(persons, tests, |row, other| {
            rows.push(row.unwrap_or(0) as IdxSize);
            valid.push(row.is_some());
            not_own += u64::from(other);
        })?;
        let valid = packed(&valid);
        let valid = (valid.unset_bits() > 0).then_some(valid);
        Ok((
            IdxCa::from_vec_validity(tests.name().clone(), rows, valid),
            not_own,
        ))
    }

    /// `f(test row, not own)` of each row, in order ([`TestIds::not_own`]).
    fn each_row(
        &self,
        persons: &Series,
        tests: &Series,
        mut f: impl FnMut(Option<usize>, bool),
    ) -> PolarsResult<()> {
        polars_ensure!(
            persons.len() == tests.len(),
            ShapeMismatch: "{} person ids beside {} test ids", persons.len(), tests.len()
        );
        let persons = persons.cast(self.persons.dtype())?;
        let tests = tests.cast(&DataType::String)?;
        let mut offset = 0;
        for array in tests.str()?.downcast_iter() {
            let theirs = persons.slice(offset as i64, array.len()).rechunk();
            offset += array.len();
            let found = self.ids.rows_of(array);
            // Whether a test of `owner` is no test of `person` (a null either side is not).
            fn other<T: PartialEq>(owner: Option<T>, person: Option<T>) -> bool {
                owner.is_none() || person.is_none() || owner != person
            }
            let rows = found.enumerate();
            match self.persons.dtype() {
                DataType::Int64 => {
                    let (owners, theirs) = (self.persons.i64()?, theirs.i64()?);
                    let (owners, theirs) = (owners.downcast_as_array(), theirs.downcast_as_array());
                    rows.for_each(|(i, test)| {
                        f(
                            test,
                            test.is_none_or(|test| other(owners.get(test), theirs.get(i))),
                        )
                    });
                }
                _ => {
                    let (owners, theirs) = (self.persons.str()?, theirs.str()?);
                    let (owners, theirs) = (owners.downcast_as_array(), theirs.downcast_as_array());
                    rows.for_each(|(i, test)| {
                        f(
                            test,
                            test.is_none_or(|test| other(owners.get(test), theirs.get(i))),
                        )
                    });
                }
            }
        }
        Ok(())
    }

    /// True where the row's `test_column` names no test of its `person_column`
    /// ([`TestIds::not_own`]), per morsel of a streaming scan.
    pub fn not_own_expr(self: &Arc<Self>, person_column: &str, test_column: &str) -> Expr {
        let tests = Arc::clone(self);
        map_multiple(
            move |columns: &mut [Column]| {
                let (persons, ids) = (
                    columns[0].as_materialized_series(),
                    columns[1].as_materialized_series(),
                );
                let flags = tests.not_own(persons, ids)?;
                Ok(boolean_column(ids.name().clone(), &flags).into_column())
            },
            [col(person_column), col(test_column)],
            |_, fields| Ok(Field::new(fields[1].name().clone(), DataType::Boolean)),
        )
        .alias(test_column)
    }
}

#[cfg(test)]
mod tests;
