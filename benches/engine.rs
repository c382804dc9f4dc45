//! Micro-benchmarks of the engine's hot pieces, on a 20,000-patient synthetic extract generated
//! at start (seed 7, as `bench/run.sh`): `cargo bench --bench engine`.
//!
//! - `latest_in_window`: I4b alone (latest haemoglobin within 30 days, three units converted):
//!   the date+tie key, its per-patient max and the join back.
//! - `unit_conversion`: I4g alone (renal function: clearance in two units, or eGFR by CKD-EPI
//!   from creatinine in two units), the heaviest conversion.
//! - `evaluate_all`: every criterion, cohort and drug of IMPRESS-Norway (one partition).
//! - `molecular_matching`: the cohorts and the drugs' resistance alone, no criterion: each
//!   variant's test found, its biomarker flags folded per patient (`engine/variants.rs`), each
//!   cohort's match.
//! - `mask_aggregation`: counting the mask table from the evaluated patient frame;
//!   `mask_aggregation_partitions` the same frame counted as ten partitions' frames, their keys'
//!   sorted runs merged into one table.
//! - `report_aggregates`: the reports' counts from that mask table: per criterion (sole
//!   exclusions, gain if relaxed), the waterfall in definition order, the strata.
//! - `restricted_pages` and `restricted_pages_polars`: the Parquet pages of
//!   `restricted/patients`' outcome and status columns (uncompressed), encoded by eligo
//!   (`report::word_pages`) and, for comparison, by polars-parquet's own dictionary encoder.
//!
//! - `text_keys_from_dictionary` and `text_keys_from_strings`: the measurements' units read as
//!   keys from their Parquet dictionary indices (`extract/text_keys.rs`, as a partition's
//!   reader reads them) and, for comparison, decoded as strings by a polars scan and mapped
//!   once per distinct string.
//!
//! Each evaluation includes the patient core (index date, primary cancer), as every run does.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use eligo::definition::{self, model::Definition};
use eligo::engine::{self, Inputs};
use eligo::extract::Extract;
use eligo::progress::Progress;
use eligo::report;
use eligo::synth::{self, SynthConfig};
use polars::prelude::ArrowDataType;
use polars_arrow::array::{DictionaryArray, PrimitiveArray, Utf8ViewArray};
use polars_arrow::datatypes::IntegerType;
use polars_parquet::write::{
    array_to_columns, CompressionOptions, Encoding, ParquetPhysicalType as PhysicalType,
    ParquetType, StatisticsOptions, Version, WriteOptions,
};

const PATIENTS: u64 = 20_000;

struct Setup {
    _dir: tempfile::TempDir,
    inputs: Inputs,
    definition: Definition,
    as_of: chrono::NaiveDate,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = SynthConfig {
        patients: PATIENTS,
        seed: 7,
        partitions: None,
        threads: None,
    };
    synth::generate(&config, dir.path(), &Progress::new(true)).expect("synthetic extract");
    let extract = Extract::open(dir.path()).expect("the extract opens");
    let inputs = Inputs::of(&extract).expect("the tables scan");
    let pipeline = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/impress-norway.toml");
    let definition = definition::load(&pipeline).expect("the shipped definition loads");
    let as_of = extract
        .meta()
        .extracted_on
        .expect("synth writes extracted_on");
    Setup {
        _dir: dir,
        inputs,
        definition,
        as_of,
    }
}

/// The definition with only general criterion `id`, no cohorts.
fn only(definition: &Definition, id: &str) -> Definition {
    let mut one = definition.clone();
    one.criteria.retain(|c| c.id == id);
    assert_eq!(one.criteria.len(), 1, "criterion {id} in the definition");
    one.cohort_criteria.clear();
    one.drugs.clear();
    one.cohorts.clear();
    one
}

/// The definition with its cohorts and drugs (their resistance biomarkers) and no criteria.
fn matching_only(definition: &Definition) -> Definition {
    let mut matching = definition.clone();
    matching.criteria.clear();
    matching.cohort_criteria.clear();
    for drug in &mut matching.drugs {
        drug.criteria.clear();
    }
    matching
}

