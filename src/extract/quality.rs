//! Data-quality findings: per table and column, the rows that the contract counts and reports but
//! does not reject (nulls, values out of domain, unconvertible units, orphan rows).

use super::Table;

/// Findings for one column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnQuality {
    pub column: String,
    pub nulls: u64,
    pub out_of_domain: u64,
    pub unconvertible_units: u64,
    /// Rows whose person_id is not in person (counted on the `person_id` column).
    pub orphan_rows: u64,
}

/// Findings for one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableQuality {
    pub table: Table,
    /// Whether the extract has the table at all (absent tables hold no rows).
    pub present: bool,
    pub rows: u64,
    pub columns: Vec<ColumnQuality>,
}

/// All findings of an extract, in contract order of tables and columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataQuality {
    pub tables: Vec<TableQuality>,
}

impl DataQuality {
    /// The findings of one column, created (with zero counts) if absent.
    pub fn column_mut(&mut self, table: Table, column: &str) -> &mut ColumnQuality {
        let t = match self.tables.iter().position(|t| t.table == table) {
            Some(i) => i,
            None => {
                self.tables.push(TableQuality {
                    table,
                    present: false,
                    rows: 0,
                    columns: Vec::new(),
                });
                self.tables.sort_by_key(|t| t.table);
                self.tables
                    .iter()
                    .position(|t| t.table == table)
                    .unwrap_or(0)
            }
        };
        let columns = &mut self.tables[t].columns;
        let c = match columns.iter().position(|c| c.column == column) {
            Some(i) => i,
            None => {
                columns.push(ColumnQuality {
                    column: column.to_string(),
                    ..ColumnQuality::default()
                });
                columns.len() - 1
            }
        };
        &mut columns[c]
    }

    /// Total rows set aside (out of domain, unconvertible, orphan) over every table.
    pub fn findings(&self) -> u64 {
        self.tables
            .iter()
            .flat_map(|t| &t.columns)
            .map(|c| c.out_of_domain + c.unconvertible_units + c.orphan_rows)
            .sum()
    }
}
