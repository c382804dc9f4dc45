//! Test helpers: a small trial definition and a mask table built from per-patient outcome
//! patterns (`"PFUN"`: pass, fail, unknown, n/a per column), run through the report builder.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use eligo::definition::model::*;
use eligo::engine::mask::{CohortColumns, MaskRow, MaskTable, Outcome, Outcomes, Stratum};
use eligo::extract::{ColumnQuality, DataQuality, Table, TableQuality};
use eligo::report::{
    self, Disclosure, Manifest, OutputFolder, ReportError, ReportInput, Reports, RunInfo,
};

#[derive(Debug, Clone)]
pub struct Fixture {
    criteria: Vec<String>,
    cohorts: Vec<(String, Vec<String>, Vec<u32>, u32)>,
    strata: Vec<Stratum>,
    rows: Vec<MaskRow>,
}

fn stratum(region: &str, site: &str, group: &str, sex: &str, age: &str) -> Stratum {
    Stratum {
        region: region.into(),
        site: site.into(),
        tumour_group: group.into(),
        sex: sex.into(),
        age_band: age.into(),
    }
}

/// An attrition order of `criteria` criteria from `seed`: rotated, and reversed for odd seeds.
pub fn order(criteria: usize, seed: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..criteria).collect();
    order.rotate_left(seed % criteria);
    if seed % 2 == 1 {
        order.reverse();
    }
    order
}

pub fn outcome(c: char) -> Outcome {
    match c {
        'P' => Outcome::Pass,
        'F' => Outcome::Fail,
        'U' => Outcome::Unknown,
        'N' => Outcome::NotApplicable,
        other => panic!("unknown outcome letter {other}"),
    }
}

fn criterion(id: &str) -> Criterion {
    Criterion {
        id: id.into(),
        text: format!("{id} text"),
        kind: if id.starts_with('E') {
            CriterionKind::Exclusion
        } else {
            CriterionKind::Inclusion
        },
        applies_if: None,
        rule: Cond::Const(true),
        missing: MissingRule::Unknown,
        proxy: id == "C",
        source: None,
        rule_text: String::new(),
        missing_text: "unknown".into(),
    }
}

impl Fixture {
    /// General criteria `ids`; strata 0 (North, H1, lung, F, 60-69) and 1 (South, H2,
    /// colorectal, M, 70-79).
    pub fn new(ids: &[&str]) -> Fixture {
        Fixture {
            criteria: ids.iter().map(|s| s.to_string()).collect(),
            cohorts: Vec::new(),
            strata: vec![
                stratum("North", "H1", "lung", "F", "60-69"),
                stratum("South", "H2", "colorectal", "M", "70-79"),
            ],
            rows: Vec::new(),
        }
    }

    /// Another stratum that differs from the others by region only (site H9, other, F, 50-59).
    pub fn stratum(&mut self, region: &str) -> usize {
        self.strata
            .push(stratum(region, "H9", "other", "F", "50-59"));
        self.strata.len() - 1
    }

    pub fn cohort(&mut self, id: &str, criteria: &[&str], stages: &[u32], enrolled: u32) {
        self.cohorts.push((
            id.into(),
            criteria.iter().map(|s| s.to_string()).collect(),
            stages.to_vec(),
            enrolled,
        ));
    }

    /// `n` patients (or matched pairs of `cohort`) with outcomes `pattern` in `stratum`.
    pub fn patients(&mut self, cohort: Option<usize>, stratum: usize, pattern: &str, n: u64) {
        let outcomes = Outcomes::from_slice(&pattern.chars().map(outcome).collect::<Vec<_>>());
        if let Some(row) = self
            .rows
            .iter_mut()
            .find(|r| r.cohort == cohort && r.stratum == stratum && r.outcomes == outcomes)
        {
            row.patients += n;
            return;
        }
        self.rows.push(MaskRow {
            cohort,
            stratum,
            outcomes,
            patients: n,
        });
    }

    pub fn reverse_rows(&mut self) {
        self.rows.reverse();
    }

    pub fn masks(&self) -> MaskTable {
        MaskTable {
            criteria: self.criteria.clone(),
            cohorts: self
                .cohorts
                .iter()
                .map(|(id, criteria, _, _)| CohortColumns {
                    id: id.clone(),
                    criteria: criteria.clone(),
                })
                .collect(),
            strata: self.strata.clone(),
            rows: self.rows.clone(),
        }
    }

