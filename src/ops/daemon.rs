//! `certwright daemon`: sleep until the earliest due time or the next check, renew under the
//! same lock as the CLI, write a status file, stop promptly on SIGTERM/SIGINT.
//!
//! A renewal interrupted by a signal is dropped mid-flight: nothing reaches `live/` until a
//! version is complete (write then rename), so the lineage ends all-old.
//!
//! Each pass runs in a child process (`daemon --once --child-pass`), so the long-lived
//! process never maps in the TLS, ACME and X.509 code and its resident memory stays small
//! between passes. Only under `--user` with ports bound before the drop do passes run
//! in-process: an unprivileged child could not bind them again.

use std::cell::RefCell;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::{watch, Notify};

use crate::error::Error;
use crate::fsutil;
use crate::schedule::{self, CronSchedule, TwiceDaily};
use crate::store::{Store, StoreLock};

use crate::ops::deploy::alerts::{after_pass, send_outbox, AlertSettings};
use crate::ops::deploy::{pull_and_deploy, DeploySettings};
use crate::ops::fleet::Fleet;
use crate::ops::output::{rfc3339, Ui};
use crate::ops::privileges::{bind_error, bind_then_drop, ListenAt};
use crate::ops::renew::report::{plan, PlanEntry};
use crate::ops::renew::{lineage_ports, renew_pass, RenewRequest};
use crate::ops::solve::fleet_proxy::ChallengeProxy;
use crate::ops::Ctx;

/// The textfile `--metrics-listen` serves when no `--metrics-textfile` is given.
const METRICS_FILE: &str = "metrics.prom";

/// The daemon's flags, validated.
#[derive(Debug, Clone)]
pub(crate) struct DaemonRequest {
    pub cron: Option<CronSchedule>,
    /// One pass, then exit (`--once`, or a pass the daemon spawned: `--child-pass`).
    pub once: bool,
    pub child_pass: bool,
    pub status_file: Option<PathBuf>,
    pub deploy_hook: Option<String>,
    pub concurrency: usize,
    /// Fleet mode: where this daemon answers the fleet's challenges.
    pub http_01: Option<(Option<IpAddr>, u16)>,
    pub sync_interval: Duration,
    /// `--nginx`: the managed location passing challenges to the responder.
    pub proxy: Option<ChallengeProxy>,
    /// Alert targets and metrics textfile, used by every pass.
    pub alerts: AlertSettings,
    /// `--metrics-listen`: served by the long-lived daemon only (never by a pass).
    pub metrics_listen: Option<SocketAddr>,
    /// `--ca-bundle`: overrides each lineage's saved bundle.
    pub ca_bundle: Option<PathBuf>,
}

pub(crate) async fn run(ctx: &Ctx, req: DaemonRequest) -> Result<(), Error> {
    let fleet = Fleet::prepare(ctx.global.fleet.as_ref())?;
    if req.http_01.is_some() && fleet.is_none() {
        return Err(crate::error::InputError::Flag {
            flag: "daemon --http-01-port",
            problem: "serves the fleet's challenges: it needs --store".into(),
        }
        .into());
    }
    let store = ctx.store();
    let fleet_listeners = bind_fleet_port(&req)?;
    let prebound = bind_then_drop(&ctx.global, &ports_to_prebind(ctx, &store))?;
    let fleet = Fleet::check(fleet).await?;
    store.prepare()?;
    ctx.init_logging();
    if let Some(proxy) = &req.proxy {
        proxy.ensure(&ctx.ui, &store)?;
    }
    let status_file = req
        .status_file
        .clone()
        .unwrap_or_else(|| ctx.global.work_dir.join("status.json"));
    let one = req.once || req.child_pass;
    let in_process = one || !prebound.is_empty();
    // With --metrics-listen every pass writes the textfile the listener serves.
    let mut alerts = req.alerts.clone();
    if req.metrics_listen.is_some() && alerts.metrics_textfile.is_none() {
        alerts.metrics_textfile = Some(ctx.global.work_dir.join(METRICS_FILE));
    }
    let metrics = match (req.metrics_listen, &alerts.metrics_textfile, one) {
        (Some(addr), Some(path), false) => Some(bind_metrics(addr, path)?),
        _ => None,
    };
    let request = RenewRequest {
        deploy_hook: req.deploy_hook.clone(),
        concurrency: req.concurrency,
        prebound,
        fleet: fleet.clone(),
        alerts,
        ca_bundle: req.ca_bundle.clone(),
        ..RenewRequest::default()
    };
    let fleet_duty = fleet.filter(|_| !one).map(|fleet| FleetDuty {
        fleet,
        store: store.clone(),
        listeners: fleet_listeners,
        every: req.sync_interval,
        request: request.clone(),
    });
    let runner = match in_process {
        true => PassRunner::InProcess {
            store: &store,
            request: &request,
            reported_pid: match req.child_pass {
                true => std::os::unix::process::parent_id(),
                false => std::process::id(),
            },
        },
        false => PassRunner::Child,
    };
    let plan = Plan {
        runner: &runner,
        cron: req.cron.clone(),
        once: one,
        status_file: &status_file,
        metrics,
    };
    daemon(&ctx.ui, plan, fleet_duty).await
}

