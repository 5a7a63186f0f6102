//! Failure-hook target: a shell command (`sh -c`, as the deploy hook) with the event in
//! `CERTWRIGHT_*` environment variables (see [`Event::env`]). Its output goes to our stderr;
//! on timeout the process group is killed.

use std::fmt;

use super::Event;

/// `--failure-hook CMD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookCommand(pub String);

impl HookCommand {
    /// Runs the hook to completion; `send_all`'s timeout drops (and so kills) it.
    pub async fn run(&self, event: &Event) -> Result<(), String> {
        let mut cmd = tokio::process::Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(&self.0)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::inherit())
            .process_group(0)
            .kill_on_drop(true);
        crate::fsutil::scrub_secret_env(cmd.as_std_mut());
        for (k, v) in event.env() {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("could not run `{}`: {e}", self.0))?;
        let mut guard = GroupKiller(child.id());
        let status = child.wait().await;
        guard.0 = None; // exited by itself: nothing to kill (its pid may be reused)
        match status {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(format!("`{}` exited with {s}", self.0)),
            Err(e) => Err(format!("`{}`: {e}", self.0)),
        }
    }
}

impl fmt::Display for HookCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.0)
    }
}

/// Kills the hook's whole process group when the wait is dropped (timeout): `sh -c` may
/// have children that `kill_on_drop` (the shell only) would leave behind.
struct GroupKiller(Option<u32>);

impl Drop for GroupKiller {
    fn drop(&mut self) {
        let pid = self
            .0
            .and_then(|id| i32::try_from(id).ok())
            .and_then(rustix::process::Pid::from_raw);
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}
