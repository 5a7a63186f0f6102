//! The on-disk layout (certbot-compatible paths), crash-safe writes, permissions and the
//! run lock.
//!
//! ```text
//! <config>/accounts/<host_port>/<id>/credentials.json   0600, dirs 0700
//! <config>/archive/<name>/<version>/{cert,chain,fullchain,privkey}.pem   archive/ 0700
//! <config>/live/<name> -> ../archive/<name>/<version>     swapped by rename
//! <config>/renewal/<name>.json
//! <work>/state/<name>.json                               renewal bookkeeping
//! ```

pub(crate) mod inspect;
mod lock;
pub(crate) mod shared;

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub(crate) use lock::StoreLock;

use crate::crash::crash_point;
use crate::error::StoreError;
use crate::fsutil;
use crate::safe::file::Policy;
use crate::types::{AccountId, CertName};

/// The four files of one certificate version.
pub(crate) struct IssuedFiles {
    pub cert_pem: String,
    pub chain_pem: String,
    pub fullchain_pem: String,
    pub privkey_pem: String,
}

/// Paths of a lineage's files under `live/`.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct LivePaths {
    pub cert: PathBuf,
    pub chain: PathBuf,
    pub fullchain: PathBuf,
    pub privkey: PathBuf,
}

#[derive(Debug, Clone)]
pub(crate) struct Store {
    config_dir: PathBuf,
    work_dir: PathBuf,
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

impl Store {
    pub(crate) fn new(config_dir: &Path, work_dir: &Path) -> Self {
        Self {
            config_dir: config_dir.to_path_buf(),
            work_dir: work_dir.to_path_buf(),
        }
    }

    pub(crate) fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    pub(crate) fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// Create the layout with its modes, whatever the umask. Fails (exit 3) on a read-only
    /// or unwritable store, before any request to the CA.
    pub(crate) fn prepare(&self) -> Result<(), StoreError> {
        self.prepare_with(false)
    }

    /// `prepare` for a run that writes nothing there (`renew --dry-run`): a read-only
    /// config dir is fine.
    pub(crate) fn prepare_read_only(&self) -> Result<(), StoreError> {
        self.prepare_with(true)
    }

    fn prepare_with(&self, read_only_ok: bool) -> Result<(), StoreError> {
        for (dir, mode) in [
            (self.config_dir.clone(), 0o755),
            (self.config_dir.join("archive"), 0o700),
            (self.config_dir.join("accounts"), 0o700),
            (self.config_dir.join("live"), 0o755),
            (self.config_dir.join("renewal"), 0o755),
            (self.work_dir.clone(), 0o755),
            (self.work_dir.join("state"), 0o700),
        ] {
            self.ensure_real_dir(&dir, mode)?;
        }
        let probe = self
            .config_dir
            .join(format!("{}probe", fsutil::TEMP_PREFIX));
        match fs::write(&probe, b"") {
            Ok(()) => {
                let _ = fs::remove_file(&probe);
            }
            Err(e)
                if read_only_ok
                    && (e.kind() == io::ErrorKind::PermissionDenied
                        || e.raw_os_error() == Some(rustix::io::Errno::ROFS.raw_os_error())) => {}
            Err(e) => return Err(io_err("cannot write to", &self.config_dir)(e)),
        }
        self.check_owned_files()
    }

    /// Every renewal config and state file must be one another user could not have written
    /// (see `safe::file::trusted`): checked for the whole run up front, so a planted one is
    /// refused (exit 3, naming it and its owner) before anything acts on any lineage.
    fn check_owned_files(&self) -> Result<(), StoreError> {
        for dir in [self.config_dir.join("renewal"), self.work_dir.join("state")] {
            let entries = fs::read_dir(&dir).map_err(io_err("cannot read", &dir))?;
            for entry in entries {
                let entry = entry.map_err(io_err("cannot read", &dir))?;
                if entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(fsutil::TEMP_PREFIX)
                {
                    continue;
                }
                let path = entry.path();
                // Relative to the directory's fd (no symlink followed): no path walk per file.
                let meta = entry.metadata().map_err(io_err("cannot read", &path))?;
                let checked = if meta.file_type().is_symlink() {
                    Err("it is a symlink".to_string())
                } else {
                    crate::safe::file::trusted(&meta, false)
                };
                checked.map_err(|reason| StoreError::Unsafe { path, reason })?;
            }
        }
        Ok(())
    }

