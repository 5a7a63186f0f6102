//! The authenticator and challenge flags: which solver answers, with which challenge type.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use crate::challenge::dns;
use crate::config::Authenticator;
use crate::error::{Error, InputError};
use crate::ops::deploy::hooks::check_hooks;
use crate::types::{ChallengeKind, DomainName};

use crate::cli::{AuthenticatorArgs, CertonlyArgs, NginxArgs};

use super::{nginx_settings, webroot_with_map};

/// `--dns PROVIDER`, `--dns-rfc2136` (also `--dns rfc2136`) and `--dns-cloudflare`: the
/// credentials are read and checked now (exit 2 before any network I/O); only the path is kept.
pub(super) fn provider_authenticator(
    auth: &AuthenticatorArgs,
    provider: &str,
    (flag, credentials): (&str, &Option<PathBuf>),
    propagation_seconds: u64,
) -> Result<Authenticator, Error> {
    let Some(path) = credentials else {
        return Err(InputError::Needs {
            what: format!("DNS provider {provider}"),
            needs: format!("{flag} FILE"),
        }
        .into());
    };
    dns::writer_from_file(provider, path)?;
    let credentials = std::fs::canonicalize(path).map_err(|e| InputError::Path {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let resolvers = resolvers(auth)?;
    Ok(if provider == "rfc2136" {
        Authenticator::DnsRfc2136 {
            credentials,
            resolvers,
            propagation_seconds,
        }
    } else {
        Authenticator::Dns {
            provider: provider.to_string(),
            credentials,
            resolvers,
            propagation_seconds,
        }
    })
}

/// `--preferred-challenges`: certbot's spellings (`dns`, `http`, any case) made `dns-01`/`http-01`.
pub(super) fn preferred_challenges(auth: &AuthenticatorArgs) -> Result<Vec<ChallengeKind>, Error> {
    let mut out = Vec::new();
    for raw in &auth.preferred_challenges {
        let kind = match raw.trim().to_ascii_lowercase().as_str() {
            "dns-01" | "dns" => ChallengeKind::Dns01,
            "http-01" | "http" => ChallengeKind::Http01,
            "" => continue,
            other => {
                return Err(InputError::BadValue {
                    flag: "--preferred-challenges",
                    value: other.to_string(),
                    reason: "certwright answers dns-01 (dns) and http-01 (http)".into(),
                }
                .into())
            }
        };
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

pub(super) fn resolvers(auth: &AuthenticatorArgs) -> Result<Vec<SocketAddr>, Error> {
    Ok(auth
        .dns_resolver
        .iter()
        .map(|r| {
            dns::parse_resolver(r).ok_or_else(|| InputError::BadValue {
                flag: "--dns-resolver",
                value: r.clone(),
                reason: "expected ADDR or ADDR:PORT (an IP address)".into(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?)
}

/// certbot's interactive `--manual`, run as the auth hook with the solver's CERTBOT_*
/// environment: what to publish goes to the terminal, then Enter is awaited there (its
/// stdout is the hook's output, so /dev/tty is used). Renewing such a lineage without a
/// terminal fails, as certbot's does.
const ASK_MANUAL_HTTP: &str = "printf '\\nCreate a file containing just this data:\\n\\n%s\\n\\nAnd make it available on your web server at this URL:\\n\\nhttp://%s/.well-known/acme-challenge/%s\\n\\nPress Enter to Continue' \"$CERTBOT_VALIDATION\" \"$CERTBOT_DOMAIN\" \"$CERTBOT_TOKEN\" > /dev/tty && read -r _ < /dev/tty";

const ASK_MANUAL_DNS: &str = "printf '\\nPlease deploy a DNS TXT record under the name:\\n\\n_acme-challenge.%s.\\n\\nwith the following value:\\n\\n%s\\n\\nPress Enter to Continue' \"$CERTBOT_DOMAIN\" \"$CERTBOT_VALIDATION\" > /dev/tty && read -r _ < /dev/tty";

/// `--manual`: the first of `--preferred-challenges` (http-01 without it, as certbot), hooks
/// checked like every other hook; without an auth hook, asking at the terminal.
pub(super) fn manual_authenticator(
    auth: &AuthenticatorArgs,
    interactive: bool,
) -> Result<Authenticator, Error> {
    let challenge = preferred_challenges(auth)?
        .first()
        .copied()
        .unwrap_or(ChallengeKind::Http01);
    let auth_hook = match (&auth.manual_auth_hook, interactive) {
        (Some(hook), _) => hook.clone(),
        (None, true) => match challenge {
            ChallengeKind::Http01 => ASK_MANUAL_HTTP.to_string(),
            ChallengeKind::Dns01 => ASK_MANUAL_DNS.to_string(),
        },
        (None, false) => {
            return Err(InputError::Needs {
                what: "--manual".into(),
                needs: "--manual-auth-hook CMD (or a terminal to ask at, without -n)".into(),
            }
            .into())
        }
    };
    check_hooks(&[
        ("--manual-auth-hook", Some(auth_hook.as_str())),
        ("--manual-cleanup-hook", auth.manual_cleanup_hook.as_deref()),
    ])?;
    let resolvers = resolvers(auth)?;
    if challenge == ChallengeKind::Http01 && !resolvers.is_empty() {
        return Err(InputError::Flag {
            flag: "--dns-resolver",
            problem: "is for dns-01: add --preferred-challenges dns".into(),
        }
        .into());
    }
    Ok(Authenticator::Manual {
        challenge,
        auth_hook,
        cleanup_hook: auth.manual_cleanup_hook.clone(),
        resolvers,
    })
}

/// A solver other than --manual answers one challenge type: `--preferred-challenges` must
/// list it, and `--dns-resolver` needs a DNS solver.
fn check_challenge_choice(auth: &AuthenticatorArgs, chosen: &Authenticator) -> Result<(), Error> {
    let own = if chosen.is_dns() {
        ChallengeKind::Dns01
    } else {
        ChallengeKind::Http01
    };
    let preferred = preferred_challenges(auth)?;
    if !preferred.is_empty() && !preferred.contains(&own) {
        return Err(InputError::Flag {
            flag: "--preferred-challenges",
            problem: format!(
                "does not list {}, the only challenge the {} solver answers{}",
                if chosen.is_dns() { "dns-01" } else { "http-01" },
                chosen.name(),
                if chosen.is_dns() {
                    ""
                } else {
                    " (for dns-01 use --dns PROVIDER, --dns-rfc2136 or --manual with hooks)"
                }
            ),
        }
        .into());
    }
    if !chosen.is_dns() && !auth.dns_resolver.is_empty() {
        return Err(InputError::Needs {
            what: "--dns-resolver".into(),
            needs: "a DNS-01 solver (--dns PROVIDER, --dns-rfc2136, --dns-cloudflare, --dns-route53, or --manual --preferred-challenges dns)".into(),
        }
        .into());
    }
    Ok(())
}

/// `--dns-rfc2136`, `--manual`, `--nginx`, `--webroot -w DIR` or (the default) `--standalone`.
pub(super) fn authenticator(
    args: &CertonlyArgs,
    domains: &[DomainName],
    webroot_index: &[Option<usize>],
    at_terminal: bool,
) -> Result<Authenticator, Error> {
    if args.auth.manual {
        return manual_authenticator(&args.auth, at_terminal);
    }
    let chosen = solver_authenticator(&args.auth, &args.nginx, domains, webroot_index)?;
    check_challenge_choice(&args.auth, &chosen)?;
    Ok(chosen)
}

pub(super) fn solver_authenticator(
    a: &AuthenticatorArgs,
    nginx: &NginxArgs,
    domains: &[DomainName],
    webroot_index: &[Option<usize>],
) -> Result<Authenticator, Error> {
    if a.dns_route53 {
        return Ok(Authenticator::DnsRoute53 {
            resolvers: resolvers(a)?,
            propagation_seconds: a.dns_route53_propagation_seconds,
        });
    }
    let provider = match (&a.dns, a.dns_cloudflare, a.dns_rfc2136) {
        (_, _, true) => Some((
            "rfc2136",
            "--dns-rfc2136-credentials",
            &a.dns_rfc2136_credentials,
            a.dns_rfc2136_propagation_seconds,
        )),
        (_, true, _) => Some((
            "cloudflare",
            "--dns-cloudflare-credentials",
            &a.dns_cloudflare_credentials,
            a.dns_cloudflare_propagation_seconds,
        )),
        (Some(p), _, _) => Some((
            p.as_str(),
            "--dns-credentials",
            &a.dns_credentials,
            a.dns_propagation_seconds,
        )),
        _ => None,
    };
    if let Some((provider, flag, credentials, propagation_seconds)) = provider {
        return provider_authenticator(a, provider, (flag, credentials), propagation_seconds);
    }
    if a.nginx {
        nginx_settings(nginx)?;
        return Ok(Authenticator::Nginx {
            server_root: nginx.nginx_server_root.clone(),
            ctl: nginx.nginx_ctl.clone(),
            http_01_port: a.http_01_port,
        });
    }
    if a.webroot || !a.webroot_path.is_empty() || a.webroot_map.is_some() {
        return webroot_with_map(a, domains, webroot_index);
    }
    let http_01_address = a
        .http_01_address
        .as_deref()
        .map(|a| {
            a.parse::<IpAddr>().map_err(|_| InputError::NotA {
                flag: "--http-01-address",
                value: a.to_string(),
                expected: "an IP address",
            })
        })
        .transpose()?;
    Ok(Authenticator::Standalone {
        http_01_port: a.http_01_port,
        http_01_address,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{domains, input_error, parse, path_in};
    use super::*;
    use crate::cli::Command;

    /// `certonly`'s solver; `at_terminal` as the command computes it.
    fn solver(args: &[&str], at_terminal: bool) -> Result<Authenticator, Error> {
        let Command::Certonly(a) = parse(args).command else {
            panic!("not certonly")
        };
        let domains = domains(&a.request.domains);
        let index = vec![None; domains.len()];
        authenticator(&a, &domains, &index, at_terminal)
    }

    #[test]
    fn standalone_and_manual_resolve_with_their_flags() {
        let a = solver(
            &[
                "certonly",
                "-d",
                "a.example.com",
                "--standalone",
                "--http-01-port",
                "8080",
                "--http-01-address",
                "127.0.0.1",
                "--preferred-challenges",
                "HTTP",
            ],
            false,
        )
        .unwrap();
        assert_eq!(
            a,
            Authenticator::Standalone {
                http_01_port: 8080,
                http_01_address: Some(IpAddr::from([127, 0, 0, 1])),
            }
        );
        let a = solver(
            &[
                "certonly",
                "-d",
                "a.example.com",
                "--manual",
                "--manual-auth-hook",
                "echo auth",
                "--preferred-challenges",
                "dns,http",
                "--dns-resolver",
                "127.0.0.1:5353",
            ],
            false,
        )
        .unwrap();
        let Authenticator::Manual {
            challenge,
            auth_hook,
            resolvers,
            ..
        } = a
        else {
            panic!("{a:?}")
        };
        assert_eq!(challenge, ChallengeKind::Dns01);
        assert_eq!(auth_hook, "echo auth");
        assert_eq!(resolvers, [SocketAddr::from(([127, 0, 0, 1], 5353))]);
    }

    #[test]
    fn dns_provider_credentials_are_read_now() {
        let dir = tempfile::tempdir().unwrap();
        let missing = path_in(&dir, "rfc2136.ini");
        let e = solver(
            &[
                "certonly",
                "-d",
                "a.example.com",
                "--dns-rfc2136",
                "--dns-rfc2136-credentials",
                &missing,
            ],
            false,
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), crate::error::exit::USAGE, "{e}");
        assert!(e.to_string().contains(&missing), "{e}");
    }

    /// The input error of `certonly -d a.example.com EXTRA...` without a terminal.
    fn refused(extra: &[&str]) -> InputError {
        let base = ["certonly", "-d", "a.example.com"];
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        input_error(solver(&args, false))
    }

    #[test]
    fn challenge_flags_that_cannot_work_are_refused() {
        let e = refused(&["--preferred-challenges", "tls-alpn-01"]);
        assert!(
            matches!(&e, InputError::BadValue { flag: "--preferred-challenges", value, .. } if value == "tls-alpn-01"),
            "{e:?}"
        );
        let e = refused(&["--manual"]);
        assert!(
            matches!(&e, InputError::Needs { what, .. } if what == "--manual"),
            "{e:?}"
        );
        let e = refused(&[
            "--manual",
            "--manual-auth-hook",
            "echo a",
            "--dns-resolver",
            "127.0.0.1",
        ]);
        assert!(
            matches!(
                e,
                InputError::Flag {
                    flag: "--dns-resolver",
                    ..
                }
            ),
            "{e:?}"
        );
        let e = refused(&["--dns-resolver", "127.0.0.1"]);
        assert!(
            matches!(&e, InputError::Needs { what, .. } if what == "--dns-resolver"),
            "{e:?}"
        );
    }

    #[test]
    fn a_solver_refuses_what_it_cannot_answer() {
        let e = refused(&["--preferred-challenges", "dns"]);
        assert_eq!(
            e.to_string(),
            "--preferred-challenges does not list http-01, the only challenge the standalone \
             solver answers (for dns-01 use --dns PROVIDER, --dns-rfc2136 or --manual with hooks)"
        );
        let e = refused(&["--http-01-address", "localhost"]);
        assert!(
            matches!(
                e,
                InputError::NotA {
                    flag: "--http-01-address",
                    expected: "an IP address",
                    ..
                }
            ),
            "{e:?}"
        );
        let e = refused(&[
            "--manual",
            "--manual-auth-hook",
            "x",
            "--preferred-challenges",
            "dns",
            "--dns-resolver",
            "nope",
        ]);
        assert!(
            matches!(
                e,
                InputError::BadValue {
                    flag: "--dns-resolver",
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
