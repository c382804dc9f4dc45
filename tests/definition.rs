//! The definition language as a user meets it: the shipped IMPRESS-Norway definition loads into the
//! exact model that impress-norway.md describes; broken files give pointed, rustc-style errors
//! (snapshots); no input makes the parser panic; `eligo check --pipeline` exits 0 or 2.

use std::path::{Path, PathBuf};

use eligo::definition::model::*;
use eligo::definition::{load, parse_str, Definition};

fn shipped_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/impress-norway.toml")
}

fn shipped() -> Definition {
    match load(&shipped_path()) {
        Ok(d) => d,
        Err(diagnostics) => panic!("the shipped definition must load:\n{diagnostics}"),
    }
}

fn criterion<'a>(d: &'a Definition, id: &str) -> &'a Criterion {
    d.criteria
        .iter()
        .chain(&d.cohort_criteria)
        .chain(d.drugs.iter().flat_map(|x| &x.criteria))
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no criterion {id}"))
}

fn set(d: &Definition, name: &str) -> CodeSetId {
    d.code_sets
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no code set {name}"))
}

fn measure(d: &Definition, name: &str) -> MeasureId {
    d.measures
        .iter()
        .position(|m| m.name == name)
        .unwrap_or_else(|| panic!("no measure {name}"))
}

fn observation(d: &Definition, name: &str) -> ObservationId {
    d.observations
        .iter()
        .position(|m| m.name == name)
        .unwrap_or_else(|| panic!("no observation {name}"))
}

fn latest(source: Source, window: Window, test: Test) -> Cond {
    Cond::Latest {
        query: Query {
            source,
            window,
            filter: None,
        },
        test,
    }
}

#[test]
fn the_shipped_definition_has_every_criterion_of_the_protocol() {
    let d = shipped();
    let ids: Vec<&str> = d.criteria.iter().map(|c| c.id.as_str()).collect();
    // impress-norway.md, "General criteria", in table order.
    assert_eq!(
        ids,
        [
            "D0", "I1a", "I1b", "I1c", "I2", "I4a", "I4b", "I4c", "I4d", "I4e", "I4f", "I4g", "I5",
            "I6", "I7", "E2a", "E2b", "E2c", "E2d", "E3", "E4", "E5", "E6", "E10", "E12"
        ]
    );
    let na: Vec<&str> = d.not_assessable.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(na, ["I9", "I10", "I11", "I12", "E1", "E7"]);
    let cohort: Vec<&str> = d.cohort_criteria.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(cohort, ["I3", "E8", "E9", "E11"]);
    assert_eq!(d.trial.stages, [8, 24]);
    assert_eq!(d.trial.horizon_months, 24.0);
    assert_eq!(
        d.hash,
        blake3::hash(&std::fs::read(shipped_path()).unwrap())
            .to_hex()
            .to_string()
    );
}

#[test]
fn i4b_haemoglobin() {
    let d = shipped();
    let c = criterion(&d, "I4b");
    assert_eq!(c.kind, CriterionKind::Inclusion);
    assert_eq!(
        c.rule,
        latest(
            Source::Measure(measure(&d, "haemoglobin")),
            Window::WithinDays(30),
            Test::Compare(CmpOp::Gt, Quantity::Number(9.0))
        )
    );
    assert_eq!(
        c.applies_if,
        Some(Cond::Not(Box::new(Cond::PrimaryIn(set(
            &d,
            "haematological"
        )))))
    );
    assert_eq!(c.missing, MissingRule::Unknown);
    // g/L / 10 and mmol/L x 1.611 (impress-norway.md, I4b).
    let m = &d.measures[measure(&d, "haemoglobin")];
    assert_eq!(m.unit, "g/dL");
    assert_eq!(
        m.conversions,
        [
            Conversion {
                from: "g/L".into(),
                factor: 0.1
            },
            Conversion {
                from: "mmol/L".into(),
                factor: 1.611
            }
        ]
    );
}

