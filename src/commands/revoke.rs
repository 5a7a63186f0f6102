//! `certwright revoke`: revoke a certificate with the account that issued it, then
//! optionally delete the lineage (as `delete`, nginx check included).

use std::path::{Path, PathBuf};

use crate::acme::{AcmeAccount, AcmeHttp, RevokeReason};
use crate::cli::{RevocationReasonArg, RevokeArgs};
use crate::config::RenewalConfig;
use crate::error::{Error, InputError, StoreError};
use crate::store::{inspect, Store};
use crate::types::{CertName, ServerUrl};

use super::account::{ask_yes_no, ServerChoice};
use super::delete::{self, NginxUsage};
use super::ui::print_stdout;
use super::{block_on, init_logging, Ctx};

/// What to revoke: a lineage's current certificate, or a file.
enum Target {
    Lineage(CertName),
    File { path: PathBuf, leaf_der: Vec<u8> },
}

pub fn run(ctx: &Ctx, args: RevokeArgs) -> Result<(), Error> {
    let target = match (&args.cert_name, &args.cert_path) {
        (Some(name), _) => Target::Lineage(name.parse()?),
        (None, Some(path)) => Target::File {
            path: path.clone(),
            leaf_der: read_leaf(path)?,
        },
        // clap's required group makes this unreachable; keep it a usage error anyway.
        (None, None) => {
            return Err(
                InputError::Other("pass --cert-name NAME or --cert-path PATH".into()).into(),
            )
        }
    };
    let reason = match args.reason {
        RevocationReasonArg::Unspecified => RevokeReason::Unspecified,
        RevocationReasonArg::Keycompromise => RevokeReason::KeyCompromise,
        RevocationReasonArg::Affiliationchanged => RevokeReason::AffiliationChanged,
        RevocationReasonArg::Superseded => RevokeReason::Superseded,
        RevocationReasonArg::Cessationofoperation => RevokeReason::CessationOfOperation,
    };
    let choice = ServerChoice::from_args(&args.server)?;
    let cli_bundle = args.server.ca_bundle.is_some();
    let store = ctx.store();
    store.prepare()?;
    let _lock = store.lock()?;
    init_logging(ctx);

    let (lineage, leaf_der, shown) = match target {
        Target::Lineage(name) => {
            let leaf = current_leaf(&store, &name)?;
            let shown = store.live_paths(&name).cert.display().to_string();
            (Some(name), leaf, shown)
        }
        Target::File { path, leaf_der } => {
            let lineage = lineage_of(&store, &path, &leaf_der)?;
            (lineage, leaf_der, path.display().to_string())
        }
    };
    let config = match &lineage {
        Some(name) => Some(read_config(&store, name)?),
        None => None,
    };
    let (server, ca_bundle, account_id) = match &config {
        Some(c) => (
            c.server.clone(),
            if cli_bundle {
                choice.ca_bundle.clone()
            } else {
                c.ca_bundle.clone()
            },
            Some(c.account.clone()),
        ),
        None => (choice.server.clone(), choice.ca_bundle.clone(), None),
    };

    // An explicit --delete-after-revoke that nginx would forbid fails before revoking.
    let early_usage = match (&lineage, args.delete_after_revoke) {
        (Some(name), true) => {
            let usage = NginxUsage::find(&store, name, &args.nginx)?;
            usage.check(name, false)?;
            Some(usage)
        }
        _ => None,
    };

    block_on(async {
        let credentials = account_credentials(&store, &server, account_id.as_deref())?;
        let http = AcmeHttp::new(ca_bundle.as_deref())?;
        let account = AcmeAccount::restore(&http, &credentials).await?;
        let step = ctx.ui.step(format!("Revoking {shown} at {server}"));
        account.revoke(&leaf_der, reason).await?;
        step.done();
        Ok::<(), Error>(())
    })??;
    if !ctx.global.quiet {
        print_stdout(&format!(
            "Revoked the certificate at {shown} (reason: {reason:?}).\n"
        ));
    }

    let Some(name) = lineage else {
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
        None => NginxUsage::find(&store, &name, &args.nginx)?,
    };
    usage.check(&name, false)?;
    delete::remove(ctx, &store, &name, usage)
}

/// The leaf (first certificate) of a PEM file, checked before any I/O.
fn read_leaf(path: &Path) -> Result<Vec<u8>, Error> {
    let pem = std::fs::read(path)
        .map_err(|e| InputError::Other(format!("--cert-path {}: {e}", path.display())))?;
    let ders = inspect::split_pem_chain(&pem).map_err(|e| {
        InputError::Other(format!(
            "--cert-path {} is not a PEM certificate: {e}",
            path.display()
        ))
    })?;
    ders.into_iter().next().ok_or_else(|| {
        InputError::Other(format!(
            "--cert-path {} holds no certificate",
            path.display()
        ))
        .into()
    })
}

fn current_leaf(store: &Store, name: &CertName) -> Result<Vec<u8>, Error> {
    if store.read_renewal(name)?.is_none() && store.current_version(name)?.is_none() {
        return Err(StoreError::NoSuchLineage(name.to_string()).into());
    }
    let Some((fullchain, _)) = store.read_live(name)? else {
        return Err(
            StoreError::Other(format!("the certificate {name} has no current version")).into(),
        );
    };
    let ders = inspect::split_pem_chain(&fullchain).map_err(|e| StoreError::Corrupt {
        path: store.live_paths(name).fullchain,
        reason: e,
    })?;
    ders.into_iter().next().ok_or_else(|| {
        StoreError::Corrupt {
            path: store.live_paths(name).fullchain,
            reason: "no certificate in it".into(),
        }
        .into()
    })
}

fn read_config(store: &Store, name: &CertName) -> Result<RenewalConfig, Error> {
    let Some(json) = store.read_renewal(name)? else {
        return Err(StoreError::NoSuchLineage(name.to_string()).into());
    };
    RenewalConfig::parse(&json, &store.renewal_file(name))
}

/// The lineage a certificate file belongs to: one of its own files (live or archive), or a
/// copy of its current certificate. None: revoke with the server's account.
fn lineage_of(store: &Store, path: &Path, leaf_der: &[u8]) -> Result<Option<CertName>, Error> {
    let (names, _) = store.list_lineages()?;
    let canonical = std::fs::canonicalize(path).ok();
    for name in &names {
        let owns = store
            .lineage_files(name)?
            .iter()
            .any(|f| canonical.is_some() && std::fs::canonicalize(f).ok() == canonical);
        if owns {
            return Ok(Some(name.clone()));
        }
    }
    for name in &names {
        if current_leaf(store, name).ok().as_deref() == Some(leaf_der) {
            return Ok(Some(name.clone()));
        }
    }
    Ok(None)
}

/// The lineage's account, or else the server's stored account.
fn account_credentials(
    store: &Store,
    server: &ServerUrl,
    account_id: Option<&str>,
) -> Result<String, Error> {
    let server_dir = server.account_dir_name();
    if let Some(id) = account_id {
        if let Some(credentials) = store.read_account(&server_dir, id)? {
            return Ok(credentials);
        }
    }
    match store.find_account(&server_dir)? {
        Some((_, credentials)) => Ok(credentials),
        None => Err(StoreError::Other(format!(
            "no account for {server} is stored under {}: revoking needs the account that \
             issued the certificate (or one authorized for all its names)",
            store.config_dir().join("accounts").display()
        ))
        .into()),
    }
}
