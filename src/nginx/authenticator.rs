//! The `--nginx` authenticator's planner: a location per HTTP-01 challenge in the blocks
//! serving its name (a minimal block of its own for a name none serves), and their removal.

use super::catch_all::is_copy;
use super::edit::{Edits, FileEdit};
use super::recognize::{
    has_child, is_challenge_location, is_https_redirect, is_marked, named_blocks, ssl_ports,
    CHALLENGE_PREFIX, MARKER,
};
use super::{Config, Node};
use crate::error::NginxError;
use crate::types::{ChallengeToken, DomainName, KeyAuthorization};

/// One HTTP-01 challenge to serve from nginx.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub name: DomainName,
    pub token: String,
    pub key_authorization: String,
}

/// Plan locations answering each challenge in the blocks serving its name on `http_port`;
/// a name no block serves by name gets a new minimal server block inside `http`.
pub fn plan_challenges(
    config: &Config,
    challenges: &[Challenge],
    http_port: u16,
) -> Result<Vec<FileEdit>, NginxError> {
    let mut edits = Edits::default();
    for ch in challenges {
        if ChallengeToken::new(&ch.token).is_err() {
            return Err(NginxError::Other(format!(
                "refusing challenge token {:?}: not base64url",
                ch.token
            )));
        }
        let valid_keyauth =
            KeyAuthorization::new(&ch.key_authorization).is_ok_and(|k| k.token() == ch.token);
        if !valid_keyauth {
            return Err(NginxError::Other(format!(
                "refusing key authorization {:?}: not <token>.<base64url thumbprint>",
                ch.key_authorization
            )));
        }
        let location = format!(
            "location = {CHALLENGE_PREFIX}{} {{ default_type text/plain; return 200 \"{}\"; }}",
            ch.token, ch.key_authorization
        );
        let blocks = named_blocks(config, ch.name.as_str(), http_port);
        if blocks.is_empty() {
            let listens: String = listen_addrs(config, http_port)
                .iter()
                .map(|a| format!("    listen {a}; {MARKER}\n"))
                .collect();
            let server = format!(
                "server {{ {MARKER}\n{listens}    server_name {}; {MARKER}\n    {location} {MARKER}\n}} {MARKER}",
                ch.name
            );
            edits.add_to_http(config, &server)?;
            continue;
        }
        // A server-level redirect runs before location matching, so the CA follows it to
        // https: serve the challenge from the blocks answering the name with TLS as well.
        let mut targets = Vec::new();
        for b in blocks {
            if has_child(config, &b, is_https_redirect) {
                for port in ssl_ports(config) {
                    targets.extend(
                        named_blocks(config, ch.name.as_str(), port)
                            .into_iter()
                            .filter(|t| t.listens.iter().any(|l| l.port == port && l.ssl)),
                    );
                }
            }
            targets.push(b);
        }
        let mut seen = Vec::new();
        targets.retain(|b| {
            let key = (b.file, b.directive.span.start);
            let new = !seen.contains(&key);
            seen.push(key);
            new
        });
        for b in targets {
            let exists = has_child(config, &b, |d| {
                d.name() == "location"
                    && d.arg(1) == Some(&format!("{CHALLENGE_PREFIX}{}", ch.token))
            });
            if !exists {
                edits.add_lines(config, &b, std::slice::from_ref(&location))?;
            }
        }
    }
    edits.finish(config)
}

/// Plan removing every challenge location (and server block) the authenticator added.
pub fn plan_challenge_removal(config: &Config) -> Result<Vec<FileEdit>, NginxError> {
    let mut edits = Edits::default();
    for b in config.server_blocks() {
        let src = &config.files[b.file].source;
        let ours_only = is_marked(src, b.directive)
            && !is_copy(src, b.directive)
            && b.directive.children().iter().all(|n| match n {
                Node::Trivia(_) => true,
                Node::Directive(d) => {
                    is_marked(src, d) && matches!(d.name(), "listen" | "server_name" | "location")
                }
            });
        if ours_only {
            edits.remove_line(config, b.file, b.directive);
            continue;
        }
        for n in b.directive.children() {
            if let Node::Directive(d) = n {
                if is_challenge_location(d) && is_marked(src, d) {
                    edits.remove_line(config, b.file, d);
                }
            }
        }
    }
    edits.finish(config)
}

/// Where to ask locally for `name`'s challenge on `port` so the block holding it answers:
/// an address of a block serving the name, else one the new challenge block listens on (a
/// wildcard first, as loopback reaches it).
pub fn challenge_probe_ip(config: &Config, name: &str, port: u16) -> std::net::IpAddr {
    let listens: Vec<super::Listen> = match named_blocks(config, name, port).first() {
        Some(b) => b.listens.clone(),
        None => config
            .server_blocks()
            .into_iter()
            .flat_map(|b| b.listens)
            .collect(),
    };
    let mut on_port: Vec<&super::Listen> = listens.iter().filter(|l| l.port == port).collect();
    on_port.sort_by_key(|l| l.addr.is_some());
    on_port
        .iter()
        .find_map(|l| l.local_ip())
        .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into())
}

/// Every address some block listens on at `port` (`10.0.0.5:80`, `[::]:80`, `80`): nginx
/// picks a block for a connection only among those listening on its exact address, so the
/// challenge block must listen on each of them. Just `port` when no block does.
fn listen_addrs(config: &Config, port: u16) -> Vec<String> {
    let mut addrs: Vec<String> = Vec::new();
    for b in config.server_blocks() {
        for l in b.listens.iter().filter(|l| l.port == port) {
            let addr = match &l.addr {
                None => port.to_string(),
                Some(a) => format!("{a}:{port}"),
            };
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
    }
    if addrs.is_empty() {
        addrs.push(port.to_string());
    }
    addrs
}
