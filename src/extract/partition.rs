//! Patients evaluated a partition at a time: ranges of `person_id` holding about the same number
//! of patients, so that memory is bounded by the partition's size, not the registry's. Every table
//! is filtered to the range; on an extract sorted or clustered by `person_id` (as database dumps
//! and `eligo synth` write them) the Parquet row-group statistics skip the other partitions' row
//! groups, and where they show the row groups in order, a partition reads its rows by row groups
//! ([`super::row_groups`]), so that the extract is decoded once. Any order gives the same results.
//! Validation counts orphan rows per partition too, against a small set of ids, where the ids are
//! not dense enough for a bitmap ([`super::ids::DenseIds`]).

/// Patients per partition unless the command line says otherwise (`--partition-patients`).
pub const DEFAULT_PARTITION_PATIENTS: usize = 250_000;

use polars::prelude::*;

/// One end of a partition's range: a `person_id` of the person table. Ordered as the ids are
/// (numbers; text byte by byte), within one variant.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum Bound {
    Int(i64),
    Text(String),
}

impl Bound {
    fn lit(&self) -> Expr {
        match self {
            Bound::Int(v) => lit(*v),
            Bound::Text(v) => lit(v.as_str()),
        }
    }
}

/// The patients with `from <= person_id < until` (an absent end is unbounded).
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    pub from: Option<Bound>,
    pub until: Option<Bound>,
    /// Person rows in the range.
    pub patients: usize,
}

impl Partition {
    /// The rows of one table in the range; the whole table for the single, unbounded partition.
    pub fn filter(&self, table: LazyFrame) -> LazyFrame {
        let id = || col("person_id");
        let predicate = match (&self.from, &self.until) {
            (None, None) => return table,
            (Some(from), None) => id().gt_eq(from.lit()),
            (None, Some(until)) => id().lt(until.lit()),
            (Some(from), Some(until)) => id().gt_eq(from.lit()).and(id().lt(until.lit())),
        };
        table.filter(predicate)
    }
}

/// Splits the person table into consecutive `person_id` ranges of at most `size` patients (more
/// only where one id repeats). One unbounded partition when the table has at most `size` rows.
pub fn partitions(person: &LazyFrame, size: usize) -> Result<Vec<Partition>, PolarsError> {
    split(&super::ids::sorted_ids(person)?, size)
}

/// [`partitions`] of ids already read and sorted ([`super::ids::sorted_ids`]).
pub fn split(ids: &Series, size: usize) -> Result<Vec<Partition>, PolarsError> {
    let size = size.max(1);
    let total = ids.len();
    if total <= size {
        return Ok(vec![Partition {
            from: None,
            until: None,
            patients: total,
        }]);
    }
    let bound = |row: usize| -> Result<Bound, PolarsError> {
        match ids.dtype() {
            DataType::String => Ok(Bound::Text(
                ids.str()?.get(row).unwrap_or_default().to_string(),
            )),
            _ => Ok(Bound::Int(
                ids.cast(&DataType::Int64)?
                    .i64()?
                    .get(row)
                    .unwrap_or_default(),
            )),
        }
    };
    // Cut points: every `size`-th id, moved past repeats of the id before it so that one id's
    // rows never straddle two partitions.
    let mut cuts = vec![0usize];
    let mut next = size;
    while next < total {
        let mut cut = next;
        while cut < total && bound(cut)? == bound(cut - 1)? {
            cut += 1;
        }
        if cut >= total {
            break;
        }
        cuts.push(cut);
        next = cut + size;
    }
    let mut out = Vec::with_capacity(cuts.len());
    for (k, &start) in cuts.iter().enumerate() {
        let end = cuts.get(k + 1).copied().unwrap_or(total);
        out.push(Partition {
            from: if k == 0 { None } else { Some(bound(start)?) },
            until: if k + 1 == cuts.len() {
                None
            } else {
                Some(bound(end)?)
            },
            patients: end - start,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(parts: &[Partition]) -> Vec<(Option<Bound>, Option<Bound>, usize)> {
        parts
            .iter()
            .map(|p| (p.from.clone(), p.until.clone(), p.patients))
            .collect()
    }

    fn person(ids: &[i64]) -> LazyFrame {
        df!("person_id" => ids).unwrap().lazy()
    }

    #[test]
    fn one_unbounded_partition_when_small() {
        let parts = partitions(&person(&[3, 1, 2]), 3).unwrap();
        assert_eq!(
            parts,
            vec![Partition {
                from: None,
                until: None,
                patients: 3
            }]
        );
    }

    #[test]
    fn ranges_cover_every_id_once() {
        // sorted: 1 2 3 5 8 9 10; size 3 -> [..5) [5..10) [10..)
        let parts = partitions(&person(&[9, 1, 5, 3, 10, 2, 8]), 3).unwrap();
        let ends = ends(&parts);
        assert_eq!(
            ends,
            vec![
                (None, Some(Bound::Int(5)), 3),
                (Some(Bound::Int(5)), Some(Bound::Int(10)), 3),
                (Some(Bound::Int(10)), None, 1),
            ]
        );
    }

    #[test]
    fn a_repeated_id_stays_in_one_partition() {
        // sorted: 1 2 2 2 3; size 2 -> the cut at row 2 (id 2) moves to row 4 (id 3)
        let parts = partitions(&person(&[2, 1, 2, 3, 2]), 2).unwrap();
        let ends = ends(&parts);
        assert_eq!(
            ends,
            vec![
                (None, Some(Bound::Int(3)), 4),
                (Some(Bound::Int(3)), None, 1)
            ]
        );
    }

    #[test]
    fn text_ids_split_in_byte_order() {
        let frame = df!("person_id" => ["b", "a", "d", "c"]).unwrap().lazy();
        let parts = partitions(&frame, 2).unwrap();
        assert_eq!(parts[0].until, Some(Bound::Text("c".into())));
        assert_eq!(parts[1].from, Some(Bound::Text("c".into())));
        let rows = |p: &Partition| p.filter(frame.clone()).collect().unwrap().height();
        assert_eq!(rows(&parts[0]) + rows(&parts[1]), 4);
        assert_eq!(rows(&parts[0]), 2);
    }
}
