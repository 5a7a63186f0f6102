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
    /// Already configured: reloaded so nginx reads the lineage's current files (a new
    /// certificate from `--expand`, `--force-renewal` or a removed name).
    Reloaded,
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
    let ctl = ctl_for(installer);
    let root = checkpoint_root(store.work_dir());
    if !dry_run {
        warn_recovered(ui, &nginx::recover(&root, &ctl.conf)?);
    } else if nginx::interrupted_pending(&root) {
        ui.warn(
            "an interrupted run left an nginx change half-applied; the diff below is against \
             that state, and a real run undoes it first",
        );
    }
    let edits = plan_lineage_install(store, &ctl, config, installer)?;
    if dry_run {
        return Ok(Installed::DryRun {
            diff: nginx::unified_diff(&edits),
        });
    }
    if edits.is_empty() {
        return Ok(match reload_after_renewal(installer)? {
            true => Installed::Reloaded,
            false => Installed::NothingToChange,
        });
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

/// Only the names check of an install: `UncoveredNames` (with the `--expand` command) is
/// the error; anything else is left for the install itself to report.
pub(crate) fn check_names(
    store: &Store,
    config: &RenewalConfig,
    installer: &Installer,
) -> Result<(), Error> {
    match plan_lineage_install(store, &ctl_for(installer), config, installer) {
        Err(e @ Error::Nginx(NginxError::UncoveredNames { .. })) => Err(e),
        _ => Ok(()),
    }
}

/// The edits installing the lineage: TLS lines (see `nginx::plan_install`), then certbot's
/// shared TLS snippets swapped for certwright's copies where an import left them.
fn plan_lineage_install(
    store: &Store,
    ctl: &Ctl,
    config: &RenewalConfig,
    installer: &Installer,
) -> Result<Vec<nginx::FileEdit>, Error> {
    let Installer::Nginx {
        http_01_port,
        https_port,
        redirect,
        hsts,
        ..
    } = installer;
    let paths = store.live_paths(&config.cert_name);
    // nginx in a container opens them where the host's are mounted.
    let fullchain = ctl.path_map.to_container(&paths.fullchain);
    let tree = nginx::load(&ctl.conf)?;
    let request = InstallRequest {
        names: config.domains.clone(),
        fullchain: fullchain.clone(),
        privkey: ctl.path_map.to_container(&paths.privkey),
        http_port: *http_01_port,
        https_port: *https_port,
        redirect: *redirect,
        hsts: *hsts,
    };
    let edits = nginx::plan_install(&tree, &request)
        .map_err(|e| with_expand_command(e, config, installer))?;
    // Blocks of names the lineage no longer has give its certificate up.
    let staged = tree.with_edits(&edits)?;
    let ours = [request.fullchain.as_path(), request.privkey.as_path()];
    let stale = nginx::plan_uninstall_stale(&staged, &ours, &config.domains)?;
    let edits = nginx::chain_edits(edits, stale);
    let snippets: Vec<PathBuf> = tls_snippets(store)
        .iter()
        .filter(|p| p.is_file())
        .map(|p| ctl.path_map.to_container(p))
        .collect();
    if snippets.is_empty() {
        return Ok(edits);
    }
    let staged = tree.with_edits(&edits)?;
    let swaps = nginx::plan_snippet_swap(&staged, &fullchain, &snippets)?;
    Ok(nginx::chain_edits(edits, swaps))
}

/// certbot's shared TLS settings, which its nginx installer includes in every site.
pub(crate) const CERTBOT_TLS_SNIPPETS: [&str; 2] = ["options-ssl-nginx.conf", "ssl-dhparams.pem"];

/// Where `import-certbot` keeps certwright's copies of [`CERTBOT_TLS_SNIPPETS`].
pub(crate) fn tls_snippets(store: &Store) -> Vec<PathBuf> {
    let dir = store.config_dir().join("nginx");
    CERTBOT_TLS_SNIPPETS.iter().map(|f| dir.join(f)).collect()
}

/// A block serving names the certificate does not cover: name the `run` that covers them.
fn with_expand_command(e: NginxError, config: &RenewalConfig, installer: &Installer) -> NginxError {
    let NginxError::UncoveredNames { at, names, .. } = e else {
        return e;
    };
    let Installer::Nginx {
        server_root,
        ctl,
        http_01_port,
        https_port,
        ..
    } = installer;
    let mut cmd = format!(
        "certwright run --nginx --expand --cert-name {} --nginx-server-root {}",
        config.cert_name,
        server_root.display()
    );
    if ctl.as_path() != std::path::Path::new("nginx") {
        cmd.push_str(&format!(" --nginx-ctl {}", ctl.display()));
    }
    if *http_01_port != 80 {
        cmd.push_str(&format!(" --http-01-port {http_01_port}"));
    }
    if *https_port != 443 {
        cmd.push_str(&format!(" --https-port {https_port}"));
    }
    for d in &config.domains {
        cmd.push_str(&format!(" -d {d}"));
    }
    for n in names.split(", ") {
        cmd.push_str(&format!(" -d {n}"));
    }
    NginxError::UncoveredNames {
        at,
        names,
        fix: format!(
            ". To cover them, run: {cmd} (or move them to a server block of their own, \
             run `nginx -t`, then install again)"
        ),
    }
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
/// Returns whether nginx runs (and so was reloaded).
pub(crate) fn reload_after_renewal(installer: &Installer) -> Result<bool, NginxError> {
    let ctl = ctl_for(installer);
    if !ctl.is_running() {
        return Ok(false);
    }
    ctl.test()?;
    ctl.reload_and_wait().map(|_| true)
}

/// Say what an install did (the diff itself for `--dry-run`).
pub(crate) fn report_install(ui: &Ui, name: &CertName, installed: &Installed) {
    match installed {
        Installed::DryRun { diff } if diff.is_empty() => {
            print_stdout("(dry run) nginx already serves this certificate; nothing would change.\n")
        }
        Installed::DryRun { diff } => print_stdout(diff),
        Installed::NothingToChange => ui.note(format!(
            "nginx is already configured for {name} (and not running); nothing changed."
        )),
        Installed::Reloaded => ui.note(format!(
            "nginx is already configured for {name}; reloaded it to serve the current certificate."
        )),
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
