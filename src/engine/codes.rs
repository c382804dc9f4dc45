//! Code sets as column predicates: ICD-10 codes normalized (upper case, no dot), prefixes and
//! ranges of categories, ATC prefixes, each tested once per distinct code of a chunk; every
//! code set of the definition matched at once, a bit per set; and every drug's ATC list matched
//! at once, a bit per drug.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use polars::prelude::*;
use polars_arrow::array::PrimitiveArray;
use polars_arrow::bitmap::{Bitmap, MutableBitmap};

use super::cohorts::true_rows;
use crate::definition::model::{CodePattern, CodeSet};
use crate::extract::bitmaps::{kept_by_bits, with_bits, words_with_bit};
use crate::extract::distinct::{map_distinct, normal_form, text_flags};
use crate::extract::text_keys::TextKey;
use crate::udf::MapColumn;

/// An ICD-10 column normalized for matching: trimmed, upper case, dot removed (`c34.1` -> `C341`).
pub(crate) fn normalized_icd10(column: &str) -> Expr {
    normal_form(col(column), |code| {
        code.trim().to_uppercase().replace('.', "")
    })
}

/// A code column normalized for ATC matching: trimmed, upper case.
pub(crate) fn normalized_atc(expr: Expr) -> Expr {
    normal_form(expr, atc_normal_form)
}

/// An ATC code's normal form: trimmed, upper case ([`normalized_atc`], and [`AtcWords`] on read).
fn atc_normal_form(code: &str) -> String {
    code.trim().to_uppercase()
}

/// Whether a normalized code matches the pattern: a prefix, or a range of the code's first
/// characters (as many as the range's low end has).
fn pattern_matches(code: &str, pattern: &CodePattern) -> bool {
    match pattern {
        CodePattern::Prefix(prefix) => code.starts_with(prefix.as_str()),
        CodePattern::Range(low, high) => {
            let end = code
                .char_indices()
                .nth(low.len())
                .map_or(code.len(), |(i, _)| i);
            let head = &code[..end];
            head >= low.as_str() && head <= high.as_str()
        }
    }
}

/// Whether a normalized code is in the set.
pub(crate) fn in_set_normalized(code: &str, set: &CodeSet) -> bool {
    let one = |p: &CodePattern| pattern_matches(code, p);
    set.patterns.iter().any(one) && !set.except.iter().any(one)
}

/// True where the (normalized) code is in the set; false where it is not or is null.
pub(crate) fn in_set(code: Expr, set: &CodeSet) -> Expr {
    let set = set.clone();
    text_flags(code, move |code| in_set_normalized(code, &set))
}

/// Per row the index (UInt32) of the first of `sets` that holds the (normalized) code; null where
/// none does or the code is null. One pass for all the sets, each code tested once per chunk,
/// where a chain of `when(in_set(..))` took a pass over every row per set and another per `when`.
pub(crate) fn first_set(code: Expr, sets: Vec<CodeSet>) -> Expr {
    const NONE: u32 = u32::MAX;
    code.map_column(
        move |codes: Column| {
            let first = map_distinct(codes.str()?, |code| {
                code.and_then(|code| sets.iter().position(|set| in_set_normalized(code, set)))
                    .map_or(NONE, |i| i as u32)
            });
            let found = Bitmap::from_trusted_len_iter(first.iter().map(|&i| i != NONE));
            let first = PrimitiveArray::new(ArrowDataType::UInt32, first.into(), Some(found));
            Ok(UInt32Chunked::with_chunk(codes.name().clone(), first).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::UInt32)),
    )
}

/// True where the normalized ATC code starts with one of `prefixes` (`L01EC*` or `L01EC02`).
pub(crate) fn atc_in(code: Expr, prefixes: &[String]) -> Expr {
    let prefixes: Vec<String> = prefixes
        .iter()
        .map(|p| p.trim_end_matches('*').to_uppercase())
        .collect();
    text_flags(code, move |code| {
        prefixes.iter().any(|p| code.starts_with(p))
    })
}

