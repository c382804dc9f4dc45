//! Counting the mask table from patient-level frames: each patient's outcomes are packed into
//! 64-bit words (two bits a criterion, column by column) beside its cohort and interned stratum
//! (`count/strata.rs`), in a key of fixed width where the definition's criteria fit (an array of
//! words, compared and moved as such), and the keys are sorted and counted run by run, a range
//! of up to [`RANGE_ROWS`] rows a run (ranges in parallel, rayon). Nearly every patient has its
//! own combination of outcomes, so counting is closer to a sort of the patients than to a tally
//! of a few keys: a sort of flat keys beat a hash map (one probe, a cache miss, per key) 2.5x at
//! 1 M patients. Partitions' counts add up in a [`MaskCounter`]: its sorted runs are merged
//! pairwise once they outgrow the keys merged before.

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;
use rayon::prelude::*;

use super::cohorts::matched_rows;
use super::evaluate::{
    drug_columns, drug_criteria, general_columns, stratum_labels, STRATUM_COLUMNS,
};
use super::mask::{CohortColumns, MaskRow, MaskTable, Outcomes};
use super::EngineError;
use crate::definition::model::Definition;
use crate::prefetch::{items_ahead, prefetch};
use strata::{local_strata, LocalStrata, Strata, StratumColumn};

mod strata;

/// The mask table of one patient-level frame.
pub fn count(patients: &DataFrame, definition: &Definition) -> Result<MaskTable, EngineError> {
    let mut counter = MaskCounter::new(definition);
    counter.add(patients)?;
    Ok(counter.finish())
}

/// A key of the mask table while counting: word 0 is the group (0 for the population, cohort +
/// 1 for a cohort, in the high half; the interned stratum in the low half), then the outcome
/// words (general criteria, then the cohort's; zero past a key's criteria). Keys of one group
/// have as many criteria, so the keys' order is the rows' order.
trait Key: Ord + Clone + Send + Sync + AsRef<[u64]> + AsMut<[u64]> {
    /// A key of group `group` and `words` outcome words, all outcomes 0.
    fn new(group: u64, words: usize) -> Self;

    /// Whether `a` comes before `b`.
    fn less(a: &Self, b: &Self) -> bool {
        a < b
    }

    /// Sorts keys in their order.
    fn sort(keys: &mut [Self]) {
        keys.sort_unstable();
    }

    fn group(&self) -> u64 {
        self.as_ref()[0]
    }
    fn set_group(&mut self, group: u64) {
        self.as_mut()[0] = group;
    }
    fn words(&self) -> &[u64] {
        &self.as_ref()[1..]
    }
    fn words_mut(&mut self) -> &mut [u64] {
        &mut self.as_mut()[1..]
    }
}

/// A key of `N - 1` outcome words: the IMPRESS definition's keys are three words, 24 bytes that
/// compare as integers (as `(u64, SmallVec)` they compared as slices behind a branch).
impl<const N: usize> Key for [u64; N] {
    fn new(group: u64, _words: usize) -> Self {
        let mut key = [0; N];
        key[0] = group;
        key
    }

    /// By a comparison without branches: word by word from the last, `a < b` where the word is
    /// less, or equal and the rest less. The arrays' own comparison branches at each word, and
    /// keys that share their group and first words make those branches hard to predict.
    fn less(a: &Self, b: &Self) -> bool {
        (0..N)
            .rev()
            .fold(false, |less, i| (a[i] < b[i]) | ((a[i] == b[i]) & less))
    }

    fn sort(keys: &mut [Self]) {
        keys.sort_unstable_by(|a, b| match (Self::less(a, b), Self::less(b, a)) {
            (true, _) => std::cmp::Ordering::Less,
            (_, true) => std::cmp::Ordering::Greater,
            _ => std::cmp::Ordering::Equal,
        });
    }
}

/// A key of any width: definitions with more criteria than the widest array key holds.
impl Key for Vec<u64> {
    fn new(group: u64, words: usize) -> Self {
        let mut key = vec![0; words + 1];
        key[0] = group;
        key
    }
}

/// Counted keys: `merged` sorted and unique, and the sorted, unique runs of later frames not
/// merged into it yet (`unmerged` keys in all).
struct Counts<K> {
    merged: Vec<(K, u64)>,
    runs: Vec<Vec<(K, u64)>>,
    unmerged: usize,
}

impl<K> Default for Counts<K> {
    fn default() -> Self {
        Counts {
            merged: Vec::new(),
            runs: Vec::new(),
            unmerged: 0,
        }
    }
}

