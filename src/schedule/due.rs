//! When a lineage should renew, and why: one pure function over everything we know.

use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::{Duration, OffsetDateTime};

use super::ari::AriState;

/// Certificates shorter-lived than this renew at half their lifetime instead of a third, so a
/// 6-day certificate still has days of slack after one failed attempt.
pub(crate) const SHORT_LIFETIME: Duration = Duration::days(10);

/// The validity period of the certificate currently installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CertValidity {
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

/// Everything the decision depends on; the caller gathers it, nothing here reads a clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DueInput {
    pub now: OffsetDateTime,
    /// `None` when the certificate is missing or unreadable.
    pub validity: Option<CertValidity>,
    /// Certificate, chain and key all present and the key matches the certificate.
    pub files_match: bool,
    /// The configured domain list differs from the certificate's names.
    pub domains_changed: bool,
    /// Per-lineage `renew_before_expiry`, replacing the lifetime-fraction rule.
    pub renew_before_expiry: Option<Duration>,
    /// Stored renewalInfo for *this* certificate (the caller drops it on replacement).
    pub ari: Option<AriState>,
    /// `--force-renewal`.
    pub force: bool,
}

/// A fraction of the certificate's lifetime, kept as numbers so it serialises plainly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Fraction {
    pub numerator: u32,
    pub denominator: u32,
}

impl Fraction {
    pub(crate) const ONE_THIRD: Fraction = Fraction {
        numerator: 1,
        denominator: 3,
    };
    pub(crate) const ONE_HALF: Fraction = Fraction {
        numerator: 1,
        denominator: 2,
    };

    fn of(self, d: Duration) -> Duration {
        d / self.denominator.max(1) * self.numerator
    }
}

impl std::fmt::Display for Fraction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

/// Why a lineage renews when it does. Variants are listed in order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Reason {
    Forced,
    MissingOrMismatchedFiles,
    DomainsChanged,
    Expired {
        #[serde(with = "time::serde::rfc3339")]
        not_after: OffsetDateTime,
    },
    /// The certificate starts in the future: the local clock is probably wrong. We do not
    /// renew in a loop; the due time is computed as if it were valid.
    NotYetValid {
        #[serde(with = "time::serde::rfc3339")]
        not_before: OffsetDateTime,
    },
    AriWindow {
        #[serde(with = "time::serde::rfc3339")]
        start: OffsetDateTime,
        #[serde(with = "time::serde::rfc3339")]
        end: OffsetDateTime,
    },
    /// `renew_before_expiry`, as applied (capped at half the lifetime; see [`renewal_decision`]).
    Override {
        #[serde(with = "seconds")]
        before: Duration,
    },
    LifetimeFraction {
        fraction: Fraction,
    },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Forced => f.write_str("forced"),
            Reason::MissingOrMismatchedFiles => {
                f.write_str("certificate or key missing or not matching")
            }
            Reason::DomainsChanged => f.write_str("configured domains differ from the certificate"),
            Reason::Expired { not_after } => write!(f, "expired {}", minute(*not_after)),
            Reason::NotYetValid { not_before } => write!(
                f,
                "certificate not valid until {}: check the system clock",
                minute(*not_before)
            ),
            Reason::AriWindow { start, end } => write!(
                f,
                "CA suggested window {} to {}",
                minute(*start),
                minute(*end)
            ),
            Reason::Override { before } => {
                write!(f, "renew_before_expiry {}", human_duration(*before))
            }
            Reason::LifetimeFraction { fraction } => write!(f, "{fraction} of lifetime left"),
        }
    }
}

/// The outcome: renew at `due_at`; `due_now` is `now >= due_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Decision {
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
    pub due_now: bool,
    pub reason: Reason,
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.due_now {
            write!(f, "renews now ({})", self.reason)
        } else {
            write!(f, "renews {} ({})", day(self.due_at), self.reason)
        }
    }
}

