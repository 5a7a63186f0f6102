//! `certwright import-certbot`: take over certbot's lineages. Each `renewal/<name>.conf`
//! becomes a certwright lineage of the same name: the current certificate files as version 1
//! and an equivalent renewal config. certbot's own files are only read, never changed, so
//! nginx configs that point at `/etc/letsencrypt/live/...` keep working; `certwright
//! install` switches them over when the user chooses.
//!
//! certbot's account is carried over (its RSA key signed with RS256, an ECDSA P-256 key as
//! instant-acme signs), so renewals use the same account URL and CAs that bind `replaces`
//! to the ordering account accept it. Only an account that cannot be read or has another
//! key type is left behind: the first renewal then registers one without a contact email
//! (the terms were accepted for certbot); `certwright register -m ...` before that adds one.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::certbot::{self, AccountKey, RenewalConf};
use crate::challenge::dns;
use crate::config::{
    Authenticator, Hooks, Installer, IssuanceSettings, RenewalConfig, WebrootEntry, RENEWAL_SCHEMA,
};
use crate::error::{Error, InputError, StoreError};
use crate::store::inspect;
use crate::store::{AccountRef, IssuedFiles, Store};
use crate::types::{AccountId, CertName, ChallengeKind, Curve, DomainName, KeyType, ServerUrl};

use crate::ops::deploy::hooks::check_hooks;
use crate::ops::deploy::nginx_txn::{tls_snippets, CERTBOT_TLS_SNIPPETS};
use crate::ops::output::{print_stdout, Ui};

/// certbot's defaults for keys its renewal files leave out.
const CERTBOT_NGINX_ROOT: &str = "/etc/nginx";
const CERTBOT_NGINX_CTL: &str = "nginx";
const HTTP_PORT: u16 = 80;
const HTTPS_PORT: u16 = 443;

/// Import one renewal file unless certwright already has its lineage; `Ok(None)`: skipped.
/// The error is the reason it was not imported. Returns the name and the `install` command
/// that switches nginx over (see [`install_command`]).
pub(crate) fn import_one(
    ui: &Ui,
    store: &Store,
    certbot_dir: &Path,
    path: &Path,
    ca_bundle: Option<&Path>,
    dry_run: bool,
) -> Result<Option<(CertName, String)>, String> {
    let plan = plan_lineage(certbot_dir, path, ca_bundle)?;
    let name = plan.config.cert_name.clone();
    let install = install_command(&plan.config);
    if store.lineage_exists(&name) {
        ui.note(format!(
            "{name}: certwright already has a lineage of this name; skipped (not overwritten)"
        ));
        return Ok(None);
    }
    if dry_run {
        print_stdout(&describe(&plan, "would import"));
        return Ok(Some((name, install)));
    }
    let account_note = write_lineage(store, &plan).map_err(|e| crate::error::error_chain(&e))?;
    print_stdout(&describe(&plan, "imported"));
    if let Some(note) = account_note {
        print_stdout(&format!("  {note}\n"));
    }
    Ok(Some((name, install)))
}

/// `certwright install` for an imported lineage with the nginx certbot used: its server
/// root, nginx binary, ports and HSTS (defaults left out).
fn install_command(config: &RenewalConfig) -> String {
    let mut cmd = format!(
        "certwright install --nginx --cert-name {}",
        config.cert_name
    );
    let (root, ctl, http_port, https_port, hsts) = match (&config.installer, &config.authenticator)
    {
        (
            Some(Installer::Nginx {
                server_root,
                ctl,
                http_01_port,
                https_port,
                hsts,
                ..
            }),
            _,
        ) => (server_root, ctl, *http_01_port, *https_port, *hsts),
        (
            None,
            Authenticator::Nginx {
                server_root,
                ctl,
                http_01_port,
            },
        ) => (server_root, ctl, *http_01_port, HTTPS_PORT, false),
        _ => return cmd,
    };
    let word = |p: &Path| {
        let s = p.display().to_string();
        match s.contains(|c: char| c.is_whitespace() || c == '\'') {
            true => format!("'{}'", s.replace('\'', "'\\''")),
            false => s,
        }
    };
    if root != Path::new(CERTBOT_NGINX_ROOT) {
        cmd.push_str(&format!(" --nginx-server-root {}", word(root)));
    }
    if ctl != Path::new(CERTBOT_NGINX_CTL) {
        cmd.push_str(&format!(" --nginx-ctl {}", word(ctl)));
    }
    if http_port != HTTP_PORT {
        cmd.push_str(&format!(" --http-01-port {http_port}"));
    }
    if https_port != HTTPS_PORT {
        cmd.push_str(&format!(" --https-port {https_port}"));
    }
    if hsts {
        cmd.push_str(" --hsts");
    }
    cmd
}

