//! The observation kernel's atoms worked out by hand (its agreement with the polars expressions
//! is tested in `engine/kernel/tests.rs`).

use polars::prelude::*;

use super::*;
use crate::definition::model::{CmpOp, Window};
use crate::engine::codes::atc_prefixes;
use crate::engine::kernel::tests::{core, folded, shipped, IDX};
use crate::engine::kernel::{Test, Truth};
use crate::engine::lookup::ROW;

/// The position of the observation `name` in `definition`.
fn observation(definition: &crate::definition::model::Definition, name: &str) -> usize {
    (definition.observations.iter())
        .position(|o| o.name == name)
        .unwrap()
}

/// From the shipped definition: ECOG a number in 0..5, brain metastasis status a text of none,
/// stable or progressive, allergy any text.
#[test]
fn atoms_worked_out_by_hand() {
    let definition = shipped();
    let rules = Arc::new(ObservationRules::new(&definition));
    let observation = |name: &str| observation(&definition, name);
    let (ecog, brain, allergy) = (
        observation("ecog"),
        observation("brain_mets_status"),
        observation("allergy"),
    );
    let progressive = rules.text_keys(brain, &["progressive".into()]).unwrap();
    assert_eq!(progressive.len(), 1);
    // Allergy has no text domain: a list of texts is left to the polars expression.
    assert!(rules.text_keys(allergy, &["L01XE".into()]).is_none());
    let atoms = vec![
        (
            "ecog".into(),
            // All tied records must hold: a failing one sets the bit.
            RecordAtom::new(
                ecog,
                &Window::WithinDays(30),
                Test::Latest {
                    truth: Truth::Compare(CmpOp::Le, 2.0),
                    bit_if_holds: 0,
                    bit_if_not: 1,
                },
            )
            .unwrap(),
        ),
        (
            "brain".into(),
            // Any tied record may hold: a holding one sets the bit.
            RecordAtom::new(
                brain,
                &Window::UpToIndex,
                Test::Latest {
                    truth: Truth::TextIn(progressive),
                    bit_if_holds: 1,
                    bit_if_not: 0,
                },
            )
            .unwrap(),
        ),
        (
            "allergy".into(),
            RecordAtom::new(allergy, &Window::UpToIndex, Test::Any).unwrap(),
        ),
    ];
    let core = core(&[Some("F"); 3], &[Some(60); 3]);
    let records = df!(
        "person_id" => [0i64, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2],
        "date" => [IDX - 30, IDX - 30, IDX, IDX - 400, IDX + 1, IDX - 1, IDX, IDX, IDX - 5000, IDX, IDX, IDX],
        "code" => [
            "89247-1", "89247-1", "89247-1", "brain-mets-status",
            "89247-1", "89247-1", "brain-mets-status", "brain-mets-status", "allergy",
            "allergy", "brain-mets-status", "other",
        ],
        "value_num" => [Some(2.0), Some(3.0), Some(7.0), None, Some(1.0), Some(f64::NAN), None, None, None, None, None, Some(1.0)],
        "value_text" => [
            None, None, None, Some("stable"),
            None, None, Some("progressive"), Some("unknown"), Some("L01XE"),
            None, None, Some("true"),
        ],
    )
    .unwrap()
    .lazy()
    .with_columns([
        rules.key().alias(OBSERVATION_KEY),
        rules.text_key().alias(TEXT_KEY),
        col("person_id").cast(IDX_DTYPE).alias(ROW),
    ])
    .collect()
    .unwrap();
    let kernel = ObservationKernel::new(rules, atoms, &core).unwrap();
    let got = folded(Box::new(kernel), &records, 3);
    // Patient 0: ECOG 2 and 3 tied 30 days before (3 fails `<= 2`), 7 is outside 0..5:
    // (IDX - 30 + 100000) * 2 + 1; "stable" 400 days before (no window): not progressive, bit 0.
    // Patient 1: ECOG after the index date, NaN outside 0..5: none; "progressive" on the index
    // date (bit 1), "unknown" not in the domain; an allergy 5000 days before counts.
    // Patient 2: no text, no status; another code.
    let want = df!(
        "ecog" => [Some(239_941i32), None, None],
        "brain" => [Some(239_200i32), Some(240_001), None],
        "allergy" => [None, Some(2i8), None],
    )
    .unwrap();
    assert_eq!(got, want);
}

