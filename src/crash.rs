//! Named crash points for the crash-consistency tests.
//!
//! `crash_point("name")` aborts the process (`std::process::abort`, as abrupt as `kill -9`:
//! no destructors, no flush) when `CERTWRIGHT_CRASH_AT=name` is set, so a test can stop a
//! run between two writes and check what the next run finds. It is armed only in debug
//! builds (what `cargo test` builds the binary as) or with the `crash-points` feature: a
//! release build without the feature ignores the variable, so a stray environment on a
//! server can never make certwright abort mid-write.

/// Every crash point, for tests and for the check below.
pub(crate) const POINTS: &[&str] = &[
    "after-cert-write",
    "after-key-write",
    "after-version-rename",
    "after-temp-symlink",
    "nginx-mid-apply",
    "dns-01-published",
    "manual-auth-done",
];

const ARMED: bool = cfg!(any(debug_assertions, feature = "crash-points"));

/// Abort here if this point is the one named by `CERTWRIGHT_CRASH_AT`.
pub(crate) fn crash_point(name: &'static str) {
    debug_assert!(POINTS.contains(&name), "unknown crash point {name}");
    if !ARMED {
        return;
    }
    if std::env::var_os("CERTWRIGHT_CRASH_AT").is_some_and(|v| v == name) {
        eprintln!("certwright: crash point {name} reached; aborting");
        std::process::abort();
    }
}
