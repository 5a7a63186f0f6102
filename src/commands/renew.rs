//! `certwright renew`: renew every lineage that is due, each on its own (one failure never
//! blocks the others nor touches their files), with hooks, ARI and a dry-run that changes
//! nothing. The daemon runs the same pass.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use time::OffsetDateTime;

use crate::acme::{self, AriCertId};
use crate::cli::RenewArgs;
use crate::config::RenewalConfig;
use crate::error::{AcmeError, Error, InputError, StoreError};
use crate::schedule::{self, AriState, CertValidity, Decision, DueInput, FailureState, RetryAfter};
use crate::store::{inspect, Store};
use crate::types::{CertName, ServerUrl};

use super::certonly::rfc3339;
use super::obtain::{self, AccountRequest, ObtainRequest, Session};
use super::state::LineageState;
use super::ui::{print_stdout, Ui};
use super::{block_on, init_logging, Ctx};

/// What to renew and how; shared by `renew` and `daemon`.
#[derive(Debug, Clone, Default)]
pub struct RenewRequest {
    pub names: Vec<CertName>,
    pub dry_run: bool,
    pub dry_run_server: Option<ServerUrl>,
    pub force: bool,
    pub pre_hook: Option<String>,
    pub post_hook: Option<String>,
    pub deploy_hook: Option<String>,
    pub run_deploy_hooks: bool,
    pub concurrency: usize,
    /// Ports bound before dropping to `--user`.
    pub prebound: super::obtain::Prebound,
    /// Fleet mode (`--store`).
    pub fleet: Option<std::sync::Arc<super::fleet::Fleet>>,
}

/// How one lineage fared in a pass.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Renewed {
        version: u32,
        not_after: String,
    },
    /// Dry run: the CA issued a certificate that was then thrown away.
    WouldRenew,
    NotDue {
        decision: Decision,
    },
    BackingOff {
        until: String,
        last_error: String,
    },
    Failed {
        error: String,
        /// The fleet's shared store failed (not the CA): the run exits 6.
        #[serde(skip)]
        shared_store: bool,
    },
    /// Fleet mode: another node renewed it; this node installed that version.
    Synced {
        version: u64,
    },
    /// Fleet mode: another node holds the lineage's lock (it is renewing it right now).
    Elsewhere,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineageResult {
    pub name: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// A hook failed after a successful renewal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook_error: Option<String>,
}

impl LineageResult {
    /// Whether this lineage makes the run fail. One skipped while backing off counts: its
    /// certificate is due and was not renewed, and cron or a systemd timer must not see a
    /// success (nor the summary say "OK") until a retry works.
    pub fn failed(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::Failed { .. } | Outcome::BackingOff { .. }
        ) || self.hook_error.is_some()
    }
}

pub fn run(ctx: &Ctx, args: RenewArgs) -> Result<(), Error> {
    let names = args
        .cert_name
        .iter()
        .map(|n| n.parse::<CertName>())
        .collect::<Result<Vec<_>, _>>()?;
    let dry_run_server = args
        .dry_run_server
        .as_deref()
        .map(str::parse::<ServerUrl>)
        .transpose()?;
    for (flag, hook) in [
        ("--pre-hook", &args.pre_hook),
        ("--post-hook", &args.post_hook),
        ("--deploy-hook", &args.deploy_hook),
    ] {
        if hook.as_deref().is_some_and(|h| h.trim().is_empty()) {
            return Err(InputError::Other(format!("{flag} is empty")).into());
        }
        if let Some(hook) = hook {
            super::hooks::check_hook_location(flag, hook)?;
        }
    }
    let request = RenewRequest {
        names,
        dry_run: args.dry_run,
        dry_run_server,
        force: args.force_renewal,
        pre_hook: args.pre_hook,
        post_hook: args.post_hook,
        deploy_hook: args.deploy_hook,
        run_deploy_hooks: args.run_deploy_hooks,
        concurrency: usize::from(args.concurrency),
        prebound: super::obtain::Prebound::default(),
        fleet: super::fleet::Fleet::from_ctx(ctx)?,
    };
    let store = ctx.store();
    let request = RenewRequest {
        prebound: super::privileges::bind_then_drop(ctx, &lineage_ports(&store, &request.names))?,
        ..request
    };
    store.prepare()?;
    // From cron, spread a fleet's requests over 8 minutes, before taking the lock so a
    // manual run meanwhile is not refused. Not for dry runs: those are CI checks.
    if !args.no_random_sleep_on_renew && !args.dry_run && !std::io::stdin().is_terminal() {
        let secs = rand::random_range(0..480u64);
        ctx.ui.note(format!(
            "Waiting {secs} s before renewing (--no-random-sleep-on-renew skips this)"
        ));
        std::thread::sleep(Duration::from_secs(secs));
    }
    let _lock = store.lock()?;
    init_logging(ctx);
    let results = block_on(renew_pass(
        &ctx.ui,
        &store,
        &request,
        OffsetDateTime::now_utc(),
    ))??;
    report(ctx, &request, &results, args.json);
    let failed = results.iter().filter(|r| r.failed()).count();
    let store_failed = results
        .iter()
        .filter(|r| {
            matches!(
                r.outcome,
                Outcome::Failed {
                    shared_store: true,
                    ..
                }
            )
        })
        .count();
    if let (Some(fleet), true) = (&request.fleet, store_failed > 0) {
        return Err(Error::Shared {
            store: fleet.shared.describe().to_string(),
            reason: format!(
                "{store_failed} of {} certificate(s) not renewed because of the shared store (see above); nothing was installed for them",
                results.len()
            ),
        });
    }
    if failed > 0 {
        return Err(Error::SomeFailed {
            failed,
            total: results.len(),
        });
    }
    Ok(())
}

