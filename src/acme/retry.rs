//! Which failed steps are tried again, and how long to wait first.

use std::time::Duration;

/// How often one step is retried on its own after instant-acme's three badNonce retries
/// are used up (a CA rejecting many nonces is a passing condition, not a verdict).
pub(super) const STEP_ATTEMPTS: u32 = 6;
/// Attempts of one step the CA answered with `serverInternal`, waiting `SERVER_ERROR_BACKOFF`,
/// then twice that, between them (3 s in all).
pub(super) const SERVER_ERROR_ATTEMPTS: u32 = 3;
const SERVER_ERROR_BACKOFF: Duration = Duration::from_secs(1);

/// Whether a failed step is tried again (`attempt` counts from 1): badNonce that outlived
/// instant-acme's own retries, up to `STEP_ATTEMPTS`, and `serverInternal` (a passing CA
/// fault), up to `SERVER_ERROR_ATTEMPTS`. Nothing else: `malformed`, `unauthorized` and the
/// like would fail the same way again, and an answer with `Retry-After` (rate limits, 503)
/// is the CA asking us to stay away, which the caller schedules.
pub(super) fn retryable(err: &instant_acme::Error, attempt: u32) -> bool {
    let instant_acme::Error::Api(p) = err else {
        return false;
    };
    match p.r#type.as_deref() {
        Some("urn:ietf:params:acme:error:badNonce") => attempt < STEP_ATTEMPTS,
        Some("urn:ietf:params:acme:error:serverInternal") => attempt < SERVER_ERROR_ATTEMPTS,
        _ => false,
    }
}

/// The wait before retrying a step that `retryable` allowed: none for a bad nonce (the next
/// one is fresh), exponential for a server error (1 s, 2 s, ...).
pub(super) async fn pause_before_retry(err: &instant_acme::Error, attempt: u32) {
    let server_error = matches!(
        err,
        instant_acme::Error::Api(p)
            if p.r#type.as_deref() == Some("urn:ietf:params:acme:error:serverInternal")
    );
    if server_error {
        tokio::time::sleep(SERVER_ERROR_BACKOFF * 2u32.saturating_pow(attempt.saturating_sub(1)))
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bad_nonce_and_server_internal_are_retried() {
        let problem = |t: &str| {
            instant_acme::Error::Api(
                serde_json::from_value(serde_json::json!({"type": t, "detail": "x"})).unwrap(),
            )
        };
        let kind = |k: &str| format!("urn:ietf:params:acme:error:{k}");
        assert!(retryable(&problem(&kind("badNonce")), 1));
        assert!(!retryable(&problem(&kind("badNonce")), STEP_ATTEMPTS));
        assert!(retryable(&problem(&kind("serverInternal")), 1));
        assert!(!retryable(
            &problem(&kind("serverInternal")),
            SERVER_ERROR_ATTEMPTS
        ));
        for k in [
            "malformed",
            "unauthorized",
            "rateLimited",
            "rejectedIdentifier",
        ] {
            assert!(!retryable(&problem(&kind(k)), 1), "{k}");
        }
    }
}