/// Copy certbot's shared TLS settings (`options-ssl-nginx.conf`, `ssl-dhparams.pem`), which
/// its nginx installer includes in every site, into certwright's config dir unless a copy
/// is there: `install` then points the sites at the copies, so nginx no longer needs
/// certbot's directory. Returns the copies made (or, for a dry run, that would be).
pub(crate) fn copy_tls_snippets(
    store: &Store,
    certbot_dir: &Path,
    dry_run: bool,
) -> Result<Vec<PathBuf>, String> {
    let mut copied = Vec::new();
    for (file, ours) in CERTBOT_TLS_SNIPPETS.iter().zip(tls_snippets(store)) {
        let theirs = certbot_dir.join(file);
        if ours.exists() || !theirs.is_file() {
            continue;
        }
        if !dry_run {
            let fail = |e: std::io::Error| format!("copying {}: {e}", theirs.display());
            // Both are a few kilobytes; nginx includes them as root, so they must be root's.
            let bytes = certbot::read_certbot_file(&theirs)
                .map_err(|e| e.to_string())?
                .into_bytes();
            if let Some(dir) = ours.parent() {
                std::fs::create_dir_all(dir).map_err(fail)?;
            }
            crate::fsutil::write_atomic(&ours, &bytes, 0o644).map_err(fail)?;
        }
        copied.push(ours);
    }
    Ok(copied)
}

/// One certbot lineage, translated and checked, before anything is written.
struct Plan {
    config: RenewalConfig,
    files: IssuedFiles,
    serial: String,
    account: AccountPlan,
    /// certbot settings with no certwright equivalent, for the report.
    dropped: Vec<String>,
}

enum AccountPlan {
    /// certbot's EC P-256 account, converted: stored as `id` under the server's accounts.
    CarryOver {
        id: String,
        credentials: String,
        meta: String,
    },
    /// Not carried over (why); the first renewal registers a new account.
    New { reason: String },
}

/// Read and translate one renewal file. Every problem is a reason string naming the file's
/// setting or the certbot file involved.
fn plan_lineage(certbot_dir: &Path, path: &Path, ca_bundle: Option<&Path>) -> Result<Plan, String> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or("the file name is not UTF-8")?;
    let name: CertName = stem
        .parse()
        .map_err(|e| format!("{e} (certwright cannot use this lineage name)"))?;
    let text = certbot::read_certbot_file(path).map_err(|e| e.to_string())?;
    let conf = RenewalConf::parse(&text).map_err(|e| e.to_string())?;
    let mut dropped = Vec::new();
    let pems = certbot::read_lineage_pems(certbot_dir, stem, &conf).map_err(|e| e.to_string())?;
    let info = check_files(&pems)?;
    let (domains, ip_addresses) = names(&info)?;
    let server: ServerUrl = conf
        .param("server")
        .unwrap_or(ServerUrl::LETSENCRYPT)
        .parse()
        .map_err(|e: InputError| format!("server: {e}"))?;
    let (authenticator, installer) = authenticator_and_installer(&conf, &domains, &mut dropped)?;
    if let Some(wild) = domains.iter().find(|d| d.is_wildcard()) {
        if !authenticator.is_dns() {
            return Err(format!(
                "{wild} is a wildcard, which needs dns-01, and authenticator {} answers http-01",
                authenticator.name()
            ));
        }
    }
    let hooks = hooks(&conf)?;
    let account = account_plan(certbot_dir, &conf, &server);
    let config = RenewalConfig {
        schema: RENEWAL_SCHEMA,
        cert_name: name,
        domains,
        server,
        ca_bundle: ca_bundle.map(Path::to_path_buf),
        account: match &account {
            AccountPlan::CarryOver { id, .. } => id.clone(),
            AccountPlan::New { .. } => String::new(),
        },
        key_type: key_type(&conf, &info.key_type)?,
        authenticator,
        installer,
        renew_before_expiry_days: renew_before_expiry(&conf)?,
        issuance: issuance(&conf, ip_addresses)?,
        deploy: Default::default(),
        hooks,
    };
    // What certwright will read back must be what it writes.
    let renewal_path = Path::new("renewal").join(format!("{}.json", config.cert_name));
    RenewalConfig::parse(&config.to_json(), &renewal_path).map_err(|e| e.to_string())?;
    Ok(Plan {
        config,
        files: IssuedFiles {
            cert_pem: pems.cert,
            chain_pem: pems.chain,
            fullchain_pem: pems.fullchain,
            privkey_pem: pems.privkey,
        },
        serial: info.serial,
        account,
        dropped,
    })
}

/// certbot's files must be a chain, its leaf first, and the key of that leaf.
fn check_files(pems: &certbot::LineagePems) -> Result<inspect::CertInfo, String> {
    let info = inspect::inspect_chain(pems.fullchain.as_bytes())
        .map_err(|e| format!("its fullchain.pem: {e}"))?;
    let leaf =
        inspect::inspect_chain(pems.cert.as_bytes()).map_err(|e| format!("its cert.pem: {e}"))?;
    if leaf.serial != info.serial {
        return Err("cert.pem is not the first certificate of fullchain.pem".into());
    }
    inspect::private_key_spki(&pems.privkey).map_err(|e| format!("its privkey.pem: {e}"))?;
    if !inspect::key_matches(&pems.privkey, &info) {
        return Err("privkey.pem does not belong to the certificate".into());
    }
    Ok(info)
}

