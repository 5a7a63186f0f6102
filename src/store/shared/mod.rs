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
pub(crate) mod seal;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, InputError};
use crate::types::{AccountId, ChallengeToken, KeyAuthorization, NodeId};

pub(crate) use seal::{SealError, Sealer};

/// Why a record read from the shared store is not used: not written with the fleet key, or
/// holding what no node writes.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordError {
    #[error(
        "version {version} of {name} is not authenticated by this --store-key-file \
         (written without the fleet key, altered, or an old version replayed); not used"
    )]
    BundleNotAuthenticated { name: String, version: u64 },
    #[error("version {version} of {name}: bad node name")]
    BadNode { name: String, version: u64 },
    #[error(
        "the fleet's account for {server_dir} is not authenticated by this --store-key-file \
         (written without the fleet key, or altered); not used"
    )]
    AccountNotAuthenticated { server_dir: String },
    #[error("the fleet's account for {server_dir} has a bad id {id:?}")]
    BadAccountId { server_dir: String, id: String },
    #[error(transparent)]
    Seal(#[from] SealError),
}

/// One lineage version with every file in one value: a reader never gets a certificate with
/// another version's key (certmagic writes them separately and can).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Bundle {
    /// Assigned by the store on publish: one more than both the store's last version and
    /// the version given here (the publishing node's high-water mark).
    pub version: u64,
    pub cert_pem: String,
    pub chain_pem: String,
    pub fullchain_pem: String,
    /// Clear in memory; sealed with the fleet key in the store.
    pub privkey_pem: String,
    /// The lineage's renewal config (JSON), so any node can renew it.
    pub renewal: String,
    /// The node that ordered it.
    pub node: NodeId,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("version", &self.version)
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// A bundle as the store keeps it: the key and renewal config sealed, the rest in clear
/// (readable for operators), and a tag over all of it and the version, so a writer
/// without the fleet key can neither alter a field nor replay an old version as a new one.
pub(crate) struct StoredBundle {
    pub version: u64,
    pub cert: String,
    pub chain: String,
    pub fullchain: String,
    pub privkey: String,
    pub renewal: String,
    pub node: String,
    pub mac: String,
}

impl StoredBundle {
    fn tagged_fields<'a>(&'a self, name: &'a str, version: &'a str) -> [&'a str; 8] {
        [
            name,
            version,
            &self.cert,
            &self.chain,
            &self.fullchain,
            &self.privkey,
            &self.renewal,
            &self.node,
        ]
    }

    pub(crate) fn seal(
        sealer: &Sealer,
        name: &str,
        version: u64,
        b: &Bundle,
    ) -> Result<Self, SealError> {
        let mut stored = StoredBundle {
            version,
            cert: b.cert_pem.clone(),
            chain: b.chain_pem.clone(),
            fullchain: b.fullchain_pem.clone(),
            privkey: sealer.seal_text(&format!("privkey:{name}"), &b.privkey_pem)?,
            renewal: sealer.seal_text(&format!("renewal:{name}"), &b.renewal)?,
            node: b.node.to_string(),
            mac: String::new(),
        };
        let v = version.to_string();
        stored.mac = sealer.tag("bundle", &stored.tagged_fields(name, &v))?;
        Ok(stored)
    }

    /// Check the tag, then open the sealed fields.
    pub(crate) fn open(self, sealer: &Sealer, name: &str) -> Result<Bundle, RecordError> {
        let v = self.version.to_string();
        let (name, version) = (name.to_string(), self.version);
        if !sealer.verify("bundle", &self.tagged_fields(&name, &v), &self.mac) {
            return Err(RecordError::BundleNotAuthenticated { name, version });
        }
        let node = NodeId::new(&self.node).map_err(|_| RecordError::BadNode {
            name: name.clone(),
            version,
        })?;
        Ok(Bundle {
            version: self.version,
            privkey_pem: sealer.open_text(&format!("privkey:{name}"), &self.privkey)?,
            renewal: sealer.open_text(&format!("renewal:{name}"), &self.renewal)?,
            cert_pem: self.cert,
            chain_pem: self.chain,
            fullchain_pem: self.fullchain,
            node,
        })
    }
}

/// The number a new version is published under: above the last version in the store that
/// verifies (a number written without the key must not push the fleet's versions up) and
/// above this node's own. `None` when no number is left.
fn next_version(stored: Result<Option<Bundle>, Error>, own: u64) -> Option<u64> {
    let verified = match stored {
        Ok(found) => found.map_or(0, |b| b.version),
        Err(e) => {
            tracing::warn!("{e}; publishing above this node's own version");
            0
        }
    };
    verified.max(own).checked_add(1)
}

