//! The renewal pass shared by `renew`, the daemon and `reconfigure`: renew every lineage
//! that is due, each on its own (one failure never blocks the others nor touches their
//! files), with hooks, ARI and a dry run that changes nothing.

pub(crate) mod ari;
pub(crate) mod lineage;
pub(crate) mod overrides;
pub(crate) mod report;
pub(crate) mod state;

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::stream::{self, StreamExt};
use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use crate::acme::AriCertId;
use crate::config::RenewalConfig;
use crate::error::{AcmeError, Error, HookError, StoreError};
use crate::schedule::{Decision, FailureState, RetryAfter};
use crate::store::Store;
use crate::types::{CertName, ServerUrl};

use crate::ops::deploy::hooks::{directory_hooks, run_checked_hook};
use crate::ops::deploy::{deploy_lineage, pull_and_deploy, DeploySettings, Synced};
use crate::ops::fleet::{Exclusive, Fleet};
use crate::ops::issue::accounts::Registration;
use crate::ops::issue::certify::standalone_ports;
use crate::ops::issue::session::Session;
use crate::ops::issue::{self, AccountRequest, ObtainRequest, Obtained};
use crate::ops::output::{rfc3339, Ui};
use crate::ops::privileges::{ListenAt, Prebound};
use crate::ops::renew::ari::{ari_url, refresh_ari, CaCache};
use crate::ops::renew::lineage::{load_many, load_with_config, write_config, Lineage};
use crate::ops::renew::overrides::Overrides;
use crate::ops::renew::state::LineageState;

/// What to renew and how; shared by `renew` and `daemon`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RenewRequest {
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
    pub prebound: Prebound,
    /// Fleet mode (`--store`).
    pub fleet: Option<Arc<Fleet>>,
    /// Alert targets and metrics textfile (see `ops::deploy::alerts`).
    pub alerts: crate::ops::deploy::alerts::AlertSettings,
    /// `--ca-bundle` / `CERTWRIGHT_CA_BUNDLE`: trusted instead of each lineage's saved
    /// bundle, for this run (the renewal config is not rewritten).
    pub ca_bundle: Option<PathBuf>,
    /// certbot's overrides of the saved settings (`renew` only): applied to each lineage,
    /// saved with a successful renewal.
    pub overrides: Overrides,
    /// `--no-directory-hooks`: skip `<config-dir>/renewal-hooks/`.
    pub no_directory_hooks: bool,
    /// A lineage's renewal config to use instead of its stored one: `reconfigure` tries
    /// new settings with a dry run before it saves them.
    pub unsaved_config: Option<RenewalConfig>,
}

impl RenewRequest {
    fn deploy_settings(&self, store: &Store) -> DeploySettings {
        DeploySettings {
            deploy_hook: self.deploy_hook.clone(),
            dry_run: self.dry_run,
            hook_dirs_of: (!self.no_directory_hooks).then(|| store.config_dir().to_path_buf()),
        }
    }
}

/// How one lineage fared in a pass.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub(crate) enum Outcome {
    Renewed {
        version: u32,
        not_after: String,
        /// The fallback CA that issued it, when the lineage's own CA failed.
        #[serde(skip_serializing_if = "Option::is_none")]
        fallback_ca: Option<String>,
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
        #[serde(serialize_with = "as_text")]
        error: Arc<Error>,
    },
    /// Fleet mode: another node renewed it; this node installed that version.
    Synced {
        version: u64,
    },
    /// Fleet mode: another node holds the lineage's lock (it is renewing it right now).
    Elsewhere,
}

fn as_text<S: Serializer, T: std::fmt::Display>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

fn as_opt_text<S: Serializer>(value: &Option<HookError>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct LineageResult {
    pub name: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// A hook failed after a successful renewal.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "as_opt_text"
    )]
    pub hook_error: Option<HookError>,
    /// It was renewed because the CA's ARI window had already ended (moved into the past):
    /// worth an `ari_window_in_past` alert even though the renewal succeeded.
    #[serde(skip)]
    pub ari_window_passed: bool,
    /// The lineage as the pass read it, when nothing changed it since (not due, backing
    /// off) and alerts or metrics will need it: read once, not again by `after_pass`.
    #[serde(skip)]
    pub unchanged: Option<Unchanged>,
}

