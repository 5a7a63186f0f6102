//! The HTTP client handed to instant-acme: hyper with TCP_NODELAY (Nagle costs ~44 ms per
//! POST on loopback), a connect timeout, a per-request timeout, and our own trust roots.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::error::AcmeError;
use crate::https::{self, HttpsClient};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A cheaply clonable client; every request is bounded in time.
#[derive(Clone)]
pub(crate) struct AcmeHttp {
    /// hyper in production; a scripted CA in this module's unit tests.
    inner: Arc<dyn HttpClient>,
}

impl AcmeHttp {
    /// Trust the system roots plus every certificate in `ca_bundle` (for private CAs and
    /// Pebble). Reading the bundle fails before any network I/O.
    pub(crate) fn new(ca_bundle: Option<&Path>) -> Result<Self, AcmeError> {
        let mut roots = https::native_roots();
        if let Some(path) = ca_bundle {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| bundle_error(path, &e.to_string()))?
                .collect::<Result<_, _>>()
                .map_err(|e| bundle_error(path, &e.to_string()))?;
            if certs.is_empty() {
                return Err(bundle_error(path, "it contains no PEM certificate"));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| bundle_error(path, &e.to_string()))?;
            }
        }
        let client: HttpsClient<BodyWrapper<Bytes>> =
            https::client(roots, true, CONNECT_TIMEOUT)
                .map_err(|e| AcmeError::Protocol(format!("TLS setup failed: {e}")))?;
        Ok(Self {
            inner: Arc::new(Bounded(client)),
        })
    }

    /// The same client, re-signing every JWS with `key` (an RSA account: see
    /// `jws::Resigner`).
    pub(super) fn resigning(&self, key: Arc<super::jws::AccountKey>) -> Self {
        Self {
            inner: Arc::new(super::jws::Resigner {
                inner: self.inner.clone(),
                key,
            }),
        }
    }

    /// Over another transport (the fake CA of the unit tests).
    #[cfg(test)]
    pub(crate) fn with_client(client: impl HttpClient) -> Self {
        Self {
            inner: Arc::new(client),
        }
    }

    /// One request, bounded in time, the response as it came. A request nothing answered
    /// fails with `Unanswered`, so it is told apart from an answer we could not use.
    async fn send(
        inner: Arc<dyn HttpClient>,
        req: Request<BodyWrapper<Bytes>>,
    ) -> Result<BytesResponse, instant_acme::Error> {
        let url = req.uri().to_string();
        let message = match tokio::time::timeout(REQUEST_TIMEOUT, inner.request(req)).await {
            Ok(Ok(rsp)) => {
                note_answer(&rsp);
                return Ok(rsp);
            }
            Ok(Err(e)) => crate::error::error_chain(&e),
            Err(_) => format!("no response within {} s", REQUEST_TIMEOUT.as_secs()),
        };
        Err(instant_acme::Error::Other(Box::new(Unanswered {
            url,
            message,
        })))
    }

    /// GET a URL and return status and body, for the directory and ARI (which instant-acme
    /// does not expose in the shape we need).
    pub(crate) async fn get(&self, url: &str) -> Result<(u16, http::HeaderMap, Bytes), AcmeError> {
        let transport = |message: String| AcmeError::Transport {
            url: url.to_string(),
            message,
        };
        let req = Request::get(url)
            .header(http::header::USER_AGENT, user_agent())
            .body(BodyWrapper::default())
            .map_err(|e| transport(e.to_string()))?;
        // Not through `request`: the directory and ARI callers read Retry-After themselves.
        let rsp = Self::send(self.inner.clone(), req)
            .await
            .map_err(|e| transport(unanswered_message(&e)))?;
        let status = rsp.parts.status.as_u16();
        let headers = rsp.parts.headers.clone();
        let mut body = rsp.body;
        let bytes = tokio::time::timeout(REQUEST_TIMEOUT, body.into_bytes())
            .await
            .map_err(|_| transport("timed out reading the response".into()))?
            .map_err(|e| transport(e.to_string()))?;
        Ok((status, headers, bytes))
    }
}

/// hyper with every response body read through `safe::body` (at most `BODY_LIMIT` bytes,
/// within the request timeout): instant-acme would otherwise collect a body of any size.
struct Bounded(HttpsClient<BodyWrapper<Bytes>>);

/// A certificate chain, a directory or a problem document: a few KiB; a CA answering
/// megabytes is broken or hostile.
const BODY_LIMIT: usize = 4 << 20;

impl HttpClient for Bounded {
    fn request(
        &self,
        req: Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let sent = self.0.request(req);
        Box::pin(async move {
            let rsp = sent
                .await
                .map_err(|e| instant_acme::Error::Other(Box::new(e)))?;
            let (parts, body) = rsp.into_parts();
            let body = crate::safe::body::read(body, BODY_LIMIT, REQUEST_TIMEOUT)
                .await
                .map_err(|e| instant_acme::Error::Other(Box::new(e)))?;
            Ok(BytesResponse {
                parts,
                body: Box::new(body),
            })
        })
    }
}