/// A record's code is trimmed where its key is computed (the rows are no longer copied
/// trimmed), and an observation's code key, which the polars path selects its records by, is
/// the key of its code: ECOG's for `89247-1` padded or not, the allergy's for a code ending in
/// a tab, 0 for a code no observation has.
#[test]
fn padded_codes_get_their_observations_key() {
    let definition = shipped();
    let rules = Arc::new(ObservationRules::new(&definition));
    let observation = |name: &str| observation(&definition, name);
    let (ecog, allergy) = (
        rules.code_key(observation("ecog")),
        rules.code_key(observation("allergy")),
    );
    assert!(ecog > 0 && allergy > 0 && ecog != allergy);
    let keys = df!("code" => ["89247-1", " 89247-1 ", "allergy\t", "other"])
        .unwrap()
        .lazy()
        .select([rules.key().alias(OBSERVATION_KEY)])
        .collect()
        .unwrap();
    let keys: Vec<u32> = keys[0].u32().unwrap().into_no_null_iter().collect();
    assert_eq!(keys, [ecog, ecog, allergy, 0]);
}

/// The code keys computed as the observations are read are the key expression's, and each
/// code's kind is validation's (`code_kind`, of the code as recorded): by hand, `89247-1` is
/// graded, the same code padded is keyed as ECOG but not graded (validation reads the code as
/// recorded), and a null code has key 0 and no kind.
#[test]
fn keys_computed_on_read_carry_the_codes_kinds() {
    use crate::extract::findings::code_kind;
    let rules = Arc::new(ObservationRules::new(&shipped()));
    let codes = [
        Some("89247-1"),
        Some(" 89247-1 "),
        Some("extent"),
        Some("allergy"),
        Some("other"),
        None,
    ];
    let frame = df!("code" => codes).unwrap();
    // As any reader but the row groups' reads them: the strings mapped. The row groups'
    // reading of the same keys from Parquet dictionaries is checked in `extract/text_keys`.
    let key = rules.code_text_key(code_kind).unwrap();
    let mut read = frame.clone();
    read.with_column(key.of_strings(frame.column("code").unwrap()).unwrap())
        .unwrap();
    let (keys, kinds) = rules.keys_with_kinds(&mut read).unwrap();
    assert_eq!(read.get_column_names(), ["code"], "the read column dropped");
    // As the row groups' reader gives them, a chunk per row group (here 2 + 4 rows): the same.
    let read_part = |offset: i64, len: usize| {
        let part = frame.slice(offset, len);
        let keys = key.of_strings(part.column("code").unwrap()).unwrap();
        keys.as_materialized_series().u32().unwrap().clone()
    };
    let mut chunked = read_part(0, 2);
    chunked.append(&read_part(2, 4)).unwrap();
    assert_eq!(chunked.chunks().len(), 2);
    let mut chunked = DataFrame::new(6, vec![chunked.into_column()]).unwrap();
    let (chunked_keys, chunked_kinds) = rules.keys_with_kinds(&mut chunked).unwrap();
    assert_eq!((&chunked_keys, &chunked_kinds), (&keys, &kinds));
    let keys = keys_as_computed_by(&keys, frame.lazy(), rules.key());
    let want: Vec<u8> = codes.iter().map(|code| code_kind(*code)).collect();
    assert_eq!(kinds, want);
    assert_eq!(keys[0], keys[1]);
    assert_eq!(keys[5], 0);
    assert!(kinds[0] & 0x80 != 0 && kinds[1] & 0x80 == 0);
    assert_eq!(kinds[5], code_kind(Some("other")));
}

