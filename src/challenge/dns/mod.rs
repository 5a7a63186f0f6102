//! DNS-01: TXT record writers (RFC 2136 with TSIG and HTTP-API providers, over the
//! `dns-update` crate), zone discovery by SOA, CNAME following, the propagation check and
//! the journal of created records. A leaf: it knows nothing of orders, stores or nginx; `ops` drives it:
//! `locate` each identifier, note + `add_txt`, `wait_for_propagation`, answer the challenge,
//! then `remove_txt` + forget (or `remove_recorded` for a previous run's leftovers).

mod aws;
mod credentials;
pub mod diagnose;
mod journal;
mod lookup;
mod propagation;
mod providers;
mod route53;
mod secret;
mod writer;

pub use aws::{aws_credentials, route53_endpoint, AwsCredentials};
pub use credentials::{read_private_file, CredentialsError, Rfc2136Config, TsigAlgorithm};
pub use journal::{remove_recorded, CreatedRecord, Journal};
pub use lookup::{find_zone, follow_cname, Lookup, QUERY_TIMEOUT};
pub use propagation::{authoritative, wait_for_propagation, Expected, Servers, Wait};
pub use providers::{provider, writer_from_file, Provider, PROVIDERS};
pub use route53::{route53_writer, Route53Writer};
pub use secret::Secret;
pub use writer::{ProviderWriter, TxtWriter, TXT_TTL};

use crate::error::DnsError;

/// Where one identifier's TXT value goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtTarget {
    /// `_acme-challenge.NAME`, what the CA looks up.
    pub challenge_name: String,
    /// Where the value is written: `challenge_name`, or where its CNAME chain ends.
    pub name: String,
    /// The zone holding `name` (the update's zone).
    pub zone: String,
}

/// `_acme-challenge.` + the identifier; a wildcard shares its base name's record (RFC 8555 8.4).
pub fn challenge_name(identifier: &str) -> String {
    let base = identifier.strip_prefix("*.").unwrap_or(identifier);
    format!(
        "_acme-challenge.{}",
        base.trim_end_matches('.').to_ascii_lowercase()
    )
}

/// Finds where an identifier's TXT value must be written: follows a CNAME at
/// `_acme-challenge.NAME` (the acme-dns pattern) and finds the zone of where it ends.
pub async fn locate(identifier: &str, lookup: &Lookup) -> Result<TxtTarget, DnsError> {
    let challenge_name = challenge_name(identifier);
    let name = follow_cname(lookup, &challenge_name).await?;
    let zone = find_zone(lookup, &name).await?;
    Ok(TxtTarget {
        challenge_name,
        name,
        zone,
    })
}

/// Parses `--dns-resolver ADDR[:PORT]` (port 53 when absent; IPv6 as `[ADDR]:PORT`); None
/// if it is not an IP address (the caller names the flag or variable it came from).
pub fn parse_resolver(text: &str) -> Option<std::net::SocketAddr> {
    if let Ok(addr) = text.parse::<std::net::SocketAddr>() {
        return Some(addr);
    }
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    let ip = bare.parse::<std::net::IpAddr>().ok()?;
    Some(std::net::SocketAddr::new(ip, 53))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_and_apex_share_one_name() {
        assert_eq!(
            challenge_name("*.Example.com"),
            "_acme-challenge.example.com"
        );
        assert_eq!(
            challenge_name("example.com."),
            "_acme-challenge.example.com"
        );
    }

    #[test]
    fn resolvers_default_to_port_53() {
        assert_eq!(
            parse_resolver("192.0.2.1"),
            Some("192.0.2.1:53".parse().expect("addr"))
        );
        assert_eq!(
            parse_resolver("127.0.0.1:5353"),
            Some("127.0.0.1:5353".parse().expect("addr"))
        );
        assert_eq!(
            parse_resolver("[::1]"),
            Some("[::1]:53".parse().expect("addr"))
        );
        assert_eq!(
            parse_resolver("[::1]:54"),
            Some("[::1]:54".parse().expect("addr"))
        );
        assert!(parse_resolver("ns1.example.com").is_none());
    }
}
