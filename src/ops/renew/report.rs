//! What `certificates`, `plan` and the daemon's status file report about each lineage.
//! Offline: reads the store and the cached renewal state, sends nothing, writes nothing.

use std::collections::HashMap;

use serde::Serialize;
use time::OffsetDateTime;

use crate::error::Error;
use crate::store::{inspect, LivePaths, Store};
use crate::types::CertName;

use crate::ops::fleet::FleetReport;
use crate::ops::output::{rfc3339, Ui};
use crate::ops::renew::ari::CaCache;
use crate::ops::renew::lineage::{load_many, read_config, Lineage};
use crate::ops::renew::state::{LineageState, ServedState};

/// One lineage as shown by `certificates --json` (schema 1, documented in README).
#[derive(Debug, Serialize)]
pub(crate) struct LineageReport {
    pub name: String,
    pub domains: Vec<String>,
    pub not_after: Option<String>,
    pub days_left: Option<i64>,
    pub key_type: Option<String>,
    pub serial: Option<String>,
    pub version: Option<u32>,
    pub paths: LivePaths,
    /// Files present, parsable and within their validity period.
    pub valid: bool,
    pub key_matches: bool,
    pub authenticator: Option<String>,
    pub installer: Option<String>,
    /// Deploy targets rewritten after each renewal and install.
    pub deploy_targets: crate::config::DeployTargets,
    /// Why the lineage is not usable, if it is not.
    pub problem: Option<String>,
    /// Its renewal config is missing or cannot be read (the listing exits non-zero).
    #[serde(skip)]
    pub config_broken: bool,
    /// Fleet mode: the fleet's version and which node holds which.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetReport>,
    /// What the last check of nginx found (after an install or renewal into nginx).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served: Option<ServedState>,
}

/// The last served check recorded in the lineage's renewal state; an unreadable state
/// file shows as none (`plan` reports it).
fn last_served(store: &Store, name: &CertName) -> Option<ServedState> {
    let json = store.read_state(name).ok()??;
    serde_json::from_str::<LineageState>(&json).ok()?.served
}

pub(crate) fn report(store: &Store, name: &CertName, now: OffsetDateTime) -> LineageReport {
    let mut r = LineageReport {
        name: name.to_string(),
        domains: vec![],
        not_after: None,
        days_left: None,
        key_type: None,
        serial: None,
        version: None,
        paths: store.live_paths(name),
        valid: false,
        key_matches: false,
        authenticator: None,
        installer: None,
        deploy_targets: Default::default(),
        problem: None,
        config_broken: false,
        fleet: None,
        served: last_served(store, name),
    };
    match read_config(store, name) {
        Ok(Some(c)) => {
            r.domains = c.identifiers();
            r.authenticator = Some(c.authenticator.name().into());
            r.installer = c.installer.as_ref().map(|_| "nginx".into());
            r.deploy_targets = c.deploy;
        }
        Ok(None) => r.problem = Some("no renewal config".into()),
        Err(e) => r.problem = Some(e.to_string()),
    }
    r.config_broken = r.problem.is_some();
    r.version = match store.current_version(name) {
        Ok(v) => v,
        Err(e) => {
            r.problem.get_or_insert(e.to_string());
            None
        }
    };
    let live = match store.read_live(name) {
        Ok(Some(l)) => l,
        Ok(None) => {
            r.problem
                .get_or_insert("certificate files are missing".into());
            return r;
        }
        Err(e) => {
            r.problem.get_or_insert(e.to_string());
            return r;
        }
    };
    match inspect::inspect_chain(&live.0) {
        Ok(info) => {
            r.not_after = Some(rfc3339(info.not_after));
            r.days_left = Some((info.not_after - now).whole_days());
            r.key_type = Some(info.key_type.clone());
            r.serial = Some(info.serial.clone());
            if r.domains.is_empty() {
                r.domains = info.domains.clone();
            }
            r.key_matches = inspect::key_matches(&live.1, &info);
            let in_period = info.not_before <= now && now < info.not_after;
            r.valid = in_period && r.key_matches;
            if !r.key_matches {
                r.problem
                    .get_or_insert("private key does not match the certificate".into());
            } else if !in_period {
                r.problem.get_or_insert(if now >= info.not_after {
                    "expired".into()
                } else {
                    "not yet valid".into()
                });
            }
        }
        Err(e) => {
            r.problem.get_or_insert(format!("fullchain.pem: {e}"));
        }
    }
    r
}

