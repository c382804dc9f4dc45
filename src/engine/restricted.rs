//! The restricted outputs, never published: `patients.parquet` (`person_id`, one Utf8 column per
//! criterion id with `pass`, `fail`, `unknown`, `n/a`, `status`, one column per cohort id with the
//! patient's cohort status, null where not matched) and `masks.parquet` (the unsuppressed mask
//! table with one column per criterion, which registries can pool).

use std::borrow::Cow;
use std::collections::HashMap;

use polars::prelude::*;
use polars_arrow::bitmap::MutableBitmap;

use super::cohorts::matched_rows;
use super::compile::{FAIL, NOT_APPLICABLE, PASS, UNKNOWN};
use super::evaluate::{drug_columns, general_columns};
use super::mask::{MaskRow, MaskTable, Outcomes, Status, Stratum};
use super::EngineError;
use crate::definition::model::Definition;
use crate::prefetch::{blocks, prefetch_block};

/// The restricted words of the outcome codes, indexed by code (`PASS` ... `NOT_APPLICABLE`).
pub const OUTCOME_WORDS: [&str; 4] = {
    let mut words = [""; 4];
    words[PASS as usize] = "pass";
    words[FAIL as usize] = "fail";
    words[UNKNOWN as usize] = "unknown";
    words[NOT_APPLICABLE as usize] = "n/a";
    words
};

/// The words of the status codes `status` gives.
pub const STATUS_WORDS: [&str; 3] = ["ineligible", "possibly eligible", "eligible"];

/// Per row, bit 0: some criterion of `columns` fails; bit 1: some is unknown. Four columns at a
/// time, a branch-free byte each, each block of a column asked for ahead: the columns were
/// computed long before (the loads were most of this pass's samples at 10 M patients).
fn fails_and_unknown(columns: &[&[u8]], height: usize) -> Vec<u8> {
    let mut flags = vec![0u8; height];
    for group in columns.chunks(4) {
        let len = group.iter().map(|c| c.len()).fold(height, usize::min);
        for block in blocks(len) {
            let flags = &mut flags[block.clone()];
            for codes in group {
                prefetch_block(codes, block.clone());
            }
            let codes = |c: usize| &group[c][block.clone()];
            match group.len() {
                4 => or_flags(flags, [codes(0), codes(1), codes(2), codes(3)]),
                3 => or_flags(flags, [codes(0), codes(1), codes(2)]),
                2 => or_flags(flags, [codes(0), codes(1)]),
                _ => or_flags(flags, [codes(0)]),
            }
        }
    }
    flags
}

/// [`fails_and_unknown`]'s bits of `N` columns' codes or'd into each row's flags (each column as
/// long as the flags).
#[inline(always)]
fn or_flags<const N: usize>(flags: &mut [u8], columns: [&[u8]; N]) {
    let bits = |code: u8| u8::from(code == FAIL) | u8::from(code == UNKNOWN) << 1;
    let columns = columns.map(|codes| &codes[..flags.len()]);
    for (i, flag) in flags.iter_mut().enumerate() {
        *flag |= columns.iter().fold(0, |or, codes| or | bits(codes[i]));
    }
}

/// The status code ([`STATUS_WORDS`]) of [`fails_and_unknown`]'s flags: `ineligible` where any
/// criterion fails, else `possibly eligible` where any is unknown, else `eligible`.
fn status(flags: u8) -> u8 {
    match Status::given(flags & 1 != 0, flags & 2 != 0) {
        Status::Ineligible => 0,
        Status::PossiblyEligible => 1,
        Status::Eligible => 2,
    }
}

/// Outcome code columns of `frame`, each as one contiguous slice (rechunked where needed).
fn code_columns(frame: &DataFrame, names: &[String]) -> Result<Vec<UInt8Chunked>, EngineError> {
    names
        .iter()
        .map(|name| {
            let codes = frame.column(name)?.u8()?.rechunk().into_owned();
            match codes.null_count() {
                0 => Ok(codes),
                _ => Err(EngineError::Internal(format!(
                    "outcome column {name} has nulls"
                ))),
            }
        })
        .collect()
}

