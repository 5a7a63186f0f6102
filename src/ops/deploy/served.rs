//! Proof that nginx serves each lineage's live certificate: every HTTPS `listen` of every
//! server block whose `ssl_certificate` is the lineage's live file is probed with SNI for
//! each of the block's host names (never a wildcard: see [`probe_name`]), and the served
//! leaf is compared with the live one (`verify`), retrying while old workers drain. A name
//! the lineage does not cover is reported as not covered even when its leaf is served.

use std::net::SocketAddr;
use std::path::Path;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde::Serialize;

use crate::config::{Installer, RenewalConfig};
use crate::error::Error;
use crate::nginx;
use crate::store::Store;
use crate::types::{CertName, DomainName};
use crate::verify::{self, Outcome, Probe, ProbeResult, RetryOpts};

/// One lineage's verification.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ServedReport {
    pub name: String,
    pub probes: Vec<ProbeResult>,
    /// Why nothing was probed (not installed into nginx, no HTTPS listen...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

impl ServedReport {
    /// `None` when nothing was probed.
    pub(crate) fn all_match(&self) -> Option<bool> {
        (!self.probes.is_empty()).then(|| self.probes.iter().all(|p| p.outcome == Outcome::Match))
    }

    /// Probes that reached nginx and got another certificate, or one not covering the name
    /// (an unreachable address is only a warning: nginx may listen where this host cannot
    /// connect).
    pub(crate) fn mismatched(&self) -> usize {
        self.probes
            .iter()
            .filter(|p| matches!(p.outcome, Outcome::Mismatch { .. } | Outcome::NotCovered))
            .count()
    }

    /// `ADDR name` of each probe that did not serve the live leaf (for alerts).
    pub(crate) fn mismatches(&self) -> Vec<String> {
        self.probes
            .iter()
            .filter(|p| p.outcome != Outcome::Match)
            .map(|p| format!("{} {}", p.probe.addr, p.probe.name))
            .collect()
    }
}

/// Checks one lineage against the nginx it is installed into.
pub(crate) async fn check_lineage(
    store: &Store,
    config: &RenewalConfig,
    opts: RetryOpts,
) -> Result<ServedReport, Error> {
    let name = &config.cert_name;
    let report = |probes, skipped: Option<&str>| ServedReport {
        name: name.to_string(),
        probes,
        skipped: skipped.map(String::from),
    };
    let Some(installer @ Installer::Nginx { server_root, .. }) = &config.installer else {
        return Ok(report(Vec::new(), Some("not installed into nginx")));
    };
    // Probing a stopped nginx would only wait out the retry deadline on refused connections.
    if !crate::ops::deploy::nginx_txn::ctl_for(installer).is_running() {
        return Ok(report(Vec::new(), Some("nginx is not running")));
    }
    let Some(expected) = live_leaf(store, name)? else {
        return Ok(report(Vec::new(), Some("no live certificate")));
    };
    let probes = probes_for(store, config, server_root)?;
    if probes.is_empty() {
        return Ok(report(Vec::new(), Some("no HTTPS server block uses it")));
    }
    let mut results = verify::verify(&probes, &expected, opts).await;
    for r in &mut results {
        let covered = config.domains.iter().any(|d| d.covers(&r.probe.name))
            || r.probe.name.starts_with(WILDCARD_PROBE_LABEL);
        if r.outcome == Outcome::Match && !covered {
            r.outcome = Outcome::NotCovered;
        }
    }
    Ok(report(results, None))
}

/// DER of the live leaf.
fn live_leaf(store: &Store, name: &CertName) -> Result<Option<Vec<u8>>, Error> {
    let Some((fullchain, _key)) = store.read_live(name)? else {
        return Ok(None);
    };
    Ok(CertificateDer::pem_slice_iter(&fullchain)
        .next()
        .and_then(Result::ok)
        .map(|c| c.to_vec()))
}

