//! The charts of report.html as inline SVG (plotters, SVG backend, no fonts embedded): the
//! attrition funnel, the criterion impact and the cohort months-to-fill chart. They draw
//! published numbers only; a hidden count gets no bar, only its published text.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::cohorts::Months;
use super::disclosure::Published;
use super::tables::{AttritionRow, CohortRow, CriterionRow};
use super::ReportError;

pub const NAVY: RGBColor = RGBColor(31, 78, 121);
pub const TEAL: RGBColor = RGBColor(42, 157, 143);
pub const AMBER: RGBColor = RGBColor(233, 176, 66);
pub const RED: RGBColor = RGBColor(192, 57, 43);
const GREY: RGBColor = RGBColor(120, 120, 120);

/// One series of a horizontal bar chart: a value per category (None: hidden) and its text.
pub struct Series {
    pub color: RGBColor,
    pub values: Vec<Option<f64>>,
    pub texts: Vec<String>,
}

fn chart_error(e: impl std::fmt::Display) -> ReportError {
    ReportError::Render {
        what: "a chart".into(),
        message: e.to_string(),
    }
}

/// Horizontal grouped bars, one group per category from top to bottom, with an optional
/// vertical reference line (value, label).
pub fn hbars(
    labels: &[String],
    series: &[Series],
    x_desc: &str,
    line: Option<(f64, &str)>,
) -> Result<String, ReportError> {
    let n = labels.len().max(1);
    let groups = series.len().max(1);
    let bar = 13u32;
    let row = bar * groups as u32 + 10;
    let height = 50 + row * n as u32;
    let width = 900u32;
    let label_width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(4) as u32 * 7 + 16;
    let mut max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0f64, |a, b| a.max(*b));
    if let Some((x, _)) = line {
        max = max.max(x);
    }
    let max = if max <= 0.0 { 1.0 } else { max * 1.18 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(8)
            .margin_right(24)
            .margin_left(8)
            .x_label_area_size(40)
            .y_label_area_size(label_width.min(360))
            .build_cartesian_2d(0f64..max, 0f64..n as f64)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .light_line_style(RGBColor(238, 238, 238))
            .bold_line_style(RGBColor(220, 220, 220))
            .x_labels(8)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .x_desc(x_desc)
            .label_style(("sans-serif", 12))
            .axis_desc_style(("sans-serif", 12))
            .draw()
            .map_err(chart_error)?;
        let slot = 1.0 / (groups as f64 + 0.8);
        for (g, s) in series.iter().enumerate() {
            for (i, value) in s.values.iter().enumerate() {
                // Category i sits at the top: its band is [n-i-1, n-i].
                let top = n as f64 - i as f64 - 0.4 * slot - g as f64 * slot;
                let bottom = top - slot * 0.92;
                if let Some(v) = value {
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(0.0, bottom), (*v, top)],
                            s.color.filled(),
                        )))
                        .map_err(chart_error)?;
                }
                let text = s.texts.get(i).cloned().unwrap_or_default();
                let (px, py) = chart.backend_coord(&(value.unwrap_or(0.0), (top + bottom) / 2.0));
                root.draw(&Text::new(
                    text,
                    (px + 4, py),
                    ("sans-serif", 11)
                        .into_font()
                        .color(&GREY)
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(chart_error)?;
            }
        }
        for (i, label) in labels.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(0.0, n as f64 - i as f64 - 0.5));
            root.draw(&Text::new(
                label.clone(),
                (px - 8, py),
                ("sans-serif", 12)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(chart_error)?;
        }
        if let Some((x, text)) = line {
            chart
                .draw_series(LineSeries::new(
                    [(x, 0.0), (x, n as f64)],
                    RED.stroke_width(2),
                ))
                .map_err(chart_error)?;
            let (px, py) = chart.backend_coord(&(x, n as f64));
            root.draw(&Text::new(
                text.to_string(),
                (px + 4, py + 2),
                ("sans-serif", 11)
                    .into_font()
                    .color(&RED)
                    .pos(Pos::new(HPos::Left, VPos::Top)),
            ))
            .map_err(chart_error)?;
        }
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

fn values(cells: &[Published]) -> Series {
    Series {
        color: NAVY,
        values: cells.iter().map(|p| p.count().map(|n| n as f64)).collect(),
        texts: cells.iter().map(|p| p.to_string()).collect(),
    }
}

/// The funnel: remaining possibly eligible and remaining eligible after each step.
pub fn attrition(rows: &[AttritionRow]) -> Result<String, ReportError> {
    let labels: Vec<String> = rows.iter().map(|r| r.criterion.clone()).collect();
    let mut possibly = values(
        &rows
            .iter()
            .map(|r| r.remaining_possibly_eligible)
            .collect::<Vec<_>>(),
    );
    possibly.color = AMBER;
    let mut eligible = values(
        &rows
            .iter()
            .map(|r| r.remaining_eligible)
            .collect::<Vec<_>>(),
    );
    eligible.color = NAVY;
    hbars(&labels, &[possibly, eligible], "patients remaining", None)
}

/// Per criterion: fails, sole exclusions and unknowns.
pub fn criteria(rows: &[CriterionRow]) -> Result<String, ReportError> {
    let labels: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut fail = values(&rows.iter().map(|r| r.fail).collect::<Vec<_>>());
    fail.color = RED;
    let mut sole = values(&rows.iter().map(|r| r.sole_exclusions).collect::<Vec<_>>());
    sole.color = NAVY;
    let mut unknown = values(&rows.iter().map(|r| r.unknown).collect::<Vec<_>>());
    unknown.color = AMBER;
    hbars(&labels, &[fail, sole, unknown], "patients", None)
}

/// Per cohort: months to fill stage 1 and stage 2 on certain eligibility, against the horizon.
/// Bars are capped at twice the horizon; `never` and hidden values get text only.
pub fn cohorts(rows: &[CohortRow], horizon: f64) -> Result<String, ReportError> {
    let labels: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let cap = horizon * 2.0;
    let stage = |s: usize, color: RGBColor| Series {
        color,
        values: rows
            .iter()
            .map(|r| match r.months_certain[s] {
                Some(Months::Range(lo, hi)) if lo == hi && lo.is_finite() => Some(lo.min(cap)),
                _ => None,
            })
            .collect(),
        texts: rows
            .iter()
            .map(|r| match r.months_certain[s] {
                Some(m) => format!("stage {}: {}", s + 1, m.text()),
                None => String::new(),
            })
            .collect(),
    };
    hbars(
        &labels,
        &[stage(0, TEAL), stage(1, NAVY)],
        "months to fill (capped at twice the horizon)",
        Some((horizon, &format!("horizon {horizon:.0} months"))),
    )
}

/// Per cohort: eligible patients per year (published) against the yearly accrual that fills the
/// next open stage within the horizon.
pub fn accrual(rows: &[CohortRow], horizon: f64) -> Result<String, ReportError> {
    let labels: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let have = Series {
        color: TEAL,
        values: rows
            .iter()
            .map(|r| r.eligible_per_year.parse::<f64>().ok())
            .collect(),
        texts: rows
            .iter()
            .map(|r| format!("{} eligible a year", r.eligible_per_year))
            .collect(),
    };
    let needed: Vec<Option<(usize, f64)>> = rows
        .iter()
        .map(|r| {
            super::cohorts::next_stage(&r.stages, r.enrolled)
                .map(|(s, n)| (s, n as f64 * 12.0 / horizon.max(f64::MIN_POSITIVE)))
        })
        .collect();
    let need = Series {
        color: GREY,
        values: needed.iter().map(|n| n.map(|(_, v)| v)).collect(),
        texts: needed
            .iter()
            .map(|n| match n {
                Some((s, v)) => format!("{v:.1} a year fills stage {} in time", s + 1),
                None => "every stage full".to_string(),
            })
            .collect(),
    };
    hbars(&labels, &[have, need], "patients per year", None)
}
