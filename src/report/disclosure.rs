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
mod tests;
