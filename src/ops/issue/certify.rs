//! Obtain a certificate for `certonly` and `run`: unless the lineage already has a fresh one
//! for the same names; the renewal config saved with it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use time::OffsetDateTime;

use crate::acme::ExternalAccount;
use crate::config::{
    Authenticator, DeployTargets, Hooks, Installer, IssuanceSettings, RenewalConfig, RENEWAL_SCHEMA,
};
use crate::error::{Error, InputError};
use crate::store::{inspect, Store};
use crate::types::{join_names, CertName, DomainName, Email, KeyType, ServerUrl};

use crate::ops::deploy::hooks::run_hook;
use crate::ops::deploy::{pull_and_deploy, DeploySettings};
use crate::ops::fleet::{Exclusive, Fleet};
use crate::ops::issue::accounts::Registration;
use crate::ops::issue::csr::CsrOutput;
use crate::ops::issue::session::Session;
use crate::ops::issue::{self, AccountRequest, ObtainRequest};
use crate::ops::output::{date, print_json, print_stdout, rfc3339};
use crate::ops::privileges::{ListenAt, Prebound};
use crate::ops::renew::lineage::{decide, read_config, write_config, LiveCert};
use crate::ops::renew::state::LineageState;
use crate::ops::Ctx;

/// Everything `certonly` needs, validated.
pub(crate) struct Request {
    pub cert_name: CertName,
    pub cert_name_given: bool,
    pub domains: Vec<DomainName>,
    pub server: ServerUrl,
    pub ca_bundle: Option<PathBuf>,
    pub key_type: KeyType,
    pub authenticator: Authenticator,
    pub email: Option<Email>,
    pub without_email: bool,
    pub agree_tos: bool,
    pub force_renewal: bool,
    pub expand: bool,
    pub json: bool,
    pub eab: Option<ExternalAccount>,
    /// Issuance options from the flags, merged with the lineage's saved ones.
    pub issuance: IssuanceChoice,
    /// `--csr`: issue for this request and write the files given; no lineage.
    pub csr: Option<CsrOutput>,
    /// Ports bound before dropping to `--user`.
    pub prebound: Prebound,
    /// Fleet mode (`--store`).
    pub fleet: Option<Arc<Fleet>>,
    /// Deploy targets from the flags (`None`: as saved).
    pub deploy: Option<DeployTargets>,
    /// `--pre-hook`, `--post-hook`, `--deploy-hook`: run around this issuance and saved
    /// over the lineage's own.
    pub hooks: Hooks,
    /// `--dry-run`: talk to the staging counterpart, keep nothing (see `dry_run`).
    pub dry_run: bool,
    /// `--dry-run-server`: instead of the staging counterpart.
    pub dry_run_server: Option<ServerUrl>,
}

/// The issuance flags as given; `None`/false means "as saved" for an existing lineage.
#[derive(Debug, Clone, Default)]
pub(crate) struct IssuanceChoice {
    /// Some(true): --reuse-key; Some(false): --new-key.
    pub reuse_key: Option<bool>,
    pub preferred_chain: Option<String>,
    pub preferred_profile: Option<String>,
    pub required_profile: Option<String>,
    pub allow_subset_of_names: bool,
    pub ip_addresses: Vec<IpAddr>,
    pub issuance_timeout: Option<u64>,
    /// Some(None): --fallback-server "" (remove the saved one).
    pub fallback_server: Option<Option<ServerUrl>>,
}

