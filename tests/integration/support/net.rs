//! Tiny clients the harness needs: HTTPS GET with a given CA (Pebble's directory and
//! management API), plain HTTP GET (nginx), and one DNS A query (pebble-challtestsrv).
//! Hand-written so the tests need no curl, dig or extra crates.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET https://{sni_host}:{port}{path}`, connecting to 127.0.0.1 and trusting only the
/// certificates in `ca_pem`. HTTP/1.0 so the server closes the connection after the body.
pub fn https_get(sni_host: &str, port: u16, path: &str, ca_pem: &str) -> io::Result<Response> {
    https_get_at(Ipv4Addr::LOCALHOST.into(), sni_host, port, path, ca_pem)
}

/// `https_get`, connecting to `ip` instead of 127.0.0.1.
pub fn https_get_at(
    ip: IpAddr,
    sni_host: &str,
    port: u16,
    path: &str,
    ca_pem: &str,
) -> io::Result<Response> {
    let request = format!("GET {path} HTTP/1.0\r\nHost: {sni_host}:{port}\r\nAccept: */*\r\nUser-Agent: certwright-tests\r\n\r\n");
    https_request(ip, sni_host, port, &request, ca_pem)
}

/// `POST https://{sni_host}:{port}{path}` with a JSON body, like `https_get`.
pub fn https_post(
    sni_host: &str,
    port: u16,
    path: &str,
    json: &str,
    ca_pem: &str,
) -> io::Result<Response> {
    let request = format!(
        "POST {path} HTTP/1.0\r\nHost: {sni_host}:{port}\r\nUser-Agent: certwright-tests\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{json}",
        json.len()
    );
    https_request(Ipv4Addr::LOCALHOST.into(), sni_host, port, &request, ca_pem)
}

/// Sends one raw HTTP/1.0 request over TLS (trusting only `ca_pem`) and reads the answer.
fn https_request(
    ip: IpAddr,
    sni_host: &str,
    port: u16,
    request: &str,
    ca_pem: &str,
) -> io::Result<Response> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        let cert = cert.map_err(|e| io::Error::other(format!("bad CA PEM: {e}")))?;
        roots.add(cert).map_err(io::Error::other)?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(sni_host.to_string()).map_err(io::Error::other)?;
    let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(io::Error::other)?;
    let sock = TcpStream::connect((ip, port))?;
    sock.set_read_timeout(Some(IO_TIMEOUT))?;
    sock.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(request.as_bytes())?;
    tls.flush()?;
    let raw = read_until_close(&mut tls)?;
    parse_response(&raw)
}

/// `GET http://127.0.0.1:{port}{path}` with the given Host header.
pub fn http_get(port: u16, host: &str, path: &str) -> io::Result<Response> {
    http_get_at(Ipv4Addr::LOCALHOST.into(), port, host, path)
}

/// `http_get`, connecting to `ip` instead of 127.0.0.1.
pub fn http_get_at(ip: IpAddr, port: u16, host: &str, path: &str) -> io::Result<Response> {
    let mut sock = TcpStream::connect((ip, port))?;
    sock.set_read_timeout(Some(IO_TIMEOUT))?;
    sock.set_write_timeout(Some(IO_TIMEOUT))?;
    write!(sock, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n")?;
    let raw = read_until_close(&mut sock)?;
    parse_response(&raw)
}

/// True if something accepts TCP connections on 127.0.0.1:port.
pub fn port_answers(port: u16) -> bool {
    addr_answers(SocketAddr::from(([127, 0, 0, 1], port)))
}

/// True if something accepts TCP connections on `addr`.
pub fn addr_answers(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
}

/// How many connections wait in the accept queue of the IPv4 TCP listener on `addr`, from
/// the kernel's `/proc/net/tcp` (a listener's `rx_queue`); `None` if no listener is listed.
pub fn accept_backlog(addr: SocketAddr) -> Option<u32> {
    let SocketAddr::V4(addr) = addr else {
        return None;
    };
    let local = format!(
        "{:08X}:{:04X}",
        u32::from_ne_bytes(addr.ip().octets()),
        addr.port()
    );
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // sl, local_address, rem_address, st (0A = LISTEN), tx_queue:rx_queue
        if fields.get(1) != Some(&local.as_str()) || fields.get(3) != Some(&"0A") {
            return None;
        }
        let (_, rx) = fields.get(4)?.split_once(':')?;
        u32::from_str_radix(rx, 16).ok()
    })
}

fn read_until_close(stream: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => Ok(raw),
        // A peer that closes without TLS close_notify: keep what arrived.
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && !raw.is_empty() => Ok(raw),
        Err(e) => Err(e),
    }
}

fn parse_response(raw: &[u8]) -> io::Result<Response> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of HTTP headers"))?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| bad("headers not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body).ok_or_else(|| bad("bad chunked body"))?;
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// One DNS query for `name` IN A to `server` over UDP; the IPv4 addresses answered.
pub fn resolve_a(server: SocketAddr, name: &str) -> io::Result<Vec<Ipv4Addr>> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let id: u16 = 0x5ce7;
    let mut query = Vec::new();
    query.extend_from_slice(&id.to_be_bytes());
    query.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; 1 question
    for label in name.trim_end_matches('.').split('.') {
        query.push(u8::try_from(label.len()).map_err(|_| bad("label too long"))?);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 1, 0, 1]); // root, type A, class IN

    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.set_read_timeout(Some(Duration::from_secs(2)))?;
    sock.send_to(&query, server)?;
    let mut buf = [0u8; 1500];
    let (len, _) = sock.recv_from(&mut buf)?;
    let msg = &buf[..len];
    if msg.len() < 12 || msg[..2] != id.to_be_bytes() {
        return Err(bad("reply too short or wrong id"));
    }
    let rcode = msg[3] & 0x0f;
    if rcode != 0 {
        return Err(bad(&format!("DNS rcode {rcode}")));
    }
    let questions = u16::from_be_bytes([msg[4], msg[5]]);
    let answers = u16::from_be_bytes([msg[6], msg[7]]);
    let mut pos = 12;
    for _ in 0..questions {
        pos = skip_name(msg, pos).ok_or_else(|| bad("bad question name"))? + 4;
    }
    let mut out = Vec::new();
    for _ in 0..answers {
        pos = skip_name(msg, pos).ok_or_else(|| bad("bad answer name"))?;
        let fixed = msg.get(pos..pos + 10).ok_or_else(|| bad("short answer"))?;
        let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        pos += 10;
        let rdata = msg
            .get(pos..pos + rdlen)
            .ok_or_else(|| bad("short rdata"))?;
        if rtype == 1 && rdlen == 4 {
            out.push(Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]));
        }
        pos += rdlen;
    }
    Ok(out)
}

fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *msg.get(pos)?;
        if len == 0 {
            return Some(pos + 1);
        }
        if len & 0xc0 == 0xc0 {
            return Some(pos + 2);
        }
        pos += 1 + usize::from(len);
    }
}
