//! Applying edits as a transaction with on-disk checkpoints, and rolling them back.
//!
//! A checkpoint directory `<root>/<UTC timestamp>-<seq>/` holds `manifest.json` and the
//! original bytes of each touched file (`<i>.orig`). It is written and synced before the
//! first config file is touched, so a crash mid-apply can still be rolled back.
//!
//! While an apply is under way the directory also holds `in-progress`, removed only once
//! every file is written and `nginx -t` passed. A run killed in between leaves it behind:
//! the next `apply` or `rollback` first puts back every file that run had written (and
//! only those), so the config is never left half-patched.
//!
//! The checkpoint root sits in the work dir, which a `--user` service account may own, so
//! nothing read back from it is trusted for more than it must be: every state file must be
//! ours (or root's) and not writable by group or others, a target must be a file of the
//! nginx configuration being changed, and owner and mode come from the live file, never
//! from the manifest.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{chown, DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{encode, Ctl, FileEdit};
use crate::error::NginxError;
use crate::fsutil::{create_dir_with_mode, sync_parent, write_atomic};

const MANIFEST: &str = "manifest.json";
const IN_PROGRESS: &str = "in-progress";
/// A manifest names a handful of files; anything this large is not one of ours.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// A completed, tested change that [`rollback`] can undo.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
}

/// What [`rollback`] restored; empty means there was nothing to roll back.
#[derive(Debug, Clone, Default)]
pub struct RollbackReport {
    /// Checkpoint directories undone, newest first.
    pub checkpoints: Vec<PathBuf>,
    pub files: Vec<PathBuf>,
}

impl std::fmt::Display for RollbackReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.checkpoints.is_empty() {
            return write!(f, "nothing to roll back");
        }
        write!(f, "rolled back {} change(s):", self.checkpoints.len())?;
        for file in &self.files {
            write!(f, "\n  restored {}", file.display())?;
        }
        Ok(())
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    created: String,
    files: Vec<FileRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileRecord {
    path: PathBuf,
    existed: bool,
    original_sha256: Option<String>,
    /// File name of the original bytes inside the checkpoint directory.
    backup: Option<String>,
    /// As found when applying; informative only: restores take them from the live file.
    mode: u32,
    uid: u32,
    gid: u32,
    written_sha256: String,
}

/// Test, back up, write, test again; restore everything if the second test fails.
/// Does not reload: call [`Ctl::reload`] after a successful apply. With no edits nothing is
/// written and no checkpoint is made (the returned one has no files and `dir` = the root),
/// so an idempotent re-install leaves nothing for `rollback` to count.
pub fn apply(
    edits: &[FileEdit],
    checkpoint_root: &Path,
    ctl: &Ctl,
) -> Result<Checkpoint, NginxError> {
    // Before the test: a half-applied change may be what makes it fail.
    let recovered = recover_interrupted(checkpoint_root, &ctl.conf)?;
    if !recovered.is_empty() {
        tracing::warn!(
            "restored {} file(s) an interrupted run had half-patched",
            recovered.len()
        );
    }
    ctl.test().map_err(|e| with_when(e, "before any change"))?;
    if edits.is_empty() {
        return Ok(Checkpoint {
            dir: checkpoint_root.to_path_buf(),
            files: Vec::new(),
        });
    }
    let (records, originals) = records_for(edits)?;
    let dir = new_checkpoint_dir(checkpoint_root)?;
    for (record, original) in records.iter().zip(&originals) {
        if let Some(name) = &record.backup {
            let p = dir.join(name);
            write_atomic(&p, original, 0o600).map_err(io_err("back up to", &p))?;
        }
    }
    let manifest = Manifest {
        created: now_stamp(),
        files: records,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| NginxError::Other(format!("cannot encode checkpoint manifest: {e}")))?;
    let mpath = dir.join(MANIFEST);
    write_atomic(&mpath, &json, 0o600).map_err(io_err("write", &mpath))?;

    for (i, (record, edit)) in manifest.files.iter().zip(edits).enumerate() {
        if i == 1 {
            crate::crash::crash_point("nginx-mid-apply");
        }
        if let Err(e) = write_file(&record.path, &encode(&edit.after), record) {
            // Report the write failure; a restore failure too would be logged by the caller's
            // `nginx -t` anyway, and the checkpoint is kept so `rollback` can retry.
            if restore_all(&manifest.files[..=i], &originals).is_ok() {
                let _ = fs::remove_dir_all(&dir);
            }
            return Err(e);
        }
    }
    if let Err(e) = ctl.test() {
        // Keep the checkpoint when a restore fails, so `rollback` can finish the job.
        restore_all(&manifest.files, &originals)?;
        let _ = fs::remove_dir_all(&dir);
        return Err(with_when(e, "after the change (restored)"));
    }
    let marker = dir.join(IN_PROGRESS);
    fs::remove_file(&marker).map_err(io_err("remove", &marker))?;
    sync_parent(&marker).map_err(io_err("sync", &dir))?;
    Ok(Checkpoint {
        dir,
        files: manifest.files.iter().map(|r| r.path.clone()).collect(),
    })
}

