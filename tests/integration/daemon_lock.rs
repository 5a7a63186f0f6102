//! `certwright daemon` and CLI runs on one store: the run lock serialises them, so they never
//! both renew a lineage nor both listen on its HTTP-01 port.
//!
//! Pebble's HTTP-01 probes go to a `GatedProxy` in front of the port the lineage's standalone
//! responder binds: when a probe arrives, whichever run sent the order is mid-issuance and
//! holds the lock until the test opens the gate. Pebble gives up on a held probe after some
//! seconds (the run then fails), so only quick checks happen while the gate is closed.
//!
//! The daemon may run a pass in a child process, so a lock holder or listener counts as the
//! daemon's when it is the daemon or one of its descendants.

use std::collections::BTreeSet;
use std::mem::MaybeUninit;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::fs::inotify;
use rustix::process::{kill_process, Pid, Signal};
use serde_json::Value;

use crate::renew::{assert_status, entry, rfc3339};
use crate::support::certs::{make_due, Lineage};
use crate::support::cli::{Output, Running};
use crate::support::proxy::GatedProxy;
use crate::support::rig::Rig;
use crate::support::{free_port, read_lossy, wait_for, Env, Snapshot};

/// Bound on waiting for Pebble's first probe, or for a pass to finish: far above normal.
const ISSUANCE_LIMIT: Duration = Duration::from_secs(120);
/// Bound on a daemon's exit after SIGTERM ("promptly").
const DAEMON_STOP_LIMIT: Duration = Duration::from_secs(10);
/// Bound on the daemon reaching for the lock after SIGHUP.
const WAKE_LIMIT: Duration = Duration::from_secs(30);
/// A schedule that does not fire during a test: passes run at start, when due, or on SIGHUP.
const RARE_SCHEDULE: &str = "0 0 1 1 *";
const NAME: &str = "d.example.com";

/// The shared rig, whose Pebble probes its HTTP-01 port; lineages answer on
/// `responder_port`, behind a proxy on Pebble's port.
struct DaemonRig {
    rig: Rig,
    responder_port: u16,
}

impl Deref for DaemonRig {
    type Target = Rig;

    fn deref(&self) -> &Rig {
        &self.rig
    }
}

impl DaemonRig {
    fn new() -> DaemonRig {
        DaemonRig {
            rig: Rig::new(),
            responder_port: free_port(),
        }
    }

    /// A closed relay from Pebble's HTTP-01 port to the responder port. Retries while a
    /// dropped relay still lets go of the port.
    fn gate(&self) -> GatedProxy {
        wait_for(Duration::from_secs(10), || {
            GatedProxy::start(self.pebble.http_port(), self.responder_port).ok()
        })
        .unwrap_or_else(|| {
            panic!(
                "cannot listen on Pebble's HTTP-01 port {}",
                self.pebble.http_port()
            )
        })
    }

    /// `certonly --standalone` for `name` on the responder port, through an open relay.
    fn issue(&self, name: &str) {
        let relay = self.gate();
        relay.open();
        self.certonly(name).run().assert_success();
        assert_eq!(self.env.live_version(name), 1);
    }

    fn certonly(&self, name: &str) -> crate::support::Cli {
        self.env
            .cli()
            .args(["certonly", "--standalone", "--http-01-address", "127.0.0.1"])
            .args(["--http-01-port", &self.responder_port.to_string()])
            .args(["--cert-name", name, "-d", name])
            .args(self.env.flags(&self.pebble))
    }

    fn renew(&self) -> crate::support::Cli {
        self.env.renew_cli(&[])
    }

    fn daemon(&self, status: &Path) -> Running {
        self.env
            .cli()
            .args(["daemon", "--schedule", RARE_SCHEDULE, "--status-file"])
            .arg(status)
            .args(self.env.dir_flags())
            .spawn()
    }

    fn status_path(&self) -> PathBuf {
        self.env.root().join("status.json")
    }