/// The metrics listener, bound before the first pass and before --user drops privileges;
/// it serves the textfile the passes write.
fn bind_metrics(addr: SocketAddr, path: &Path) -> Result<(std::net::TcpListener, PathBuf), Error> {
    let listener = std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| Error::Internal(format!("--metrics-listen {addr}: {e}")))?;
    Ok((listener, path.to_path_buf()))
}

/// The status file lists every lineage: about 1 KB each.
const MAX_STATUS_FILE: u64 = 64 << 20;

/// The metrics text `/metrics` answers with: read from the textfile once after each pass
/// (through `safe::file`: no symlink, no FIFO, bounded, ours), never per request, so
/// whoever owns the textfile's directory cannot make the listener read another file.
#[derive(Clone, Default)]
struct ServedMetrics(Arc<std::sync::RwLock<String>>);

/// 10,000 lineages write about 3 MB of metrics.
const MAX_METRICS_TEXT: u64 = 32 << 20;

impl ServedMetrics {
    fn refresh(&self, ui: &Ui, path: &Path) {
        use crate::safe::file::{read_text, Policy};
        match read_text(path, Policy::CONFIG.limited(MAX_METRICS_TEXT)) {
            Ok(text) => {
                let mut served = self.0.write().unwrap_or_else(PoisonError::into_inner);
                *served = text.unwrap_or_default();
            }
            Err(e) => ui.warn(format!("metrics textfile {}: {e}", path.display())),
        }
    }

    /// The listener to serve from, the textfile to refresh from, and what it holds now.
    fn start(
        ui: &Ui,
        metrics: Option<(std::net::TcpListener, PathBuf)>,
    ) -> (
        Option<std::net::TcpListener>,
        Option<PathBuf>,
        ServedMetrics,
    ) {
        let served = ServedMetrics::default();
        let Some((listener, path)) = metrics else {
            return (None, None, served);
        };
        served.refresh(ui, &path);
        (Some(listener), Some(path), served)
    }

