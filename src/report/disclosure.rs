//! Disclosure control: every published count is a cell of a [`Ledger`], tied to the others by the
//! linear relations a reader can see (totals and parts, waterfall steps). Small counts are
//! suppressed (primary), then cells from which they could be recomputed (secondary), then an
//! attacker derives the bounds of every suppressed cell and the run fails if one is pinned.

use std::fmt;

/// The disclosure rule of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Disclosure {
    /// Counts from 1 to `min_cell - 1` are published as `<min_cell`; at least 3.
    pub min_cell: u32,
    /// Published counts are rounded to the nearest multiple of this base; 1 is no rounding.
    pub round: u32,
}

impl Default for Disclosure {
    fn default() -> Self {
        Disclosure {
            min_cell: 5,
            round: 1,
        }
    }
}

impl Disclosure {
    /// The smallest threshold registries accept.
    pub const MIN_CELL_FLOOR: u32 = 3;

    /// The rule in words, as every report states it.
    pub fn rule(&self) -> String {
        let k = self.min_cell;
        let mut text = format!(
            "Counts of distinct patients from 1 to {} are shown as <{k}; zero is shown. Counts from \
             which a suppressed count (or an unpublished one, such as the ineligible patients of a \
             stratum) could be recomputed, by subtraction along the waterfall or a total minus its \
             parts, are shown as \"suppressed\", as is a small count that <{k} alone would reveal. \
             A check recomputes every hidden count from the published ones before anything is \
             written. Percentages are computed from published counts only.",
            k.saturating_sub(1)
        );
        if self.round > 1 {
            text.push_str(&format!(
                " Published counts are rounded to the nearest multiple of {}.",
                self.round
            ));
        }
        text
    }

    /// The published form of a count that primary suppression left visible.
    pub fn rounded(&self, value: u64) -> u64 {
        let base = u64::from(self.round.max(1));
        (value + base / 2) / base * base
    }
}

/// What a reader sees in place of a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// The count (rounded if the run rounds).
    Count(u64),
    /// A count from 1 to k-1, shown as `<k`.
    BelowMin(u32),
    /// Hidden because a small count could be recomputed from it.
    Suppressed,
}

impl Published {
    pub fn count(self) -> Option<u64> {
        match self {
            Published::Count(n) => Some(n),
            _ => None,
        }
    }
}

impl Published {
    /// Reads a published cell back: `12`, `<5`, `suppressed`. None for anything else.
    pub fn parse(text: &str) -> Option<Published> {
        if text == "suppressed" {
            return Some(Published::Suppressed);
        }
        if let Some(k) = text.strip_prefix('<') {
            return k.parse().ok().map(Published::BelowMin);
        }
        text.parse().ok().map(Published::Count)
    }
}

impl fmt::Display for Published {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Published::Count(n) => write!(f, "{n}"),
            Published::BelowMin(k) => write!(f, "<{k}"),
            Published::Suppressed => f.write_str("suppressed"),
        }
    }
}

/// A percentage of two published counts; None where either is hidden or the whole is zero.
pub fn percent(part: Published, whole: Published) -> Option<f64> {
    match (part, whole) {
        (Published::Count(p), Published::Count(w)) if w > 0 => Some(100.0 * p as f64 / w as f64),
        _ => None,
    }
}

/// Index of a cell in its [`Ledger`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellId(pub usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Shown,
    Primary,
    Secondary,
    /// Never published, but defined by published cells (the ineligible patients of a stratum:
    /// patients minus eligible minus possibly eligible). Must not be pinned inside 1..k-1.
    Unpublished,
}

#[derive(Debug, Clone)]
struct Cell {
    label: String,
    value: u64,
    state: State,
}

/// A suppressed cell whose value the attacker check recovered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// `table: row, column` of the cell.
    pub cell: String,
    /// The value the published numbers pin it to.
    pub value: u64,
}

/// Every published count of a run and the linear relations between them.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    cells: Vec<Cell>,
    /// Each relation: sum of coefficient x cell = 0.
    relations: Vec<Vec<(CellId, i64)>>,
}

/// Bound standing for "no upper bound known" (larger than any registry).
const UNBOUNDED: i128 = 1 << 60;

impl Ledger {
    pub fn new() -> Ledger {
        Ledger::default()
    }

    /// Adds a cell; `label` names it in errors (`strata.csv: sex=F, eligible`).
    pub fn cell(&mut self, label: impl Into<String>, value: u64) -> CellId {
        self.cells.push(Cell {
            label: label.into(),
            value,
            state: State::Shown,
        });
        CellId(self.cells.len() - 1)
    }

    /// Adds a cell as a reader sees it in a published file (to audit a publication: rebuild it
    /// from its files, declare the relations, and [`Ledger::attack`]). Rounding is not undone.
    pub fn published_cell(&mut self, label: impl Into<String>, shown: Published) -> CellId {
        let (value, state) = match shown {
            Published::Count(n) => (n, State::Shown),
            Published::BelowMin(_) => (0, State::Primary),
            Published::Suppressed => (0, State::Secondary),
        };
        self.cells.push(Cell {
            label: label.into(),
            value,
            state,
        });
        CellId(self.cells.len() - 1)
    }

