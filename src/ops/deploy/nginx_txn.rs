//! The nginx transaction: put a lineage into nginx (`install`, `run`), the reload after a
//! renewal, and the apply step the challenge proxy and `delete --uninstall` share.
//!
//! Safety order: `nginx -t` before touching anything, back up every file (checkpoint), write
//! atomically, `nginx -t` after (restore on failure), then reload (restore + reload again on
//! failure). The run lock is held throughout by the caller.

use std::path::{Path, PathBuf};

use crate::config::{Installer, RenewalConfig};
use crate::error::{Error, NginxError};
use crate::nginx::{self, Ctl, InstallRequest};
use crate::store::Store;
use crate::types::CertName;

use crate::ops::output::{print_stdout, Ui};

/// Where install checkpoints live: `rollback` undoes these.
pub(crate) fn checkpoint_root(work_dir: &Path) -> PathBuf {
    work_dir.join("nginx-checkpoints")
}

/// How to test and reload the installer's nginx.
pub(crate) fn ctl_for(installer: &Installer) -> Ctl {
    let Installer::Nginx {
        server_root,
        ctl,
        path_map,
        ..
    } = installer;
    Ctl {
        binary: ctl.clone(),
        conf: server_root.join("nginx.conf"),
        path_map: path_map.clone(),
    }
}

/// What an install did.
pub(crate) enum Installed {
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
pub(crate) fn install_lineage(
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
            // nginx in a container opens them where the host's are mounted.
            fullchain: ctl.path_map.to_container(&paths.fullchain),
            privkey: ctl.path_map.to_container(&paths.privkey),
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
pub(crate) fn apply_and_reload(
    edits: &[nginx::FileEdit],
    root: &Path,
    ctl: &Ctl,
) -> Result<bool, Error> {
    nginx::apply(edits, root, ctl)?;
    if !ctl.is_running() {
        return Ok(false);
    }
    // Waiting for the new workers lets the served-certificate check pass at its first try.
    if let Err(e) = ctl.reload_and_wait() {
        // The new config passed `nginx -t` but nginx refused it: put the old one back.
        let _ = nginx::rollback(root, &ctl.conf, 1);
        let _ = ctl.reload();
        return Err(e.into());
    }
    Ok(true)
}

/// Say which files a killed run had half-patched and were put back.
pub(crate) fn warn_recovered(ui: &Ui, files: &[PathBuf]) {
    for file in files {
        ui.warn(format!(
            "restored {}: an interrupted run had changed it without finishing",
            file.display()
        ));
    }
}

/// After a renewal: nginx re-reads the (unchanged) paths, which now point at the new files.
pub(crate) fn reload_after_renewal(installer: &Installer) -> Result<(), NginxError> {
    let ctl = ctl_for(installer);
    if !ctl.is_running() {
        return Ok(());
    }
    ctl.test()?;
    ctl.reload_and_wait().map(|_| ())
}

/// Say what an install did (the diff itself for `--dry-run`).
pub(crate) fn report_install(ui: &Ui, name: &CertName, installed: &Installed) {
    match installed {
        Installed::DryRun { diff } if diff.is_empty() => {
            print_stdout("(dry run) nginx already serves this certificate; nothing would change.\n")
        }
        Installed::DryRun { diff } => print_stdout(diff),
        Installed::NothingToChange => {
            ui.note(format!("nginx already serves {name}; nothing changed."))
        }
        Installed::Changed { files } => {
            let list: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            ui.note(format!(
                "Deployed {name} to nginx ({}). `certwright rollback` undoes this change.",
                list.join(", ")
            ));
        }
    }
}

/// Undo the last `checkpoints` nginx changes, then test and reload; `None`: nothing to undo.
pub(crate) fn rollback(
    store: &Store,
    server_root: &Path,
    nginx_ctl: &Path,
    checkpoints: usize,
) -> Result<Option<nginx::RollbackReport>, Error> {
    let ctl = Ctl {
        binary: nginx_ctl.to_path_buf(),
        conf: server_root.join("nginx.conf"),
        path_map: Default::default(),
    };
    let report = nginx::rollback(&checkpoint_root(store.work_dir()), &ctl.conf, checkpoints)?;
    if report.checkpoints.is_empty() {
        return Ok(None);
    }
    ctl.test()?;
    if ctl.is_running() {
        ctl.reload()?;
    }
    Ok(Some(report))
}
