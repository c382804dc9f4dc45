//! Which atoms a kernel evaluates ([`crate::engine::kernel`]): a measure's or an observation's
//! `any`, and its `latest` with a test that fits its values, without a `where` filter; a code
//! set's `any` diagnosis without one. The
//! polars expression of every atom is compiled all the same: it is the reference, and the path
//! for ids without the row lookup.

use std::sync::Arc;

use super::super::kernel::{KernelAtoms, RecordAtom, Test, Truth};
use super::super::records::RecordTable;
use super::Compiler;
use crate::definition::model::{Quantity, Query, Source, Test as LatestTest};

/// `any QUERY` as a kernel atom, where a kernel evaluates it: a measure's, an observation's or a
/// code set's diagnoses (the source is the set's index).
pub(super) fn any_kernel(query: &Query) -> Option<RecordAtom> {
    match (&query.source, &query.filter) {
        (Source::Measure(s) | Source::Observation(s) | Source::Diagnosis(Some(s)), None) => {
            RecordAtom::new(*s, &query.window, Test::Any)
        }
        _ => None,
    }
}

impl Compiler<'_> {
    /// The kernel of `atoms` (name, atom) of `table`; None for a table without a kernel.
    pub(crate) fn kernel(
        &self,
        table: RecordTable,
        atoms: Vec<(String, RecordAtom)>,
    ) -> Option<KernelAtoms> {
        match table {
            RecordTable::Measurement => Some(KernelAtoms::Measures(
                Arc::clone(&self.measures),
                atoms,
                None,
            )),
            RecordTable::Observation => Some(KernelAtoms::Observations(
                Arc::clone(&self.observations),
                atoms,
            )),
            RecordTable::Diagnosis => Some(KernelAtoms::Diagnoses(
                self.definition.code_sets.clone().into(),
                atoms,
            )),
            _ => None,
        }
    }

    /// `latest QUERY TEST` as a kernel atom, with the tie bits of its key: a number comparison on
    /// a measure or a numeric observation, or a list of texts on an observation with a text
    /// domain; None otherwise (the polars expression evaluates it).
    pub(super) fn latest_kernel(
        &self,
        query: &Query,
        test: &LatestTest,
        (bit_if_holds, bit_if_not): (i32, i32),
    ) -> Option<RecordAtom> {
        if query.filter.is_some() {
            return None;
        }
        let (source, truth) = match (&query.source, test) {
            (Source::Measure(m), LatestTest::Compare(op, Quantity::Number(threshold))) => {
                (*m, Truth::Compare(*op, *threshold))
            }
            (Source::Observation(o), LatestTest::Compare(op, Quantity::Number(threshold)))
                if self.observations.is_number(*o) =>
            {
                (*o, Truth::Compare(*op, *threshold))
            }
            (Source::Observation(o), LatestTest::In(values)) => {
                (*o, Truth::TextIn(self.observations.text_keys(*o, values)?))
            }
            _ => return None,
        };
        let test = Test::Latest {
            truth,
            bit_if_holds,
            bit_if_not,
        };
        RecordAtom::new(source, &query.window, test)
    }
}
