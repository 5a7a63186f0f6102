//! `certwright certonly`: obtain a certificate and store it; install nothing.

use std::net::IpAddr;
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::{CertonlyArgs, CurveArg, KeyTypeArg};
use crate::config::{
    Authenticator, Installer, IssuanceSettings, RenewalConfig, WebrootEntry, RENEWAL_SCHEMA,
};
use crate::error::{Error, InputError};
use crate::store::{inspect, Store};
use crate::types::{CertName, Curve, DomainName, Email, KeyType, ServerUrl};

use super::obtain::{self, AccountRequest, ObtainRequest};
use super::ui::print_stdout;
use super::{block_on, init_logging, resolve_ca_bundle, resolve_server, Ctx};

/// Everything `certonly` needs, validated.
pub struct Request {
    pub cert_name: CertName,
    pub cert_name_given: bool,
    pub domains: Vec<DomainName>,
    pub server: ServerUrl,
    pub ca_bundle: Option<PathBuf>,
    pub key_type: KeyType,
    pub authenticator: Authenticator,
    pub email: Option<Email>,
    pub without_email: bool,
    pub agree_tos: bool,
    pub force_renewal: bool,
    pub expand: bool,
    pub json: bool,
    pub eab: Option<crate::acme::ExternalAccount>,
    /// Issuance options from the flags, merged with the lineage's saved ones.
    pub issuance: IssuanceChoice,
    /// `--csr`: issue for this request and write the files given; no lineage.
    pub csr: Option<super::csr::CsrOutput>,
    /// Ports bound before dropping to `--user`.
    pub prebound: obtain::Prebound,
    /// Fleet mode (`--store`).
    pub fleet: Option<std::sync::Arc<super::fleet::Fleet>>,
}

/// The issuance flags as given; `None`/false means "as saved" for an existing lineage.
#[derive(Debug, Clone, Default)]
pub struct IssuanceChoice {
    /// Some(true): --reuse-key; Some(false): --new-key.
    pub reuse_key: Option<bool>,
    pub preferred_chain: Option<String>,
    pub preferred_profile: Option<String>,
    pub required_profile: Option<String>,
    pub allow_subset_of_names: bool,
    pub ip_addresses: Vec<IpAddr>,
}

impl IssuanceChoice {
    fn from_args(args: &crate::cli::IssuanceArgs) -> Result<Self, Error> {
        let mut ip_addresses: Vec<IpAddr> = Vec::new();
        for raw in &args.ip_address {
            let ip: IpAddr = raw.parse().map_err(|_| {
                InputError::Other(format!("--ip-address {raw:?} is not an IP address"))
            })?;
            if !ip_addresses.contains(&ip) {
                ip_addresses.push(ip);
            }
        }
        Ok(Self {
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
        })
    }

    /// The settings for this issuance: flags given win, the rest stays as saved.
    pub fn settings(&self, saved: Option<&IssuanceSettings>) -> IssuanceSettings {
        let saved = saved.cloned().unwrap_or_default();
        let profiles_given = self.preferred_profile.is_some() || self.required_profile.is_some();
        IssuanceSettings {
            reuse_key: self.reuse_key.unwrap_or(saved.reuse_key),
            // "" removes a saved preference, as with `reconfigure`.
            preferred_chain: match &self.preferred_chain {
                Some(c) if c.is_empty() => None,
                Some(c) => Some(c.clone()),
                None => saved.preferred_chain,
            },
            preferred_profile: if profiles_given {
                self.preferred_profile.clone()
            } else {
                saved.preferred_profile
            },
            required_profile: if profiles_given {
                self.required_profile.clone()
            } else {
                saved.required_profile
            },
            allow_subset_of_names: self.allow_subset_of_names || saved.allow_subset_of_names,
            ip_addresses: self.ip_addresses.clone(),
        }
    }
}

pub fn run(ctx: &Ctx, args: CertonlyArgs, webroots: Vec<Option<usize>>) -> Result<(), Error> {
    let mut request = validate(ctx, args, &webroots)?;
    request.prebound =
        super::privileges::bind_then_drop(ctx, &standalone_ports(&request.authenticator))?;
    let store = ctx.store();
    store.prepare()?;
    let _lock = store.lock()?;
    init_logging(ctx);
    if let Some(csr) = &request.csr {
        return block_on(super::csr::execute(ctx, &request, csr))?;
    }
    block_on(execute(ctx, &request))?
}

impl Request {
    /// The session for this run: it serves challenges on ports bound before `--user`.
    pub fn session(&self) -> obtain::Session {
        obtain::Session::with_prebound(self.prebound.clone()).with_fleet(self.fleet.clone())
    }

