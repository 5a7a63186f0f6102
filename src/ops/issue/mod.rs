//! The issuance pipeline shared by `certonly`, `run` and `renew`: account, order, answer the
//! challenges, finalize, check what came back, store it. Nothing reaches `live/` unless the
//! whole chain was received and matches the key and the names.

pub(crate) mod accounts;
pub(crate) mod certify;
pub(crate) mod csr;
pub(crate) mod session;

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use crate::acme::{self, AcmeAccount, AcmeHttp, AriCertId};
use crate::config::{Authenticator, IssuanceSettings};
use crate::error::{AcmeError, Diagnosis, Error, InputError};
use crate::store::inspect::{self, CertInfo};
use crate::store::{AccountRef, IssuedFiles, Store};
use crate::types::{CertName, DomainName, KeyType, ServerUrl};

use crate::ops::doctor::after_failure;
use crate::ops::issue::accounts::{ensure_account, is_account_gone, Registration};
use crate::ops::issue::session::Session;
use crate::ops::output::Ui;
use crate::ops::solve::{prepare_authenticator, share_challenges, Prepared};

const VALIDATION_DEADLINE: Duration = Duration::from_secs(120);
/// Overrides `VALIDATION_DEADLINE` (whole seconds, at least 1); undocumented, for tests
/// that need a validation which never completes to end in seconds rather than minutes.
const VALIDATION_DEADLINE_ENV: &str = "CERTWRIGHT_VALIDATION_DEADLINE_SECS";

/// Which account to order with, and how to register one if the server has none.
pub(crate) struct AccountRequest<'a> {
    /// The account a lineage was issued with (renewals); else the server's first account.
    pub account_id: Option<&'a str>,
    pub registration: Registration<'a>,
}

pub(crate) struct ObtainRequest<'a> {
    pub cert_name: &'a CertName,
    pub domains: &'a [DomainName],
    pub server: &'a ServerUrl,
    pub ca_bundle: Option<&'a Path>,
    pub key_type: KeyType,
    pub authenticator: &'a Authenticator,
    pub account: AccountRequest<'a>,
    /// Reuse this private key (PEM) instead of generating one.
    pub reuse_key: Option<&'a str>,
    /// ARI: the certificate this one replaces.
    pub replaces: Option<&'a AriCertId>,
    /// Dry runs: validate every name for real, even those the CA holds as valid.
    pub revalidate: bool,
    /// Key reuse, profile, preferred chain, subset and IP addresses (renewal config).
    pub issuance: &'a IssuanceSettings,
}

pub(crate) struct Obtained {
    pub version: u32,
    pub info: CertInfo,
    pub account_id: String,
    /// The names issued for (fewer than requested after --allow-subset-of-names).
    pub domains: Vec<DomainName>,
}

/// Obtain a certificate and write it as the lineage's next version.
///
/// Accounts are read from (and registered into) `account_store`; the certificate is written
/// to `cert_store` (a throwaway store for `renew --dry-run`).
pub(crate) async fn obtain(
    ui: &Ui,
    session: &Session,
    account_store: &Store,
    cert_store: &Store,
    req: &ObtainRequest<'_>,
) -> Result<Obtained, Error> {
    cert_store.check_lineage_paths(req.cert_name)?;
    let key = match req.reuse_key {
        Some(pem) => Some(pem.to_string()),
        None if req.issuance.reuse_key => current_key(ui, account_store, req)?,
        None => None,
    };
    let csr = match &key {
        Some(pem) => CsrSource::Key(pem),
        None => CsrSource::NewKey,
    };
    let issued = issue(ui, session, account_store, cert_store, req, csr).await?;
    let key_pem = issued.key_pem.unwrap_or_default();
    let (files, info) = check_issued(
        &issued.chain_pem,
        &key_pem,
        &issued.domains,
        &req.issuance.ip_addresses,
    )?;
    // Several fsyncs: on the blocking pool, so concurrent renewals do not queue behind them.
    let (store, name) = (cert_store.clone(), req.cert_name.clone());
    let version = tokio::task::spawn_blocking(move || store.write_version(&name, &files))
        .await
        .map_err(|e| Error::Internal(format!("writing the certificate did not finish: {e}")))??;
    Ok(Obtained {
        version,
        info,
        account_id: issued.account_id,
        domains: issued.domains,
    })
}