/// A lineage kept with its result (see [`LineageResult::unchanged`]).
#[derive(Clone)]
pub(crate) struct Unchanged(pub Arc<Lineage>);

impl std::fmt::Debug for Unchanged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Unchanged({})", self.0.name)
    }
}

impl LineageResult {
    fn new(name: &CertName, outcome: Outcome) -> LineageResult {
        LineageResult {
            name: name.to_string(),
            outcome,
            hook_error: None,
            ari_window_passed: false,
            unchanged: None,
        }
    }

    fn failed_with(name: &CertName, error: Error) -> LineageResult {
        LineageResult::new(
            name,
            Outcome::Failed {
                error: Arc::new(error),
            },
        )
    }

    fn synced(s: Synced) -> LineageResult {
        LineageResult {
            name: s.name.to_string(),
            outcome: Outcome::Synced { version: s.version },
            hook_error: s.hook_error,
            ari_window_passed: false,
            unchanged: None,
        }
    }

    /// Whether this lineage makes the run fail. One skipped while backing off counts: its
    /// certificate is due and was not renewed, and cron or a systemd timer must not see a
    /// success (nor the summary say "OK") until a retry works.
    pub(crate) fn failed(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::Failed { .. } | Outcome::BackingOff { .. }
        ) || self.hook_error.is_some()
    }

    /// The error itself, when renewing this lineage failed.
    pub(crate) fn error(&self) -> Option<&Error> {
        match &self.outcome {
            Outcome::Failed { error } => Some(error),
            _ => None,
        }
    }

    /// The fallback CA that issued this renewal, when the lineage's own CA failed it.
    pub(crate) fn fallback_ca(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Renewed { fallback_ca, .. } => fallback_ca.as_deref(),
            _ => None,
        }
    }
}

/// The run's error from the pass's results: the shared store's (exit 6) when it made any
/// lineage fail, else a count of failures (exit 1), else none.
pub(crate) fn pass_error(req: &RenewRequest, results: &[LineageResult]) -> Option<Error> {
    let store_failed = results
        .iter()
        .filter(|r| matches!(r.error(), Some(Error::Shared { .. })))
        .count();
    if let (Some(fleet), true) = (&req.fleet, store_failed > 0) {
        return Some(Error::Shared {
            store: fleet.shared.describe().to_string(),
            reason: format!(
                "{store_failed} of {} certificate(s) not renewed because of the shared store (see above); nothing was installed for them",
                results.len()
            ),
        });
    }
    let failed = results.iter().filter(|r| r.failed()).count();
    (failed > 0).then_some(Error::SomeFailed {
        failed,
        total: results.len(),
    })
}

/// The standalone ports of the selected lineages (all when `names` is empty), read without
/// side effects so they can be bound before dropping to `--user`. Unreadable configs are
/// skipped here and reported by the pass.
pub(crate) fn lineage_ports(store: &Store, names: &[CertName]) -> Vec<ListenAt> {
    let Ok((all, _)) = store.list_lineages() else {
        return vec![];
    };
    let mut ports = Vec::new();
    for name in all.iter().filter(|n| names.is_empty() || names.contains(n)) {
        // Without the owner check: only to learn which ports to bind as root before
        // dropping to `--user` (whose files these then are); nothing else is acted on.
        let Ok(Some(json)) = store.read_renewal_for_ports(name) else {
            continue;
        };
        let Ok(config) = RenewalConfig::parse(&json, &store.renewal_file(name)) else {
            continue;
        };
        for p in standalone_ports(&config.authenticator) {
            if !ports.contains(&p) {
                ports.push(p);
            }
        }
    }
    let every_address = every_address_ports(&ports);
    ports.retain(|(address, port)| address.is_none() || !every_address.contains(port));
    ports
}

/// Ports some of `at` listens on at every address (no `--http-01-address`): the pass binds
/// only that listener there, which also answers on the specific addresses.
fn every_address_ports(at: &[ListenAt]) -> Vec<u16> {
    at.iter()
        .filter(|(address, _)| address.is_none())
        .map(|(_, port)| *port)
        .collect()
}

