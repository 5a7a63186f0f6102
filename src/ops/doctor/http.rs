//! The HTTP-01 self-probe: publish a random token for every name through the chosen solver
//! (a file in the webroot, a standalone listener, a temporary nginx location), ask each
//! address of each name for it as the CA would, then remove it again. A probe that fails
//! is explained: the redirect chain, and when nginx answers, its block and location by
//! file:line.

use std::net::IpAddr;
use std::path::Path;

use crate::acme::Challenge;
use crate::challenge::probe::{self, Probe, ProbeEnd, RedirectKind};
use crate::config::Authenticator;
use crate::nginx;
use crate::store::Store;
use crate::types::HTTP_01_PATH_PREFIX;

use crate::ops::issue::session::Session;
use crate::ops::output::Ui;
use crate::ops::solve::{prepare_authenticator, Prepared};

use super::report::{Finding, ProbeReport};

/// A name and the addresses to probe it through.
pub(super) struct Target {
    pub name: String,
    pub addresses: Vec<IpAddr>,
}

/// The probes of every target (in order), or why nothing could be published.
pub(super) async fn probe_all(
    ui: &Ui,
    store: &Store,
    auth: &Authenticator,
    port: u16,
    targets: &[Target],
) -> Result<Vec<Vec<Probe>>, String> {
    let session = Session::default();
    let result = match prepare_authenticator(ui, &session, store, auth).await {
        Ok(mut prepared) => probe_with(ui, &mut prepared, port, targets).await,
        Err(e) => Err(crate::error::error_chain(&e)),
    };
    session.shutdown().await;
    result
}

/// Publish a random token per target through an already prepared solver, probe every
/// address, remove the tokens again.
pub(super) async fn probe_with(
    ui: &Ui,
    prepared: &mut Prepared<'_>,
    port: u16,
    targets: &[Target],
) -> Result<Vec<Vec<Probe>>, String> {
    let challenges: Vec<Challenge> = targets
        .iter()
        .map(|t| Challenge::made_up(&t.name))
        .collect();
    let published = prepared
        .publish(ui, &challenges)
        .await
        .map_err(|e| crate::error::error_chain(&e))?;
    let probes = targets.iter().zip(&challenges).map(|(t, c)| async move {
        let path = format!("{HTTP_01_PATH_PREFIX}{}", c.token);
        let each = t
            .addresses
            .iter()
            .map(|a| probe::http_probe(*a, port, &t.name, &path, c.key_authorization.as_str()));
        futures_util::future::join_all(each).await
    });
    let results = futures_util::future::join_all(probes).await;
    prepared.cleanup(ui, published, &challenges).await;
    Ok(results)
}

/// The port the solver answers on, if it has its own (standalone, nginx).
pub(super) fn http_port(auth: &Authenticator) -> Option<u16> {
    match auth {
        Authenticator::Standalone { http_01_port, .. }
        | Authenticator::Nginx { http_01_port, .. } => Some(*http_01_port),
        _ => None,
    }
}

/// Findings from one name's probes; `nginx_conf` explains answers nginx gave.
pub(super) fn findings(
    name: &str,
    port: u16,
    probes: &[Probe],
    nginx_conf: Option<&nginx::Config>,
) -> (Vec<ProbeReport>, Vec<Finding>) {
    let v4_works = probes
        .iter()
        .any(|p| p.address.is_ipv4() && p.end == ProbeEnd::Answered);
    let mut reports = Vec::new();
    let mut out = Vec::new();
    for p in probes {
        reports.push(ProbeReport {
            address: p.address,
            answered: p.end == ProbeEnd::Answered,
            hops: p.hops.clone(),
        });
        if let Some(f) = probe_finding(name, port, p, v4_works, nginx_conf) {
            out.push(f);
        }
    }
    (reports, out)
}

fn probe_finding(
    name: &str,
    port: u16,
    p: &Probe,
    v4_works: bool,
    nginx_conf: Option<&nginx::Config>,
) -> Option<Finding> {
    let family = if p.address.is_ipv6() { "AAAA" } else { "A" };
    let at = format!("{} ({family} record of {name}), port {port}", p.address);
    let chain = chain_text(p);
    match &p.end {
        ProbeEnd::Answered => None,
        ProbeEnd::Unreachable { reason } if p.address.is_ipv6() && v4_works => Some(Finding::error(
            "http",
            format!("IPv6 address {} does not answer on port {port} ({reason}) while IPv4 works; CAs try IPv6 first", p.address),
            at,
            format!("make the server listen on [{}]:{port} (nginx: `listen [::]:{port};`), or remove the AAAA record", p.address),
        )),
        ProbeEnd::Unreachable { reason } => Some(Finding::error(
            "http",
            format!("{} does not answer on port {port}: {reason}", p.address),
            at,
            format!("open port {port} to the CA, or point the {family} record at this server"),
        )),
        ProbeEnd::WrongAnswer { .. } => Some(wrong_answer(name, port, p, at, chain, nginx_conf)),
        ProbeEnd::Redirected { to, reason } => redirected(name, port, p, to, *reason, chain, nginx_conf),
        ProbeEnd::TooManyRedirects => Some(Finding::error(
            "http",
            format!("more than 10 redirects for {name}"),
            chain,
            "serve /.well-known/acme-challenge/ without redirects".into(),
        )),
    }
}