fn slices(columns: &[UInt8Chunked]) -> Result<Vec<&[u8]>, EngineError> {
    columns
        .iter()
        .map(|c| {
            c.cont_slice()
                .map_err(|e| EngineError::Internal(format!("outcome column {}: {e}", c.name())))
        })
        .collect()
}

/// A frame some of whose columns hold words as UInt8 codes: where `words[i]` is given, column
/// `i`'s word is `words[i][code]` (null where the code is null); other columns are as they are.
/// Written as Parquet dictionary pages straight from the codes, its word columns read as Utf8.
pub struct Coded<'a> {
    pub frame: DataFrame,
    pub words: Vec<Option<Words<'a>>>,
}

/// The words of a coded column, by code: the outcomes' and statuses' own, or a mask table's
/// cohort ids and stratum values.
pub type Words<'a> = Cow<'a, [&'a str]>;

/// Whether a column of `words` words is written as codes: its codes are bytes, and a
/// dictionary of no words (a definition without cohorts) is left to polars' writer.
fn coded_words(words: usize) -> bool {
    (1..=1 << u8::BITS).contains(&words)
}

/// The restricted patient-level frame. Whether any criterion fails or is unknown is computed once
/// for the general criteria and once per drug, then combined per cohort (a cohort's status reads
/// the general criteria and its drug's): 24 cohorts over ~35 columns each made this file cost
/// more than the mask table. Computed over the code columns' bytes: as ~100 polars expressions
/// it took 0.27 s of a 1 M run.
pub fn patients(
    patients: &DataFrame,
    definition: &Definition,
) -> Result<Coded<'static>, EngineError> {
    let height = patients.height();
    let general = code_columns(patients, &general_columns(definition))?;
    let general_flags = fails_and_unknown(&slices(&general)?, height);
    let drug_flags = (0..definition.drugs.len())
        .map(|d| {
            let columns = code_columns(patients, &drug_columns(definition, d))?;
            Ok(fails_and_unknown(&slices(&columns)?, height))
        })
        .collect::<Result<Vec<_>, EngineError>>()?;
    let mut columns: Vec<Column> = vec![patients.column("person_id")?.clone()];
    let mut words: Vec<Option<Words>> = vec![None];
    for (criterion, codes) in definition.criteria.iter().zip(general) {
        columns.push(codes.with_name(criterion.id.as_str().into()).into_column());
        words.push(Some(Cow::Borrowed(&OUTCOME_WORDS)));
    }
    let statuses: Vec<u8> = general_flags.iter().map(|f| status(*f)).collect();
    columns.push(UInt8Chunked::from_vec("status".into(), statuses).into_column());
    words.push(Some(Cow::Borrowed(&STATUS_WORDS)));
    for (c, cohort) in definition.cohorts.iter().enumerate() {
        // Null where not matched (a null match counts as not matched).
        let validity = matched_rows(patients, c)?;
        let statuses: Vec<u8> = general_flags
            .iter()
            .zip(&drug_flags[cohort.drug])
            .map(|(general, drug)| status(general | drug))
            .collect();
        let name = cohort.id.as_str().into();
        columns.push(UInt8Chunked::from_vec_validity(name, statuses, Some(validity)).into_column());
        words.push(Some(Cow::Borrowed(&STATUS_WORDS)));
    }
    let frame = DataFrame::new(height, columns)?;
    Ok(Coded { frame, words })
}

/// One stratum dimension of a mask table as words: its values in the order the strata first
/// give them, and each stratum's value by its position among them.
struct StratumWords<'a> {
    name: &'static str,
    words: Vec<&'a str>,
    /// Per stratum (`MaskTable::strata`), the position of its value in `words`.
    codes: Vec<usize>,
}

