//! The measurement kernel's atoms worked out by hand (its agreement with the polars expressions
//! is tested in `engine/kernel/tests.rs`).

use polars::prelude::*;

use super::*;
use crate::definition::model::{CmpOp, Definition, Window};
use crate::engine::kernel::tests::{core, folded, shipped, IDX};
use crate::engine::kernel::{RecordAtom, Test, Truth};
use crate::engine::lookup::ROW;

fn measure(definition: &Definition, name: &str) -> usize {
    (definition.measures.iter())
        .position(|m| m.name == name)
        .expect("a measure of the shipped definition")
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

/// I4g's atom: the latest renal function within 30 days `>= 40`, every tied record must hold.
fn renal_at_least_40(renal: usize) -> RecordAtom {
    let latest = Test::Latest {
        truth: Truth::Compare(CmpOp::Ge, 40.0),
        bit_if_holds: 0,
        bit_if_not: 1,
    };
    RecordAtom::new(renal, &Window::WithinDays(30), latest).unwrap()
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
        truth: Truth::Compare(CmpOp::Gt, 9.0),
        bit_if_holds,
        bit_if_not,
    };
    let atoms = vec![
        // All tied records must hold: a failing one sets the bit.
        (
            "all".into(),
            RecordAtom::new(hb, &within_30, latest(0, 1)).unwrap(),
        ),
        // Any tied record may hold: a holding one sets the bit.
        (
            "any_tie".into(),
            RecordAtom::new(hb, &within_30, latest(1, 0)).unwrap(),
        ),
        (
            "any".into(),
            RecordAtom::new(hb, &within_30, Test::Any).unwrap(),
        ),
        ("egfr".into(), renal_at_least_40(renal)),
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
    let kernel = MeasureKernel::new(rules, atoms, &core).unwrap();
    let got = folded(Box::new(kernel), &records, 3);
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

/// A record's value is computed only where it could change a slot (`AtomSlots::settled`): the
/// results are the same as folding every record, whatever the records' order. Creatinine in
/// mg/dL, eGFR by hand (CKD-EPI 2021): 1.0 at 60 (F) is 142 x (1/0.7)^-1.2 x 0.9938^60 x 1.012
/// = 64.50 (>= 40), 3.0 at 60 (F) is 17.26 and 3.0 at 70 (M) is 21.67 (< 40); 1.0 at 70 (M)
/// is 80.97.
#[test]
fn later_records_count_whatever_came_before() {
    let definition = shipped();
    let rules = Arc::new(MeasureRules::new(&definition));
    let renal = measure(&definition, "renal_function");
    let within_30 = Window::WithinDays(30);
    let atoms = vec![
        ("egfr".into(), renal_at_least_40(renal)),
        (
            "any".into(),
            RecordAtom::new(renal, &within_30, Test::Any).unwrap(),
        ),
    ];
    let core = core(
        &[Some("F"), Some("M"), Some("F"), Some("M")],
        &[Some(60), Some(70), Some(60), Some(70)],
    );
    let records = df!(
        "person_id" => [0i64, 0, 0, 0, 0, 1, 1, 2, 2, 3],
        "date" => [IDX - 20, IDX - 5, IDX - 25, IDX - 5, IDX + 3, IDX - 2, IDX - 10, IDX - 31, IDX - 30, IDX - 31],
        "value" => [1.0, 3.0, 1.0, 1.0, 3.0, 1.0, 3.0, 3.0, 3.0, 1.0],
    )
    .unwrap()
    .lazy()
    .with_columns([
        lit("2160-0").alias("code"),
        lit("mg/dL").alias("unit"),
        lit(NULL).cast(DataType::Float64).alias("range_high"),
    ])
    .collect()
    .unwrap();
    let records = with_key(records, &rules);
    let kernel = MeasureKernel::new(rules, atoms, &core).unwrap();
    let got = folded(Box::new(kernel), &records, 4);
    // Patient 0: the latest in the window is 5 days before, after an older record; of its two
    // records that day one fails (64.50 and 17.26): key (IDX - 5 + 100000) * 2 + 1. The record
    // 3 days after the index date is outside.
    // Patient 1: the latest, 2 days before, holds (80.97); the older failing one comes after it.
    // Patient 2: day 31 is outside, day 30 inside and failing. Patient 3: day 31 only.
    let want = df!(
        "egfr" => [Some(239_991i32), Some(239_996), Some(239_941), None],
        "any" => [Some(2i8), Some(2), Some(2), None],
    )
    .unwrap();
    assert_eq!(got, want);
}
