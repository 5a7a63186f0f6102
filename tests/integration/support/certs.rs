//! Checks on issued files, with parsers rather than string matching: x509-parser for
//! certificates, rcgen for private keys, `openssl verify` for the chain.

use std::path::{Path, PathBuf};
use std::process::Command;

use x509_parser::pem::Pem;
use x509_parser::prelude::*;

use super::{files_below, mode};

/// The four files of one lineage version (`live/<name>/` or `archive/<name>/<n>/`).
#[derive(Debug, Clone)]
pub struct Lineage {
    pub dir: PathBuf,
}

impl Lineage {
    pub fn at(dir: impl Into<PathBuf>) -> Lineage {
        Lineage { dir: dir.into() }
    }

    pub fn cert_path(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }
    pub fn chain_path(&self) -> PathBuf {
        self.dir.join("chain.pem")
    }
    pub fn fullchain_path(&self) -> PathBuf {
        self.dir.join("fullchain.pem")
    }
    pub fn privkey_path(&self) -> PathBuf {
        self.dir.join("privkey.pem")
    }

    pub fn cert_pem(&self) -> String {
        read(&self.cert_path())
    }
    pub fn chain_pem(&self) -> String {
        read(&self.chain_path())
    }
    pub fn fullchain_pem(&self) -> String {
        read(&self.fullchain_path())
    }
    pub fn privkey_pem(&self) -> String {
        read(&self.privkey_path())
    }

    /// The leaf in `cert.pem`.
    pub fn leaf(&self) -> LeafInfo {
        LeafInfo::from_pem(&self.cert_pem())
    }

    /// SANs == `names` (order ignored), private key matches leaf, cert.pem holds exactly one
    /// certificate, fullchain = cert + chain, and the chain verifies to `root_pem_path`.
    pub fn assert_valid_for(&self, names: &[&str], root_pem_path: &Path) {
        let leaf = self.leaf();
        let mut want: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        want.sort();
        assert_eq!(
            leaf.dns_names,
            want,
            "SANs of {}",
            self.cert_path().display()
        );
        assert!(
            leaf.ip_sans == 0,
            "{} unexpectedly has IP SANs",
            self.cert_path().display()
        );
        assert_eq!(
            pem_blocks(&self.cert_pem(), "CERTIFICATE").len(),
            1,
            "cert.pem must hold only the leaf"
        );
        let chain = pem_blocks(&self.chain_pem(), "CERTIFICATE");
        assert!(!chain.is_empty(), "chain.pem holds no certificate");
        let mut expected_full = pem_blocks(&self.cert_pem(), "CERTIFICATE");
        expected_full.extend(chain);
        assert_eq!(
            pem_blocks(&self.fullchain_pem(), "CERTIFICATE"),
            expected_full,
            "fullchain.pem must be cert.pem followed by chain.pem"
        );
        self.assert_key_matches();
        if let Err(e) = self.verify_chain(root_pem_path) {
            panic!("{e}");
        }
    }

    /// The SubjectPublicKeyInfo of privkey.pem equals the leaf's.
    pub fn assert_key_matches(&self) {
        assert!(
            self.key_matches(),
            "{} does not belong to the leaf in {}",
            self.privkey_path().display(),
            self.cert_path().display()
        );
    }

    pub fn key_matches(&self) -> bool {
        spki_of_private_key(&self.privkey_pem()) == self.leaf().spki_der
    }