/// The account record's tag: binds id, sealed credentials and meta to the CA's entry.
fn account_tag_fields<'a>(
    server_dir: &'a str,
    id: &'a str,
    sealed: &'a str,
    meta: Option<&'a str>,
) -> [&'a str; 4] {
    [server_dir, id, sealed, meta.unwrap_or("")]
}

/// Seal an account for the store: `(sealed credentials, tag)`.
pub(crate) fn seal_account(
    sealer: &Sealer,
    server_dir: &str,
    a: &SharedAccount,
) -> Result<(String, String), SealError> {
    let sealed = sealer.seal_text(&format!("account:{server_dir}"), &a.credentials)?;
    let fields = account_tag_fields(server_dir, a.id.as_str(), &sealed, a.meta.as_deref());
    let mac = sealer.tag("account", &fields)?;
    Ok((sealed, mac))
}

/// An account record as the store keeps it: the id as text (checked once the tag is),
/// the credentials sealed.
pub(crate) struct StoredAccount {
    pub id: String,
    pub credentials: String,
    pub meta: Option<String>,
}

/// Verify and open a stored account record.
pub(crate) fn open_account(
    sealer: &Sealer,
    server_dir: &str,
    stored: StoredAccount,
    mac: &str,
) -> Result<SharedAccount, RecordError> {
    let fields = account_tag_fields(
        server_dir,
        &stored.id,
        &stored.credentials,
        stored.meta.as_deref(),
    );
    let server_dir = server_dir.to_string();
    if !sealer.verify("account", &fields, mac) {
        return Err(RecordError::AccountNotAuthenticated { server_dir });
    }
    let id = AccountId::new(&stored.id).map_err(|_| RecordError::BadAccountId {
        server_dir: server_dir.clone(),
        id: stored.id.clone(),
    })?;
    let credentials = sealer.open_text(&format!("account:{server_dir}"), &stored.credentials)?;
    Ok(SharedAccount {
        id,
        credentials,
        meta: stored.meta,
    })
}

/// An HTTP-01 answer published for the fleet's responders (any node may be asked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SharedChallenge {
    pub token: ChallengeToken,
    /// The name in the form the responder compares the Host header with.
    pub identifier: String,
    pub key_authorization: KeyAuthorization,
}

/// A challenge entry's stored value: `identifier\nkey authorization`, sealed under its
/// token, so only a node holding the fleet key can make the fleet answer a token.
pub(crate) fn seal_challenge(sealer: &Sealer, c: &SharedChallenge) -> Result<String, SealError> {
    sealer.seal_text(
        &format!("chal:{}", c.token),
        &format!("{}\n{}", c.identifier, c.key_authorization),
    )
}

/// A stored challenge; `None` for one that does not open with the fleet key (a Redis
/// writer's), which the responder then does not answer.
pub(crate) fn open_challenge(
    sealer: &Sealer,
    token: &ChallengeToken,
    stored: &str,
) -> Option<SharedChallenge> {
    let Ok(clear) = sealer.open_text(&format!("chal:{token}"), stored) else {
        tracing::warn!(
            "challenge entry for token {token:?} does not verify with the fleet key: not answered"
        );
        return None;
    };
    let (identifier, key_auth) = clear.split_once('\n')?;
    Some(SharedChallenge {
        token: token.clone(),
        identifier: identifier.to_string(),
        key_authorization: KeyAuthorization::new(key_auth).ok()?,
    })
}

/// An ACME account shared by the fleet, so nodes do not each register one.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SharedAccount {
    pub id: AccountId,
    /// instant-acme's credentials JSON (holds the account key): sealed in the store.
    pub credentials: String,
    pub meta: Option<String>,
}

/// A held lineage lock: the owner token proves it is still ours.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    pub name: String,
    pub token: String,
}

/// What the store answers about a lock someone else holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LockAttempt {
    Acquired(String),
    /// Held by this owner token (`node/pid/random`).
    HeldBy(String),
}

#[async_trait::async_trait]
pub(crate) trait SharedStore: Send + Sync {
    /// For messages: the store's URL without credentials.
    fn describe(&self) -> &str;

    /// Reach the store once, on a connection of its own: a run checks this before it
    /// writes anything locally.
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

    async fn put_challenge(&self, c: &SharedChallenge, ttl: Duration) -> Result<(), Error>;
    /// The challenge of a token some node published.
    async fn challenge(&self, token: &ChallengeToken) -> Result<Option<SharedChallenge>, Error>;
    async fn remove_challenge(&self, token: &ChallengeToken) -> Result<(), Error>;

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
    async fn report_node(
        &self,
        node: &NodeId,
        installed: &BTreeMap<String, u64>,
    ) -> Result<(), Error>;
    /// node -> lineage -> installed version.
    async fn nodes(&self) -> Result<BTreeMap<NodeId, BTreeMap<String, u64>>, Error>;

