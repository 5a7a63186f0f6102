//! `--store` and the fleet flags (`--store-key-file`, `--store-ca-bundle`, `--node-id`, ...).

use std::time::Duration;

use crate::error::{Error, InputError};
use crate::ops::deploy::alerts::host_name;
use crate::ops::fleet::FleetSettings;

use crate::cli::GlobalArgs;

/// `--store` and friends; `None` without `--store` (local filesystem only).
pub(super) fn fleet_settings(g: &GlobalArgs) -> Result<Option<FleetSettings>, Error> {
    let Some(url) = &g.store else {
        if g.store_key_file.is_some() {
            return Err(InputError::Other("--store-key-file needs --store".into()).into());
        }
        if g.store_ca_bundle.is_some() {
            return Err(
                InputError::Other("--store-ca-bundle needs --store rediss://".into()).into(),
            );
        }
        return Ok(None);
    };
    let node = match &g.node_id {
        Some(n) => n.clone(),
        None => host_name(),
    };
    if !crate::store::shared::is_node_id(&node) {
        return Err(InputError::Other(format!(
            "--node-id {node:?}: use letters, digits and - _ . only"
        ))
        .into());
    }
    Ok(Some(FleetSettings {
        url: url.clone(),
        key_file: g.store_key_file.clone(),
        ca_bundle: g.store_ca_bundle.clone(),
        prefix: g.store_prefix.clone(),
        node,
        lock_ttl: Duration::from_secs(g.store_lock_ttl),
    }))
}
