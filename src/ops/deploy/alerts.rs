//! After a renewal pass: alerts (through `notify`, throttled by its persisted
//! `AlertState`) and the metrics textfile (through `metrics`). Nothing here can fail the
//! pass: a target that is down is a warning, and its alert stays due for the next run.
//!
//! State in the work directory: `alerts.json` (the throttle) and `metrics-counters.json`
//! (renewal counters, which must survive between cron runs).

use std::path::PathBuf;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use time::OffsetDateTime;

use crate::error::{AcmeError, Error, Problem};
use crate::metrics::{self, LineageMetrics, RenewalCounters, Snapshot};
use crate::notify::throttle::{near_expiry, AlertState};
use crate::notify::{self, Delivery, Event, EventKind, Target};
use crate::store::Store;
use crate::types::CertName;
use crate::verify::RetryOpts;

use crate::ops::deploy::served::{check_lineage, ServedReport};
use crate::ops::output::Ui;
use crate::ops::renew::lineage::{load_lineage, Lineage};
use crate::ops::renew::state::{LineageState, ServedState};
use crate::ops::renew::{LineageResult, Outcome};

const ALERT_STATE: &str = "alerts.json";
const COUNTERS: &str = "metrics-counters.json";

/// Where alerts and metrics go (from `--notify-*`, `--failure-hook`, `--metrics-textfile`).
#[derive(Debug, Clone)]
pub(crate) struct AlertSettings {
    pub targets: Vec<Target>,
    pub metrics_textfile: Option<PathBuf>,
    /// Per target and event.
    pub timeout: Duration,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            targets: Vec::new(),
            metrics_textfile: None,
            timeout: notify::DEFAULT_TIMEOUT,
        }
    }
}

impl AlertSettings {
    pub(crate) fn is_empty(&self) -> bool {
        self.targets.is_empty() && self.metrics_textfile.is_none()
    }
}

/// Records the pass's outcomes and writes the metrics textfile, under the run lock. Every
/// lineage renewed into nginx is checked, alerts or not. Returns how many nginx does not
/// serve (the caller's exit 1) and the alerts now due, to be sent by `send_outbox` once the
/// lock is released.
pub(crate) async fn after_pass(
    ui: &Ui,
    store: &Store,
    settings: &AlertSettings,
    results: &[LineageResult],
    now: OffsetDateTime,
) -> (usize, Outbox) {
    if settings.is_empty() {
        return (
            check_renewed(ui, store, results, now).await,
            Outbox::default(),
        );
    }
    let mut not_served = 0;
    let mut alerts: AlertState = load_json(ui, store, ALERT_STATE);
    let mut counters: RenewalCounters = load_json(ui, store, COUNTERS);
    let mut lineages = Vec::new();
    let mut pending = Vec::new();
    for result in results {
        match &result.outcome {
            Outcome::Failed { .. } => {
                alerts.record_failure(&result.name, now);
                counters.record(&result.name, false);
            }
            Outcome::Renewed { .. } => {
                alerts.record_success(&result.name);
                counters.record(&result.name, true);
            }
            _ => {}
        }
        let reloaded: Option<Lineage>;
        let lineage = match &result.unchanged {
            Some(kept) => Some(&*kept.0),
            None => {
                reloaded = result
                    .name
                    .parse::<CertName>()
                    .ok()
                    .and_then(|name| load_lineage(ui, store, &name, false, now).ok());
                reloaded.as_ref()
            }
        };
        let served = match (&lineage, &result.outcome) {
            (Some(l), Outcome::Renewed { .. } | Outcome::Synced { .. }) => {
                served_check(ui, store, l).await
            }
            _ => None,
        };
        if let Some(l) = &lineage {
            set_conditions(&mut alerts, l, result.ari_window_passed, now);
            let mut m = lineage_metrics(l);
            if let Some(report) = &served {
                m.served_match = report.all_match();
                let mismatch = report.mismatched() > 0;
                not_served += usize::from(mismatch);
                alerts.set_condition(&result.name, EventKind::ServedMismatch, mismatch);
            }
            lineages.push(m);
        }
        pending.extend(due_events(
            settings,
            &alerts,
            (&result.name, result.error(), result.fallback_ca()),
            lineage,
            served.as_ref(),
            now,
        ));
    }
    // Entries of deleted lineages go; those of lineages this run did not select stay.
    let names: std::collections::HashSet<String> = match store.list_lineages() {
        Ok((names, _)) => names.iter().map(|n| n.to_string()).collect(),
        Err(_) => results.iter().map(|r| r.name.clone()).collect(),
    };
    alerts.retain(|name| names.contains(name));
    save_json(ui, store, ALERT_STATE, &alerts);
    save_json(ui, store, COUNTERS, &counters);
    write_metrics(ui, settings, lineages, counters, now);
    (not_served, Outbox { pending, now })
}