impl<'a> StratumWords<'a> {
    /// The dimensions ([`Stratum::DIMENSIONS`]) of `masks`' strata.
    fn of(masks: &'a MaskTable) -> Vec<StratumWords<'a>> {
        Stratum::DIMENSIONS
            .iter()
            .map(|&name| {
                let mut position: HashMap<&str, usize> = HashMap::new();
                let mut words = Vec::new();
                let codes = masks
                    .strata
                    .iter()
                    .map(|stratum| {
                        let value = stratum.get(name).unwrap_or("not recorded");
                        *position.entry(value).or_insert_with(|| {
                            words.push(value);
                            words.len() - 1
                        })
                    })
                    .collect();
                StratumWords { name, words, codes }
            })
            .collect()
    }
}

/// The mask table as frames, a slice of its rows at a time: `cohort` (null for the population
/// rows), the five stratum columns, one Utf8 column per criterion id (general criteria, then
/// every cohort criterion id; null where a row does not carry that criterion) and `patients`.
/// The criterion columns are outcome codes; the cohort and stratum columns are codes too, of
/// their ids and values (polars' writer hashed each of their strings: at 10 M patients, 3.3 M
/// rows of six Utf8 columns), unless one has more words than a byte can number.
pub struct MaskFrames<'a> {
    masks: &'a MaskTable,
    /// The criterion ids, one column each.
    ids: Vec<String>,
    /// The population's rows, then each cohort's: how their outcomes map to the columns.
    groups: Vec<GroupCells>,
    cohort_words: Vec<&'a str>,
    dimensions: Vec<StratumWords<'a>>,
}

/// How the outcomes of one group of mask rows (the population's, or a cohort's) fill the
/// columns: each row carries `criteria` outcomes, and outcome `j` goes to column `c` for every
/// `(j, c)` of `cells`. A cell is then decoded straight from its row's words, not by an iterator
/// that tests an option and sets a validity bit for every outcome.
struct GroupCells {
    criteria: usize,
    cells: Vec<(usize, usize)>,
}

impl GroupCells {
    fn of(columns: &[Option<usize>]) -> GroupCells {
        let cells = columns.iter().enumerate();
        GroupCells {
            criteria: columns.len(),
            cells: cells.filter_map(|(j, c)| Some((j, (*c)?))).collect(),
        }
    }
}

/// Rows of one group decoded at a time by [`decode_block`]: their words, laid out word by word,
/// stay in the first-level cache while every column is filled from them.
const BLOCK_ROWS: usize = 1024;

/// Fills rows `start..start + block.len()` of the outcome columns from `block`, rows of one
/// group whose outcome counts are checked: the rows' words are laid out word by word first, so
/// that each cell's column is a shift and a mask over contiguous words, row after row. Decoding
/// cell by cell, row by row, loaded each row's words again for each of its ~45 cells and indexed
/// two vectors per cell (2.4 % of a run's instructions at 250,000 patients).
fn decode_block(block: &[MaskRow], group: &GroupCells, outcomes: &mut [Vec<u8>], start: usize) {
    let words = group.criteria.div_ceil(Outcomes::PER_WORD);
    let mut lanes = vec![0u64; words * block.len()];
    for (r, row) in block.iter().enumerate() {
        for (w, word) in row.outcomes.words().iter().enumerate().take(words) {
            lanes[w * block.len() + r] = *word;
        }
    }
    for &(j, column) in &group.cells {
        let (w, shift) = Outcomes::place(j);
        let lane = &lanes[w * block.len()..(w + 1) * block.len()];
        let cells = &mut outcomes[column][start..start + block.len()];
        for (cell, word) in cells.iter_mut().zip(lane) {
            *cell = (word >> shift & 0b11) as u8;
        }
    }
}

