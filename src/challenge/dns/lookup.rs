//! DNS lookups for DNS-01: plain queries (UDP, TCP when truncated), zone discovery by walking
//! SOA queries up the name, and following a CNAME at `_acme-challenge.NAME`.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use hickory_net::client::{Client, ClientHandle};
use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::tcp::TcpClientStream;
use hickory_net::udp::UdpClientStream;
use hickory_net::xfer::DnsMultiplexer;
use hickory_proto::op::{DnsResponse, Message, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType, TSigner};

use crate::error::DnsError;

/// A CNAME chain longer than this is a loop or a mistake.
const MAX_CNAME_HOPS: usize = 8;
/// Per-query timeout; the propagation check has its own overall bound.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(3);

/// Which servers lookups ask, in order, and the TSIG key to sign queries with, if any.
#[derive(Clone)]
pub struct Lookup {
    servers: Vec<SocketAddr>,
    signer: Option<TSigner>,
    timeout: Duration,
}

impl fmt::Debug for Lookup {
    // TSigner holds the key: show only whether one is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lookup")
            .field("servers", &self.servers)
            .field("signed", &self.signer.is_some())
            .finish()
    }
}

/// Why one server gave no usable answer to one question.
#[derive(Debug, thiserror::Error)]
pub(crate) enum QueryError {
    /// The query could not be sent or its answer read (hickory's or the socket's words).
    #[error("{0}")]
    Exchange(String),
    #[error("TCP connect timed out")]
    ConnectTimeout,
    #[error("no answer within {0} s")]
    NoAnswer(u64),
    #[error("query too large")]
    TooLarge,
    #[error("answer to another query (id mismatch)")]
    IdMismatch,
    #[error("the server refused the TSIG key (NOTAUTH: wrong key name, secret or algorithm?)")]
    NotAuth,
    #[error("the answer's TSIG signature does not verify: {0}")]
    BadSignature(String),
}

impl QueryError {
    pub(super) fn exchange(e: impl fmt::Display) -> QueryError {
        QueryError::Exchange(e.to_string())
    }
}

/// What a server said to one question: the rcode and the records of each section.
pub(crate) struct Answer {
    pub rcode: ResponseCode,
    pub answers: Vec<(Name, RData)>,
    pub additionals: Vec<(Name, RData)>,
}

impl Lookup {
    /// Unsigned lookups at `servers` (e.g. the `--dns-resolver` list).
    pub fn new(servers: Vec<SocketAddr>) -> Lookup {
        Lookup {
            servers,
            signer: None,
            timeout: QUERY_TIMEOUT,
        }
    }

    /// Signs every query with a TSIG key (certbot's `dns_rfc2136_sign_query`).
    pub(crate) fn signed(mut self, signer: TSigner) -> Lookup {
        self.signer = Some(signer);
        self
    }

    /// Unsigned lookups at the system's resolvers (`nameserver` lines of /etc/resolv.conf;
    /// 127.0.0.1 when it lists none, as the resolver library does).
    pub fn system() -> Lookup {
        let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        Lookup::new(resolv_conf_servers(&text))
    }

    pub fn servers(&self) -> &[SocketAddr] {
        &self.servers
    }

    /// Asks the servers in order; the first that answers wins. Errors name every server.
    pub(crate) async fn ask(&self, name: &Name, rtype: RecordType) -> Result<Answer, DnsError> {
        let mut failures = Vec::new();
        for server in &self.servers {
            match self.ask_at(*server, name, rtype).await {
                Ok(answer) => return Ok(answer),
                Err(e) => failures.push(format!("{server}: {e}")),
            }
        }
        Err(DnsError::Query {
            server: if self.servers.is_empty() {
                "(no DNS servers)".into()
            } else {
                join(&self.servers)
            },
            name: name.to_ascii(),
            rtype: rtype.to_string(),
            reason: failures.join("; "),
        })
    }

