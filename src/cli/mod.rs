//! The command line: one file per subcommand, each with its arguments beside its code. Turns every
//! error into a message on stderr and a documented exit code (0 success, 1 runtime or data error,
//! 2 usage or definition error).

pub mod check;
pub mod diff;
mod panics;
mod restricted;
pub mod run;
pub mod synth;

use std::fmt;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// eligo: size the population a clinical trial can recruit from a cancer registry.
#[derive(Debug, Parser)]
#[command(name = "eligo", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// No progress or log lines on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate a trial definition on an extract and write the reports (the main job).
    Run(run::RunArgs),
    /// Validate a definition, and with --data an extract, without running.
    Check(check::CheckArgs),
    /// Write a synthetic extract, deterministic for a seed.
    Synth(synth::SynthArgs),
    /// Compare two runs' reports: what changed since last night.
    Diff(diff::DiffArgs),
}

/// Exit codes, as documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// The run could not finish: bad data, unreadable files, a disclosure check that failed.
    Runtime = 1,
    /// The command line or the trial definition is wrong.
    Usage = 2,
}

/// A command's failure: what to tell the user, and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
    /// Whether the panics met on the way are printed before the message: a panic eligo cannot
    /// explain (a bug), where the message asks for them to be reported.
    pub shows_panics: bool,
}

impl Failure {
    pub fn runtime(message: impl fmt::Display) -> Failure {
        Failure {
            exit: Exit::Runtime,
            message: message.to_string(),
            shows_panics: false,
        }
    }

    pub fn usage(message: impl fmt::Display) -> Failure {
        Failure {
            exit: Exit::Usage,
            message: message.to_string(),
            shows_panics: false,
        }
    }

    /// A runtime failure after a panic that eligo cannot explain: the panics' messages are
    /// printed before it.
    pub fn bug(message: impl fmt::Display) -> Failure {
        Failure {
            shows_panics: true,
            ..Failure::runtime(message)
        }
    }
}

/// The exit code of a panic that no command turned into an error (Rust's own).
const PANIC_EXIT: u8 = 101;

/// Prints the panics held so far ([`panics`]) to stderr.
fn print_panics() {
    for panic in panics::take() {
        eprintln!("{}", panic.trim_end());
    }
}

/// Parses the arguments, runs the command and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return match err.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(Exit::Usage as u8),
            };
        }
    };
    let progress = crate::progress::Progress::new(cli.quiet);
    // A panic's message waits until eligo knows whether it explains it (damaged pages) or not.
    panics::hold();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match cli.command {
        Command::Run(args) => run::execute(args, &progress),
        Command::Check(args) => check::execute(args, &progress),
        Command::Synth(args) => synth::execute(args, &progress),
        Command::Diff(args) => diff::execute(args, &progress),
    }));
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(failure)) => {
            if failure.shows_panics {
                print_panics();
            }
            eprintln!("error: {}", failure.message.trim_end());
            ExitCode::from(failure.exit as u8)
        }
        Err(_) => {
            print_panics();
            eprintln!("error: eligo stopped on a bug: please report it with the message above");
            ExitCode::from(PANIC_EXIT)
        }
    }
}
