//! The mask table: per combination of criterion outcomes and stratum, how many patients (or
//! matched patient x cohort pairs) have it. Every report is derived from this table alone, and it
//! is what sites can merge when registries pool their counts.

use std::fmt;

use smallvec::{smallvec, SmallVec};

/// The result of one criterion for one patient (or patient x cohort pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Outcome {
    Pass = 0,
    Fail = 1,
    Unknown = 2,
    /// The criterion does not apply to the patient; counts as pass in every aggregate.
    NotApplicable = 3,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Pass,
        Outcome::Fail,
        Outcome::Unknown,
        Outcome::NotApplicable,
    ];

    pub fn from_code(code: u8) -> Option<Outcome> {
        match code {
            0 => Some(Outcome::Pass),
            1 => Some(Outcome::Fail),
            2 => Some(Outcome::Unknown),
            3 => Some(Outcome::NotApplicable),
            _ => None,
        }
    }

    /// The outcome whose code is in the low two bits of `bits`.
    #[inline]
    fn of_bits(bits: u64) -> Outcome {
        match bits & 0b11 {
            0 => Outcome::Pass,
            1 => Outcome::Fail,
            2 => Outcome::Unknown,
            _ => Outcome::NotApplicable,
        }
    }

    /// The word used in every output: `pass`, `fail`, `unknown`, `n/a`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Unknown => "unknown",
            Outcome::NotApplicable => "n/a",
        }
    }

    /// Pass or n/a.
    pub fn passes(self) -> bool {
        matches!(self, Outcome::Pass | Outcome::NotApplicable)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The overall status of a patient (or a patient x cohort pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Every criterion passes (or is n/a).
    Eligible,
    /// None fails, at least one is unknown.
    PossiblyEligible,
    /// At least one fails.
    Ineligible,
}

impl Status {
    pub fn of(outcomes: impl IntoIterator<Item = Outcome>) -> Status {
        let mut status = Status::Eligible;
        for outcome in outcomes {
            match outcome {
                Outcome::Fail => return Status::Ineligible,
                Outcome::Unknown => status = Status::PossiblyEligible,
                Outcome::Pass | Outcome::NotApplicable => {}
            }
        }
        status
    }

    /// The status from whether any criterion fails and whether any does not pass (fails or is
    /// unknown), for outcomes already counted.
    pub fn given(any_fails: bool, any_not_passing: bool) -> Status {
        if any_fails {
            Status::Ineligible
        } else if any_not_passing {
            Status::PossiblyEligible
        } else {
            Status::Eligible
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Eligible => "eligible",
            Status::PossiblyEligible => "possibly eligible",
            Status::Ineligible => "ineligible",
        }
    }
}

/// Outcomes of any number of criteria, packed two bits each, 32 to a word.
///
/// Up to two words (64 criteria, the IMPRESS definition's widest row) are kept in place: a mask
/// table has a row per patient combination, millions at 10 M patients, and a word vector of
/// its own per row was as many allocations to make, read behind a pointer, and free.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Outcomes {
    words: SmallVec<[u64; 2]>,
    len: usize,
}

impl Outcomes {
    pub const PER_WORD: usize = 32;

    /// The low bit of every outcome's pair of code bits in a word: `word & LOW_BITS` and
    /// `(word >> 1) & LOW_BITS` are its outcomes' low and high bits, each in its pair's low bit.
    pub const LOW_BITS: u64 = 0x5555_5555_5555_5555;

    /// Where outcome `i` is kept: its word in the outcomes' words, and the shift of its two
    /// bits in that word.
    #[inline(always)]
    pub fn place(i: usize) -> (usize, usize) {
        (i / Self::PER_WORD, 2 * (i % Self::PER_WORD))
    }

    pub fn from_slice(outcomes: &[Outcome]) -> Outcomes {
        let mut words = smallvec![0u64; outcomes.len().div_ceil(Self::PER_WORD)];
        for (i, outcome) in outcomes.iter().enumerate() {
            let (word, shift) = Self::place(i);
            words[word] |= (*outcome as u64) << shift;
        }
        Outcomes {
            words,
            len: outcomes.len(),
        }
    }

    /// From packed words, as the engine computes them (criterion i in bits 2(i%32).. of word i/32).
    /// Returns None where a word holds bits beyond `len` criteria.
    pub fn from_words(words: &[u64], len: usize) -> Option<Outcomes> {
        if words.len() != len.div_ceil(Self::PER_WORD) {
            return None;
        }
        let used_in_last = len % Self::PER_WORD;
        if used_in_last != 0 {
            let last = *words.last()?;
            if last >> (2 * used_in_last) != 0 {
                return None;
            }
        }
        Some(Outcomes {
            words: SmallVec::from_slice(words),
            len,
        })
    }

