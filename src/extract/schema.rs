//! The contract's tables as data: every column with its kind and whether it is required, which
//! Parquet (Arrow) types each kind accepts, and the polars type each kind is normalized to.
//! Pure: no file access here.

use arrow::datatypes::DataType as ArrowType;
use polars::prelude::DataType;

use super::Table;

/// What a contract column holds; decides the accepted file types and the normalized type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// person_id: Int64 or a string, one type for the whole extract.
    Id,
    /// UTF-8 text.
    Utf8,
    /// A calendar date: Date32 (or Date64), or a Timestamp of any unit, truncated to the date.
    Date,
    /// A small integer (birth_year): any integer type, normalized to Int32.
    Int32,
    /// A number: Float64, Float32 or any integer type, normalized to Float64.
    Float64,
    /// true/false.
    Boolean,
}

impl Kind {
    /// The contract's name for the type, as error messages say it.
    pub fn expected(self) -> &'static str {
        match self {
            Kind::Id => "Int64 or Utf8 (an id)",
            Kind::Utf8 => "Utf8 (a string)",
            Kind::Date => "Date32 (a date) or a Timestamp",
            Kind::Int32 => "Int32 (an integer)",
            Kind::Float64 => "Float64 (a number)",
            Kind::Boolean => "Boolean",
        }
    }
}

/// The id type of an extract: the type of every `person_id` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdType {
    Int64,
    Utf8,
}

impl IdType {
    /// The polars type ids are scanned as.
    pub fn dtype(self) -> DataType {
        match self {
            IdType::Int64 => DataType::Int64,
            IdType::Utf8 => DataType::String,
        }
    }
}

impl std::fmt::Display for IdType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IdType::Int64 => "Int64",
            IdType::Utf8 => "Utf8",
        })
    }
}

/// One column of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

const fn req(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        required: true,
    }
}

const fn opt(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        required: false,
    }
}

const PERSON: &[Column] = &[
    req("person_id", Kind::Id),
    req("sex", Kind::Utf8),
    opt("birth_year", Kind::Int32),
    opt("death_date", Kind::Date),
    opt("region", Kind::Utf8),
    opt("site", Kind::Utf8),
    opt("index_date", Kind::Date),
];

const DIAGNOSIS: &[Column] = &[
    req("person_id", Kind::Id),
    req("icd10", Kind::Utf8),
    req("date", Kind::Date),
    opt("morphology", Kind::Utf8),
    opt("oncotree", Kind::Utf8),
];

const MEASUREMENT: &[Column] = &[
    req("person_id", Kind::Id),
    req("loinc", Kind::Utf8),
    req("date", Kind::Date),
    req("value", Kind::Float64),
    req("unit", Kind::Utf8),
    opt("range_low", Kind::Float64),
    opt("range_high", Kind::Float64),
];

const OBSERVATION: &[Column] = &[
    req("person_id", Kind::Id),
    req("code", Kind::Utf8),
    req("date", Kind::Date),
    opt("value_num", Kind::Float64),
    opt("value_text", Kind::Utf8),
];

const TREATMENT: &[Column] = &[
    req("person_id", Kind::Id),
    opt("atc", Kind::Utf8),
    req("kind", Kind::Utf8),
    req("start_date", Kind::Date),
    opt("end_date", Kind::Date),
];

const MOLECULAR_TEST: &[Column] = &[
    req("person_id", Kind::Id),
    req("test_id", Kind::Utf8),
    req("method", Kind::Utf8),
    opt("specimen", Kind::Utf8),
    opt("approved_lab", Kind::Boolean),
    req("report_date", Kind::Date),
];

const VARIANT: &[Column] = &[
    req("person_id", Kind::Id),
    req("test_id", Kind::Utf8),
    req("gene", Kind::Utf8),
    req("class", Kind::Utf8),
    opt("alteration", Kind::Utf8),
    opt("value", Kind::Float64),
    opt("tier", Kind::Utf8),
];

