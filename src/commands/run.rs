//! `certwright run` (and certwright with no subcommand): obtain with any authenticator,
//! then install into nginx.

use std::io::IsTerminal;

use time::OffsetDateTime;

use crate::cli::{resolve, RunArgs};
use crate::error::{Error, InputError};
use crate::ops::deploy::alerts::check_after_install;
use crate::ops::deploy::nginx_txn::{install_lineage, report_install, Installed};
use crate::ops::deploy::targets::deploy;
use crate::ops::fleet::Fleet;
use crate::ops::issue::certify::{
    check_install_names, install_preview, obtain_unless_fresh, print_outcome, standalone_ports,
};
use crate::ops::privileges::bind_then_drop;
use crate::ops::renew::lineage::require_config;
use crate::ops::Ctx;
use crate::store::Store;
use crate::types::CertName;

pub(super) async fn run(
    ctx: &Ctx,
    mut args: RunArgs,
    webroots: &[Option<usize>],
) -> Result<(), Error> {
    let a = &args.certonly.auth;
    let other_solver = a.standalone
        || a.webroot
        || !a.webroot_path.is_empty()
        || a.webroot_map.is_some()
        || a.manual
        || a.dns.is_some()
        || a.dns_rfc2136
        || a.dns_cloudflare
        || a.dns_route53;
    match (args.installer_name.is_some(), a.nginx) {
        // certbot's `-i nginx` alone: nginx obtains too (as --nginx).
        (true, false) if !other_solver => args.certonly.auth.nginx = true,
        (true, _) | (false, true) => {}
        (false, false) => {
            return Err(InputError::Missing {
                what: "`run` installs into nginx",
                fix: "pass --nginx or -i nginx (or use `certonly` to only obtain)",
            }
            .into())
        }
    }
    let installer = resolve::installer(
        &args.certonly.nginx,
        &args.installer,
        args.certonly.auth.http_01_port,
    )?;
    let args_for_install = install_command(&args);
    let alerts = resolve::alert_targets(&args.alerts)?;
    let dry_run = args.certonly.dry_run;
    let at_terminal = ctx.interactive() && std::io::stdin().is_terminal();
    let mut request = resolve::certonly(&ctx.ui, args.certonly, webroots, at_terminal)?;
    request.ask_contact(ctx.interactive(), &ctx.store())?;
    if request.csr.is_some() {
        return Err(InputError::Flag {
            flag: "--csr",
            problem: "works with certonly only: its certificate has no lineage to install".into(),
        }
        .into());
    }
    let fleet = Fleet::prepare(ctx.global.fleet.as_ref())?;
    request.prebound = bind_then_drop(&ctx.global, &standalone_ports(&request.authenticator))?;
    request.fleet = Fleet::check(fleet).await?;
    let (store, _lock) = ctx.open_store()?;
    if dry_run {
        let installed = install_preview(ctx, &store, &request, &installer)?;
        report_install(&ctx.ui, &request.cert_name, &installed);
        return Ok(());
    }
    // A block that also serves names the certificate would not cover is refused before
    // spending an order (exit 5, with the `--expand` command that covers them).
    check_install_names(&store, &request, &installer)?;
    let outcome = obtain_unless_fresh(ctx, &store, &request, Some(installer.clone())).await?;
    let config = require_config(&store, &request.cert_name)?;
    let name = &request.cert_name;
    let installed = install_lineage(&ctx.ui, &store, name, &config, &installer, false)
        .inspect_err(|_| saved_but_not_installed(ctx, &store, name, &args_for_install))?;
    if !request.json {
        report_install(&ctx.ui, name, &installed);
    }
    let ran = !matches!(installed, Installed::DryRun { .. });
    print_outcome(ctx, &store, &request, &outcome, Some(ran));
    deploy(&store, name, &config.deploy)?;
    if ran {
        let now = OffsetDateTime::now_utc();
        check_after_install(&ctx.ui, &store, &alerts, name, now).await?;
    }
    Ok(())
}

/// The `install` command line that finishes this run once nginx is fixed.
fn install_command(args: &RunArgs) -> String {
    let mut cmd = String::from("certwright install --nginx");
    let root = &args.certonly.nginx.nginx_server_root;
    if root.as_path() != std::path::Path::new(crate::cli::DEFAULT_NGINX_ROOT) {
        cmd.push_str(&format!(" --nginx-server-root {}", root.display()));
    }
    cmd
}

/// The certificate is issued and saved even though nginx could not take it: say where, and
/// how to finish once nginx is fixed.
fn saved_but_not_installed(ctx: &Ctx, store: &Store, name: &CertName, install: &str) {
    let paths = store.live_paths(name);
    ctx.ui.warn(format!(
        "the certificate {name} was issued and saved ({} and {}), but installing it into nginx \
         failed (below); once nginx is fixed, run: {install} --cert-name {name}",
        paths.fullchain.display(),
        paths.privkey.display()
    ));
}