/// Whether a pass would renew anything, judged offline from the stored certificates, state
/// and ARI windows (a window the pass would fetch anew is not known yet). Cron's random
/// sleep happens only then, as certbot's does: a no-op `renew` returns at once. Unreadable
/// lineages count as not due here; the pass reports them.
pub(crate) fn anything_due(store: &Store, req: &RenewRequest, now: OffsetDateTime) -> bool {
    if req.force || req.dry_run {
        return true;
    }
    let Ok((mut names, _)) = store.list_lineages() else {
        return true;
    };
    if !req.names.is_empty() {
        names.retain(|n| req.names.contains(n));
    }
    let quiet = Ui {
        quiet: true,
        tty: false,
    };
    load_many(&quiet, store, &names, false, now).any(|(_, loaded)| {
        loaded.is_ok_and(|l| {
            l.decision.due_now && l.state.failure.as_ref().is_none_or(|f| f.attempt_due(now))
        })
    })
}

/// One renewal pass over the selected lineages. Errors are per lineage, except a store that
/// cannot even be listed.
pub(crate) async fn renew_pass(
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
        let synced = pull_and_deploy(fleet, ui, store, &req.deploy_settings(store)).await?;
        results.extend(synced.into_iter().map(LineageResult::synced));
    }
    let mut session = Session::with_prebound(req.prebound.clone()).with_fleet(fleet.cloned());
    let mut lineages = load_selected(ui, store, req, now, &mut results)?;
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
            req.force,
            now,
            &mut directories,
        )
        .await;
        // Kept even when nothing is due, so the next run needs no request either.
        ca_cache.record(ui, store, &directories, now);
    }
    let due = sort_due(lineages, req, now, &mut results);
    if due.is_empty() {
        return Ok(results);
    }
    let listen_at: Vec<ListenAt> = due
        .iter()
        .flat_map(|l| standalone_ports(&l.config.authenticator))
        .collect();
    session.listen_on_every_address(every_address_ports(&listen_at));
    let dry_store = DryRunStore::new(req.dry_run)?;
    let cert_store = dry_store.store().unwrap_or(store);
    // ARI's `replaces` only goes to a CA that offers ARI (instant-acme refuses to send it
    // otherwise, failing the order). A dry run talks to another server and never sends it.
    if !req.dry_run {
        for l in due.iter().filter(|l| has_aki(l)) {
            ari_url(ui, &session, &l.config, &mut directories).await;
        }
        ca_cache.record(ui, store, &directories, now);
    }
    let offers_ari =
        |l: &Lineage| matches!(directories.get(l.config.server.as_str()), Some(Some(_)));
    let (pre_hooks, post_hooks) = pass_hooks(ui, store, req, &due);
    let hook = run_hooks(ui, "pre-hook", &pre_hooks).await;
    let renewed: Vec<LineageResult> = stream::iter(due)
        .map(|l| {
            let replaces_ok = offers_ari(&l);
            renew_one(ui, &session, store, cert_store, req, l, replaces_ok)
        })
        .buffer_unordered(req.concurrency.max(1))
        .collect()
        .await;
    session.shutdown().await;
    results.extend(renewed);
    let post = run_hooks(ui, "post-hook", &post_hooks).await;
    blame_hook_failure(ui, &mut results, hook.err().or(post.err()));
    results.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(results)
}

fn has_aki(l: &Lineage) -> bool {
    l.info
        .as_ref()
        .is_some_and(|i| i.authority_key_id.is_some())
}