/// One probe per (HTTPS listen address, covered name) of the blocks using the lineage.
fn probes_for(
    store: &Store,
    config: &RenewalConfig,
    server_root: &Path,
) -> Result<Vec<Probe>, Error> {
    let tree = nginx::load(&server_root.join("nginx.conf"))?;
    let name = config.cert_name.as_str();
    let paths = store.live_paths(&config.cert_name);
    let ours = [paths.fullchain, paths.cert];
    let mut probes = Vec::new();
    for block in tree.server_blocks() {
        let uses_ours = tree
            .ssl_certificates(&block)
            .iter()
            .any(|c| ours.iter().any(|p| Path::new(c) == p) || certbots_live(c, name));
        if !uses_ours {
            continue;
        }
        let mut names: Vec<String> = Vec::new();
        for n in &block.names {
            // Every host name the block serves: one the certificate does not cover is
            // probed too, and reported as such.
            let sni = probe_name(&config.domains, n)
                .or_else(|| nginx::is_host_name(n).then(|| n.clone()));
            if let Some(sni) = sni.filter(|s| !names.contains(s)) {
                names.push(sni);
            }
        }
        if names.is_empty() {
            names = config.domains.iter().map(|d| sni_for(d.as_str())).collect();
        }
        for listen in block.listens.iter().filter(|l| l.ssl) {
            let Some(ip) = listen.local_ip() else {
                continue;
            };
            for name in &names {
                let probe = Probe {
                    addr: SocketAddr::new(ip, listen.port),
                    name: name.clone(),
                };
                if !probes.contains(&probe) {
                    probes.push(probe);
                }
            }
        }
    }
    Ok(probes)
}

/// A lineage imported from certbot is served from certbot's `live/NAME/` until `install`
/// moves nginx to certwright's paths: such a block is checked too (and shows the mismatch
/// once certwright has renewed and nginx still serves certbot's files).
fn certbots_live(path: &str, name: &str) -> bool {
    let path = Path::new(path);
    ["fullchain.pem", "cert.pem"]
        .iter()
        .any(|f| path.ends_with(Path::new("live").join(name).join(f)))
}

/// A wildcard is never sent as SNI (it is not a host name): a wildcard `server_name`
/// (`*.zone`, `.zone`) is probed with this label under `zone`, which nginx routes to it.
const WILDCARD_PROBE_LABEL: &str = "certwright-verify";

/// The SNI to probe a block's `server_name` with, if the lineage covers it: the name itself
/// (listed, or one label under a listed wildcard), or a made-up host name under a wildcard
/// `server_name` the lineage's wildcard matches.
fn probe_name(domains: &[DomainName], server_name: &str) -> Option<String> {
    if domains.iter().any(|d| d.covers(server_name)) {
        return Some(server_name.to_string());
    }
    let zone = server_name
        .strip_prefix("*.")
        .or_else(|| server_name.strip_prefix('.'))?;
    let wildcard = format!("*.{zone}");
    if domains.iter().any(|d| d.as_str() == wildcard) {
        return Some(sni_for(&wildcard));
    }
    (server_name.starts_with('.') && domains.iter().any(|d| d.as_str() == zone))
        .then(|| zone.to_string())
}

/// `name` as a host name to send as SNI.
fn sni_for(name: &str) -> String {
    match name.strip_prefix("*.") {
        Some(zone) => format!("{WILDCARD_PROBE_LABEL}.{zone}"),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_probed_with_host_names_only() {
        let domains: Vec<DomainName> = ["*.example.com", "example.com"]
            .iter()
            .map(|d| d.parse().unwrap())
            .collect();
        let probe = |n: &str| probe_name(&domains, n);
        assert_eq!(probe("api.example.com").as_deref(), Some("api.example.com"));
        assert_eq!(probe("example.com").as_deref(), Some("example.com"));
        let made_up = Some("certwright-verify.example.com");
        assert_eq!(probe("*.example.com").as_deref(), made_up);
        assert_eq!(probe(".example.com").as_deref(), made_up);
        for not_ours in ["a.b.example.com", "other.test", "_", "*.other.test", "~^x"] {
            assert_eq!(probe(not_ours), None, "{not_ours}");
        }
        let apex_only: Vec<DomainName> = vec!["example.com".parse().unwrap()];
        assert_eq!(
            probe_name(&apex_only, ".example.com").as_deref(),
            Some("example.com")
        );
        assert_eq!(probe_name(&apex_only, "*.example.com"), None);
        assert_eq!(sni_for("*.example.com"), "certwright-verify.example.com");
        assert_eq!(sni_for("example.com"), "example.com");
    }
}
