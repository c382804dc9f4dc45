//! Progress and log lines: bars on a terminal, plain timestamped lines otherwise (for cron and
//! Airflow logs). Everything goes to stderr; stdout is kept for results.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Where progress goes for one command.
#[derive(Debug, Clone)]
pub struct Progress {
    terminal: bool,
    quiet: bool,
}

impl Progress {
    /// Bars when stderr is a terminal, log lines otherwise; nothing at all when `quiet`.
    pub fn new(quiet: bool) -> Progress {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            quiet,
        }
    }

    /// A log line: `2026-11-25T03:12:00Z eligo: message`.
    pub fn log(&self, message: impl AsRef<str>) {
        if self.quiet {
            return;
        }
        if self.terminal {
            eprintln!("{}", message.as_ref());
        } else {
            let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
            eprintln!("{now} eligo: {}", message.as_ref());
        }
    }

    /// Starts a named stage; finish it with [`Stage::done`], which logs its duration.
    pub fn stage(&self, name: &str) -> Stage {
        let bar = if self.terminal && !self.quiet {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            Some(bar)
        } else {
            None
        };
        if !self.terminal {
            self.log(format!("{name} ..."));
        }
        Stage {
            name: name.to_string(),
            started: Instant::now(),
            bar,
            progress: self.clone(),
        }
    }

    /// A bar over `total` units of work (a spinner-free counter when not on a terminal).
    pub fn bar(&self, name: &str, total: u64) -> Option<ProgressBar> {
        if !self.terminal || self.quiet {
            return None;
        }
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(name.to_string());
        Some(bar)
    }
}

/// A running stage of work.
pub struct Stage {
    name: String,
    started: Instant,
    bar: Option<ProgressBar>,
    progress: Progress,
}

impl Stage {
    /// Shows how far the stage is (`partition 3/10`) beside its name; logged when not on a
    /// terminal, where nightly runs keep their logs.
    pub fn detail(&self, detail: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(format!("{} ({detail})", self.name)),
            None => self.progress.log(format!("{}: {detail}", self.name)),
        }
    }

    /// Ends the stage, logs and returns its duration.
    pub fn done(self) -> Duration {
        let elapsed = self.started.elapsed();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.progress.log(format!(
            "{} done in {:.2} s",
            self.name,
            elapsed.as_secs_f64()
        ));
        elapsed
    }
}
