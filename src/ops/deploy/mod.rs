//! After a renewal (ours, or one another fleet node made): reload nginx where the lineage is
//! installed, then the deploy hook with certbot's environment.

pub(crate) mod alerts;
pub(crate) mod hooks;
pub(crate) mod nginx_txn;
pub(crate) mod served;
pub(crate) mod targets;

use crate::config::RenewalConfig;
use crate::error::{Error, HookError};
use crate::store::Store;
use crate::types::CertName;

use crate::ops::deploy::hooks::{directory_hooks, run_checked_hook};
use crate::ops::fleet::{self, Fleet};
use crate::ops::output::Ui;

/// What a deploy runs: the deploy hook (over the lineage's saved one), and whether this is
/// a dry run (no nginx reload).
#[derive(Debug, Clone, Default)]
pub(crate) struct DeploySettings {
    pub deploy_hook: Option<String>,
    pub dry_run: bool,
    /// Also run `<this config dir>/renewal-hooks/deploy/` (None: `--no-directory-hooks`).
    pub hook_dirs_of: Option<std::path::PathBuf>,
}

/// A lineage another node of the fleet renewed, now installed here.
#[derive(Debug)]
pub(crate) struct Synced {
    pub name: CertName,
    pub version: u64,
    pub hook_error: Option<HookError>,
}

/// Fleet mode: install every version other nodes published (`Fleet::pull_all`), then reload
/// nginx and run the deploy hook for each, so a node serves new files at once.
pub(crate) async fn pull_and_deploy(
    fleet: &Fleet,
    ui: &Ui,
    store: &Store,
    settings: &DeploySettings,
) -> Result<Vec<Synced>, Error> {
    let mut synced = Vec::new();
    for name in fleet.pull_all(ui, store).await? {
        let s = synced_deploy(ui, store, &name, settings).await;
        if let Some(e) = &s.hook_error {
            ui.warn(e.to_string());
        }
        synced.push(s);
    }
    Ok(synced)
}

/// A lineage another node renewed, now installed here: reload and hooks as for our own.
pub(crate) async fn synced_deploy(
    ui: &Ui,
    store: &Store,
    name: &CertName,
    settings: &DeploySettings,
) -> Synced {
    let version = fleet::installed_version(store, name).unwrap_or_default();
    let hook_error = match crate::ops::renew::lineage::read_config(store, name) {
        Ok(Some(config)) => deploy_lineage(ui, store, name, &config, settings)
            .await
            .err(),
        _ => Some(HookError::Deploy(format!(
            "{name}: the renewal config from the fleet is unreadable"
        ))),
    };
    Synced {
        name: name.clone(),
        version,
        hook_error,
    }
}

/// Write the deploy targets, reload nginx where the lineage is installed, then the deploy
/// hook: a service the hook restarts reads the new files.
pub(crate) async fn deploy_lineage(
    ui: &Ui,
    store: &Store,
    name: &CertName,
    config: &RenewalConfig,
    settings: &DeploySettings,
) -> Result<(), HookError> {
    if !settings.dry_run {
        crate::ops::deploy::targets::deploy(store, name, &config.deploy)?;
    }
    if let (Some(installer), false) = (&config.installer, settings.dry_run) {
        // `nginx -t` and the wait for the reload off the async thread: the daemon's fleet
        // responder and metrics listener keep answering meanwhile.
        let installer = installer.clone();
        let reload = move || crate::ops::deploy::nginx_txn::reload_after_renewal(&installer);
        let failed =
            |e: String| HookError::Deploy(format!("nginx reload after renewing {name}: {e}"));
        tokio::task::spawn_blocking(reload)
            .await
            .map_err(|e| failed(e.to_string()))?
            .map_err(|e| failed(e.to_string()))?;
    }
    let mut hooks = match &settings.hook_dirs_of {
        Some(dir) => directory_hooks(ui, dir, "deploy"),
        None => Vec::new(),
    };
    hooks.extend(
        settings
            .deploy_hook
            .as_ref()
            .or(config.hooks.deploy_hook.as_ref())
            .cloned(),
    );
    let lineage = store.live_dir(name);
    let domains = crate::types::join_names(&config.domains, " ");
    let env = [
        ("RENEWED_LINEAGE", lineage.to_string_lossy().into_owned()),
        ("RENEWED_DOMAINS", domains),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for hook in &hooks {
        run_checked_hook(ui, "deploy-hook", hook, &env).await?;
    }
    Ok(())
}
