//! `eligo diff`: what changed between two runs' output folders, read from their published CSVs
//! and manifests only: totals, per-criterion fails and unknowns, cohorts that became reachable or
//! unreachable, and matched/eligible per cohort.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use super::ReportError;

type Table = Vec<BTreeMap<String, String>>;

fn read_table(dir: &Path, name: &str) -> Result<Table, ReportError> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).map_err(|source| ReportError::Read {
        path: path.clone(),
        source,
    })?;
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let parse = |e: csv::Error| ReportError::Parse {
        path: path.clone(),
        message: format!("{e}; is this an eligo output folder?"),
    };
    let header: Vec<String> = reader
        .headers()
        .map_err(parse)?
        .iter()
        .map(String::from)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(parse)?;
        rows.push(
            header
                .iter()
                .cloned()
                .zip(record.iter().map(String::from))
                .collect(),
        );
    }
    Ok(rows)
}

fn read_manifest(dir: &Path) -> Result<serde_json::Value, ReportError> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|source| ReportError::Read {
        path: path.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| ReportError::Parse {
        path,
        message: e.to_string(),
    })
}

fn get<'a>(row: &'a BTreeMap<String, String>, column: &str) -> &'a str {
    row.get(column).map(String::as_str).unwrap_or("")
}

/// `120 → 131 (+11)`, or `<5 → 7` where a side is not a number.
fn change(old: &str, new: &str) -> String {
    match (old.parse::<i64>(), new.parse::<i64>()) {
        (Ok(a), Ok(b)) => format!("{a} → {b} ({:+})", b - a),
        _ => format!("{old} → {new}"),
    }
}

/// Rows keyed by a column.
fn by_key<'a>(table: &'a Table, key: &str) -> BTreeMap<&'a str, &'a BTreeMap<String, String>> {
    table.iter().map(|r| (get(r, key), r)).collect()
}

/// The differences between two output folders, as text for people.
pub fn diff(old: &Path, new: &Path) -> Result<String, ReportError> {
    let (old_manifest, new_manifest) = (read_manifest(old)?, read_manifest(new)?);
    let (old_strata, new_strata) = (
        read_table(old, "strata.csv")?,
        read_table(new, "strata.csv")?,
    );
    let (old_criteria, new_criteria) = (
        read_table(old, "criteria.csv")?,
        read_table(new, "criteria.csv")?,
    );
    let (old_cohorts, new_cohorts) = (
        read_table(old, "cohorts.csv")?,
        read_table(new, "cohorts.csv")?,
    );

    let mut out = String::new();
    let _ = writeln!(out, "eligo diff {} → {}", old.display(), new.display());
    let field = |m: &serde_json::Value, path: &[&str]| {
        let mut v = m;
        for p in path {
            v = &v[*p];
        }
        v.as_str().unwrap_or("").to_string()
    };
    let as_of = (
        field(&old_manifest, &["as_of"]),
        field(&new_manifest, &["as_of"]),
    );
    let _ = writeln!(out, "as of: {} → {}", as_of.0, as_of.1);
    let hashes = (
        field(&old_manifest, &["definition", "blake3"]),
        field(&new_manifest, &["definition", "blake3"]),
    );
    let _ = writeln!(
        out,
        "definition: {}",
        if hashes.0 == hashes.1 {
            "unchanged".to_string()
        } else {
            format!("changed ({} → {})", short(&hashes.0), short(&hashes.1))
        }
    );

    let _ = writeln!(out, "\ntotals");
    let total = |t: &Table| t.iter().find(|r| get(r, "dimension") == "all").cloned();
    let (ot, nt) = (total(&old_strata), total(&new_strata));
    for (column, name) in [
        ("patients", "patients"),
        ("eligible", "eligible"),
        ("possibly_eligible", "possibly eligible"),
    ] {
        let o = ot.as_ref().map(|r| get(r, column)).unwrap_or("");
        let n = nt.as_ref().map(|r| get(r, column)).unwrap_or("");
        let _ = writeln!(out, "  {name}: {}", change(o, n));
    }

    let _ = writeln!(out, "\ncriteria (fail, unknown)");
    let (oc, nc) = (by_key(&old_criteria, "id"), by_key(&new_criteria, "id"));
    let mut any = false;
    for (id, n) in &nc {
        if get(n, "assessable") == "no" {
            continue;
        }
        match oc.get(id) {
            None => {
                any = true;
                let _ = writeln!(
                    out,
                    "  {id}: new criterion (fail {}, unknown {})",
                    get(n, "fail"),
                    get(n, "unknown")
                );
            }
            Some(o) => {
                let changes: Vec<String> = ["fail", "unknown"]
                    .iter()
                    .filter(|c| get(o, c) != get(n, c))
                    .map(|c| format!("{c} {}", change(get(o, c), get(n, c))))
                    .collect();
                if !changes.is_empty() {
                    any = true;
                    let _ = writeln!(out, "  {id}: {}", changes.join("; "));
                }
            }
        }
    }
    for id in oc.keys().filter(|id| !nc.contains_key(*id)) {
        any = true;
        let _ = writeln!(out, "  {id}: removed");
    }
    if !any {
        let _ = writeln!(out, "  no change");
    }

    let _ = writeln!(out, "\ncohorts");
    let (oh, nh) = (by_key(&old_cohorts, "id"), by_key(&new_cohorts, "id"));
    let mut any = false;
    for (id, n) in &nh {
        let Some(o) = oh.get(id) else {
            any = true;
            let _ = writeln!(
                out,
                "  {id}: new cohort (matched {}, eligible {}, reachable {})",
                get(n, "matched"),
                get(n, "eligible"),
                get(n, "reachable")
            );
            continue;
        };
        let mut changes = Vec::new();
        let (was, now) = (get(o, "reachable"), get(n, "reachable"));
        if was != now {
            changes.push(match now {
                "yes" => "became reachable".to_string(),
                "no" => "became unreachable".to_string(),
                _ => format!("reachable {was} → {now}"),
            });
        }
        for c in ["matched", "eligible", "possibly_eligible"] {
            if get(o, c) != get(n, c) {
                changes.push(format!("{c} {}", change(get(o, c), get(n, c))));
            }
        }
        if !changes.is_empty() {
            any = true;
            let _ = writeln!(out, "  {id}: {}", changes.join("; "));
        }
    }
    for id in oh.keys().filter(|id| !nh.contains_key(*id)) {
        any = true;
        let _ = writeln!(out, "  {id}: removed");
    }
    if !any {
        let _ = writeln!(out, "  no change");
    }
    Ok(out)
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
