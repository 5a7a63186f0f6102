//! `certwright delete`: remove a lineage's files, but never while nginx still uses them
//! (see `ops::delete`).

use crate::cli::{resolve, DeleteArgs};
use crate::error::{Error, StoreError};
use crate::nginx;
use crate::ops::delete::{choose, remove, NginxUsage};
use crate::ops::deploy::nginx_txn::{checkpoint_root, warn_recovered};
use crate::ops::fleet::Fleet;
use crate::ops::output::{confirm, require_confirmation_possible};
use crate::ops::Ctx;
use crate::types::CertName;

pub(super) async fn run(ctx: &Ctx, args: DeleteArgs) -> Result<(), Error> {
    let name: CertName = match &args.cert_name {
        Some(name) => name.parse()?,
        None => choose(ctx.interactive(), &ctx.store())?,
    };
    let ignored = [("--ca-bundle", args.ca_bundle.is_some())];
    if let Some(note) = resolve::ignored_certbot_flags(&args.certbot, &ignored) {
        ctx.ui.note(note);
    }
    require_confirmation_possible(ctx.interactive(), "delete")?;
    let fleet = Fleet::open(ctx.global.fleet.as_ref()).await?;
    let (store, _lock) = ctx.open_store()?;
    if !store.lineage_exists(&name) {
        return Err(StoreError::NoSuchLineage(name.to_string()).into());
    }
    // An nginx change a killed run left half-applied is undone first, so what is found
    // (and later removed) is nginx's real configuration.
    let conf = args.nginx.nginx_server_root.join("nginx.conf");
    let root = checkpoint_root(store.work_dir());
    warn_recovered(&ctx.ui, &nginx::recover(&root, &conf)?);
    // Refuse before asking: no point confirming a delete that cannot happen.
    let usage = NginxUsage::find(
        &store,
        &name,
        &args.nginx.nginx_server_root,
        &args.nginx.nginx_ctl,
    )?;
    usage.check(&name, args.uninstall)?;
    if !confirm(
        ctx.interactive(),
        &format!("Delete the certificate {name} and all its versions? This cannot be undone."),
    )? {
        ctx.ui.note("Not deleted; nothing changed.");
        return Ok(());
    }
    // Fleet mode: out of the fleet first (no node renews or installs it any more); the
    // other nodes keep their local files until deleted there.
    if let Some(fleet) = &fleet {
        fleet.forget(&store, &name).await?;
        ctx.ui.note(format!(
            "{name} removed from the fleet's store; other nodes keep their local copies"
        ));
    }
    remove(ctx, &store, &name, usage)
}