#[test]
fn i4e_ast_limit_depends_on_liver_metastases() {
    let d = shipped();
    let c = criterion(&d, "I4e");
    let liver = Cond::Any(Query {
        source: Source::Diagnosis(Some(set(&d, "liver_metastasis"))),
        window: Window::UpToIndex,
        filter: None,
    });
    let limit = Quantity::If(
        Box::new(liver),
        Box::new(Quantity::Number(5.0)),
        Box::new(Quantity::Number(2.5)),
    );
    assert_eq!(
        c.rule,
        latest(
            Source::Measure(measure(&d, "ast_uln")),
            Window::WithinDays(30),
            Test::Compare(CmpOp::Lt, limit)
        )
    );
    let ast = &d.measures[measure(&d, "ast_uln")];
    assert_eq!(ast.unit, "xULN");
    assert_eq!(ast.value, MeasureValue::RatioToUln { fallback: 35.0 });
    // Bilirubin: fallback 21 umol/L; mg/dL x 17.1 into umol/L, umol/L itself x 1.
    let bili = &d.measures[measure(&d, "bilirubin_uln")];
    assert_eq!(bili.value, MeasureValue::RatioToUln { fallback: 21.0 });
    assert_eq!(
        bili.conversions,
        [
            Conversion {
                from: "umol/L".into(),
                factor: 1.0
            },
            Conversion {
                from: "mg/dL".into(),
                factor: 17.1
            }
        ]
    );
}

#[test]
fn i4g_renal_function_and_i5_markers() {
    let d = shipped();
    let renal = &d.measures[measure(&d, "renal_function")];
    assert_eq!(
        renal.value,
        MeasureValue::EgfrFromCreatinine {
            creatinine_loinc: vec!["2160-0".into()],
            // Creatinine into mg/dL: mg/dL itself, and umol/L / 88.42.
            creatinine_units: vec![
                Conversion {
                    from: "mg/dL".into(),
                    factor: 1.0
                },
                Conversion {
                    from: "umol/L".into(),
                    factor: 1.0 / 88.42
                },
            ]
        }
    );
    assert_eq!(renal.loinc, ["2164-2", "98979-8", "2160-0"]);
    // The result units: creatinine clearance in mL/min is taken as it is.
    assert_eq!(
        renal.conversions,
        vec![Conversion {
            from: "mL/min".into(),
            factor: 1.0
        }]
    );
    assert_eq!(
        criterion(&d, "I4g").rule,
        latest(
            Source::Measure(measure(&d, "renal_function")),
            Window::WithinDays(30),
            Test::Compare(CmpOp::Ge, Quantity::Number(40.0))
        )
    );
    let recist = latest(
        Source::Observation(observation(&d, "recist_measurable")),
        Window::UpToIndex,
        Test::In(vec!["true".into()]),
    );
    let ca125 = Cond::Confirmed(Box::new(Cond::And(vec![
        Cond::PrimaryIn(set(&d, "ovarian")),
        latest(
            Source::Measure(measure(&d, "ca125")),
            Window::WithinDays(30),
            Test::Compare(CmpOp::Gt, Quantity::Number(35.0)),
        ),
    ])));
    let psa = Cond::Confirmed(Box::new(Cond::And(vec![
        Cond::PrimaryIn(set(&d, "prostate")),
        latest(
            Source::Measure(measure(&d, "psa")),
            Window::WithinDays(30),
            Test::Compare(CmpOp::Gt, Quantity::Number(4.0)),
        ),
    ])));
    assert_eq!(criterion(&d, "I5").rule, Cond::Or(vec![recist, ca125, psa]));
}

