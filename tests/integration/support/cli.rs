//! Drives the real `certwright` binary, and `Env`: a private config/work/logs tree per test.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use super::pebble::Pebble;
use super::wait_for;

pub const BIN: &str = env!("CARGO_BIN_EXE_certwright");
/// A guard against a hung binary, far above any expected run: not a speed assertion.
const RUN_LIMIT: Duration = Duration::from_secs(180);

/// What a finished run left behind.
#[derive(Debug, Clone)]
pub struct Output {
    /// The exit code; -1 if a signal ended the process.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The command line, for failure messages.
    pub command: String,
}

impl Output {
    /// Panics with the whole run if the exit code is not `code`.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code\n{self}");
        self
    }

    /// Panics unless the run succeeded.
    pub fn assert_success(&self) -> &Self {
        self.assert_code(0)
    }

    /// stdout as exactly one JSON value.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e})\n{self}"))
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "command: {}\nexit code: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// Builder for one run of the binary (or, for harness self-tests, another program).
#[derive(Debug, Clone)]
pub struct Cli {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    umask: Option<u32>,
    current_dir: Option<PathBuf>,
}

impl Default for Cli {
    fn default() -> Self {
        Cli::new()
    }
}

impl Cli {
    pub fn new() -> Cli {
        Cli {
            program: BIN.into(),
            args: Vec::new(),
            envs: Vec::new(),
            umask: None,
            current_dir: None,
        }
    }

