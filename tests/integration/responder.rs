//! The standalone HTTP-01 responder under attack, through the library (`Standalone` bound
//! on 127.0.0.1:0 and served): every hostile request gets a 4xx or a closed connection, the
//! responder keeps answering the one valid request, and nothing panics.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use certwright::challenge::{ChallengeMap, Running, Standalone};

use crate::support::{net, wait_for};

const TOKEN: &str = "tok_1-AbC";
const KEY_AUTH: &str = "tok_1-AbC.thumbprint_XYZ";
const HOST: &str = "victim.example.com";
/// A bound on how long a test waits for any one answer: a deadline, not a benchmark.
const READ_LIMIT: Duration = Duration::from_secs(15);

/// A served responder on its own runtime (the tests below talk to it with blocking sockets).
struct Responder {
    addr: SocketAddr,
    running: Option<Running>,
    runtime: tokio::runtime::Runtime,
}

impl Responder {
    fn start() -> Responder {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let map = ChallengeMap::default();
        map.insert(HOST, TOKEN, KEY_AUTH);
        let (addr, running) = runtime.block_on(async {
            let standalone = Standalone::bind(Some("127.0.0.1".parse().unwrap()), 0)
                .await
                .expect("bind 127.0.0.1:0");
            let addr = standalone.local_addrs()[0];
            (addr, standalone.serve(map))
        });
        Responder {
            addr,
            running: Some(running),
            runtime,
        }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).expect("connect to the responder");
        s.set_read_timeout(Some(READ_LIMIT)).unwrap();
        s.set_write_timeout(Some(READ_LIMIT)).unwrap();
        s
    }

    /// Sends `raw` (ignoring a reset while writing: the responder may close early) and
    /// returns whatever came back before the connection closed.
    fn send(&self, raw: &[u8]) -> Answer {
        let mut s = self.connect();
        let _ = s.write_all(raw);
        read_answer(&mut s)
    }

    /// Waits until the responder has accepted every connection made so far (the kernel's
    /// accept queue of its listener is empty).
    fn wait_accepted(&self) {
        let drained = wait_for(READ_LIMIT, || {
            (net::accept_backlog(self.addr) == Some(0)).then_some(())
        });
        assert!(
            drained.is_some(),
            "the responder left connections in its accept queue: {:?}",
            net::accept_backlog(self.addr)
        );
    }

    fn probe_is_answered(&self, limit: Duration) -> Result<(), String> {
        let mut s = self.connect();
        s.set_read_timeout(Some(limit)).unwrap();
        let _ = s.write_all(valid_request().as_bytes());
        let answer = read_answer(&mut s);
        match answer.status() {
            Some(200) if answer.text.ends_with(KEY_AUTH) => Ok(()),
            _ => Err(format!("valid probe not answered: {answer:?}")),
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            self.runtime.block_on(running.shutdown());
        }
    }
}

#[derive(Debug)]
struct Answer {
    text: String,
    /// The read ended with an error (reset or timeout) rather than a clean close.
    error: Option<std::io::ErrorKind>,
}

impl Answer {
    fn status(&self) -> Option<u16> {
        let rest = self.text.strip_prefix("HTTP/1.1 ")?;
        rest.get(..3)?.parse().ok()
    }

