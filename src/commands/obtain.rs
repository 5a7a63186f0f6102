//! The issuance pipeline shared by `certonly`, `run` and `renew`: account, order, answer the
//! challenges, finalize, check what came back, store it. Nothing reaches `live/` unless the
//! whole chain was received and matches the key and the names.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::acme::{self, AcmeAccount, AcmeHttp, AriCertId, Http01Challenge};
use crate::challenge::{self, ChallengeMap, Standalone, WebrootFiles};
use crate::config::{Authenticator, IssuanceSettings};
use crate::error::{AcmeError, Error, InputError};
use crate::nginx;
use crate::store::inspect::{self, CertInfo};
use crate::store::{self, IssuedFiles, Store};
use crate::types::{CertName, DomainName, Email, KeyType, ServerUrl};

use super::fleet::Fleet;
use super::ui::Ui;
use crate::store::shared::SharedStore;

const VALIDATION_DEADLINE: Duration = Duration::from_secs(120);
/// Overrides `VALIDATION_DEADLINE` (whole seconds, at least 1); undocumented, for tests
/// that need a validation which never completes to end in seconds rather than minutes.
const VALIDATION_DEADLINE_ENV: &str = "CERTWRIGHT_VALIDATION_DEADLINE_SECS";
const ISSUANCE_DEADLINE: Duration = Duration::from_secs(120);

/// Who the account is for and whether its terms were accepted.
pub struct AccountRequest<'a> {
    /// The account a lineage was issued with (renewals); else the server's first account.
    pub account_id: Option<&'a str>,
    pub email: Option<&'a Email>,
    pub agree_tos: bool,
    pub interactive: bool,
    /// External Account Binding for a registration (None: the CA does not require it).
    pub eab: Option<&'a acme::ExternalAccount>,
}

pub struct ObtainRequest<'a> {
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
    /// Key reuse, profile, preferred chain, subset and IP addresses (renewal config).
    pub issuance: &'a IssuanceSettings,
}

pub struct Obtained {
    pub version: u32,
    pub info: CertInfo,
    pub account_id: String,
    /// The names issued for (fewer than requested after --allow-subset-of-names).
    pub domains: Vec<DomainName>,
}

/// Where a standalone responder listens.
pub type ListenAt = (Option<IpAddr>, u16);

/// Ports bound before the run dropped root (`--user`), handed to the session that serves
/// challenges on them. Shared and taken once.
#[derive(Clone, Default, Debug)]
pub struct Prebound(
    std::sync::Arc<std::sync::Mutex<HashMap<ListenAt, Vec<std::net::TcpListener>>>>,
);

impl Prebound {
    pub fn insert(&self, at: ListenAt, listeners: Vec<std::net::TcpListener>) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(at, listeners);
        }
    }

    /// Nothing was bound (no `--user`, or no standalone lineage).
    pub fn is_empty(&self) -> bool {
        self.0.lock().map(|m| m.is_empty()).unwrap_or(true)
    }

    /// Duplicates of the bound sockets: a session closes its copies when it ends, the
    /// originals stay bound for the next pass (the daemon keeps its port for its lifetime).
    pub fn take(&self, at: &ListenAt) -> Option<Vec<std::net::TcpListener>> {
        let map = self.0.lock().ok()?;
        map.get(at)?.iter().map(|l| l.try_clone().ok()).collect()
    }
}

/// What one run shares between its orders: HTTP clients per CA bundle, accounts per
/// server, and one standalone responder per address:port serving every concurrent order.
#[derive(Default)]
pub struct Session {
    /// nginx-authenticated orders patch one shared config: one at a time.
    nginx: tokio::sync::Mutex<()>,
    http: tokio::sync::Mutex<HashMap<Option<PathBuf>, AcmeHttp>>,
    accounts: tokio::sync::Mutex<HashMap<String, (AcmeAccount, String)>>,
    /// `None` for a port a fleet node's daemon already serves from the shared store.
    responders: tokio::sync::Mutex<HashMap<ListenAt, (ChallengeMap, Option<challenge::Running>)>>,
    prebound: Prebound,
    fleet: Option<std::sync::Arc<Fleet>>,
}

/// The fleet's challenge entries, as a token source for a standalone responder.
struct SharedTokens(std::sync::Arc<dyn SharedStore>);

