//! The runner for every program certwright starts: hooks (pre, post, deploy, manual), the
//! failure hook, the nginx ctl and the daemon's own passes.
//!
//! Guarantees: what runs cannot be replaced by another local user (the program, its
//! symlink target, the script an interpreter or `sh -c` runs, and each directory above
//! them: owned by root or this user, writable by group or others only with the sticky bit);
//! secrets certwright holds are not in the child's environment, and the variables a caller
//! adds are named `CERTBOT_*`, `CERTWRIGHT_*` or `RENEWED_*` (never `LD_PRELOAD` or `PATH`);
//! stdin is empty; at most `output_limit` bytes of each output stream are kept; and at the
//! timeout the child's whole process group is killed (a `sh -c` leaves no orphan behind),
//! except at a terminal, where the child stays in the foreground group so it may prompt.
//!
//! Not checked: later commands in a shell line (`a; b`), files those programs open, a first
//! word that is a shell builtin or a variable, and what appears on PATH after the check.

use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

/// Each stream keeps this much by default: enough for nginx's and a hook's messages.
pub(crate) const OUTPUT_LIMIT: usize = 64 << 10;

/// What to run.
#[derive(Debug, Clone)]
pub(crate) enum Program {
    /// A shell line, run as `/bin/sh -c LINE` (certbot's way for hooks).
    Shell(String),
    /// A program and its arguments, no shell.
    Argv(Vec<OsString>),
}

/// One run: what, with which extra variables, for how long.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub program: Program,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
    pub output_limit: usize,
}

impl Spec {
    pub(crate) fn shell(line: &str, timeout: Duration) -> Spec {
        Spec {
            program: Program::Shell(line.to_string()),
            env: Vec::new(),
            timeout,
            output_limit: OUTPUT_LIMIT,
        }
    }

    pub(crate) fn argv(argv: Vec<OsString>, timeout: Duration) -> Spec {
        Spec {
            program: Program::Argv(argv),
            env: Vec::new(),
            timeout,
            output_limit: OUTPUT_LIMIT,
        }
    }

    pub(crate) fn with_env<K: AsRef<str>, V: AsRef<str>>(mut self, env: &[(K, V)]) -> Spec {
        self.env.extend(
            env.iter()
                .map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string())),
        );
        self
    }
}

/// How a run ended (it ran to the end; the status says whether it succeeded).
#[derive(Debug)]
pub(crate) struct Finished {
    pub status: ExitStatus,
    /// At most `output_limit` bytes of each, lossily decoded.
    pub stdout: String,
    pub stderr: String,
}

/// Why a program did not run to the end.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunError {
    #[error("refusing to run {0}")]
    Unsafe(String),
    #[error("refusing to pass the variable {0} to a program (only CERTBOT_*, CERTWRIGHT_* and RENEWED_* are passed)")]
    Env(String),
    #[error("could not start it: {0}")]
    Spawn(std::io::Error),
    #[error("it did not finish within {} s; its process group was killed", .0.as_secs())]
    TimedOut(Duration),
}

/// Prefixes of the variable names a caller may add.
const ENV_PREFIXES: &[&str] = &["CERTBOT_", "CERTWRIGHT_", "RENEWED_"];

/// Run `spec` to its end or its timeout, from async code.
pub(crate) async fn run(spec: &Spec) -> Result<Finished, RunError> {
    let mut cmd = tokio::process::Command::from(command(spec)?);
    cmd.kill_on_drop(true);
    let mut child = cmd.spawn().map_err(RunError::Spawn)?;
    let mut guard = GroupKiller(child.id());
    let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
    let limit = spec.output_limit;
    let work = async {
        tokio::join!(
            read_async(out.take(), limit),
            read_async(err.take(), limit),
            child.wait()
        )
    };
    let (o, e, status) = tokio::time::timeout(spec.timeout, work)
        .await
        .map_err(|_| RunError::TimedOut(spec.timeout))?;
    guard.0 = None; // exited by itself: nothing to kill (its pid may be reused)
    Ok(finished(status.map_err(RunError::Spawn)?, o, e))
}

