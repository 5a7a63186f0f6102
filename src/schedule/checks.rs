//! Twice-daily check times at a per-host random minute, as Let's Encrypt asks of clients, so
//! that hosts do not all wake at 00:00.

use rand::Rng;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, Time, UtcOffset};

const HALF_DAY_MINUTES: u16 = 12 * 60;

/// Checks at `minute` and `minute + 12h` past UTC midnight, every day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TwiceDaily {
    minute: u16,
}

impl TwiceDaily {
    /// Draws the minute once; the caller keeps it (e.g. for the daemon's lifetime).
    pub(crate) fn random<R: Rng + ?Sized>(rng: &mut R) -> TwiceDaily {
        TwiceDaily {
            minute: rng.random_range(0..HALF_DAY_MINUTES),
        }
    }

    /// A fixed minute past midnight and noon UTC; `None` unless below 720.
    #[cfg(test)]
    pub(crate) fn at_minute(minute: u16) -> Option<TwiceDaily> {
        (minute < HALF_DAY_MINUTES).then_some(TwiceDaily { minute })
    }

    /// Minutes past 00:00 and 12:00 UTC.
    #[cfg(test)]
    pub(crate) fn minute(&self) -> u16 {
        self.minute
    }

    /// The first check time strictly after `t` (result in UTC); never more than 12 h away.
    pub(crate) fn next_after(&self, t: OffsetDateTime) -> OffsetDateTime {
        let utc = t.to_offset(UtcOffset::UTC);
        let midnight = utc.replace_time(Time::MIDNIGHT);
        let first = midnight + Duration::minutes(self.minute.into());
        [Duration::ZERO, Duration::hours(12), Duration::DAY]
            .into_iter()
            .map(|d| first + d)
            .find(|c| *c > utc)
            // Unreachable: first + 1 day > midnight + 1 day > utc.
            .unwrap_or(first + Duration::DAY)
    }

    /// Check times after `t`, in order.
    #[cfg(test)]
    pub(crate) fn upcoming(&self, t: OffsetDateTime) -> impl Iterator<Item = OffsetDateTime> {
        let schedule = *self;
        std::iter::successors(Some(schedule.next_after(t)), move |prev| {
            Some(schedule.next_after(*prev))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use time::macros::datetime;

    #[test]
    fn random_minute_is_in_range_and_varies() {
        let mut rng = StdRng::seed_from_u64(9);
        let minutes: Vec<u16> = (0..200)
            .map(|_| TwiceDaily::random(&mut rng).minute())
            .collect();
        assert!(minutes.iter().all(|m| *m < 720));
        assert!(minutes.iter().any(|m| *m < 360) && minutes.iter().any(|m| *m >= 360));
        let mut a = StdRng::seed_from_u64(1);
        let mut b = StdRng::seed_from_u64(1);
        assert_eq!(TwiceDaily::random(&mut a), TwiceDaily::random(&mut b));
    }

    #[test]
    fn at_minute_bounds() {
        assert!(TwiceDaily::at_minute(719).is_some());
        assert!(TwiceDaily::at_minute(720).is_none());
    }

    #[test]
    fn next_after_walks_midnight_noon_and_day_boundaries() {
        let s = TwiceDaily::at_minute(7 * 60 + 13).unwrap(); // 07:13 and 19:13
        let cases = [
            (
                datetime!(2026-05-01 00:00 UTC),
                datetime!(2026-05-01 07:13 UTC),
            ),
            (
                datetime!(2026-05-01 07:13 UTC),
                datetime!(2026-05-01 19:13 UTC),
            ),
            (
                datetime!(2026-05-01 07:12:59 UTC),
                datetime!(2026-05-01 07:13 UTC),
            ),
            (
                datetime!(2026-05-01 19:13 UTC),
                datetime!(2026-05-02 07:13 UTC),
            ),
            (
                datetime!(2026-12-31 23:59 UTC),
                datetime!(2027-01-01 07:13 UTC),
            ),
            // 06:00 at -05:00 is 11:00 UTC.
            (
                datetime!(2026-05-01 06:00 -05:00),
                datetime!(2026-05-01 19:13 UTC),
            ),
        ];
        for (t, want) in cases {
            assert_eq!(s.next_after(t), want, "after {t}");
        }
    }

    #[test]
    fn upcoming_is_twice_a_day_twelve_hours_apart() {
        let s = TwiceDaily::random(&mut StdRng::seed_from_u64(4));
        let t = datetime!(2026-05-01 10:00 UTC);
        let times: Vec<_> = s.upcoming(t).take(6).collect();
        assert!(times[0] > t && times[0] - t <= Duration::hours(12));
        for pair in times.windows(2) {
            assert_eq!(pair[1] - pair[0], Duration::hours(12));
        }
        assert_eq!(times[0].minute(), (s.minute() % 60) as u8);
    }
}
