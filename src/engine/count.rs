//! Counting the mask table from patient-level frames: each patient's outcomes are packed into
//! 64-bit words (two bits a criterion) beside its cohort and interned stratum, and the keys are
//! sorted and counted run by run, in parallel over row ranges (rayon). Nearly every patient has
//! its own combination of outcomes, so counting is closer to a sort of the patients than to a
//! tally of a few keys: a sort of flat keys beat a hash map (one probe, a cache miss, per key)
//! 2.5x at 1 M patients. Partitions' counts add up in a [`MaskCounter`].

use std::collections::BTreeSet;

use foldhash::HashMap;

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;
use rayon::prelude::*;
use smallvec::SmallVec;

use super::cohorts::matched_rows;
use super::evaluate::{drug_columns, drug_criteria, general_columns, STRATUM_COLUMNS};
use super::mask::{CohortColumns, MaskRow, MaskTable, Outcomes, Stratum};
use super::EngineError;
use crate::definition::model::Definition;
use crate::extract::distinct::map_distinct;

/// The mask table of one patient-level frame.
pub fn count(patients: &DataFrame, definition: &Definition) -> Result<MaskTable, EngineError> {
    let mut counter = MaskCounter::new(definition);
    counter.add(patients)?;
    Ok(counter.finish())
}

/// A key of the mask table while counting: the group (0 for the population, cohort + 1 for a
/// cohort, in the high half; the interned stratum in the low half), then the outcomes (general
/// criteria, then the cohort's).
type Key = (u64, Words);

/// Packed outcome codes while counting: inline up to 64 criteria (IMPRESS has 25 general plus at
/// most ~12 per drug), so the millions of keys at 10 M patients need no allocation each.
type Words = SmallVec<[u64; 2]>;

fn group(cohort: Option<u32>, stratum: u32) -> u64 {
    (cohort.map_or(0, |c| u64::from(c) + 1) << 32) | u64::from(stratum)
}

fn ungroup(group: u64) -> (Option<u32>, u32) {
    let cohort = (group >> 32) as u32;
    (cohort.checked_sub(1), group as u32)
}

/// The mask table counted over the partitions of a registry, one patient-level frame at a time:
/// counts of the same (cohort, stratum, outcomes) add up.
pub struct MaskCounter<'a> {
    definition: &'a Definition,
    strata: HashMap<Stratum, u32>,
    /// Counted keys: sorted and unique up to `compacted`, then sorted runs of later frames.
    counts: Vec<(Key, u64)>,
    compacted: usize,
    /// Unmerged runs are left to grow to at least this many keys before a merge.
    merge_floor: usize,
}

/// The columns of one frame, borrowed as slices for the row loop.
struct Columns<'f> {
    strata: Vec<&'f StringChunked>,
    general: Vec<&'f [u8]>,
    /// Per cohort: its patients (a bit per row) and the outcome codes of its drug's criteria.
    cohorts: Vec<(Bitmap, Vec<&'f [u8]>)>,
}

/// Outcome codes as one contiguous UInt8 slice (the engine fills every outcome).
fn codes<'f>(frame: &'f DataFrame, name: &str) -> Result<&'f [u8], EngineError> {
    let column = frame.column(name)?;
    let codes = column.u8().map_err(|_| {
        EngineError::Internal(format!("outcome column {name} is {}", column.dtype()))
    })?;
    codes.cont_slice().map_err(|_| {
        EngineError::Internal(format!("outcome column {name} has nulls or several chunks"))
    })
}

/// One row range's strata: each distinct combination of the five stratum values, and each row's
/// combination.
struct LocalStrata {
    /// Per stratum column, its distinct values in the range (None for null).
    values: [Vec<Option<String>>; 5],
    /// The distinct combinations, an index into `values` per column, by local index.
    combinations: Vec<[u32; 5]>,
    /// Each row's local index.
    rows: Vec<u32>,
}

impl LocalStrata {
    fn values(&self, combination: &[u32; 5]) -> [Option<&str>; 5] {
        std::array::from_fn(|d| self.values[d][combination[d] as usize].as_deref())
    }
}

/// Sorts keys and adds up the counts of equal ones.
fn sort_and_merge(counts: &mut Vec<(Key, u64)>) {
    counts.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    merge_sorted(counts);
}

/// Adds up the counts of equal keys of sorted `counts`.
fn merge_sorted(counts: &mut Vec<(Key, u64)>) {
    counts.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 += later.1;
        }
        same
    });
}

