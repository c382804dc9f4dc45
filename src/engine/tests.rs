//! Engine tests on hand-built definitions and tiny in-memory extracts, with expected outcomes
//! worked out by hand from impress-norway.md.

use polars::prelude::*;

use super::compile::{Compiler, Context, Reduce};
use super::compile::{FAIL, NOT_APPLICABLE, PASS, UNKNOWN};
use super::evaluate::{criterion_column, drug_criterion_column};
use super::inputs::epoch_days;
use super::records::RecordTable;
use super::*;
use crate::definition::model::Window;
use crate::definition::model::*;
use crate::extract::findings::{RowChecks, TestSet};
use crate::extract::Table;

mod molecular;
mod primary;

pub(crate) fn date(s: &str) -> i32 {
    epoch_days(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

pub(crate) fn dates(name: &str, values: &[Option<i32>]) -> Column {
    Series::new(name.into(), values)
        .cast(&DataType::Date)
        .unwrap()
        .into()
}

fn frame(columns: Vec<Column>) -> LazyFrame {
    DataFrame::new_infer_height(columns).unwrap().lazy()
}

fn s(name: &str, values: &[&str]) -> Column {
    Series::new(name.into(), values).into()
}

fn sn(name: &str, values: &[Option<&str>]) -> Column {
    Series::new(name.into(), values).into()
}

fn ids(name: &str, values: &[i64]) -> Column {
    Series::new(name.into(), values).into()
}

fn f(name: &str, values: &[Option<f64>]) -> Column {
    Series::new(name.into(), values).into()
}

/// Empty tables with the contract schema (Int64 ids).
pub(crate) fn empty_inputs(person: LazyFrame) -> Inputs {
    let none: &[Option<i32>] = &[];
    Inputs {
        person,
        diagnosis: frame(vec![
            ids("person_id", &[]),
            s("icd10", &[]),
            dates("date", none),
        ]),
        measurement: frame(vec![
            ids("person_id", &[]),
            s("loinc", &[]),
            dates("date", none),
            f("value", &[]),
            s("unit", &[]),
            f("range_low", &[]),
            f("range_high", &[]),
        ]),
        observation: frame(vec![
            ids("person_id", &[]),
            s("code", &[]),
            dates("date", none),
            f("value_num", &[]),
            sn("value_text", &[]),
        ]),
        treatment: frame(vec![
            ids("person_id", &[]),
            sn("atc", &[]),
            s("kind", &[]),
            dates("start_date", none),
            dates("end_date", none),
        ]),
        molecular_test: frame(vec![
            ids("person_id", &[]),
            s("test_id", &[]),
            s("method", &[]),
            Series::new("approved_lab".into(), Vec::<Option<bool>>::new()).into(),
            dates("report_date", none),
        ]),
        variant: frame(vec![
            ids("person_id", &[]),
            s("test_id", &[]),
            s("gene", &[]),
            s("class", &[]),
            sn("alteration", &[]),
            f("value", &[]),
        ]),
        row_groups: None,
    }
}

/// Patients 1-6: women born in 1960, living in Vest, all with index date `idx`.
fn six_women(idx: i32) -> LazyFrame {
    women(6, idx)
}

/// `n` women (ids 1 to `n`) born in 1960, alive, in region Vest, all with index date `idx`.
fn women(n: usize, idx: i32) -> LazyFrame {
    let ids_1_to_n: Vec<i64> = (1..=n as i64).collect();
    frame(vec![
        ids("person_id", &ids_1_to_n),
        s("sex", &vec!["F"; n]),
        Series::new("birth_year".into(), vec![Some(1960i32); n]).into(),
        dates("death_date", &vec![None; n]),
        sn("region", &vec![Some("Vest"); n]),
        sn("site", &vec![None; n]),
        dates("index_date", &vec![Some(idx); n]),
    ])
}

/// The same inputs with every table's `person_id` replaced by `ids` (an expression of it).
fn with_ids(inputs: &Inputs, ids: Expr) -> Inputs {
    inputs.map(|table| table.with_column(ids.clone().alias("person_id")))
}

fn icd(name: &str, patterns: Vec<CodePattern>) -> CodeSet {
    CodeSet {
        name: name.into(),
        vocabulary: Vocabulary::Icd10,
        patterns,
        except: vec![],
    }
}

fn criterion(id: &str, kind: CriterionKind, rule: Cond, missing: MissingRule) -> Criterion {
    Criterion {
        id: id.into(),
        text: id.into(),
        kind,
        applies_if: None,
        rule,
        missing,
        proxy: false,
        source: None,
        rule_text: String::new(),
        missing_text: String::new(),
    }
}

/// I4b (Hb > 9 g/dL, n/a if haematological) and E5 (stroke within 122 days, absence = pass).
fn hb_and_stroke() -> Definition {
    let haematological = icd(
        "haematological",
        vec![CodePattern::Range("C81".into(), "C96".into())],
    );
    let stroke = icd("stroke", vec![CodePattern::Prefix("I63".into())]);
    let mut i4b = criterion(
        "I4b",
        CriterionKind::Inclusion,
        Cond::Latest {
            query: Query {
                source: Source::Measure(0),
                window: Window::WithinDays(30),
                filter: None,
            },
            test: Test::Compare(CmpOp::Gt, Quantity::Number(9.0)),
        },
        MissingRule::Unknown,
    );
    i4b.applies_if = Some(Cond::Not(Box::new(Cond::PrimaryIn(0))));
    let e5 = criterion(
        "E5",
        CriterionKind::Exclusion,
        Cond::Any(Query {
            source: Source::Diagnosis(Some(1)),
            window: Window::WithinDays(122),
            filter: None,
        }),
        MissingRule::Pass,
    );
    Definition {
        path: "test.toml".into(),
        hash: String::new(),
        trial: Trial {
            id: "T".into(),
            title: "T".into(),
            registration: "NCT0".into(),
            horizon_months: 24.0,
            stages: vec![8, 24],
        },
        code_sets: vec![haematological, stroke],
        measures: vec![Measure {
            name: "haemoglobin".into(),
            loinc: vec!["718-7".into()],
            unit: "g/dL".into(),
            conversions: vec![
                Conversion {
                    from: "g/L".into(),
                    factor: 0.1,
                },
                Conversion {
                    from: "mmol/L".into(),
                    factor: 1.611,
                },
            ],
            value: MeasureValue::Value,
            domain: None,
        }],
        observations: vec![],
        tumour_groups: vec![],
        criteria: vec![i4b, e5],
        not_assessable: vec![],
        cohort_criteria: vec![],
        drugs: vec![],
        cohorts: vec![],
    }
}

fn outcomes(df: &DataFrame, i: usize) -> Vec<u8> {
    df.column(&criterion_column(i))
        .unwrap()
        .u8()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

#[test]
fn haemoglobin_edges_and_stroke_window() {
    let idx = date("2025-01-31");
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
    let as_of_days = epoch_days(as_of);
    let n = 10;
    let person = frame(vec![
        ids("person_id", &(1..=n).collect::<Vec<_>>()),
        s("sex", &["F"; 10]),
        Series::new("birth_year".into(), vec![Some(1960i32); 10]).into(),
        dates("death_date", &[None; 10]),
        sn("region", &[Some("Vest"); 10]),
        sn("site", &[None; 10]),
        // patient 9 has no index date: the as-of date is used.
        dates(
            "index_date",
            &(1..=n)
                .map(|p| if p == 9 { None } else { Some(idx) })
                .collect::<Vec<_>>(),
        ),
    ]);
    let mut inputs = empty_inputs(person);
    let m = |p: i64, d: i32, v: f64, u: &str| (p, d, v, u.to_string());
    let rows = vec![
        m(1, idx - 30, 9.0, "g/dL"),  // exactly 9 on day 30: not > 9 -> fail
        m(2, idx - 10, 91.0, "g/L"),  // 9.1 g/dL -> pass
        m(3, idx - 31, 10.0, "g/dL"), // day 31: outside the window -> unknown
        m(4, idx - 1, 5.6, "mmol/L"), // 5.6 x 1.611 = 9.02 g/dL -> pass
        m(5, idx - 2, 10.0, "g/dL"),  // same-date tie 10 and 8.5: the lower -> fail
        m(5, idx - 2, 8.5, "g/dL"),
        m(5, idx - 20, 12.0, "g/dL"),       // older record ignored
        m(6, idx + 1, 10.0, "g/dL"),        // after index: never used
        m(6, idx - 5, 8.0, "g/dL"),         // -> fail
        m(7, idx - 1, 5.0, "g/dL"),         // haematological primary -> n/a
        m(8, idx - 1, 100.0, "mg/L"),       // unconvertible unit: dropped
        m(8, idx - 3, 10.0, "g/dL"),        // -> pass
        m(9, as_of_days - 2, 12.0, "g/dL"), // no index date: as-of date -> pass
    ];
    inputs.measurement = frame(vec![
        ids("person_id", &rows.iter().map(|r| r.0).collect::<Vec<_>>()),
        s("loinc", &vec!["718-7"; rows.len()]),
        dates("date", &rows.iter().map(|r| Some(r.1)).collect::<Vec<_>>()),
        f("value", &rows.iter().map(|r| Some(r.2)).collect::<Vec<_>>()),
        s(
            "unit",
            &rows.iter().map(|r| r.3.as_str()).collect::<Vec<_>>(),
        ),
        f("range_low", &vec![None; rows.len()]),
        f("range_high", &vec![None; rows.len()]),
    ]);
    inputs.diagnosis = frame(vec![
        ids("person_id", &[7, 1, 2, 3]),
        s("icd10", &["C91.0", "I63.9", "I639", "I63.9"]),
        dates(
            "date",
            &[
                Some(idx - 400),
                Some(idx - 122), // day 122: inside -> E5 fail
                Some(idx - 123), // day 123: outside -> pass
                Some(idx + 1),   // after index -> pass
            ],
        ),
    ]);
    let definition = hb_and_stroke();
    let evaluation = patient_outcomes(&inputs, &definition, as_of).unwrap();
    let patients = evaluation.patients;
    // Ids the array lookup does not take (sparse integers, strings of the same order) go
    // through the hash join, with the same outcomes.
    for other_ids in [
        col("person_id") * lit(1i64 << 40),
        (col("person_id") + lit(100i64)).cast(DataType::String),
    ] {
        let joined = patient_outcomes(&with_ids(&inputs, other_ids), &definition, as_of).unwrap();
        for i in 0..2 {
            assert_eq!(outcomes(&joined.patients, i), outcomes(&patients, i));
        }
        assert_eq!(joined.unconvertible_units, evaluation.unconvertible_units);
    }
    // A person table of several chunks (a file of several row groups) gives a patient core of
    // several chunks, and the same outcomes.
    let person = inputs.person.clone().collect().unwrap();
    let mut parts = person.slice(0, 4);
    parts.vstack_mut(&person.slice(4, 3)).unwrap();
    parts.vstack_mut(&person.slice(7, 3)).unwrap();
    let chunked = Inputs {
        person: parts.lazy(),
        ..inputs.clone()
    };
    let evaluation_of_chunks = patient_outcomes(&chunked, &definition, as_of).unwrap();
    for i in 0..2 {
        assert_eq!(
            outcomes(&evaluation_of_chunks.patients, i),
            outcomes(&patients, i)
        );
    }
    assert_eq!(
        outcomes(&patients, 0),
        vec![
            FAIL,
            PASS,
            UNKNOWN,
            PASS,
            FAIL,
            FAIL,
            NOT_APPLICABLE,
            PASS,
            PASS,
            UNKNOWN
        ]
    );
    assert_eq!(
        outcomes(&patients, 1),
        vec![FAIL, PASS, PASS, PASS, PASS, PASS, PASS, PASS, PASS, PASS]
    );
    assert_eq!(evaluation.unconvertible_units, 1);
    // Read with their checks, as a run reads them: every measurement atom is the kernel's, so
    // the records go to it as they are read (`Tables::fold`), not through a plan. The same
    // outcomes and count.
    let checks = [RowChecks::of(Table::Measurement, None, &TestSet::Partition)];
    let (folded, _) = patient_outcomes_checked(&inputs, &definition, as_of, &checks).unwrap();
    assert_eq!(folded.patients, patients);
    assert_eq!(folded.unconvertible_units, 1);

    // Mask table: patient 1 fails both, 3 and 10 unknown/pass, the rest eligible or n/a.
    let masks = count(&patients, &definition).unwrap();
    assert_eq!(masks.patients(), 10);
    let eligible: u64 = masks
        .population()
        .filter(|r| r.outcomes.status() == mask::Status::Eligible)
        .map(|r| r.patients)
        .sum();
    // 2, 4, 7 (n/a counts as pass), 8, 9
    assert_eq!(eligible, 5);

    // The same patients in three frames, merged after each and at the end, give the same table.
    for merge in [false, true] {
        let mut counter = match merge {
            true => MaskCounter::merging_every_frame(&definition),
            false => MaskCounter::new(&definition),
        };
        for (offset, len) in [(0, 3), (3, 1), (4, 6)] {
            counter.add(&patients.slice(offset, len)).unwrap();
        }
        assert_eq!(
            counter.finish(),
            masks,
            "merging after every frame: {merge}"
        );
    }
    // One frame of several chunks per column (the stratum strings are numbered across them,
    // the outcome codes rechunked) counts the same table.
    let mut chunked = patients.slice(0, 3);
    chunked.vstack_mut(&patients.slice(3, 4)).unwrap();
    chunked.vstack_mut(&patients.slice(7, 3)).unwrap();
    assert!(chunked.column("stratum_site").unwrap().n_chunks() >= 3);
    let mut counter = MaskCounter::new(&definition);
    counter.add(&chunked).unwrap();
    assert_eq!(counter.finish(), masks, "a frame of three chunks");
    // Counted in ranges of three rows (four ranges, their runs merged) or in one.
    for rows in [3, 10] {
        let mut counter = MaskCounter::with_range_rows(&definition, rows);
        counter.add(&chunked).unwrap();
        assert_eq!(counter.finish(), masks, "ranges of {rows} rows");
    }
    // Keys wider than the criteria need (two, four and seven words: an array of three and of
    // five words, and a vector) count the same table.
    for words in [2, 4, 7] {
        let mut counter = MaskCounter::with_key_words(&definition, words);
        counter.add(&patients).unwrap();
        assert_eq!(counter.finish(), masks, "keys of {words} words");
    }
}

/// Unconvertible units are counted per record of a patient, by the measurement kernel where
/// records are reduced by patient row and by a polars column on the hash path: two `mg/L`
/// haemoglobins of one patient, a padded ` mg/L ` (units are trimmed), a null unit, and a
/// `mg/L` record without a date and one without a value (counted all the same: the unit is
/// what is wrong with them) count (6); a convertible unit, another LOINC's `mg/L` (not a
/// definition's measure) and an orphan record (no patient) do not.
#[test]
fn unconvertible_units_are_counted_per_record() {
    let idx = date("2025-01-31");
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
    let mut inputs = empty_inputs(women(3, idx));
    let (day, value) = (Some(idx - 1), Some(10.0));
    type Row<'a> = (i64, &'a str, Option<&'a str>, Option<i32>, Option<f64>);
    let rows: [Row; 9] = [
        (1, "718-7", Some("mg/L"), day, value),
        (1, "718-7", Some("mg/L"), day, value),
        (2, "718-7", Some(" mg/L "), day, value),
        (2, "718-7", None, day, value),
        (2, "718-7", Some("mg/L"), None, value),
        (3, "718-7", Some("mg/L"), day, None),
        (3, "718-7", Some("g/dL"), day, value),
        (3, "2160-0", Some("mg/L"), day, value),
        (99, "718-7", Some("mg/L"), day, value),
    ];
    inputs.measurement = frame(vec![
        ids("person_id", &rows.map(|r| r.0)),
        s("loinc", &rows.map(|r| r.1)),
        dates("date", &rows.map(|r| r.3)),
        f("value", &rows.map(|r| r.4)),
        sn("unit", &rows.map(|r| r.2)),
        f("range_low", &[None; 9]),
        f("range_high", &[None; 9]),
    ]);
    let definition = hb_and_stroke();
    let by_row = patient_outcomes(&inputs, &definition, as_of).unwrap();
    assert_eq!(by_row.unconvertible_units, 6);
    // Folded as they are read with their checks (`Tables::fold`).
    let checks = [RowChecks::of(Table::Measurement, None, &TestSet::Partition)];
    let (folded, _) = patient_outcomes_checked(&inputs, &definition, as_of, &checks).unwrap();
    assert_eq!(folded.unconvertible_units, 6);
    assert_eq!(folded.patients, by_row.patients);
    let ids = col("person_id") * lit(1i64 << 40);
    let joined = patient_outcomes(&with_ids(&inputs, ids), &definition, as_of).unwrap();
    assert_eq!(joined.unconvertible_units, 6);
}

/// A `latest` key's last bit is read as `key & 1`: polars' integer `%` is floored, so `& 1`
/// gives what `% 2` gives for every Int32 key, negative ones (dates before 1696) too; nulls stay
/// null.
#[test]
fn a_keys_last_bit_is_its_floored_remainder() {
    let keys = [
        Some(-3i32),
        Some(-2),
        Some(-1),
        Some(0),
        Some(1),
        Some(2),
        Some(3),
        Some(i32::MIN),
        Some(i32::MAX),
        None,
    ];
    let frame = df!("key" => keys).unwrap();
    let bits = frame
        .lazy()
        .select([
            col("key").and(lit(1i32)).alias("and"),
            (col("key") % lit(2i32)).alias("rem"),
        ])
        .collect()
        .unwrap();
    let column = |name: &str| -> Vec<Option<i32>> {
        bits.column(name).unwrap().i32().unwrap().iter().collect()
    };
    let want = [1, 0, 1, 0, 1, 0, 1, 0, 1]
        .map(Some)
        .into_iter()
        .chain([None]);
    assert_eq!(column("and"), want.clone().collect::<Vec<_>>());
    assert_eq!(column("rem"), want.collect::<Vec<_>>());
}

#[test]
fn polars_boolean_logic_is_kleene() {
    // The engine relies on it: unknown or true = true, unknown and false = false.
    let df = df!(
        "a" => [Some(true), Some(false), None, None, None],
        "b" => [None, None, Some(true), Some(false), None]
    )
    .unwrap();
    let out = df
        .lazy()
        .select([
            col("a").or(col("b")).alias("or"),
            col("a").and(col("b")).alias("and"),
        ])
        .collect()
        .unwrap();
    let or: Vec<Option<bool>> = out.column("or").unwrap().bool().unwrap().iter().collect();
    let and: Vec<Option<bool>> = out.column("and").unwrap().bool().unwrap().iter().collect();
    assert_eq!(or, vec![Some(true), None, Some(true), None, None]);
    assert_eq!(and, vec![None, Some(false), None, Some(false), None]);
}

/// E8/E9-shaped cohort criteria for three drugs with overlapping ATC lists. The drug's ATC match
/// alone or and-ed with parts that do not name the drug is computed for every drug at once (a bit
/// per drug); the same criteria with the match written `not not` take the per-drug path, and
/// both must give the outcomes worked out by hand.
#[test]
fn drug_atc_matches_for_every_drug_at_once() {
    let idx = date("2025-01-31");
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
    let mut inputs = empty_inputs(six_women(idx));
    inputs.treatment = frame(vec![
        ids("person_id", &[1, 2, 3, 4, 5]),
        sn(
            "atc",
            &[
                Some("L01EC01"),   // A and B (L01E*), 100 days before
                Some("L01FF05"),   // C, 10 days before
                Some(" l01ee02 "), // A and B once normalized, 100 days before
                Some("L01EC01"),   // after the index date: not used
                None,              // no code: matches nothing
            ],
        ),
        s("kind", &["systemic"; 5]),
        dates(
            "start_date",
            &[
                Some(idx - 100),
                Some(idx - 10),
                Some(idx - 100),
                Some(idx + 5),
                Some(idx - 100),
            ],
        ),
        dates("end_date", &[None; 5]),
    ]);
    inputs.observation = frame(vec![
        ids("person_id", &[1, 2, 3, 6]),
        s("code", &["allergy"; 4]),
        dates(
            "date",
            &[
                Some(idx - 50),
                Some(idx - 50),
                Some(idx - 50),
                Some(idx + 1),
            ],
        ),
        f("value_num", &[None; 4]),
        sn(
            "value_text",
            &[
                Some(" l01ee02 "), // A and B
                Some("J01CA04"),   // amoxicillin: none
                Some("L01FF05"),   // C
                Some("L01EC01"),   // after the index date: not used
            ],
        ),
    ]);

    let drug = |name: &str, atc: &[&str]| Drug {
        name: name.into(),
        atc: atc.iter().map(|a| a.to_string()).collect(),
        route: Route::Oral,
        resistance: vec![],
        criteria: vec![],
        source: String::new(),
    };
    let treated = |filter: RecordCond| {
        Cond::Any(Query {
            source: Source::Treatment(None),
            window: Window::UpToIndex,
            filter: Some(filter),
        })
    };
    let allergic = |filter: RecordCond| {
        Cond::Any(Query {
            source: Source::Observation(0),
            window: Window::UpToIndex,
            filter: Some(filter),
        })
    };
    let fused = |m: RecordCond| m;
    let per_drug = |m: RecordCond| RecordCond::Not(Box::new(RecordCond::Not(Box::new(m))));
    let mut cohort_criteria = Vec::new();
    for wrap in [fused, per_drug] {
        let atc = || wrap(RecordCond::AtcIsDrugAtc);
        for rule in [
            treated(atc()),
            treated(RecordCond::And(vec![
                atc(),
                RecordCond::StartedAtLeastDaysBefore(30),
            ])),
            treated(RecordCond::And(vec![
                atc(),
                RecordCond::Person(Box::new(Cond::Unknown)),
            ])),
            allergic(wrap(RecordCond::ValueIsDrugAtc)),
        ] {
            let id = format!("C{}", cohort_criteria.len());
            cohort_criteria.push(criterion(
                &id,
                CriterionKind::Exclusion,
                rule,
                MissingRule::Unknown,
            ));
        }
    }
    let mut definition = hb_and_stroke();
    definition.observations = vec![ObservationDef {
        name: "allergy".into(),
        code: "allergy".into(),
        kind: ValueKind::Text,
        number_domain: None,
        text_domain: None,
    }];
    definition.cohort_criteria = cohort_criteria;
    definition.drugs = vec![
        drug("A", &["L01EC01", "L01EE02"]),
        drug("B", &["L01E*"]),
        drug("C", &["L01FF05"]),
    ];
    // The first criterion of every drug compiles to one word atom, the `not not` one to an
    // atom per drug.
    let mut compiler = Compiler::new(&definition);
    for (d, drug) in definition.drugs.iter().enumerate() {
        let ctx = Context {
            drug: Some((d, drug)),
        };
        for j in [0, 4] {
            // Compiling registers the atoms; the outcome expression is not needed here.
            let _outcome = compiler
                .criterion(&definition.cohort_criteria[j], ctx)
                .unwrap();
        }
    }
    let reduces: Vec<Reduce> = compiler.atoms()[&RecordTable::Treatment]
        .iter()
        .map(|atom| atom.reduce)
        .collect();
    assert_eq!(
        reduces,
        [Reduce::BitOr, Reduce::Max, Reduce::Max, Reduce::Max]
    );
    // The per-drug atoms read the treatments' codes as text; the word atoms alone do not.
    let codes_read = |criteria: &[Criterion]| {
        let mut compiler = Compiler::new(&definition);
        for (d, drug) in definition.drugs.iter().enumerate() {
            let ctx = Context {
                drug: Some((d, drug)),
            };
            for criterion in criteria {
                let _outcome = compiler.criterion(criterion, ctx).unwrap();
            }
        }
        compiler.key_rules().treatments.unwrap().codes_read
    };
    assert!(codes_read(&definition.cohort_criteria));
    assert!(!codes_read(&definition.cohort_criteria[..4]));

    let patients = patient_outcomes(&inputs, &definition, as_of)
        .unwrap()
        .patients;
    let outcome = |d: usize, j: usize| -> Vec<u8> {
        let column = patients.column(&drug_criterion_column(d, j)).unwrap();
        column.u8().unwrap().iter().map(|v| v.unwrap()).collect()
    };
    let (p, f, u) = (PASS, FAIL, UNKNOWN);
    // Patients 1-6; per drug: treated before, treated 30+ days before, treated and an unknown
    // part, allergic.
    let expected = [
        // A: patients 1 and 3 treated 100 days before (3 once normalized), 1 allergic.
        [
            [f, p, f, p, p, p],
            [f, p, f, p, p, p],
            [u, p, u, p, p, p],
            [f, p, p, p, p, p],
        ],
        // B (L01E*): the same patients as A.
        [
            [f, p, f, p, p, p],
            [f, p, f, p, p, p],
            [u, p, u, p, p, p],
            [f, p, p, p, p, p],
        ],
        // C: patient 2 treated 10 days before (not 30), 3 allergic.
        [
            [p, f, p, p, p, p],
            [p, p, p, p, p, p],
            [p, u, p, p, p, p],
            [p, p, f, p, p, p],
        ],
    ];
    for (d, rules) in expected.iter().enumerate() {
        for (j, want) in rules.iter().enumerate() {
            assert_eq!(outcome(d, j), want.to_vec(), "drug {d}, criterion {j}");
            assert_eq!(outcome(d, j + 4), want.to_vec(), "drug {d}, per-drug {j}");
        }
    }
    // Read into memory with their checks, as a run reads its tables: the treatments' words
    // from the codes read as text (the per-drug atoms read them), or, for the word atoms alone,
    // from the codes read as keys of their words only; the observations' drug words in the
    // mapping of their texts to text keys. The same answers.
    let checks = [Table::Treatment, Table::Observation]
        .map(|table| RowChecks::of(table, None, &TestSet::Partition));
    let checked = |definition: &Definition| {
        patient_outcomes_checked(&inputs, definition, as_of, &checks)
            .unwrap()
            .0
            .patients
    };
    assert_eq!(checked(&definition), patients);
    let mut word_atoms_only = definition.clone();
    word_atoms_only.cohort_criteria.truncate(4);
    let keyed = checked(&word_atoms_only);
    for (d, j) in (0..3).flat_map(|d| (0..4).map(move |j| (d, j))) {
        let column = drug_criterion_column(d, j);
        let column = keyed.column(&column).unwrap();
        assert_eq!(column, patients.column(column.name()).unwrap(), "{d}, {j}");
    }
    // Sparse and string ids reduce the atoms in polars' group-by (bitwise or, max): the same.
    for other_ids in [
        col("person_id") * lit(1i64 << 40),
        (col("person_id") + lit(100i64)).cast(DataType::String),
    ] {
        let joined = patient_outcomes(&with_ids(&inputs, other_ids), &definition, as_of)
            .unwrap()
            .patients;
        assert_eq!(
            joined.drop("person_id").unwrap(),
            patients.drop("person_id").unwrap()
        );
    }
}

/// The parallel ranges cover a table's rows in order, the last one short; their parts are
/// concatenated in order.
#[test]
fn ranges_cover_the_rows_in_order() {
    let ranges = super::in_parallel((1 << 19) + 5, |offset, len| (offset, len));
    assert_eq!(ranges, [(0, 1 << 18), (1 << 18, 1 << 18), (1 << 19, 5)]);
    assert!(super::in_parallel(0, |offset, len| (offset, len)).is_empty());
    let parts = [vec![1, 2], vec![], vec![3]];
    assert_eq!(
        super::concatenated(parts.iter().map(Vec::as_slice), 3),
        [1, 2, 3]
    );
}
