//! `Retry-After` (RFC 9110 section 10.2.3): either delay-seconds or an IMF-fixdate HTTP-date.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

/// Longest delay used for scheduling: a CA that says "come back in a year" is capped so a
/// mistake on its side cannot silence renewals for that long (RFC 9773 suggests one day).
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::DAY;

/// IMF-fixdate, the only HTTP-date form senders may generate (RFC 9110 section 5.6.7).
const IMF_FIXDATE: &[FormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// An IMF-fixdate (`Date`, `Retry-After`) as a UTC time; None for anything else.
pub(crate) fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    let value = value.trim();
    let at = PrimitiveDateTime::parse(value, IMF_FIXDATE)
        .ok()?
        .assume_utc();
    // time does not check the weekday against the date; formatting back does.
    (at.format(IMF_FIXDATE).ok()? == value).then_some(at)
}

/// A parsed `Retry-After` value as a delay from the moment the response was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryAfter {
    raw: Duration,
}

impl RetryAfter {
    /// Parses a header value relative to `now` (when the response arrived).
    ///
    /// Returns `None` for anything that is neither delay-seconds nor an IMF-fixdate. A date
    /// in the past means "now" (a zero delay). The obsolete RFC 850 and asctime forms are not
    /// accepted: ACME servers send one of the two current forms.
    pub(crate) fn parse(value: &str, now: OffsetDateTime) -> Option<RetryAfter> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        if value.bytes().all(|b| b.is_ascii_digit()) {
            // All digits but too long for i64 is still "a very long time", not garbage.
            let secs = value.parse::<i64>().unwrap_or(i64::MAX);
            return Some(RetryAfter {
                raw: Duration::seconds(secs),
            });
        }
        let at = parse_http_date(value)?;
        Some(RetryAfter {
            raw: (at - now).max(Duration::ZERO),
        })
    }

    /// The delay exactly as the server asked for it (never negative).
    pub(crate) fn raw(self) -> Duration {
        self.raw
    }

    /// The delay, at most `max`.
    pub(crate) fn capped(self, max: Duration) -> Duration {
        self.raw.min(max)
    }

    /// The delay capped at [`MAX_RETRY_AFTER`], for deciding the next attempt.
    pub(crate) fn for_scheduling(self) -> Duration {
        self.capped(MAX_RETRY_AFTER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(1994-11-06 08:00:00 UTC);

    #[test]
    fn delay_seconds() {
        let r = RetryAfter::parse("120", NOW).unwrap();
        assert_eq!(r.raw(), Duration::seconds(120));
        assert_eq!(RetryAfter::parse(" 0 ", NOW).unwrap().raw(), Duration::ZERO);
    }

    #[test]
    fn http_date() {
        let r = RetryAfter::parse("Sun, 06 Nov 1994 08:49:37 GMT", NOW).unwrap();
        assert_eq!(r.raw(), Duration::minutes(49) + Duration::seconds(37));
    }

    #[test]
    fn http_date_in_the_past_is_zero() {
        let r = RetryAfter::parse("Sat, 05 Nov 1994 08:49:37 GMT", NOW).unwrap();
        assert_eq!(r.raw(), Duration::ZERO);
    }

    #[test]
    fn garbage_is_none() {
        for bad in [
            "",
            "   ",
            "-5",
            "1.5",
            "12s",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            // 1994-11-06 was a Sunday.
            "Mon, 06 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(RetryAfter::parse(bad, NOW), None, "{bad:?}");
        }
    }

    #[test]
    fn cap_keeps_raw_value() {
        let year = RetryAfter::parse("31536000", NOW).unwrap();
        assert_eq!(year.raw(), Duration::days(365));
        assert_eq!(year.for_scheduling(), Duration::DAY);
        assert_eq!(year.capped(Duration::HOUR), Duration::HOUR);
        let short = RetryAfter::parse("30", NOW).unwrap();
        assert_eq!(short.for_scheduling(), Duration::seconds(30));
    }

    #[test]
    fn huge_number_saturates() {
        let r = RetryAfter::parse("99999999999999999999999999", NOW).unwrap();
        assert_eq!(r.raw(), Duration::seconds(i64::MAX));
        assert_eq!(r.for_scheduling(), MAX_RETRY_AFTER);
    }
}