/// The certificate's names and IP addresses.
fn names(info: &inspect::CertInfo) -> Result<(Vec<DomainName>, Vec<IpAddr>), String> {
    let mut domains = Vec::new();
    let mut ip_addresses = Vec::new();
    for san in &info.domains {
        if let Ok(ip) = san.parse::<IpAddr>() {
            ip_addresses.push(ip);
        } else {
            domains.push(san.parse::<DomainName>().map_err(|e| e.to_string())?);
        }
    }
    if domains.is_empty() && ip_addresses.is_empty() {
        return Err("the certificate names no domains".into());
    }
    Ok((domains, ip_addresses))
}

/// certbot's authenticator and installer; an installer other than nginx is dropped.
fn authenticator_and_installer(
    conf: &RenewalConf,
    domains: &[DomainName],
    dropped: &mut Vec<String>,
) -> Result<(Authenticator, Option<Installer>), String> {
    let http_01_port = match conf.param("http01_port") {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("http01_port = {p} is not a port"))?,
        None => HTTP_PORT,
    };
    let nginx_root = PathBuf::from(
        conf.param("nginx_server_root")
            .unwrap_or(CERTBOT_NGINX_ROOT),
    );
    let nginx_ctl = PathBuf::from(conf.param("nginx_ctl").unwrap_or(CERTBOT_NGINX_CTL));
    let authenticator = match conf.param("authenticator").unwrap_or("standalone") {
        "standalone" => Authenticator::Standalone {
            http_01_port,
            http_01_address: conf
                .param("http01_address")
                .map(|a| {
                    a.parse::<IpAddr>()
                        .map_err(|_| format!("http01_address = {a} is not an IP address"))
                })
                .transpose()?,
        },
        "webroot" => webroot(conf, domains)?,
        "nginx" => Authenticator::Nginx {
            server_root: nginx_root.clone(),
            ctl: nginx_ctl.clone(),
            http_01_port,
        },
        "dns-rfc2136" => dns_plugin(conf, "rfc2136", dropped)?,
        "dns-cloudflare" => dns_plugin(conf, "cloudflare", dropped)?,
        "dns-route53" => {
            drop_propagation_sleep(conf, "route53", dropped);
            Authenticator::DnsRoute53 {
                resolvers: Vec::new(),
                propagation_seconds: 0,
            }
        }
        "manual" => manual(conf)?,
        other => {
            return Err(format!(
                "authenticator {other} is not supported (certwright imports standalone, \
                 webroot, nginx, dns-rfc2136, dns-cloudflare, dns-route53 and manual with hooks)"
            ))
        }
    };
    let installer = match conf.param("installer") {
        None | Some("none") => None,
        Some("nginx") => Some(Installer::Nginx {
            server_root: nginx_root,
            ctl: nginx_ctl,
            http_01_port,
            https_port: https_port(conf)?,
            redirect: conf
                .param_bool("redirect")
                .map_err(|e| e.to_string())?
                .unwrap_or(false),
            hsts: conf
                .param_bool("hsts")
                .map_err(|e| e.to_string())?
                .unwrap_or(false),
            path_map: Default::default(),
        }),
        Some(other) => {
            dropped.push(format!(
                "installer {other} (certwright installs into nginx only)"
            ));
            None
        }
    };
    Ok((authenticator, installer))
}

fn issuance(conf: &RenewalConf, ip_addresses: Vec<IpAddr>) -> Result<IssuanceSettings, String> {
    Ok(IssuanceSettings {
        reuse_key: conf
            .param_bool("reuse_key")
            .map_err(|e| e.to_string())?
            .unwrap_or(false),
        preferred_chain: conf.param("preferred_chain").map(str::to_string),
        preferred_profile: conf.param("preferred_profile").map(str::to_string),
        required_profile: conf.param("required_profile").map(str::to_string),
        allow_subset_of_names: conf
            .param_bool("allow_subset_of_names")
            .map_err(|e| e.to_string())?
            .unwrap_or(false),
        ip_addresses,
        issuance_timeout: match conf.param("issuance_timeout") {
            Some(v) => Some(
                v.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("issuance_timeout = {v} is not a number of seconds"))?,
            ),
            None => None,
        },
        fallback_server: None,
    })
}

fn renew_before_expiry(conf: &RenewalConf) -> Result<Option<u32>, String> {
    match conf.top("renew_before_expiry") {
        Some(v) => Ok(Some(days(v).ok_or_else(|| {
            format!("renew_before_expiry = {v} is not a number of days or weeks")
        })?)),
        None => Ok(None),
    }
}

