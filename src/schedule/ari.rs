//! ACME Renewal Information (RFC 9773): the CA's suggested renewal window.

use rand::Rng;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use super::retry_after::RetryAfter;

/// Re-check interval when the CA sent no usable `Retry-After` (RFC 9773's long-term error
/// default).
pub(crate) const ARI_DEFAULT_RECHECK: Duration = Duration::hours(6);
/// Shortest re-check interval: RFC 9773 suggests treating anything shorter as one minute.
pub(crate) const ARI_MIN_RECHECK: Duration = Duration::MINUTE;
/// Longest re-check interval: RFC 9773 suggests at most a day; twice a day, so a window the
/// CA moved into the past (a revocation drill) is noticed within hours.
pub(crate) const ARI_MAX_RECHECK: Duration = Duration::hours(12);

/// The suggested renewal window. Only `end > start` is usable; see [`AriWindow::is_sane`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AriWindow {
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
}

impl AriWindow {
    /// An empty or inverted window carries no usable advice and is treated as absent.
    pub(crate) fn is_sane(&self) -> bool {
        self.end > self.start
    }
}

/// A parsed renewalInfo response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RenewalInfo {
    pub window: AriWindow,
    pub explanation_url: Option<String>,
}

/// Why a renewalInfo body was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum AriError {
    #[error("renewalInfo is not the expected JSON object: {0}")]
    Json(String),
    #[error("renewalInfo suggestedWindow.{field} is not an RFC 3339 timestamp: {value:?}")]
    Timestamp { field: &'static str, value: String },
    #[error("renewalInfo suggestedWindow is empty or inverted ({start} .. {end})")]
    EmptyWindow { start: String, end: String },
}

#[derive(Deserialize)]
struct RawRenewalInfo {
    #[serde(rename = "suggestedWindow")]
    suggested_window: RawWindow,
    #[serde(rename = "explanationURL")]
    explanation_url: Option<String>,
}

#[derive(Deserialize)]
struct RawWindow {
    start: String,
    end: String,
}

/// Parses a renewalInfo response body (RFC 9773 section 4.2). Unknown fields are ignored
/// because the object is extensible; an inverted window is an error so the caller falls back
/// to its own schedule.
pub(crate) fn parse_renewal_info(body: &[u8]) -> Result<RenewalInfo, AriError> {
    let raw: RawRenewalInfo =
        serde_json::from_slice(body).map_err(|e| AriError::Json(e.to_string()))?;
    let parse = |field: &'static str, value: &str| {
        OffsetDateTime::parse(value, &Rfc3339)
            .map(|t| t.to_offset(UtcOffset::UTC))
            .map_err(|_| AriError::Timestamp {
                field,
                value: value.to_owned(),
            })
    };
    let window = AriWindow {
        start: parse("start", &raw.suggested_window.start)?,
        end: parse("end", &raw.suggested_window.end)?,
    };
    if !window.is_sane() {
        return Err(AriError::EmptyWindow {
            start: raw.suggested_window.start,
            end: raw.suggested_window.end,
        });
    }
    Ok(RenewalInfo {
        window,
        explanation_url: raw.explanation_url,
    })
}

/// What we remember about a certificate's renewalInfo between runs.
///
/// The caller keys this to one certificate and drops it when the certificate is replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AriState {
    pub window: AriWindow,
    /// The moment inside the window we will renew at, drawn once per window.
    #[serde(with = "time::serde::rfc3339")]
    pub chosen: OffsetDateTime,
    pub explanation_url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub fetched_at: OffsetDateTime,
    /// Do not ask the CA again before this (from `Retry-After`, clamped).
    #[serde(with = "time::serde::rfc3339")]
    pub next_check: OffsetDateTime,
}

