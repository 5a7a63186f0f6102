//! Lookups `doctor` makes the way a CA's resolver does: a name's addresses through its CNAME
//! chain, the CAA record set that applies (RFC 8659 tree climbing), and, when a resolver
//! fails a name, whether the same question with checking disabled (CD) answers: then DNSSEC
//! validation is what fails.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

use super::lookup::{display, fqdn, Lookup, QueryError, QUERY_TIMEOUT};
use crate::error::DnsError;

/// A CNAME chain longer than this is a loop or a mistake (as in `lookup`).
const MAX_HOPS: usize = 8;

/// One server's answer to one question.
#[derive(Debug, Clone)]
pub struct Reply {
    pub rcode: ResponseCode,
    pub answers: Vec<(Name, RData)>,
}

/// What resolving a name for HTTP-01 found.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// The CNAMEs followed, each as `owner -> target`.
    pub chain: Vec<String>,
    pub addresses: Vec<IpAddr>,
    pub problem: Option<ResolveProblem>,
}

/// Why a name has no usable address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveProblem {
    /// The name does not exist (NXDOMAIN).
    NxDomain { name: String },
    /// A CNAME points at a name that does not exist or has no address.
    DanglingCname { owner: String, target: String },
    /// The resolver answered SERVFAIL; `dnssec` when the same question with checking
    /// disabled is answered (a DNSSEC validation failure).
    ServFail {
        name: String,
        rtype: String,
        dnssec: bool,
    },
    /// The name exists but has neither A nor AAAA records.
    NoAddress { name: String },
    /// Another answer code (REFUSED...), or no server answered.
    Failed { reason: String },
}

/// One CAA record, its issuer value split as RFC 8659 4.2 does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaaRecord {
    pub critical: bool,
    pub tag: String,
    /// The value as written (`letsencrypt.org; accounturi=...`).
    pub value: String,
    /// For `issue`/`issuewild`: the issuer domain (None for `;`, which forbids issuance).
    pub issuer: Option<String>,
    pub params: Vec<(String, String)>,
}

/// The CAA record set that applies to a name: the first one found climbing towards the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaaSet {
    /// Where it was found (the name itself or a parent).
    pub owner: String,
    pub records: Vec<CaaRecord>,
}

/// Asks the lookup's servers in order, with recursion desired and checking disabled as
/// asked; the first that answers wins.
pub async fn ask(
    lookup: &Lookup,
    name: &Name,
    rtype: RecordType,
    checking_disabled: bool,
) -> Result<Reply, DnsError> {
    let mut failures = Vec::new();
    for server in lookup.servers() {
        match query(*server, name, rtype, checking_disabled).await {
            Ok(reply) => return Ok(reply),
            Err(e) => failures.push(format!("{server}: {e}")),
        }
    }
    Err(DnsError::Query {
        server: super::lookup::join(lookup.servers()),
        name: display(name),
        rtype: rtype.to_string(),
        reason: if failures.is_empty() {
            "no DNS servers".into()
        } else {
            failures.join("; ")
        },
    })
}

