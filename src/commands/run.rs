//! `certwright run` (and certwright with no subcommand): obtain with any authenticator,
//! then install into nginx.

use crate::cli::RunArgs;
use crate::error::{Error, InputError};
use crate::types::CertName;

use super::certonly::{self, obtain_unless_fresh, print_outcome};
use super::install::{install_lineage, installer_from_args, report_install, Installed};
use super::{block_on, init_logging, Ctx};

pub fn run(ctx: &Ctx, args: RunArgs, webroots: Vec<Option<usize>>) -> Result<(), Error> {
    if !args.certonly.auth.nginx {
        return Err(InputError::Other(
            "`run` installs into nginx: pass --nginx (or use `certonly` to only obtain)".into(),
        )
        .into());
    }
    let installer = installer_from_args(
        &args.certonly.nginx,
        &args.installer,
        args.certonly.auth.http_01_port,
    );
    let dry_run = args.dry_run;
    let mut request = certonly::validate(ctx, args.certonly, &webroots)?;
    request.prebound = super::privileges::bind_then_drop(
        ctx,
        &certonly::standalone_ports(&request.authenticator),
    )?;
    if request.csr.is_some() {
        return Err(crate::error::InputError::Other(
            "--csr works with certonly only: its certificate has no lineage to install".into(),
        )
        .into());
    }
    let store = ctx.store();
    store.prepare()?;
    let _lock = store.lock()?;
    init_logging(ctx);
    if dry_run {
        return dry_run_diff(ctx, &store, &request, &installer);
    }
    let outcome = block_on(obtain_unless_fresh(
        ctx,
        &store,
        &request,
        Some(installer.clone()),
    ))??;
    let json = store
        .read_renewal(&request.cert_name)?
        .ok_or_else(|| Error::Config("the renewal config vanished".into()))?;
    let config =
        crate::config::RenewalConfig::parse(&json, &store.renewal_file(&request.cert_name))?;
    let installed = install_lineage(
        &ctx.ui,
        &store,
        &request.cert_name,
        &config,
        &installer,
        false,
    )?;
    if !request.json {
        report_install(ctx, &request.cert_name, &installed);
    }
    print_outcome(
        ctx,
        &store,
        &request,
        &outcome,
        Some(!matches!(installed, Installed::DryRun { .. })),
    );
    Ok(())
}

/// The diff the install would make, using the paths the lineage has (or will have).
fn dry_run_diff(
    ctx: &Ctx,
    store: &crate::store::Store,
    request: &certonly::Request,
    installer: &crate::config::Installer,
) -> Result<(), Error> {
    let name: &CertName = &request.cert_name;
    let config = crate::config::RenewalConfig {
        schema: crate::config::RENEWAL_SCHEMA,
        cert_name: name.clone(),
        domains: request.domains.clone(),
        server: request.server.clone(),
        ca_bundle: request.ca_bundle.clone(),
        account: String::new(),
        key_type: request.key_type,
        authenticator: request.authenticator.clone(),
        installer: Some(installer.clone()),
        renew_before_expiry_days: None,
        issuance: Default::default(),
    };
    let installed = install_lineage(&ctx.ui, store, name, &config, installer, true)?;
    report_install(ctx, name, &installed);
    Ok(())
}