impl AriState {
    /// The state after a successful fetch.
    ///
    /// If the window did not change the previously chosen time is kept: drawing again on
    /// every poll would make renewal early in the window far more likely than late.
    pub(crate) fn after_fetch<R: Rng + ?Sized>(
        previous: Option<&AriState>,
        info: RenewalInfo,
        fetched_at: OffsetDateTime,
        retry_after: Option<RetryAfter>,
        rng: &mut R,
    ) -> AriState {
        let chosen = match previous {
            Some(prev) if prev.window == info.window => prev.chosen,
            _ => choose_in_window(info.window.start, info.window.end, rng),
        };
        AriState {
            window: info.window,
            chosen,
            explanation_url: info.explanation_url,
            fetched_at,
            next_check: next_check_after(fetched_at, retry_after),
        }
    }
}

/// When to ask the CA again: `Retry-After` clamped to [`ARI_MIN_RECHECK`]..=
/// [`ARI_MAX_RECHECK`], or [`ARI_DEFAULT_RECHECK`] when absent or unparseable.
pub(crate) fn next_check_after(
    fetched_at: OffsetDateTime,
    retry_after: Option<RetryAfter>,
) -> OffsetDateTime {
    let delay = retry_after.map_or(ARI_DEFAULT_RECHECK, |r| {
        r.raw().clamp(ARI_MIN_RECHECK, ARI_MAX_RECHECK)
    });
    fetched_at.saturating_add(delay)
}

