//! The tables the engine reads, as lazy frames in the extract's normalized form (dates as Date,
//! ids Int64 or String). The CLI fills them from an [`crate::extract::Extract`]; tests build them
//! from small in-memory frames.

use polars::prelude::*;

use std::sync::Arc;

use crate::extract::partition::Partition;
use crate::extract::row_groups::RowGroupReader;
use crate::extract::text_keys::{keyed_strings, with_texts, TextKey};
use crate::extract::Table;

/// The columns the engine reads of each table, whatever the definition (each table is read
/// through one select: `records::RecordTable::rows`, the patient core's person
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
    /// Where the tables are read by row groups: the reader, and once they are a partition's, the
    /// partition ([`Inputs::read_into_memory`] reads through it; the frames above stay the
    /// range filter, for any other reader).
    pub row_groups: Option<RowGroups>,
}

/// The reader of the partitions' row groups, and the partition the inputs are.
#[derive(Clone)]
pub struct RowGroups {
    reader: Arc<RowGroupReader>,
    partition: Option<Partition>,
    /// The tables read through the reader (it hands each row group to each partition once).
    read: Vec<Table>,
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
            row_groups: None,
        })
    }

    /// The inputs of `extract` that [`Inputs::partition`] reads for each of `partitions` (one or
    /// many) by row groups, each decoded once, where a table's row groups are in `person_id`
    /// order ([`crate::extract::row_groups`]); by the range filter otherwise.
    pub fn of_partitions(
        extract: &crate::extract::Extract,
        partitions: &[Partition],
    ) -> Result<Inputs, crate::extract::ExtractError> {
        let mut inputs = Inputs::of(extract)?;
        if !partitions.is_empty() {
            let scans = Table::ALL.into_iter().filter_map(|table| {
                let layout = extract.layout(table)?;
                Some((table, inputs.table_mut(table).clone(), layout))
            });
            let mut reader = RowGroupReader::new(scans.collect::<Vec<_>>(), partitions);
            for table in Table::ALL {
                if let Some(chunks) = extract.column_chunks(table) {
                    reader = reader.with_chunks(table, chunks);
                }
            }
            inputs.row_groups = Some(RowGroups {
                reader: Arc::new(reader),
                partition: None,
                read: Vec::new(),
            });
        }
        Ok(inputs)
    }

    /// The tables restricted to the `person_id` range of `partition`.
    pub fn partition(&self, partition: &Partition) -> Inputs {
        let mut inputs = self.map(|table| partition.filter(table));
        inputs.row_groups = (self.row_groups.as_ref()).map(|groups| RowGroups {
            reader: groups.reader.clone(),
            partition: Some(partition.clone()),
            read: Vec::new(),
        });
        inputs
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
    /// (another pass's, such as validation's findings), decoded once for both, then the key
    /// column of each of `keyed`, whose text column is read only as its keys. The engine then
    /// reads the frame in memory; the frame is returned for the other pass.
    pub fn read_into_memory(
        &mut self,
        table: Table,
        also: &[PlSmallStr],
        keyed: &[TextKey],
    ) -> PolarsResult<DataFrame> {
        let columns = read_columns(table, also, keyed);
        let rows = match self.reader_of(table) {
            Some((reader, partition)) => reader.read(table, &partition, &columns, keyed),
            None => None,
        };
        let rows = match rows {
            Some(rows) => rows?,
            None => self.read_whole(table, &columns, keyed)?,
        };
        *self.table_mut(table) = rows.clone().lazy();
        Ok(rows)
    }

    /// The rows [`Inputs::read_into_memory`] reads, handed to `f` in runs of whole row groups of
    /// at most `most_rows` rows as they are decoded where the partition is read by row groups
    /// ([`RowGroupReader::read_each`]; else all at once), and not kept: the table is left empty,
    /// for a table whose every reader is `f`. `f` sees at least one frame (an empty one where
    /// the partition has no rows).
    pub fn read_each<E: From<PolarsError>>(
        &mut self,
        table: Table,
        also: &[PlSmallStr],
        keyed: &[TextKey],
        most_rows: u64,
        mut f: impl FnMut(DataFrame) -> Result<(), E>,
    ) -> Result<(), E> {
        let columns = read_columns(table, also, keyed);
        let mut schema = None;
        let mut each = |rows: DataFrame| {
            schema.get_or_insert_with(|| rows.schema().clone());
            f(rows)
        };
        let read = match self.reader_of(table) {
            Some((reader, partition)) => {
                reader.read_each(table, &partition, &columns, keyed, most_rows, &mut each)
            }
            None => None,
        };
        match read {
            Some(read) => read?,
            None => each(self.read_whole(table, &columns, keyed)?)?,
        }
        if let Some(schema) = schema {
            *self.table_mut(table) = DataFrame::empty_with_schema(&schema).lazy();
        }
        Ok(())
    }

    /// The reader of the partition's row groups and the partition, where `table` is read through
    /// it and was not yet (the reader hands each row group to each partition once).
    fn reader_of(&mut self, table: Table) -> Option<(Arc<RowGroupReader>, Partition)> {
        match &mut self.row_groups {
            Some(RowGroups {
                reader,
                partition: Some(partition),
                read,
            }) if !read.contains(&table) => {
                read.push(table);
                Some((Arc::clone(reader), partition.clone()))
            }
            _ => None,
        }
    }

    /// `columns` and `keyed`'s keys of `table`'s frame (the range filter), in one streaming read.
    fn read_whole(
        &mut self,
        table: Table,
        columns: &[PlSmallStr],
        keyed: &[TextKey],
    ) -> PolarsResult<DataFrame> {
        let select = with_texts(columns, keyed).into_iter().map(col);
        let rows = (self
            .table_mut(table)
            .clone()
            .select(select.collect::<Vec<_>>()))
        .collect_with_engine(Engine::Streaming)?
        .unwrap_single();
        keyed_strings(rows, columns, keyed)
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
            row_groups: None,
        }
    }
}