/// With no alert target or metrics file: only the served check of each lineage the pass
/// renewed (or installed from the fleet); how many nginx does not serve.
async fn check_renewed(
    ui: &Ui,
    store: &Store,
    results: &[LineageResult],
    now: OffsetDateTime,
) -> usize {
    let mut not_served = 0;
    for result in results {
        if !matches!(
            result.outcome,
            Outcome::Renewed { .. } | Outcome::Synced { .. }
        ) {
            continue;
        }
        let Ok(name) = result.name.parse::<CertName>() else {
            continue;
        };
        let Ok(lineage) = load_lineage(ui, store, &name, false, now) else {
            continue;
        };
        if let Some(report) = served_check(ui, store, &lineage).await {
            not_served += usize::from(report.mismatched() > 0);
        }
    }
    not_served
}

/// Alerts a pass found due, not sent yet.
pub(crate) struct Outbox {
    pending: Vec<(String, EventKind, Event)>,
    now: OffsetDateTime,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            pending: Vec::new(),
            now: OffsetDateTime::UNIX_EPOCH,
        }
    }
}

/// Sends what `after_pass` found due, outside the run lock (a dead receiver never holds up
/// another run), then takes the lock again briefly to record what was delivered; if another
/// run holds it, the delivered alerts stay due and may be sent once more.
pub(crate) async fn send_outbox(ui: &Ui, store: &Store, settings: &AlertSettings, outbox: Outbox) {
    if outbox.pending.is_empty() {
        return;
    }
    let sent = send_pending(ui, settings, outbox.pending).await;
    let Ok(_lock) = store.lock() else {
        ui.warn("another run holds the lock: delivered alerts are not recorded and may repeat");
        return;
    };
    let mut alerts: AlertState = load_json(ui, store, ALERT_STATE);
    for (name, kind) in sent {
        alerts.mark_sent(&name, kind, outbox.now);
    }
    save_json(ui, store, ALERT_STATE, &alerts);
}

/// The alerts now due for one lineage, as `(lineage, kind, event)`.
fn due_events(
    settings: &AlertSettings,
    alerts: &AlertState,
    (name, error, fallback_ca): (&str, Option<&Error>, Option<&str>),
    lineage: Option<&Lineage>,
    served: Option<&ServedReport>,
    now: OffsetDateTime,
) -> Vec<(String, EventKind, Event)> {
    if settings.targets.is_empty() {
        return Vec::new();
    }
    let host = host_name();
    let mut out = Vec::new();
    for kind in alerts.due(name, now) {
        let mut event = event_for(kind, &host, (name, error), lineage, now);
        if kind == EventKind::ServedMismatch {
            event.mismatches = served.map(ServedReport::mismatches).unwrap_or_default();
        }
        if let Some(ca) = fallback_ca {
            event.ca = Some(ca.to_string());
        }
        out.push((name.to_string(), kind, event));
    }
    out
}

/// Alerts sent at once per pass.
const PARALLEL_ALERTS: usize = 32;

/// Send the pass's alerts concurrently, all within one budget (a dead receiver costs one
/// timeout per pass, not one per lineage); an alert no target accepted, or not sent within
/// the budget, stays due for the next pass.
async fn send_pending(
    ui: &Ui,
    settings: &AlertSettings,
    pending: Vec<(String, EventKind, Event)>,
) -> Vec<(String, EventKind)> {
    use futures_util::StreamExt;
    // One lineage's alerts go out in order (a failure before its near-expiry); lineages
    // go out side by side.
    let mut by_lineage: Vec<(String, Vec<(EventKind, Event)>)> = Vec::new();
    for (name, kind, event) in pending {
        match by_lineage.last_mut() {
            Some((last, events)) if *last == name => events.push((kind, event)),
            _ => by_lineage.push((name, vec![(kind, event)])),
        }
    }
    let sends = by_lineage.into_iter().map(|(name, events)| async move {
        let mut sent = Vec::new();
        for (kind, event) in events {
            let deliveries = notify::send_all(&settings.targets, &event, settings.timeout).await;
            if log_deliveries(ui, &event, &deliveries) {
                sent.push((name.clone(), kind));
            }
        }
        sent
    });
    let mut sends = futures_util::stream::iter(sends).buffer_unordered(PARALLEL_ALERTS);
    let deadline = tokio::time::Instant::now() + settings.timeout * 3;
    let mut sent = Vec::new();
    while let Ok(Some(delivered)) = tokio::time::timeout_at(deadline, sends.next()).await {
        sent.extend(delivered);
    }
    sent
}

