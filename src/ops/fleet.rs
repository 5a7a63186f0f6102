//! Fleet mode (`--store redis://...`): the node side of the shared store. A node pulls
//! versions newer than its own into its local store, takes a lineage's shared lock before
//! ordering, publishes what it obtained in one fenced write, and undoes its local write if
//! the fleet refused it, so a node never serves a certificate the fleet does not have.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::RenewalConfig;
use crate::error::Error;
use crate::store::shared::{self, Bundle, Lease, LockAttempt, SharedAccount, SharedStore};
use crate::store::{inspect, AccountRef, IssuedFiles, Store};
use crate::types::{CertName, NodeId};

use crate::ops::output::Ui;

/// Where each node records which shared version its `live/` holds.
const INSTALLED_FILE: &str = "fleet-versions.json";

/// `--store` and friends, validated.
#[derive(Debug, Clone)]
pub(crate) struct FleetSettings {
    pub url: String,
    pub key_file: Option<std::path::PathBuf>,
    /// `--store-ca-bundle`: the CA of a rediss:// server.
    pub ca_bundle: Option<std::path::PathBuf>,
    pub prefix: String,
    /// This node's name (`--node-id`, default the host name).
    pub node: NodeId,
    pub lock_ttl: Duration,
}

/// What `Fleet::exclusive` did.
pub(crate) enum Exclusive<T> {
    /// The work ran under the lineage's lock.
    Done(T),
    /// Another node holds the lock (and the caller would not wait).
    HeldElsewhere,
}

/// This node's handle on the shared store.
pub(crate) struct Fleet {
    pub shared: Arc<dyn SharedStore>,
    pub node: NodeId,
    pub lock_ttl: Duration,
}

impl Fleet {
    /// Open the shared store and check it answers: unreachable is found out here, before
    /// the run writes anything locally. `None` without `--store`.
    pub(crate) async fn open(
        settings: Option<&FleetSettings>,
    ) -> Result<Option<Arc<Fleet>>, Error> {
        Fleet::check(Fleet::prepare(settings)?).await
    }

    /// `open`'s first half, for the commands that may drop to `--user` between the two:
    /// the key file is read now, with the rights the run started with; the store is not
    /// contacted yet, so no thread (a blocking file access or name lookup) exists to stand
    /// in the way of the drop.
    pub(crate) fn prepare(settings: Option<&FleetSettings>) -> Result<Option<Fleet>, Error> {
        let Some(s) = settings else {
            return Ok(None);
        };
        let shared = shared::open(&shared::SharedOptions {
            url: &s.url,
            key_file: s.key_file.as_deref(),
            ca_bundle: s.ca_bundle.as_deref(),
            prefix: &s.prefix,
        })?;
        Ok(Some(Fleet {
            shared,
            node: s.node.clone(),
            lock_ttl: s.lock_ttl,
        }))
    }

    /// `open`'s second half: the store answers.
    pub(crate) async fn check(fleet: Option<Fleet>) -> Result<Option<Arc<Fleet>>, Error> {
        let Some(fleet) = fleet else {
            return Ok(None);
        };
        fleet.shared.ping().await?;
        Ok(Some(Arc::new(fleet)))
    }

    /// Install every lineage the fleet has in a newer version than this node; returns the
    /// names installed (their nginx reload and deploy hooks are the caller's).
    pub(crate) async fn pull_all(&self, ui: &Ui, store: &Store) -> Result<Vec<CertName>, Error> {
        let versions = self.shared.versions().await?;
        let installed = installed(store);
        let mut pulled = Vec::new();
        for (name, version) in versions {
            if installed.get(&name).is_some_and(|have| *have >= version) {
                continue;
            }
            let Ok(cert_name) = name.parse::<CertName>() else {
                ui.warn(format!(
                    "the shared store has a lineage with a bad name: {name:?}"
                ));
                continue;
            };
            // One lineage that cannot be installed must not keep the others back.
            match self.pull_one(ui, store, &cert_name).await {
                Ok(true) => pulled.push(cert_name),
                Ok(false) => {}
                Err(e) => ui.warn(format!("{name}: not installed from the fleet: {e}")),
            }
        }
        self.report_or_warn(ui, store).await;
        Ok(pulled)
    }

