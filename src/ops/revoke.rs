//! Revocation: which certificate (a lineage's current one, or a file that may belong to a
//! lineage), with which account (the one that issued it, else the server's), at which CA.

use std::path::{Path, PathBuf};

use crate::acme::{AcmeAccount, AcmeHttp, RevokeReason};
use crate::error::{Error, StoreError};
use crate::store::{inspect, Store};
use crate::types::{CertName, ServerUrl};

use crate::ops::issue::accounts::{stored_account, ServerChoice};
use crate::ops::output::Ui;
use crate::ops::renew::lineage::require_config;

/// What to revoke: a lineage's current certificate, or a file.
pub(crate) enum Target {
    Lineage(CertName),
    File { path: PathBuf, leaf_der: Vec<u8> },
}

/// The certificate found, its lineage if it has one, and where and as whom to revoke it.
pub(crate) struct Located {
    pub lineage: Option<CertName>,
    pub leaf_der: Vec<u8>,
    /// The path shown to the user.
    pub shown: String,
    pub server: ServerUrl,
    pub ca_bundle: Option<PathBuf>,
    pub account_id: Option<String>,
}

/// Find the certificate and its lineage; a lineage's saved server and account win over the
/// flags, its CA bundle too unless `--ca-bundle` was given (`bundle_given`).
pub(crate) fn locate(
    store: &Store,
    target: Target,
    choice: &ServerChoice,
    bundle_given: bool,
) -> Result<Located, Error> {
    let (lineage, leaf_der, shown) = match target {
        Target::Lineage(name) => {
            let leaf = current_leaf(store, &name)?;
            let shown = store.live_paths(&name).cert.display().to_string();
            (Some(name), leaf, shown)
        }
        Target::File { path, leaf_der } => {
            let lineage = lineage_of(store, &path, &leaf_der)?;
            (lineage, leaf_der, path.display().to_string())
        }
    };
    let config = lineage
        .as_ref()
        .map(|n| require_config(store, n))
        .transpose()?;
    let (server, ca_bundle, account_id) = match &config {
        Some(c) => (
            c.server.clone(),
            if bundle_given {
                choice.ca_bundle.clone()
            } else {
                c.ca_bundle.clone()
            },
            Some(c.account.clone()),
        ),
        None => (choice.server.clone(), choice.ca_bundle.clone(), None),
    };
    Ok(Located {
        lineage,
        leaf_der,
        shown,
        server,
        ca_bundle,
        account_id,
    })
}

/// Revoke at the CA with the account found.
pub(crate) async fn revoke(
    ui: &Ui,
    store: &Store,
    found: &Located,
    reason: RevokeReason,
) -> Result<(), Error> {
    let credentials = account_credentials(store, &found.server, found.account_id.as_deref())?;
    let http = AcmeHttp::new(found.ca_bundle.as_deref())?;
    let account = AcmeAccount::restore(&http, &credentials).await?;
    let step = ui.step(format!("Revoking {} at {}", found.shown, found.server));
    account.revoke(&found.leaf_der, reason).await?;
    step.done();
    Ok(())
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
    match stored_account(store, server, account_id)? {
        Some((_, credentials)) => Ok(credentials),
        None => Err(StoreError::Other(format!(
            "no account for {server} is stored under {}: revoking needs the account that \
             issued the certificate (or one authorized for all its names)",
            store.config_dir().join("accounts").display()
        ))
        .into()),
    }
}