#[test]
fn i6_e2c_e2d_e10_e12() {
    let d = shipped();
    assert_eq!(
        criterion(&d, "I6").rule,
        Cond::Any(Query {
            source: Source::MolecularTest,
            window: Window::UpToIndex,
            filter: Some(RecordCond::ApprovedLab)
        })
    );
    let e2c = criterion(&d, "E2c");
    assert_eq!(e2c.kind, CriterionKind::Exclusion);
    assert_eq!(
        e2c.missing,
        MissingRule::PassUnless(Cond::Any(Query {
            source: Source::Diagnosis(Some(set(&d, "brain_metastasis"))),
            window: Window::UpToIndex,
            filter: None
        }))
    );
    let e2d = criterion(&d, "E2d");
    assert_eq!(
        e2d.applies_if,
        Some(Cond::PrimaryIn(set(&d, "glioblastoma")))
    );
    assert_eq!(
        e2d.rule,
        Cond::Any(Query {
            source: Source::Treatment(Some(set(&d, "enzyme_inducing_antiepileptics"))),
            window: Window::Ongoing { grace_days: 14 },
            filter: None
        })
    );
    assert_eq!(e2d.missing, MissingRule::Pass);
    let e10 = criterion(&d, "E10");
    let filter = RecordCond::And(vec![
        RecordCond::Or(vec![
            RecordCond::CodeIn(set(&d, "anticancer_drugs")),
            RecordCond::KindIs("radiotherapy".into()),
        ]),
        RecordCond::Not(Box::new(RecordCond::And(vec![
            RecordCond::CodeIn(set(&d, "castration")),
            RecordCond::Person(Box::new(Cond::PrimaryIn(set(&d, "prostate")))),
        ]))),
        RecordCond::Not(Box::new(RecordCond::And(vec![
            RecordCond::CodeIn(set(&d, "megestrol")),
            RecordCond::StartedAtLeastDaysBefore(30),
        ]))),
    ]);
    assert_eq!(
        e10.rule,
        Cond::Any(Query {
            source: Source::Treatment(None),
            window: Window::Ongoing { grace_days: 0 },
            filter: Some(filter)
        })
    );
    assert_eq!(
        criterion(&d, "E12").applies_if,
        // Only men are n/a: a sex out of the contract's domain is treated as missing, and a
        // patient whose sex is unknown may be a woman, so E12 applies to them.
        Some(Cond::Not(Box::new(Cond::SexIn(vec!["M".into()]))))
    );
    assert!(criterion(&d, "E3").proxy);
    // Multi-line conditions are shown on one line in reports.
    assert_eq!(
        e10.rule_text,
        "any treatment ongoing where (atc in anticancer_drugs or kind is \"radiotherapy\") and not (atc in castration and primary in prostate) and not (atc in megestrol and started at least 30 days before index)"
    );
    assert_eq!(
        e2c.missing_text,
        "absence = pass, unless any brain_metastasis"
    );
    assert_eq!(criterion(&d, "E5").missing_text, "absence = pass");
    // E5: 4 months = 122 days.
    assert_eq!(
        criterion(&d, "E5").rule,
        Cond::Any(Query {
            source: Source::Diagnosis(Some(set(&d, "stroke_tia_mi"))),
            window: Window::WithinDays(122),
            filter: None
        })
    );
}

#[test]
fn cohorts_cite_sources_and_cohort_criteria_use_the_drug() {
    let d = shipped();
    assert!(d.cohorts.len() >= 20, "{} cohorts", d.cohorts.len());
    for c in &d.cohorts {
        assert!(!c.source.trim().is_empty(), "{} cites no source", c.id);
        assert!(!c.biomarkers.is_empty(), "{} has no biomarker", c.id);
        assert_eq!(c.stages, [8, 24]);
    }
    let vem = d
        .cohorts
        .iter()
        .find(|c| c.id == "VEM-BRAF-CRC")
        .expect("VEM-BRAF-CRC");
    assert_eq!(d.drugs[vem.drug].atc, ["L01EC01", "L01EE02"]);
    assert_eq!(d.drugs[vem.drug].route, Route::Oral);
    assert_eq!(vem.tumour_label, "Colorectal cancer");
    assert_eq!(
        criterion(&d, "I3").applies_if,
        Some(Cond::DrugRouteIs(Route::Oral))
    );
    assert_eq!(criterion(&d, "E11").rule, Cond::ResistanceBiomarker);
    let erlotinib = d
        .drugs
        .iter()
        .find(|x| x.name == "erlotinib")
        .expect("erlotinib");
    assert_eq!(
        erlotinib.resistance,
        [Biomarker {
            gene: "EGFR".into(),
            class: Some("snv".into()),
            alteration: Some("T790M".into()),
            min_value: None
        }]
    );
    // Vemurafenib's QTc limit is a drug criterion (E13), in ms.
    assert_eq!(
        criterion(&d, "E13-QTc-vemurafenib").rule,
        latest(
            Source::Measure(measure(&d, "qtc")),
            Window::WithinDays(30),
            Test::Compare(CmpOp::Gt, Quantity::Number(500.0))
        )
    );
}

/// A minimal valid file, to which each error test adds its mistake.
const BASE: &str = r#"[trial]
id = "T"
registration = "NCT0"
title = "t"
horizon_months = 24
stages = [8, 24]

[codes]
haematological = "icd10: C81-C96"

[measures.haemoglobin]
loinc = ["718-7"]
unit = "g/dL"
convert = { "g/L" = "/ 10" }

[observations.ecog]
code = "89247-1"
value = "number 0..5"
"#;

fn errors_of(extra: &str) -> String {
    let text = format!("{BASE}{extra}");
    match parse_str(Path::new("trial.toml"), &text) {
        Ok(_) => panic!("expected errors for:\n{extra}"),
        Err(d) => d.to_string(),
    }
}

