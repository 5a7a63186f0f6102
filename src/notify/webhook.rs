//! Webhook target: one JSON POST per event, over the crate's hyper + rustls (aws-lc-rs) stack.
//!
//! The body (stable; documented in README.md):
//!
//! ```json
//! {
//!   "text": "certwright on web1: renewal failed: example.com (example.com, www.example.com); ...",
//!   "content": "<the same text, at most 2000 characters>",
//!   "event": {
//!     "kind": "renewal_failed", "host": "web1", "lineage": "example.com",
//!     "names": ["example.com", "www.example.com"], "at": "2026-12-02T23:00:00Z",
//!     "days_left": 12, "not_after": "2026-12-14T23:00:00Z", "error": "...",
//!     "problem": {"kind": "urn:ietf:params:acme:error:rateLimited", "detail": "...",
//!                 "status": 429, "subproblems": []},
//!     "next_retry": "2026-12-03T23:00:00Z", "unpause_url": null, "mismatches": [],
//!     "ca": "https://acme-v02.api.letsencrypt.org/directory"
//!   }
//! }
//! ```
//!
//! `text` makes a Slack incoming-webhook URL work as is, `content` a Discord one.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;

use super::WebhookUrl;
use crate::error::error_chain;
use crate::https::{self, HttpsClient};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of an error answer is kept for the log.
const ERROR_BODY_LIMIT: usize = 200;
/// How long the start of an error answer may take to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// POSTs `body` to `url`; a 2xx answer is success. Errors are redacted.
pub async fn post(url: &WebhookUrl, body: &serde_json::Value) -> Result<(), String> {
    post_inner(url, body).await.map_err(|e| url.scrub(&e))
}

async fn post_inner(url: &WebhookUrl, body: &serde_json::Value) -> Result<(), String> {
    let client = client()?;
    let request = hyper::Request::post(url.expose())
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("certwright/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("POST failed: {}", error_chain(&e)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    // Only the start is shown: an endless body is never read past it.
    let answer =
        crate::safe::body::read_prefix(response.into_body(), ERROR_BODY_LIMIT, BODY_TIMEOUT).await;
    let answer = crate::safe::text::sanitize(String::from_utf8_lossy(&answer).trim());
    Err(format!("answered HTTP {status}: {answer}"))
}

fn client() -> Result<HttpsClient<Full<Bytes>>, String> {
    https::client(https::native_roots(), false, CONNECT_TIMEOUT)
        .map_err(|e| format!("TLS setup failed: {e}"))
}
