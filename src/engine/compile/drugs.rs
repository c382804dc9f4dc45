//! Cohort criteria that depend on the drug: which atoms do (their key names the drug), and the
//! drug's ATC match (E8's allergy, E9's earlier treatment) for every drug in one atom, a bit per
//! drug, instead of an atom per drug.

use polars::prelude::*;

use super::super::codes::{bit_of, MAX_ATC_LISTS};
use super::super::records::RecordTable;
use super::super::EngineError;
use super::record_atoms::{any_branches, never_null};
use super::{Compiler, Context, Reduce};
use crate::definition::model::{Cond, Query, RecordCond};
use polars_arrow::array::BooleanArray;

impl Compiler<'_> {
    /// `any QUERY` whose filter is the drug's ATC match, alone or and-ed with parts that do not
    /// name the drug (E8's `value is drug atc`, E9's `atc is drug atc`), for every drug at once:
    /// each record gets a word with a bit per drug whose ATC list it matches, or-ed per patient,
    /// and the drug's answer is its bit. One pass and one aggregation per table instead of one
    /// per drug. Gives the drug's condition ([`drug_condition`]). None for other queries (and
    /// beyond [`MAX_ATC_LISTS`] drugs): they get an atom per drug.
    pub(super) fn drugs_any_atom(
        &mut self,
        query: &Query,
        ctx: Context,
    ) -> Result<Option<Expr>, EngineError> {
        let (Some((d, _)), Some(filter)) = (ctx.drug, &query.filter) else {
            return Ok(None);
        };
        if self.definition.drugs.len() > MAX_ATC_LISTS {
            return Ok(None);
        }
        let parts = match filter {
            RecordCond::And(parts) => parts.as_slice(),
            other => std::slice::from_ref(other),
        };
        let (matches, rest): (Vec<&RecordCond>, Vec<&RecordCond>) =
            parts.iter().partition(|part| {
                matches!(part, RecordCond::ValueIsDrugAtc | RecordCond::AtcIsDrugAtc)
            });
        if matches.len() != 1 || rest.iter().any(|part| names_drug(part)) {
            return Ok(None);
        }
        let table = RecordTable::of(&query.source);
        match (matches[0], table) {
            (RecordCond::ValueIsDrugAtc, RecordTable::Observation)
            | (RecordCond::AtcIsDrugAtc, RecordTable::Treatment) => {}
            // The per-drug path names the error.
            _ => return Ok(None),
        }
        let (_, selected) = self.any_selected(query);
        let rest = match rest.as_slice() {
            [] => None,
            parts => {
                let rest = RecordCond::And(parts.iter().map(|&part| part.clone()).collect());
                Some((self.record(&rest, table, ctx)?, never_null(&rest)))
            }
        };
        let (hit, unknown) = any_branches(selected, rest);
        let mut word_atom = |kind: &str, rows: Expr| {
            let key = format!("any-drugs|{kind}|{query:?}");
            // A record's word is computed once (as the table is read, or before its atoms).
            let words = self.drug_atc_word(table, rows);
            self.atom(key, (table, Reduce::BitOr), None, || words)
        };
        let hits = word_atom("hit", hit);
        let unknowns = unknown.map(|unknown| word_atom("unknown", unknown));
        Ok(Some(drug_condition(&hits, unknowns.as_deref(), d)))
    }
}

/// Drug `d`'s condition from the words of an ATC atom (a bit per drug; null for a patient
/// without records): true where its bit is set in `hits`, else unknown where it is set in
/// `unknowns`, else false. One pass over the words: as polars expressions (a mask and a
/// comparison per word, two `when`s to a code, two comparisons and a `when` from the code to
/// the condition), nine kernels per drug, whose comparisons build their Booleans bit by bit.
fn drug_condition(hits: &str, unknowns: Option<&str>, d: usize) -> Expr {
    let mask = 1u64 << d;
    let inputs: Vec<Expr> = std::iter::once(hits).chain(unknowns).map(col).collect();
    map_multiple(
        move |words: &mut [Column]| {
            let hit = bit_of(&words[0], mask)?;
            // Without an unknown atom every condition is known: no validity.
            let known = match words.get(1) {
                Some(unknowns) => Some(&hit | &!&bit_of(unknowns, mask)?),
                None => None,
            };
            let condition = BooleanArray::new(ArrowDataType::Boolean, hit, known);
            let name = words[0].name().clone();
            Ok(BooleanChunked::from_chunk_iter(name, [condition]).into_column())
        },
        inputs,
        |_, fields| Ok(Field::new(fields[0].name().clone(), DataType::Boolean)),
    )
}

/// The drug a query's records depend on (its `where` names the drug), for the atom's key: atoms
/// that do not depend on the drug are computed once, not once per drug.
pub(super) fn drug_of(query: &Query, ctx: Context) -> Option<usize> {
    let depends = query.filter.as_ref().is_some_and(names_drug);
    if depends {
        ctx.drug.map(|(d, _)| d)
    } else {
        None
    }
}

/// Whether a record condition depends on the drug being evaluated.
fn names_drug(cond: &RecordCond) -> bool {
    fn person_names_drug(cond: &Cond) -> bool {
        match cond {
            Cond::DrugRouteIs(_) | Cond::ResistanceBiomarker => true,
            Cond::Not(inner) | Cond::Confirmed(inner) => person_names_drug(inner),
            Cond::And(parts) | Cond::Or(parts) => parts.iter().any(person_names_drug),
            _ => false,
        }
    }
    match cond {
        RecordCond::ValueIsDrugAtc | RecordCond::AtcIsDrugAtc => true,
        RecordCond::Not(inner) => names_drug(inner),
        RecordCond::And(parts) | RecordCond::Or(parts) => parts.iter().any(names_drug),
        RecordCond::Person(cond) => person_names_drug(cond),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked out by hand for drug 1 (bit 0b10): a hit wins over an unknown; an unknown without
    /// a hit is null; neither is false; a null word (no records) sets no bit. The hits come in
    /// two chunks.
    #[test]
    fn a_drugs_condition_from_its_bits() {
        let mut hits = UInt64Chunked::new("hits".into(), [Some(0b10u64), Some(0b01), None]);
        hits.append(&UInt64Chunked::new(
            "hits".into(),
            [Some(0b11u64), Some(0), Some(0b10)],
        ))
        .unwrap();
        let unknowns = UInt64Chunked::new(
            "unknowns".into(),
            [
                Some(0b10u64),
                Some(0b10),
                Some(0b10),
                None,
                Some(0),
                Some(0),
            ],
        );
        let frame = DataFrame::new(6, vec![hits.into_column(), unknowns.into_column()]).unwrap();
        let condition = |unknowns: Option<&str>| -> Vec<Option<bool>> {
            let out = (frame.clone().lazy())
                .select([drug_condition("hits", unknowns, 1).alias("c")])
                .collect()
                .unwrap();
            out.column("c").unwrap().bool().unwrap().iter().collect()
        };
        assert_eq!(
            condition(Some("unknowns")),
            [Some(true), None, None, Some(true), Some(false), Some(true)]
        );
        assert_eq!(
            condition(None),
            [
                Some(true),
                Some(false),
                Some(false),
                Some(true),
                Some(false),
                Some(true)
            ]
        );
    }
}
