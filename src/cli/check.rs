//! `eligo check`: validate a definition (and with --data, an extract) without running.
//! `--pipeline` loads and checks a definition (every mistake, with file, line and column);
//! `--data` opens the extract, validates it against the contract and prints a summary
//! (tables, rows, files, id type, period, data-quality findings) on stdout.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Args;

use super::Failure;
use crate::definition::{self, Definition};
use crate::extract::partition::DEFAULT_PARTITION_PATIENTS;
use crate::extract::{DataQuality, Extract, Table};
use crate::progress::Progress;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The trial definition to check.
    #[arg(long)]
    pub pipeline: Option<PathBuf>,
    /// An extract to validate against the contract.
    #[arg(long)]
    pub data: Option<PathBuf>,
}

pub fn execute(args: CheckArgs, progress: &Progress) -> Result<(), Failure> {
    if args.pipeline.is_none() && args.data.is_none() {
        return Err(Failure::usage(
            "nothing to check: give --pipeline FILE (a trial definition) and/or --data DIR (an extract)",
        ));
    }
    if let Some(path) = &args.pipeline {
        let definition = check_pipeline(path)?;
        println!("{}", definition_summary(&definition));
    }
    if let Some(dir) = &args.data {
        check_data(dir, progress)?;
    }
    Ok(())
}

/// Opens and validates an extract; prints the summary. Any contract violation is a runtime
/// failure (exit 1) carrying the error's message.
fn check_data(dir: &Path, progress: &Progress) -> Result<(), Failure> {
    let extract = Extract::open(dir).map_err(Failure::runtime)?;
    let quality = extract
        .validate(progress, DEFAULT_PARTITION_PATIENTS)
        .map_err(Failure::runtime)?;
    print!("{}", summary(&extract, &quality));
    Ok(())
}

/// The earliest and latest person.index_date (as text), if any patient has one.
fn index_date_range(extract: &Extract) -> Option<(String, String)> {
    use polars::prelude::*;
    let lf = extract.scan(Table::Person).ok()?.select([
        col("index_date")
            .min()
            .cast(DataType::String)
            .alias("first"),
        col("index_date").max().cast(DataType::String).alias("last"),
    ]);
    let df = lf
        .collect_with_engine(Engine::Streaming)
        .ok()?
        .unwrap_single();
    let text = |name: &str| {
        df.column(name)
            .ok()?
            .get(0)
            .ok()?
            .get_str()
            .map(str::to_string)
    };
    Some((text("first")?, text("last")?))
}

/// The readable summary of a valid extract.
pub fn summary(extract: &Extract, quality: &DataQuality) -> String {
    let mut out = String::new();
    let meta = extract.meta();
    let _ = writeln!(out, "extract {}", extract.root().display());
    if let Some(registry) = &meta.registry {
        let _ = writeln!(out, "  registry      {registry}");
    }
    if let Some(date) = meta.extracted_on {
        let _ = writeln!(out, "  extracted on  {date}");
    }
    let period = match (meta.period_start, meta.period_end) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        (Some(a), None) => format!("from {a} (end: the latest index_date)"),
        (None, Some(b)) => format!("to {b} (start: the earliest index_date)"),
        (None, None) => match index_date_range(extract) {
            Some((a, b)) => format!("not given: index_date runs from {a} to {b}"),
            None => "not given, and no patient has an index_date".into(),
        },
    };
    let _ = writeln!(out, "  period        {period}");
    let _ = writeln!(out, "  id type       {}", extract.id_type());
    for key in &meta.ignored_keys {
        let _ = writeln!(
            out,
            "  note: extract.toml key `{key}` is not in the contract and is ignored"
        );
    }
    for note in extract.notes() {
        let _ = writeln!(out, "  note: {note}");
    }
    for path in extract.ignored() {
        let _ = writeln!(
            out,
            "  note: {} is not a table of the contract and is ignored",
            path.display()
        );
    }
    let files = extract.files();
    let _ = writeln!(
        out,
        "\n  {:<16} {:>12} {:>6} {:>12}",
        "table", "rows", "files", "bytes"
    );
    for table in Table::ALL {
        if !extract.is_present(table) {
            let _ = writeln!(out, "  {:<16} {:>12}", table.name(), "absent");
            continue;
        }
        let (count, bytes) = files
            .iter()
            .filter(|f| f.table == Some(table))
            .fold((0u64, 0u64), |(n, b), f| (n + 1, b + f.bytes));
        let _ = writeln!(
            out,
            "  {:<16} {:>12} {:>6} {:>12}",
            table.name(),
            extract.rows(table),
            count,
            bytes
        );
    }
    let _ = writeln!(out, "\ndata quality");
    let mut any = false;
    for table in &quality.tables {
        let mut absent = Vec::new();
        for c in &table.columns {
            let mut parts = Vec::new();
            if table.present && !extract.has_column(table.table, &c.column) {
                absent.push(c.column.as_str());
                continue;
            }
            if c.nulls > 0 {
                parts.push(format!("{} null", c.nulls));
            }
            if c.out_of_domain > 0 {
                parts.push(format!("{} out of domain", c.out_of_domain));
            }
            if c.unconvertible_units > 0 {
                parts.push(format!("{} unknown unit", c.unconvertible_units));
            }
            if c.orphan_rows > 0 {
                let what = if c.column == "test_id" {
                    "no test of its patient in molecular_test"
                } else {
                    "patient not in person"
                };
                parts.push(format!("{} orphan rows ({what})", c.orphan_rows));
            }
            if !parts.is_empty() {
                any = true;
                let name = format!("{}.{}", table.table, c.column);
                let _ = writeln!(out, "  {name:<28} {}", parts.join(", "));
            }
        }
        if !absent.is_empty() {
            let _ = writeln!(
                out,
                "  {:<28} {} (not in the files: scanned as nulls)",
                table.table.name(),
                absent.join(", ")
            );
        }
    }
    if !any {
        let _ = writeln!(out, "  no findings");
    }
    let _ = writeln!(
        out,
        "\nthe extract follows the contract; {} rows are set aside as findings (nulls are listed, not set aside)",
        quality.findings()
    );
    out
}

/// Loads and checks a definition; on errors prints every diagnostic to stderr (coloured on a
/// terminal) and fails with exit code 2.
pub fn check_pipeline(path: &Path) -> Result<Definition, Failure> {
    definition::load(path).map_err(|diagnostics| {
        eprint!("{}", diagnostics.render(std::io::stderr().is_terminal()));
        Failure::usage(format!(
            "{}: {} error{} in the trial definition",
            path.display(),
            diagnostics.len(),
            if diagnostics.len() == 1 { "" } else { "s" }
        ))
    })
}

/// `ok: 26 criteria, 24 cohorts, ...`: what the definition holds.
pub fn definition_summary(d: &Definition) -> String {
    let drug_criteria: usize = d.drugs.iter().map(|x| x.criteria.len()).sum();
    format!(
        "ok: {} criteria, {} cohorts ({} drugs, {} drug criteria, {} cohort criteria), {} not assessable, \
         {} code sets, {} measures, {} observations, {} tumour groups in {} (blake3 {})",
        d.criteria.len(),
        d.cohorts.len(),
        d.drugs.len(),
        drug_criteria,
        d.cohort_criteria.len(),
        d.not_assessable.len(),
        d.code_sets.len(),
        d.measures.len(),
        d.observations.len(),
        d.tumour_groups.len(),
        d.path.display(),
        &d.hash[..d.hash.len().min(12)],
    )
}
