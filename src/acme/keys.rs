//! Certificate keys and CSRs. The private key PEM returned here is a secret: the caller
//! writes it 0600 and never logs it.

use rcgen::{CertificateParams, DistinguishedName, KeyPair, RsaKeySize};

use crate::error::AcmeError;
use crate::types::{Curve, DomainName, KeyType};

/// A fresh key and a CSR for `names` signed with it.
pub struct KeyAndCsr {
    pub private_key_pem: String,
    pub csr_der: Vec<u8>,
}

/// Generate a new key of `key_type`.
pub fn generate_key(key_type: KeyType) -> Result<KeyPair, AcmeError> {
    let result = match key_type {
        KeyType::Ecdsa { curve: Curve::P256 } => {
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        }
        KeyType::Ecdsa { curve: Curve::P384 } => {
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)
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

/// Build a CSR for `names` with `key` (subject left empty: the names go in the SAN, as the
/// CA requires).
pub fn csr_for(names: &[DomainName], key: &KeyPair) -> Result<Vec<u8>, AcmeError> {
    let sans: Vec<String> = names.iter().map(|n| n.as_str().to_string()).collect();
    let mut params = CertificateParams::new(sans)
        .map_err(|e| AcmeError::Protocol(format!("cannot build CSR: {e}")))?;
    params.distinguished_name = DistinguishedName::new();
    let csr = params
        .serialize_request(key)
        .map_err(|e| AcmeError::Protocol(format!("cannot sign CSR: {e}")))?;
    Ok(csr.der().to_vec())
}

/// A new key plus CSR in one step.
pub fn new_key_and_csr(names: &[DomainName], key_type: KeyType) -> Result<KeyAndCsr, AcmeError> {
    let key = generate_key(key_type)?;
    let csr_der = csr_for(names, &key)?;
    Ok(KeyAndCsr {
        private_key_pem: key.serialize_pem(),
        csr_der,
    })
}

/// A CSR for an existing key (`--reuse-key`).
pub fn csr_for_existing_key(
    names: &[DomainName],
    private_key_pem: &str,
) -> Result<Vec<u8>, AcmeError> {
    let key = KeyPair::from_pem(private_key_pem)
        .map_err(|e| AcmeError::Protocol(format!("the existing private key is unusable: {e}")))?;
    csr_for(names, &key)
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
        let out = new_key_and_csr(&names, KeyType::default()).unwrap();
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
}
