//! A private `redis-server` per test (Debian package `redis-server`), on a free port and a
//! temp dir, with an append-only file so `restart` keeps the data. Never port 6379: a system
//! redis the package may have started there is not ours. It listens on 127.0.0.1, plus any
//! addresses given to `start_bound` (for nodes in network namespaces).
//!
//! Commands go over a small RESP2 client (binary safe, no `redis-cli` output formats to parse).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{IpAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use super::pebble::kill_group;
use super::{free_port, read_lossy, wait_for};

pub const REDIS_SERVER: &str = "/usr/bin/redis-server";
/// The port a system redis listens on; tests must never talk to it.
const SYSTEM_PORT: u16 = 6379;
const START_LIMIT: Duration = Duration::from_secs(30);
const STOP_LIMIT: Duration = Duration::from_secs(10);
const START_ATTEMPTS: usize = 5;
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// One RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Nil,
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Array(Vec<Reply>),
}

impl Reply {
    /// Bulk or status text (lossy UTF-8); `None` for nil.
    pub fn text(&self) -> Option<String> {
        match self {
            Reply::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Reply::Status(s) => Some(s.clone()),
            Reply::Int(i) => Some(i.to_string()),
            _ => None,
        }
    }

    /// Every byte string in this reply, arrays flattened (for "does any value contain X").
    pub fn leaves(&self) -> Vec<Vec<u8>> {
        match self {
            Reply::Nil => Vec::new(),
            Reply::Status(s) | Reply::Error(s) => vec![s.clone().into_bytes()],
            Reply::Int(i) => vec![i.to_string().into_bytes()],
            Reply::Bulk(b) => vec![b.clone()],
            Reply::Array(items) => items.iter().flat_map(Reply::leaves).collect(),
        }
    }

    /// As `redis-cli --raw` would print it: one line per element.
    pub fn render(&self) -> String {
        match self {
            Reply::Nil => String::new(),
            Reply::Error(e) => format!("(error) {e}"),
            Reply::Array(items) => items
                .iter()
                .map(Reply::render)
                .collect::<Vec<_>>()
                .join("\n"),
            other => other.text().unwrap_or_default(),
        }
    }
}

/// One key and everything stored under it (hash fields and values, list items, ...).
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub key: String,
    pub kind: String,
    pub values: Vec<Vec<u8>>,
}

/// A running redis-server; SIGKILLed (its process group) on drop.
pub struct RedisServer {
    dir: TempDir,
    port: u16,
    /// Addresses it listens on besides 127.0.0.1.
    extra_binds: Vec<IpAddr>,
    child: Option<Child>,
    /// How many times the server was started (names the log files).
    starts: usize,
    /// `start_tls`: the throwaway CA's PEM (the server's cert, key and CA are in `dir`).
    tls_ca: Option<String>,
}

impl RedisServer {
    /// Starts redis-server on a free port and waits until it answers PING.
    pub fn start() -> RedisServer {
        RedisServer::start_bound(&[])
    }

    /// `start`, listening on `extra` (host addresses that exist) as well as 127.0.0.1.
    pub fn start_bound(extra: &[IpAddr]) -> RedisServer {
        RedisServer::start_with(extra, false)
    }

    /// TLS only (`--port 0 --tls-port P`), with a `localhost`/127.0.0.1 certificate from a
    /// throwaway CA (`tls_ca_pem`); clients need no certificate (`--tls-auth-clients no`).
    pub fn start_tls() -> RedisServer {
        RedisServer::start_with(&[], true)
    }

    /// The PEM of the CA that signed a `start_tls` server's certificate.
    pub fn tls_ca_pem(&self) -> &str {
        self.tls_ca.as_deref().expect("not a start_tls server")
    }

    /// `rediss://127.0.0.1:PORT/0` for a `start_tls` server.
    pub fn tls_url(&self) -> String {
        assert!(self.tls_ca.is_some(), "not a start_tls server");
        format!("rediss://127.0.0.1:{}/0", self.port)
    }