/// The most ATC lists [`atc_bits`] matches in one word.
pub(crate) const MAX_ATC_LISTS: usize = 64;

/// Per row a UInt64 whose bit `d` is set where the row is `selected` and `atc_in(code, &lists[d])`
/// holds (0 where not selected or the code is null): every drug's ATC list matched in one pass,
/// once per distinct code of a chunk, not one pass over every row per drug. With
/// `normalize`, the code is matched as `normalized_atc(code)` (trimmed, upper case).
pub(crate) fn atc_bits(selected: Expr, code: Expr, lists: &[Vec<String>], normalize: bool) -> Expr {
    let prefixes = atc_prefixes(lists);
    map_multiple(
        move |columns: &mut [Column]| {
            let word = |code: &str| match normalize {
                false => drug_word(code, &prefixes),
                true => raw_drug_word(code, &prefixes),
            };
            // Each code's word once per distinct code of a chunk, then kept where selected.
            let mut words = map_distinct(columns[1].str()?, |code| code.map_or(0, word));
            keep_selected(&mut words, columns[0].bool()?)?;
            Ok(UInt64Chunked::from_vec(columns[0].name().clone(), words).into_column())
        },
        [selected, code],
        |_, fields| Ok(Field::new(fields[0].name().clone(), DataType::UInt64)),
    )
}

/// Each drug's ATC prefixes (`L01EC*` or `L01EC02`, upper case, without the star) with the
/// drug's bit, for [`drug_word`].
pub(crate) type AtcPrefixes = Arc<[(Box<str>, u64)]>;

/// The [`AtcPrefixes`] of the drugs' ATC lists (drug `d`'s bit `1 << d`).
pub(crate) fn atc_prefixes(lists: &[Vec<String>]) -> AtcPrefixes {
    assert!(
        lists.len() <= MAX_ATC_LISTS,
        "at most {MAX_ATC_LISTS} ATC lists"
    );
    lists
        .iter()
        .enumerate()
        .flat_map(|(d, list)| {
            list.iter()
                .map(move |p| (p.trim_end_matches('*').to_uppercase().into(), 1u64 << d))
        })
        .collect()
}

/// The bits of the drugs one of whose `prefixes` ([`atc_prefixes`]) starts the normalized
/// `code`.
pub(crate) fn drug_word(code: &str, prefixes: &[(Box<str>, u64)]) -> u64 {
    word_of_matching(prefixes, |prefix| code.starts_with(prefix))
}

/// The bits of the `prefixes` that `matches`.
fn word_of_matching(prefixes: &[(Box<str>, u64)], matches: impl Fn(&str) -> bool) -> u64 {
    (prefixes.iter())
        .filter(|(prefix, _)| matches(prefix))
        .fold(0u64, |word, (_, bit)| word | bit)
}

/// [`drug_word`] of a code as recorded, matched as its normal form ([`normalized_atc`]). The
/// prefixes are upper case already; ASCII codes (all real ones) are compared without building
/// their upper-case copy.
pub(crate) fn raw_drug_word(code: &str, prefixes: &[(Box<str>, u64)]) -> u64 {
    let code = code.trim();
    if !code.is_ascii() {
        return drug_word(&code.to_uppercase(), prefixes);
    }
    word_of_matching(prefixes, |prefix| {
        code.len() >= prefix.len()
            && code.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    })
}

/// Per row the UInt64 `words` where the row is `selected`, 0 where it is not (false or null):
/// [`atc_bits`] of words computed before (`DRUG_ATC`, once per treatment).
pub(crate) fn selected_words(selected: Expr, words: Expr) -> Expr {
    map_multiple(
        move |columns: &mut [Column]| {
            let words = columns[1].as_materialized_series().rechunk();
            let kept = kept_selected(words.u64()?.cont_slice()?, columns[0].bool()?)?;
            Ok(UInt64Chunked::from_vec(columns[0].name().clone(), kept).into_column())
        },
        [selected, words],
        |_, fields| Ok(Field::new(fields[0].name().clone(), DataType::UInt64)),
    )
}