    fn text(&self) -> String {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Serves `GET /metrics` from memory until the daemon stops.
async fn serve_metrics(
    listener: Option<std::net::TcpListener>,
    served: ServedMetrics,
) -> Result<(), Error> {
    let Some(listener) = listener else {
        return std::future::pending().await;
    };
    let listener = tokio::net::TcpListener::from_std(listener)
        .map_err(|e| Error::Internal(format!("metrics listener: {e}")))?;
    crate::metrics::serve(listener, move || served.text(), std::future::pending()).await;
    Ok(())
}

/// The fleet responder's port is the long-lived daemon's alone (a pass never binds it):
/// bound now, before the first pass could take the port and before --user drops the right.
fn bind_fleet_port(
    req: &DaemonRequest,
) -> Result<Option<(u16, Vec<std::net::TcpListener>)>, Error> {
    let Some((address, port)) = req.http_01.filter(|_| !req.child_pass && !req.once) else {
        return Ok(None);
    };
    crate::challenge::bind_std(address, port)
        .map(|l| Some((port, l)))
        .map_err(|e| bind_error(e, address, port))
}

/// How the daemon runs: pass runner, schedule, status file.
struct Plan<'a> {
    runner: &'a PassRunner<'a>,
    cron: Option<CronSchedule>,
    once: bool,
    status_file: &'a Path,
    metrics: Option<(std::net::TcpListener, PathBuf)>,
}

/// What a fleet node's daemon does besides renewing: answer the fleet's challenges on its
/// port, and install what other nodes renewed.
struct FleetDuty {
    fleet: Arc<Fleet>,
    store: Store,
    /// The port and its bound sockets.
    listeners: Option<(u16, Vec<std::net::TcpListener>)>,
    every: Duration,
    request: RenewRequest,
}

impl FleetDuty {
    /// Bind the responder (an error ends the daemon at start), then sync forever.
    async fn run(&self, ui: &Ui) -> Result<(), Error> {
        let responder = match &self.listeners {
            Some((port, bound)) => {
                let copies = bound
                    .iter()
                    .map(std::net::TcpListener::try_clone)
                    .collect::<Result<Vec<_>, _>>()
                    .and_then(crate::challenge::Standalone::from_std)
                    .map_err(|e| Error::Challenge(format!("port {port}: {e}")))?;
                let listener = copies;
                ui.note(format!(
                    "answering the fleet's HTTP-01 challenges on port {port}"
                ));
                Some(listener.serve(self.fleet.challenge_map()))
            }
            None => None,
        };
        {
            let _responder = responder;
            let lock_path = self.store.config_dir().join(".certwright.lock");
            loop {
                // A pass or a CLI run holds the local lock: this round is skipped, they
                // pull from the fleet themselves.
                if let Ok(_lock) = StoreLock::acquire_with(&lock_path, false) {
                    let settings = DeploySettings {
                        deploy_hook: self.request.deploy_hook.clone(),
                        dry_run: false,
                        hook_dirs_of: Some(self.store.config_dir().to_path_buf()),
                    };
                    if let Err(e) = pull_and_deploy(&self.fleet, ui, &self.store, &settings).await {
                        ui.warn(format!("fleet sync failed: {e}"));
                    }
                }
                tokio::time::sleep(self.every).await;
            }
        }
    }
}

/// The standalone ports to bind before dropping to `--user` (none without it: then the
/// daemon does not read the renewal configs at all, its passes do).
fn ports_to_prebind(ctx: &Ctx, store: &Store) -> Vec<ListenAt> {
    match ctx.global.user {
        Some(_) => lineage_ports(store, &[]),
        None => Vec::new(),
    }
}

/// How a pass is run: here, or in a child process that exits when done.
enum PassRunner<'a> {
    InProcess {
        store: &'a Store,
        request: &'a RenewRequest,
        /// The pid the status file names: the daemon's, also when this is its child.
        reported_pid: u32,
    },
    Child,
}

impl PassRunner<'_> {
    async fn pass(
        &self,
        ui: &Ui,
        status_file: &Path,
        stop: watch::Receiver<bool>,
    ) -> Result<Pass, Error> {
        match self {
            PassRunner::InProcess {
                store,
                request,
                reported_pid,
            } => one_pass(ui, store, request, status_file, *reported_pid, stop).await,
            PassRunner::Child => child_pass(status_file, stop).await,
        }
    }
}

