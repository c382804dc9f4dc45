//! The kernel's atoms worked out by hand, and against the polars expressions (reduced by the
//! hash group-by) on seeded random records crossing every code, unit, edge value and window edge.

use std::path::Path;

use polars::prelude::*;
use rand::{Rng, SeedableRng};

use super::*;
use crate::definition::model::{Definition, Window};
use crate::engine::compile::{Compiler, Context, Reduce};
use crate::engine::evaluate::drug_criteria;
use crate::engine::lookup::{PatientRows, ROW};
use crate::engine::per_patient::PerPatient;
use crate::engine::records::RecordTable;

fn shipped() -> Definition {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/impress-norway.toml");
    crate::definition::load(&path).expect("the shipped definition loads")
}

fn measure(definition: &Definition, name: &str) -> usize {
    (definition.measures.iter())
        .position(|m| m.name == name)
        .expect("a measure of the shipped definition")
}

const IDX: i32 = 20_000;

fn core(sexes: &[Option<&str>], ages: &[Option<i32>]) -> DataFrame {
    let n = sexes.len();
    df!(
        "person_id" => (0..n as i64).collect::<Vec<_>>(),
        "p_idx" => vec![IDX; n],
        "p_sex" => sexes,
        "p_age" => ages,
        "p_death" => vec![None::<i32>; n],
        "p_primary" => vec![None::<&str>; n],
    )
    .unwrap()
}

/// `records` (person_id, date, code, unit, value, range_high) with their key and patient row.
fn with_key(records: DataFrame, rules: &Arc<MeasureRules>) -> DataFrame {
    records
        .lazy()
        .with_columns([
            rules.key().alias(MEASURE_KEY),
            col("person_id").cast(IDX_DTYPE).alias(ROW),
        ])
        .collect()
        .unwrap()
}

/// Worked out by hand from the definition: haemoglobin in g/dL (g/L / 10, mmol/L x 1.611), the
/// latest within 30 days `> 9`, and renal function as eGFR from creatinine (CKD-EPI 2021).
#[test]
fn atoms_worked_out_by_hand() {
    let definition = shipped();
    let rules = Arc::new(MeasureRules::new(&definition));
    let (hb, renal) = (
        measure(&definition, "haemoglobin"),
        measure(&definition, "renal_function"),
    );
    let within_30 = Window::WithinDays(30);
    let latest = |bit_if_holds, bit_if_not| Test::Latest {
        op: CmpOp::Gt,
        threshold: 9.0,
        bit_if_holds,
        bit_if_not,
    };
    let atoms = vec![
        // All tied records must hold: a failing one sets the bit.
        (
            "all".into(),
            MeasureAtom::new(hb, &within_30, latest(0, 1)).unwrap(),
        ),
        // Any tied record may hold: a holding one sets the bit.
        (
            "any_tie".into(),
            MeasureAtom::new(hb, &within_30, latest(1, 0)).unwrap(),
        ),
        (
            "any".into(),
            MeasureAtom::new(hb, &within_30, Test::Any).unwrap(),
        ),
        (
            "egfr".into(),
            MeasureAtom::new(
                renal,
                &within_30,
                Test::Latest {
                    op: CmpOp::Ge,
                    threshold: 40.0,
                    bit_if_holds: 0,
                    bit_if_not: 1,
                },
            )
            .unwrap(),
        ),
    ];
    let core = core(&[Some("F"), Some("M"), None], &[Some(60), Some(70), None]);
    let records = df!(
        "person_id" => [0i64, 0, 0, 0, 1, 1, 2, 2, 2],
        "date" => [IDX - 30, IDX - 30, IDX - 31, IDX + 1, IDX, IDX - 10, IDX - 10, IDX, IDX],
        "code" => ["718-7", "718-7", "718-7", "718-7", "718-7", "2160-0", "2160-0", "718-7", "718-7"],
        "unit" => ["g/L", "g/dL", "g/dL", "g/dL", "mmol/L", "mg/dL", "mg/dL", "furlong", "g/dL"],
        "value" => [Some(90.0), Some(9.5), Some(12.0), Some(3.0), Some(5.6), Some(1.0), Some(1.0), Some(12.0), None],
        "range_high" => [None::<f64>; 9],
    )
    .unwrap();
    let records = with_key(records, &rules);
    let mut kernel = MeasureKernel::new(rules, atoms, &core).unwrap();
    let rows: Vec<IdxSize> = records
        .column(ROW)
        .unwrap()
        .idx()
        .unwrap()
        .into_no_null_iter()
        .collect();
    kernel.fold(&rows, &records).unwrap();
    let got = DataFrame::new(3, kernel.finish()).unwrap();
    // Patient 0: 90 g/L is 9.0 g/dL (not > 9) and 9.5 g/dL (> 9), tied 30 days before; day 31
    // and the day after the index date are outside: key (IDX - 30 + 100000) * 2 + 1 both ways.
    // Patient 1: 5.6 mmol/L is 9.0216 g/dL on the index date; creatinine 1.0 mg/dL at 70 (M):
    // 142 x (1/0.9)^-1.2 x 0.9938^70 = 80.97 >= 40.
    // Patient 2: no sex (no eGFR), an unconvertible unit and a missing value: nothing counts.
    let want = df!(
        "all" => [Some(239_941i32), Some(240_000), None],
        "any_tie" => [Some(239_941i32), Some(240_001), None],
        "any" => [Some(2i8), Some(2), None],
        "egfr" => [None, Some(239_980i32), None],
    )
    .unwrap();
    assert_eq!(got, want);
}