/// What each edit will change, from the live files: their records and original bytes. A
/// file that is no longer what the edit was planned against is refused.
fn records_for(edits: &[FileEdit]) -> Result<(Vec<FileRecord>, Vec<Vec<u8>>), NginxError> {
    let mut records = Vec::new();
    let mut originals = Vec::new();
    for (i, edit) in edits.iter().enumerate() {
        // Write the real file so a sites-enabled symlink stays a symlink.
        let path = fs::canonicalize(&edit.path).unwrap_or_else(|_| edit.path.clone());
        let (existed, current, mode, uid, gid) = match fs::symlink_metadata(&path) {
            Ok(meta) => {
                let bytes = fs::read(&path).map_err(io_err("read", &path))?;
                (true, bytes, meta.mode() & 0o7777, meta.uid(), meta.gid())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => (false, Vec::new(), 0o644, 0, 0),
            Err(e) => return Err(io_err("inspect", &path)(e)),
        };
        if current != encode(&edit.before) {
            return Err(NginxError::ChangedSinceWrite {
                path,
                reason: "the file changed after the edit was planned; plan again".into(),
            });
        }
        records.push(FileRecord {
            path,
            existed,
            original_sha256: existed.then(|| sha256_hex(&current)),
            backup: existed.then(|| format!("{i}.orig")),
            mode,
            uid,
            gid,
            written_sha256: sha256_hex(&encode(&edit.after)),
        });
        originals.push(current);
    }
    Ok((records, originals))
}

/// Undo the last `n` checkpoints, newest first. A checkpoint with a file whose content is
/// no longer what we wrote is left untouched and reported as `ChangedSinceWrite`.
///
/// A change an interrupted run left half-applied is undone first and counts as one.
/// `conf` is nginx's main file: only files of its configuration are restored.
pub fn rollback(
    checkpoint_root: &Path,
    conf: &Path,
    n: usize,
) -> Result<RollbackReport, NginxError> {
    let mut report = RollbackReport::default();
    for (dir, files) in recover_interrupted(checkpoint_root, conf)? {
        report.files.extend(files);
        report.checkpoints.push(dir);
    }
    let n = n.saturating_sub(report.checkpoints.len());
    let mut dirs = list_checkpoints(checkpoint_root)?;
    dirs.reverse();
    let mut targets = Targets::new(conf);
    for (_, dir) in dirs.into_iter().take(n) {
        let manifest = read_manifest(&dir, &mut targets)?;
        let mut originals = Vec::new();
        for record in &manifest.files {
            let current = fs::read(&record.path);
            let ok = matches!(&current, Ok(bytes) if sha256_hex(bytes) == record.written_sha256);
            if !ok {
                return Err(NginxError::ChangedSinceWrite {
                    path: record.path.clone(),
                    reason: format!(
                        "its content differs from what checkpoint {} wrote",
                        dir.display()
                    ),
                });
            }
            let original = match &record.backup {
                Some(name) => read_backup(&dir, name, record)?,
                None => Vec::new(),
            };
            originals.push(original);
        }
        restore_all(&manifest.files, &originals)?;
        fs::remove_dir_all(&dir).map_err(io_err("remove", &dir))?;
        report
            .files
            .extend(manifest.files.iter().map(|r| r.path.clone()));
        report.checkpoints.push(dir);
    }
    Ok(report)
}

/// Undo what an interrupted [`apply`] left half-done; returns the files put back. Call it
/// before planning edits: a plan made against a half-patched config would build on it.
pub fn recover(checkpoint_root: &Path, conf: &Path) -> Result<Vec<PathBuf>, NginxError> {
    Ok(recover_interrupted(checkpoint_root, conf)?
        .into_iter()
        .flat_map(|(_, files)| files)
        .collect())
}

/// Whether a killed run left an apply `in-progress` (which `recover` undoes), without
/// touching anything: for dry runs.
pub fn interrupted_pending(root: &Path) -> bool {
    fs::read_dir(root)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().join(IN_PROGRESS).is_file())
        })
        .unwrap_or(false)
}

