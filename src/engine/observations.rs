//! The observation kernel ([`super::kernel`]): a record's code key names its observations; its
//! value (a number in the observation's domain, or a text of its domain, by index in the
//! definition's vocabulary of texts) is read once per observation, and only that observation's
//! atoms test it. Codes and texts are looked up once per distinct value of a chunk.

use std::sync::Arc;

use foldhash::HashMap;
use polars::prelude::*;

use super::codes::{raw_drug_word, AtcPrefixes, DRUG_ATC};
use super::kernel::{all_valid, input, AtomSlots, Kernel, NumberAtom, Reach, RecordAtom, TextAtom};
use super::measures::{greater, index, less};
use super::records::key_is;
use super::{concatenated, in_parallel};
use crate::definition::model::{Definition, ValueKind};
use crate::extract::bitmaps::boolean_column;
use crate::extract::distinct::map_distinct;
use crate::extract::text_keys::TextKey;
use crate::prefetch::BLOCK;
use crate::udf::MapColumn;

/// Column of each observation record's key: its code's index among the definition's observation
/// codes, from 1 (0: any other code, or none).
pub(crate) const OBSERVATION_KEY: &str = "__observation_key";
/// An observation's code key and code kind as the table is read
/// ([`ObservationRules::code_text_key`]).
const CODE_AND_KIND: &str = "__observation_code_and_kind";
/// Column of each observation record's text: [`NO_TEXT`], [`OTHER_TEXT`], or its index in the
/// definition's vocabulary of texts (every value of every text domain).
pub(crate) const TEXT_KEY: &str = "__text_key";
/// The text key of a record without a text.
const NO_TEXT: u32 = 0;
/// The text key of a text no domain lists.
const OTHER_TEXT: u32 = 1;

/// Which records of an observation have a value.
#[derive(Debug)]
enum ValueRule {
    /// `value_num`, within the domain where there is one (inclusive, polars' float order).
    Number(Option<(f64, f64)>),
    /// `value_text`, one of the domain's texts where there is one (by text key), else any.
    Text(Option<Vec<bool>>),
}

/// The observations of a definition, as the kernel reads them.
#[derive(Debug)]
pub(crate) struct ObservationRules {
    codes: HashMap<Box<str>, u32>,
    texts: HashMap<Box<str>, u32>,
    /// Per code key, the observations of that code.
    observations_of_key: Vec<Vec<usize>>,
    values: Vec<ValueRule>,
}

impl ObservationRules {
    pub(crate) fn new(definition: &Definition) -> ObservationRules {
        let observations = &definition.observations;
        let codes = index(observations.iter().map(|o| o.code.as_str()));
        let mut observations_of_key: Vec<Vec<usize>> = vec![Vec::new(); codes.len() + 1];
        for (o, observation) in observations.iter().enumerate() {
            observations_of_key[codes[observation.code.as_str()] as usize].push(o);
        }
        // Text keys start after NO_TEXT and OTHER_TEXT.
        let texts: HashMap<Box<str>, u32> = index(
            observations
                .iter()
                .flat_map(|o| o.text_domain.iter().flatten().map(String::as_str)),
        )
        .into_iter()
        .map(|(text, key)| (text, key + OTHER_TEXT))
        .collect();
        let vocabulary = texts.len() + OTHER_TEXT as usize + 1;
        let values = (definition.observations.iter())
            .map(|observation| match observation.kind {
                ValueKind::Number => ValueRule::Number(observation.number_domain),
                ValueKind::Text => {
                    ValueRule::Text(observation.text_domain.as_ref().map(|domain| {
                        let mut member = vec![false; vocabulary];
                        for text in domain {
                            member[texts[text.as_str()] as usize] = true;
                        }
                        member
                    }))
                }
            })
            .collect();
        ObservationRules {
            codes,
            texts,
            observations_of_key,
            values,
        }
    }

