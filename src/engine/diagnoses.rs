//! The diagnosis kernel ([`super::kernel`]): an `any` atom of a code set's diagnoses in a window,
//! folded by patient row. A record's (normalized) ICD-10 code is matched against the code sets
//! once per distinct code, and only the atoms of the sets that hold it test its date.
//!
//! As polars expressions (the reference, on the group-by path), each code set's membership
//! was a pass over every diagnosis, and each atom's window and code another few.

use std::sync::Arc;

use foldhash::HashMap;
use polars::prelude::*;

use super::codes::in_set_normalized;
use super::kernel::{input, AtomSlots, Kernel, NumberAtom, RecordAtom};
use crate::definition::model::CodeSet;
use crate::extract::distinct::map_distinct;

/// The key of a code in no set an atom reads (or of a null code).
const NONE: u32 = u32::MAX;

/// The diagnosis atoms of one table's pass, with their slots.
pub(crate) struct DiagnosisKernel {
    sets: Arc<[CodeSet]>,
    atoms: AtomSlots,
    /// Each distinct code seen that some read set holds, by key.
    keys: HashMap<Box<str>, u32>,
    /// Per key, the atoms of the read sets that hold its code, resolved as a numeric source's
    /// (an `any` atom reads no value).
    atoms_of_key: Vec<Vec<NumberAtom>>,
}

impl DiagnosisKernel {
    /// The kernel of `atoms` (name, atom of a code set by its index in `sets`) over the patients
    /// of `core` (`p_idx`, by row).
    pub(crate) fn new(
        sets: Arc<[CodeSet]>,
        atoms: Vec<(String, RecordAtom)>,
        core: &DataFrame,
    ) -> PolarsResult<DiagnosisKernel> {
        let atoms = AtomSlots::new(atoms, sets.len(), core)?;
        Ok(DiagnosisKernel {
            sets,
            atoms,
            keys: HashMap::default(),
            atoms_of_key: Vec::new(),
        })
    }

    /// The key of a code: the read sets that hold it, or [`NONE`].
    fn key(&mut self, code: &str) -> u32 {
        if let Some(&key) = self.keys.get(code) {
            return key;
        }
        let held: Vec<usize> = (0..self.sets.len())
            .filter(|&s| self.atoms.reads(s) && in_set_normalized(code, &self.sets[s]))
            .collect();
        let key = match held.is_empty() {
            true => NONE,
            false => {
                let atoms = held.iter().flat_map(|&s| self.atoms.number_atoms(s));
                self.atoms_of_key.push(atoms.collect());
                (self.atoms_of_key.len() - 1) as u32
            }
        };
        self.keys.insert(code.into(), key);
        key
    }
}

impl Kernel for DiagnosisKernel {
    fn inputs(&self) -> &'static [&'static str] {
        &["date", "code"]
    }

    fn fold(&mut self, rows: &[IdxSize], morsel: &DataFrame) -> PolarsResult<()> {
        let dates = input(morsel, "date", &DataType::Int32)?;
        let codes = input(morsel, "code", &DataType::String)?;
        let keys = map_distinct(codes.str()?, |code| {
            code.map_or(NONE, |code| self.key(code))
        });
        let dates = dates.i32()?.downcast_as_array();
        polars_ensure!(
            [dates.len(), keys.len()] == [rows.len(); 2],
            ShapeMismatch: "diagnosis columns are not as long as their rows"
        );
        // The records whose code is in a read set, listed first without a branch: codes in a
        // set and codes in none interleave, and a branch on each record's key mispredicted.
        let mut held = vec![0u32; keys.len()];
        let mut count = 0;
        for (i, &key) in keys.iter().enumerate() {
            held[count] = i as u32;
            count += usize::from(key != NONE);
        }
        for &i in &held[..count] {
            let i = i as usize;
            let row = rows[i] as usize;
            self.atoms.look_ahead(row);
            let (Some(date), Some(idx)) = (dates.get(i), self.atoms.idx(row)) else {
                continue;
            };
            let atoms = &self.atoms_of_key[keys[i] as usize];
            self.atoms.fold_number(row, (date, idx), atoms, 0.0);
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Vec<Column> {
        self.atoms.finish()
    }
}
