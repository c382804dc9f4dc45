//! `extract.toml`: the extract's optional metadata (registry, extraction date, period). Dates are
//! TOML dates or "YYYY-MM-DD" strings. Unknown keys are kept in `ignored_keys` (a registry may
//! add its own; `eligo check` lists them so that a misspelt key does not go unnoticed).

use std::path::Path;

use chrono::NaiveDate;

use super::ExtractError;

/// The metadata of an extract, from `extract.toml` (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractMeta {
    pub registry: Option<String>,
    /// The default as-of date.
    pub extracted_on: Option<NaiveDate>,
    /// The window in which index dates fall (for yearly accrual rates).
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    /// Keys the contract does not define, in file order; they are ignored.
    pub ignored_keys: Vec<String>,
}

impl ExtractMeta {
    /// Parses the text of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<ExtractMeta, ExtractError> {
        let table: toml::Table = toml::from_str(text).map_err(|err| {
            let (line, column) = err
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((1, 1));
            ExtractError::MetaSyntax {
                path: path.to_path_buf(),
                line,
                column,
                message: format!("{} (extract.toml is TOML)", err.message().trim_end()),
            }
        })?;
        let mut meta = ExtractMeta::default();
        for (key, value) in &table {
            let bad = |message: String| ExtractError::MetaValue {
                path: path.to_path_buf(),
                key: key.clone(),
                message,
            };
            match key.as_str() {
                "registry" => match value {
                    toml::Value::String(s) => meta.registry = Some(s.clone()),
                    other => {
                        return Err(bad(format!(
                            "expected a string, found {}",
                            other.type_str()
                        )))
                    }
                },
                "extracted_on" => meta.extracted_on = Some(date(value).map_err(bad)?),
                "period_start" => meta.period_start = Some(date(value).map_err(bad)?),
                "period_end" => meta.period_end = Some(date(value).map_err(bad)?),
                _ => meta.ignored_keys.push(key.clone()),
            }
        }
        if let (Some(start), Some(end)) = (meta.period_start, meta.period_end) {
            if start > end {
                return Err(ExtractError::MetaValue {
                    path: path.to_path_buf(),
                    key: "period_end".into(),
                    message: format!(
                        "{end} is before period_start {start}; the period must run forward"
                    ),
                });
            }
        }
        Ok(meta)
    }
}

/// The contract's keys of extract.toml.
pub const KEYS: [&str; 4] = ["registry", "extracted_on", "period_start", "period_end"];

/// The contract key an unknown key was probably meant to be (at most two edits away).
pub fn suggestion(key: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(current)
            };
            previous = current;
        }
    }
    row[b.len()]
}

/// A TOML date (`2024-12-31`) or a string holding one.
fn date(value: &toml::Value) -> Result<NaiveDate, String> {
    let hint = "expected a date such as 2024-12-31";
    match value {
        toml::Value::Datetime(dt) => match (dt.date, dt.time) {
            (Some(d), None) => NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
                .ok_or_else(|| format!("{hint}, found {dt}")),
            _ => Err(format!("{hint} (no time of day), found {dt}")),
        },
        toml::Value::String(s) => {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("{hint}, found \"{s}\""))
        }
        other => Err(format!("{hint}, found {}", other.type_str())),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ExtractMeta, ExtractError> {
        ExtractMeta::parse(Path::new("x/extract.toml"), text)
    }

    #[test]
    fn dates_as_toml_dates_or_strings() {
        let meta = parse(
            "registry = \"Kreftregisteret\"\nextracted_on = 2025-01-31\nperiod_start = \"2022-01-01\"\nperiod_end = 2024-12-31\nowner = \"x\"\n",
        )
        .unwrap();
        assert_eq!(meta.registry.as_deref(), Some("Kreftregisteret"));
        assert_eq!(meta.extracted_on, NaiveDate::from_ymd_opt(2025, 1, 31));
        assert_eq!(meta.period_start, NaiveDate::from_ymd_opt(2022, 1, 1));
        assert_eq!(meta.period_end, NaiveDate::from_ymd_opt(2024, 12, 31));
        assert_eq!(meta.ignored_keys, ["owner"]);
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        // Line 2 lacks the closing quote: toml reports the spot on line 2.
        let err = parse("registry = \"a\"\nperiod_start = \"2022-01-01\n").unwrap_err();
        match err {
            ExtractError::MetaSyntax { line, .. } => assert_eq!(line, 2),
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn bad_values() {
        let err = parse("extracted_on = \"31.01.2025\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "x/extract.toml: extracted_on: expected a date such as 2024-12-31, found \"31.01.2025\""
        );
        assert!(parse("registry = 3\n").is_err());
        assert!(parse("period_start = 2024-01-01\nperiod_end = 2023-01-01\n").is_err());
        assert!(parse("extracted_on = 2024-01-01T10:00:00\n").is_err());
    }

    #[test]
    fn misspelt_keys_get_a_suggestion() {
        // "period_strat" swaps two letters: two edits from period_start.
        assert_eq!(suggestion("period_strat"), Some("period_start"));
        assert_eq!(suggestion("registy"), Some("registry"));
        assert_eq!(suggestion("contact"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn line_column_counts_from_one() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
    }
}