    /// The text keys of `values`, for a `latest ... in [...]` test on observation `o`; None
    /// where `o` has no text domain (its texts are not all in the vocabulary). A value outside
    /// the domain is left out: no record's value can equal it.
    pub(crate) fn text_keys(&self, o: usize, values: &[String]) -> Option<Vec<u32>> {
        match &self.values[o] {
            ValueRule::Text(Some(member)) => Some(
                values
                    .iter()
                    .filter_map(|value| self.texts.get(value.as_str()).copied())
                    .filter(|&key| member[key as usize])
                    .collect(),
            ),
            _ => None,
        }
    }

    /// Whether a record of text observation `o` has a value, from its text key ([`TEXT_KEY`]):
    /// a text of its domain, or any text where it has none. What `observation_value(o)` (the
    /// trimmed text where its domain holds it) gives not null, without reading the texts: an
    /// `any` query had trimmed every observation's text only to test it for null. False for a
    /// number observation.
    pub(crate) fn has_text(&self, o: usize) -> Expr {
        match &self.values[o] {
            ValueRule::Number(_) => lit(false),
            ValueRule::Text(None) => key_is(col(TEXT_KEY), NO_TEXT).not(),
            ValueRule::Text(Some(member)) => {
                let member = member.clone();
                col(TEXT_KEY).map_column(
                    move |keys: Column| {
                        let keys = keys.u32()?;
                        let in_domain = |key: Option<u32>| {
                            key.is_some_and(|key| member.get(key as usize) == Some(&true))
                        };
                        let flags: Vec<bool> = keys.iter().map(in_domain).collect();
                        Ok(boolean_column(keys.name().clone(), &flags).into_column())
                    },
                    |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
                )
            }
        }
    }

    /// Whether observation `o`'s values are numbers.
    pub(crate) fn is_number(&self, o: usize) -> bool {
        matches!(self.values[o], ValueRule::Number(_))
    }

    /// The key of a record's code, trimmed (0: no observation's).
    fn code_key_of(&self, code: Option<&str>) -> u32 {
        code.and_then(|c| self.codes.get(c.trim()))
            .copied()
            .unwrap_or(0)
    }

    /// The code key of observation `o`'s code.
    pub(crate) fn code_key(&self, o: usize) -> u32 {
        let of_o = |of: &Vec<usize>| of.contains(&o);
        self.observations_of_key.iter().position(of_o).unwrap_or(0) as u32
    }

    /// The code key (UInt32, see [`OBSERVATION_KEY`]) of the standard observation column `code`,
    /// trimmed: each distinct code is trimmed here, where the rows had been copied trimmed
    /// before (a pass of their own over every observation).
    pub(crate) fn key(self: &Arc<Self>) -> Expr {
        let this = Arc::clone(self);
        col("code").map_column(
            move |code: Column| {
                let keys = map_distinct(code.str()?, |code| this.code_key_of(code));
                Ok(UInt32Chunked::from_vec(OBSERVATION_KEY.into(), keys).into_column())
            },
            |_, _| Ok(Field::new(OBSERVATION_KEY.into(), DataType::UInt32)),
        )
    }

    /// The observation table's `code` as it is read ([`TextKey`]): each code's key (trimmed as
    /// [`ObservationRules::key`] trims it) with its `kind` (of the code as recorded) in the top
    /// byte, computed once per dictionary entry or distinct code; for validation's checks,
    /// which read the kinds. [`ObservationRules::keys_with_kinds`] splits them.
    pub(crate) fn code_text_key(
        self: &Arc<Self>,
        kind: impl Fn(Option<&str>) -> u8 + Send + Sync + 'static,
    ) -> PolarsResult<TextKey> {
        polars_ensure!(
            self.codes.len() < KEY_BITS as usize,
            ComputeError: "more than 2^24 observation codes"
        );
        let this = Arc::clone(self);
        Ok(TextKey::new("code", CODE_AND_KIND, move |code| {
            this.code_key_of(code) | u32::from(kind(code)) << 24
        }))
    }