    /// The issuance request for `domains` (the request's own, or a CSR's) with a new
    /// account registered as the flags say if the server has none yet.
    pub fn obtain_request<'a>(
        &'a self,
        ctx: &Ctx,
        domains: &'a [DomainName],
        issuance: &'a IssuanceSettings,
    ) -> ObtainRequest<'a> {
        ObtainRequest {
            cert_name: &self.cert_name,
            domains,
            server: &self.server,
            ca_bundle: self.ca_bundle.as_deref(),
            key_type: self.key_type,
            authenticator: &self.authenticator,
            account: AccountRequest {
                account_id: None,
                email: self.email.as_ref(),
                agree_tos: self.agree_tos,
                interactive: ctx.interactive(),
                eab: self.eab.as_ref(),
            },
            reuse_key: None,
            replaces: None,
            issuance,
        }
    }
}

/// Parse and check every input; no file is touched and nothing is sent before this passes.
pub fn validate(
    ctx: &Ctx,
    args: CertonlyArgs,
    webroots: &[Option<usize>],
) -> Result<Request, Error> {
    if args.request.must_staple {
        return Err(InputError::Other("--must-staple is not supported: Let's Encrypt stopped accepting Must-Staple requests and shut down its OCSP service in 2025, so a Must-Staple certificate could not be stapled".into()).into());
    }
    let issuance = IssuanceChoice::from_args(&args.request.issuance)?;
    let csr = super::csr::read(&args.csr)?;
    let (domains, webroot_index) = match &csr {
        Some(c) => (c.domains.clone(), vec![None; c.domains.len()]),
        None => parse_domains(&args.request.domains, webroots, &issuance.ip_addresses)?,
    };
    let ip_addresses = match &csr {
        Some(c) => c.csr.ip_addresses.clone(),
        None => issuance.ip_addresses.clone(),
    };
    if !ip_addresses.is_empty() {
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
    }
    for (raw, name) in args.request.domains.iter().zip(&domains) {
        if DomainName::was_converted(raw, name) {
            ctx.ui
                .note(format!("{raw} is requested as {name} (punycode)"));
        }
    }
    obtain::check_http01_names(&domains)?;
    let cert_name_given = args.request.cert_name.is_some();
    let cert_name: CertName = match (&args.request.cert_name, domains.first()) {
        (Some(n), _) => n.parse()?,
        (None, Some(d)) => d.as_str().parse()?,
        (None, None) => ip_addresses
            .first()
            .map(|ip| ip.to_string().replace(':', "-"))
            .unwrap_or_default()
            .parse()?,
    };
    let email = args
        .account
        .email
        .as_deref()
        .map(str::parse::<Email>)
        .transpose()?;
    let server = resolve_server(args.account.server.as_deref(), args.account.staging)?;
    let ca_bundle = resolve_ca_bundle(args.account.ca_bundle.as_deref())?;
    let key_type = match args.request.key_type {
        KeyTypeArg::Ecdsa => KeyType::Ecdsa {
            curve: match args.request.elliptic_curve {
                CurveArg::Secp256r1 => Curve::P256,
                CurveArg::Secp384r1 => Curve::P384,
            },
        },
        KeyTypeArg::Rsa => KeyType::Rsa {
            bits: args.request.rsa_key_size,
        },
    };
    let authenticator = if args.auth.nginx {
        nginx_settings(&args.nginx)?;
        Authenticator::Nginx {
            server_root: args.nginx.nginx_server_root.clone(),
            ctl: args.nginx.nginx_ctl.clone(),
            http_01_port: args.auth.http_01_port,
        }
    } else if args.auth.webroot || !args.auth.webroot_path.is_empty() {
        webroot_authenticator(&args.auth.webroot_path, &domains, &webroot_index)?
    } else {
        let http_01_address = args
            .auth
            .http_01_address
            .as_deref()
            .map(|a| {
                a.parse::<IpAddr>().map_err(|_| {
                    InputError::Other(format!("--http-01-address {a:?} is not an IP address"))
                })
            })
            .transpose()?;
        Authenticator::Standalone {
            http_01_port: args.auth.http_01_port,
            http_01_address,
        }
    };
    Ok(Request {
        cert_name,
        cert_name_given,
        domains,
        server,
        ca_bundle,
        key_type,
        authenticator,
        email,
        without_email: args.account.register_unsafely_without_email,
        agree_tos: args.account.agree_tos,
        force_renewal: args.request.force_renewal,
        expand: args.request.expand,
        json: args.json,
        prebound: obtain::Prebound::default(),
        fleet: super::fleet::Fleet::from_ctx(ctx)?,
        eab: super::account::resolve_eab(&ctx.ui, &args.account.eab)?,
        issuance: IssuanceChoice {
            ip_addresses,
            ..issuance
        },
        csr,
    })
}