/// certbot's `key_type`/`rsa_key_size`/`elliptic_curve`, else the current key's type.
fn key_type(conf: &RenewalConf, current: &str) -> Result<KeyType, String> {
    let kind = match conf.param("key_type") {
        Some(k) => k.to_ascii_lowercase(),
        None if current.starts_with("RSA") => "rsa".into(),
        None => "ecdsa".into(),
    };
    match kind.as_str() {
        "ecdsa" => {
            let curve = conf
                .param("elliptic_curve")
                .or_else(|| current.strip_prefix("ECDSA "))
                .unwrap_or("secp256r1");
            match curve {
                "secp256r1" | "P-256" | "prime256v1" => Ok(KeyType::Ecdsa { curve: Curve::P256 }),
                "secp384r1" | "P-384" => Ok(KeyType::Ecdsa { curve: Curve::P384 }),
                "secp521r1" | "P-521" => Ok(KeyType::Ecdsa { curve: Curve::P521 }),
                other => Err(format!(
                    "elliptic_curve {other} is not supported (secp256r1, secp384r1 or secp521r1)"
                )),
            }
        }
        "rsa" => {
            let bits = match conf.param("rsa_key_size") {
                Some(b) => b
                    .parse::<u32>()
                    .map_err(|_| format!("rsa_key_size = {b} is not a number"))?,
                None => current
                    .strip_prefix("RSA ")
                    .and_then(|b| b.parse().ok())
                    .unwrap_or(2048),
            };
            if ![2048, 3072, 4096].contains(&bits) {
                return Err(format!(
                    "rsa_key_size {bits} is not supported (2048, 3072 or 4096)"
                ));
            }
            Ok(KeyType::Rsa { bits })
        }
        other => Err(format!("key_type {other} is not supported (rsa or ecdsa)")),
    }
}

/// `[[webroot_map]]` for each name; a name missing there gets the last `webroot_path`
/// (certbot applies the latest --webroot-path to the names after it).
/// certbot's dns-rfc2136 / dns-cloudflare plugin: the credentials file it names, checked now
/// as certwright will read it at renewal (mode, keys); certbot's propagation sleep is not
/// carried over (certwright looks the records up instead).
fn dns_plugin(
    conf: &RenewalConf,
    provider: &str,
    dropped: &mut Vec<String>,
) -> Result<Authenticator, String> {
    let key = format!("dns_{provider}_credentials");
    let path = PathBuf::from(
        conf.param(&key)
            .ok_or_else(|| format!("authenticator dns-{provider} without {key}"))?,
    );
    if !path.is_absolute() {
        return Err(format!(
            "{key} = {} is not an absolute path",
            path.display()
        ));
    }
    dns::writer_from_file(provider, &path).map_err(|e| e.to_string())?;
    drop_propagation_sleep(conf, provider, dropped);
    Ok(if provider == "rfc2136" {
        Authenticator::DnsRfc2136 {
            credentials: path,
            resolvers: Vec::new(),
            propagation_seconds: 0,
        }
    } else {
        Authenticator::Dns {
            provider: provider.to_string(),
            credentials: path,
            resolvers: Vec::new(),
            propagation_seconds: 0,
        }
    })
}

/// certbot's fixed `dns_PLUGIN_propagation_seconds` sleep is not carried over: say so.
fn drop_propagation_sleep(conf: &RenewalConf, plugin: &str, dropped: &mut Vec<String>) {
    let sleep = format!("dns_{plugin}_propagation_seconds");
    if let Some(seconds) = conf.param(&sleep) {
        dropped.push(format!(
            "{sleep} = {seconds} (certwright waits until the nameservers serve the records)"
        ));
    }
}

/// The lineage's pre_hook, post_hook and deploy_hook (renew_hook, its old name), checked as
/// hooks given on the command line are.
fn hooks(conf: &RenewalConf) -> Result<Hooks, String> {
    let pre_hook = conf.param("pre_hook");
    let post_hook = conf.param("post_hook");
    let deploy_hook = conf.param("deploy_hook").or(conf.param("renew_hook"));
    check_hooks(&[
        ("pre_hook", pre_hook),
        ("post_hook", post_hook),
        ("deploy_hook", deploy_hook),
    ])
    .map_err(|e| e.to_string())?;
    Ok(Hooks {
        pre_hook: pre_hook.map(str::to_string),
        post_hook: post_hook.map(str::to_string),
        deploy_hook: deploy_hook.map(str::to_string),
    })
}

/// certbot's manual plugin with hooks (without an auth hook it asked a person at each
/// renewal: nothing to import). The challenge is the first of `pref_challs` it answers,
/// http-01 without any, as certbot's manual plugin prefers.
fn manual(conf: &RenewalConf) -> Result<Authenticator, String> {
    let auth_hook = conf
        .param("manual_auth_hook")
        .ok_or("authenticator manual without manual_auth_hook is interactive; certwright renews unattended only")?;
    let challenge = conf
        .param_list("pref_challs")
        .iter()
        .find_map(|c| match c.as_str() {
            "dns-01" | "dns" => Some(ChallengeKind::Dns01),
            "http-01" | "http" => Some(ChallengeKind::Http01),
            _ => None,
        })
        .unwrap_or(ChallengeKind::Http01);
    let cleanup_hook = conf.param("manual_cleanup_hook");
    check_hooks(&[
        ("manual_auth_hook", Some(auth_hook)),
        ("manual_cleanup_hook", cleanup_hook),
    ])
    .map_err(|e| e.to_string())?;
    Ok(Authenticator::Manual {
        challenge,
        auth_hook: auth_hook.to_string(),
        cleanup_hook: cleanup_hook.map(str::to_string),
        resolvers: Vec::new(),
    })
}

