//! The seven tables of the extract contract (version 1) as Arrow schemas: column names, order,
//! types and nullability exactly as `extract-contract.md` gives them. The generator and the tests
//! both take the schema from here; nothing else in synth names a column.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// One table of the extract, in the order the contract lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Every table, in the contract's order.
    pub const ALL: [Table; 7] = [
        Table::Person,
        Table::Diagnosis,
        Table::Measurement,
        Table::Observation,
        Table::Treatment,
        Table::MolecularTest,
        Table::Variant,
    ];

    /// The table's file stem (`person` for `person.parquet` or `person/`).
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

    /// The Arrow schema the generator writes: ids Int64, dates Date32, required columns
    /// non-nullable.
    pub fn schema(self) -> SchemaRef {
        use DataType::{Boolean, Date32, Float64, Int32, Int64, Utf8};
        let f = |name: &str, dtype: DataType, required: bool| Field::new(name, dtype, !required);
        let fields = match self {
            Table::Person => vec![
                f("person_id", Int64, true),
                f("sex", Utf8, true),
                f("birth_year", Int32, false),
                f("death_date", Date32, false),
                f("region", Utf8, false),
                f("site", Utf8, false),
                f("index_date", Date32, false),
            ],
            Table::Diagnosis => vec![
                f("person_id", Int64, true),
                f("icd10", Utf8, true),
                f("date", Date32, true),
                f("morphology", Utf8, false),
                f("oncotree", Utf8, false),
            ],
            Table::Measurement => vec![
                f("person_id", Int64, true),
                f("loinc", Utf8, true),
                f("date", Date32, true),
                f("value", Float64, true),
                f("unit", Utf8, true),
                f("range_low", Float64, false),
                f("range_high", Float64, false),
            ],
            Table::Observation => vec![
                f("person_id", Int64, true),
                f("code", Utf8, true),
                f("date", Date32, true),
                f("value_num", Float64, false),
                f("value_text", Utf8, false),
            ],
            Table::Treatment => vec![
                f("person_id", Int64, true),
                f("atc", Utf8, false),
                f("kind", Utf8, true),
                f("start_date", Date32, true),
                f("end_date", Date32, false),
            ],
            Table::MolecularTest => vec![
                f("person_id", Int64, true),
                f("test_id", Utf8, true),
                f("method", Utf8, true),
                f("specimen", Utf8, false),
                f("approved_lab", Boolean, false),
                f("report_date", Date32, true),
            ],
            Table::Variant => vec![
                f("person_id", Int64, true),
                f("test_id", Utf8, true),
                f("gene", Utf8, true),
                f("class", Utf8, true),
                f("alteration", Utf8, false),
                f("value", Float64, false),
                f("tier", Utf8, false),
            ],
        };
        Arc::new(Schema::new(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_columns_are_the_contracts() {
        // The contract marks person_id, sex (person); person_id, icd10, date (diagnosis); ...
        // as required: 2 + 3 + 5 + 3 + 3 + 4 + 4 = 24 non-nullable columns in all.
        let required: usize = Table::ALL
            .iter()
            .map(|t| {
                t.schema()
                    .fields()
                    .iter()
                    .filter(|f| !f.is_nullable())
                    .count()
            })
            .sum();
        assert_eq!(required, 24);
        let person = Table::Person.schema();
        assert_eq!(person.field(0).name(), "person_id");
        assert_eq!(person.field(6).data_type(), &DataType::Date32);
    }
}
