//! Validated newtypes shared by every layer: once a value exists it is known to be safe to put
//! into a path, a config file or an ACME request.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::InputError;

mod ids;

pub use ids::{AccountId, ChallengeToken, InvalidValue, KeyAuthorization, NodeId};

/// The HTTP-01 path prefix (RFC 8555 section 8.3), for the responders and nginx alike.
pub const HTTP_01_PATH_PREFIX: &str = "/.well-known/acme-challenge/";

/// A DNS name as the CA will see it: lowercase, ASCII (punycode), no trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DomainName(String);

impl DomainName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_wildcard(&self) -> bool {
        self.0.starts_with("*.")
    }

    /// Whether a certificate for this name is valid for the host name `host` (lowercase):
    /// the same name, or one label under a wildcard's base (RFC 6125 6.4.3).
    pub fn covers(&self, host: &str) -> bool {
        match self.0.strip_prefix("*.") {
            Some(zone) => wildcard_covers(zone, host),
            None => self.0 == host,
        }
    }

    /// The user typed a Unicode name that was converted to punycode.
    pub fn was_converted(input: &str, name: &DomainName) -> bool {
        let plain = input.trim().trim_end_matches('.').to_ascii_lowercase();
        plain != name.0
    }
}

impl FromStr for DomainName {
    type Err = InputError;

    fn from_str(input: &str) -> Result<Self, InputError> {
        let bad = |reason: &str| InputError::Domain {
            name: input.to_string(),
            reason: reason.to_string(),
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(bad("the name is empty"));
        }
        if trimmed.contains("://") || trimmed.contains('/') {
            return Err(bad("give a bare domain name, not a URL or path"));
        }
        if trimmed.contains(':') {
            return Err(bad("a domain name has no port or colon"));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("the name contains whitespace or control characters"));
        }
        let no_dot = trimmed.strip_suffix('.').unwrap_or(trimmed);
        let (wildcard, rest) = match no_dot.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, no_dot),
        };
        if rest.contains('*') {
            return Err(bad("'*' is only allowed as the whole leftmost label"));
        }
        let ascii = if rest.is_ascii() {
            rest.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii(rest)
                .map_err(|_| bad("the name is not a valid internationalised domain name"))?
        };
        if ascii.parse::<std::net::Ipv4Addr>().is_ok() {
            return Err(bad("an IP address is not a domain name"));
        }
        if ascii.len() > 253 {
            return Err(bad("the name is longer than 253 characters"));
        }
        let labels: Vec<&str> = ascii.split('.').collect();
        if labels.len() < 2 {
            return Err(bad(
                "the name is not fully qualified (it needs at least one dot)",
            ));
        }
        for label in &labels {
            if label.is_empty() {
                return Err(bad("the name has an empty label (two dots in a row)"));
            }
            if label.len() > 63 {
                return Err(bad("a label is longer than 63 characters"));
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(bad(
                    "only letters, digits and hyphens are allowed in a label",
                ));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(bad("a label cannot start or end with a hyphen"));
            }
        }
        if labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad("the top-level domain cannot be all digits"));
        }
        let name = if wildcard {
            format!("*.{ascii}")
        } else {
            ascii
        };
        Ok(DomainName(name))
    }
}

impl TryFrom<String> for DomainName {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, InputError> {
        s.parse()
    }
}

impl From<DomainName> for String {
    fn from(d: DomainName) -> String {
        d.0
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of a lineage: a single path component under `live/`, `archive/` and `renewal/`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CertName(String);

impl CertName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CertName {
    type Err = InputError;

    fn from_str(input: &str) -> Result<Self, InputError> {
        let bad = |reason: &str| InputError::CertName {
            name: input.to_string(),
            reason: reason.to_string(),
        };
        if input.is_empty() {
            return Err(bad("the name is empty"));
        }
        if input.len() > 200 {
            return Err(bad("the name is longer than 200 characters"));
        }
        if input.starts_with('.') || input.starts_with('-') {
            return Err(bad("the name cannot start with '.' or '-'"));
        }
        if !input
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return Err(bad(
                "only letters, digits, '.', '-' and '_' are allowed (it becomes a directory name)",
            ));
        }
        Ok(CertName(input.to_string()))
    }
}

impl TryFrom<String> for CertName {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, InputError> {
        s.parse()
    }
}

impl From<CertName> for String {
    fn from(c: CertName) -> String {
        c.0
    }
}

impl fmt::Display for CertName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The contact address(es) for the ACME account: one, or several comma-separated as
/// certbot's `-m a@example.com,b@example.com`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// One `mailto:` contact URL per address, as ACME wants them.
    pub fn mailto(&self) -> Vec<String> {
        self.0.split(',').map(|a| format!("mailto:{a}")).collect()
    }
}

impl FromStr for Email {
    type Err = InputError;

    fn from_str(input: &str) -> Result<Self, InputError> {
        let mut addresses = Vec::new();
        for one in input.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            addresses.push(one_address(one)?);
        }
        if addresses.is_empty() {
            return Err(InputError::Email {
                email: input.to_string(),
                reason: "an email address needs an '@'".into(),
            });
        }
        Ok(Email(addresses.join(",")))
    }
}