/// Every measurement atom of the shipped definition, by the kernel (row lookup) and by the
/// polars expressions (hash group-by), on the same records: equal for every patient.
#[test]
fn kernel_agrees_with_the_polars_atoms_on_random_records() {
    let definition = shipped();
    let mut compiler = Compiler::new(&definition);
    for criterion in &definition.criteria {
        let _ = compiler
            .criterion(criterion, Context { drug: None })
            .unwrap();
    }
    for (d, drug) in definition.drugs.iter().enumerate() {
        for criterion in drug_criteria(&definition, d) {
            let ctx = Context {
                drug: Some((d, drug)),
            };
            let _ = compiler.criterion(criterion, ctx).unwrap();
        }
    }
    let atoms = &compiler.atoms()[&RecordTable::Measurement];
    assert!(atoms.iter().all(|atom| atom.kernel.is_some()));

    let mut codes: Vec<Option<&str>> = vec![None, Some("0000-0")];
    let mut units: Vec<Option<&str>> = vec![None, Some("furlong")];
    for m in &definition.measures {
        codes.extend(m.loinc.iter().map(|c| Some(c.as_str())));
        units.push(Some(m.unit.as_str()));
        units.extend(m.conversions.iter().map(|c| Some(c.from.as_str())));
    }
    units.extend([Some("umol/L"), Some("mg/dL"), Some(" g/L ")]);
    let values = [
        None,
        Some(f64::NAN),
        Some(-1.0),
        Some(0.0),
        Some(1.0),
        Some(1.5),
        Some(9.0),
        Some(35.0),
        Some(40.0),
        Some(50.0),
        Some(90.0),
        Some(470.0),
        Some(500.0),
        Some(f64::INFINITY),
    ];
    let highs = [None, Some(0.0), Some(-2.0), Some(f64::NAN), Some(40.0)];
    let offsets = [
        Some(1),
        Some(0),
        Some(-1),
        Some(-30),
        Some(-31),
        Some(-90),
        Some(-91),
        Some(-365),
        Some(-366),
        Some(-5000),
        None,
    ];
    let patients = 3_000;
    let sexes: Vec<Option<&str>> = (0..patients)
        .map(|p| [Some("F"), Some("M"), Some("U"), None][p % 4])
        .collect();
    let ages: Vec<Option<i32>> = (0..patients)
        .map(|p| [Some(40), Some(85), None][p % 3])
        .collect();
    let core = core(&sexes, &ages);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let n = 40_000;
    let mut pick = |len: usize| rng.random_range(0..len);
    let (mut person, mut date, mut code, mut unit, mut value, mut high) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        // Some ids are in no patient's row: orphan records.
        person.push(pick(patients + 50) as i64);
        date.push(offsets[pick(offsets.len())].map(|o| IDX + o));
        code.push(codes[pick(codes.len())]);
        unit.push(units[pick(units.len())]);
        value.push(values[pick(values.len())]);
        high.push(highs[pick(highs.len())]);
    }
    let records = df!(
        "person_id" => person,
        "date" => date,
        "code" => code,
        "value" => value,
        "unit" => unit,
        "range_high" => high,
    )
    .unwrap()
    .lazy();

    let prepared = [
        compiler.prepared(RecordTable::Measurement),
        compiler.shared()[&RecordTable::Measurement]
            .iter()
            .map(|(_, expr)| expr.clone())
            .collect(),
    ];
    let columns: Vec<Expr> = atoms.iter().map(|atom| atom.column.clone()).collect();
    let reductions: Vec<(String, Reduce)> = atoms
        .iter()
        .map(|atom| (atom.name.clone(), atom.reduce))
        .collect();
    let kernel_atoms = atoms
        .iter()
        .map(|atom| (atom.name.clone(), atom.kernel.unwrap()))
        .collect();

    let rows = PatientRows::of(&core);
    assert!(rows.is_some());
    let mut by_kernel = PerPatient::new(&core, rows);
    let kernel = Some((compiler.measure_rules(), kernel_atoms));
    by_kernel
        .records(records.clone(), &prepared, vec![], vec![], kernel)
        .unwrap();
    let mut by_polars = PerPatient::new(&core, None);
    by_polars
        .records(records, &prepared, columns, reductions.clone(), None)
        .unwrap();

    // `any`: no record and no record in the window are the same (0), as the engine fills them.
    let filled: Vec<Expr> = atoms
        .iter()
        .map(|atom| match atom.kernel.unwrap().test {
            Test::Any => col(atom.name.as_str()).fill_null(lit(0i8)),
            Test::Latest { .. } => col(atom.name.as_str()),
        })
        .collect();
    let result = |per_patient: PerPatient| {
        let mut selected = vec![col("person_id")];
        selected.extend(filled.iter().cloned());
        per_patient
            .into_wide()
            .unwrap()
            .select(selected)
            .sort(["person_id"], SortMultipleOptions::default())
            .collect()
            .unwrap()
    };
    let by_polars = result(by_polars);
    let by_kernel = result(by_kernel);
    assert_eq!(by_kernel, by_polars);
    // Not a vacuous agreement: every atom has patients with a value and without one.
    for column in &by_kernel.columns()[1..] {
        let nonzero = column
            .as_materialized_series()
            .cast(&DataType::Int64)
            .unwrap();
        let nonzero = nonzero.i64().unwrap();
        let values = nonzero.iter().filter(|v| v.is_some_and(|v| v != 0)).count();
        assert!(
            values > 0 && values < patients,
            "{}: {values}",
            column.name()
        );
    }
}
