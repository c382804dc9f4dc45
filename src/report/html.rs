//! report.html: one self-contained file for a steering committee (inline CSS and SVG, no
//! scripts, fonts or links to fetch), rendered by minijinja with HTML auto-escaping from the
//! published tables. Every count cell carries `data-cell="table/row/column"` for checking.

use minijinja::{context, Environment};
use serde_json::{json, Value};

use super::charts;
use super::disclosure::{percent, Published};
use super::ReportError;
use super::Reports;

const TEMPLATE: &str = include_str!("templates/report.html");

fn pct(part: Published, whole: Published) -> String {
    percent(part, whole)
        .map(|p| format!("{p:.1}%"))
        .unwrap_or_default()
}

fn render_error(e: impl std::fmt::Display) -> ReportError {
    ReportError::Render {
        what: "report.html".into(),
        message: e.to_string(),
    }
}

pub fn render(r: &Reports) -> Result<String, ReportError> {
    let h = &r.headline;
    let headline: Vec<Value> = [
        ("patients", "patients", h.patients),
        ("eligible", "eligible", h.eligible),
        (
            "possibly_eligible",
            "possibly eligible",
            h.possibly_eligible,
        ),
        ("ineligible", "ineligible", h.ineligible),
    ]
    .iter()
    .map(|(key, name, value)| {
        json!({"key": key, "name": name, "value": value.to_string(),
               "pct": if *key == "patients" { String::new() } else { pct(*value, h.patients) }})
    })
    .collect();
    let attrition: Vec<Value> = r
        .attrition
        .iter()
        .map(|a| {
            json!({"step": a.step, "criterion": a.criterion, "text": a.text,
                   "remaining_eligible": a.remaining_eligible.to_string(),
                   "remaining_eligible_pct": pct(a.remaining_eligible, h.patients),
                   "remaining_possibly_eligible": a.remaining_possibly_eligible.to_string(),
                   "remaining_possibly_eligible_pct": pct(a.remaining_possibly_eligible, h.patients),
                   "excluded": a.excluded.map(|x| x.to_string()).unwrap_or_default()})
        })
        .collect();
    let criteria: Vec<Value> = r
        .criteria
        .iter()
        .map(|c| {
            json!({"id": c.id, "text": c.text, "kind": c.kind, "missing": c.missing,
                   "proxy": c.proxy, "source": c.source,
                   "pass": c.pass.to_string(), "fail": c.fail.to_string(),
                   "unknown": c.unknown.to_string(), "not_applicable": c.not_applicable.to_string(),
                   "sole_exclusions": c.sole_exclusions.to_string(),
                   "gain_if_relaxed": c.gain_if_relaxed.to_string()})
        })
        .collect();
    let cohorts: Vec<Value> = r
        .cohorts
        .iter()
        .map(|c| {
            let months =
                |m: &Option<super::cohorts::Months>| m.map(|m| m.text()).unwrap_or_default();
            json!({"id": c.id, "drug": c.drug, "biomarker": c.biomarker,
                   "tumour_group": c.tumour_group, "matched": c.matched.to_string(),
                   "eligible": c.eligible.to_string(),
                   "possibly_eligible": c.possibly_eligible.to_string(),
                   "eligible_per_year": c.eligible_per_year,
                   "possibly_per_year": c.possibly_per_year,
                   "stages": c.stages.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" / "),
                   "enrolled": c.enrolled,
                   "stage1": months(&c.months_certain[0]), "stage2": months(&c.months_certain[1]),
                   "stage1_possible": months(&c.months_possible[0]),
                   "stage2_possible": months(&c.months_possible[1]),
                   "next_stage": c.next_stage, "reachable": c.reachable.as_str(),
                   "top": c.top_excluding_criterion})
        })
        .collect();
    let mut strata: Vec<Value> = Vec::new();
    for dimension in crate::engine::mask::Stratum::DIMENSIONS {
        let rows: Vec<Value> = r
            .strata
            .iter()
            .filter(|s| s.dimension == dimension)
            .map(|s| {
                json!({"value": s.value, "patients": s.patients.to_string(),
                       "eligible": s.eligible.to_string(),
                       "eligible_pct": pct(s.eligible, s.patients),
                       "possibly_eligible": s.possibly_eligible.to_string(),
                       "possibly_eligible_pct": pct(s.possibly_eligible, s.patients)})
            })
            .collect();
        strata.push(
            json!({"dimension": dimension.replace('_', " "), "key": dimension, "rows": rows}),
        );
    }
    let opt = |p: &Option<Published>| p.map(|p| p.to_string()).unwrap_or_default();
    let quality: Vec<Value> = r
        .quality
        .iter()
        .map(|q| {
            json!({"table": q.table, "present": q.present, "column": q.column,
                   "rows": q.rows.to_string(), "nulls": opt(&q.nulls),
                   "out_of_domain": opt(&q.out_of_domain),
                   "unconvertible_units": opt(&q.unconvertible_units),
                   "orphan_rows": opt(&q.orphan_rows)})
        })
        .collect();
    let not_assessable: Vec<Value> = r
        .not_assessable
        .iter()
        .map(|n| json!({"id": n.id, "text": n.text, "reason": n.reason}))
        .collect();
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(render_error)?;
    let template = env.get_template("report.html").map_err(render_error)?;
    template
        .render(context! {
            trial_id => r.trial_id,
            title => r.trial_title,
            registration => r.registration,
            registry => r.registry,
            as_of => r.as_of.to_string(),
            period_start => r.period_start.to_string(),
            period_end => r.period_end.to_string(),
            horizon => format!("{:.0}", r.horizon_months),
            definition_path => r.definition_path,
            definition_hash => r.definition_hash,
            version => env!("CARGO_PKG_VERSION"),
            rule => r.disclosure.rule(),
            min_cell => r.disclosure.min_cell,
            round => r.disclosure.round,
            headline => headline,
            attrition => attrition,
            criteria => criteria,
            not_assessable => not_assessable,
            cohorts => cohorts,
            strata => strata,
            quality => quality,
            attrition_chart => charts::attrition(&r.attrition)?,
            criteria_chart => charts::criteria(&r.criteria)?,
            accrual_chart => if r.cohorts.is_empty() { String::new() } else { charts::accrual(&r.cohorts, r.horizon_months)? },
            cohorts_chart => if r.cohorts.is_empty() { String::new() } else { charts::cohorts(&r.cohorts, r.horizon_months)? },
        })
        .map_err(render_error)
}
