//! A real SMTP server per test: aiosmtpd (Debian `python3-aiosmtpd`) run by
//! tests/fixtures/smtp/server.py on a free port with TLS (STARTTLS or implicit) and one login.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tempfile::TempDir;

use super::pebble::kill_group;
use super::{free_port, net, read_lossy, wait_for};

/// Debian's interpreter, which has aiosmtpd (a `python3` earlier on PATH may not).
const PYTHON: &str = "/usr/bin/python3";
pub const USER: &str = "alerts@example.test";

/// A running SMTP server; killed on drop.
pub struct Smtp {
    dir: TempDir,
    child: Child,
    pub port: u16,
    /// PEM of the CA that signed the server's `localhost` certificate.
    pub ca_pem: String,
}

impl Smtp {
    /// `implicit`: TLS from the first byte; else STARTTLS (required). Login `USER`/`password`.
    pub fn start(implicit: bool, password: &str) -> Smtp {
        let dir = tempfile::tempdir().expect("SMTP temp dir");
        let (ca_pem, cert_pem, key_pem) = localhost_identity();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, cert_pem).expect("write SMTP cert");
        std::fs::write(&key, key_pem).expect("write SMTP key");
        std::fs::create_dir(dir.path().join("mail")).expect("mail dir");
        assert!(
            Command::new(PYTHON)
                .args(["-c", "import aiosmtpd"])
                .status()
                .is_ok_and(|s| s.success()),
            "{PYTHON} cannot import aiosmtpd: apt-get install python3-aiosmtpd"
        );
        let port = free_port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/smtp/server.py");
        let log = std::fs::File::create(dir.path().join("smtp.log")).expect("smtp.log");
        let mut child = Command::new(PYTHON)
            .arg(script)
            .arg(port.to_string())
            .arg(if implicit { "implicit" } else { "starttls" })
            .arg(&cert)
            .arg(&key)
            .arg(USER)
            .arg(dir.path().join("mail"))
            .stdin(Stdio::piped())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .expect("spawn aiosmtpd");
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{password}").expect("password to aiosmtpd");
        drop(stdin);
        let smtp = Smtp {
            dir,
            child,
            port,
            ca_pem,
        };
        let up = wait_for(Duration::from_secs(20), || {
            (smtp.log().contains("ready") && net::port_answers(port)).then_some(())
        });
        assert!(up.is_some(), "aiosmtpd did not start:\n{}", smtp.log());
        smtp
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("mail"))
            .expect("read mail dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension() == Some("eml".as_ref()))
            .collect();
        paths.sort();
        paths.iter().map(|p| read_lossy(p)).collect()
    }

    /// Mechanisms of failed logins, one per line.
    pub fn auth_failures(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mail/auth-failures")).unwrap_or_default()
    }

    pub fn log(&self) -> String {
        read_lossy(&self.dir.path().join("smtp.log"))
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        kill_group(&mut self.child);
    }
}

/// (CA PEM, `localhost` leaf PEM, leaf key PEM).
pub fn localhost_identity() -> (String, String, String) {
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "certwright test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("self-sign CA");
    let key = KeyPair::generate().expect("leaf key");
    let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("leaf params");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf = params.signed_by(&key, &ca).expect("sign leaf");
    (ca.pem(), leaf.pem(), key.serialize_pem())
}
