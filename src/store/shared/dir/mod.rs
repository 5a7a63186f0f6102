//! The shared store on a directory every node mounts: several nodes on one host, or an NFSv4
//! export (`--store file:///srv/certwright-fleet`). Layout, under that directory:
//!
//! ```text
//! locks/<name>        flock held by the node renewing <name>; holds its owner token
//! certs/<name>.json   version, cert, chain, fullchain, privkey (sealed), renewal (sealed),
//!                     node, at, mac (a tag over name, version and every field but `at`)
//! chal/<token>        identifier and key authorization (sealed under the token), expiry
//! accounts/<ca>.json  id, credentials (sealed), meta, mac; linked into place once, never replaced
//! nodes/<id>.json     installed versions, last seen
//! history.jsonl       JSON events, oldest first, appended under history.lock, bounded
//! ```
//!
//! Redis's guarantees, from the filesystem. Every file is written whole under a temp name,
//! fsynced, renamed into place and the directory fsynced, so a reader gets one version or the
//! next, never a certificate with another version's key. A lineage lock is a kernel lock on
//! an open file: released when its holder exits or dies however it dies (on NFSv4, when the
//! server's lease for that client lapses), so it needs no expiry. That relies on `flock`
//! working between the nodes: it does on one host and on NFSv4 (Linux turns it into an NFS
//! lock unless the mount says `local_lock=flock` or `all`), not where it is local to each
//! client.
//!
//! Files are 0600, directories 0700. The directory must already exist (a missing one may be
//! an NFS mount that is not there: creating it would give this node a store of its own), be
//! a real directory, this user's or root's, and not writable by group or others.

mod files;
mod inner;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{now, Bundle, Lease, LockAttempt, Sealer, SharedAccount, SharedChallenge, SharedStore};
use crate::error::{Error, InputError};
use crate::types::{ChallengeToken, NodeId};

use files::*;

const HISTORY_FILE: &str = "history.jsonl";
const HISTORY_LOCK: &str = "history.lock";
/// Cut back to `HISTORY_KEEP` lines once past `HISTORY_MAX`: one rewrite per thousand
/// events, not one per event.
const HISTORY_KEEP: usize = 1000;
const HISTORY_MAX: usize = 2000;
/// How long `record` waits for another node's append before giving up.
const HISTORY_WAIT: Duration = Duration::from_secs(10);
/// A temp file older than this is a crashed writer's, not a write in flight.
const STALE_TEMP: Duration = Duration::from_secs(3600);
const FILE_MODE: u32 = 0o600;
const DIR_MODE: u32 = 0o700;

pub(super) struct DirStore {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    described: String,
    sealer: Sealer,
    /// The lineage locks this store holds: owner token -> the open lock file. Closing the
    /// file (`unlock`, dropping the store, the process ending however it ends) releases it.
    held: Mutex<HashMap<String, HeldLock>>,
}

struct HeldLock {
    name: String,
    file: File,
}

/// `certs/<name>.json`: a whole version in one file.
#[derive(Serialize, Deserialize)]
struct CertEntry {
    version: u64,
    cert: String,
    chain: String,
    fullchain: String,
    /// Sealed with context `privkey:<name>`.
    privkey: String,
    /// Sealed with context `renewal:<name>`, for integrity (it names programs nodes run).
    renewal: String,
    node: String,
    at: String,
    /// The tag of `StoredBundle` (missing: refused as not authenticated).
    #[serde(default)]
    mac: String,
}

/// What `versions` reads of a `CertEntry`.
#[derive(Deserialize)]
struct VersionOnly {
    version: u64,
}

#[derive(Serialize, Deserialize)]
struct ChallengeEntry {
    /// `identifier\nkey authorization`, sealed with context `chal:<token>`.
    sealed: String,
    /// Milliseconds since the epoch, by the clock of the node that wrote it.
    expires_ms: u64,
}

#[derive(Serialize, Deserialize)]
struct AccountEntry {
    id: String,
    /// Sealed with context `account:<ca>`.
    credentials: String,
    #[serde(default)]
    meta: Option<String>,
    /// The account record's tag (see `seal_account`; missing: refused).
    #[serde(default)]
    mac: String,
}

#[derive(Serialize, Deserialize)]
struct NodeEntry {
    installed: BTreeMap<String, u64>,
    seen: String,
}

