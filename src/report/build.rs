//! Assembles the reports: computes every true count from the mask table, enters it in the
//! disclosure ledger with the relations a reader can see between published numbers, suppresses,
//! runs the attacker check, and keeps only the published values.

use std::time::Instant;

use super::aggregate;
use super::cohorts::{self, Known, Months, Reachable};
use super::disclosure::{CellId, Disclosure, Ledger, Published};
use super::tables::{
    AttritionRow, CohortRow, CriterionRow, Headline, NotAssessableRow, QualityRow, StratumRow,
};
use super::{attrition, criteria, quality, strata, ReportError, ReportInput, Reports};
use crate::definition::model::CriterionKind;

/// Computes every table from the mask table, suppresses small counts and the cells that would
/// reveal them, and checks as an attacker that nothing suppressed can be recovered.
pub fn build(input: &ReportInput) -> Result<Reports, ReportError> {
    let started = Instant::now();
    let d = input.disclosure;
    if d.min_cell < Disclosure::MIN_CELL_FLOOR {
        return Err(ReportError::MinCell(d.min_cell));
    }
    if d.round == 0 || (d.round > 1 && d.round < d.min_cell) {
        return Err(ReportError::Round {
            round: d.round,
            min_cell: d.min_cell,
        });
    }
    let run = input.run;
    if run.period_end < run.period_start {
        return Err(ReportError::Period {
            start: run.period_start,
            end: run.period_end,
        });
    }
    let (def, masks) = (input.definition, input.masks);
    check_fit(input)?;
    aggregate::check_shape(masks)?;
    let rows = aggregate::population(masks);
    let mut ledger = Ledger::new();

    // Headline: patients = eligible + possibly eligible + ineligible.
    let h = aggregate::headline(&rows);
    let patients = ledger.cell("patients (all)", h.patients);
    let eligible = ledger.cell("eligible (all)", h.eligible);
    let possibly = ledger.cell("possibly eligible (all)", h.possibly_eligible);
    let ineligible = ledger.cell("ineligible (all)", h.ineligible);
    ledger.sum(patients, &[eligible, possibly, ineligible]);

    // Criteria: pass + fail + unknown + n/a = patients.
    let n = masks.criteria.len();
    let mut criterion_cells = Vec::with_capacity(n);
    for (id, k) in masks.criteria.iter().zip(criteria::counts(&rows, n)) {
        let label = |col: &str| format!("criteria.csv: {id}, {col}");
        let cells = [
            ledger.cell(label("pass"), k.pass),
            ledger.cell(label("fail"), k.fail),
            ledger.cell(label("unknown"), k.unknown),
            ledger.cell(label("n/a"), k.not_applicable),
            ledger.cell(label("sole_exclusions"), k.sole_exclusions),
            ledger.cell(label("gain_if_relaxed"), k.gain_if_relaxed),
        ];
        ledger.sum(patients, &cells[..4]);
        criterion_cells.push(cells);
    }

    // Attrition in definition order. Step 0 is the population; the last step's remaining
    // eligible is the headline's eligible; each step: before - after = excluded.
    let order: Vec<usize> = (0..n).collect();
    let steps = attrition::waterfall(&rows, &order);
    let mut attrition_cells: Vec<(CellId, CellId, Option<CellId>)> =
        vec![(patients, patients, None)];
    for (i, step) in steps.iter().enumerate().skip(1) {
        let id = &masks.criteria[i - 1];
        let label = |col: &str| format!("attrition.csv: step {i} ({id}), {col}");
        let remaining_eligible = if i == n {
            eligible
        } else {
            ledger.cell(label("remaining_eligible"), step.remaining_eligible)
        };
        let remaining_possibly = ledger.cell(
            label("remaining_possibly_eligible"),
            step.remaining_possibly_eligible,
        );
        let excluded = ledger.cell(label("excluded"), step.excluded);
        let before = attrition_cells[i - 1].1;
        ledger.difference(before, remaining_possibly, excluded);
        if i == 1 {
            // The first step is the first criterion's own counts.
            let [pass, fail, unknown, na, _, _] = criterion_cells[0];
            ledger.sum(excluded, &[fail]);
            ledger.sum(remaining_possibly, &[pass, unknown, na]);
            ledger.sum(remaining_eligible, &[pass, na]);
        }
        if i == n {
            ledger.sum(remaining_possibly, &[eligible, possibly]);
            // The last step's drops are the last criterion's own counts: newly failing = fail
            // it and nothing else (sole exclusions); newly not passing while everything before
            // passes = gain if relaxed.
            let [_, _, _, _, sole, gain] = criterion_cells[n - 1];
            ledger.sum(excluded, &[sole]);
            ledger.difference(attrition_cells[i - 1].0, remaining_eligible, gain);
        }
        attrition_cells.push((remaining_eligible, remaining_possibly, Some(excluded)));
    }

    // Cohorts: matched, eligible, possibly eligible; ineligible is not published, but it is their
    // complement, so the ledger protects it as well.
    let mut cohort_counts = Vec::with_capacity(masks.cohorts.len());
    for (columns, crow) in masks.cohorts.iter().zip(aggregate::cohorts(masks)) {
        let k = cohorts::counts(&crow, n + columns.criteria.len());
        let label = |col: &str| format!("cohorts.csv: {}, {col}", columns.id);
        let cells = [
            ledger.cell(label("matched"), k.matched),
            ledger.cell(label("eligible"), k.eligible),
            ledger.cell(label("possibly_eligible"), k.possibly_eligible),
        ];
        let ineligible = ledger.unpublished(
            label("ineligible (not published)"),
            k.matched - k.eligible - k.possibly_eligible,
        );
        ledger.sum(cells[0], &[cells[1], cells[2], ineligible]);
        cohort_counts.push((cells, k.top_excluding));
    }

    // Strata: within each dimension the values add up to the totals.
    let strata_counts = strata::counts(&rows);
    let mut strata_cells = Vec::with_capacity(strata_counts.len());
    for dimension in crate::engine::mask::Stratum::DIMENSIONS {
        let mut parts = (Vec::new(), Vec::new(), Vec::new());
        for s in strata_counts.iter().filter(|s| s.dimension == dimension) {
            let label = |col: &str| format!("strata.csv: {}={}, {col}", s.dimension, s.value);
            let cells = [
                ledger.cell(label("patients"), s.patients),
                ledger.cell(label("eligible"), s.eligible),
                ledger.cell(label("possibly_eligible"), s.possibly_eligible),
            ];
            let ineligible = ledger.unpublished(
                label("ineligible (not published)"),
                s.patients - s.eligible - s.possibly_eligible,
            );
            ledger.sum(cells[0], &[cells[1], cells[2], ineligible]);
            parts.0.push(cells[0]);
            parts.1.push(cells[1]);
            parts.2.push(cells[2]);
            strata_cells.push(cells);
        }
        ledger.sum(patients, &parts.0);
        ledger.sum(eligible, &parts.1);
        ledger.sum(possibly, &parts.2);
    }

    // Data quality: record counts, suppressed like every count, no relations among them.
    let quality_rows = quality::rows(input.quality);
    let quality_cells: Vec<[Option<CellId>; 5]> = quality_rows
        .iter()
        .map(|q| {
            let label = |col: &str| format!("data_quality.csv: {}.{}, {col}", q.table, q.column);
            let mut cell = |col: &str, v: Option<u64>| v.map(|v| ledger.cell(label(col), v));
            [
                cell("rows", Some(q.rows)),
                cell("nulls", q.nulls),
                cell("out_of_domain", q.out_of_domain),
                cell("unconvertible_units", q.unconvertible_units),
                cell("orphan_rows", q.orphan_rows),
            ]
        })
        .collect();

    ledger.suppress(d).map_err(|leak| ReportError::Disclosure {
        cell: leak.cell,
        value: leak.value,
    })?;
    let published = ledger.publish(d);
    let p = |id: CellId| published[id.0];

    let headline = Headline {
        patients: p(patients),
        eligible: p(eligible),
        possibly_eligible: p(possibly),
        ineligible: p(ineligible),
    };
    let attrition = attrition_cells
        .iter()
        .enumerate()
        .map(|(i, (re, rp, x))| {
            let (criterion, text) = match i {
                0 => ("all patients".to_string(), String::new()),
                _ => (
                    def.criteria[i - 1].id.clone(),
                    def.criteria[i - 1].text.clone(),
                ),
            };
            AttritionRow {
                step: i,
                criterion,
                text,
                remaining_eligible: p(*re),
                remaining_possibly_eligible: p(*rp),
                excluded: x.map(p),
            }
        })
        .collect();
    let criteria = def
        .criteria
        .iter()
        .zip(&criterion_cells)
        .map(|(c, cells)| CriterionRow {
            id: c.id.clone(),
            text: c.text.clone(),
            kind: match c.kind {
                CriterionKind::Inclusion => "inclusion",
                CriterionKind::Exclusion => "exclusion",
            },
            missing: c.missing_text.clone(),
            proxy: c.proxy,
            source: c.source.clone().unwrap_or_default(),
            pass: p(cells[0]),
            fail: p(cells[1]),
            unknown: p(cells[2]),
            not_applicable: p(cells[3]),
            sole_exclusions: p(cells[4]),
            gain_if_relaxed: p(cells[5]),
        })
        .collect();
    let not_assessable = def
        .not_assessable
        .iter()
        .map(|n| NotAssessableRow {
            id: n.id.clone(),
            text: n.text.clone(),
            reason: n.reason.clone(),
        })
        .collect();
    let years = run.period_years();
    let cohorts = def
        .cohorts
        .iter()
        .zip(&masks.cohorts)
        .zip(&cohort_counts)
        .map(|((cohort, columns), (cells, top))| {
            let stages = if cohort.stages.is_empty() {
                def.trial.stages.clone()
            } else {
                cohort.stages.clone()
            };
            let certain = Known::of(p(cells[1]));
            let possible = certain.plus(Known::of(p(cells[2])));
            let months_at = |count: Known| -> [Option<Months>; 2] {
                [0, 1].map(|s| {
                    stages.get(s).map(|size| {
                        let needed = u64::from(size.saturating_sub(cohort.enrolled));
                        Months::to_fill(needed, count, years)
                    })
                })
            };
            let (next_stage, reachable) = match cohorts::next_stage(&stages, cohort.enrolled) {
                Some((s, needed)) => (
                    format!("stage {}", s + 1),
                    Months::to_fill(needed, certain, years).reachable(def.trial.horizon_months),
                ),
                None => ("full".to_string(), Reachable::Yes),
            };
            // The top excluding criterion says that some matched patients fail it: named only
            // where at least k do.
            let top_excluding_criterion = match top {
                Some((col, fails)) if *fails >= u64::from(d.min_cell) => {
                    if *col < n {
                        masks.criteria[*col].clone()
                    } else {
                        columns.criteria.get(col - n).cloned().unwrap_or_default()
                    }
                }
                _ => String::new(),
            };
            CohortRow {
                id: cohort.id.clone(),
                drug: def
                    .drugs
                    .get(cohort.drug)
                    .map(|drug| drug.name.clone())
                    .unwrap_or_default(),
                biomarker: cohort.biomarker_label.clone(),
                tumour_group: cohort.tumour_label.clone(),
                matched: p(cells[0]),
                eligible: p(cells[1]),
                possibly_eligible: p(cells[2]),
                eligible_per_year: certain.per_year(years),
                possibly_per_year: Known::of(p(cells[2])).per_year(years),
                months_certain: months_at(certain),
                months_possible: months_at(possible),
                stages: stages.clone(),
                enrolled: cohort.enrolled,
                next_stage,
                reachable,
                top_excluding_criterion,
            }
        })
        .collect();
    let strata = strata_counts
        .iter()
        .zip(&strata_cells)
        .map(|(s, cells)| StratumRow {
            dimension: s.dimension.to_string(),
            value: s.value.clone(),
            patients: p(cells[0]),
            eligible: p(cells[1]),
            possibly_eligible: p(cells[2]),
        })
        .collect();
    let quality = quality_rows
        .iter()
        .zip(&quality_cells)
        .map(|(q, cells)| QualityRow {
            table: q.table.clone(),
            present: q.present,
            column: q.column.clone(),
            rows: cells[0].map(p).unwrap_or(Published::Count(0)),
            nulls: cells[1].map(p),
            out_of_domain: cells[2].map(p),
            unconvertible_units: cells[3].map(p),
            orphan_rows: cells[4].map(p),
        })
        .collect();

    Ok(Reports {
        disclosure: d,
        trial_id: def.trial.id.clone(),
        trial_title: def.trial.title.clone(),
        registration: def.trial.registration.clone(),
        registry: run.registry.clone(),
        as_of: run.as_of,
        period_start: run.period_start,
        period_end: run.period_end,
        horizon_months: def.trial.horizon_months,
        definition_path: def.path.display().to_string(),
        definition_hash: def.hash.clone(),
        headline,
        attrition,
        criteria,
        not_assessable,
        cohorts,
        strata,
        quality,
        manifest: input.manifest.clone(),
        build_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The mask table's columns must be the definition's criteria and cohorts, in order.
fn check_fit(input: &ReportInput) -> Result<(), ReportError> {
    let (def, masks) = (input.definition, input.masks);
    let def_ids: Vec<&str> = def.criteria.iter().map(|c| c.id.as_str()).collect();
    let mask_ids: Vec<&str> = masks.criteria.iter().map(String::as_str).collect();
    if def_ids != mask_ids {
        return Err(ReportError::MaskShape(format!(
            "criteria {mask_ids:?} in the mask table, {def_ids:?} in the definition"
        )));
    }
    let def_cohorts: Vec<&str> = def.cohorts.iter().map(|c| c.id.as_str()).collect();
    let mask_cohorts: Vec<&str> = masks.cohorts.iter().map(|c| c.id.as_str()).collect();
    if def_cohorts != mask_cohorts {
        return Err(ReportError::MaskShape(format!(
            "cohorts {mask_cohorts:?} in the mask table, {def_cohorts:?} in the definition"
        )));
    }
    Ok(())
}
