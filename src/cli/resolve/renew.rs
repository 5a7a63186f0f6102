//! `renew`: its names, its overrides of the saved settings, and certbot's ignored global flags.

use crate::config::{Authenticator, Hooks};
use crate::error::Error;
use crate::ops::renew::overrides::{Overrides, Solver};
use crate::ops::renew::RenewRequest;
use crate::types::{CertName, ServerUrl};

use crate::cli::{AuthenticatorArgs, CertbotGlobalArgs, KeyTypeArg, RenewArgs, RenewOverrideArgs};

use super::{
    alerts, ca_bundle, canonical_webroot, curve, hooks, preferred_challenges,
    provider_authenticator,
};

/// `renew`: names, dry-run server and hooks checked; the fleet and bound ports are the
/// command's.
pub(crate) fn renew(args: &RenewArgs) -> Result<RenewRequest, Error> {
    let names = args
        .cert_name
        .iter()
        .map(|n| n.parse::<CertName>())
        .collect::<Result<Vec<_>, _>>()?;
    let dry_run_server = args
        .dry_run_server
        .as_deref()
        .map(str::parse::<ServerUrl>)
        .transpose()?;
    Ok(RenewRequest {
        names,
        dry_run: args.dry_run,
        dry_run_server,
        force: args.force_renewal,
        overrides: renew_overrides(&args.overrides, hooks(&args.hooks)?)?,
        no_directory_hooks: args.hooks.no_directory_hooks,
        run_deploy_hooks: args.run_deploy_hooks,
        concurrency: usize::from(args.concurrency),
        alerts: alerts(&args.alerts)?,
        ca_bundle: ca_bundle(args.ca_bundle.as_deref())?,
        ..RenewRequest::default()
    })
}

/// renew's changes to the saved settings, checked as certonly checks them.
fn renew_overrides(args: &RenewOverrideArgs, hooks: Hooks) -> Result<Overrides, Error> {
    let auth = AuthenticatorArgs {
        dns_rfc2136_credentials: args.dns_rfc2136_credentials.clone(),
        dns_cloudflare_credentials: args.dns_cloudflare_credentials.clone(),
        dns_credentials: args.dns_credentials.clone(),
        preferred_challenges: args.preferred_challenges.clone(),
        ..AuthenticatorArgs::default()
    };
    preferred_challenges(&auth)?;
    let secs = args.dns_propagation_seconds.unwrap_or(0);
    let webroot = args
        .webroot_path
        .as_deref()
        .map(canonical_webroot)
        .transpose()?;
    let solver = if args.dns_rfc2136 {
        let creds = ("--dns-rfc2136-credentials", &auth.dns_rfc2136_credentials);
        Some(Solver::Ready(provider_authenticator(
            &auth, "rfc2136", creds, secs,
        )?))
    } else if args.dns_cloudflare {
        let creds = (
            "--dns-cloudflare-credentials",
            &auth.dns_cloudflare_credentials,
        );
        Some(Solver::Ready(provider_authenticator(
            &auth,
            "cloudflare",
            creds,
            secs,
        )?))
    } else if let Some(p) = &args.dns {
        let creds = ("--dns-credentials", &auth.dns_credentials);
        Some(Solver::Ready(provider_authenticator(
            &auth, p, creds, secs,
        )?))
    } else if args.dns_route53 {
        Some(Solver::Ready(Authenticator::DnsRoute53 {
            resolvers: Vec::new(),
            propagation_seconds: secs,
        }))
    } else if args.standalone {
        Some(Solver::Standalone)
    } else if args.nginx {
        Some(Solver::Nginx)
    } else if args.webroot {
        webroot.clone().map(Solver::Webroot)
    } else {
        None
    };
    Ok(Overrides {
        hooks,
        solver,
        http_01_port: args.http_01_port,
        http_01_address: args.http_01_address,
        webroot,
        nginx_server_root: args.nginx_server_root.clone(),
        nginx_ctl: args.nginx_ctl.clone(),
        propagation_seconds: args.dns_propagation_seconds,
        rsa: args.key_type.map(|k| k == KeyTypeArg::Rsa),
        rsa_bits: args.rsa_key_size,
        curve: args.elliptic_curve.map(curve),
        reuse_key: match (args.keys.reuse_key, args.keys.new_key) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        allow_subset_of_names: args.allow_subset_of_names,
        preferred_chain: args.keys.preferred_chain.clone(),
        issuance_timeout: args.issuance_timeout,
    })
}

