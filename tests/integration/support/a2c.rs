//! acme2certifier, the second ACME server implementation (PyPI, see
//! scripts/install-acme2certifier.sh): its WSGI app under wsgiref with sqlite and the OpenSSL
//! CA handler (a throwaway CA made with openssl), TLS in the same Python process.
//!
//! It validates HTTP-01 on port 80 only and resolves names with its own DNS servers, so each
//! instance gets a loopback address 127.0.0.N of its own and a pebble-challtestsrv on N:53
//! answering every name with N: parallel tests each bind their responder on N:80.

use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use super::{free_port, pip_venv, read_lossy, wait_for};

/// Loopback addresses handed out so far (127.0.0.160 and up).
static NEXT_ADDRESS: AtomicU8 = AtomicU8::new(160);

const SERVER: &str = r#"
import ssl, sys
from wsgiref.simple_server import make_server, WSGIRequestHandler
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
from acme2certifier.share import acme2certifier_wsgi as a2c

def app(environ, start_response):
    # TLS ends here, not at a proxy that would say so.
    environ["HTTP_X_FORWARDED_PROTO"] = "https"
    return a2c.application(environ, start_response)

class Handler(WSGIRequestHandler):
    def address_string(self):
        return self.client_address[0]

server = make_server("127.0.0.1", port, app, handler_class=Handler)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(cert, key)
server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"#;

pub struct A2c {
    server: Child,
    dns: Child,
    port: u16,
    address: Ipv4Addr,
    dir: tempfile::TempDir,
}

impl A2c {
    pub fn start() -> A2c {
        let venv = pip_venv("acme2certifier", "CERTWRIGHT_A2C_VENV");
        let dir = tempfile::Builder::new()
            .prefix("certwright-a2c-")
            .tempdir()
            .expect("a2c temp dir");
        let address = Ipv4Addr::new(127, 0, 0, NEXT_ADDRESS.fetch_add(1, Ordering::SeqCst));
        make_ca(dir.path());
        let port = free_port();
        std::fs::write(
            dir.path().join("acme_srv.cfg"),
            config(dir.path(), &venv, address),
        )
        .expect("write acme_srv.cfg");
        let dns_mgmt = free_port();
        let dns = spawn(
            Command::new("pebble-challtestsrv")
                .args([
                    "-dns01",
                    &format!("{address}:53"),
                    "-http01",
                    "",
                    "-https01",
                    "",
                ])
                .args(["-tlsalpn01", "", "-defaultIPv6", ""])
                .args(["-management", &format!("127.0.0.1:{dns_mgmt}")])
                .args(["-defaultIPv4", &address.to_string()]),
            &dir.path().join("dns.log"),
        );
        let server = spawn(
            Command::new(venv.join("bin/python3"))
                .args(["-c", SERVER, &port.to_string()])
                .args([dir.path().join("tls.crt"), dir.path().join("tls.key")])
                .env("ACME_SRV_CONFIGFILE", dir.path().join("acme_srv.cfg")),
            &dir.path().join("server.log"),
        );
        let mut a2c = A2c {
            server,
            dns,
            port,
            address,
            dir,
        };
        a2c.wait_ready(dns_mgmt);
        a2c
    }

    fn wait_ready(&mut self, dns_mgmt: u16) {
        let ready = wait_for(Duration::from_secs(60), || {
            for child in [&mut self.server, &mut self.dns] {
                if let Ok(Some(status)) = child.try_wait() {
                    return Some(Err(format!("exited with {status}")));
                }
            }
            let up = |port| TcpStream::connect(("127.0.0.1", port)).is_ok();
            (up(self.port) && up(dns_mgmt)).then_some(Ok(()))
        });
        if let Some(Ok(())) = ready {
            return;
        }
        panic!(
            "acme2certifier did not start ({ready:?}):\n{}\n--- dns ---\n{}",
            self.logs(),
            read_lossy(&self.dir.path().join("dns.log"))
        );
    }

    pub fn directory_url(&self) -> String {
        format!("https://localhost:{}/directory", self.port)
    }

    /// The CA that signs both its TLS certificate and the certificates it issues.
    pub fn ca_bundle_path(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// The loopback address its names resolve to (where HTTP-01 is answered, on port 80).
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    pub fn logs(&self) -> String {
        read_lossy(&self.dir.path().join("server.log"))
    }
}

impl Drop for A2c {
    fn drop(&mut self) {
        for child in [&mut self.server, &mut self.dns] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn(cmd: &mut Command, log: &Path) -> Child {
    let out = std::fs::File::create(log).expect("log file");
    cmd.stdin(Stdio::null())
        .stdout(out.try_clone().expect("log handle"))
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.get_program()))
}

/// A throwaway CA (ca.crt, ca.key) and a TLS certificate for localhost it signed.
fn make_ca(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=acme2certifier test CA",
        "-days",
        "30",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "tls.key",
        "-out",
        "tls.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("tls.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write tls.ext");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "tls.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "tls.crt",
        "-days",
        "30",
        "-extfile",
        "tls.ext",
    ]);
}

fn config(dir: &Path, venv: &Path, dns: Ipv4Addr) -> String {
    let handler = std::fs::read_dir(venv.join("lib"))
        .expect("venv lib")
        .filter_map(Result::ok)
        .map(|e| {
            e.path()
                .join("site-packages/acme2certifier/cahandlers/openssl_ca_handler.py")
        })
        .find(|p| p.exists())
        .expect("acme2certifier's openssl_ca_handler.py in the venv");
    let d = dir.display();
    std::fs::create_dir_all(dir.join("certs")).expect("certs dir");
    format!(
        "[DEFAULT]\ndebug: True\n\n[Nonce]\nnonce_check_disable: False\n\n\
         [Challenge]\ndns_server_list: [\"{dns}\"]\n\n\
         [CAhandler]\nhandler_file: {}\nissuing_ca_key: {d}/ca.key\nissuing_ca_cert: {d}/ca.crt\n\
         issuing_ca_crl: {d}/crl.pem\nca_cert_chain_list: [\"{d}/ca.crt\"]\n\
         cert_validity_days: 30\ncert_save_path: {d}/certs\n\n\
         [DBhandler]\ndbfile: {d}/a2c.db\n",
        handler.display()
    )
}