    /// Remove what a killed run left half-written: temp files, temp symlinks and temp
    /// version directories, anywhere below the config and work dirs (symlinks are not
    /// followed). Only safe under the run lock, where no other run is writing: see `lock`.
    /// A finished version directory (`archive/<name>/<N>`) is not entered: it was written
    /// complete under a temp name and renamed, so it holds no temps (with 10,000 lineages
    /// this halves the directories read on every run).
    fn remove_stale_temps(&self) -> Result<usize, StoreError> {
        let archive = self.config_dir.join("archive");
        let finished_version = |dir: &Path| {
            dir.parent().and_then(Path::parent) == Some(archive.as_path())
                && dir
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        };
        let mut removed = 0;
        for root in [&self.config_dir, &self.work_dir] {
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                let entries = match fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_err("cannot clean", &dir)(e)),
                };
                for entry in entries.flatten() {
                    let path = entry.path();
                    let Ok(kind) = entry.file_type() else {
                        continue;
                    };
                    let is_temp = entry
                        .file_name()
                        .to_string_lossy()
                        .starts_with(fsutil::TEMP_PREFIX);
                    if is_temp {
                        let result = if kind.is_dir() {
                            fs::remove_dir_all(&path)
                        } else {
                            fs::remove_file(&path)
                        };
                        result.map_err(io_err("cannot remove", &path))?;
                        removed += 1;
                    } else if kind.is_dir() && !finished_version(&path) {
                        stack.push(path);
                    }
                }
            }
        }
        Ok(removed)
    }

    /// A directory we own must be a real directory, never a planted symlink.
    fn ensure_real_dir(&self, dir: &Path, mode: u32) -> Result<(), StoreError> {
        match fs::symlink_metadata(dir) {
            Ok(meta)
                if meta.file_type().is_symlink()
                    && dir != self.config_dir
                    && dir != self.work_dir =>
            {
                Err(StoreError::Unsafe {
                    path: dir.to_path_buf(),
                    reason: "it is a symlink; certwright only writes into real directories".into(),
                })
            }
            Ok(meta) if meta.is_dir() || meta.file_type().is_symlink() => {
                if meta.permissions().mode() & 0o7777 != mode && !meta.file_type().is_symlink() {
                    // Through an O_NOFOLLOW fd: a symlink swapped in meanwhile is refused.
                    fsutil::create_dir_with_mode(dir, mode)
                        .map_err(io_err("cannot set permissions on", dir))?;
                }
                Ok(())
            }
            Ok(_) => Err(StoreError::Unsafe {
                path: dir.to_path_buf(),
                reason: "it exists and is not a directory".into(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fsutil::create_dir_with_mode(dir, mode).map_err(io_err("cannot create", dir))
            }
            Err(e) => Err(io_err("cannot read", dir)(e)),
        }
    }

    /// Take the run lock; a second run fails at once (exit 4) naming the holder.
    ///
    /// Holding the lock, it then removes what a killed run left half-written. Not earlier
    /// (in `prepare`): a run waiting for the lock would delete the temp files of the run
    /// holding it, mid-write.
    pub(crate) fn lock(&self) -> Result<StoreLock, crate::error::Error> {
        let lock = lock::StoreLock::acquire(&self.config_dir.join(".certwright.lock"))?;
        let removed = self.remove_stale_temps()?;
        if removed > 0 {
            tracing::info!("removed {removed} temp file(s) left by an interrupted run");
        }
        Ok(lock)
    }

    /// `lock` for a run that writes nothing into the config dir (`renew --dry-run`): works
    /// on a read-only config dir and leaves temp files to the next writing run.
    pub(crate) fn lock_read_only(&self) -> Result<StoreLock, crate::error::Error> {
        lock::StoreLock::acquire_read_only(&self.config_dir.join(".certwright.lock"))
    }

    pub(crate) fn live_dir(&self, name: &CertName) -> PathBuf {
        self.config_dir.join("live").join(name.as_str())
    }

    pub(crate) fn live_paths(&self, name: &CertName) -> LivePaths {
        let dir = self.live_dir(name);
        LivePaths {
            cert: dir.join("cert.pem"),
            chain: dir.join("chain.pem"),
            fullchain: dir.join("fullchain.pem"),
            privkey: dir.join("privkey.pem"),
        }
    }

    fn archive_dir(&self, name: &CertName) -> PathBuf {
        self.config_dir.join("archive").join(name.as_str())
    }

    /// The version `live/<name>` points at, checking the link stays inside our archive.
    pub(crate) fn current_version(&self, name: &CertName) -> Result<Option<u32>, StoreError> {
        let live = self.live_dir(name);
        let target = match fs::read_link(&live) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
                return Err(StoreError::Unsafe {
                    path: live,
                    reason: "it is not a symlink into the archive".into(),
                })
            }
            Err(e) => return Err(io_err("cannot read", &live)(e)),
        };
        let expected_prefix = Path::new("..").join("archive").join(name.as_str());
        let version = target
            .strip_prefix(&expected_prefix)
            .ok()
            .and_then(|rest| rest.to_str())
            .and_then(|v| v.parse::<u32>().ok());
        match version {
            Some(v) => Ok(Some(v)),
            None => Err(StoreError::Unsafe {
                path: live,
                reason: format!(
                    "it points at {}, outside the lineage's archive",
                    target.display()
                ),
            }),
        }
    }

    /// Highest complete version in the archive (a killed run may have left a higher
    /// temp dir, which does not count).
    fn highest_archived_version(&self, name: &CertName) -> Result<u32, StoreError> {
        let dir = self.archive_dir(name);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io_err("cannot read", &dir)(e)),
        };
        let mut highest = 0;
        for entry in entries.flatten() {
            if let Some(v) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            {
                highest = highest.max(v);
            }
        }
        Ok(highest)
    }

    /// Refuse a lineage whose `live/` or `archive/` entry was planted (a link out of the
    /// store, a file): checked before ordering, so the refusal costs no order. `write_version`
    /// checks again, at the moment it writes.
    pub(crate) fn check_lineage_paths(&self, name: &CertName) -> Result<(), StoreError> {
        self.current_version(name)?;
        let archive = self.archive_dir(name);
        match fs::symlink_metadata(&archive) {
            Ok(meta) if meta.file_type().is_symlink() => Err(StoreError::Unsafe {
                path: archive,
                reason: "it is a symlink; certwright only writes into real directories".into(),
            }),
            Ok(meta) if !meta.is_dir() => Err(StoreError::Unsafe {
                path: archive,
                reason: "it exists and is not a directory".into(),
            }),
            _ => Ok(()),
        }
    }

    /// Write a new version and point `live/<name>` at it. The version directory is built
    /// under a temp name and renamed into place, then the link is swapped by rename: a
    /// reader sees the old complete set or the new complete set, never a mix.
    pub(crate) fn write_version(
        &self,
        name: &CertName,
        files: &IssuedFiles,
    ) -> Result<u32, StoreError> {
        // A `live/<name>` that is not our link into the archive was planted or left by
        // something else: refuse before writing anything, rather than rename over it.
        self.current_version(name)?;
        let archive = self.archive_dir(name);
        self.ensure_real_dir(&archive, 0o700)?;
        self.remove_stale_version_temps(&archive)?;
        let version = self.highest_archived_version(name)? + 1;
        let final_dir = archive.join(version.to_string());
        let tmp_dir = archive.join(format!("{}{version}", fsutil::TEMP_PREFIX));
        fs::create_dir(&tmp_dir).map_err(io_err("cannot create", &tmp_dir))?;
        fs::set_permissions(&tmp_dir, fs::Permissions::from_mode(0o755))
            .map_err(io_err("cannot set permissions on", &tmp_dir))?;
        let result = (|| {
            for (file, contents, mode) in [
                ("cert.pem", &files.cert_pem, 0o644),
                ("chain.pem", &files.chain_pem, 0o644),
                ("fullchain.pem", &files.fullchain_pem, 0o644),
                ("privkey.pem", &files.privkey_pem, 0o600),
            ] {
                let path = tmp_dir.join(file);
                fsutil::write_atomic(&path, contents.as_bytes(), mode)
                    .map_err(io_err("cannot write", &path))?;
                match file {
                    "cert.pem" => crash_point("after-cert-write"),
                    "privkey.pem" => crash_point("after-key-write"),
                    _ => {}
                }
            }
            fs::rename(&tmp_dir, &final_dir).map_err(io_err("cannot rename", &tmp_dir))?;
            fsutil::sync_parent(&final_dir).map_err(io_err("cannot sync", &archive))
        })();
        crash_point("after-version-rename");
        if let Err(e) = result {
            let _ = fs::remove_dir_all(&tmp_dir);
            return Err(e);
        }
        self.point_live_at(name, version)?;
        Ok(version)
    }

    /// Swap `live/<name>` to `version` atomically.
    pub(crate) fn point_live_at(&self, name: &CertName, version: u32) -> Result<(), StoreError> {
        let live = self.live_dir(name);
        // Only our own link is replaced: not a directory, nor a link pointing elsewhere.
        self.current_version(name)?;
        let target = Path::new("..")
            .join("archive")
            .join(name.as_str())
            .join(version.to_string());
        fsutil::swap_symlink(&target, &live).map_err(io_err("cannot update", &live))
    }

    fn remove_stale_version_temps(&self, archive: &Path) -> Result<(), StoreError> {
        let Ok(entries) = fs::read_dir(archive) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(fsutil::TEMP_PREFIX)
            {
                let path = entry.path();
                fs::remove_dir_all(&path).map_err(io_err("cannot remove", &path))?;
            }
        }
        Ok(())
    }

    /// Read the current fullchain and private key, if the lineage has any.
    pub(crate) fn read_live(
        &self,
        name: &CertName,
    ) -> Result<Option<(Vec<u8>, String)>, StoreError> {
        if self.current_version(name)?.is_none() {
            return Ok(None);
        }
        let paths = self.live_paths(name);
        let fullchain = crate::safe::file::read(&paths.fullchain, Policy::STORE)
            .map_err(|e| StoreError::from_read(&paths.fullchain, e))?;
        let fullchain = match fullchain {
            Some(b) => b,
            None => return Ok(None),
        };
        let Some(key) = read_optional(&paths.privkey)? else {
            return Ok(None);
        };
        Ok(Some((fullchain, key)))
    }

    fn renewal_path(&self, name: &CertName) -> PathBuf {
        self.config_dir.join("renewal").join(format!("{name}.json"))
    }

    pub(crate) fn read_renewal(&self, name: &CertName) -> Result<Option<String>, StoreError> {
        let path = self.renewal_path(name);
        read_trusted(&path)
    }

    /// `read_renewal` without the owner check: only to learn which ports to bind as root
    /// before dropping to `--user` (whose files these then are); nothing else is acted on.
    pub(crate) fn read_renewal_for_ports(
        &self,
        name: &CertName,
    ) -> Result<Option<String>, StoreError> {
        let path = self.renewal_path(name);
        let not_followed = Policy {
            trusted: false,
            ..Policy::CONFIG
        };
        read_text(&path, not_followed)
    }

    pub(crate) fn write_renewal(&self, name: &CertName, json: &str) -> Result<(), StoreError> {
        let path = self.renewal_path(name);
        fsutil::write_atomic(&path, json.as_bytes(), 0o644).map_err(io_err("cannot write", &path))
    }

    pub(crate) fn renewal_file(&self, name: &CertName) -> PathBuf {
        self.renewal_path(name)
    }

    /// Every lineage with a renewal config, sorted. Files whose name is not a valid cert
    /// name are reported, not skipped silently.
    pub(crate) fn list_lineages(&self) -> Result<(Vec<CertName>, Vec<PathBuf>), StoreError> {
        let dir = self.config_dir.join("renewal");
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((vec![], vec![])),
            Err(e) => return Err(io_err("cannot read", &dir)(e)),
        };
        let mut names = Vec::new();
        let mut odd = Vec::new();
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.starts_with(fsutil::TEMP_PREFIX) {
                continue;
            }
            match file.strip_suffix(".json").map(str::parse::<CertName>) {
                Some(Ok(name)) => names.push(name),
                _ => odd.push(entry.path()),
            }
        }
        names.sort();
        Ok((names, odd))
    }

    /// Per-lineage renewal bookkeeping (ARI state, failures), kept in the work dir.
    pub(crate) fn read_state(&self, name: &CertName) -> Result<Option<String>, StoreError> {
        let path = self.work_dir.join("state").join(format!("{name}.json"));
        read_trusted(&path)
    }

    pub(crate) fn write_state(&self, name: &CertName, json: &str) -> Result<(), StoreError> {
        let path = self.work_dir.join("state").join(format!("{name}.json"));
        fsutil::write_atomic(&path, json.as_bytes(), 0o600).map_err(io_err("cannot write", &path))
    }

    /// A file of certwright's own directly in the work dir (`name` is one of our constants).
    pub(crate) fn read_work_file(&self, name: &str) -> Result<Option<String>, StoreError> {
        let path = self.work_dir.join(name);
        read_trusted(&path)
    }

    /// A bookkeeping file in the work dir as JSON; `None` when missing or unreadable (for
    /// caches: losing one only costs a request or a re-check).
    pub(crate) fn read_work_json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Option<T> {
        self.load_work_json(name).ok().flatten()
    }

    /// A bookkeeping file in the work dir as JSON: `None` when missing, an error naming the
    /// file when it cannot be read or parsed.
    pub(crate) fn load_work_json<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, StoreError> {
        let Some(text) = self.read_work_file(name)? else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                path: self.work_dir.join(name),
                reason: e.to_string(),
            })
    }

    /// Write a bookkeeping file in the work dir as pretty JSON, atomically (0600: alert
    /// state carries the CA's error texts).
    pub(crate) fn write_work_json<T: serde::Serialize>(
        &self,
        name: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let path = self.work_dir.join(name);
        let json = serde_json::to_vec_pretty(value).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        fsutil::write_atomic(&path, &json, 0o600).map_err(io_err("cannot write", &path))
    }

    fn account_server_dir(&self, server_dir: &str) -> PathBuf {
        self.config_dir.join("accounts").join(server_dir)
    }

    fn account_file(&self, account: &AccountRef, file: &str) -> PathBuf {
        self.account_dir(account).join(file)
    }

    /// The first stored account for a server, with its credentials JSON.
    pub(crate) fn find_account(
        &self,
        server_dir: &str,
    ) -> Result<Option<(AccountRef, String)>, StoreError> {
        let dir = self.account_server_dir(server_dir);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err("cannot read", &dir)(e)),
        };
        let mut ids: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        ids.sort();
        for id in ids {
            // A directory certwright did not name is not an account of its own.
            let Ok(account) = AccountRef::new(server_dir, &id) else {
                continue;
            };
            if let Some(json) = read_optional(&self.account_file(&account, "credentials.json"))? {
                return Ok(Some((account, json)));
            }
        }
        Ok(None)
    }

    pub(crate) fn read_account(&self, account: &AccountRef) -> Result<Option<String>, StoreError> {
        read_optional(&self.account_file(account, "credentials.json"))
    }

    /// Store account credentials (0600 in a 0700 dir) and public metadata beside them.
    pub(crate) fn save_account(
        &self,
        account: &AccountRef,
        credentials_json: &str,
        meta_json: &str,
    ) -> Result<(), StoreError> {
        self.ensure_real_dir(&self.account_server_dir(&account.server_dir), 0o700)?;
        self.ensure_real_dir(&self.account_dir(account), 0o700)?;
        self.write_account_credentials(account, credentials_json)?;
        self.write_account_meta(account, meta_json)
    }

    /// The account's public metadata (`meta.json`), if stored.
    pub(crate) fn read_account_meta(
        &self,
        account: &AccountRef,
    ) -> Result<Option<String>, StoreError> {
        read_optional(&self.account_file(account, "meta.json"))
    }

    /// Replace an account's credentials (after a key rollover), atomically.
    pub(crate) fn write_account_credentials(
        &self,
        account: &AccountRef,
        credentials_json: &str,
    ) -> Result<(), StoreError> {
        let path = self.account_file(account, "credentials.json");
        fsutil::write_atomic(&path, credentials_json.as_bytes(), 0o600)
            .map_err(io_err("cannot write", &path))
    }

    /// Replace an account's `meta.json`, atomically.
    pub(crate) fn write_account_meta(
        &self,
        account: &AccountRef,
        meta_json: &str,
    ) -> Result<(), StoreError> {
        let path = self.account_file(account, "meta.json");
        fsutil::write_atomic(&path, meta_json.as_bytes(), 0o600)
            .map_err(io_err("cannot write", &path))
    }

    /// The account's directory (for messages).
    pub(crate) fn account_dir(&self, account: &AccountRef) -> PathBuf {
        self.account_server_dir(&account.server_dir)
            .join(account.id.as_str())
    }

    /// Remove an account's directory (credentials and metadata).
    pub(crate) fn remove_account(&self, account: &AccountRef) -> Result<(), StoreError> {
        let dir = self.account_dir(account);
        remove_tree(&dir)?;
        fsutil::sync_parent(&dir).map_err(io_err("cannot sync", &dir))
    }

    /// Move an account the CA no longer knows out of the way, keeping its key: a CA that
    /// lost its state (or a mistaken answer) must not cost a key. Dot-prefixed names are
    /// never picked as an account.
    pub(crate) fn retire_account(&self, account: &AccountRef) -> Result<PathBuf, StoreError> {
        let dir = self.account_dir(account);
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let retired = self
            .account_server_dir(&account.server_dir)
            .join(format!(".retired-{}-{stamp}", account.id));
        fs::rename(&dir, &retired).map_err(io_err("cannot move aside", &dir))?;
        fsutil::sync_parent(&dir).map_err(io_err("cannot sync", &dir))?;
        Ok(retired)
    }

    /// Every file of a lineage a server config could name: the four `live/` paths and each
    /// file under `archive/<name>/`.
    pub(crate) fn lineage_files(&self, name: &CertName) -> Result<Vec<PathBuf>, StoreError> {
        let paths = self.live_paths(name);
        let mut files = vec![paths.cert, paths.chain, paths.fullchain, paths.privkey];
        let archive = self.archive_dir(name);
        let versions = match fs::read_dir(&archive) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(files),
            Err(e) => return Err(io_err("cannot read", &archive)(e)),
        };
        for version in versions.flatten() {
            let dir = version.path();
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            files.extend(entries.flatten().map(|e| e.path()));
        }
        files.sort();
        Ok(files)
    }

    /// Remove archived versions newer than `keep` (a fleet write the shared store refused;
    /// `live/` already points back at `keep`).
    pub(crate) fn discard_versions_after(
        &self,
        name: &CertName,
        keep: u32,
    ) -> Result<(), StoreError> {
        let archive = self.archive_dir(name);
        let Ok(entries) = fs::read_dir(&archive) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let newer = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|v| v > keep);
            if newer {
                remove_tree(&entry.path())?;
            }
        }
        fsutil::sync_parent(&archive.join("x")).map_err(io_err("cannot sync", &archive))
    }

    /// Whether anything of the lineage exists on disk.
    pub(crate) fn lineage_exists(&self, name: &CertName) -> bool {
        let state = self.work_dir.join("state").join(format!("{name}.json"));
        [
            self.renewal_path(name),
            self.live_dir(name),
            self.archive_dir(name),
            state,
        ]
        .iter()
        .any(|p| fs::symlink_metadata(p).is_ok())
    }

    /// Remove a lineage: renewal config first (so nothing renews it any more), then the
    /// `live/` link, the archive and the renewal state. Returns what was removed.
    pub(crate) fn delete_lineage(&self, name: &CertName) -> Result<Vec<PathBuf>, StoreError> {
        let mut removed = Vec::new();
        let state = self.work_dir.join("state").join(format!("{name}.json"));
        for path in [
            self.renewal_path(name),
            self.live_dir(name),
            self.archive_dir(name),
            state,
        ] {
            if fs::symlink_metadata(&path).is_err() {
                continue;
            }
            remove_tree(&path)?;
            fsutil::sync_parent(&path).map_err(io_err("cannot sync", &path))?;
            removed.push(path);
        }
        Ok(removed)
    }
}

