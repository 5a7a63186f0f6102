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
            return Err(InputError::Needs {
                what: "--store-key-file".into(),
                needs: "--store".into(),
            }
            .into());
        }
        if g.store_ca_bundle.is_some() {
            return Err(InputError::Needs {
                what: "--store-ca-bundle".into(),
                needs: "--store rediss://".into(),
            }
            .into());
        }
        return Ok(None);
    };
    let node = match &g.node_id {
        Some(n) => n.clone(),
        None => host_name(),
    };
    if !crate::store::shared::is_node_id(&node) {
        return Err(InputError::BadValue {
            flag: "--node-id",
            value: node,
            reason: "use letters, digits and - _ . only".into(),
        }
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