    /// Install the fleet's version of one lineage if it is newer than this node's.
    pub(crate) async fn pull_one(
        &self,
        ui: &Ui,
        store: &Store,
        name: &CertName,
    ) -> Result<bool, Error> {
        let Some(bundle) = self.shared.fetch(name.as_str()).await? else {
            return Ok(false);
        };
        let mut versions = installed(store);
        // The installed version is this node's high-water mark: an authentic but older
        // version put back into the store (a rollback to a replaced key) is refused.
        if let Some(have) = versions
            .get(name.as_str())
            .filter(|h| **h >= bundle.version)
        {
            if *have > bundle.version {
                ui.warn(format!(
                    "{name}: the fleet's store offers version {} but this node has version {have}: an older version is never installed",
                    bundle.version
                ));
            }
            return Ok(false);
        }
        // Checked before anything is written: a renewal config this node cannot read would
        // leave it with a lineage it cannot renew, and files that do not belong together
        // must never reach live/.
        RenewalConfig::parse(&bundle.renewal, &store.renewal_file(name))?;
        check_bundle(name, &bundle).map_err(|reason| Error::Shared {
            store: self.shared.describe().to_string(),
            reason: format!("{name} version {}: {reason}; not installed", bundle.version),
        })?;
        let files = IssuedFiles {
            cert_pem: bundle.cert_pem.clone(),
            chain_pem: bundle.chain_pem.clone(),
            fullchain_pem: bundle.fullchain_pem.clone(),
            privkey_pem: bundle.privkey_pem.clone(),
        };
        // The renewal config first: a node that dies in between holds the new config with
        // the old files (a renewal repairs that), never new files it cannot renew.
        store.write_renewal(name, &bundle.renewal)?;
        let (s, n) = (store.clone(), name.clone());
        tokio::task::spawn_blocking(move || s.write_version(&n, &files))
            .await
            .map_err(|e| Error::Internal(format!("writing {name} did not finish: {e}")))??;
        versions.insert(name.to_string(), bundle.version);
        save_installed(store, &versions)?;
        ui.note(format!(
            "{name}: installed version {} from the fleet (ordered by {})",
            bundle.version, bundle.node
        ));
        Ok(true)
    }

    pub(crate) async fn view(&self) -> Result<FleetView, Error> {
        Ok(FleetView {
            versions: self.shared.versions().await?,
            nodes: self.shared.nodes().await?,
        })
    }

    /// Tell the fleet which versions this node holds (for `certificates` on any node).
    pub(crate) async fn report(&self, store: &Store) -> Result<(), Error> {
        self.shared.report_node(&self.node, &installed(store)).await
    }

    /// `report`, where what this node holds is already settled: a failure to tell the
    /// fleet only makes `certificates` elsewhere stale until the next report.
    async fn report_or_warn(&self, ui: &Ui, store: &Store) {
        if let Err(e) = self.report(store).await {
            ui.warn(format!(
                "could not report this node's versions to the fleet: {e}"
            ));
        }
    }