    /// The code keys ([`OBSERVATION_KEY`]) of observations read with
    /// [`ObservationRules::code_text_key`], and each code's kind; the read column is dropped.
    pub(crate) fn keys_with_kinds(&self, frame: &mut DataFrame) -> PolarsResult<(Column, Vec<u8>)> {
        let both = frame.column(CODE_AND_KIND)?.u32()?;
        polars_ensure!(
            both.null_count() == 0,
            ComputeError: "observation code keys with nulls"
        );
        // By the read's chunks, not copied into one first.
        let chunks: Vec<&[u32]> = (both.downcast_iter())
            .map(|chunk| chunk.values().as_slice())
            .collect();
        let (keys, kinds) = split_top_byte(&chunks, both.len(), |&both| both);
        let keys = UInt32Chunked::from_vec(OBSERVATION_KEY.into(), keys).into_column();
        *frame = frame.drop(CODE_AND_KIND)?;
        Ok((keys, kinds))
    }

    /// The text keys ([`TEXT_KEY`]) of observations in memory (their `value_text` trimmed, as
    /// the standard column holds it) and each text's `allowed` bits (of the text as recorded),
    /// in one mapping of the texts: for validation's text check, which reads the bits. Where
    /// `drugs` are given, each text's word of the drugs whose ATC list holds it too
    /// ([`DRUG_ATC`], as `atc_bits` of the normal form gives it): `value is drug atc` had
    /// mapped every text again, and the standard column's trimmed copy first.
    pub(crate) fn text_keys_with_allowed(
        &self,
        frame: &DataFrame,
        allowed: impl Fn(Option<&str>) -> u8 + Sync,
        drugs: Option<&AtcPrefixes>,
    ) -> PolarsResult<(Column, Vec<u8>, Option<Column>)> {
        polars_ensure!(
            self.texts.len() < KEY_BITS as usize,
            ComputeError: "more than 2^24 observation texts"
        );
        let texts = frame.column("value_text")?.str()?;
        let key_and_allowed =
            |text: Option<&str>| (self.text_key_of(text.map(str::trim)), allowed(text));
        let (keys, allowed, words) = match drugs {
            None => {
                let (keys, allowed, _) = keys_and_bytes(texts, |text| {
                    let (key, allowed) = key_and_allowed(text);
                    (key, allowed, ())
                });
                (keys, allowed, None)
            }
            Some(drugs) => {
                let (keys, allowed, words) = keys_and_bytes(texts, |text| {
                    let (key, allowed) = key_and_allowed(text);
                    (
                        key,
                        allowed,
                        text.map_or(0, |text| raw_drug_word(text, drugs)),
                    )
                });
                let words = UInt64Chunked::from_vec(DRUG_ATC.into(), words);
                (keys, allowed, Some(words.into_column()))
            }
        };
        let keys = UInt32Chunked::from_vec(TEXT_KEY.into(), keys).into_column();
        Ok((keys, allowed, words))
    }

    /// The text key of a (trimmed) text.
    fn text_key_of(&self, text: Option<&str>) -> u32 {
        match text {
            None => NO_TEXT,
            Some(text) => self.texts.get(text).copied().unwrap_or(OTHER_TEXT),
        }
    }

    /// The text key (UInt32, see [`TEXT_KEY`]) of the standard observation column `value_text`.
    pub(crate) fn text_key(self: &Arc<Self>) -> Expr {
        let this = Arc::clone(self);
        col("value_text").map_column(
            move |text: Column| {
                let keys = map_distinct(text.str()?, |text| this.text_key_of(text));
                Ok(UInt32Chunked::from_vec(TEXT_KEY.into(), keys).into_column())
            },
            |_, _| Ok(Field::new(TEXT_KEY.into(), DataType::UInt32)),
        )
    }
}

/// Whether `number` is in an observation's number `domain` (inclusive, polars' float order);
/// any number where it has none.
#[inline(always)]
fn number_inside(domain: Option<(f64, f64)>, number: f64) -> bool {
    domain.is_none_or(|(low, high)| !less(number, low) && !greater(number, high))
}

/// Whether a record's text key is a text of an observation's text `domain` (a membership table
/// by text key); any text where it has none. A record without a text has no value.
#[inline(always)]
fn text_inside(domain: Option<&[bool]>, text: u32) -> bool {
    text != NO_TEXT && domain.is_none_or(|member| member[text as usize])
}

/// An observation's atoms, resolved by the kind of its values, with its domain.
enum Step {
    Number(Option<(f64, f64)>, Vec<NumberAtom>),
    Text(Option<Box<[bool]>>, Vec<TextAtom>),
}