/// The selected lineages, read; those already synced from the fleet are skipped, those that
/// cannot be read are failed results (a missing selected name fails the whole pass).
fn load_selected(
    ui: &Ui,
    store: &Store,
    req: &RenewRequest,
    now: OffsetDateTime,
    results: &mut Vec<LineageResult>,
) -> Result<Vec<Lineage>, Error> {
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
    // Already synced from the fleet: not read again.
    names.retain(|n| !results.iter().any(|r| r.name == n.as_str()));
    // A config given in memory (`reconfigure`'s new settings): that lineage's file is not read.
    let unsaved = req
        .unsaved_config
        .as_ref()
        .filter(|c| names.contains(&c.cert_name));
    names.retain(|n| unsaved.is_none_or(|c| c.cert_name != *n));
    let unsaved = unsaved.map(|c| {
        let loaded = load_with_config(ui, store, &c.cert_name, c.clone(), req.force, now);
        (c.cert_name.clone(), loaded)
    });
    let mut lineages = Vec::new();
    for (name, loaded) in load_many(ui, store, &names, req.force, now).chain(unsaved) {
        match loaded {
            Ok(mut l) => {
                l.config = req.overrides.apply(&l.config);
                if let Some(bundle) = &req.ca_bundle {
                    l.config.ca_bundle = Some(bundle.clone());
                }
                lineages.push(l)
            }
            Err(e) => {
                // On stderr too, as for a failed renewal: cron and systemd surface stderr.
                ui.warn(format!("{name}: cannot renew: {e}"));
                results.push(LineageResult::failed_with(&name, e));
            }
        }
    }
    Ok(lineages)
}

/// The lineages to renew now; the others become `not_due` or `backing_off` results.
fn sort_due(
    lineages: Vec<Lineage>,
    req: &RenewRequest,
    now: OffsetDateTime,
    results: &mut Vec<LineageResult>,
) -> Vec<Lineage> {
    let mut due = Vec::new();
    let keep = !req.alerts.is_empty();
    let unchanged = |l: Lineage, outcome: Outcome| {
        let mut result = LineageResult::new(&l.name, outcome);
        result.unchanged = keep.then(|| Unchanged(Arc::new(l)));
        result
    };
    for l in lineages {
        if !req.dry_run && !l.decision.due_now {
            let decision = l.decision;
            results.push(unchanged(l, Outcome::NotDue { decision }));
            continue;
        }
        match &l.state.failure {
            Some(f) if !req.dry_run && !req.force && !f.attempt_due(now) => {
                let outcome = Outcome::BackingOff {
                    until: rfc3339(f.next_attempt),
                    last_error: f.last_error.clone(),
                };
                results.push(unchanged(l, outcome));
            }
            _ => due.push(l),
        }
    }
    due
}

/// A dry run's certificates go to a throwaway store, deleted when the pass ends.
pub(crate) struct DryRunStore(Option<(tempfile::TempDir, Store)>);

impl DryRunStore {
    pub(crate) fn new(dry_run: bool) -> Result<DryRunStore, Error> {
        if !dry_run {
            return Ok(DryRunStore(None));
        }
        let dir = tempfile::Builder::new()
            .prefix("certwright-dry-run-")
            .tempdir()
            .map_err(|e| {
                StoreError::Other(format!("cannot create a temp dir for the dry run: {e}"))
            })?;
        let s = Store::new(&dir.path().join("config"), &dir.path().join("work"));
        s.prepare()?;
        Ok(DryRunStore(Some((dir, s))))
    }

    pub(crate) fn store(&self) -> Option<&Store> {
        self.0.as_ref().map(|(_, s)| s)
    }
}

/// The pass's pre- and post-hooks: the directory hooks, then each distinct command of the
/// run's flags and the due lineages' saved hooks (certbot runs a command shared by several
/// lineages once).
fn pass_hooks(
    ui: &Ui,
    store: &Store,
    req: &RenewRequest,
    due: &[Lineage],
) -> (Vec<String>, Vec<String>) {
    let dirs = |kind: &str| {
        if req.no_directory_hooks {
            Vec::new()
        } else {
            directory_hooks(ui, store.config_dir(), kind)
        }
    };
    let (mut pre, mut post) = (dirs("pre"), dirs("post"));
    let add = |list: &mut Vec<String>, hook: Option<&String>| {
        if let Some(h) = hook.filter(|h| !list.contains(h)) {
            list.push(h.clone());
        }
    };
    add(&mut pre, req.pre_hook.as_ref());
    add(&mut post, req.post_hook.as_ref());
    for l in due {
        add(&mut pre, l.config.hooks.pre_hook.as_ref());
        add(&mut post, l.config.hooks.post_hook.as_ref());
    }
    (pre, post)
}

/// Run each hook (checked again: a saved one's file may have changed); the first failure
/// is returned, the rest still run (a post-hook restarts what a pre-hook stopped).
async fn run_hooks(ui: &Ui, kind: &'static str, hooks: &[String]) -> Result<(), HookError> {
    let mut first = Ok(());
    for command in hooks {
        if let Err(e) = run_checked_hook(ui, kind, command, &[]).await {
            ui.warn(e.to_string());
            if first.is_ok() {
                first = Err(e);
            }
        }
    }
    first
}