impl<K: Key> Counts<K> {
    /// Every run merged into `merged`: the runs with each other, pairs in parallel (each key
    /// moves once per level, log2 of the runs), then with `merged` once. A sort of all the keys
    /// (rayon's merge sort, whose 2,000-key chunks merged twelve levels deep at a few million
    /// keys) was 2.3 % of a 10 M run's samples.
    fn merge(&mut self) {
        let mut runs = std::mem::take(&mut self.runs);
        while runs.len() > 1 {
            runs = runs
                .par_chunks_mut(2)
                .map(|pair| match pair {
                    [a, b] => merge_two(a, b),
                    // The last of an odd number, left for the next level as it is.
                    [a] => std::mem::take(a),
                    _ => unreachable!("chunks of two"),
                })
                .collect();
        }
        if let Some(run) = runs.pop() {
            self.merged = merge_two(&self.merged, &run);
        }
        self.unmerged = 0;
    }
}

/// The counts in the narrowest key that holds the definition's widest key (outcome words).
enum Keyed {
    One(Counts<[u64; 2]>),
    Two(Counts<[u64; 3]>),
    Four(Counts<[u64; 5]>),
    Any(Counts<Vec<u64>>),
}

impl Keyed {
    fn for_words(words: usize) -> Keyed {
        match words {
            0 | 1 => Keyed::One(Counts::default()),
            2 => Keyed::Two(Counts::default()),
            3 | 4 => Keyed::Four(Counts::default()),
            _ => Keyed::Any(Counts::default()),
        }
    }
}

/// Runs `$body` with `$counts` bound to the counts, whatever their key.
macro_rules! with_counts {
    ($keyed:expr, $counts:ident => $body:expr) => {
        match $keyed {
            Keyed::One($counts) => $body,
            Keyed::Two($counts) => $body,
            Keyed::Four($counts) => $body,
            Keyed::Any($counts) => $body,
        }
    };
}

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
    strata: Strata,
    /// The labels of the stratum columns that evaluation gives as indices
    /// (`evaluate::stratum_labels`).
    stratum_labels: [Option<Vec<String>>; 5],
    /// Outcome words of the widest key (a cohort's, or the population's).
    words: usize,
    keys: Keyed,
    /// Unmerged runs are left to grow to at least this many keys before a merge.
    merge_floor: usize,
    /// Rows of a frame counted as one range: its keys sorted into one run.
    range_rows: usize,
}

/// A default partition (250,000 patients) in one range: each range's sorted run is merged
/// again once per level of the merges, and the cores are busy evaluating the next partitions
/// while one is counted, so ranges sorted in parallel gained nothing. In ranges of 32,768 rows
/// the merges took 1,409 samples at 10 M patients and the sorts 1,172; in one range 704 and
/// 1,350.
const RANGE_ROWS: usize = 262_144;

/// The columns of one frame, borrowed as slices for the row loop.
struct Columns<'f> {
    strata: Vec<StratumColumn<'f>>,
    general: Vec<&'f [u8]>,
    /// Per cohort: its patients (a bit per row) and the outcome codes of its drug's criteria.
    cohorts: Vec<(Bitmap, Vec<&'f [u8]>)>,
}

/// A stratum column of `frame`: indices into `labels` where it has them and the column is
/// `UInt32` (evaluation's coded strata), else text. An index past the labels, or a null, is an
/// error (evaluation gives neither).
fn stratum_column<'f>(
    frame: &'f DataFrame,
    name: &str,
    labels: Option<&'f [String]>,
) -> Result<StratumColumn<'f>, EngineError> {
    let column = frame.column(name)?;
    let Some(labels) = labels.filter(|_| column.dtype() == &DataType::UInt32) else {
        return Ok(StratumColumn::Text(column.str()?));
    };
    let codes = (column.u32()?.cont_slice())
        .map_err(|error| polars_err!(ComputeError: "stratum column {name}: {error}"))?;
    match codes.iter().max() {
        Some(&code) if code as usize >= labels.len() => Err(polars_err!(
            ComputeError: "stratum column {name}: index {code} past its {} labels", labels.len()
        )
        .into()),
        _ => Ok(StratumColumn::Coded(codes, labels)),
    }
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

