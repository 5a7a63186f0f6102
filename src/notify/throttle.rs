//! When an alert is due: the first failure at once, then at most once a day per lineage
//! while it keeps failing; a recovery once; conditions (near expiry, ARI window in the past,
//! served mismatch) when they start and then once a day while they last.
//!
//! [`AlertState`] is plain serde data the caller loads and saves (atomically) around each
//! run, so the throttle survives restarts. Every method takes `now`; nothing reads a clock.
//! An alert counts as sent only when the caller calls [`AlertState::mark_sent`] (after at
//! least one target took it), so an alert no target took is tried again on the next run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::EventKind;

/// How often a still-true alert is repeated.
pub const REPEAT_EVERY: Duration = Duration::days(1);

/// Alert bookkeeping for every lineage (`alerts.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertState {
    #[serde(default)]
    pub lineages: BTreeMap<String, LineageAlerts>,
}

/// One lineage's failure streak and when each kind of alert last went out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LineageAlerts {
    /// Renewal failures in a row (0 when the last attempt succeeded).
    #[serde(default)]
    pub consecutive_failures: u32,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub failing_since: Option<OffsetDateTime>,
    /// A success after failures whose `Recovered` alert has not gone out yet.
    #[serde(default)]
    pub recovery_pending: bool,
    /// Conditions that hold now (near expiry etc.), set by [`AlertState::set_condition`].
    #[serde(default)]
    pub active: Vec<EventKind>,
    /// When each kind was last delivered (RFC 3339).
    #[serde(default)]
    pub last_sent: BTreeMap<EventKind, String>,
}

impl LineageAlerts {
    fn last_sent(&self, kind: EventKind) -> Option<OffsetDateTime> {
        let text = self.last_sent.get(&kind)?;
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
    }
}

impl AlertState {
    /// A renewal attempt of `lineage` failed: the streak grows.
    pub fn record_failure(&mut self, lineage: &str, now: OffsetDateTime) {
        let entry = self.lineages.entry(lineage.to_string()).or_default();
        if entry.consecutive_failures == 0 {
            entry.failing_since = Some(now);
            // A new streak alerts at once, even if the last one alerted an hour ago.
            entry.last_sent.remove(&EventKind::RenewalFailed);
        }
        entry.consecutive_failures = entry.consecutive_failures.saturating_add(1);
        entry.recovery_pending = false;
    }

    /// A renewal attempt of `lineage` succeeded: a streak, if any, ends with a recovery alert.
    pub fn record_success(&mut self, lineage: &str) {
        let entry = self.lineages.entry(lineage.to_string()).or_default();
        if entry.consecutive_failures > 0 {
            entry.recovery_pending = true;
        }
        entry.consecutive_failures = 0;
        entry.failing_since = None;
        entry.last_sent.remove(&EventKind::RenewalFailed);
    }

    /// Whether a condition alert (`NearExpiry`, `AriWindowInPast`, `ServedMismatch`) holds now;
    /// when it ends, its next start alerts at once.
    pub fn set_condition(&mut self, lineage: &str, kind: EventKind, holds: bool) {
        // A lineage with nothing to remember gets no entry (alerts.json stays small).
        if !holds && !self.lineages.contains_key(lineage) {
            return;
        }
        let entry = self.lineages.entry(lineage.to_string()).or_default();
        let was = entry.active.contains(&kind);
        if holds && !was {
            entry.active.push(kind);
            entry.active.sort();
            entry.last_sent.remove(&kind);
        } else if !holds && was {
            entry.active.retain(|k| *k != kind);
            entry.last_sent.remove(&kind);
        }
    }

    /// The alerts of `lineage` to send now, in a stable order.
    pub fn due(&self, lineage: &str, now: OffsetDateTime) -> Vec<EventKind> {
        let Some(entry) = self.lineages.get(lineage) else {
            return Vec::new();
        };
        let repeat_due = |kind: EventKind| match entry.last_sent(kind) {
            None => true,
            Some(at) => now - at >= REPEAT_EVERY,
        };
        let mut kinds = Vec::new();
        if entry.consecutive_failures > 0 && repeat_due(EventKind::RenewalFailed) {
            kinds.push(EventKind::RenewalFailed);
        }
        if entry.recovery_pending {
            kinds.push(EventKind::Recovered);
        }
        kinds.extend(entry.active.iter().copied().filter(|k| repeat_due(*k)));
        kinds
    }

    /// `kind` reached at least one target: not again before [`REPEAT_EVERY`].
    pub fn mark_sent(&mut self, lineage: &str, kind: EventKind, now: OffsetDateTime) {
        let entry = self.lineages.entry(lineage.to_string()).or_default();
        if kind == EventKind::Recovered {
            entry.recovery_pending = false;
        }
        let at = now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        entry.last_sent.insert(kind, at);
    }

