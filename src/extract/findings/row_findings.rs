//! [`RowFindings`]: what [`RowChecks`] counted, per table, column and finding, summed over a
//! run's partitions, with the span of the molecular tests' ids the partitions read.

use super::Finding;
#[cfg(doc)]
use super::RowChecks;
use crate::extract::ids::TestIdSpan;
use crate::extract::{DataQuality, Table};

/// Counts of [`RowChecks`]: per table, column and finding, the rows flagged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowFindings {
    counts: Vec<(Table, &'static str, Finding, u64)>,
    /// The span of the molecular tests' ids read, where the run takes them
    /// ([`RowChecks::spans_test_ids`]): partitions' spans are added in the partitions' order.
    test_ids: TestIdSpan,
}

impl RowFindings {
    /// These counts, of one table's checks.
    pub(super) fn of(counts: Vec<(Table, &'static str, Finding, u64)>) -> RowFindings {
        RowFindings {
            counts,
            ..RowFindings::default()
        }
    }

    /// `n` measurements whose unit the contract does not list, as [`RowChecks`] count them.
    pub fn unknown_units(n: u64) -> RowFindings {
        RowFindings::of(vec![(Table::Measurement, "unit", Finding::UnknownUnit, n)])
    }

    /// `n` rows of `table` whose person id is null or no person's, as [`RowChecks`]' orphan
    /// check counts them.
    pub fn orphans(table: Table, n: u64) -> RowFindings {
        RowFindings::of(vec![(table, "person_id", Finding::Orphan, n)])
    }

    /// `n` variants whose test id names no test of their own person, as [`RowChecks`]' check
    /// of the test ids counts them.
    pub fn test_orphans(n: u64) -> RowFindings {
        RowFindings::of(vec![(Table::Variant, "test_id", Finding::Orphan, n)])
    }

    /// The molecular tests of a partition whose ids span `span`
    /// ([`TestIds::span`](crate::extract::ids::TestIds::span)).
    pub fn test_ids(span: TestIdSpan) -> RowFindings {
        RowFindings {
            test_ids: span,
            ..RowFindings::default()
        }
    }

    /// The span of the test ids of the partitions added so far, in their order.
    pub fn test_id_span(&self) -> &TestIdSpan {
        &self.test_ids
    }

    /// Adds `other`'s counts (another partition's rows, the next one where the test ids are
    /// spanned) to these.
    pub fn add(&mut self, other: &RowFindings) {
        self.test_ids = self.test_ids.then(&other.test_ids);
        for &(table, column, finding, n) in &other.counts {
            match (self.counts.iter_mut())
                .find(|(t, c, f, _)| (*t, *c, *f) == (table, column, finding))
            {
                Some(count) => count.3 += n,
                None => self.counts.push((table, column, finding, n)),
            }
        }
    }

    /// Adds the counts to `quality`'s columns.
    pub fn record(&self, quality: &mut DataQuality) {
        for &(table, column, finding, n) in &self.counts {
            let q = quality.column_mut(table, column);
            match finding {
                Finding::OutOfDomain => q.out_of_domain += n,
                Finding::UnknownUnit => q.unconvertible_units += n,
                Finding::Orphan => q.orphan_rows += n,
            }
        }
    }
}
