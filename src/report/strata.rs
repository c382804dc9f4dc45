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
/// Rows are summed per stratum first (a few thousand strata against millions of rows), then the
/// strata per value of each dimension.
pub fn counts(rows: &[Row]) -> Vec<StratumCounts> {
    let strata = rows.iter().map(|r| r.stratum_index + 1).max().unwrap_or(0);
    let mut per_stratum: Vec<Option<(&Stratum, [u64; 3])>> = vec![None; strata];
    for row in rows {
        let entry = &mut per_stratum[row.stratum_index]
            .get_or_insert((row.stratum, [0; 3]))
            .1;
        entry[0] += row.patients;
        match row.status() {
            Status::Eligible => entry[1] += row.patients,
            Status::PossiblyEligible => entry[2] += row.patients,
            Status::Ineligible => {}
        }
    }
    let mut out = Vec::new();
    for dimension in Stratum::DIMENSIONS {
        let mut values: BTreeMap<(u8, &str), [u64; 3]> = BTreeMap::new();
        for (stratum, counts) in per_stratum.iter().flatten() {
            let value = stratum.get(dimension).unwrap_or("not recorded");
            // `<40` sorts before `40-49`; anything else in plain order.
            let entry = values
                .entry((u8::from(!value.starts_with('<')), value))
                .or_default();
            for (sum, count) in entry.iter_mut().zip(counts) {
                *sum += count;
            }
        }
        out.extend(values.into_iter().map(
            |((_, value), [patients, eligible, possibly_eligible])| StratumCounts {
                dimension,
                value: value.to_string(),
                patients,
                eligible,
                possibly_eligible,
            },
        ));
    }
    out
}
