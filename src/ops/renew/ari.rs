//! ARI (RFC 9773): each lineage's renewal window from its CA, no more often than the CA
//! allows, and which CAs offer ARI at all (cached a day, so a run with nothing due sends
//! no request).

use std::collections::HashMap;

use serde::Serialize;
use time::OffsetDateTime;

use crate::acme::{self, AriCertId};
use crate::config::RenewalConfig;
use crate::schedule::{self, AriState, RetryAfter};
use crate::store::Store;

use crate::ops::issue::session::Session;
use crate::ops::output::Ui;
use crate::ops::renew::lineage::{load_lineage, Lineage};

/// Ask ARI-capable CAs for each lineage's renewal window, no more often than they allow;
/// a CA without ARI is asked again a day later. Failures only warn: the lifetime rule
/// still applies.
pub(crate) async fn refresh_ari(
    ui: &Ui,
    session: &Session,
    store: &Store,
    lineages: &mut [Lineage],
    force: bool,
    now: OffsetDateTime,
    directories: &mut HashMap<String, Option<String>>,
) {
    for l in lineages.iter_mut() {
        let Some(info) = &l.info else { continue };
        if l.state.ari_next_check.is_some_and(|t| now < t) || force {
            continue;
        }
        let Some(aki) = &info.authority_key_id else {
            continue;
        };
        let Ok(http) = session.http(l.config.ca_bundle.as_deref()).await else {
            continue;
        };
        let Some(renewal_info) = ari_url(ui, session, &l.config, directories).await else {
            continue;
        };
        // No ARI at this CA: the per-CA cache remembers it; nothing per lineage.
        let Some(url) = renewal_info else {
            continue;
        };
        let id = AriCertId::new(aki, &info.serial_der);
        match acme::fetch_renewal_info(&http, &url, &id).await {
            Ok(rsp) => match schedule::ari::parse_renewal_info(&rsp.body) {
                Ok(parsed) => {
                    let retry = rsp
                        .retry_after
                        .as_deref()
                        .and_then(|v| RetryAfter::parse(v, now));
                    let previous = l.state.ari_for(&info.serial);
                    let ari = AriState::after_fetch(
                        previous.as_ref(),
                        parsed,
                        now,
                        retry,
                        &mut rand::rng(),
                    );
                    let next_check = recheck_override().map_or(ari.next_check, |d| now + d);
                    l.state.ari_next_check = Some(next_check);
                    l.state.ari = Some(ari);
                    l.state.ari_serial = Some(info.serial.clone());
                    l.state.save(ui, store, &l.name);
                    if let Ok(again) = load_lineage(ui, store, &l.name, force, now) {
                        l.decision = again.decision;
                    }
                }
                Err(e) => ari_failed(ui, store, l, now, format!("unusable renewalInfo: {e}")),
            },
            Err(e) => ari_failed(ui, store, l, now, format!("renewalInfo: {e}")),
        }
    }
}

/// How long after a failed renewalInfo request to ask again: not on every daemon pass.
const ARI_ERROR_RECHECK: time::Duration = time::Duration::hours(1);
/// Overrides every ARI re-check interval (whole seconds, at least 1), ignoring the CA's
/// Retry-After; undocumented, for tests that watch a daemon react to a moved window in
/// seconds rather than hours.
const ARI_RECHECK_ENV: &str = "CERTWRIGHT_ARI_RECHECK_SECS";

pub(crate) fn recheck_override() -> Option<time::Duration> {
    let secs: i64 = std::env::var(ARI_RECHECK_ENV).ok()?.parse().ok()?;
    (secs >= 1).then(|| time::Duration::seconds(secs))
}

/// A failed renewalInfo request only warns (the lifetime rule still applies); it is asked
/// again an hour later.
fn ari_failed(ui: &Ui, store: &Store, l: &mut Lineage, now: OffsetDateTime, why: String) {
    ui.warn(format!("{}: {why}", l.name));
    l.state.ari_next_check = Some(now + recheck_override().unwrap_or(ARI_ERROR_RECHECK));
    l.state.save(ui, store, &l.name);
}

/// What each CA's directory said about ARI, kept in `<work>/ca-directories.json` for a day
/// so that renewal checks need no request to the CA (an unreadable file is re-fetched).
#[derive(Debug, Default, Serialize, serde::Deserialize)]
pub(crate) struct CaCache {
    #[serde(default)]
    servers: std::collections::BTreeMap<String, CachedDirectory>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
struct CachedDirectory {
    renewal_info: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    checked: OffsetDateTime,
}

const CA_CACHE_FILE: &str = "ca-directories.json";
const CA_CACHE_TTL: time::Duration = time::Duration::days(1);

impl CaCache {
    pub(crate) fn load(store: &Store) -> CaCache {
        store.read_work_json(CA_CACHE_FILE).unwrap_or_default()
    }

    pub(crate) fn fresh(&self, now: OffsetDateTime) -> HashMap<String, Option<String>> {
        self.servers
            .iter()
            .filter(|(_, c)| now - c.checked < CA_CACHE_TTL && c.checked <= now)
            .map(|(s, c)| (s.clone(), c.renewal_info.clone()))
            .collect()
    }

    /// Remember what this run learned; written only when something changed.
    pub(crate) fn record(
        &mut self,
        ui: &Ui,
        store: &Store,
        seen: &HashMap<String, Option<String>>,
        now: OffsetDateTime,
    ) {
        let fresh = self.fresh(now);
        let mut changed = false;
        for (server, renewal_info) in seen {
            if fresh.get(server) != Some(renewal_info) {
                self.servers.insert(
                    server.clone(),
                    CachedDirectory {
                        renewal_info: renewal_info.clone(),
                        checked: now,
                    },
                );
                changed = true;
            }
        }
        if changed {
            if let Err(e) = store.write_work_json(CA_CACHE_FILE, self) {
                ui.warn(format!("could not cache the CAs' directories: {e}"));
            }
        }
    }
}

/// The renewalInfo URL of the lineage's CA (`Some(None)`: it offers no ARI), reading its
/// directory at most once per run; `None` if the directory cannot be read.
pub(crate) async fn ari_url(
    ui: &Ui,
    session: &Session,
    config: &RenewalConfig,
    directories: &mut HashMap<String, Option<String>>,
) -> Option<Option<String>> {
    let server = config.server.as_str();
    if let Some(known) = directories.get(server) {
        return Some(known.clone());
    }
    let http = session.http(config.ca_bundle.as_deref()).await.ok()?;
    match acme::fetch_directory(&http, &config.server).await {
        Ok(d) => {
            directories.insert(server.to_string(), d.renewal_info.clone());
            Some(d.renewal_info)
        }
        Err(e) => {
            ui.warn(format!(
                "{}: could not read the CA's directory for ARI: {e}",
                config.cert_name
            ));
            None
        }
    }
}