/// The observation atoms of one table's pass, with their slots.
pub(crate) struct ObservationKernel {
    atoms: AtomSlots,
    /// Per code key, the observations read by some atom with their atoms, and the dates their
    /// atoms could count.
    observations_of_key: Vec<(Vec<Step>, Reach)>,
}

impl ObservationKernel {
    /// The kernel of `atoms` (name, atom of an observation) over the patients of `core`.
    pub(crate) fn new(
        rules: Arc<ObservationRules>,
        atoms: Vec<(String, RecordAtom)>,
        core: &DataFrame,
    ) -> PolarsResult<ObservationKernel> {
        let atoms = AtomSlots::new(atoms, rules.values.len(), core)?;
        let observations_of_key = (rules.observations_of_key.iter())
            .map(|of| {
                let read: Vec<usize> = of.iter().copied().filter(|&o| atoms.reads(o)).collect();
                let reach = atoms.reach(read.iter().copied());
                let steps = (read.into_iter())
                    .map(|o| match &rules.values[o] {
                        ValueRule::Number(domain) => Step::Number(*domain, atoms.number_atoms(o)),
                        ValueRule::Text(domain) => {
                            let domain = domain.as_deref().map(Box::from);
                            Step::Text(domain, atoms.text_atoms(o))
                        }
                    })
                    .collect();
                (steps, reach)
            })
            .collect();
        Ok(ObservationKernel {
            atoms,
            observations_of_key,
        })
    }
}