    /// Runs another program instead of certwright: for harness self-tests, or a wrapper that
    /// takes certwright as its argument (`ip netns exec NS certwright`).
    pub fn program(mut self, program: impl AsRef<OsStr>) -> Cli {
        self.program = program.as_ref().to_owned();
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cli {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cli
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cli {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Runs the program under this umask (through `sh -c 'umask NNN; exec "$@"'`, so the
    /// pid stays the program's own and no unsafe `pre_exec` is needed).
    pub fn umask(mut self, mask: u32) -> Cli {
        self.umask = Some(mask);
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Cli {
        self.current_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Runs to completion and captures everything.
    pub fn run(&self) -> Output {
        self.spawn().wait()
    }

    /// Starts the program; `Running::wait` collects it.
    pub fn spawn(&self) -> Running {
        let mut cmd = match self.umask {
            Some(mask) => {
                let mut cmd = Command::new("/bin/sh");
                cmd.arg("-c")
                    .arg(format!("umask {mask:03o}; exec \"$@\""))
                    .arg("sh")
                    .arg(&self.program);
                cmd
            }
            None => Command::new(&self.program),
        };
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Hermetic: no fallbacks from the developer's environment, no colour codes.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("CERTWRIGHT_") {
                cmd.env_remove(&key);
            }
        }
        cmd.env("NO_COLOR", "1");
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        if let Some(dir) = &self.current_dir {
            cmd.current_dir(dir);
        }
        let command = self.describe();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {command}: {e}"));
        let stdout = reader_thread(child.stdout.take());
        let stderr = reader_thread(child.stderr.take());
        Running {
            child,
            stdout: Some(stdout),
            stderr: Some(stderr),
            command,
        }
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(mask) = self.umask {
            parts.push(format!("(umask {mask:03o})"));
        }
        parts.push(self.program.to_string_lossy().into_owned());
        parts.extend(self.args.iter().map(|a| {
            let a = a.to_string_lossy();
            if a.is_empty() || a.contains(char::is_whitespace) {
                format!("'{a}'")
            } else {
                a.into_owned()
            }
        }));
        parts.join(" ")
    }
}

type Reader = std::thread::JoinHandle<Vec<u8>>;

fn reader_thread(pipe: Option<impl Read + Send + 'static>) -> Reader {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    })
}

/// A started run.
pub struct Running {
    child: Child,
    stdout: Option<Reader>,
    stderr: Option<Reader>,
    command: String,
}

impl Running {
    /// The process id of the program itself (the umask wrapper `exec`s it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True once the program has exited (its output is still collected by `wait`).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Sends SIGTERM, then collects its output.
    pub fn terminate(self) -> Output {
        let pid = rustix::process::Pid::from_raw(self.pid() as i32).expect("a child's pid");
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
        self.wait()
    }

    /// Kills the program if it still runs, then collects its output (for failure messages).
    pub fn wait_or_kill(mut self) -> Output {
        let _ = self.child.kill();
        self.wait()
    }

    /// Waits for exit (killing it after a generous limit) and collects its output.
    pub fn wait(mut self) -> Output {
        let finished = wait_for(RUN_LIMIT, || self.child.try_wait().ok().flatten());
        let status = match finished {
            Some(status) => status,
            None => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let stderr = self.stderr.take().map(join).unwrap_or_default();
                panic!(
                    "{} still running after {RUN_LIMIT:?}; killed\n--- stderr ---\n{}",
                    self.command,
                    String::from_utf8_lossy(&stderr)
                );
            }
        };
        use std::os::unix::process::ExitStatusExt;
        let code = status.code().unwrap_or(-1);
        let mut stderr =
            String::from_utf8_lossy(&self.stderr.take().map(join).unwrap_or_default()).into_owned();
        if let Some(signal) = status.signal() {
            stderr.push_str(&format!("\n<killed by signal {signal}>"));
        }
        Output {
            code,
            stdout: String::from_utf8_lossy(&self.stdout.take().map(join).unwrap_or_default())
                .into_owned(),
            stderr,
            command: self.command.clone(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn join(handle: Reader) -> Vec<u8> {
    handle.join().unwrap_or_default()
}

/// A private certwright tree: `<tmp>/config`, `<tmp>/work`, `<tmp>/logs` (created empty).
pub struct Env {
    dir: TempDir,
}

impl Default for Env {
    fn default() -> Self {
        Env::new()
    }
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("certwright-env-")
            .tempdir()
            .expect("create env temp dir");
        for sub in ["config", "work", "logs"] {
            std::fs::create_dir(dir.path().join(sub)).expect("create env dirs");
        }
        Env { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn work_dir(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.dir.path().join("logs")
    }

    /// `config/live/<name>` (the symlink).
    pub fn live(&self, name: &str) -> PathBuf {
        self.config_dir().join("live").join(name)
    }

    /// The version `live/<name>` points at; panics unless it points at
    /// `../archive/<name>/<N>`.
    pub fn live_version(&self, name: &str) -> u32 {
        let target = std::fs::read_link(self.live(name))
            .unwrap_or_else(|e| panic!("live/{name} is not a symlink: {e}"));
        assert_eq!(
            target.parent(),
            Some(Path::new("../archive").join(name).as_path()),
            "live/{name} -> {}",
            target.display()
        );
        target
            .file_name()
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("live/{name} -> {}", target.display()))
    }

    /// `config/archive/<name>`.
    pub fn archive(&self, name: &str) -> PathBuf {
        self.config_dir().join("archive").join(name)
    }

    /// `config/renewal/<name>.json`.
    pub fn renewal_conf(&self, name: &str) -> PathBuf {
        self.config_dir()
            .join("renewal")
            .join(format!("{name}.json"))
    }

    /// A certwright command running in this env's temp dir.
    pub fn cli(&self) -> Cli {
        Cli::new().current_dir(self.root())
    }

    /// `renew` with the dir flags, no random sleep, and `extra` (`--dry-run`...), run.
    pub fn renew(&self, extra: &[&str]) -> Output {
        self.renew_cli(extra).run()
    }

    /// `renew` as `renew` runs it, not yet run: to add flags, environment, or spawn it.
    pub fn renew_cli(&self, extra: &[&str]) -> Cli {
        self.cli()
            .arg("renew")
            .args(self.dir_flags())
            .arg("--no-random-sleep-on-renew")
            .args(extra)
    }

    /// `--config-dir C --work-dir W --logs-dir L`
    pub fn dir_flags(&self) -> Vec<String> {
        vec![
            "--config-dir".into(),
            self.config_dir().display().to_string(),
            "--work-dir".into(),
            self.work_dir().display().to_string(),
            "--logs-dir".into(),
            self.logs_dir().display().to_string(),
        ]
    }

    /// The flags every run against `pebble` needs: dirs, `--server`, `--ca-bundle`, `-n`,
    /// `--agree-tos`, `--register-unsafely-without-email`.
    pub fn flags(&self, pebble: &Pebble) -> Vec<String> {
        let mut flags = self.flags_without_ca_bundle(pebble);
        flags.push("--ca-bundle".into());
        flags.push(pebble.ca_bundle_path().display().to_string());
        flags
    }

    /// `flags` less `--ca-bundle`: Pebble's TLS certificate is then untrusted.
    pub fn flags_without_ca_bundle(&self, pebble: &Pebble) -> Vec<String> {
        let mut flags = self.dir_flags();
        flags.extend(
            [
                "--server",
                &pebble.directory_url(),
                "-n",
                "--agree-tos",
                "--register-unsafely-without-email",
            ]
            .map(String::from),
        );
        flags
    }
}

/// `https://127.0.0.1:<port>/dir` on a port nothing listens on: for runs that must fail
/// before any network I/O (a bug that went on would get "connection refused", not exit 2).
pub fn dead_server_url() -> String {
    format!("https://127.0.0.1:{}/dir", super::free_port())
}