    fn lock_path(&self) -> PathBuf {
        self.env.config_dir().join(".certwright.lock")
    }

    /// The pid holding the lock file's flock, from the kernel's `/proc/locks` (certwright
    /// writes nothing into the file).
    fn lock_file_pid(&self) -> u32 {
        use std::os::unix::fs::MetadataExt;
        let ino = std::fs::metadata(self.lock_path())
            .expect("stat the lock file")
            .ino();
        let suffix = format!(":{ino}");
        let locks = read_lossy(Path::new("/proc/locks"));
        locks
            .lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                match f.as_slice() {
                    [_, "FLOCK", _, _, pid, file, ..] if file.ends_with(&suffix) => {
                        pid.parse().ok()
                    }
                    _ => None,
                }
            })
            .unwrap_or_else(|| panic!("no flock on the lock file in /proc/locks:\n{locks}"))
    }
}

/// Blocks until `proxy` holds a probe, i.e. `run` is mid-issuance; panics if `run` ends first.
fn wait_for_probe(proxy: &GatedProxy, run: Running, who: &str) -> Running {
    probe_or_output(proxy, run)
        .unwrap_or_else(|out| panic!("{who} never got a validation probe\n{out}"))
}

/// `run` once `proxy` holds its probe, or its output if it ended without one.
fn probe_or_output(proxy: &GatedProxy, mut run: Running) -> Result<Running, Output> {
    let arrived = wait_for(ISSUANCE_LIMIT, || {
        if proxy.wait_for_connection(Duration::from_millis(200)) {
            Some(true)
        } else {
            run.has_exited().then_some(false)
        }
    });
    match arrived {
        Some(true) => Ok(run),
        _ => Err(run.wait_or_kill()),
    }
}

/// `pid` is `ancestor` or a descendant of it (walking parent pids in /proc).
fn is_self_or_descendant(pid: u32, ancestor: u32) -> bool {
    let mut current = pid;
    for _ in 0..64 {
        if current == ancestor {
            return true;
        }
        match parent_pid(current) {
            Some(parent) if parent > 1 => current = parent,
            _ => return false,
        }
    }
    false
}

fn parent_pid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    let (_, rest) = stat.rsplit_once(") ")?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Pids of the processes with a listening TCP socket on `port` (from /proc, any address).
fn listening_pids(port: u16) -> BTreeSet<u32> {
    let suffix = format!(":{port:04X}");
    let mut sockets = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in read_lossy(Path::new(table)).lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // local_address, state (0A = LISTEN), inode.
            if cols.len() > 9 && cols[1].ends_with(&suffix) && cols[3] == "0A" {
                sockets.push(format!("socket:[{}]", cols[9]));
            }
        }
    }
    let mut pids = BTreeSet::new();
    if sockets.is_empty() {
        return pids;
    }
    for proc_entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Some(pid) = proc_entry.file_name().to_str().and_then(|p| p.parse().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(proc_entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                if sockets.iter().any(|s| target.as_os_str() == s.as_str()) {
                    pids.insert(pid);
                }
            }
        }
    }
    pids
}

/// Checks a run refused because `holder_ok(pid)` holds the lock: exit 4, the lock's message
/// naming that pid, and nothing done (no renewal attempted, no report).
fn assert_refused(out: &Output, lock: &Path, holder_ok: impl Fn(u32) -> bool) {
    out.assert_code(4);
    let expected_tail = format!(") holds the lock on {}", lock.display());
    let pid = out
        .stderr
        .split_once("another certwright run (pid ")
        .and_then(|(_, rest)| rest.split_once(&expected_tail))
        .and_then(|(pid, _)| pid.parse::<u32>().ok())
        .unwrap_or_else(|| panic!("no lock message naming a pid\n{out}"));
    assert!(holder_ok(pid), "the message names pid {pid}\n{out}");
    assert!(
        out.stdout.trim().is_empty(),
        "a refused run reported\n{out}"
    );
    for attempt in ["Renewing", "cannot listen", "address already in use"] {
        assert!(!out.stderr.contains(attempt), "{attempt:?}\n{out}");
    }
}

