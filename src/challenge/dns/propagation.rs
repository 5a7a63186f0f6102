//! The propagation check: ask every server that will answer the CA until each serves every
//! expected TXT value, instead of sleeping a fixed time as certbot's plugins do.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hickory_proto::rr::{Name, RData, RecordType};

use super::lookup::{display, fqdn, join, Lookup};
use crate::error::DnsError;

/// TXT values that must be visible at one name (where the CNAME chain ends) in one zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub name: String,
    pub zone: String,
    pub values: Vec<String>,
}

/// Which servers must serve the records.
#[derive(Debug, Clone)]
pub enum Servers {
    /// Exactly these (`--dns-resolver ADDR[:PORT]`, repeatable).
    Explicit(Vec<SocketAddr>),
    /// Each zone's authoritative servers: NS names from `via`, addresses from glue or `via`,
    /// asked on `port` (53 outside tests).
    Authoritative { via: Lookup, port: u16 },
}

/// How long to keep asking and how often.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    pub timeout: Duration,
    pub interval: Duration,
}

/// Returns once every server serves every expected value; otherwise, after `wait.timeout`,
/// an error naming each lagging server and what it lacks. `progress` gets one line per round
/// that is still waiting (for a terminal).
pub async fn wait_for_propagation(
    expected: &[Expected],
    servers: &Servers,
    wait: Wait,
    mut progress: impl FnMut(&str),
) -> Result<(), DnsError> {
    let targets = resolve_targets(expected, servers).await?;
    let start = Instant::now();
    loop {
        let mut lagging = Vec::new();
        for (server, item) in &targets {
            if let Some(why) = lacks(*server, item).await {
                lagging.push(format!("{server} ({why})"));
            }
        }
        if lagging.is_empty() {
            return Ok(());
        }
        if start.elapsed() >= wait.timeout {
            return Err(DnsError::NotPropagated {
                seconds: wait.timeout.as_secs(),
                lagging: lagging.join("; "),
            });
        }
        progress(&format!(
            "waiting for DNS: {} of {} server/name pair(s) not ready",
            lagging.len(),
            targets.len()
        ));
        tokio::time::sleep(
            wait.interval
                .min(wait.timeout.saturating_sub(start.elapsed())),
        )
        .await;
    }
}

/// Every (server, expected) pair to check.
async fn resolve_targets<'a>(
    expected: &'a [Expected],
    servers: &Servers,
) -> Result<Vec<(SocketAddr, &'a Expected)>, DnsError> {
    let mut out = Vec::new();
    for item in expected {
        let addrs = match servers {
            Servers::Explicit(list) => list.clone(),
            Servers::Authoritative { via, port } => authoritative(via, &item.zone, *port).await?,
        };
        out.extend(addrs.into_iter().map(|a| (a, item)));
    }
    Ok(out)
}

/// The addresses of a zone's NS hosts, from glue when the answer carries it, else from `via`.
pub async fn authoritative(
    via: &Lookup,
    zone: &str,
    port: u16,
) -> Result<Vec<SocketAddr>, DnsError> {
    let zone_name = fqdn(zone)?;
    let answer = via.ask(&zone_name, RecordType::NS).await?;
    let hosts: Vec<Name> = answer
        .answers
        .iter()
        .filter_map(|(_, d)| match d {
            RData::NS(ns) => Some(ns.0.to_lowercase()),
            _ => None,
        })
        .collect();
    if hosts.is_empty() {
        return Err(DnsError::NoZone {
            name: zone.into(),
            reason: format!("no NS records at {}", join(via.servers())),
        });
    }
    let mut addrs = BTreeSet::new();
    for host in &hosts {
        let mut found = glue(&answer.additionals, host);
        if found.is_empty() {
            for rtype in [RecordType::A, RecordType::AAAA] {
                found.extend(glue(&via.ask(host, rtype).await?.answers, host));
            }
        }
        if found.is_empty() {
            return Err(DnsError::Other(format!(
                "nameserver {} of {zone} has no address at {}",
                display(host),
                join(via.servers())
            )));
        }
        addrs.extend(found.into_iter().map(|ip| SocketAddr::new(ip, port)));
    }
    Ok(addrs.into_iter().collect())
}

fn glue(records: &[(Name, RData)], host: &Name) -> Vec<std::net::IpAddr> {
    records
        .iter()
        .filter(|(owner, _)| owner.to_lowercase() == *host)
        .filter_map(|(_, d)| match d {
            RData::A(a) => Some(a.0.into()),
            RData::AAAA(a) => Some(a.0.into()),
            _ => None,
        })
        .collect()
}

/// Why `server` does not yet serve every value of `item`; None when it does.
async fn lacks(server: SocketAddr, item: &Expected) -> Option<String> {
    let name = match fqdn(&item.name) {
        Ok(n) => n,
        Err(e) => return Some(e.to_string()),
    };
    let lookup = Lookup::new(vec![server]);
    let answer = match lookup.ask_at(server, &name, RecordType::TXT).await {
        Ok(a) => a,
        Err(e) => return Some(format!("{}: {e}", item.name)),
    };
    let served: BTreeSet<String> = answer
        .answers
        .iter()
        .filter(|(owner, _)| owner.to_lowercase() == name)
        .filter_map(|(_, d)| match d {
            RData::TXT(t) => Some(txt_value(&t.txt_data)),
            _ => None,
        })
        .collect();
    let missing = item.values.iter().filter(|v| !served.contains(*v)).count();
    (missing > 0).then(|| {
        format!(
            "{}: {missing} of {} value(s) missing",
            item.name,
            item.values.len()
        )
    })
}

/// A TXT record's strings joined (a value over 255 bytes is split into several).
fn txt_value(chunks: &[Box<[u8]>]) -> String {
    chunks
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}
