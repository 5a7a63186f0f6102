//! `certwright install`: put an existing lineage into nginx (see `ops::deploy::nginx_txn` for the
//! safety order: `nginx -t`, checkpoint, write, `nginx -t`, reload or restore).

use time::OffsetDateTime;

use crate::cli::{resolve, InstallArgs};
use crate::error::{Error, InputError, StoreError};
use crate::ops::deploy::alerts::check_after_install;
use crate::ops::deploy::nginx_txn::{install_lineage, report_install};
use crate::ops::deploy::targets::deploy;
use crate::ops::renew::lineage::{lineage_of_files, require_config, write_config};
use crate::ops::Ctx;
use crate::types::CertName;

pub(super) async fn run(ctx: &Ctx, args: InstallArgs) -> Result<(), Error> {
    resolve::nginx_settings(&args.nginx_args)?;
    let installer = resolve::installer(&args.nginx_args, &args.installer, args.http_01_port)?;
    let targets = resolve::deploy_targets(&args.deploy)?;
    let alerts = resolve::alert_targets(&args.alerts)?;
    let (store, _lock) = ctx.open_store()?;
    let name: CertName = match (&args.cert_name, &args.cert_path) {
        (Some(name), _) => name.parse()?,
        (None, Some(cert)) => lineage_of_files(
            &store,
            cert,
            &[
                ("--key-path", args.key_path.as_deref()),
                ("--fullchain-path", args.fullchain_path.as_deref()),
                ("--chain-path", args.chain_path.as_deref()),
            ],
        )?,
        // clap requires one of the two.
        (None, None) => {
            return Err(InputError::MissingFlag {
                flags: "--cert-name NAME",
            }
            .into())
        }
    };
    let mut config = require_config(&store, &name)?;
    if store.current_version(&name)?.is_none() {
        return Err(
            StoreError::Other(format!("{name} has no certificate files to install")).into(),
        );
    }
    let installed = install_lineage(&ctx.ui, &store, &name, &config, &installer, args.dry_run)?;
    report_install(&ctx.ui, &name, &installed);
    if args.dry_run {
        return Ok(());
    }
    let mut updated = config.clone();
    updated.installer = Some(installer);
    if let Some(targets) = targets {
        updated.deploy = targets;
    }
    if updated != config {
        write_config(&store, &updated)?;
        config = updated;
    }
    deploy(&store, &name, &config.deploy)?;
    let now = OffsetDateTime::now_utc();
    check_after_install(&ctx.ui, &store, &alerts, &name, now).await
}
