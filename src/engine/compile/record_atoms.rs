//! The record-level parts of a condition: a `where` filter on a record table's rows, a query's
//! selection (source, window, filter), and the `any` and `latest` atoms built from them, with
//! `latest`'s same-date ties resolved by polarity.

use std::sync::Arc;

use polars::prelude::*;

use super::answers::Answer;
use super::drugs::drug_of;
use super::kernels::any_kernel;
use super::{cmp, cohort_only, Atom, Compiler, Context, Reduce, Ties, DATE_OFFSET};
use crate::definition::model::{Quantity, Query, RecordCond, Source, Test};
use crate::engine::codes::{atc_in, normalized_atc};
use crate::engine::kernel::RecordAtom;
use crate::engine::observations::OBSERVATION_KEY;
use crate::engine::records::{
    in_window, key_is, observation_value, one_of, started_at_least_days_before, text_is,
    RecordTable,
};
use crate::engine::EngineError;

impl Compiler<'_> {
    /// A record-level condition (`where ...`) on rows of `table`; may be null (unknown).
    pub(super) fn record(
        &mut self,
        cond: &RecordCond,
        table: RecordTable,
        ctx: Context,
    ) -> Result<Expr, EngineError> {
        let wrong_table =
            |what: &str| EngineError::Unsupported(format!("`{what}` on {table:?} records"));
        Ok(match cond {
            RecordCond::Not(inner) => self.record(inner, table, ctx)?.not(),
            RecordCond::And(parts) | RecordCond::Or(parts) => {
                let mut exprs = Vec::with_capacity(parts.len());
                for part in parts {
                    exprs.push(self.record(part, table, ctx)?);
                }
                let op = if matches!(cond, RecordCond::And(_)) {
                    Expr::and
                } else {
                    Expr::or
                };
                exprs.into_iter().reduce(op).unwrap_or(lit(true))
            }
            RecordCond::CodeIn(set) => match table {
                RecordTable::Diagnosis | RecordTable::Treatment => {
                    let hit = self.code_in(table, *set);
                    self.share(table, format!("in_set_{set}"), || hit)
                }
                _ => return Err(wrong_table("code in")),
            },
            RecordCond::KindIs(kind) => match table {
                RecordTable::Treatment => text_is(col("kind"), kind),
                _ => return Err(wrong_table("kind is")),
            },
            RecordCond::StartedAtLeastDaysBefore(days) => match table {
                RecordTable::Treatment => started_at_least_days_before(*days as i32),
                _ => return Err(wrong_table("started at least")),
            },
            RecordCond::ApprovedLab => match table {
                RecordTable::MolecularTest => col("approved_lab"),
                _ => return Err(wrong_table("approved lab")),
            },
            RecordCond::ValueIsDrugAtc => {
                let (_, drug) = ctx.drug.ok_or_else(|| cohort_only("value is drug atc"))?;
                match table {
                    RecordTable::Observation => {
                        let value = self.share(table, "value_text_as_atc".into(), || {
                            normalized_atc(col("value_text"))
                        });
                        atc_in(value, &drug.atc)
                    }
                    _ => return Err(wrong_table("value is drug atc")),
                }
            }
            RecordCond::AtcIsDrugAtc => {
                let (_, drug) = ctx.drug.ok_or_else(|| cohort_only("atc is drug atc"))?;
                match table {
                    RecordTable::Treatment => {
                        self.treatment_codes_read = true;
                        atc_in(col("code"), &drug.atc)
                    }
                    _ => return Err(wrong_table("atc is drug atc")),
                }
            }
            RecordCond::Person(inner) => self.person(inner, ctx)?,
        })
    }

    /// Registers an atom's record-level column under a stable key; returns its column name.
    pub(super) fn atom(
        &mut self,
        key: String,
        (table, reduce): (RecordTable, Reduce),
        kernel: Option<RecordAtom>,
        make: impl FnOnce() -> Expr,
    ) -> String {
        if let Some(name) = self.names.get(&key) {
            return name.clone();
        }
        let name = format!("atom_{}", self.names.len());
        self.atoms.entry(table).or_default().push(Atom {
            column: make().alias(name.as_str()),
            name: name.clone(),
            reduce,
            kernel,
        });
        self.names.insert(key, name.clone());
        name
    }

    /// The record's selection by source and window, and its value (null: dropped).
    fn selection(&mut self, query: &Query) -> (RecordTable, Expr, Option<Expr>) {
        let table = RecordTable::of(&query.source);
        let selected = self.selected(query);
        let definition = self.definition;
        let value = match &query.source {
            Source::Measure(m) => {
                let measures = Arc::clone(&self.measures);
                Some(self.share(table, format!("value_measure_{m}"), || measures.value(*m)))
            }
            Source::Observation(o) => {
                Some(self.share(table, format!("value_observation_{o}"), || {
                    observation_value(&definition.observations[*o])
                }))
            }
            _ => None,
        };
        (table, selected, value)
    }

    /// The record's selection by source and window.
    fn selected(&mut self, query: &Query) -> Expr {
        let table = RecordTable::of(&query.source);
        let source = match &query.source {
            Source::Diagnosis(Some(set)) | Source::Treatment(Some(set)) => {
                let hit = self.code_in(table, *set);
                Some(self.share(table, format!("in_set_{set}"), || hit))
            }
            Source::Observation(o) => {
                // By the code key: the record's code is trimmed where the key is computed.
                let key = self.observations.code_key(*o);
                Some(self.share(table, format!("source_observation_{o}"), || {
                    key_is(col(OBSERVATION_KEY), key)
                }))
            }
            // Every record of the table. A measure's value is null on other measures' records,
            // and both `any` and `latest` select only records with a value.
            Source::Diagnosis(None)
            | Source::Treatment(None)
            | Source::MolecularTest
            | Source::Measure(_) => None,
        };
        // Once per table and window: polars' common subexpressions do not find equal windows
        // in its function of the columns.
        let window = self.share(table, format!("window_{:?}", query.window), || {
            in_window(&query.window)
        });
        match source {
            Some(source) => source.and(window),
            None => window,
        }
    }

    /// The records an `any` query selects: by source and window, with a value where the source
    /// has values. A text observation's value is tested by its text key
    /// ([`ObservationRules::has_text`]), so that its text is not read.
    pub(super) fn any_selected(&mut self, query: &Query) -> (RecordTable, Expr) {
        let table = RecordTable::of(&query.source);
        match &query.source {
            Source::Observation(o) if !self.observations.is_number(*o) => {
                let selected = self.selected(query);
                let has_text = self.observations.has_text(*o);
                let has_text = self.share(table, format!("has_text_observation_{o}"), || has_text);
                (table, selected.and(has_text))
            }
            _ => match self.selection(query) {
                (table, selected, Some(value)) => (table, selected.and(value.is_not_null())),
                (table, selected, None) => (table, selected),
            },
        }
    }

    /// `any QUERY`: per patient 2 (a selected record's filter is true), 1 (unknown), 0 (none).
    /// The column of `any QUERY`'s code (Int8, null where no record).
    pub(super) fn any_atom(&mut self, query: &Query, ctx: Context) -> Result<String, EngineError> {
        let (table, selected) = self.any_selected(query);
        let filter = match &query.filter {
            Some(filter) => Some((self.record(filter, table, ctx)?, never_null(filter))),
            None => None,
        };
        let (hit, unknown) = any_branches(selected, filter);
        let key = format!("any|{query:?}|{:?}", drug_of(query, ctx));
        let kernel = any_kernel(query);
        let name = self.atom(key, (table, Reduce::Max), kernel, || any_code(hit, unknown));
        Ok(name)
    }

    /// `latest QUERY TEST`: the test on the latest selected record with a valid value.
    ///
    /// Each record gets the key `(date + OFFSET) * 2 + bit`, where `bit` is 1 for the tied answer
    /// that must win (false when all tied records must pass, true when any may fail), so that one
    /// vectorized `max()` per patient finds the latest date and breaks its ties at once.
    pub(super) fn latest(
        &mut self,
        query: &Query,
        test: &Test,
        ties: Ties,
        ctx: Context,
    ) -> Result<Expr, EngineError> {
        match test {
            // A person-level threshold (`if liver metastases then 5 xULN else 2.5 xULN`): one
            // atom per branch, the branch chosen per patient.
            Test::Compare(op, Quantity::If(cond, then, otherwise)) => {
                let cond = self.cond(cond, false, ctx)?.fill_null(lit(false));
                let then = Test::Compare(*op, (**then).clone());
                let otherwise = Test::Compare(*op, (**otherwise).clone());
                Ok(when(cond)
                    .then(self.latest(query, &then, ties, ctx)?)
                    .otherwise(self.latest(query, &otherwise, ties, ctx)?))
            }
            Test::Compare(op, Quantity::Number(threshold)) => {
                let threshold = *threshold;
                let op = *op;
                self.latest_truth(query, test, ties, ctx, move |v| cmp(v, op, lit(threshold)))
            }
            Test::In(values) => {
                let values = values.clone();
                self.latest_truth(query, test, ties, ctx, move |v| one_of(v, &values))
            }
        }
    }

    fn latest_truth(
        &mut self,
        query: &Query,
        test: &Test,
        ties: Ties,
        ctx: Context,
        truth: impl FnOnce(Expr) -> Expr,
    ) -> Result<Expr, EngineError> {
        let (table, selected, value) = self.selection(query);
        let value = value.ok_or_else(|| {
            EngineError::Unsupported(format!(
                "`latest` needs a measure or an observation, not {:?}",
                query.source
            ))
        })?;
        let mut selected = selected.and(value.clone().is_not_null());
        if let Some(filter) = &query.filter {
            selected = selected.and(self.record(filter, table, ctx)?.fill_null(lit(false)));
        }
        let holds = truth(value).fill_null(lit(false));
        // The key's last bit: 1 where the record's truth counts for the tie rule. A select of
        // two constants by the mask, not a cast (polars casts a Boolean bit by bit).
        let (bit_if_holds, bit_if_not) = match ties {
            Ties::All => (0i32, 1i32),
            Ties::Any => (1i32, 0i32),
        };
        let bit = when(holds)
            .then(lit(bit_if_holds))
            .otherwise(lit(bit_if_not));
        let key = format!(
            "latest|{query:?}|{test:?}|{ties:?}|{:?}",
            drug_of(query, ctx)
        );
        let kernel = self.latest_kernel(query, test, (bit_if_holds, bit_if_not));
        let name = self.atom(key, (table, Reduce::Max), kernel, || {
            when(selected)
                .then((col("date") + lit(DATE_OFFSET)) * lit(2i32) + bit)
                .otherwise(lit(NULL).cast(DataType::Int32))
        });
        // The key's last bit: `& 1`, which is polars' (floored) `% 2` for every key, negative
        // ones too, without a division per patient and atom (1.8 % of a run's instructions).
        Ok(match ties {
            Ties::All => self.answer(name, Answer::LatestBit(0)),
            Ties::Any => self.answer(name, Answer::LatestBit(1)),
        })
    }
}

