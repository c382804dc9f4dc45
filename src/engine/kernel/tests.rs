//! The kernels against the polars expressions they stand in for: every measurement, observation
//! and diagnosis kernel atom of the shipped definition, reduced by the kernel (row lookup) and by
//! the hash group-by, on seeded random records crossing every code, unit, text, edge value and
//! window edge; and the helpers of the kernels' hand-worked tests.

use std::path::Path;

use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::definition::model::{CodePattern, Definition};
use crate::engine::compile::{Atom, Compiler, Context};
use crate::engine::evaluate::drug_criteria;
use crate::engine::lookup::{PatientRows, ROW};
use crate::engine::per_patient::PerPatient;
use crate::engine::records::RecordTable;

pub(crate) fn shipped() -> Definition {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/impress-norway.toml");
    crate::definition::load(&path).expect("the shipped definition loads")
}

/// Every patient's index date in the tests.
pub(crate) const IDX: i32 = 20_000;

/// A patient core of `sexes.len()` patients, ids from 0.
pub(crate) fn core(sexes: &[Option<&str>], ages: &[Option<i32>]) -> DataFrame {
    let n = sexes.len();
    df!(
        "person_id" => (0..n as i64).collect::<Vec<_>>(),
        "p_idx" => vec![IDX; n],
        "p_sex" => sexes,
        "p_age" => ages,
        "p_death" => vec![None::<i32>; n],
        "p_primary" => vec![None::<&str>; n],
        // No primary: no code set holds it.
        "p_primary_sets" => vec![0u64; n],
    )
    .unwrap()
}

/// `kernel` folded over `records` (with [`ROW`] and its inputs) in one morsel, finished: one
/// column per atom over `patients` patients.
pub(crate) fn folded(kernel: Box<dyn Kernel>, records: &DataFrame, patients: usize) -> DataFrame {
    let mut kernel = kernel;
    let rows: Vec<IdxSize> = records
        .column(ROW)
        .unwrap()
        .idx()
        .unwrap()
        .into_no_null_iter()
        .collect();
    kernel.fold(&rows, records).unwrap();
    DataFrame::new(patients, kernel.finish()).unwrap()
}

