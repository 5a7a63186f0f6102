//! Running the nginx binary: config test, reload, and whether a master process is up.
//! `-p` is never passed, so nginx resolves paths exactly as it does when run by systemd.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::Body;
use crate::error::NginxError;
use crate::safe::run::{run_blocking, Finished, RunError, Spec};
use crate::types::PathMap;

/// `nginx -t` of a large config, or a `docker exec` into a slow container, takes seconds;
/// a minute means it hangs.
const CTL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Compiled-in default of Debian's nginx when the config has no `pid` directive.
const DEFAULT_PID_FILE: &str = "/run/nginx.pid";

/// How to reach the nginx binary and which main config it uses.
#[derive(Debug, Clone)]
pub struct Ctl {
    /// The nginx program, or a command line ending in it (`docker exec web nginx`), split
    /// as sh would; an existing file path is taken whole (it may contain spaces).
    pub binary: PathBuf,
    /// The main config as certwright reads it (on the host).
    pub conf: PathBuf,
    /// Host directories as nginx's container sees them (`-c` is passed mapped).
    pub path_map: PathMap,
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

    /// `reload`, then wait (at most 3 s) until every worker accepting connections is one the
    /// reload started, so the next request sees the new config. Returns whether that was
    /// seen; `false` for a master not visible here (a container) or a reload nginx refused.
    pub fn reload_and_wait(&self) -> Result<bool, NginxError> {
        let master = self.master_pid();
        // Every child before the reload is old, also a worker that has not named itself yet.
        let old = master.and_then(master_children);
        self.reload()?;
        let (Some(master), Some(old)) = (master, old) else {
            return Ok(false);
        };
        for _ in 0..600 {
            match accepting_workers(master) {
                Some(now) if !now.is_empty() && now.iter().all(|p| !old.contains(p)) => {
                    return Ok(true)
                }
                Some(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                None => return Ok(false),
            }
        }
        Ok(false)
    }

    /// Whether the master named in the config's pid file (or Debian's default) is alive.
    /// Behind a command line (a container) the pid file is not ours to read: assumed
    /// running, so a reload through it is tried and its failure reported.
    pub fn is_running(&self) -> bool {
        if self.command_line().is_some_and(|argv| argv.len() > 1) {
            return true;
        }
        self.master_pid().is_some()
    }

    /// The live master's pid from the config's pid file; `None` behind a command line.
    pub fn master_pid(&self) -> Option<u32> {
        if self.command_line().is_some_and(|argv| argv.len() > 1) {
            return None;
        }
        let pid_file = super::load(&self.conf)
            .ok()
            .and_then(|c| pid_directive(&c))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_PID_FILE));
        let text = std::fs::read_to_string(&pid_file).ok()?;
        let pid = text.trim().parse::<u32>().ok().filter(|p| *p > 0)?;
        Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
    }

    /// The words of a `binary` that is not an existing file, split as sh would.
    fn command_line(&self) -> Option<Vec<String>> {
        if self.binary.is_file() {
            return None;
        }
        shlex::split(self.binary.to_str()?).filter(|argv| !argv.is_empty())
    }

    /// Through `safe::run`: a ctl (or the program before `nginx` in a command line) another
    /// user could replace is refused, and a hung nginx or `docker exec` is killed.
    fn run(&self, args: &[&str]) -> Result<Finished, NginxError> {
        let mut argv: Vec<OsString> = match self.command_line() {
            Some(words) => words.into_iter().map(OsString::from).collect(),
            None => vec![self.binary.clone().into_os_string()],
        };
        argv.extend(args.iter().map(OsString::from));
        argv.push("-c".into());
        argv.push(self.path_map.to_container(&self.conf).into_os_string());
        let spawn_error = |source| NginxError::Spawn {
            program: self.binary.display().to_string(),
            source,
        };
        match run_blocking(&Spec::argv(argv, CTL_TIMEOUT)) {
            Ok(done) => Ok(done),
            Err(RunError::Spawn(source)) => Err(spawn_error(source)),
            Err(e) => Err(spawn_error(std::io::Error::other(e.to_string()))),
        }
    }
}

/// Every child process of `master` (workers, cache processes, workers still starting);
/// `None` when `/proc` does not list them.
pub fn master_children(master: u32) -> Option<Vec<u32>> {
    let children = std::fs::read_to_string(format!("/proc/{master}/task/{master}/children"));
    Some(
        children
            .ok()?
            .split_whitespace()
            .filter_map(|p| p.parse::<u32>().ok())
            .collect(),
    )
}

/// The workers of `master` that accept connections: titled `nginx: worker process`; one
/// told to stop by a reload reads `... is shutting down` before it closes its listeners.
pub fn accepting_workers(master: u32) -> Option<Vec<u32>> {
    let mut workers = master_children(master)?;
    workers.retain(|pid| {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        cmdline.split(|b| *b == 0).next() == Some(b"nginx: worker process".as_slice())
    });
    Some(workers)
}

/// The config files of the running nginx masters, from their process titles
/// (`nginx: master process /usr/sbin/nginx -c FILE`); a master started without `-c` reads
/// the compiled-in default, given as `default`.
pub fn running_master_configs(default: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = Vec::new();
    for entry in entries.flatten() {
        let raw = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let title =
            String::from_utf8_lossy(raw.split(|b| *b == 0).next().unwrap_or_default()).into_owned();
        if let Some(conf) = master_config(&title, default) {
            if !out.contains(&conf) {
                out.push(conf);
            }
        }
    }
    out
}

/// The config a master's title names; None for any other process.
fn master_config(title: &str, default: &Path) -> Option<PathBuf> {
    let rest = title.strip_prefix("nginx: master process")?;
    let mut words = rest.split_whitespace();
    while let Some(w) = words.next() {
        if w == "-c" {
            return words.next().map(PathBuf::from);
        }
    }
    Some(default.to_path_buf())
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

fn output_text(out: &Finished) -> String {
    let mut text = out.stderr.clone();
    text.push_str(&out.stdout);
    text.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_titles_name_their_config() {
        let d = Path::new("/etc/nginx/nginx.conf");
        assert_eq!(
            master_config(
                "nginx: master process /usr/sbin/nginx -c /srv/n.conf -g daemon off;",
                d
            ),
            Some(PathBuf::from("/srv/n.conf"))
        );
        assert_eq!(
            master_config("nginx: master process /usr/sbin/nginx", d),
            Some(d.to_path_buf())
        );
        assert_eq!(master_config("nginx: worker process", d), None);
    }
}
