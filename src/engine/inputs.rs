//! The tables the engine reads, as lazy frames in the extract's normalized form (dates as Date,
//! ids Int64 or String). The CLI fills them from an [`crate::extract::Extract`]; tests build them
//! from small in-memory frames.

use polars::prelude::*;

use crate::extract::partition::Partition;
use crate::extract::Table;

/// The columns the engine reads of each table, whatever the definition (each table is read
/// through one select: [`super::records::RecordTable::rows`], the patient core's person
/// columns, the variants' rows and their tests). A table read into memory
/// ([`Inputs::read_into_memory`]) holds these; the decode floor of the benchmark decodes them.
pub const READ_COLUMNS: [(Table, &[&str]); 7] = [
    (
        Table::Person,
        &[
            "person_id",
            "sex",
            "birth_year",
            "death_date",
            "region",
            "site",
            "index_date",
        ],
    ),
    (Table::Diagnosis, &["person_id", "icd10", "date"]),
    (
        Table::Measurement,
        &["person_id", "loinc", "date", "value", "unit", "range_high"],
    ),
    (
        Table::Observation,
        &["person_id", "code", "date", "value_num", "value_text"],
    ),
    (
        Table::Treatment,
        &["person_id", "atc", "kind", "start_date", "end_date"],
    ),
    (
        Table::MolecularTest,
        &["person_id", "test_id", "approved_lab", "report_date"],
    ),
    (
        Table::Variant,
        &[
            "person_id",
            "test_id",
            "gene",
            "class",
            "alteration",
            "value",
        ],
    ),
];

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
    /// The tables of an extract, scanned lazily ([`crate::extract::Extract::scan`]).
    pub fn of(extract: &crate::extract::Extract) -> Result<Inputs, crate::extract::ExtractError> {
        Ok(Inputs {
            person: extract.scan(Table::Person)?,
            diagnosis: extract.scan(Table::Diagnosis)?,
            measurement: extract.scan(Table::Measurement)?,
            observation: extract.scan(Table::Observation)?,
            treatment: extract.scan(Table::Treatment)?,
            molecular_test: extract.scan(Table::MolecularTest)?,
            variant: extract.scan(Table::Variant)?,
        })
    }

    /// The tables restricted to the `person_id` range of `partition`.
    pub fn partition(&self, partition: &Partition) -> Inputs {
        self.map(|table| partition.filter(table))
    }

    /// The frame of `table`.
    pub fn table_mut(&mut self, table: Table) -> &mut LazyFrame {
        match table {
            Table::Person => &mut self.person,
            Table::Diagnosis => &mut self.diagnosis,
            Table::Measurement => &mut self.measurement,
            Table::Observation => &mut self.observation,
            Table::Treatment => &mut self.treatment,
            Table::MolecularTest => &mut self.molecular_test,
            Table::Variant => &mut self.variant,
        }
    }

    /// Reads `table` into memory: the columns the engine reads ([`READ_COLUMNS`]) and `also`
    /// (another pass's, such as validation's findings), decoded once for both. The engine then
    /// reads the frame in memory; the frame is returned for the other pass.
    pub fn read_into_memory(
        &mut self,
        table: Table,
        also: &[PlSmallStr],
    ) -> PolarsResult<DataFrame> {
        let mut columns: Vec<PlSmallStr> = READ_COLUMNS
            .iter()
            .filter(|(t, _)| *t == table)
            .flat_map(|(_, columns)| columns.iter().map(|c| PlSmallStr::from(*c)))
            .collect();
        for column in also {
            if !columns.contains(column) {
                columns.push(column.clone());
            }
        }
        let frame = self.table_mut(table);
        let rows = frame
            .clone()
            .select(columns.into_iter().map(col).collect::<Vec<_>>())
            .collect_with_engine(Engine::Streaming)?
            .unwrap_single();
        *frame = rows.clone().lazy();
        Ok(rows)
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
