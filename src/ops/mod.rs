//! The workflows the commands share, and the only layer that wires the leaf modules
//! (`acme`, `challenge`, `store`, `nginx`, `schedule`, `config`, `certbot`) together.
//! Commands hand ops validated requests (built in `cli::resolve`) and print what comes back;
//! ops never imports `cli` or `commands`.
//!
//! - `issue/`: one order from account to stored version (`mod.rs`), `accounts`
//!   (registration, terms), `certify` (obtain unless fresh: certonly, run), `csr` (a user's
//!   CSR), `session` (what one run shares between its orders).
//! - `solve/`: the challenge solvers behind one prepare / publish / cleanup interface
//!   (`mod.rs`: standalone, webroot, nginx, fleet), `dns`, `manual`, `fleet_proxy` (the
//!   fleet's managed nginx challenge location).
//! - `renew/`: the renewal pass (`mod.rs`), `lineage` (one view and its due decision),
//!   `state` (its bookkeeping), `ari`, `report` (what `certificates`/`plan` show).
//! - `deploy/`: after a certificate changes: reload and hooks (`mod.rs`), `nginx_txn` (the
//!   nginx transaction), `served` (proof nginx serves it), `targets`, `hooks`, `alerts`.
//! - Named after their command: `daemon`, `delete`, `doctor` (checks before and after a
//!   failed validation), `revoke`, `import_certbot`, `reconfigure` (new settings saved only
//!   after a dry run of them passed).
//! - `fleet`: the node side of the shared store; `privileges`: `--user`; `output`: the UI.

pub(crate) mod daemon;
pub(crate) mod delete;
pub(crate) mod deploy;
pub(crate) mod doctor;
pub(crate) mod fleet;
pub(crate) mod import_certbot;
pub(crate) mod issue;
pub(crate) mod output;
pub(crate) mod privileges;
pub(crate) mod reconfigure;
pub(crate) mod renew;
pub(crate) mod revoke;
pub(crate) mod solve;

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
            .with_writer(std::sync::Mutex::new(crate::safe::text::LogWriter(file)))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
    }
}