    /// Take the lineage's shared lock. `wait`: until the holder releases it (or its lock
    /// expires, if it died); otherwise `None` when another node holds it.
    pub(crate) async fn lock(
        &self,
        ui: &Ui,
        name: &CertName,
        wait: bool,
    ) -> Result<Option<Turn>, Error> {
        let owner = format!(
            "{}/{}/{:016x}",
            self.node,
            std::process::id(),
            rand::random::<u64>()
        );
        let mut told = false;
        loop {
            match self
                .shared
                .try_lock(name.as_str(), &owner, self.lock_ttl)
                .await?
            {
                LockAttempt::Acquired(token) => {
                    let lease = Lease {
                        name: name.to_string(),
                        token,
                    };
                    return Ok(Some(Turn::start(self.shared.clone(), lease, self.lock_ttl)));
                }
                LockAttempt::HeldBy(holder) if !wait => {
                    ui.note(format!("{name}: node {} is renewing it", node_of(&holder)));
                    return Ok(None);
                }
                LockAttempt::HeldBy(holder) => {
                    if !told {
                        ui.note(format!(
                            "{name}: waiting for node {} (it holds the fleet's lock)",
                            node_of(&holder)
                        ));
                        told = true;
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    }

    /// Run `work` (which may write a new local version of `name`) holding the lineage's
    /// shared lock, with this node up to date first. A new local version is published to
    /// the fleet; if that fails, or the lock is lost, the local write is undone.
    /// `HeldElsewhere`: another node holds the lock and `wait` is false.
    pub(crate) async fn exclusive<T, Fut>(
        &self,
        ui: &Ui,
        store: &Store,
        name: &CertName,
        wait: bool,
        work: impl FnOnce(bool) -> Fut,
    ) -> Result<Exclusive<T>, Error>
    where
        Fut: Future<Output = Result<T, Error>>,
    {
        let Some(turn) = self.lock(ui, name, wait).await? else {
            return Ok(Exclusive::HeldElsewhere);
        };
        let result = async {
            // The store answered the lock just now: a pull that fails here is an entry
            // that does not verify (or a local write); renewing replaces it.
            let pulled = self.pull_one(ui, store, name).await.unwrap_or_else(|e| {
                ui.warn(format!("{name}: {e}; renewing over it"));
                false
            });
            let mark = LocalMark::take(store, name)?;
            let done = match turn.guard(work(pulled)).await {
                Ok(v) => v,
                Err(e) => {
                    mark.restore(ui, store, name);
                    return Err(e);
                }
            };
            if mark.changed(store, name) {
                if let Err(e) = turn.publish(&self.node, store, name).await {
                    mark.restore(ui, store, name);
                    return Err(e);
                }
            }
            Ok(Exclusive::Done(done))
        }
        .await;
        turn.release(ui).await;
        if result.is_ok() {
            self.report_or_warn(ui, store).await;
        }
        result
    }

    /// A standalone responder's map that also answers every token the fleet published.
    pub(crate) fn challenge_map(&self) -> crate::challenge::ChallengeMap {
        crate::challenge::ChallengeMap::with_source(Arc::new(SharedTokens(self.shared.clone())))
    }

    /// Remove a lineage from the fleet (`delete`): under its lock, so no node is mid-order.
    pub(crate) async fn forget(&self, store: &Store, name: &CertName) -> Result<(), Error> {
        let ui = Ui::new(true);
        let Some(turn) = self.lock(&ui, name, true).await? else {
            return Ok(());
        };
        let removed = self.shared.remove(name.as_str()).await;
        turn.release(&ui).await;
        removed?;
        let mut versions = installed(store);
        versions.remove(name.as_str());
        save_installed(store, &versions)?;
        self.report(store).await
    }

    /// Before registering: the fleet's account for the server, if it has one and this node
    /// has none, is installed locally, so the fleet orders under one account.
    pub(crate) async fn pull_account(&self, store: &Store, server_dir: &str) -> Result<(), Error> {
        if store.find_account(server_dir)?.is_some() {
            return Ok(());
        }
        if let Some(a) = self.shared.account(server_dir).await? {
            let account = AccountRef::new(server_dir, a.id.as_str())?;
            store.save_account(&account, &a.credentials, a.meta.as_deref().unwrap_or("{}"))?;
        }
        Ok(())
    }

    /// After registering: offer this node's account to the fleet (the first one stays).
    pub(crate) async fn offer_account(
        &self,
        store: &Store,
        server_dir: &str,
        id: &str,
    ) -> Result<(), Error> {
        let account = AccountRef::new(server_dir, id)?;
        let Some(credentials) = store.read_account(&account)? else {
            return Ok(());
        };
        let meta = store.read_account_meta(&account)?;
        self.shared
            .offer_account(
                server_dir,
                &SharedAccount {
                    id: account.id().clone(),
                    credentials,
                    meta,
                },
            )
            .await?;
        Ok(())
    }
}

/// The fleet's challenge entries, as a token source for a standalone responder.
struct SharedTokens(std::sync::Arc<dyn SharedStore>);

#[async_trait::async_trait]
impl crate::challenge::TokenSource for SharedTokens {
    async fn lookup(&self, token: &str) -> Option<(String, String)> {
        let token = crate::types::ChallengeToken::new(token).ok()?;
        let found = self.0.challenge(&token).await.ok().flatten()?;
        Some((found.identifier, found.key_authorization.into()))
    }
}

/// How long a challenge entry lives in the shared store if the node that put it dies.
pub(crate) const SHARED_CHALLENGE_TTL: Duration = Duration::from_secs(600);

/// What the fleet has and which node holds which version (`certificates`, `plan`).
pub(crate) struct FleetView {
    pub versions: BTreeMap<String, u64>,
    pub nodes: BTreeMap<NodeId, BTreeMap<String, u64>>,
}

impl FleetView {
    pub(crate) fn report_for(&self, name: &str) -> FleetReport {
        FleetReport {
            version: self.versions.get(name).copied(),
            nodes: self
                .nodes
                .iter()
                .filter_map(|(node, held)| Some((node.clone(), *held.get(name)?)))
                .collect(),
        }
    }
}

/// One lineage's fleet state, as `certificates --json` and `plan --json` show it.
#[derive(Debug, serde::Serialize)]
pub(crate) struct FleetReport {
    /// The fleet's current version (None: the fleet does not have this lineage).
    pub version: Option<u64>,
    /// node -> the version its live/ holds.
    pub nodes: BTreeMap<NodeId, u64>,
}

impl std::fmt::Display for FleetReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.version {
            Some(v) => write!(f, "version {v}")?,
            None => write!(f, "not in the fleet's store")?,
        }
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect();
        if nodes.is_empty() {
            write!(f, " (no node reported it)")
        } else {
            write!(f, " ({})", nodes.join(", "))
        }
    }
}

/// The fleet version this node's `live/` holds for the lineage.
pub(crate) fn installed_version(store: &Store, name: &CertName) -> Option<u64> {
    installed(store).get(name.as_str()).copied()
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("store", &self.shared.describe())
            .field("node", &self.node)
            .finish()
    }
}

/// A held lineage lock, refreshed in the background every third of its expiry.
pub(crate) struct Turn {
    shared: Arc<dyn SharedStore>,
    lease: Lease,
    lost: watch::Receiver<bool>,
    refresher: tokio::task::JoinHandle<()>,
}

impl Turn {
    fn start(shared: Arc<dyn SharedStore>, lease: Lease, ttl: Duration) -> Turn {
        let (tx, lost) = watch::channel(false);
        let refresher = {
            let (shared, lease) = (shared.clone(), lease.clone());
            tokio::spawn(async move {
                let mut last_ok = tokio::time::Instant::now();
                loop {
                    tokio::time::sleep(ttl / 3).await;
                    match shared.refresh(&lease, ttl).await {
                        Ok(true) => last_ok = tokio::time::Instant::now(),
                        Ok(false) => break,
                        // Unreachable store: the lock may have expired meanwhile.
                        Err(_) if last_ok.elapsed() >= ttl => break,
                        Err(_) => {}
                    }
                }
                let _ = tx.send(true);
            })
        };
        Turn {
            shared,
            lease,
            lost,
            refresher,
        }
    }