#[derive(Debug, Serialize)]
pub(crate) struct PlanEntry {
    pub name: String,
    pub domains: Vec<String>,
    pub not_after: Option<String>,
    /// When the next renewal attempt happens (later than `due_at` while backing off).
    pub next_renewal: Option<String>,
    pub due_now: bool,
    pub reason: Option<String>,
    pub authenticator: Option<String>,
    pub installer: Option<String>,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    /// When the CA's ARI answer for the current certificate was fetched.
    pub ari_fetched: Option<String>,
    /// When its CA is asked about ARI again (no earlier: its Retry-After); `None` when the
    /// CA offers no ARI or the certificate names no issuer key.
    pub ari_next_check: Option<String>,
    pub problem: Option<String>,
    /// Fleet mode: the fleet's version and which node holds which.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetReport>,
    /// What the last check of nginx found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served: Option<ServedState>,
    #[serde(skip)]
    pub next_time: Option<OffsetDateTime>,
    #[serde(skip)]
    pub ari_next_time: Option<OffsetDateTime>,
}

/// The plan for every lineage at `now`.
pub(crate) fn plan(ui: &Ui, store: &Store, now: OffsetDateTime) -> Result<Vec<PlanEntry>, Error> {
    let (names, _) = store.list_lineages()?;
    let offers_ari = CaCache::load(store).fresh(now);
    let mut entries = Vec::new();
    for (name, loaded) in load_many(ui, store, &names, false, now) {
        let entry = match loaded {
            Ok(l) => {
                let backoff = l.state.failure.as_ref().map(|f| f.next_attempt);
                let next_time = Some(match backoff {
                    Some(b) if b > l.decision.due_at => b,
                    _ => l.decision.due_at,
                });
                let ari = ari_times(&l, &offers_ari, now);
                PlanEntry {
                    name: name.to_string(),
                    domains: l.config.identifiers(),
                    not_after: l.info.as_ref().map(|i| rfc3339(i.not_after)),
                    next_renewal: next_time.map(rfc3339),
                    due_now: l.decision.due_now && backoff.is_none_or(|b| b <= now),
                    reason: Some(l.decision.reason.to_string()),
                    authenticator: Some(l.config.authenticator.name().into()),
                    installer: l.config.installer.as_ref().map(|_| "nginx".into()),
                    last_success: l.state.last_success.map(rfc3339),
                    last_error: l.state.failure.as_ref().map(|f| {
                        format!(
                            "{} (attempt {}, at {})",
                            f.last_error,
                            f.consecutive,
                            rfc3339(f.last_failure)
                        )
                    }),
                    ari_fetched: ari.0.map(rfc3339),
                    ari_next_check: ari.1.map(rfc3339),
                    problem: None,
                    next_time,
                    ari_next_time: ari.1,
                    fleet: None,
                    served: l.state.served.clone(),
                }
            }
            Err(e) => PlanEntry {
                name: name.to_string(),
                domains: vec![],
                not_after: None,
                next_renewal: None,
                due_now: false,
                reason: None,
                authenticator: None,
                installer: None,
                last_success: None,
                last_error: None,
                ari_fetched: None,
                ari_next_check: None,
                problem: Some(e.to_string()),
                next_time: None,
                ari_next_time: None,
                fleet: None,
                served: None,
            },
        };
        entries.push(entry);
    }
    Ok(entries)
}

/// When the lineage's ARI answer was fetched and when its CA is asked next (at once when
/// never asked). Nothing when its certificate names no issuer key or, per the cached
/// directory, its CA offers no ARI.
fn ari_times(
    l: &Lineage,
    offers_ari: &HashMap<String, Option<String>>,
    now: OffsetDateTime,
) -> (Option<OffsetDateTime>, Option<OffsetDateTime>) {
    let Some(info) = l.info.as_ref().filter(|i| i.authority_key_id.is_some()) else {
        return (None, None);
    };
    if let Some(None) = offers_ari.get(l.config.server.as_str()) {
        return (None, None);
    }
    let fetched = l.state.ari_for(&info.serial).map(|a| a.fetched_at);
    (fetched, Some(l.state.ari_next_check.unwrap_or(now)))
}

/// Fleet mode: this node is brought up to date first (as every fleet command does), unless
/// another run holds the local lock (then it is listed as it is); then the fleet's view.
pub(crate) async fn synced_fleet_view(
    fleet: &crate::ops::fleet::Fleet,
    ui: &Ui,
    store: &Store,
) -> Result<crate::ops::fleet::FleetView, Error> {
    match store.lock() {
        Ok(_lock) => {
            store.prepare()?;
            let settings = crate::ops::deploy::DeploySettings::default();
            crate::ops::deploy::pull_and_deploy(fleet, ui, store, &settings).await?;
        }
        Err(Error::Locked { .. }) => {}
        Err(e) => return Err(e),
    }
    fleet.view().await
}

/// `certificates` and `plan` list every lineage, then fail (exit 3) when any renewal config
/// is missing or unreadable: that lineage will not renew.
pub(crate) fn broken_configs(count: usize) -> Error {
    crate::error::StoreError::Other(format!(
        "{count} renewal config(s) cannot be read (see the problem above); those certificates will not renew"
    ))
    .into()
}