/// The standalone ports of the selected lineages (all when `names` is empty), read without
/// side effects so they can be bound before dropping to `--user`. Unreadable configs are
/// skipped here and reported by the pass.
pub(crate) fn lineage_ports(store: &Store, names: &[CertName]) -> Vec<super::obtain::ListenAt> {
    let Ok((all, _)) = store.list_lineages() else {
        return vec![];
    };
    let mut ports = Vec::new();
    for name in all.iter().filter(|n| names.is_empty() || names.contains(n)) {
        let Ok(Some(json)) = store.read_renewal_for_ports(name) else {
            continue;
        };
        if let Ok(config) = RenewalConfig::parse(&json, &store.renewal_file(name)) {
            for p in super::certonly::standalone_ports(&config.authenticator) {
                if !ports.contains(&p) {
                    ports.push(p);
                }
            }
        }
    }
    ports
}

/// A lineage as read from disk, with its renewal decision.
pub(crate) struct Lineage {
    pub name: CertName,
    pub config: RenewalConfig,
    pub state: LineageState,
    pub info: Option<inspect::CertInfo>,
    pub decision: Decision,
}

/// One renewal pass over the selected lineages. Errors are per lineage, except a store that
/// cannot even be listed.
pub async fn renew_pass(
    ui: &Ui,
    store: &Store,
    req: &RenewRequest,
    now: OffsetDateTime,
) -> Result<Vec<LineageResult>, Error> {
    // Fleet mode: install what other nodes renewed first (not in a dry run: it changes
    // nothing), so only what is still due is ordered.
    let fleet = req.fleet.as_ref().filter(|_| !req.dry_run);
    let mut results = Vec::new();
    if let Some(fleet) = fleet {
        results = fleet.pull_and_deploy(ui, store, req).await?;
    }
    let (mut names, odd) = store.list_lineages()?;
    for path in odd {
        ui.warn(format!(
            "{} is not a renewal config certwright can read (bad file name)",
            path.display()
        ));
    }
    if !req.names.is_empty() {
        if let Some(missing) = req.names.iter().find(|n| !names.contains(n)) {
            return Err(StoreError::NoSuchLineage(missing.to_string()).into());
        }
        names.retain(|n| req.names.contains(n));
    }
    let session = Session::with_prebound(req.prebound.clone()).with_fleet(fleet.cloned());
    let mut lineages = Vec::new();
    for name in names {
        if results
            .iter()
            .any(|r: &LineageResult| r.name == name.as_str())
        {
            continue;
        }
        match load_lineage(ui, store, &name, req, now) {
            Ok(l) => lineages.push(l),
            Err(e) => {
                // On stderr too, as for a failed renewal: cron and systemd surface stderr.
                ui.warn(format!("{name}: cannot renew: {e}"));
                results.push(LineageResult {
                    name: name.to_string(),
                    outcome: Outcome::Failed {
                        error: e.to_string(),
                        shared_store: false,
                    },
                    hook_error: None,
                })
            }
        }
    }
    // Server -> its renewalInfo URL: from the per-CA cache when read within the last day,
    // else read once in this run. A run with nothing due then sends nothing.
    let mut ca_cache = CaCache::load(store);
    let mut directories = ca_cache.fresh(now);
    if !req.dry_run {
        refresh_ari(
            ui,
            &session,
            store,
            &mut lineages,
            req,
            now,
            &mut directories,
        )
        .await;
    }

    let mut due = Vec::new();
    for l in lineages {
        if req.dry_run || l.decision.due_now {
            match &l.state.failure {
                Some(f) if !req.dry_run && !req.force && !f.attempt_due(now) => {
                    results.push(LineageResult {
                        name: l.name.to_string(),
                        outcome: Outcome::BackingOff {
                            until: rfc3339(f.next_attempt),
                            last_error: f.last_error.clone(),
                        },
                        hook_error: None,
                    })
                }
                _ => due.push(l),
            }
        } else {
            results.push(LineageResult {
                name: l.name.to_string(),
                outcome: Outcome::NotDue {
                    decision: l.decision,
                },
                hook_error: None,
            });
        }
    }
    if due.is_empty() {
        return Ok(results);
    }

    let dry_store = if req.dry_run {
        let dir = tempfile::Builder::new()
            .prefix("certwright-dry-run-")
            .tempdir()
            .map_err(|e| {
                StoreError::Other(format!("cannot create a temp dir for the dry run: {e}"))
            })?;
        Some(dir)
    } else {
        None
    };
    let cert_store = match &dry_store {
        Some(dir) => {
            let s = Store::new(&dir.path().join("config"), &dir.path().join("work"));
            s.prepare()?;
            s
        }
        None => store.clone(),
    };

    // ARI's `replaces` only goes to a CA that offers ARI (instant-acme refuses to send it
    // otherwise, failing the order). A dry run talks to another server and never sends it.
    if !req.dry_run {
        for l in &due {
            if l.info
                .as_ref()
                .is_some_and(|i| i.authority_key_id.is_some())
            {
                ari_url(ui, &session, &l.config, &mut directories).await;
            }
        }
    }
    if !req.dry_run {
        ca_cache.record(ui, store, &directories, now);
    }
    let offers_ari =
        |l: &Lineage| matches!(directories.get(l.config.server.as_str()), Some(Some(_)));

    let mut hook_failed = None;
    if let Some(hook) = &req.pre_hook {
        if let Err(e) = run_hook(ui, "pre-hook", hook, &[]).await {
            hook_failed = Some(e);
        }
    }
    let renewed: Vec<LineageResult> = stream::iter(due)
        .map(|l| {
            let replaces_ok = offers_ari(&l);
            renew_one(ui, &session, store, &cert_store, req, l, replaces_ok)
        })
        .buffer_unordered(req.concurrency.max(1))
        .collect()
        .await;
    session.shutdown().await;
    results.extend(renewed);
    if let Some(hook) = &req.post_hook {
        if let Err(e) = run_hook(ui, "post-hook", hook, &[]).await {
            hook_failed.get_or_insert(e);
        }
    }
    if let Some(e) = hook_failed {
        ui.warn(format!("hook failed: {e}"));
        if let Some(first) = results
            .iter_mut()
            .find(|r| matches!(r.outcome, Outcome::Renewed { .. } | Outcome::WouldRenew))
        {
            first.hook_error.get_or_insert(e);
        }
    }
    results.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(results)
}