    fn start_with(extra: &[IpAddr], tls: bool) -> RedisServer {
        let dir = tempfile::Builder::new()
            .prefix("certwright-redis-")
            .tempdir()
            .expect("create redis temp dir");
        let mut server = RedisServer {
            dir,
            port: 0,
            extra_binds: extra.to_vec(),
            child: None,
            starts: 0,
            tls_ca: None,
        };
        if tls {
            let (ca, cert, key) = super::smtp::localhost_identity();
            for (file, pem) in [("ca.pem", &ca), ("cert.pem", &cert), ("key.pem", &key)] {
                std::fs::write(server.dir.path().join(file), pem).expect("write redis TLS file");
            }
            server.tls_ca = Some(ca);
        }
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            server.port = loop {
                let port = free_port();
                if port != SYSTEM_PORT {
                    break port;
                }
            };
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(log) if log.contains("Address already in use") => last_error = log,
                Err(log) => panic!("redis-server did not start:\n{log}"),
            }
        }
        panic!(
            "redis-server could not bind a free port in {START_ATTEMPTS} attempts:\n{last_error}"
        );
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT/0`, the value for `--store`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// `redis://IP:PORT/0` for one of the `start_bound` addresses.
    pub fn url_at(&self, ip: IpAddr) -> String {
        assert!(
            self.extra_binds.contains(&ip),
            "redis does not listen on {ip}"
        );
        format!("redis://{}/0", std::net::SocketAddr::new(ip, self.port))
    }

    /// SIGTERM (redis flushes the append-only file and exits), SIGKILL if it lingers. Returns
    /// once the port no longer answers.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        if wait_for(STOP_LIMIT, || child.try_wait().ok().flatten()).is_none() {
            kill_group(&mut child);
        }
        let closed = wait_for(STOP_LIMIT, || {
            (!super::net::port_answers(self.port)).then_some(())
        });
        assert!(
            closed.is_some(),
            "redis port {} still answers after stop",
            self.port
        );
    }

    /// Stops (if running) and starts again on the same port and dir: the data survives.
    pub fn restart(&mut self) {
        self.stop();
        let attempt = wait_for(STOP_LIMIT, || match self.spawn_and_wait() {
            Ok(()) => Some(Ok(())),
            // The old socket may linger a moment; anything else is fatal.
            Err(log) if log.contains("Address already in use") => None,
            Err(log) => Some(Err(log)),
        });
        match attempt {
            Some(Ok(())) => {}
            Some(Err(log)) => panic!("redis-server did not come back:\n{log}"),
            None => panic!(
                "redis-server could not rebind port {}:\n{}",
                self.port,
                self.logs()
            ),
        }
    }

    /// Runs one command; `Err` if the server cannot be reached or the reply is malformed.
    pub fn try_cmd(&self, args: &[&str]) -> io::Result<Reply> {
        let mut sock = TcpStream::connect(("127.0.0.1", self.port))?;
        sock.set_read_timeout(Some(IO_TIMEOUT))?;
        sock.set_write_timeout(Some(IO_TIMEOUT))?;
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        sock.write_all(&request)?;
        read_reply(&mut BufReader::new(sock))
    }

    /// Runs one command; panics if redis cannot be reached or answers with an error.
    pub fn cmd(&self, args: &[&str]) -> Reply {
        match self.try_cmd(args) {
            Ok(Reply::Error(e)) => panic!("redis {args:?}: {e}"),
            Ok(reply) => reply,
            Err(e) => panic!("redis {args:?} on port {}: {e}", self.port),
        }
    }

    /// The reply as text, as `redis-cli --raw -p PORT ARGS` prints it.
    pub fn cli(&self, args: &[&str]) -> String {
        self.cmd(args).render()
    }

    /// `GET key`: `None` if the key does not exist.
    pub fn get(&self, key: &str) -> Option<String> {
        self.cmd(&["GET", key]).text()
    }

    pub fn exists(&self, key: &str) -> bool {
        self.cmd(&["EXISTS", key]) == Reply::Int(1)
    }

    /// `HGETALL key` as a map (lossy UTF-8 values); empty if the key does not exist.
    pub fn hgetall(&self, key: &str) -> BTreeMap<String, String> {
        let Reply::Array(items) = self.cmd(&["HGETALL", key]) else {
            panic!("HGETALL {key}: not an array");
        };
        items
            .chunks(2)
            .map(|pair| {
                (
                    pair[0].text().unwrap_or_default(),
                    pair.get(1).and_then(Reply::text).unwrap_or_default(),
                )
            })
            .collect()
    }

    /// `LRANGE key 0 -1` (lossy UTF-8).
    pub fn list(&self, key: &str) -> Vec<String> {
        match self.cmd(&["LRANGE", key, "0", "-1"]) {
            Reply::Array(items) => items.iter().filter_map(Reply::text).collect(),
            other => panic!("LRANGE {key}: {other:?}"),
        }
    }

    /// Every key with everything stored under it, whatever its type.
    pub fn dump(&self) -> Vec<StoredKey> {
        let Reply::Array(keys) = self.cmd(&["KEYS", "*"]) else {
            panic!("KEYS *: not an array");
        };
        let mut keys: Vec<String> = keys.iter().filter_map(Reply::text).collect();
        keys.sort();
        keys.into_iter()
            .map(|key| {
                let kind = self.cmd(&["TYPE", &key]).text().unwrap_or_default();
                let reply = match kind.as_str() {
                    "string" => self.cmd(&["GET", &key]),
                    "hash" => self.cmd(&["HGETALL", &key]),
                    "list" => self.cmd(&["LRANGE", &key, "0", "-1"]),
                    "set" => self.cmd(&["SMEMBERS", &key]),
                    "zset" => self.cmd(&["ZRANGE", &key, "0", "-1", "WITHSCORES"]),
                    "stream" => self.cmd(&["XRANGE", &key, "-", "+"]),
                    // Expired between KEYS and TYPE.
                    "none" => Reply::Nil,
                    other => panic!("key {key} has a type this dump does not read: {other}"),
                };
                StoredKey {
                    values: reply.leaves(),
                    key,
                    kind,
                }
            })
            .collect()
    }

    /// redis-server's output so far, every start (for failure messages).
    pub fn logs(&self) -> String {
        (0..self.starts)
            .map(|n| {
                let path = self.log_path(n);
                format!("==> {} <==\n{}\n", path.display(), read_lossy(&path))
            })
            .collect()
    }

    fn log_path(&self, n: usize) -> std::path::PathBuf {
        self.dir.path().join(format!("redis-{n}.log"))
    }

    /// Spawns on `self.port` and waits for PING; `Err(log)` if it exited or never answered.
    fn spawn_and_wait(&mut self) -> Result<(), String> {
        use std::os::unix::process::CommandExt;
        let log = self.log_path(self.starts);
        self.starts += 1;
        let out = File::create(&log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
        let err = out.try_clone().expect("clone log file handle");
        let port = self.port.to_string();
        let dir = self.dir.path().display().to_string();
        // One `--bind` with every address. Protected mode (no password: loopback clients
        // only) goes off for extra addresses; they are the test's own veths, not eth0.
        let binds = std::iter::once("127.0.0.1".to_string())
            .chain(self.extra_binds.iter().map(IpAddr::to_string))
            .collect::<Vec<_>>()
            .join(" ");
        let protected = if self.extra_binds.is_empty() {
            "yes"
        } else {
            "no"
        };
        let mut command = Command::new(REDIS_SERVER);
        if self.tls_ca.is_some() {
            let file = |name: &str| self.dir.path().join(name).display().to_string();
            command
                .args(["--port", "0", "--tls-port", &port])
                .args(["--tls-cert-file", &file("cert.pem")])
                .args(["--tls-key-file", &file("key.pem")])
                .args(["--tls-ca-cert-file", &file("ca.pem")])
                .args(["--tls-auth-clients", "no"]);
        } else {
            command.args(["--port", &port]);
        }
        let child = command
            .args(["--bind", &binds, "--dir", &dir])
            .args(["--protected-mode", protected])
            .args(["--appendonly", "yes", "--save", "", "--daemonize", "no"])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {REDIS_SERVER}: {e}"));
        self.child = Some(child);
        let ready = wait_for(START_LIMIT, || {
            let child = self.child.as_mut()?;
            if let Ok(Some(status)) = child.try_wait() {
                return Some(Err(format!("redis-server exited: {status}")));
            }
            // TLS: the port answering is enough (the test's RESP client speaks plain TCP).
            let up = match self.tls_ca {
                Some(_) => super::net::port_answers(self.port),
                None => matches!(self.try_cmd(&["PING"]), Ok(Reply::Status(ref s)) if s == "PONG"),
            };
            up.then_some(Ok(()))
        });
        let failure = match ready {
            Some(Ok(())) => return Ok(()),
            Some(Err(e)) => e,
            None => format!("no PONG after {START_LIMIT:?}"),
        };
        if let Some(mut child) = self.child.take() {
            kill_group(&mut child);
        }
        Err(format!("{failure}\n{}", read_lossy(&log)))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(&mut child);
        }
    }
}

fn read_reply(r: &mut impl BufRead) -> io::Result<Reply> {
    let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed before a reply",
        ));
    }
    let line = line.trim_end_matches("\r\n");
    let (kind, rest) = line.split_at(line.len().min(1));
    let number = || {
        rest.parse::<i64>()
            .map_err(|_| bad(format!("bad RESP line {line:?}")))
    };
    match kind {
        "+" => Ok(Reply::Status(rest.to_string())),
        "-" => Ok(Reply::Error(rest.to_string())),
        ":" => Ok(Reply::Int(number()?)),
        "$" => {
            let Ok(len) = usize::try_from(number()?) else {
                return Ok(Reply::Nil);
            };
            let mut body = vec![0; len + 2];
            r.read_exact(&mut body)?;
            body.truncate(len);
            Ok(Reply::Bulk(body))
        }
        "*" => {
            let Ok(len) = usize::try_from(number()?) else {
                return Ok(Reply::Nil);
            };
            (0..len)
                .map(|_| read_reply(r))
                .collect::<io::Result<Vec<_>>>()
                .map(Reply::Array)
        }
        _ => Err(bad(format!("bad RESP line {line:?}"))),
    }
}
