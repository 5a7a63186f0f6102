//! The fleet's shared store: what several nodes behind one load balancer share so that any
//! node answers the CA's probe, exactly one node orders, and every node installs the same
//! files. Two backends: Redis (`redis://`) and a directory every node mounts (`file://`, one
//! host or NFSv4); the trait keeps ACME and nginx code unaware of which, so etcd or Consul
//! can follow.
//!
//! Each node keeps its ordinary local store (`live/`, `archive/`, `renewal/`): the shared
//! store is the source of truth between nodes, the local store is what nginx reads.

mod dir;
mod redis;
pub mod seal;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, InputError};

pub use seal::Sealer;

/// One lineage version with every file in one value: a reader never gets a certificate with
/// another version's key (certmagic writes them separately and can).
#[derive(Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Assigned by the store, one more than the last published version.
    pub version: u64,
    pub cert_pem: String,
    pub chain_pem: String,
    pub fullchain_pem: String,
    /// Clear in memory; sealed with the fleet key in the store.
    pub privkey_pem: String,
    /// The lineage's renewal config (JSON), so any node can renew it.
    pub renewal: String,
    /// The node that ordered it.
    pub node: String,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("version", &self.version)
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// An ACME account shared by the fleet, so nodes do not each register one.
#[derive(Clone, PartialEq, Eq)]
pub struct SharedAccount {
    pub id: String,
    /// instant-acme's credentials JSON (holds the account key): sealed in the store.
    pub credentials: String,
    pub meta: Option<String>,
}

/// A held lineage lock: the owner token proves it is still ours.
#[derive(Debug, Clone)]
pub struct Lease {
    pub name: String,
    pub token: String,
}

/// What the store answers about a lock someone else holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockAttempt {
    Acquired(String),
    /// Held by this owner token (`node/pid/random`).
    HeldBy(String),
}

#[async_trait::async_trait]
pub trait SharedStore: Send + Sync {
    /// For messages: the store's URL without credentials.
    fn describe(&self) -> &str;

    /// Reach the store once, on a connection of its own (so it may run on a throwaway
    /// runtime): a run checks this before it writes anything locally.
    async fn ping(&self) -> Result<(), Error>;

    /// SET-if-absent with an expiry; the token is returned only to the winner.
    async fn try_lock(&self, name: &str, owner: &str, ttl: Duration) -> Result<LockAttempt, Error>;
    /// Extend the lock if it is still ours; `false` means it was lost (expired, taken).
    async fn refresh(&self, lease: &Lease, ttl: Duration) -> Result<bool, Error>;
    /// Release only if still ours: a node whose lock expired cannot delete the next owner's.
    async fn unlock(&self, lease: &Lease) -> Result<(), Error>;

    /// Write a new version in one atomic step that checks the lease: a node that lost its
    /// lock cannot overwrite what the new holder wrote. Returns the version assigned.
    async fn publish(&self, lease: &Lease, bundle: &Bundle) -> Result<u64, Error>;
    async fn fetch(&self, name: &str) -> Result<Option<Bundle>, Error>;
    /// Every lineage's current version, in one round trip (what nodes poll).
    async fn versions(&self) -> Result<BTreeMap<String, u64>, Error>;
    /// Drop a lineage from the fleet (`delete`).
    async fn remove(&self, name: &str) -> Result<(), Error>;

    async fn put_challenge(
        &self,
        token: &str,
        identifier: &str,
        key_authorization: &str,
        ttl: Duration,
    ) -> Result<(), Error>;
    /// `(identifier, key authorization)` for a token some node published.
    async fn challenge(&self, token: &str) -> Result<Option<(String, String)>, Error>;
    async fn remove_challenge(&self, token: &str) -> Result<(), Error>;

    /// The fleet's account for an ACME server (keyed like `accounts/<server_dir>`).
    async fn account(&self, server_dir: &str) -> Result<Option<SharedAccount>, Error>;
    /// Store an account unless the fleet already has one for the server; returns the one
    /// the fleet keeps (another node may have registered first).
    async fn offer_account(
        &self,
        server_dir: &str,
        account: &SharedAccount,
    ) -> Result<SharedAccount, Error>;

    /// This node's installed versions, for `certificates` on any node.
    async fn report_node(&self, node: &str, installed: &BTreeMap<String, u64>)
        -> Result<(), Error>;
    /// node -> lineage -> installed version.
    async fn nodes(&self) -> Result<BTreeMap<String, BTreeMap<String, u64>>, Error>;

    /// Append to the fleet's history (orders, publishes, lock takeovers), newest first.
    async fn record(&self, event: &str, name: &str, node: &str) -> Result<(), Error>;
}

/// How to reach the shared store, from `--store` and friends.
pub struct SharedOptions<'a> {
    pub url: &'a str,
    pub key_file: Option<&'a Path>,
    pub prefix: &'a str,
}

/// The `--store-prefix` default (cli.rs): the only value a `file://` store accepts.
const DEFAULT_PREFIX: &str = "certwright";

/// Check the options (before any network I/O: bad ones are exit 2) and connect lazily.
pub fn open(options: &SharedOptions<'_>) -> Result<Arc<dyn SharedStore>, Error> {
    let scheme = options
        .url
        .split_once("://")
        .map(|(scheme, _)| scheme)
        .unwrap_or_default();
    let is_dir = match scheme {
        "redis" => false,
        "file" => true,
        "rediss" => {
            return Err(InputError::Other(format!(
                "--store {}: Redis over TLS (rediss://) is not supported yet; use redis:// on a \
                 private network or through a TLS tunnel (stunnel, spiped)",
                redis::redact(options.url)
            ))
            .into())
        }
        _ => {
            return Err(InputError::Other(format!(
                "--store {}: unsupported; use redis://HOST:PORT/DB or file:///ABSOLUTE/DIR",
                redis::redact(options.url)
            ))
            .into())
        }
    };
    if options.prefix.is_empty()
        || !options
            .prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        return Err(InputError::Other(format!(
            "--store-prefix {:?}: use letters, digits and - _ . : only",
            options.prefix
        ))
        .into());
    }
    if is_dir && options.prefix != DEFAULT_PREFIX {
        return Err(InputError::Other(format!(
            "--store-prefix {:?}: applies to redis:// stores only; give each fleet its own file:// directory",
            options.prefix
        ))
        .into());
    }
    let key_file = options.key_file.ok_or_else(|| {
        InputError::Other(
            "--store needs --store-key-file: private keys are never stored in the shared store in clear"
                .into(),
        )
    })?;
    let sealer = Sealer::from_file(key_file)
        .map_err(|e| InputError::Other(format!("--store-key-file {e}")))?;
    if is_dir {
        return Ok(Arc::new(dir::DirStore::new(options.url, sealer)?));
    }
    Ok(Arc::new(redis::RedisStore::new(
        options.url,
        options.prefix,
        sealer,
    )?))
}

/// RFC 3339, UTC: the `at` of stored versions and history entries.
fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
