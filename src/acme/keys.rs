//! Certificate keys and CSRs. The private key PEM returned here is a secret: the caller
//! writes it 0600 and never logs it.

use std::net::IpAddr;

use rcgen::{CertificateParams, DistinguishedName, KeyPair, RsaKeySize};

use crate::error::AcmeError;
use crate::types::{Curve, DomainName, KeyType};

/// A fresh key and a CSR for `names` signed with it.
pub(crate) struct KeyAndCsr {
    pub private_key_pem: String,
    pub csr_der: Vec<u8>,
}

/// Generate a new key of `key_type`.
pub(crate) fn generate_key(key_type: KeyType) -> Result<KeyPair, AcmeError> {
    let result = match key_type {
        KeyType::Ecdsa { curve: Curve::P256 } => {
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        }
        KeyType::Ecdsa { curve: Curve::P384 } => {
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)
        }
        KeyType::Ecdsa { curve: Curve::P521 } => {
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512)
        }
        KeyType::Rsa { bits } => {
            let size = match bits {
                2048 => RsaKeySize::_2048,
                3072 => RsaKeySize::_3072,
                4096 => RsaKeySize::_4096,
                other => {
                    return Err(AcmeError::Protocol(format!(
                        "unsupported RSA key size {other}"
                    )))
                }
            };
            KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size)
        }
    };
    result.map_err(|e| AcmeError::Protocol(format!("key generation failed: {e}")))
}

/// Build a CSR for `names` and `ips` with `key` (subject left empty: the identifiers go in
/// the SAN, as the CA requires).
pub(crate) fn csr_for(
    names: &[DomainName],
    ips: &[IpAddr],
    key: &KeyPair,
) -> Result<Vec<u8>, AcmeError> {
    // rcgen makes an IP address SAN of every entry that parses as one.
    let sans: Vec<String> = names
        .iter()
        .map(|n| n.as_str().to_string())
        .chain(ips.iter().map(IpAddr::to_string))
        .collect();
    let mut params = CertificateParams::new(sans)
        .map_err(|e| AcmeError::Protocol(format!("cannot build CSR: {e}")))?;
    params.distinguished_name = DistinguishedName::new();
    let csr = params
        .serialize_request(key)
        .map_err(|e| AcmeError::Protocol(format!("cannot sign CSR: {e}")))?;
    Ok(csr.der().to_vec())
}

/// A new key plus CSR in one step.
pub(crate) fn new_key_and_csr(
    names: &[DomainName],
    ips: &[IpAddr],
    key_type: KeyType,
) -> Result<KeyAndCsr, AcmeError> {
    let key = generate_key(key_type)?;
    let csr_der = csr_for(names, ips, &key)?;
    Ok(KeyAndCsr {
        private_key_pem: key.serialize_pem(),
        csr_der,
    })
}

/// A CSR for an existing key (`--reuse-key`).
pub(crate) fn csr_for_existing_key(
    names: &[DomainName],
    ips: &[IpAddr],
    private_key_pem: &str,
) -> Result<Vec<u8>, AcmeError> {
    let key = KeyPair::from_pem(private_key_pem)
        .map_err(|e| AcmeError::Protocol(format!("the existing private key is unusable: {e}")))?;
    csr_for(names, ips, &key)
}

/// A CSR supplied by the user (`--csr`), with what the order needs from it.
#[derive(Debug, Clone)]
pub(crate) struct UserCsr {
    pub der: Vec<u8>,
    /// DNS names of the SAN extension, plus the subject CN if it is not among them.
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
    /// DER SubjectPublicKeyInfo, to check the issued leaf against.
    pub spki_der: Vec<u8>,
}

