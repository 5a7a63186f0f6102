//! The workflows the commands share, and the only layer that wires the leaf modules
//! (`acme`, `challenge`, `store`, `nginx`, `schedule`, `config`, `certbot`) together.
//! Commands hand ops validated requests (built in `cli::resolve`) and print what comes back;
//! ops never imports `cli` or `commands`.
//!
//! - `issue`: one order from account to stored version; `solve`: the challenge solvers
//!   behind one prepare / publish / cleanup interface; `accounts`: registration, terms.
//! - `certify`: obtain unless fresh (certonly, run); `csr`: issuance for a user's CSR.
//! - `lineage`: one view of a lineage and its due decision; `state`: its bookkeeping.
//! - `renewal`: the renewal pass; `deploy`: reload and hooks after a renewal; `hooks`.
//! - `nginx_txn`: the nginx transaction (test, checkpoint, write, test, reload or restore);
//!   `challenge_proxy`: the fleet's managed challenge location.
//! - `fleet`: the node side of the shared store; `privileges`: `--user`; `daemon`.
//! - `certbot_import`; `output`: the UI, dates and prompts.

pub(crate) mod accounts;
pub(crate) mod alerts;
pub(crate) mod ari;
pub(crate) mod certbot_import;
pub(crate) mod certify;
pub(crate) mod challenge_proxy;
pub(crate) mod csr;
pub(crate) mod daemon;
pub(crate) mod deploy;
pub(crate) mod dns_solve;
pub(crate) mod fleet;
pub(crate) mod hooks;
pub(crate) mod issue;
pub(crate) mod lineage;
pub(crate) mod manual_solve;
pub(crate) mod nginx_txn;
pub(crate) mod output;
pub(crate) mod privileges;
pub(crate) mod removal;
pub(crate) mod renewal;
pub(crate) mod report;
pub(crate) mod revocation;
pub(crate) mod served;
pub(crate) mod session;
pub(crate) mod solve;
pub(crate) mod state;
pub(crate) mod targets;

use std::path::PathBuf;

use crate::error::Error;
use crate::store::Store;

use output::Ui;

/// The global settings every command runs with (validated from the global flags).
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    pub config_dir: PathBuf,
    pub work_dir: PathBuf,
    pub logs_dir: PathBuf,
    pub non_interactive: bool,
    pub verbose: u8,
    pub quiet: bool,
    pub user: Option<String>,
    pub fleet: Option<fleet::FleetSettings>,
}

/// Shared by every command.
pub(crate) struct Ctx {
    pub global: Settings,
    pub ui: Ui,
}

impl Ctx {
    pub(crate) fn new(global: Settings) -> Ctx {
        Ctx {
            ui: Ui::new(global.quiet),
            global,
        }
    }

    pub(crate) fn store(&self) -> Store {
        Store::new(&self.global.config_dir, &self.global.work_dir)
    }

    pub(crate) fn interactive(&self) -> bool {
        !self.global.non_interactive
    }

    /// The opening every writing command shares: store created, run lock taken, logging to
    /// the log file (after input validation, so a typo writes nothing anywhere).
    pub(crate) fn open_store(&self) -> Result<(Store, crate::store::StoreLock), Error> {
        self.open_store_with(false)
    }

    /// `open_store` for `renew --dry-run`, which writes nothing into the config dir: a
    /// read-only one is fine.
    pub(crate) fn open_store_read_only(&self) -> Result<(Store, crate::store::StoreLock), Error> {
        self.open_store_with(true)
    }

    fn open_store_with(&self, read_only: bool) -> Result<(Store, crate::store::StoreLock), Error> {
        let store = self.store();
        let lock = if read_only {
            store.prepare_read_only()?;
            store.lock_read_only()?
        } else {
            store.prepare()?;
            store.lock()?
        };
        self.init_logging();
        Ok((store, lock))
    }

    /// Log to `<logs>/certwright.log` (0600). A log dir we cannot write is a warning, not a
    /// failure.
    pub(crate) fn init_logging(&self) {
        let level = match self.global.verbose {
            0 => "info",
            1 => "debug",
            _ => "trace",
        };
        // aws-sigv4 traces each canonical request, which holds the AWS session token.
        let filter = tracing_subscriber::EnvFilter::new(format!("{level},aws_sigv4=debug"));
        let path = self.global.logs_dir.join("certwright.log");
        let file = match crate::fsutil::open_log(&self.global.logs_dir, "certwright.log") {
            Ok(f) => f,
            Err(e) => {
                self.ui
                    .warn(format!("not logging to {}: {e}", path.display()));
                return;
            }
        };
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_target(false)
            .with_writer(std::sync::Mutex::new(file))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
    }
}

/// A single-threaded runtime: an issuance is a handful of sequential requests, and one
/// thread keeps the resident set small.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    Ok(rt.block_on(future))
}
