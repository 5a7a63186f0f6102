//! Per-lineage renewal config (`renewal/<name>.json`): everything a later `renew` needs to
//! repeat the issuance without flags. Parsed strictly into newtypes, so a hand-edited file
//! with a bad value fails with its path and the reason (exit 3), never mid-renewal.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::types::{CertName, DomainName, KeyType, ServerUrl};

pub const RENEWAL_SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenewalConfig {
    /// Format version of this file.
    pub schema: u32,
    pub cert_name: CertName,
    pub domains: Vec<DomainName>,
    pub server: ServerUrl,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<PathBuf>,
    /// Directory name of the account under `accounts/<server>/`.
    pub account: String,
    pub key_type: KeyType,
    pub authenticator: Authenticator,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installer: Option<Installer>,
    /// Renew this long before expiry instead of at 1/3 of the lifetime left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_before_expiry_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Authenticator {
    Standalone {
        http_01_port: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        http_01_address: Option<IpAddr>,
    },
    Webroot {
        /// Per domain, its document root (certbot's webroot_map).
        map: Vec<WebrootEntry>,
    },
    Nginx {
        server_root: PathBuf,
        ctl: PathBuf,
        http_01_port: u16,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebrootEntry {
    pub domain: DomainName,
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Installer {
    Nginx {
        server_root: PathBuf,
        ctl: PathBuf,
        http_01_port: u16,
        https_port: u16,
        redirect: bool,
        hsts: bool,
    },
}

impl Authenticator {
    pub fn name(&self) -> &'static str {
        match self {
            Authenticator::Standalone { .. } => "standalone",
            Authenticator::Webroot { .. } => "webroot",
            Authenticator::Nginx { .. } => "nginx",
        }
    }
}

impl RenewalConfig {
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    pub fn parse(json: &str, path: &Path) -> Result<Self, Error> {
        let bad = |reason: String| Error::Config(format!("{}: {reason}", path.display()));
        let config: RenewalConfig = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        if config.schema != RENEWAL_SCHEMA {
            return Err(bad(format!(
                "schema {} is not supported (this certwright reads schema {RENEWAL_SCHEMA})",
                config.schema
            )));
        }
        if config.domains.is_empty() {
            return Err(bad("no domains".into()));
        }
        if let Authenticator::Webroot { map } = &config.authenticator {
            for d in &config.domains {
                if !map.iter().any(|e| &e.domain == d) {
                    return Err(bad(format!("no webroot for {d}")));
                }
            }
            if let Some(e) = map.iter().find(|e| !e.path.is_absolute()) {
                return Err(bad(format!("webroot {} is not absolute", e.path.display())));
            }
        }
        let file_stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if file_stem != config.cert_name.as_str() {
            return Err(bad(format!(
                "cert_name {} does not match the file name",
                config.cert_name
            )));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RenewalConfig {
        RenewalConfig {
            schema: 1,
            cert_name: "example.com".parse().unwrap(),
            domains: vec!["example.com".parse().unwrap()],
            server: "https://localhost:14000/dir".parse().unwrap(),
            ca_bundle: None,
            account: "abc".into(),
            key_type: KeyType::default(),
            authenticator: Authenticator::Standalone {
                http_01_port: 80,
                http_01_address: None,
            },
            installer: None,
            renew_before_expiry_days: None,
        }
    }

    #[test]
    fn round_trips() {
        let c = sample();
        let p = Path::new("/x/renewal/example.com.json");
        assert_eq!(RenewalConfig::parse(&c.to_json(), p).unwrap(), c);
    }

    #[test]
    fn rejects_bad_files() {
        let p = Path::new("/x/renewal/example.com.json");
        let good = sample().to_json();
        for bad in [
            "".to_string(),
            "{".to_string(),
            good.replace("\"example.com\"", "\"../etc\""),
            good.replace("\"schema\": 1", "\"schema\": 99"),
            good.replace("\"https://localhost:14000/dir\"", "\"http://x/dir\""),
            good.replace("\"http_01_port\": 80", "\"http_01_port\": \"eighty\""),
            good.replace("\"account\"", "\"acount\""),
        ] {
            assert!(RenewalConfig::parse(&bad, p).is_err(), "{bad}");
        }
        assert!(RenewalConfig::parse(&good, Path::new("/x/renewal/other.json")).is_err());
    }
}
