use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

use super::*;

/// Writes `kinds` as column `kind` beside an id into `dir/name` with `properties` (row groups
/// of two rows), and returns the path.
fn written(
    dir: &Path,
    name: &str,
    kinds: Vec<Option<&str>>,
    properties: WriterProperties,
) -> PathBuf {
    let ids: Vec<i64> = (0..kinds.len() as i64).collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("person_id", Arc::new(Int64Array::from(ids))),
        ("kind", Arc::new(StringArray::from(kinds))),
    ];
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let path = dir.join(name);
    let mut writer = ArrowWriter::try_new(
        File::create(&path).unwrap(),
        batch.schema(),
        Some(properties),
    )
    .unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    path
}

fn groups_of_two() -> parquet::file::properties::WriterPropertiesBuilder {
    WriterProperties::builder().set_max_row_group_row_count(Some(2))
}

fn set(values: &[&str]) -> BTreeSet<String> {
    values.iter().map(|v| v.to_string()).collect()
}

#[test]
fn the_dictionaries_of_every_row_group_and_file() {
    let dir = tempfile::tempdir().unwrap();
    // Three row groups: (sact, null), (null, radiotherapy), (sact); the second file adds " x".
    let kinds = vec![Some("sact"), None, None, Some("radiotherapy"), Some("sact")];
    let one = written(dir.path(), "a.parquet", kinds, groups_of_two().build());
    let two = written(
        dir.path(),
        "b.parquet",
        vec![Some(" x"), Some("sact")],
        groups_of_two().build(),
    );
    assert_eq!(
        dictionary_values([one.as_path()], "kind"),
        Some(set(&["radiotherapy", "sact"]))
    );
    assert_eq!(
        dictionary_values([one.as_path(), two.as_path()], "kind"),
        Some(set(&[" x", "radiotherapy", "sact"]))
    );
    // A column of nulls only has empty dictionaries: no value at all.
    let nulls = written(
        dir.path(),
        "n.parquet",
        vec![None, None, None],
        groups_of_two().build(),
    );
    assert_eq!(dictionary_values([nulls.as_path()], "kind"), Some(set(&[])));
    // Integers are not text: their dictionary entries are no byte arrays.
    assert_eq!(dictionary_values([one.as_path()], "person_id"), None);
    // A column the file does not store proves nothing.
    assert_eq!(dictionary_values([one.as_path()], "absent"), None);
}

#[test]
fn plain_pages_prove_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let kinds = vec![Some("sact"), Some("surgery"), Some("sact")];
    let plain = groups_of_two().set_dictionary_enabled(false).build();
    let path = written(dir.path(), "plain.parquet", kinds, plain);
    assert_eq!(dictionary_values([path.as_path()], "kind"), None);
    // A dictionary that overflows its page limit falls back to plain pages within the chunk:
    // the values past the fallback are in no dictionary.
    let kinds: Vec<String> = (0..2000).map(|i| format!("kind number {i}")).collect();
    let kinds = kinds.iter().map(|k| Some(k.as_str())).collect();
    let fallback = WriterProperties::builder()
        .set_dictionary_page_size_limit(256)
        .set_data_page_row_count_limit(100)
        .set_write_batch_size(100)
        .build();
    let path = written(dir.path(), "fallback.parquet", kinds, fallback);
    let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
    let chunk = reader.metadata().row_group(0).column(1);
    let mask = chunk.page_encoding_stats_mask().unwrap();
    assert!(chunk.dictionary_page_offset().is_some() && mask.is_set(Encoding::PLAIN));
    assert_eq!(dictionary_values([path.as_path()], "kind"), None);
    // One file without a dictionary spoils the table's proof.
    let good = written(
        dir.path(),
        "good.parquet",
        vec![Some("sact")],
        groups_of_two().build(),
    );
    assert_eq!(
        dictionary_values([good.as_path(), path.as_path()], "kind"),
        None
    );
}

#[test]
fn unreadable_files_prove_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.parquet");
    std::fs::write(&garbage, b"PAR1 not a parquet file PAR1").unwrap();
    assert_eq!(dictionary_values([garbage.as_path()], "kind"), None);
    let missing = dir.path().join("missing.parquet");
    assert_eq!(dictionary_values([missing.as_path()], "kind"), None);
    // A file cut short after its dictionary: the footer is gone.
    let kinds = vec![Some("sact"), Some("surgery")];
    let path = written(dir.path(), "cut.parquet", kinds, groups_of_two().build());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(dictionary_values([path.as_path()], "kind"), None);
}

#[test]
fn plain_byte_arrays() {
    let mut values = BTreeSet::new();
    // "ab", "", "ab" (a repeat), "ø" (two bytes).
    let bytes = [
        &[2, 0, 0, 0][..],
        b"ab",
        &[0, 0, 0, 0],
        &[2, 0, 0, 0],
        b"ab",
        &[2, 0, 0, 0],
        "ø".as_bytes(),
    ]
    .concat();
    assert_eq!(plain_texts(&bytes, 4, &mut values), Some(()));
    assert_eq!(values, set(&["", "ab", "ø"]));
    // Fewer values than the bytes hold: bytes left over.
    assert_eq!(plain_texts(&bytes, 3, &mut BTreeSet::new()), None);
    // More values than the bytes hold, a length past the end, a cut length.
    assert_eq!(plain_texts(&bytes, 5, &mut BTreeSet::new()), None);
    assert_eq!(
        plain_texts(&[9, 0, 0, 0, b'a'], 1, &mut BTreeSet::new()),
        None
    );
    assert_eq!(plain_texts(&[1, 0], 1, &mut BTreeSet::new()), None);
    // Not UTF-8.
    assert_eq!(
        plain_texts(&[1, 0, 0, 0, 0xff], 1, &mut BTreeSet::new()),
        None
    );
}