/// A pre- or post-hook failure is reported on the first lineage renewed in the pass.
fn blame_hook_failure(ui: &Ui, results: &mut [LineageResult], failed: Option<HookError>) {
    let Some(e) = failed else { return };
    ui.warn(format!("hook failed: {e}"));
    if let Some(first) = results
        .iter_mut()
        .find(|r| matches!(r.outcome, Outcome::Renewed { .. } | Outcome::WouldRenew))
    {
        first.hook_error.get_or_insert(e);
    }
}

/// What an order under the fleet's lineage lock came to.
enum Ordered {
    Obtained(Box<Obtained>),
    /// Another node had renewed it meanwhile: this node installed that version instead.
    Pulled,
    /// Another node holds the lock.
    Elsewhere,
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
    ui.note(format!("Renewing {} ({})", l.name, l.decision));
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
    let ari_window_passed = matches!(l.decision.reason,
        crate::schedule::Reason::AriWindow { end, .. } if end <= OffsetDateTime::now_utc());
    let mut obtain_request = renewal_order(&l.config, &server, replaces.as_ref());
    obtain_request.revalidate = req.dry_run;
    let ordered = order_locked(ui, session, store, cert_store, &l.name, &obtain_request).await;
    let (ordered, fallback) = match (ordered, l.config.issuance.fallback_server.as_ref()) {
        (Err(e), Some(fallback)) if !req.dry_run && is_the_cas_fault(&e) => {
            ui.warn(format!(
                "{}: the CA failed the renewal ({e}); trying the fallback CA {fallback}",
                l.name
            ));
            let fallback_request = renewal_order(&l.config, fallback, None);
            let ordered =
                order_locked(ui, session, store, cert_store, &l.name, &fallback_request).await;
            (ordered, Some(fallback.to_string()))
        }
        (ordered, _) => (ordered, None),
    };
    let mut result = match ordered {
        Ok(Ordered::Elsewhere) => LineageResult::new(&l.name, Outcome::Elsewhere),
        Ok(Ordered::Pulled) => {
            let settings = req.deploy_settings(store);
            let synced = crate::ops::deploy::synced_deploy(ui, store, &l.name, &settings).await;
            LineageResult::synced(synced)
        }
        Ok(Ordered::Obtained(obtained)) => {
            renewed(ui, store, cert_store, req, &mut l, *obtained).await
        }
        Err(e) => failed(ui, store, req, &mut l, e),
    };
    result.ari_window_passed = ari_window_passed;
    if let Outcome::Renewed { fallback_ca, .. } = &mut result.outcome {
        *fallback_ca = fallback;
    }
    result
}

/// A failure another CA might not have: the CA refused or failed the order, or could not
/// be reached. Not a failed validation (our challenge path), nor our own store or nginx.
fn is_the_cas_fault(e: &Error) -> bool {
    matches!(
        e,
        Error::Acme(
            AcmeError::Problem(_)
                | AcmeError::Transport { .. }
                | AcmeError::Protocol(_)
                | AcmeError::Timeout { .. }
                | AcmeError::BadCertificate(_)
        )
    )
}

/// The order for a lineage's renewal, with the account it was issued with (when the server
/// is the same: a dry run may talk to another).
fn renewal_order<'a>(
    config: &'a RenewalConfig,
    server: &'a ServerUrl,
    replaces: Option<&'a AriCertId>,
) -> ObtainRequest<'a> {
    let same_account = *server == config.server;
    ObtainRequest {
        cert_name: &config.cert_name,
        domains: &config.domains,
        server,
        ca_bundle: config.ca_bundle.as_deref(),
        key_type: config.key_type,
        authenticator: &config.authenticator,
        account: AccountRequest {
            account_id: same_account.then_some(config.account.as_str()),
            registration: Registration {
                email: None,
                // Terms were accepted when the lineage was created.
                agree_tos: true,
                interactive: false,
                eab: None,
            },
        },
        reuse_key: None,
        replaces,
        revalidate: false,
        issuance: &config.issuance,
    }
}

