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
//!     "next_retry": "2026-12-03T23:00:00Z", "unpause_url": null, "mismatches": []
//!   }
//! }
//! ```
//!
//! `text` makes a Slack incoming-webhook URL work as is, `content` a Discord one.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::WebhookUrl;
use crate::error::error_chain;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of an error answer is kept for the log.
const ERROR_BODY_LIMIT: usize = 200;

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
    let answer = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let answer = String::from_utf8_lossy(&answer[..answer.len().min(ERROR_BODY_LIMIT)]);
    Err(format!("answered HTTP {status}: {}", answer.trim()))
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

fn client() -> Result<HttpsClient, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A malformed system root is skipped, as every TLS client does.
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}