impl IssuanceChoice {
    /// The settings for this issuance: flags given win, the rest stays as saved.
    pub(crate) fn settings(&self, saved: Option<&IssuanceSettings>) -> IssuanceSettings {
        let saved = saved.cloned().unwrap_or_default();
        let profiles_given = self.preferred_profile.is_some() || self.required_profile.is_some();
        IssuanceSettings {
            reuse_key: self.reuse_key.unwrap_or(saved.reuse_key),
            // "" removes a saved preference, as with `reconfigure`.
            preferred_chain: match &self.preferred_chain {
                Some(c) if c.is_empty() => None,
                Some(c) => Some(c.clone()),
                None => saved.preferred_chain,
            },
            preferred_profile: if profiles_given {
                self.preferred_profile.clone()
            } else {
                saved.preferred_profile
            },
            required_profile: if profiles_given {
                self.required_profile.clone()
            } else {
                saved.required_profile
            },
            allow_subset_of_names: self.allow_subset_of_names || saved.allow_subset_of_names,
            ip_addresses: self.ip_addresses.clone(),
            issuance_timeout: self.issuance_timeout.or(saved.issuance_timeout),
            fallback_server: match &self.fallback_server {
                Some(given) => given.clone(),
                None => saved.fallback_server,
            },
        }
    }
}

impl Request {
    /// A new account needs a contact (or the explicit choice not to give one).
    pub(crate) fn check_contact(&self, store: &Store) -> Result<(), Error> {
        if self.email.is_some() || self.without_email {
            return Ok(());
        }
        if store
            .find_account(&self.server.account_dir_name())?
            .is_some()
        {
            return Ok(());
        }
        Err(InputError::Needs {
            what: "a new ACME account".into(),
            needs: "a contact: pass -m EMAIL, or --register-unsafely-without-email".into(),
        }
        .into())
    }

    /// certbot's prompt for a new account's email at a terminal (none given, no account
    /// stored for the server yet); Enter skips it. With -n or no terminal nothing is asked
    /// and `check_contact` says what is missing.
    pub(crate) fn ask_contact(&mut self, interactive: bool, store: &Store) -> Result<(), Error> {
        use std::io::IsTerminal;
        if self.email.is_some() || self.without_email || !interactive {
            return Ok(());
        }
        if !std::io::stdin().is_terminal() || has_account(store, &self.server) {
            return Ok(());
        }
        let answer = crate::ops::output::ask_line(
            "Enter email address or hit Enter to skip (used for urgent renewal and security notices)",
        )
        .unwrap_or_default();
        if answer.is_empty() {
            self.without_email = true;
        } else {
            self.email = Some(answer.parse()?);
        }
        Ok(())
    }

    /// The session for this run: it serves challenges on ports bound before `--user`.
    pub(crate) fn session(&self) -> Session {
        Session::with_prebound(self.prebound.clone()).with_fleet(self.fleet.clone())
    }

    /// The issuance request for `domains` (the request's own, or a CSR's) with a new
    /// account registered as the flags say if the server has none yet.
    pub(crate) fn obtain_request<'a>(
        &'a self,
        ctx: &Ctx,
        domains: &'a [DomainName],
        issuance: &'a IssuanceSettings,
    ) -> ObtainRequest<'a> {
        ObtainRequest {
            cert_name: &self.cert_name,
            domains,
            server: &self.server,
            ca_bundle: self.ca_bundle.as_deref(),
            key_type: self.key_type,
            authenticator: &self.authenticator,
            account: AccountRequest {
                account_id: None,
                registration: Registration {
                    email: self.email.as_ref(),
                    agree_tos: self.agree_tos,
                    interactive: ctx.interactive(),
                    eab: self.eab.as_ref(),
                },
            },
            reuse_key: None,
            replaces: None,
            revalidate: false,
            issuance,
        }
    }
}

/// Whether `store` holds an account for `server`, read without preparing the store (a run
/// that must write nothing may have no config dir yet).
fn has_account(store: &Store, server: &ServerUrl) -> bool {
    store.config_dir().is_dir()
        && store
            .find_account(&server.account_dir_name())
            .ok()
            .flatten()
            .is_some()
}

/// The standalone port an authenticator binds, if any (to bind before `--user`).
pub(crate) fn standalone_ports(auth: &Authenticator) -> Vec<ListenAt> {
    match auth {
        Authenticator::Standalone {
            http_01_port,
            http_01_address,
        } => vec![(*http_01_address, *http_01_port)],
        _ => vec![],
    }
}

