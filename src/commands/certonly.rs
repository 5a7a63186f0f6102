//! `certwright certonly`: obtain a certificate and store it; install nothing.

use crate::cli::{resolve, CertonlyArgs};
use crate::error::Error;
use crate::ops::deploy::targets::deploy;
use crate::ops::fleet::Fleet;
use crate::ops::issue::certify::{obtain_unless_fresh, print_outcome, standalone_ports};
use crate::ops::issue::csr;
use crate::ops::privileges::bind_then_drop;
use crate::ops::renew::lineage::require_config;
use crate::ops::{block_on, Ctx};

pub(super) fn run(ctx: &Ctx, args: CertonlyArgs, webroots: &[Option<usize>]) -> Result<(), Error> {
    let mut request = resolve::certonly(&ctx.ui, args, webroots)?;
    request.fleet = Fleet::open(ctx.global.fleet.as_ref())?;
    request.prebound = bind_then_drop(&ctx.global, &standalone_ports(&request.authenticator))?;
    let (store, _lock) = ctx.open_store()?;
    if let Some(out) = &request.csr {
        return block_on(csr::execute(ctx, &request, out))?;
    }
    let outcome = block_on(obtain_unless_fresh(ctx, &store, &request, None))??;
    let config = require_config(&store, &request.cert_name)?;
    print_outcome(ctx, &store, &request, &outcome, None);
    deploy(&store, &request.cert_name, &config.deploy)?;
    Ok(())
}
