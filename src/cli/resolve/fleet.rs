//! `--store` and the fleet flags (`--store-key-file`, `--store-ca-bundle`, `--node-id`, ...).

use std::time::Duration;

use crate::error::{Error, InputError};
use crate::ops::deploy::alerts::host_name;
use crate::ops::fleet::FleetSettings;
use crate::types::NodeId;

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
    let node = NodeId::new(&node).map_err(|_| InputError::BadValue {
        flag: "--node-id",
        value: node,
        reason: "use letters, digits and - _ . only".into(),
    })?;
    Ok(Some(FleetSettings {
        url: url.clone(),
        key_file: g.store_key_file.clone(),
        ca_bundle: g.store_ca_bundle.clone(),
        prefix: g.store_prefix.clone(),
        node,
        lock_ttl: Duration::from_secs(g.store_lock_ttl),
    }))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{input_error, parse};
    use super::*;

    #[test]
    fn store_flags_resolve_to_fleet_settings() {
        let cli = parse(&[
            "--store",
            "redis://127.0.0.1:6379/0",
            "--store-key-file",
            "/etc/certwright/store.key",
            "--node-id",
            "node-1",
            "certificates",
        ]);
        let f = fleet_settings(&cli.global)
            .unwrap()
            .expect("fleet settings");
        assert_eq!(f.url, "redis://127.0.0.1:6379/0");
        assert_eq!(f.node.as_str(), "node-1");
        assert_eq!(
            f.key_file.as_deref(),
            Some(std::path::Path::new("/etc/certwright/store.key"))
        );
        assert!(fleet_settings(&parse(&["certificates"]).global)
            .unwrap()
            .is_none());
    }

    #[test]
    fn store_flags_without_store_or_with_a_bad_node_id_are_refused() {
        let cli = parse(&["--store-key-file", "/k", "certificates"]);
        let e = input_error(fleet_settings(&cli.global));
        assert!(
            matches!(&e, InputError::Needs { what, .. } if what == "--store-key-file"),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "--store-key-file needs --store");
        let cli = parse(&["--store-ca-bundle", "/ca.pem", "certificates"]);
        let e = input_error(fleet_settings(&cli.global));
        assert!(
            matches!(&e, InputError::Needs { what, .. } if what == "--store-ca-bundle"),
            "{e:?}"
        );
        let cli = parse(&["--store", "redis://h/0", "--node-id", "a b", "certificates"]);
        let e = input_error(fleet_settings(&cli.global));
        assert!(
            matches!(&e, InputError::BadValue { flag: "--node-id", value, .. } if value == "a b"),
            "{e:?}"
        );
    }
}