/// The standalone port an authenticator binds, if any (to bind before `--user`).
pub fn standalone_ports(auth: &Authenticator) -> Vec<obtain::ListenAt> {
    match auth {
        Authenticator::Standalone {
            http_01_port,
            http_01_address,
        } => vec![(*http_01_address, *http_01_port)],
        _ => vec![],
    }
}

/// `--nginx-server-root` must hold nginx.conf; checked before anything is sent.
pub fn nginx_settings(args: &crate::cli::NginxArgs) -> Result<(), Error> {
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

fn webroot_authenticator(
    paths: &[PathBuf],
    domains: &[DomainName],
    index: &[Option<usize>],
) -> Result<Authenticator, Error> {
    if paths.is_empty() {
        return Err(InputError::Other(
            "--webroot needs a document root: -w DIR before the -d names".into(),
        )
        .into());
    }
    let mut canonical = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(InputError::Other(format!(
                    "webroot {} is not a directory",
                    p.display()
                ))
                .into())
            }
            Err(e) => {
                return Err(InputError::Other(format!(
                    "webroot {} does not exist or is unreadable: {e}",
                    p.display()
                ))
                .into())
            }
        }
        canonical.push(
            std::fs::canonicalize(p)
                .map_err(|e| InputError::Other(format!("webroot {}: {e}", p.display())))?,
        );
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

/// What `certonly` (and `run`, before installing) did for the lineage.
pub struct Outcome {
    /// "issued", "renewed" or "not_due".
    pub result: &'static str,
    pub version: u32,
    pub info: inspect::CertInfo,
}

#[derive(Serialize)]
struct JsonResult<'a> {
    schema: u32,
    result: &'a str,
    cert_name: &'a str,
    domains: Vec<String>,
    version: u32,
    not_after: String,
    paths: crate::store::LivePaths,
    #[serde(skip_serializing_if = "Option::is_none")]
    installed: Option<bool>,
}

async fn execute(ctx: &Ctx, req: &Request) -> Result<(), Error> {
    let store = ctx.store();
    let outcome = obtain_unless_fresh(ctx, &store, req, None).await?;
    print_outcome(ctx, &store, req, &outcome, None);
    Ok(())
}

/// Obtain a certificate for the request unless the lineage already has a fresh one for the
/// same names; on success save the renewal config (with `installer`, if given). In fleet
/// mode: up to date with the fleet first, under the lineage's shared lock (waiting for
/// another node's order to finish), and what was obtained is published to the fleet.
pub async fn obtain_unless_fresh(
    ctx: &Ctx,
    store: &Store,
    req: &Request,
    installer: Option<Installer>,
) -> Result<Outcome, Error> {
    let Some(fleet) = &req.fleet else {
        return obtain_locally_unless_fresh(ctx, store, req, installer).await;
    };
    fleet
        .pull_and_deploy(&ctx.ui, store, &super::renew::RenewRequest::default())
        .await?;
    fleet
        .exclusive(&ctx.ui, store, &req.cert_name, true, |_| {
            obtain_locally_unless_fresh(ctx, store, req, installer)
        })
        .await?
        .ok_or_else(|| Error::Config("the fleet lock was not taken".into()))
}

