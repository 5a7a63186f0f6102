//! After the CA failed a validation: `doctor`'s checks for that name, through the solver
//! the run already prepared (its port is still bound, nginx's turn still taken), so the
//! reason can be printed under the CA's error and go into the failure alert.

use std::net::SocketAddr;

use crate::challenge::dns::{parse_resolver, Lookup};
use crate::config::Authenticator;
use crate::types::ServerUrl;

use crate::ops::output::Ui;
use crate::ops::solve::Prepared;

use super::report::{Finding, Severity};
use super::{dns, http};

/// Resolvers for the checks after a failure, ADDR[:PORT] comma-separated (e.g. the CA's own
/// resolver in a test rig); default: the DNS solver's `--dns-resolver`, else resolv.conf's.
pub(crate) const RESOLVER_ENV: &str = "CERTWRIGHT_DOCTOR_RESOLVER";

/// The findings for `identifier`, one line each ("what (where: ...; fix: ...)").
pub(crate) async fn after_failure(
    ui: &Ui,
    solver: &mut Prepared<'_>,
    auth: &Authenticator,
    server: &ServerUrl,
    identifier: &str,
) -> Vec<String> {
    let lookup = lookup_for(auth);
    let identities = dns::identities(&[], server.as_str());
    let method = if auth.is_dns() { "dns-01" } else { "http-01" };
    let mut findings = Vec::new();
    if auth.is_dns() {
        findings.extend(dns::dns01(&lookup, identifier).await);
    } else {
        let (resolution, found) = dns::addresses(&lookup, identifier).await;
        findings.extend(found);
        // No resolver answered at all: asking again for CAA would only wait as long again.
        if resolution.addresses.is_empty() && resolution.problem.is_none() {
            return lines(&findings);
        }
        // --manual's hooks are the user's: not run again for a diagnosis.
        let manual = matches!(auth, Authenticator::Manual { .. });
        if !resolution.addresses.is_empty() && !manual {
            findings.extend(probe(ui, solver, auth, identifier, resolution.addresses).await);
        }
    }
    let ctx = dns::CaaContext {
        identities: &identities,
        method,
        account: dns::Account::NotChecked,
    };
    findings.extend(dns::caa(&lookup, identifier, &ctx).await);
    lines(&findings)
}

/// The errors among `findings`, one line each.
fn lines(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| match f.what.contains(&f.place) {
            true => format!("{} (fix: {})", f.what, f.fix),
            false => format!("{} (where: {}; fix: {})", f.what, f.place, f.fix),
        })
        .collect()
}

async fn probe(
    ui: &Ui,
    solver: &mut Prepared<'_>,
    auth: &Authenticator,
    identifier: &str,
    addresses: Vec<std::net::IpAddr>,
) -> Vec<Finding> {
    let port = http::http_port(auth).unwrap_or(80);
    let targets = [http::Target {
        name: identifier.to_string(),
        addresses,
    }];
    // Only nginx's own config explains an answer: a webroot's server is not known.
    let conf = match auth {
        Authenticator::Nginx { server_root, .. } => {
            let main = server_root.join("nginx.conf");
            http::nginx_config(Some(server_root), &main)
        }
        _ => None,
    };
    match http::probe_with(ui, solver, port, &targets).await {
        Ok(all) => {
            let probes = all.into_iter().next().unwrap_or_default();
            http::findings(identifier, port, &probes, conf.as_ref()).1
        }
        Err(reason) => vec![Finding::error(
            "solver",
            format!("a test answer could not be published again: {reason}"),
            auth.name().to_string(),
            "fix the solver's set-up".into(),
        )],
    }
}

fn lookup_for(auth: &Authenticator) -> Lookup {
    let from_env: Vec<SocketAddr> = std::env::var(RESOLVER_ENV)
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .filter_map(|s| parse_resolver(s.trim()))
        .collect();
    if !from_env.is_empty() {
        return Lookup::new(from_env);
    }
    let solver_resolvers = super::dns01::solver_resolvers(auth);
    if solver_resolvers.is_empty() {
        Lookup::system()
    } else {
        Lookup::new(solver_resolvers)
    }
}