/// Remove a file, a symlink (never its target) or a directory tree; absent is fine.
fn remove_tree(path: &Path) -> Result<(), StoreError> {
    let result = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
    };
    result.map_err(io_err("cannot remove", path))
}

/// A file's text, or None when it does not exist (any other error is reported). Symlinks
/// are followed (`live/` is made of them); the file must still be one only we could write.
fn read_optional(path: &Path) -> Result<Option<String>, StoreError> {
    read_text(path, Policy::STORE)
}

/// For a file whose contents decide what certwright runs or writes as root: refused
/// (exit 3, naming the file and why) if another user could have written it.
fn read_trusted(path: &Path) -> Result<Option<String>, StoreError> {
    read_text(path, Policy::CONFIG)
}

fn read_text(path: &Path, policy: Policy) -> Result<Option<String>, StoreError> {
    crate::safe::file::read_text(path, policy).map_err(|e| StoreError::from_read(path, e))
}

/// One stored account, `accounts/<server dir>/<id>/`: both parts are one plain path
/// component, checked when the pair is made, so no account path leaves `accounts/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountRef {
    server_dir: String,
    id: AccountId,
}

impl AccountRef {
    pub(crate) fn new(server_dir: &str, id: &str) -> Result<AccountRef, StoreError> {
        let plain_dir = !server_dir.is_empty()
            && !server_dir.starts_with('.')
            && !server_dir.contains(['/', '\0']);
        let refused = || {
            StoreError::Other(format!(
                "account {server_dir:?}/{id:?} is not a plain name; refused"
            ))
        };
        if !plain_dir {
            return Err(refused());
        }
        Ok(AccountRef {
            server_dir: server_dir.to_string(),
            id: AccountId::new(id).map_err(|_| refused())?,
        })
    }