/// The node_exporter textfile, when `--metrics-textfile` is set.
fn write_metrics(
    ui: &Ui,
    settings: &AlertSettings,
    lineages: Vec<LineageMetrics>,
    counters: RenewalCounters,
    now: OffsetDateTime,
) {
    let Some(path) = &settings.metrics_textfile else {
        return;
    };
    let snapshot = Snapshot {
        lineages,
        counters,
        taken_at: Some(now),
    };
    if let Err(e) = metrics::write_textfile(path, &metrics::render(&snapshot)) {
        ui.warn(format!(
            "could not write metrics to {}: {e}",
            path.display()
        ));
    }
}

/// After `install` or `run --nginx`: does nginx serve the lineage's live certificate? A
/// mismatch raises `served_mismatch` (throttled and remembered in `alerts.json` like every
/// alert) and is returned as `NotServed` (exit 1). An address that does not answer is only
/// a warning: nginx may listen where this host cannot connect.
pub(crate) async fn check_after_install(
    ui: &Ui,
    store: &Store,
    settings: &AlertSettings,
    name: &CertName,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let lineage = load_lineage(ui, store, name, false, now)?;
    let Some(report) = served_check(ui, store, &lineage).await else {
        return Ok(());
    };
    let mismatched = report.mismatched();
    let mut alerts: AlertState = load_json(ui, store, ALERT_STATE);
    alerts.set_condition(name.as_str(), EventKind::ServedMismatch, mismatched > 0);
    let id = (name.as_str(), None, None);
    let due = due_events(settings, &alerts, id, Some(&lineage), Some(&report), now);
    for (name, kind) in send_pending(ui, settings, due).await {
        alerts.mark_sent(&name, kind, now);
    }
    save_json(ui, store, ALERT_STATE, &alerts);
    match mismatched {
        0 => Ok(()),
        _ => Err(Error::NotServed {
            failed: 1,
            total: 1,
        }),
    }
}

/// Sends one test event to every target; the deliveries, for the caller to print.
pub(crate) async fn send_test(settings: &AlertSettings, now: OffsetDateTime) -> Vec<Delivery> {
    let event = Event::new(EventKind::Test, &host_name(), "test", &[], now);
    notify::send_all(&settings.targets, &event, settings.timeout).await
}

/// After a deploy: does nginx serve the new certificate? A mismatch is a warning here (the
/// caller decides the exit code); what was found is recorded for `plan` and `certificates`.
async fn served_check(ui: &Ui, store: &Store, l: &Lineage) -> Option<ServedReport> {
    match check_lineage(store, &l.config, RetryOpts::default()).await {
        Ok(report) => {
            record_served(ui, store, &l.name, &report);
            if report.all_match() == Some(false) {
                ui.warn(format!(
                    "{}: nginx does not serve the live certificate at {}",
                    l.name,
                    report.mismatches().join(", ")
                ));
            }
            Some(report)
        }
        Err(e) => {
            ui.warn(format!("{}: cannot check what nginx serves: {e}", l.name));
            None
        }
    }
}

/// Keep the check's result in the lineage's renewal state (nothing when nothing was probed).
fn record_served(ui: &Ui, store: &Store, name: &CertName, report: &ServedReport) {
    let Some(matched) = report.all_match() else {
        return;
    };
    let mut state = LineageState::load(ui, store, name);
    state.served = Some(ServedState {
        checked_at: OffsetDateTime::now_utc(),
        matched,
        failures: report.mismatches(),
    });
    state.save(ui, store, name);
}

/// `ari_passed`: this pass renewed it because its ARI window had ended; the new
/// certificate has no ARI answer yet, so the old one's is what the alert is about.
fn set_conditions(alerts: &mut AlertState, l: &Lineage, ari_passed: bool, now: OffsetDateTime) {
    let name = l.name.as_str();
    let near = l
        .info
        .as_ref()
        .is_some_and(|i| near_expiry(i.not_before, i.not_after, now));
    alerts.set_condition(name, EventKind::NearExpiry, near);
    let ari_past = l
        .info
        .as_ref()
        .and_then(|i| l.state.ari_for(&i.serial))
        .is_some_and(|ari| ari.window.end <= now)
        || ari_passed;
    alerts.set_condition(name, EventKind::AriWindowInPast, ari_past);
}