    /// One question to one server: UDP, then TCP if the answer was truncated.
    pub(crate) async fn ask_at(
        &self,
        server: SocketAddr,
        name: &Name,
        rtype: RecordType,
    ) -> Result<Answer, QueryError> {
        let response = match &self.signer {
            Some(signer) => signed_tcp(server, name, rtype, signer, self.timeout).await?,
            None => self.udp(server, name, rtype).await?,
        };
        let response = if response.metadata.truncation {
            self.tcp(server, name, rtype).await?
        } else {
            response
        };
        let pairs = |records: &[hickory_proto::rr::Record]| {
            records
                .iter()
                .map(|r| (r.name.clone(), r.data.clone()))
                .collect::<Vec<_>>()
        };
        Ok(Answer {
            rcode: response.metadata.response_code,
            answers: pairs(&response.answers),
            additionals: pairs(&response.additionals),
        })
    }

    async fn udp(
        &self,
        server: SocketAddr,
        name: &Name,
        rtype: RecordType,
    ) -> Result<DnsResponse, QueryError> {
        let stream = UdpClientStream::builder(server, TokioRuntimeProvider::new())
            .with_timeout(Some(self.timeout))
            .build();
        let (client, bg) = Client::<TokioRuntimeProvider>::from_sender(stream);
        run(client, bg, name, rtype).await
    }

    async fn tcp(
        &self,
        server: SocketAddr,
        name: &Name,
        rtype: RecordType,
    ) -> Result<DnsResponse, QueryError> {
        let (connect, sender) = TcpClientStream::new(
            server,
            None,
            Some(self.timeout),
            TokioRuntimeProvider::new(),
        );
        let stream = tokio::time::timeout(self.timeout, connect)
            .await
            .map_err(|_| QueryError::ConnectTimeout)?
            .map_err(QueryError::exchange)?;
        let mux = DnsMultiplexer::new(stream, sender).with_timeout(self.timeout);
        let (client, bg) = Client::<TokioRuntimeProvider>::from_sender(mux);
        run(client, bg, name, rtype).await
    }
}

async fn run<F>(
    mut client: Client<TokioRuntimeProvider>,
    bg: F,
    name: &Name,
    rtype: RecordType,
) -> Result<DnsResponse, QueryError>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send,
{
    let task = tokio::spawn(bg);
    let result = client.query(name.clone(), DNSClass::IN, rtype).await;
    task.abort();
    result.map_err(QueryError::exchange)
}

/// One TSIG-signed query over TCP. hickory's client signs only updates and transfers, so the
/// message is signed here and the answer's signature checked with hickory's verifier.
async fn signed_tcp(
    server: SocketAddr,
    name: &Name,
    rtype: RecordType,
    signer: &TSigner,
    timeout: Duration,
) -> Result<DnsResponse, QueryError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut message = Message::query();
    message.add_query(Query::query(name.clone(), rtype));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let verifier = message
        .finalize(signer, now)
        .map_err(QueryError::exchange)?;
    let bytes = message.to_vec().map_err(QueryError::exchange)?;
    let len = u16::try_from(bytes.len()).map_err(|_| QueryError::TooLarge)?;
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(server).await?;
        stream.write_all(&len.to_be_bytes()).await?;
        stream.write_all(&bytes).await?;
        let mut size = [0u8; 2];
        stream.read_exact(&mut size).await?;
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(size))];
        stream.read_exact(&mut buf).await?;
        Ok::<_, std::io::Error>(buf)
    };
    let buf = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| QueryError::NoAnswer(timeout.as_secs()))?
        .map_err(QueryError::exchange)?;
    let response = Message::from_vec(&buf).map_err(QueryError::exchange)?;
    if response.metadata.id != message.metadata.id {
        return Err(QueryError::IdMismatch);
    }
    if response.metadata.response_code == ResponseCode::NotAuth {
        return Err(QueryError::NotAuth);
    }
    match verifier {
        Some(mut v) => v
            .verify(&buf)
            .map_err(|e| QueryError::BadSignature(e.to_string())),
        None => DnsResponse::from_buffer(buf).map_err(QueryError::exchange),
    }
}

