//! Reading certificates and keys back: expiry, names, serial, whether key and leaf match.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};

/// What `certificates`, renewal decisions and post-issuance checks need from a cert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertInfo {
    pub domains: Vec<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// Lowercase hex, no separators.
    pub serial: String,
    /// e.g. "ECDSA secp256r1", "RSA 2048"
    pub key_type: String,
    /// DER SubjectPublicKeyInfo of the leaf.
    pub spki_der: Vec<u8>,
    /// DER of the issuer's authority key identifier and serial, for ARI.
    pub authority_key_id: Option<Vec<u8>>,
    pub serial_der: Vec<u8>,
    pub chain_len: usize,
}

/// Whether `key_pem` is the private key of the certificate described by `info`.
pub(crate) fn key_matches(key_pem: &str, info: &CertInfo) -> bool {
    private_key_spki(key_pem).is_ok_and(|spki| spki == info.spki_der)
}

/// Split a PEM bundle into DER certificates, leaf first.
pub(crate) fn split_pem_chain(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("not a PEM certificate chain: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate found in PEM data".into());
    }
    Ok(certs.into_iter().map(|c| c.as_ref().to_vec()).collect())
}

/// Encode DER as a PEM block with 64-column lines.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Parse the leaf of a PEM chain.
pub(crate) fn inspect_chain(pem: &[u8]) -> Result<CertInfo, String> {
    let chain = split_pem_chain(pem)?;
    let (_, cert) =
        X509Certificate::from_der(&chain[0]).map_err(|e| format!("unparsable certificate: {e}"))?;
    let mut domains = Vec::new();
    let mut authority_key_id = None;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => {
                for name in &san.general_names {
                    match name {
                        GeneralName::DNSName(d) => domains.push(d.to_string()),
                        GeneralName::IPAddress(ip) => domains.push(ip_to_string(ip)),
                        _ => {}
                    }
                }
            }
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                authority_key_id = aki.key_identifier.as_ref().map(|k| k.0.to_vec());
            }
            _ => {}
        }
    }
    let not_before = cert.validity().not_before.to_datetime();
    let not_after = cert.validity().not_after.to_datetime();
    let spki = cert.public_key();
    let key_type = describe_key(spki);
    Ok(CertInfo {
        domains,
        not_before,
        not_after,
        serial: serial_hex(cert.raw_serial()),
        key_type,
        spki_der: spki.raw.to_vec(),
        authority_key_id,
        serial_der: cert.raw_serial().to_vec(),
        chain_len: chain.len(),
    })
}

/// The serial as an integer in lowercase hex without leading zeros, as certbot and Pebble
/// print it (DER adds a 0x00 byte when the high bit is set; that is encoding, not value).
pub(crate) fn serial_hex(raw: &[u8]) -> String {
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.into()
    }
}

fn ip_to_string(raw: &[u8]) -> String {
    match raw.len() {
        4 => std::net::Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]).to_string(),
        16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(raw);
            std::net::Ipv6Addr::from(b).to_string()
        }
        _ => "?".into(),
    }
}

fn describe_key(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> String {
    use x509_parser::public_key::PublicKey;
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| match oid.to_id_string().as_str() {
                    "1.2.840.10045.3.1.7" => "secp256r1".to_string(),
                    "1.3.132.0.34" => "secp384r1".to_string(),
                    "1.3.132.0.35" => "secp521r1".to_string(),
                    other => other.to_string(),
                })
                .unwrap_or_else(|| "unknown curve".into());
            format!("ECDSA {curve}")
        }
        _ => "unknown".into(),
    }
}

/// DER SubjectPublicKeyInfo of a PEM private key, to check it matches a leaf.
/// The issuer common name of the topmost certificate of a chain (certbot's
/// `--preferred-chain` match).
pub(crate) fn top_issuer_cn(pem: &[u8]) -> Option<String> {
    let chain = split_pem_chain(pem).ok()?;
    let (_, top) = X509Certificate::from_der(chain.last()?).ok()?;
    let cn = top
        .issuer()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_string();
    Some(cn)
}

pub(crate) fn private_key_spki(privkey_pem: &str) -> Result<Vec<u8>, String> {
    let key = rcgen::KeyPair::from_pem(privkey_pem)
        .map_err(|e| format!("unreadable private key: {e}"))?;
    use rcgen::PublicKeyData;
    Ok(key.subject_public_key_info())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_print_as_integers() {
        assert_eq!(serial_hex(&[0x00, 0x87, 0x65]), "8765");
        assert_eq!(serial_hex(&[0x0a, 0x01]), "a01");
        assert_eq!(serial_hex(&[0x00]), "0");
    }

    #[test]
    fn inspects_a_generated_cert() {
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(vec!["a.example.com".into(), "b.example.com".into()])
                .unwrap();
        let cert = params.self_signed(&key).unwrap();
        let info = inspect_chain(cert.pem().as_bytes()).unwrap();
        assert_eq!(info.domains, vec!["a.example.com", "b.example.com"]);
        assert_eq!(info.key_type, "ECDSA secp256r1");
        assert_eq!(
            private_key_spki(&key.serialize_pem()).unwrap(),
            info.spki_der
        );
        let other = rcgen::KeyPair::generate().unwrap();
        assert_ne!(
            private_key_spki(&other.serialize_pem()).unwrap(),
            info.spki_der
        );
        let reencoded = pem_encode("CERTIFICATE", cert.der());
        assert_eq!(
            split_pem_chain(reencoded.as_bytes()).unwrap()[0],
            cert.der().to_vec()
        );
        assert!(inspect_chain(b"garbage").is_err());
    }
}