/// Where the CSR comes from.
pub(crate) enum CsrSource<'a> {
    /// A new key of the request's key type.
    NewKey,
    /// This private key (PEM): --reuse-key.
    Key(&'a str),
    /// The user's own CSR (--csr): the key never reaches us.
    Given(&'a [u8]),
}

/// A chain the CA issued, before it is checked and stored.
pub(crate) struct Issued {
    pub chain_pem: String,
    /// The private key the CSR was made with (None for a user's CSR).
    pub key_pem: Option<String>,
    /// The names issued for: the request's, less any dropped by --allow-subset-of-names.
    pub domains: Vec<DomainName>,
    pub account_id: String,
}

/// The lineage's current key for --reuse-key, if it has one of the configured type.
fn current_key(ui: &Ui, store: &Store, req: &ObtainRequest<'_>) -> Result<Option<String>, Error> {
    let Some((fullchain, key)) = store.read_live(req.cert_name)? else {
        return Ok(None);
    };
    let current = inspect::inspect_chain(&fullchain)
        .map(|i| i.key_type)
        .unwrap_or_default();
    if current != req.key_type.to_string() {
        ui.warn(format!(
            "{}: the key type changes from {current} to {}, so a new key is generated despite --reuse-key",
            req.cert_name, req.key_type
        ));
        return Ok(None);
    }
    Ok(Some(key))
}

/// Account, order (with the profile), answer the challenges (dropping names that fail, with
/// --allow-subset-of-names), finalize, and pick the preferred chain.
pub(crate) async fn issue(
    ui: &Ui,
    session: &Session,
    account_store: &Store,
    work_store: &Store,
    req: &ObtainRequest<'_>,
    csr: CsrSource<'_>,
) -> Result<Issued, Error> {
    // Bind before talking to the CA: a busy port is reported without spending an order.
    let mut solver = prepare_authenticator(ui, session, work_store, req.authenticator).await?;
    let http = session.http(req.ca_bundle).await?;
    let mut acct =
        session_account(ui, session, account_store, &http, req.server, &req.account).await?;
    let (mut order, domains) = validated_order(
        ui,
        session,
        account_store,
        &http,
        req,
        &mut acct,
        &mut solver,
    )
    .await?;
    let step = ui.step("Finalizing and downloading the certificate");
    let ips = &req.issuance.ip_addresses;
    let (key_pem, csr_der) = make_csr(csr, &domains, ips, req.key_type).await?;
    let progress = |line: String| ui.note(line);
    let timeout = req.issuance.issuance_timeout();
    let mut chain_pem = order.finalize(&csr_der, timeout, &progress).await?;
    step.done();
    if let Some(wanted) = &req.issuance.preferred_chain {
        chain_pem = prefer_chain(ui, &acct.0, &mut order, chain_pem, wanted).await;
    }
    Ok(Issued {
        chain_pem,
        key_pem,
        domains,
        account_id: acct.1,
    })
}

/// Order, answer the challenges and wait for validation; with --allow-subset-of-names,
/// names that fail are dropped and the rest ordered again. Returns the validated order and
/// the names it is for.
async fn validated_order(
    ui: &Ui,
    session: &Session,
    account_store: &Store,
    http: &AcmeHttp,
    req: &ObtainRequest<'_>,
    acct: &mut (AcmeAccount, String),
    solver: &mut Prepared<'_>,
) -> Result<(acme::PendingOrder, Vec<DomainName>), Error> {
    let profile = choose_profile(ui, &acct.0, req.issuance)?;
    let ips = &req.issuance.ip_addresses;
    let mut domains = req.domains.to_vec();
    let mut re_registered = false;
    loop {
        if let Some(fleet) = session.fleet() {
            fleet
                .shared
                .record("order", req.cert_name.as_str(), &fleet.node)
                .await?;
        }
        let step = ui.step(format!("Creating order for {}", join_all(&domains, ips)));
        let spec = acme::OrderSpec {
            names: &domains,
            ip_addresses: ips,
            replaces: req.replaces,
            profile,
            challenge: if req.authenticator.is_dns() {
                acme::ChallengeKind::Dns01
            } else {
                acme::ChallengeKind::Http01
            },
            revalidate: req.revalidate,
            revalidated: false,
        };
        let mut order = match acct.0.new_order_for(&spec).await {
            // The CA lost or removed the stored account (a reset test CA does): register a
            // new one, once, rather than fail every run from now on.
            Err(e) if is_account_gone(&e) && !re_registered => {
                step.done_with("failed");
                ui.warn(format!(
                    "the CA no longer knows account {} ({e}); registering a new one",
                    acct.1
                ));
                *acct = replace_account(ui, session, account_store, http, req, &acct.1).await?;
                re_registered = true;
                continue;
            }
            other => other?,
        };
        step.done();
        let validated = match solve_and_validate(ui, session, req, &mut order, solver).await {
            Ok(Ok(())) => return Ok((order, domains)),
            Ok(Err(e)) => e,
            Err(e) => {
                order.abandon().await;
                return Err(e);
            }
        };
        let remaining = remaining_names(ui, &mut order, &domains, req, validated).await;
        // The order is given up either way: a new one follows, or the run fails.
        order.abandon().await;
        domains = remaining?;
    }
}

/// Publish the order's challenges, let the CA validate, clean up whatever happened. The
/// outer error is ours (publishing failed); the inner one the CA's verdict.
async fn solve_and_validate(
    ui: &Ui,
    session: &Session,
    req: &ObtainRequest<'_>,
    order: &mut acme::PendingOrder,
    solver: &mut Prepared<'_>,
) -> Result<Result<(), AcmeError>, Error> {
    if order.challenges.is_empty() {
        // Pre-approved (ACM) or reused authorizations: nothing to publish, no server touched.
        ui.note("Every name is already authorized at the CA: nothing to validate");
        return Ok(order.validate(validation_deadline()).await);
    }
    let step = ui.step(format!(
        "Validating {} name(s) over {} ({})",
        order.challenges.len(),
        if req.authenticator.is_dns() {
            "dns-01"
        } else {
            "http-01"
        },
        req.authenticator.name()
    ));
    // dns-01 answers come from the zone, not from any node: nothing to share.
    let shared: Vec<acme::Challenge> = if req.authenticator.is_dns() {
        Vec::new()
    } else {
        order.challenges.clone()
    };
    share_challenges(session, &shared, true).await?;
    let challenges = order.challenges.clone();
    let stop = solver.stop_signal();
    let work = async {
        let published = solver.publish(ui, &challenges).await?;
        let validated = order.validate(validation_deadline()).await;
        solver.cleanup(ui, published, &challenges).await;
        Ok::<_, Error>(diagnose(ui, solver, req, validated).await)
    };
    let outcome = match stop {
        None => Ok(work.await),
        Some(stop) => tokio::select! {
            done = work => Ok(done),
            signal = stop => Err(signal),
        },
    };
    let outcome = match outcome {
        Ok(done) => done,
        Err(signal) => {
            solver.abandon(ui).await;
            Err(Error::Interrupted { signal })
        }
    };
    let _ = share_challenges(session, &shared, false).await;
    let validated = outcome?;
    if validated.is_ok() {
        step.done();
    }
    Ok(validated)
}

/// A failed validation: `doctor`'s checks for the failing name, through the same solver, go
/// under the CA's error (and so into the failure alert).
async fn diagnose(
    ui: &Ui,
    solver: &mut Prepared<'_>,
    req: &ObtainRequest<'_>,
    validated: Result<(), AcmeError>,
) -> Result<(), AcmeError> {
    let Err(AcmeError::Validation {
        identifier,
        problem,
        ..
    }) = validated
    else {
        return validated;
    };
    let step = ui.step(format!("Checking why {identifier} failed"));
    let diagnosis = after_failure(ui, solver, req.authenticator, req.server, &identifier).await;
    step.done();
    Err(AcmeError::Validation {
        identifier,
        problem,
        diagnosis: Some(Box::new(Diagnosis(diagnosis))),
    })
}

/// --allow-subset-of-names: the names left after dropping those that failed validation;
/// the error itself when that is not allowed or nothing (or an IP address) failed.
async fn remaining_names(
    ui: &Ui,
    order: &mut acme::PendingOrder,
    domains: &[DomainName],
    req: &ObtainRequest<'_>,
    e: AcmeError,
) -> Result<Vec<DomainName>, Error> {
    let ips = &req.issuance.ip_addresses;
    if !req.issuance.allow_subset_of_names {
        return Err(e.into());
    }
    let failed = order.invalid_identifiers().await;
    let keep: Vec<DomainName> = domains
        .iter()
        .filter(|d| !failed.iter().any(|f| f == d.as_str()))
        .cloned()
        .collect();
    // Only domain names are dropped; nothing left, or a failed IP, ends it.
    let only_names = failed
        .iter()
        .all(|f| domains.iter().any(|d| d.as_str() == f));
    if failed.is_empty() || !only_names || (keep.is_empty() && ips.is_empty()) {
        return Err(e.into());
    }
    ui.warn(format!(
        "dropping {} (failed validation: {e}); retrying with {}",
        failed.join(", "),
        join_all(&keep, ips)
    ));
    Ok(keep)
}

/// The key and CSR for the names: a new key, the reused one, or the user's CSR.
async fn make_csr(
    csr: CsrSource<'_>,
    domains: &[DomainName],
    ips: &[IpAddr],
    key_type: KeyType,
) -> Result<(Option<String>, Vec<u8>), Error> {
    Ok(match csr {
        CsrSource::Key(pem) => (
            Some(pem.to_string()),
            acme::keys::csr_for_existing_key(domains, ips, pem)?,
        ),
        CsrSource::NewKey => {
            // Key generation (seconds for RSA 4096) runs off the async thread so concurrent
            // orders and signal handling go on meanwhile.
            let (names, ip_list) = (domains.to_vec(), ips.to_vec());
            let k = tokio::task::spawn_blocking(move || {
                acme::keys::new_key_and_csr(&names, &ip_list, key_type)
            })
            .await
            .map_err(|e| Error::Internal(format!("key generation did not finish: {e}")))??;
            (Some(k.private_key_pem), k.csr_der)
        }
        CsrSource::Given(der) => (None, der.to_vec()),
    })
}

/// --required-profile / --preferred-profile against the directory's `meta.profiles`.
fn choose_profile<'a>(
    ui: &Ui,
    account: &AcmeAccount,
    settings: &'a IssuanceSettings,
) -> Result<Option<&'a str>, Error> {
    let Some((wanted, required)) = settings.profile() else {
        return Ok(None);
    };
    let offered = account.profiles();
    if offered.iter().any(|p| p == wanted) {
        return Ok(Some(wanted));
    }
    let list = if offered.is_empty() {
        "it offers none".to_string()
    } else {
        format!("it offers: {}", offered.join(", "))
    };
    if required {
        return Err(InputError::ProfileNotOffered {
            wanted: wanted.to_string(),
            offered: list,
        }
        .into());
    }
    ui.warn(format!(
        "the CA does not offer the preferred profile {wanted:?} ({list}); ordering with its default"
    ));
    Ok(None)
}

