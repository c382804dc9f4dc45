//! Counting the mask table from patient-level frames: one pass over the rows, in parallel over
//! row ranges (rayon), packing each patient's outcomes into 64-bit words (two bits a criterion)
//! and counting per (cohort, stratum, outcomes). Strata are interned, so a key is a few words;
//! the maps hash with foldhash (SipHash showed in the profile at 10 M patients).
//! Partitions' counts add up in a [`MaskCounter`].

use std::collections::BTreeSet;

use foldhash::HashMap;

use polars::prelude::*;
use rayon::prelude::*;
use smallvec::SmallVec;

use super::cohorts::matched_column;
use super::evaluate::{drug_columns, drug_criteria, general_columns, STRATUM_COLUMNS};
use super::mask::{CohortColumns, MaskRow, MaskTable, Outcomes, Stratum};
use super::EngineError;
use crate::definition::model::Definition;

/// The mask table of one patient-level frame.
pub fn count(patients: &DataFrame, definition: &Definition) -> Result<MaskTable, EngineError> {
    let mut counter = MaskCounter::new(definition);
    counter.add(patients)?;
    Ok(counter.finish())
}

/// A key of the mask table while counting: cohort (None: the population), interned stratum,
/// outcomes (general criteria, then the cohort's).
type Key = (Option<u32>, u32, Words);

/// Packed outcome codes while counting: inline up to 64 criteria (IMPRESS has 25 general plus at
/// most ~12 per drug), so the millions of keys at 10 M patients need no allocation each.
type Words = SmallVec<[u64; 2]>;

/// The mask table counted over the partitions of a registry, one patient-level frame at a time:
/// counts of the same (cohort, stratum, outcomes) add up.
pub struct MaskCounter<'a> {
    definition: &'a Definition,
    strata: HashMap<Stratum, u32>,
    counts: HashMap<Key, u64>,
}

/// The columns of one frame, borrowed as slices for the row loop.
struct Columns<'f> {
    strata: Vec<&'f StringChunked>,
    general: Vec<&'f [u8]>,
    /// Per cohort: the matched flags and the outcome codes of its drug's criteria.
    cohorts: Vec<(&'f BooleanChunked, Vec<&'f [u8]>)>,
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

/// Per-worker counts: stratum values (borrowed from the frame) -> local index, and counts.
#[derive(Default)]
struct Local<'f> {
    strata: HashMap<[Option<&'f str>; 5], u32>,
    counts: HashMap<Key, u64>,
}

impl<'a> MaskCounter<'a> {
    pub fn new(definition: &'a Definition) -> MaskCounter<'a> {
        MaskCounter {
            definition,
            strata: HashMap::default(),
            counts: HashMap::default(),
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
            let matched = frame.column(&matched_column(c))?.bool()?;
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
        let locals: Vec<Local> = (0..height.div_ceil(ROWS))
            .into_par_iter()
            .map(|chunk| {
                let rows = chunk * ROWS..((chunk + 1) * ROWS).min(height);
                count_rows(&columns, rows)
            })
            .collect();
        for local in locals {
            let mut global = vec![0; local.strata.len()];
            for (values, index) in local.strata {
                let stratum = stratum(values);
                let next = self.strata.len() as u32;
                global[index as usize] = *self.strata.entry(stratum).or_insert(next);
            }
            for ((cohort, stratum, outcomes), n) in local.counts {
                *self
                    .counts
                    .entry((cohort, global[stratum as usize], outcomes))
                    .or_default() += n;
            }
        }
        Ok(())
    }

    /// The table: strata indexed in sorted order, rows sorted, so that it depends neither on the
    /// thread count nor on the partitions.
    pub fn finish(self) -> MaskTable {
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
        let mut position = vec![0usize; sorted.len()];
        for (p, (_, interned)) in sorted.iter().enumerate() {
            position[*interned as usize] = p;
        }
        let general = definition.criteria.len();
        let width = |cohort: Option<u32>| match cohort {
            Some(c) => {
                general + drug_criteria(definition, definition.cohorts[c as usize].drug).count()
            }
            None => general,
        };
        let mut rows: Vec<MaskRow> = self
            .counts
            .into_iter()
            .map(|((cohort, stratum, words), patients)| MaskRow {
                cohort: cohort.map(|c| c as usize),
                stratum: position[stratum as usize],
                // Packed from 2-bit codes by `pack`, so never more bits than criteria.
                outcomes: Outcomes::from_words(words.to_vec(), width(cohort)).unwrap_or_default(),
                patients,
            })
            .collect();
        rows.par_sort_unstable();
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

fn count_rows<'f>(columns: &Columns<'f>, rows: std::ops::Range<usize>) -> Local<'f> {
    let mut local = Local::default();
    let general_len = columns.general.len();
    for row in rows {
        let values: [Option<&'f str>; 5] = std::array::from_fn(|d| columns.strata[d].get(row));
        let next = local.strata.len() as u32;
        let stratum = *local.strata.entry(values).or_insert(next);
        let mut words = Words::new();
        pack(&mut words, 0, &columns.general, row);
        for (c, (matched, own)) in columns.cohorts.iter().enumerate() {
            if matched.get(row) != Some(true) {
                continue;
            }
            let mut cohort_words = words.clone();
            pack(&mut cohort_words, general_len, own, row);
            *local
                .counts
                .entry((Some(c as u32), stratum, cohort_words))
                .or_default() += 1;
        }
        *local.counts.entry((None, stratum, words)).or_default() += 1;
    }
    local
}