/// Order, in fleet mode only under the lineage's shared lock and only if no other node
/// renewed it meanwhile.
async fn order_locked(
    ui: &Ui,
    session: &Session,
    store: &Store,
    cert_store: &Store,
    name: &CertName,
    req: &ObtainRequest<'_>,
) -> Result<Ordered, Error> {
    let order = issue::obtain(ui, session, store, cert_store, req);
    let Some(fleet) = session.fleet() else {
        return order.await.map(|o| Ordered::Obtained(Box::new(o)));
    };
    let locked = fleet
        .exclusive(ui, store, name, false, |pulled| async move {
            if pulled {
                return Ok(Ordered::Pulled);
            }
            order.await.map(|o| Ordered::Obtained(Box::new(o)))
        })
        .await?;
    Ok(match locked {
        Exclusive::Done(ordered) => ordered,
        Exclusive::HeldElsewhere => Ordered::Elsewhere,
    })
}

/// A renewal that worked: bookkeeping reset, then reload and deploy hook (a dry run runs
/// the deploy hook only with --run-deploy-hooks, on the throwaway files).
async fn renewed(
    ui: &Ui,
    store: &Store,
    cert_store: &Store,
    req: &RenewRequest,
    l: &mut Lineage,
    obtained: Obtained,
) -> LineageResult {
    let settings = req.deploy_settings(store);
    if req.dry_run {
        let mut r = LineageResult::new(&l.name, Outcome::WouldRenew);
        if req.run_deploy_hooks {
            r.hook_error = deploy_lineage(ui, cert_store, &l.name, &l.config, &settings)
                .await
                .err();
        }
        return r;
    }
    l.state = LineageState {
        last_success: Some(OffsetDateTime::now_utc()),
        ..LineageState::default()
    };
    l.state.save(ui, store, &l.name);
    save_overrides(ui, store, l);
    let outcome = Outcome::Renewed {
        version: obtained.version,
        not_after: rfc3339(obtained.info.not_after),
        fallback_ca: None,
    };
    let mut r = LineageResult::new(&l.name, outcome);
    r.hook_error = deploy_lineage(ui, store, &l.name, &l.config, &settings)
        .await
        .err();
    r
}

/// After a successful renewal, the command line's overrides become the lineage's saved
/// settings, as certbot saves them (the run-only `--ca-bundle` excepted); said when so.
fn save_overrides(ui: &Ui, store: &Store, l: &Lineage) {
    let Ok(Some(saved)) = crate::ops::renew::lineage::read_config(store, &l.name) else {
        return;
    };
    let mut new = l.config.clone();
    new.ca_bundle = saved.ca_bundle.clone();
    if new == saved {
        return;
    }
    let changed = Overrides::describe_change(&saved, &new).join(", ");
    match write_config(store, &new) {
        Ok(()) => ui.note(format!(
            "{}: saved the new {changed} in {}",
            l.name,
            store.renewal_file(&l.name).display()
        )),
        Err(e) => ui.warn(format!(
            "{}: renewed, but the new {changed} were not saved: {e}",
            l.name
        )),
    }
}

/// A renewal that failed: reported, and (unless a dry run, or the shared store's fault:
/// no reason to back off from the CA) recorded for backoff.
fn failed(ui: &Ui, store: &Store, req: &RenewRequest, l: &mut Lineage, e: Error) -> LineageResult {
    ui.warn(format!("{}: renewal failed: {e}", l.name));
    if !req.dry_run && !matches!(e, Error::Shared { .. }) {
        let now = OffsetDateTime::now_utc();
        let retry_after = ca_retry_after(&e, now).or(match &e {
            Error::Acme(AcmeError::Problem(p)) if p.short_kind() == "rateLimited" => {
                Some(time::Duration::hours(1))
            }
            _ => None,
        });
        // Kept in state/, shown by plan and the daemon's status file, sent in alerts.
        l.state.failure = Some(FailureState::record(
            l.state.failure.as_ref(),
            crate::safe::text::sanitize_lines(&e.to_string()),
            now,
            retry_after,
            &mut rand::rng(),
        ));
        l.state.save(ui, store, &l.name);
    }
    LineageResult::failed_with(&l.name, e)
}

