//! The standalone HTTP-01 responder. It binds only for the duration of an order, answers
//! exactly `GET|HEAD /.well-known/acme-challenge/<token>` for this order's tokens and names,
//! and bounds everything a stranger can make it hold: connections, bytes, time.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{self, AbortHandle, JoinHandle};

use super::{is_valid_token, WELL_KNOWN};

const MAX_CONNECTIONS: usize = 64;
const MAX_HEAD_BYTES: usize = 8 * 1024;
const MAX_HEADERS: usize = 100;
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Tokens published elsewhere (by another node of a fleet), asked when this responder has
/// no answer of its own.
#[async_trait::async_trait]
pub trait TokenSource: Send + Sync {
    /// `(identifier, key authorization)` for the token, if anyone published it.
    async fn lookup(&self, token: &str) -> Option<(String, String)>;
}

/// How long a probe waits on the shared source before getting a 404.
const SOURCE_TIMEOUT: Duration = Duration::from_secs(3);

/// token -> (identifier the token belongs to, key authorization).
#[derive(Clone, Default)]
pub struct ChallengeMap {
    inner: Arc<RwLock<HashMap<String, (String, String)>>>,
    source: Option<Arc<dyn TokenSource>>,
}

impl ChallengeMap {
    /// A map that also answers the tokens `source` knows.
    pub fn with_source(source: Arc<dyn TokenSource>) -> ChallengeMap {
        ChallengeMap {
            inner: Arc::default(),
            source: Some(source),
        }
    }

    pub fn insert(&self, identifier: &str, token: &str, key_authorization: &str) {
        if let Ok(mut map) = self.inner.write() {
            map.insert(
                token.to_string(),
                (
                    identifier.to_ascii_lowercase(),
                    key_authorization.to_string(),
                ),
            );
        }
    }

    pub fn remove(&self, token: &str) {
        if let Ok(mut map) = self.inner.write() {
            map.remove(token);
        }
    }

    fn lookup(&self, token: &str, host: &str) -> Option<String> {
        let map = self.inner.read().ok()?;
        let (identifier, key_auth) = map.get(token)?;
        (identifier == host).then(|| key_auth.clone())
    }
}

/// Bound listeners, not yet serving. Binding first lets the caller report a port problem
/// before any request to the CA.
pub struct Standalone {
    listeners: Vec<TcpListener>,
}

impl Standalone {
    /// Bind `address:port`, or every address (IPv6 and IPv4) when no address is given.
    pub async fn bind(address: Option<IpAddr>, port: u16) -> io::Result<Self> {
        Self::from_std(bind_std(address, port)?)
    }

    /// Adopt listeners bound earlier with [`bind_std`] (before privileges were dropped).
    /// Needs a running tokio runtime.
    pub fn from_std(listeners: Vec<std::net::TcpListener>) -> io::Result<Self> {
        let listeners = listeners
            .into_iter()
            .map(|l| {
                l.set_nonblocking(true)?;
                TcpListener::from_std(l)
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Self { listeners })
    }

    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Serve until the returned handle is shut down.
    pub fn serve(self, map: ChallengeMap) -> Running {
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(accept_loop(self.listeners, map, rx));
        Running {
            shutdown: Some(tx),
            task,
        }
    }
}

/// Bind without a runtime: every address (IPv6 dual-stack, else IPv4 when the host has no
/// IPv6) or the one given. Usable before the runtime starts, e.g. before dropping root.
pub fn bind_std(address: Option<IpAddr>, port: u16) -> io::Result<Vec<std::net::TcpListener>> {
    match address {
        Some(ip) => Ok(vec![std::net::TcpListener::bind(SocketAddr::new(
            ip, port,
        ))?]),
        None => {
            match std::net::TcpListener::bind(SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port)) {
                Ok(l) => Ok(vec![l]),
                Err(e)
                    if e.kind() != io::ErrorKind::AddrInUse
                        && e.kind() != io::ErrorKind::PermissionDenied =>
                {
                    Ok(vec![std::net::TcpListener::bind(SocketAddr::new(
                        Ipv4Addr::UNSPECIFIED.into(),
                        port,
                    ))?])
                }
                Err(e) => Err(e),
            }
        }
    }
}

