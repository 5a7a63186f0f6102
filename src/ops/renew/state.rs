//! Per-lineage renewal bookkeeping in `<work>/state/<name>.json`: ARI answers, failures
//! and backoff, last success. Losing it only resets backoff and re-asks the CA, so an
//! unreadable file is a warning, never a failed renewal.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::schedule::{AriState, FailureState};
use crate::store::Store;
use crate::types::CertName;

use crate::ops::output::Ui;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct LineageState {
    /// renewalInfo for the certificate with serial `ari_serial` (dropped when it changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ari: Option<AriState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ari_serial: Option<String>,
    /// Do not contact the CA about ARI before this (also set when it offers no ARI).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub ari_next_check: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureState>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_success: Option<OffsetDateTime>,
    /// The last check of what nginx serves (after an install or a renewal into nginx).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served: Option<ServedState>,
}

/// What the last served check found, kept so `plan` and `certificates` can show it offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ServedState {
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    /// Every probe served the live leaf.
    pub matched: bool,
    /// `ADDR name` of each probe that did not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
}

impl ServedState {
    /// One line for `plan` and `certificates`.
    pub(crate) fn describe(&self) -> String {
        let at = crate::ops::output::rfc3339(self.checked_at);
        if self.matched {
            format!("nginx serves the live certificate (checked {at})")
        } else {
            format!(
                "MISMATCH: nginx does not serve the live certificate at {} (checked {at})",
                self.failures.join(", ")
            )
        }
    }
}

impl LineageState {
    pub(crate) fn load(ui: &Ui, store: &Store, name: &CertName) -> LineageState {
        match store.read_state(name) {
            Ok(Some(json)) => serde_json::from_str(&json).unwrap_or_else(|e| {
                ui.warn(format!(
                    "renewal state of {name} is unreadable ({e}); starting afresh"
                ));
                LineageState::default()
            }),
            Ok(None) => LineageState::default(),
            Err(e) => {
                ui.warn(format!("{e}; starting afresh"));
                LineageState::default()
            }
        }
    }

    pub(crate) fn save(&self, ui: &Ui, store: &Store, name: &CertName) {
        let json = serde_json::to_string_pretty(self).unwrap_or_default();
        if let Err(e) = store.write_state(name, &json) {
            ui.warn(format!("could not record renewal state of {name}: {e}"));
        }
    }

    /// ARI state only counts for the certificate it was fetched for.
    pub(crate) fn ari_for(&self, serial: &str) -> Option<AriState> {
        match &self.ari_serial {
            Some(s) if s == serial => self.ari.clone(),
            _ => None,
        }
    }
}
