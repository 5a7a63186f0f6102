//! `certwright certonly`: obtain a certificate and store it; install nothing.

use std::io::IsTerminal;

use crate::cli::{resolve, CertonlyArgs};
use crate::error::Error;
use crate::ops::deploy::targets::deploy;
use crate::ops::fleet::Fleet;
use crate::ops::issue::certify::{dry_run, obtain_unless_fresh, print_outcome, standalone_ports};
use crate::ops::issue::csr;
use crate::ops::output::print_stdout;
use crate::ops::privileges::bind_then_drop;
use crate::ops::renew::lineage::require_config;
use crate::ops::Ctx;

pub(super) async fn run(
    ctx: &Ctx,
    mut args: CertonlyArgs,
    webroots: &[Option<usize>],
) -> Result<(), Error> {
    lineage_names(ctx, &mut args)?;
    let at_terminal = ctx.interactive() && std::io::stdin().is_terminal();
    let mut request = resolve::certonly(&ctx.ui, args, webroots, at_terminal)?;
    request.ask_contact(ctx.interactive(), &ctx.store())?;
    let fleet = Fleet::prepare(ctx.global.fleet.as_ref())?;
    request.prebound = bind_then_drop(&ctx.global, &standalone_ports(&request.authenticator))?;
    request.fleet = Fleet::check(fleet).await?;
    if request.dry_run {
        dry_run(ctx, &ctx.store(), &request).await?;
        if !ctx.global.quiet {
            print_stdout("The dry run was successful.\n");
        }
        return Ok(());
    }
    let (store, _lock) = ctx.open_store()?;
    if let Some(out) = &request.csr {
        return csr::execute(ctx, &request, out).await;
    }
    let outcome = obtain_unless_fresh(ctx, &store, &request, None).await?;
    let config = require_config(&store, &request.cert_name)?;
    print_outcome(ctx, &store, &request, &outcome, None);
    deploy(&store, &request.cert_name, &config.deploy)?;
    Ok(())
}

/// certbot's `certonly --cert-name NAME` without -d: the lineage's saved names again.
fn lineage_names(ctx: &Ctx, args: &mut CertonlyArgs) -> Result<(), Error> {
    let no_names = args.request.domains.is_empty()
        && args.request.issuance.ip_address.is_empty()
        && args.auth.webroot_map.is_none()
        && args.csr.csr.is_none();
    let Some(name) = args.request.cert_name.as_deref().filter(|_| no_names) else {
        return Ok(());
    };
    let config = require_config(&ctx.store(), &name.parse()?)?;
    args.request.domains = config.domains.iter().map(ToString::to_string).collect();
    args.request.issuance.ip_address = config
        .issuance
        .ip_addresses
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok(())
}