#[async_trait::async_trait]
impl challenge::TokenSource for SharedTokens {
    async fn lookup(&self, token: &str) -> Option<(String, String)> {
        self.0.challenge(token).await.ok().flatten()
    }
}

/// A standalone responder that also answers every token the fleet published.
pub fn shared_challenge_map(fleet: &Fleet) -> ChallengeMap {
    ChallengeMap::with_source(std::sync::Arc::new(SharedTokens(fleet.shared.clone())))
}

/// How long a challenge entry lives in the shared store if the node that put it dies.
const SHARED_CHALLENGE_TTL: Duration = Duration::from_secs(600);

impl Session {
    /// A session that serves challenges on listeners bound earlier (`--user`).
    pub fn with_prebound(prebound: Prebound) -> Session {
        Session {
            prebound,
            ..Session::default()
        }
    }

    /// Fleet mode: challenges also go to (and are answered from) the shared store, the
    /// fleet's account is used, and each order is recorded in the fleet's history.
    pub fn with_fleet(mut self, fleet: Option<std::sync::Arc<Fleet>>) -> Session {
        self.fleet = fleet;
        self
    }

    pub fn fleet(&self) -> Option<&Fleet> {
        self.fleet.as_deref()
    }

    pub async fn http(&self, ca_bundle: Option<&Path>) -> Result<AcmeHttp, Error> {
        let mut cache = self.http.lock().await;
        let key = ca_bundle.map(Path::to_path_buf);
        if let Some(h) = cache.get(&key) {
            return Ok(h.clone());
        }
        let h = AcmeHttp::new(ca_bundle)?;
        cache.insert(key, h.clone());
        Ok(h)
    }

    /// Bind the standalone port on first use; later orders share the listener.
    async fn standalone(&self, address: Option<IpAddr>, port: u16) -> Result<ChallengeMap, Error> {
        let mut responders = self.responders.lock().await;
        if let Some((map, _)) = responders.get(&(address, port)) {
            return Ok(map.clone());
        }
        let map = match &self.fleet {
            Some(fleet) => shared_challenge_map(fleet),
            None => ChallengeMap::default(),
        };
        let listener = match self.prebound.take(&(address, port)) {
            Some(bound) => Standalone::from_std(bound),
            None => Standalone::bind(address, port).await,
        };
        let running = match listener {
            Ok(listener) => Some(listener.serve(map.clone())),
            // This node's `daemon --http-01-port` serves the fleet's tokens there: publish to
            // the shared store and check it answers before the CA is asked (publish below).
            Err(e) if self.fleet.is_some() && e.kind() == std::io::ErrorKind::AddrInUse => None,
            Err(e) => return Err(bind_error(e, address, port)),
        };
        responders.insert((address, port), (map.clone(), running));
        Ok(map)
    }

    /// Whether the port is served by someone else (a fleet daemon), not this run.
    async fn served_elsewhere(&self, at: &ListenAt) -> bool {
        matches!(self.responders.lock().await.get(at), Some((_, None)))
    }

    /// Release every port.
    pub async fn shutdown(&self) {
        let mut responders = self.responders.lock().await;
        for (_, (_, running)) in responders.drain() {
            if let Some(running) = running {
                running.shutdown().await;
            }
        }
    }
}

/// Obtain a certificate and write it as the lineage's next version.
///
/// Accounts are read from (and registered into) `account_store`; the certificate is written
/// to `cert_store` (a throwaway store for `renew --dry-run`).
pub async fn obtain(
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
        .map_err(|e| Error::Config(format!("writing the certificate did not finish: {e}")))??;
    Ok(Obtained {
        version,
        info,
        account_id: issued.account_id,
        domains: issued.domains,
    })
}