/// Counts opens of one file (inotify), and sees a process blocked in `flock` on it.
struct LockWatch {
    fd: rustix::fd::OwnedFd,
    inode: u64,
    opens: usize,
}

impl LockWatch {
    fn new(path: &Path) -> LockWatch {
        use std::os::unix::fs::MetadataExt;
        let fd = inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC)
            .expect("inotify_init1");
        inotify::add_watch(&fd, path, inotify::WatchFlags::OPEN).expect("watch the lock file");
        let inode = std::fs::metadata(path).expect("stat the lock file").ino();
        LockWatch {
            fd,
            inode,
            opens: 0,
        }
    }

    /// True once someone has certainly tried to take the lock since the watch began: opened
    /// the file twice (a poller refused once), or is blocked waiting (a `->` in /proc/locks).
    fn tried(&mut self) -> bool {
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        let mut events = inotify::Reader::new(&self.fd, &mut buf);
        loop {
            match events.next() {
                Ok(e) if e.events().contains(inotify::ReadFlags::OPEN) => self.opens += 1,
                Ok(_) => {}
                Err(rustix::io::Errno::AGAIN) => break,
                Err(e) => panic!("read inotify events: {e}"),
            }
        }
        let inode = format!(":{} ", self.inode);
        let blocked = read_lossy(Path::new("/proc/locks"))
            .lines()
            .any(|l| l.contains("->") && l.contains(&inode));
        self.opens >= 2 || blocked
    }
}

fn signal(run: &Running, signal: Signal) {
    let pid = Pid::from_raw(run.pid() as i32).expect("pid");
    kill_process(pid, signal).expect("signal the daemon");
}

/// SIGTERM, then the daemon's output once it has exited 0.
fn stop(mut daemon: Running) -> Output {
    signal(&daemon, Signal::TERM);
    if wait_for(DAEMON_STOP_LIMIT, || daemon.has_exited().then_some(())).is_none() {
        panic!(
            "daemon still running {DAEMON_STOP_LIMIT:?} after SIGTERM\n{}",
            daemon.wait_or_kill()
        );
    }
    let out = daemon.wait();
    out.assert_success();
    assert!(out.stderr.contains("certwright daemon stopped"), "{out}");
    out
}

fn read_status(path: &Path) -> Value {
    serde_json::from_str(&read_lossy(path))
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The `last_pass` entry for `name` in a status file.
fn last_pass(status: &Value, name: &str) -> Value {
    entry(
        &serde_json::json!({ "certificates": status["last_pass"] }),
        name,
    )
    .clone()
}

/// Sorted version directories of `archive/<name>`.
fn archive_versions(env: &Env, name: &str) -> Vec<u32> {
    let mut versions: Vec<u32> = std::fs::read_dir(env.archive(name))
        .expect("read archive")
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|v| v.parse().ok()))
        .collect();
    versions.sort_unstable();
    versions
}