/// A treatment's word of the drugs whose ATC list holds its code ([`atc_bits`] of every row),
/// where an atom tests `atc is drug atc` on treatments: each atom keeps the rows it selects
/// ([`selected_words`]).
pub(crate) const DRUG_ATC: &str = "drug_atc";

/// The words the atoms read of a treatment's ATC code: its [`CODE_SETS`] and its [`DRUG_ATC`]
/// word, those asked for, both from one mapping of the codes as recorded, as the table is read
/// (`engine::tables::Tables::read`). Computed from the normal form (`normalized_atc`) instead, each
/// was a pass over every treatment of its own, after the normal form's.
#[derive(Clone)]
pub(crate) struct AtcWords {
    /// The sets of [`set_bits`] ([`word_sets`]), where a set is tested on treatments.
    pub(crate) sets: Option<Arc<[CodeSet]>>,
    /// The drugs' prefixes ([`atc_prefixes`]), where `atc is drug atc` is tested.
    pub(crate) drugs: Option<AtcPrefixes>,
    /// Whether an atom reads the treatments' codes as text besides the words (a code set past
    /// the word's [`MAX_WORD_SETS`], a drug's ATC list in a pass of its own). Where none does,
    /// `atc` is read as keys only ([`AtcWords::text_key`]), its strings never decoded.
    pub(crate) codes_read: bool,
}

/// The key column the treatments' `atc` is read as ([`AtcWords::text_key`]).
const ATC_WORDS_KEY: &str = "__atc_words_key";

/// Every pair of words ([`AtcWords::pair_of`]) a treatment's code has been read as, each under
/// a key of its own, for the process. Appended to, never changed: a key means the same pair in
/// every partition (a row group across a partition's bounds is read as keys by one partition
/// and taken by the next, `extract::row_groups`) and every run. It holds one pair per distinct
/// set of words met: at most one per distinct ATC code, a few hundred.
static WORD_PAIRS: LazyLock<Mutex<WordPairs>> = LazyLock::new(Default::default);

#[derive(Default)]
struct WordPairs {
    keys: HashMap<(u64, u64), u32>,
    pairs: Vec<(u64, u64)>,
}

impl WordPairs {
    /// The key of `pair`, a new one where it is new.
    fn key(&mut self, pair: (u64, u64)) -> u32 {
        // Fewer than 2^32 pairs: the table would fill the memory first.
        let next = self.pairs.len() as u32;
        *self.keys.entry(pair).or_insert_with(|| {
            self.pairs.push(pair);
            next
        })
    }
}

fn word_pairs() -> MutexGuard<'static, WordPairs> {
    WORD_PAIRS.lock().unwrap_or_else(|e| e.into_inner())
}

impl AtcWords {
    /// The words of the codes `atc` (as recorded), named [`CODE_SETS`] and [`DRUG_ATC`]: the
    /// values of `set_bits` and `atc_bits` over the normal form.
    pub(crate) fn columns(&self, atc: &StringChunked) -> Vec<Column> {
        let pairs = map_distinct(atc, |code| self.pair_of(code));
        self.word_columns(|word| pairs.iter().map(word).collect())
    }

    /// The treatments' `atc` read as a key column in its place ([`TextKey`]): each code's
    /// words computed once per entry of a Parquet dictionary (or distinct code), and kept under
    /// their key ([`WORD_PAIRS`]). Decoded as strings, each row's code had been a 16-byte view
    /// mapped back to its words ([`AtcWords::columns`]).
    pub(crate) fn text_key(&self) -> TextKey {
        let words = self.clone();
        TextKey::new("atc", ATC_WORDS_KEY, move |code| {
            word_pairs().key(words.pair_of(code))
        })
    }

