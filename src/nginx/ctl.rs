//! Running the nginx binary: config test, reload, and whether a master process is up.
//! `-p` is never passed, so nginx resolves paths exactly as it does when run by systemd.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::Body;
use crate::error::NginxError;

/// Compiled-in default of Debian's nginx when the config has no `pid` directive.
const DEFAULT_PID_FILE: &str = "/run/nginx.pid";

/// How to reach the nginx binary and which main config it uses.
#[derive(Debug, Clone)]
pub struct Ctl {
    pub binary: PathBuf,
    pub conf: PathBuf,
}

impl Ctl {
    /// `nginx -t -c <conf>`; a failure carries nginx's own output.
    pub fn test(&self) -> Result<(), NginxError> {
        let out = self.run(&["-t"])?;
        if out.status.success() {
            Ok(())
        } else {
            Err(NginxError::ConfigTest {
                when: "now",
                output: output_text(&out),
            })
        }
    }

    /// `nginx -s reload -c <conf>`: signals the running master to re-read its config.
    pub fn reload(&self) -> Result<(), NginxError> {
        let out = self.run(&["-s", "reload"])?;
        if out.status.success() {
            Ok(())
        } else {
            Err(NginxError::Reload {
                output: output_text(&out),
            })
        }
    }

    /// Whether the master named in the config's pid file (or Debian's default) is alive.
    pub fn is_running(&self) -> bool {
        let pid_file = super::load(&self.conf)
            .ok()
            .and_then(|c| pid_directive(&c))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_PID_FILE));
        let Ok(text) = std::fs::read_to_string(&pid_file) else {
            return false;
        };
        match text.trim().parse::<u32>() {
            Ok(pid) if pid > 0 => Path::new(&format!("/proc/{pid}")).exists(),
            _ => false,
        }
    }

    fn run(&self, args: &[&str]) -> Result<Output, NginxError> {
        let mut cmd = Command::new(&self.binary);
        crate::fsutil::scrub_secret_env(&mut cmd);
        cmd.args(args)
            .arg("-c")
            .arg(&self.conf)
            .output()
            .map_err(|source| NginxError::Spawn {
                program: self.binary.display().to_string(),
                source,
            })
    }
}

/// The main-context `pid` file, resolved against the config's prefix.
fn pid_directive(config: &super::Config) -> Option<PathBuf> {
    let mut found = None;
    config.visit(&mut |_, ctx, d| {
        if ctx.is_empty() && d.name() == "pid" && matches!(d.body, Body::Simple) {
            found = d.arg(0).map(|p| config.prefix.join(p));
        }
    });
    found
}

fn output_text(out: &Output) -> String {
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    text.trim_end().to_string()
}
