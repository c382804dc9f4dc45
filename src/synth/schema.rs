//! The Arrow schemas the generator writes, taken from the extract reader's table of the contract
//! (`extract::schema`), so that what synth writes and what the reader checks cannot drift apart.

use arrow::datatypes::SchemaRef;

pub use crate::extract::Table;
use crate::extract::{schema, IdType};

/// The Arrow schema the generator writes: the contract's canonical form (ids Int64, dates
/// Date32, required columns non-nullable), taken from the reader's own table of the contract.
pub fn schema(table: Table) -> SchemaRef {
    schema::arrow_schema(table, IdType::Int64)
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
                schema(*t)
                    .fields()
                    .iter()
                    .filter(|f| !f.is_nullable())
                    .count()
            })
            .sum();
        assert_eq!(required, 24);
        let person = schema(Table::Person);
        assert_eq!(person.field(0).name(), "person_id");
        assert_eq!(
            person.field(6).data_type(),
            &arrow::datatypes::DataType::Date32
        );
    }
}
