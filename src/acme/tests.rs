//! Tests against a scripted CA behind `AcmeHttp` (the transport is the only fake): it serves a
//! directory and nonces, and answers newAccount POSTs from a script, then with success.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};

use super::retry::{SERVER_ERROR_ATTEMPTS, STEP_ATTEMPTS};
use super::{AcmeAccount, AcmeHttp, AriCertId, OrderSpec, PendingOrder};
use crate::error::{AcmeError, Problem};
use crate::types::{DomainName, ServerUrl};

const DIR: &str = "https://ca.test/dir";

struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

#[derive(Clone, Default)]
struct FakeCa {
    script: Arc<Mutex<VecDeque<Reply>>>,
    account_posts: Arc<Mutex<u32>>,
    /// Answers to newOrder (then: created, without `replaces`), and the payloads sent.
    order_script: Arc<Mutex<VecDeque<Reply>>>,
    order_payloads: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl FakeCa {
    fn new(script: Vec<Reply>) -> Self {
        Self {
            script: Arc::new(Mutex::new(script.into())),
            ..Self::default()
        }
    }

    fn posts(&self) -> u32 {
        *self.account_posts.lock().unwrap()
    }

    fn answer(&self, req: &::http::request::Parts, body: &[u8]) -> Reply {
        let ok = |body: &str| Reply {
            status: 200,
            headers: vec![],
            body: body.into(),
        };
        match (req.method.as_str(), req.uri.path()) {
            ("GET", "/dir") => ok(r#"{"newNonce":"https://ca.test/nonce",
                "newAccount":"https://ca.test/acct","newOrder":"https://ca.test/order",
                "revokeCert":"https://ca.test/revoke","keyChange":"https://ca.test/key",
                "renewalInfo":"https://ca.test/ari"}"#),
            ("POST", "/order") => {
                self.order_payloads.lock().unwrap().push(jws_payload(body));
                self.order_script
                    .lock()
                    .unwrap()
                    .pop_front()
                    .unwrap_or(Reply {
                        status: 201,
                        headers: vec![("location", "https://ca.test/order/1".into())],
                        body: ORDER.into(),
                    })
            }
            ("POST", "/order/1") => ok(ORDER),
            ("HEAD", "/nonce") => ok(""),
            ("POST", "/acct") => {
                *self.account_posts.lock().unwrap() += 1;
                self.script.lock().unwrap().pop_front().unwrap_or(Reply {
                    status: 201,
                    headers: vec![("location", "https://ca.test/acct/1".into())],
                    body: r#"{"status":"valid"}"#.into(),
                })
            }
            _ => Reply {
                status: 404,
                headers: vec![],
                body: String::new(),
            },
        }
    }
}

impl HttpClient for FakeCa {
    fn request(
        &self,
        req: ::http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let ca = self.clone();
        let (parts, body) = req.into_parts();
        Box::pin(async move {
            use http_body_util::BodyExt;
            let body = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => Bytes::new(),
            };
            let reply = ca.answer(&parts, &body);
            let mut rsp = ::http::Response::builder()
                .status(reply.status)
                .header("replay-nonce", "bm9uY2U")
                .header("content-type", "application/problem+json");
            for (k, v) in reply.headers {
                rsp = rsp.header(k, v);
            }
            let rsp = rsp
                .body(http_body_util::Full::new(Bytes::from(reply.body)))
                .unwrap();
            Ok(BytesResponse::from(rsp))
        })
    }
}

/// A ready order with nothing to authorize, and no `replaces`.
const ORDER: &str = r#"{"status":"ready","identifiers":[{"type":"dns","value":"a.test"}],
    "authorizations":[],"finalize":"https://ca.test/order/1/finalize"}"#;

fn jws_payload(body: &[u8]) -> serde_json::Value {
    use base64::Engine;
    let jws: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let payload = jws["payload"].as_str().unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or_default()
}

fn problem(status: u16, kind: &str, retry_after: Option<&str>) -> Reply {
    Reply {
        status,
        headers: retry_after
            .map(|r| vec![("retry-after", r.to_string())])
            .unwrap_or_default(),
        body: serde_json::json!({
            "type": format!("urn:ietf:params:acme:error:{kind}"),
            "detail": format!("scripted {kind}"),
            "status": status,
        })
        .to_string(),
    }
}