/// How long the CA asked us to stay away after a failure (the `Retry-After` of a 429 or
/// 503), capped for scheduling. None when it sent none or sent something unparseable.
pub(crate) fn ca_retry_after(err: &Error, now: OffsetDateTime) -> Option<time::Duration> {
    let Error::Acme(AcmeError::Problem(problem)) = err else {
        return None;
    };
    let raw = problem.retry_after.as_deref()?;
    RetryAfter::parse(raw, now).map(RetryAfter::for_scheduling)
}

/// The server a dry run talks to: Let's Encrypt production -> staging, others unchanged.
pub(crate) fn dry_run_server(server: &ServerUrl, over: Option<&ServerUrl>) -> ServerUrl {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Problem;
    use time::macros::datetime;
    use time::Duration;

    fn limited(retry_after: Option<&str>) -> Error {
        AcmeError::Problem(Problem {
            kind: Some("urn:ietf:params:acme:error:rateLimited".into()),
            detail: None,
            status: Some(429),
            subproblems: vec![],
            retry_after: retry_after.map(Into::into),
        })
        .into()
    }

    #[test]
    fn the_cas_retry_after_is_parsed_and_capped() {
        let now = datetime!(2026-03-01 12:00:00 UTC);
        let at = |v: &str| ca_retry_after(&limited(Some(v)), now);
        assert_eq!(at("120"), Some(Duration::seconds(120)));
        assert_eq!(
            at("Sun, 01 Mar 2026 13:30:00 GMT"),
            Some(Duration::minutes(90))
        );
        // A date in the past means now.
        assert_eq!(at("Sat, 28 Feb 2026 12:00:00 GMT"), Some(Duration::ZERO));
        // One year (or more than fits) is capped at a day.
        assert_eq!(at("31536000"), Some(Duration::DAY));
        assert_eq!(at("999999999999999999999999"), Some(Duration::DAY));
        // Garbage is ignored, not an error.
        assert_eq!(at("soon"), None);
        assert_eq!(at("-5"), None);
        assert_eq!(ca_retry_after(&limited(None), now), None);
        assert_eq!(
            ca_retry_after(&AcmeError::Protocol("x".into()).into(), now),
            None
        );
    }

    /// `reconfigure`'s dry run: the lineage is read with the config given in memory; the
    /// stored one is not used, and stays as it was.
    #[test]
    fn a_config_given_in_memory_replaces_the_stored_one() {
        use crate::config::{Authenticator, RenewalConfig};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(&dir.path().join("config"), &dir.path().join("work"));
        store.prepare().unwrap();
        let config = |name: &str| RenewalConfig {
            schema: 1,
            cert_name: name.parse().unwrap(),
            domains: vec![name.parse().unwrap()],
            server: "https://localhost:14000/dir".parse().unwrap(),
            ca_bundle: None,
            account: "abc".into(),
            key_type: crate::types::KeyType::default(),
            authenticator: Authenticator::Standalone {
                http_01_port: 80,
                http_01_address: None,
            },
            installer: None,
            renew_before_expiry_days: None,
            issuance: Default::default(),
            deploy: Default::default(),
            hooks: Default::default(),
        };
        let (a, b) = (config("a.example.com"), config("b.example.com"));
        write_config(&store, &a).unwrap();
        write_config(&store, &b).unwrap();
        let stored = store.read_renewal(&a.cert_name).unwrap();
        let mut unsaved = a.clone();
        unsaved.renew_before_expiry_days = Some(10);
        let req = RenewRequest {
            dry_run: true,
            unsaved_config: Some(unsaved.clone()),
            ..RenewRequest::default()
        };
        let ui = Ui {
            quiet: true,
            tty: false,
        };
        let now = OffsetDateTime::now_utc();
        let mut results = Vec::new();
        let read = load_selected(&ui, &store, &req, now, &mut results).unwrap();
        let config_of = |name: &CertName| read.iter().find(|l| l.name == *name).map(|l| &l.config);
        assert_eq!(config_of(&a.cert_name), Some(&unsaved));
        assert_eq!(config_of(&b.cert_name), Some(&b));
        assert_eq!(store.read_renewal(&a.cert_name).unwrap(), stored);
    }
}
