//! Code sets as column predicates: ICD-10 codes normalized (upper case, no dot), prefixes and
//! ranges of categories, ATC prefixes, each tested once per distinct code of a chunk; every
//! code set of the definition matched at once, a bit per set; and every drug's ATC list matched
//! at once, a bit per drug.

use std::sync::Arc;

use polars::prelude::*;
use polars_arrow::array::PrimitiveArray;
use polars_arrow::bitmap::{Bitmap, MutableBitmap};

use super::cohorts::true_rows;
use crate::definition::model::{CodePattern, CodeSet};
use crate::extract::distinct::{map_distinct, normal_form, packed_by_eight, text_flags};

/// An ICD-10 column normalized for matching: trimmed, upper case, dot removed (`c34.1` -> `C341`).
pub(crate) fn normalized_icd10(column: &str) -> Expr {
    normal_form(col(column), |code| {
        code.trim().to_uppercase().replace('.', "")
    })
}

/// A code column normalized for ATC matching: trimmed, upper case.
pub(crate) fn normalized_atc(expr: Expr) -> Expr {
    normal_form(expr, |code| code.trim().to_uppercase())
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
    code.map(
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
    assert!(
        lists.len() <= MAX_ATC_LISTS,
        "at most {MAX_ATC_LISTS} ATC lists"
    );
    let prefixes: Arc<[(Box<str>, u64)]> = lists
        .iter()
        .enumerate()
        .flat_map(|(d, list)| {
            list.iter()
                .map(move |p| (p.trim_end_matches('*').to_uppercase().into(), 1u64 << d))
        })
        .collect();
    map_multiple(
        move |columns: &mut [Column]| {
            let word = |code: &str| {
                let matches = |prefix: &str| match normalize {
                    false => code.starts_with(prefix),
                    // The prefixes are upper case already; ASCII codes (all real ones) are
                    // compared without building their upper-case copy.
                    true => {
                        let code = code.trim();
                        if code.is_ascii() {
                            code.len() >= prefix.len()
                                && code.as_bytes()[..prefix.len()]
                                    .eq_ignore_ascii_case(prefix.as_bytes())
                        } else {
                            code.to_uppercase().starts_with(prefix)
                        }
                    }
                };
                prefixes
                    .iter()
                    .filter(|(prefix, _)| matches(prefix))
                    .fold(0u64, |word, (_, bit)| word | bit)
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
    let sets: Arc<[CodeSet]> = sets[..sets.len().min(MAX_WORD_SETS)].into();
    code.map(
        move |codes: Column| {
            let word = |code: &str| {
                (sets.iter().enumerate())
                    .filter(|(_, set)| in_set_normalized(code, set))
                    .fold(0u64, |word, (s, _)| word | 1 << s)
            };
            let words = map_distinct(codes.str()?, |code| code.map_or(0, word));
            Ok(UInt64Chunked::from_vec(codes.name().clone(), words).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::UInt64)),
    )
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
    words.map(
        move |words: Column| {
            let bits = bit_of(&words, mask)?;
            Ok(BooleanChunked::from_bitmap(words.name().clone(), bits).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Boolean)),
    )
}

/// Per row of a word column, whether `mask`'s bit is set (false where null), packed eight rows
/// to a byte straight from the words: a `bool` per row packed after cost five instructions a
/// row, the run's 32 drug conditions 1.3 % of its instructions.
pub(crate) fn bit_of(words: &Column, mask: u64) -> PolarsResult<Bitmap> {
    let words = words.as_materialized_series().cast(&DataType::UInt64)?;
    let byte = |group: &[u64]| {
        (group.iter().enumerate()).fold(0u8, |byte, (i, word)| {
            byte | u8::from(word & mask != 0) << i
        })
    };
    let mut bits = MutableBitmap::with_capacity(words.len());
    for array in words.u64()?.downcast_iter() {
        let set = packed_by_eight(array.values().as_slice(), byte, byte);
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
    if selected.len() == 1 && words.len() != 1 {
        if selected.get(0) != Some(true) {
            words.fill(0);
        }
        return Ok(());
    }
    polars_ensure!(
        selected.len() == words.len(),
        ShapeMismatch: "a selection of {} rows for {} codes", selected.len(), words.len()
    );
    let mut start = 0;
    for array in selected.downcast_iter() {
        let keep = true_rows(array);
        let rows = &mut words[start..start + array.len()];
        // Sixty-four rows to a word of the bitmap: a row's mask from its bit, no iterator of
        // bits (about 12 instructions a row, callgrind).
        let bits = keep.chunks::<u64>();
        let last = bits.remainder();
        for (rows, bits) in rows.chunks_mut(64).zip(bits.chain(std::iter::once(last))) {
            for (i, word) in rows.iter_mut().enumerate() {
                *word &= 0u64.wrapping_sub(bits >> i & 1);
            }
        }
        start += array.len();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::model::Vocabulary;

    fn bools(frame: &DataFrame, name: &str) -> Vec<bool> {
        let column = frame.column(name).unwrap().bool().unwrap();
        column.iter().map(|v| v.unwrap()).collect()
    }

    /// The engine's convention for primary cancer, which these tests pin by hand.
    fn primary() -> CodeSet {
        super::super::patient_core::conventional_primary_cancer()
    }

    /// Bits packed eight rows to a byte: 21 words in chunks of 13 and 8 rows (whole bytes, a
    /// partial one, and a chunk starting inside a byte of the whole), a null every fifth row.
    /// Each row's bit is the word's bit 3, read one row at a time; rows 0-4 spelled out.
    #[test]
    fn a_words_bit_across_bytes_and_chunks() {
        let words: Vec<Option<u64>> = (0..21u64).map(|i| (i % 5 != 4).then_some(i * 3)).collect();
        let mut column = UInt64Chunked::new("w".into(), &words[..13]);
        column
            .append(&UInt64Chunked::new("w".into(), &words[13..]))
            .unwrap();
        let bits = bit_of(&column.into_column(), 1 << 3).unwrap();
        let got: Vec<bool> = bits.iter().collect();
        let expected: Vec<bool> = (words.iter())
            .map(|w| w.is_some_and(|w| w >> 3 & 1 == 1))
            .collect();
        assert_eq!(got, expected);
        // 0, 3, 6, 9 (0b1001), null (12 = 0b1100 has the bit but is null).
        assert_eq!(got[..5], [false, false, false, true, false]);
    }

    /// Every set's bit in one word: C341 is lung (0) and primary (2), 0b101; C19 colorectal (1)
    /// and primary, 0b110; C441 (skin) and C781 (a metastasis) are in none, as are a null, a
    /// code of no set and an empty one. Over two chunks, and each set's bit read back agrees
    /// with `in_set` of that set.
    #[test]
    fn a_codes_sets_in_one_word() {
        let prefix = |p: &str| CodePattern::Prefix(p.into());
        let lung = CodeSet {
            name: String::new(),
            vocabulary: Vocabulary::Icd10,
            patterns: vec![prefix("C34")],
            except: vec![],
        };
        let colorectal = CodeSet {
            patterns: vec![CodePattern::Range("C18".into(), "C20".into())],
            ..lung.clone()
        };
        let sets = [lung, colorectal, primary()];
        let mut codes = StringChunked::from_iter([Some("C341"), Some("C19"), Some("C441")]);
        codes
            .append(&StringChunked::from_iter([
                None,
                Some("C781"),
                Some("I639"),
                Some(""),
            ]))
            .unwrap();
        let out = DataFrame::new(7, vec![codes.with_name("code".into()).into_column()])
            .unwrap()
            .lazy()
            .with_column(set_bits(col("code"), &sets).alias("word"))
            .with_columns(
                (0..3)
                    .map(|s| has_bit(col("word"), s).alias(format!("bit_{s}")))
                    .collect::<Vec<_>>(),
            )
            .with_columns(
                (0..3)
                    .map(|s| in_set(col("code"), &sets[s]).alias(format!("in_{s}")))
                    .collect::<Vec<_>>(),
            )
            .collect()
            .unwrap();
        let words: Vec<Option<u64>> = out.column("word").unwrap().u64().unwrap().iter().collect();
        assert_eq!(
            words,
            [
                Some(0b101),
                Some(0b110),
                Some(0),
                Some(0),
                Some(0),
                Some(0),
                Some(0)
            ]
        );
        for s in 0..3 {
            assert_eq!(
                bools(&out, &format!("bit_{s}")),
                bools(&out, &format!("in_{s}")),
                "set {s}"
            );
        }
        assert_eq!(
            bools(&out, "bit_2"),
            [true, true, false, false, false, false, false]
        );
    }

    /// A word holds the first 64 sets: 65 sets that all hold the code set all 64 bits, and the
    /// 65th (which has no bit) neither overflows the shift nor changes the word.
    #[test]
    fn a_word_holds_sixty_four_sets() {
        let set = CodeSet {
            name: String::new(),
            vocabulary: Vocabulary::Icd10,
            patterns: vec![CodePattern::Prefix("C34".into())],
            except: vec![],
        };
        let sets = vec![set; MAX_WORD_SETS + 1];
        let out = df!("code" => ["C341", "C50"])
            .unwrap()
            .lazy()
            .select([set_bits(col("code"), &sets)])
            .collect()
            .unwrap();
        let words: Vec<Option<u64>> = out.column("code").unwrap().u64().unwrap().iter().collect();
        assert_eq!(words, [Some(u64::MAX), Some(0)]);
    }

    #[test]
    fn primary_cancer_excludes_skin_and_metastases() {
        let set = primary();
        // C34.1 lung (with or without the dot), C97 is the last category in range.
        for code in ["C34.1", "c341", "C97", "C00.0", "C76.3"] {
            assert!(matches(code, &set), "{code} should match");
        }
        // C44 skin (not melanoma), C77-C79 secondary, D-codes and C98 outside.
        for code in ["C44.9", "C77.1", "C78.7", "C79.3", "D05.1", "C98", "I63.9"] {
            assert!(!matches(code, &set), "{code} should not match");
        }
    }

    /// The first set in order wins (lung before every primary cancer); a code in no set, in a
    /// set's exceptions only, or null has none. Over two chunks.
    #[test]
    fn first_set_in_priority_order() {
        let prefix = |p: &str| CodePattern::Prefix(p.into());
        let set = |patterns| CodeSet {
            name: String::new(),
            vocabulary: Vocabulary::Icd10,
            patterns,
            except: vec![],
        };
        let lung = set(vec![prefix("C34")]);
        let colorectal = set(vec![CodePattern::Range("C18".into(), "C20".into())]);
        let mut codes = StringChunked::from_iter([Some("C341"), Some("C19"), Some("C441"), None]);
        codes
            .append(&StringChunked::from_iter([
                Some("C50"),
                Some("D101"),
                Some("C209"),
            ]))
            .unwrap();
        let out = DataFrame::new(7, vec![codes.with_name("code".into()).into_column()])
            .unwrap()
            .lazy()
            .select([first_set(col("code"), vec![lung, colorectal, primary()])])
            .collect()
            .unwrap();
        let first: Vec<Option<u32>> = out.column("code").unwrap().u32().unwrap().iter().collect();
        assert_eq!(
            first,
            [Some(0), Some(1), None, None, Some(2), None, Some(1)]
        );
    }

    #[test]
    fn polars_matching_agrees_with_rust_matching() {
        let codes = [
            "C34.1", "c341", "C44.9", "C78.7", "C79", "C97", "D05.1", " C18.7 ", "K92.1",
        ];
        let df = df!("icd10" => codes.to_vec()).unwrap();
        let set = primary();
        let out = df
            .lazy()
            .select([in_set(normalized_icd10("icd10"), &set).alias("hit")])
            .collect()
            .unwrap();
        let hits = bools(&out, "hit");
        let expected: Vec<bool> = codes.iter().map(|c| matches(c, &set)).collect();
        assert_eq!(hits, expected);
        assert_eq!(
            hits,
            vec![true, true, false, false, false, true, false, true, false]
        );
    }

    /// The normal forms computed once per distinct code equal polars' own string expressions
    /// (trim, upper case, dots removed) on padded, lower-case, dotted and non-ASCII codes.
    #[test]
    fn normal_forms_agree_with_polars_string_expressions() {
        let codes = [
            Some(" c34.1 "),
            Some("C34.1"),
            None,
            Some("\tk92.0\n"),
            Some("c34.1\u{e9}"),
            Some("stra\u{df}e.1"),
            Some(""),
            Some(" l01ec01 "),
        ];
        let frame = df!("code" => codes.to_vec()).unwrap();
        let by_polars = |expr: Expr| expr.str().strip_chars(lit(NULL)).str().to_uppercase();
        let out = frame
            .lazy()
            .select([
                normalized_icd10("code").alias("icd10"),
                by_polars(col("code"))
                    .str()
                    .replace_all(lit("."), lit(""), true)
                    .alias("icd10_polars"),
                normalized_atc(col("code")).alias("atc"),
                by_polars(col("code")).alias("atc_polars"),
            ])
            .collect()
            .unwrap();
        let texts = |name: &str| -> Vec<Option<String>> {
            let column = out.column(name).unwrap().str().unwrap();
            column.iter().map(|v| v.map(str::to_string)).collect()
        };
        assert_eq!(texts("icd10"), texts("icd10_polars"));
        assert_eq!(texts("atc"), texts("atc_polars"));
        assert_eq!(texts("icd10")[0].as_deref(), Some("C341"));
        assert_eq!(texts("icd10")[5].as_deref(), Some("STRASSE1"));
    }

    /// Words kept only where selected is true: a null or false selection zeroes the word, over
    /// two chunks (the second starting mid-byte, at row 11), and a single value for all rows.
    #[test]
    fn words_kept_where_selected() {
        let mut selected = BooleanChunked::new(
            "s".into(),
            (0..11)
                .map(|i| (i % 4 != 1).then_some(i % 3 != 0))
                .collect::<Vec<_>>(),
        );
        selected
            .append(&BooleanChunked::new(
                "s".into(),
                [Some(true), None, Some(false)],
            ))
            .unwrap();
        assert_eq!(selected.chunks().len(), 2);
        let mut words: Vec<u64> = (1..=14).collect();
        keep_selected(&mut words, &selected).unwrap();
        // Rows 0-10: null at 1, 5, 9; false at 0, 3, 6; true at 2, 4, 7, 8, 10.
        // Rows 11-13: true, null, false.
        assert_eq!(words, [0, 0, 3, 0, 5, 0, 0, 8, 9, 0, 11, 12, 0, 0]);
        let mut all: Vec<u64> = vec![7, 8];
        keep_selected(&mut all, &BooleanChunked::new("s".into(), [true])).unwrap();
        assert_eq!(all, [7, 8]);
        keep_selected(&mut all, &BooleanChunked::new("s".into(), [None::<bool>])).unwrap();
        assert_eq!(all, [0, 0]);
        // Whole words of 64 rows and a remainder, the chunk sliced to start inside a byte:
        // each word kept where its row's selection is true, row by row.
        let flags: Vec<Option<bool>> = (0..200)
            .map(|i| (i % 7 != 3).then_some(i % 5 < 3))
            .collect();
        let selected = BooleanChunked::new("s".into(), &flags).slice(3, 150);
        let mut words: Vec<u64> = (1..=150).collect();
        keep_selected(&mut words, &selected).unwrap();
        let kept: Vec<u64> = (1..=150u64)
            .map(|w| match flags[w as usize + 2] {
                Some(true) => w,
                _ => 0,
            })
            .collect();
        assert_eq!(words, kept);
        let wrong = keep_selected(
            &mut [1, 2, 3],
            &BooleanChunked::new("s".into(), [true, true]),
        );
        assert!(wrong.is_err());
    }

    #[test]
    fn atc_bits_match_every_list_like_atc_in() {
        let codes = [
            Some("L01EC01"),
            Some(" l01ec01 "),
            Some("L01EE02"),
            Some("L01XE"),
            None,
            Some("L01FF05"),
            Some("L02"),
            Some("L01E"),
            Some("l01ff05"),
            Some("l01ec01\u{e9}"),
        ];
        let selected = [true, true, true, true, true, true, true, true, false, true];
        let lists = vec![
            vec!["L01EC01".to_string(), "L01EE02".to_string()],
            vec!["l01e*".to_string()],
            vec!["L01FF05".to_string()],
        ];
        let df = df!("code" => codes.to_vec(), "selected" => selected.to_vec()).unwrap();
        let mut columns = vec![
            atc_bits(col("selected"), col("code"), &lists, false).alias("raw"),
            atc_bits(col("selected"), col("code"), &lists, true).alias("normalized"),
        ];
        for (d, list) in lists.iter().enumerate() {
            let selected = col("selected");
            columns.push(
                atc_in(col("code"), list)
                    .and(selected.clone())
                    .alias(format!("raw_{d}")),
            );
            columns.push(
                atc_in(normalized_atc(col("code")), list)
                    .and(selected)
                    .alias(format!("normalized_{d}")),
            );
        }
        let out = df.lazy().select(columns).collect().unwrap();
        let words = |name: &str| -> Vec<u64> {
            let column = out.column(name).unwrap().u64().unwrap();
            column.iter().map(|v| v.unwrap()).collect()
        };
        // Worked out by hand: `L01E*` covers both of the first list's codes, a null code
        // matches nothing, an unselected row is 0; lower case and spaces match only normalized,
        // also past a non-ASCII letter (upper-cased the slow way).
        assert_eq!(
            words("raw"),
            vec![0b011, 0, 0b011, 0, 0, 0b100, 0, 0b010, 0, 0]
        );
        assert_eq!(
            words("normalized"),
            vec![0b011, 0b011, 0b011, 0, 0, 0b100, 0, 0b010, 0, 0b011]
        );
        for kind in ["raw", "normalized"] {
            let bits = words(kind);
            for d in 0..lists.len() {
                let expected = bools(&out, &format!("{kind}_{d}"));
                let from_bits: Vec<bool> = bits.iter().map(|w| w >> d & 1 == 1).collect();
                assert_eq!(from_bits, expected, "{kind} list {d}");
            }
        }
    }

    /// The engine's set test on normalized codes, row by row over two chunks with nulls: a
    /// range with an exception range and an exception prefix, a second pattern, codes shorter
    /// than the range's ends. Worked out by hand.
    #[test]
    fn in_set_over_chunks_nulls_and_short_codes() {
        let set = CodeSet {
            name: "solid".into(),
            vocabulary: Vocabulary::Icd10,
            patterns: vec![
                CodePattern::Range("C00".into(), "C97".into()),
                CodePattern::Prefix("D0".into()),
            ],
            except: vec![
                CodePattern::Range("C77".into(), "C79".into()),
                CodePattern::Prefix("C44".into()),
            ],
        };
        let cases = [
            (Some("C341"), true),
            (Some("C97"), true),
            (Some("C98"), false),
            (Some("C449"), false),
            (Some("C781"), false),
            (Some("C76"), true),
            (None, false),
            (Some("D05"), true),
            (Some("D1"), false),
            // "C9" sorts between "C00" and "C97": the range compares the first three characters.
            (Some("C9"), true),
            (Some(""), false),
            // Not normalized: lower case sorts after every upper-case code.
            (Some("c341"), false),
        ];
        let codes: Vec<Option<&str>> = cases.iter().map(|(c, _)| *c).collect();
        let mut frame = df!("code" => &codes[..5]).unwrap();
        frame
            .vstack_mut(&df!("code" => &codes[5..]).unwrap())
            .unwrap();
        assert_eq!(frame.column("code").unwrap().n_chunks(), 2);
        let out = frame
            .lazy()
            .select([in_set(col("code"), &set).alias("hit")])
            .collect()
            .unwrap();
        let expected: Vec<bool> = cases.iter().map(|(_, hit)| *hit).collect();
        assert_eq!(bools(&out, "hit"), expected);
    }

    #[test]
    fn ranges_of_subcategories() {
        // K92.0-K92.2: GI bleeding; K92.3 is outside.
        let set = CodeSet {
            name: "gi_bleeding".into(),
            vocabulary: Vocabulary::Icd10,
            patterns: vec![CodePattern::Range("K920".into(), "K922".into())],
            except: vec![],
        };
        assert!(matches("K92.0", &set));
        assert!(matches("K92.2", &set));
        assert!(!matches("K92.3", &set));
        assert!(!matches("K92", &set));
    }
}