    /// The words of treatments read with [`AtcWords::text_key`], as [`AtcWords::columns`] gives
    /// them of the codes; the key column is dropped.
    pub(crate) fn columns_of_keys(&self, frame: &mut DataFrame) -> PolarsResult<Vec<Column>> {
        let keys = frame.column(ATC_WORDS_KEY)?.u32()?;
        let pairs = word_pairs().pairs.clone();
        polars_ensure!(
            keys.null_count() == 0
                && keys.max().is_none_or(|key| (key as usize) < pairs.len()),
            ComputeError: "a treatment's ATC code read as a key of no words"
        );
        // Each word column gathered from a table of its own word by key, by the read's chunks
        // (not copied into one first).
        let columns = self.word_columns(|word| {
            let of_key: Vec<u64> = pairs.iter().map(word).collect();
            let mut words = Vec::with_capacity(keys.len());
            for chunk in keys.downcast_iter() {
                words.extend(chunk.values().iter().map(|&key| of_key[key as usize]));
            }
            words
        });
        *frame = frame.drop(ATC_WORDS_KEY)?;
        Ok(columns)
    }

    /// The words of a code as recorded (0 and 0 where null): its [`set_word`] and [`drug_word`]
    /// of the normal form.
    fn pair_of(&self, code: Option<&str>) -> (u64, u64) {
        let Some(code) = code else {
            return (0, 0);
        };
        let normal = atc_normal_form(code);
        let sets = self.sets.as_ref().map_or(0, |sets| set_word(&normal, sets));
        let drugs = (self.drugs.as_ref()).map_or(0, |drugs| drug_word(&normal, drugs));
        (sets, drugs)
    }

    /// The columns asked for, each the rows' `words` by one word of their pairs.
    fn word_columns(&self, words: impl Fn(fn(&(u64, u64)) -> u64) -> Vec<u64>) -> Vec<Column> {
        let column = |name: &str, word: fn(&(u64, u64)) -> u64| {
            UInt64Chunked::from_vec(name.into(), words(word)).into_column()
        };
        let mut columns = Vec::new();
        if self.sets.is_some() {
            columns.push(column(CODE_SETS, |pair| pair.0));
        }
        if self.drugs.is_some() {
            columns.push(column(DRUG_ATC, |pair| pair.1));
        }
        columns
    }
}

/// A code matches the same way in Rust as in the engine (used for tests and the SQL check).
pub fn matches(code: &str, set: &CodeSet) -> bool {
    let code: String = code
        .trim()
        .to_uppercase()
        .chars()
        .filter(|c| *c != '.')
        .collect();
    in_set_normalized(&code, set)
}

/// A diagnosis's or treatment's word of the code sets holding its code ([`set_bits`]), where
/// the definition's atoms test a set on that table.
pub(crate) const CODE_SETS: &str = "code_sets";

/// The most code sets whose membership one word of [`set_bits`] holds: sets from this index on
/// are tested by [`in_set`] of their own.
pub(crate) const MAX_WORD_SETS: usize = 64;

/// Per row a UInt64 whose bit `s` is set where the (normalized) code is in `sets[s]` (0 where
/// the code is null): every set tested in one pass, once per distinct code of a chunk, instead
/// of one [`in_set`] pass over every row per set (a UDF is not shared by polars' common
/// subexpressions, so each use of `in_set` was a pass). [`has_bit`] reads a set's bit back.
pub(crate) fn set_bits(code: Expr, sets: &[CodeSet]) -> Expr {
    let sets = word_sets(sets);
    code.map_column(
        move |codes: Column| {
            let word = |code: &str| set_word(code, &sets);
            let words = map_distinct(codes.str()?, |code| code.map_or(0, word));
            Ok(UInt64Chunked::from_vec(codes.name().clone(), words).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::UInt64)),
    )
}

/// The sets whose membership a word of [`set_bits`] holds: the first [`MAX_WORD_SETS`].
pub(crate) fn word_sets(sets: &[CodeSet]) -> Arc<[CodeSet]> {
    sets[..sets.len().min(MAX_WORD_SETS)].into()
}

/// The bits of the sets of `sets` ([`word_sets`]) that hold the normalized `code`.
pub(crate) fn set_word(code: &str, sets: &[CodeSet]) -> u64 {
    (sets.iter().enumerate())
        .filter(|(_, set)| in_set_normalized(code, set))
        .fold(0u64, |word, (s, _)| word | 1 << s)
}