/// Where the CSR comes from.
pub enum CsrSource<'a> {
    /// A new key of the request's key type.
    NewKey,
    /// This private key (PEM): --reuse-key.
    Key(&'a str),
    /// The user's own CSR (--csr): the key never reaches us.
    Given(&'a [u8]),
}

/// A chain the CA issued, before it is checked and stored.
pub struct Issued {
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
pub async fn issue(
    ui: &Ui,
    session: &Session,
    account_store: &Store,
    work_store: &Store,
    req: &ObtainRequest<'_>,
    csr: CsrSource<'_>,
) -> Result<Issued, Error> {
    // Bind before talking to the CA: a busy port is reported without spending an order.
    let mut responder = prepare_authenticator(session, work_store, req.authenticator).await?;
    let http = session.http(req.ca_bundle).await?;
    let (mut account, mut account_id) =
        session_account(ui, session, account_store, &http, req.server, &req.account).await?;
    let mut re_registered = false;
    let profile = choose_profile(ui, &account, req.issuance)?;
    let ips = &req.issuance.ip_addresses;

    let mut domains = req.domains.to_vec();
    let mut order = loop {
        if let Some(fleet) = session.fleet() {
            fleet
                .shared
                .record("order", req.cert_name.as_str(), &fleet.node)
                .await?;
        }
        let step = ui.step(format!("Creating order for {}", join_all(&domains, ips)));
        let ordered = account
            .new_order_for(&acme::OrderSpec {
                names: &domains,
                ip_addresses: ips,
                replaces: req.replaces,
                profile,
            })
            .await;
        let mut order = match ordered {
            // The CA lost or removed the stored account (a reset test CA does): register a
            // new one, once, rather than fail every run from now on.
            Err(e) if is_account_gone(&e) && !re_registered => {
                step.done_with("failed");
                ui.warn(format!(
                    "the CA no longer knows account {account_id} ({e}); registering a new one"
                ));
                (account, account_id) =
                    replace_account(ui, session, account_store, &http, req, &account_id).await?;
                re_registered = true;
                continue;
            }
            other => other?,
        };
        step.done();

        let step = ui.step(format!(
            "Validating {} name(s) over http-01 ({})",
            order.challenges.len(),
            req.authenticator.name()
        ));
        share_challenges(session, &order.challenges, true).await?;
        let published = match responder.publish(ui, &order.challenges).await {
            Ok(p) => p,
            Err(e) => {
                let _ = share_challenges(session, &order.challenges, false).await;
                return Err(e);
            }
        };
        let validated = order.validate(validation_deadline()).await;
        responder.cleanup(ui, published, &order.challenges);
        let _ = share_challenges(session, &order.challenges, false).await;
        match validated {
            Ok(()) => {
                step.done();
                break order;
            }
            Err(e) if req.issuance.allow_subset_of_names => {
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
                domains = keep;
            }
            Err(e) => return Err(e.into()),
        }
    };

    let step = ui.step("Finalizing and downloading the certificate");
    let (key_pem, csr_der) = match csr {
        CsrSource::Key(pem) => (
            Some(pem.to_string()),
            acme::keys::csr_for_existing_key(&domains, ips, pem)?,
        ),
        CsrSource::NewKey => {
            // Key generation (seconds for RSA 4096) runs off the async thread so concurrent
            // orders and signal handling go on meanwhile.
            let (names, ip_list, key_type) = (domains.clone(), ips.to_vec(), req.key_type);
            let k = tokio::task::spawn_blocking(move || {
                acme::keys::new_key_and_csr(&names, &ip_list, key_type)
            })
            .await
            .map_err(|e| Error::Config(format!("key generation did not finish: {e}")))??;
            (Some(k.private_key_pem), k.csr_der)
        }
        CsrSource::Given(der) => (None, der.to_vec()),
    };
    let mut chain_pem = order.finalize(&csr_der, ISSUANCE_DEADLINE).await?;
    step.done();

    if let Some(wanted) = &req.issuance.preferred_chain {
        chain_pem = prefer_chain(ui, &account, &mut order, chain_pem, wanted).await;
    }
    Ok(Issued {
        chain_pem,
        key_pem,
        domains,
        account_id,
    })
}

/// Fleet mode: put the order's tokens in the shared store (so a probe landing on any node
/// is answered), or take them out again.
async fn share_challenges(
    session: &Session,
    challenges: &[Http01Challenge],
    put: bool,
) -> Result<(), Error> {
    let Some(fleet) = session.fleet() else {
        return Ok(());
    };
    for c in challenges {
        if put {
            fleet
                .shared
                .put_challenge(
                    &c.token,
                    &host_form(&c.identifier),
                    &c.key_authorization,
                    SHARED_CHALLENGE_TTL,
                )
                .await?;
        } else {
            fleet.shared.remove_challenge(&c.token).await?;
        }
    }
    Ok(())
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
        return Err(InputError::Other(format!(
            "the CA does not offer the required profile {wanted:?} ({list})"
        ))
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
    let found = ensure_account(ui, store, http, server, req).await?;
    if let Some(fleet) = session.fleet() {
        fleet
            .offer_account(store, &server.account_dir_name(), &found.1)
            .await?;
    }
    accounts.insert(key, found.clone());
    Ok(found)
}

fn is_account_gone(err: &AcmeError) -> bool {
    matches!(err, AcmeError::Problem(p)
        if p.kind.as_deref() == Some("urn:ietf:params:acme:error:accountDoesNotExist"))
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
    let retired = store.retire_account(&server_dir, gone_id)?;
    ui.warn(format!(
        "the CA does not know account {gone_id}; moved it to {} and registering a new one",
        retired.display()
    ));
    let fresh = AccountRequest {
        account_id: None,
        ..req.account
    };
    let found = ensure_account(ui, store, http, req.server, &fresh).await?;
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
pub struct ChainFiles {
    pub cert_pem: String,
    pub chain_pem: String,
    pub fullchain_pem: String,
}

/// The CA's answer must be a chain whose leaf carries exactly our identifiers and the public
/// key `spki_der`.
pub fn check_chain(
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

/// Reuse the stored account for this server, or register one (terms must be accepted).
pub async fn ensure_account(
    ui: &Ui,
    store: &Store,
    http: &AcmeHttp,
    server: &ServerUrl,
    req: &AccountRequest<'_>,
) -> Result<(AcmeAccount, String), Error> {
    let server_dir = server.account_dir_name();
    let saved = match req.account_id {
        Some(id) => store
            .read_account(&server_dir, id)?
            .map(|c| (id.to_string(), c)),
        None => None,
    };
    let saved = match saved {
        Some(s) => Some(s),
        None => store.find_account(&server_dir)?,
    };
    if let Some((id, credentials)) = saved {
        let step = ui.step(format!("Using account {id} at {server}"));
        let account = AcmeAccount::restore(http, &credentials).await?;
        step.done();
        return Ok((account, id));
    }
    let directory = acme::fetch_directory(http, server).await?;
    if let Some(terms) = &directory.meta.terms_of_service {
        if !req.agree_tos && !ask_terms(terms, req.interactive) {
            return Err(AcmeError::TermsNotAgreed {
                terms: terms.clone(),
            }
            .into());
        }
    }
    let step = ui.step(format!("Registering an account at {server}"));
    let (account, credentials) =
        AcmeAccount::register_bound(http, server, req.email.map(Email::as_str), req.eab)
            .await
            .map_err(|e| super::account::explain_eab_refusal(e, req.eab.is_some(), server))?;
    let id = store::account_id_from_url(account.url());
    let meta = serde_json::json!({
        "url": account.url(),
        "server": server.as_str(),
        "contact": req.email.map(|e| format!("mailto:{e}")),
        "created": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
    });
    store.save_account(&server_dir, &id, &credentials, &meta.to_string())?;
    step.done();
    Ok((account, id))
}

fn ask_terms(terms: &str, interactive: bool) -> bool {
    if !interactive || !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("Please read the terms of service at {terms}\nYou must agree to register with the ACME server. Agree? (y/N): ");
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim(), "y" | "Y" | "yes" | "Yes")
}

/// An authenticator ready to publish (its port already bound, or nginx's turn taken).
enum Prepared<'s> {
    Standalone {
        map: ChallengeMap,
        /// The port, when a fleet daemon serves it (the run checks it answers).
        elsewhere: Option<u16>,
    },
    Webroot(Vec<(DomainName, PathBuf)>),
    Nginx {
        _turn: tokio::sync::MutexGuard<'s, ()>,
        ctl: nginx::Ctl,
        http_01_port: u16,
        checkpoints: PathBuf,
    },
}

/// What is being served right now, to be removed after validation.
enum Published {
    Standalone,
    Webroot(WebrootFiles),
    Nginx,
}

impl Prepared<'_> {
    async fn publish(
        &mut self,
        ui: &Ui,
        challenges: &[Http01Challenge],
    ) -> Result<Published, Error> {
        for c in challenges {
            if !challenge::is_valid_token(&c.token)
                || !challenge::is_valid_key_authorization(&c.key_authorization)
            {
                return Err(Error::Acme(AcmeError::Protocol(format!(
                    "the CA sent a malformed token for {}",
                    c.identifier
                ))));
            }
        }
        match self {
            Prepared::Standalone { map, elsewhere } => {
                for c in challenges {
                    map.insert(&host_form(&c.identifier), &c.token, &c.key_authorization);
                }
                if let Some(port) = elsewhere {
                    wait_served(*port, challenges).await?;
                }
                Ok(Published::Standalone)
            }
            Prepared::Webroot(map) => {
                let mut files = WebrootFiles::default();
                for c in challenges {
                    // IP addresses (RFC 8738) are served from the first document root.
                    let root = match c.identifier.parse::<IpAddr>() {
                        Ok(_) => map.first(),
                        Err(_) => map.iter().find(|(d, _)| d.as_str() == c.identifier),
                    };
                    let Some((_, root)) = root else {
                        return Err(Error::Challenge(format!(
                            "no webroot configured for {}",
                            c.identifier
                        )));
                    };
                    files
                        .publish(root, &c.token, &c.key_authorization)
                        .map_err(|e| {
                            Error::Challenge(format!(
                                "cannot write the challenge file under {}: {e}",
                                root.display()
                            ))
                        })?;
                }
                Ok(Published::Webroot(files))
            }
            Prepared::Nginx {
                ctl,
                http_01_port,
                checkpoints,
                ..
            } => {
                if challenges.is_empty() {
                    return Ok(Published::Nginx);
                }
                publish_nginx(ui, ctl, *http_01_port, checkpoints, challenges).await?;
                Ok(Published::Nginx)
            }
        }
    }

    fn cleanup(&mut self, ui: &Ui, published: Published, challenges: &[Http01Challenge]) {
        match (self, published) {
            (Prepared::Standalone { map, .. }, _) => {
                for c in challenges {
                    map.remove(&c.token);
                }
            }
            (_, Published::Webroot(mut files)) => files.cleanup(),
            (
                Prepared::Nginx {
                    ctl, checkpoints, ..
                },
                Published::Nginx,
            ) => {
                if let Err(e) = revert_nginx(ctl, checkpoints) {
                    ui.warn(format!(
                        "could not remove the temporary challenge locations from nginx: {e}"
                    ));
                }
            }
            _ => {}
        }
    }
}

/// The port is held by another process (this node's fleet daemon, serving the shared store):
/// it must answer every token before the CA is asked, else the port's holder is named.
async fn wait_served(port: u16, challenges: &[Http01Challenge]) -> Result<(), Error> {
    for c in challenges {
        let host = host_form(&c.identifier);
        let mut answered = false;
        for _ in 0..20 {
            if challenge::probe_local(port, &host, &c.token, &c.key_authorization).await {
                answered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        if !answered {
            let owner = challenge::port_owner(port)
                .map(|o| format!(" by {o}"))
                .unwrap_or_default();
            return Err(Error::Challenge(format!(
                "port {port} is held{owner}, which does not answer the fleet's challenges (run `certwright daemon --store ... --http-01-port {port}` there, or free the port)"
            )));
        }
    }
    Ok(())
}

/// Add a location per challenge, test, reload, and wait until nginx answers them locally.
async fn publish_nginx(
    ui: &Ui,
    ctl: &nginx::Ctl,
    port: u16,
    checkpoints: &Path,
    challenges: &[Http01Challenge],
) -> Result<(), Error> {
    // A run killed mid-validation left its locations behind: undo them first.
    revert_nginx(ctl, checkpoints)?;
    let config = nginx::load(&ctl.conf)?;
    let mut wanted = Vec::new();
    for c in challenges {
        wanted.push(nginx::Challenge {
            name: c.identifier.parse()?,
            token: c.token.clone(),
            key_authorization: c.key_authorization.clone(),
        });
    }
    let edits = nginx::plan_challenges(&config, &wanted, port)?;
    nginx::apply(&edits, checkpoints, ctl)?;
    if let Err(e) = ctl.reload() {
        let _ = revert_nginx(ctl, checkpoints);
        return Err(e.into());
    }
    // A reload hands over to new workers while old ones drain: only several answers in a
    // row show the old workers are gone and the CA's probe will see the new config.
    for c in challenges {
        let mut in_a_row = 0;
        for _ in 0..60 {
            if challenge::probe_local(port, &c.identifier, &c.token, &c.key_authorization).await {
                in_a_row += 1;
                if in_a_row == 4 {
                    break;
                }
            } else {
                in_a_row = 0;
            }
            tokio::time::sleep(Duration::from_millis(75)).await;
        }
        let answered = in_a_row == 4;
        if !answered {
            ui.warn(format!(
                "nginx on port {port} does not answer the challenge for {} locally; asking the CA anyway",
                c.identifier
            ));
        }
    }
    Ok(())
}

/// Restore the config as it was before the challenge locations, byte for byte, and reload.
fn revert_nginx(ctl: &nginx::Ctl, checkpoints: &Path) -> Result<(), Error> {
    if !checkpoints.exists() {
        return Ok(());
    }
    let report = nginx::rollback(checkpoints, &ctl.conf, usize::MAX)?;
    let _ = std::fs::remove_dir_all(checkpoints);
    if !report.checkpoints.is_empty() && ctl.is_running() {
        ctl.reload()?;
    }
    Ok(())
}

async fn prepare_authenticator<'s>(
    session: &'s Session,
    store: &Store,
    auth: &Authenticator,
) -> Result<Prepared<'s>, Error> {
    match auth {
        Authenticator::Standalone {
            http_01_port,
            http_01_address,
        } => {
            let map = session.standalone(*http_01_address, *http_01_port).await?;
            let elsewhere = session
                .served_elsewhere(&(*http_01_address, *http_01_port))
                .await
                .then_some(*http_01_port);
            Ok(Prepared::Standalone { map, elsewhere })
        }
        Authenticator::Webroot { map } => Ok(Prepared::Webroot(
            map.iter()
                .map(|e| (e.domain.clone(), e.path.clone()))
                .collect(),
        )),
        Authenticator::Nginx {
            server_root,
            ctl,
            http_01_port,
        } => {
            let ctl = nginx::Ctl {
                binary: ctl.clone(),
                conf: server_root.join("nginx.conf"),
            };
            // Fail on a broken or missing config before spending an order.
            ctl.test()?;
            Ok(Prepared::Nginx {
                _turn: session.nginx.lock().await,
                ctl,
                http_01_port: *http_01_port,
                checkpoints: store.work_dir().join("nginx-challenge-checkpoints"),
            })
        }
    }
}

/// How long to wait for the CA to finish validating.
fn validation_deadline() -> Duration {
    std::env::var(VALIDATION_DEADLINE_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&secs| secs > 0)
        .map_or(VALIDATION_DEADLINE, Duration::from_secs)
}

pub fn bind_error(err: std::io::Error, address: Option<IpAddr>, port: u16) -> Error {
    let at = match address {
        Some(a) => format!("{a}:{port}"),
        None => format!("port {port}"),
    };
    let message = match err.kind() {
        std::io::ErrorKind::AddrInUse => {
            let owner = challenge::port_owner(port)
                .map(|o| format!(", held by {o}"))
                .unwrap_or_default();
            format!(
                "cannot listen on {at}: address already in use{owner}. Stop that server for the \
                 duration, or let it serve the challenge: --webroot -w <its document root>, or --nginx"
            )
        }
        std::io::ErrorKind::PermissionDenied => format!(
            "cannot listen on {at}: permission denied. Ports below 1024 need root or \
             CAP_NET_BIND_SERVICE (`setcap cap_net_bind_service=+ep $(command -v certwright)`); \
             or use --webroot"
        ),
        _ => format!("cannot listen on {at}: {err}"),
    };
    Error::Challenge(message)
}

/// How an identifier appears in the Host header the CA sends: IPv6 in brackets.
fn host_form(identifier: &str) -> String {
    match identifier.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => identifier.to_string(),
    }
}

/// Check names for HTTP-01 before any network I/O.
pub fn check_http01_names(domains: &[DomainName]) -> Result<(), Error> {
    if let Some(w) = domains.iter().find(|d| d.is_wildcard()) {
        return Err(InputError::Domain {
            name: w.to_string(),
            reason: "wildcard certificates need the dns-01 challenge; http-01 (standalone, webroot, nginx) cannot prove control of every subdomain".into(),
        }
        .into());
    }
    Ok(())
}

/// Names and IP addresses for messages.
pub fn join_all(domains: &[DomainName], ips: &[IpAddr]) -> String {
    domains
        .iter()
        .map(|d| d.to_string())
        .chain(ips.iter().map(IpAddr::to_string))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn join(domains: &[DomainName]) -> String {
    domains
        .iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