    pub fn words(&self) -> &[u64] {
        &self.words
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> Outcome {
        assert!(i < self.len, "criterion {i} out of {}", self.len);
        let (word, shift) = Self::place(i);
        Outcome::of_bits(self.words[word] >> shift)
    }

    /// The outcomes in order, read a word at a time (a shift per outcome): the reports and
    /// `restricted/masks` read every outcome of millions of rows, and [`Outcomes::get`]'s bounds
    /// check and division cost more than the read.
    pub fn iter(&self) -> OutcomeIter<'_> {
        OutcomeIter {
            words: self.words.iter(),
            word: 0,
            left_in_word: 0,
            remaining: self.len,
        }
    }

    pub fn status(&self) -> Status {
        Status::of(self.iter())
    }

    /// How many outcomes fail (code 01), counted a word at a time.
    pub fn fails(&self) -> u32 {
        self.count(|low, high| low & !high)
    }

    /// How many outcomes do not pass: fail (01) or unknown (10), counted a word at a time.
    pub fn not_passing(&self) -> u32 {
        self.count(|low, high| low ^ high)
    }

    /// The first outcome that fails, if any.
    pub fn first_fail(&self) -> Option<usize> {
        self.first(|low, high| low & !high)
    }

    /// The first outcome that does not pass (fails or is unknown), if any.
    pub fn first_not_passing(&self) -> Option<usize> {
        self.first(|low, high| low ^ high)
    }

    /// The first outcome whose pair of code bits sets the low bit of `pick`.
    fn first(&self, pick: impl Fn(u64, u64) -> u64) -> Option<usize> {
        self.words.iter().enumerate().find_map(|(w, word)| {
            let picked = pick(word & Self::LOW_BITS, (word >> 1) & Self::LOW_BITS);
            (picked != 0).then(|| w * Self::PER_WORD + picked.trailing_zeros() as usize / 2)
        })
    }

    /// The set bits of `pick` over every word's low and high code bits, each in the low bit of
    /// its pair. The bits past the last outcome are zero (a pass), so they never count.
    fn count(&self, pick: impl Fn(u64, u64) -> u64) -> u32 {
        self.words
            .iter()
            .map(|word| pick(word & Self::LOW_BITS, (word >> 1) & Self::LOW_BITS).count_ones())
            .sum()
    }
}

/// The outcomes of an [`Outcomes`], in order.
pub struct OutcomeIter<'a> {
    words: std::slice::Iter<'a, u64>,
    /// The current word, shifted so that the next outcome is in its low two bits.
    word: u64,
    left_in_word: usize,
    remaining: usize,
}

impl Iterator for OutcomeIter<'_> {
    type Item = Outcome;

    #[inline]
    fn next(&mut self) -> Option<Outcome> {
        if self.remaining == 0 {
            return None;
        }
        if self.left_in_word == 0 {
            self.word = *self.words.next()?;
            self.left_in_word = Outcomes::PER_WORD;
        }
        let outcome = Outcome::of_bits(self.word);
        self.word >>= 2;
        self.left_in_word -= 1;
        self.remaining -= 1;
        Some(outcome)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for OutcomeIter<'_> {}

/// The stratum of a patient. A value the extract does not record is `not recorded`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stratum {
    pub region: String,
    pub site: String,
    /// The tumour group of the primary cancer (the definition's groups), `other`, or `no primary`.
    pub tumour_group: String,
    pub sex: String,
    /// Age at index in bands: `<40`, `40-49`, ..., `80+`.
    pub age_band: String,
}

impl Stratum {
    pub const DIMENSIONS: [&'static str; 5] = ["region", "site", "tumour_group", "sex", "age_band"];

    pub fn get(&self, dimension: &str) -> Option<&str> {
        match dimension {
            "region" => Some(&self.region),
            "site" => Some(&self.site),
            "tumour_group" => Some(&self.tumour_group),
            "sex" => Some(&self.sex),
            "age_band" => Some(&self.age_band),
            _ => None,
        }
    }
}

/// One row of the mask table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MaskRow {
    /// None: a patient, with the general criteria. Some(c): a patient matched to cohort c, with the
    /// general criteria followed by the cohort's own criteria (`MaskTable::cohorts[c].criteria`).
    pub cohort: Option<usize>,
    /// Index into `MaskTable::strata`.
    pub stratum: usize,
    pub outcomes: Outcomes,
    /// Distinct patients with this combination.
    pub patients: u64,
}

/// The columns of a cohort's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortColumns {
    pub id: String,
    /// Ids of the cohort criteria after the general ones, in order.
    pub criteria: Vec<String>,
}

/// Counts per combination of criterion outcomes and stratum.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MaskTable {
    /// Ids of the general criteria, in definition order.
    pub criteria: Vec<String>,
    pub cohorts: Vec<CohortColumns>,
    pub strata: Vec<Stratum>,
    /// Sorted: population rows first, then by cohort, stratum and outcomes.
    pub rows: Vec<MaskRow>,
}

