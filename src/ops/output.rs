//! What the user sees while a command runs: a spinner per step on a terminal, plain lines
//! otherwise (cron mail, CI logs). Progress goes to stderr so stdout stays parseable.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use time::OffsetDateTime;

use crate::error::{Error, InputError};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Ui {
    pub quiet: bool,
    pub tty: bool,
}

impl Ui {
    pub(crate) fn new(quiet: bool) -> Self {
        Self {
            quiet,
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// Start a step; finish it with `done` or let it drop (reported as failed).
    pub(crate) fn step(&self, message: impl Into<String>) -> Step {
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
    pub(crate) fn note(&self, line: impl AsRef<str>) {
        let line = crate::safe::text::sanitize_lines(line.as_ref());
        tracing::info!("{line}");
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    /// A warning is shown even when quiet.
    pub(crate) fn warn(&self, line: impl AsRef<str>) {
        let line = crate::safe::text::sanitize_lines(line.as_ref());
        tracing::warn!("{line}");
        eprintln!("warning: {line}");
    }

    /// A program's output (a hook's), shown even when quiet, as it was before it was
    /// captured; each line sanitized.
    pub(crate) fn output(&self, text: &str) {
        for line in text.lines() {
            let line = crate::safe::text::sanitize(line);
            tracing::info!("| {line}");
            eprintln!("{line}");
        }
    }
}

pub(crate) struct Step {
    ui: Ui,
    message: String,
    bar: Option<ProgressBar>,
    started: Instant,
    finished: bool,
}

impl Step {
    pub(crate) fn done(mut self) {
        self.finish("done");
    }

    pub(crate) fn done_with(mut self, outcome: &str) {
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
pub(crate) fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// One JSON document on stdout (`pretty` for the listing commands, as before).
pub(crate) fn print_json(value: &impl serde::Serialize, pretty: bool) {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    print_stdout(&format!("{}\n", text.unwrap_or_default()));
}

/// RFC 3339 in whole seconds, as every report and the JSON output shows times.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The day only, as certbot's messages show expiry.
pub(crate) fn date(t: OffsetDateTime) -> String {
    t.date().to_string()
}

/// An irreversible command run without -n must be able to ask: checked before any I/O.
pub(crate) fn require_confirmation_possible(interactive: bool, command: &str) -> Result<(), Error> {
    if interactive && !std::io::stdin().is_terminal() {
        return Err(InputError::NoTerminal {
            command: Some(command.to_string()),
        }
        .into());
    }
    Ok(())
}

/// -n goes ahead; otherwise the terminal is asked (see `require_confirmation_possible`).
pub(crate) fn confirm(interactive: bool, question: &str) -> Result<bool, Error> {
    if !interactive {
        return Ok(true);
    }
    ask_yes_no(question).ok_or_else(|| InputError::NoTerminal { command: None }.into())
}

/// Ask on the terminal; None when there is no terminal to ask on.
pub(crate) fn ask_yes_no(question: &str) -> Option<bool> {
    let answer = ask_line(&format!("{question} (y/N)"))?;
    Some(matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// One line typed at the terminal, trimmed; None when stdin is not a terminal.
pub(crate) fn ask_line(question: &str) -> Option<String> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    eprint!("{question}: ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).ok()?;
    Some(answer.trim().to_string())
}

/// The one terms-of-service prompt (registration asks it; `--agree-tos` skips it).
pub(crate) fn ask_terms(terms: &str, interactive: bool) -> bool {
    interactive
        && ask_yes_no(&format!(
            "Please read the terms of service at {terms}\n\
             You must agree to register with the ACME server. Agree?"
        ))
        .unwrap_or(false)
}