/// The window offsets (days from the index date) the random records take.
const OFFSETS: [Option<i32>; 11] = [
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

const PATIENTS: usize = 3_000;

/// `table`'s atoms of the shipped definition on `records` (its standard columns), reduced with
/// the kernel and with the polars expressions: the same for every patient, and neither all
/// values nor all missing for any kernel atom.
fn kernel_agrees(table: RecordTable, records: LazyFrame) {
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
    let atoms = &compiler.atoms()[&table];
    let sexes: Vec<Option<&str>> = (0..PATIENTS)
        .map(|p| [Some("F"), Some("M"), Some("U"), None][p % 4])
        .collect();
    let ages: Vec<Option<i32>> = (0..PATIENTS)
        .map(|p| [Some(40), Some(85), None][p % 3])
        .collect();
    let core = core(&sexes, &ages);
    let prepared = [
        compiler.prepared(table, &Schema::default()),
        compiler
            .shared()
            .get(&table)
            .map(|shared| shared.iter().map(|(_, expr)| expr.clone()).collect())
            .unwrap_or_default(),
    ];
    let column_of = |atoms: &[&Atom]| {
        let columns: Vec<Expr> = atoms.iter().map(|atom| atom.column.clone()).collect();
        let reductions: Vec<(String, Reduce)> = atoms
            .iter()
            .map(|atom| (atom.name.clone(), atom.reduce))
            .collect();
        (columns, reductions)
    };
    let (kernel, polars): (Vec<_>, Vec<_>) = atoms.iter().partition(|atom| atom.kernel.is_some());
    assert!(
        kernel.len() >= 3,
        "{} kernel atoms on {table:?}",
        kernel.len()
    );

    let rows = PatientRows::of(&core);
    assert!(rows.is_some());
    let mut by_kernel = PerPatient::new(&core, rows);
    let kernel_atoms = kernel
        .iter()
        .map(|atom| (atom.name.clone(), atom.kernel.clone().unwrap()))
        .collect();
    let (columns, reductions) = column_of(&polars);
    let kernel_atoms = compiler.kernel(table, kernel_atoms);
    by_kernel
        .records(
            records.clone(),
            &prepared,
            columns,
            reductions,
            kernel_atoms,
        )
        .unwrap();
    let mut by_polars = PerPatient::new(&core, None);
    let all: Vec<_> = atoms.iter().collect();
    let (columns, reductions) = column_of(&all);
    by_polars
        .records(records, &prepared, columns, reductions, None)
        .unwrap();

    // `any`: no record and no record in the window are the same (0), as the engine fills them.
    let mut selected = vec![col("person_id")];
    selected.extend(atoms.iter().map(|atom| match &atom.kernel {
        Some(RecordAtom {
            test: Test::Any, ..
        }) => col(atom.name.as_str()).fill_null(lit(0i8)),
        _ => col(atom.name.as_str()),
    }));
    let result = |per_patient: PerPatient| {
        per_patient
            .into_wide()
            .unwrap()
            .select(selected.clone())
            .sort(["person_id"], SortMultipleOptions::default())
            .collect()
            .unwrap()
    };
    let by_polars = result(by_polars);
    let by_kernel = result(by_kernel);
    assert_eq!(by_kernel, by_polars);
    for atom in kernel {
        let column = by_kernel.column(&atom.name).unwrap();
        let column = column
            .as_materialized_series()
            .cast(&DataType::Int64)
            .unwrap();
        let values = column.i64().unwrap().iter();
        let values = values.filter(|v| v.is_some_and(|v| v != 0)).count();
        assert!(values > 0 && values < PATIENTS, "{}: {values}", atom.name);
    }
}

/// `n` random patient ids (some in no patient's row: orphan records) and dates.
fn patients_and_dates(rng: &mut ChaCha8Rng, n: usize) -> (Vec<i64>, Vec<Option<i32>>) {
    (0..n)
        .map(|_| {
            let person = rng.random_range(0..PATIENTS as i64 + 50);
            let offset = OFFSETS[rng.random_range(0..OFFSETS.len())];
            (person, offset.map(|o| IDX + o))
        })
        .unzip()
}

/// One of `values`, at random.
fn pick<T: Clone>(rng: &mut ChaCha8Rng, values: &[T]) -> T {
    values[rng.random_range(0..values.len())].clone()
}

#[test]
fn measurement_kernel_agrees_with_the_polars_atoms() {
    let definition = shipped();
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
    let n = 40_000;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (person, date) = patients_and_dates(&mut rng, n);
    let records = df!(
        "person_id" => person,
        "date" => date,
        "code" => (0..n).map(|_| pick(&mut rng, &codes)).collect::<Vec<_>>(),
        "value" => (0..n).map(|_| pick(&mut rng, &values)).collect::<Vec<_>>(),
        "unit" => (0..n).map(|_| pick(&mut rng, &units)).collect::<Vec<_>>(),
        "range_high" => (0..n).map(|_| pick(&mut rng, &highs)).collect::<Vec<_>>(),
    )
    .unwrap();
    kernel_agrees(RecordTable::Measurement, records.lazy());
}

#[test]
fn observation_kernel_agrees_with_the_polars_atoms() {
    let definition = shipped();
    let mut codes: Vec<Option<&str>> = vec![None, Some("other")];
    let mut texts: Vec<Option<&str>> = vec![None, Some("other"), Some(""), Some("L01XE")];
    for observation in &definition.observations {
        codes.push(Some(observation.code.as_str()));
        texts.extend(
            observation
                .text_domain
                .iter()
                .flatten()
                .map(|t| Some(t.as_str())),
        );
    }
    let numbers = [
        None,
        Some(f64::NAN),
        Some(-1.0),
        Some(0.0),
        Some(1.0),
        Some(2.0),
        Some(2.5),
        Some(3.0),
        Some(5.0),
        Some(5.5),
    ];
    let n = 30_000;
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (person, date) = patients_and_dates(&mut rng, n);
    let records = df!(
        "person_id" => person,
        "date" => date,
        "code" => (0..n).map(|_| pick(&mut rng, &codes)).collect::<Vec<_>>(),
        "value_num" => (0..n).map(|_| pick(&mut rng, &numbers)).collect::<Vec<_>>(),
        "value_text" => (0..n).map(|_| pick(&mut rng, &texts)).collect::<Vec<_>>(),
    )
    .unwrap();
    kernel_agrees(RecordTable::Observation, records.lazy());
}

/// An atom of a source its table does not have is an error, not a silent null.
#[test]
fn an_atom_of_an_unknown_source_is_an_error() {
    let core = core(&[Some("F")], &[Some(60)]);
    let atom = RecordAtom::new(11, &crate::definition::model::Window::UpToIndex, Test::Any);
    let atoms = vec![("x".to_string(), atom.unwrap())];
    assert!(AtomSlots::new(atoms.clone(), 11, &core).is_err());
    assert!(AtomSlots::new(atoms, 12, &core).is_ok());
}

#[test]
fn diagnosis_kernel_agrees_with_the_polars_atoms() {
    let definition = shipped();
    // Codes at and around every pattern of every set (and its exceptions): the pattern itself,
    // a code below it, the bounds of a range, codes just outside; none and an unknown code.
    let mut codes: Vec<Option<String>> = vec![None, Some("Z999".into()), Some(String::new())];
    for set in &definition.code_sets {
        for pattern in set.patterns.iter().chain(&set.except) {
            let ends = match pattern {
                CodePattern::Prefix(prefix) => vec![prefix.clone()],
                CodePattern::Range(low, high) => vec![low.clone(), high.clone()],
            };
            for end in ends {
                codes.push(Some(format!("{end}9")));
                let mut before = end.clone().into_bytes();
                if let Some(last) = before.last_mut() {
                    *last = last.saturating_sub(1);
                }
                codes.push(Some(String::from_utf8(before).unwrap()));
                codes.push(Some(end));
            }
        }
    }
    let n = 30_000;
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let (person, date) = patients_and_dates(&mut rng, n);
    let records = df!(
        "person_id" => person,
        "date" => date,
        "code" => (0..n).map(|_| pick(&mut rng, &codes)).collect::<Vec<_>>(),
    )
    .unwrap();
    kernel_agrees(RecordTable::Diagnosis, records.lazy());
}

/// A reach is exactly "some atom's window holds the date": lookbacks 30 and 90 on source 0 and
/// none on source 1, checked against each atom's own window test on dates around the index
/// date and where `idx - days` wraps around Int32. A source no atom reads reaches nothing.
#[test]
fn a_reach_is_some_atoms_window() {
    let latest = |days: Option<u32>, source: usize| {
        let window = match days {
            Some(days) => crate::definition::model::Window::WithinDays(days),
            None => crate::definition::model::Window::UpToIndex,
        };
        RecordAtom::new(source, &window, Test::Any).unwrap()
    };
    let atoms = vec![
        ("a30".to_string(), latest(Some(30), 0)),
        ("a90".to_string(), latest(Some(90), 0)),
        ("b30".to_string(), latest(Some(30), 0)),
        ("c".to_string(), latest(None, 1)),
    ];
    let slots = AtomSlots::new(atoms.clone(), 3, &core(&[Some("F")], &[Some(50)])).unwrap();
    let (min, max) = (i32::MIN, i32::MAX);
    let idxs = [IDX, min, min + 40, max, 0];
    let offsets = [-200, -91, -90, -89, -31, -30, -29, 0, 1, 100];
    for sources in [vec![0], vec![1], vec![0, 1], vec![2]] {
        let reach = slots.reach(sources.iter().copied());
        for idx in idxs {
            for date in offsets
                .iter()
                .map(|o| idx.wrapping_add(*o))
                .chain([min, max])
            {
                let any = (atoms.iter())
                    .filter(|(_, atom)| sources.contains(&atom.source))
                    .any(|(_, atom)| atom.in_window(date, idx));
                assert_eq!(reach.may_count(date, idx), any, "{sources:?} {date} {idx}");
            }
        }
    }
    // By hand, source 0 at the tests' index date: 90 days before counts, 91 does not.
    let reach = slots.reach([0]);
    assert!(reach.may_count(IDX - 90, IDX) && !reach.may_count(IDX - 91, IDX));
    assert!(!reach.may_count(IDX + 1, IDX));
    assert_eq!(slots.reach([2]), Reach::default());
    assert!(!Reach::default().may_count(IDX, IDX));
}

/// A number folded through its source's resolved atoms (`fold_number`, the measurement kernel's
/// path) fills the same slots as the generic fold of `Value::Number`: an `any` atom within 30
/// days, `latest` atoms of every operator at 9 on values either side of it and NaN, and a text
/// truth, which never holds of a number. By hand: 9 at 30 days is in the window, `>= 9` holds,
/// so its key carries `bit_if_holds`; 9.5 at 31 days is outside and changes nothing.
#[test]
fn a_number_folds_alike_through_resolved_atoms() {
    use crate::definition::model::{CmpOp, Window};
    let latest = |truth: Truth| Test::Latest {
        truth,
        bit_if_holds: 1,
        bit_if_not: 0,
    };
    let ops = [
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::Eq,
        CmpOp::Ne,
    ];
    let mut atoms = vec![(
        "any".to_string(),
        RecordAtom::new(0, &Window::WithinDays(30), Test::Any).unwrap(),
    )];
    for op in ops {
        let test = latest(Truth::Compare(op, 9.0));
        let atom = RecordAtom::new(0, &Window::WithinDays(30), test).unwrap();
        atoms.push((format!("{op:?}"), atom));
    }
    let text = latest(Truth::TextIn(vec![0]));
    let atom = RecordAtom::new(0, &Window::UpToIndex, text).unwrap();
    atoms.push(("text".to_string(), atom));
    let sexes = [Some("F"); 4];
    let patients = core(&sexes, &[Some(50); 4]);
    let mut generic = AtomSlots::new(atoms.clone(), 1, &patients).unwrap();
    let mut resolved = AtomSlots::new(atoms, 1, &patients).unwrap();
    let number_atoms = resolved.number_atoms(0);
    let records = [
        (0, IDX - 30, 9.0),
        (1, IDX - 31, 9.5),
        (1, IDX - 3, 8.999),
        (2, IDX, f64::NAN),
        (2, IDX - 10, 9.001),
        (3, IDX + 1, 9.0),
    ];
    for (row, date, value) in records {
        generic.fold(row, (date, IDX), 0, Value::Number(value));
        resolved.fold_number(row, (date, IDX), &number_atoms, value);
    }
    let (generic, resolved) = (generic.finish(), resolved.finish());
    assert_eq!(generic, resolved);
    let ge = resolved[4].i32().unwrap();
    assert_eq!(resolved[4].name().as_str(), "Ge");
    assert_eq!(ge.get(0), Some(latest_key(IDX - 30, 1)));
    assert_eq!(ge.get(1), Some(latest_key(IDX - 3, 0)));
    assert_eq!(ge.get(3), None);
    let text = resolved[7].i32().unwrap();
    assert_eq!(text.get(2), Some(latest_key(IDX, 0)));
}

/// A `latest` key that wraps to the Int32 minimum is a value: a record of 1 on day
/// -1,073,841,824 (about three million years BCE), up to an index date on the same day, has key
/// (-1,073,841,824 + 100,000) x 2 + 0 = -2^31, `>= 9` not holding. It is kept as the patient's
/// latest, not taken for "no record". For another patient, a record of 10 that day (key
/// -2^31 + 1) is overtaken by a record of 1 a day later (-2^31 + 2); a patient with no record
/// stays null.
#[test]
fn a_latest_key_at_the_int32_minimum_is_a_value() {
    use crate::definition::model::{CmpOp, Window};
    let test = Test::Latest {
        truth: Truth::Compare(CmpOp::Ge, 9.0),
        bit_if_holds: 1,
        bit_if_not: 0,
    };
    let atom = RecordAtom::new(0, &Window::UpToIndex, test).unwrap();
    let patients = core(&[Some("F"); 3], &[Some(50); 3]);
    let mut slots = AtomSlots::new(vec![("ge".to_string(), atom)], 1, &patients).unwrap();
    let number_atoms = slots.number_atoms(0);
    let day = -1_073_841_824;
    assert_eq!(latest_key(day, 0), i32::MIN);
    slots.fold_number(0, (day, day), &number_atoms, 1.0);
    // A record of the same day that holds could still raise the key by one; once one has, no
    // record of that day can.
    assert!(!slots.settled(0, (day, day), 0));
    slots.fold_number(1, (day, day + 1), &number_atoms, 10.0);
    assert!(slots.settled(1, (day, day + 1), 0));
    slots.fold_number(1, (day + 1, day + 1), &number_atoms, 1.0);
    let column = slots.finish().remove(0);
    let keys = column.i32().unwrap();
    assert_eq!(
        [keys.get(0), keys.get(1), keys.get(2)],
        [Some(i32::MIN), Some(i32::MIN + 2), None]
    );
}

/// A text folded through its source's resolved atoms (`fold_text`, the observation kernel's
/// path) fills the same slots as the generic fold of `Value::Text`: an `any` atom within 30
/// days, a `latest` truth of two texts (keys 3 and 5), one of no text, and a comparison, which
/// never holds of a text. By hand: text 5 at 30 days is in the window and in the list, so its
/// key carries `bit_if_holds`; text 4 (between the listed keys) and text 9 (past the largest)
/// carry `bit_if_not`; a record at 31 days changes nothing.
#[test]
fn a_text_folds_alike_through_resolved_atoms() {
    use crate::definition::model::{CmpOp, Window};
    let latest = |truth: Truth| Test::Latest {
        truth,
        bit_if_holds: 1,
        bit_if_not: 0,
    };
    let within = Window::WithinDays(30);
    let atoms: Vec<(String, RecordAtom)> = [
        ("any", Test::Any),
        ("in", latest(Truth::TextIn(vec![5, 3]))),
        ("none", latest(Truth::TextIn(vec![]))),
        ("compare", latest(Truth::Compare(CmpOp::Ge, 0.0))),
    ]
    .into_iter()
    .map(|(name, test)| (name.to_string(), RecordAtom::new(0, &within, test).unwrap()))
    .collect();
    let patients = core(&[Some("F"); 4], &[Some(50); 4]);
    let mut generic = AtomSlots::new(atoms.clone(), 1, &patients).unwrap();
    let mut resolved = AtomSlots::new(atoms, 1, &patients).unwrap();
    let text_atoms = resolved.text_atoms(0);
    let records = [
        (0, IDX - 30, 5),
        (0, IDX - 31, 3),
        (1, IDX - 2, 4),
        (1, IDX - 40, 5),
        (2, IDX, 9),
        (2, IDX - 1, 3),
        (3, IDX + 1, 5),
    ];
    for (row, date, text) in records {
        generic.fold(row, (date, IDX), 0, Value::Text(text));
        resolved.fold_text(row, (date, IDX), &text_atoms, text);
    }
    let (generic, resolved) = (generic.finish(), resolved.finish());
    assert_eq!(generic, resolved);
    let listed = resolved[1].i32().unwrap();
    assert_eq!(resolved[1].name().as_str(), "in");
    assert_eq!(listed.get(0), Some(latest_key(IDX - 30, 1)));
    assert_eq!(listed.get(1), Some(latest_key(IDX - 2, 0)));
    assert_eq!(listed.get(2), Some(latest_key(IDX, 0)));
    assert_eq!(listed.get(3), None);
    assert_eq!(resolved[0].i8().unwrap().get(2), Some(2));
    let compare = resolved[3].i32().unwrap();
    assert_eq!(compare.get(0), Some(latest_key(IDX - 30, 0)));
}

/// A column's options array by array, as polars' own iterator gives them: a chunk with nulls
/// (sliced, so its validity starts inside a byte), one without, one all null, and an empty one.
#[test]
fn optional_values_as_polars_iterates_them() {
    let mut column = Int32Chunked::new("v".into(), [Some(1), None, Some(3), None, Some(5)]);
    column = column.slice(1, 4);
    column
        .append(&Int32Chunked::new("v".into(), [Some(6), Some(7)]))
        .unwrap();
    column
        .append(&Int32Chunked::new("v".into(), [None::<i32>, None]))
        .unwrap();
    column
        .append(&Int32Chunked::new("v".into(), Vec::<Option<i32>>::new()))
        .unwrap();
    let want = [None, Some(3), None, Some(5), Some(6), Some(7), None, None];
    assert_eq!(column.iter().collect::<Vec<_>>(), want);
    assert_eq!(super::optional_values(&column), want);
}