/// Undo every apply a killed run left `in-progress`: each file it had already written is
/// put back; files it had not reached yet are left as they are. A file that is neither
/// what the run wrote nor the original was edited by someone since: refused, untouched.
/// Returns each recovered checkpoint with the files restored.
fn recover_interrupted(
    root: &Path,
    conf: &Path,
) -> Result<Vec<(PathBuf, Vec<PathBuf>)>, NginxError> {
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("list", root)(e)),
    };
    let mut interrupted: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(IN_PROGRESS).is_file())
        .collect();
    interrupted.sort();
    let mut recovered = Vec::new();
    let mut targets = Targets::new(conf);
    for dir in interrupted.into_iter().rev() {
        // Killed before the manifest: no config file was touched yet.
        if !dir.join(MANIFEST).exists() {
            trusted_dir(&dir)?;
            fs::remove_dir_all(&dir).map_err(io_err("remove", &dir))?;
            continue;
        }
        let manifest = read_manifest(&dir, &mut targets)?;
        let mut to_restore = Vec::new();
        let mut originals = Vec::new();
        for record in &manifest.files {
            let current = match fs::read(&record.path) {
                Ok(bytes) => Some(sha256_hex(&bytes)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(io_err("read", &record.path)(e)),
            };
            if current.as_deref() == Some(record.written_sha256.as_str()) {
                let original = match &record.backup {
                    Some(name) => read_backup(&dir, name, record)?,
                    None => Vec::new(),
                };
                to_restore.push(record.clone());
                originals.push(original);
            } else if current != record.original_sha256 {
                return Err(NginxError::ChangedSinceWrite {
                    path: record.path.clone(),
                    reason: format!(
                        "an interrupted change ({}) is to be undone, but the file is neither                          what it wrote nor the original",
                        dir.display()
                    ),
                });
            }
        }
        restore_all(&to_restore, &originals)?;
        fs::remove_dir_all(&dir).map_err(io_err("remove", &dir))?;
        recovered.push((dir, to_restore.into_iter().map(|r| r.path).collect()));
    }
    Ok(recovered)
}

/// The original bytes saved in a checkpoint, checked against the manifest's checksum.
fn read_backup(dir: &Path, name: &str, record: &FileRecord) -> Result<Vec<u8>, NginxError> {
    if name.contains('/') || name.starts_with('.') {
        return Err(untrusted(
            &dir.join(MANIFEST),
            "a backup name is not a plain file name",
        ));
    }
    let p = dir.join(name);
    let bytes = read_trusted(&p, super::MAX_CONFIG_BYTES)?;
    if record.original_sha256.as_deref() != Some(&sha256_hex(&bytes)) {
        return Err(NginxError::Other(format!(
            "{}: backup does not match its recorded checksum",
            p.display()
        )));
    }
    Ok(bytes)
}