impl<'a> MaskCounter<'a> {
    pub fn new(definition: &'a Definition) -> MaskCounter<'a> {
        MaskCounter {
            definition,
            strata: HashMap::default(),
            counts: Vec::new(),
            compacted: 0,
            merge_floor: 1 << 20,
        }
    }

    /// A counter that merges its keys after every frame (tests: merges on a few patients).
    #[cfg(test)]
    pub fn merging_every_frame(definition: &'a Definition) -> MaskCounter<'a> {
        MaskCounter {
            merge_floor: 0,
            ..MaskCounter::new(definition)
        }
    }

    /// Adds the patients of one patient-level frame.
    pub fn add(&mut self, patients: &DataFrame) -> Result<(), EngineError> {
        let definition = self.definition;
        let mut frame = patients.clone();
        frame.rechunk_mut();
        let strata = STRATUM_COLUMNS
            .iter()
            .map(|c| Ok(frame.column(c)?.str()?))
            .collect::<Result<Vec<_>, EngineError>>()?;
        let general = general_columns(definition)
            .iter()
            .map(|c| codes(&frame, c))
            .collect::<Result<Vec<_>, _>>()?;
        let mut cohorts = Vec::with_capacity(definition.cohorts.len());
        for (c, cohort) in definition.cohorts.iter().enumerate() {
            let matched = matched_rows(&frame, c)?;
            let own = drug_columns(definition, cohort.drug)
                .iter()
                .map(|name| codes(&frame, name))
                .collect::<Result<Vec<_>, _>>()?;
            cohorts.push((matched, own));
        }
        let columns = Columns {
            strata,
            general,
            cohorts,
        };

        const ROWS: usize = 32_768;
        let height = frame.height();
        let ranges: Vec<_> = (0..height.div_ceil(ROWS))
            .map(|chunk| chunk * ROWS..((chunk + 1) * ROWS).min(height))
            .collect();
        let local: Vec<LocalStrata> = ranges
            .par_iter()
            .map(|rows| local_strata(&columns, rows.clone()))
            .collect();
        let global: Vec<Vec<u32>> = local
            .iter()
            .map(|local| {
                let mut global = Vec::with_capacity(local.combinations.len());
                for combination in &local.combinations {
                    let next = self.strata.len() as u32;
                    let values = local.values(combination);
                    global.push(*self.strata.entry(stratum(values)).or_insert(next));
                }
                global
            })
            .collect();
        let runs: Vec<Vec<(Key, u64)>> = ranges
            .into_par_iter()
            .zip(local.par_iter().zip(global.par_iter()))
            .map(|(rows, (local, global))| {
                let strata = local.rows.iter().map(|s| global[*s as usize]);
                count_rows(&columns, rows, strata)
            })
            .collect();
        for run in runs {
            self.counts.extend(run);
        }
        // Merged once the unmerged runs outgrow the merged keys: each key is sorted O(log)
        // times over a registry, and memory stays within twice the distinct keys.
        if self.counts.len() - self.compacted > self.compacted.max(self.merge_floor) {
            sort_and_merge(&mut self.counts);
            self.compacted = self.counts.len();
        }
        Ok(())
    }

    /// The table: strata indexed in sorted order, rows sorted, so that it depends neither on the
    /// thread count nor on the partitions.
    pub fn finish(mut self) -> MaskTable {
        let definition = self.definition;
        let cohorts = definition
            .cohorts
            .iter()
            .map(|cohort| CohortColumns {
                id: cohort.id.clone(),
                criteria: drug_criteria(definition, cohort.drug)
                    .map(|c| c.id.clone())
                    .collect(),
            })
            .collect();
        let sorted: Vec<(&Stratum, u32)> = self
            .strata
            .iter()
            .map(|(s, i)| (s, *i))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut position = vec![0u32; sorted.len()];
        for (p, (_, interned)) in sorted.iter().enumerate() {
            position[*interned as usize] = p as u32;
        }
        // Strata renumbered in sorted order before the last sort: the keys' order is then the
        // rows' order (population first, then cohorts; stratum; outcomes word by word).
        self.counts.par_iter_mut().for_each(|((group, _), _)| {
            let (cohort, stratum) = ungroup(*group);
            *group = self::group(cohort, position[stratum as usize]);
        });
        sort_and_merge(&mut self.counts);
        let general = definition.criteria.len();
        let width = |cohort: Option<u32>| match cohort {
            Some(c) => {
                general + drug_criteria(definition, definition.cohorts[c as usize].drug).count()
            }
            None => general,
        };
        let rows: Vec<MaskRow> = self
            .counts
            .into_par_iter()
            .map(|((group, words), patients)| {
                let (cohort, stratum) = ungroup(group);
                MaskRow {
                    cohort: cohort.map(|c| c as usize),
                    stratum: stratum as usize,
                    // Packed from 2-bit codes by `pack`, so never more bits than criteria.
                    outcomes: Outcomes::from_words(words.to_vec(), width(cohort))
                        .unwrap_or_default(),
                    patients,
                }
            })
            .collect();
        debug_assert!(rows.is_sorted());
        MaskTable {
            criteria: definition.criteria.iter().map(|c| c.id.clone()).collect(),
            cohorts,
            strata: sorted.into_iter().map(|(s, _)| s.clone()).collect(),
            rows,
        }
    }
}

fn stratum(values: [Option<&str>; 5]) -> Stratum {
    let value = |d: usize| values[d].unwrap_or("not recorded").to_string();
    Stratum {
        region: value(0),
        site: value(1),
        tumour_group: value(2),
        sex: value(3),
        age_band: value(4),
    }
}

/// Two bits per criterion: the codes of `sources` at `row`, appended after `start` criteria.
fn pack(words: &mut Words, start: usize, sources: &[&[u8]], row: usize) {
    for (i, source) in sources.iter().enumerate() {
        let k = start + i;
        if k / Outcomes::PER_WORD == words.len() {
            words.push(0);
        }
        words[k / Outcomes::PER_WORD] |=
            u64::from(source[row] & 0b11) << (2 * (k % Outcomes::PER_WORD));
    }
}

/// The strata of `rows`: each column's values numbered once per distinct string (a few regions,
/// sites, groups, sexes and bands over the rows), then each row's five numbers looked up. Hashing
/// the five strings of every row took 5 s of CPU at 10 M patients.
fn local_strata(columns: &Columns<'_>, rows: std::ops::Range<usize>) -> LocalStrata {
    let mut values: [Vec<Option<String>>; 5] = Default::default();
    let numbers: Vec<Vec<u32>> = columns
        .strata
        .iter()
        .zip(&mut values)
        .map(|(column, values)| {
            let part = column.slice(rows.start as i64, rows.len());
            map_distinct(&part, |value| {
                let known = values.iter().position(|v| v.as_deref() == value);
                known.unwrap_or_else(|| {
                    values.push(value.map(str::to_string));
                    values.len() - 1
                }) as u32
            })
        })
        .collect();
    let mut index: HashMap<[u32; 5], u32> = HashMap::default();
    let mut combinations = Vec::new();
    let rows = (0..rows.len())
        .map(|row| {
            let combination = std::array::from_fn(|d| numbers[d][row]);
            *index.entry(combination).or_insert_with(|| {
                combinations.push(combination);
                combinations.len() as u32 - 1
            })
        })
        .collect();
    LocalStrata {
        values,
        combinations,
        rows,
    }
}

/// The counted keys of `rows`, sorted; `strata` gives each row's interned stratum.
fn count_rows(
    columns: &Columns<'_>,
    rows: std::ops::Range<usize>,
    strata: impl Iterator<Item = u32>,
) -> Vec<(Key, u64)> {
    let mut keys = Vec::with_capacity(rows.len() * 2);
    let general_len = columns.general.len();
    for (row, stratum) in rows.zip(strata) {
        let mut words = Words::new();
        pack(&mut words, 0, &columns.general, row);
        for (c, (matched, own)) in columns.cohorts.iter().enumerate() {
            if !matched.get_bit(row) {
                continue;
            }
            let mut cohort_words = words.clone();
            pack(&mut cohort_words, general_len, own, row);
            keys.push(((group(Some(c as u32), stratum), cohort_words), 1));
        }
        keys.push(((group(None, stratum), words), 1));
    }
    keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    merge_sorted(&mut keys);
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows 1..6 of five stratum columns (two chunks, a null): each row's combination gives back
    /// its own five values, and equal rows share one combination: rows 1, 3 and 5 are
    /// (North, H1, lung, F, 60-69); row 2 differs in its site; row 4 has a null region.
    #[test]
    fn local_strata_number_each_distinct_combination_once() {
        let column = |name: &str, first: &[Option<&str>], second: &[Option<&str>]| {
            let mut column = StringChunked::new(name.into(), first);
            column
                .append(&StringChunked::new(name.into(), second))
                .unwrap();
            column
        };
        let n = Some("North");
        let region = column("region", &[Some("South"), n, n, n], &[None, n, n]);
        let site = column(
            "site",
            &[Some("H9"), Some("H1"), Some("H2"), Some("H1")],
            &[Some("H1"); 3],
        );
        let group = column("group", &[Some("lung"); 4], &[Some("lung"); 3]);
        let sex = column(
            "sex",
            &[Some("M"), Some("F"), Some("F"), Some("F")],
            &[Some("F"); 3],
        );
        let band = column("band", &[Some("60-69"); 4], &[Some("60-69"); 3]);
        assert_eq!(region.chunks().len(), 2);
        let columns = Columns {
            strata: vec![&region, &site, &group, &sex, &band],
            general: Vec::new(),
            cohorts: Vec::new(),
        };
        let local = local_strata(&columns, 1..6);
        let f = [n, Some("H1"), Some("lung"), Some("F"), Some("60-69")];
        let expected = [
            f,
            [n, Some("H2"), Some("lung"), Some("F"), Some("60-69")],
            f,
            [None, Some("H1"), Some("lung"), Some("F"), Some("60-69")],
            f,
        ];
        assert_eq!(local.rows.len(), 5);
        for (row, values) in local.rows.iter().zip(expected) {
            assert_eq!(local.values(&local.combinations[*row as usize]), values);
        }
        assert_eq!(local.combinations.len(), 3);
        assert_eq!(local.rows[0], local.rows[2]);
        assert_eq!(local.rows[0], local.rows[4]);
    }
}