/// Parses a domain name as given by a user or a CA (trailing dot optional).
pub(crate) fn fqdn(name: &str) -> Result<Name, DnsError> {
    let mut parsed = Name::from_ascii(name)
        .map_err(|e| DnsError::Other(format!("invalid DNS name {name:?}: {e}")))?;
    parsed.set_fqdn(true);
    Ok(parsed.to_lowercase())
}

/// `name` without the trailing dot, lower case: how names appear in errors and the journal.
pub(crate) fn display(name: &Name) -> String {
    name.to_ascii().trim_end_matches('.').to_ascii_lowercase()
}

pub(crate) fn join(servers: &[SocketAddr]) -> String {
    servers
        .iter()
        .map(SocketAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Follows CNAMEs from `name` (at most `MAX_CNAME_HOPS`); returns where the chain ends.
/// The `nameserver` addresses of resolv.conf text, on port 53 (a zone id like `%eth0` is dropped).
fn resolv_conf_servers(text: &str) -> Vec<SocketAddr> {
    let mut out: Vec<SocketAddr> = text
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver"))
                .then(|| words.next())
                .flatten()
        })
        .filter_map(|addr| addr.split('%').next()?.parse::<std::net::IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect();
    if out.is_empty() {
        out.push(SocketAddr::from(([127, 0, 0, 1], 53)));
    }
    out
}

pub async fn follow_cname(lookup: &Lookup, name: &str) -> Result<String, DnsError> {
    let mut current = fqdn(name)?;
    let mut seen = vec![current.clone()];
    for _ in 0..MAX_CNAME_HOPS {
        let answer = lookup.ask(&current, RecordType::CNAME).await?;
        let target = answer.answers.iter().find_map(|(owner, data)| match data {
            RData::CNAME(c) if owner.to_lowercase() == current => Some(c.0.to_lowercase()),
            _ => None,
        });
        match target {
            None => return Ok(display(&current)),
            Some(next) if seen.contains(&next) => {
                return Err(DnsError::Other(format!(
                    "CNAME loop at {} (via {})",
                    display(&next),
                    join(lookup.servers())
                )))
            }
            Some(next) => {
                seen.push(next.clone());
                current = next;
            }
        }
    }
    Err(DnsError::Other(format!(
        "more than {MAX_CNAME_HOPS} CNAMEs from {name}"
    )))
}

/// The zone that holds `name`: the closest enclosing name whose SOA the servers serve.
/// Walks up one label at a time, as certbot's rfc2136 plugin does, so zones at any depth
/// (and child zones delegated inside a parent) are found.
pub async fn find_zone(lookup: &Lookup, name: &str) -> Result<String, DnsError> {
    let name = fqdn(name)?;
    let mut candidate = name.clone();
    let mut said = Vec::new();
    while !candidate.is_root() {
        let answer = lookup.ask(&candidate, RecordType::SOA).await?;
        let has_soa = answer.answers.iter().any(|(owner, data)| {
            matches!(data, RData::SOA(_)) && owner.to_lowercase() == candidate
        });
        if answer.rcode == ResponseCode::NoError && has_soa {
            return Ok(display(&candidate));
        }
        said.push(format!("{}: {}", display(&candidate), rcode_text(&answer)));
        candidate = candidate.base_name();
    }
    Err(DnsError::NoZone {
        name: display(&name),
        reason: format!(
            "no SOA at any enclosing name from {} ({})",
            join(lookup.servers()),
            said.join(", ")
        ),
    })
}

fn rcode_text(answer: &Answer) -> String {
    if answer.rcode == ResponseCode::NoError {
        "no SOA".into()
    } else {
        answer.rcode.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_nameservers_are_read_on_port_53() {
        let text = "# x\nsearch example.com\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\n";
        assert_eq!(
            resolv_conf_servers(text),
            [
                "192.0.2.53:53".parse::<SocketAddr>().expect("addr"),
                "[fe80::1]:53".parse().expect("addr")
            ]
        );
        assert_eq!(
            resolv_conf_servers(""),
            ["127.0.0.1:53".parse::<SocketAddr>().expect("addr")]
        );
    }
}
