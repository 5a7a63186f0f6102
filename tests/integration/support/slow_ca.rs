//! A slow CA: a TLS proxy in front of Pebble's ACME API that shows every order as
//! `processing` (with `Retry-After: 1`) for `hold` seconds after Pebble first reports it
//! valid, as AWS Certificate Manager and Sectigo do for minutes. Pebble builds its URLs from
//! the request's Host, so forwarding it unchanged keeps the client on the proxy.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{free_port, wait_for, Pebble};

const PROXY: &str = r#"
import http.client, http.server, json, ssl, sys, threading, time
port, upstream, cert, key, ca, hold = sys.argv[1:7]
hold = float(hold)
first_valid, lock = {}, threading.Lock()
HOP = ("connection", "content-length", "transfer-encoding", "keep-alive")

class Relay(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def relay(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        ctx = ssl.create_default_context(cafile=ca)
        up = http.client.HTTPSConnection("localhost", int(upstream), context=ctx, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        up.request(self.command, self.path, body=body, headers=headers)
        rsp = up.getresponse()
        data = rsp.read()
        out = [(k, v) for k, v in rsp.getheaders() if k.lower() not in HOP]
        try:
            doc = json.loads(data)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and "finalize" in doc and doc.get("status") == "valid":
            with lock:
                since = first_valid.setdefault(self.path, time.monotonic())
            if time.monotonic() - since < hold:
                doc["status"] = "processing"
                doc.pop("certificate", None)
                data = json.dumps(doc).encode()
                out = [(k, v) for k, v in out if k.lower() != "retry-after"]
                out.append(("Retry-After", "1"))
                print("held", self.path, flush=True)
        self.send_response(rsp.status)
        for k, v in out:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_HEAD = relay

server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Relay)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(cert, key)
server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"#;

pub struct SlowCa {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl SlowCa {
    /// In front of `pebble`, holding each order `processing` for `hold`.
    pub fn start(pebble: &Pebble, hold: Duration) -> SlowCa {
        let dir = tempfile::tempdir().expect("proxy temp dir");
        let log = dir.path().join("proxy.log");
        let (upstream, cert, key) = pebble.api();
        let port = free_port();
        let out = std::fs::File::create(&log).expect("proxy log");
        let mut child = Command::new("python3")
            .args(["-c", PROXY, &port.to_string(), &upstream.to_string()])
            .args([&cert, &key, &pebble.ca_bundle_path()])
            .arg(hold.as_secs_f64().to_string())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log handle"))
            .stderr(out)
            .spawn()
            .expect("spawn python3 (the slow-CA proxy)");
        let up = wait_for(Duration::from_secs(20), || {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the slow-CA proxy exited ({status}):\n{}",
                    super::read_lossy(&log)
                );
            }
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        if up.is_none() {
            let _ = child.kill();
            panic!(
                "the slow-CA proxy never listened:\n{}",
                super::read_lossy(&log)
            );
        }
        SlowCa {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    /// The directory URL through the proxy.
    pub fn directory_url(&self) -> String {
        format!("https://localhost:{}/dir", self.port)
    }

    /// How many answers it turned into `processing`.
    pub fn held(&self) -> usize {
        super::read_lossy(&self.log)
            .lines()
            .filter(|l| l.starts_with("held "))
            .count()
    }
}

impl Drop for SlowCa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
