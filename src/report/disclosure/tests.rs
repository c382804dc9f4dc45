//! Disclosure control by hand: primary and secondary suppression, the attacker's bounds through
//! totals and waterfall steps, rounding, and percentages of published counts only.

use super::*;

const K5: Disclosure = Disclosure {
    min_cell: 5,
    round: 1,
};

#[test]
fn primary_alone_leaks_through_a_total() {
    // total 40 = 3 + 37: hiding only the 3 leaves 40 - 37 = 3 for anyone to compute.
    let mut ledger = Ledger::new();
    let total = ledger.cell("total", 40);
    let a = ledger.cell("a", 3);
    let b = ledger.cell("b", 37);
    ledger.sum(total, &[a, b]);
    ledger.suppress_primary(5);
    assert_eq!(
        ledger.attack(K5),
        Err(Leak {
            cell: "a".into(),
            value: 3
        })
    );
    // Secondary suppression hides b (the only other non-zero part): a is now in 1..4 and
    // b in 36..39, nothing pinned.
    ledger.suppress_secondary();
    assert_eq!(ledger.published(b, K5), Published::Suppressed);
    assert_eq!(ledger.published(total, K5), Published::Count(40));
    assert_eq!(ledger.attack(K5), Ok(()));
}

#[test]
fn secondary_picks_the_smallest_non_zero_part() {
    // 100 = 2 + 0 + 8 + 90: the 0 is no cover, the 8 is the smallest that is.
    let mut ledger = Ledger::new();
    let total = ledger.cell("total", 100);
    let parts = [
        ledger.cell("a", 2),
        ledger.cell("zero", 0),
        ledger.cell("c", 8),
        ledger.cell("d", 90),
    ];
    ledger.sum(total, &parts);
    ledger.suppress(K5).unwrap();
    let shown: Vec<String> = parts
        .iter()
        .map(|p| ledger.published(*p, K5).to_string())
        .collect();
    assert_eq!(shown, ["<5", "0", "suppressed", "90"]);
}

#[test]
fn attacker_chains_two_relations() {
    // Waterfall 50 -> 47 -> 40 with excluded 3 and 7. Hiding 3 (primary) and the next
    // remaining (47, secondary by the first relation) still pins: 47 = 40 + 7 from step 2.
    // The full procedure must hide more until nothing is pinned.
    let mut ledger = Ledger::new();
    let r0 = ledger.cell("r0", 50);
    let r1 = ledger.cell("r1", 47);
    let r2 = ledger.cell("r2", 40);
    let x1 = ledger.cell("x1", 3);
    let x2 = ledger.cell("x2", 7);
    ledger.difference(r0, r1, x1);
    ledger.difference(r1, r2, x2);
    ledger.suppress(K5).unwrap();
    assert_eq!(ledger.attack(K5), Ok(()));
    assert_eq!(ledger.published(x1, K5), Published::BelowMin(5));
    // Secondary: r1 hidden in relation 1 (47 > 3 but it is the smallest non-zero besides
    // r0=50), then relation 2 has one hidden cell (r1): x2 = 7 is hidden too.
    assert_eq!(ledger.published(r1, K5), Published::Suppressed);
    assert_eq!(ledger.published(x2, K5), Published::Suppressed);
}

#[test]
fn an_unpublished_complement_is_protected_too() {
    // A stratum: 40 patients, 37 eligible, 0 possibly eligible: the ineligible, never
    // published, would be 40 - 37 - 0 = 3. One more published cell must go.
    let mut ledger = Ledger::new();
    let patients = ledger.cell("patients", 40);
    let eligible = ledger.cell("eligible", 37);
    let possibly = ledger.cell("possibly", 0);
    let ineligible = ledger.unpublished("ineligible", 3);
    ledger.sum(patients, &[eligible, possibly, ineligible]);
    ledger.suppress_primary(5);
    ledger.suppress_secondary();
    assert_eq!(
        ledger.attack(K5),
        Err(Leak {
            cell: "ineligible".into(),
            value: 3
        })
    );
    ledger.suppress(K5).unwrap();
    // The smallest non-zero published cell, eligible (37), is hidden: 3 is now anywhere
    // in 0..40. A complement that is large or zero needs nothing.
    assert_eq!(ledger.published(eligible, K5), Published::Suppressed);
    assert_eq!(ledger.published(patients, K5), Published::Count(40));
    let mut fine = Ledger::new();
    let p = fine.cell("patients", 40);
    let e = fine.cell("eligible", 30);
    let i = fine.unpublished("ineligible", 10);
    fine.sum(p, &[e, i]);
    fine.suppress(K5).unwrap();
    assert_eq!(fine.published(e, K5), Published::Count(30));
}

#[test]
fn a_tiny_population_shows_suppressed_rather_than_a_pinned_small_count() {
    // k = 3: a total of 2 = 1 + 1. All three are `<3`, yet a reader knows each part is at
    // least 1, so the total is 2 and each part 1. Nothing published is left to hide: the
    // total is shown as `suppressed` (0 or more) instead, and nothing is pinned.
    let k3 = Disclosure {
        min_cell: 3,
        round: 1,
    };
    let mut ledger = Ledger::new();
    let total = ledger.cell("total", 2);
    let a = ledger.cell("a", 1);
    let b = ledger.cell("b", 1);
    ledger.sum(total, &[a, b]);
    ledger.suppress_primary(3);
    assert!(ledger.attack(k3).is_err());
    ledger.suppress(k3).unwrap();
    assert_eq!(ledger.attack(k3), Ok(()));
    let shown: Vec<String> = [total, a, b]
        .iter()
        .map(|c| ledger.published(*c, k3).to_string())
        .collect();
    assert_eq!(shown, ["suppressed", "<3", "<3"]);
}

#[test]
fn rounding_to_nearest_multiple() {
    let d = Disclosure {
        min_cell: 5,
        round: 5,
    };
    // 7 -> 5, 8 -> 10 (7.5 is the midpoint; 8 is above it), 12 -> 10, 13 -> 15.
    assert_eq!([7, 8, 12, 13, 0].map(|v| d.rounded(v)), [5, 10, 10, 15, 0]);
    assert_eq!(K5.rounded(7), 7);
}

#[test]
fn percent_only_of_published_counts() {
    assert_eq!(
        percent(Published::Count(25), Published::Count(200)),
        Some(12.5)
    );
    assert_eq!(percent(Published::BelowMin(5), Published::Count(200)), None);
    assert_eq!(percent(Published::Count(5), Published::Suppressed), None);
    assert_eq!(percent(Published::Count(0), Published::Count(0)), None);
}