impl DirStore {
    /// `url` is `file:///ABSOLUTE/DIR`. Checked here (exit 2 on a bad one), before any write.
    pub(super) fn new(url: &str, sealer: Sealer) -> Result<DirStore, Error> {
        let path = url.strip_prefix("file://").unwrap_or(url);
        if !path.starts_with('/') {
            return Err(InputError::StoreUrl {
                url: url.to_string(),
                reason:
                    "the directory must be an absolute path: file:///ABSOLUTE/DIR (three slashes)"
                        .into(),
            }
            .into());
        }
        let root = PathBuf::from(path);
        check_root(&root).map_err(|reason| InputError::StoreUrl {
            url: url.to_string(),
            reason,
        })?;
        Ok(DirStore {
            inner: Arc::new(Inner {
                root,
                described: url.to_string(),
                sealer,
                held: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// File I/O off the async threads: the responder and the lock refresher keep running
    /// while a slow (NFS) filesystem answers.
    async fn run<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, Error> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .unwrap_or_else(|e| Err(self.inner.fail("store I/O did not finish", e)))
    }
}

/// The store directory must be a real directory (not a symlink), belong to this user or
/// root, and not be writable by group or others. Root accepts any owner: with `--user` it
/// checks this before switching to the store's owner.

#[async_trait::async_trait]
impl SharedStore for DirStore {
    fn describe(&self) -> &str {
        &self.inner.described
    }

    async fn ping(&self) -> Result<(), Error> {
        self.run(Inner::ping).await
    }

    /// `ttl` is not needed: the lock lives exactly as long as the open file. The kernel
    /// releases it when the holder exits or crashes (the NFSv4 server, when the holder's
    /// lease lapses), so there is no expiry to set; a holder that is alive but hung keeps it
    /// (with Redis it would expire and another node take over).
    async fn try_lock(
        &self,
        name: &str,
        owner: &str,
        _ttl: Duration,
    ) -> Result<LockAttempt, Error> {
        let (name, owner) = (name.to_string(), owner.to_string());
        self.run(move |s| s.try_lock(&name, &owner)).await
    }

    /// True while this store holds the lock; nothing to extend (see `try_lock`).
    async fn refresh(&self, lease: &Lease, _ttl: Duration) -> Result<bool, Error> {
        let lease = lease.clone();
        self.run(move |s| s.refresh(&lease)).await
    }

    async fn unlock(&self, lease: &Lease) -> Result<(), Error> {
        let lease = lease.clone();
        self.run(move |s| s.unlock(&lease)).await
    }

    async fn publish(&self, lease: &Lease, bundle: &Bundle) -> Result<u64, Error> {
        let (lease, bundle) = (lease.clone(), bundle.clone());
        self.run(move |s| s.publish(&lease, &bundle)).await
    }

    async fn fetch(&self, name: &str) -> Result<Option<Bundle>, Error> {
        let name = name.to_string();
        self.run(move |s| s.fetch(&name)).await
    }

    async fn versions(&self) -> Result<BTreeMap<String, u64>, Error> {
        self.run(Inner::versions).await
    }

    async fn remove(&self, name: &str) -> Result<(), Error> {
        let name = name.to_string();
        self.run(move |s| s.remove(&name)).await
    }

    async fn put_challenge(&self, c: &SharedChallenge, ttl: Duration) -> Result<(), Error> {
        let c = c.clone();
        self.run(move |s| s.put_challenge(&c, ttl)).await
    }

    async fn challenge(&self, token: &ChallengeToken) -> Result<Option<SharedChallenge>, Error> {
        let token = token.clone();
        self.run(move |s| s.challenge(&token)).await
    }

    async fn remove_challenge(&self, token: &ChallengeToken) -> Result<(), Error> {
        let token = token.clone();
        self.run(move |s| s.remove_challenge(&token)).await
    }

    async fn account(&self, server_dir: &str) -> Result<Option<SharedAccount>, Error> {
        let server_dir = server_dir.to_string();
        self.run(move |s| s.account(&server_dir)).await
    }

    async fn offer_account(
        &self,
        server_dir: &str,
        account: &SharedAccount,
    ) -> Result<SharedAccount, Error> {
        let (server_dir, account) = (server_dir.to_string(), account.clone());
        self.run(move |s| s.offer_account(&server_dir, &account))
            .await
    }

    async fn report_node(
        &self,
        node: &NodeId,
        installed: &BTreeMap<String, u64>,
    ) -> Result<(), Error> {
        let (node, installed) = (node.clone(), installed.clone());
        self.run(move |s| s.report_node(&node, &installed)).await
    }

    async fn nodes(&self) -> Result<BTreeMap<NodeId, BTreeMap<String, u64>>, Error> {
        self.run(Inner::nodes).await
    }

    async fn record(&self, event: &str, name: &str, node: &NodeId) -> Result<(), Error> {
        let entry = serde_json::json!({ "event": event, "name": name, "node": node, "at": now() });
        self.run(move |s| s.append_history(&entry)).await
    }
}
