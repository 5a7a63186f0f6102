//! Renewal-time maths (pure, clock passed in), retry backoff, crontab parsing, daemon loop.