/// Whether a row's code is in the code set `sets[set]` (false where the code is null): the set's
/// bit of the row's `word` column ([`set_bits`] of `sets`) where the word holds it, else
/// [`in_set`] of its `code` column.
pub(crate) fn in_set_by_word(word: &str, code: &str, sets: &[CodeSet], set: usize) -> Expr {
    match set < MAX_WORD_SETS {
        true => has_bit(col(word), set),
        false => in_set(col(code), &sets[set]),
    }
}

/// True where bit `bit` of the UInt64 `words` is set, false where it is not or the word is null
/// ([`bit_of`]).
pub(crate) fn has_bit(words: Expr, bit: usize) -> Expr {
    let mask = 1u64 << bit;
    words.map_column(
        move |words: Column| {
            let bits = bit_of(&words, mask)?;
            Ok(BooleanChunked::from_bitmap(words.name().clone(), bits).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
    )
}

/// Per row of a word column, whether `mask`'s bit is set (false where null), packed eight rows
/// to a byte straight from the words ([`words_with_bit`]): a `bool` per row packed after cost
/// five instructions a row, the run's 32 drug conditions 1.3 % of its instructions.
pub(crate) fn bit_of(words: &Column, mask: u64) -> PolarsResult<Bitmap> {
    let words = words.as_materialized_series().cast(&DataType::UInt64)?;
    let mut bits = MutableBitmap::with_capacity(words.len());
    for array in words.u64()?.downcast_iter() {
        let set = words_with_bit(array.values().as_slice(), mask);
        let set = match array.validity() {
            Some(valid) => &set & valid,
            None => set,
        };
        bits.extend_from_bitmap(&set);
    }
    Ok(bits.freeze())
}

/// Zeroes the words of rows not `selected` (false or null), reading each chunk's values and
/// validity as one bitmap: polars' iterator of optional Booleans cost about 20 instructions a
/// record. A single `selected` value (a literal) stands for every row.
fn keep_selected(words: &mut [u64], selected: &BooleanChunked) -> PolarsResult<()> {
    by_selection(words.len(), selected, |rows, keep| {
        // A row's mask from its bit, no iterator of bits (about 12 instructions a row,
        // callgrind).
        with_bits(&mut words[rows], keep, |word, keep| {
            *word &= 0u64.wrapping_sub(u64::from(keep))
        });
    })
}

/// `words` where their rows are `selected`, 0 where not (false or null), as [`keep_selected`]
/// keeps them, into a column of their own: one pass that reads `words` and writes the kept
/// words, where a copy and [`keep_selected`] on it were two (about 630 samples of a 10 M run
/// against 380, `perf`).
fn kept_selected(words: &[u64], selected: &BooleanChunked) -> PolarsResult<Vec<u64>> {
    let mut kept = Vec::with_capacity(words.len());
    by_selection(words.len(), selected, |rows, keep| {
        kept_by_bits(&words[rows], keep, &mut kept);
    })?;
    Ok(kept)
}

/// `each(rows, keep)` over `len` rows, chunk by chunk of `selected`, `keep` a bit per row of
/// `rows` set where the row is selected (true, not null); a single `selected` value stands for
/// every row.
fn by_selection(
    len: usize,
    selected: &BooleanChunked,
    mut each: impl FnMut(std::ops::Range<usize>, &Bitmap),
) -> PolarsResult<()> {
    if selected.len() == 1 && len != 1 {
        each(
            0..len,
            &Bitmap::new_with_value(selected.get(0) == Some(true), len),
        );
        return Ok(());
    }
    polars_ensure!(
        selected.len() == len,
        ShapeMismatch: "a selection of {} rows for {} codes", selected.len(), len
    );
    let mut start = 0;
    for array in selected.downcast_iter() {
        each(start..start + array.len(), &true_rows(array));
        start += array.len();
    }
    Ok(())
}

#[cfg(test)]
mod tests;
