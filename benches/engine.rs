//! Micro-benchmarks of the engine's hot pieces, on a 20,000-patient synthetic extract generated
//! at start (seed 7, as `bench/run.sh`): `cargo bench --bench engine`.
//!
//! - `latest_in_window`: I4b alone (latest haemoglobin within 30 days, three units converted):
//!   the date+tie key, its per-patient max and the join back.
//! - `unit_conversion`: I4g alone (renal function: clearance in two units, or eGFR by CKD-EPI
//!   from creatinine in two units), the heaviest conversion.
//! - `evaluate_all`: every criterion, cohort and drug of IMPRESS-Norway (one partition).
//! - `mask_aggregation`: counting the mask table from the evaluated patient frame.
//! - `report_aggregates`: the reports' counts from that mask table: per criterion (sole
//!   exclusions, gain if relaxed), the waterfall in definition order, the strata.
//!
//! Each evaluation includes the patient core (index date, primary cancer), as every run does.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use eligo::definition::{self, model::Definition};
use eligo::engine::{self, Inputs};
use eligo::extract::{Extract, Table};
use eligo::progress::Progress;
use eligo::report;
use eligo::synth::{self, SynthConfig};

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
    let scan = |t: Table| extract.scan(t).expect("the table scans");
    let inputs = Inputs {
        person: scan(Table::Person),
        diagnosis: scan(Table::Diagnosis),
        measurement: scan(Table::Measurement),
        observation: scan(Table::Observation),
        treatment: scan(Table::Treatment),
        molecular_test: scan(Table::MolecularTest),
        variant: scan(Table::Variant),
    };
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

    let patients = evaluate(&setup.definition);
    assert_eq!(patients.height() as u64, PATIENTS);
    group.bench_function("mask_aggregation", |b| {
        b.iter(|| engine::count(&patients, &setup.definition).expect("mask table"))
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
    group.finish();
}

criterion_group!(engine_benches, benches);
criterion_main!(engine_benches);