    /// Adds a count that no file shows but that relations tie to published ones (a complement);
    /// the attacker check makes sure it cannot be recomputed when it is from 1 to k-1.
    pub fn unpublished(&mut self, label: impl Into<String>, value: u64) -> CellId {
        self.cells.push(Cell {
            label: label.into(),
            value,
            state: State::Unpublished,
        });
        CellId(self.cells.len() - 1)
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    pub fn value(&self, id: CellId) -> u64 {
        self.cells[id.0].value
    }

    pub fn label(&self, id: CellId) -> &str {
        &self.cells[id.0].label
    }

    /// Declares `total = sum(parts)`, as a reader can check it.
    pub fn sum(&mut self, total: CellId, parts: &[CellId]) {
        let mut terms = vec![(total, 1)];
        terms.extend(parts.iter().map(|p| (*p, -1)));
        self.relations.push(terms);
    }

    /// Declares `a - b = c` (a waterfall step: remaining before minus remaining after = excluded).
    pub fn difference(&mut self, a: CellId, b: CellId, c: CellId) {
        self.relations.push(vec![(a, 1), (b, -1), (c, -1)]);
    }

    /// Marks cells from 1 to k-1 as suppressed.
    pub fn suppress_primary(&mut self, k: u32) {
        for cell in &mut self.cells {
            if cell.state == State::Shown && cell.value >= 1 && cell.value < u64::from(k) {
                cell.state = State::Primary;
            }
        }
    }

    /// Secondary suppression to a fixed point: wherever a relation holds exactly one hidden cell,
    /// hide the smallest other non-zero published cell of it (zero cells only if none is non-zero).
    /// A relation whose only hidden cell is an unpublished complement merely defines it; the
    /// attacker check covers that case.
    pub fn suppress_secondary(&mut self) {
        loop {
            let mut changed = false;
            for r in 0..self.relations.len() {
                let mut hidden = self.relations[r]
                    .iter()
                    .filter(|(id, _)| self.cells[id.0].state != State::Shown);
                match (hidden.next(), hidden.next()) {
                    (Some((id, _)), None) if self.cells[id.0].state != State::Unpublished => {}
                    _ => continue,
                }
                if let Some(victim) = self.smallest_shown(r) {
                    self.cells[victim.0].state = State::Secondary;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The published cell of relation `r` to hide next: smallest non-zero value, ties to the
    /// latest-added cell (details before the totals that are added first).
    fn smallest_shown(&self, r: usize) -> Option<CellId> {
        let shown = || {
            self.relations[r]
                .iter()
                .map(|(id, _)| *id)
                .filter(|id| self.cells[id.0].state == State::Shown)
        };
        let key = |id: &CellId| (self.cells[id.0].value, std::cmp::Reverse(id.0));
        shown()
            .filter(|id| self.cells[id.0].value > 0)
            .min_by_key(key)
            .or_else(|| shown().min_by_key(key))
    }

    /// Primary and secondary suppression, then the attacker check; where it pins a cell, hides
    /// one more published cell next to it and repeats. Fails only if no cell is left to hide.
    pub fn suppress(&mut self, disclosure: Disclosure) -> Result<(), Leak> {
        self.suppress_primary(disclosure.min_cell);
        loop {
            self.suppress_secondary();
            let leak = match self.attack(disclosure) {
                Ok(()) => return Ok(()),
                Err(leak) => leak,
            };
            let leaked = self
                .cells
                .iter()
                .position(|c| c.label == leak.cell)
                .map(CellId);
            let victim =
                leaked.and_then(|id| self.nearest_cover(id).or_else(|| self.demotable(id)));
            match victim {
                Some(v) => self.cells[v.0].state = State::Secondary,
                None => return Err(leak),
            }
        }
    }

    /// The published cell to hide so that `leaked` is no longer pinned: the smallest one in a
    /// relation with it; where those relations are fully hidden, the smallest one next to the
    /// hidden cells they connect it to (the pin comes from the published edge of that group).
    fn nearest_cover(&self, leaked: CellId) -> Option<CellId> {
        let mut reached = vec![false; self.cells.len()];
        let mut used = vec![false; self.relations.len()];
        reached[leaked.0] = true;
        loop {
            let layer: Vec<usize> = (0..self.relations.len())
                .filter(|r| !used[*r] && self.relations[*r].iter().any(|(c, _)| reached[c.0]))
                .collect();
            if layer.is_empty() {
                return None;
            }
            let best = layer
                .iter()
                .filter_map(|r| self.smallest_shown(*r))
                .min_by_key(|v| {
                    (
                        self.cells[v.0].value == 0,
                        self.cells[v.0].value,
                        std::cmp::Reverse(v.0),
                    )
                });
            if best.is_some() {
                return best;
            }
            for r in layer {
                used[r] = true;
                for (c, _) in &self.relations[r] {
                    reached[c.0] = true;
                }
            }
        }
    }

    /// Where no published cell is left to hide, a `<k` cell to show as `suppressed` instead:
    /// `<k` tells a reader the count is at least 1, `suppressed` does not, and in a tiny
    /// population that is what pins it (two `<3` parts of a `<3` total are 1 and 1). The leaked
    /// cell itself if it is `<k`, else a `<k` cell in a relation with it.
    fn demotable(&self, leaked: CellId) -> Option<CellId> {
        if self.cells[leaked.0].state == State::Primary {
            return Some(leaked);
        }
        self.relations
            .iter()
            .filter(|r| r.iter().any(|(c, _)| *c == leaked))
            .flat_map(|r| r.iter().map(|(c, _)| *c))
            .find(|c| self.cells[c.0].state == State::Primary)
    }

    /// What a reader sees for a cell.
    pub fn published(&self, id: CellId, disclosure: Disclosure) -> Published {
        let cell = &self.cells[id.0];
        match cell.state {
            State::Shown => Published::Count(disclosure.rounded(cell.value)),
            State::Primary => Published::BelowMin(disclosure.min_cell),
            State::Secondary | State::Unpublished => Published::Suppressed,
        }
    }

    /// Every cell as published, indexed by `CellId`.
    pub fn publish(&self, disclosure: Disclosure) -> Vec<Published> {
        (0..self.cells.len())
            .map(|i| self.published(CellId(i), disclosure))
            .collect()
    }

    /// Plays the attacker: from what is published (exact or rounded counts, `<k` meaning 1..k-1,
    /// `suppressed` meaning anything) and every relation, tightens the bounds of each cell by
    /// interval propagation to a fixed point. Fails if a hidden cell is pinned to one value.
    pub fn attack(&self, disclosure: Disclosure) -> Result<(), Leak> {
        let bounds = self.bounds(disclosure);
        let k = i128::from(disclosure.min_cell);
        for (cell, (lo, hi)) in self.cells.iter().zip(&bounds) {
            let pinned = match cell.state {
                State::Shown => false,
                State::Primary => lo == hi,
                State::Secondary | State::Unpublished => lo == hi && *lo >= 1 && *lo < k,
            };
            if pinned {
                return Err(Leak {
                    cell: cell.label.clone(),
                    value: u64::try_from(*lo).unwrap_or(0),
                });
            }
        }
        Ok(())
    }

    /// The attacker's bounds of every cell.
    fn bounds(&self, disclosure: Disclosure) -> Vec<(i128, i128)> {
        let k = i128::from(disclosure.min_cell);
        let base = i128::from(disclosure.round.max(1));
        let half = base / 2;
        let mut bounds: Vec<(i128, i128)> = self
            .cells
            .iter()
            .map(|cell| match cell.state {
                State::Primary => (1, k - 1),
                State::Secondary | State::Unpublished => (0, UNBOUNDED),
                State::Shown if base == 1 => (i128::from(cell.value), i128::from(cell.value)),
                State::Shown => {
                    // Every value that rounds to the published one; a published non-zero count
                    // is known to be at least k (smaller ones would have been suppressed).
                    let r = i128::from(disclosure.rounded(cell.value));
                    let hi = r + base - 1 - half;
                    if r == 0 {
                        (0, hi)
                    } else {
                        ((r - half).max(k), hi)
                    }
                }
            })
            .collect();
        // Interval propagation; each pass only narrows, and every bound is an integer within
        // [0, UNBOUNDED], so the loop ends. The pass cap keeps pathological cases fast; stopping
        // early leaves bounds wider than the attacker could get, so the cap is generous.
        let contribution = |(lo, hi): (i128, i128), c: i64| {
            let c = i128::from(c);
            if c >= 0 {
                (c * lo, c * hi)
            } else {
                (c * hi, c * lo)
            }
        };
        for _ in 0..2_000 {
            let mut changed = false;
            for relation in &self.relations {
                // Range of the whole sum, then of the sum without each term in turn.
                let (total_min, total_max) = relation.iter().fold((0, 0), |(a, b), (id, c)| {
                    let (lo, hi) = contribution(bounds[id.0], *c);
                    (a + lo, b + hi)
                });
                for (target, coef) in relation {
                    let (own_min, own_max) = contribution(bounds[target.0], *coef);
                    // coef * x_target = - (sum of the other terms)
                    let (min, max) = (total_min - own_min, total_max - own_max);
                    let (new_lo, new_hi) = if *coef > 0 { (-max, -min) } else { (min, max) };
                    let (lo, hi) = bounds[target.0];
                    let tightened = (lo.max(new_lo), hi.min(new_hi));
                    // An empty interval cannot happen with true values (they satisfy every
                    // relation); keep the old bounds rather than trust rounding noise. Totals
                    // computed before a tightening in this relation stay sound, only looser.
                    if tightened.0 <= tightened.1 && tightened != (lo, hi) {
                        bounds[target.0] = tightened;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        bounds
    }
}

#[cfg(test)]
mod tests {
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
}
