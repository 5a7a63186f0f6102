//! `daemon --nginx` in fleet mode: where nginx holds the port the CA probes, each plain-HTTP
//! server block gets a managed location passing `/.well-known/acme-challenge/` to this
//! daemon's responder, which answers every token any node published to the shared store.
//!
//! Done once when the long-lived daemon starts (never in a pass), under the run lock, with
//! install's sequence: recover a half-applied change, `nginx -t`, checkpoint, write,
//! `nginx -t` (restored on failure), reload. `certwright rollback` undoes it.

use std::net::SocketAddr;

use crate::error::Error;
use crate::nginx::{self, Ctl};
use crate::store::{Store, StoreLock};

use crate::ops::deploy::nginx_txn::{apply_and_reload, checkpoint_root, warn_recovered};
use crate::ops::output::Ui;

/// The location this daemon wants in its nginx.
#[derive(Debug, Clone)]
pub(crate) struct ChallengeProxy {
    ctl: Ctl,
    /// nginx's plain-HTTP port: the blocks listening there get the location.
    http_port: u16,
    /// Where nginx connects: the daemon's responder.
    upstream: SocketAddr,
}

impl ChallengeProxy {
    /// `upstream`: the daemon's responder; `http_port`: nginx's plain-HTTP port.
    pub(crate) fn new(ctl: Ctl, http_port: u16, upstream: SocketAddr) -> ChallengeProxy {
        ChallengeProxy {
            ctl,
            http_port,
            upstream,
        }
    }

    /// Make nginx pass the challenge path to the daemon, changing only what differs, and
    /// say what was done. Blocks with a challenge location of their own are reported.
    pub(crate) fn ensure(&self, ui: &Ui, store: &Store) -> Result<(), Error> {
        let _lock = run_lock(ui, store)?;
        let root = checkpoint_root(store.work_dir());
        warn_recovered(ui, &nginx::recover(&root, &self.ctl.conf)?);
        let tree = nginx::load(&self.ctl.conf)?;
        let plan = nginx::plan_challenge_proxy(&tree, self.http_port, self.upstream)?;
        for kept in &plan.kept {
            ui.warn(format!(
                "{kept}: left alone, this server block routes the challenge path itself, so \
                 nginx does not pass the fleet's probes to the daemon there"
            ));
        }
        let what = format!(
            "/.well-known/acme-challenge/ on port {} to {}",
            self.http_port, self.upstream
        );
        if plan.edits.is_empty() {
            ui.note(format!("nginx already passes {what}; nothing changed"));
            return Ok(());
        }
        let files: Vec<String> = plan
            .edits
            .iter()
            .map(|e| e.path.display().to_string())
            .collect();
        let running = apply_and_reload(&plan.edits, &root, &self.ctl)?;
        ui.note(format!(
            "nginx now passes {what} ({}). `certwright rollback` undoes this change.",
            files.join(", ")
        ));
        if !running {
            ui.warn("nginx is not running: the location takes effect once nginx starts");
        }
        Ok(())
    }
}

/// The run lock, waiting for a CLI run that holds it (and saying so).
fn run_lock(ui: &Ui, store: &Store) -> Result<StoreLock, Error> {
    let path = store.config_dir().join(".certwright.lock");
    match StoreLock::acquire_with(&path, false) {
        Err(Error::Locked { pid, .. }) => {
            ui.note(format!(
                "waiting for certwright (pid {pid}) to finish before changing nginx"
            ));
            StoreLock::acquire_with(&path, true)
        }
        other => other,
    }
}
