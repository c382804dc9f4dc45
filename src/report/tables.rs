//! The published tables: rows that hold only disclosure-controlled numbers, and their CSV form
//! (fixed column order, fixed float formatting, rows in a fixed order: byte-identical for the same
//! inputs).

use super::cohorts::{Months, Reachable};
use super::disclosure::Published;
use super::ReportError;

/// Patients by status, as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headline {
    pub patients: Published,
    pub eligible: Published,
    pub possibly_eligible: Published,
    pub ineligible: Published,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttritionRow {
    pub step: usize,
    /// Criterion id; `all patients` at step 0.
    pub criterion: String,
    pub text: String,
    pub remaining_eligible: Published,
    /// No fail so far; includes the eligible ones.
    pub remaining_possibly_eligible: Published,
    /// None at step 0.
    pub excluded: Option<Published>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CriterionRow {
    pub id: String,
    pub text: String,
    /// `inclusion` or `exclusion`.
    pub kind: &'static str,
    /// The missing-data rule in words.
    pub missing: String,
    pub proxy: bool,
    pub source: String,
    pub pass: Published,
    pub fail: Published,
    pub unknown: Published,
    pub not_applicable: Published,
    pub sole_exclusions: Published,
    pub gain_if_relaxed: Published,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotAssessableRow {
    pub id: String,
    pub text: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CohortRow {
    pub id: String,
    pub drug: String,
    pub biomarker: String,
    pub tumour_group: String,
    pub matched: Published,
    pub eligible: Published,
    pub possibly_eligible: Published,
    pub eligible_per_year: String,
    pub possibly_per_year: String,
    /// Cumulative stage sizes and patients already enrolled.
    pub stages: Vec<u32>,
    pub enrolled: u32,
    /// Months to fill stage 1 and 2 on certain eligibility (None where the cohort has no such
    /// stage).
    pub months_certain: [Option<Months>; 2],
    /// Likewise on possible eligibility (eligible plus possibly eligible).
    pub months_possible: [Option<Months>; 2],
    /// `stage 1`, `stage 2`, or `full`.
    pub next_stage: String,
    pub reachable: Reachable,
    /// Empty where nobody fails or where the top fail count is below the threshold.
    pub top_excluding_criterion: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StratumRow {
    pub dimension: String,
    pub value: String,
    pub patients: Published,
    pub eligible: Published,
    pub possibly_eligible: Published,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QualityRow {
    pub table: String,
    pub present: bool,
    /// Empty for a table without column findings.
    pub column: String,
    pub rows: Published,
    pub nulls: Option<Published>,
    pub out_of_domain: Option<Published>,
    pub unconvertible_units: Option<Published>,
    pub orphan_rows: Option<Published>,
}

fn opt(p: &Option<Published>) -> String {
    p.map(|p| p.to_string()).unwrap_or_default()
}

fn months(m: &Option<Months>) -> String {
    m.map(|m| m.cell()).unwrap_or_default()
}

/// Writes a header and rows as CSV bytes.
pub fn csv_bytes(header: &[&str], rows: Vec<Vec<String>>) -> Result<Vec<u8>, ReportError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let render = |e: csv::Error| ReportError::Render {
        what: "CSV".into(),
        message: e.to_string(),
    };
    writer.write_record(header).map_err(render)?;
    for row in rows {
        writer.write_record(&row).map_err(render)?;
    }
    writer.into_inner().map_err(|e| ReportError::Render {
        what: "CSV".into(),
        message: e.to_string(),
    })
}

pub const ATTRITION_HEADER: [&str; 6] = [
    "step",
    "criterion",
    "text",
    "remaining_eligible",
    "remaining_possibly_eligible",
    "excluded",
];

pub fn attrition_csv(rows: &[AttritionRow]) -> Result<Vec<u8>, ReportError> {
    csv_bytes(
        &ATTRITION_HEADER,
        rows.iter()
            .map(|r| {
                vec![
                    r.step.to_string(),
                    r.criterion.clone(),
                    r.text.clone(),
                    r.remaining_eligible.to_string(),
                    r.remaining_possibly_eligible.to_string(),
                    opt(&r.excluded),
                ]
            })
            .collect(),
    )
}

pub const CRITERIA_HEADER: [&str; 14] = [
    "id",
    "text",
    "kind",
    "missing_rule",
    "proxy",
    "assessable",
    "pass",
    "fail",
    "unknown",
    "n/a",
    "sole_exclusions",
    "gain_if_relaxed",
    "source",
    "not_assessable_reason",
];

/// Assessable criteria, then the not-assessable ones (no counts, with their reason).
pub fn criteria_csv(
    rows: &[CriterionRow],
    not_assessable: &[NotAssessableRow],
) -> Result<Vec<u8>, ReportError> {
    let mut out: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.text.clone(),
                r.kind.to_string(),
                r.missing.clone(),
                if r.proxy { "yes" } else { "no" }.to_string(),
                "yes".to_string(),
                r.pass.to_string(),
                r.fail.to_string(),
                r.unknown.to_string(),
                r.not_applicable.to_string(),
                r.sole_exclusions.to_string(),
                r.gain_if_relaxed.to_string(),
                r.source.clone(),
                String::new(),
            ]
        })
        .collect();
    out.extend(not_assessable.iter().map(|n| {
        let mut row = vec![n.id.clone(), n.text.clone()];
        row.extend(["", "", "", "no", "", "", "", "", "", "", ""].map(String::from));
        row.push(n.reason.clone());
        row
    }));
    csv_bytes(&CRITERIA_HEADER, out)
}

pub const COHORTS_HEADER: [&str; 18] = [
    "id",
    "drug",
    "biomarker",
    "tumour_group",
    "matched",
    "eligible",
    "possibly_eligible",
    "eligible_per_year",
    "possibly_per_year",
    "stages",
    "enrolled",
    "months_to_stage1",
    "months_to_stage2",
    "months_to_stage1_with_possible",
    "months_to_stage2_with_possible",
    "next_stage",
    "reachable",
    "top_excluding_criterion",
];

pub fn cohorts_csv(rows: &[CohortRow]) -> Result<Vec<u8>, ReportError> {
    csv_bytes(
        &COHORTS_HEADER,
        rows.iter()
            .map(|r| {
                vec![
                    r.id.clone(),
                    r.drug.clone(),
                    r.biomarker.clone(),
                    r.tumour_group.clone(),
                    r.matched.to_string(),
                    r.eligible.to_string(),
                    r.possibly_eligible.to_string(),
                    r.eligible_per_year.clone(),
                    r.possibly_per_year.clone(),
                    r.stages
                        .iter()
                        .map(|s| s.to_string())
                        .collect::<Vec<_>>()
                        .join(";"),
                    r.enrolled.to_string(),
                    months(&r.months_certain[0]),
                    months(&r.months_certain[1]),
                    months(&r.months_possible[0]),
                    months(&r.months_possible[1]),
                    r.next_stage.clone(),
                    r.reachable.as_str().to_string(),
                    r.top_excluding_criterion.clone(),
                ]
            })
            .collect(),
    )
}

pub const STRATA_HEADER: [&str; 5] = [
    "dimension",
    "value",
    "patients",
    "eligible",
    "possibly_eligible",
];

/// The totals (`all`, `all`) first, then every dimension.
pub fn strata_csv(headline: &Headline, rows: &[StratumRow]) -> Result<Vec<u8>, ReportError> {
    let mut out = vec![vec![
        "all".to_string(),
        "all".to_string(),
        headline.patients.to_string(),
        headline.eligible.to_string(),
        headline.possibly_eligible.to_string(),
    ]];
    out.extend(rows.iter().map(|r| {
        vec![
            r.dimension.clone(),
            r.value.clone(),
            r.patients.to_string(),
            r.eligible.to_string(),
            r.possibly_eligible.to_string(),
        ]
    }));
    csv_bytes(&STRATA_HEADER, out)
}

pub const QUALITY_HEADER: [&str; 8] = [
    "table",
    "present",
    "column",
    "rows",
    "nulls",
    "out_of_domain",
    "unconvertible_units",
    "orphan_rows",
];

pub fn quality_csv(rows: &[QualityRow]) -> Result<Vec<u8>, ReportError> {
    csv_bytes(
        &QUALITY_HEADER,
        rows.iter()
            .map(|r| {
                vec![
                    r.table.clone(),
                    if r.present { "yes" } else { "no" }.to_string(),
                    r.column.clone(),
                    r.rows.to_string(),
                    opt(&r.nulls),
                    opt(&r.out_of_domain),
                    opt(&r.unconvertible_units),
                    opt(&r.orphan_rows),
                ]
            })
            .collect(),
    )
}