/// The contract's columns of a table, in contract order.
pub fn columns(table: Table) -> &'static [Column] {
    match table {
        Table::Person => PERSON,
        Table::Diagnosis => DIAGNOSIS,
        Table::Measurement => MEASUREMENT,
        Table::Observation => OBSERVATION,
        Table::Treatment => TREATMENT,
        Table::MolecularTest => MOLECULAR_TEST,
        Table::Variant => VARIANT,
    }
}

/// The column of `table` named `name`, if the contract has one.
pub fn column(table: Table, name: &str) -> Option<Column> {
    columns(table).iter().copied().find(|c| c.name == name)
}

/// Whether a file column of type `found` is accepted for `kind`. For ids, which id type it is.
pub(crate) fn accepts(kind: Kind, found: &ArrowType) -> Result<Option<IdType>, ()> {
    let ok = match kind {
        Kind::Id => {
            return match found {
                ArrowType::Int64 => Ok(Some(IdType::Int64)),
                t if is_string(t) => Ok(Some(IdType::Utf8)),
                _ => Err(()),
            }
        }
        Kind::Utf8 => is_string(found),
        Kind::Date => matches!(
            found,
            ArrowType::Date32 | ArrowType::Date64 | ArrowType::Timestamp(_, _)
        ),
        Kind::Int32 => found.is_integer(),
        Kind::Float64 => found.is_floating() || found.is_integer(),
        Kind::Boolean => matches!(found, ArrowType::Boolean),
    };
    if ok {
        Ok(None)
    } else {
        Err(())
    }
}

/// Whether the scan's cast of a stored `found` column to `kind` keeps every value (so makes no
/// null): a 64-bit integer read as Int32, or a Timestamp as a Date, could overflow into one.
pub(crate) fn reads_without_new_nulls(kind: Kind, found: &ArrowType) -> bool {
    match kind {
        Kind::Id => matches!(found, ArrowType::Int64) || is_string(found),
        Kind::Utf8 => is_string(found),
        Kind::Date => matches!(found, ArrowType::Date32),
        Kind::Int32 => matches!(
            found,
            ArrowType::Int8
                | ArrowType::Int16
                | ArrowType::Int32
                | ArrowType::UInt8
                | ArrowType::UInt16
        ),
        Kind::Float64 => found.is_floating() || found.is_integer(),
        Kind::Boolean => matches!(found, ArrowType::Boolean),
    }
}

fn is_string(t: &ArrowType) -> bool {
    match t {
        ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View => true,
        ArrowType::Dictionary(_, value) => is_string(value),
        _ => false,
    }
}

/// Whether a file column type is one that the polars reader (with the features eligo builds
/// it with) cannot open at all: 256-bit decimals, fixed-size lists, Float16, intervals.
/// (Decimals up to 128 bits and structs are readable, and ignored where unused.)
pub(crate) fn unreadable(found: &ArrowType) -> bool {
    match found {
        ArrowType::Decimal256(_, _)
        | ArrowType::FixedSizeList(_, _)
        | ArrowType::Float16
        | ArrowType::Interval(_)
        | ArrowType::Union(_, _)
        | ArrowType::RunEndEncoded(_, _) => true,
        ArrowType::List(inner) | ArrowType::LargeList(inner) | ArrowType::ListView(inner) => {
            unreadable(inner.data_type())
        }
        ArrowType::Struct(fields) => fields.iter().any(|f| unreadable(f.data_type())),
        ArrowType::Map(_, _) => true,
        ArrowType::Dictionary(_, value) => unreadable(value),
        _ => false,
    }
}

