//! Backoff after failed renewals: about 1 min, 10 min, 100 min, then daily (Let's Encrypt's
//! recommended schedule), each with +-10% jitter so a fleet does not retry in lockstep.

use rand::Rng;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// The delay after the `consecutive`-th failure in a row, before jitter.
pub(crate) fn nominal_backoff(consecutive: u32) -> Duration {
    match consecutive {
        0 => Duration::ZERO,
        1 => Duration::MINUTE,
        2 => Duration::minutes(10),
        3 => Duration::minutes(100),
        _ => Duration::DAY,
    }
}

/// [`nominal_backoff`] with uniform jitter of up to 10% either way (millisecond resolution).
pub(crate) fn backoff_delay<R: Rng + ?Sized>(consecutive: u32, rng: &mut R) -> Duration {
    let nominal_ms = nominal_backoff(consecutive).whole_milliseconds() as i64;
    let spread = nominal_ms / 10;
    Duration::milliseconds(nominal_ms + rng.random_range(-spread..=spread))
}

/// Consecutive failures of one lineage, kept between runs.
///
/// Reset on success is the caller's job: delete the stored state once a renewal succeeds,
/// so the next failure starts again at one minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FailureState {
    pub consecutive: u32,
    pub last_error: String,
    #[serde(with = "time::serde::rfc3339")]
    pub last_failure: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt: OffsetDateTime,
}

impl FailureState {
    /// The state after one more failure at `now`.
    ///
    /// `retry_after` (already capped, e.g. by `RetryAfter::for_scheduling`) from a
    /// rate-limit answer pushes the next attempt later, never earlier.
    pub(crate) fn record<R: Rng + ?Sized>(
        previous: Option<&FailureState>,
        error: impl Into<String>,
        now: OffsetDateTime,
        retry_after: Option<Duration>,
        rng: &mut R,
    ) -> FailureState {
        let consecutive = previous.map_or(0, |p| p.consecutive).saturating_add(1);
        let delay = backoff_delay(consecutive, rng).max(retry_after.unwrap_or(Duration::ZERO));
        FailureState {
            consecutive,
            last_error: error.into(),
            last_failure: now,
            next_attempt: now.saturating_add(delay),
        }
    }

    /// Whether the backoff has elapsed.
    pub(crate) fn attempt_due(&self, now: OffsetDateTime) -> bool {
        now >= self.next_attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use time::macros::datetime;

    #[test]
    fn jitter_stays_within_ten_percent() {
        let mut rng = StdRng::seed_from_u64(11);
        for (n, nominal) in [
            (1, Duration::MINUTE),
            (2, Duration::minutes(10)),
            (3, Duration::minutes(100)),
            (4, Duration::DAY),
            (50, Duration::DAY),
            (u32::MAX, Duration::DAY),
        ] {
            assert_eq!(nominal_backoff(n), nominal);
            let (lo, hi) = (nominal * 0.9, nominal * 1.1);
            let mut seen_low = false;
            let mut seen_high = false;
            for _ in 0..500 {
                let d = backoff_delay(n, &mut rng);
                assert!(d >= lo && d <= hi, "{n}: {d}");
                seen_low |= d < nominal * 0.95;
                seen_high |= d > nominal * 1.05;
            }
            assert!(seen_low && seen_high, "jitter actually varies for {n}");
        }
    }

    #[test]
    fn successive_failures_escalate() {
        let mut rng = StdRng::seed_from_u64(5);
        let t0 = datetime!(2026-03-01 12:00:00 UTC);
        let f1 = FailureState::record(None, "timeout", t0, None, &mut rng);
        assert_eq!(f1.consecutive, 1);
        assert_eq!(f1.last_failure, t0);
        let d1 = f1.next_attempt - t0;
        assert!(
            d1 >= Duration::seconds(54) && d1 <= Duration::seconds(66),
            "{d1}"
        );
        assert!(!f1.attempt_due(t0 + Duration::seconds(50)));
        assert!(f1.attempt_due(t0 + Duration::seconds(70)));

        let t1 = f1.next_attempt;
        let f2 = FailureState::record(Some(&f1), "dns", t1, None, &mut rng);
        assert_eq!(f2.consecutive, 2);
        assert_eq!(f2.last_error, "dns");
        let d2 = f2.next_attempt - t1;
        assert!(
            d2 >= Duration::minutes(9) && d2 <= Duration::minutes(11),
            "{d2}"
        );

        let f3 = FailureState::record(Some(&f2), "x", t1, None, &mut rng);
        let f4 = FailureState::record(Some(&f3), "x", t1, None, &mut rng);
        let d4 = f4.next_attempt - t1;
        assert!(d4 >= Duration::hours(21) + Duration::minutes(36), "{d4}");
    }

    #[test]
    fn retry_after_pushes_later_only() {
        let mut rng = StdRng::seed_from_u64(5);
        let t0 = datetime!(2026-03-01 12:00:00 UTC);
        let f = FailureState::record(None, "rateLimited", t0, Some(Duration::HOUR), &mut rng);
        assert_eq!(f.next_attempt, t0 + Duration::HOUR);
        let f = FailureState::record(None, "x", t0, Some(Duration::SECOND), &mut rng);
        assert!(f.next_attempt - t0 >= Duration::seconds(54));
    }

    #[test]
    fn counter_saturates_and_serialises() {
        let mut rng = StdRng::seed_from_u64(5);
        let t0 = datetime!(2026-03-01 12:00:00 UTC);
        let prev = FailureState {
            consecutive: u32::MAX,
            last_error: "old".into(),
            last_failure: t0,
            next_attempt: t0,
        };
        let f = FailureState::record(Some(&prev), "new", t0, None, &mut rng);
        assert_eq!(f.consecutive, u32::MAX);
        let json = serde_json::to_string(&f).unwrap();
        assert!(
            json.contains("\"last_failure\":\"2026-03-01T12:00:00Z\""),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<FailureState>(&json).unwrap(), f);
    }
}
