//! `certwright install`: put an existing lineage into nginx. Also the installer step of
//! `run` and the nginx reload after `renew`.
//!
//! Safety order: `nginx -t` before touching anything, back up every file (checkpoint), write
//! atomically, `nginx -t` after (restore on failure), then reload (restore + reload again on
//! failure). The run lock is held throughout by the caller.

use std::path::{Path, PathBuf};

use crate::cli::{InstallArgs, InstallerArgs, NginxArgs};
use crate::config::{Installer, RenewalConfig};
use crate::error::{Error, NginxError, StoreError};
use crate::nginx::{self, Ctl, InstallRequest};
use crate::store::Store;
use crate::types::CertName;

use super::ui::{print_stdout, Ui};
use super::{init_logging, Ctx};

/// Where install checkpoints live: `rollback` undoes these.
pub fn checkpoint_root(work_dir: &Path) -> PathBuf {
    work_dir.join("nginx-checkpoints")
}

pub fn installer_from_args(
    nginx: &NginxArgs,
    installer: &InstallerArgs,
    http_01_port: u16,
) -> Installer {
    Installer::Nginx {
        server_root: nginx.nginx_server_root.clone(),
        ctl: nginx.nginx_ctl.clone(),
        http_01_port,
        https_port: installer.https_port,
        redirect: !installer.no_redirect,
        hsts: installer.hsts,
    }
}

fn ctl_for(installer: &Installer) -> Ctl {
    let Installer::Nginx {
        server_root, ctl, ..
    } = installer;
    Ctl {
        binary: ctl.clone(),
        conf: server_root.join("nginx.conf"),
    }
}

/// What an install did.
pub enum Installed {
    Changed {
        files: Vec<PathBuf>,
    },
    NothingToChange,
    /// `--dry-run`: the diff that would be applied.
    DryRun {
        diff: String,
    },
}

/// Plan and apply the TLS lines for `name` into nginx, then reload.
pub fn install_lineage(
    ui: &Ui,
    store: &Store,
    name: &CertName,
    config: &RenewalConfig,
    installer: &Installer,
    dry_run: bool,
) -> Result<Installed, Error> {
    let Installer::Nginx {
        http_01_port,
        https_port,
        redirect,
        hsts,
        ..
    } = installer;
    let ctl = ctl_for(installer);
    let paths = store.live_paths(name);
    let root = checkpoint_root(store.work_dir());
    if !dry_run {
        warn_recovered(ui, &nginx::recover(&root, &ctl.conf)?);
    } else if nginx::interrupted_pending(&root) {
        ui.warn(
            "an interrupted run left an nginx change half-applied; the diff below is against \
             that state, and a real run undoes it first",
        );
    }
    let tree = nginx::load(&ctl.conf)?;
    let edits = nginx::plan_install(
        &tree,
        &InstallRequest {
            names: config.domains.clone(),
            fullchain: paths.fullchain.clone(),
            privkey: paths.privkey.clone(),
            http_port: *http_01_port,
            https_port: *https_port,
            redirect: *redirect,
            hsts: *hsts,
        },
    )?;
    if dry_run {
        return Ok(Installed::DryRun {
            diff: nginx::unified_diff(&edits),
        });
    }
    if edits.is_empty() {
        return Ok(Installed::NothingToChange);
    }
    let step = ui.step(format!(
        "Installing {name} into nginx ({} file(s))",
        edits.len()
    ));
    if !apply_and_reload(&edits, &root, &ctl)? {
        ui.warn("nginx is not running: the certificate is configured and will be served once nginx starts");
    }
    step.done();
    Ok(Installed::Changed {
        files: edits.into_iter().map(|e| e.path).collect(),
    })
}

/// Apply `edits` as one checkpoint under `root` (`nginx -t` before and after, restored on
/// failure), then reload nginx if it runs; returns whether it did. A reload nginx refuses
/// puts the old config back.
pub fn apply_and_reload(edits: &[nginx::FileEdit], root: &Path, ctl: &Ctl) -> Result<bool, Error> {
    nginx::apply(edits, root, ctl)?;
    if !ctl.is_running() {
        return Ok(false);
    }
    if let Err(e) = ctl.reload() {
        // The new config passed `nginx -t` but nginx refused it: put the old one back.
        let _ = nginx::rollback(root, &ctl.conf, 1);
        let _ = ctl.reload();
        return Err(e.into());
    }
    Ok(true)
}

/// Say which files a killed run had half-patched and were put back.
pub fn warn_recovered(ui: &Ui, files: &[PathBuf]) {
    for file in files {
        ui.warn(format!(
            "restored {}: an interrupted run had changed it without finishing",
            file.display()
        ));
    }
}

/// After a renewal: nginx re-reads the (unchanged) paths, which now point at the new files.
pub fn reload_after_renewal(installer: &Installer) -> Result<(), NginxError> {
    let ctl = ctl_for(installer);
    if !ctl.is_running() {
        return Ok(());
    }
    ctl.test()?;
    ctl.reload()
}

pub fn run(ctx: &Ctx, args: InstallArgs) -> Result<(), Error> {
    let name: CertName = args.cert_name.parse()?;
    super::certonly::nginx_settings(&args.nginx_args)?;
    let store = ctx.store();
    store.prepare()?;
    let _lock = store.lock()?;
    init_logging(ctx);
    let json = store
        .read_renewal(&name)?
        .ok_or_else(|| StoreError::NoSuchLineage(name.to_string()))?;
    let mut config = RenewalConfig::parse(&json, &store.renewal_file(&name))?;
    if store.current_version(&name)?.is_none() {
        return Err(
            StoreError::Other(format!("{name} has no certificate files to install")).into(),
        );
    }
    let installer = installer_from_args(&args.nginx_args, &args.installer, args.http_01_port);
    let installed = install_lineage(&ctx.ui, &store, &name, &config, &installer, args.dry_run)?;
    report_install(ctx, &name, &installed);
    if !args.dry_run && config.installer.as_ref() != Some(&installer) {
        config.installer = Some(installer);
        store.write_renewal(&name, &config.to_json())?;
    }
    Ok(())
}

pub fn report_install(ctx: &Ctx, name: &CertName, installed: &Installed) {
    match installed {
        Installed::DryRun { diff } if diff.is_empty() => {
            print_stdout("(dry run) nginx already serves this certificate; nothing would change.\n")
        }
        Installed::DryRun { diff } => print_stdout(diff),
        Installed::NothingToChange => ctx
            .ui
            .note(format!("nginx already serves {name}; nothing changed.")),
        Installed::Changed { files } => {
            let list: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            ctx.ui.note(format!(
                "Deployed {name} to nginx ({}). `certwright rollback` undoes this change.",
                list.join(", ")
            ));
        }
    }
}