fn webroot(conf: &RenewalConf, domains: &[DomainName]) -> Result<Authenticator, String> {
    let map = conf.webroot_map();
    let fallback = conf.param_list("webroot_path").pop();
    let mut entries = Vec::new();
    for d in domains {
        let path = map
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(d.as_str()))
            .map(|(_, v)| v.clone())
            .or_else(|| fallback.clone())
            .ok_or_else(|| format!("webroot_map has no document root for {d}"))?;
        let path = PathBuf::from(path);
        if !path.is_absolute() {
            return Err(format!("webroot {} is not absolute", path.display()));
        }
        entries.push(WebrootEntry {
            domain: d.clone(),
            path,
        });
    }
    Ok(Authenticator::Webroot { map: entries })
}

/// `30 days`, `2 weeks`, `30` (certbot's `renew_before_expiry` forms that are whole days).
fn days(value: &str) -> Option<u32> {
    let mut parts = value.split_whitespace();
    let n: u32 = parts.next()?.parse().ok()?;
    let factor = match parts.next() {
        None | Some("day" | "days" | "d") => 1,
        Some("week" | "weeks" | "w") => 7,
        Some(_) => return None,
    };
    if parts.next().is_some() {
        return None;
    }
    n.checked_mul(factor)
}

/// Decide what happens to certbot's account. Never an error: a lineage whose account cannot
/// be carried over is still imported, and renews with a new account.
fn account_plan(certbot_dir: &Path, conf: &RenewalConf, server: &ServerUrl) -> AccountPlan {
    let Some(id) = conf.param("account") else {
        return AccountPlan::New {
            reason: "the renewal file names no account".into(),
        };
    };
    let account = match certbot::read_account(certbot_dir, server.as_str(), id) {
        Ok(a) => a,
        Err(e) => {
            return AccountPlan::New {
                reason: e.to_string(),
            }
        }
    };
    match account.key {
        AccountKey::EcP256 { pkcs8 } | AccountKey::Rsa { pkcs8 } => {
            let meta = serde_json::json!({
                "url": account.url,
                "server": server.as_str(),
                "contact": null,
                "created": crate::ops::output::rfc3339(time::OffsetDateTime::now_utc()),
                "imported_from": account.dir.display().to_string(),
            });
            AccountPlan::CarryOver {
                id: AccountId::from_url(&account.url).to_string(),
                credentials: certbot::credentials_json(&account.url, &pkcs8, server.as_str()),
                meta: meta.to_string(),
            }
        }
        AccountKey::Unsupported { kind } => AccountPlan::New {
            reason: format!(
                "certbot's account {id} has an {kind} key; certwright signs with ECDSA P-256 \
                 and RSA account keys only"
            ),
        },
    }
}

/// certbot's `--https-port` (kept in the renewal file when not 443).
fn https_port(conf: &RenewalConf) -> Result<u16, String> {
    match conf.param("https_port") {
        None => Ok(HTTPS_PORT),
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("https_port = {p} is not a port")),
    }
}

/// Store the lineage: account (unless one with that id is already stored), version 1, then
/// the renewal config last, so a half-done import is never picked up by `renew`.
fn write_lineage(store: &Store, plan: &Plan) -> Result<Option<String>, Error> {
    let server_dir = plan.config.server.account_dir_name();
    let mut note = None;
    if let AccountPlan::CarryOver {
        id,
        credentials,
        meta,
    } = &plan.account
    {
        let account = AccountRef::new(&server_dir, id)?;
        if store.read_account(&account)?.is_some() {
            note = Some(format!("account {id} is already stored; kept as it is"));
        } else {
            store.save_account(&account, credentials, meta)?;
        }
    }
    store.write_version(&plan.config.cert_name, &plan.files)?;
    store.write_renewal(&plan.config.cert_name, &plan.config.to_json())?;
    Ok(note)
}