impl Kernel for ObservationKernel {
    fn inputs(&self) -> &'static [&'static str] {
        &["date", OBSERVATION_KEY, "value_num", TEXT_KEY]
    }

    fn fold(&mut self, rows: &[IdxSize], morsel: &DataFrame) -> PolarsResult<()> {
        let (dates, keys, numbers, texts) = (
            input(morsel, "date", &DataType::Int32)?,
            input(morsel, OBSERVATION_KEY, &DataType::UInt32)?,
            input(morsel, "value_num", &DataType::Float64)?,
            input(morsel, TEXT_KEY, &DataType::UInt32)?,
        );
        let (dates, keys) = (
            dates.i32()?.downcast_as_array(),
            keys.u32()?.downcast_as_array(),
        );
        let (numbers, texts) = (
            numbers.f64()?.downcast_as_array(),
            texts.u32()?.downcast_as_array(),
        );
        polars_ensure!(
            [dates.len(), keys.len(), numbers.len(), texts.len()] == [rows.len(); 4],
            ShapeMismatch: "observation columns are not as long as their rows"
        );
        let complete = all_valid(&[keys.validity(), dates.validity()]);
        // Zipped, not indexed: no bounds check on the record's columns (same lengths, above).
        let records = (rows.iter().zip(keys.values().iter()))
            .zip(dates.values().iter())
            .enumerate();
        for (i, ((&row, &key), &date)) in records {
            if complete
                .as_ref()
                .is_some_and(|complete| !complete.get_bit(i))
            {
                continue;
            }
            let row = row as usize;
            self.atoms.look_ahead(row);
            let Some((observations, reach)) = self.observations_of_key.get(key as usize) else {
                continue;
            };
            let Some(idx) = self.atoms.idx(row) else {
                continue;
            };
            if !reach.may_count(date, idx) {
                continue;
            }
            // Each observation's atoms resolved for its kind of value (`fold_number`,
            // `fold_text`): the generic fold matched each atom's test and the value's kind,
            // and searched a `latest` truth's texts. Its value is read only where it is folded.
            for step in observations {
                match step {
                    Step::Number(domain, atoms) => {
                        let number = numbers.get(i);
                        if let Some(number) = number.filter(|&n| number_inside(*domain, n)) {
                            self.atoms.fold_number(row, (date, idx), atoms, number);
                        }
                    }
                    Step::Text(domain, atoms) => {
                        let text = texts.get(i).unwrap_or(NO_TEXT);
                        if text_inside(domain.as_deref(), text) {
                            self.atoms.fold_text(row, (date, idx), atoms, text);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Vec<Column> {
        self.atoms.finish()
    }
}

/// The bits of a key below its top byte ([`keys_and_bytes`]): a definition's codes and texts
/// are far fewer than 2^24.
const KEY_BITS: u32 = (1 << 24) - 1;

/// Each key of `both` (its chunks, `len` values in all, each value's key `key_of` it) below its
/// top byte ([`KEY_BITS`]), and its top byte: two plain loops side by side (a pair per row and
/// its unzip cost a third more).
fn split_top_byte<T: Sync>(
    both: &[&[T]],
    len: usize,
    key_of: impl Fn(&T) -> u32 + Sync,
) -> (Vec<u32>, Vec<u8>) {
    if super::in_order::on_this_thread() {
        // One after the other on this thread: by blocks of rows, each read from memory once
        // for both columns (the read's chunks, a row group each, are out of cache).
        let (mut keys, mut bytes) = (Vec::with_capacity(len), Vec::with_capacity(len));
        for block in both.iter().flat_map(|chunk| chunk.chunks(BLOCK)) {
            keys.extend(block.iter().map(|both| key_of(both) & KEY_BITS));
            bytes.extend(block.iter().map(|both| (key_of(both) >> 24) as u8));
        }
        return (keys, bytes);
    }
    super::in_order::join(
        || {
            let mut keys = Vec::with_capacity(len);
            for chunk in both {
                keys.extend(chunk.iter().map(|both| key_of(both) & KEY_BITS));
            }
            keys
        },
        || {
            let mut bytes = Vec::with_capacity(len);
            for chunk in both {
                bytes.extend(chunk.iter().map(|both| (key_of(both) >> 24) as u8));
            }
            bytes
        },
    )
}

/// Per row of `texts`, a key, a byte and a word (`()` where none is wanted), `of_text` of each
/// distinct text, over row ranges in parallel. The byte travels in the key's top byte through
/// the mapping, then the three are split ([`split_top_byte`]).
fn keys_and_bytes<W: Copy + Default + Send + Sync>(
    texts: &StringChunked,
    of_text: impl Fn(Option<&str>) -> (u32, u8, W) + Sync,
) -> (Vec<u32>, Vec<u8>, Vec<W>) {
    let both = |text: Option<&str>| {
        let (key, byte, word) = of_text(text);
        (key | u32::from(byte) << 24, word)
    };
    let height = texts.len();
    if super::in_order::on_this_thread() {
        // One range after another, each split straight into the columns while its rows are in
        // cache: the parts concatenated after were a copy of every row's key, byte and word
        // (memmove, about 0.5 % of a 10 M run's samples).
        let (mut keys, mut bytes, mut words) = (
            Vec::with_capacity(height),
            Vec::with_capacity(height),
            Vec::with_capacity(height),
        );
        for offset in (0..height).step_by(super::PARALLEL_ROWS) {
            let len = super::PARALLEL_ROWS.min(height - offset);
            let all = map_distinct(&texts.slice(offset as i64, len), both);
            // By blocks of rows, each read from memory once for the three columns: the range's
            // rows (4 MB) read once per column took 632 samples at 10 M patients.
            for block in all.chunks(BLOCK) {
                keys.extend(block.iter().map(|(both, _)| both & KEY_BITS));
                bytes.extend(block.iter().map(|(both, _)| (both >> 24) as u8));
                words.extend(block.iter().map(|(_, word)| *word));
            }
        }
        return (keys, bytes, words);
    }
    let parts = in_parallel(height, |offset, len| {
        let all = map_distinct(&texts.slice(offset, len), both);
        let ((keys, bytes), words) = super::in_order::join(
            || split_top_byte(&[&all], all.len(), |(both, _)| *both),
            || all.iter().map(|(_, word)| *word).collect::<Vec<W>>(),
        );
        (keys, bytes, words)
    });
    let keys = concatenated(parts.iter().map(|(keys, _, _)| keys.as_slice()), height);
    let bytes = concatenated(parts.iter().map(|(_, bytes, _)| bytes.as_slice()), height);
    let words = concatenated(parts.iter().map(|(_, _, words)| words.as_slice()), height);
    (keys, bytes, words)
}

#[cfg(test)]
mod tests;
