//! Per-lineage renewal config (`renewal/<name>.json`): everything a later `renew` needs to
//! repeat the issuance without flags. Parsed strictly into newtypes, so a hand-edited file
//! with a bad value fails with its path and the reason (exit 3), never mid-renewal.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::types::{CertName, ChallengeKind, DomainName, KeyType, PathMap, ServerUrl};

pub(crate) const RENEWAL_SCHEMA: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RenewalConfig {
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
    /// Key reuse, chain and profile choices (certbot's issuance options); absent in files
    /// written before they existed.
    #[serde(default, skip_serializing_if = "IssuanceSettings::is_default")]
    pub issuance: IssuanceSettings,
    /// Extra copies of the certificate for other services (keystore, combined PEM, a
    /// directory they can read); absent in files written before they existed.
    #[serde(default, skip_serializing_if = "DeployTargets::is_empty")]
    pub deploy: DeployTargets,
    /// certbot's per-lineage hooks, run by each renewal; absent in files written before
    /// they existed.
    #[serde(default, skip_serializing_if = "Hooks::is_empty")]
    pub hooks: Hooks,
}

/// Shell commands run around a lineage's renewals, as certbot's `pre_hook`, `post_hook` and
/// `deploy_hook` (`renew_hook`) in its renewal conf.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Hooks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_hook: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_hook: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_hook: Option<String>,
}

impl Hooks {
    pub(crate) fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// These hooks with the ones `over` sets replacing them (the command line over the
    /// saved ones).
    pub(crate) fn overridden_by(&self, over: &Hooks) -> Hooks {
        Hooks {
            pre_hook: over.pre_hook.clone().or_else(|| self.pre_hook.clone()),
            post_hook: over.post_hook.clone().or_else(|| self.post_hook.clone()),
            deploy_hook: over
                .deploy_hook
                .clone()
                .or_else(|| self.deploy_hook.clone()),
        }
    }
}

/// Where each renewal and install also writes the certificate, in the formats other
/// services read. Never holds a secret: the keystore password stays in its own file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeployTargets {
    /// A PKCS#12 keystore (Java, Tomcat, Jenkins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkcs12: Option<Pkcs12Target>,
    /// One PEM file: fullchain then key (HAProxy's `crt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combined: Option<PathBuf>,
    /// Copies of cert, chain, fullchain and privkey owned by a service's user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<DirTarget>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Pkcs12Target {
    pub path: PathBuf,
    /// File holding the keystore password (mode 0600); the password is read at each deploy.
    pub password_file: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DirTarget {
    pub path: PathBuf,
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Mode of every file written there (0640 or stricter).
    pub mode: u32,
}

impl DeployTargets {
    pub(crate) fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// One line per target, for `certificates`.
    pub(crate) fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(p) = &self.pkcs12 {
            out.push(format!("pkcs12 {}", p.path.display()));
        }
        if let Some(p) = &self.combined {
            out.push(format!("combined {}", p.display()));
        }
        if let Some(d) = &self.dir {
            let group = d
                .group
                .as_deref()
                .map(|g| format!(":{g}"))
                .unwrap_or_default();
            out.push(format!(
                "dir {} (owner {}{group}, mode {:04o})",
                d.path.display(),
                d.owner,
                d.mode
            ));
        }
        out
    }
}

/// How a certificate is requested beyond its names: kept so `renew` repeats the choices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssuanceSettings {
    /// Keep the lineage's private key on renewal (certbot's --reuse-key).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reuse_key: bool,
    /// Issuer common name of the chain to prefer among the CA's alternates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_chain: Option<String>,
    /// ACME profile to ask for if the CA offers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_profile: Option<String>,
    /// ACME profile without which no order is placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_profile: Option<String>,
    /// Drop names that fail validation and issue for the rest.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_subset_of_names: bool,
    /// RFC 8738 IP address identifiers, in addition to `domains`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_addresses: Vec<IpAddr>,
    /// Seconds to wait for a finalized order the CA keeps `processing` (certbot's
    /// --issuance-timeout); unset: `DEFAULT_ISSUANCE_TIMEOUT_SECS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuance_timeout: Option<u64>,
    /// A second CA a renewal is retried at when the lineage's own CA fails it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_server: Option<crate::types::ServerUrl>,
}

/// certbot's default for --issuance-timeout.
pub(crate) const DEFAULT_ISSUANCE_TIMEOUT_SECS: u64 = 90;