async fn daemon(ui: &Ui, plan: Plan<'_>, fleet_duty: Option<FleetDuty>) -> Result<(), Error> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let wake = Arc::new(Notify::new());
    let signals = signals(stop_tx, wake.clone())?;
    let stopped = {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let (runner, status_file) = (plan.runner, plan.status_file);
    let (metrics_listener, metrics_path, served) = ServedMetrics::start(ui, plan.metrics);
    if plan.once {
        return tokio::select! {
            r = runner.pass(ui, status_file, stop_rx.clone()) => {
                let pass = r?;
                // Like `renew`: exit 1 when a renewal failed, so a oneshot unit or cron sees it.
                match pass.failed {
                    0 => Ok(()),
                    failed => Err(Error::SomeFailed { failed, total: pass.total }),
                }
            }
            _ = signals => Ok(()),
        };
    }
    ui.note(format!(
        "certwright daemon started (pid {}); checking {}",
        std::process::id(),
        match &plan.cron {
            Some(c) => format!("at \"{c}\" (UTC)"),
            None => "twice a day".into(),
        }
    ));
    // The first pass runs at once; afterwards the earliest due time decides.
    let next_due: Rc<RefCell<Option<OffsetDateTime>>> =
        Rc::new(RefCell::new(Some(OffsetDateTime::UNIX_EPOCH)));
    let next_wakeup = wakeup_schedule(plan.cron.clone(), next_due.clone());
    let on_wake = || {
        let next_due = next_due.clone();
        let stop = stop_rx.clone();
        let (served, metrics_path) = (served.clone(), metrics_path.clone());
        async move {
            let pass = runner.pass(ui, status_file, stop).await;
            if let Some(path) = &metrics_path {
                served.refresh(ui, path);
            }
            match pass {
                Ok(pass) => {
                    *next_due.borrow_mut() =
                        schedule::daemon::earliest(pass.next_due.into_iter().chain(pass.next_ari))
                }
                Err(e) => {
                    ui.warn(format!("renewal pass failed: {e}"));
                    *next_due.borrow_mut() = None;
                }
            }
        }
    };
    let looped = schedule::daemon::run(next_wakeup, on_wake, wake, stopped);
    let fleet_loop = async {
        match &fleet_duty {
            Some(duty) => duty.run(ui).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = looped => {}
        _ = signals => {}
        r = fleet_loop => r?,
        r = serve_metrics(metrics_listener, served.clone()) => r?,
    }
    ui.note("certwright daemon stopped");
    Ok(())
}

/// SIGTERM and SIGINT stop the daemon; SIGHUP wakes it for a pass (lineages are re-read
/// on every pass, so a reload is a pass now).
fn signals(
    stop_tx: watch::Sender<bool>,
    wake: Arc<Notify>,
) -> Result<impl std::future::Future<Output = ()>, Error> {
    let listen = |kind: SignalKind| -> Result<Signal, Error> {
        signal(kind).map_err(|e| Error::Internal(format!("cannot install signal handlers: {e}")))
    };
    let (mut term, mut int) = (
        listen(SignalKind::terminate())?,
        listen(SignalKind::interrupt())?,
    );
    let mut hup = listen(SignalKind::hangup())?;
    Ok(async move {
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => wake.notify_one(),
            }
        }
        let _ = stop_tx.send(true);
    })
}

/// When to wake next: the earliest due time or ARI re-check, or the next scheduled check
/// (twice a day at random minutes, or `--schedule`), at the latest 12 hours from now: ARI is
/// polled at least twice a day whatever `--schedule` says.
fn wakeup_schedule(
    cron: Option<CronSchedule>,
    next_due: Rc<RefCell<Option<OffsetDateTime>>>,
) -> impl Fn(OffsetDateTime) -> OffsetDateTime {
    let checks = TwiceDaily::random(&mut rand::rng());
    move |now: OffsetDateTime| {
        let check = match &cron {
            Some(c) => c.next_after(now),
            None => Some(checks.next_after(now)),
        };
        let at_least = now + schedule::ari::ARI_MAX_RECHECK;
        let next = (*next_due.borrow()).into_iter().chain(check);
        schedule::daemon::earliest(next.chain([at_least])).unwrap_or(at_least)
    }
}

/// What one pass found.
#[derive(Debug, Default)]
struct Pass {
    /// The earliest next renewal time (`None`: nothing scheduled, or stopped).
    next_due: Option<OffsetDateTime>,
    /// The earliest time a CA may be asked about a lineage's ARI window again.
    next_ari: Option<OffsetDateTime>,
    failed: usize,
    total: usize,
}

/// Wait for the lock, renew what is due (abandoned on stop), write the status file, and
/// return the earliest next renewal time with the pass's failure count.
async fn one_pass(
    ui: &Ui,
    store: &Store,
    request: &RenewRequest,
    status_file: &Path,
    reported_pid: u32,
    mut stop: watch::Receiver<bool>,
) -> Result<Pass, Error> {
    let mut told = false;
    // `Store::lock`, as every CLI run: holding it, leftovers of a killed run are removed.
    let _lock = loop {
        match store.lock() {
            Ok(lock) => break lock,
            Err(Error::Locked { pid, .. }) => {
                if !told {
                    ui.note(format!(
                        "waiting for another certwright run (pid {pid}) to finish before renewing"
                    ));
                    told = true;
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = stop.wait_for(|s| *s) => return Ok(Pass::default()),
                }
            }
            Err(e) => return Err(e),
        }
    };
    let results = tokio::select! {
        r = renew_pass(ui, store, request, OffsetDateTime::now_utc()) => r?,
        _ = stop.wait_for(|s| *s) => return Ok(Pass::default()),
    };
    let now = OffsetDateTime::now_utc();
    let (_, outbox) = after_pass(ui, store, &request.alerts, &results, now).await;
    let entries = plan(ui, store, now)?;
    let next_due = schedule::daemon::earliest(entries.iter().filter_map(|e| e.next_time));
    let next_ari = next_ari_check(&entries, now);
    let status = serde_json::json!({
        "schema": 1,
        "pid": reported_pid,
        "updated": rfc3339(now),
        "next_due": next_due.map(rfc3339),
        "next_ari_check": next_ari.map(rfc3339),
        "last_pass": results,
        "certificates": entries,
    });
    let text = serde_json::to_string_pretty(&status).unwrap_or_default() + "\n";
    if let Err(e) = fsutil::write_atomic(status_file, text.as_bytes(), 0o644) {
        ui.warn(format!(
            "cannot write status file {}: {e}",
            status_file.display()
        ));
    }
    drop(_lock);
    send_outbox(ui, store, &request.alerts, outbox).await;
    Ok(Pass {
        next_due,
        next_ari,
        failed: results.iter().filter(|r| r.failed()).count(),
        total: results.len(),
    })
}

