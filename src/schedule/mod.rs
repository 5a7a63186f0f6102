//! Renewal-time maths (pure, clock passed in), retry backoff, crontab parsing, daemon loop.
//!
//! Nothing here reads the clock or a random source by itself (except [`daemon::run`], which
//! uses the real clock): callers pass `now` and an `rng`, so tests use fixed times and seeded
//! RNGs. All times are UTC. Depends only on external crates.
//!
//! Public API:
//! - [`due`]: `renewal_decision(&DueInput) -> Decision` with `Decision { due_at, due_now,
//!   reason: Reason }`. `Reason` is serde-tagged by `kind` and `Display`s for humans;
//!   `Decision` displays as "renews 2026-12-01 (1/3 of lifetime left)".
//! - [`ari`] (RFC 9773): `parse_renewal_info(&[u8]) -> Result<RenewalInfo, AriError>`,
//!   `choose_in_window(start, end, rng)`, `AriState::after_fetch(prev, info, fetched_at,
//!   retry_after, rng)`, `next_check_after(fetched_at, retry_after)` (Retry-After clamped
//!   to 1 min..=1 day, 6 h when absent).
//! - [`retry_after`]: `RetryAfter::parse(value, now) -> Option<RetryAfter>` (seconds or
//!   IMF-fixdate), `.raw()`, `.capped(max)`, `.for_scheduling()` (at most 1 day).
//! - [`backoff`]: `FailureState::record(prev, error, now, retry_after, rng)` (1 min, 10 min,
//!   100 min, then daily, +-10%), `.attempt_due(now)`; `backoff_delay`, `nominal_backoff`.
//!   Deleting the state after a success is the caller's job.
//! - [`cron`]: `CronSchedule::parse(expr) -> Result<CronSchedule, CronError>` (5 fields or
//!   `@daily` etc., cron(8) meaning) and `.next_after(t) -> Option<OffsetDateTime>` in UTC.
//! - [`checks`]: `TwiceDaily::random(rng)`, `.next_after(t)`, `.upcoming(t)`.
//! - [`daemon`]: `run(next_wakeup, on_wake, wake: Arc<Notify>, shutdown)` (async),
//!   `run_with_clock(clock, ...)` for tests, `earliest(times)`.

pub(crate) mod ari;
pub(crate) mod backoff;
pub(crate) mod checks;
pub(crate) mod cron;
pub(crate) mod daemon;
pub(crate) mod due;
pub(crate) mod retry_after;

pub(crate) use ari::AriState;
pub(crate) use backoff::FailureState;
pub(crate) use checks::TwiceDaily;
pub(crate) use cron::CronSchedule;
pub(crate) use due::{renewal_decision, CertValidity, Decision, DueInput, Reason};
pub(crate) use retry_after::RetryAfter;