/// The text keys computed as the observations are read are the text key expression's over the
/// standard (trimmed) column, and each text's allowed bits are validation's (`text_allowed`, of
/// the text as recorded). By hand, against `TEXT_CODES` (extent 0, std-tx-exhausted 1,
/// recist-measurable 2, brain-mets-status 3, dysphagia 4, pregnant 5, nursing 6): `metastatic`
/// is extent's alone (bit 0), `true` the five yes/no codes' (bits 1, 2, 4, 5, 6), `none`
/// brain-mets-status's (bit 3), a padded `true` no code's, a null every code's.
#[test]
fn text_keys_computed_on_read_carry_the_allowed_codes() {
    use crate::extract::distinct::{normal_form, trimmed};
    use crate::extract::findings::text_allowed;
    let rules = Arc::new(ObservationRules::new(&shipped()));
    let texts = [
        Some("metastatic"),
        Some("true"),
        Some(" true "),
        Some("none"),
        Some("spread"),
        None,
    ];
    let frame = df!("value_text" => texts).unwrap();
    let (keys, allowed, words) = rules
        .text_keys_with_allowed(&frame, text_allowed, None)
        .unwrap();
    assert!(words.is_none());
    let standard = (frame.clone().lazy()).select([normal_form(col("value_text"), trimmed)]);
    let key_column = keys.clone();
    let keys = keys_as_computed_by(&keys, standard, rules.text_key());
    assert_eq!(allowed, [0b1, 0b111_0110, 0, 0b1000, 0, u8::MAX]);
    // A padded text is keyed as the text itself; a null has no text.
    assert_eq!(keys[1], keys[2]);
    assert_eq!(keys[5], NO_TEXT);

    // With the drugs' words in the same mapping (drug 0 lists `met*`, drug 1 `NONE`, matched
    // as the upper-case normal form): the same keys and bits, and each text's word.
    let drugs = atc_prefixes(&[vec!["met*".to_string()], vec!["NONE".to_string()]]);
    let (with_words, same_allowed, words) = rules
        .text_keys_with_allowed(&frame, text_allowed, Some(&drugs))
        .unwrap();
    assert_eq!((with_words, same_allowed), (key_column, allowed));
    let words = words.unwrap();
    assert_eq!(words.name().as_str(), DRUG_ATC);
    let words: Vec<u64> = words.u64().unwrap().into_no_null_iter().collect();
    assert_eq!(words, [0b01, 0, 0, 0b10, 0, 0]);
}

/// `keys` computed on read, checked equal to `expression` over `rows`, as plain keys.
fn keys_as_computed_by(keys: &Column, rows: LazyFrame, expression: Expr) -> Vec<u32> {
    let by_expression = rows.select([expression.alias(keys.name().clone())]);
    assert_eq!(*keys, by_expression.collect().unwrap()[0]);
    keys.u32().unwrap().into_no_null_iter().collect()
}

/// A text observation's records with a value, by text key, are those whose trimmed text
/// `observation_value` gives not null: brain metastasis status (a domain of none, stable,
/// progressive) holds none of another domain's "true", an outside text, an empty text or a null;
/// allergy (no domain) holds every text, the empty one too, and not a null. Worked out by hand
/// and checked against the expression on the texts.
#[test]
fn records_with_a_text_value_are_found_by_text_key() {
    use crate::engine::records::observation_value;
    let definition = shipped();
    let rules = Arc::new(ObservationRules::new(&definition));
    let (brain, allergy, ecog) = (
        observation(&definition, "brain_mets_status"),
        observation(&definition, "allergy"),
        observation(&definition, "ecog"),
    );
    let texts = [
        Some("progressive"),
        Some("stable"),
        Some("true"),
        Some("L01XE"),
        Some(""),
        None,
        Some("Stable"),
    ];
    let frame = df!("value_text" => texts).unwrap().lazy();
    let got = frame
        .with_column(rules.text_key().alias(TEXT_KEY))
        .select([
            rules.has_text(brain).alias("brain"),
            (observation_value(&definition.observations[brain]).is_not_null())
                .alias("brain_by_text"),
            rules.has_text(allergy).alias("allergy"),
            (observation_value(&definition.observations[allergy]).is_not_null())
                .alias("allergy_by_text"),
            rules.has_text(ecog).alias("ecog"),
        ])
        .collect()
        .unwrap();
    let flags = |name: &str| -> Vec<bool> {
        let column = got.column(name).unwrap().as_materialized_series();
        let column = column.bool().unwrap();
        (0..texts.len()).map(|i| column.get(i).unwrap()).collect()
    };
    let brain_by_hand = [true, true, false, false, false, false, false];
    let allergy_by_hand = [true, true, true, true, true, false, true];
    assert_eq!(flags("brain"), brain_by_hand);
    assert_eq!(flags("brain_by_text"), brain_by_hand);
    assert_eq!(flags("allergy"), allergy_by_hand);
    assert_eq!(flags("allergy_by_text"), allergy_by_hand);
    assert_eq!(flags("ecog"), [false; 7]);
}
