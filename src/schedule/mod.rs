//! Renewal-time maths (pure, clock passed in), retry backoff, crontab parsing, daemon loop.

pub mod ari;
pub mod backoff;
pub mod cron;
pub mod due;
pub mod retry_after;