fn benches(c: &mut Criterion) {
    let setup = setup();
    let evaluate = |definition: &Definition| {
        engine::patient_outcomes(&setup.inputs, definition, setup.as_of)
            .expect("evaluation")
            .patients
    };
    let mut group = c.benchmark_group("engine_20k_patients");
    group.sample_size(10);

    let hb = only(&setup.definition, "I4b");
    group.bench_function("latest_in_window", |b| b.iter(|| evaluate(&hb)));
    let renal = only(&setup.definition, "I4g");
    group.bench_function("unit_conversion", |b| b.iter(|| evaluate(&renal)));
    group.bench_function("evaluate_all", |b| b.iter(|| evaluate(&setup.definition)));
    let matching = matching_only(&setup.definition);
    group.bench_function("molecular_matching", |b| b.iter(|| evaluate(&matching)));

    let patients = evaluate(&setup.definition);
    assert_eq!(patients.height() as u64, PATIENTS);
    group.bench_function("mask_aggregation", |b| {
        b.iter(|| engine::count(&patients, &setup.definition).expect("mask table"))
    });
    // The same patients as ten partitions' frames: each frame's sorted runs, merged pairwise
    // into one table at the end (`MaskCounter`), as a registry's partitions are.
    group.bench_function("mask_aggregation_partitions", |b| {
        b.iter(|| {
            let mut counter = engine::MaskCounter::new(&setup.definition);
            let size = patients.height() / 10;
            for start in (0..patients.height()).step_by(size) {
                counter
                    .add(&patients.slice(start as i64, size))
                    .expect("frame counted");
            }
            counter.finish()
        })
    });
    let masks = engine::count(&patients, &setup.definition).expect("mask table");
    let order: Vec<usize> = (0..masks.criteria.len()).collect();
    group.bench_function("report_aggregates", |b| {
        b.iter(|| {
            let rows = report::aggregate::population(&masks);
            let criteria = report::criteria::counts(&rows, masks.criteria.len());
            let strata = report::strata::counts(&rows);
            let steps = report::attrition(&masks, &order).expect("attrition");
            (criteria, strata, steps)
        })
    });

    // `restricted/masks`' frame: every mask row's outcomes decoded into their columns.
    let frames = engine::MaskFrames::new(&masks);
    group.bench_function("restricted_mask_frame", |b| {
        b.iter(|| frames.slice(0..masks.rows.len()).expect("mask frame"))
    });

    let mut coded = engine::restricted_patients(&patients, &setup.definition).expect("coded");
    coded.frame.rechunk_mut();
    let word_columns: Vec<(PrimitiveArray<u8>, &[&str], ParquetType)> = coded
        .frame
        .columns()
        .iter()
        .zip(&coded.words)
        .filter_map(|(column, words)| {
            let words: &[&str] = words.as_ref()?;
            let codes = column.u8().expect("codes").downcast_as_array().clone();
            let type_ = ParquetType::from_physical(column.name().clone(), PhysicalType::ByteArray);
            Some((codes, words, type_))
        })
        .collect();
    group.bench_function("restricted_pages", |b| {
        b.iter(|| {
            for (codes, words, type_) in &word_columns {
                report::word_pages::word_pages(codes.values(), codes.validity(), words, type_)
                    .expect("pages");
            }
        })
    });
    let options = WriteOptions {
        statistics: StatisticsOptions::default(),
        compression: CompressionOptions::Uncompressed,
        version: Version::V1,
        data_page_size: None,
    };
    group.bench_function("restricted_pages_polars", |b| {
        b.iter(|| {
            for (codes, words, type_) in &word_columns {
                let dtype = ArrowDataType::Dictionary(
                    IntegerType::UInt8,
                    Box::new(ArrowDataType::Utf8View),
                    false,
                );
                let values = Utf8ViewArray::from_slice_values(*words).boxed();
                let array = DictionaryArray::try_new(dtype, codes.clone(), values).expect("keys");
                for pages in array_to_columns(
                    array.boxed(),
                    type_.clone(),
                    options,
                    &[Encoding::RleDictionary],
                )
                .expect("pages")
                {
                    pages.for_each(|page| drop(page.expect("page")));
                }
            }
        })
    });
    text_keys(&mut group, &setup._dir.path().join("measurement.parquet"));
    group.finish();
}

/// The measurements' units read as keys (a unit's key: its length), from the chunks'
/// dictionary indices as a partition's reader reads them, and for comparison decoded as
/// strings by a polars scan and mapped once per distinct string, as they were before.
fn text_keys(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    path: &Path,
) {
    use eligo::extract::text_keys::{ColumnChunks, TextKey};
    use polars::prelude::{col, LazyFrame, PlRefPath, ScanArgsParquet};
    let mut file = std::fs::File::open(path).expect("the measurements");
    let footer = polars_parquet::read::read_metadata(&mut file).expect("a footer");
    let rows: Vec<usize> = footer.row_groups.iter().map(|g| g.num_rows()).collect();
    let chunks = ColumnChunks::new(vec![(path.to_path_buf(), rows.len())], vec!["unit"]);
    let key = TextKey::new("unit", "__unit_key", |unit| {
        unit.map_or(0, |u| u.len() as u32)
    });
    group.bench_function("text_keys_from_dictionary", |b| {
        b.iter(|| {
            let mut keys = Vec::new();
            for (group, rows) in rows.iter().enumerate() {
                chunks.keys(group, *rows, &key, &mut keys).expect("keys");
            }
            keys
        })
    });
    group.bench_function("text_keys_from_strings", |b| {
        b.iter(|| {
            let path = PlRefPath::try_from_path(path).expect("a path");
            let scan = LazyFrame::scan_parquet(path, ScanArgsParquet::default()).expect("a scan");
            let units = scan.select([col("unit")]).collect().expect("the units");
            key.of_strings(units.column("unit").expect("unit"))
                .expect("keys")
        })
    });
}

criterion_group!(engine_benches, benches);
criterion_main!(engine_benches);
