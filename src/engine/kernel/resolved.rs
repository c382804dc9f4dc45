//! A kernel's atoms resolved once per source ([`NumberAtom`], [`TextAtom`]): a record's value
//! folded into the slots of its source's atoms without looking up the atoms, matching each
//! atom's test to the value's kind, or searching a truth's texts. The kernels fold through
//! these; `AtomSlots::fold` (the tests' reference) is what they are checked against.

use super::{compare, in_window, latest_key, AtomSlots, Slot, Test, Truth};
use crate::definition::model::CmpOp;

/// An atom of a numeric source as [`AtomSlots::fold_number`] reads it: its slot's position, its
/// window and its test with the truth's kind resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NumberAtom {
    at: usize,
    lookback: Option<i32>,
    test: NumberTest,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum NumberTest {
    Any,
    Latest {
        op: CmpOp,
        threshold: f64,
        bit_if_holds: i32,
        bit_if_not: i32,
    },
    /// A `latest` whose truth never holds of a number: always `bit_if_not`.
    LatestNever(i32),
}

/// An atom of a text source as [`AtomSlots::fold_text`] reads it: its slot's position, its
/// window, and its test with the truth's texts as a table by text key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TextAtom {
    at: usize,
    lookback: Option<i32>,
    test: TextTest,
}

#[derive(Debug, Clone, PartialEq)]
enum TextTest {
    Any,
    /// `latest`: whether the truth holds of a text, by its key (false past the table: a
    /// comparison never holds of a text, nor a text of no list).
    Latest {
        holds: Box<[bool]>,
        bit_if_holds: i32,
        bit_if_not: i32,
    },
}

impl AtomSlots {
    /// The atoms of `source` resolved for [`AtomSlots::fold_number`] (a numeric source's).
    pub(crate) fn number_atoms(&self, source: usize) -> Vec<NumberAtom> {
        let of_source = self.of_source.get(source).map_or(&[][..], Vec::as_slice);
        (of_source.iter())
            .map(|&at| {
                let atom = &self.atoms[at].0;
                let test = match &atom.test {
                    Test::Any => NumberTest::Any,
                    Test::Latest {
                        truth: Truth::Compare(op, threshold),
                        bit_if_holds,
                        bit_if_not,
                    } => NumberTest::Latest {
                        op: *op,
                        threshold: *threshold,
                        bit_if_holds: *bit_if_holds,
                        bit_if_not: *bit_if_not,
                    },
                    // A text's truth never holds of a number (`Truth::holds`).
                    Test::Latest { bit_if_not, .. } => NumberTest::LatestNever(*bit_if_not),
                };
                NumberAtom {
                    at,
                    lookback: atom.lookback,
                    test,
                }
            })
            .collect()
    }

    /// The atoms of `source` resolved for [`AtomSlots::fold_text`] (a text source's).
    pub(crate) fn text_atoms(&self, source: usize) -> Vec<TextAtom> {
        let of_source = self.of_source.get(source).map_or(&[][..], Vec::as_slice);
        (of_source.iter())
            .map(|&at| {
                let atom = &self.atoms[at].0;
                let test = match &atom.test {
                    Test::Any => TextTest::Any,
                    Test::Latest {
                        truth,
                        bit_if_holds,
                        bit_if_not,
                    } => {
                        // A comparison's truth never holds of a text (`Truth::holds`).
                        let texts = match truth {
                            Truth::TextIn(texts) => texts.as_slice(),
                            Truth::Compare(..) => &[],
                        };
                        let size = texts.iter().max().map_or(0, |&max| max as usize + 1);
                        let mut holds = vec![false; size];
                        for &text in texts {
                            holds[text as usize] = true;
                        }
                        TextTest::Latest {
                            holds: holds.into(),
                            bit_if_holds: *bit_if_holds,
                            bit_if_not: *bit_if_not,
                        }
                    }
                };
                TextAtom {
                    at,
                    lookback: atom.lookback,
                    test,
                }
            })
            .collect()
    }

    /// Folds a text (by its key) of patient `row` (index date `idx`), of `date`, into the slots
    /// of `atoms`: as `AtomSlots::fold` (the tests' reference) of `Value::Text` on their source,
    /// without looking up the source's atoms, matching the value's kind, or searching the
    /// truth's texts.
    #[inline(always)]
    pub(crate) fn fold_text(
        &mut self,
        row: usize,
        (date, idx): (i32, i32),
        atoms: &[TextAtom],
        text: u32,
    ) {
        for atom in atoms {
            if !in_window(atom.lookback, date, idx) {
                continue;
            }
            match (&atom.test, &mut self.atoms[atom.at].1) {
                (TextTest::Any, Slot::Any(slots)) => slots.max(row, 2),
                (
                    TextTest::Latest {
                        holds,
                        bit_if_holds,
                        bit_if_not,
                    },
                    Slot::Latest(slots),
                ) => {
                    let bit = match holds.get(text as usize) {
                        Some(true) => *bit_if_holds,
                        _ => *bit_if_not,
                    };
                    slots.max(row, latest_key(date, bit));
                }
                // Slots are made by the atom's test (`AtomSlots::new`).
                _ => {}
            }
        }
    }

    /// Folds a number of patient `row` (index date `idx`), of `date`, into the slots of `atoms`:
    /// as `AtomSlots::fold` (the tests' reference) of `Value::Number` on their source, without
    /// looking up the source's atoms or matching the value's kind.
    #[inline(always)]
    pub(crate) fn fold_number(
        &mut self,
        row: usize,
        (date, idx): (i32, i32),
        atoms: &[NumberAtom],
        value: f64,
    ) {
        for atom in atoms {
            if !in_window(atom.lookback, date, idx) {
                continue;
            }
            match (atom.test, &mut self.atoms[atom.at].1) {
                (NumberTest::Any, Slot::Any(slots)) => slots.max(row, 2),
                (
                    NumberTest::Latest {
                        op,
                        threshold,
                        bit_if_holds,
                        bit_if_not,
                    },
                    Slot::Latest(slots),
                ) => {
                    let bit = if compare(value, op, threshold) {
                        bit_if_holds
                    } else {
                        bit_if_not
                    };
                    slots.max(row, latest_key(date, bit));
                }
                (NumberTest::LatestNever(bit), Slot::Latest(slots)) => {
                    slots.max(row, latest_key(date, bit));
                }
                // Slots are made by the atom's test (`AtomSlots::new`).
                _ => {}
            }
        }
    }
}