/// Where a selected record makes an `any` atom true (its filter true), and where unknown (its
/// filter null). `filter` comes with whether it is never null: such a filter cannot make the atom
/// unknown, so it gets one branch, not two (a Boolean column fewer and two passes fewer per
/// record).
pub(super) fn any_branches(selected: Expr, filter: Option<(Expr, bool)>) -> (Expr, Option<Expr>) {
    match filter {
        Some((filter, certain)) => (
            selected.clone().and(filter.clone()).fill_null(lit(false)),
            (!certain).then(|| selected.and(filter.is_null())),
        ),
        None => (selected, None),
    }
}

/// An `any` atom's code (Int8): 2 where `hit`, else 1 where `unknown`, else 0. Typed literals:
/// polars' `lit(2i8)` is a dynamic integer, and a `when` of dynamic integers is Int32, which
/// the atom's answer then cast back to Int8 with an overflow check (about 40 instructions a
/// patient per atom, callgrind).
pub(super) fn any_code(hit: Expr, unknown: Option<Expr>) -> Expr {
    let code = |code: i8| lit(Scalar::from(code));
    let hit = when(hit).then(code(2));
    match unknown {
        Some(unknown) => hit.when(unknown).then(code(1)).otherwise(code(0)),
        None => hit.otherwise(code(0)),
    }
}

/// Whether a record filter's column is never null (so never unknown): code sets, kinds and ATC
/// matches are filled with false where the code is missing; dates, the approved-lab flag and
/// person-level conditions can be null.
pub(super) fn never_null(cond: &RecordCond) -> bool {
    match cond {
        RecordCond::Not(inner) => never_null(inner),
        RecordCond::And(parts) | RecordCond::Or(parts) => parts.iter().all(never_null),
        RecordCond::CodeIn(_)
        | RecordCond::KindIs(_)
        | RecordCond::ValueIsDrugAtc
        | RecordCond::AtcIsDrugAtc => true,
        RecordCond::StartedAtLeastDaysBefore(_)
        | RecordCond::ApprovedLab
        | RecordCond::Person(_) => false,
    }
}