/// One sorted run of the keys of two sorted, unique runs, the counts of a key in both added up.
///
/// Without a branch on the keys' order: each step writes the lesser head (`a`'s on a tie, with
/// `b`'s count added) and advances the run or runs it came from, by selects. Runs from
/// different row ranges interleave at random, so a branch on the order mispredicted about every
/// other key: `merge_two` was 1.9 % of a 10 M run's samples for 0.5 % of its instructions, and
/// is 1.2 % with the selects (`select_unpredictable`: plain `if`s compiled back to branches).
fn merge_two<K: Key>(a: &[(K, u64)], b: &[(K, u64)]) -> Vec<(K, u64)> {
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    // Each run read in order, its lines asked for ahead: the runs are long out of cache.
    let ahead = items_ahead::<(K, u64)>();
    while i < a.len() && j < b.len() {
        prefetch(a, i + ahead);
        prefetch(b, j + ahead);
        let (x, y) = (&a[i], &b[j]);
        let a_first = !K::less(&y.0, &x.0);
        let b_first = !K::less(&x.0, &y.0);
        let head = std::hint::select_unpredictable(a_first, x, y);
        // `b`'s count is added where both heads are the key (a tie takes `a`'s head).
        let tied = std::hint::select_unpredictable(a_first & b_first, y.1, 0);
        merged.push((head.0.clone(), head.1 + tied));
        i += usize::from(a_first);
        j += usize::from(b_first);
    }
    merged.extend_from_slice(&a[i..]);
    merged.extend_from_slice(&b[j..]);
    merged
}

/// Sorted, unique `counts` with each group's stratum renumbered to `position[stratum]`, in
/// the order of the new groups. Keys of one group stay in order (their outcome words are not
/// changed) and a renumbering maps distinct groups to distinct groups, so the groups' blocks are
/// moved whole, in the new groups' order: no key is compared again.
fn in_stratum_order<K: Key>(counts: &mut [(K, u64)], position: &[u32]) -> Vec<(K, u64)> {
    let mut blocks: Vec<(u64, std::ops::Range<usize>)> = Vec::new();
    for (i, (key, _)) in counts.iter().enumerate() {
        match blocks.last_mut() {
            Some((old, range)) if *old == key.group() => range.end = i + 1,
            _ => blocks.push((key.group(), i..i + 1)),
        }
    }
    for (group_of_block, _) in &mut blocks {
        let (cohort, stratum) = ungroup(*group_of_block);
        *group_of_block = group(cohort, position[stratum as usize]);
    }
    blocks.sort_unstable_by_key(|(new, _)| *new);
    let mut sorted = Vec::with_capacity(counts.len());
    for (new, range) in blocks {
        for (key, patients) in &mut counts[range] {
            key.set_group(new);
            sorted.push((key.clone(), *patients));
        }
    }
    sorted
}

