//! Crontab expressions with cron(8) meaning, evaluated in UTC.
//!
//! Accepted: exactly five fields (minute hour day-of-month month day-of-week) and the
//! nicknames `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`, `@hourly`. Day of week
//! 0 and 7 are Sunday, 1 is Monday; names (`MON`, `JAN`) work. When both day fields are
//! restricted a day matches if *either* matches, as in cron(8). Seconds and year fields are
//! refused (croner would accept them) so an expression means what it does in a crontab.
//! croner's extensions (`L`, `W`, `#`, `?`, and a `+` prefix on day-of-week that turns the
//! OR into AND) are passed through.

use std::cmp::Ordering;

use croner::errors::CronError as CronerError;
use croner::parser::{CronParser, Seconds, Year};
use croner::{CivilDate, CivilDateTime, CivilTime, Cron, CronDateTime, Resolution, Weekday};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A cron expression that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CronError {
    #[error("invalid cron expression {expr:?}: {reason}")]
    Invalid { expr: String, reason: String },
    #[error("cron expression {expr:?} never fires (no such date)")]
    NeverFires { expr: String },
}

/// A parsed schedule. Times are interpreted in UTC, not the host's time zone: a daemon's
/// schedule should not shift with DST or a changed `TZ`.
#[derive(Debug, Clone)]
pub(crate) struct CronSchedule {
    expr: String,
    cron: Cron,
}

impl CronSchedule {
    /// Parses a five-field crontab expression or an `@nickname`.
    pub(crate) fn parse(expr: &str) -> Result<CronSchedule, CronError> {
        let invalid = |reason: String| CronError::Invalid {
            expr: expr.to_owned(),
            reason,
        };
        let trimmed = expr.trim();
        // croner maps unknown `@words` through unchanged and then fails on the `@`
        // character; say what is actually wrong.
        if trimmed.starts_with('@') && trimmed.split_whitespace().count() == 1 {
            let known = [
                "@yearly",
                "@annually",
                "@monthly",
                "@weekly",
                "@daily",
                "@hourly",
            ];
            if !known.iter().any(|k| k.eq_ignore_ascii_case(trimmed)) {
                return Err(invalid(format!(
                    "unknown nickname; expected one of {}",
                    known.join(", ")
                )));
            }
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build();
        let cron = parser.parse(trimmed).map_err(|e| invalid(describe(e)))?;
        let schedule = CronSchedule {
            expr: trimmed.to_owned(),
            cron,
        };
        // `0 0 30 2 *` parses but would make a daemon sleep forever; refuse it up front.
        if schedule.next_after(OffsetDateTime::UNIX_EPOCH).is_none() {
            return Err(CronError::NeverFires {
                expr: expr.to_owned(),
            });
        }
        Ok(schedule)
    }

    /// The first firing strictly after `t`, in UTC (`t`'s offset is ignored for matching;
    /// the result has offset UTC). `None` only past croner's search horizon (year 5000).
    pub(crate) fn next_after(&self, t: OffsetDateTime) -> Option<OffsetDateTime> {
        let utc = t.to_offset(UtcOffset::UTC);
        let start = UtcWall(PrimitiveDateTime::new(utc.date(), utc.time()));
        let next = self.cron.find_next_occurrence(&start, false).ok()?;
        Some(next.0.assume_utc())
    }
}

impl std::fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.expr)
    }
}

fn describe(e: CronerError) -> String {
    match e {
        CronerError::EmptyPattern => "empty expression".to_owned(),
        CronerError::InvalidPattern(m) => {
            if m.contains("5 fields") {
                "expected 5 fields (minute hour day-of-month month day-of-week) or @daily etc."
                    .to_owned()
            } else {
                m
            }
        }
        other => other.to_string(),
    }
}

/// UTC wall-clock time for croner, so we need neither chrono nor a time-zone database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct UtcWall(PrimitiveDateTime);

impl CronDateTime for UtcWall {
    fn to_civil(&self) -> CivilDateTime {
        let (d, t) = (self.0.date(), self.0.time());
        // time keeps every part in range, so the unchecked constructors are fine.
        CivilDateTime::new(
            CivilDate::from_parts_unchecked(d.year(), u8::from(d.month()).into(), d.day().into()),
            CivilTime::from_parts_unchecked(t.hour().into(), t.minute().into(), t.second().into()),
        )
    }

    fn civil_weekday(&self) -> Weekday {
        Weekday::from_days_from_sunday(self.0.weekday().number_days_from_sunday().into())
    }

    fn resolve_civil(&self, civil: CivilDateTime) -> Result<Resolution<Self>, CronerError> {
        let month = u8::try_from(civil.month())
            .ok()
            .and_then(|m| Month::try_from(m).ok())
            .ok_or(CronerError::InvalidDate)?;
        let day = u8::try_from(civil.day()).map_err(|_| CronerError::InvalidDate)?;
        let date = Date::from_calendar_date(civil.year(), month, day)
            .map_err(|_| CronerError::InvalidDate)?;
        let hms = |v: u32| u8::try_from(v).map_err(|_| CronerError::InvalidTime);
        let time = Time::from_hms(
            hms(civil.hour())?,
            hms(civil.minute())?,
            hms(civil.second())?,
        )
        .map_err(|_| CronerError::InvalidTime)?;
        // UTC has no DST gaps or folds.
        Ok(Resolution::Single(UtcWall(PrimitiveDateTime::new(
            date, time,
        ))))
    }

    fn checked_add_seconds(&self, seconds: i64) -> Option<Self> {
        self.0
            .checked_add(time::Duration::seconds(seconds))
            .map(UtcWall)
    }