/// While the daemon's renewal waits on a held probe, `renew` and `certonly` on the same store
/// (both wanting the port the daemon listens on) are refused with exit 4 before binding it;
/// then the daemon's renewal completes and it stops cleanly.
#[test]
fn cli_runs_are_refused_while_the_daemon_renews() {
    let rig = DaemonRig::new();
    rig.issue(NAME);
    make_due(&rig.env.live(NAME));
    let old_cert = Lineage::at(rig.env.live(NAME)).cert_pem();
    let proxy = rig.gate();
    let status = rig.status_path();
    let mut daemon = wait_for_probe(&proxy, rig.daemon(&status), "the daemon's renewal");
    let daemon_pid = daemon.pid();

    // Mid-pass: the daemon (or its pass's child) holds the lock and the responder port.
    let holder = rig.lock_file_pid();
    assert!(
        is_self_or_descendant(holder, daemon_pid),
        "lock held by pid {holder}, not daemon {daemon_pid} or its child"
    );
    let listeners = listening_pids(rig.responder_port);
    assert!(
        !listeners.is_empty()
            && listeners
                .iter()
                .all(|&p| is_self_or_descendant(p, daemon_pid)),
        "port {} listeners {listeners:?}, daemon {daemon_pid}",
        rig.responder_port
    );
    let config = Snapshot::of(&rig.env.config_dir());

    // Both want the responder port: one that bound before taking the lock would fail
    // with "address already in use" (exit 1), not 4.
    let daemons = |pid| is_self_or_descendant(pid, daemon_pid);
    let renew = rig.renew().run();
    assert_refused(&renew, &rig.lock_path(), daemons);
    let other = "other.example.com";
    let certonly = rig.certonly(other).run();
    assert_refused(&certonly, &rig.lock_path(), daemons);
    config.assert_unchanged(
        &Snapshot::of(&rig.env.config_dir()),
        "config after the refused runs",
    );
    assert_eq!(
        listening_pids(rig.responder_port),
        listeners,
        "port listeners"
    );
    assert!(!status.exists(), "the daemon's pass finished while gated");

    proxy.open();
    let renewed = wait_for(ISSUANCE_LIMIT, || {
        let done = status.exists() && rig.env.live_version(NAME) == 2;
        (done || daemon.has_exited()).then_some(done)
    });
    if renewed != Some(true) {
        panic!("the daemon did not renew\n{}", daemon.wait_or_kill());
    }
    let live = Lineage::at(rig.env.live(NAME));
    assert_ne!(live.cert_pem(), old_cert);
    live.assert_valid_for(&[NAME], &rig.pebble.root_pem_path());
    assert_status(&status, NAME, live.leaf().not_after(), &"daemon status");
    assert_eq!(archive_versions(&rig.env, NAME), [1, 2]);
    assert!(!rig.env.live(other).exists() && !rig.env.renewal_conf(other).exists());

    // The pass let go of the port and the lock: a CLI run now works (nothing is due).
    let freed = wait_for(Duration::from_secs(10), || {
        listening_pids(rig.responder_port).is_empty().then_some(())
    });
    assert!(freed.is_some(), "the daemon still listens after its pass");
    let after = rig.renew().run();
    after.assert_success();
    assert!(
        after.stdout.contains(&format!("{NAME}: not due")),
        "{after}"
    );

    let out = stop(daemon);
    assert!(out.stderr.contains(&format!("Renewing {NAME}")), "{out}");
}

/// A daemon (first pass done, nothing due) and a CLI `renew` of the now-due lineage, held
/// mid-issuance; returns them once the daemon has been woken with SIGHUP and is reaching for
/// the lock, with the status file's contents from the daemon's first pass.
struct DaemonBehindCli {
    rig: DaemonRig,
    proxy: GatedProxy,
    daemon: Running,
    cli: Running,
    first_status: String,
}