fn with_when(e: NginxError, when: &'static str) -> NginxError {
    match e {
        NginxError::ConfigTest { output, .. } => NginxError::ConfigTest { when, output },
        other => other,
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> NginxError {
    let path = path.to_path_buf();
    move |source| NginxError::Io {
        action,
        path,
        source,
    }
}

/// Atomic write keeping the original mode and owner.
fn write_file(path: &Path, bytes: &[u8], record: &FileRecord) -> Result<(), NginxError> {
    write_atomic(path, bytes, record.mode).map_err(io_err("write", path))?;
    if record.existed {
        chown(path, Some(record.uid), Some(record.gid)).map_err(io_err("chown", path))?;
    }
    Ok(())
}

/// Put every file back (or delete files we created); tries all, returns the first error.
fn restore_all(records: &[FileRecord], originals: &[Vec<u8>]) -> Result<(), NginxError> {
    let mut first_err = None;
    for (record, original) in records.iter().zip(originals) {
        let result = if record.existed {
            live_record(record).and_then(|live| write_file(&record.path, original, &live))
        } else {
            match fs::remove_file(&record.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    Err(io_err("remove", &record.path)(e))
                }
                _ => Ok(()),
            }
        };
        if let Err(e) = result {
            first_err.get_or_insert(e);
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// `record` with the owner and mode the live file has now: what a checkpoint says about
/// them is not trusted, and the file we wrote kept the original's.
fn live_record(record: &FileRecord) -> Result<FileRecord, NginxError> {
    let meta = fs::symlink_metadata(&record.path).map_err(io_err("inspect", &record.path))?;
    if !meta.is_file() {
        return Err(untrusted(&record.path, "not a regular file any more"));
    }
    Ok(FileRecord {
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        ..record.clone()
    })
}

/// The files a checkpoint may restore: those of the nginx configuration `conf` loads
/// (real paths), or, when it cannot be loaded, files below its directory. Found lazily:
/// most runs have nothing to restore.
struct Targets<'a> {
    conf: &'a Path,
    allowed: Option<(HashSet<PathBuf>, Option<PathBuf>)>,
}

impl<'a> Targets<'a> {
    fn new(conf: &'a Path) -> Targets<'a> {
        Targets {
            conf,
            allowed: None,
        }
    }

    fn check(&mut self, manifest: &Path, target: &Path) -> Result<(), NginxError> {
        let conf = self.conf;
        let (files, dir) = self.allowed.get_or_insert_with(|| {
            let files = super::load(conf)
                .map(|c| c.files.into_iter().map(|f| f.real_path).collect())
                .unwrap_or_default();
            let dir = conf.parent().and_then(|d| fs::canonicalize(d).ok());
            (files, dir)
        });
        let below_dir = files.is_empty() && dir.as_ref().is_some_and(|d| target.starts_with(d));
        let plain = target.is_absolute()
            && !target
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir));
        if plain && (files.contains(target) || below_dir) {
            return Ok(());
        }
        Err(untrusted(
            manifest,
            format!(
                "it names {}, which is not a file of the nginx configuration {}",
                target.display(),
                conf.display()
            ),
        ))
    }
}

/// A checkpoint's manifest, read only if the directory and file are trusted, with every
/// target checked against the nginx configuration.
fn read_manifest(dir: &Path, targets: &mut Targets<'_>) -> Result<Manifest, NginxError> {
    trusted_dir(dir)?;
    let mpath = dir.join(MANIFEST);
    let json = read_trusted(&mpath, MAX_MANIFEST_BYTES)?;
    let manifest: Manifest = serde_json::from_slice(&json)
        .map_err(|e| NginxError::Other(format!("{}: corrupt manifest: {e}", mpath.display())))?;
    for record in &manifest.files {
        targets.check(&mpath, &record.path)?;
    }
    Ok(manifest)
}

fn untrusted(path: &Path, reason: impl Into<String>) -> NginxError {
    NginxError::UntrustedState {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// State another user could have written is refused: owner us or root, no group or other
/// write bit.
fn check_owner_and_mode(path: &Path, meta: &fs::Metadata) -> Result<(), NginxError> {
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me && meta.uid() != 0 {
        return Err(untrusted(
            path,
            format!("it is owned by uid {}, not by uid {me} or root", meta.uid()),
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(untrusted(
            path,
            format!(
                "group or others may write it (mode {:o})",
                meta.mode() & 0o7777
            ),
        ));
    }
    Ok(())
}

fn trusted_dir(dir: &Path) -> Result<(), NginxError> {
    let meta = fs::symlink_metadata(dir).map_err(io_err("inspect", dir))?;
    if !meta.is_dir() {
        return Err(untrusted(dir, "not a directory (a symlink?)"));
    }
    check_owner_and_mode(dir, &meta)
}

/// Read a state file without following a symlink, checked after opening (no race between
/// check and read), at most `limit` bytes.
fn read_trusted(path: &Path, limit: u64) -> Result<Vec<u8>, NginxError> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(code) if code == rustix::io::Errno::LOOP.raw_os_error() => {
                untrusted(path, "it is a symlink")
            }
            _ => io_err("read", path)(e),
        })?;
    let meta = file.metadata().map_err(io_err("inspect", path))?;
    if !meta.is_file() {
        return Err(untrusted(path, "not a regular file"));
    }
    check_owner_and_mode(path, &meta)?;
    if meta.len() > limit {
        return Err(untrusted(path, format!("larger than {limit} bytes")));
    }
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(io_err("read", path))?;
    Ok(bytes)
}

/// Checkpoint directories sorted by sequence number (the suffix after the last `-`).
fn list_checkpoints(root: &Path) -> Result<Vec<(u64, PathBuf)>, NginxError> {
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("list", root)(e)),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_err("list", root))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let seq = name
            .rsplit_once('-')
            .and_then(|(_, s)| s.parse::<u64>().ok());
        if let Some(seq) = seq {
            let path = entry.path();
            if path.join(MANIFEST).is_file() && !path.join(IN_PROGRESS).exists() {
                dirs.push((seq, path));
            }
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// A new checkpoint directory, mode 0700. Neither it nor the root may be a symlink someone
/// planted (the root sits in a work dir another user may own): nothing is chmodded through one.
fn new_checkpoint_dir(root: &Path) -> Result<PathBuf, NginxError> {
    match fs::symlink_metadata(root) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(untrusted(root, "not a directory (a symlink?)")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            create_dir_with_mode(root, 0o700).map_err(io_err("create", root))?
        }
        Err(e) => return Err(io_err("inspect", root)(e)),
    }
    let next = list_checkpoints(root)?.last().map_or(1, |(s, _)| s + 1);
    let dir = root.join(format!("{}-{next:06}", now_stamp()));
    // Fails if anything (a symlink included) already has the name; umask only narrows 0700.
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(io_err("create", &dir))?;
    let marker = dir.join(IN_PROGRESS);
    write_atomic(&marker, b"", 0o600).map_err(io_err("write", &marker))?;
    Ok(dir)
}

fn now_stamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