/// What `certonly` (and `run`, before installing) did for the lineage.
pub(crate) struct Outcome {
    /// "issued", "renewed" or "not_due".
    pub result: &'static str,
    pub version: u32,
    pub info: inspect::CertInfo,
}

#[derive(Serialize)]
struct JsonResult<'a> {
    schema: u32,
    result: &'a str,
    cert_name: &'a str,
    domains: Vec<String>,
    version: u32,
    not_after: String,
    paths: crate::store::LivePaths,
    #[serde(skip_serializing_if = "Option::is_none")]
    installed: Option<bool>,
}

/// Obtain a certificate for the request unless the lineage already has a fresh one for the
/// same names; on success save the renewal config (with `installer`, if given). In fleet
/// mode: up to date with the fleet first, under the lineage's shared lock (waiting for
/// another node's order to finish), and what was obtained is published to the fleet.
pub(crate) async fn obtain_unless_fresh(
    ctx: &Ctx,
    store: &Store,
    req: &Request,
    installer: Option<Installer>,
) -> Result<Outcome, Error> {
    let Some(fleet) = &req.fleet else {
        return obtain_locally_unless_fresh(ctx, store, req, installer).await;
    };
    pull_and_deploy(fleet, &ctx.ui, store, &DeploySettings::default()).await?;
    let locked = fleet.exclusive(&ctx.ui, store, &req.cert_name, true, |_| {
        obtain_locally_unless_fresh(ctx, store, req, installer)
    });
    match locked.await? {
        Exclusive::Done(outcome) => Ok(outcome),
        Exclusive::HeldElsewhere => Err(Error::Internal("the fleet lock was not taken".into())),
    }
}

async fn obtain_locally_unless_fresh(
    ctx: &Ctx,
    store: &Store,
    req: &Request,
    installer: Option<Installer>,
) -> Result<Outcome, Error> {
    let existing = read_config(store, &req.cert_name)?;
    let mut is_renewal = false;
    if let Some(existing) = &existing {
        if let Some(fresh) = fresh_enough(ctx, store, req, existing, installer.as_ref())? {
            return Ok(fresh);
        }
        is_renewal = store.current_version(&req.cert_name)?.is_some();
    }
    if existing.is_none() {
        req.check_contact(store)?;
    }
    let issuance = req
        .issuance
        .settings(existing.as_ref().map(|e| &e.issuance));
    let hooks = existing
        .as_ref()
        .map(|e| e.hooks.overridden_by(&req.hooks))
        .unwrap_or_else(|| req.hooks.clone());
    if let Some(pre) = &req.hooks.pre_hook {
        run_hook(&ctx.ui, "pre-hook", pre, &[]).await?;
    }
    let session = req.session();
    let obtained = issue::obtain(
        &ctx.ui,
        &session,
        store,
        store,
        &req.obtain_request(ctx, &req.domains, &issuance),
    )
    .await;
    session.shutdown().await;
    let post = match &req.hooks.post_hook {
        Some(post) => run_hook(&ctx.ui, "post-hook", post, &[]).await,
        None => Ok(()),
    };
    let obtained = obtained?;
    let config = RenewalConfig {
        schema: RENEWAL_SCHEMA,
        cert_name: req.cert_name.clone(),
        // The names issued for: --allow-subset-of-names may have dropped some.
        domains: obtained.domains.clone(),
        server: req.server.clone(),
        ca_bundle: req.ca_bundle.clone(),
        account: obtained.account_id.clone(),
        key_type: req.key_type,
        authenticator: req.authenticator.clone(),
        installer: installer.or_else(|| existing.as_ref().and_then(|e| e.installer.clone())),
        renew_before_expiry_days: existing.as_ref().and_then(|e| e.renew_before_expiry_days),
        issuance,
        deploy: req
            .deploy
            .clone()
            .or_else(|| existing.as_ref().map(|e| e.deploy.clone()))
            .unwrap_or_default(),
        hooks,
    };
    write_config(store, &config)?;
    post?;
    if let Some(hook) = &req.hooks.deploy_hook {
        let lineage = store.live_dir(&req.cert_name);
        let domains = join_names(&config.domains, " ");
        let env = [
            ("RENEWED_LINEAGE", lineage.to_string_lossy().into_owned()),
            ("RENEWED_DOMAINS", domains),
        ];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        run_hook(&ctx.ui, "deploy-hook", hook, &env).await?;
    }
    Ok(Outcome {
        result: if is_renewal { "renewed" } else { "issued" },
        version: obtained.version,
        info: obtained.info,
    })
}