pub(crate) fn load_lineage(
    ui: &Ui,
    store: &Store,
    name: &CertName,
    req: &RenewRequest,
    now: OffsetDateTime,
) -> Result<Lineage, Error> {
    let json = store
        .read_renewal(name)?
        .ok_or_else(|| StoreError::NoSuchLineage(name.to_string()))?;
    let config = RenewalConfig::parse(&json, &store.renewal_file(name))?;
    let state = LineageState::load(ui, store, name);
    let live = store.read_live(name)?;
    let info = live
        .as_ref()
        .and_then(|(fullchain, _)| inspect::inspect_chain(fullchain).ok());
    let files_match = match (&live, &info) {
        (Some((_, key)), Some(info)) => {
            inspect::private_key_spki(key).is_ok_and(|k| k == info.spki_der)
        }
        _ => false,
    };
    let domains_changed = info.as_ref().is_some_and(|i| {
        let mut have: Vec<&str> = i.domains.iter().map(String::as_str).collect();
        let mut want: Vec<&str> = config.domains.iter().map(|d| d.as_str()).collect();
        have.sort_unstable();
        want.sort_unstable();
        have != want
    });
    let decision = schedule::renewal_decision(&DueInput {
        now,
        validity: info.as_ref().map(|i| CertValidity {
            not_before: i.not_before,
            not_after: i.not_after,
        }),
        files_match,
        domains_changed,
        renew_before_expiry: config
            .renew_before_expiry_days
            .map(|d| time::Duration::days(i64::from(d))),
        ari: info.as_ref().and_then(|i| state.ari_for(&i.serial)),
        force: req.force,
    });
    if matches!(decision.reason, schedule::Reason::NotYetValid { .. }) {
        ui.warn(format!(
            "{name}: the certificate is not valid yet (check this machine's clock)"
        ));
    }
    Ok(Lineage {
        name: name.clone(),
        config,
        state,
        info,
        decision,
    })
}

