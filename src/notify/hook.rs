//! Failure-hook target: a shell command (`sh -c`, as the deploy hook) with the event in
//! `CERTWRIGHT_*` environment variables (see [`Event::env`]). Its output goes to our stderr,
//! sanitized; on timeout the process group is killed.

use std::fmt;
use std::time::Duration;

use super::Event;

/// `--failure-hook CMD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookCommand(pub String);

impl HookCommand {
    /// Runs the hook through `safe::run`, which kills its process group at `timeout`.
    pub async fn run(&self, event: &Event, timeout: Duration) -> Result<(), String> {
        use crate::safe::run::{run, Spec};
        let spec = Spec::shell(&self.0, timeout).with_env(&event.env());
        let done = run(&spec).await.map_err(|e| format!("`{}`: {e}", self.0))?;
        for line in done.stdout.lines().chain(done.stderr.lines()) {
            eprintln!("{}", crate::safe::text::sanitize(line));
        }
        if done.status.success() {
            Ok(())
        } else {
            Err(format!("`{}` exited with {}", self.0, done.status))
        }
    }
}

impl fmt::Display for HookCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.0)
    }
}
