//! `eligo run`: the main job. Reads the extract, evaluates the definition, counts the mask table
//! and writes every report into a fresh folder that replaces `--out` only when complete.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use polars::prelude::*;

use super::restricted;
use super::Failure;
use crate::definition::model::Definition;
use crate::engine::{self, Inputs};
use crate::extract::findings::RowFindings;
use crate::extract::{damaged, partition, Defer, Extract, Table, Validation, MAX_DEFERRED_ROWS};
use crate::progress::Progress;
use crate::report::{self, Disclosure, Manifest, OutputFolder, ReportInput, RunInfo};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The trial definition.
    #[arg(long, default_value = "pipelines/impress-norway.toml")]
    pub pipeline: PathBuf,
    /// The extract: a folder of Parquet tables (see the extract contract).
    #[arg(long, default_value = "data-samples")]
    pub data: PathBuf,
    /// The output folder, replaced atomically when the run completes.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// The as-of date (YYYY-MM-DD): index date where a patient has none, and no look-ahead past it.
    /// Default: extract.toml's extracted_on, else today.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Counts from 1 to k-1 are published as `<k` (at least 3).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(3..))]
    pub min_cell: u32,
    /// Round published counts to this base (1: no rounding).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub round: u32,
    /// Also write `restricted/`: the unsuppressed mask table and patient-level results.
    #[arg(long)]
    pub restricted: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Patients per partition (person_id ranges, evaluated four at a time): memory is bounded by
    /// this, not by the registry's size. Results do not depend on it.
    #[arg(long, default_value_t = partition::DEFAULT_PARTITION_PATIENTS as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub partition_patients: u64,
}

fn parse_date(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| format!("`{text}` is not a date YYYY-MM-DD ({e})"))
}

/// Sets the worker threads of polars and rayon; must run before either starts its pool.
pub(crate) fn set_threads(threads: Option<usize>) {
    if let Some(n) = threads {
        std::env::set_var("POLARS_MAX_THREADS", n.to_string());
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
    }
}

/// The period in which index dates fall: extract.toml's, else min..max of the index dates.
fn period(
    extract: &Extract,
    inputs: &Inputs,
    as_of: chrono::NaiveDate,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate), Failure> {
    let meta = extract.meta();
    if let (Some(start), Some(end)) = (meta.period_start, meta.period_end) {
        return Ok((start, end));
    }
    let bounds = inputs
        .person
        .clone()
        .select([
            col("index_date").min().alias("start"),
            col("index_date").max().alias("end"),
        ])
        .collect()
        .map_err(|e| Failure::runtime(format!("{}: {e}", extract.root().display())))?;
    let day = |name: &str| -> Option<chrono::NaiveDate> {
        let days = bounds.column(name).ok()?.cast(&DataType::Int32).ok()?;
        let days = days.i32().ok()?.get(0)?;
        chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?
            .checked_add_signed(chrono::TimeDelta::days(days as i64))
    };
    let start = meta.period_start.or(day("start")).unwrap_or(as_of);
    let end = meta.period_end.or(day("end")).unwrap_or(as_of);
    Ok((start, end))
}