impl<'a> MaskFrames<'a> {
    pub fn new(masks: &'a MaskTable) -> MaskFrames<'a> {
        let mut ids: Vec<String> = masks.criteria.clone();
        for cohort in &masks.cohorts {
            for id in &cohort.criteria {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
        }
        let position = |name: &String| ids.iter().position(|id| id == name);
        let general: Vec<Option<usize>> = masks.criteria.iter().map(position).collect();
        let per_cohort = masks.cohorts.iter().map(|c| {
            let columns: Vec<Option<usize>> = (general.iter().copied())
                .chain(c.criteria.iter().map(position))
                .collect();
            GroupCells::of(&columns)
        });
        let groups = std::iter::once(GroupCells::of(&general))
            .chain(per_cohort)
            .collect();
        MaskFrames {
            masks,
            ids,
            groups,
            cohort_words: masks.cohorts.iter().map(|c| c.id.as_str()).collect(),
            dimensions: StratumWords::of(masks),
        }
    }

    /// Rows `rows` of the table (clamped to it) as a frame.
    pub fn slice(&self, rows: std::ops::Range<usize>) -> Result<Coded<'_>, EngineError> {
        let all = &self.masks.rows;
        let rows = &all[rows.start.min(all.len())..rows.end.min(all.len())];
        let n = rows.len();
        let mut cohort = Vec::with_capacity(n);
        let mut strata = Vec::with_capacity(n);
        let group_of = |row: &MaskRow| &self.groups[row.cohort.map_or(0, |c| c + 1)];
        let mut outcomes: Vec<Vec<u8>> = (0..self.ids.len()).map(|_| vec![0; n]).collect();
        let mut patients = Vec::with_capacity(n);
        for row in rows {
            cohort.push(row.cohort);
            strata.push(row.stratum);
            let group = group_of(row);
            if row.outcomes.len() != group.criteria {
                return Err(EngineError::Internal(format!(
                    "a mask row has {} outcomes, its group {} criteria",
                    row.outcomes.len(),
                    group.criteria
                )));
            }
            patients.push(row.patients);
        }
        // By runs of rows of one group (the rows are sorted by cohort, so a slice has a few):
        // their outcomes decoded a block at a time, and null where a row does not carry the
        // criterion.
        let mut validity: Vec<MutableBitmap> = (0..self.ids.len())
            .map(|_| MutableBitmap::with_capacity(n))
            .collect();
        let mut start = 0;
        for run in rows.chunk_by(|a, b| a.cohort == b.cohort) {
            let group = group_of(&run[0]);
            for block in run.chunks(BLOCK_ROWS) {
                decode_block(block, group, &mut outcomes, start);
                start += block.len();
            }
            let mut carried = vec![false; self.ids.len()];
            for &(_, column) in &group.cells {
                carried[column] = true;
            }
            for (valid, carried) in validity.iter_mut().zip(carried) {
                valid.extend_constant(run.len(), carried);
            }
        }
        let outcomes = outcomes.into_iter().zip(validity);
        let width = self.ids.len() + 7;
        let mut columns: Vec<Column> = Vec::with_capacity(width);
        let mut words: Vec<Option<Words>> = Vec::with_capacity(width);
        if coded_words(self.cohort_words.len()) {
            let codes = cohort.iter().map(|c| c.map(|c| c as u8));
            columns.push(UInt8Chunked::from_iter_options("cohort".into(), codes).into_column());
            words.push(Some(Cow::Borrowed(&self.cohort_words)));
        } else {
            let ids: Vec<Option<&str>> = cohort
                .iter()
                .map(|c| c.map(|c| self.cohort_words[c]))
                .collect();
            columns.push(Series::new("cohort".into(), ids).into());
            words.push(None);
        }
        for dimension in &self.dimensions {
            let name = dimension.name.into();
            let codes = strata.iter().map(|s| dimension.codes[*s]);
            if coded_words(dimension.words.len()) {
                let codes: Vec<u8> = codes.map(|code| code as u8).collect();
                columns.push(UInt8Chunked::from_vec(name, codes).into_column());
                words.push(Some(Cow::Borrowed(&dimension.words)));
            } else {
                let values: Vec<&str> = codes.map(|code| dimension.words[code]).collect();
                columns.push(Series::new(name, values).into());
                words.push(None);
            }
        }
        for (id, (codes, valid)) in self.ids.iter().zip(outcomes) {
            let validity = Some(valid.into());
            let codes = UInt8Chunked::from_vec_validity(id.as_str().into(), codes, validity);
            columns.push(codes.into_column());
            words.push(Some(Cow::Borrowed(&OUTCOME_WORDS[..])));
        }
        columns.push(Series::new("patients".into(), patients).into());
        words.push(None);
        let frame = DataFrame::new_infer_height(columns)?;
        Ok(Coded { frame, words })
    }
}

#[cfg(test)]
mod tests;