#[test]
fn a_threshold_in_a_declared_unit_is_converted() {
    let text = format!("{BASE}[[criterion]]\nid = \"I4b\"\ntext = \"Hb\"\ninclude_if = \"latest haemoglobin within 30 days > 90 g/L\"\n");
    let d = parse_str(Path::new("t.toml"), &text).expect("valid");
    // 90 g/L / 10 = 9 g/dL.
    assert_eq!(
        d.criteria[0].rule,
        latest(
            Source::Measure(0),
            Window::WithinDays(30),
            Test::Compare(CmpOp::Gt, Quantity::Number(9.0))
        )
    );
}

#[test]
fn snapshot_syntax_error() {
    insta::assert_snapshot!(errors_of("[[criterion]]\nid = \"I2\"\ntext = \"ECOG\"\ninclude_if = \"latest ecog within 30 <= 2\"\n"));
}

#[test]
fn snapshot_unknown_name_with_suggestion() {
    insta::assert_snapshot!(errors_of("[[criterion]]\nid = \"I4b\"\ntext = \"Hb\"\ninclude_if = \"latest haemoglbin within 30 days > 9 g/dL\"\n"));
}

#[test]
fn snapshot_unit_mismatch() {
    insta::assert_snapshot!(errors_of("[[criterion]]\nid = \"I4b\"\ntext = \"Hb\"\ninclude_if = \"latest haemoglobin within 30 days > 9 kg\"\n"));
}

#[test]
fn snapshot_duplicate_id() {
    insta::assert_snapshot!(errors_of(
        "[[criterion]]\nid = \"I2\"\ntext = \"a\"\ninclude_if = \"true\"\n\n[[criterion]]\nid = \"I2\"\ntext = \"b\"\ninclude_if = \"true\"\n"
    ));
}

#[test]
fn snapshot_cohort_naming_unknown_drug_and_group() {
    insta::assert_snapshot!(errors_of(
        "[tumour_groups]\ncolorectal = { label = \"CRC\", codes = \"icd10: C18-C20\" }\n\n[[drug]]\nname = \"vemurafenib\"\natc = [\"L01EC01\"]\nroute = \"oral\"\nsource = \"SmPC\"\n\n[[cohort]]\nid = \"C1\"\ndrug = \"vemurafenb\"\nbiomarker = [{ gene = \"BRAF\" }]\nbiomarker_label = \"BRAF\"\ntumour_groups = [\"colorectl\"]\nsource = \"x\"\n"
    ));
}

#[test]
fn snapshot_several_errors_at_once() {
    // A window that makes no sense, a cohort condition in a general criterion, a text test on a
    // code set, and a missing-data rule that does not exist: four errors, all reported.
    insta::assert_snapshot!(errors_of(
        "[[criterion]]\nid = \"E4\"\ntext = \"x\"\nexclude_if = 'any ecog ongoing'\n\n[[criterion]]\nid = \"E9\"\ntext = \"y\"\nexclude_if = 'any treatment where atc is drug atc'\n\n[[criterion]]\nid = \"E2\"\ntext = \"z\"\nexclude_if = 'latest haematological is \"x\"'\nmissing = \"sometimes\"\n"
    ));
}

#[test]
fn snapshot_bad_toml_and_bad_codes() {
    insta::assert_snapshot!(errors_of("[tumour_groups]\nlung = { label = \"Lung\", codes = \"icd10: C34, 3C, K92.0-K9\" }\nskin = { label = \"Skin\", codes = \"snomed: 1234\" }\n"));
    insta::assert_snapshot!(
        "bad_toml",
        errors_of("[[criterion]]\nid = \"I2\"\ntext = \"x\"\ninclude_iff = \"true\"\n")
    );
}

