//! Patients, eligible and possibly eligible by stratum: region, site, tumour group, sex and age
//! band. Within a dimension the values partition the population, so their sums equal the totals.

use std::collections::BTreeMap;

use super::aggregate::Row;
use crate::engine::mask::{Status, Stratum};

/// True counts of one value of one dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StratumCounts {
    pub dimension: &'static str,
    pub value: String,
    pub patients: u64,
    pub eligible: u64,
    pub possibly_eligible: u64,
}

/// Every dimension in [`Stratum::DIMENSIONS`] order, values sorted (age bands in age order).
pub fn counts(rows: &[Row]) -> Vec<StratumCounts> {
    let mut out = Vec::new();
    for dimension in Stratum::DIMENSIONS {
        let mut values: BTreeMap<(u8, String), (u64, u64, u64)> = BTreeMap::new();
        for row in rows {
            let value = row.stratum.get(dimension).unwrap_or("not recorded");
            // `<40` sorts before `40-49`; anything else in plain order.
            let entry = values
                .entry((u8::from(!value.starts_with('<')), value.to_string()))
                .or_default();
            entry.0 += row.patients;
            match row.status() {
                Status::Eligible => entry.1 += row.patients,
                Status::PossiblyEligible => entry.2 += row.patients,
                Status::Ineligible => {}
            }
        }
        out.extend(values.into_iter().map(
            |((_, value), (patients, eligible, possibly_eligible))| StratumCounts {
                dimension,
                value,
                patients,
                eligible,
                possibly_eligible,
            },
        ));
    }
    out
}