fn event_for(
    kind: EventKind,
    host: &str,
    (name, error): (&str, Option<&Error>),
    lineage: Option<&Lineage>,
    now: OffsetDateTime,
) -> Event {
    let names: Vec<String> = lineage
        .map(|l| l.config.domains.iter().map(|d| d.to_string()).collect())
        .unwrap_or_default();
    let mut event = Event::new(kind, host, name, &names, now);
    event.ca = lineage.map(|l| l.config.server.to_string());
    if let Some(info) = lineage.and_then(|l| l.info.as_ref()) {
        event = event.with_not_after(info.not_after);
    }
    if kind == EventKind::RenewalFailed {
        if let Some(failure) = lineage.and_then(|l| l.state.failure.as_ref()) {
            event.error = Some(failure.last_error.clone());
            event.next_retry = Some(failure.next_attempt);
        }
        if let Some(error) = error {
            event.error = Some(crate::safe::text::sanitize_lines(&error.to_string()));
            event.problem = problem_of(error).cloned();
        }
        event.unpause_url = event
            .problem
            .as_ref()
            .and_then(|p| p.detail.as_deref())
            .and_then(unpause_url);
    }
    event
}

fn problem_of(error: &Error) -> Option<&Problem> {
    match error {
        Error::Acme(AcmeError::Problem(p))
        | Error::Acme(AcmeError::Validation { problem: p, .. }) => Some(p),
        _ => None,
    }
}

/// Let's Encrypt names its self-service unpause page in the rateLimited problem's detail.
fn unpause_url(detail: &str) -> Option<String> {
    detail
        .split_whitespace()
        .map(|w| w.trim_end_matches(['.', ',', ')', ';']))
        .find(|w| w.starts_with("https://") && w.contains("unpause"))
        .map(String::from)
}

fn lineage_metrics(l: &Lineage) -> LineageMetrics {
    let ari = l.info.as_ref().and_then(|i| l.state.ari_for(&i.serial));
    LineageMetrics {
        lineage: l.name.to_string(),
        not_after: l.info.as_ref().map(|i| i.not_after),
        next_renewal: Some(l.decision.due_at),
        ari_window_start: ari.as_ref().map(|a| a.window.start),
        ari_window_end: ari.as_ref().map(|a| a.window.end),
        last_success: l.state.last_success,
        consecutive_failures: l.state.failure.as_ref().map_or(0, |f| f.consecutive),
        // The last check's answer until this pass checks again.
        served_match: l.state.served.as_ref().map(|s| s.matched),
    }
}

/// Logs each delivery; true if at least one target took the event.
fn log_deliveries(ui: &Ui, event: &Event, deliveries: &[Delivery]) -> bool {
    for d in deliveries {
        match &d.error {
            None => ui.note(format!(
                "{}: {} alert sent to {}",
                event.lineage,
                event.kind.as_str(),
                d.target
            )),
            Some(e) => ui.warn(format!(
                "{}: {} alert to {} failed (tried again next run): {e}",
                event.lineage,
                event.kind.as_str(),
                d.target
            )),
        }
    }
    deliveries.iter().any(Delivery::delivered)
}

/// This machine's name from uname(2), as hostname(1) prints it: which node of a fleet
/// speaks in alerts, and the default node id.
pub(crate) fn host_name() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// Alert bookkeeping from the work dir; a broken file is reported and started afresh.
fn load_json<T: DeserializeOwned + Default>(ui: &Ui, store: &Store, name: &str) -> T {
    store
        .load_work_json(name)
        .unwrap_or_else(|e| {
            ui.warn(format!("{e}; starting afresh"));
            None
        })
        .unwrap_or_default()
}

fn save_json<T: Serialize>(ui: &Ui, store: &Store, name: &str, value: &T) {
    if let Err(e) = store.write_work_json(name, value) {
        ui.warn(format!("could not record {name}: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpause_url_is_found_in_lets_encrypts_detail() {
        let detail = "too many failed authorizations (5) for \"x.example\" in the last 1h0m0s, \
                      retry after 2026-12-03 00:00:00 UTC: see \
                      https://portal.letsencrypt.org/sfe/v1/unpause?jwt=abc.def.";
        assert_eq!(
            unpause_url(detail).as_deref(),
            Some("https://portal.letsencrypt.org/sfe/v1/unpause?jwt=abc.def")
        );
        assert_eq!(
            unpause_url("see https://letsencrypt.org/docs/rate-limits/"),
            None
        );
    }
}