    /// Drops lineages that no longer exist (deleted certificates).
    pub fn retain(&mut self, exists: impl Fn(&str) -> bool) {
        // An entry with nothing in it (no streak, no condition, nothing sent) is dropped.
        let empty = LineageAlerts::default();
        self.lineages
            .retain(|name, entry| exists(name) && *entry != empty);
    }
}

/// Under 1/10 of the lifetime left, or 7 days, whichever is sooner (the rule).
pub fn near_expiry(
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    now: OffsetDateTime,
) -> bool {
    let lifetime: Duration = not_after - not_before;
    let threshold = (lifetime / 10_i32).min(Duration::days(7));
    not_after - now < threshold
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-01 00:00 UTC);

    fn roundtrip(state: &AlertState) -> AlertState {
        serde_json::from_str(&serde_json::to_string(state).unwrap()).unwrap()
    }

    #[test]
    fn first_failure_alerts_then_once_a_day_across_restarts() {
        let mut s = AlertState::default();
        s.record_failure("a", T0);
        assert_eq!(s.due("a", T0), [EventKind::RenewalFailed]);
        s.mark_sent("a", EventKind::RenewalFailed, T0);
        let mut s = roundtrip(&s);
        for hours in [1, 6, 23] {
            let now = T0 + Duration::hours(hours);
            s.record_failure("a", now);
            assert!(s.due("a", now).is_empty(), "after {hours} h");
            s = roundtrip(&s);
        }
        let next_day = T0 + Duration::hours(24);
        s.record_failure("a", next_day);
        assert_eq!(s.due("a", next_day), [EventKind::RenewalFailed]);
        assert_eq!(s.lineages["a"].consecutive_failures, 5);
        assert!(s.due("b", next_day).is_empty());
    }

    #[test]
    fn undelivered_alert_stays_due() {
        let mut s = AlertState::default();
        s.record_failure("a", T0);
        s.record_failure("a", T0 + Duration::hours(1));
        assert_eq!(
            s.due("a", T0 + Duration::hours(1)),
            [EventKind::RenewalFailed]
        );
    }

    #[test]
    fn recovery_alerts_once_and_a_new_streak_alerts_at_once() {
        let mut s = AlertState::default();
        s.record_success("a");
        assert!(s.due("a", T0).is_empty(), "no streak, no recovery");
        s.record_failure("a", T0);
        s.mark_sent("a", EventKind::RenewalFailed, T0);
        s.record_success("a");
        let now = T0 + Duration::hours(1);
        assert_eq!(s.due("a", now), [EventKind::Recovered]);
        s.mark_sent("a", EventKind::Recovered, now);
        assert!(roundtrip(&s).due("a", now).is_empty());
        s.record_failure("a", now + Duration::minutes(5));
        assert_eq!(
            s.due("a", now + Duration::minutes(5)),
            [EventKind::RenewalFailed]
        );
    }

    #[test]
    fn conditions_alert_on_start_daily_and_again_after_ending() {
        let mut s = AlertState::default();
        s.set_condition("a", EventKind::NearExpiry, true);
        assert_eq!(s.due("a", T0), [EventKind::NearExpiry]);
        s.mark_sent("a", EventKind::NearExpiry, T0);
        s.set_condition("a", EventKind::NearExpiry, true);
        assert!(s.due("a", T0 + Duration::hours(2)).is_empty());
        assert_eq!(s.due("a", T0 + Duration::days(1)), [EventKind::NearExpiry]);
        s.set_condition("a", EventKind::NearExpiry, false);
        assert!(s.due("a", T0 + Duration::days(1)).is_empty());
        s.set_condition("a", EventKind::ServedMismatch, true);
        assert_eq!(s.due("a", T0), [EventKind::ServedMismatch]);
    }

    #[test]
    fn healthy_lineages_leave_no_entry_and_others_survive_retain() {
        let mut s = AlertState::default();
        s.set_condition("healthy", EventKind::NearExpiry, false);
        assert!(!s.lineages.contains_key("healthy"));
        s.record_failure("failing", T0);
        s.set_condition("cleared", EventKind::NearExpiry, true);
        s.set_condition("cleared", EventKind::NearExpiry, false);
        s.record_failure("deleted", T0);
        s.retain(|name| name != "deleted");
        let kept: Vec<&str> = s.lineages.keys().map(String::as_str).collect();
        assert_eq!(kept, ["failing"]);
    }

    #[test]
    fn near_expiry_uses_the_sooner_threshold() {
        let nb = T0;
        // 90 days: 7 days is sooner than 9.
        let na = nb + Duration::days(90);
        assert!(!near_expiry(nb, na, na - Duration::days(8)));
        assert!(near_expiry(nb, na, na - Duration::days(6)));
        // 6 days: 1/10 is 14.4 h.
        let na = nb + Duration::days(6);
        assert!(!near_expiry(nb, na, na - Duration::hours(15)));
        assert!(near_expiry(nb, na, na - Duration::hours(14)));
    }
}