async fn obtain_locally_unless_fresh(
    ctx: &Ctx,
    store: &Store,
    req: &Request,
    installer: Option<Installer>,
) -> Result<Outcome, Error> {
    let existing = match store.read_renewal(&req.cert_name)? {
        Some(json) => Some(RenewalConfig::parse(
            &json,
            &store.renewal_file(&req.cert_name),
        )?),
        None => None,
    };
    let mut is_renewal = false;
    if let Some(existing) = &existing {
        let added: Vec<&DomainName> = req
            .domains
            .iter()
            .filter(|d| !existing.domains.contains(d))
            .collect();
        let removed = existing.domains.iter().any(|d| !req.domains.contains(d));
        if !added.is_empty() && !removed && !req.expand {
            return Err(InputError::Other(format!(
                "certificate {} exists for [{}]; adding {} needs --expand (or a new --cert-name)",
                req.cert_name,
                obtain::join(&existing.domains),
                added
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .into());
        }
        if removed && !req.cert_name_given {
            return Err(InputError::Other(format!(
                "certificate {} exists for [{}]; to change its names to [{}], pass --cert-name {} explicitly",
                req.cert_name,
                obtain::join(&existing.domains),
                obtain::join(&req.domains),
                req.cert_name
            ))
            .into());
        }
        let same_names = added.is_empty()
            && !removed
            && existing.issuance.ip_addresses == req.issuance.ip_addresses;
        if same_names && !req.force_renewal {
            if let Some((fullchain, key)) = store.read_live(&req.cert_name)? {
                if let Ok(info) = inspect::inspect_chain(&fullchain) {
                    let state = super::state::LineageState::load(&ctx.ui, store, &req.cert_name);
                    let decision = crate::schedule::renewal_decision(&crate::schedule::DueInput {
                        now: OffsetDateTime::now_utc(),
                        validity: Some(crate::schedule::CertValidity {
                            not_before: info.not_before,
                            not_after: info.not_after,
                        }),
                        files_match: inspect::private_key_spki(&key)
                            .is_ok_and(|spki| spki == info.spki_der),
                        domains_changed: false,
                        renew_before_expiry: existing
                            .renew_before_expiry_days
                            .map(|d| time::Duration::days(i64::from(d))),
                        ari: state.ari_for(&info.serial),
                        force: false,
                    });
                    if !decision.due_now {
                        if installer.is_some() && existing.installer != installer {
                            let mut updated = existing.clone();
                            updated.installer = installer;
                            store.write_renewal(&req.cert_name, &updated.to_json())?;
                        }
                        return Ok(Outcome {
                            result: "not_due",
                            version: store.current_version(&req.cert_name)?.unwrap_or(0),
                            info,
                        });
                    }
                }
            }
        }
        is_renewal = store.current_version(&req.cert_name)?.is_some();
    }

    if existing.is_none() && req.email.is_none() && !req.without_email {
        let server_dir = req.server.account_dir_name();
        if store.find_account(&server_dir)?.is_none() {
            return Err(InputError::Other(
                "a new ACME account needs a contact: pass -m EMAIL, or --register-unsafely-without-email".into(),
            )
            .into());
        }
    }

    let issuance = req
        .issuance
        .settings(existing.as_ref().map(|e| &e.issuance));
    let session = req.session();
    let obtained = obtain::obtain(
        &ctx.ui,
        &session,
        store,
        store,
        &req.obtain_request(ctx, &req.domains, &issuance),
    )
    .await;
    session.shutdown().await;
    let obtained = obtained?;

    let config = RenewalConfig {
        schema: RENEWAL_SCHEMA,
        cert_name: req.cert_name.clone(),
        // The names issued for: --allow-subset-of-names may have dropped some.
        domains: obtained.domains.clone(),
        server: req.server.clone(),
        ca_bundle: req.ca_bundle.clone(),
        account: obtained.account_id.clone(),
        key_type: req.key_type,
        authenticator: req.authenticator.clone(),
        installer: installer.or_else(|| existing.as_ref().and_then(|e| e.installer.clone())),
        renew_before_expiry_days: existing.as_ref().and_then(|e| e.renew_before_expiry_days),
        issuance,
    };
    store.write_renewal(&req.cert_name, &config.to_json())?;
    Ok(Outcome {
        result: if is_renewal { "renewed" } else { "issued" },
        version: obtained.version,
        info: obtained.info,
    })
}

/// The final summary (text like certbot's, or one JSON object). `installed`: whether an
/// installer ran (`run`), None for `certonly`.
pub fn print_outcome(
    ctx: &Ctx,
    store: &Store,
    req: &Request,
    outcome: &Outcome,
    installed: Option<bool>,
) {
    let paths = store.live_paths(&req.cert_name);
    if req.json {
        let out = JsonResult {
            schema: 1,
            result: outcome.result,
            cert_name: req.cert_name.as_str(),
            // As issued: --allow-subset-of-names may have dropped names.
            domains: req
                .domains
                .iter()
                .map(|d| d.to_string())
                .chain(req.issuance.ip_addresses.iter().map(|ip| ip.to_string()))
                .filter(|d| outcome.info.domains.contains(d))
                .collect(),
            version: outcome.version,
            not_after: rfc3339(outcome.info.not_after),
            paths,
            installed,
        };
        print_stdout(&format!(
            "{}\n",
            serde_json::to_string(&out).unwrap_or_default()
        ));
        return;
    }
    if ctx.global.quiet {
        return;
    }
    let text = if outcome.result == "not_due" {
        format!(
            "Certificate not yet due for renewal; no action taken.\n\
             Certificate {} ({}) expires on {}. Use --force-renewal to renew anyway.\n",
            req.cert_name,
            paths.fullchain.display(),
            date(outcome.info.not_after)
        )
    } else {
        format!(
            "Successfully received certificate.\n\
             Certificate is saved at: {}\n\
             Key is saved at:         {}\n\
             This certificate expires on {}.\n\
             These files will be updated when the certificate renews (`certwright renew`).\n",
            paths.fullchain.display(),
            paths.privkey.display(),
            date(outcome.info.not_after),
        )
    };
    print_stdout(&text);
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn date(t: OffsetDateTime) -> String {
    t.date().to_string()
}
