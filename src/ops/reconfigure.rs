//! `reconfigure`: a lineage's new renewal settings are tried with a dry-run renewal of the
//! config held in memory (renew's own dry-run path: a throwaway certificate from the
//! staging counterpart), and written only once that passed. No moment has an untried
//! config on disk: a run killed during the dry run leaves the old file byte for byte.

use time::OffsetDateTime;

use crate::config::RenewalConfig;
use crate::error::{AcmeError, Error};
use crate::store::{Store, StoreLock};
use crate::types::ServerUrl;

use crate::ops::output::Ui;
use crate::ops::renew::lineage::write_config;
use crate::ops::renew::{renew_pass, RenewRequest};

/// Save `new` (the lineage's config with the changes asked for) if a dry-run renewal with
/// it passes. `_lock` is the run lock, taken before the old config was read and held by
/// the caller until after the (atomic) write.
pub(crate) async fn save_after_dry_run(
    ui: &Ui,
    store: &Store,
    _lock: &StoreLock,
    new: &RenewalConfig,
    dry_run_server: Option<ServerUrl>,
) -> Result<(), Error> {
    let name = &new.cert_name;
    let request = RenewRequest {
        names: vec![name.clone()],
        dry_run: true,
        dry_run_server,
        concurrency: 1,
        unsaved_config: Some(new.clone()),
        ..RenewRequest::default()
    };
    let results = renew_pass(ui, store, &request, OffsetDateTime::now_utc()).await?;
    let failure = results.iter().find_map(|r| match r.error() {
        Some(e) => Some(e.to_string()),
        None => r.hook_error.as_ref().map(ToString::to_string),
    });
    if results.is_empty() || failure.is_some() {
        return Err(AcmeError::Protocol(format!(
            "{name}: the dry-run renewal with the new settings failed, so they were not saved: {}",
            failure.unwrap_or_else(|| "it did not run".into())
        ))
        .into());
    }
    write_config(store, new)
}
