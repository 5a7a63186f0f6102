//! The resolve step: parsed arguments -> the validated requests `ops` takes. Every exit-2
//! error is made here, before any network I/O and before anything is written (local input
//! files such as `--csr`, `--ca-bundle` and key files are read here to check them).

mod alerts;
mod authenticator;
mod csr;
mod daemon;
mod deploy;
mod doctor;
mod fleet;
mod hooks;
mod issuance;
mod nginx;
mod renew;
mod server;
mod webroot;

use std::net::IpAddr;
use std::path::Path;

use crate::error::{Error, InputError};
use crate::ops::issue::certify::{IssuanceChoice, Request};
use crate::ops::output::Ui;
use crate::ops::privileges::Prebound;
use crate::ops::revoke::Target;
use crate::ops::Settings;
use crate::safe::file::{self, Policy};
use crate::store::inspect;
use crate::types::{CertName, DomainName, ServerUrl};

use crate::cli::{CertonlyArgs, GlobalArgs};

pub(crate) use alerts::{alert_targets, alerts};
use authenticator::{
    authenticator, manual_authenticator, preferred_challenges, provider_authenticator, resolvers,
    solver_authenticator,
};
pub(crate) use csr::csr;
pub(crate) use daemon::daemon;
pub(crate) use deploy::deploy_targets;
pub(crate) use doctor::doctor;
use fleet::fleet_settings;
pub(crate) use hooks::hooks;
pub(crate) use issuance::key_type;
use issuance::{curve, issuance_choice};
pub(crate) use nginx::{installer, nginx_settings};
pub(crate) use renew::{ignored_certbot_flags, renew};
pub(crate) use server::{ca_bundle, eab, server, server_choice};
pub(crate) use webroot::canonical_webroot;
use webroot::{webroot_map, webroot_with_map};

/// The global flags.
pub(crate) fn settings(g: &GlobalArgs) -> Result<Settings, Error> {
    Ok(Settings {
        config_dir: g.config_dir.clone(),
        work_dir: g.work_dir.clone(),
        logs_dir: g.logs_dir.clone(),
        non_interactive: g.non_interactive,
        verbose: g.verbose,
        quiet: g.quiet,
        user: g.user.clone(),
        fleet: fleet_settings(g)?,
    })
}

/// A file of public data the user named (a certificate, a CSR, a CA bundle).
pub(super) fn read_public(path: &Path) -> Result<Vec<u8>, String> {
    file::read(path, Policy::PUBLIC)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "No such file or directory".to_string())
}

/// `revoke`'s target: `--cert-name`, or `--cert-path` whose leaf is read now.
pub(crate) fn revoke_target(name: Option<&str>, path: Option<&Path>) -> Result<Target, Error> {
    match (name, path) {
        (Some(name), _) => Ok(Target::Lineage(name.parse()?)),
        (None, Some(path)) => Ok(Target::File {
            path: path.to_path_buf(),
            leaf_der: read_leaf(path)?,
        }),
        // clap's required group makes this unreachable; keep it a usage error anyway.
        (None, None) => Err(InputError::MissingFlag {
            flags: "--cert-name NAME or --cert-path PATH",
        }
        .into()),
    }
}

/// The leaf (first certificate) of a PEM file, checked before any I/O.
fn read_leaf(path: &Path) -> Result<Vec<u8>, Error> {
    let bad_path = |problem: String| InputError::BadPath {
        flag: "--cert-path",
        path: path.to_path_buf(),
        problem,
    };
    let pem = read_public(path).map_err(|reason| InputError::UnusableFile {
        flag: "--cert-path",
        path: path.to_path_buf(),
        reason,
    })?;
    let ders = inspect::split_pem_chain(&pem)
        .map_err(|e| bad_path(format!("is not a PEM certificate: {e}")))?;
    ders.into_iter()
        .next()
        .ok_or_else(|| bad_path("holds no certificate".into()).into())
}

/// Parse names, drop duplicates (keeping the first), and carry each name's webroot index.
pub(super) fn parse_domains(
    raw: &[String],
    webroots: &[Option<usize>],
    ips: &[IpAddr],
) -> Result<(Vec<DomainName>, Vec<Option<usize>>), Error> {
    let mut names: Vec<DomainName> = Vec::new();
    let mut roots = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let name: DomainName = r.parse()?;
        if !names.contains(&name) {
            names.push(name);
            roots.push(webroots.get(i).copied().flatten());
        }
    }
    if names.is_empty() && ips.is_empty() {
        return Err(InputError::Missing {
            what: "no domain given",
            fix: "pass -d NAME",
        }
        .into());
    }
    Ok((names, roots))
}

