//! The resolve step: parsed arguments -> the validated requests `ops` takes. Every exit-2
//! error is made here, before any network I/O and before anything is written (local input
//! files such as `--csr`, `--ca-bundle` and key files are read here to check them).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use crate::acme::keys;
use crate::acme::ExternalAccount;
use crate::challenge::dns;
use crate::config::{
    Authenticator, DeployTargets, DirTarget, Hooks, Installer, Pkcs12Target, WebrootEntry,
};
use crate::error::{Error, InputError};
use crate::nginx::Ctl;
use crate::notify::email::{EmailTarget, SmtpCredentials, SmtpServer};
use crate::notify::hook::HookCommand;
use crate::notify::{Target as AlertTarget, WebhookUrl};
use crate::ops::daemon::DaemonRequest;
use crate::ops::deploy::alerts::{host_name, AlertSettings};
use crate::ops::deploy::hooks::check_hooks;
use crate::ops::doctor::DoctorRequest;
use crate::ops::fleet::FleetSettings;
use crate::ops::issue::accounts::{ServerChoice, EAB_HMAC_KEY_ENV};
use crate::ops::issue::certify::{IssuanceChoice, Request};
use crate::ops::issue::csr::CsrOutput;
use crate::ops::output::Ui;
use crate::ops::privileges::Prebound;
use crate::ops::renew::overrides::{Overrides, Solver};
use crate::ops::renew::RenewRequest;
use crate::ops::revoke::Target;
use crate::ops::solve::fleet_proxy::ChallengeProxy;
use crate::ops::Settings;
use crate::safe::file::{self, Policy};
use crate::schedule::CronSchedule;
use crate::store::inspect;
use crate::types::{CertName, ChallengeKind, Curve, DomainName, KeyType, PathMap, ServerUrl};

use super::{
    AlertArgs, AlertTargetArgs, AuthenticatorArgs, CertbotGlobalArgs, CertonlyArgs, CsrArgs,
    CurveArg, DaemonArgs, DeployArgs, DoctorArgs, EabArgs, GlobalArgs, HookArgs, InstallerArgs,
    IssuanceArgs, KeyTypeArg, NginxArgs, RenewArgs, RenewOverrideArgs, ServerArgs,
    DEFAULT_NGINX_ROOT,
};

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

/// `--store` and friends; `None` without `--store` (local filesystem only).
fn fleet_settings(g: &GlobalArgs) -> Result<Option<FleetSettings>, Error> {
    let Some(url) = &g.store else {
        if g.store_key_file.is_some() {
            return Err(InputError::Other("--store-key-file needs --store".into()).into());
        }
        if g.store_ca_bundle.is_some() {
            return Err(
                InputError::Other("--store-ca-bundle needs --store rediss://".into()).into(),
            );
        }
        return Ok(None);
    };
    let node = match &g.node_id {
        Some(n) => n.clone(),
        None => host_name(),
    };
    if !crate::store::shared::is_node_id(&node) {
        return Err(InputError::Other(format!(
            "--node-id {node:?}: use letters, digits and - _ . only"
        ))
        .into());
    }
    Ok(Some(FleetSettings {
        url: url.clone(),
        key_file: g.store_key_file.clone(),
        ca_bundle: g.store_ca_bundle.clone(),
        prefix: g.store_prefix.clone(),
        node,
        lock_ttl: Duration::from_secs(g.store_lock_ttl),
    }))
}

/// `--server`/`--staging`/`--ca-bundle`.
pub(crate) fn server_choice(args: &ServerArgs) -> Result<ServerChoice, Error> {
    Ok(ServerChoice {
        server: server(args.server.as_deref(), args.staging)?,
        ca_bundle: ca_bundle(args.ca_bundle.as_deref())?,
    })
}

/// `--server` / `--staging` / default, validated.
pub(crate) fn server(server: Option<&str>, staging: bool) -> Result<ServerUrl, Error> {
    let url = match (server, staging) {
        (Some(s), _) => s,
        (None, true) => ServerUrl::LETSENCRYPT_STAGING,
        (None, false) => ServerUrl::LETSENCRYPT,
    };
    Ok(url.parse()?)
}