/// Run `spec` to its end or its timeout, from sync code (no runtime needed).
pub(crate) fn run_blocking(spec: &Spec) -> Result<Finished, RunError> {
    let mut child = command(spec)?.spawn().map_err(RunError::Spawn)?;
    let mut guard = GroupKiller(Some(child.id()));
    let (tx, rx) = std::sync::mpsc::channel();
    for (i, pipe) in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .enumerate()
    {
        let (tx, limit) = (tx.clone(), spec.output_limit);
        std::thread::spawn(move || {
            let _ = tx.send((i, pipe.map(|p| read_bounded(p, limit)).unwrap_or_default()));
        });
    }
    let deadline = std::time::Instant::now() + spec.timeout;
    let status = loop {
        match child.try_wait().map_err(RunError::Spawn)? {
            Some(status) => break status,
            None if std::time::Instant::now() >= deadline => {
                drop(guard);
                let _ = child.wait();
                return Err(RunError::TimedOut(spec.timeout));
            }
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    };
    guard.0 = None;
    let mut streams = [Vec::new(), Vec::new()];
    for _ in 0..2 {
        // A grandchild that left the group may hold a pipe open: do not wait for it.
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok((i, bytes)) => streams[i] = bytes,
            Err(_) => break,
        }
    }
    let [o, e] = streams;
    Ok(finished(status, o, e))
}

/// At most `limit` bytes of `pipe`; the rest is read and dropped so the child never blocks.
async fn read_async<R: tokio::io::AsyncRead + Unpin>(pipe: Option<R>, limit: usize) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut kept = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = (&mut pipe).take(limit as u64).read_to_end(&mut kept).await;
        let _ = tokio::io::copy(&mut pipe, &mut tokio::io::sink()).await;
    }
    kept
}

fn read_bounded(mut pipe: Box<dyn std::io::Read + Send>, limit: usize) -> Vec<u8> {
    use std::io::Read;
    let mut kept = Vec::new();
    let _ = (&mut pipe).take(limit as u64).read_to_end(&mut kept);
    let _ = std::io::copy(&mut pipe, &mut std::io::sink());
    kept
}

