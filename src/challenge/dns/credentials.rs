//! certbot's `--dns-rfc2136-credentials` INI file: read only if no group or other user can
//! access it, parsed into a config whose secret never prints.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use base64::Engine;

use super::secret::Secret;
use crate::error::DnsError;

/// What is wrong in a credentials file: the line or the key, never a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsError {
    #[error("line {0}: expected `key = value`")]
    NotKeyValue(usize),
    #[error("line {line}: {key} is set twice")]
    SetTwice { line: usize, key: String },
    #[error("{0} is missing")]
    Missing(String),
    #[error("dns_rfc2136_server must be an IP address (as in certbot)")]
    ServerNotIp,
    #[error("dns_rfc2136_port {0:?} is not a port number")]
    Port(String),
    #[error("dns_rfc2136_name {0:?} is not a DNS name")]
    KeyName(String),
    // The value is never echoed: it may be a real key with one typo.
    #[error("dns_rfc2136_secret is not valid base64")]
    SecretNotBase64,
    #[error(
        "dns_rfc2136_algorithm {name}{} is not supported: use HMAC-SHA256, HMAC-SHA384 or HMAC-SHA512",
        unset_note(.unset)
    )]
    Algorithm { name: String, unset: bool },
    #[error("{key} {value:?} is not true or false")]
    NotBool { key: String, value: String },
    #[error(
        "the global API key (dns_cloudflare_email + dns_cloudflare_api_key) is not supported: \
         create an API token with Zone:DNS:Edit and set dns_cloudflare_api_token"
    )]
    CloudflareGlobalKey,
    #[error("{key} is missing ({provider} needs {needs})")]
    MissingFor {
        key: String,
        provider: &'static str,
        needs: String,
    },
    #[error("{key} is not a {provider} setting (known: {known})")]
    Unknown {
        key: String,
        provider: &'static str,
        known: String,
    },
}

/// Said of an algorithm the file does not set (certbot then uses HMAC-MD5).
fn unset_note(unset: &bool) -> &'static str {
    if *unset {
        " (certbot's default when unset)"
    } else {
        ""
    }
}

/// TSIG algorithms hickory signs with (certbot's HMAC-MD5 default is not among them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsigAlgorithm {
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

/// The settings of certbot's RFC 2136 plugin.
#[derive(Debug, Clone)]
pub struct Rfc2136Config {
    /// The primary server that takes the updates (`dns_rfc2136_server`, `_port`).
    pub server: SocketAddr,
    /// TSIG key name, e.g. `keyname.` (`dns_rfc2136_name`).
    pub key_name: String,
    /// Base64 TSIG secret (`dns_rfc2136_secret`), checked to decode.
    pub secret: Secret,
    pub algorithm: TsigAlgorithm,
    /// Sign the SOA/CNAME lookups too (`dns_rfc2136_sign_query`), for servers that refuse
    /// unsigned queries.
    pub sign_query: bool,
}

impl Rfc2136Config {
    /// Reads and checks a credentials file; refuses one readable by group or others.
    pub fn from_file(path: &Path) -> Result<Rfc2136Config, DnsError> {
        let text = read_private_file(path)?;
        Rfc2136Config::parse(&text).map_err(|e| DnsError::Credentials {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    /// Parses the INI text (`key = value` lines, `#`/`;` comments, optional quotes).
    pub fn parse(text: &str) -> Result<Rfc2136Config, CredentialsError> {
        let keys = parse_ini(text)?;
        let get = |key: &str| keys.get(key).map(String::as_str);
        let required = |key: &str| {
            get(key)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| CredentialsError::Missing(key.to_string()))
        };
        let ip: IpAddr = required("dns_rfc2136_server")?
            .parse()
            .map_err(|_| CredentialsError::ServerNotIp)?;
        let port = match get("dns_rfc2136_port") {
            None | Some("") => 53,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| CredentialsError::Port(p.to_string()))?,
        };
        let key_name = required("dns_rfc2136_name")?.to_string();
        hickory_proto::rr::Name::from_ascii(&key_name)
            .map_err(|_| CredentialsError::KeyName(key_name.clone()))?;
        let secret = required("dns_rfc2136_secret")?;
        base64::engine::general_purpose::STANDARD
            .decode(secret)
            .map_err(|_| CredentialsError::SecretNotBase64)?;
        Ok(Rfc2136Config {
            server: SocketAddr::new(ip, port),
            key_name,
            secret: Secret::new(secret),
            algorithm: parse_algorithm(get("dns_rfc2136_algorithm"))?,
            sign_query: parse_bool("dns_rfc2136_sign_query", get("dns_rfc2136_sign_query"))?,
        })
    }

    /// The decoded TSIG key bytes.
    pub(crate) fn key_bytes(&self) -> Result<Vec<u8>, DnsError> {
        base64::engine::general_purpose::STANDARD
            .decode(self.secret.expose())
            .map_err(|_| DnsError::Other("the TSIG secret is not valid base64".into()))
    }
}

/// Reads a file holding secrets through `safe::file`: a regular file (no symlink, no
/// FIFO) owned by this user or root that no group or other user can access.
pub fn read_private_file(path: &Path) -> Result<String, DnsError> {
    crate::safe::file::read_required(path, crate::safe::file::Policy::SECRET).map_err(|e| {
        DnsError::Credentials {
            path: PathBuf::from(path),
            reason: e.to_string(),
        }
    })
}

/// `key = value` pairs; a repeated key is an error (which one wins would be a guess).
pub(super) fn parse_ini(text: &str) -> Result<BTreeMap<String, String>, CredentialsError> {
    let mut out = BTreeMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(CredentialsError::NotKeyValue(n + 1));
        };
        let key = key.trim().to_string();
        let value = unquote(value.trim()).to_string();
        if out.contains_key(&key) {
            return Err(CredentialsError::SetTwice { line: n + 1, key });
        }
        out.insert(key, value);
    }
    Ok(out)
}

fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

fn parse_algorithm(value: Option<&str>) -> Result<TsigAlgorithm, CredentialsError> {
    let name = value.unwrap_or("HMAC-MD5").to_ascii_uppercase();
    match name.trim_end_matches('.') {
        "HMAC-SHA256" => Ok(TsigAlgorithm::HmacSha256),
        "HMAC-SHA384" => Ok(TsigAlgorithm::HmacSha384),
        "HMAC-SHA512" => Ok(TsigAlgorithm::HmacSha512),
        other => Err(CredentialsError::Algorithm {
            name: other.to_string(),
            unset: value.is_none(),
        }),
    }
}

fn parse_bool(key: &str, value: Option<&str>) -> Result<bool, CredentialsError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("") | Some("false") | Some("no") | Some("off") | Some("0") => Ok(false),
        Some("true") | Some("yes") | Some("on") | Some("1") => Ok(true),
        Some(other) => Err(CredentialsError::NotBool {
            key: key.to_string(),
            value: other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# comment\n\
        dns_rfc2136_server = 192.0.2.1\n\
        dns_rfc2136_port = 5353\n\
        dns_rfc2136_name = certbot.\n\
        dns_rfc2136_secret = \"c2VjcmV0c2VjcmV0\"\n\
        dns_rfc2136_algorithm = hmac-sha512\n\
        dns_rfc2136_sign_query = true\n";

    #[test]
    fn parses_certbots_keys() {
        let c = Rfc2136Config::parse(GOOD).expect("parse");
        assert_eq!(c.server, "192.0.2.1:5353".parse().expect("addr"));
        assert_eq!(c.key_name, "certbot.");
        assert_eq!(c.secret.expose(), "c2VjcmV0c2VjcmV0");
        assert_eq!(c.algorithm, TsigAlgorithm::HmacSha512);
        assert!(c.sign_query);
        assert!(!format!("{c:?}").contains("c2VjcmV0"), "{c:?}");
    }

    #[test]
    fn defaults_port_53_and_refuses_certbots_md5_default() {
        let text = GOOD
            .replace("dns_rfc2136_port = 5353\n", "")
            .replace("dns_rfc2136_algorithm = hmac-sha512\n", "");
        let err = Rfc2136Config::parse(&text).expect_err("md5").to_string();
        assert!(
            err.contains("HMAC-MD5") && err.contains("HMAC-SHA256"),
            "{err}"
        );
        let c = Rfc2136Config::parse(&format!("{text}dns_rfc2136_algorithm=HMAC-SHA256\n"))
            .expect("parse");
        assert_eq!(c.server.port(), 53);
    }

    #[test]
    fn bad_values_are_named_but_the_secret_is_not_echoed() {
        let bad_secret = GOOD.replace("c2VjcmV0c2VjcmV0", "not*base64");
        let err = Rfc2136Config::parse(&bad_secret)
            .expect_err("secret")
            .to_string();
        assert!(err.contains("dns_rfc2136_secret") && !err.contains("not*base64"));
        for (from, to, key) in [
            ("192.0.2.1", "ns1.example.com", "dns_rfc2136_server"),
            ("5353", "99999", "dns_rfc2136_port"),
            ("= true", "= maybe", "dns_rfc2136_sign_query"),
            ("dns_rfc2136_name = certbot.\n", "", "dns_rfc2136_name"),
        ] {
            let err = Rfc2136Config::parse(&GOOD.replace(from, to))
                .expect_err(key)
                .to_string();
            assert!(err.contains(key), "{err}");
        }
        assert!(parse_ini("a = 1\na = 2\n")
            .expect_err("twice")
            .to_string()
            .contains("twice"));
    }

    #[test]
    fn a_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.ini");
        std::fs::write(&path, GOOD).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = Rfc2136Config::from_file(&path)
            .expect_err("0644")
            .to_string();
        assert!(err.contains("0644") && err.contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        Rfc2136Config::from_file(&path).expect("0600 is fine");
    }
}
