//! `eligo run` on a damaged extract: bytes flipped inside the data pages of one table of the
//! shipped sample (not its footer, which `Extract::open` reads first and `extract_fuzz.rs`
//! covers). Validation decodes only what it checks value by value; the rest of a table (a
//! measurement's LOINC code, a diagnosis' date) is first decoded during evaluation, filtered
//! to a partition's patients, where polars' reader asserts on some damaged pages. Whatever the
//! damage, the run succeeds or fails with exit code 1 and a message naming the extract (the
//! damaged file and column where decoding each column alone finds it): never a panic's exit
//! code, never a half-written report.

mod common;

use std::path::Path;

use common::eligo;
use eligo::extract::Table;
use proptest::prelude::*;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data-samples");

/// Where a Parquet file's pages end: before its footer (metadata, its length and `PAR1`).
fn pages_end(bytes: &[u8]) -> usize {
    let n = bytes.len();
    let footer = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    n - 8 - footer
}

/// The sample extract copied to `dir`, with `flips` (position in the pages, value) applied to
/// `table`'s file.
fn damaged_copy(dir: &Path, table: &str, flips: &[(usize, u8)]) {
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(SAMPLE).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    let file = dir.join(format!("{table}.parquet"));
    let mut bytes = std::fs::read(&file).unwrap();
    // The first 4 bytes are the magic `PAR1`, checked on open.
    let (start, end) = (4, pages_end(&bytes));
    for (at, value) in flips {
        bytes[start + at % (end - start)] = *value;
    }
    std::fs::write(&file, bytes).unwrap();
}

/// `eligo run` on `data` into `out`, with `--restricted`, in partitions of `partition_patients`.
fn run(data: &Path, out: &Path, partition_patients: u32) -> std::process::Output {
    eligo()
        .args([
            "--quiet",
            "run",
            "--as-of",
            "2026-01-15",
            "--restricted",
            "--partition-patients",
            &partition_patients.to_string(),
            "--data",
        ])
        .arg(data)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn damaged_pages_fail_the_run_cleanly(
        table in 0usize..Table::ALL.len(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        // The sample's 4,000 patients in one partition, or in four: each file is one row
        // group, which the four partitions share, decoded by one and kept for the others (or
        // decoded again by one that asks meanwhile: `extract::row_groups`), so damage met there
        // must fail whichever partition meets it.
        partition_patients in prop::sample::select(vec![4000u32, 1000]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("extract");
        let out = dir.path().join("reports");
        let table = Table::ALL[table].name();
        damaged_copy(&data, table, &flips);
        let output = run(&data, &out, partition_patients);
        let stderr = String::from_utf8_lossy(&output.stderr);
        match output.status.code() {
            // A flip inside a value can leave a valid file.
            Some(0) => prop_assert!(out.join("manifest.json").is_file()),
            Some(1) => {
                prop_assert!(stderr.contains(&*data.to_string_lossy()), "{stderr}");
                // Damage is named as damage, never reported as a bug of eligo.
                prop_assert!(!stderr.contains("bug in eligo"), "{stderr}");
                prop_assert!(!out.exists(), "a failed run left {}", out.display());
            }
            other => prop_assert!(false, "exit {other:?} on {table}: {stderr}"),
        }
    }
}

#[test]
fn the_sample_runs() {
    // The control for the property above: the same copy, undamaged, runs.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("extract");
    damaged_copy(&data, "person", &[]);
    for partition_patients in [4000, 1000] {
        let out = dir.path().join(format!("reports-{partition_patients}"));
        let output = run(&data, &out, partition_patients);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn a_damaged_column_is_named() {
    // The flip the property above first found (its saved case): one byte of the diagnosis
    // file's pages, which makes polars' dictionary decoding of `icd10` assert during evaluation,
    // while validation, which does not decode that column, passes.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("extract");
    damaged_copy(&data, "diagnosis", &[(17593352598055317632, 35)]);
    // In one partition, and in four that share the file's one row group: whichever partition
    // decodes it fails the run. The error is the one line naming the damage, without the
    // messages of the reader's panics (`cli::panics`).
    for partition_patients in [4000, 1000] {
        let output = run(&data, &dir.path().join("reports"), partition_patients);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        let file = data.join("diagnosis.parquet");
        let expected = format!("{}: column `icd10` of diagnosis", file.display());
        assert!(
            stderr.starts_with(&format!("error: {expected}")),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    // Undamaged, every column decodes.
    let sample = eligo::extract::Extract::open(Path::new(SAMPLE)).unwrap();
    assert_eq!(eligo::extract::damaged::first_damaged(&sample), None);
}

/// Damage in a text column read as keys from its Parquet dictionary (the measurements' `unit`,
/// `extract/text_keys.rs`): one byte of the column's chunk, in the sample's one row group,
/// makes a dictionary index point past the dictionary. In four partitions (the chunk read as
/// keys) and in one (decoded as strings by polars, then found by decoding each column alone),
/// the run fails with one line naming the file and the column and saying what to do, and
/// writes nothing.
#[test]
fn a_damaged_text_column_read_as_keys_is_named() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let sample = Path::new(SAMPLE).join("measurement.parquet");
    let reader = SerializedFileReader::new(std::fs::File::open(&sample).unwrap()).unwrap();
    let group = reader.metadata().row_group(0);
    let unit = (0..group.num_columns())
        .map(|i| group.column(i))
        .find(|c| c.column_path().string() == "unit")
        .unwrap();
    let (start, length) = unit.byte_range();
    // A byte of the chunk found by flipping bytes of the sample one at a time: in its last
    // data page, where it makes a dictionary index point past the dictionary.
    let at = start as usize + 14_210;
    assert!(14_210 < length);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("extract");
    damaged_copy(&data, "measurement", &[]);
    let file = data.join("measurement.parquet");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[at] ^= 0x5A;
    std::fs::write(&file, bytes).unwrap();
    for partition_patients in [1000, 4000] {
        let out = dir.path().join("reports");
        let output = run(&data, &out, partition_patients);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        let named = format!("{}: column `unit`", file.display());
        assert!(stderr.contains(&named), "{partition_patients}: {stderr}");
        assert!(stderr.contains("write the file again"), "{stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("bug in eligo"),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!out.exists());
    }
}
