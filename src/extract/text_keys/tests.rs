use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};

use super::*;

/// The key of a code as the tests define it, written out case by case: the reference the
/// dictionary path and the strings path are both checked against, row by row.
fn key_by_hand(text: Option<&str>) -> u32 {
    match text {
        None => 99,
        Some("718-7") => 1,
        Some("2160-0") => 2,
        Some(" 718-7") => 3,
        Some("") => 4,
        Some(_) => 0,
    }
}

fn code_key() -> TextKey {
    TextKey::new("code", "__code_key", key_by_hand)
}

/// Row `i`'s code: the four keyed codes, an empty string, a null every seventh row, and 300
/// other codes (more than one byte of dictionary indices), in no run longer than one row.
fn code(i: usize) -> Option<String> {
    match i % 7 {
        0 => None,
        1 => Some("718-7".into()),
        2 => Some("2160-0".into()),
        3 => Some(" 718-7".into()),
        4 => Some(String::new()),
        _ => Some(format!("{}-{}", i % 300, i % 9)),
    }
}

/// Writes `rows` codes into `path` in row groups of 1,000 rows with `properties`; returns the
/// codes.
fn written(path: &Path, rows: usize, properties: WriterProperties) -> Vec<Option<String>> {
    let codes: Vec<Option<String>> = (0..rows).map(code).collect();
    let column: ArrayRef = Arc::new(StringArray::from(codes.clone()));
    let batch = RecordBatch::try_from_iter([("code", column)]).unwrap();
    let properties = properties
        .into_builder()
        .set_max_row_group_row_count(Some(1_000))
        .build();
    let file = File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    codes
}

/// Whether every row group of `path` stores `code` with dictionary-encoded data pages only.
fn dictionary_only(path: &Path) -> Vec<bool> {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    let groups = reader.metadata().row_groups().iter();
    groups
        .map(|group| super::super::dictionary::dictionary_only(group.column(0)))
        .collect()
}

/// The keys of every row group of `path` (`groups` of them) read from its chunks.
fn keys_of_chunks(path: &Path, rows: usize, groups: usize) -> Vec<u32> {
    let chunks = ColumnChunks::new(vec![(path.to_path_buf(), groups)], vec!["code"]);
    let mut keys = Vec::new();
    for group in 0..groups {
        let rows = 1_000.min(rows - group * 1_000);
        chunks.keys(group, rows, &code_key(), &mut keys).unwrap();
    }
    keys
}

/// A column read as keys from its chunks has each row's key as worked out by hand, and so has
/// the same column read by polars as strings and mapped (the path of any other reader): with
/// every page dictionary-encoded (arrow-rs' default), with no dictionary at all, and with a
/// dictionary that outgrows its limit within each row group, so that its chunks start
/// dictionary-encoded and fall back to plain pages. 2,500 rows: two full row groups, whose
/// dictionaries hold more than 256 codes, and a short one, whose dictionary holds fewer (the
/// two ways of looking a row's key up).
#[test]
fn keys_are_the_texts_keys_however_the_chunks_are_encoded() {
    let dir = tempfile::tempdir().unwrap();
    let rows = 2_500;
    let small_pages = |properties: parquet::file::properties::WriterPropertiesBuilder| {
        properties
            .set_data_page_row_count_limit(100)
            .set_write_batch_size(100)
    };
    let cases = [
        ("dictionary", WriterProperties::builder(), Some(true)),
        (
            "plain",
            WriterProperties::builder().set_dictionary_enabled(false),
            Some(false),
        ),
        (
            "fallback",
            small_pages(WriterProperties::builder()).set_dictionary_page_size_limit(64),
            Some(false),
        ),
    ];
    for (name, properties, dictionary) in cases {
        let path = dir.path().join(format!("{name}.parquet"));
        let codes = written(&path, rows, properties.build());
        let encoded = dictionary_only(&path);
        assert_eq!(encoded.len(), 3, "{name}");
        if let Some(dictionary) = dictionary {
            assert!(
                encoded.iter().all(|e| *e == dictionary),
                "{name}: {encoded:?}"
            );
        }
        let by_hand: Vec<u32> = codes.iter().map(|c| key_by_hand(c.as_deref())).collect();
        assert_eq!(keys_of_chunks(&path, rows, 3), by_hand, "{name}");

        let path = PlRefPath::try_from_path(&path).unwrap();
        let frame = LazyFrame::scan_parquet(path, ScanArgsParquet::default())
            .unwrap()
            .collect()
            .unwrap();
        let keys = code_key()
            .of_strings(frame.column("code").unwrap())
            .unwrap();
        let keys: Vec<u32> = keys.u32().unwrap().into_no_null_iter().collect();
        assert_eq!(keys, by_hand, "{name}, as strings");
    }
}

/// The fallback case above is what it says: its chunks have a dictionary page and plain data
/// pages after it (each chunk's first pages are dictionary-encoded, then the 64-byte limit is
/// passed), so the categorical decoder refuses them and the strings path is taken.
#[test]
fn a_dictionary_past_its_limit_falls_back_to_plain_pages() {
    use parquet::basic::Encoding;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fallback.parquet");
    let properties = WriterProperties::builder()
        .set_data_page_row_count_limit(100)
        .set_write_batch_size(100)
        .set_dictionary_page_size_limit(64)
        .build();
    written(&path, 2_500, properties);
    let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
    for group in reader.metadata().row_groups() {
        let chunk = group.column(0);
        assert!(chunk.dictionary_page_offset().is_some());
        let encodings: Vec<Encoding> = chunk.encodings().collect();
        assert!(encodings.contains(&Encoding::PLAIN), "{encodings:?}");
        assert!(
            encodings.contains(&Encoding::RLE_DICTIONARY),
            "{encodings:?}"
        );
    }
}

/// A file that is not where it was, or a row group the file does not have, is an error naming
/// the file, not a panic.
#[test]
fn a_missing_file_or_row_group_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codes.parquet");
    written(&path, 1_500, WriterProperties::builder().build());
    let chunks = ColumnChunks::new(vec![(path.clone(), 3)], vec!["code"]);
    let mut keys = Vec::new();
    let error = chunks.keys(2, 1_000, &code_key(), &mut keys).unwrap_err();
    assert!(error.to_string().contains("codes.parquet"), "{error}");
    assert!(error.to_string().contains("no row group 2"), "{error}");
    let error = chunks.keys(0, 999, &code_key(), &mut keys).unwrap_err();
    assert!(error.to_string().contains("has 1000 rows"), "{error}");

    let gone = ColumnChunks::new(vec![(dir.path().join("gone.parquet"), 1)], vec!["code"]);
    let error = gone.keys(0, 1_000, &code_key(), &mut keys).unwrap_err();
    assert!(error.to_string().contains("gone.parquet"), "{error}");
    let error = chunks.keys(0, 1_000, &TextKey::new("unit", "u", |_| 0), &mut keys);
    assert!(error.unwrap_err().to_string().contains("unit"));
}