    /// A 4xx, or a connection closed (or reset) without any answer: both are refusals.
    /// A read that timed out is not: the responder held the connection open.
    fn is_refusal(&self) -> bool {
        match self.status() {
            Some(code) => (400..500).contains(&code),
            None => {
                self.text.is_empty()
                    && !matches!(
                        self.error,
                        Some(std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
                    )
            }
        }
    }
}

fn read_answer(s: &mut TcpStream) -> Answer {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let error = loop {
        match s.read(&mut chunk) {
            Ok(0) => break None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => break Some(e.kind()),
        }
    };
    Answer {
        text: String::from_utf8_lossy(&buf).into_owned(),
        error,
    }
}

fn valid_request() -> String {
    format!("GET /.well-known/acme-challenge/{TOKEN} HTTP/1.1\r\nHost: {HOST}:5002\r\n\r\n")
}

fn get(target: &str, host: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()
}

#[test]
fn the_valid_request_is_answered() {
    let r = Responder::start();
    r.probe_is_answered(READ_LIMIT).unwrap();
    // HEAD gets the headers only.
    let a = r.send(
        format!("HEAD /.well-known/acme-challenge/{TOKEN} HTTP/1.1\r\nHost: {HOST}\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(a.status(), Some(200), "{a:?}");
    assert!(!a.text.contains(KEY_AUTH), "{a:?}");
}

#[test]
fn hostile_requests_are_refused() {
    let r = Responder::start();
    let wk = "/.well-known/acme-challenge";
    let many_headers: String = (0..1000).map(|i| format!("X-H{i}: v\r\n")).collect();
    let long_target = format!("{wk}/{}", "A".repeat(9 * 1024));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("dot-dot segment", get(&format!("{wk}/../x"), HOST)),
        (
            "dot-dot to the token",
            get(&format!("{wk}/../acme-challenge/{TOKEN}"), HOST),
        ),
        ("encoded dot-dot", get(&format!("{wk}/%2e%2e/x"), HOST)),
        (
            "upper-case encoded dot-dot",
            get(&format!("{wk}/%2E%2E%2F{TOKEN}"), HOST),
        ),
        ("encoded slash", get(&format!("{wk}%2F{TOKEN}"), HOST)),
        (
            "encoded token character",
            get(&format!("{wk}/tok%5F1-AbC"), HOST),
        ),
        (
            "double slash",
            get(&format!("/.well-known//acme-challenge/{TOKEN}"), HOST),
        ),
        ("absolute /etc/passwd", get("/etc/passwd", HOST)),
        (
            "token with a query",
            get(&format!("{wk}/{TOKEN}?x=1"), HOST),
        ),
        ("token with a suffix", get(&format!("{wk}/{TOKEN}.x"), HOST)),
        ("unknown token", get(&format!("{wk}/unknown_token"), HOST)),
        ("empty token", get(&format!("{wk}/"), HOST)),
        ("wrong host", get(&format!("{wk}/{TOKEN}"), "evil.example.com")),
        (
            "host as a suffix",
            get(&format!("{wk}/{TOKEN}"), "x.victim.example.com"),
        ),
        (
            "no host",
            format!("GET {wk}/{TOKEN} HTTP/1.1\r\n\r\n").into_bytes(),
        ),
        (
            "two hosts",
            format!("GET {wk}/{TOKEN} HTTP/1.1\r\nHost: evil.com\r\nHost: {HOST}\r\n\r\n")
                .into_bytes(),
        ),
        (
            "POST",
            format!("POST {wk}/{TOKEN} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 0\r\n\r\n")
                .into_bytes(),
        ),
        (
            "PUT",
            format!("PUT {wk}/{TOKEN} HTTP/1.1\r\nHost: {HOST}\r\n\r\n").into_bytes(),
        ),
        (
            "DELETE",
            format!("DELETE {wk}/{TOKEN} HTTP/1.1\r\nHost: {HOST}\r\n\r\n").into_bytes(),
        ),
        (
            "lower-case get",
            format!("get {wk}/{TOKEN} HTTP/1.1\r\nHost: {HOST}\r\n\r\n").into_bytes(),
        ),
        (
            "CONNECT",
            format!("CONNECT {HOST}:443 HTTP/1.1\r\nHost: {HOST}\r\n\r\n").into_bytes(),
        ),
        (
            "request line over 8 KiB",
            get(&long_target, HOST),
        ),
        (
            "1,000 headers",
            format!("GET {wk}/{TOKEN} HTTP/1.1\r\nHost: {HOST}\r\n{many_headers}\r\n")
                .into_bytes(),
        ),
        (
            "Content-Length: 10G with a GET",
            format!(
                "GET {wk}/unknown HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 10737418240\r\n\r\n{}",
                "x".repeat(64 * 1024)
            )
            .into_bytes(),
        ),
        (
            "HTTP/2 preface",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
        ),
        ("binary garbage", vec![0xff, 0x00, 0xfe, b'\r', b'\n', b'\r', b'\n']),
        (
            "NUL in the target",
            format!("GET {wk}/{TOKEN}\0 HTTP/1.1\r\nHost: {HOST}\r\n\r\n").into_bytes(),
        ),
        ("no version", format!("GET {wk}/{TOKEN}\r\n\r\n").into_bytes()),
        (
            "TLS client hello on the HTTP port",
            vec![0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03],
        ),
    ];
    let mut failures = Vec::new();
    for (what, raw) in &cases {
        let a = r.send(raw);
        if !a.is_refusal() {
            failures.push(format!("{what}: {a:?}"));
        }
        if a.text.contains(KEY_AUTH) {
            failures.push(format!("{what}: leaked the key authorization: {a:?}"));
        }
    }
    // Still alive and still answering after all of that.
    if let Err(e) = r.probe_is_answered(READ_LIMIT) {
        failures.push(format!("after the table: {e}"));
    }
    assert!(
        failures.is_empty(),
        "{} of {} hostile requests were not refused:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn a_10g_content_length_with_a_slow_body_is_not_waited_for() {
    let r = Responder::start();
    let mut s = r.connect();
    s.write_all(
        format!(
            "GET /.well-known/acme-challenge/{TOKEN} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 10737418240\r\n\r\n"
        )
        .as_bytes(),
    )
    .unwrap();
    // The head is complete: the answer comes without reading the (never sent) body.
    let a = read_answer(&mut s);
    assert!(a.status().is_some(), "no answer: {a:?}");
}

/// Slowloris: fill (and overfill) the connection cap with connections that send nothing,
/// or one byte of a head and then stall. The CA's probe must still be answered.
#[test]
fn slowloris_beyond_the_cap_does_not_lock_out_the_ca() {
    let r = Responder::start();
    let mut idle = Vec::new();
    for i in 0..100 {
        let mut s = TcpStream::connect(r.addr).expect("connect idle");
        if i % 2 == 1 {
            let _ = s.write_all(b"G");
        }
        idle.push(s);
    }
    r.wait_accepted();
    // The bound is a test deadline (the CA's VA gives up after a few seconds), not a
    // benchmark.
    let result = r.probe_is_answered(Duration::from_secs(2));
    drop(idle);
    result.unwrap();
    // And after they are gone, the responder still works.
    r.probe_is_answered(READ_LIMIT).unwrap();
}

/// A flood of connections that each send a partial head every so often (never finishing)
/// must not keep the probe out either.
#[test]
fn trickling_heads_do_not_lock_out_the_ca() {
    let r = Responder::start();
    let mut trickle = Vec::new();
    for _ in 0..80 {
        let mut s = TcpStream::connect(r.addr).expect("connect");
        let _ = s.write_all(b"GET /.well-known/acme-challenge/");
        trickle.push(s);
    }
    r.wait_accepted();
    for s in &mut trickle {
        let _ = s.write_all(b"a");
    }
    let result = r.probe_is_answered(Duration::from_secs(2));
    drop(trickle);
    result.unwrap();
}