/// Read a CSR in PEM ("CERTIFICATE REQUEST") or DER form. Errors are for the user.
pub(crate) fn parse_csr(bytes: &[u8]) -> Result<UserCsr, String> {
    use rustls_pki_types::pem::PemObject;
    use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension};
    let der = if bytes.starts_with(b"-----") || bytes.iter().take(64).all(u8::is_ascii) {
        rustls_pki_types::CertificateSigningRequestDer::from_pem_slice(bytes)
            .map_err(|e| format!("not a PEM certificate request: {e}"))?
            .as_ref()
            .to_vec()
    } else {
        bytes.to_vec()
    };
    let (rest, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(&der)
        .map_err(|e| format!("not a certificate request: {e}"))?;
    if !rest.is_empty() {
        return Err("trailing data after the certificate request".into());
    }
    csr.verify_signature()
        .map_err(|e| format!("its signature does not verify: {e}"))?;
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    for ext in csr.requested_extensions().into_iter().flatten() {
        if let ParsedExtension::SubjectAlternativeName(san) = ext {
            for name in &san.general_names {
                match name {
                    GeneralName::DNSName(d) => dns_names.push(d.to_string()),
                    GeneralName::IPAddress(raw) => match raw.len() {
                        4 => ip_addresses
                            .push(IpAddr::from(<[u8; 4]>::try_from(*raw).unwrap_or_default())),
                        16 => ip_addresses
                            .push(IpAddr::from(<[u8; 16]>::try_from(*raw).unwrap_or_default())),
                        _ => return Err("it has a malformed IP address SAN".into()),
                    },
                    other => {
                        return Err(format!("it has a SAN certwright cannot request: {other}"))
                    }
                }
            }
        }
    }
    let info = &csr.certification_request_info;
    for cn in info.subject.iter_common_name() {
        let cn = cn
            .as_str()
            .map_err(|e| format!("its subject common name is unreadable: {e}"))?;
        if !dns_names.iter().any(|d| d.eq_ignore_ascii_case(cn)) && cn.parse::<IpAddr>().is_err() {
            dns_names.push(cn.to_string());
        }
    }
    if dns_names.is_empty() && ip_addresses.is_empty() {
        return Err("it names no domain or IP address".into());
    }
    Ok(UserCsr {
        spki_der: info.subject_pki.raw.to_vec(),
        der,
        dns_names,
        ip_addresses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_carries_all_names() {
        let names: Vec<DomainName> = vec![
            "a.example.com".parse().unwrap(),
            "b.example.com".parse().unwrap(),
        ];
        let out = new_key_and_csr(&names, &[], KeyType::default()).unwrap();
        assert!(out.private_key_pem.contains("PRIVATE KEY"));
        use x509_parser::prelude::FromDer;
        let (_, csr) =
            x509_parser::certification_request::X509CertificationRequest::from_der(&out.csr_der)
                .unwrap();
        let mut found = Vec::new();
        for ext in csr.requested_extensions().into_iter().flatten() {
            if let x509_parser::extensions::ParsedExtension::SubjectAlternativeName(san) = ext {
                for n in &san.general_names {
                    found.push(n.to_string());
                }
            }
        }
        assert_eq!(
            found,
            vec!["DNSName(a.example.com)", "DNSName(b.example.com)"]
        );
    }

    #[test]
    fn user_csr_is_read_in_pem_and_der() {
        let names: Vec<DomainName> = vec!["a.example.com".parse().unwrap()];
        let ips: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap()];
        let key = generate_key(KeyType::default()).unwrap();
        let der = csr_for(&names, &ips, &key).unwrap();
        let pem_text = crate_pem("CERTIFICATE REQUEST", &der);
        for input in [der.clone(), pem_text.into_bytes()] {
            let csr = parse_csr(&input).unwrap();
            assert_eq!(csr.der, der);
            assert_eq!(csr.dns_names, vec!["a.example.com"]);
            assert_eq!(csr.ip_addresses, ips);
            use rcgen::PublicKeyData;
            assert_eq!(csr.spki_der, key.subject_public_key_info());
        }
        assert!(parse_csr(b"hello").is_err());
        let mut broken = der.clone();
        let last = broken.len() - 1;
        broken[last] ^= 1;
        assert!(parse_csr(&broken).is_err());
    }

    fn crate_pem(label: &str, der: &[u8]) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n")
    }
}
