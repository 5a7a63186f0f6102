//! `certwright daemon`: sleep until the earliest due time or the next check, renew under the
//! same lock as the CLI, write a status file, stop promptly on SIGTERM/SIGINT.
//!
//! A renewal interrupted by a signal is dropped mid-flight: nothing reaches `live/` until a
//! version is complete (write then rename), so the lineage ends all-old.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{watch, Notify};

use crate::cli::DaemonArgs;
use crate::error::{Error, InputError};
use crate::fsutil;
use crate::schedule::{self, CronSchedule, TwiceDaily};
use crate::store::{Store, StoreLock};

use super::certonly::rfc3339;
use super::plan::plan;
use super::renew::{renew_pass, LineageResult, RenewRequest};
use super::ui::Ui;
use super::{block_on, init_logging, Ctx};

pub fn run(ctx: &Ctx, args: DaemonArgs) -> Result<(), Error> {
    let cron = args
        .schedule
        .as_deref()
        .map(CronSchedule::parse)
        .transpose()
        .map_err(|e| InputError::Other(format!("--schedule: {e}")))?;
    if args
        .deploy_hook
        .as_deref()
        .is_some_and(|h| h.trim().is_empty())
    {
        return Err(InputError::Other("--deploy-hook is empty".into()).into());
    }
    if let Some(hook) = &args.deploy_hook {
        super::hooks::check_hook_location("--deploy-hook", hook)?;
    }
    let store = ctx.store();
    let prebound =
        super::privileges::bind_then_drop(ctx, &super::renew::lineage_ports(&store, &[]))?;
    store.prepare()?;
    init_logging(ctx);
    let status_file = args
        .status_file
        .clone()
        .unwrap_or_else(|| ctx.global.work_dir.join("status.json"));
    let request = RenewRequest {
        deploy_hook: args.deploy_hook.clone(),
        concurrency: usize::from(args.concurrency),
        prebound,
        ..RenewRequest::default()
    };
    block_on(daemon(
        &ctx.ui,
        &store,
        &request,
        cron,
        args.once,
        &status_file,
    ))?
}

async fn daemon(
    ui: &Ui,
    store: &Store,
    request: &RenewRequest,
    cron: Option<CronSchedule>,
    once: bool,
    status_file: &Path,
) -> Result<(), Error> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let wake = Arc::new(Notify::new());
    let mut term = signal(SignalKind::terminate()).map_err(signal_error)?;
    let mut int = signal(SignalKind::interrupt()).map_err(signal_error)?;
    let mut hup = signal(SignalKind::hangup()).map_err(signal_error)?;
    let signals = {
        let wake = wake.clone();
        async move {
            loop {
                tokio::select! {
                    _ = term.recv() => break,
                    _ = int.recv() => break,
                    // Lineages are re-read on every pass, so a reload is a pass now.
                    _ = hup.recv() => wake.notify_one(),
                }
            }
            let _ = stop_tx.send(true);
        }
    };
    let stopped = {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };

    if once {
        return tokio::select! {
            r = one_pass(ui, store, request, status_file, stop_rx.clone()) => {
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
        match &cron {
            Some(c) => format!("at \"{c}\" (UTC)"),
            None => "twice a day".into(),
        }
    ));
    let checks = TwiceDaily::random(&mut rand::rng());
    // The first pass runs at once; afterwards the earliest due time decides.
    let next_due: Rc<RefCell<Option<OffsetDateTime>>> =
        Rc::new(RefCell::new(Some(OffsetDateTime::UNIX_EPOCH)));
    let next_wakeup = {
        let next_due = next_due.clone();
        move |now: OffsetDateTime| {
            let check = match &cron {
                Some(c) => c.next_after(now),
                None => Some(checks.next_after(now)),
            };
            schedule::daemon::earliest((*next_due.borrow()).into_iter().chain(check))
                .unwrap_or_else(|| now + time::Duration::days(1))
        }
    };
    let on_wake = || {
        let next_due = next_due.clone();
        let stop = stop_rx.clone();
        async move {
            match one_pass(ui, store, request, status_file, stop).await {
                Ok(pass) => *next_due.borrow_mut() = pass.next_due,
                Err(e) => {
                    ui.warn(format!("renewal pass failed: {e}"));
                    *next_due.borrow_mut() = None;
                }
            }
        }
    };
    let looped = schedule::daemon::run(next_wakeup, on_wake, wake, stopped);
    tokio::select! {
        _ = looped => {}
        _ = signals => {}
    }
    ui.note("certwright daemon stopped");
    Ok(())
}

/// What one pass found.
#[derive(Debug, Default)]
struct Pass {
    /// The earliest next renewal time (`None`: nothing scheduled, or stopped).
    next_due: Option<OffsetDateTime>,
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
    mut stop: watch::Receiver<bool>,
) -> Result<Pass, Error> {
    let lock_path = store.config_dir().join(".certwright.lock");
    let _lock = loop {
        match StoreLock::acquire_with(&lock_path, false) {
            Ok(lock) => break lock,
            Err(Error::Locked { .. }) => {
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
    let entries = plan(ui, store, now)?;
    write_status(ui, status_file, &results, &entries, now);
    Ok(Pass {
        next_due: schedule::daemon::earliest(entries.iter().filter_map(|e| e.next_time)),
        failed: results.iter().filter(|r| r.failed()).count(),
        total: results.len(),
    })
}

fn write_status(
    ui: &Ui,
    path: &Path,
    results: &[LineageResult],
    entries: &[super::plan::PlanEntry],
    now: OffsetDateTime,
) {
    let status = serde_json::json!({
        "schema": 1,
        "pid": std::process::id(),
        "updated": rfc3339(now),
        "last_pass": results,
        "certificates": entries,
    });
    let text = serde_json::to_string_pretty(&status).unwrap_or_default() + "\n";
    if let Err(e) = fsutil::write_atomic(path, text.as_bytes(), 0o644) {
        ui.warn(format!("cannot write status file {}: {e}", path.display()));
    }
}

fn signal_error(e: std::io::Error) -> Error {
    Error::Config(format!("cannot install signal handlers: {e}"))
}