/// The CA's default chain, or the alternate whose topmost certificate is issued by `wanted`.
/// Never fails the issuance: a missing match keeps the default chain (certbot does the same).
async fn prefer_chain(
    ui: &Ui,
    account: &AcmeAccount,
    order: &mut acme::PendingOrder,
    default: String,
    wanted: &str,
) -> String {
    let top = |pem: &str| inspect::top_issuer_cn(pem.as_bytes());
    if top(&default).as_deref() == Some(wanted) {
        return default;
    }
    let Some(url) = order.certificate_url() else {
        return default;
    };
    match account.alternate_chains(&url).await {
        Ok(chains) => {
            if let Some(found) = chains
                .into_iter()
                .find(|c| top(c).as_deref() == Some(wanted))
            {
                return found;
            }
            ui.note(format!(
                "no chain from the CA is issued by {wanted:?}; keeping the default chain"
            ));
        }
        Err(e) => ui.warn(format!(
            "could not fetch the CA's alternate chains ({e}); keeping the default chain"
        )),
    }
    default
}

/// One account per server per run, restored or registered once.
async fn session_account(
    ui: &Ui,
    session: &Session,
    store: &Store,
    http: &AcmeHttp,
    server: &ServerUrl,
    req: &AccountRequest<'_>,
) -> Result<(AcmeAccount, String), Error> {
    let key = format!("{server} {}", req.account_id.unwrap_or(""));
    let mut accounts = session.accounts.lock().await;
    if let Some(found) = accounts.get(&key) {
        return Ok(found.clone());
    }
    if let Some(fleet) = session.fleet() {
        fleet
            .pull_account(store, &server.account_dir_name())
            .await?;
    }
    let found = ensure_account(ui, store, http, server, req.account_id, &req.registration).await?;
    if let Some(fleet) = session.fleet() {
        fleet
            .offer_account(store, &server.account_dir_name(), &found.1)
            .await?;
    }
    accounts.insert(key, found.clone());
    Ok(found)
}

