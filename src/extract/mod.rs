//! The input contract (`extract-contract.md`, version 1): locate each table of an extract, check
//! its schema, scan it lazily with polars in a normalized form, validate it and count data-quality
//! findings. Nothing here knows about trial definitions.

mod quality;

pub use quality::{ColumnQuality, DataQuality, TableQuality};

use std::fmt;

/// The seven tables of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Person,
    Diagnosis,
    Measurement,
    Observation,
    Treatment,
    MolecularTest,
    Variant,
}

impl Table {
    pub const ALL: [Table; 7] = [
        Table::Person,
        Table::Diagnosis,
        Table::Measurement,
        Table::Observation,
        Table::Treatment,
        Table::MolecularTest,
        Table::Variant,
    ];

    /// The file stem: `person`, `molecular_test`, ...
    pub fn name(self) -> &'static str {
        match self {
            Table::Person => "person",
            Table::Diagnosis => "diagnosis",
            Table::Measurement => "measurement",
            Table::Observation => "observation",
            Table::Treatment => "treatment",
            Table::MolecularTest => "molecular_test",
            Table::Variant => "variant",
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