/// One question to one server over UDP (EDNS, 1232-byte answers), retried once.
async fn query(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    checking_disabled: bool,
) -> Result<Reply, QueryError> {
    let mut message = Message::query();
    message.metadata.id = rand::random();
    message.metadata.recursion_desired = true;
    message.metadata.checking_disabled = checking_disabled;
    message.add_query(Query::query(name.clone(), rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    message.set_edns(edns);
    let bytes = message.to_vec().map_err(QueryError::exchange)?;
    let local: SocketAddr = if server.is_ipv6() {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    };
    let socket = tokio::net::UdpSocket::bind(local)
        .await
        .map_err(QueryError::exchange)?;
    socket.connect(server).await.map_err(QueryError::exchange)?;
    let mut buf = vec![0u8; 4096];
    for _ in 0..2 {
        socket.send(&bytes).await.map_err(QueryError::exchange)?;
        let Ok(received) = tokio::time::timeout(QUERY_TIMEOUT, socket.recv(&mut buf)).await else {
            continue;
        };
        let n = received.map_err(QueryError::exchange)?;
        let reply = Message::from_vec(&buf[..n]).map_err(QueryError::exchange)?;
        if reply.metadata.id != message.metadata.id {
            continue;
        }
        return Ok(Reply {
            rcode: reply.metadata.response_code,
            answers: reply
                .answers
                .iter()
                .map(|r| (r.name.clone(), r.data.clone()))
                .collect(),
        });
    }
    Err(QueryError::NoAnswer(2 * QUERY_TIMEOUT.as_secs()))
}

/// The name's A and AAAA addresses, following CNAMEs the resolver did not follow itself.
pub async fn resolve(lookup: &Lookup, name: &str) -> Result<Resolution, DnsError> {
    let mut out = Resolution::default();
    for rtype in [RecordType::A, RecordType::AAAA] {
        let problem = resolve_type(lookup, name, rtype, &mut out).await?;
        if let Some(p) = problem {
            out.problem.get_or_insert(p);
        }
    }
    if out.addresses.is_empty() && out.problem.is_none() {
        let last = out
            .chain
            .last()
            .map(|c| c.rsplit(" -> ").next().unwrap_or(c));
        out.problem = Some(match last {
            Some(target) => ResolveProblem::DanglingCname {
                owner: chain_owner(&out.chain),
                target: target.to_string(),
            },
            None => ResolveProblem::NoAddress {
                name: name.to_string(),
            },
        });
    }
    Ok(out)
}

/// The owner of the last CNAME in a chain.
fn chain_owner(chain: &[String]) -> String {
    chain
        .last()
        .and_then(|c| c.split(" -> ").next())
        .unwrap_or_default()
        .to_string()
}

async fn resolve_type(
    lookup: &Lookup,
    name: &str,
    rtype: RecordType,
    out: &mut Resolution,
) -> Result<Option<ResolveProblem>, DnsError> {
    let mut current = fqdn(name)?;
    for _ in 0..MAX_HOPS {
        let reply = ask(lookup, &current, rtype, false).await?;
        let mut next = current.clone();
        // Walk the chain as answered: owner -> target, in order.
        while let Some(target) = reply.answers.iter().find_map(|(owner, data)| match data {
            RData::CNAME(c) if owner.to_lowercase() == next => Some(c.0.to_lowercase()),
            _ => None,
        }) {
            let link = format!("{} -> {}", display(&next), display(&target));
            if !out.chain.contains(&link) {
                out.chain.push(link);
            }
            if out.chain.len() > MAX_HOPS {
                return Ok(Some(ResolveProblem::Failed {
                    reason: format!("more than {MAX_HOPS} CNAMEs from {name}"),
                }));
            }
            next = target;
        }
        for (_, data) in &reply.answers {
            let ip = match data {
                RData::A(a) => IpAddr::V4(a.0),
                RData::AAAA(a) => IpAddr::V6(a.0),
                _ => continue,
            };
            if !out.addresses.contains(&ip) {
                out.addresses.push(ip);
            }
        }
        match reply.rcode {
            ResponseCode::NoError if next != current && !has_address(&reply) => current = next,
            ResponseCode::NoError => return Ok(None),
            ResponseCode::NXDomain if next != fqdn(name)? => {
                return Ok(Some(ResolveProblem::DanglingCname {
                    owner: chain_owner(&out.chain),
                    target: display(&next),
                }))
            }
            ResponseCode::NXDomain => {
                return Ok(Some(ResolveProblem::NxDomain {
                    name: display(&next),
                }))
            }
            ResponseCode::ServFail => return servfail(lookup, &current, rtype).await.map(Some),
            other => {
                return Ok(Some(ResolveProblem::Failed {
                    reason: format!("{} {rtype}: {other}", display(&current)),
                }))
            }
        }
    }
    Ok(Some(ResolveProblem::Failed {
        reason: format!("more than {MAX_HOPS} CNAMEs from {name}"),
    }))
}

fn has_address(reply: &Reply) -> bool {
    reply
        .answers
        .iter()
        .any(|(_, d)| matches!(d, RData::A(_) | RData::AAAA(_)))
}

/// A SERVFAIL: asked again with checking disabled, an answer means DNSSEC validation fails.
async fn servfail(
    lookup: &Lookup,
    name: &Name,
    rtype: RecordType,
) -> Result<ResolveProblem, DnsError> {
    let unchecked = ask(lookup, name, rtype, true).await?;
    Ok(ResolveProblem::ServFail {
        name: display(name),
        rtype: rtype.to_string(),
        dnssec: unchecked.rcode != ResponseCode::ServFail,
    })
}

/// The zone's SOA serial at each server (or why it did not say), to see whether they agree.
pub async fn soa_serials(
    servers: &[SocketAddr],
    zone: &str,
) -> Result<Vec<(SocketAddr, Result<u32, String>)>, DnsError> {
    let name = fqdn(zone)?;
    let asks = servers.iter().map(|server| {
        let name = name.clone();
        async move {
            let serial = match query(*server, &name, RecordType::SOA, false).await {
                Ok(reply) => reply
                    .answers
                    .iter()
                    .find_map(|(_, d)| match d {
                        RData::SOA(soa) => Some(soa.serial),
                        _ => None,
                    })
                    .ok_or_else(|| format!("no SOA ({})", reply.rcode)),
                Err(e) => Err(e.to_string()),
            };
            (*server, serial)
        }
    });
    Ok(futures_util::future::join_all(asks).await)
}

/// RFC 8659 section 3: the CAA set at the name, else at its parent, and so on up to (not
/// including) the root. A SERVFAIL is returned as such: CAs must not issue then.
pub async fn relevant_caa(
    lookup: &Lookup,
    name: &str,
) -> Result<Result<Option<CaaSet>, ResolveProblem>, DnsError> {
    let mut candidate = fqdn(name.strip_prefix("*.").unwrap_or(name))?;
    while !candidate.is_root() {
        let reply = ask(lookup, &candidate, RecordType::CAA, false).await?;
        if reply.rcode == ResponseCode::ServFail {
            return Ok(Err(servfail(lookup, &candidate, RecordType::CAA).await?));
        }
        let records: Vec<CaaRecord> = reply
            .answers
            .iter()
            .filter_map(|(_, data)| match data {
                RData::CAA(caa) => Some(caa_record(caa)),
                _ => None,
            })
            .collect();
        if !records.is_empty() {
            return Ok(Ok(Some(CaaSet {
                owner: display(&candidate),
                records,
            })));
        }
        candidate = candidate.base_name();
    }
    Ok(Ok(None))
}

fn caa_record(caa: &hickory_proto::rr::rdata::CAA) -> CaaRecord {
    let value = String::from_utf8_lossy(&caa.value).into_owned();
    let (issuer, params) =
        if caa.tag.eq_ignore_ascii_case("issue") || caa.tag.eq_ignore_ascii_case("issuewild") {
            split_issue_value(&value)
        } else {
            (None, Vec::new())
        };
    CaaRecord {
        critical: caa.issuer_critical,
        tag: caa.tag.to_ascii_lowercase(),
        value,
        issuer,
        params,
    }
}

/// `issuer-domain; key=value; ...` (RFC 8659 4.2); an empty issuer (`;`) forbids issuance.
pub fn split_issue_value(value: &str) -> (Option<String>, Vec<(String, String)>) {
    let mut parts = value.split(';');
    let issuer = parts
        .next()
        .map(|s| s.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    let params = parts
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    (issuer, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_values_split_into_issuer_and_parameters() {
        assert_eq!(split_issue_value(";"), (None, vec![]));
        let (issuer, params) = split_issue_value(
            "LetsEncrypt.org; accounturi=https://ca/acct/1; validationmethods=dns-01",
        );
        assert_eq!(issuer.as_deref(), Some("letsencrypt.org"));
        assert_eq!(
            params,
            vec![
                ("accounturi".to_string(), "https://ca/acct/1".to_string()),
                ("validationmethods".to_string(), "dns-01".to_string())
            ]
        );
    }
}
