//! The report's aggregates are computed in one pass over the mask rows, each row's fails and
//! outcomes not passing counted once. Here they are checked against their definitions, counted
//! criterion by criterion and step by step straight from the mask table, on random tables of up
//! to 40 criteria (across the 32 outcomes of a packed word), stratified by region.

mod support;

use std::collections::BTreeMap;

use eligo::engine::mask::{MaskTable, Outcome};
use eligo::report::{aggregate, attrition, criteria, strata};
use proptest::prelude::*;
use support::*;

/// Population rows as (stratum, outcomes, patients), straight from the mask table.
fn population(masks: &MaskTable) -> Vec<(usize, Vec<Outcome>, u64)> {
    masks
        .population()
        .map(|r| (r.stratum, r.outcomes.iter().collect(), r.patients))
        .collect()
}

/// `criteria` columns, up to 30 rows of 1-50 patients in up to 4 strata.
fn fixture() -> impl Strategy<Value = Fixture> {
    (1usize..=40).prop_flat_map(|n| {
        let pattern =
            proptest::collection::vec(prop_oneof![Just('P'), Just('F'), Just('U'), Just('N')], n)
                .prop_map(|v| v.into_iter().collect::<String>());
        proptest::collection::vec((0usize..4, pattern, 1u64..50), 1..30).prop_map(move |rows| {
            let ids: Vec<String> = (0..n).map(|i| format!("I{i}")).collect();
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let mut f = Fixture::new(&ids);
            let (east, west) = (f.stratum("East"), f.stratum("West"));
            for (s, pattern, patients) in rows {
                let stratum = [0, 1, east, west][s];
                f.patients(None, stratum, &pattern, patients);
            }
            f
        })
    })
}

proptest! {
    #[test]
    fn criteria_counts_match_their_definition(f in fixture()) {
        let masks = f.masks();
        let n = masks.criteria.len();
        let counts = criteria::counts(&aggregate::population(&masks), n);
        prop_assert_eq!(counts.len(), n);
        let rows = population(&masks);
        for (c, k) in counts.iter().enumerate() {
            let sum = |pred: &dyn Fn(&[Outcome]) -> bool| -> u64 {
                rows.iter().filter(|(_, o, _)| pred(o)).map(|(_, _, p)| p).sum()
            };
            let others = |o: &[Outcome]| -> Vec<Outcome> {
                o.iter().enumerate().filter(|(i, _)| *i != c).map(|(_, o)| *o).collect()
            };
            prop_assert_eq!(k.pass, sum(&|o| o[c] == Outcome::Pass));
            prop_assert_eq!(k.fail, sum(&|o| o[c] == Outcome::Fail));
            prop_assert_eq!(k.unknown, sum(&|o| o[c] == Outcome::Unknown));
            prop_assert_eq!(k.not_applicable, sum(&|o| o[c] == Outcome::NotApplicable));
            prop_assert_eq!(k.sole_exclusions, sum(&|o| {
                o[c] == Outcome::Fail && others(o).iter().all(|x| *x != Outcome::Fail)
            }));
            prop_assert_eq!(k.gain_if_relaxed, sum(&|o| {
                !o[c].passes() && others(o).iter().all(|x| x.passes())
            }));
        }
    }

    #[test]
    fn waterfall_matches_its_definition(f in fixture(), seed in 0usize..80) {
        let masks = f.masks();
        let mut order = order(masks.criteria.len(), seed);
        // Orders that leave criteria out, and that name one twice, as well as whole ones.
        if seed % 3 == 0 {
            order.truncate(order.len().div_ceil(2));
        }
        if seed % 5 == 0 {
            order.push(order[0]);
        }
        let steps = attrition(&masks, &order).unwrap();
        let rows = population(&masks);
        prop_assert_eq!(steps.len(), order.len() + 1);
        for (s, step) in steps.iter().enumerate() {
            let applied = &order[..s];
            let remaining = |pred: fn(Outcome) -> bool| -> u64 {
                rows.iter()
                    .filter(|(_, o, _)| applied.iter().all(|c| pred(o[*c])))
                    .map(|(_, _, p)| p)
                    .sum()
            };
            prop_assert_eq!(step.remaining_eligible, remaining(Outcome::passes));
            prop_assert_eq!(step.remaining_possibly_eligible, remaining(|o| o != Outcome::Fail));
            prop_assert_eq!(step.criterion, s.checked_sub(1).map(|i| order[i]));
        }
    }

    #[test]
    fn strata_counts_match_their_definition(f in fixture()) {
        let masks = f.masks();
        let counts = strata::counts(&aggregate::population(&masks));
        let mut expected: BTreeMap<(&str, String), [u64; 3]> = BTreeMap::new();
        for (s, outcomes, patients) in population(&masks) {
            for dimension in ["region", "site", "tumour_group", "sex", "age_band"] {
                let value = masks.strata[s].get(dimension).unwrap().to_string();
                let entry = expected.entry((dimension, value)).or_default();
                entry[0] += patients;
                if outcomes.iter().all(|o| o.passes()) {
                    entry[1] += patients;
                } else if outcomes.iter().all(|o| *o != Outcome::Fail) {
                    entry[2] += patients;
                }
            }
        }
        let got: BTreeMap<(&str, String), [u64; 3]> = counts
            .iter()
            .map(|s| ((s.dimension, s.value.clone()), [s.patients, s.eligible, s.possibly_eligible]))
            .collect();
        prop_assert_eq!(got.len(), counts.len(), "a value listed twice");
        prop_assert_eq!(got, expected);
    }
}