/// Ask ARI-capable CAs for each lineage's renewal window, no more often than they allow;
/// a CA without ARI is asked again a day later. Failures only warn: the lifetime rule
/// still applies.
async fn refresh_ari(
    ui: &Ui,
    session: &Session,
    store: &Store,
    lineages: &mut [Lineage],
    req: &RenewRequest,
    now: OffsetDateTime,
    directories: &mut HashMap<String, Option<String>>,
) {
    for l in lineages.iter_mut() {
        let Some(info) = &l.info else { continue };
        if l.state.ari_next_check.is_some_and(|t| now < t) || req.force {
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
                    l.state.ari_next_check = Some(ari.next_check);
                    l.state.ari = Some(ari);
                    l.state.ari_serial = Some(info.serial.clone());
                    l.state.save(ui, store, &l.name);
                    if let Ok(again) = load_lineage(ui, store, &l.name, req, now) {
                        l.decision = again.decision;
                    }
                }
                Err(e) => ui.warn(format!("{}: unusable renewalInfo: {e}", l.name)),
            },
            Err(e) => ui.warn(format!("{}: renewalInfo: {e}", l.name)),
        }
    }
}

/// What each CA's directory said about ARI, kept in `<work>/ca-directories.json` for a day
/// so that renewal checks need no request to the CA (an unreadable file is re-fetched).
#[derive(Debug, Default, Serialize, serde::Deserialize)]
struct CaCache {
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
    fn load(store: &Store) -> CaCache {
        store
            .read_work_file(CA_CACHE_FILE)
            .ok()
            .flatten()
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default()
    }

    fn fresh(&self, now: OffsetDateTime) -> HashMap<String, Option<String>> {
        self.servers
            .iter()
            .filter(|(_, c)| now - c.checked < CA_CACHE_TTL && c.checked <= now)
            .map(|(s, c)| (s.clone(), c.renewal_info.clone()))
            .collect()
    }

    /// Remember what this run learned; written only when something changed.
    fn record(
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
            let json = serde_json::to_string_pretty(self).unwrap_or_default();
            if let Err(e) = store.write_work_file(CA_CACHE_FILE, &json) {
                ui.warn(format!("could not cache the CAs' directories: {e}"));
            }
        }
    }
}