    fn cmp_instant(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::Weekday as W;

    fn next(expr: &str, t: OffsetDateTime) -> OffsetDateTime {
        CronSchedule::parse(expr).unwrap().next_after(t).unwrap()
    }

    // 2026-03-04 is a Wednesday.
    const WED: OffsetDateTime = datetime!(2026-03-04 10:07:30 UTC);

    #[test]
    fn first_of_month_midnight() {
        assert_eq!(next("0 0 1 * *", WED), datetime!(2026-04-01 00:00 UTC));
        assert_eq!(
            next("0 0 1 * *", datetime!(2026-12-15 00:00 UTC)),
            datetime!(2027-01-01 00:00 UTC)
        );
        assert_eq!(next("@monthly", WED), datetime!(2026-04-01 00:00 UTC));
    }

    #[test]
    fn every_fifteen_minutes_is_strictly_after() {
        assert_eq!(next("*/15 * * * *", WED), datetime!(2026-03-04 10:15 UTC));
        let on_the_dot = datetime!(2026-03-04 10:15 UTC);
        assert_eq!(
            next("*/15 * * * *", on_the_dot),
            datetime!(2026-03-04 10:30 UTC)
        );
        let just_after = datetime!(2026-03-04 10:15:00.001 UTC);
        assert_eq!(
            next("*/15 * * * *", just_after),
            datetime!(2026-03-04 10:30 UTC)
        );
        let just_before = datetime!(2026-03-04 10:14:59.999 UTC);
        assert_eq!(
            next("*/15 * * * *", just_before),
            datetime!(2026-03-04 10:15 UTC)
        );
    }

    #[test]
    fn sunday_is_zero_and_seven_monday_is_one() {
        let sun = datetime!(2026-03-08 12:00 UTC);
        assert_eq!(sun.weekday(), W::Sunday);
        assert_eq!(next("0 12 * * 0", WED), sun);
        assert_eq!(next("0 12 * * 7", WED), sun);
        assert_eq!(next("0 12 * * SUN", WED), sun);
        let mon = datetime!(2026-03-09 12:00 UTC);
        assert_eq!(mon.weekday(), W::Monday);
        assert_eq!(next("0 12 * * 1", WED), mon);
        assert_eq!(next("0 12 * * 5-7", WED), datetime!(2026-03-06 12:00 UTC));
        assert_eq!(next("@weekly", WED), datetime!(2026-03-08 00:00 UTC));
    }

    #[test]
    fn nicknames() {
        assert_eq!(next("@daily", WED), datetime!(2026-03-05 00:00 UTC));
        assert_eq!(next("@DAILY", WED), datetime!(2026-03-05 00:00 UTC));
        assert_eq!(next("@hourly", WED), datetime!(2026-03-04 11:00 UTC));
        assert_eq!(next("@yearly", WED), datetime!(2027-01-01 00:00 UTC));
    }

    #[test]
    fn day_of_month_and_day_of_week_are_ored_like_cron8() {
        // "the 15th, or any Monday": from Wed 4 March the next is Monday 9 March, not the
        // 15th (a Sunday) nor a Monday the 15th (June).
        assert_eq!(next("0 0 15 * 1", WED), datetime!(2026-03-09 00:00 UTC));
        assert_eq!(
            next("0 0 15 * 1", datetime!(2026-03-10 00:00 UTC)),
            datetime!(2026-03-15 00:00 UTC)
        );
        // Only one field restricted: the `*` one is ignored, not ORed in.
        assert_eq!(next("0 0 15 * *", WED), datetime!(2026-03-15 00:00 UTC));
        assert_eq!(next("0 0 * * 1", WED), datetime!(2026-03-09 00:00 UTC));
    }

    #[test]
    fn offset_of_input_is_ignored_result_is_utc() {
        let t = datetime!(2026-03-04 23:30 -05:00); // 04:30 UTC on the 5th
        let n = next("0 5 * * *", t);
        assert_eq!(n, datetime!(2026-03-05 05:00 UTC));
        assert_eq!(n.offset(), UtcOffset::UTC);
    }

    #[test]
    fn leap_day() {
        assert_eq!(next("0 0 29 2 *", WED), datetime!(2028-02-29 00:00 UTC));
    }

    #[test]
    fn invalid_inputs_give_clear_errors() {
        for (expr, needle) in [
            ("", "empty"),
            ("   ", "empty"),
            ("* * * *", "5 fields"),
            ("0 * * * * *", "5 fields"),
            ("0 0 0 * * * 2026", "5 fields"),
            ("60 * * * *", ""),
            ("* 24 * * *", ""),
            ("* * 32 * *", ""),
            ("* * * 13 *", ""),
            ("* * * * 8", ""),
            ("a b c d e", ""),
            ("*/0 * * * *", ""),
            ("@fortnightly", "unknown nickname"),
            ("@reboot", "unknown nickname"),
        ] {
            let err = CronSchedule::parse(expr).unwrap_err();
            let msg = err.to_string();
            assert!(
                matches!(err, CronError::Invalid { .. }),
                "{expr:?}: {err:?}"
            );
            assert!(msg.contains(needle), "{expr:?}: {msg}");
            assert!(msg.contains(&format!("{expr:?}")), "names the input: {msg}");
        }
    }

    #[test]
    fn impossible_date_is_refused() {
        assert_eq!(
            CronSchedule::parse("0 0 30 2 *").unwrap_err(),
            CronError::NeverFires {
                expr: "0 0 30 2 *".into()
            }
        );
    }

    #[test]
    fn display_is_the_expression() {
        assert_eq!(
            CronSchedule::parse(" @daily ").unwrap().to_string(),
            "@daily"
        );
        assert_eq!(
            CronSchedule::parse("0 3 * * *").unwrap().to_string(),
            "0 3 * * *"
        );
    }
}