/// One address, checked and with its domain normalised.
fn one_address(input: &str) -> Result<String, InputError> {
    {
        let bad = |reason: &str| InputError::Email {
            email: input.to_string(),
            reason: reason.to_string(),
        };
        let input_trim = input.trim();
        let Some((local, domain)) = input_trim.split_once('@') else {
            return Err(bad("an email address needs an '@'"));
        };
        if local.is_empty() || local.len() > 64 {
            return Err(bad("the part before '@' must be 1 to 64 characters"));
        }
        if local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "@,;<>()[]\\\"".contains(c))
        {
            return Err(bad("the part before '@' contains characters not allowed"));
        }
        let domain: DomainName = domain
            .parse()
            .map_err(|_| bad("the part after '@' is not a valid domain name"))?;
        if domain.is_wildcard() {
            return Err(bad("the part after '@' is not a valid domain name"));
        }
        Ok(format!("{local}@{domain}"))
    }
}

impl TryFrom<String> for Email {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, InputError> {
        s.parse()
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ACME directory URL of a CA. Only https is accepted: the account key signs everything
/// sent there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServerUrl(String);

impl ServerUrl {
    pub const LETSENCRYPT: &'static str = "https://acme-v02.api.letsencrypt.org/directory";
    pub const LETSENCRYPT_STAGING: &'static str =
        "https://acme-staging-v02.api.letsencrypt.org/directory";

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `host[_port]`, used as the directory name under `accounts/` (certbot uses the host too).
    pub fn account_dir_name(&self) -> String {
        let rest = self.0.trim_start_matches("https://");
        let authority = rest.split('/').next().unwrap_or(rest);
        authority.replace(':', "_")
    }

    pub fn is_letsencrypt_production(&self) -> bool {
        self.0 == Self::LETSENCRYPT
    }
}

impl FromStr for ServerUrl {
    type Err = InputError;

    fn from_str(input: &str) -> Result<Self, InputError> {
        let bad = |reason: &str| InputError::Server {
            url: input.to_string(),
            reason: reason.to_string(),
        };
        let Some(rest) = input.strip_prefix("https://") else {
            return Err(bad("the ACME directory URL must start with https://"));
        };
        let authority = rest.split('/').next().unwrap_or("");
        if authority.is_empty() {
            return Err(bad("the URL has no host"));
        }
        if input
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\')
        {
            return Err(bad(
                "the URL contains whitespace, quotes or control characters",
            ));
        }
        input
            .parse::<http::Uri>()
            .map_err(|e| bad(&format!("not a valid URL: {e}")))?;
        Ok(ServerUrl(input.to_string()))
    }
}

impl TryFrom<String> for ServerUrl {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, InputError> {
        s.parse()
    }
}

impl From<ServerUrl> for String {
    fn from(s: ServerUrl) -> String {
        s.0
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kind of private key a lineage uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "type")]
pub enum KeyType {
    Ecdsa { curve: Curve },
    Rsa { bits: u32 },
}

impl Default for KeyType {
    fn default() -> Self {
        KeyType::Ecdsa { curve: Curve::P256 }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyType::Ecdsa { curve } => write!(f, "ECDSA {curve}"),
            KeyType::Rsa { bits } => write!(f, "RSA {bits}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Curve {
    #[serde(rename = "secp256r1")]
    P256,
    #[serde(rename = "secp384r1")]
    P384,
    /// Where the CA allows it (Let's Encrypt does not).
    #[serde(rename = "secp521r1")]
    P521,
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Curve::P256 => "secp256r1",
            Curve::P384 => "secp384r1",
            Curve::P521 => "secp521r1",
        })
    }
}

/// Whether a certificate for `*.zone` is valid for `host`: exactly one label more than
/// `zone`; wildcard and regex (nginx `~`) names are not host names.
pub fn wildcard_covers(zone: &str, host: &str) -> bool {
    host.strip_suffix(zone)
        .and_then(|rest| rest.strip_suffix('.'))
        .is_some_and(|label| !label.is_empty() && !label.contains(['.', '*', '~']))
        && !host.starts_with('~')
}

/// Names for messages and hook environments.
pub fn join_names(names: &[DomainName], sep: &str) -> String {
    names
        .iter()
        .map(DomainName::as_str)
        .collect::<Vec<_>>()
        .join(sep)
}

/// `--nginx-path-map HOST=CONTAINER`: where host directories appear inside nginx's
/// container, so paths certwright writes into nginx's config are the ones nginx can open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathMap(Vec<PathMapEntry>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathMapEntry {
    pub host: std::path::PathBuf,
    pub container: std::path::PathBuf,
}