impl IssuanceSettings {
    /// How long a finalized order may stay `processing`.
    pub(crate) fn issuance_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(
            self.issuance_timeout
                .unwrap_or(DEFAULT_ISSUANCE_TIMEOUT_SECS),
        )
    }

    pub(crate) fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// The profile to ask for, and whether its absence is an error.
    pub(crate) fn profile(&self) -> Option<(&str, bool)> {
        match (&self.required_profile, &self.preferred_profile) {
            (Some(p), _) => Some((p.as_str(), true)),
            (None, Some(p)) => Some((p.as_str(), false)),
            (None, None) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum Authenticator {
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
    /// DNS-01 by RFC 2136 updates (certbot's dns-rfc2136 plugin and credentials file; the
    /// secret stays in that file, only its path is saved).
    #[serde(rename = "dns-rfc2136")]
    DnsRfc2136 {
        credentials: PathBuf,
        /// Where propagation is checked (`--dns-resolver`); empty: the zone's nameservers.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        resolvers: Vec<std::net::SocketAddr>,
        /// Extra wait after the records are seen (`--dns-rfc2136-propagation-seconds`).
        #[serde(default, skip_serializing_if = "is_zero")]
        propagation_seconds: u64,
    },
    /// DNS-01 through a `--dns PROVIDER` HTTP API (`--dns-cloudflare` too); the secrets stay
    /// in the credentials file, only its path is saved.
    Dns {
        provider: String,
        credentials: PathBuf,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        resolvers: Vec<std::net::SocketAddr>,
        #[serde(default, skip_serializing_if = "is_zero")]
        propagation_seconds: u64,
    },
    /// DNS-01 through Route53, with the AWS SDKs' credential chain (nothing secret saved).
    #[serde(rename = "dns-route53")]
    DnsRoute53 {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        resolvers: Vec<std::net::SocketAddr>,
        #[serde(default, skip_serializing_if = "is_zero")]
        propagation_seconds: u64,
    },
    /// certbot's `--manual` with hooks: the auth hook publishes each value (a TXT record for
    /// dns-01, a file for http-01), the cleanup hook removes it.
    Manual {
        challenge: ChallengeKind,
        auth_hook: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cleanup_hook: Option<String>,
        /// dns-01: where propagation is checked (`--dns-resolver`); empty: the zone's nameservers.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        resolvers: Vec<std::net::SocketAddr>,
    },
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebrootEntry {
    pub domain: DomainName,
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum Installer {
    Nginx {
        server_root: PathBuf,
        ctl: PathBuf,
        http_01_port: u16,
        https_port: u16,
        redirect: bool,
        hsts: bool,
        /// nginx in a container: host directories as the container sees them.
        #[serde(default, skip_serializing_if = "PathMap::is_empty")]
        path_map: PathMap,
    },
}

impl Authenticator {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Authenticator::Standalone { .. } => "standalone",
            Authenticator::Webroot { .. } => "webroot",
            Authenticator::Nginx { .. } => "nginx",
            Authenticator::DnsRfc2136 { .. } => "dns-rfc2136",
            Authenticator::Manual { .. } => "manual",
            Authenticator::Dns { .. } => "dns",
            Authenticator::DnsRoute53 { .. } => "dns-route53",
        }
    }

    /// Whether it answers dns-01 (the only challenge that proves wildcards).
    pub(crate) fn is_dns(&self) -> bool {
        matches!(
            self,
            Authenticator::DnsRfc2136 { .. }
                | Authenticator::Dns { .. }
                | Authenticator::DnsRoute53 { .. }
                | Authenticator::Manual {
                    challenge: ChallengeKind::Dns01,
                    ..
                }
        )
    }
}

impl RenewalConfig {
    /// Every identifier the certificate is for, as its SANs read: the domain names, then the
    /// IP addresses (RFC 8738), which live in the issuance settings.
    pub(crate) fn identifiers(&self) -> Vec<String> {
        self.domains
            .iter()
            .map(|d| d.to_string())
            .chain(self.issuance.ip_addresses.iter().map(|ip| ip.to_string()))
            .collect()
    }

    pub(crate) fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    pub(crate) fn parse(json: &str, path: &Path) -> Result<Self, Error> {
        let bad = |reason: String| Error::Config(format!("{}: {reason}", path.display()));
        let config: RenewalConfig = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        if config.schema != RENEWAL_SCHEMA {
            return Err(bad(format!(
                "schema {} is not supported (this certwright reads schema {RENEWAL_SCHEMA})",
                config.schema
            )));
        }
        if config.domains.is_empty() && config.issuance.ip_addresses.is_empty() {
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
            issuance: IssuanceSettings::default(),
            deploy: DeployTargets::default(),
            hooks: Hooks::default(),
        }
    }

    #[test]
    fn deploy_targets_are_optional_and_round_trip() {
        let p = Path::new("/x/renewal/example.com.json");
        assert!(!sample().to_json().contains("deploy"));
        let mut c = sample();
        c.deploy.combined = Some("/etc/haproxy/certs/x.pem".into());
        c.deploy.dir = Some(DirTarget {
            path: "/srv/certs".into(),
            owner: "nobody".into(),
            group: None,
            mode: 0o640,
        });
        assert_eq!(RenewalConfig::parse(&c.to_json(), p).unwrap(), c);
        assert_eq!(c.deploy.describe().len(), 2);
    }

    #[test]
    fn issuance_settings_are_optional_and_round_trip() {
        let p = Path::new("/x/renewal/example.com.json");
        let old = sample().to_json();
        assert!(!old.contains("issuance"), "{old}");
        let mut c = sample();
        c.issuance.reuse_key = true;
        c.issuance.preferred_chain = Some("Pebble Root CA".into());
        c.issuance.ip_addresses = vec!["127.0.0.1".parse().unwrap()];
        assert_eq!(RenewalConfig::parse(&c.to_json(), p).unwrap(), c);
        let typo = c.to_json().replace("reuse_key", "reuse_keys");
        assert!(RenewalConfig::parse(&typo, p).is_err());
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