/// Check names for HTTP-01 before any network I/O.
pub(crate) fn check_http01_names(domains: &[DomainName]) -> Result<(), Error> {
    if let Some(w) = domains.iter().find(|d| d.is_wildcard()) {
        return Err(InputError::Domain {
            name: w.to_string(),
            reason: "wildcard certificates need the dns-01 challenge (--dns PROVIDER --dns-credentials FILE, --dns-rfc2136 --dns-rfc2136-credentials FILE, or --manual --preferred-challenges dns with hooks); http-01 (standalone, webroot, nginx) cannot prove control of every subdomain".into(),
        }
        .into());
    }
    Ok(())
}

/// `certonly` (and `run`): parse and check every input; no file is touched and nothing is
/// sent before this passes. The fleet and ports bound for `--user` are the command's.
/// `at_terminal`: not -n, and stdin is a terminal (an interactive `--manual` may ask).
pub(crate) fn certonly(
    ui: &Ui,
    args: CertonlyArgs,
    webroots: &[Option<usize>],
    at_terminal: bool,
) -> Result<Request, Error> {
    let issuance = issuance_choice(&args.request.issuance)?;
    let csr = csr(&args.csr)?;
    let mut raw_domains = args.request.domains.clone();
    for (name, _) in webroot_map(args.auth.webroot_map.as_deref())? {
        if !raw_domains.contains(&name) {
            raw_domains.push(name);
        }
    }
    let (domains, webroot_index) = match &csr {
        Some(c) => (c.domains.clone(), vec![None; c.domains.len()]),
        None => parse_domains(&raw_domains, webroots, &issuance.ip_addresses)?,
    };
    let ip_addresses = match &csr {
        Some(c) => c.csr.ip_addresses.clone(),
        None => issuance.ip_addresses.clone(),
    };
    check_ip_identifiers(&args, &domains, &ip_addresses)?;
    for (raw, name) in args.request.domains.iter().zip(&domains) {
        if DomainName::was_converted(raw, name) {
            ui.note(format!("{raw} is requested as {name} (punycode)"));
        }
    }
    let authenticator = authenticator(&args, &domains, &webroot_index, at_terminal)?;
    if !authenticator.is_dns() {
        check_http01_names(&domains)?;
    }
    let cert_name = cert_name(args.request.cert_name.as_deref(), &domains, &ip_addresses)?;
    let r = &args.request;
    Ok(Request {
        cert_name,
        cert_name_given: r.cert_name.is_some(),
        domains,
        server: server(args.account.server.as_deref(), args.account.staging)?,
        ca_bundle: ca_bundle(args.account.ca_bundle.as_deref())?,
        key_type: key_type(r.key_type, r.elliptic_curve, r.rsa_key_size),
        authenticator,
        email: args.account.email.as_deref().map(str::parse).transpose()?,
        without_email: args.account.register_unsafely_without_email,
        agree_tos: args.account.agree_tos,
        force_renewal: r.force_renewal,
        expand: r.expand,
        json: args.json,
        prebound: Prebound::default(),
        fleet: None,
        deploy: deploy_targets(&args.deploy)?,
        eab: eab(ui, &args.account.eab)?,
        issuance: IssuanceChoice {
            ip_addresses,
            ..issuance
        },
        csr,
        hooks: hooks(&args.hooks)?,
        dry_run: args.dry_run,
        dry_run_server: args
            .dry_run_server
            .as_deref()
            .map(str::parse::<ServerUrl>)
            .transpose()?,
    })
}

/// IP address identifiers (RFC 8738) work with the standalone and webroot solvers only.
fn check_ip_identifiers(
    args: &CertonlyArgs,
    domains: &[DomainName],
    ip_addresses: &[IpAddr],
) -> Result<(), Error> {
    if ip_addresses.is_empty() {
        return Ok(());
    }
    if args.auth.nginx {
        return Err(InputError::IpWithNginx.into());
    }
    if domains.is_empty() && (args.auth.webroot || !args.auth.webroot_path.is_empty()) {
        return Err(InputError::Needs {
            what: "--ip-address with --webroot".into(),
            needs: "at least one -d name: its document root serves the IP addresses".into(),
        }
        .into());
    }
    Ok(())
}

/// `--cert-name`, else the first name, else the first IP address (`:` made `-`).
pub(super) fn cert_name(
    given: Option<&str>,
    domains: &[DomainName],
    ip_addresses: &[IpAddr],
) -> Result<CertName, Error> {
    Ok(match (given, domains.first()) {
        (Some(n), _) => n.parse()?,
        // certbot names a wildcard's lineage after its base name.
        (None, Some(d)) => d.as_str().trim_start_matches("*.").parse()?,
        (None, None) => ip_addresses
            .first()
            .map(|ip| ip.to_string().replace(':', "-"))
            .unwrap_or_default()
            .parse()?,
    })
}
