//! A real nginx on a private prefix laid out like Debian's /etc/nginx:
//!
//! ```text
//! <tmp>/nginx.conf                  self-contained: absolute pid, logs, *_temp_path
//! <tmp>/sites-available/default     the test's server blocks
//! <tmp>/sites-enabled/default  ->   <tmp>/sites-available/default
//! <tmp>/logs/{error,access}.log
//! ```
//!
//! Point certwright at it with `--nginx-server-root <tmp> --nginx-ctl /usr/sbin/nginx`.
//! In the server blocks, `@PORT0@` .. `@PORT9@` become free ports and `@PREFIX@` the temp dir.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use super::{children, free_port, net, read_lossy, wait_for};

pub const NGINX: &str = "/usr/sbin/nginx";
const START_ATTEMPTS: usize = 5;

/// A daemonised nginx master; stopped (`-s stop`, then SIGKILL by pid) on drop.
pub struct Nginx {
    dir: TempDir,
    ports: Vec<u16>,
    /// The master's pid as first read; `None` until nginx started.
    pid: Option<i32>,
    started: bool,
}

impl Nginx {
    /// Writes the prefix, substitutes ports, starts nginx and waits until every port answers.
    pub fn start(server_blocks: &str) -> Nginx {
        let mut dir = tempfile::Builder::new()
            .prefix("certwright-nginx-")
            .tempdir()
            .expect("create nginx temp dir");
        let prefix = dir.path().to_path_buf();
        let prefix = prefix.as_path();
        for sub in ["sites-available", "sites-enabled", "logs", "run", "temp"] {
            std::fs::create_dir_all(prefix.join(sub)).expect("create nginx prefix dirs");
        }
        std::fs::write(prefix.join("nginx.conf"), main_conf(prefix)).expect("write nginx.conf");
        std::os::unix::fs::symlink(
            prefix.join("sites-available/default"),
            prefix.join("sites-enabled/default"),
        )
        .expect("symlink sites-enabled/default");

        let port_slots = (0..10)
            .filter(|i| server_blocks.contains(&format!("@PORT{i}@")))
            .count();
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            let ports: Vec<u16> = (0..port_slots).map(|_| free_port()).collect();
            let mut body = server_blocks.replace("@PREFIX@", &prefix.display().to_string());
            for (i, port) in ports.iter().enumerate() {
                body = body.replace(&format!("@PORT{i}@"), &port.to_string());
            }
            std::fs::write(prefix.join("sites-available/default"), body)
                .expect("write sites-available/default");

            let out = Command::new(NGINX)
                .arg("-c")
                .arg(prefix.join("nginx.conf"))
                .stdin(Stdio::null())
                .output()
                .unwrap_or_else(|e| panic!("run {NGINX}: {e}"));
            let mut nginx = Nginx {
                dir,
                ports,
                pid: None,
                started: false,
            };
            let report = format!(
                "{}{}\nerror.log:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                read_lossy(&nginx.error_log_path())
            );
            if out.status.success() {
                nginx.started = true;
                nginx.pid = nginx.read_pid();
                let all_answer = wait_for(Duration::from_secs(30), || {
                    nginx
                        .ports
                        .iter()
                        .all(|p| net::port_answers(*p))
                        .then_some(())
                });
                assert!(
                    all_answer.is_some(),
                    "nginx started but its ports {:?} do not answer:\n{report}",
                    nginx.ports
                );
                return nginx;
            }
            if !report.contains("Address already in use") {
                panic!("nginx did not start ({}):\n{report}", out.status);
            }
            last_error = report;
            dir = nginx.take_dir();
        }
        panic!("nginx could not bind free ports in {START_ATTEMPTS} attempts:\n{last_error}");
    }

    /// The temp dir holding nginx.conf (the value for `--nginx-server-root`).
    pub fn server_root(&self) -> &Path {
        self.dir.path()
    }

    pub fn conf_path(&self) -> PathBuf {
        self.dir.path().join("nginx.conf")
    }

    /// The file with the test's server blocks (sites-enabled/default links to it).
    pub fn site_path(&self) -> PathBuf {
        self.dir.path().join("sites-available/default")
    }

    /// The port that replaced `@PORT{i}@`.
    pub fn port(&self, i: usize) -> u16 {
        self.ports[i]
    }

    pub fn access_log(&self) -> String {
        read_lossy(&self.dir.path().join("logs/access.log"))
    }

    pub fn error_log(&self) -> String {
        read_lossy(&self.error_log_path())
    }

    /// `nginx -t -c <tmp>/nginx.conf`, as certwright will run it.
    pub fn config_test(&self) -> Output {
        Command::new(NGINX)
            .arg("-t")
            .arg("-c")
            .arg(self.conf_path())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {NGINX} -t: {e}"))
    }

    /// The master's pid from the pid file, if nginx runs.
    pub fn read_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.dir.path().join("run/nginx.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// `nginx -s reload`, then waits until workers of the new configuration accept
    /// connections and none of the old ones does (the master answers the signal
    /// asynchronously: the old workers serve the old config until then).
    pub fn reload(&self) {
        let master = self.read_pid().expect("nginx runs") as u32;
        let old = children(master);
        let out = Command::new(NGINX)
            .arg("-s")
            .arg("reload")
            .arg("-c")
            .arg(self.conf_path())
            .output()
            .expect("reload nginx");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let handed_over = wait_for(Duration::from_secs(10), || {
            let now = accepting_workers(master);
            (!now.is_empty() && now.iter().all(|p| !old.contains(p))).then_some(())
        });
        assert!(
            handed_over.is_some(),
            "no new nginx workers after reload\n{}",
            self.error_log()
        );
    }

    fn error_log_path(&self) -> PathBuf {
        self.dir.path().join("logs/error.log")
    }

    fn stop(&mut self) {
        let _ = Command::new(NGINX)
            .arg("-c")
            .arg(self.conf_path())
            .args(["-s", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        // The pid file is gone once the master exits cleanly; fall back to the pid read at start.
        let Some(pid) = self.read_pid().or(self.pid) else {
            return;
        };
        let gone = wait_for(Duration::from_secs(10), || {
            (!process_alive(pid)).then_some(())
        });
        if gone.is_none() {
            if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                // The daemon called setsid(): its group is the master and its workers.
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
    }

    fn take_dir(mut self) -> TempDir {
        let placeholder = tempfile::tempdir().expect("placeholder temp dir");
        self.started = false;
        std::mem::replace(&mut self.dir, placeholder)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if self.started {
            self.stop();
        }
    }
}

/// True if `pid` exists and is not a zombie (an orphaned daemon may wait for a slow reaper).
pub fn process_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next())
            .is_some_and(|state| state != 'Z'),
        Err(_) => false,
    }
}