impl PathMap {
    /// Each `HOST=CONTAINER`, both absolute.
    pub fn parse(specs: &[String]) -> Result<PathMap, InputError> {
        let mut entries = Vec::new();
        for spec in specs {
            let bad = || InputError::BadValue {
                flag: "--nginx-path-map",
                value: spec.clone(),
                reason: "expected HOST=CONTAINER, both absolute paths".into(),
            };
            let (host, container) = spec.split_once('=').ok_or_else(bad)?;
            let (host, container) = (
                std::path::PathBuf::from(host),
                std::path::PathBuf::from(container),
            );
            if !host.is_absolute() || !container.is_absolute() {
                return Err(bad());
            }
            entries.push(PathMapEntry { host, container });
        }
        Ok(PathMap(entries))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `path` as the container sees it: the longest mapped host directory it is under is
    /// replaced by its container path (whole components only); unmapped paths stay as they are.
    pub fn to_container(&self, path: &std::path::Path) -> std::path::PathBuf {
        self.0
            .iter()
            .filter_map(|e| path.strip_prefix(&e.host).ok().map(|rest| (e, rest)))
            .max_by_key(|(e, _)| e.host.components().count())
            .map(|(e, rest)| {
                if rest.as_os_str().is_empty() {
                    e.container.clone()
                } else {
                    e.container.join(rest)
                }
            })
            .unwrap_or_else(|| path.to_path_buf())
    }
}

/// A secret value (TSIG key, API token, SMTP password, webhook token) that never reaches a
/// log: `Display` and `Debug` print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Registered with `safe::text`, so third-party text quoting it is scrubbed.
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        crate::safe::text::register_secret(&value);
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of this secret replaced (for third-party error texts,
    /// which may quote what they were given).
    pub fn scrub(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, "<redacted>")
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The challenge type a name is validated with: what an order is answered with, and what a
/// `--manual` hook publishes (`--preferred-challenges`). Saved as `http-01` / `dns-01`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChallengeKind {
    #[default]
    #[serde(rename = "http-01")]
    Http01,
    #[serde(rename = "dns-01")]
    Dns01,
}

impl ChallengeKind {
    /// The ACME name, as certbot's `--preferred-challenges` spells it.
    pub fn name(self) -> &'static str {
        match self {
            ChallengeKind::Http01 => "http-01",
            ChallengeKind::Dns01 => "dns-01",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_are_normalised() {
        let d: DomainName = "WWW.Example.COM.".parse().unwrap();
        assert_eq!(d.as_str(), "www.example.com");
        let d: DomainName = "bücher.example".parse().unwrap();
        assert_eq!(d.as_str(), "xn--bcher-kva.example");
        assert!(DomainName::was_converted("bücher.example", &d));
        let w: DomainName = "*.example.com".parse().unwrap();
        assert!(w.is_wildcard());
    }

    #[test]
    fn bad_domain_names_are_refused() {
        for bad in [
            "",
            "localhost",
            "http://example.com",
            "example.com/path",
            "example.com:443",
            "exa mple.com",
            "a..b.com",
            "-a.example.com",
            "a-.example.com",
            "foo.*.example.com",
            "under_score.example.com",
            "1.2.3.4",
            "example.123",
            &format!("{}.com", "a".repeat(64)),
            &format!("{}.com", "a.".repeat(130)),
        ] {
            assert!(bad.parse::<DomainName>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn cert_names_cannot_escape_the_store() {
        for bad in ["..", ".", "../etc", "a/b", "", "-rf", "a b", "a\0b"] {
            assert!(bad.parse::<CertName>().is_err(), "{bad:?} was accepted");
        }
        assert!("example.com".parse::<CertName>().is_ok());
        assert!("example.com-0001".parse::<CertName>().is_ok());
    }

    #[test]
    fn emails_are_checked() {
        assert!("admin@example.com".parse::<Email>().is_ok());
        for bad in [
            "admin",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@localhost",
            "a,b@example.com",
        ] {
            assert!(bad.parse::<Email>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn server_urls() {
        let s: ServerUrl = "https://localhost:14000/dir".parse().unwrap();
        assert_eq!(s.account_dir_name(), "localhost_14000");
        assert!("http://example.com/dir".parse::<ServerUrl>().is_err());
        assert!("https:///dir".parse::<ServerUrl>().is_err());
    }

    #[test]
    fn path_map_replaces_the_longest_mapped_prefix_by_whole_components() {
        let map = PathMap::parse(&[
            "/etc/certwright=/certs".into(),
            "/etc/certwright/live=/live".into(),
        ])
        .unwrap();
        let c = |p: &str| map.to_container(std::path::Path::new(p));
        assert_eq!(
            c("/etc/certwright/live/a/fullchain.pem"),
            std::path::Path::new("/live/a/fullchain.pem")
        );
        assert_eq!(
            c("/etc/certwright/archive/a"),
            std::path::Path::new("/certs/archive/a")
        );
        assert_eq!(
            c("/etc/certwright2/x"),
            std::path::Path::new("/etc/certwright2/x")
        );
        assert_eq!(c("/etc/certwright"), std::path::Path::new("/certs"));
        for bad in ["/a", "a=/b", "/a=b", "=/b"] {
            assert!(PathMap::parse(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