/// A serving responder; the port is released when it is shut down or dropped.
pub struct Running {
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(
    listeners: Vec<TcpListener>,
    map: ChallengeMap,
    mut shutdown: oneshot::Receiver<()>,
) {
    let (conn_tx, mut conn_rx) = tokio::sync::mpsc::channel::<TcpStream>(MAX_CONNECTIONS);
    // A JoinSet: aborted with this loop, also when the loop itself is aborted (`Running`
    // dropped), so no acceptor keeps the port for the rest of the process.
    let mut acceptors = tokio::task::JoinSet::new();
    for listener in listeners {
        let conn_tx = conn_tx.clone();
        acceptors.spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        if conn_tx.send(stream).await.is_err() {
                            return;
                        }
                    }
                    // Out of file descriptors and the like: back off instead of spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
    }
    drop(conn_tx);
    let mut connections = tokio::task::JoinSet::new();
    // Open connections, oldest first. At the cap the oldest is closed to make room: a
    // connection is answered as soon as its head arrives, so the oldest one is the one most
    // likely stalling (slowloris). Refusing the newest instead would let 64 idle sockets
    // shut the CA's probe out for the whole head timeout, again and again.
    let mut open: VecDeque<(task::Id, AbortHandle)> = VecDeque::with_capacity(MAX_CONNECTIONS);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            stream = conn_rx.recv() => {
                let Some(stream) = stream else { break };
                if open.len() >= MAX_CONNECTIONS {
                    if let Some((_, oldest)) = open.pop_front() {
                        oldest.abort();
                    }
                }
                let map = map.clone();
                let handle = connections.spawn(async move {
                    let _ = handle(stream, &map).await;
                });
                open.push_back((handle.id(), handle));
            }
            Some(done) = connections.join_next_with_id(), if !connections.is_empty() => {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(e) => e.id(),
                };
                open.retain(|(open_id, _)| *open_id != id);
            }
        }
    }
    acceptors.abort_all();
    connections.abort_all();
}

/// What a request asks for, decided from the head alone.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Ok {
        body: String,
        head_only: bool,
    },
    /// Not ours: ask the map's token source.
    Ask {
        token: String,
        host: String,
        head_only: bool,
    },
    NotFound,
    MethodNotAllowed,
    BadRequest,
    TooLarge,
}

async fn handle(mut stream: TcpStream, map: &ChallengeMap) -> io::Result<()> {
    let _ = stream.set_nodelay(true);
    let reply = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream)).await {
        Err(_) => return Ok(()),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(None)) => Reply::TooLarge,
        Ok(Ok(Some(head))) => decide(&head, map),
    };
    let reply = match (reply, &map.source) {
        (
            Reply::Ask {
                token,
                host,
                head_only,
            },
            Some(source),
        ) => match tokio::time::timeout(SOURCE_TIMEOUT, source.lookup(&token)).await {
            Ok(Some((identifier, body))) if identifier.eq_ignore_ascii_case(&host) => {
                Reply::Ok { body, head_only }
            }
            _ => Reply::NotFound,
        },
        (Reply::Ask { .. }, None) => Reply::NotFound,
        (other, _) => other,
    };
    let (status, body, head_only) = match reply {
        Reply::Ok { body, head_only } => ("200 OK", body, head_only),
        Reply::NotFound | Reply::Ask { .. } => ("404 Not Found", "not found\n".to_string(), false),
        Reply::MethodNotAllowed => (
            "405 Method Not Allowed",
            "method not allowed\n".into(),
            false,
        ),
        Reply::BadRequest => ("400 Bad Request", "bad request\n".into(), false),
        Reply::TooLarge => (
            "431 Request Header Fields Too Large",
            "request too large\n".into(),
            false,
        ),
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\nServer: certwright\r\n",
        body.len()
    );
    if status.starts_with("405") {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    out.push_str("\r\n");
    if !head_only {
        out.push_str(&body);
    }
    stream.write_all(out.as_bytes()).await?;
    stream.shutdown().await
}

/// Read up to the end of the request head. `None` when it exceeds the size cap.
async fn read_head(stream: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find_head_end(&buf) {
            buf.truncate(end);
            return Ok(Some(buf));
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Ok(None);
        }
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| buf.windows(2).position(|w| w == b"\n\n"))
}

fn decide(head: &[u8], map: &ChallengeMap) -> Reply {
    if head.len() > MAX_HEAD_BYTES {
        return Reply::TooLarge;
    }
    let Ok(text) = std::str::from_utf8(head) else {
        return Reply::BadRequest;
    };
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let Some(request_line) = lines.next() else {
        return Reply::BadRequest;
    };
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Reply::BadRequest;
    };
    if !version.starts_with("HTTP/1.") {
        return Reply::BadRequest;
    }
    let mut host = None;
    let mut count = 0;
    for line in lines {
        if line.is_empty() {
            continue;
        }
        count += 1;
        if count > MAX_HEADERS {
            return Reply::TooLarge;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Reply::BadRequest;
        };
        if name.eq_ignore_ascii_case("host") {
            if host.is_some() {
                return Reply::BadRequest;
            }
            host = Some(value.trim());
        }
    }
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Reply::MethodNotAllowed,
    };
    let Some(token) = target.strip_prefix(WELL_KNOWN) else {
        return Reply::NotFound;
    };
    if !is_valid_token(token) {
        return Reply::NotFound;
    }
    let Some(host) = host.map(normalise_host) else {
        return Reply::BadRequest;
    };
    match map.lookup(token, &host) {
        Some(body) => Reply::Ok { body, head_only },
        None if map.source.is_some() => Reply::Ask {
            token: token.to_string(),
            host,
            head_only,
        },
        None => Reply::NotFound,
    }
}