/// The workers of nginx master `master` that accept connections: a worker told to stop by
/// a reload is titled `... is shutting down` before it closes its listeners.
fn accepting_workers(master: u32) -> Vec<u32> {
    let mut workers = children(master);
    workers.retain(|pid| {
        let title = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let title = String::from_utf8_lossy(&title);
        title.contains("worker process") && !title.contains("shutting down")
    });
    workers
}

fn main_conf(prefix: &Path) -> String {
    let p = prefix.display();
    // As root the workers would otherwise run as `nobody` and could not read a 0700 temp dir.
    let user = if rustix::process::getuid().is_root() {
        "user root;\n"
    } else {
        ""
    };
    format!(
        "# certwright integration test nginx; everything lives under {p}
{user}worker_processes 1;
pid {p}/run/nginx.pid;
error_log {p}/logs/error.log notice;

events {{
    worker_connections 64;
}}

http {{
    access_log {p}/logs/access.log;
    client_body_temp_path {p}/temp/client_body;
    proxy_temp_path {p}/temp/proxy;
    fastcgi_temp_path {p}/temp/fastcgi;
    uwsgi_temp_path {p}/temp/uwsgi;
    scgi_temp_path {p}/temp/scgi;
    default_type application/octet-stream;

    include {p}/sites-enabled/*;
}}
"
    )
}