/// `certonly --dry-run`: the whole issuance against the staging counterpart (renew's dry-run
/// server and throwaway store), pre- and post-hooks included, deploy hooks not (as certbot).
/// Nothing under the config dir is written: the stored account is used if the server has
/// one, else a throwaway account is registered in the throwaway store.
pub(crate) async fn dry_run(ctx: &Ctx, store: &Store, req: &Request) -> Result<(), Error> {
    use crate::ops::renew::{dry_run_server, DryRunStore};
    let server = dry_run_server(&req.server, req.dry_run_server.as_ref());
    let throwaway = DryRunStore::new(true)?;
    let scratch = throwaway
        .store()
        .ok_or_else(|| Error::Internal("the dry-run store was not made".into()))?;
    let account_store = if has_account(store, &server) {
        store
    } else {
        scratch
    };
    req.check_contact(account_store)?;
    if let Some(pre) = &req.hooks.pre_hook {
        run_hook(&ctx.ui, "pre-hook", pre, &[]).await?;
    }
    let issuance = req.issuance.settings(None);
    let mut order = req.obtain_request(ctx, &req.domains, &issuance);
    order.server = &server;
    let session = req.session();
    let obtained = issue::obtain(&ctx.ui, &session, account_store, scratch, &order).await;
    session.shutdown().await;
    if let Some(post) = &req.hooks.post_hook {
        run_hook(&ctx.ui, "post-hook", post, &[]).await?;
    }
    obtained.map(drop)
}

