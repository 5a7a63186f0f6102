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

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustix::fs::{flock, FlockOperation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{
    now, open_account, open_challenge, seal_account, seal_challenge, Bundle, Lease, LockAttempt,
    Sealer, SharedAccount, SharedChallenge, SharedStore, StoredBundle,
};
use crate::error::{Error, InputError};
use crate::fsutil;

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
            return Err(InputError::Other(format!(
                "--store {url}: the directory must be an absolute path: file:///ABSOLUTE/DIR (three slashes)"
            ))
            .into());
        }
        let root = PathBuf::from(path);
        check_root(&root)
            .map_err(|reason| InputError::Other(format!("--store {url}: {reason}")))?;
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
fn check_root(root: &Path) -> Result<(), String> {
    let meta = match fs::symlink_metadata(root) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(format!(
                "{} does not exist; create it (mode 0700) on the filesystem every node mounts",
                root.display()
            ))
        }
        Err(e) => return Err(format!("{}: {e}", root.display())),
    };
    if meta.file_type().is_symlink() {
        return Err(format!(
            "{} is a symlink; give the real directory",
            root.display()
        ));
    }
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", root.display()));
    }
    let euid = rustix::process::geteuid();
    if meta.uid() != euid.as_raw() && meta.uid() != 0 && !euid.is_root() {
        return Err(format!(
            "{} belongs to uid {}, not to this user (uid {}): its owner could change what every node installs",
            root.display(),
            meta.uid(),
            euid.as_raw()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{} is writable by group or others (mode {:o}); chmod 700 it",
            root.display(),
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

/// A lineage, CA or node name as one file name: what `CertName` allows (and the `_` of a
/// CA's `host_port`), so nothing climbs out of the store or passes for a temp file.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 240
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// ACME tokens are base64url (RFC 8555 8.3); anything else never becomes a file name.
fn is_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 240
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// A temp name beside `path`, random: two hosts can have the same pid and counter.
fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(
        "{}{:016x}-{name}",
        fsutil::TEMP_PREFIX,
        rand::random::<u64>()
    ))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Open (creating) a lock file; never truncated here, since its holder's token is in it.
fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
}

/// Whether `path` is still the file `file` has open (not removed or replaced since).
fn same_file(file: &File, path: &Path) -> io::Result<bool> {
    let Ok(open) = file.metadata() else {
        return Ok(false);
    };
    match fs::symlink_metadata(path) {
        Ok(on_disk) => Ok(open.dev() == on_disk.dev() && open.ino() == on_disk.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The owner token in a lock file (read through the fd: on NFSv4 a lock the server dropped
/// makes this fail).
fn read_token(file: &File) -> io::Result<String> {
    let mut buf = vec![0u8; 1024];
    let mut len = 0;
    while len < buf.len() {
        let n = file.read_at(&mut buf[len..], len as u64)?;
        if n == 0 {
            break;
        }
        len += n;
    }
    buf.truncate(len);
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn write_token(file: &File, token: &str) -> io::Result<()> {
    file.set_len(0)?;
    file.write_all_at(token.as_bytes(), 0)?;
    // Flushed, so another NFS client opening the file reads it for its `HeldBy`.
    file.sync_all()
}

/// Remove temp files a crashed writer left in `dir` (old ones only: a recent one may be
/// another node's write in flight).
fn sweep_stale_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with(fsutil::TEMP_PREFIX)
        {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP);
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

impl Inner {
    fn fail(&self, what: &str, e: impl std::fmt::Display) -> Error {
        Error::Shared {
            store: self.described.clone(),
            reason: format!("{what}: {e}"),
        }
    }

    fn io<'a>(&'a self, what: &'a str, path: &'a Path) -> impl FnOnce(io::Error) -> Error + 'a {
        move |e| self.fail(what, format!("{}: {e}", path.display()))
    }

    fn check_name(&self, what: &str, name: &str) -> Result<(), Error> {
        if is_plain_name(name) {
            Ok(())
        } else {
            Err(self.fail("refused", format!("{what} {name:?} cannot be a file name")))
        }
    }

    fn held(&self) -> MutexGuard<'_, HashMap<String, HeldLock>> {
        // A panic elsewhere while holding it leaves the map itself intact.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `<root>/<sub>`, a real directory; `create`: made (0700) if missing, else a path that
    /// may not exist yet (reads then find nothing).
    fn sub(&self, sub: &str, create: bool) -> Result<PathBuf, Error> {
        let dir = self.root.join(sub);
        let not_real = || {
            self.fail(
                "unsafe store layout",
                format!("{} is not a real directory", dir.display()),
            )
        };
        match fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => return Ok(dir),
            Ok(_) => return Err(not_real()),
            Err(e) if e.kind() == io::ErrorKind::NotFound && create => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(dir),
            Err(e) => return Err(self.io("cannot read", &dir)(e)),
        }
        match fs::DirBuilder::new().mode(DIR_MODE).create(&dir) {
            Ok(()) => {
                fs::set_permissions(&dir, fs::Permissions::from_mode(DIR_MODE))
                    .and_then(|()| fsutil::sync_parent(&dir))
                    .map_err(self.io("cannot create", &dir))?;
            }
            // Another node made it first.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(self.io("cannot create", &dir)(e)),
        }
        match fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => Ok(dir),
            Ok(_) => Err(not_real()),
            Err(e) => Err(self.io("cannot read", &dir)(e)),
        }
    }

    /// The JSON file at `path`; `None` if there is none. A symlink there is refused.
    fn read_json<T: DeserializeOwned>(&self, path: &Path) -> Result<Option<T>, Error> {
        let opened = OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(path);
        let mut file = match opened {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io("cannot read", path)(e)),
        };
        let mut text = String::new();
        file.read_to_string(&mut text)
            .map_err(self.io("cannot read", path))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| self.fail("bad entry", format!("{}: {e}", path.display())))
    }

    /// Replace `path` whole: temp file, fsync, rename, fsync of the directory.
    fn write_json<T: Serialize>(&self, path: &Path, value: &T) -> Result<(), Error> {
        let json = serde_json::to_vec_pretty(value).map_err(|e| self.fail("cannot encode", e))?;
        fsutil::write_atomic_via(&temp_beside(path), path, &json, FILE_MODE)
            .map_err(self.io("cannot write", path))
    }

    /// `(stem, path)` of each `<stem>.json` in `dir` with a plain stem (temp files and
    /// anything foreign are skipped); nothing if `dir` does not exist yet.
    /// Every `<name>.json` in `dir`, parsed; one removed since the listing (a `delete`
    /// meanwhile) is skipped, and so is (logged) one that does not parse: one bad file must
    /// not stop every node from syncing the others.
    fn read_all<T: DeserializeOwned>(&self, dir: &Path) -> Result<BTreeMap<String, T>, Error> {
        let mut out = BTreeMap::new();
        for (name, path) in self.list_json(dir)? {
            match self.read_json::<T>(&path) {
                Ok(Some(entry)) => {
                    out.insert(name, entry);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("{e}: skipped"),
            }
        }
        Ok(out)
    }

    fn list_json(&self, dir: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io("cannot list", dir)(e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(self.io("cannot list", dir))?;
            let file_name = entry.file_name();
            let Some(stem) = file_name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if is_plain_name(stem) {
                out.push((stem.to_string(), entry.path()));
            }
        }
        Ok(out)
    }

    fn ping(&self) -> Result<(), Error> {
        check_root(&self.root).map_err(|r| self.fail("cannot use the store directory", r))?;
        let probe = temp_beside(&self.root.join("probe"));
        fsutil::write_new(&probe, b"", FILE_MODE)
            .map_err(self.io("cannot write to the store directory", &self.root))?;
        let _ = fs::remove_file(&probe);
        Ok(())
    }

    fn try_lock(&self, name: &str, owner: &str) -> Result<LockAttempt, Error> {
        self.check_name("lineage", name)?;
        let path = self.sub("locks", true)?.join(name);
        let mut held = self.held();
        if owner.is_empty() || held.contains_key(owner) {
            return Err(self.fail(
                "cannot take the lineage lock",
                format!("owner token {owner:?} is empty or already in use"),
            ));
        }
        // certwright never deletes a lock file (a waiter could lock the deleted one while a
        // newcomer locks its replacement); should one be removed or replaced by hand between
        // our open and our flock, the lock taken is on a file nobody else opens: take it again.
        for _ in 0..3 {
            let file =
                open_lock_file(&path).map_err(self.io("cannot open the lineage lock", &path))?;
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {}
                Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                    // Empty for the moment between the holder's flock and its write.
                    let holder = read_token(&file).unwrap_or_default();
                    let holder = match holder.trim() {
                        "" => "unknown",
                        h => h,
                    };
                    return Ok(LockAttempt::HeldBy(holder.to_string()));
                }
                Err(e) => return Err(self.io("cannot take the lineage lock", &path)(e.into())),
            }
            if !same_file(&file, &path).map_err(self.io("cannot read the lineage lock", &path))? {
                continue;
            }
            write_token(&file, owner).map_err(self.io("cannot write the lineage lock", &path))?;
            held.insert(
                owner.to_string(),
                HeldLock {
                    name: name.to_string(),
                    file,
                },
            );
            return Ok(LockAttempt::Acquired(owner.to_string()));
        }
        Err(self.fail(
            "cannot take the lineage lock",
            format!("{} keeps being replaced", path.display()),
        ))
    }

    /// Whether `lease` is a lock this store holds, on the file that is still at its path,
    /// holding its token. On NFSv4 a lock the server dropped (this client was cut off past
    /// its lease) makes reads on the fd fail: that is a lost lock too.
    fn still_ours(&self, held: &HashMap<String, HeldLock>, lease: &Lease) -> Result<bool, Error> {
        let Some(lock) = held.get(&lease.token) else {
            return Ok(false);
        };
        if lock.name != lease.name || !is_plain_name(&lease.name) {
            return Ok(false);
        }
        let path = self.root.join("locks").join(&lease.name);
        if !same_file(&lock.file, &path).map_err(self.io("cannot read the lineage lock", &path))? {
            return Ok(false);
        }
        Ok(read_token(&lock.file).is_ok_and(|t| t == lease.token))
    }

    fn refresh(&self, lease: &Lease) -> Result<bool, Error> {
        let held = self.held();
        self.still_ours(&held, lease)
    }

    /// Only a lock this store took with this token: another node's, or another lineage's,
    /// is never touched.
    fn unlock(&self, lease: &Lease) -> Result<(), Error> {
        let mut held = self.held();
        if held
            .get(&lease.token)
            .is_none_or(|lock| lock.name != lease.name)
        {
            return Ok(());
        }
        let ours = self.still_ours(&held, lease).unwrap_or(false);
        if let Some(lock) = held.remove(&lease.token) {
            // A `HeldBy` answer should not name a node that let go.
            if ours {
                let _ = lock.file.set_len(0);
            }
            // Dropping `lock.file` closes it: the kernel releases the lock.
        }
        Ok(())
    }

    fn publish(&self, lease: &Lease, bundle: &Bundle) -> Result<u64, Error> {
        self.check_name("lineage", &lease.name)?;
        let certs = self.sub("certs", true)?;
        let path = certs.join(format!("{}.json", lease.name));
        // Held through the write: this store's own `unlock` cannot slip in between.
        let held = self.held();
        if !self.still_ours(&held, lease)? {
            return Err(self.fail(
                "refused the certificate",
                format!(
                    "this node no longer holds the lock on {} (it was released, or its lock file replaced)",
                    lease.name
                ),
            ));
        }
        let version = super::next_version(self.fetch(&lease.name), bundle.version)
            .ok_or_else(|| self.fail("refused the certificate", "no version number left"))?;
        let stored = StoredBundle::seal(&self.sealer, &lease.name, version, bundle)
            .map_err(|e| self.fail("cannot encrypt", e))?;
        let at = now();
        self.write_json(
            &path,
            &CertEntry {
                version,
                cert: stored.cert,
                chain: stored.chain,
                fullchain: stored.fullchain,
                privkey: stored.privkey,
                renewal: stored.renewal,
                node: stored.node,
                at: at.clone(),
                mac: stored.mac,
            },
        )?;
        drop(held);
        sweep_stale_temps(&certs);
        let event = serde_json::json!({
            "event": "publish", "name": lease.name, "node": bundle.node, "version": version, "at": at,
        });
        // The version is the fleet's now: a history hiccup must not make the node undo it.
        if let Err(e) = self.append_history(&event) {
            tracing::warn!("published {} version {version}, but {e}", lease.name);
        }
        Ok(version)
    }

    fn fetch(&self, name: &str) -> Result<Option<Bundle>, Error> {
        self.check_name("lineage", name)?;
        let path = self.sub("certs", false)?.join(format!("{name}.json"));
        let Some(entry) = self.read_json::<CertEntry>(&path)? else {
            return Ok(None);
        };
        let stored = StoredBundle {
            version: entry.version,
            cert: entry.cert,
            chain: entry.chain,
            fullchain: entry.fullchain,
            privkey: entry.privkey,
            renewal: entry.renewal,
            node: entry.node,
            mac: entry.mac,
        };
        stored
            .open(&self.sealer, name)
            .map(Some)
            .map_err(|e| self.fail("refused the certificate entry", e))
    }

    /// One read per lineage (there is no index to go stale): fine for hundreds of
    /// lineages, less so for tens of thousands on a slow NFS server.
    fn versions(&self) -> Result<BTreeMap<String, u64>, Error> {
        let certs = self.sub("certs", false)?;
        let all = self.read_all::<VersionOnly>(&certs)?;
        Ok(all.into_iter().map(|(name, v)| (name, v.version)).collect())
    }

    fn remove(&self, name: &str) -> Result<(), Error> {
        self.check_name("lineage", name)?;
        let path = self.sub("certs", false)?.join(format!("{name}.json"));
        match fs::remove_file(&path) {
            Ok(()) => fsutil::sync_parent(&path).map_err(self.io("cannot remove", &path)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io("cannot remove", &path)(e)),
        }
    }

    fn put_challenge(&self, c: &SharedChallenge, ttl: Duration) -> Result<(), Error> {
        if !is_token(&c.token) {
            return Err(self.fail(
                "refused the challenge",
                format!("token {:?} is not base64url", c.token),
            ));
        }
        let sealed = seal_challenge(&self.sealer, c).map_err(|e| self.fail("cannot encrypt", e))?;
        let dir = self.sub("chal", true)?;
        self.write_json(
            &dir.join(&c.token),
            &ChallengeEntry {
                sealed,
                expires_ms: now_ms().saturating_add(millis(ttl)),
            },
        )?;
        self.sweep_expired_challenges(&dir);
        Ok(())
    }

    /// What Redis's expiry does by itself: drop challenges past their TTL (and temp files
    /// left by crashes). Best effort: one that stays is still read as absent.
    fn sweep_expired_challenges(&self, dir: &Path) {
        sweep_stale_temps(dir);
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        let now = now_ms();
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            if !file_name.to_str().is_some_and(is_token) {
                continue;
            }
            if let Ok(Some(c)) = self.read_json::<ChallengeEntry>(&entry.path()) {
                if c.expires_ms <= now {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
    }

    /// A token that is not base64url was never stored: absent, not an error (the
    /// responder asks with whatever a client sent).
    fn challenge(&self, token: &str) -> Result<Option<(String, String)>, Error> {
        if !is_token(token) {
            return Ok(None);
        }
        let path = self.sub("chal", false)?.join(token);
        let Some(entry) = self.read_json::<ChallengeEntry>(&path)? else {
            return Ok(None);
        };
        if entry.expires_ms <= now_ms() {
            let _ = fs::remove_file(&path);
            return Ok(None);
        }
        Ok(open_challenge(&self.sealer, token, &entry.sealed))
    }

    fn remove_challenge(&self, token: &str) -> Result<(), Error> {
        if !is_token(token) {
            return Ok(());
        }
        let path = self.sub("chal", false)?.join(token);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(self.io("cannot remove the challenge", &path)(e))
            }
            _ => Ok(()),
        }
    }

    fn account(&self, server_dir: &str) -> Result<Option<SharedAccount>, Error> {
        self.check_name("CA", server_dir)?;
        let path = self
            .sub("accounts", false)?
            .join(format!("{server_dir}.json"));
        let Some(entry) = self.read_json::<AccountEntry>(&path)? else {
            return Ok(None);
        };
        let stored = SharedAccount {
            id: entry.id,
            credentials: entry.credentials,
            meta: entry.meta,
        };
        open_account(&self.sealer, server_dir, stored, &entry.mac)
            .map(Some)
            .map_err(|e| self.fail("refused the account", e))
    }

    /// The complete entry is written under a temp name, then hard-linked to its final name:
    /// link(2) fails if that name exists, so exactly one node's account becomes the fleet's
    /// and nobody ever reads half of one.
    fn offer_account(
        &self,
        server_dir: &str,
        account: &SharedAccount,
    ) -> Result<SharedAccount, Error> {
        self.check_name("CA", server_dir)?;
        let (sealed, mac) = seal_account(&self.sealer, server_dir, account)
            .map_err(|e| self.fail("cannot encrypt", e))?;
        let dir = self.sub("accounts", true)?;
        let path = dir.join(format!("{server_dir}.json"));
        let json = serde_json::to_vec_pretty(&AccountEntry {
            id: account.id.clone(),
            credentials: sealed,
            meta: account.meta.clone(),
            mac,
        })
        .map_err(|e| self.fail("cannot encode", e))?;
        let tmp = temp_beside(&path);
        fsutil::write_new(&tmp, &json, FILE_MODE)
            .map_err(self.io("cannot store the account", &tmp))?;
        let linked = fs::hard_link(&tmp, &path);
        let won = match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            // NFS: a retransmitted LINK can fail although the first one worked; then the
            // temp file has a second name.
            Err(e) => match fs::metadata(&tmp) {
                Ok(meta) if meta.nlink() == 2 => Ok(true),
                _ => Err(self.io("cannot store the account", &path)(e)),
            },
        };
        let _ = fs::remove_file(&tmp);
        let won = won?;
        fsutil::sync_parent(&path).map_err(self.io("cannot store the account", &path))?;
        if won {
            return Ok(account.clone());
        }
        self.account(server_dir)?.ok_or_else(|| {
            self.fail(
                "cannot store the account",
                format!("{} vanished", path.display()),
            )
        })
    }

    fn report_node(&self, node: &str, installed: &BTreeMap<String, u64>) -> Result<(), Error> {
        self.check_name("node id", node)?;
        let path = self.sub("nodes", true)?.join(format!("{node}.json"));
        self.write_json(
            &path,
            &NodeEntry {
                installed: installed.clone(),
                seen: now(),
            },
        )
    }

    fn nodes(&self) -> Result<BTreeMap<String, BTreeMap<String, u64>>, Error> {
        let dir = self.sub("nodes", false)?;
        let all = self.read_all::<NodeEntry>(&dir)?;
        Ok(all.into_iter().map(|(id, e)| (id, e.installed)).collect())
    }

    /// Append one line under `history.lock` (O_APPEND alone is not atomic between NFS
    /// clients); past `HISTORY_MAX` lines, keep the last `HISTORY_KEEP`.
    fn append_history(&self, entry: &serde_json::Value) -> Result<(), Error> {
        let what = "cannot record history";
        let lock_path = self.root.join(HISTORY_LOCK);
        let lock = open_lock_file(&lock_path).map_err(self.io(what, &lock_path))?;
        let started = Instant::now();
        loop {
            match flock(&lock, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => break,
                Err(e)
                    if e == rustix::io::Errno::WOULDBLOCK && started.elapsed() < HISTORY_WAIT =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(self.io(what, &lock_path)(e.into())),
            }
        }
        let path = self.root.join(HISTORY_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(FILE_MODE)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&path)
            .map_err(self.io(what, &path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(self.io(what, &path))?;
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        // A node that died mid-append left a partial line: end it rather than join it.
        let mut line = if text.is_empty() || text.ends_with('\n') {
            String::new()
        } else {
            "\n".to_string()
        };
        line.push_str(&entry.to_string());
        line.push('\n');
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(self.io(what, &path))?;
        text.push_str(&line);
        let lines: Vec<&str> = text.lines().collect();
        if lines.len() > HISTORY_MAX {
            let mut kept = lines[lines.len() - HISTORY_KEEP..].join("\n");
            kept.push('\n');
            fsutil::write_atomic_via(&temp_beside(&path), &path, kept.as_bytes(), FILE_MODE)
                .map_err(self.io(what, &path))?;
        }
        // Dropping `lock` lets the next node append.
        Ok(())
    }
}

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

    async fn challenge(&self, token: &str) -> Result<Option<(String, String)>, Error> {
        let token = token.to_string();
        self.run(move |s| s.challenge(&token)).await
    }

    async fn remove_challenge(&self, token: &str) -> Result<(), Error> {
        let token = token.to_string();
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
        node: &str,
        installed: &BTreeMap<String, u64>,
    ) -> Result<(), Error> {
        let (node, installed) = (node.to_string(), installed.clone());
        self.run(move |s| s.report_node(&node, &installed)).await
    }

    async fn nodes(&self) -> Result<BTreeMap<String, BTreeMap<String, u64>>, Error> {
        self.run(Inner::nodes).await
    }

    async fn record(&self, event: &str, name: &str, node: &str) -> Result<(), Error> {
        let entry = serde_json::json!({ "event": event, "name": name, "node": node, "at": now() });
        self.run(move |s| s.append_history(&entry)).await
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    use super::*;

    const TTL: Duration = Duration::from_secs(60);
    const SECRET_KEY: &str = "-----BEGIN PRIVATE KEY-----\nTUlHSEFnRUFNQk1HQnlxR1NNNDlBZ0VHQ0NxR1NNNDlBd0VIQkcwd2F3SUJBUVFn\n-----END PRIVATE KEY-----\n";
    const ACCOUNT_SECRET: &str =
        r#"{"id":"acct","key_pkcs8":"QUNDT1VOVC1LRVktTUFURVJJQUwtZG8tbm90LWxlYWs"}"#;

    fn sealer() -> Sealer {
        Sealer::from_base64(&STANDARD.encode([9u8; 32])).unwrap()
    }

    /// One "node": its own `DirStore` (own fds, own lock map) on the shared directory.
    fn node(dir: &Path) -> DirStore {
        DirStore::new(&format!("file://{}", dir.display()), sealer()).unwrap()
    }

    fn bundle(node: &str, cert: &str) -> Bundle {
        Bundle {
            version: 0,
            cert_pem: cert.into(),
            chain_pem: "chain".into(),
            fullchain_pem: format!("{cert}chain"),
            privkey_pem: SECRET_KEY.into(),
            renewal: r#"{"schema":1}"#.into(),
            node: node.into(),
        }
    }

    async fn lock(store: &DirStore, name: &str, owner: &str) -> Lease {
        match store.try_lock(name, owner, TTL).await.unwrap() {
            LockAttempt::Acquired(token) => Lease {
                name: name.into(),
                token,
            },
            other => panic!("{owner} did not get {name}: {other:?}"),
        }
    }

    fn chal(token: &str, identifier: &str, key_authorization: &str) -> SharedChallenge {
        SharedChallenge {
            token: token.into(),
            identifier: identifier.into(),
            key_authorization: key_authorization.into(),
        }
    }

    fn account(id: &str) -> SharedAccount {
        SharedAccount {
            id: id.into(),
            credentials: ACCOUNT_SECRET.replace("acct", id),
            meta: Some(format!(r#"{{"contact":["{id}"]}}"#)),
        }
    }

    fn files_below(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                out.extend(files_below(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn refuses_relative_missing_and_unsafe_directories_as_input_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path(), &link).unwrap();
        let open = dir.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        for (url, want) in [
            ("file://relative/dir".to_string(), "absolute"),
            ("file://".to_string(), "absolute"),
            (
                format!("file://{}/missing", dir.path().display()),
                "does not exist",
            ),
            (format!("file://{}", file.display()), "not a directory"),
            (format!("file://{}", link.display()), "symlink"),
            (format!("file://{}", open.display()), "chmod 700"),
        ] {
            let err = DirStore::new(&url, sealer()).err().unwrap();
            assert_eq!(err.exit_code(), 2, "{url}: {err}");
            assert!(err.to_string().contains(want), "{url}: {err}");
        }
        assert!(DirStore::new(&format!("file://{}/", dir.path().display()), sealer()).is_ok());
    }

    #[test]
    fn open_takes_file_urls_and_refuses_a_prefix_for_them() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        fs::write(&key, STANDARD.encode([1u8; 32])).unwrap();
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
        let url = format!("file://{}", dir.path().display());
        let options = |url: &'static str, prefix: &'static str| super::super::SharedOptions {
            url,
            key_file: Some(Box::leak(key.clone().into_boxed_path())),
            ca_bundle: None,
            prefix,
        };
        let url: &'static str = Box::leak(url.into_boxed_str());
        let store = super::super::open(&options(url, "certwright")).unwrap();
        assert_eq!(store.describe(), url);
        let err = super::super::open(&options(url, "fleet-b")).err().unwrap();
        assert!(err.to_string().contains("redis:// stores only"), "{err}");
        let err = super::super::open(&options("ftp://x/y", "certwright"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("file:///ABSOLUTE/DIR"), "{err}");
    }

    #[tokio::test]
    async fn ping_checks_the_directory_is_still_usable() {
        let dir = tempfile::tempdir().unwrap();
        let store = node(dir.path());
        store.ping().await.unwrap();
        assert!(files_below(dir.path()).is_empty(), "ping left a file");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o500)).unwrap();
        let readonly = store.ping().await;
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        // Root writes anyway; everyone else is told.
        if !rustix::process::geteuid().is_root() {
            let err = readonly.err().unwrap();
            assert_eq!(err.exit_code(), 6, "{err}");
        }
        fs::remove_dir(dir.path()).unwrap();
        let err = store.ping().await.err().unwrap();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[tokio::test]
    async fn lock_is_exclusive_between_two_nodes_and_released_only_by_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (node(dir.path()), node(dir.path()));
        let lease = lock(&a, "x.example", "node-a/1/aa").await;
        assert_eq!(
            b.try_lock("x.example", "node-b/2/bb", TTL).await.unwrap(),
            LockAttempt::HeldBy("node-a/1/aa".into())
        );
        // Two tasks of one node are excluded from each other too.
        assert_eq!(
            a.try_lock("x.example", "node-a/1/cc", TTL).await.unwrap(),
            LockAttempt::HeldBy("node-a/1/aa".into())
        );
        // Another lineage is another lock.
        lock(&b, "y.example", "node-b/2/dd").await;

        // Node b cannot refresh or release a's lock, even with a's token.
        assert!(!b.refresh(&lease, TTL).await.unwrap());
        b.unlock(&lease).await.unwrap();
        let wrong_name = Lease {
            name: "y.example".into(),
            token: lease.token.clone(),
        };
        a.unlock(&wrong_name).await.unwrap();
        assert!(a.refresh(&lease, TTL).await.unwrap());
        assert!(matches!(
            b.try_lock("x.example", "node-b/2/ee", TTL).await.unwrap(),
            LockAttempt::HeldBy(_)
        ));

        a.unlock(&lease).await.unwrap();
        assert!(!a.refresh(&lease, TTL).await.unwrap());
        lock(&b, "x.example", "node-b/2/ff").await;
        assert_eq!(
            a.try_lock("x.example", "node-a/1/gg", TTL).await.unwrap(),
            LockAttempt::HeldBy("node-b/2/ff".into())
        );
    }

    #[tokio::test]
    async fn a_crashed_holders_lock_is_released_by_the_kernel() {
        let dir = tempfile::tempdir().unwrap();
        let a = node(dir.path());
        lock(&a, "x.example", "node-a/1/aa").await;
        let b = node(dir.path());
        assert!(matches!(
            b.try_lock("x.example", "node-b/2/bb", TTL).await.unwrap(),
            LockAttempt::HeldBy(_)
        ));
        drop(a);
        lock(&b, "x.example", "node-b/2/bb").await;
    }

    #[tokio::test]
    async fn publish_is_fenced_by_the_lease_and_counts_up_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (node(dir.path()), node(dir.path()));
        let name = "x.example";
        let never_taken = Lease {
            name: name.into(),
            token: "node-a/1/aa".into(),
        };
        let err = a
            .publish(&never_taken, &bundle("node-a", "c0"))
            .await
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("no longer holds the lock"),
            "{err}"
        );
        assert_eq!(err.exit_code(), 6);

        let lease = lock(&a, name, "node-a/1/aa").await;
        // Node b holds no such lock, whatever token it claims.
        assert!(b.publish(&lease, &bundle("node-b", "cb")).await.is_err());
        assert_eq!(a.publish(&lease, &bundle("node-a", "c1")).await.unwrap(), 1);
        assert_eq!(a.publish(&lease, &bundle("node-a", "c2")).await.unwrap(), 2);
        a.unlock(&lease).await.unwrap();
        assert!(a.publish(&lease, &bundle("node-a", "c3")).await.is_err());

        let lease = lock(&b, name, "node-b/2/bb").await;
        assert_eq!(b.publish(&lease, &bundle("node-b", "c3")).await.unwrap(), 3);
        // A lock file removed by hand is a lost lock: refresh says so, publish refuses.
        fs::remove_file(dir.path().join("locks").join(name)).unwrap();
        assert!(!b.refresh(&lease, TTL).await.unwrap());
        assert!(b.publish(&lease, &bundle("node-b", "c4")).await.is_err());

        let got = a.fetch(name).await.unwrap().unwrap();
        assert_eq!(got.version, 3);
        assert_eq!(got.cert_pem, "c3");
        assert_eq!(got.fullchain_pem, "c3chain");
        assert_eq!(got.privkey_pem, SECRET_KEY);
        assert_eq!(got.node, "node-b");
        assert_eq!(
            a.versions().await.unwrap(),
            BTreeMap::from([(name.to_string(), 3)])
        );
        let history = fs::read_to_string(dir.path().join(HISTORY_FILE)).unwrap();
        let published: Vec<u64> = history
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|e| e["event"] == "publish")
            .map(|e| e["version"].as_u64().unwrap())
            .collect();
        assert_eq!(published, [1, 2, 3]);
    }

    #[tokio::test]
    async fn versions_remove_and_nodes() {
        let dir = tempfile::tempdir().unwrap();
        let a = node(dir.path());
        assert!(a.versions().await.unwrap().is_empty());
        assert!(a.nodes().await.unwrap().is_empty());
        assert!(a.fetch("x.example").await.unwrap().is_none());
        for name in ["x.example", "y.example"] {
            let lease = lock(&a, name, &format!("node-a/1/{name}")).await;
            a.publish(&lease, &bundle("node-a", "c")).await.unwrap();
            a.unlock(&lease).await.unwrap();
        }
        // Temp files and foreign names are not lineages.
        fs::write(dir.path().join("certs/.certwright-tmp-1-z.json"), "{").unwrap();
        fs::write(dir.path().join("certs/README"), "").unwrap();
        a.remove("x.example").await.unwrap();
        a.remove("x.example").await.unwrap();
        assert_eq!(
            a.versions().await.unwrap(),
            BTreeMap::from([("y.example".to_string(), 1)])
        );
        assert!(a.fetch("x.example").await.unwrap().is_none());

        let installed = BTreeMap::from([("y.example".to_string(), 1)]);
        a.report_node("node-a", &installed).await.unwrap();
        a.report_node("node-b", &BTreeMap::new()).await.unwrap();
        a.report_node("node-a", &installed).await.unwrap();
        assert_eq!(
            a.nodes().await.unwrap(),
            BTreeMap::from([
                ("node-a".to_string(), installed),
                ("node-b".to_string(), BTreeMap::new())
            ])
        );
    }

    #[tokio::test]
    async fn no_secret_is_stored_in_clear_and_modes_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let a = node(dir.path());
        let lease = lock(&a, "x.example", "node-a/1/aa").await;
        a.publish(&lease, &bundle("node-a", "c1")).await.unwrap();
        a.offer_account("ca_14000", &account("acct-1"))
            .await
            .unwrap();
        a.put_challenge(&chal("tok", "x.example", "tok.thumb"), TTL)
            .await
            .unwrap();
        a.report_node("node-a", &BTreeMap::new()).await.unwrap();
        a.record("order", "x.example", "node-a").await.unwrap();

        let body = SECRET_KEY.lines().nth(1).unwrap();
        let files = files_below(dir.path());
        assert!(files.len() >= 7, "{files:?}");
        for file in &files {
            let bytes = fs::read(file).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            for secret in [
                "PRIVATE KEY",
                body,
                "QUNDT1VOVC1LRVktTUFURVJJQUwtZG8tbm90LWxlYWs",
            ] {
                assert!(
                    !text.contains(secret),
                    "{} holds {secret:?}",
                    file.display()
                );
            }
            let mode = fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
        }
        for sub in ["locks", "certs", "chal", "accounts", "nodes"] {
            let mode = fs::metadata(dir.path().join(sub))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o700, "{sub}");
        }
        // Not vacuous: the sealed values are there and open again.
        assert_eq!(
            a.fetch("x.example").await.unwrap().unwrap().privkey_pem,
            SECRET_KEY
        );
        assert_eq!(
            a.account("ca_14000").await.unwrap().unwrap().credentials,
            account("acct-1").credentials
        );
        // Another key cannot open them.
        let other = DirStore::new(
            &format!("file://{}", dir.path().display()),
            Sealer::from_base64(&STANDARD.encode([8u8; 32])).unwrap(),
        )
        .unwrap();
        assert!(other.fetch("x.example").await.is_err());
    }

    #[tokio::test]
    async fn challenges_expire_with_their_ttl() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (node(dir.path()), node(dir.path()));
        a.put_challenge(
            &chal("short_-1", "x.example", "short.ka"),
            Duration::from_millis(100),
        )
        .await
        .unwrap();
        a.put_challenge(&chal("long", "y.example", "long.ka"), TTL)
            .await
            .unwrap();
        assert_eq!(
            b.challenge("short_-1").await.unwrap(),
            Some(("x.example".into(), "short.ka".into()))
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(b.challenge("short_-1").await.unwrap(), None);
        assert!(
            !dir.path().join("chal/short_-1").exists(),
            "expired file stayed"
        );

        // Expired ones are swept when another is published, even if never read again.
        a.put_challenge(
            &chal("gone", "z.example", "gone.ka"),
            Duration::from_millis(50),
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        a.put_challenge(&chal("fresh", "z.example", "fresh.ka"), TTL)
            .await
            .unwrap();
        assert!(
            !dir.path().join("chal/gone").exists(),
            "expired file stayed"
        );

        assert_eq!(
            b.challenge("long").await.unwrap(),
            Some(("y.example".into(), "long.ka".into()))
        );
        b.remove_challenge("long").await.unwrap();
        b.remove_challenge("long").await.unwrap();
        assert_eq!(a.challenge("long").await.unwrap(), None);
        assert_eq!(a.challenge("never").await.unwrap(), None);
    }

    #[tokio::test]
    async fn path_traversal_names_and_tokens_never_leave_the_directory() {
        let outer = tempfile::tempdir().unwrap();
        let dir = outer.path().join("store");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        let a = node(&dir);
        let bad_tokens = [
            "../escape",
            "..",
            ".",
            "a/b",
            "/etc/passwd",
            "",
            "a.b",
            "%2e%2e",
            "a\0b",
            "a b",
        ];
        for token in bad_tokens {
            let err = a.put_challenge(&chal(token, "x", "y"), TTL).await.err();
            assert!(err.is_some(), "{token:?} was stored");
            assert_eq!(a.challenge(token).await.unwrap(), None, "{token:?}");
            a.remove_challenge(token).await.unwrap();
        }
        let long = "a".repeat(300);
        assert!(a.put_challenge(&chal(&long, "x", "y"), TTL).await.is_err());
        for name in ["../escape", "..", ".hidden", "a/b", ""] {
            assert!(
                a.try_lock(name, "node-a/1/aa", TTL).await.is_err(),
                "{name:?}"
            );
            assert!(a.fetch(name).await.is_err(), "{name:?}");
            assert!(a.remove(name).await.is_err(), "{name:?}");
            assert!(a.account(name).await.is_err(), "{name:?}");
            assert!(
                a.offer_account(name, &account("x")).await.is_err(),
                "{name:?}"
            );
            assert!(
                a.report_node(name, &BTreeMap::new()).await.is_err(),
                "{name:?}"
            );
        }
        let escape = Lease {
            name: "../escape".into(),
            token: "node-a/1/aa".into(),
        };
        assert!(a.publish(&escape, &bundle("node-a", "c")).await.is_err());
        let outside: Vec<_> = fs::read_dir(outer.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            outside,
            ["store"],
            "something was written outside the store"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn offer_account_keeps_the_first_writer_across_nodes() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (node(dir.path()), node(dir.path()));
        assert!(a.account("ca_14000").await.unwrap().is_none());
        let first = a
            .offer_account("ca_14000", &account("acct-1"))
            .await
            .unwrap();
        assert!(first == account("acct-1"), "{}", first.id);
        let kept = b
            .offer_account("ca_14000", &account("acct-2"))
            .await
            .unwrap();
        assert!(kept == account("acct-1"), "{}", kept.id);
        assert!(b.account("ca_14000").await.unwrap() == Some(account("acct-1")));

        // Eight nodes registering at once: all end up with the same one account.
        let nodes: Vec<DirStore> = (0..8).map(|_| node(dir.path())).collect();
        let offers = nodes.iter().enumerate().map(|(i, n)| async move {
            n.offer_account("race_1", &account(&format!("acct-{i}")))
                .await
                .unwrap()
        });
        let kept = futures_util::future::join_all(offers).await;
        assert!(
            kept.iter().all(|k| *k == kept[0]),
            "{:?}",
            kept.iter().map(|k| &k.id).collect::<Vec<_>>()
        );
        assert!(a.account("race_1").await.unwrap() == Some(kept[0].clone()));
        let accounts: Vec<_> = fs::read_dir(dir.path().join("accounts"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(accounts.len(), 2, "leftover temp files: {accounts:?}");
    }

    /// Issue 16: a writer of the directory without the key gets nothing past a node.
    #[tokio::test]
    async fn entries_written_without_the_key_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = node(dir.path());
        let chal = dir.path().join("chal");
        fs::create_dir(&chal).unwrap();
        let forged = serde_json::json!({"sealed": "x.example\ntok.evil", "expires_ms": u64::MAX});
        fs::write(chal.join("tok"), forged.to_string()).unwrap();
        assert_eq!(a.challenge("tok").await.unwrap(), None);

        a.offer_account("ca_1", &account("acct-1")).await.unwrap();
        let path = dir.path().join("accounts/ca_1.json");
        let mut entry: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        entry["id"] = "/etc".into();
        fs::write(&path, entry.to_string()).unwrap();
        let err = a.account("ca_1").await.err().unwrap().to_string();
        assert!(err.contains("not authenticated"), "{err}");

        let lease = lock(&a, "x.example", "a/1/1").await;
        a.publish(&lease, &bundle("a", "cert-1")).await.unwrap();
        let path = dir.path().join("certs/x.example.json");
        let good = fs::read_to_string(&path).unwrap();
        for (field, value) in [
            ("version", 9.into()),
            ("chain", "".into()),
            ("node", "a\nb".into()),
        ] {
            let mut entry: serde_json::Value = serde_json::from_str(&good).unwrap();
            entry[field] = value;
            fs::write(&path, entry.to_string()).unwrap();
            let err = a.fetch("x.example").await.err().unwrap().to_string();
            assert!(err.contains("not authenticated"), "{field}: {err}");
        }
        // The next version counts from the last one that verifies (none now), not from 9.
        let version = a.publish(&lease, &bundle("a", "cert-2")).await.unwrap();
        assert_eq!(version, 1);
        // A file that is not JSON does not hide the others from `versions`.
        fs::write(dir.path().join("certs/junk.json"), "not json").unwrap();
        assert_eq!(a.versions().await.unwrap().get("x.example"), Some(&1));
    }

    #[tokio::test]
    async fn history_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (node(dir.path()), node(dir.path()));
        for i in 0..=HISTORY_MAX {
            let store = if i % 2 == 0 { &a } else { &b };
            store
                .record("order", &format!("n{i}"), "node-a")
                .await
                .unwrap();
        }
        let text = fs::read_to_string(dir.path().join(HISTORY_FILE)).unwrap();
        let names: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["name"].to_string())
            .collect();
        assert_eq!(names.len(), HISTORY_KEEP);
        assert_eq!(names.last().unwrap(), &format!("\"n{HISTORY_MAX}\""));
        assert_eq!(names[0], format!("\"n{}\"", HISTORY_MAX + 1 - HISTORY_KEEP));
        // A torn last line (a node died mid-append) is ended, not joined.
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.path().join(HISTORY_FILE))
            .unwrap();
        file.write_all(b"{\"event\":\"ord").unwrap();
        a.record("publish", "after", "node-a").await.unwrap();
        let text = fs::read_to_string(dir.path().join(HISTORY_FILE)).unwrap();
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["name"], "after");
    }
}