impl AcmeHttp {
    /// HEAD a URL (newNonce) and return status and headers.
    pub(crate) async fn head(&self, url: &str) -> Result<(u16, http::HeaderMap), AcmeError> {
        let transport = |message: String| AcmeError::Transport {
            url: url.to_string(),
            message,
        };
        let req = Request::head(url)
            .header(http::header::USER_AGENT, user_agent())
            .body(BodyWrapper::default())
            .map_err(|e| transport(e.to_string()))?;
        let rsp = self
            .request(req)
            .await
            .map_err(|e| transport(unanswered_message(&e)))?;
        Ok((rsp.parts.status.as_u16(), rsp.parts.headers.clone()))
    }
}

impl HttpClient for AcmeHttp {
    fn request(
        &self,
        req: Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let inner = self.inner.clone();
        Box::pin(async move { lift_retry_after(Self::send(inner, req).await?).await })
    }
}

/// A problem the CA sent with `Retry-After`, handed up as the transport's error.
///
/// instant-acme turns an error answer into `Error::Api(Problem)` and drops its headers, so a
/// rate limit's "come back in an hour" would be lost. `convert` in the parent module turns
/// this back into `AcmeError::Problem` with `retry_after` set.
#[derive(Debug)]
pub(super) struct ProblemWithRetryAfter {
    pub problem: instant_acme::Problem,
    /// The header value as sent; parsing it is the caller's business.
    pub retry_after: String,
}

impl std::fmt::Display for ProblemWithRetryAfter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (Retry-After: {})", self.problem, self.retry_after)
    }
}

impl std::error::Error for ProblemWithRetryAfter {}

/// A 429 or 503 answer with `Retry-After` becomes `ProblemWithRetryAfter` (a body that is
/// not a problem document, e.g. a load balancer's HTML page, gets a generic problem);
/// every other response passes unchanged.
async fn lift_retry_after(rsp: BytesResponse) -> Result<BytesResponse, instant_acme::Error> {
    let status = rsp.parts.status.as_u16();
    let retry_after = rsp
        .parts
        .headers
        .get(http::header::RETRY_AFTER)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string());
    let (429 | 503, Some(retry_after)) = (status, retry_after) else {
        return Ok(rsp);
    };
    let mut body = rsp.body;
    let bytes = tokio::time::timeout(REQUEST_TIMEOUT, body.into_bytes())
        .await
        .map_err(|_| instant_acme::Error::Str("timed out reading an error response"))?
        .map_err(instant_acme::Error::Other)?;
    let mut problem = serde_json::from_slice::<instant_acme::Problem>(&bytes)
        .or_else(|_| {
            serde_json::from_value(serde_json::json!({
                "detail": format!("HTTP {status} without a problem document"),
            }))
        })
        .map_err(instant_acme::Error::Json)?;
    problem.status.get_or_insert(status);
    Err(instant_acme::Error::Other(Box::new(
        ProblemWithRetryAfter {
            problem,
            retry_after,
        },
    )))
}

/// A request that got no HTTP answer at all (refused, reset, TLS failure, timeout): the only
/// failure reported as "could not reach the ACME server".
#[derive(Debug)]
pub(crate) struct Unanswered {
    pub url: String,
    pub message: String,
}

impl std::fmt::Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.url, self.message)
    }
}

impl std::error::Error for Unanswered {}

/// Why a request failed, without repeating its URL when `send` already named it.
pub(crate) fn unanswered_message(e: &instant_acme::Error) -> String {
    match e {
        instant_acme::Error::Other(b) => match b.downcast_ref::<Unanswered>() {
            Some(u) => u.message.clone(),
            None => crate::error::error_chain(e),
        },
        _ => crate::error::error_chain(e),
    }
}

tokio::task_local! {
    /// What the last answers seen by the task running `with_capture` said beyond what
    /// instant-acme hands back: the `Location` of a `201 Created` (instant-acme drops a new
    /// order whose `replaces` the CA did not reflect after it exists, and this finds it
    /// again) and the `Retry-After` of the last answer (for polling a `processing` order).
    static CAPTURED: std::cell::RefCell<Captured>;
}

/// See `CAPTURED`.
#[derive(Debug, Default)]
pub(crate) struct Captured {
    pub created: Option<String>,
    pub retry_after: Option<String>,
}

fn note_answer(rsp: &BytesResponse) {
    let header = |name: http::header::HeaderName| {
        rsp.parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
    };
    let created = (rsp.parts.status == http::StatusCode::CREATED)
        .then(|| header(http::header::LOCATION))
        .flatten();
    let retry_after = header(http::header::RETRY_AFTER);
    let _ = CAPTURED.try_with(|c| {
        let mut c = c.borrow_mut();
        if created.is_some() {
            c.created = created;
        }
        c.retry_after = retry_after;
    });
}

/// Run `work` and return, with its result, what its answers said (see `CAPTURED`).
pub(crate) async fn with_capture<T>(work: impl Future<Output = T>) -> (T, Captured) {
    CAPTURED
        .scope(std::cell::RefCell::new(Captured::default()), async {
            let out = work.await;
            (out, CAPTURED.with(|c| c.take()))
        })
        .await
}

fn bundle_error(path: &Path, reason: &str) -> AcmeError {
    AcmeError::Protocol(format!("cannot use CA bundle {}: {reason}", path.display()))
}

pub(crate) fn user_agent() -> String {
    format!("certwright/{}", env!("CARGO_PKG_VERSION"))
}
