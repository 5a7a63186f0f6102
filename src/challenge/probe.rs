//! The HTTP-01 self-probe `doctor` makes: ask one address for a challenge path with the
//! name as Host, as the CA does, and follow plain-HTTP redirects that stay on the name,
//! recording each hop so a failure can say where the path went.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long one connection may take (connect, send, read); the CA waits about 10 s.
const HOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Let's Encrypt follows at most 10 redirects.
const MAX_REDIRECTS: usize = 10;
/// More of an answer than this is not read.
const MAX_RESPONSE: u64 = 64 * 1024;

/// One request and what answered it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hop {
    pub url: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The `Server` header, e.g. `nginx/1.22.1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

/// How a probe through one address ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeEnd {
    /// 200 with the expected key authorization.
    Answered,
    /// An answer without the key authorization (the last hop has its status).
    WrongAnswer {
        body_start: String,
    },
    /// No connection or no answer: the reason (refused, timed out...).
    Unreachable {
        reason: String,
    },
    /// A redirect the probe does not follow: to https, another port or another host.
    Redirected {
        to: String,
        reason: RedirectKind,
    },
    TooManyRedirects,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    /// To https on port 443: the CA follows it (and accepts any certificate).
    Https,
    /// To a port other than 80 and 443: the CA refuses to follow it.
    OtherPort(u16),
    /// To another host name: the CA follows it through that name's own addresses.
    OtherHost,
    /// A Location that is not an http(s) URL or path.
    Unusable,
}

/// The hops of one probe and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub address: IpAddr,
    pub hops: Vec<Hop>,
    pub end: ProbeEnd,
}

/// GET `path` from `address`:`port` with Host `host`, following redirects that stay on
/// `host`, the same port and plain HTTP (through the same address), and expecting `expected`
/// as the body of the final 200.
pub async fn http_probe(
    address: IpAddr,
    port: u16,
    host: &str,
    path: &str,
    expected: &str,
) -> Probe {
    let mut hops = Vec::new();
    let mut path = path.to_string();
    for _ in 0..=MAX_REDIRECTS {
        let url = url_of(host, port, &path);
        let (hop, body) =
            match tokio::time::timeout(HOP_TIMEOUT, get(address, port, host, &path)).await {
                Ok(Ok(answer)) => answer,
                Ok(Err(e)) => {
                    let reason = e.to_string();
                    return end(address, hops, ProbeEnd::Unreachable { reason });
                }
                Err(_) => {
                    let reason = format!("no answer within {} s", HOP_TIMEOUT.as_secs());
                    return end(address, hops, ProbeEnd::Unreachable { reason });
                }
            };
        let hop = Hop { url, ..hop };
        let status = hop.status;
        let location = hop.location.clone();
        hops.push(hop);
        if !(300..400).contains(&status) || location.is_none() {
            let ended = if status == 200 && body.trim_end() == expected {
                ProbeEnd::Answered
            } else {
                ProbeEnd::WrongAnswer {
                    body_start: body.chars().take(120).collect(),
                }
            };
            return end(address, hops, ended);
        }
        let location = location.unwrap_or_default();
        match next_hop(&location, host, port) {
            Ok(next) => path = next,
            Err(reason) => {
                return end(
                    address,
                    hops,
                    ProbeEnd::Redirected {
                        to: location,
                        reason,
                    },
                )
            }
        }
    }
    end(address, hops, ProbeEnd::TooManyRedirects)
}

fn end(address: IpAddr, hops: Vec<Hop>, end: ProbeEnd) -> Probe {
    Probe { address, hops, end }
}

fn url_of(host: &str, port: u16, path: &str) -> String {
    if port == 80 {
        format!("http://{host}{path}")
    } else {
        format!("http://{host}:{port}{path}")
    }
}

/// Where a redirect leads: the next path on the same host and port, or why not followed.
fn next_hop(location: &str, host: &str, port: u16) -> Result<String, RedirectKind> {
    if location.starts_with('/') && !location.starts_with("//") {
        return Ok(location.to_string());
    }
    let (scheme, rest) = location.split_once("://").ok_or(RedirectKind::Unusable)?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (to_host, to_port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            (h, p.parse::<u16>().map_err(|_| RedirectKind::Unusable)?)
        }
        _ => (
            authority,
            if scheme.eq_ignore_ascii_case("https") {
                443
            } else {
                80
            },
        ),
    };
    if !to_host.eq_ignore_ascii_case(host) {
        return Err(RedirectKind::OtherHost);
    }
    match scheme.to_ascii_lowercase().as_str() {
        "http" if to_port == port => Ok(path.to_string()),
        "https" if to_port == 443 => Err(RedirectKind::Https),
        "http" | "https" if to_port == 80 || to_port == 443 => Err(RedirectKind::OtherHost),
        "http" | "https" => Err(RedirectKind::OtherPort(to_port)),
        _ => Err(RedirectKind::Unusable),
    }
}

/// Why one GET got no HTTP answer.
#[derive(Debug, thiserror::Error)]
enum HopError {
    #[error("{0}")]
    Io(std::io::Error),
    /// The start of the status line (60 characters at most).
    #[error("not an HTTP answer: {0:?}")]
    NotHttp(String),
}

/// One HTTP/1.1 GET; the status line, Location and Server headers, and the body.
async fn get(
    address: IpAddr,
    port: u16,
    host: &str,
    path: &str,
) -> Result<(Hop, String), HopError> {
    let mut stream = tokio::net::TcpStream::connect(SocketAddr::new(address, port))
        .await
        .map_err(HopError::Io)?;
    let host_header = if port == 80 {
        host.to_string()
    } else {
        format!("{host}:{port}")
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\nUser-Agent: certwright-doctor\r\nAccept: */*\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(HopError::Io)?;
    let mut response = Vec::new();
    (&mut stream)
        .take(MAX_RESPONSE)
        .read_to_end(&mut response)
        .await
        .map_err(HopError::Io)?;
    parse_response(&String::from_utf8_lossy(&response))
}

fn parse_response(text: &str) -> Result<(Hop, String), HopError> {
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| HopError::NotHttp(status_line.chars().take(60).collect()))?;
    let mut hop = Hop {
        url: String::new(),
        status,
        location: None,
        server: None,
    };
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let value = Some(value.trim().to_string());
            match name.trim().to_ascii_lowercase().as_str() {
                "location" => hop.location = value,
                "server" => hop.server = value,
                _ => {}
            }
        }
    }
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((hop, body))
}

/// The data of a chunked body (enough for short answers).
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_are_followed_only_on_the_same_name_and_port() {
        assert_eq!(next_hop("/x", "a.test", 80), Ok("/x".into()));
        assert_eq!(next_hop("http://A.test/y", "a.test", 80), Ok("/y".into()));
        assert_eq!(
            next_hop("https://a.test/y", "a.test", 80),
            Err(RedirectKind::Https)
        );
        assert_eq!(
            next_hop("http://a.test:8080/y", "a.test", 80),
            Err(RedirectKind::OtherPort(8080))
        );
        assert_eq!(
            next_hop("http://b.test/y", "a.test", 80),
            Err(RedirectKind::OtherHost)
        );
    }

    #[test]
    fn responses_give_status_location_and_body() {
        let (hop, body) = parse_response(
            "HTTP/1.1 301 Moved\r\nServer: nginx\r\nLocation: https://a/\r\n\r\nbye",
        )
        .unwrap();
        assert_eq!(hop.status, 301);
        assert_eq!(hop.location.as_deref(), Some("https://a/"));
        assert_eq!(hop.server.as_deref(), Some("nginx"));
        assert_eq!(body, "bye");
        let (_, body) = parse_response(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(body, "abc");
    }
}
