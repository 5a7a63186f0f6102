//! Proof that a server serves the deployed certificate: connect to `ADDR:PORT` with SNI for
//! a name, take the leaf it presents and compare it byte for byte with the expected DER.
//!
//! The chain is not validated (we compare leaves; a Pebble or private CA leaf is fine), but
//! the handshake signature is, so the server holds the leaf's key. After a reload nginx's old
//! workers keep serving the old certificate on open connections for a while, so [`verify`]
//! retries a mismatch until a deadline.
//!
//! Public API: [`Probe`] (`addr`, `name`), [`fetch_leaf`] (blocking, one handshake),
//! [`verify(&[Probe], expected_der, RetryOpts) -> Vec<ProbeResult>`](verify) (async),
//! [`Outcome`] (`Match`, `Mismatch { served_sha256 }`, `Unreachable(String)`),
//! [`sha256_hex`].

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::Serialize;
use sha2::Digest;

/// One TLS endpoint and the name sent as SNI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub addr: SocketAddr,
    /// A host name sent as SNI; never a wildcard (the caller picks a host name it covers).
    pub name: String,
}

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    Match,
    /// Another leaf was served (its SHA-256, hex).
    Mismatch {
        served_sha256: String,
    },
    /// No TLS handshake (refused, timed out, no certificate for that SNI...).
    Unreachable {
        error: String,
    },
    /// The expected leaf was served, but it does not cover the name probed (the caller
    /// knows which names it covers; [`verify`] never gives this).
    NotCovered,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeResult {
    #[serde(flatten)]
    pub probe: Probe,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Handshakes made (more than 1 when old workers were still draining).
    pub attempts: u32,
}

/// How long to keep retrying a probe that does not match yet.
#[derive(Debug, Clone, Copy)]
pub struct RetryOpts {
    /// Give up after this long (a few seconds: nginx's old workers finish their requests).
    pub deadline: Duration,
    pub interval: Duration,
    /// Per handshake.
    pub connect_timeout: Duration,
}

impl Default for RetryOpts {
    fn default() -> Self {
        RetryOpts {
            deadline: Duration::from_secs(5),
            interval: Duration::from_millis(250),
            connect_timeout: Duration::from_secs(3),
        }
    }
}

/// Probes every endpoint (in parallel), retrying each until it matches or the deadline passes.
pub async fn verify(probes: &[Probe], expected_der: &[u8], opts: RetryOpts) -> Vec<ProbeResult> {
    let expected = Arc::new(expected_der.to_vec());
    let tasks = probes.iter().cloned().map(|probe| {
        let expected = Arc::clone(&expected);
        async move { verify_one(probe, &expected, opts).await }
    });
    futures_util::future::join_all(tasks).await
}

async fn verify_one(probe: Probe, expected: &[u8], opts: RetryOpts) -> ProbeResult {
    let started = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (addr, name, timeout) = (probe.addr, probe.name.clone(), opts.connect_timeout);
        let fetched = tokio::task::spawn_blocking(move || fetch_leaf(addr, &name, timeout))
            .await
            .unwrap_or_else(|e| Err(io::Error::other(e.to_string())));
        let outcome = match fetched {
            Ok(leaf) if leaf == expected => Outcome::Match,
            Ok(leaf) => Outcome::Mismatch {
                served_sha256: sha256_hex(&leaf),
            },
            Err(e) => Outcome::Unreachable {
                error: e.to_string(),
            },
        };
        if outcome == Outcome::Match || started.elapsed() + opts.interval >= opts.deadline {
            return ProbeResult {
                probe,
                outcome,
                attempts,
            };
        }
        tokio::time::sleep(opts.interval).await;
    }
}

/// One TLS handshake to `addr` with SNI `name`; the DER of the leaf the server presented.
pub fn fetch_leaf(addr: SocketAddr, name: &str, timeout: Duration) -> io::Result<Vec<u8>> {
    let invalid =
        |why: String| io::Error::new(io::ErrorKind::InvalidInput, format!("{name:?}: {why}"));
    // rustls would send `*.example.com` as it is; no server routes such a name.
    if name.contains('*') {
        return Err(invalid(
            "a wildcard is not a host name to send as SNI".into(),
        ));
    }
    let server_name = ServerName::try_from(name.to_string()).map_err(|e| invalid(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyLeaf(provider)))
        .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), server_name).map_err(io::Error::other)?;
    let mut sock = TcpStream::connect_timeout(&addr, timeout)?;
    sock.set_read_timeout(Some(timeout))?;
    sock.set_write_timeout(Some(timeout))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock)?;
    }
    let leaf = conn
        .peer_certificates()
        .and_then(|certs| certs.first())
        .ok_or_else(|| io::Error::other("the server presented no certificate"))?;
    Ok(leaf.to_vec())
}

/// Lower-case hex SHA-256 of `der` (how a served leaf is named in reports).
pub fn sha256_hex(der: &[u8]) -> String {
    sha2::Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Accepts any certificate chain but still checks the handshake signature against the leaf.
#[derive(Debug)]
struct AnyLeaf(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyLeaf {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_is_never_sent_as_sni() {
        // Port 1 on loopback: the error must come before any connection attempt.
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let err = fetch_leaf(addr, "*.example.com", Duration::from_millis(100)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains("wildcard"), "{err}");
    }
}