/// Decides when to renew. Precedence, first match wins:
///
/// 1. forced, 2. files missing or mismatched, 3. domains changed, 4. expired: due now.
/// 5. not yet valid: due at `not_after` minus the margin of rules 7/8 (never "now", so a
///    wrong clock cannot cause a renewal loop).
/// 6. a stored ARI window that is sane (`end > start`, starting before `not_after`): due at
///    the chosen time, clamped into the window.
/// 7. `renew_before_expiry`: due that long before `not_after`, capped at half the lifetime so
///    a 30-day setting on a 6-day certificate does not renew on every run.
/// 8. otherwise with a third of the lifetime left (a half under [`SHORT_LIFETIME`]).
pub(crate) fn renewal_decision(input: &DueInput) -> Decision {
    let now = input.now;
    let immediate = |reason| Decision {
        due_at: now,
        due_now: true,
        reason,
    };
    if input.force {
        return immediate(Reason::Forced);
    }
    let validity = match input.validity {
        Some(v) if input.files_match => v,
        _ => return immediate(Reason::MissingOrMismatchedFiles),
    };
    if input.domains_changed {
        return immediate(Reason::DomainsChanged);
    }
    let CertValidity {
        not_before,
        not_after,
    } = validity;
    if now >= not_after {
        return immediate(Reason::Expired { not_after });
    }
    let at = |due_at: OffsetDateTime, reason| Decision {
        due_at,
        due_now: now >= due_at,
        reason,
    };
    let (margin, margin_reason) = own_margin(validity, input.renew_before_expiry);
    if now < not_before {
        return at(
            not_after.saturating_sub(margin),
            Reason::NotYetValid { not_before },
        );
    }
    if let Some(ari) = &input.ari {
        let w = ari.window;
        if w.is_sane() && w.start < not_after {
            return at(
                ari.chosen.clamp(w.start, w.end),
                Reason::AriWindow {
                    start: w.start,
                    end: w.end,
                },
            );
        }
    }
    at(not_after.saturating_sub(margin), margin_reason)
}

/// The margin before expiry from the override or the lifetime rule, with its reason.
fn own_margin(v: CertValidity, renew_before_expiry: Option<Duration>) -> (Duration, Reason) {
    let lifetime = (v.not_after - v.not_before).max(Duration::ZERO);
    match renew_before_expiry {
        Some(before) => {
            let before = before.clamp(Duration::ZERO, lifetime / 2);
            (before, Reason::Override { before })
        }
        None => {
            let fraction = if lifetime < SHORT_LIFETIME {
                Fraction::ONE_HALF
            } else {
                Fraction::ONE_THIRD
            };
            (fraction.of(lifetime), Reason::LifetimeFraction { fraction })
        }
    }
}

fn day(t: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day]");
    t.format(fmt).unwrap_or_else(|_| t.to_string())
}

fn minute(t: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    let utc = t.to_offset(time::UtcOffset::UTC);
    utc.format(fmt).unwrap_or_else(|_| t.to_string())
}

