//! `certwright revoke`: revoke a certificate with the account that issued it, then
//! optionally delete the lineage (as `delete`, nginx check included).

use crate::acme::RevokeReason;
use crate::cli::{resolve, RevocationReasonArg, RevokeArgs};
use crate::error::Error;
use crate::ops::delete::{remove, NginxUsage};
use crate::ops::output::{ask_yes_no, print_stdout};
use crate::ops::revoke::{self as revocation, Located};
use crate::ops::Ctx;
use crate::store::Store;

pub(super) async fn run(ctx: &Ctx, args: RevokeArgs) -> Result<(), Error> {
    let target = resolve::revoke_target(args.cert_name.as_deref(), args.cert_path.as_deref())?;
    if args.key_path.is_some() {
        ctx.ui.note(
            "ignoring --key-path: certwright revokes with the stored ACME account (the \
             lineage's, else the server's), not with the certificate's key",
        );
    }
    let reason = match args.reason {
        RevocationReasonArg::Unspecified => RevokeReason::Unspecified,
        RevocationReasonArg::Keycompromise => RevokeReason::KeyCompromise,
        RevocationReasonArg::Affiliationchanged => RevokeReason::AffiliationChanged,
        RevocationReasonArg::Superseded => RevokeReason::Superseded,
        RevocationReasonArg::Cessationofoperation => RevokeReason::CessationOfOperation,
    };
    let choice = resolve::server_choice(&args.server)?;
    let (store, _lock) = ctx.open_store()?;
    let found = revocation::locate(&store, target, &choice, args.server.ca_bundle.is_some())?;
    // An explicit --delete-after-revoke that nginx would forbid fails before revoking.
    let early_usage = match (&found.lineage, args.delete_after_revoke) {
        (Some(name), true) => Some(usage(&store, name, &args)?),
        _ => None,
    };
    revocation::revoke(&ctx.ui, &store, &found, reason).await?;
    if !ctx.global.quiet {
        print_stdout(&format!(
            "Revoked the certificate at {} (reason: {reason:?}).\n",
            found.shown
        ));
    }
    delete_after(ctx, &store, &args, found, early_usage)
}

/// `--delete-after-revoke`, `--no-delete-after-revoke`, or ask.
fn delete_after(
    ctx: &Ctx,
    store: &Store,
    args: &RevokeArgs,
    found: Located,
    early_usage: Option<NginxUsage>,
) -> Result<(), Error> {
    let Some(name) = found.lineage else {
        return Ok(());
    };
    let delete = if args.delete_after_revoke {
        true
    } else if args.no_delete_after_revoke || !ctx.interactive() {
        false
    } else {
        ask_yes_no(&format!(
            "Delete the certificate {name} and all its versions too?"
        ))
        .unwrap_or(false)
    };
    if !delete {
        ctx.ui.note(format!(
            "The files of {name} were kept; `certwright delete --cert-name {name}` removes them \
             (until then `renew` will replace the certificate when it is due)."
        ));
        return Ok(());
    }
    let usage = match early_usage {
        Some(usage) => usage,
        None => usage(store, &name, args)?,
    };
    remove(ctx, store, &name, usage)
}

/// Which nginx lines use the lineage; refused (exit 5) if any would remain after deleting.
fn usage(
    store: &Store,
    name: &crate::types::CertName,
    args: &RevokeArgs,
) -> Result<NginxUsage, Error> {
    let nginx = &args.nginx;
    let usage = NginxUsage::find(store, name, &nginx.nginx_server_root, &nginx.nginx_ctl)?;
    usage.check(name, false)?;
    Ok(usage)
}
