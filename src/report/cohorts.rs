//! Per cohort: matched, eligible and possibly eligible patients, accrual per year, months to fill
//! each stage and whether the next open stage fills within the horizon. Accrual is computed from
//! the published counts only, so that it can never reveal a suppressed one.

use super::aggregate::Row;
use super::criteria;
use super::disclosure::Published;
use crate::engine::mask::Status;

/// True counts of one cohort.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CohortCounts {
    pub matched: u64,
    pub eligible: u64,
    pub possibly_eligible: u64,
    /// The column (general or cohort criterion) with the most fails among matched patients, and
    /// its fails; ties go to the earlier column. None where nobody fails.
    pub top_excluding: Option<(usize, u64)>,
}

pub fn counts(rows: &[Row], columns: usize) -> CohortCounts {
    let mut counts = CohortCounts::default();
    for row in rows {
        counts.matched += row.patients;
        match row.status() {
            Status::Eligible => counts.eligible += row.patients,
            Status::PossiblyEligible => counts.possibly_eligible += row.patients,
            Status::Ineligible => {}
        }
    }
    let fails = criteria::fails_per_column(rows, columns);
    counts.top_excluding = fails.iter().enumerate().filter(|(_, n)| **n > 0).fold(
        None,
        |best: Option<(usize, u64)>, (i, n)| match best {
            Some((_, m)) if m >= *n => best,
            _ => Some((i, *n)),
        },
    );
    counts
}

/// What a published count says about the true one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Known {
    Exact(u64),
    /// Inclusive range (a `<k` count is 1..k-1).
    Between(u64, u64),
    Unknown,
}

impl Known {
    pub fn of(published: Published) -> Known {
        match published {
            Published::Count(n) => Known::Exact(n),
            Published::BelowMin(k) => Known::Between(1, u64::from(k.saturating_sub(1)).max(1)),
            Published::Suppressed => Known::Unknown,
        }
    }

    pub fn plus(self, other: Known) -> Known {
        let range = |k: Known| match k {
            Known::Exact(n) => Some((n, n)),
            Known::Between(a, b) => Some((a, b)),
            Known::Unknown => None,
        };
        match (range(self), range(other)) {
            (Some((a, b)), Some((c, d))) if a + c == b + d => Known::Exact(a + c),
            (Some((a, b)), Some((c, d))) => Known::Between(a + c, b + d),
            _ => Known::Unknown,
        }
    }

    /// Patients per year as shown: `12.5`, `<2.5` for a suppressed small count, or `suppressed`.
    pub fn per_year(self, years: f64) -> String {
        match self {
            Known::Exact(n) => format!("{:.1}", n as f64 / years),
            Known::Between(_, hi) => format!("<{:.1}", (hi + 1) as f64 / years),
            Known::Unknown => "suppressed".to_string(),
        }
    }
}

/// Months to enrol `needed` more patients at the accrual of `count` patients over `years`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Months {
    /// Between the two (equal where the count is exact); `f64::INFINITY` is never.
    Range(f64, f64),
    Unknown,
}

impl Months {
    pub fn to_fill(needed: u64, count: Known, years: f64) -> Months {
        let at = |n: u64| {
            if needed == 0 {
                0.0
            } else if n == 0 {
                f64::INFINITY
            } else {
                needed as f64 * 12.0 * years / n as f64
            }
        };
        match count {
            Known::Exact(n) => Months::Range(at(n), at(n)),
            Known::Between(lo, hi) => Months::Range(at(hi), at(lo)),
            Known::Unknown => Months::Unknown,
        }
    }

    /// The cell: `7.5`, `>=12.0` where only a lower bound is published, empty for never.
    pub fn cell(self) -> String {
        match self {
            Months::Range(lo, _) if lo.is_infinite() => String::new(),
            Months::Range(lo, hi) if lo == hi => format!("{lo:.1}"),
            Months::Range(lo, _) => format!(">={lo:.1}"),
            Months::Unknown => "suppressed".to_string(),
        }
    }

    /// The cell for people: `never` instead of an empty cell.
    pub fn text(self) -> String {
        match self {
            Months::Range(lo, _) if lo.is_infinite() => "never".to_string(),
            _ => self.cell(),
        }
    }

    pub fn reachable(self, horizon: f64) -> Reachable {
        match self {
            Months::Range(_, hi) if hi <= horizon => Reachable::Yes,
            Months::Range(lo, _) if lo > horizon => Reachable::No,
            _ => Reachable::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reachable {
    Yes,
    No,
    /// The published counts cannot tell.
    Unknown,
}

impl Reachable {
    pub fn as_str(self) -> &'static str {
        match self {
            Reachable::Yes => "yes",
            Reachable::No => "no",
            Reachable::Unknown => "unknown",
        }
    }
}

/// The stage to fill next: index of the first cumulative stage size above `enrolled`, and the
/// patients still needed for it. None where every stage is full.
pub fn next_stage(stages: &[u32], enrolled: u32) -> Option<(usize, u64)> {
    stages
        .iter()
        .position(|s| *s > enrolled)
        .map(|i| (i, u64::from(stages[i] - enrolled)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_to_fill_by_hand() {
        // 12 eligible over 2 years = 6 a year = 0.5 a month; 8 - 2 enrolled = 6 needed: 12 months.
        let m = Months::to_fill(6, Known::Exact(12), 2.0);
        assert_eq!(m, Months::Range(12.0, 12.0));
        assert_eq!(m.cell(), "12.0");
        assert_eq!(m.reachable(24.0), Reachable::Yes);
        // Nobody eligible: never, and not reachable.
        let never = Months::to_fill(6, Known::Exact(0), 2.0);
        assert_eq!(
            (never.cell(), never.text()),
            (String::new(), "never".into())
        );
        assert_eq!(never.reachable(24.0), Reachable::No);
        // `<5` over 1 year: 1..4 a year; 8 needed takes 24..96 months: at least 24, unknown.
        let small = Months::to_fill(8, Known::of(Published::BelowMin(5)), 1.0);
        assert_eq!(small, Months::Range(24.0, 96.0));
        assert_eq!(small.cell(), ">=24.0");
        assert_eq!(small.reachable(24.0), Reachable::Unknown);
        assert_eq!(small.reachable(12.0), Reachable::No);
    }

    #[test]
    fn next_open_stage() {
        assert_eq!(next_stage(&[8, 24], 0), Some((0, 8)));
        assert_eq!(next_stage(&[8, 24], 8), Some((1, 16)));
        assert_eq!(next_stage(&[8, 24], 30), None);
    }
}
