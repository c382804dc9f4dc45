//! The tables the engine reads, as lazy frames in the extract's normalized form (dates as Date,
//! ids Int64 or String). The CLI fills them from an [`crate::extract::Extract`]; tests build them
//! from small in-memory frames.

use polars::prelude::*;

use crate::extract::partition::Partition;

/// One lazy frame per contract table; an absent table is an empty frame with the contract schema.
#[derive(Clone)]
pub struct Inputs {
    pub person: LazyFrame,
    pub diagnosis: LazyFrame,
    pub measurement: LazyFrame,
    pub observation: LazyFrame,
    pub treatment: LazyFrame,
    pub molecular_test: LazyFrame,
    pub variant: LazyFrame,
}

impl Inputs {
    /// The tables restricted to the `person_id` range of `partition`.
    pub fn partition(&self, partition: &Partition) -> Inputs {
        self.map(|table| partition.filter(table))
    }

    /// Every table through `f`.
    pub fn map(&self, f: impl Fn(LazyFrame) -> LazyFrame) -> Inputs {
        Inputs {
            person: f(self.person.clone()),
            diagnosis: f(self.diagnosis.clone()),
            measurement: f(self.measurement.clone()),
            observation: f(self.observation.clone()),
            treatment: f(self.treatment.clone()),
            molecular_test: f(self.molecular_test.clone()),
            variant: f(self.variant.clone()),
        }
    }
}

/// Days since 1970-01-01 of a date column (Date -> Int32), the form every window is computed in.
pub(crate) fn days(name: &str) -> Expr {
    col(name).cast(DataType::Int32)
}

/// Days since 1970-01-01 of a calendar date.
pub fn epoch_days(date: chrono::NaiveDate) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (date - epoch).num_days() as i32
}