/// Retire a stored account the CA says does not exist (moved aside, key kept) and register
/// a new one in its place, for this run and the next ones.
async fn replace_account(
    ui: &Ui,
    session: &Session,
    store: &Store,
    http: &AcmeHttp,
    req: &ObtainRequest<'_>,
    gone_id: &str,
) -> Result<(AcmeAccount, String), Error> {
    let server_dir = req.server.account_dir_name();
    let retired = store.retire_account(&AccountRef::new(&server_dir, gone_id)?)?;
    ui.warn(format!(
        "the CA does not know account {gone_id}; moved it to {} and registering a new one",
        retired.display()
    ));
    let reg = &req.account.registration;
    let found = ensure_account(ui, store, http, req.server, None, reg).await?;
    let mut accounts = session.accounts.lock().await;
    accounts.retain(|_, (_, id)| id != gone_id);
    let key = format!("{} {}", req.server, req.account.account_id.unwrap_or(""));
    accounts.insert(key, found.clone());
    Ok(found)
}

/// The CA's answer must be a chain whose leaf carries exactly our names and our key.
fn check_issued(
    chain_pem: &str,
    key_pem: &str,
    domains: &[DomainName],
    ips: &[IpAddr],
) -> Result<(IssuedFiles, CertInfo), Error> {
    let spki = inspect::private_key_spki(key_pem)
        .map_err(|m| Error::Acme(AcmeError::BadCertificate(m)))?;
    let (files, info) = check_chain(chain_pem, &spki, domains, ips)?;
    Ok((
        IssuedFiles {
            fullchain_pem: files.fullchain_pem,
            cert_pem: files.cert_pem,
            chain_pem: files.chain_pem,
            privkey_pem: key_pem.to_string(),
        },
        info,
    ))
}