/// The note for certbot's global flags a verb accepts but has no use for (None if none was
/// given); `extra` names more such flags of the verb.
pub(crate) fn ignored_certbot_flags(
    g: &CertbotGlobalArgs,
    extra: &[(&str, bool)],
) -> Option<String> {
    let given: Vec<&str> = [("--server", g.server.is_some()), ("--staging", g.staging)]
        .iter()
        .chain(extra)
        .filter(|(_, on)| *on)
        .map(|(flag, _)| *flag)
        .collect();
    (!given.is_empty()).then(|| {
        format!(
            "ignoring {} (accepted for certbot compatibility): each certificate uses the ACME \
             server saved in its renewal config",
            given.join(" and ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{input_error, parse};
    use super::*;
    use crate::cli::Command;
    use crate::error::InputError;

    fn renew_args(args: &[&str]) -> RenewArgs {
        let Command::Renew(a) = parse(args).command else {
            panic!("not renew")
        };
        a
    }

    #[test]
    fn renew_flags_resolve_to_the_request_and_overrides() {
        let r = renew(&renew_args(&[
            "renew",
            "--cert-name",
            "a.example.com",
            "--dry-run",
            "--force-renewal",
            "--standalone",
            "--http-01-port",
            "8080",
            "--key-type",
            "rsa",
            "--rsa-key-size",
            "3072",
            "--reuse-key",
            "--concurrency",
            "3",
            "--post-hook",
            "echo done",
        ]))
        .unwrap();
        assert_eq!(r.names.len(), 1);
        assert_eq!(r.names[0].as_str(), "a.example.com");
        assert!(r.dry_run && r.force);
        assert_eq!(r.concurrency, 3);
        let o = &r.overrides;
        assert!(matches!(o.solver, Some(Solver::Standalone)));
        assert_eq!(o.http_01_port, Some(8080));
        assert_eq!(
            (o.rsa, o.rsa_bits, o.reuse_key),
            (Some(true), Some(3072), Some(true))
        );
        assert_eq!(o.hooks.post_hook.as_deref(), Some("echo done"));
        let r = renew(&renew_args(&["renew"])).unwrap();
        assert!(r.names.is_empty() && r.overrides.solver.is_none());
    }

    #[test]
    fn bad_renew_flags_are_refused() {
        let e = input_error(renew(&renew_args(&["renew", "--cert-name", "bad/name"])));
        assert!(matches!(e, InputError::CertName { .. }), "{e:?}");
        let e = input_error(renew(&renew_args(&[
            "renew",
            "--preferred-challenges",
            "tls",
        ])));
        assert!(
            matches!(&e, InputError::BadValue { flag: "--preferred-challenges", value, .. } if value == "tls"),
            "{e:?}"
        );
        let e = input_error(renew(&renew_args(&[
            "renew",
            "--dry-run",
            "--dry-run-server",
            "not a url",
        ])));
        assert!(matches!(e, InputError::Server { .. }), "{e:?}");
        let e = input_error(renew(&renew_args(&[
            "renew",
            "--webroot",
            "-w",
            "/no/such/webroot/dir",
        ])));
        assert!(
            matches!(
                e,
                InputError::BadPath {
                    flag: "webroot",
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn certbot_global_flags_are_noted_not_used() {
        let a = renew_args(&["renew", "--staging"]);
        let note = ignored_certbot_flags(&a.certbot, &[]).expect("a note");
        assert!(note.starts_with("ignoring --staging (accepted for certbot compatibility)"));
        assert!(ignored_certbot_flags(&renew_args(&["renew"]).certbot, &[]).is_none());
    }
}
