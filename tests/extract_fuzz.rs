//! Property tests for the readers of outside input: whatever bytes sit in `person.parquet`
//! (garbage, a valid file cut short, a valid file with flipped bytes) or in `extract.toml`,
//! `Extract::open` and then `Extract::validate` return Ok or Err and never panic.

mod fixtures;

use eligo::extract::partition::DEFAULT_PARTITION_PATIENTS;
use eligo::extract::{Extract, ExtractError};
use eligo::progress::Progress;
use proptest::prelude::*;

/// Opens (and if that succeeds, validates) an extract whose person.parquet holds `bytes`.
/// Returns whether the extract was accepted.
fn open_and_validate(bytes: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("person.parquet"), bytes).unwrap();
    match Extract::open(dir.path()) {
        Ok(extract) => extract
            .validate(&Progress::new(true), DEFAULT_PARTITION_PATIENTS)
            .is_ok(),
        Err(err) => {
            // Every error names the file it is about.
            assert!(err.to_string().contains("person"), "{err}");
            false
        }
    }
}

fn valid_file() -> Vec<u8> {
    fixtures::person_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn garbage_is_an_error(body in proptest::collection::vec(any::<u8>(), 0..600), magic in any::<bool>()) {
        // With the magic "PAR1" at both ends, the reader gets as far as parsing the footer.
        let bytes = if magic {
            [b"PAR1".as_slice(), &body, b"PAR1"].concat()
        } else {
            body
        };
        prop_assert!(!open_and_validate(&bytes));
    }

    #[test]
    fn a_truncated_file_is_an_error(cut in 0usize..10_000) {
        let bytes = valid_file();
        let cut = cut % bytes.len();
        // Any proper prefix has lost the footer (or its length and magic): never accepted.
        prop_assert!(!open_and_validate(&bytes[..cut]));
    }

    #[test]
    fn any_extract_toml_is_read_or_rejected_with_its_position(
        text in "(registry|extracted_on|period_start|period_end|x|=|\"|2024-01-0[1-9]|\\[|\\]| |\n|[a-z0-9.:-]){0,40}"
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("person.parquet"), valid_file()).unwrap();
        std::fs::write(dir.path().join("extract.toml"), &text).unwrap();
        match Extract::open(dir.path()) {
            Ok(_) => {}
            Err(ExtractError::MetaSyntax { line, column, .. }) => {
                // The position points into the text (or just past its end).
                prop_assert!(line >= 1 && line <= text.lines().count() + 1);
                prop_assert!(column >= 1);
            }
            Err(ExtractError::MetaValue { key, .. }) => {
                prop_assert!(["registry", "extracted_on", "period_start", "period_end"].contains(&key.as_str()));
            }
            Err(other) => prop_assert!(false, "unexpected error: {other}"),
        }
    }

    #[test]
    fn flipped_bytes_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut bytes = valid_file();
        let n = bytes.len();
        for (at, value) in flips {
            bytes[at % n] = value;
        }
        // Accepted or not (a flip inside a value may leave a valid file), but no panic.
        let _accepted = open_and_validate(&bytes);
    }
}

#[test]
fn the_unaltered_file_is_accepted() {
    // The control for the properties above: the same bytes, untouched, are a valid extract.
    assert!(open_and_validate(&valid_file()));
}