pub fn execute(args: RunArgs, progress: &Progress) -> Result<(), Failure> {
    set_threads(args.threads);
    let started = Instant::now();
    let mut timings: Vec<(String, f64)> = Vec::new();

    let stage = progress.stage("checking the definition");
    let definition: Definition = super::check::check_pipeline(&args.pipeline)?;
    timings.push(("definition".into(), stage.done().as_secs_f64()));

    let stage = progress.stage("reading and validating the extract");
    let extract = Extract::open(&args.data).map_err(Failure::runtime)?;
    // The manifest's hashes of the inputs, computed on a thread of their own while the extract is
    // validated and the criteria evaluated: after the last partition they took 0.56 s of the
    // reports' 1.6 s at 10 M patients.
    let hashing = {
        let paths: Vec<PathBuf> = extract.files().into_iter().map(|f| f.path).collect();
        std::thread::spawn(move || {
            paths
                .iter()
                .map(|path| report::InputFile::of(path))
                .collect::<Result<Vec<_>, _>>()
        })
    };
    // Value-by-value findings are left to evaluation where it can count them on the rows it
    // reads anyway (`Validation::deferred`).
    let Validation {
        mut quality,
        person_ids,
        deferred,
        test_ids_left,
    } = extract
        .validate_for_run(
            progress,
            args.partition_patients as usize,
            Defer::Findings {
                max_rows: MAX_DEFERRED_ROWS,
            },
        )
        .map_err(Failure::runtime)?;
    timings.push(("extract".into(), stage.done().as_secs_f64()));

    let as_of = args
        .as_of
        .or(extract.meta().extracted_on)
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let inputs = Inputs::of(&extract).map_err(Failure::runtime)?;
    let (period_start, period_end) = period(&extract, &inputs, as_of)?;

    let folder = OutputFolder::create(&args.out).map_err(Failure::runtime)?;
    let damage = |damaged: damaged::DamagedColumn| {
        Failure::runtime(format!(
            "{}: column `{}` of {} could not be decoded: its Parquet pages are damaged \
             (`eligo check` does not decode this column); write the file again",
            damaged.location.display(),
            damaged.column,
            damaged.table
        ))
    };
    let engine_error = |e: engine::EngineError| match e {
        // Damaged pages, or a bug: decoding each column alone tells which.
        engine::EngineError::Panicked => match damaged::first_damaged(&extract) {
            Some(damaged) => damage(damaged),
            None => Failure::bug(format!(
                "{}: {e}; every column of the extract decodes, so this is a bug in eligo: \
                 please report it with the message above",
                args.data.display()
            )),
        },
        // The reader's error on damaged pages names neither the file nor the column: where
        // decoding each column alone finds one that fails, that is the message.
        engine::EngineError::Polars(_) => match damaged::first_damaged(&extract) {
            Some(damaged) => damage(damaged),
            None => Failure::runtime(format!("{}: {e}", args.data.display())),
        },
        e => Failure::runtime(format!("{}: {e}", args.data.display())),
    };
    let masks = {
        let stage = progress.stage("evaluating the criteria");
        let stage_started = started.elapsed().as_secs_f64();
        let partitions = partition::split(&person_ids, args.partition_patients as usize)
            .map_err(|e| engine_error(e.into()))?;
        drop(person_ids);
        // Each partition's rows read by row groups, each decoded once, where the extract is in
        // `person_id` order.
        let inputs = Inputs::of_partitions(&extract, &partitions).map_err(Failure::runtime)?;
        let mut counter = engine::MaskCounter::new(&definition);
        let mut restricted = match args.restricted {
            true => Some(restricted::PatientWriter::create(
                folder.path(),
                &definition,
            )?),
            false => None,
        };
        // Partitions are evaluated a few at a time and counted in order as they finish
        // (`engine::in_order`): the stages overlap, so `evaluate` is the time until the last
        // partition is evaluated and `aggregate` the time spent counting, most of it during
        // evaluation.
        let workers = match rayon::current_num_threads() {
            1 => 1,
            _ => engine::in_order::PARTITIONS_AT_ONCE,
        };
        let mut aggregate = 0.0;
        let mut unconvertible = 0;
        let mut findings = RowFindings::default();
        let evaluated = std::sync::Mutex::new(0.0f64);
        engine::in_order::in_order(
            &partitions,
            workers,
            workers + 1,
            |partition| {
                let evaluation = engine::patient_outcomes_checked(
                    &inputs.partition(partition),
                    &definition,
                    as_of,
                    &deferred,
                )
                .map_err(engine_error);
                let mut last = evaluated.lock().unwrap_or_else(|e| e.into_inner());
                *last = last.max(started.elapsed().as_secs_f64() - stage_started);
                evaluation
            },
            |k, (evaluation, partition_findings)| {
                let counting = Instant::now();
                findings.add(&partition_findings);
                let patients = evaluation.patients;
                unconvertible += evaluation.unconvertible_units;
                counter.add(&patients).map_err(engine_error)?;
                if let Some(writer) = &mut restricted {
                    writer.write(&patients)?;
                }
                aggregate += counting.elapsed().as_secs_f64();
                if partitions.len() > 1 {
                    stage.detail(&format!(
                        "partition {}/{} of {} patients done",
                        k + 1,
                        partitions.len(),
                        partitions[k].patients
                    ));
                }
                Ok(())
            },
        )?;
        let evaluate = evaluated.into_inner().unwrap_or_else(|e| e.into_inner());
        // Before anything is written: the output folder is still a temporary one.
        if test_ids_left {
            (extract.check_test_ids(findings.test_id_span(), progress))
                .map_err(Failure::runtime)?;
        }
        if let Some(writer) = restricted {
            writer.finish()?;
        }
        findings.record(&mut quality);
        quality
            .column_mut(Table::Measurement, "unit")
            .unconvertible_units += unconvertible;
        stage.done();
        timings.push(("evaluate".into(), evaluate));
        timings.push(("aggregate".into(), aggregate));
        counter.finish()
    };

    let stage = progress.stage("writing the reports");
    let run = RunInfo {
        registry: extract.meta().registry.clone(),
        as_of,
        period_start,
        period_end,
    };
    // `restricted/masks` (millions of rows at 10 M patients) is written while the inputs are
    // hashed and the reports built: neither reads what the other writes.
    let (reports, masks_written) = rayon::join(
        || {
            let mut manifest = Manifest::new(&definition, &run);
            let inputs = hashing
                .join()
                .map_err(|_| Failure::runtime("hashing the input files failed unexpectedly"))?;
            for file in inputs.map_err(Failure::runtime)? {
                manifest.add_input_file(file);
            }
            for table in Table::ALL {
                manifest.add_input_rows(table.name(), extract.rows(table));
            }
            for (name, seconds) in &timings {
                manifest.add_timing(name, *seconds);
            }
            let input = ReportInput {
                definition: &definition,
                masks: &masks,
                quality: &quality,
                run: &run,
                disclosure: Disclosure {
                    min_cell: args.min_cell,
                    round: args.round,
                },
                manifest: &manifest,
            };
            let reports = report::build(&input).map_err(Failure::runtime)?;
            reports.write(folder.path()).map_err(Failure::runtime)?;
            Ok::<_, Failure>(reports)
        },
        || match args.restricted {
            true => restricted::write_masks(folder.path(), &masks),
            false => Ok(()),
        },
    );
    let reports = reports?;
    masks_written?;
    folder.commit().map_err(Failure::runtime)?;
    stage.done();
    println!("{}", reports.summary_markdown());
    progress.log(format!(
        "reports written to {} in {:.1} s",
        args.out.display(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}