impl<'a> MaskCounter<'a> {
    pub fn new(definition: &'a Definition) -> MaskCounter<'a> {
        let general = definition.criteria.len();
        let widest = (0..definition.drugs.len())
            .map(|d| general + drug_criteria(definition, d).count())
            .fold(general, usize::max);
        let words = widest.div_ceil(Outcomes::PER_WORD);
        MaskCounter {
            definition,
            strata: Strata::default(),
            stratum_labels: stratum_labels(definition),
            words,
            keys: Keyed::for_words(words),
            merge_floor: 1 << 20,
            range_rows: RANGE_ROWS,
        }
    }

    /// A counter that counts a frame in ranges of `rows` rows (tests: several ranges on a few
    /// patients).
    #[cfg(test)]
    pub fn with_range_rows(definition: &'a Definition, rows: usize) -> MaskCounter<'a> {
        MaskCounter {
            range_rows: rows.max(1),
            ..MaskCounter::new(definition)
        }
    }

    /// A counter whose keys are `words` outcome words wide, wider than the definition needs
    /// (tests: every key width counts the same table).
    #[cfg(test)]
    pub fn with_key_words(definition: &'a Definition, words: usize) -> MaskCounter<'a> {
        let counter = MaskCounter::new(definition);
        assert!(words >= counter.words, "keys narrower than the criteria");
        MaskCounter {
            words,
            keys: Keyed::for_words(words),
            ..counter
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
        // Outcome codes and cohort flags are read as contiguous slices. The stratum strings are
        // numbered a row range at a time, across chunks (`local_strata`): concatenating their
        // views summed and copied them for nothing (0.8 % of a run's instructions).
        let frame = super::rechunked(patients, |column| column.dtype() != &DataType::String)?;
        let strata = (STRATUM_COLUMNS.iter().zip(&self.stratum_labels))
            .map(|(name, labels)| stratum_column(&frame, name, labels.as_deref()))
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

        let rows = self.range_rows;
        let height = frame.height();
        let ranges: Vec<_> = (0..height.div_ceil(rows))
            .map(|chunk| chunk * rows..((chunk + 1) * rows).min(height))
            .collect();
        let local: Vec<LocalStrata> = ranges
            .par_iter()
            .map(|rows| local_strata(&columns.strata, rows.clone()))
            .collect();
        let global: Vec<Vec<u32>> = local.iter().map(|l| self.strata.intern(l)).collect();
        let (words, merge_floor) = (self.words, self.merge_floor);
        with_counts!(&mut self.keys, keys => {
            let runs: Vec<Vec<_>> = ranges
                .into_par_iter()
                .zip(local.par_iter().zip(global.par_iter()))
                .map(|(rows, (local, global))| count_rows(&columns, rows, &local.rows, global, words))
                .collect();
            keys.unmerged += runs.iter().map(Vec::len).sum::<usize>();
            keys.runs.extend(runs);
            // Merged once the unmerged runs outgrow the merged keys: each key is merged O(log)
            // times over a registry, and memory stays within twice the distinct keys.
            if keys.unmerged > keys.merged.len().max(merge_floor) {
                keys.merge();
            }
        });
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
        let strata = self.strata.strata();
        let mut sorted: Vec<u32> = (0..strata.len() as u32).collect();
        sorted.sort_unstable_by(|a, b| strata[*a as usize].cmp(&strata[*b as usize]));
        let mut position = vec![0u32; sorted.len()];
        for (p, interned) in sorted.iter().enumerate() {
            position[*interned as usize] = p as u32;
        }
        let general = definition.criteria.len();
        let width = |cohort: Option<u32>| match cohort {
            Some(c) => {
                general + drug_criteria(definition, definition.cohorts[c as usize].drug).count()
            }
            None => general,
        };
        let rows: Vec<MaskRow> = with_counts!(self.keys, keys => {
            let mut keys = keys;
            keys.merge();
            in_stratum_order(&mut keys.merged, &position)
                .into_par_iter()
                .map(|(key, patients)| {
                    let (cohort, stratum) = ungroup(key.group());
                    let width = width(cohort);
                    let words = &key.words()[..width.div_ceil(Outcomes::PER_WORD)];
                    MaskRow {
                        cohort: cohort.map(|c| c as usize),
                        stratum: stratum as usize,
                        // Packed from 2-bit codes, so never more bits than criteria.
                        outcomes: Outcomes::from_words(words, width).unwrap_or_default(),
                        patients,
                    }
                })
                .collect()
        });
        debug_assert!(rows.is_sorted());
        MaskTable {
            criteria: definition.criteria.iter().map(|c| c.id.clone()).collect(),
            cohorts,
            strata: sorted.iter().map(|i| strata[*i as usize].clone()).collect(),
            rows,
        }
    }
}

/// The counted keys of `rows`, sorted; `local` gives each row's stratum among the range's
/// (`LocalStrata::rows`), `global` each of those its interned stratum, `words` the outcome words
/// of a key. The population keys are packed column by column (a shift and an or per code, over
/// contiguous codes); a cohort's key is its patient's population key with the drug's codes
/// added.
fn count_rows<K: Key>(
    columns: &Columns<'_>,
    rows: std::ops::Range<usize>,
    local: &[u32],
    global: &[u32],
    words: usize,
) -> Vec<(K, u64)> {
    // Each of the range's strata ranked in the interned strata's order (two of the range's may
    // be one interned stratum: a null and "not recorded"): a key's bucket is its group's rank,
    // the cohort's block of ranks then the stratum's, so buckets go in the keys' order
    // ([`sorted_by_buckets`]).
    let mut distinct = global.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let rank: Vec<u32> = (global.iter())
        .map(|g| distinct.partition_point(|d| d < g) as u32)
        .collect();
    let strata = distinct.len();
    let local_rank = |i: usize| rank[local[i] as usize];
    let mut population: Vec<K> = (local.iter())
        .map(|&l| K::new(group(None, global[l as usize]), words))
        .collect();
    pack_general(&mut population, &columns.general, rows.start);
    let general_len = columns.general.len();
    let mut keys = Vec::with_capacity(rows.len() * 2);
    // Buckets numbered in u32: more than that many (cohorts times strata) are sorted at once.
    let count = (columns.cohorts.len() + 1).saturating_mul(strata);
    let numbered = u32::try_from(count).is_ok();
    let mut buckets = Vec::with_capacity(if numbered { rows.len() * 2 } else { 0 });
    for (c, (matched, own)) in columns.cohorts.iter().enumerate() {
        let matched = matched.clone().sliced(rows.start, rows.len());
        let block = ((c + 1) * strata) as u32;
        for i in matched.true_idx_iter() {
            let mut key = population[i].clone();
            key.set_group(group(Some(c as u32), key.group() as u32));
            let row = rows.start + i;
            for (j, source) in own.iter().enumerate() {
                let (word, shift) = Outcomes::place(general_len + j);
                key.words_mut()[word] |= u64::from(source[row] & 0b11) << shift;
            }
            keys.push(key);
            if numbered {
                buckets.push(block + local_rank(i));
            }
        }
    }
    if numbered {
        buckets.extend((0..population.len()).map(local_rank));
    }
    keys.extend(population);
    // The keys alone sorted (each counts one patient), then counted run by run: a third less
    // to move than sorting them beside their counts.
    let keys = sorted_by_buckets(keys, &buckets, count, words);
    let mut counts: Vec<(K, u64)> = Vec::with_capacity(keys.len());
    for key in keys {
        match counts.last_mut() {
            Some((last, patients)) if *last == key => *patients += 1,
            _ => counts.push((key, 1)),
        }
    }
    counts
}

/// The general criteria's outcome codes (`general`, from row `first` on) packed into `keys`'
/// outcome words, key `i` from row `first + i`. A tile of rows at a time, every column packed
/// while the tile is in cache: a range's keys (6 MB at 250,000 rows) read and written again for
/// each column cost twice as much. Four criteria's codes are packed into a byte per row first
/// (sixteen rows an instruction), and each byte widened once into its row's word: widening
/// every code to 64 bits, four rows an instruction, took about 500 samples of a 10 M run
/// (`perf`) whether into the keys or into a word per row.
fn pack_general<K: Key>(keys: &mut [K], general: &[&[u8]], first: usize) {
    const TILE: usize = 4096;
    const PER_BYTE: usize = 4;
    // A byte's criteria share a word: a word holds a whole number of bytes.
    const _: () = assert!(Outcomes::PER_WORD.is_multiple_of(PER_BYTE));
    let words = general.len().div_ceil(Outcomes::PER_WORD);
    let mut packed = vec![0u64; TILE * words];
    let mut bytes = [0u8; TILE];
    for (t, tile) in keys.chunks_mut(TILE).enumerate() {
        let tile_rows = first + t * TILE..first + t * TILE + tile.len();
        packed.fill(0);
        for (g, group) in general.chunks(PER_BYTE).enumerate() {
            let bytes = &mut bytes[..tile.len()];
            bytes.fill(0);
            for (j, source) in group.iter().enumerate() {
                for (byte, code) in bytes.iter_mut().zip(&source[tile_rows.clone()]) {
                    *byte |= (code & 0b11) << (2 * j);
                }
            }
            let (word, shift) = Outcomes::place(g * PER_BYTE);
            let packed = &mut packed[word * TILE..][..tile.len()];
            for (packed, byte) in packed.iter_mut().zip(bytes.iter()) {
                *packed |= u64::from(*byte) << shift;
            }
        }
        for (word, packed) in packed.chunks(TILE).enumerate() {
            for (key, packed) in tile.iter_mut().zip(packed) {
                key.words_mut()[word] |= packed;
            }
        }
    }
}

/// `keys` sorted, where `buckets` gives each key's bucket (of `count`): the keys of a bucket
/// share their group, and the buckets are numbered in their groups' order. The keys are
/// placed bucket by bucket (a counting sort), then each bucket sorted on its own: most hold a
/// key or two. A sort of all the keys compared each about eighteen times (`perf`: the sort and
/// its comparisons were 2.4 % of a 10 M run's samples). More buckets than keys, or keys without
/// their buckets: one sort.
fn sorted_by_buckets<K: Key>(keys: Vec<K>, buckets: &[u32], count: usize, words: usize) -> Vec<K> {
    if count > 2 * keys.len() + 1024 || buckets.len() != keys.len() {
        let mut keys = keys;
        K::sort(&mut keys);
        return keys;
    }
    let mut start = vec![0u32; count + 1];
    for &bucket in buckets {
        start[bucket as usize + 1] += 1;
    }
    for b in 0..count {
        start[b + 1] += start[b];
    }
    let mut next = start[..count].to_vec();
    let mut sorted = vec![K::new(0, words); keys.len()];
    for (key, &bucket) in keys.into_iter().zip(buckets) {
        let at = &mut next[bucket as usize];
        sorted[*at as usize] = key;
        *at += 1;
    }
    for bounds in start.windows(2) {
        let bucket = &mut sorted[bounds[0] as usize..bounds[1] as usize];
        if bucket.len() > 1 {
            K::sort(bucket);
        }
    }
    sorted
}

#[cfg(test)]
mod tests;