/// The canonical Arrow schema of a table, as a registry's export job should write it (and as
/// `eligo synth` does): contract order, ids of `id_type`, dates Date32, required columns
/// non-nullable.
pub fn arrow_schema(table: Table, id_type: IdType) -> arrow::datatypes::SchemaRef {
    use arrow::datatypes::{Field, Schema};
    let fields: Vec<Field> = columns(table)
        .iter()
        .map(|c| {
            let dtype = match c.kind {
                Kind::Id => match id_type {
                    IdType::Int64 => ArrowType::Int64,
                    IdType::Utf8 => ArrowType::Utf8,
                },
                Kind::Utf8 => ArrowType::Utf8,
                Kind::Date => ArrowType::Date32,
                Kind::Int32 => ArrowType::Int32,
                Kind::Float64 => ArrowType::Float64,
                Kind::Boolean => ArrowType::Boolean,
            };
            Field::new(c.name, dtype, !c.required)
        })
        .collect();
    std::sync::Arc::new(Schema::new(fields))
}

/// The polars type a column of `kind` is scanned as.
pub(crate) fn normalized(kind: Kind, id_type: IdType) -> DataType {
    match kind {
        Kind::Id => id_type.dtype(),
        Kind::Utf8 => DataType::String,
        Kind::Date => DataType::Date,
        Kind::Int32 => DataType::Int32,
        Kind::Float64 => DataType::Float64,
        Kind::Boolean => DataType::Boolean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::TimeUnit;

    #[test]
    fn required_columns_follow_the_contract() {
        // The contract marks exactly these as required in person and molecular_test.
        let person: Vec<_> = columns(Table::Person)
            .iter()
            .filter(|c| c.required)
            .map(|c| c.name)
            .collect();
        assert_eq!(person, ["person_id", "sex"]);
        let tests: Vec<_> = columns(Table::MolecularTest)
            .iter()
            .filter(|c| c.required)
            .map(|c| c.name)
            .collect();
        assert_eq!(tests, ["person_id", "test_id", "method", "report_date"]);
        // treatment.atc is null for radiotherapy, so it is not required.
        assert_eq!(
            column(Table::Treatment, "atc").map(|c| c.required),
            Some(false)
        );
    }

    #[test]
    fn types_polars_cannot_open() {
        assert!(!unreadable(&ArrowType::Decimal128(10, 2)));
        assert!(unreadable(&ArrowType::Decimal256(40, 2)));
        let list_of_wide_decimals = ArrowType::List(std::sync::Arc::new(
            arrow::datatypes::Field::new("item", ArrowType::Decimal256(40, 2), true),
        ));
        assert!(unreadable(&list_of_wide_decimals));
        assert!(!unreadable(&ArrowType::Int16));
        assert!(!unreadable(&ArrowType::Timestamp(
            TimeUnit::Microsecond,
            None
        )));
    }

    #[test]
    fn accepted_types() {
        assert_eq!(
            accepts(Kind::Id, &ArrowType::Int64),
            Ok(Some(IdType::Int64))
        );
        assert_eq!(
            accepts(Kind::Id, &ArrowType::LargeUtf8),
            Ok(Some(IdType::Utf8))
        );
        // Int32 ids are not Int64: the contract names exactly two id types.
        assert_eq!(accepts(Kind::Id, &ArrowType::Int32), Err(()));
        assert_eq!(
            accepts(
                Kind::Date,
                &ArrowType::Timestamp(TimeUnit::Microsecond, None)
            ),
            Ok(None)
        );
        assert_eq!(accepts(Kind::Date, &ArrowType::Utf8), Err(()));
        assert_eq!(accepts(Kind::Float64, &ArrowType::Int32), Ok(None));
        assert_eq!(accepts(Kind::Int32, &ArrowType::Float64), Err(()));
        assert_eq!(accepts(Kind::Boolean, &ArrowType::Utf8), Err(()));
        assert_eq!(
            accepts(
                Kind::Utf8,
                &ArrowType::Dictionary(Box::new(ArrowType::Int32), Box::new(ArrowType::Utf8))
            ),
            Ok(None)
        );
    }
}