#[test]
fn check_command_exit_codes() {
    let ok = assert_cmd::Command::cargo_bin("eligo")
        .unwrap()
        .args(["check", "--pipeline"])
        .arg(shipped_path())
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&ok.get_output().stdout).to_string();
    assert!(
        stdout.starts_with("ok: 25 criteria, 24 cohorts"),
        "{stdout}"
    );

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        format!(
            "{BASE}[[criterion]]\nid = \"I2\"\ntext = \"x\"\ninclude_if = \"latest ecgo <= 2\"\n"
        ),
    )
    .unwrap();
    let failed = assert_cmd::Command::cargo_bin("eligo")
        .unwrap()
        .args(["check", "--pipeline"])
        .arg(&broken)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&failed.get_output().stderr).to_string();
    assert!(stderr.contains("unknown name `ecgo`"), "{stderr}");
    assert!(stderr.contains("did you mean `ecog`?"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no colour when not a terminal: {stderr}"
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            let _ = parse_str(Path::new("fuzz.toml"), &text);
        }

        #[test]
        fn arbitrary_conditions_never_panic(cond in "[a-z_ ()<>=!\\[\\]\",0-9./*'-]{0,80}") {
            let text = format!("{BASE}[[criterion]]\nid = \"X\"\ntext = \"x\"\ninclude_if = '{}'\n", cond.replace('\'', ""));
            if let Err(d) = parse_str(Path::new("fuzz.toml"), &text) {
                let _ = d.to_string();
            }
        }

        #[test]
        fn mutations_of_the_shipped_file_never_panic(at in 0usize..40_000, len in 0usize..40, insert in "\\PC{0,12}") {
            let shipped = std::fs::read_to_string(shipped_path()).unwrap();
            let mut start = at % (shipped.len() + 1);
            while !shipped.is_char_boundary(start) { start -= 1; }
            let mut end = (start + len).min(shipped.len());
            while !shipped.is_char_boundary(end) { end -= 1; }
            let mutated = format!("{}{}{}", &shipped[..start], insert, &shipped[end..]);
            if let Err(d) = parse_str(Path::new("fuzz.toml"), &mutated) {
                let _ = d.to_string();
            }
        }
    }
}

#[test]
fn errors_point_inside_the_string_or_at_a_string_with_escapes() {
    // A multi-line literal string: `ecgo` is on the 2nd line of the condition, after 4 spaces.
    let text = format!("{BASE}[[criterion]]\nid = \"I2\"\ntext = \"x\"\ninclude_if = '''\ntrue and\n    latest ecgo <= 2'''\n");
    let d = parse_str(Path::new("t.toml"), &text).unwrap_err();
    let span = d.errors()[0].span.clone().unwrap();
    assert_eq!(&text[span.clone()], "ecgo");
    // BASE has 18 lines; `[[criterion]]` is line 19, `include_if` 22, `true and` 23, `latest` 24;
    // `ecgo` follows 4 spaces and `latest `: column 12.
    assert_eq!(d.line_col(span.start), (24, 12));

    // With escapes the offsets inside the value differ from the file's: point at the string.
    let text = format!("{BASE}[[criterion]]\nid = \"I2\"\ntext = \"x\"\ninclude_if = \"latest ecgo is \\\"x\\\"\"\n");
    let d = parse_str(Path::new("t.toml"), &text).unwrap_err();
    let span = d.errors()[0].span.clone().unwrap();
    assert_eq!(&text[span], "\"latest ecgo is \\\"x\\\"\"");
}

#[test]
fn thresholds_need_the_right_unit() {
    let with_mmol = BASE.replace(
        "convert = { \"g/L\" = \"/ 10\" }",
        "convert = { \"g/L\" = \"/ 10\", \"mmol/L\" = \"x 1.611\" }",
    );
    let rule = |cond: &str| {
        format!("{with_mmol}[[criterion]]\nid = \"X\"\ntext = \"x\"\ninclude_if = '{cond}'\n")
    };
    // 5.6 mmol/L x 1.611 = 9.0216 g/dL.
    let d = parse_str(
        Path::new("t.toml"),
        &rule("latest haemoglobin > 5.6 mmol/L"),
    )
    .expect("valid");
    let Cond::Latest {
        test: Test::Compare(CmpOp::Gt, Quantity::Number(v)),
        ..
    } = &d.criteria[0].rule
    else {
        panic!("{:?}", d.criteria[0].rule)
    };
    assert!((v - 9.0216).abs() < 1e-12, "{v}");
    // A measure's threshold needs a unit; an observation's takes none.
    let no_unit = parse_str(Path::new("t.toml"), &rule("latest haemoglobin > 9"))
        .unwrap_err()
        .to_string();
    assert!(no_unit.contains("this threshold has no unit"), "{no_unit}");
    assert!(
        no_unit.contains("`haemoglobin` is in g/dL: write for example `9 g/dL`"),
        "{no_unit}"
    );
    let unit_on_ecog = parse_str(Path::new("t.toml"), &rule("latest ecog <= 2 points"))
        .unwrap_err()
        .to_string();
    assert!(
        unit_on_ecog.contains("`ecog` has no unit"),
        "{unit_on_ecog}"
    );
    // A text test on a number observation, and a comparison on a measure with `is`.
    let text_on_number = parse_str(Path::new("t.toml"), &rule("latest ecog is \"2\""))
        .unwrap_err()
        .to_string();
    assert!(
        text_on_number.contains("`ecog` is a number observation: a text test does not apply"),
        "{text_on_number}"
    );
}
