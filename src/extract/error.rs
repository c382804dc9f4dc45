//! Every way an extract can break the contract, as one error enum. Each variant names the file
//! (or folder), and where it applies the column, the rule and a few offending keys; its message
//! says what to do about it.

use std::path::PathBuf;

use super::Table;

/// An extract that breaks the contract, or that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{}: not a folder. Give --data the folder that holds person.parquet and the other tables.", path.display())]
    NotAFolder { path: PathBuf },

    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: the {table} table is missing: expected {table}.parquet or a {table}/ folder of Parquet files. Every extract needs a person table (one row per patient).", dir.display())]
    MissingTable { dir: PathBuf, table: Table },

    #[error("{} and {}: the {table} table is given twice. Keep one of them (a single file or a folder of files).", file.display(), folder.display())]
    TableTwice {
        table: Table,
        file: PathBuf,
        folder: PathBuf,
    },

    #[error("{}: the {table} folder holds no .parquet files. Remove the folder if the table has no rows, or export its files into it.", path.display())]
    EmptyFolder { table: Table, path: PathBuf },

    #[error("{}: not a readable Parquet file ({reason}). The file is truncated, corrupt or not Parquet; export it again.", path.display())]
    NotParquet { path: PathBuf, reason: String },

    #[error("{}: the {table} table has no column {column}, which the contract requires. {}", path.display(), missing_hint(column, similar.as_deref()))]
    MissingColumn {
        path: PathBuf,
        table: Table,
        column: &'static str,
        /// A file column with the same name in another case (`Person_ID`), if any.
        similar: Option<String>,
    },

    #[error("{}: column {column}: expected {expected}, found {found}. Export the column with the contract's type.", path.display())]
    WrongType {
        path: PathBuf,
        column: String,
        expected: &'static str,
        found: String,
    },

    #[error("{}: column {column}: eligo cannot read {found} columns, even ones it does not use. Export the column as Float64 (for decimals) or as separate columns (for structs), or leave it out of the export.", path.display())]
    UnreadableColumn {
        path: PathBuf,
        column: String,
        found: String,
    },

    #[error("{} and {}: the files of the {table} table differ in their schema ({difference}). All files of one table must share the schema.", first.display(), other.display())]
    SchemaMismatch {
        table: Table,
        first: PathBuf,
        other: PathBuf,
        difference: String,
    },

    #[error("{} and {}: person_id is {first_type} in one and {other_type} in the other. Ids must have one type (Int64 or Utf8) in every table of an extract.", first.display(), other.display())]
    IdTypeMismatch {
        first: PathBuf,
        first_type: super::IdType,
        other: PathBuf,
        other_type: super::IdType,
    },

    #[error("{}:{line}:{column}: {message}", path.display())]
    MetaSyntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{}: {key}: {message}", path.display())]
    MetaValue {
        path: PathBuf,
        key: String,
        message: String,
    },

    #[error("{}: column {column}: {count} rows have no {column}{}; {column} is required. Fix the export so every row has a value.", path.display(), keys_clause("person_id", keys))]
    RequiredNull {
        path: PathBuf,
        column: &'static str,
        count: u64,
        /// The person_id of the first offending rows (empty when person_id itself is null).
        keys: Vec<String>,
    },

    #[error("{}: column {column}: {count} values occur more than once (first: {}); {column} must be unique. Fix the export so that {} has one row.", path.display(), keys.join(", "), unique_what(column))]
    Duplicate {
        path: PathBuf,
        column: &'static str,
        /// How many distinct values occur more than once.
        count: u64,
        /// The first few of them, each with its number of rows (`17 (2 rows)`).
        keys: Vec<String>,
    },

    #[error("{}: cannot read the {table} table: {message}", path.display())]
    Read {
        table: Table,
        path: PathBuf,
        message: String,
    },
}

fn missing_hint(column: &str, similar: Option<&str>) -> String {
    match similar {
        Some(found) => {
            format!("The file has {found}: rename it to {column} (column names are lower-case).")
        }
        None => "Add it to the export (column names are lower-case).".into(),
    }
}

fn keys_clause(key: &str, keys: &[String]) -> String {
    if keys.is_empty() {
        String::new()
    } else {
        format!(" (first: {key} {})", keys.join(", "))
    }
}

fn unique_what(column: &str) -> &'static str {
    match column {
        "person_id" => "each patient",
        _ => "each test report",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_message_reads_like_a_colleague() {
        let err = ExtractError::Duplicate {
            path: PathBuf::from("data-samples/person.parquet"),
            column: "person_id",
            count: 2,
            keys: vec!["17 (2 rows)".into(), "204 (3 rows)".into()],
        };
        assert_eq!(
            err.to_string(),
            "data-samples/person.parquet: column person_id: 2 values occur more than once \
             (first: 17 (2 rows), 204 (3 rows)); person_id must be unique. Fix the export so that \
             each patient has one row."
        );
    }

    #[test]
    fn required_null_lists_person_ids_when_known() {
        let err = ExtractError::RequiredNull {
            path: PathBuf::from("x/measurement.parquet"),
            column: "unit",
            count: 3,
            keys: vec!["5".into(), "9".into()],
        };
        assert!(err
            .to_string()
            .starts_with("x/measurement.parquet: column unit: 3 rows have no unit (first: person_id 5, 9); unit is required."));
    }
}