/// The renewalInfo URL of the lineage's CA (`Some(None)`: it offers no ARI), reading its
/// directory at most once per run; `None` if the directory cannot be read.
async fn ari_url(
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

/// Renew one lineage; `replaces_ok`: its CA offers ARI, so the order may name the
/// certificate it replaces.
async fn renew_one(
    ui: &Ui,
    session: &Session,
    store: &Store,
    cert_store: &Store,
    req: &RenewRequest,
    mut l: Lineage,
    replaces_ok: bool,
) -> LineageResult {
    let name = l.name.to_string();
    ui.note(format!("Renewing {name} ({})", l.decision));
    let server = if req.dry_run {
        dry_run_server(&l.config.server, req.dry_run_server.as_ref())
    } else {
        l.config.server.clone()
    };
    // An ARI renewal tells the CA what it replaces (not for dry runs: another server).
    let replaces = match (&l.info, req.dry_run || !replaces_ok) {
        (Some(info), false) => info
            .authority_key_id
            .as_ref()
            .map(|aki| AriCertId::new(aki, &info.serial_der)),
        _ => None,
    };
    let same_account = server == l.config.server;
    let obtain_request = ObtainRequest {
        cert_name: &l.name,
        domains: &l.config.domains,
        server: &server,
        ca_bundle: l.config.ca_bundle.as_deref(),
        key_type: l.config.key_type,
        authenticator: &l.config.authenticator,
        account: AccountRequest {
            account_id: same_account.then_some(l.config.account.as_str()),
            email: None,
            // Terms were accepted when the lineage was created.
            agree_tos: true,
            interactive: false,
            eab: None,
        },
        reuse_key: None,
        replaces: replaces.as_ref(),
        issuance: &l.config.issuance,
    };
    let order = obtain::obtain(ui, session, store, cert_store, &obtain_request);
    let result = match session.fleet() {
        None => order.await,
        // Fleet mode: only under the lineage's shared lock, and only if no other node
        // renewed it meanwhile (then this node installs that version instead).
        Some(fleet) => {
            let locked = fleet
                .exclusive(ui, store, &l.name, false, |pulled| async move {
                    if pulled {
                        return Ok(None);
                    }
                    order.await.map(Some)
                })
                .await;
            match locked {
                Ok(None) => {
                    return LineageResult {
                        name,
                        outcome: Outcome::Elsewhere,
                        hook_error: None,
                    }
                }
                Ok(Some(None)) => return synced_deploy(ui, store, &l.name, req).await,
                Ok(Some(Some(obtained))) => Ok(obtained),
                Err(e) => Err(e),
            }
        }
    };
    match result {
        Ok(obtained) if req.dry_run => {
            let hook_error = if req.run_deploy_hooks {
                deploy(ui, cert_store, &l, req).await.err()
            } else {
                None
            };
            drop(obtained);
            LineageResult {
                name,
                outcome: Outcome::WouldRenew,
                hook_error,
            }
        }
        Ok(obtained) => {
            l.state = LineageState {
                last_success: Some(OffsetDateTime::now_utc()),
                ..LineageState::default()
            };
            l.state.save(ui, store, &l.name);
            let hook_error = deploy(ui, store, &l, req).await.err();
            LineageResult {
                name,
                outcome: Outcome::Renewed {
                    version: obtained.version,
                    not_after: rfc3339(obtained.info.not_after),
                },
                hook_error,
            }
        }
        Err(e) => {
            let error = e.to_string();
            ui.warn(format!("{name}: renewal failed: {error}"));
            let shared_store = matches!(e, Error::Shared { .. });
            // A shared-store outage is no reason to back off from the CA.
            if !req.dry_run && !shared_store {
                let retry_after =
                    super::ca_retry_after(&e, OffsetDateTime::now_utc()).or(match &e {
                        Error::Acme(AcmeError::Problem(p)) if p.short_kind() == "rateLimited" => {
                            Some(time::Duration::hours(1))
                        }
                        _ => None,
                    });
                l.state.failure = Some(FailureState::record(
                    l.state.failure.as_ref(),
                    error.clone(),
                    OffsetDateTime::now_utc(),
                    retry_after,
                    &mut rand::rng(),
                ));
                l.state.save(ui, store, &l.name);
            }
            LineageResult {
                name,
                outcome: Outcome::Failed {
                    error,
                    shared_store,
                },
                hook_error: None,
            }
        }
    }
}

/// After a renewal: reload nginx where the lineage is installed, then the deploy hook with
/// certbot's environment.
async fn deploy(ui: &Ui, store: &Store, l: &Lineage, req: &RenewRequest) -> Result<(), String> {
    deploy_lineage(ui, store, &l.name, &l.config, req).await
}

/// A lineage another node renewed, now installed here: reload and hooks as for our own.
pub async fn synced_deploy(
    ui: &Ui,
    store: &Store,
    name: &CertName,
    req: &RenewRequest,
) -> LineageResult {
    let version = super::fleet::installed_version(store, name).unwrap_or_default();
    let config = store
        .read_renewal(name)
        .ok()
        .flatten()
        .and_then(|json| RenewalConfig::parse(&json, &store.renewal_file(name)).ok());
    let hook_error = match config {
        Some(config) => deploy_lineage(ui, store, name, &config, req).await.err(),
        None => Some(format!(
            "{name}: the renewal config from the fleet is unreadable"
        )),
    };
    LineageResult {
        name: name.to_string(),
        outcome: Outcome::Synced { version },
        hook_error,
    }
}

/// Reload nginx where the lineage is installed, then the deploy hook.
pub async fn deploy_lineage(
    ui: &Ui,
    store: &Store,
    name: &CertName,
    config: &RenewalConfig,
    req: &RenewRequest,
) -> Result<(), String> {
    if let (Some(installer), false) = (&config.installer, req.dry_run) {
        super::install::reload_after_renewal(installer)
            .map_err(|e| format!("nginx reload after renewing {name}: {e}"))?;
    }
    let Some(hook) = &req.deploy_hook else {
        return Ok(());
    };
    let lineage = store.live_dir(name);
    let domains = config
        .domains
        .iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    run_hook(
        ui,
        "deploy-hook",
        hook,
        &[
            ("RENEWED_LINEAGE", lineage.to_string_lossy().as_ref()),
            ("RENEWED_DOMAINS", &domains),
        ],
    )
    .await
}

/// Run a hook through `sh -c`, as certbot does; its output goes to our stderr.
pub async fn run_hook(
    ui: &Ui,
    kind: &str,
    command: &str,
    env: &[(&str, &str)],
) -> Result<(), String> {
    ui.note(format!("Running {kind}: {command}"));
    let mut cmd = tokio::process::Command::new("/bin/sh");
    crate::fsutil::scrub_secret_env(cmd.as_std_mut());
    cmd.arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    match cmd.status().await {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{kind} `{command}` exited with {s}")),
        Err(e) => Err(format!("{kind} `{command}` could not run: {e}")),
    }
}

/// The server a dry run talks to: Let's Encrypt production -> staging, others unchanged.
pub fn dry_run_server(server: &ServerUrl, over: Option<&ServerUrl>) -> ServerUrl {
    if let Some(s) = over {
        return s.clone();
    }
    if server.is_letsencrypt_production() {
        // The constant is a valid https URL.
        return ServerUrl::LETSENCRYPT_STAGING
            .parse()
            .unwrap_or_else(|_| server.clone());
    }
    server.clone()
}

fn report(ctx: &Ctx, req: &RenewRequest, results: &[LineageResult], json: bool) {
    if json {
        let out = serde_json::json!({
            "schema": 1,
            "dry_run": req.dry_run,
            "certificates": results,
        });
        print_stdout(&format!(
            "{}\n",
            serde_json::to_string(&out).unwrap_or_default()
        ));
        return;
    }
    if results.is_empty() {
        print_stdout("No certificates found.\n");
        return;
    }
    let mut out = String::new();
    let prefix = if req.dry_run { "(dry run) " } else { "" };
    for r in results {
        let line = match &r.outcome {
            Outcome::Renewed { version, not_after } => {
                format!("renewed (version {version}, expires {not_after})")
            }
            Outcome::WouldRenew => "renewal would succeed".into(),
            Outcome::NotDue { decision } => format!("not due: {decision}"),
            Outcome::BackingOff { until, last_error } => {
                format!("skipped: backing off until {until} after: {last_error}")
            }
            Outcome::Failed { error, .. } => format!("FAILED: {error}"),
            Outcome::Synced { version } => {
                format!("installed version {version}, renewed by another node of the fleet")
            }
            Outcome::Elsewhere => "another node of the fleet is renewing it".into(),
        };
        out.push_str(&format!("{prefix}{}: {line}\n", r.name));
        if let Some(h) = &r.hook_error {
            out.push_str(&format!("{prefix}{}: hook FAILED: {h}\n", r.name));
        }
    }
    let failed = results.iter().filter(|r| r.failed()).count();
    if failed == 0 {
        out.push_str(&format!(
            "{prefix}All {} certificate(s) OK.\n",
            results.len()
        ));
    }
    if !ctx.global.quiet || failed > 0 {
        print_stdout(&out);
    }
}