/// The request against the lineage it would replace: a change of names needs `--expand`
/// or an explicit `--cert-name`; the same names with a certificate not yet due need no
/// order (`not_due`; a new installer is still saved).
fn fresh_enough(
    ctx: &Ctx,
    store: &Store,
    req: &Request,
    existing: &RenewalConfig,
    installer: Option<&Installer>,
) -> Result<Option<Outcome>, Error> {
    let added: Vec<&DomainName> = req
        .domains
        .iter()
        .filter(|d| !existing.domains.contains(d))
        .collect();
    let removed = existing.domains.iter().any(|d| !req.domains.contains(d));
    if !added.is_empty() && !removed && !req.expand {
        return Err(InputError::NeedsExpand {
            cert_name: req.cert_name.to_string(),
            existing: join_names(&existing.domains, ", "),
            added: added
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
        .into());
    }
    if removed && !req.cert_name_given {
        return Err(InputError::NamesChanged {
            cert_name: req.cert_name.to_string(),
            existing: join_names(&existing.domains, ", "),
            wanted: join_names(&req.domains, ", "),
        }
        .into());
    }
    let same_names =
        added.is_empty() && !removed && existing.issuance.ip_addresses == req.issuance.ip_addresses;
    if !same_names || req.force_renewal {
        return Ok(None);
    }
    let Some(live) = crate::ops::renew::lineage::read_live_cert(store, &req.cert_name)? else {
        return Ok(None);
    };
    let state = LineageState::load(&ctx.ui, store, &req.cert_name);
    if decide(
        existing,
        &state,
        Some(&live),
        false,
        OffsetDateTime::now_utc(),
    )
    .due_now
    {
        return Ok(None);
    }
    let mut updated = existing.clone();
    if installer.is_some() {
        updated.installer = installer.cloned();
    }
    if let Some(deploy) = &req.deploy {
        updated.deploy = deploy.clone();
    }
    updated.hooks = existing.hooks.overridden_by(&req.hooks);
    if &updated != existing {
        write_config(store, &updated)?;
    }
    let LiveCert { info, .. } = live;
    Ok(Some(Outcome {
        result: "not_due",
        version: store.current_version(&req.cert_name)?.unwrap_or(0),
        info,
    }))
}

/// The final summary (text like certbot's, or one JSON object). `installed`: whether an
/// installer ran (`run`), None for `certonly`.
pub(crate) fn print_outcome(
    ctx: &Ctx,
    store: &Store,
    req: &Request,
    outcome: &Outcome,
    installed: Option<bool>,
) {
    let paths = store.live_paths(&req.cert_name);
    if req.json {
        let out = JsonResult {
            schema: 1,
            result: outcome.result,
            cert_name: req.cert_name.as_str(),
            // As issued: --allow-subset-of-names may have dropped names.
            domains: req
                .domains
                .iter()
                .map(|d| d.to_string())
                .chain(req.issuance.ip_addresses.iter().map(|ip| ip.to_string()))
                .filter(|d| outcome.info.domains.contains(d))
                .collect(),
            version: outcome.version,
            not_after: rfc3339(outcome.info.not_after),
            paths,
            installed,
        };
        print_json(&out, false);
        return;
    }
    if ctx.global.quiet {
        return;
    }
    let text = if outcome.result == "not_due" {
        format!(
            "Certificate not yet due for renewal; no action taken.\n\
             Certificate {} ({}) expires on {}. Use --force-renewal to renew anyway.\n",
            req.cert_name,
            paths.fullchain.display(),
            date(outcome.info.not_after)
        )
    } else {
        format!(
            "Successfully received certificate.\n\
             Certificate is saved at: {}\n\
             Key is saved at:         {}\n\
             This certificate expires on {}.\n\
             These files will be updated when the certificate renews (`certwright renew`).\n",
            paths.fullchain.display(),
            paths.privkey.display(),
            date(outcome.info.not_after),
        )
    };
    print_stdout(&text);
}

/// `run --dry-run`: the diff the install would make, using the paths the lineage has (or
/// will have); nothing is ordered.
pub(crate) fn install_preview(
    ctx: &Ctx,
    store: &Store,
    request: &Request,
    installer: &Installer,
) -> Result<crate::ops::deploy::nginx_txn::Installed, Error> {
    let config = planned_config(request, installer);
    let name = &request.cert_name;
    crate::ops::deploy::nginx_txn::install_lineage(&ctx.ui, store, name, &config, installer, true)
}

/// `run`, before ordering: refuse (exit 5, with the `--expand` command) when a block the
/// install would patch also serves names the certificate would not cover. Other problems
/// with nginx surface at install time, as before.
pub(crate) fn check_install_names(
    store: &Store,
    request: &Request,
    installer: &Installer,
) -> Result<(), Error> {
    let config = planned_config(request, installer);
    crate::ops::deploy::nginx_txn::check_names(store, &config, installer)
}

/// The renewal config `run` will write for `request`, as far as installing needs it.
fn planned_config(request: &Request, installer: &Installer) -> RenewalConfig {
    RenewalConfig {
        schema: RENEWAL_SCHEMA,
        cert_name: request.cert_name.clone(),
        domains: request.domains.clone(),
        server: request.server.clone(),
        ca_bundle: request.ca_bundle.clone(),
        account: String::new(),
        key_type: request.key_type,
        authenticator: request.authenticator.clone(),
        installer: Some(installer.clone()),
        renew_before_expiry_days: None,
        issuance: Default::default(),
        deploy: Default::default(),
        hooks: request.hooks.clone(),
    }
}