/// A uniformly random time in `[start, end)` at one-second resolution (RFC 9773 asks for a
/// uniform choice so that clients spread their load). An empty window gives `start`.
pub(crate) fn choose_in_window<R: Rng + ?Sized>(
    start: OffsetDateTime,
    end: OffsetDateTime,
    rng: &mut R,
) -> OffsetDateTime {
    let span = (end - start).whole_seconds();
    if span <= 0 {
        return start;
    }
    start + Duration::seconds(rng.random_range(0..span))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use time::macros::datetime;

    /// The shape of the example in RFC 9773 section 4.2 (values written from the RFC's form).
    const RFC_EXAMPLE: &str = r#"{
      "suggestedWindow": {
        "start": "2025-01-02T04:00:00Z",
        "end": "2025-01-03T04:00:00Z"
      },
      "explanationURL": "https://acme.example.com/docs/ari"
    }"#;

    #[test]
    fn parses_rfc_example() {
        let info = parse_renewal_info(RFC_EXAMPLE.as_bytes()).unwrap();
        assert_eq!(info.window.start, datetime!(2025-01-02 04:00:00 UTC));
        assert_eq!(info.window.end, datetime!(2025-01-03 04:00:00 UTC));
        assert_eq!(
            info.explanation_url.as_deref(),
            Some("https://acme.example.com/docs/ari")
        );
    }

    #[test]
    fn parses_without_explanation_with_offsets_fractions_and_extra_fields() {
        let body = br#"{"suggestedWindow":{"start":"2025-01-02T06:00:00.5+02:00",
            "end":"2025-01-02T10:00:00Z","x":1},"other":[1,2]}"#;
        let info = parse_renewal_info(body).unwrap();
        assert_eq!(
            info.window.start,
            datetime!(2025-01-02 04:00:00.5 UTC),
            "offset is normalised to UTC"
        );
        assert_eq!(info.window.start.offset(), UtcOffset::UTC);
        assert_eq!(info.explanation_url, None);
    }

    #[test]
    fn rejects_garbage() {
        type Check = fn(&AriError) -> bool;
        let cases: &[(&[u8], Check)] = &[
            (b"", |e| matches!(e, AriError::Json(_))),
            (b"<html>503</html>", |e| matches!(e, AriError::Json(_))),
            (b"{}", |e| matches!(e, AriError::Json(_))),
            (b"[]", |e| matches!(e, AriError::Json(_))),
            (br#"{"suggestedWindow":{"start":"2025-01-02T04:00:00Z"}}"#, |e| {
                matches!(e, AriError::Json(_))
            }),
            (br#"{"suggestedWindow":{"start":1,"end":2}}"#, |e| {
                matches!(e, AriError::Json(_))
            }),
            (
                br#"{"suggestedWindow":{"start":"yesterday","end":"2025-01-03T04:00:00Z"}}"#,
                |e| matches!(e, AriError::Timestamp { field: "start", .. }),
            ),
            (
                br#"{"suggestedWindow":{"start":"2025-01-02T04:00:00Z","end":"2025-01-03 04:00"}}"#,
                |e| matches!(e, AriError::Timestamp { field: "end", .. }),
            ),
            (
                br#"{"suggestedWindow":{"start":"2025-01-03T04:00:00Z","end":"2025-01-02T04:00:00Z"}}"#,
                |e| matches!(e, AriError::EmptyWindow { .. }),
            ),
            (
                br#"{"suggestedWindow":{"start":"2025-01-03T04:00:00Z","end":"2025-01-03T04:00:00Z"}}"#,
                |e| matches!(e, AriError::EmptyWindow { .. }),
            ),
        ];
        for (body, check) in cases {
            let err = parse_renewal_info(body).unwrap_err();
            assert!(
                check(&err),
                "{:?} gave {err:?}",
                String::from_utf8_lossy(body)
            );
            assert!(!err.to_string().is_empty());
        }
    }

    #[test]
    fn choice_is_inside_window_and_spread() {
        let start = datetime!(2025-01-02 04:00:00 UTC);
        let end = datetime!(2025-01-03 04:00:00 UTC);
        let mut rng = StdRng::seed_from_u64(7);
        let mut first_half = 0;
        for _ in 0..1000 {
            let t = choose_in_window(start, end, &mut rng);
            assert!(t >= start && t < end, "{t}");
            if t < start + Duration::hours(12) {
                first_half += 1;
            }
        }
        // Uniform: roughly half in each half (binomial sd ~16).
        assert!((400..600).contains(&first_half), "{first_half}");
    }

    #[test]
    fn empty_window_choice_is_start() {
        let t = datetime!(2025-01-02 04:00:00 UTC);
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(choose_in_window(t, t, &mut rng), t);
        assert_eq!(choose_in_window(t, t - Duration::HOUR, &mut rng), t);
    }

    #[test]
    fn retry_after_is_clamped() {
        let at = datetime!(2025-01-01 00:00:00 UTC);
        let ra = |s: &str| RetryAfter::parse(s, at);
        assert_eq!(next_check_after(at, None), at + Duration::hours(6));
        assert_eq!(next_check_after(at, ra("5")), at + Duration::MINUTE);
        assert_eq!(next_check_after(at, ra("21600")), at + Duration::hours(6));
        assert_eq!(
            next_check_after(at, ra("31536000")),
            at + Duration::hours(12)
        );
    }

    #[test]
    fn state_keeps_choice_while_window_unchanged() {
        let t0 = datetime!(2025-01-01 00:00:00 UTC);
        let info = parse_renewal_info(RFC_EXAMPLE.as_bytes()).unwrap();
        let mut rng = StdRng::seed_from_u64(42);
        let first = AriState::after_fetch(None, info.clone(), t0, None, &mut rng);
        assert!(first.chosen >= info.window.start && first.chosen < info.window.end);
        assert_eq!(first.next_check, t0 + Duration::hours(6));

        let t1 = t0 + Duration::hours(6);
        let again = AriState::after_fetch(Some(&first), info.clone(), t1, None, &mut rng);
        assert_eq!(again.chosen, first.chosen);
        assert_eq!(again.fetched_at, t1);

        // A moved window (e.g. after revocation) is drawn afresh inside the new window.
        let moved = RenewalInfo {
            window: AriWindow {
                start: t1,
                end: t1 + Duration::hours(1),
            },
            explanation_url: None,
        };
        let redrawn = AriState::after_fetch(Some(&again), moved, t1, None, &mut rng);
        assert!(redrawn.chosen >= t1 && redrawn.chosen < t1 + Duration::hours(1));
    }

    #[test]
    fn state_round_trips_through_json() {
        let t0 = datetime!(2025-01-01 00:00:00 UTC);
        let info = parse_renewal_info(RFC_EXAMPLE.as_bytes()).unwrap();
        let state = AriState::after_fetch(None, info, t0, None, &mut StdRng::seed_from_u64(3));
        let json = serde_json::to_string(&state).unwrap();
        assert!(
            json.contains("\"start\":\"2025-01-02T04:00:00Z\""),
            "{json}"
        );
        let back: AriState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, state);
    }
}
