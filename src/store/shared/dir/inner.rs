//! What each store operation does on the directory (run off the async threads by `mod.rs`).

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use rustix::fs::{flock, FlockOperation};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::super::{
    now, open_account, open_challenge, seal_account, seal_challenge, Bundle, Lease, LockAttempt,
    SharedAccount, SharedChallenge, StoredAccount, StoredBundle,
};
use crate::error::Error;
use crate::fsutil;

use super::*;

impl Inner {
    pub(super) fn fail(&self, what: &str, e: impl std::fmt::Display) -> Error {
        Error::Shared {
            store: self.described.clone(),
            reason: format!("{what}: {e}"),
        }
    }

    pub(super) fn io<'a>(
        &'a self,
        what: &'a str,
        path: &'a Path,
    ) -> impl FnOnce(io::Error) -> Error + 'a {
        move |e| self.fail(what, format!("{}: {e}", path.display()))
    }

    pub(super) fn check_name(&self, what: &str, name: &str) -> Result<(), Error> {
        if is_plain_name(name) {
            Ok(())
        } else {
            Err(self.fail("refused", format!("{what} {name:?} cannot be a file name")))
        }
    }

    pub(super) fn held(&self) -> MutexGuard<'_, HashMap<String, HeldLock>> {
        // A panic elsewhere while holding it leaves the map itself intact.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `<root>/<sub>`, a real directory; `create`: made (0700) if missing, else a path that
    /// may not exist yet (reads then find nothing).
    pub(super) fn sub(&self, sub: &str, create: bool) -> Result<PathBuf, Error> {
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
    pub(super) fn read_json<T: DeserializeOwned>(&self, path: &Path) -> Result<Option<T>, Error> {
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
    pub(super) fn write_json<T: Serialize>(&self, path: &Path, value: &T) -> Result<(), Error> {
        let json = serde_json::to_vec_pretty(value).map_err(|e| self.fail("cannot encode", e))?;
        fsutil::write_atomic_via(&temp_beside(path), path, &json, FILE_MODE)
            .map_err(self.io("cannot write", path))
    }

    /// `(stem, path)` of each `<stem>.json` in `dir` with a plain stem (temp files and
    /// anything foreign are skipped); nothing if `dir` does not exist yet.
    /// Every `<name>.json` in `dir`, parsed; one removed since the listing (a `delete`
    /// meanwhile) is skipped, and so is (logged) one that does not parse: one bad file must
    /// not stop every node from syncing the others.
    pub(super) fn read_all<T: DeserializeOwned>(
        &self,
        dir: &Path,
    ) -> Result<BTreeMap<String, T>, Error> {
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

    pub(super) fn list_json(&self, dir: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
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

    pub(super) fn ping(&self) -> Result<(), Error> {
        check_root(&self.root).map_err(|r| self.fail("cannot use the store directory", r))?;
        let probe = temp_beside(&self.root.join("probe"));
        fsutil::write_new(&probe, b"", FILE_MODE)
            .map_err(self.io("cannot write to the store directory", &self.root))?;
        let _ = fs::remove_file(&probe);
        Ok(())
    }

    pub(super) fn try_lock(&self, name: &str, owner: &str) -> Result<LockAttempt, Error> {
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
    pub(super) fn still_ours(
        &self,
        held: &HashMap<String, HeldLock>,
        lease: &Lease,
    ) -> Result<bool, Error> {
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

    pub(super) fn refresh(&self, lease: &Lease) -> Result<bool, Error> {
        let held = self.held();
        self.still_ours(&held, lease)
    }

    /// Only a lock this store took with this token: another node's, or another lineage's,
    /// is never touched.
    pub(super) fn unlock(&self, lease: &Lease) -> Result<(), Error> {
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

    pub(super) fn publish(&self, lease: &Lease, bundle: &Bundle) -> Result<u64, Error> {
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
        let version = super::super::next_version(self.fetch(&lease.name), bundle.version)
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

    pub(super) fn fetch(&self, name: &str) -> Result<Option<Bundle>, Error> {
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
    pub(super) fn versions(&self) -> Result<BTreeMap<String, u64>, Error> {
        let certs = self.sub("certs", false)?;
        let all = self.read_all::<VersionOnly>(&certs)?;
        Ok(all.into_iter().map(|(name, v)| (name, v.version)).collect())
    }

    pub(super) fn remove(&self, name: &str) -> Result<(), Error> {
        self.check_name("lineage", name)?;
        let path = self.sub("certs", false)?.join(format!("{name}.json"));
        match fs::remove_file(&path) {
            Ok(()) => fsutil::sync_parent(&path).map_err(self.io("cannot remove", &path)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io("cannot remove", &path)(e)),
        }
    }

    pub(super) fn put_challenge(&self, c: &SharedChallenge, ttl: Duration) -> Result<(), Error> {
        let sealed = seal_challenge(&self.sealer, c).map_err(|e| self.fail("cannot encrypt", e))?;
        let dir = self.sub("chal", true)?;
        self.write_json(
            &dir.join(c.token.as_str()),
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
    pub(super) fn sweep_expired_challenges(&self, dir: &Path) {
        sweep_stale_temps(dir);
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        let now = now_ms();
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let token = file_name.to_str().map(ChallengeToken::new);
            if !matches!(token, Some(Ok(_))) {
                continue;
            }
            if let Ok(Some(c)) = self.read_json::<ChallengeEntry>(&entry.path()) {
                if c.expires_ms <= now {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
    }

    pub(super) fn challenge(
        &self,
        token: &ChallengeToken,
    ) -> Result<Option<SharedChallenge>, Error> {
        let path = self.sub("chal", false)?.join(token.as_str());
        let Some(entry) = self.read_json::<ChallengeEntry>(&path)? else {
            return Ok(None);
        };
        if entry.expires_ms <= now_ms() {
            let _ = fs::remove_file(&path);
            return Ok(None);
        }
        Ok(open_challenge(&self.sealer, token, &entry.sealed))
    }

    pub(super) fn remove_challenge(&self, token: &ChallengeToken) -> Result<(), Error> {
        let path = self.sub("chal", false)?.join(token.as_str());
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(self.io("cannot remove the challenge", &path)(e))
            }
            _ => Ok(()),
        }
    }

    pub(super) fn account(&self, server_dir: &str) -> Result<Option<SharedAccount>, Error> {
        self.check_name("CA", server_dir)?;
        let path = self
            .sub("accounts", false)?
            .join(format!("{server_dir}.json"));
        let Some(entry) = self.read_json::<AccountEntry>(&path)? else {
            return Ok(None);
        };
        let stored = StoredAccount {
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
    pub(super) fn offer_account(
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
            id: account.id.to_string(),
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

    pub(super) fn report_node(
        &self,
        node: &NodeId,
        installed: &BTreeMap<String, u64>,
    ) -> Result<(), Error> {
        self.check_name("node id", node.as_str())?;
        let path = self.sub("nodes", true)?.join(format!("{node}.json"));
        self.write_json(
            &path,
            &NodeEntry {
                installed: installed.clone(),
                seen: now(),
            },
        )
    }

    pub(super) fn nodes(&self) -> Result<BTreeMap<NodeId, BTreeMap<String, u64>>, Error> {
        let dir = self.sub("nodes", false)?;
        let all = self.read_all::<NodeEntry>(&dir)?;
        let node = |id: String| NodeId::new(&id).ok();
        Ok(all
            .into_iter()
            .filter_map(|(id, e)| Some((node(id)?, e.installed)))
            .collect())
    }

    /// Append one line under `history.lock` (O_APPEND alone is not atomic between NFS
    /// clients); past `HISTORY_MAX` lines, keep the last `HISTORY_KEEP`.
    pub(super) fn append_history(&self, entry: &serde_json::Value) -> Result<(), Error> {
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