    /// `openssl verify -CAfile root -untrusted chain.pem cert.pem`; Err carries its output.
    pub fn verify_chain(&self, root_pem_path: &Path) -> Result<(), String> {
        let out = Command::new("openssl")
            .arg("verify")
            .arg("-CAfile")
            .arg(root_pem_path)
            .arg("-untrusted")
            .arg(self.chain_path())
            .arg(self.cert_path())
            .output()
            .unwrap_or_else(|e| panic!("run openssl: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && stdout.trim_end().ends_with(": OK") {
            Ok(())
        } else {
            Err(format!(
                "openssl verify failed for {} ({}):\n{stdout}{}",
                self.cert_path().display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Key type of privkey.pem (parsed from the key itself, not from the certificate).
    pub fn private_key_kind(&self) -> KeyKind {
        KeyKind::of_spki(&spki_of_private_key(&self.privkey_pem()))
    }
}

/// What the tests need to know about a leaf certificate.
#[derive(Debug, Clone)]
pub struct LeafInfo {
    /// dNSName SANs, lowercased and sorted.
    pub dns_names: Vec<String>,
    pub ip_sans: usize,
    /// Serial as lowercase hex without leading zeros (Pebble's management API form).
    pub serial_hex: String,
    /// notAfter as seconds since the Unix epoch.
    pub not_after_unix: i64,
    pub spki_der: Vec<u8>,
    pub key_kind: KeyKind,
}

impl LeafInfo {
    /// Parses the first certificate in `pem`.
    pub fn from_pem(pem: &str) -> LeafInfo {
        let der = pem_blocks(pem, "CERTIFICATE")
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no CERTIFICATE block in:\n{pem}"));
        let (_, cert) = X509Certificate::from_der(&der)
            .unwrap_or_else(|e| panic!("leaf does not parse as X.509: {e}"));
        let mut dns_names = Vec::new();
        let mut ip_sans = 0;
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::DNSName(n) => dns_names.push(n.to_ascii_lowercase()),
                    GeneralName::IPAddress(_) => ip_sans += 1,
                    _ => {}
                }
            }
        }
        dns_names.sort();
        LeafInfo {
            dns_names,
            ip_sans,
            serial_hex: cert.tbs_certificate.serial.to_str_radix(16),
            not_after_unix: cert.validity().not_after.timestamp(),
            spki_der: cert.public_key().raw.to_vec(),
            key_kind: KeyKind::of_spki(cert.public_key().raw),
        }
    }

    /// notAfter as an `OffsetDateTime`.
    pub fn not_after(&self) -> ::time::OffsetDateTime {
        ::time::OffsetDateTime::from_unix_timestamp(self.not_after_unix).expect("notAfter in range")
    }
}

/// A public key's algorithm and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    /// Curve by name: "secp256r1", "secp384r1", or the OID if another.
    Ecdsa(String),
    Rsa(usize),
    Other(String),
}

impl KeyKind {
    pub fn of_spki(der: &[u8]) -> KeyKind {
        let (_, spki) = SubjectPublicKeyInfo::from_der(der)
            .unwrap_or_else(|e| panic!("SubjectPublicKeyInfo does not parse: {e}"));
        match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => KeyKind::Rsa(rsa.key_size()),
            Ok(x509_parser::public_key::PublicKey::EC(_)) => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|oid| oid.to_id_string())
                    .unwrap_or_default();
                KeyKind::Ecdsa(
                    match curve.as_str() {
                        "1.2.840.10045.3.1.7" => "secp256r1",
                        "1.3.132.0.34" => "secp384r1",
                        "1.3.132.0.35" => "secp521r1",
                        other => other,
                    }
                    .to_string(),
                )
            }
            _ => KeyKind::Other(spki.algorithm.algorithm.to_id_string()),
        }
    }
}

/// SubjectPublicKeyInfo DER of a PEM private key (PKCS#8, SEC1 or PKCS#1), via rcgen.
pub fn spki_of_private_key(pem: &str) -> Vec<u8> {
    use rcgen::PublicKeyData;
    rcgen::KeyPair::from_pem(pem)
        .unwrap_or_else(|e| panic!("private key does not parse: {e}"))
        .subject_public_key_info()
}

/// DER contents of every PEM block with this label, in order.
pub fn pem_blocks(pem: &str, label: &str) -> Vec<Vec<u8>> {
    Pem::iter_from_buffer(pem.as_bytes())
        .map(|p| p.unwrap_or_else(|e| panic!("bad PEM: {e}")))
        .filter(|p| p.label == label)
        .map(|p| p.contents)
        .collect()
}

/// Ages `live` to a 90-day certificate with 10 days left: due by the 1/3-of-lifetime rule.
pub fn make_due(live: &Path) {
    age_lineage(live, 90, 10);
}

/// Replaces the certificate of the lineage at `live` (a `live/<name>` dir) with one for the
/// same key and names, issued `lifetime_days - days_left` days ago by a throwaway CA and
/// expiring in `days_left` days: the files still match, so renewal rules see an old
/// certificate (see tests/integration/renew.rs). Writes through the link into the archive.
pub fn age_lineage(live: &Path, lifetime_days: i64, days_left: i64) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let live = Lineage::at(live);
    let key = KeyPair::from_pem(&live.privkey_pem()).expect("lineage key parses");
    let names = live.leaf().dns_names;
    let mut params = CertificateParams::new(names).expect("leaf params");
    let now = ::time::OffsetDateTime::now_utc();
    params.not_before = now - ::time::Duration::days(lifetime_days - days_left);
    params.not_after = now + ::time::Duration::days(days_left);
    // As every public CA's certificate: renewals of it then carry ARI's `replaces`.
    params.use_authority_key_identifier_extension = true;
    let mut ca_params = CertificateParams::default();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "certwright test: an older CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("self-sign CA");
    let leaf = params.signed_by(&key, &ca).expect("sign aged leaf");
    std::fs::write(live.cert_path(), leaf.pem()).expect("write aged cert.pem");
    std::fs::write(live.chain_path(), ca.pem()).expect("write aged chain.pem");
    std::fs::write(live.fullchain_path(), leaf.pem() + &ca.pem())
        .expect("write aged fullchain.pem");
}

/// Asserts the mode bits of `path` (not following symlinks).
pub fn assert_mode(path: &Path, want: u32) {
    let got = mode(path);
    assert_eq!(
        got,
        want,
        "mode of {}: got {got:04o}, want {want:04o}",
        path.display()
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "read {}: {e} (its directory holds: {:?})",
            path.display(),
            files_below(path.parent().unwrap_or(path))
        )
    })
}
