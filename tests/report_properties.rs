//! Properties of the reports on random mask tables: no published count from 1 to k-1, no
//! suppressed count recoverable from the published files (an independent attacker rebuilds the
//! publication from the CSVs and HTML), a waterfall that never increases, and results that do
//! not depend on row order.

mod support;

use std::collections::BTreeMap;

use eligo::report::attrition;
use eligo::report::disclosure::{Leak, Ledger};
use eligo::report::Disclosure;
use proptest::prelude::*;
use support::*;

const COUNT_COLUMNS: [(&str, &[&str]); 5] = [
    (
        "attrition.csv",
        &[
            "remaining_eligible",
            "remaining_possibly_eligible",
            "excluded",
        ],
    ),
    (
        "criteria.csv",
        &[
            "pass",
            "fail",
            "unknown",
            "n/a",
            "sole_exclusions",
            "gain_if_relaxed",
        ],
    ),
    ("cohorts.csv", &["matched", "eligible", "possibly_eligible"]),
    ("strata.csv", &["patients", "eligible", "possibly_eligible"]),
    (
        "data_quality.csv",
        &[
            "rows",
            "nulls",
            "out_of_domain",
            "unconvertible_units",
            "orphan_rows",
        ],
    ),
];

fn pattern(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![Just('P'), Just('F'), Just('U'), Just('N')], len)
        .prop_map(|v| v.into_iter().collect())
}

/// 1-4 criteria, up to 12 population rows of 1-20 patients over 3 strata, and a cohort.
fn fixture() -> impl Strategy<Value = Fixture> {
    (1usize..=4)
        .prop_flat_map(|n| {
            let rows = proptest::collection::vec((0usize..3, pattern(n), 1u64..20), 1..12);
            let cohort = proptest::collection::vec((0usize..3, pattern(n + 1), 1u64..12), 0..5);
            (Just(n), rows, cohort)
        })
        .prop_map(|(n, rows, cohort)| {
            let mut f = Fixture::new(&["A", "B", "C", "D"][..n]);
            f.stratum("East");
            f.cohort("X", &["E9"], &[8, 24], 1);
            for (s, p, k) in rows {
                f.patients(None, s, &p, k);
            }
            for (s, p, k) in cohort {
                f.patients(Some(0), s, &p, k);
            }
            f
        })
}

/// Rebuilds the publication from its files: every count as published, and the relations a
/// reader can see (headline, criteria totals, waterfall and its ends, strata totals), then attacks it.
fn audit(files: &BTreeMap<String, String>, d: Disclosure) -> Result<(), Leak> {
    let mut l = Ledger::new();
    let cell = |l: &mut Ledger, label: String, text: &str| {
        let shown =
            eligo::report::Published::parse(text).unwrap_or_else(|| panic!("{label}: {text}"));
        l.published_cell(label, shown)
    };
    let html = html_cells(&files["report.html"]);
    let h: Vec<_> = ["patients", "eligible", "possibly_eligible", "ineligible"]
        .iter()
        .map(|c| {
            cell(
                &mut l,
                format!("headline {c}"),
                &html[&format!("headline/{c}")],
            )
        })
        .collect();
    l.sum(h[0], &h[1..]);
    let (mut first, mut last) = (None, None);
    for r in rows(&files["criteria.csv"])
        .iter()
        .filter(|r| r["assessable"] == "yes")
    {
        let c: Vec<_> = [
            "pass",
            "fail",
            "unknown",
            "n/a",
            "sole_exclusions",
            "gain_if_relaxed",
        ]
        .iter()
        .map(|c| cell(&mut l, format!("{} {c}", r["id"]), &r[*c]))
        .collect();
        l.sum(h[0], &c[..4]);
        last = Some(c.clone());
        first.get_or_insert(c);
    }
    let attr = rows(&files["attrition.csv"]);
    let (mut before, mut before_eligible) = (h[0], h[0]);
    for (i, r) in attr.iter().enumerate().skip(1) {
        let re = cell(
            &mut l,
            format!("step {i} eligible"),
            &r["remaining_eligible"],
        );
        let rp = cell(
            &mut l,
            format!("step {i} possibly"),
            &r["remaining_possibly_eligible"],
        );
        let x = cell(&mut l, format!("step {i} excluded"), &r["excluded"]);
        l.difference(before, rp, x);
        if let (1, Some(c)) = (i, &first) {
            l.sum(x, &[c[1]]);
            l.sum(rp, &[c[0], c[2], c[3]]);
            l.sum(re, &[c[0], c[3]]);
        }
        if let (true, Some(c)) = (i == attr.len() - 1, &last) {
            // The last step: its drops are the last criterion's sole exclusions and gain.
            l.sum(re, &[h[1]]);
            l.sum(rp, &[h[1], h[2]]);
            l.sum(x, &[c[4]]);
            l.difference(before_eligible, re, c[5]);
        }
        before = rp;
        before_eligible = re;
    }
    let strata = rows(&files["strata.csv"]);
    for dim in ["region", "site", "tumour_group", "sex", "age_band"] {
        for (j, c) in ["patients", "eligible", "possibly_eligible"]
            .iter()
            .enumerate()
        {
            let parts: Vec<_> = strata
                .iter()
                .filter(|r| r["dimension"] == dim)
                .map(|r| cell(&mut l, format!("{dim}={} {c}", r["value"]), &r[*c]))
                .collect();
            l.sum(h[j], &parts);
        }
    }
    l.attack(d)
}

