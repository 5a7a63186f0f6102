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

/// What every flag group's tests share: parse as clap does, take the input error.
#[cfg(test)]
mod testing {
    use crate::cli::Cli;
    use crate::error::{Error, InputError};
    use crate::ops::output::Ui;

    /// A command line parsed by the clap types (no cli.ini, no certbot rewriting).
    pub(super) fn parse(args: &[&str]) -> Cli {
        use clap::Parser;
        Cli::try_parse_from(std::iter::once("certwright").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?} does not parse: {e}"))
    }

    /// The input error a resolve failed with (a panic for success or another error).
    pub(super) fn input_error<T>(result: Result<T, Error>) -> InputError {
        match result {
            Err(Error::Input(e)) => e,
            Err(e) => panic!("expected an input error, got {e:?}"),
            Ok(_) => panic!("expected an input error, it resolved"),
        }
    }

    /// A quiet, non-terminal Ui.
    pub(super) const UI: Ui = Ui {
        quiet: true,
        tty: false,
    };

    /// `-d` values as the names they are (each valid in these tests).
    pub(super) fn domains(raw: &[String]) -> Vec<crate::types::DomainName> {
        raw.iter().map(|d| d.parse().unwrap()).collect()
    }

    /// A file (or directory) path in a temp dir, as text for a command line.
    pub(super) fn path_in(dir: &tempfile::TempDir, name: &str) -> String {
        dir.path().join(name).display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{input_error, parse, path_in, UI};
    use super::*;
    use crate::cli::Command;
    use crate::config::Authenticator;
    use crate::types::{Curve, KeyType};

    fn certonly_request(args: &[&str]) -> Result<Request, Error> {
        let Command::Certonly(a) = parse(args).command else {
            panic!("not certonly")
        };
        certonly(&UI, a, &[], false)
    }

    #[test]
    fn certonly_resolves_names_account_and_defaults() {
        let r = certonly_request(&[
            "certonly",
            "-d",
            "a.example.com,www.a.example.com",
            "-d",
            "a.example.com",
            "-m",
            "admin@example.com",
            "--agree-tos",
        ])
        .unwrap();
        assert_eq!(r.cert_name.as_str(), "a.example.com");
        assert!(!r.cert_name_given);
        let names: Vec<&str> = r.domains.iter().map(|d| d.as_str()).collect();
        assert_eq!(names, ["a.example.com", "www.a.example.com"]);
        assert_eq!(r.server.as_str(), ServerUrl::LETSENCRYPT);
        assert_eq!(r.email.unwrap().to_string(), "admin@example.com");
        assert!(r.agree_tos);
        assert_eq!(r.key_type, KeyType::Ecdsa { curve: Curve::P256 });
        assert!(matches!(
            r.authenticator,
            Authenticator::Standalone {
                http_01_port: 80,
                http_01_address: None
            }
        ));
        assert!(r.deploy.is_none() && r.eab.is_none() && r.csr.is_none());
    }

    #[test]
    fn certonly_names_an_ip_only_lineage_after_its_address() {
        let r = certonly_request(&["certonly", "--ip-address", "2001:db8::1"]).unwrap();
        assert_eq!(r.cert_name.as_str(), "2001-db8--1");
        assert!(r.domains.is_empty());
    }

    #[test]
    fn certonly_refuses_missing_and_unservable_names() {
        let e = input_error(certonly_request(&[
            "certonly",
            "--cert-name",
            "a.example.com",
        ]));
        assert!(
            matches!(
                e,
                InputError::Missing {
                    what: "no domain given",
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "no domain given: pass -d NAME");
        let e = input_error(certonly_request(&["certonly", "-d", "*.example.com"]));
        assert!(
            matches!(&e, InputError::Domain { name, .. } if name == "*.example.com"),
            "{e:?}"
        );
        let e = input_error(certonly_request(&[
            "certonly",
            "--nginx",
            "--ip-address",
            "192.0.2.1",
        ]));
        assert!(matches!(e, InputError::IpWithNginx), "{e:?}");
        let e = input_error(certonly_request(&["certonly", "-d", "bad name.example"]));
        assert!(matches!(e, InputError::Domain { .. }), "{e:?}");
    }

    #[test]
    fn global_flags_resolve_to_settings() {
        let cli = parse(&["--config-dir", "/srv/cw", "-n", "certificates"]);
        let s = settings(&cli.global).unwrap();
        assert_eq!(s.config_dir, Path::new("/srv/cw"));
        assert!(s.non_interactive);
        assert!(s.fleet.is_none());
    }

    #[test]
    fn revoke_takes_a_lineage_or_a_readable_certificate_file() {
        let Command::Revoke(a) = parse(&["revoke", "--cert-name", "a.example.com"]).command else {
            panic!()
        };
        let target = revoke_target(a.cert_name.as_deref(), a.cert_path.as_deref()).unwrap();
        assert!(matches!(target, Target::Lineage(n) if n.as_str() == "a.example.com"));

        let dir = tempfile::tempdir().unwrap();
        let missing = path_in(&dir, "cert.pem");
        let Command::Revoke(a) = parse(&["revoke", "--cert-path", &missing]).command else {
            panic!()
        };
        let e = input_error(revoke_target(
            a.cert_name.as_deref(),
            a.cert_path.as_deref(),
        ));
        assert!(
            matches!(&e, InputError::UnusableFile { flag: "--cert-path", path, .. } if path == Path::new(&missing)),
            "{e:?}"
        );
        std::fs::write(&missing, "not pem").unwrap();
        let e = input_error(revoke_target(None, Some(Path::new(&missing))));
        assert!(
            matches!(&e, InputError::BadPath { flag: "--cert-path", problem, .. } if problem.starts_with("is not a PEM certificate")),
            "{e:?}"
        );
    }
}