    /// `work`, abandoned (dropped mid-order) as soon as the lock is lost.
    async fn guard<T>(&self, work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        let mut lost = self.lost.clone();
        tokio::select! {
            r = work => r,
            _ = lost.wait_for(|l| *l) => Err(Error::Shared {
                store: self.shared.describe().to_string(),
                reason: format!(
                    "lost the fleet's lock on {} (expired or taken over); the order was abandoned and nothing installed",
                    self.lease.name
                ),
            }),
        }
    }

    /// Publish the lineage's current local files as the fleet's next version.
    async fn publish(&self, node: &NodeId, store: &Store, name: &CertName) -> Result<u64, Error> {
        let paths = store.live_paths(name);
        let read = |p: &std::path::Path| {
            let cannot = |e: String| {
                Error::from(crate::error::StoreError::Other(format!(
                    "cannot read {}: {e}",
                    p.display()
                )))
            };
            crate::safe::file::read_required(p, crate::safe::file::Policy::STORE)
                .map_err(|e| cannot(e.to_string()))
        };
        let bundle = Bundle {
            // The store numbers it above this too (see `Bundle::version`).
            version: installed(store).get(name.as_str()).copied().unwrap_or(0),
            cert_pem: read(&paths.cert)?,
            chain_pem: read(&paths.chain)?,
            fullchain_pem: read(&paths.fullchain)?,
            privkey_pem: read(&paths.privkey)?,
            renewal: store.read_renewal(name)?.unwrap_or_default(),
            node: node.clone(),
        };
        let version = self.shared.publish(&self.lease, &bundle).await?;
        let mut versions = installed(store);
        versions.insert(name.to_string(), version);
        save_installed(store, &versions)?;
        Ok(version)
    }