fn hidden(v: &str) -> bool {
    v.starts_with('<') || v == "suppressed"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_small_count_is_published_and_none_is_recoverable(f in fixture(), k in 3u32..7) {
        let d = Disclosure { min_cell: k, round: 1 };
        let files = f.render(d);
        for (file, columns) in COUNT_COLUMNS {
            for row in rows(&files[file]) {
                for c in columns {
                    if let Ok(v) = row[*c].parse::<u64>() {
                        prop_assert!(v == 0 || v >= u64::from(k), "{file} {c} shows {v}");
                    }
                }
            }
        }
        // No relation a reader can see has exactly one hidden cell.
        let strata = rows(&files["strata.csv"]);
        for dim in ["region", "site", "tumour_group", "sex", "age_band"] {
            for c in ["patients", "eligible", "possibly_eligible"] {
                let cells = strata.iter().filter(|r| r["dimension"] == dim || r["dimension"] == "all");
                let n = cells.filter(|r| hidden(&r[c])).count();
                prop_assert!(n != 1, "strata {dim} {c}: one hidden cell");
            }
        }
        let attr = rows(&files["attrition.csv"]);
        for w in attr.windows(2) {
            let n = [&w[0]["remaining_possibly_eligible"], &w[1]["remaining_possibly_eligible"], &w[1]["excluded"]]
                .iter().filter(|v| hidden(v)).count();
            prop_assert!(n != 1, "attrition step {}: one hidden cell", w[1]["step"]);
        }
        let cells = html_cells(&files["report.html"]);
        let n = ["patients", "eligible", "possibly_eligible", "ineligible"]
            .iter().filter(|c| hidden(&cells[&format!("headline/{c}")])).count();
        prop_assert!(n != 1, "headline: one hidden cell");
        // An independent attacker on the files themselves finds nothing pinned.
        prop_assert_eq!(audit(&files, d), Ok(()));
    }

    #[test]
    fn waterfall_never_increases(f in fixture(), seed in 0usize..24) {
        let masks = f.masks();
        let order = order(masks.criteria.len(), seed);
        let steps = attrition(&masks, &order).unwrap();
        for w in steps.windows(2) {
            prop_assert!(w[1].remaining_possibly_eligible <= w[0].remaining_possibly_eligible);
            prop_assert!(w[1].remaining_eligible <= w[0].remaining_eligible);
            prop_assert_eq!(w[0].remaining_possibly_eligible - w[1].remaining_possibly_eligible, w[1].excluded);
        }
        for s in &steps {
            prop_assert!(s.remaining_eligible <= s.remaining_possibly_eligible);
        }
        // Whatever the order, the last step is the same: eligible, and eligible + possibly.
        let forward = attrition(&masks, &(0..masks.criteria.len()).collect::<Vec<_>>()).unwrap();
        prop_assert_eq!(steps.last().map(|s| (s.remaining_eligible, s.remaining_possibly_eligible)),
                        forward.last().map(|s| (s.remaining_eligible, s.remaining_possibly_eligible)));
    }

    #[test]
    fn results_do_not_depend_on_row_order(f in fixture()) {
        let mut g = f.clone();
        g.reverse_rows();
        if f.build(Disclosure::default()).is_err() {
            // The same failure whatever the order.
            prop_assert_eq!(
                f.build(Disclosure::default()).err().map(|e| e.to_string()),
                g.build(Disclosure::default()).err().map(|e| e.to_string())
            );
            return Ok(());
        }
        let a = f.render(Disclosure::default());
        let b = g.render(Disclosure::default());
        for (name, _) in COUNT_COLUMNS {
            prop_assert_eq!(&a[name], &b[name]);
        }
    }
}