/// `--ca-bundle` must be a readable file of PEM certificates; checked before anything else
/// happens (not first when the HTTP client is built, after the store was prepared).
pub(crate) fn ca_bundle(path: Option<&Path>) -> Result<Option<PathBuf>, Error> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let Some(path) = path else { return Ok(None) };
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| InputError::Other(format!("--ca-bundle {}: {e}", path.display())))?;
            if certs.is_empty() {
                return Err(InputError::Other(format!(
                    "--ca-bundle {} contains no PEM certificate",
                    path.display()
                ))
                .into());
            }
            Ok(Some(
                std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
            ))
        }
        Ok(_) => {
            Err(InputError::Other(format!("--ca-bundle {} is not a file", path.display())).into())
        }
        Err(e) => Err(InputError::Other(format!("--ca-bundle {}: {e}", path.display())).into()),
    }
}

/// The EAB key id and decoded HMAC key from `--eab-kid` and one of `--eab-hmac-key-file`,
/// `--eab-hmac-key` or `CERTWRIGHT_EAB_HMAC_KEY`. Messages never include the key.
pub(crate) fn eab(ui: &Ui, args: &EabArgs) -> Result<Option<ExternalAccount>, Error> {
    let Some(kid) = &args.eab_kid else {
        return Ok(None);
    };
    if kid.is_empty() || kid.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(InputError::Other(
            "--eab-kid must be a non-empty key id without spaces".into(),
        )
        .into());
    }
    let (encoded, source) = match (&args.eab_hmac_key_file, &args.eab_hmac_key) {
        (Some(path), _) => (read_key_file(path)?, path.display().to_string()),
        (None, Some(key)) => {
            ui.warn(
                "--eab-hmac-key puts the key where other users can see it (ps, \
                 /proc/<pid>/cmdline); prefer --eab-hmac-key-file or CERTWRIGHT_EAB_HMAC_KEY",
            );
            (key.clone(), "--eab-hmac-key".to_string())
        }
        (None, None) => match std::env::var(EAB_HMAC_KEY_ENV) {
            Ok(key) => (key, EAB_HMAC_KEY_ENV.to_string()),
            Err(_) => {
                return Err(InputError::Other(format!(
                    "--eab-kid needs its HMAC key: pass --eab-hmac-key-file FILE or set \
                     {EAB_HMAC_KEY_ENV}"
                ))
                .into())
            }
        },
    };
    let hmac = decode_hmac_key(&encoded).ok_or_else(|| {
        InputError::Other(format!(
            "the EAB HMAC key from {source} is not base64url (the form CAs show it in)"
        ))
    })?;
    Ok(Some(ExternalAccount::new(kid.clone(), hmac)))
}

fn read_key_file(path: &Path) -> Result<String, Error> {
    file::read_required(path, Policy::SECRET).map_err(|e| {
        InputError::Other(format!("--eab-hmac-key-file {}: {e}", path.display())).into()
    })
}

/// A file of public data the user named (a certificate, a CSR, a CA bundle).
fn read_public(path: &Path) -> Result<Vec<u8>, String> {
    file::read(path, Policy::PUBLIC)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "No such file or directory".to_string())
}

/// base64url with or without padding, surrounding whitespace ignored; None if not that or empty.
fn decode_hmac_key(encoded: &str) -> Option<Vec<u8>> {
    let engine = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    engine
        .decode(encoded.trim())
        .ok()
        .filter(|bytes| !bytes.is_empty())
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
        (None, None) => {
            Err(InputError::Other("pass --cert-name NAME or --cert-path PATH".into()).into())
        }
    }
}

/// The leaf (first certificate) of a PEM file, checked before any I/O.
fn read_leaf(path: &Path) -> Result<Vec<u8>, Error> {
    let pem = read_public(path)
        .map_err(|e| InputError::Other(format!("--cert-path {}: {e}", path.display())))?;
    let ders = inspect::split_pem_chain(&pem).map_err(|e| {
        InputError::Other(format!(
            "--cert-path {} is not a PEM certificate: {e}",
            path.display()
        ))
    })?;
    ders.into_iter().next().ok_or_else(|| {
        InputError::Other(format!(
            "--cert-path {} holds no certificate",
            path.display()
        ))
        .into()
    })
}

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