/// The per-lineage report (stdout).
fn describe(plan: &Plan, verb: &str) -> String {
    let c = &plan.config;
    let mut names: Vec<String> = c.domains.iter().map(ToString::to_string).collect();
    names.extend(c.issuance.ip_addresses.iter().map(ToString::to_string));
    let auth = match &c.authenticator {
        Authenticator::Standalone { http_01_port, .. } => {
            format!("standalone (port {http_01_port})")
        }
        Authenticator::Webroot { map } => {
            let roots: Vec<String> = map
                .iter()
                .map(|e| format!("{} -> {}", e.domain, e.path.display()))
                .collect();
            format!("webroot ({})", roots.join(", "))
        }
        Authenticator::Nginx { server_root, .. } => format!("nginx ({})", server_root.display()),
        Authenticator::DnsRfc2136 { credentials, .. } => {
            format!("dns-rfc2136 ({})", credentials.display())
        }
        Authenticator::Dns {
            provider,
            credentials,
            ..
        } => format!("dns {provider} ({})", credentials.display()),
        Authenticator::DnsRoute53 { .. } => "dns-route53 (AWS credential chain)".into(),
        Authenticator::Manual {
            challenge,
            auth_hook,
            ..
        } => format!("manual ({challenge:?}, auth hook {auth_hook})"),
    };
    let installer = match &c.installer {
        Some(Installer::Nginx { server_root, .. }) => format!("nginx ({})", server_root.display()),
        None => "none".into(),
    };
    let account = match &plan.account {
        AccountPlan::CarryOver { id, .. } => {
            format!("certbot's account carried over (ECDSA P-256 key) as {id}")
        }
        AccountPlan::New { reason } => format!(
            "not carried over: {reason}. The first renewal registers a new account at {} \
             without a contact email (run `certwright register -m EMAIL --agree-tos --server {}{}` \
             before it to give one)",
            c.server,
            c.server,
            c.ca_bundle
                .as_ref()
                .map(|b| format!(" --ca-bundle {}", b.display()))
                .unwrap_or_default()
        ),
    };
    let mut out = format!(
        "{verb} {name} (serial {serial})\n  domains: {domains}\n  authenticator: {auth}\n  \
         installer: {installer}\n  server: {server}\n  key type: {key}\n  account: {account}\n",
        name = c.cert_name,
        serial = plan.serial,
        domains = names.join(", "),
        server = c.server,
        key = c.key_type,
    );
    for d in &plan.dropped {
        out.push_str(&format!("  not carried over: {d}\n"));
    }
    out
}

/// What the user does next: certbot's files stay; nginx moves when they run `install`.
/// certbot's `renewal-hooks/{pre,deploy,post}/` keep running at each renewal: the directory
/// is added to certwright's list of hook directories (its files are not copied, so later
/// edits there still count). Returns the note to print, None when certbot has none.
pub(crate) fn adopt_hook_dirs(store: &Store, certbot_dir: &Path) -> Result<Option<String>, Error> {
    use crate::ops::deploy::hooks::{HOOK_DIR, MORE_HOOK_DIRS};
    let theirs = certbot_dir.join(HOOK_DIR);
    let has_hooks = ["pre", "deploy", "post"].iter().any(|k| {
        std::fs::read_dir(theirs.join(k)).is_ok_and(|mut entries| entries.next().is_some())
    });
    if !has_hooks {
        return Ok(None);
    }
    let theirs = std::fs::canonicalize(&theirs).unwrap_or(theirs);
    let ours = store.config_dir().join(HOOK_DIR);
    let list = ours.join(MORE_HOOK_DIRS);
    let io = |e: std::io::Error| StoreError::Io {
        action: "write",
        path: list.clone(),
        source: e,
    };
    crate::fsutil::create_dir_with_mode(&ours, 0o755).map_err(io)?;
    let policy = crate::safe::file::Policy::CONFIG.limited(64 * 1024);
    let mut text = crate::safe::file::read_text(&list, policy)
        .map_err(|e| StoreError::Other(format!("{}: {e}", list.display())))?
        .unwrap_or_default();
    let line = theirs.to_string_lossy().into_owned();
    if !text.lines().any(|l| l == line) {
        text.push_str(&line);
        text.push('\n');
        crate::fsutil::write_atomic(&list, text.as_bytes(), 0o644).map_err(io)?;
    }
    Ok(Some(format!(
        "certbot's hook directories under {} run at each renewal too (listed in {}).",
        theirs.display(),
        list.display()
    )))
}