    pub(crate) fn id(&self) -> &AccountId {
        &self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_refs_are_plain_names_only() {
        assert!(AccountRef::new("acme-v02.api.letsencrypt.org-directory", "12345").is_ok());
        for (dir, id) in [
            ("ca", "../x"),
            ("ca", "a/b"),
            ("ca", ".retired-1"),
            ("ca", ""),
            ("../ca", "1"),
            ("ca/x", "1"),
            ("", "1"),
        ] {
            assert!(AccountRef::new(dir, id).is_err(), "{dir:?}/{id:?}");
        }
    }

    fn files(tag: &str) -> IssuedFiles {
        IssuedFiles {
            cert_pem: format!("cert {tag}"),
            chain_pem: format!("chain {tag}"),
            fullchain_pem: format!("fullchain {tag}"),
            privkey_pem: format!("key {tag}"),
        }
    }

    #[test]
    fn stale_temps_go_finished_versions_are_not_entered() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(&dir.path().join("c"), &dir.path().join("w"));
        store.prepare().unwrap();
        let name: CertName = "example.com".parse().unwrap();
        store.write_version(&name, &files("1")).unwrap();
        let archive = store.archive_dir(&name);
        let temp = |n: &str| format!("{}{n}", fsutil::TEMP_PREFIX);
        let half_version = archive.join(temp("2"));
        fs::create_dir(&half_version).unwrap();
        fs::write(half_version.join("cert.pem"), "half").unwrap();
        let half_config = store.config_dir().join("renewal").join(temp("x.json"));
        fs::write(&half_config, "{").unwrap();
        let half_state = store.work_dir().join(temp("alerts.json"));
        fs::write(&half_state, "{").unwrap();
        assert_eq!(store.remove_stale_temps().unwrap(), 3);
        assert!(!half_version.exists() && !half_config.exists() && !half_state.exists());
        assert_eq!(store.read_live(&name).unwrap().unwrap().1, "key 1");
    }