async fn register(ca: &FakeCa) -> Result<(), AcmeError> {
    let http = AcmeHttp::with_client(ca.clone());
    let server: ServerUrl = DIR.parse().unwrap();
    AcmeAccount::register(&http, &server, None)
        .await
        .map(|_| ())
}

fn expect_problem(result: Result<(), AcmeError>) -> Problem {
    match result {
        Err(AcmeError::Problem(p)) => p,
        other => panic!("expected a CA problem, got {other:?}"),
    }
}

async fn order_replacing(ca: &FakeCa) -> Result<PendingOrder, AcmeError> {
    let http = AcmeHttp::with_client(ca.clone());
    let server: ServerUrl = DIR.parse().unwrap();
    let (account, _) = AcmeAccount::register(&http, &server, None).await?;
    let names: Vec<DomainName> = vec!["a.test".parse().unwrap()];
    let replaced = AriCertId::new(&[1, 2, 3], &[4, 5]);
    let spec = OrderSpec {
        names: &names,
        replaces: Some(&replaced),
        ..OrderSpec::default()
    };
    account.new_order_for(&spec).await
}

fn sent_replaces(ca: &FakeCa) -> Vec<bool> {
    let payloads = ca.order_payloads.lock().unwrap();
    payloads
        .iter()
        .map(|p| p.get("replaces").is_some())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn an_order_returned_without_replaces_is_used_as_it_is() {
    let ca = FakeCa::new(vec![]);
    let order = order_replacing(&ca).await.unwrap();
    assert_eq!(order.order.url(), "https://ca.test/order/1");
    // One order, no second one left pending at the CA.
    assert_eq!(sent_replaces(&ca), vec![true]);
}

#[tokio::test(start_paused = true)]
async fn a_refused_replaces_is_dropped_once() {
    for (status, kind, detail) in [
        (409, "alreadyReplaced", "certificate already replaced"),
        (
            403,
            "unauthorized",
            "requester account did not request the certificate being replaced",
        ),
        (400, "malformed", "invalid replaces value"),
        (400, "badCSR", "the server cannot handle Replaces here"),
    ] {
        let ca = FakeCa::new(vec![]);
        let mut refusal = problem(status, kind, None);
        refusal.body = serde_json::json!({
            "type": format!("urn:ietf:params:acme:error:{kind}"),
            "detail": detail,
            "status": status,
        })
        .to_string();
        ca.order_script.lock().unwrap().push_back(refusal);
        order_replacing(&ca).await.unwrap();
        assert_eq!(sent_replaces(&ca), vec![true, false], "{kind}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_refusal_not_about_replaces_is_not_retried() {
    let ca = FakeCa::new(vec![]);
    ca.order_script
        .lock()
        .unwrap()
        .push_back(problem(400, "rejectedIdentifier", None));
    let err = order_replacing(&ca).await.err().unwrap();
    assert!(matches!(err, AcmeError::Problem(_)), "{err}");
    assert_eq!(sent_replaces(&ca), vec![true]);
}

#[tokio::test(start_paused = true)]
async fn only_a_request_nothing_answered_is_unreachable() {
    #[derive(Clone)]
    struct Refused;
    impl HttpClient for Refused {
        fn request(
            &self,
            _req: ::http::Request<BodyWrapper<Bytes>>,
        ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>>
        {
            Box::pin(async { Err(instant_acme::Error::Str("connection refused")) })
        }
    }
    let http = AcmeHttp::with_client(Refused);
    let server: ServerUrl = DIR.parse().unwrap();
    let err = AcmeAccount::register(&http, &server, None)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, AcmeError::Transport { .. }), "{err}");
    assert!(err.to_string().contains("could not reach"), "{err}");

    // An answer that is not what ACME expects is not "could not reach".
    let ca = FakeCa::new(vec![Reply {
        status: 201,
        headers: vec![],
        body: "{}".into(),
    }]);
    let err = register(&ca).await.err().unwrap();
    assert!(!err.to_string().contains("could not reach"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn the_script_is_followed_by_success() {
    let ca = FakeCa::new(vec![]);
    register(&ca).await.unwrap();
    assert_eq!(ca.posts(), 1);
}

#[tokio::test(start_paused = true)]
async fn server_internal_is_retried_with_backoff() {
    let ca = FakeCa::new(vec![
        problem(500, "serverInternal", None),
        problem(500, "serverInternal", None),
    ]);
    let start = tokio::time::Instant::now();
    register(&ca).await.unwrap();
    assert_eq!(ca.posts(), 3);
    // 1 s then 2 s on the paused clock: a backoff, not a hammering.
    assert!(
        start.elapsed() >= Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn server_internal_retries_are_bounded() {
    let ca = FakeCa::new(
        (0..20)
            .map(|_| problem(500, "serverInternal", None))
            .collect(),
    );
    let p = expect_problem(register(&ca).await);
    assert_eq!(p.short_kind(), "serverInternal");
    assert_eq!(p.status, Some(500));
    assert_eq!(ca.posts(), SERVER_ERROR_ATTEMPTS);
}

#[tokio::test(start_paused = true)]
async fn bad_nonce_retries_are_bounded() {
    let ca = FakeCa::new((0..100).map(|_| problem(400, "badNonce", None)).collect());
    let p = expect_problem(register(&ca).await);
    assert_eq!(p.short_kind(), "badNonce");
    // instant-acme's 3 tries inside each of our STEP_ATTEMPTS.
    assert_eq!(ca.posts(), 3 * STEP_ATTEMPTS);
}

#[tokio::test(start_paused = true)]
async fn client_errors_are_not_retried() {
    for (status, kind) in [
        (400, "malformed"),
        (403, "unauthorized"),
        (400, "invalidContact"),
        (429, "rateLimited"),
    ] {
        let ca = FakeCa::new(vec![problem(status, kind, None)]);
        let p = expect_problem(register(&ca).await);
        assert_eq!(p.short_kind(), kind);
        assert_eq!(p.status, Some(status), "{kind}");
        assert_eq!(p.retry_after, None, "{kind}");
        assert_eq!(ca.posts(), 1, "{kind} was retried");
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_reaches_the_caller_raw_and_is_not_retried() {
    let year = "31536000";
    let date = "Wed, 21 Oct 2037 07:28:00 GMT";
    for (status, kind, header) in [
        (429, "rateLimited", "3600"),
        (429, "rateLimited", year),
        (429, "rateLimited", date),
        (503, "serverInternal", "120"),
        (503, "serverInternal", "soon"),
        (503, "rateLimited", "  30 "),
    ] {
        let ca = FakeCa::new(vec![problem(status, kind, Some(header))]);
        let p = expect_problem(register(&ca).await);
        assert_eq!(p.short_kind(), kind, "{header}");
        assert_eq!(p.status, Some(status), "{header}");
        assert_eq!(p.retry_after.as_deref(), Some(header.trim()), "{kind}");
        assert_eq!(
            ca.posts(),
            1,
            "{kind} with Retry-After {header} was retried"
        );
        let shown = AcmeError::Problem(p).to_string();
        assert!(shown.contains(header.trim()), "{shown}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_503_page_that_is_not_a_problem_keeps_its_retry_after() {
    let ca = FakeCa::new(vec![Reply {
        status: 503,
        headers: vec![("retry-after", "60".into())],
        body: "<html>maintenance</html>".into(),
    }]);
    let p = expect_problem(register(&ca).await);
    assert_eq!(p.status, Some(503));
    assert_eq!(p.retry_after.as_deref(), Some("60"));
    assert!(p.detail.unwrap_or_default().contains("503"));
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_directory_is_a_problem_too() {
    // Retry-After on the very first request (the directory), before any account.
    #[derive(Clone)]
    struct Closed;
    impl HttpClient for Closed {
        fn request(
            &self,
            _req: ::http::Request<BodyWrapper<Bytes>>,
        ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>>
        {
            let rsp = ::http::Response::builder()
                .status(503)
                .header("retry-after", "90")
                .body(http_body_util::Full::new(Bytes::from_static(b"busy")))
                .unwrap();
            Box::pin(async move { Ok(BytesResponse::from(rsp)) })
        }
    }
    let http = AcmeHttp::with_client(Closed);
    let server: ServerUrl = DIR.parse().unwrap();
    let p = match AcmeAccount::register(&http, &server, None).await {
        Err(AcmeError::Problem(p)) => p,
        other => panic!("expected a problem, got {:?}", other.map(|_| ())),
    };
    assert_eq!(p.retry_after.as_deref(), Some("90"));
}