fn chain_text(p: &Probe) -> String {
    p.hops
        .iter()
        .map(|h| match &h.location {
            Some(l) => format!("{} -> {} {l}", h.url, h.status),
            None => format!("{} -> {}", h.url, h.status),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn wrong_answer(
    name: &str,
    port: u16,
    p: &Probe,
    at: String,
    chain: String,
    nginx_conf: Option<&nginx::Config>,
) -> Finding {
    let last = p.hops.last();
    let status = last.map(|h| h.status).unwrap_or(0);
    let by_nginx = last.is_some_and(served_by_nginx);
    if let (true, Some(conf)) = (by_nginx, nginx_conf) {
        if let Some(a) = conf.answering(
            name,
            port,
            Some(&p.address.to_string()),
            HTTP_01_PATH_PREFIX,
        ) {
            let place = a.deciding().clone();
            if a.catch_all {
                return Finding::error(
                    "nginx",
                    format!("no nginx server block names {name}: the catch-all server at {} answers {status} for {HTTP_01_PATH_PREFIX} through {}", a.server, p.address),
                    place.to_string(),
                    format!("add {name} to the server_name of the block that serves it (with its root or the challenge location)"),
                );
            }
            return Finding::error(
                "nginx",
                format!(
                    "nginx answers {status} for {HTTP_01_PATH_PREFIX} at {place} through {}",
                    p.address
                ),
                place.to_string(),
                nginx_fix(status, &place.text),
            );
        }
    }
    Finding::error(
        "http",
        format!("{} answers HTTP {status} without this host's challenge answer: it reaches another server or another document root", p.address),
        format!("{at}: {chain}"),
        format!("point the record at this server, or serve {HTTP_01_PATH_PREFIX} from the webroot certwright writes to"),
    )
}

fn redirected(
    name: &str,
    port: u16,
    p: &Probe,
    to: &str,
    reason: RedirectKind,
    chain: String,
    nginx_conf: Option<&nginx::Config>,
) -> Option<Finding> {
    let first_by_nginx = p.hops.first().is_some_and(served_by_nginx);
    let by = nginx_conf
        .filter(|_| first_by_nginx)
        .and_then(|c| {
            c.answering(
                name,
                port,
                Some(&p.address.to_string()),
                HTTP_01_PATH_PREFIX,
            )
        })
        .map(|a| format!(" (nginx: {})", a.deciding()))
        .unwrap_or_default();
    let chain = format!("{chain}{by}");
    Some(match reason {
        RedirectKind::OtherPort(other) => Finding::error(
            "http",
            format!("{} redirects {name} to port {other} ({to}); CAs follow redirects only to ports 80 and 443{by}", p.address),
            chain,
            "redirect to https on port 443, or answer /.well-known/acme-challenge/ without the redirect".into(),
        ),
        RedirectKind::Https => Finding::warning(
            "http",
            format!("{} redirects {name} to https ({to}); the CA follows it (any certificate is accepted) but doctor does not{by}", p.address),
            chain,
            "none needed if https serves the same files; answering on plain HTTP is more robust".into(),
        ),
        RedirectKind::OtherHost => Finding::warning(
            "http",
            format!("{} redirects {name} to another host ({to}); the CA follows it, so that host must serve the answer{by}", p.address),
            chain,
            "answer /.well-known/acme-challenge/ on this name, or make sure the other host serves the token".into(),
        ),
        RedirectKind::Unusable => Finding::error(
            "http",
            format!("{} redirects {name} to {to:?}, which the CA cannot follow{by}", p.address),
            chain,
            "use an absolute http(s) URL or a path in Location".into(),
        ),
    })
}

/// The fix for an nginx answer without the token, by its status and deciding directive.
fn nginx_fix(status: u16, directive: &str) -> String {
    let serves_files = directive.starts_with("root") || directive.starts_with("alias");
    match (status, serves_files) {
        (403, true) => "nginx's worker user cannot read the webroot: give it x on every directory above the files and r on them (or `user` in nginx.conf)".into(),
        (404, true) => "nginx serves another directory than the webroot certwright writes to: pass that root as -w, or point the root at it".into(),
        _ => "let /.well-known/acme-challenge/ through: remove the rule, or add `location ^~ /.well-known/acme-challenge/ { root <webroot>; }` before it".into(),
    }
}

/// Whether nginx answered (its `Server` header, on by default).
fn served_by_nginx(hop: &probe::Hop) -> bool {
    hop.server
        .as_deref()
        .is_some_and(|s| s.to_ascii_lowercase().starts_with("nginx"))
}

/// nginx's configuration, when there is one to explain answers with: `server_root`'s
/// nginx.conf when given, else the one running master's `-c` file, else `default`.
pub(super) fn nginx_config(server_root: Option<&Path>, default: &Path) -> Option<nginx::Config> {
    let main = match server_root {
        Some(root) => root.join("nginx.conf"),
        None => match nginx::running_master_configs(default).as_slice() {
            [only] => only.clone(),
            _ => default.to_path_buf(),
        },
    };
    main.exists().then(|| nginx::load(&main).ok()).flatten()
}