    #[test]
    fn versions_and_live_pointer() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(&dir.path().join("c"), &dir.path().join("w"));
        store.prepare().unwrap();
        let name: CertName = "example.com".parse().unwrap();
        assert_eq!(store.current_version(&name).unwrap(), None);
        assert_eq!(store.write_version(&name, &files("1")).unwrap(), 1);
        assert_eq!(store.write_version(&name, &files("2")).unwrap(), 2);
        assert_eq!(store.current_version(&name).unwrap(), Some(2));
        let (fc, key) = store.read_live(&name).unwrap().unwrap();
        assert_eq!(fc, b"fullchain 2");
        assert_eq!(key, "key 2");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&store.live_paths(&name).privkey), 0o600);
        assert_eq!(mode(&dir.path().join("c/archive")), 0o700);
        assert_eq!(mode(&dir.path().join("c/accounts")), 0o700);
    }

    #[test]
    fn a_live_link_pointing_outside_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(&dir.path().join("c"), &dir.path().join("w"));
        store.prepare().unwrap();
        let name: CertName = "example.com".parse().unwrap();
        std::os::unix::fs::symlink("/etc", store.live_dir(&name)).unwrap();
        assert!(matches!(
            store.current_version(&name),
            Err(StoreError::Unsafe { .. })
        ));
    }

    #[test]
    fn a_planted_live_symlink_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let store = Store::new(&dir.path().join("c"), &dir.path().join("w"));
        store.prepare().unwrap();
        let name: CertName = "example.com".parse().unwrap();
        std::os::unix::fs::symlink(outside.path(), store.live_dir(&name)).unwrap();
        assert!(matches!(
            store.write_version(&name, &files("1")),
            Err(StoreError::Unsafe { .. })
        ));
        assert_eq!(
            fs::read_link(store.live_dir(&name)).unwrap(),
            outside.path()
        );
        assert!(!dir.path().join("c/archive/example.com").exists());
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn an_unwritable_store_fails_prepare() {
        // Root ignores mode bits, so a read-only dir cannot be made here portably; a
        // regular file where the config dir should be is refused the same way (exit 3).
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("c"), b"").unwrap();
        let store = Store::new(&dir.path().join("c"), &dir.path().join("w"));
        assert!(matches!(store.prepare(), Err(StoreError::Unsafe { .. })));
    }

    #[test]
    fn a_planted_archive_symlink_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let store = Store::new(&dir.path().join("c"), &dir.path().join("w"));
        store.prepare().unwrap();
        let name: CertName = "example.com".parse().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("c/archive/example.com"))
            .unwrap();
        assert!(matches!(
            store.write_version(&name, &files("1")),
            Err(StoreError::Unsafe { .. })
        ));
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn the_lock_removes_what_a_killed_run_left() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(&dir.path().join("c"), &dir.path().join("w"));
        store.prepare().unwrap();
        let name: CertName = "example.com".parse().unwrap();
        store.write_version(&name, &files("1")).unwrap();
        let c = dir.path().join("c");
        let tmp_version = c.join(format!("archive/example.com/{}2", fsutil::TEMP_PREFIX));
        fs::create_dir(&tmp_version).unwrap();
        fs::write(tmp_version.join("cert.pem"), b"half").unwrap();
        let tmp_link = c.join(format!("live/{}1-0-example.com", fsutil::TEMP_PREFIX));
        std::os::unix::fs::symlink("../archive/example.com/2", &tmp_link).unwrap();
        let tmp_file = dir
            .path()
            .join(format!("w/state/{}1-1-x.json", fsutil::TEMP_PREFIX));
        fs::write(&tmp_file, b"{").unwrap();
        let _lock = store.lock().unwrap();
        assert!(!tmp_version.exists());
        assert!(fs::symlink_metadata(&tmp_link).is_err());
        assert!(!tmp_file.exists());
        assert_eq!(store.current_version(&name).unwrap(), Some(1));
        assert!(store.live_paths(&name).privkey.is_file());
    }

    #[test]
    fn account_ids() {
        assert_eq!(AccountId::from_url("https://x/my-account/7a3f"), "7a3f");
        assert_eq!(AccountId::from_url("https://x/acct/../"), "account");
    }
}