/// `--pre-hook`, `--post-hook`, `--deploy-hook` (`--renew-hook`), checked.
pub(crate) fn hooks(args: &HookArgs) -> Result<Hooks, Error> {
    check_hooks(&[
        ("--pre-hook", args.pre_hook.as_deref()),
        ("--post-hook", args.post_hook.as_deref()),
        ("--deploy-hook", args.deploy_hook.as_deref()),
    ])?;
    Ok(Hooks {
        pre_hook: args.pre_hook.clone(),
        post_hook: args.post_hook.clone(),
        deploy_hook: args.deploy_hook.clone(),
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
    })
}

/// A document root: an existing directory, made absolute.
pub(crate) fn canonical_webroot(p: &Path) -> Result<PathBuf, Error> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => std::fs::canonicalize(p)
            .map_err(|e| InputError::Other(format!("webroot {}: {e}", p.display())).into()),
        Ok(_) => {
            Err(InputError::Other(format!("webroot {} is not a directory", p.display())).into())
        }
        Err(e) => Err(InputError::Other(format!(
            "webroot {} does not exist or is unreadable: {e}",
            p.display()
        ))
        .into()),
    }
}

fn curve(c: CurveArg) -> Curve {
    match c {
        CurveArg::Secp256r1 => Curve::P256,
        CurveArg::Secp384r1 => Curve::P384,
        CurveArg::Secp521r1 => Curve::P521,
    }
}

/// Alert targets and the metrics textfile; reads the SMTP credentials file (refused unless
/// 0600). Errors never quote a webhook URL or the password.
pub(crate) fn alerts(args: &AlertArgs) -> Result<AlertSettings, Error> {
    Ok(AlertSettings {
        metrics_textfile: args.metrics_textfile.clone(),
        ..alert_targets(&args.targets)?
    })
}