fn finished(status: ExitStatus, stdout: Vec<u8>, stderr: Vec<u8>) -> Finished {
    Finished {
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// The checked command: program files checked, secrets out of the environment, the
/// caller's variables checked, its own process group, stdin empty, outputs piped.
fn command(spec: &Spec) -> Result<std::process::Command, RunError> {
    use std::os::unix::process::CommandExt;
    let mut cmd = match &spec.program {
        Program::Shell(line) => {
            check_command(line).map_err(RunError::Unsafe)?;
            let mut cmd = std::process::Command::new("/bin/sh");
            cmd.arg("-c").arg(line);
            cmd
        }
        Program::Argv(argv) => {
            let Some((program, args)) = argv.split_first() else {
                return Err(RunError::Unsafe("an empty command line".into()));
            };
            check_argv(program, args).map_err(RunError::Unsafe)?;
            let mut cmd = std::process::Command::new(program);
            cmd.args(args);
            cmd
        }
    };
    crate::fsutil::scrub_secret_env(&mut cmd);
    for (k, v) in &spec.env {
        let allowed = ENV_PREFIXES.iter().any(|p| k.starts_with(p))
            && k.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !allowed {
            return Err(RunError::Env(k.clone()));
        }
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if own_group() {
        cmd.process_group(0);
    }
    Ok(cmd)
}

/// At a terminal a child stays in the terminal's foreground process group, so it may prompt
/// (an interactive `--manual` reads /dev/tty; a background group would be stopped) and
/// Ctrl-C reaches it; elsewhere (cron, timers, the daemon) it leads a group of its own.
fn own_group() -> bool {
    use std::io::IsTerminal;
    !std::io::stdin().is_terminal()
}

/// Kills the child's whole process group (only the child, when it shares ours) when dropped
/// before the child exited.
struct GroupKiller(Option<u32>);

impl Drop for GroupKiller {
    fn drop(&mut self) {
        let pid = self
            .0
            .and_then(|id| i32::try_from(id).ok())
            .and_then(rustix::process::Pid::from_raw);
        let Some(pid) = pid else { return };
        let signal = rustix::process::Signal::KILL;
        let _ = if own_group() {
            rustix::process::kill_process_group(pid, signal)
        } else {
            rustix::process::kill_process(pid, signal)
        };
    }
}

/// Why `command` (a shell line) runs a file another local user could replace, if it does.
pub(crate) fn check_command(command: &str) -> Result<(), String> {
    for found in files_run(command, 0)? {
        check_file(&found)?;
    }
    Ok(())
}

/// `check_command` for a program given as an argv: the program, and the script when it is
/// an interpreter.
fn check_argv(program: &OsString, args: &[OsString]) -> Result<(), String> {
    let words: Vec<String> = std::iter::once(program)
        .chain(args)
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let line = shlex::try_join(words.iter().map(String::as_str)).unwrap_or_default();
    // Not found: the spawn reports it.
    if let Some(found) = resolve(&words[0])? {
        check_file(&found)?;
    }
    check_command(&line)
}

/// The file and, if it is a symlink, its target.
fn check_file(found: &Path) -> Result<(), String> {
    let mut candidates = vec![found.to_path_buf()];
    if let Ok(real) = std::fs::canonicalize(found) {
        if real != found {
            candidates.push(real);
        }
    }
    for path in &candidates {
        if let Some(reason) = unsafe_location(path) {
            return Err(format!("{}: {reason}", path.display()));
        }
    }
    Ok(())
}

/// Programs that run the file named by their first non-option argument.
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "busybox", "python", "python3", "perl", "ruby", "php",
    "node", "lua", "awk", "tclsh",
];
/// How deep `sh -c 'sh -c ...'` is followed.
const MAX_NESTING: usize = 3;

/// The files `command` runs that can be known without running it: its program and, for
/// an interpreter, its script (or, for `-c`, what that command runs).
fn files_run(command: &str, depth: usize) -> Result<Vec<PathBuf>, String> {
    // Unbalanced quotes: the shell will refuse it too; nothing to resolve.
    let Some(words) = shlex::split(command) else {
        return Ok(Vec::new());
    };
    let mut words = words.into_iter().skip_while(|w| is_assignment(w));
    let Some(program) = words.next() else {
        return Ok(Vec::new());
    };
    if program.starts_with(['$', '(', '{', '`']) {
        return Ok(Vec::new());
    }
    let Some(found) = resolve(&program)? else {
        return Ok(Vec::new());
    };
    let mut files = vec![found];
    let name = Path::new(&program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name == "env" && depth < MAX_NESTING {
        // `env [-i] [VAR=value]... PROGRAM ARGS`: PROGRAM is what runs.
        let rest: Vec<String> = words.skip_while(|w| w.starts_with('-')).collect();
        let rest = shlex::try_join(rest.iter().map(String::as_str)).unwrap_or_default();
        files.extend(files_run(&rest, depth + 1)?);
        return Ok(files);
    }
    if !INTERPRETERS.contains(&name.as_str()) {
        return Ok(files);
    }
    while let Some(arg) = words.next() {
        if arg == "-c" {
            if let (Some(inner), true) = (words.next(), depth < MAX_NESTING) {
                files.extend(files_run(&inner, depth + 1)?);
            }
            break;
        }
        if arg.starts_with('-') || arg.starts_with('+') {
            continue;
        }
        match resolve_path(&arg)? {
            Some(script) => files.push(script),
            None => return Err(format!("{arg}: no such file")),
        }
        break;
    }
    Ok(files)
}

/// `NAME=value` before the program, as `sh` takes it.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// `program` as `sh` would find it: a path if it has a slash (refused if missing), else
/// the first PATH entry holding a file of that name (`None`: a builtin or a typo, left to
/// the shell).
fn resolve(program: &str) -> Result<Option<PathBuf>, String> {
    if program.contains('/') {
        return match resolve_path(program)? {
            Some(p) => Ok(Some(p)),
            None => Err(format!("{program}: no such file")),
        };
    }
    let Some(path) = std::env::var_os("PATH") else {
        return Ok(None);
    };
    Ok(std::env::split_paths(&path)
        .map(|dir| {
            let dir = if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            };
            dir.join(program)
        })
        .find(|p| p.is_file())
        .map(|p| std::path::absolute(&p).unwrap_or(p)))
}

/// An absolute form of `path` if something is there.
fn resolve_path(path: &str) -> Result<Option<PathBuf>, String> {
    let p = std::path::absolute(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(p.exists().then_some(p))
}

/// Why `path` could be replaced by another local user, if it can.
fn unsafe_location(path: &Path) -> Option<String> {
    let euid = rustix::process::geteuid().as_raw();
    let meta = std::fs::metadata(path).ok()?;
    if meta.uid() != 0 && meta.uid() != euid {
        return Some(format!(
            "it belongs to uid {}, not to root or this user",
            meta.uid()
        ));
    }
    if meta.mode() & 0o002 != 0 {
        return Some("it is world-writable".into());
    }
    if meta.mode() & 0o020 != 0 {
        return Some("it is group-writable".into());
    }
    for dir in path.ancestors().skip(1) {
        if dir.as_os_str().is_empty() {
            continue;
        }
        let Ok(m) = std::fs::metadata(dir) else {
            continue;
        };
        let shown = dir.display();
        if m.uid() != 0 && m.uid() != euid {
            return Some(format!(
                "{shown} belongs to uid {}, who can replace what is in it",
                m.uid()
            ));
        }
        if m.mode() & 0o1000 == 0 {
            if m.mode() & 0o002 != 0 {
                return Some(format!(
                    "{shown} is world-writable without the sticky bit, so anyone can replace it"
                ));
            }
            if m.mode() & 0o020 != 0 {
                return Some(format!(
                    "{shown} is group-writable without the sticky bit, so its group can replace it"
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hung_program_is_killed_with_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("grandchild-ran");
        let line = format!("(sleep 2; touch {}) & sleep 30", marker.display());
        let spec = Spec::shell(&line, Duration::from_millis(300));
        let err = run(&spec).await.unwrap_err();
        assert!(matches!(err, RunError::TimedOut(_)), "{err}");
        let err = run_blocking(&spec).unwrap_err();
        assert!(matches!(err, RunError::TimedOut(_)), "{err}");
        std::thread::sleep(Duration::from_millis(2500));
        assert!(!marker.exists(), "the grandchild outlived the timeout");
        // The same line without the timeout does leave the marker: the observer works.
        let spec = Spec::shell(
            &format!("touch {}", marker.display()),
            Duration::from_secs(5),
        );
        assert!(run_blocking(&spec).unwrap().status.success());
        assert!(marker.exists());
    }

    #[tokio::test]
    async fn output_is_bounded_and_env_checked() {
        let mut spec = Spec::shell(
            "yes | head -c 1000000; echo err >&2",
            Duration::from_secs(10),
        );
        spec.output_limit = 1000;
        let done = run(&spec).await.unwrap();
        assert_eq!(done.stdout.len(), 1000);
        assert_eq!(done.stderr, "err\n");
        let done = run_blocking(&spec).unwrap();
        assert_eq!(done.stdout.len(), 1000);
        for bad in ["LD_PRELOAD", "PATH", "CERTBOT_x"] {
            let spec = Spec::shell("true", Duration::from_secs(5)).with_env(&[(bad, "/tmp/x")]);
            assert!(matches!(run(&spec).await, Err(RunError::Env(_))), "{bad}");
        }
        let spec = Spec::shell("echo $CERTBOT_DOMAIN", Duration::from_secs(5))
            .with_env(&[("CERTBOT_DOMAIN", "example.com")]);
        assert_eq!(run(&spec).await.unwrap().stdout, "example.com\n");
    }

    #[test]
    fn a_program_others_can_replace_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let prog = open.join("nginx");
        std::fs::write(&prog, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
        let spec = Spec::argv(vec![prog.into()], Duration::from_secs(5));
        let err = run_blocking(&spec).unwrap_err().to_string();
        assert!(err.contains("world-writable"), "{err}");
    }
}
