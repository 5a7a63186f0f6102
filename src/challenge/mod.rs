//! Answering HTTP-01: a standalone responder on port 80, or files in a webroot.
//! (The nginx-hosted variant is planned by the `nginx` module and wired in `commands`.)
//! DNS-01 lives in `dns`: TXT record writers, zone discovery and the propagation check.

pub mod dns;
pub mod probe;
mod standalone;
mod webroot;

pub use standalone::{bind_std, ChallengeMap, Running, Standalone, TokenSource};
pub use webroot::WebrootFiles;

/// Tokens are base64url (RFC 8555 8.3): anything else is refused before it reaches a path, a
/// config file or a response (`ChallengeToken`'s rule, for what arrives as text).
pub fn is_valid_token(token: &str) -> bool {
    crate::types::ChallengeToken::new(token).is_ok()
}

/// A key authorization is `token.thumbprint`, both base64url (`KeyAuthorization`'s rule).
pub fn is_valid_key_authorization(key_auth: &str) -> bool {
    crate::types::KeyAuthorization::new(key_auth).is_ok()
}

pub const WELL_KNOWN: &str = crate::types::HTTP_01_PATH_PREFIX;

/// Ask a local web server for a challenge the way the CA will (Host header = the name) and
/// report whether it answers with the key authorization. Used after an nginx reload, which
/// takes effect asynchronously, before telling the CA to validate.
pub async fn probe_local(port: u16, host: &str, token: &str, key_auth: &str) -> bool {
    let loopback = std::net::Ipv4Addr::LOCALHOST.into();
    probe_local_answer(loopback, port, host, token, key_auth).await == LocalAnswer::KeyAuthorization
}

/// What a local web server answered for a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalAnswer {
    KeyAuthorization,
    /// A 301/302/303/307/308 to an `https://` URL: the CA follows it (to port 443).
    RedirectToHttps,
    Other,
}

/// [`probe_local`] at `ip` (a web server listening on one address only), telling a
/// redirect to https apart from a wrong answer.
pub async fn probe_local_answer(
    ip: std::net::IpAddr,
    port: u16,
    host: &str,
    token: &str,
    key_auth: &str,
) -> LocalAnswer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect((ip, port)).await.ok()?;
        let request = format!(
            "GET {WELL_KNOWN}{token} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nUser-Agent: certwright-probe\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        stream
            .take(64 * 1024)
            .read_to_end(&mut response)
            .await
            .ok()?;
        Some(classify(&String::from_utf8_lossy(&response), key_auth))
    };
    tokio::time::timeout(std::time::Duration::from_secs(2), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(LocalAnswer::Other)
}

fn classify(response: &str, key_auth: &str) -> LocalAnswer {
    if response.starts_with("HTTP/1.1 200") && response.trim_end().ends_with(key_auth) {
        return LocalAnswer::KeyAuthorization;
    }
    let redirect = ["301", "302", "303", "307", "308"]
        .iter()
        .any(|code| response.starts_with(&format!("HTTP/1.1 {code} ")));
    let head = response.split("\r\n\r\n").next().unwrap_or("");
    let to_https = head.lines().any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.eq_ignore_ascii_case("location") && v.trim_start().starts_with("https://")
        })
    });
    match redirect && to_https {
        true => LocalAnswer::RedirectToHttps,
        false => LocalAnswer::Other,
    }
}

/// Which process listens on a TCP port (e.g. "nginx (pid 812)"), for the error message when
/// the standalone responder cannot bind. Best effort from /proc; None when unknown.
pub fn port_owner(port: u16) -> Option<String> {
    let hex_port = format!(":{port:04X}");
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // local_address is column 1, state column 3 (0A = LISTEN), inode column 9.
            if cols.len() > 9 && cols[1].ends_with(&hex_port) && cols[3] == "0A" {
                inodes.push(format!("socket:[{}]", cols[9]));
            }
        }
    }
    if inodes.is_empty() {
        return None;
    }
    for proc_entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let pid = proc_entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(proc_entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path()) {
                if inodes.iter().any(|i| target.as_os_str() == i.as_str()) {
                    let comm =
                        std::fs::read_to_string(proc_entry.path().join("comm")).unwrap_or_default();
                    return Some(format!("{} (pid {pid})", comm.trim()));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_owner_finds_this_process() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let owner = port_owner(port).expect("owner of our own listener");
        assert!(
            owner.contains(&format!("pid {}", std::process::id())),
            "{owner}"
        );
    }

    #[test]
    fn tokens_are_base64url_only() {
        assert!(is_valid_token("abc-DEF_123"));
        for bad in ["", "../x", "a/b", "a.b", "a%2e", "a b", "ä"] {
            assert!(!is_valid_token(bad), "{bad:?}");
        }
        assert!(is_valid_key_authorization("tok.thumb"));
        assert!(!is_valid_key_authorization("tok"));
        assert!(!is_valid_key_authorization("tok.th/umb"));
    }
}