impl DaemonBehindCli {
    fn start() -> DaemonBehindCli {
        let rig = DaemonRig::new();
        rig.issue(NAME);
        let status = rig.status_path();
        let mut daemon = rig.daemon(&status);
        let first = wait_for(ISSUANCE_LIMIT, || {
            (status.exists() || daemon.has_exited()).then(|| status.exists())
        });
        if first != Some(true) {
            panic!("no first pass\n{}", daemon.wait_or_kill());
        }
        let first_status = read_lossy(&status);
        let first = read_status(&status);
        assert_eq!(last_pass(&first, NAME)["result"], "not_due", "{first}");

        make_due(&rig.env.live(NAME));
        rig.pebble.forget_authorizations(&rig.env.config_dir());
        let proxy = rig.gate();
        let cli = probe_or_output(&proxy, rig.renew().spawn())
            .unwrap_or_else(|out| panic!("the CLI renewal never got a validation probe\n{out}"));
        assert_eq!(rig.lock_file_pid(), cli.pid(), "lock holder");
        let cli_only = BTreeSet::from([cli.pid()]);
        assert_eq!(listening_pids(rig.responder_port), cli_only);

        let mut watch = LockWatch::new(&rig.lock_path());
        signal(&daemon, Signal::HUP);
        // Stop waiting early on anything a daemon that did not wait would do.
        let tried = wait_for(WAKE_LIMIT, || {
            let tried = watch.tried();
            let acted = daemon.has_exited()
                || read_lossy(&status) != first_status
                || listening_pids(rig.responder_port) != cli_only;
            (tried || acted).then_some(tried)
        });
        // Waiting: it has not finished (or failed) a pass, nor taken the port.
        assert_eq!(read_lossy(&status), first_status, "the status file changed");
        if tried != Some(true) || daemon.has_exited() {
            panic!(
                "the daemon did not keep trying for the lock after SIGHUP\n{}",
                daemon.wait_or_kill()
            );
        }
        assert_eq!(
            listening_pids(rig.responder_port),
            cli_only,
            "port listeners"
        );
        DaemonBehindCli {
            rig,
            proxy,
            daemon,
            cli,
            first_status,
        }
    }
}

/// The daemon woken while a CLI renewal holds the lock waits for it (without binding the
/// port), then runs its pass, which finds the lineage renewed and does not issue again.
#[test]
fn daemon_waits_for_a_cli_renewal_and_does_not_renew_again() {
    let DaemonBehindCli {
        rig,
        proxy,
        mut daemon,
        cli,
        first_status,
    } = DaemonBehindCli::start();
    let status = rig.status_path();

    proxy.open();
    let cli = cli.wait();
    cli.assert_success();
    assert!(
        cli.stdout
            .contains(&format!("{NAME}: renewed (version 2, ")),
        "{cli}"
    );
    let passed = wait_for(ISSUANCE_LIMIT, || {
        let changed = read_lossy(&status) != first_status;
        (changed || daemon.has_exited()).then_some(changed)
    });
    if passed != Some(true) {
        panic!(
            "the daemon's woken pass did not finish\n{}",
            daemon.wait_or_kill()
        );
    }
    let pass = read_status(&status);
    assert_eq!(last_pass(&pass, NAME)["result"], "not_due", "{pass}");
    let live = Lineage::at(rig.env.live(NAME));
    live.assert_valid_for(&[NAME], &rig.pebble.root_pem_path());
    assert_eq!(
        rfc3339(&entry(&pass, NAME)["not_after"]).unix_timestamp(),
        live.leaf().not_after().unix_timestamp(),
        "the pass saw the CLI's certificate\n{pass}"
    );
    assert_eq!(archive_versions(&rig.env, NAME), [1, 2], "one new version");
    assert_eq!(rig.env.live_version(NAME), 2);

    let out = stop(daemon);
    for wrong in ["Renewing", "renewal pass failed", "cannot listen"] {
        assert!(!out.stderr.contains(wrong), "{wrong:?}\n{out}");
    }
}

/// A daemon waiting for the lock still stops promptly, with exit 0, on SIGTERM; the CLI
/// run holding the lock is unaffected.
#[test]
fn daemon_waiting_for_the_lock_stops_on_sigterm() {
    let DaemonBehindCli {
        rig,
        proxy,
        daemon,
        cli,
        first_status,
    } = DaemonBehindCli::start();
    let cli_pid = cli.pid();

    let out = stop(daemon);
    assert!(!out.stderr.contains("Renewing"), "{out}");
    assert_eq!(
        rig.lock_file_pid(),
        cli_pid,
        "lock holder after the daemon left"
    );
    assert_eq!(read_lossy(&rig.status_path()), first_status);

    proxy.open();
    let cli = cli.wait();
    cli.assert_success();
    assert_eq!(rig.env.live_version(NAME), 2, "{cli}");
    assert_eq!(archive_versions(&rig.env, NAME), [1, 2]);
}
