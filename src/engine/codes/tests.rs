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
/// two chunks (the second starting mid-byte, at row 11), and a single value for all rows. Both
/// ways of keeping them, in place (`keep_selected`) and into a new column (`kept_selected`),
/// keep the same words.
#[test]
fn words_kept_where_selected() {
    let kept = |words: &[u64], selected: &BooleanChunked| -> Vec<u64> {
        let mut in_place = words.to_vec();
        keep_selected(&mut in_place, selected).unwrap();
        let copied = kept_selected(words, selected).unwrap();
        assert_eq!(in_place, copied, "in place and copied");
        copied
    };
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
    let words: Vec<u64> = (1..=14).collect();
    // Rows 0-10: null at 1, 5, 9; false at 0, 3, 6; true at 2, 4, 7, 8, 10.
    // Rows 11-13: true, null, false.
    assert_eq!(
        kept(&words, &selected),
        [0, 0, 3, 0, 5, 0, 0, 8, 9, 0, 11, 12, 0, 0]
    );
    let all = BooleanChunked::new("s".into(), [true]);
    assert_eq!(kept(&[7, 8], &all), [7, 8]);
    let none = BooleanChunked::new("s".into(), [None::<bool>]);
    assert_eq!(kept(&[7, 8], &none), [0, 0]);
    // Whole words of 64 rows and a remainder, the chunk sliced to start inside a byte:
    // each word kept where its row's selection is true, row by row.
    let flags: Vec<Option<bool>> = (0..200)
        .map(|i| (i % 7 != 3).then_some(i % 5 < 3))
        .collect();
    let selected = BooleanChunked::new("s".into(), &flags).slice(3, 150);
    let words: Vec<u64> = (1..=150).collect();
    let expected: Vec<u64> = (1..=150u64)
        .map(|w| match flags[w as usize + 2] {
            Some(true) => w,
            _ => 0,
        })
        .collect();
    assert_eq!(kept(&words, &selected), expected);
    let two = BooleanChunked::new("s".into(), [true, true]);
    assert!(keep_selected(&mut [1, 2, 3], &two).is_err());
    assert!(kept_selected(&[1, 2, 3], &two).is_err());
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

/// The sets and drugs the treatments' words are tested with, worked out by hand: the
/// antineoplastics set (`L01*`) and the castration set (`L02AE*`); drug 0 lists `L01EC*`, drug 1
/// `L01FF05`, drug 2 `L02AE01`.
fn hand_worked_atc_words() -> (Vec<CodeSet>, Vec<Vec<String>>, AtcWords) {
    let set = |prefix: &str| CodeSet {
        name: String::new(),
        vocabulary: Vocabulary::Atc,
        patterns: vec![CodePattern::Prefix(prefix.into())],
        except: vec![],
    };
    let sets = vec![set("L01"), set("L02AE")];
    let lists = vec![
        vec!["L01EC*".to_string()],
        vec!["l01ff05".to_string()],
        vec!["L02AE01".to_string()],
    ];
    let words = AtcWords {
        sets: Some(word_sets(&sets)),
        drugs: Some(atc_prefixes(&lists)),
        codes_read: false,
    };
    (sets, lists, words)
}

/// Treatments' codes as recorded: padded, lower-case and non-ASCII codes, a null.
const RECORDED_ATC: [Option<&str>; 7] = [
    Some("L01EC02"),
    Some(" l01ff05 "),
    Some("L02AE01"),
    None,
    Some("N03AF01"),
    Some("l01ec\u{e9}"),
    Some(""),
];

/// [`RECORDED_ATC`]'s words by [`hand_worked_atc_words`]: its code sets', its drugs'.
const RECORDED_ATC_WORDS: [[u64; 7]; 2] = [
    [0b01, 0b01, 0b10, 0, 0, 0b01, 0],
    [0b001, 0b010, 0b100, 0, 0, 0b001, 0],
];

/// The treatments' words on read, from the codes as recorded, are the words computed from
/// their normal form: `set_bits` and `atc_bits` of `normalized_atc`, and those worked out by
/// hand.
#[test]
fn treatment_words_on_read_are_the_normal_forms_words() {
    let (sets, lists, words) = hand_worked_atc_words();
    let atc = StringChunked::new("atc".into(), RECORDED_ATC);
    let on_read = words.columns(&atc);
    let read = |c: usize| -> Vec<u64> { on_read[c].u64().unwrap().into_no_null_iter().collect() };
    assert_eq!(on_read[0].name().as_str(), CODE_SETS);
    assert_eq!(on_read[1].name().as_str(), DRUG_ATC);
    assert_eq!(read(0), RECORDED_ATC_WORDS[0]);
    assert_eq!(read(1), RECORDED_ATC_WORDS[1]);
    // The same from the normal form, as the compiler prepares them where not read.
    let prepared = DataFrame::new(7, vec![atc.into_column()])
        .unwrap()
        .lazy()
        .with_column(normalized_atc(col("atc")).alias("code"))
        .select([
            set_bits(col("code"), &sets).alias("sets"),
            atc_bits(lit(true), col("code"), &lists, false).alias("drugs"),
        ])
        .collect()
        .unwrap();
    for (c, name) in [(0, "sets"), (1, "drugs")] {
        let column = prepared.column(name).unwrap().u64().unwrap();
        assert_eq!(
            read(c),
            column.into_no_null_iter().collect::<Vec<_>>(),
            "{name}"
        );
    }
    // Only the words asked for.
    let drugs_only = AtcWords {
        sets: None,
        drugs: Some(atc_prefixes(&lists)),
        codes_read: false,
    };
    let columns = drugs_only.columns(&StringChunked::new("atc".into(), [Some("L01EC01")]));
    assert_eq!(columns.len(), 1);
    assert_eq!(columns[0].name().as_str(), DRUG_ATC);
}

/// A treatment's words read back from its code's key are those of its code, worked out by
/// hand; keys that another definition's words took in between (another run's, in the same
/// process) change nothing. A key past the table of words is an error, not a panic.
#[test]
fn atc_words_read_back_from_keys() {
    let (_, _, words) = hand_worked_atc_words();
    let atc = StringChunked::new("atc".into(), RECORDED_ATC).into_column();
    let key = words.text_key();
    assert_eq!(
        (key.column.as_str(), key.name.as_str()),
        ("atc", ATC_WORDS_KEY)
    );
    let keys = key.of_strings(&atc).unwrap();
    let other = AtcWords {
        sets: None,
        drugs: Some(atc_prefixes(&[vec!["N03*".to_string()]])),
        codes_read: false,
    };
    let between = StringChunked::new("atc".into(), [Some("N03AF01"), Some("B01AC06")]);
    other.text_key().of_strings(&between.into_column()).unwrap();

    // The keys in two chunks, as read by row groups: the same words.
    let one_chunk = keys.as_materialized_series().u32().unwrap().clone();
    let mut chunked = one_chunk.slice(0, 3);
    chunked.append(&one_chunk.slice(3, 4)).unwrap();
    assert_eq!(chunked.chunks().len(), 2);
    let mut chunked = DataFrame::new(7, vec![chunked.into_column()]).unwrap();
    let from_chunks = words.columns_of_keys(&mut chunked).unwrap();

    let mut frame = DataFrame::new(7, vec![keys]).unwrap();
    let read = words.columns_of_keys(&mut frame).unwrap();
    assert_eq!(from_chunks, read);
    assert_eq!(frame.width(), 0, "the key column is dropped");
    let word = |c: usize| -> Vec<u64> { read[c].u64().unwrap().into_no_null_iter().collect() };
    assert_eq!(read[0].name().as_str(), CODE_SETS);
    assert_eq!(read[1].name().as_str(), DRUG_ATC);
    assert_eq!(word(0), RECORDED_ATC_WORDS[0]);
    assert_eq!(word(1), RECORDED_ATC_WORDS[1]);

    let past = UInt32Chunked::from_vec(ATC_WORDS_KEY.into(), vec![u32::MAX]).into_column();
    let mut past = DataFrame::new(1, vec![past]).unwrap();
    assert!(words.columns_of_keys(&mut past).is_err());
}

/// A treatment's drug word kept where its atom selects the row, as `atc_bits` keeps it.
#[test]
fn selected_words_keep_the_selected_rows() {
    let df = df!(
        "selected" => [Some(true), Some(false), None, Some(true)],
        "words" => [5u64, 6, 7, 8],
    )
    .unwrap();
    let out = df
        .lazy()
        .select([selected_words(col("selected"), col("words")).alias("kept")])
        .collect()
        .unwrap();
    let kept: Vec<u64> = out
        .column("kept")
        .unwrap()
        .u64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(kept, [5, 0, 0, 8]);
}
