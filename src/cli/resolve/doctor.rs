//! `doctor`: the names, solver and CA to check, taken as `certonly` takes them.

use std::path::Path;

use crate::config::Authenticator;
use crate::error::{Error, InputError};
use crate::ops::doctor::DoctorRequest;

use crate::cli::{DoctorArgs, DEFAULT_NGINX_ROOT};

use super::{
    ca_bundle, check_http01_names, manual_authenticator, parse_domains, resolvers, server,
    solver_authenticator,
};

/// `doctor`: the names, the solver and CA as `certonly` takes them (a solver only when one
/// is given: else each lineage's own), and `--dns-resolver` for every lookup.
pub(crate) fn doctor(
    args: &DoctorArgs,
    webroots: &[Option<usize>],
) -> Result<DoctorRequest, Error> {
    let (names, webroot_index) = if args.domains.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        parse_domains(&args.domains, webroots, &[])?
    };
    let a = &args.auth;
    let given = a.standalone
        || a.webroot
        || !a.webroot_path.is_empty()
        || a.nginx
        || a.dns_rfc2136
        || a.dns.is_some()
        || a.dns_cloudflare
        || a.dns_route53
        || a.manual;
    if given && names.is_empty() && (a.webroot || !a.webroot_path.is_empty()) {
        return Err(InputError::Needs {
            what: "--webroot in doctor".into(),
            needs: "the -d names it serves".into(),
        }
        .into());
    }
    let authenticator = match (given, a.manual) {
        (false, _) => None,
        (true, true) => Some(manual_authenticator(a, false)?),
        (true, false) => Some(solver_authenticator(
            a,
            &args.nginx,
            &names,
            &webroot_index,
        )?),
    };
    if !authenticator.as_ref().is_some_and(Authenticator::is_dns) {
        check_http01_names(&names)?;
    }
    let explicit_server = args.server.server.is_some() || args.server.staging;
    Ok(DoctorRequest {
        cert_names: args
            .cert_name
            .iter()
            .map(|n| n.parse())
            .collect::<Result<_, _>>()?,
        names,
        authenticator,
        default_authenticator: Authenticator::Standalone {
            http_01_port: a.http_01_port,
            http_01_address: None,
        },
        resolvers: resolvers(a)?,
        http_01_port: a.http_01_port,
        server: explicit_server
            .then(|| server(args.server.server.as_deref(), args.server.staging))
            .transpose()?,
        default_server: server(None, false)?,
        ca_bundle: ca_bundle(args.server.ca_bundle.as_deref())?,
        nginx_root: (args.nginx.nginx_server_root.as_path() != Path::new(DEFAULT_NGINX_ROOT))
            .then(|| args.nginx.nginx_server_root.clone()),
        nginx_default_conf: Path::new(DEFAULT_NGINX_ROOT).join("nginx.conf"),
        system_root: args.system_root.clone(),
        certbot_dir: args.certbot_dir.clone(),
        json: args.json,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{input_error, parse};
    use super::*;
    use crate::cli::Command;
    use crate::types::ServerUrl;

    fn doctor_request(args: &[&str]) -> Result<DoctorRequest, Error> {
        let Command::Doctor(a) = parse(args).command else {
            panic!("not doctor")
        };
        doctor(&a, &[])
    }

    #[test]
    fn doctor_takes_names_solver_and_ca_as_certonly_does() {
        let r = doctor_request(&[
            "doctor",
            "-d",
            "a.example.com",
            "--standalone",
            "--http-01-port",
            "8080",
            "--staging",
        ])
        .unwrap();
        assert_eq!(r.names.len(), 1);
        assert_eq!(r.names[0].as_str(), "a.example.com");
        assert!(matches!(
            r.authenticator,
            Some(Authenticator::Standalone {
                http_01_port: 8080,
                ..
            })
        ));
        assert_eq!(
            r.server.as_ref().map(ServerUrl::as_str),
            Some(ServerUrl::LETSENCRYPT_STAGING)
        );
        let r = doctor_request(&["doctor"]).unwrap();
        assert!(r.names.is_empty() && r.authenticator.is_none() && r.server.is_none());
    }

    #[test]
    fn doctor_refuses_a_webroot_without_names_and_wildcards_over_http() {
        let e = input_error(doctor_request(&["doctor", "--webroot", "-w", "/tmp"]));
        assert!(
            matches!(&e, InputError::Needs { what, .. } if what == "--webroot in doctor"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "--webroot in doctor needs the -d names it serves"
        );
        let e = input_error(doctor_request(&["doctor", "-d", "*.example.com"]));
        assert!(matches!(e, InputError::Domain { .. }), "{e:?}");
    }
}