/// `Example.COM.:5002` -> `example.com` (Pebble's VA sends `name:port`).
fn normalise_host(host: &str) -> String {
    let without_port = if host.starts_with('[') {
        host.split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h).to_string()
    };
    without_port.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> ChallengeMap {
        let m = ChallengeMap::default();
        m.insert("example.com", "tok_1", "tok_1.thumb");
        m
    }

    fn req(s: &str) -> Reply {
        decide(s.as_bytes(), &map())
    }

    #[test]
    fn answers_known_token_for_its_host() {
        assert_eq!(
            req("GET /.well-known/acme-challenge/tok_1 HTTP/1.1\r\nHost: Example.com:5002\r\n\r\n"),
            Reply::Ok {
                body: "tok_1.thumb".into(),
                head_only: false
            }
        );
        assert_eq!(
            req("HEAD /.well-known/acme-challenge/tok_1 HTTP/1.1\r\nHost: example.com\r\n\r\n"),
            Reply::Ok {
                body: "tok_1.thumb".into(),
                head_only: true
            }
        );
    }

    #[test]
    fn refuses_everything_else() {
        let cases = [
            ("GET /.well-known/acme-challenge/tok_1 HTTP/1.1\r\nHost: evil.com\r\n\r\n", Reply::NotFound),
            ("GET /.well-known/acme-challenge/other HTTP/1.1\r\nHost: example.com\r\n\r\n", Reply::NotFound),
            ("GET /.well-known/acme-challenge/../../etc/passwd HTTP/1.1\r\nHost: example.com\r\n\r\n", Reply::NotFound),
            ("GET /.well-known/acme-challenge/tok%5F1 HTTP/1.1\r\nHost: example.com\r\n\r\n", Reply::NotFound),
            ("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", Reply::NotFound),
            ("POST /.well-known/acme-challenge/tok_1 HTTP/1.1\r\nHost: example.com\r\n\r\n", Reply::MethodNotAllowed),
            ("GET /.well-known/acme-challenge/tok_1 HTTP/1.1\r\n\r\n", Reply::BadRequest),
            ("GET /.well-known/acme-challenge/tok_1 HTTP/1.1\r\nHost: a\r\nHost: example.com\r\n\r\n", Reply::BadRequest),
            ("GARBAGE\r\n\r\n", Reply::BadRequest),
            ("GET /x SPDY/3\r\n\r\n", Reply::BadRequest),
        ];
        for (request, want) in cases {
            assert_eq!(req(request), want, "{request:?}");
        }
        let many: String = (0..200).map(|i| format!("X-{i}: y\r\n")).collect();
        assert_eq!(
            req(&format!(
                "GET /.well-known/acme-challenge/tok_1 HTTP/1.1\r\nHost: example.com\r\n{many}\r\n"
            )),
            Reply::TooLarge
        );
    }

    #[test]
    fn host_normalisation() {
        assert_eq!(normalise_host("Example.COM.:80"), "example.com");
        assert_eq!(normalise_host("example.com"), "example.com");
        assert_eq!(normalise_host("[::1]:80"), "[::1]");
    }

    mod decide_props {
        use super::*;
        use proptest::prelude::*;

        const KNOWN: [(&str, &str); 2] = [("example.com", "tok_1"), ("b.example.org", "T-2")];

        fn known() -> ChallengeMap {
            let m = ChallengeMap::default();
            for (host, token) in KNOWN {
                m.insert(host, token, &format!("{token}.thumb"));
            }
            m
        }

        /// The only requests that may be answered 200: GET or HEAD of exactly a known
        /// token's path, with exactly one Host naming that token's identifier.
        fn may_answer(head: &[u8], body: &str) -> bool {
            let Ok(text) = std::str::from_utf8(head) else {
                return false;
            };
            let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
            let request_line = lines.next().unwrap_or("");
            let parts: Vec<&str> = request_line.split(' ').collect();
            let [method, target, _version] = parts[..] else {
                return false;
            };
            let hosts: Vec<String> = lines
                .filter_map(|l| l.split_once(':'))
                .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
                .map(|(_, v)| normalise_host(v.trim()))
                .collect();
            (method == "GET" || method == "HEAD")
                && hosts.len() == 1
                && KNOWN.iter().any(|(host, token)| {
                    target == format!("{WELL_KNOWN}{token}")
                        && hosts[0] == *host
                        && body == format!("{token}.thumb")
                })
        }

        fn check(head: &[u8]) -> Result<(), TestCaseError> {
            if let Reply::Ok { body, .. } = decide(head, &known()) {
                prop_assert!(
                    may_answer(head, &body),
                    "answered {:?} with {body:?}",
                    String::from_utf8_lossy(head)
                );
            }
            Ok(())
        }

        /// Request heads built from pieces near the valid one, so the 200 path is reached.
        fn near_valid() -> impl Strategy<Value = Vec<u8>> {
            let method = prop::sample::select(vec!["GET", "HEAD", "POST", "get", "", "GET GET"]);
            let target = prop_oneof![
                prop::sample::select(vec![
                    "/.well-known/acme-challenge/tok_1",
                    "/.well-known/acme-challenge/T-2",
                    "/.well-known/acme-challenge/../tok_1",
                    "/.well-known/acme-challenge/tok_1/",
                    "/.well-known/acme-challenge/%74ok_1",
                    "/.well-known/acme-challenge//tok_1",
                    "/.well-known/acme-challenge/",
                    "/.well-known/acme-challenge/tok_1?x",
                ])
                .prop_map(String::from),
                "[ -~]{0,40}".prop_map(|t| format!("/.well-known/acme-challenge/{t}")),
            ];
            let host = prop_oneof![
                prop::sample::select(vec![
                    "example.com",
                    "EXAMPLE.com.:80",
                    "b.example.org:5002",
                    "example.com.evil",
                    "evil.com",
                    "",
                    "[::1]:80",
                    "example.com:",
                    ":example.com",
                ])
                .prop_map(String::from),
                "[ -~]{0,30}",
            ];
            let extra = prop::collection::vec("[ -~]{0,20}", 0..4);
            let version = prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0", "HTTP/2", ""]);
            (
                method,
                target,
                version,
                prop::collection::vec(host, 0..3),
                extra,
            )
                .prop_map(|(method, target, version, hosts, extra)| {
                    let mut head = format!("{method} {target} {version}\r\n");
                    for h in hosts {
                        head.push_str(&format!("Host: {h}\r\n"));
                    }
                    for e in extra {
                        head.push_str(&e);
                        head.push_str("\r\n");
                    }
                    head.into_bytes()
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]

            #[test]
            fn arbitrary_bytes_never_panic_nor_answer(head in prop::collection::vec(any::<u8>(), 0..10_000)) {
                check(&head)?;
            }

            #[test]
            fn near_valid_heads_answer_only_the_exact_request(head in near_valid()) {
                check(&head)?;
            }
        }

        #[test]
        fn the_oracle_accepts_the_valid_request() {
            // Guards the property tests against an oracle that refuses everything.
            let head =
                b"GET /.well-known/acme-challenge/T-2 HTTP/1.1\r\nHost: B.example.org.:5002\r\n";
            assert!(matches!(decide(head, &known()), Reply::Ok { .. }));
            assert!(may_answer(head, "T-2.thumb"));
        }
    }

    #[tokio::test]
    async fn serves_over_tcp_and_releases_the_port() {
        let s = Standalone::bind(Some("127.0.0.1".parse().unwrap()), 0)
            .await
            .unwrap();
        let addr = s.local_addrs()[0];
        let running = s.serve(map());
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"GET /.well-known/acme-challenge/tok_1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
        assert!(out.ends_with("\r\n\r\ntok_1.thumb"), "{out}");
        // An oversized head is cut off with 431, not buffered without bound.
        let mut c = TcpStream::connect(addr).await.unwrap();
        let big = format!("GET /{} HTTP/1.1\r\n", "a".repeat(20_000));
        let _ = c.write_all(big.as_bytes()).await;
        let mut out = String::new();
        let _ = c.read_to_string(&mut out).await;
        assert!(out.starts_with("HTTP/1.1 431"), "{out}");
        running.shutdown().await;
        assert!(std::net::TcpListener::bind(addr).is_ok(), "port still held");
    }

    /// Dropped without `shutdown` (its run failed mid-order), the responder still frees the
    /// port: the process's one runtime lives on, and so would a detached acceptor.
    #[tokio::test]
    async fn a_responder_dropped_without_shutdown_releases_the_port() {
        let s = Standalone::bind(Some("127.0.0.1".parse().unwrap()), 0)
            .await
            .unwrap();
        let addr = s.local_addrs()[0];
        let running = s.serve(map());
        // Let the acceptors start before the drop.
        let served = TcpStream::connect(addr).await;
        assert!(served.is_ok(), "not listening");
        tokio::task::yield_now().await;
        drop(running);
        // The aborted tasks are dropped as the runtime polls them: yield until they are.
        let mut freed = false;
        for _ in 0..1000 {
            if std::net::TcpListener::bind(addr).is_ok() {
                freed = true;
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(freed, "port still held");
    }
}