    async fn release(self, ui: &Ui) {
        self.refresher.abort();
        if let Err(e) = self.shared.unlock(&self.lease).await {
            ui.warn(format!(
                "{}: could not release the fleet's lock (it expires by itself): {e}",
                self.lease.name
            ));
        }
    }
}

/// A turn dropped mid-flight (its run was stopped) stops refreshing, so the lock expires by
/// itself: the one runtime outlives the turn, and a detached refresher would keep it alive.
impl Drop for Turn {
    fn drop(&mut self) {
        self.refresher.abort();
    }
}

/// The local lineage before a fleet operation, to undo a write the fleet did not take.
struct LocalMark {
    version: Option<u32>,
    renewal: Option<String>,
}

impl LocalMark {
    fn take(store: &Store, name: &CertName) -> Result<LocalMark, Error> {
        Ok(LocalMark {
            version: store.current_version(name)?,
            renewal: store.read_renewal(name)?,
        })
    }

    fn changed(&self, store: &Store, name: &CertName) -> bool {
        store.current_version(name).ok().flatten() != self.version
    }

    /// Point `live/` back at the old version and drop the new one (or the whole lineage if
    /// it is new); restore the old renewal config.
    fn restore(&self, ui: &Ui, store: &Store, name: &CertName) {
        if !self.changed(store, name) && store.read_renewal(name).ok().flatten() == self.renewal {
            return;
        }
        let result = (|| -> Result<(), Error> {
            match (self.version, &self.renewal) {
                (Some(v), Some(renewal)) => {
                    store.point_live_at(name, v)?;
                    store.discard_versions_after(name, v)?;
                    store.write_renewal(name, renewal)?;
                }
                _ => {
                    store.delete_lineage(name)?;
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => ui.note(format!("{name}: local files restored to what they were")),
            Err(e) => ui.warn(format!("{name}: could not restore the local files: {e}")),
        }
    }
}

/// The fleet's files must be one certificate with its own key and chain.
fn check_bundle(name: &CertName, bundle: &Bundle) -> Result<(), String> {
    let info = inspect::inspect_chain(bundle.fullchain_pem.as_bytes())?;
    let key = inspect::private_key_spki(&bundle.privkey_pem)?;
    if key != info.spki_der {
        return Err("the private key does not belong to the certificate".into());
    }
    if !bundle.fullchain_pem.starts_with(bundle.cert_pem.trim_end())
        || !bundle.fullchain_pem.contains(bundle.chain_pem.trim())
    {
        return Err(format!(
            "fullchain.pem is not cert.pem followed by chain.pem for {name}"
        ));
    }
    Ok(())
}

/// The owner token is `node/pid/random`. A token that does not start with a node id (a
/// Redis writer's) shows as `?`: it must not put a line break into a message.
fn node_of(holder: &str) -> &str {
    let node = holder.split('/').next().unwrap_or(holder);
    if NodeId::new(node).is_ok() {
        node
    } else {
        "?"
    }
}

fn installed(store: &Store) -> BTreeMap<String, u64> {
    store.read_work_json(INSTALLED_FILE).unwrap_or_default()
}

fn save_installed(store: &Store, versions: &BTreeMap<String, u64>) -> Result<(), Error> {
    Ok(store.write_work_json(INSTALLED_FILE, versions)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle_for(name: &str) -> (Bundle, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap()
            .pem();
        let other = rcgen::KeyPair::generate().unwrap().serialize_pem();
        let chain = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let bundle = Bundle {
            version: 1,
            cert_pem: cert.clone(),
            chain_pem: String::new(),
            fullchain_pem: cert,
            privkey_pem: key.serialize_pem(),
            renewal: String::new(),
            node: NodeId::new("a").unwrap(),
        };
        let _ = chain;
        (bundle, other)
    }

    #[test]
    fn a_bundle_whose_key_or_chain_does_not_fit_is_refused() {
        let name: CertName = "a.example.com".parse().unwrap();
        let (good, other_key) = bundle_for("a.example.com");
        assert_eq!(check_bundle(&name, &good), Ok(()));
        let swapped = Bundle {
            privkey_pem: other_key,
            ..good.clone()
        };
        let err = check_bundle(&name, &swapped).unwrap_err();
        assert!(err.contains("does not belong"), "{err}");
        let (elsewhere, _) = bundle_for("b.example.com");
        let mixed = Bundle {
            cert_pem: elsewhere.cert_pem,
            ..good
        };
        assert!(check_bundle(&name, &mixed).is_err());
    }

    #[test]
    fn owner_token_names_the_node() {
        assert_eq!(node_of("web-2/4711/00ff"), "web-2");
        assert_eq!(node_of("odd"), "odd");
        assert_eq!(node_of("x\nwarning: forged/1/2"), "?");
    }
}
