//! Data-quality rows for `data_quality.csv`: one per table and column of the extract's findings
//! (a table without column findings gets one row with its row count). True counts; the ledger
//! suppresses them like every other count.

use crate::extract::DataQuality;

/// True counts of one table column (`column` empty: the table as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityCounts {
    pub table: String,
    pub present: bool,
    pub column: String,
    pub rows: u64,
    pub nulls: Option<u64>,
    pub out_of_domain: Option<u64>,
    pub unconvertible_units: Option<u64>,
    pub orphan_rows: Option<u64>,
}

/// In contract order of tables, columns in the order the extract reported them.
pub fn rows(quality: &DataQuality) -> Vec<QualityCounts> {
    let mut out = Vec::new();
    for table in &quality.tables {
        if table.columns.is_empty() {
            out.push(QualityCounts {
                table: table.table.name().to_string(),
                present: table.present,
                column: String::new(),
                rows: table.rows,
                nulls: None,
                out_of_domain: None,
                unconvertible_units: None,
                orphan_rows: None,
            });
        }
        for column in &table.columns {
            out.push(QualityCounts {
                table: table.table.name().to_string(),
                present: table.present,
                column: column.column.clone(),
                rows: table.rows,
                nulls: Some(column.nulls),
                out_of_domain: Some(column.out_of_domain),
                unconvertible_units: Some(column.unconvertible_units),
                orphan_rows: Some(column.orphan_rows),
            });
        }
    }
    out
}
