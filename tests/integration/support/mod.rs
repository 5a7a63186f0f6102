//! Shared test harness: real Pebble, real nginx, the real binary, and checks on what it wrote.
//!
//! Every test builds its own `Pebble`, `Nginx` and `Env`; ports come from `free_port`, which
//! never hands out the same port twice within one test binary.

pub mod a2c;
pub mod authz;
pub mod bind;
pub mod certs;
pub mod cli;
pub mod docker;
pub mod fleet;
pub mod moto;
pub mod net;
pub mod netns;
pub mod nginx;
pub mod pdns;
pub mod pebble;
pub mod prometheus;
pub mod proxy;
pub mod redis;
pub mod rig;
pub mod slow_ca;
pub mod smtp;
pub mod snapshot;
pub mod webhook;

use std::collections::HashSet;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use cli::{Cli, Env};
pub use nginx::Nginx;
pub use pebble::{Pebble, PebbleOpts};
pub use snapshot::Snapshot;

/// Ports already handed out in this process; parallel tests must not get the same one.
static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, then release).
/// Another process may still take it before we use it: starters retry on "address in use".
pub fn free_port() -> u16 {
    let mut guard = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    let seen = guard.get_or_insert_with(HashSet::new);
    for _ in 0..1000 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local_addr").port();
        drop(listener);
        if seen.insert(port) {
            return port;
        }
    }
    panic!("could not find a free port that was not handed out already");
}

/// Polls `check` every 50 ms until it returns `Some` or `limit` passes. A bound on waiting,
/// not an assertion about speed: callers panic with the child's output when it runs out.
pub fn wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `program` directly (no arguments) and panics unless it exits 0: shows that a
/// marker script a test checks the absence of does leave its marker when it runs.
pub fn run_directly(program: &Path) {
    let status = std::process::Command::new(program)
        .status()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    assert!(status.success(), "{}: {status}", program.display());
}

/// Every child process of `pid`, from `/proc` (any of its threads may have spawned one).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .map(|task| std::fs::read_to_string(task.path().join("children")).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Runs `f` to completion on a fresh current-thread runtime: for tests that call the
/// library's async functions directly.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// The file's contents, or a note saying why there are none (for panic messages).
pub fn read_lossy(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => format!("<cannot read {}: {e}>", path.display()),
    }
}

/// Permission bits (including setuid/setgid/sticky) of a path, not following symlinks.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// `secret` is in neither output stream of `outputs` nor in any file below `dir`.
pub fn assert_secret_nowhere(secret: &str, dir: &Path, outputs: &[&cli::Output]) {
    for out in outputs {
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "secret in output: {out:?}"
        );
    }
    for path in files_below(dir) {
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(secret),
            "secret found in {}",
            path.display()
        );
    }
}

/// Every regular file below `dir` (recursively), sorted; empty if `dir` does not exist.
pub fn files_below(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A PyPI tool's venv from `scripts/install-<tool>.sh` (which takes a file lock, so parallel
/// test binaries do not race, and does nothing when the venv is already there). The venv is
/// `$<env_var>` or `/tmp/certwright-<tool>-venv`; a failed install fails the test loudly.
pub fn pip_venv(tool: &str, env_var: &str) -> std::path::PathBuf {
    let venv = std::env::var_os(env_var)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| format!("/tmp/certwright-{tool}-venv").into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scripts/install-{tool}.sh"));
    let out = std::process::Command::new("bash")
        .arg(&script)
        .env(env_var, &venv)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed:\n{}\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    venv
}