/// "30 days", "12 hours", "90 minutes": the largest unit that divides evenly.
fn human_duration(d: Duration) -> String {
    let secs = d.whole_seconds();
    // Exact units where they fit; otherwise rounded to what a person reads (a capped
    // override is half a lifetime, rarely a whole number of days).
    let (n, unit) = if secs % 86_400 == 0 || secs >= 2 * 86_400 {
        ((secs + 43_200) / 86_400, "day")
    } else if secs % 3_600 == 0 || secs >= 2 * 3_600 {
        ((secs + 1_800) / 3_600, "hour")
    } else if secs % 60 == 0 || secs >= 2 * 60 {
        ((secs + 30) / 60, "minute")
    } else {
        (secs, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Durations as whole seconds in stored state: readable and stable across time versions.
mod seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Duration;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.whole_seconds())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        i64::deserialize(d).map(Duration::seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::ari::AriWindow;
    use time::macros::datetime;

    const ISSUED: OffsetDateTime = datetime!(2026-09-01 00:00 UTC);

    fn cert(days: i64) -> CertValidity {
        CertValidity {
            not_before: ISSUED,
            not_after: ISSUED + Duration::days(days),
        }
    }

    fn input(now: OffsetDateTime, days: i64) -> DueInput {
        DueInput {
            now,
            validity: Some(cert(days)),
            files_match: true,
            domains_changed: false,
            renew_before_expiry: None,
            ari: None,
            force: false,
        }
    }

    fn ari(start: OffsetDateTime, end: OffsetDateTime, chosen: OffsetDateTime) -> AriState {
        AriState {
            window: AriWindow { start, end },
            chosen,
            explanation_url: None,
            fetched_at: ISSUED,
            next_check: ISSUED + Duration::hours(6),
        }
    }

    #[test]
    fn lifetime_fraction_table() {
        // (lifetime days, expected due offset from issuance, fraction)
        let table = [
            (90, Duration::days(60), Fraction::ONE_THIRD),
            (45, Duration::days(30), Fraction::ONE_THIRD),
            (10, Duration::days(10) / 3 * 2, Fraction::ONE_THIRD),
            (9, Duration::hours(108), Fraction::ONE_HALF),
            (6, Duration::days(3), Fraction::ONE_HALF),
        ];
        for (days, offset, fraction) in table {
            let due = ISSUED + offset;
            let before = renewal_decision(&input(due - Duration::SECOND, days));
            assert_eq!(before.due_at, due, "{days}-day cert");
            assert!(!before.due_now, "{days}-day cert one second early");
            assert_eq!(before.reason, Reason::LifetimeFraction { fraction });
            let on_time = renewal_decision(&input(due, days));
            assert!(on_time.due_now, "{days}-day cert at due time");
            assert_eq!(on_time.due_at, due);
        }
    }

    #[test]
    fn expired_is_due_now() {
        let mut i = input(ISSUED + Duration::days(91), 90);
        i.ari = Some(ari(
            ISSUED + Duration::days(100),
            ISSUED + Duration::days(101),
            ISSUED + Duration::days(100),
        ));
        let d = renewal_decision(&i);
        assert!(d.due_now);
        assert_eq!(d.due_at, i.now);
        assert_eq!(
            d.reason,
            Reason::Expired {
                not_after: ISSUED + Duration::days(90)
            }
        );
        // Exactly at not_after counts as expired.
        let at_expiry = renewal_decision(&input(ISSUED + Duration::days(90), 90));
        assert!(matches!(at_expiry.reason, Reason::Expired { .. }));
    }

    #[test]
    fn not_yet_valid_is_not_due_now_and_uses_normal_margin() {
        let now = ISSUED - Duration::days(2);
        let d = renewal_decision(&input(now, 90));
        assert!(!d.due_now);
        assert_eq!(d.due_at, ISSUED + Duration::days(60));
        assert_eq!(d.reason, Reason::NotYetValid { not_before: ISSUED });

        let mut i = input(now, 90);
        i.renew_before_expiry = Some(Duration::days(20));
        assert_eq!(renewal_decision(&i).due_at, ISSUED + Duration::days(70));
        assert!(renewal_decision(&i)
            .to_string()
            .contains("check the system clock"));
    }

    #[test]
    fn precedence_of_immediate_reasons() {
        let now = ISSUED + Duration::days(1);
        let mut i = input(now, 90);
        i.force = true;
        i.files_match = false;
        i.domains_changed = true;
        assert_eq!(renewal_decision(&i).reason, Reason::Forced);
        i.force = false;
        assert_eq!(
            renewal_decision(&i).reason,
            Reason::MissingOrMismatchedFiles
        );
        i.files_match = true;
        assert_eq!(renewal_decision(&i).reason, Reason::DomainsChanged);
        i.domains_changed = false;
        i.validity = None;
        let d = renewal_decision(&i);
        assert_eq!(d.reason, Reason::MissingOrMismatchedFiles);
        assert!(d.due_now);
        assert_eq!(d.due_at, now);
    }

    #[test]
    fn sane_ari_window_wins_over_override_and_fraction() {
        let now = ISSUED + Duration::days(1);
        let (start, end) = (ISSUED + Duration::days(40), ISSUED + Duration::days(42));
        let chosen = start + Duration::hours(13);
        let mut i = input(now, 90);
        i.renew_before_expiry = Some(Duration::days(30));
        i.ari = Some(ari(start, end, chosen));
        let d = renewal_decision(&i);
        assert_eq!(d.due_at, chosen);
        assert!(!d.due_now);
        assert_eq!(d.reason, Reason::AriWindow { start, end });

        i.now = chosen;
        assert!(renewal_decision(&i).due_now);
    }

    #[test]
    fn ari_window_in_the_past_is_due_now() {
        let now = ISSUED + Duration::days(5);
        let mut i = input(now, 90);
        // Revocation-style window wholly in the past.
        i.ari = Some(ari(ISSUED, ISSUED + Duration::days(1), ISSUED));
        let d = renewal_decision(&i);
        assert!(d.due_now);
        assert!(matches!(d.reason, Reason::AriWindow { .. }));
    }

    #[test]
    fn chosen_time_outside_window_is_clamped() {
        let (start, end) = (ISSUED + Duration::days(40), ISSUED + Duration::days(42));
        let mut i = input(ISSUED, 90);
        i.ari = Some(ari(start, end, ISSUED + Duration::days(80)));
        assert_eq!(renewal_decision(&i).due_at, end);
        i.ari = Some(ari(start, end, ISSUED));
        assert_eq!(renewal_decision(&i).due_at, start);
    }

    #[test]
    fn insane_ari_window_is_treated_as_absent() {
        let t = ISSUED + Duration::days(40);
        for (start, end) in [
            (t, t),                                                     // empty
            (t + Duration::days(1), t),                                 // inverted
            (ISSUED + Duration::days(95), ISSUED + Duration::days(96)), // after expiry
        ] {
            let mut i = input(ISSUED + Duration::days(1), 90);
            i.ari = Some(ari(start, end, start));
            let d = renewal_decision(&i);
            assert_eq!(
                d.reason,
                Reason::LifetimeFraction {
                    fraction: Fraction::ONE_THIRD
                },
                "{start}..{end}"
            );
            assert_eq!(d.due_at, ISSUED + Duration::days(60));
        }
    }

    #[test]
    fn override_wins_over_fraction_and_is_capped() {
        let mut i = input(ISSUED + Duration::days(1), 90);
        i.renew_before_expiry = Some(Duration::days(20));
        let d = renewal_decision(&i);
        assert_eq!(d.due_at, ISSUED + Duration::days(70));
        assert_eq!(
            d.reason,
            Reason::Override {
                before: Duration::days(20)
            }
        );
        assert!(!d.due_now);

        // 30 days on a 6-day certificate would renew every run: capped at half (3 days).
        let mut i = input(ISSUED + Duration::days(1), 6);
        i.renew_before_expiry = Some(Duration::days(30));
        let d = renewal_decision(&i);
        assert_eq!(d.due_at, ISSUED + Duration::days(3));
        assert_eq!(
            d.reason,
            Reason::Override {
                before: Duration::days(3)
            }
        );
        assert!(!d.due_now);

        // A negative override is treated as zero: due at expiry, never after it.
        let mut i = input(ISSUED + Duration::days(1), 45);
        i.renew_before_expiry = Some(Duration::days(-5));
        assert_eq!(renewal_decision(&i).due_at, ISSUED + Duration::days(45));
    }

    #[test]
    fn override_does_not_beat_immediate_reasons() {
        let mut i = input(ISSUED + Duration::days(1), 90);
        i.renew_before_expiry = Some(Duration::days(1));
        i.domains_changed = true;
        assert_eq!(renewal_decision(&i).reason, Reason::DomainsChanged);
    }

    #[test]
    fn zero_or_negative_lifetime_does_not_panic_or_loop() {
        let mut i = input(ISSUED - Duration::days(1), 0);
        i.validity = Some(CertValidity {
            not_before: ISSUED,
            not_after: ISSUED - Duration::hours(1),
        });
        let d = renewal_decision(&i);
        assert!(matches!(d.reason, Reason::NotYetValid { .. }));
        assert!(!d.due_now);
    }

    #[test]
    fn display_is_human() {
        let d = renewal_decision(&input(ISSUED + Duration::days(1), 90));
        assert_eq!(d.to_string(), "renews 2026-10-31 (1/3 of lifetime left)");
        let mut i = input(ISSUED + Duration::days(1), 90);
        i.renew_before_expiry = Some(Duration::days(40));
        assert_eq!(
            renewal_decision(&i).to_string(),
            "renews 2026-10-21 (renew_before_expiry 40 days)"
        );
        let e = renewal_decision(&input(ISSUED + Duration::days(100), 90));
        assert_eq!(e.to_string(), "renews now (expired 2026-11-30 00:00 UTC)");
        let w = Reason::AriWindow {
            start: datetime!(2026-10-01 04:00 UTC),
            end: datetime!(2026-10-02 04:30 +02:00),
        };
        assert_eq!(
            w.to_string(),
            "CA suggested window 2026-10-01 04:00 UTC to 2026-10-02 02:30 UTC"
        );
        assert_eq!(human_duration(Duration::hours(36)), "36 hours");
        assert_eq!(human_duration(Duration::DAY), "1 day");
    }

    #[test]
    fn reason_serialises_with_a_kind_tag() {
        let cases = [
            (Reason::Forced, r#"{"kind":"forced"}"#),
            (
                Reason::Override {
                    before: Duration::days(30),
                },
                r#"{"kind":"override","before":2592000}"#,
            ),
            (
                Reason::LifetimeFraction {
                    fraction: Fraction::ONE_THIRD,
                },
                r#"{"kind":"lifetime_fraction","fraction":{"numerator":1,"denominator":3}}"#,
            ),
            (
                Reason::AriWindow {
                    start: datetime!(2026-10-01 04:00 UTC),
                    end: datetime!(2026-10-02 04:00 UTC),
                },
                r#"{"kind":"ari_window","start":"2026-10-01T04:00:00Z","end":"2026-10-02T04:00:00Z"}"#,
            ),
        ];
        for (reason, json) in cases {
            assert_eq!(serde_json::to_string(&reason).unwrap(), json);
            assert_eq!(serde_json::from_str::<Reason>(json).unwrap(), reason);
        }
        let d = renewal_decision(&input(ISSUED + Duration::days(1), 90));
        let back: Decision = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }
}
