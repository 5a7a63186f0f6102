//! What the user sees while a command runs: a spinner per step on a terminal, plain lines
//! otherwise (cron mail, CI logs). Progress goes to stderr so stdout stays parseable.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub quiet: bool,
    pub tty: bool,
}

impl Ui {
    pub fn new(quiet: bool) -> Self {
        Self {
            quiet,
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// Start a step; finish it with `done` or let it drop (reported as failed).
    pub fn step(&self, message: impl Into<String>) -> Step {
        let message = message.into();
        tracing::info!("{message}");
        let bar = if self.tty && !self.quiet {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(message.clone());
            bar.enable_steady_tick(Duration::from_millis(100));
            Some(bar)
        } else {
            None
        };
        Step {
            ui: *self,
            message,
            bar,
            started: Instant::now(),
            finished: false,
        }
    }

    /// A line for the user (stderr), unless quiet.
    pub fn note(&self, line: impl AsRef<str>) {
        tracing::info!("{}", line.as_ref());
        if !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }

    /// A warning is shown even when quiet.
    pub fn warn(&self, line: impl AsRef<str>) {
        tracing::warn!("{}", line.as_ref());
        eprintln!("warning: {}", line.as_ref());
    }
}

pub struct Step {
    ui: Ui,
    message: String,
    bar: Option<ProgressBar>,
    started: Instant,
    finished: bool,
}

impl Step {
    pub fn done(mut self) {
        self.finish("done");
    }

    pub fn done_with(mut self, outcome: &str) {
        self.finish(outcome);
    }

    fn finish(&mut self, outcome: &str) {
        self.finished = true;
        let secs = self.started.elapsed().as_secs_f64();
        let line = format!("{} ... {outcome} ({secs:.2} s)", self.message);
        tracing::info!("{line}");
        match self.bar.take() {
            Some(bar) => bar.finish_with_message(line),
            None if !self.ui.quiet => eprintln!("{line}"),
            None => {}
        }
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        if !self.finished {
            self.finish("failed");
        }
    }
}

/// Write to stdout, treating a closed pipe (`| head`) as success rather than a panic.
pub fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
