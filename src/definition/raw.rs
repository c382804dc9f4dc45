//! The definition file as TOML sees it: serde structures that keep the span of every string the
//! checker may need to point into. Unknown keys are rejected (a misspelt `exclude_if` must not be
//! silently ignored).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub type Text = Spanned<String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub trial: RawTrial,
    #[serde(default)]
    pub codes: BTreeMap<String, Text>,
    #[serde(default)]
    pub measures: BTreeMap<String, Spanned<RawMeasure>>,
    #[serde(default)]
    pub observations: BTreeMap<String, Spanned<RawObservation>>,
    #[serde(default)]
    pub tumour_groups: BTreeMap<String, Spanned<RawTumourGroup>>,
    #[serde(default)]
    pub criterion: Vec<RawCriterion>,
    #[serde(default)]
    pub not_assessable: Vec<RawNotAssessable>,
    #[serde(default)]
    pub cohort_criterion: Vec<RawCriterion>,
    #[serde(default)]
    pub drug: Vec<RawDrug>,
    #[serde(default)]
    pub cohort: Vec<RawCohort>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrial {
    pub id: String,
    pub title: String,
    pub registration: String,
    pub horizon_months: Spanned<f64>,
    pub stages: Spanned<Vec<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeasure {
    pub loinc: Vec<Text>,
    pub unit: Text,
    #[serde(default)]
    pub convert: BTreeMap<String, Text>,
    pub value: Option<Text>,
    pub uln_fallback: Option<Text>,
    /// Conversions of creatinine records into mg/dL (eGFR measures only).
    #[serde(default)]
    pub creatinine_convert: BTreeMap<String, Text>,
    pub domain: Option<Spanned<[f64; 2]>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawObservation {
    pub code: String,
    pub value: Text,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTumourGroup {
    pub label: String,
    pub codes: Text,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCriterion {
    pub id: Text,
    pub text: String,
    pub include_if: Option<Text>,
    pub exclude_if: Option<Text>,
    pub applies_if: Option<Text>,
    pub missing: Option<Text>,
    #[serde(default)]
    pub proxy: bool,
    pub source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotAssessable {
    pub id: Text,
    pub text: String,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBiomarker {
    pub gene: Text,
    pub class: Option<Text>,
    pub alteration: Option<String>,
    pub min_value: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDrug {
    pub name: Text,
    pub atc: Vec<Text>,
    pub route: Text,
    #[serde(default)]
    pub resistance: Vec<RawBiomarker>,
    pub source: String,
    #[serde(default)]
    pub criterion: Vec<RawCriterion>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCohort {
    pub id: Text,
    pub drug: Text,
    pub biomarker: Vec<RawBiomarker>,
    pub biomarker_label: String,
    pub tumour_groups: Vec<Text>,
    pub tumour_label: Option<String>,
    #[serde(default)]
    pub on_label: Vec<Text>,
    pub stages: Option<Vec<u32>>,
    #[serde(default)]
    pub enrolled: u32,
    pub source: String,
}
