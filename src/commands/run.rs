//! `certwright run` (and certwright with no subcommand): obtain with any authenticator,
//! then install into nginx.

use crate::cli::{resolve, RunArgs};
use crate::error::{Error, InputError};
use crate::ops::certify::{install_preview, obtain_unless_fresh, print_outcome, standalone_ports};
use crate::ops::fleet::Fleet;
use crate::ops::lineage::require_config;
use crate::ops::nginx_txn::{install_lineage, report_install, Installed};
use crate::ops::privileges::bind_then_drop;
use crate::ops::targets::deploy;
use crate::ops::{block_on, Ctx};

pub fn run(ctx: &Ctx, args: RunArgs, webroots: &[Option<usize>]) -> Result<(), Error> {
    if !args.certonly.auth.nginx {
        return Err(InputError::Other(
            "`run` installs into nginx: pass --nginx (or use `certonly` to only obtain)".into(),
        )
        .into());
    }
    let installer = resolve::installer(
        &args.certonly.nginx,
        &args.installer,
        args.certonly.auth.http_01_port,
    )?;
    let dry_run = args.dry_run;
    let mut request = resolve::certonly(&ctx.ui, args.certonly, webroots)?;
    if request.csr.is_some() {
        return Err(InputError::Other(
            "--csr works with certonly only: its certificate has no lineage to install".into(),
        )
        .into());
    }
    request.fleet = Fleet::open(ctx.global.fleet.as_ref())?;
    request.prebound = bind_then_drop(&ctx.global, &standalone_ports(&request.authenticator))?;
    let (store, _lock) = ctx.open_store()?;
    if dry_run {
        let installed = install_preview(ctx, &store, &request, &installer)?;
        report_install(&ctx.ui, &request.cert_name, &installed);
        return Ok(());
    }
    let outcome = block_on(obtain_unless_fresh(
        ctx,
        &store,
        &request,
        Some(installer.clone()),
    ))??;
    let config = require_config(&store, &request.cert_name)?;
    let name = &request.cert_name;
    let installed = install_lineage(&ctx.ui, &store, name, &config, &installer, false)?;
    if !request.json {
        report_install(&ctx.ui, name, &installed);
    }
    let ran = !matches!(installed, Installed::DryRun { .. });
    print_outcome(ctx, &store, &request, &outcome, Some(ran));
    deploy(&store, name, &config.deploy)?;
    Ok(())
}