    pub fn definition(&self) -> Definition {
        Definition {
            path: "pipelines/test.toml".into(),
            hash: "0123456789abcdef".into(),
            trial: Trial {
                id: "TEST-1".into(),
                title: "A test trial".into(),
                registration: "NCT00000000".into(),
                horizon_months: 24.0,
                stages: vec![8, 24],
            },
            code_sets: Vec::new(),
            measures: Vec::new(),
            observations: Vec::new(),
            tumour_groups: Vec::new(),
            criteria: self.criteria.iter().map(|id| criterion(id)).collect(),
            not_assessable: vec![NotAssessable {
                id: "I12".into(),
                text: "informed consent".into(),
                reason: "no consent data in a registry".into(),
            }],
            cohort_criteria: Vec::new(),
            drugs: vec![Drug {
                name: "drug-a".into(),
                atc: vec!["L01EC01".into()],
                route: Route::Oral,
                resistance: Vec::new(),
                criteria: Vec::new(),
                source: "SmPC".into(),
            }],
            cohorts: self
                .cohorts
                .iter()
                .map(|(id, _, stages, enrolled)| Cohort {
                    id: id.clone(),
                    drug: 0,
                    biomarkers: Vec::new(),
                    biomarker_label: "BRAF V600E".into(),
                    tumour_groups: Vec::new(),
                    tumour_label: "solid tumours".into(),
                    on_label: Vec::new(),
                    stages: stages.clone(),
                    enrolled: *enrolled,
                    source: "protocol".into(),
                })
                .collect(),
        }
    }

    /// 2020-01-01..2023-12-31: 1461 days, exactly 4.0 years of 365.25 days.
    pub fn run(&self) -> RunInfo {
        RunInfo {
            registry: Some("Test registry".into()),
            as_of: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            period_start: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            period_end: NaiveDate::from_ymd_opt(2023, 12, 31).unwrap(),
        }
    }

    /// person: 70 rows, sex with 2 nulls (a small count); measurement absent.
    pub fn quality(&self) -> DataQuality {
        DataQuality {
            tables: vec![
                TableQuality {
                    table: Table::Person,
                    present: true,
                    rows: 70,
                    columns: vec![ColumnQuality {
                        column: "sex".into(),
                        nulls: 2,
                        ..Default::default()
                    }],
                },
                TableQuality {
                    table: Table::Measurement,
                    present: false,
                    rows: 0,
                    columns: Vec::new(),
                },
            ],
        }
    }

    pub fn build(&self, disclosure: Disclosure) -> Result<Reports, ReportError> {
        let (definition, masks, quality, run) =
            (self.definition(), self.masks(), self.quality(), self.run());
        let mut manifest = Manifest::new(&definition, &run);
        manifest.add_timing("evaluate", 0.25);
        report::build(&ReportInput {
            definition: &definition,
            masks: &masks,
            quality: &quality,
            run: &run,
            disclosure,
            manifest: &manifest,
        })
    }

    /// Every file as text, by name.
    pub fn render(&self, disclosure: Disclosure) -> BTreeMap<String, String> {
        let reports = self.build(disclosure).unwrap();
        reports
            .render()
            .unwrap()
            .into_iter()
            .map(|(name, bytes)| (name.to_string(), String::from_utf8(bytes).unwrap()))
            .collect()
    }

    pub fn csv(&self, disclosure: Disclosure, name: &str) -> String {
        self.render(disclosure)[name].clone()
    }

    /// Writes the reports into `target` as a run does: temp folder, then commit.
    pub fn write_to(&self, target: &Path, disclosure: Disclosure) {
        let reports = self.build(disclosure).unwrap();
        let out = OutputFolder::create(target).unwrap();
        reports.write(out.path()).unwrap();
        out.commit().unwrap();
    }
}

/// CSV text as rows of column -> value.
pub fn rows(csv: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// `data-cell="key">text<` pairs of report.html, unescaped.
pub fn html_cells(html: &str) -> BTreeMap<String, String> {
    let re = regex::Regex::new(r#"data-cell="([^"]*)">([^<]*)<"#).unwrap();
    re.captures_iter(html)
        .map(|c| (unescape(&c[1]), unescape(&c[2])))
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}
