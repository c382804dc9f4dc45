//! The short Markdown summary printed on stdout after a run: headline counts, the criteria that
//! exclude most patients, the cohorts that fill within the horizon, and the disclosure rule.
//! Published numbers only.

use std::fmt::Write;

use super::cohorts::Reachable;
use super::Reports;

pub fn markdown(r: &Reports) -> String {
    let mut out = String::new();
    let registry = r
        .registry
        .as_deref()
        .map(|s| format!(" in {s}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "## {}: recruitable population{registry}, as of {}\n",
        r.trial_id, r.as_of
    );
    let h = &r.headline;
    let _ = writeln!(out, "| status | patients |\n|---|---:|");
    for (name, value) in [
        ("all patients", h.patients),
        ("eligible", h.eligible),
        ("possibly eligible", h.possibly_eligible),
        ("ineligible", h.ineligible),
    ] {
        let _ = writeln!(out, "| {name} | {value} |");
    }

    // Criteria by published fails (hidden counts last), definition order among equals.
    let mut ranked: Vec<_> = r.criteria.iter().collect();
    ranked.sort_by_key(|c| std::cmp::Reverse(c.fail.count().unwrap_or(0)));
    let top: Vec<String> = ranked
        .iter()
        .filter(|c| c.fail.count().unwrap_or(0) > 0)
        .take(5)
        .map(|c| format!("{} ({} fail)", c.id, c.fail))
        .collect();
    if !top.is_empty() {
        let _ = writeln!(out, "\n**Excluding most:** {}", top.join(", "));
    }

    let with = |want: Reachable| -> Vec<&str> {
        r.cohorts
            .iter()
            .filter(|c| c.reachable == want)
            .map(|c| c.id.as_str())
            .collect()
    };
    let list = |ids: Vec<&str>| {
        if ids.is_empty() {
            "none".to_string()
        } else {
            ids.join(", ")
        }
    };
    if !r.cohorts.is_empty() {
        let _ = writeln!(
            out,
            "\n**Cohorts reachable within {} months:** {}  \n**Not reachable:** {}  \n**Cannot tell (small counts suppressed):** {}",
            r.horizon_months,
            list(with(Reachable::Yes)),
            list(with(Reachable::No)),
            list(with(Reachable::Unknown)),
        );
    }
    let _ = writeln!(out, "\n_{}_", r.disclosure.rule());
    out
}