    /// Append to the fleet's history (orders, publishes, lock takeovers), newest first.
    async fn record(&self, event: &str, name: &str, node: &NodeId) -> Result<(), Error>;
}

/// How to reach the shared store, from `--store` and friends.
pub(crate) struct SharedOptions<'a> {
    pub url: &'a str,
    pub key_file: Option<&'a Path>,
    /// PEM CA(s) trusted for a rediss:// server instead of the system's roots.
    pub ca_bundle: Option<&'a Path>,
    pub prefix: &'a str,
}

/// The `--store-prefix` default (cli.rs): the only value a `file://` store accepts.
const DEFAULT_PREFIX: &str = "certwright";

/// Check the options (before any network I/O: bad ones are exit 2) and connect lazily.
pub(crate) fn open(options: &SharedOptions<'_>) -> Result<Arc<dyn SharedStore>, Error> {
    let bad_url = |reason: String| InputError::StoreUrl {
        url: redis::redact(options.url),
        reason,
    };
    let scheme = options
        .url
        .split_once("://")
        .map(|(scheme, _)| scheme)
        .unwrap_or_default();
    let is_dir = match scheme {
        "redis" | "rediss" => false,
        "file" => true,
        _ => {
            return Err(bad_url(
                "unsupported; use redis://HOST:PORT/DB, rediss://HOST:PORT/DB (TLS) \
                 or file:///ABSOLUTE/DIR"
                    .into(),
            )
            .into())
        }
    };
    let root_certs = match options.ca_bundle {
        Some(path) if scheme == "rediss" => Some(read_ca_bundle(path)?),
        Some(path) => {
            return Err(InputError::UnusableFile {
                flag: "--store-ca-bundle",
                path: path.to_path_buf(),
                reason: format!(
                    "only for a rediss:// (TLS) store, not {}",
                    redis::redact(options.url)
                ),
            }
            .into())
        }
        None => None,
    };
    check_prefix(options.prefix, is_dir)?;
    if redis::has_password(options.url)
        && std::env::args_os().any(|a| a.to_string_lossy().contains(options.url))
    {
        return Err(bad_url(format!(
            "a password on the command line is visible to every local user (ps); give it in {} \
             or a file named by {} (or the whole URL in CERTWRIGHT_STORE)",
            redis::PASSWORD_ENV,
            redis::PASSWORD_FILE_ENV
        ))
        .into());
    }
    let key_file = options.key_file.ok_or_else(|| InputError::Needs {
        what: "--store".into(),
        needs: "--store-key-file: private keys are never stored in the shared store in clear"
            .into(),
    })?;
    let sealer = Sealer::from_file(key_file).map_err(|e| InputError::Flag {
        flag: "--store-key-file",
        problem: e.to_string(),
    })?;
    if is_dir {
        return Ok(Arc::new(dir::DirStore::new(options.url, sealer)?));
    }
    Ok(Arc::new(redis::RedisStore::new(
        options.url,
        options.prefix,
        sealer,
        root_certs,
    )?))
}

/// `--store-prefix`: a key prefix for redis:// stores; a `file://` store takes only the default.
fn check_prefix(prefix: &str, is_dir: bool) -> Result<(), InputError> {
    let bad_prefix = |reason: &str| InputError::BadValue {
        flag: "--store-prefix",
        value: prefix.to_string(),
        reason: reason.into(),
    };
    if prefix.is_empty()
        || !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        return Err(bad_prefix("use letters, digits and - _ . : only"));
    }
    if is_dir && prefix != DEFAULT_PREFIX {
        return Err(bad_prefix(
            "applies to redis:// stores only; give each fleet its own file:// directory",
        ));
    }
    Ok(())
}

/// The `--store-ca-bundle` file, checked to hold at least one PEM certificate (exit 2).
fn read_ca_bundle(path: &Path) -> Result<Vec<u8>, Error> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let bad = |reason: String| InputError::UnusableFile {
        flag: "--store-ca-bundle",
        path: path.to_path_buf(),
        reason,
    };
    let pem = crate::safe::file::read(path, crate::safe::file::Policy::PUBLIC)
        .map_err(|e| bad(e.to_string()))?
        .ok_or_else(|| bad("No such file or directory".into()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("contains no PEM certificate".into()).into());
    }
    Ok(pem)
}

/// RFC 3339, UTC: the `at` of stored versions and history entries.
fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