/// The columns of `table` a read decodes: the engine's ([`READ_COLUMNS`]) and `also`, less the
/// text columns read as `keyed`'s keys.
fn read_columns(table: Table, also: &[PlSmallStr], keyed: &[TextKey]) -> Vec<PlSmallStr> {
    let mut columns: Vec<PlSmallStr> = Vec::new();
    let read = READ_COLUMNS.iter().filter(|(t, _)| *t == table);
    let read = read.flat_map(|(_, columns)| columns.iter().map(|c| PlSmallStr::from(*c)));
    for column in read.chain(also.iter().cloned()) {
        let as_key = keyed.iter().any(|key| key.column == column);
        if !as_key && !columns.contains(&column) {
            columns.push(column);
        }
    }
    columns
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

/// The proleptic Gregorian year of day `days` since 1970-01-01 (any i32), by Howard Hinnant's
/// `civil_from_days`: days are counted in 400-year eras from 0000-03-01, so that a leap day
/// ends its year.
pub(crate) fn year_of_days(days: i32) -> i32 {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months from March: 0-9 are March to December, 10 and 11 January and February.
    let month_from_march = (5 * day_of_year + 2) / 153;
    let year = year_of_era + era * 400 + i64::from(month_from_march >= 10);
    year as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::partition::partitions;
    use crate::extract::Extract;
    use chrono::Datelike;

    /// An extract of one partition (the shipped sample's 2,000 patients) is read by row groups
    /// too, as several partitions are: each of its tables with a layout decoded once through the
    /// reader, not by the scan, and the rows the same as the scan's. A single partition was read
    /// by the scan, its text keys mapped from decoded strings (5 % of a 250,000-patient run's
    /// instructions).
    #[test]
    fn one_partition_is_read_by_row_groups() {
        let extract = Extract::open(std::path::Path::new("data-samples")).unwrap();
        let parts = partitions(&extract.scan(Table::Person).unwrap(), 250_000).unwrap();
        assert_eq!(parts.len(), 1);
        let inputs = Inputs::of_partitions(&extract, &parts).unwrap();
        let reader = (inputs.row_groups.as_ref())
            .expect("a row-group reader for one partition")
            .reader
            .clone();
        let columns = [PlSmallStr::from("person_id"), PlSmallStr::from("value")];
        let read = |mut inputs: Inputs| {
            let rows = inputs
                .read_into_memory(Table::Measurement, &[], &[])
                .unwrap();
            rows.select(columns.clone()).unwrap()
        };
        let by_row_groups = read(inputs.partition(&parts[0]));
        use parquet::file::reader::FileReader;
        let file = std::fs::File::open("data-samples/measurement.parquet").unwrap();
        let footer = parquet::file::serialized_reader::SerializedFileReader::new(file).unwrap();
        let groups = footer.metadata().num_row_groups();
        assert_eq!(reader.decoded_and_kept(), (groups, 0));
        let by_scan = read(Inputs::of(&extract).unwrap());
        assert!(by_row_groups.height() > 0);
        assert!(by_row_groups.equals_missing(&by_scan));
    }

    /// Every day from 1600 to 2400 and the ends of i32's range give chrono's year: across
    /// century and 400-year leap rules, leap days and the epoch.
    #[test]
    fn a_days_year_is_chronos() {
        let from = epoch_days(chrono::NaiveDate::from_ymd_opt(1600, 1, 1).unwrap());
        let to = epoch_days(chrono::NaiveDate::from_ymd_opt(2400, 12, 31).unwrap());
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        let chronos = |days: i32| epoch.checked_add_signed(chrono::TimeDelta::days(days.into()));
        for days in from..=to {
            assert_eq!(
                year_of_days(days),
                chronos(days).unwrap().year(),
                "day {days}"
            );
        }
        assert_eq!(year_of_days(-1), 1969);
        assert_eq!(year_of_days(0), 1970);
        // 1970-03-01: the algorithm's years start in March, the calendar's still in 1970.
        assert_eq!(year_of_days(59), 1970);
        // Past chrono's range (about 262,000 years either way): 2^31 days are 5,879,610 years
        // of 365.2425 days, from 1970.
        assert_eq!(year_of_days(i32::MAX), 5_881_580);
        assert_eq!(year_of_days(i32::MIN), -5_877_641);
    }
}
