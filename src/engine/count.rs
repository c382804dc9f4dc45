//! Counting the mask table from the patient-level frame: the outcomes of a row packed into
//! 64-bit words (two bits a criterion), then one group-by per population and per cohort over
//! the stratum columns and the words.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::cohorts::matched_column;
use super::evaluate::{cohort_columns, drug_criteria, general_columns, STRATUM_COLUMNS};
use super::mask::{CohortColumns, MaskRow, MaskTable, Outcomes, Stratum};
use super::EngineError;
use crate::definition::model::Definition;

/// Packs outcome columns into `Outcomes::PER_WORD`-criterion words, named `{prefix}{k}`.
fn packed(columns: &[String], prefix: &str) -> Vec<Expr> {
    columns
        .chunks(Outcomes::PER_WORD)
        .enumerate()
        .map(|(k, chunk)| {
            chunk
                .iter()
                .enumerate()
                .map(|(i, name)| col(name.as_str()).cast(DataType::UInt64) * lit(1u64 << (2 * i)))
                .reduce(|a, b| a + b)
                .unwrap_or(lit(0u64))
                .alias(format!("{prefix}{k}"))
        })
        .collect()
}

/// The mask table of the patient-level frame.
pub fn count(patients: &DataFrame, definition: &Definition) -> Result<MaskTable, EngineError> {
    let general = general_columns(definition);
    let mut raw: Vec<(Option<usize>, Stratum, Outcomes, u64)> = Vec::new();

    let population = grouped(patients.clone().lazy(), &general)?;
    for (stratum, outcomes, n) in population {
        raw.push((None, stratum, outcomes, n));
    }
    let mut cohorts = Vec::new();
    for (c, cohort) in definition.cohorts.iter().enumerate() {
        let matched = patients.clone().lazy().filter(col(matched_column(c)));
        for (stratum, outcomes, n) in grouped(matched, &cohort_columns(definition, c))? {
            raw.push((Some(c), stratum, outcomes, n));
        }
        cohorts.push(CohortColumns {
            id: cohort.id.clone(),
            criteria: drug_criteria(definition, cohort.drug)
                .map(|c| c.id.clone())
                .collect(),
        });
    }

    // Strata indexed in sorted order, rows sorted: the table does not depend on thread count.
    let strata: Vec<Stratum> = raw
        .iter()
        .map(|r| r.1.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let index: BTreeMap<&Stratum, usize> = strata.iter().enumerate().map(|(i, s)| (s, i)).collect();
    let mut rows: Vec<MaskRow> = raw
        .iter()
        .map(|(cohort, stratum, outcomes, patients)| MaskRow {
            cohort: *cohort,
            stratum: index[stratum],
            outcomes: outcomes.clone(),
            patients: *patients,
        })
        .collect();
    rows.sort();
    Ok(MaskTable {
        criteria: definition.criteria.iter().map(|c| c.id.clone()).collect(),
        cohorts,
        strata,
        rows,
    })
}

/// Counts of `frame` per stratum and combination of the outcome `columns`.
fn grouped(
    frame: LazyFrame,
    columns: &[String],
) -> Result<Vec<(Stratum, Outcomes, u64)>, EngineError> {
    let words = packed(columns, "word_");
    let word_names: Vec<String> = (0..words.len()).map(|k| format!("word_{k}")).collect();
    let mut keys: Vec<Expr> = STRATUM_COLUMNS.iter().map(|c| col(*c)).collect();
    keys.extend(word_names.iter().map(|w| col(w.as_str())));
    let counted = frame
        .with_columns(words)
        .group_by(keys)
        .agg([len().cast(DataType::UInt64).alias("patients")])
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
    let text = |name: &str| -> Result<StringChunked, EngineError> {
        Ok(counted.column(name)?.str()?.clone())
    };
    let dims: Vec<StringChunked> = STRATUM_COLUMNS
        .iter()
        .map(|c| text(c))
        .collect::<Result<_, _>>()?;
    let word_columns: Vec<UInt64Chunked> = word_names
        .iter()
        .map(|w| Ok(counted.column(w)?.u64()?.clone()))
        .collect::<Result<_, EngineError>>()?;
    let patients = counted.column("patients")?.u64()?.clone();
    let mut out = Vec::with_capacity(counted.height());
    for row in 0..counted.height() {
        let value = |d: usize| dims[d].get(row).unwrap_or("not recorded").to_string();
        let stratum = Stratum {
            region: value(0),
            site: value(1),
            tumour_group: value(2),
            sex: value(3),
            age_band: value(4),
        };
        let words: Vec<u64> = word_columns
            .iter()
            .map(|w| w.get(row).unwrap_or(0))
            .collect();
        let outcomes = Outcomes::from_words(words, columns.len()).ok_or_else(|| {
            EngineError::Internal("an outcome code outside 0..3 in the mask words".into())
        })?;
        out.push((stratum, outcomes, patients.get(row).unwrap_or(0)));
    }
    Ok(out)
}