/// The leaf, chain and fullchain PEM of a checked issuance (no key: --csr).
pub(crate) struct ChainFiles {
    pub cert_pem: String,
    pub chain_pem: String,
    pub fullchain_pem: String,
}

/// The CA's answer must be a chain whose leaf carries exactly our identifiers and the public
/// key `spki_der`.
pub(crate) fn check_chain(
    chain_pem: &str,
    spki_der: &[u8],
    domains: &[DomainName],
    ips: &[IpAddr],
) -> Result<(ChainFiles, CertInfo), Error> {
    let bad = |m: String| Error::Acme(AcmeError::BadCertificate(m));
    let ders = inspect::split_pem_chain(chain_pem.as_bytes()).map_err(bad)?;
    let info = inspect::inspect_chain(chain_pem.as_bytes()).map_err(bad)?;
    let mut want: Vec<String> = domains
        .iter()
        .map(|d| d.to_string())
        .chain(ips.iter().map(IpAddr::to_string))
        .collect();
    let mut got = info.domains.clone();
    want.sort();
    got.sort();
    if want != got {
        return Err(bad(format!(
            "its names [{}] are not the requested [{}]",
            got.join(", "),
            want.join(", ")
        )));
    }
    if spki_der != info.spki_der {
        return Err(bad(
            "its public key does not match the private key we sent".into()
        ));
    }
    let cert_pem = inspect::pem_encode("CERTIFICATE", &ders[0]);
    let chain_pem: String = ders[1..]
        .iter()
        .map(|d| inspect::pem_encode("CERTIFICATE", d))
        .collect();
    Ok((
        ChainFiles {
            fullchain_pem: format!("{cert_pem}{chain_pem}"),
            cert_pem,
            chain_pem,
        },
        info,
    ))
}

/// How long to wait for the CA to finish validating.
fn validation_deadline() -> Duration {
    std::env::var(VALIDATION_DEADLINE_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&secs| secs > 0)
        .map_or(VALIDATION_DEADLINE, Duration::from_secs)
}

/// Names and IP addresses for messages.
pub(crate) fn join_all(domains: &[DomainName], ips: &[IpAddr]) -> String {
    domains
        .iter()
        .map(|d| d.to_string())
        .chain(ips.iter().map(IpAddr::to_string))
        .collect::<Vec<_>>()
        .join(", ")
}