/// The alert targets alone (`install`, `run`: they write no metrics).
pub(crate) fn alert_targets(args: &AlertTargetArgs) -> Result<AlertSettings, Error> {
    let bad = |flag: &str, e: String| InputError::Other(format!("{flag}: {e}"));
    let mut targets = Vec::new();
    for url in &args.notify_webhook {
        let url = WebhookUrl::parse(url).map_err(|e| bad("--notify-webhook", e))?;
        targets.push(AlertTarget::Webhook(url));
    }
    if let Some(server) = &args.smtp_server {
        if args.notify_email.is_empty() {
            return Err(bad("--smtp-server", "give --notify-email too".into()).into());
        }
        let server = SmtpServer::parse(server).map_err(|e| bad("--smtp-server", e))?;
        let mut email = EmailTarget::new(
            &args.notify_email,
            args.smtp_from.as_deref(),
            &host_name(),
            server,
        )
        .map_err(|e| bad("--notify-email", e))?;
        if let Some(path) = &args.smtp_credentials {
            let creds =
                SmtpCredentials::from_file(path).map_err(|e| bad("--smtp-credentials", e))?;
            email.credentials = Some(creds);
        }
        if let Some(path) = &args.smtp_ca_bundle {
            let pem = read_public(path)
                .map_err(|e| bad("--smtp-ca-bundle", format!("{}: {e}", path.display())))?;
            email.extra_roots_pem = Some(pem);
        }
        targets.push(AlertTarget::Email(email));
    }
    if let Some(hook) = &args.failure_hook {
        check_hooks(&[("--failure-hook", Some(hook.as_str()))])?;
        targets.push(AlertTarget::Hook(HookCommand(hook.clone())));
    }
    Ok(AlertSettings {
        targets,
        ..AlertSettings::default()
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

/// `daemon`: schedule, hooks, the fleet responder and the nginx challenge proxy checked.
pub(crate) fn daemon(args: &DaemonArgs) -> Result<DaemonRequest, Error> {
    let cron = args
        .schedule
        .as_deref()
        .map(CronSchedule::parse)
        .transpose()
        .map_err(|e| InputError::Other(format!("--schedule: {e}")))?;
    check_hooks(&[("--deploy-hook", args.deploy_hook.as_deref())])?;
    Ok(DaemonRequest {
        cron,
        once: args.once,
        child_pass: args.child_pass,
        status_file: args.status_file.clone(),
        deploy_hook: args.deploy_hook.clone(),
        concurrency: usize::from(args.concurrency),
        http_01: args.http_01_port.map(|port| (args.http_01_address, port)),
        sync_interval: Duration::from_secs(args.sync_interval),
        proxy: challenge_proxy(args)?,
        alerts: alerts(&args.alerts)?,
        metrics_listen: args.metrics_listen,
        ca_bundle: ca_bundle(args.ca_bundle.as_deref())?,
    })
}

/// `daemon --nginx`; `None` without it, and in a pass (`--once`, or a child): the
/// responder, and so the proxy, belong to the long-lived daemon.
fn challenge_proxy(args: &DaemonArgs) -> Result<Option<ChallengeProxy>, Error> {
    if !args.nginx || args.once || args.child_pass {
        return Ok(None);
    }
    let port = args.http_01_port.ok_or_else(|| {
        InputError::Other("daemon --nginx needs --http-01-port (the port to proxy to)".into())
    })?;
    nginx_settings(&args.nginx_args)?;
    // A wildcard bind answers on loopback too; nginx must connect to a real address.
    let ip = match args.http_01_address {
        Some(ip) if !ip.is_unspecified() => ip,
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let ctl = Ctl {
        binary: args.nginx_args.nginx_ctl.clone(),
        conf: args.nginx_args.nginx_server_root.join("nginx.conf"),
        path_map: PathMap::parse(&args.nginx_args.nginx_path_map)?,
    };
    let upstream = SocketAddr::new(ip, port);
    Ok(Some(ChallengeProxy::new(
        ctl,
        args.nginx_http_01_port,
        upstream,
    )))
}

/// The key type from `--key-type`, `--elliptic-curve` and `--rsa-key-size`.
pub(crate) fn key_type(kind: KeyTypeArg, curve: CurveArg, rsa_bits: u32) -> KeyType {
    match kind {
        KeyTypeArg::Ecdsa => KeyType::Ecdsa {
            curve: self::curve(curve),
        },
        KeyTypeArg::Rsa => KeyType::Rsa { bits: rsa_bits },
    }
}

/// The nginx installer from `--nginx-server-root`, `--nginx-ctl`, `--nginx-path-map` and the
/// installer flags.
pub(crate) fn installer(
    nginx: &NginxArgs,
    installer: &InstallerArgs,
    http_01_port: u16,
) -> Result<Installer, Error> {
    check_nginx_ctl(&nginx.nginx_ctl)?;
    Ok(Installer::Nginx {
        path_map: PathMap::parse(&nginx.nginx_path_map)?,
        server_root: nginx.nginx_server_root.clone(),
        ctl: nginx.nginx_ctl.clone(),
        http_01_port,
        https_port: installer.https_port,
        redirect: !installer.no_redirect,
        hsts: installer.hsts,
    })
}

/// The `--deploy-*` flags, checked as a deploy would (password file 0600, owner exists,
/// directory not writable by others); `None` when none is given (the saved ones stay).
pub(crate) fn deploy_targets(args: &DeployArgs) -> Result<Option<DeployTargets>, Error> {
    let bad = |m: String| Error::from(InputError::Other(m));
    let absolute = |flag: &str, p: &Path| {
        if p.is_absolute() {
            Ok(p.to_path_buf())
        } else {
            Err(bad(format!(
                "{flag} {} must be an absolute path (renewals run elsewhere)",
                p.display()
            )))
        }
    };
    let pkcs12 = match (&args.deploy_pkcs12, &args.deploy_pkcs12_password_file) {
        (Some(path), Some(file)) => Some(Pkcs12Target {
            path: absolute("--deploy-pkcs12", path)?,
            password_file: absolute("--deploy-pkcs12-password-file", file)?,
        }),
        _ => None,
    };
    let combined = args
        .deploy_combined
        .as_deref()
        .map(|p| absolute("--deploy-combined", p))
        .transpose()?;
    let dir = match (&args.deploy_dir, &args.deploy_owner) {
        (Some(path), Some(owner)) => Some(dir_target(
            absolute("--deploy-dir", path)?,
            owner,
            args.deploy_mode.as_deref(),
        )?),
        _ => None,
    };
    let targets = DeployTargets {
        pkcs12,
        combined,
        dir,
    };
    if targets.is_empty() {
        return Ok(None);
    }
    crate::ops::deploy::targets::check(&targets).map_err(bad)?;
    Ok(Some(targets))
}

/// `--deploy-dir`, `--deploy-owner USER[:GROUP]` and `--deploy-mode` (octal, default 0640).
fn dir_target(path: PathBuf, owner: &str, mode: Option<&str>) -> Result<DirTarget, Error> {
    let (user, group) = match owner.split_once(':') {
        Some((u, g)) => (u, Some(g.to_string())),
        None => (owner, None),
    };
    let mode = mode.unwrap_or("0640");
    let mode = u32::from_str_radix(mode, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| InputError::Other(format!("--deploy-mode {mode:?} is not an octal mode")))?;
    if user.is_empty() || group.as_deref() == Some("") {
        return Err(InputError::Other(format!(
            "--deploy-owner {owner:?}: expected USER or USER:GROUP"
        ))
        .into());
    }
    Ok(DirTarget {
        path,
        owner: user.to_string(),
        group,
        mode,
    })
}

/// `--nginx-server-root` must hold nginx.conf; checked before anything is sent.
pub(crate) fn nginx_settings(args: &NginxArgs) -> Result<(), Error> {
    check_nginx_ctl(&args.nginx_ctl)?;
    let conf = args.nginx_server_root.join("nginx.conf");
    if !conf.is_file() {
        return Err(InputError::Other(format!(
            "no nginx configuration at {} (set --nginx-server-root)",
            conf.display()
        ))
        .into());
    }
    Ok(())
}

/// `--nginx-ctl` runs as root at install and at every renewal: refused (exit 2) when another
/// user could replace it, as hooks are. Taken whole when it is a file, else split as sh would.
fn check_nginx_ctl(ctl: &Path) -> Result<(), Error> {
    let text = ctl.to_string_lossy();
    let line = if ctl.is_file() {
        shlex::try_quote(&text)
            .map(|q| q.into_owned())
            .unwrap_or_default()
    } else {
        text.into_owned()
    };
    crate::ops::deploy::hooks::check_hook_location("--nginx-ctl", &line)
}

/// Parse names, drop duplicates (keeping the first), and carry each name's webroot index.
fn parse_domains(
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
        return Err(InputError::Other("no domain given: pass -d NAME".into()).into());
    }
    Ok((names, roots))
}

/// `-w DIR -d NAME...` with `--webroot-map` winning for the names it lists; every name
/// needs a root.
fn webroot_with_map(
    auth: &AuthenticatorArgs,
    domains: &[DomainName],
    webroot_index: &[Option<usize>],
) -> Result<Authenticator, Error> {
    let mut result = webroot_authenticator(&auth.webroot_path, domains, webroot_index)?;
    if let Authenticator::Webroot { map } = &mut result {
        for (name, root) in webroot_map(auth.webroot_map.as_deref())? {
            let name: DomainName = name.parse()?;
            let root = canonical_webroot(&root)?;
            match map.iter_mut().find(|e| e.domain == name) {
                Some(e) => e.path = root,
                None => map.push(WebrootEntry {
                    domain: name,
                    path: root,
                }),
            }
        }
        if domains.iter().any(|d| !map.iter().any(|e| e.domain == *d)) {
            return Err(InputError::Other(
                "--webroot needs a document root: -w DIR before the -d names".into(),
            )
            .into());
        }
    }
    Ok(result)
}

/// certbot's `--webroot-map '{"a.example.com,www.a.example.com": "/var/www/a"}'`: each
/// name with its document root, in the map's order.
fn webroot_map(json: Option<&str>) -> Result<Vec<(String, PathBuf)>, Error> {
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    let bad = |why: String| InputError::Other(format!("--webroot-map: {why}"));
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|e| bad(format!("not a JSON object: {e}")))?;
    let mut out = Vec::new();
    for (names, root) in map {
        let root = root
            .as_str()
            .ok_or_else(|| bad(format!("the root of {names:?} is not a string")))?;
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            out.push((name.to_string(), PathBuf::from(root)));
        }
    }
    Ok(out)
}

fn webroot_authenticator(
    paths: &[PathBuf],
    domains: &[DomainName],
    index: &[Option<usize>],
) -> Result<Authenticator, Error> {
    if paths.is_empty() {
        // Every name must then be in --webroot-map: the caller checks.
        return Ok(Authenticator::Webroot { map: Vec::new() });
    }
    let mut canonical = Vec::new();
    for p in paths {
        canonical.push(canonical_webroot(p)?);
    }
    let mut map = Vec::new();
    for (domain, idx) in domains.iter().zip(index) {
        // certbot: a name before any -w takes the first webroot.
        let path = canonical[idx.unwrap_or(0)].clone();
        map.push(WebrootEntry {
            domain: domain.clone(),
            path,
        });
    }
    Ok(Authenticator::Webroot { map })
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

/// The issuance flags as given.
fn issuance_choice(args: &IssuanceArgs) -> Result<IssuanceChoice, Error> {
    let mut ip_addresses: Vec<IpAddr> = Vec::new();
    for raw in &args.ip_address {
        let ip: IpAddr = raw
            .parse()
            .map_err(|_| InputError::Other(format!("--ip-address {raw:?} is not an IP address")))?;
        if !ip_addresses.contains(&ip) {
            ip_addresses.push(ip);
        }
    }
    Ok(IssuanceChoice {
        reuse_key: match (args.keys.reuse_key, args.keys.new_key) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        preferred_chain: args.keys.preferred_chain.clone(),
        preferred_profile: args.preferred_profile.clone(),
        required_profile: args.required_profile.clone(),
        allow_subset_of_names: args.allow_subset_of_names,
        ip_addresses,
        issuance_timeout: args.issuance_timeout,
        fallback_server: match args.fallback_server.as_deref() {
            Some("") => Some(None),
            Some(url) => Some(Some(url.parse::<ServerUrl>()?)),
            None => None,
        },
    })
}

/// Read `--csr` (None without it); its names must be valid domain names for http-01.
pub(crate) fn csr(args: &CsrArgs) -> Result<Option<CsrOutput>, Error> {
    let Some(path) = &args.csr else {
        return Ok(None);
    };
    let bad = |reason: String| InputError::Other(format!("--csr {}: {reason}", path.display()));
    let bytes = read_public(path).map_err(bad)?;
    let csr = keys::parse_csr(&bytes).map_err(bad)?;
    let mut domains: Vec<DomainName> = Vec::new();
    for raw in &csr.dns_names {
        let name: DomainName = raw.parse()?;
        if !domains.contains(&name) {
            domains.push(name);
        }
    }
    check_http01_names(&domains)?;
    let cert_path = args
        .cert_path
        .clone()
        .ok_or_else(|| bad("--cert-path is needed".into()))?;
    for p in [
        Some(&cert_path),
        args.fullchain_path.as_ref(),
        args.chain_path.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
        if dir.is_some_and(|d| !d.is_dir()) {
            return Err(InputError::Other(format!(
                "{}: its directory does not exist",
                p.display()
            ))
            .into());
        }
    }
    Ok(Some(CsrOutput {
        csr,
        domains,
        cert_path,
        fullchain_path: args.fullchain_path.clone(),
        chain_path: args.chain_path.clone(),
    }))
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
        return Err(InputError::Other(
            "IP address identifiers need --standalone or --webroot (nginx server blocks are chosen by name)".into(),
        )
        .into());
    }
    if domains.is_empty() && (args.auth.webroot || !args.auth.webroot_path.is_empty()) {
        return Err(InputError::Other(
            "--ip-address with --webroot needs at least one -d name: its document root serves the IP addresses".into(),
        )
        .into());
    }
    Ok(())
}

/// `--cert-name`, else the first name, else the first IP address (`:` made `-`).
fn cert_name(
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

/// `--dns PROVIDER`, `--dns-rfc2136` (also `--dns rfc2136`) and `--dns-cloudflare`: the
/// credentials are read and checked now (exit 2 before any network I/O); only the path is kept.
fn provider_authenticator(
    auth: &AuthenticatorArgs,
    provider: &str,
    (flag, credentials): (&str, &Option<PathBuf>),
    propagation_seconds: u64,
) -> Result<Authenticator, Error> {
    let Some(path) = credentials else {
        return Err(InputError::Other(format!("DNS provider {provider} needs {flag} FILE")).into());
    };
    dns::writer_from_file(provider, path)?;
    let credentials = std::fs::canonicalize(path)
        .map_err(|e| InputError::Other(format!("{}: {e}", path.display())))?;
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
fn preferred_challenges(auth: &AuthenticatorArgs) -> Result<Vec<ChallengeKind>, Error> {
    let mut out = Vec::new();
    for raw in &auth.preferred_challenges {
        let kind = match raw.trim().to_ascii_lowercase().as_str() {
            "dns-01" | "dns" => ChallengeKind::Dns01,
            "http-01" | "http" => ChallengeKind::Http01,
            "" => continue,
            other => {
                return Err(InputError::Other(format!(
                    "--preferred-challenges {other:?}: certwright answers dns-01 (dns) and http-01 (http)"
                ))
                .into())
            }
        };
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}

fn resolvers(auth: &AuthenticatorArgs) -> Result<Vec<SocketAddr>, Error> {
    Ok(auth
        .dns_resolver
        .iter()
        .map(|r| dns::parse_resolver(r).map_err(InputError::Other))
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
fn manual_authenticator(
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
            return Err(InputError::Other(
                "--manual needs --manual-auth-hook CMD (or a terminal to ask at, without -n)"
                    .into(),
            )
            .into())
        }
    };
    check_hooks(&[
        ("--manual-auth-hook", Some(auth_hook.as_str())),
        ("--manual-cleanup-hook", auth.manual_cleanup_hook.as_deref()),
    ])?;
    let resolvers = resolvers(auth)?;
    if challenge == ChallengeKind::Http01 && !resolvers.is_empty() {
        return Err(InputError::Other(
            "--dns-resolver is for dns-01: add --preferred-challenges dns".into(),
        )
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
        return Err(InputError::Other(format!(
            "--preferred-challenges does not list {}, the only challenge the {} solver answers{}",
            if chosen.is_dns() { "dns-01" } else { "http-01" },
            chosen.name(),
            if chosen.is_dns() {
                ""
            } else {
                " (for dns-01 use --dns PROVIDER, --dns-rfc2136 or --manual with hooks)"
            }
        ))
        .into());
    }
    if !chosen.is_dns() && !auth.dns_resolver.is_empty() {
        return Err(InputError::Other(
            "--dns-resolver needs a DNS-01 solver (--dns PROVIDER, --dns-rfc2136, --dns-cloudflare, --dns-route53, or --manual --preferred-challenges dns)".into(),
        )
        .into());
    }
    Ok(())
}

/// `--dns-rfc2136`, `--manual`, `--nginx`, `--webroot -w DIR` or (the default) `--standalone`.
fn authenticator(
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

fn solver_authenticator(
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
            a.parse::<IpAddr>().map_err(|_| {
                InputError::Other(format!("--http-01-address {a:?} is not an IP address"))
            })
        })
        .transpose()?;
    Ok(Authenticator::Standalone {
        http_01_port: a.http_01_port,
        http_01_address,
    })
}

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
        return Err(
            InputError::Other("--webroot in doctor needs the -d names it serves".into()).into(),
        );
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
    use super::*;

    #[test]
    fn hmac_keys_decode_padded_and_unpadded() {
        // 32 bytes: unpadded base64url has 43 characters, padded 44.
        let unpadded = "9YDPRsusormLUJ6GYPn4rYweEoSIkgGowP0PkVxySrI";
        let padded = format!("{unpadded}=");
        let a = decode_hmac_key(unpadded).unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(decode_hmac_key(&padded).unwrap(), a);
        assert_eq!(decode_hmac_key(&format!("{unpadded}\n")).unwrap(), a);
        // Standard-alphabet characters and empty keys are refused.
        assert!(decode_hmac_key("ab+/").is_none());
        assert!(decode_hmac_key("").is_none());
        assert!(decode_hmac_key("  \n").is_none());
    }

    #[test]
    fn eab_debug_hides_the_key() {
        let eab = ExternalAccount::new("kid-1".into(), vec![0xAB; 8]);
        let shown = format!("{eab:?}");
        assert!(shown.contains("kid-1"));
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab, "));
    }
}