impl MaskTable {
    /// Rows of the whole population (one patient each).
    pub fn population(&self) -> impl Iterator<Item = &MaskRow> {
        self.rows.iter().filter(|r| r.cohort.is_none())
    }

    /// Rows of patients matched to cohort `c`.
    pub fn cohort(&self, c: usize) -> impl Iterator<Item = &MaskRow> {
        self.rows.iter().filter(move |r| r.cohort == Some(c))
    }

    pub fn patients(&self) -> u64 {
        self.population().map(|r| r.patients).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_past_one_word() {
        let all: Vec<Outcome> = (0..70).map(|i| Outcome::ALL[(i * 7 + 3) % 4]).collect();
        let packed = Outcomes::from_slice(&all);
        assert_eq!(packed.words().len(), 3);
        assert_eq!(packed.iter().collect::<Vec<_>>(), all);
        assert_eq!(packed.iter().len(), 70);
        let by_index: Vec<Outcome> = (0..70).map(|i| packed.get(i)).collect();
        assert_eq!(by_index, all);
        let again = Outcomes::from_words(packed.words(), 70).unwrap();
        assert_eq!(again, packed);
        // Exactly two words, and none.
        let two_words = Outcomes::from_slice(&all[..64]);
        assert_eq!(two_words.iter().collect::<Vec<_>>(), &all[..64]);
        assert_eq!(Outcomes::from_slice(&[]).iter().next(), None);
    }

    /// Fails and outcomes not passing, counted by hand: the four outcomes in one word, and 70
    /// outcomes over three words whose counts are worked out from their period.
    #[test]
    fn fails_and_not_passing_counted_by_word() {
        use Outcome::*;
        let four = Outcomes::from_slice(&[Pass, Fail, Unknown, NotApplicable]);
        assert_eq!((four.fails(), four.not_passing()), (1, 2));
        assert_eq!(Outcomes::from_slice(&[]).fails(), 0);
        let fails_only = Outcomes::from_slice(&[Fail; 33]);
        assert_eq!((fails_only.fails(), fails_only.not_passing()), (33, 33));
        let unknown_only = Outcomes::from_slice(&[Unknown; 40]);
        assert_eq!((unknown_only.fails(), unknown_only.not_passing()), (0, 40));
        let passing = Outcomes::from_slice(&[NotApplicable; 64]);
        assert_eq!((passing.fails(), passing.not_passing()), (0, 0));
        // Outcome i is ALL[(7i + 3) % 4]: (3, 2, 1, 0) repeating, so NotApplicable, Unknown,
        // Fail, Pass. 70 outcomes: 17 full periods and NotApplicable, Unknown: 17 fails and
        // 17 + 18 not passing.
        let all: Vec<Outcome> = (0..70).map(|i| Outcome::ALL[(i * 7 + 3) % 4]).collect();
        assert_eq!(&all[..4], [NotApplicable, Unknown, Fail, Pass]);
        let packed = Outcomes::from_slice(&all);
        assert_eq!((packed.fails(), packed.not_passing()), (17, 35));
    }

    /// The first failing and first not-passing outcome, by hand: within a word, past a word's
    /// edge (33), and none.
    #[test]
    fn first_fail_and_first_not_passing() {
        use Outcome::*;
        let mixed = Outcomes::from_slice(&[Pass, NotApplicable, Unknown, Fail]);
        assert_eq!(
            (mixed.first_fail(), mixed.first_not_passing()),
            (Some(3), Some(2))
        );
        let mut late = vec![Pass; 40];
        late[33] = Fail;
        late[39] = Unknown;
        let late = Outcomes::from_slice(&late);
        assert_eq!(
            (late.first_fail(), late.first_not_passing()),
            (Some(33), Some(33))
        );
        let passing = Outcomes::from_slice(&[NotApplicable; 64]);
        assert_eq!(
            (passing.first_fail(), passing.first_not_passing()),
            (None, None)
        );
        assert_eq!(Outcomes::from_slice(&[]).first_fail(), None);
    }

    #[test]
    fn from_words_rejects_bits_beyond_len() {
        assert!(Outcomes::from_words(&[0b11 << 6], 3).is_none());
        assert!(Outcomes::from_words(&[0b11 << 4], 3).is_some());
        assert!(Outcomes::from_words(&[0, 0], 3).is_none());
    }

    #[test]
    fn status_fail_beats_unknown() {
        use Outcome::*;
        assert_eq!(Status::of([Pass, NotApplicable]), Status::Eligible);
        assert_eq!(Status::of([Pass, Unknown]), Status::PossiblyEligible);
        assert_eq!(Status::of([Unknown, Fail, Pass]), Status::Ineligible);
    }
}