/// The earliest ARI re-check; one already past (the CA could not be asked this pass) counts
/// as 10 minutes from now, so an unreachable CA is not asked on every pass.
fn next_ari_check(entries: &[PlanEntry], now: OffsetDateTime) -> Option<OffsetDateTime> {
    let floor =
        now + crate::ops::renew::ari::recheck_override().unwrap_or(time::Duration::minutes(10));
    let times = entries.iter().filter_map(|e| e.ari_next_time);
    schedule::daemon::earliest(times.map(|t| if t <= now { floor } else { t }))
}

/// Run one pass as `certwright <same arguments> --child-pass` and read the next due time
/// back from the status file it wrote. The child reports its own results and errors on the
/// shared stderr; on stop it gets SIGTERM (it abandons the pass, leaving lineages all-old).
async fn child_pass(status_file: &Path, mut stop: watch::Receiver<bool>) -> Result<Pass, Error> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::Internal(format!("cannot find certwright's own binary: {e}")))?;
    let before = std::fs::metadata(status_file)
        .and_then(|m| m.modified())
        .ok();
    let mut child = tokio::process::Command::new(&exe)
        .args(std::env::args_os().skip(1))
        .arg("--child-pass")
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            Error::Internal(format!(
                "cannot start a renewal pass ({}): {e}",
                exe.display()
            ))
        })?;
    let status = tokio::select! {
        s = child.wait() => s,
        _ = stop.wait_for(|s| *s) => {
            if let Some(pid) = child.id().and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
            if tokio::time::timeout(Duration::from_secs(10), child.wait()).await.is_err() {
                let _ = child.kill().await;
            }
            return Ok(Pass::default());
        }
    }
    .map_err(|e| Error::Internal(format!("renewal pass: {e}")))?;
    // Exit 1 is "some renewals failed", already reported by the child; the schedule it
    // wrote still holds. Anything else means the pass itself did not run to the end.
    if !status.success() && status.code() != Some(1) {
        return Err(Error::Internal(format!("renewal pass ended with {status}")));
    }
    let fresh = std::fs::metadata(status_file)
        .and_then(|m| m.modified())
        .ok();
    if fresh.is_none() || fresh == before {
        return Err(Error::Internal(format!(
            "renewal pass wrote no status file at {}",
            status_file.display()
        )));
    }
    /// Only the one field: the rest (a large document with many lineages) is skipped
    /// without being built, so the idle daemon keeps no trace of it.
    #[derive(serde::Deserialize)]
    struct NextDue {
        next_due: Option<String>,
        next_ari_check: Option<String>,
    }
    let times = crate::safe::file::read(
        status_file,
        crate::safe::file::Policy::CONFIG.limited(MAX_STATUS_FILE),
    )
    .ok()
    .flatten()
    .and_then(|b| serde_json::from_slice::<NextDue>(&b).ok());
    let parse = |t: Option<String>| {
        OffsetDateTime::parse(&t?, &time::format_description::well_known::Rfc3339).ok()
    };
    let (next_due, next_ari) = match times {
        Some(t) => (parse(t.next_due), parse(t.next_ari_check)),
        None => (None, None),
    };
    Ok(Pass {
        next_due,
        next_ari,
        failed: usize::from(status.code() == Some(1)),
        total: 0,
    })
}
