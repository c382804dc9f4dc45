//! The person table's ids, read once and sorted: repeated ids are adjacent (uniqueness without a
//! hash table), and Int64 ids that fill most of their range become a bitmap over it, so that a
//! record's "is this patient in person?" is one bit test instead of a hash probe (orphan counts).

use std::sync::Arc;

use polars::prelude::*;

/// The non-null `person_id`s of the person table, sorted ascending.
pub fn sorted_ids(person: &LazyFrame) -> PolarsResult<Series> {
    let ids = person
        .clone()
        .select([col("person_id")])
        .drop_nulls(None)
        .sort(["person_id"], SortMultipleOptions::default())
        .collect()?;
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
        if id < self.min {
            return false;
        }
        let offset = id.abs_diff(self.min);
        self.bits
            .get((offset / 64) as usize)
            .is_some_and(|word| word & (1 << (offset % 64)) != 0)
    }

    /// An elementwise expression: true where `column`'s id is not in the set (a null id too, as
    /// an anti join counts it). Polars runs it per morsel of a streaming scan.
    pub fn absent(self: &Arc<Self>, column: &str) -> Expr {
        let set = Arc::clone(self);
        col(column).map(
            move |ids: Column| {
                let ids = ids.as_materialized_series().cast(&DataType::Int64)?;
                let absent: BooleanChunked = ids
                    .i64()?
                    .iter()
                    .map(|id| Some(id.is_none_or(|id| !set.contains(id))))
                    .collect();
                Ok(absent.with_name(ids.name().clone()).into_column())
            },
            |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
        )
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
}