pub(crate) fn next_steps(
    certbot_dir: &Path,
    imported: &[(CertName, String)],
    dry_run: bool,
) -> String {
    let mut out = String::new();
    if dry_run {
        out.push_str("(dry run) nothing was written.\n");
    }
    out.push_str(&format!(
        "\ncertbot's files under {} were not changed: nginx keeps serving the certificates it \
         points at there until you switch it. Then disable certbot's own renewal (its timer or \
         cron job) so the two do not both renew.\nTo switch nginx to certwright's paths \
         (a checkpoint is kept; `certwright rollback` undoes it):\n",
        certbot_dir.display()
    ));
    for (_, install) in imported {
        out.push_str(&format!("  {install}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certbot tree with one lineage (self-signed, so no CA is needed) and `params`.
    fn certbot_tree(names: &[&str], params: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let cert = rcgen::CertificateParams::new(names.clone())
            .unwrap()
            .self_signed(&key)
            .unwrap();
        // certbot names a wildcard lineage after the base name.
        let lineage = names[0].trim_start_matches("*.");
        let live = dir.path().join("live").join(lineage);
        std::fs::create_dir_all(&live).unwrap();
        std::fs::create_dir_all(dir.path().join("renewal")).unwrap();
        for (file, pem) in [
            ("cert.pem", cert.pem()),
            ("chain.pem", String::new()),
            ("fullchain.pem", cert.pem()),
            ("privkey.pem", key.serialize_pem()),
        ] {
            std::fs::write(live.join(file), pem).unwrap();
        }
        let conf = dir.path().join("renewal").join(format!("{lineage}.conf"));
        std::fs::write(
            &conf,
            format!(
                "renew_before_expiry = 2 weeks\nversion = 2.11.0\n[renewalparams]\n\
                 server = https://ca.example/dir\n{params}\n"
            ),
        )
        .unwrap();
        (dir, conf)
    }

    #[test]
    fn translates_webroot_nginx_installer_and_settings() {
        let (dir, conf) = certbot_tree(
            &["a.example.com", "b.example.com"],
            "authenticator = webroot\ninstaller = nginx\nnginx_server_root = /opt/nginx\n\
             nginx_ctl = /opt/nginx/sbin/nginx\nwebroot_path = /srv/a, /srv/b,\nreuse_key = True\n\
             key_type = rsa\nrsa_key_size = 3072\ndeploy_hook = systemctl reload x\n\
             [[webroot_map]]\na.example.com = /srv/a\n",
        );
        let plan = plan_lineage(dir.path(), &conf, None).unwrap();
        let c = &plan.config;
        assert_eq!(c.cert_name.as_str(), "a.example.com");
        assert_eq!(c.server.as_str(), "https://ca.example/dir");
        assert_eq!(c.key_type, KeyType::Rsa { bits: 3072 });
        assert_eq!(c.renew_before_expiry_days, Some(14));
        assert!(c.issuance.reuse_key);
        assert_eq!(c.account, "");
        let Authenticator::Webroot { map } = &c.authenticator else {
            panic!("{:?}", c.authenticator);
        };
        let roots: Vec<(&str, &Path)> = map
            .iter()
            .map(|e| (e.domain.as_str(), e.path.as_path()))
            .collect();
        // b is not in webroot_map: certbot gave it the last --webroot-path.
        assert_eq!(
            roots,
            [
                ("a.example.com", Path::new("/srv/a")),
                ("b.example.com", Path::new("/srv/b"))
            ]
        );
        assert_eq!(
            c.installer,
            Some(Installer::Nginx {
                server_root: "/opt/nginx".into(),
                ctl: "/opt/nginx/sbin/nginx".into(),
                http_01_port: 80,
                https_port: 443,
                redirect: false,
                hsts: false,
                path_map: Default::default(),
            })
        );
        assert_eq!(c.hooks.deploy_hook.as_deref(), Some("systemctl reload x"));
        assert!(!plan.dropped.iter().any(|d| d.contains("hook")));
        assert_eq!(
            install_command(c),
            "certwright install --nginx --cert-name a.example.com --nginx-server-root /opt/nginx \
             --nginx-ctl /opt/nginx/sbin/nginx"
        );
    }

    #[test]
    fn the_install_command_keeps_certbots_ports() {
        let (dir, conf) = certbot_tree(
            &["a.example.com"],
            "authenticator = nginx\ninstaller = nginx\nhttp01_port = 8080\nhttps_port = 8443\n\
             hsts = True\n",
        );
        let plan = plan_lineage(dir.path(), &conf, None).unwrap();
        assert_eq!(
            install_command(&plan.config),
            "certwright install --nginx --cert-name a.example.com --http-01-port 8080 \
             --https-port 8443 --hsts"
        );
    }

    fn private_file(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn imports_dns_plugin_lineages_with_wildcards() {
        let creds_dir = tempfile::tempdir().unwrap();
        let rfc = private_file(
            creds_dir.path(),
            "rfc2136.ini",
            "dns_rfc2136_server = 192.0.2.1\ndns_rfc2136_name = k.\n\
             dns_rfc2136_secret = c2VjcmV0\ndns_rfc2136_algorithm = HMAC-SHA512\n",
            0o600,
        );
        let cf = private_file(
            creds_dir.path(),
            "cf.ini",
            "dns_cloudflare_api_token = tok\n",
            0o600,
        );
        let names = &["*.example.com", "example.com"][..];
        let (dir, conf) = certbot_tree(
            names,
            &format!(
                "authenticator = dns-rfc2136\ndns_rfc2136_credentials = {}\n\
                 dns_rfc2136_propagation_seconds = 60\n",
                rfc.display()
            ),
        );
        let plan = plan_lineage(dir.path(), &conf, None).unwrap();
        assert_eq!(plan.config.cert_name.as_str(), "example.com");
        assert_eq!(
            plan.config.authenticator,
            Authenticator::DnsRfc2136 {
                credentials: rfc.clone(),
                resolvers: vec![],
                propagation_seconds: 0
            }
        );
        assert!(
            plan.dropped
                .iter()
                .any(|d| d.starts_with("dns_rfc2136_propagation_seconds = 60")),
            "{:?}",
            plan.dropped
        );
        assert!(!plan.config.to_json().contains("c2VjcmV0"));

        let (dir, conf) = certbot_tree(
            names,
            &format!(
                "authenticator = dns-cloudflare\ndns_cloudflare_credentials = {}\n",
                cf.display()
            ),
        );
        let plan = plan_lineage(dir.path(), &conf, None).unwrap();
        assert!(
            matches!(&plan.config.authenticator, Authenticator::Dns { provider, credentials, .. }
                if provider == "cloudflare" && credentials == &cf),
            "{:?}",
            plan.config.authenticator
        );
    }

    #[test]
    fn imports_route53_and_manual_hook_lineages_with_wildcards() {
        let names = &["*.example.com", "example.com"][..];
        let (dir, conf) = certbot_tree(names, "authenticator = dns-route53\n");
        let plan = plan_lineage(dir.path(), &conf, None).unwrap();
        assert_eq!(
            plan.config.authenticator,
            Authenticator::DnsRoute53 {
                resolvers: vec![],
                propagation_seconds: 0
            }
        );

        let (dir, conf) = certbot_tree(
            names,
            "authenticator = manual\nmanual_auth_hook = /bin/true\n\
             manual_cleanup_hook = /bin/true\npref_challs = dns-01,\n",
        );
        let plan = plan_lineage(dir.path(), &conf, None).unwrap();
        assert_eq!(
            plan.config.authenticator,
            Authenticator::Manual {
                challenge: ChallengeKind::Dns01,
                auth_hook: "/bin/true".into(),
                cleanup_hook: Some("/bin/true".into()),
                resolvers: vec![],
            }
        );
    }

    #[test]
    fn dns_lineages_with_unusable_credentials_are_refused() {
        let creds_dir = tempfile::tempdir().unwrap();
        let readable = private_file(
            creds_dir.path(),
            "cf.ini",
            "dns_cloudflare_api_token = tok\n",
            0o644,
        );
        let md5 = private_file(
            creds_dir.path(),
            "md5.ini",
            "dns_rfc2136_server = 192.0.2.1\ndns_rfc2136_name = k.\ndns_rfc2136_secret = c2VjcmV0\n",
            0o600,
        );
        for (params, reason) in [
            (
                format!(
                    "authenticator = dns-cloudflare\ndns_cloudflare_credentials = {}",
                    readable.display()
                ),
                "chmod 600",
            ),
            (
                format!(
                    "authenticator = dns-rfc2136\ndns_rfc2136_credentials = {}",
                    md5.display()
                ),
                "HMAC-MD5",
            ),
            (
                "authenticator = dns-rfc2136".to_string(),
                "without dns_rfc2136_credentials",
            ),
            (
                "authenticator = dns-digitalocean".to_string(),
                "dns-digitalocean is not supported",
            ),
        ] {
            let (dir, conf) = certbot_tree(&["*.example.com"], &params);
            let err = plan_lineage(dir.path(), &conf, None).err().unwrap();
            assert!(err.contains(reason), "{params}: {err}");
        }
    }

    #[test]
    fn refuses_what_certwright_cannot_renew() {
        for (names, params, reason) in [
            (
                &["a.example.com"][..],
                "authenticator = manual",
                "manual_auth_hook",
            ),
            (
                &["*.example.com"][..],
                "authenticator = standalone",
                "wildcard",
            ),
            (&["a.example.com"][..], "http01_port = 0", "http01_port"),
        ] {
            let (dir, conf) = certbot_tree(names, params);
            let err = plan_lineage(dir.path(), &conf, None).err().unwrap();
            assert!(err.contains(reason), "{params}: {err}");
        }
        // A key that does not belong to the certificate.
        let (dir, conf) = certbot_tree(&["a.example.com"], "");
        let other = rcgen::KeyPair::generate().unwrap().serialize_pem();
        std::fs::write(dir.path().join("live/a.example.com/privkey.pem"), other).unwrap();
        let err = plan_lineage(dir.path(), &conf, None).err().unwrap();
        assert!(err.contains("does not belong"), "{err}");
    }

    #[test]
    fn renew_before_expiry_forms() {
        assert_eq!(days("30 days"), Some(30));
        assert_eq!(days("2 weeks"), Some(14));
        assert_eq!(days("10"), Some(10));
        assert_eq!(days("12 hours"), None);
        assert_eq!(days("x days"), None);
    }

    #[test]
    fn key_types_from_certbot_settings() {
        let conf = |s: &str| RenewalConf::parse(&format!("[renewalparams]\n{s}")).unwrap();
        assert_eq!(
            key_type(&conf("key_type = rsa\nrsa_key_size = 4096"), "RSA 4096"),
            Ok(KeyType::Rsa { bits: 4096 })
        );
        assert_eq!(
            key_type(&conf("key_type = ecdsa\nelliptic_curve = secp384r1"), ""),
            Ok(KeyType::Ecdsa { curve: Curve::P384 })
        );
        assert_eq!(
            key_type(&conf(""), "RSA 2048"),
            Ok(KeyType::Rsa { bits: 2048 })
        );
        assert_eq!(
            key_type(&conf("key_type = ecdsa\nelliptic_curve = secp521r1"), ""),
            Ok(KeyType::Ecdsa { curve: Curve::P521 })
        );
        assert!(key_type(&conf("key_type = ecdsa\nelliptic_curve = secp224r1"), "").is_err());
        assert!(key_type(&conf("key_type = rsa\nrsa_key_size = 1024"), "").is_err());
    }
}
