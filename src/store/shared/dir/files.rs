//! The store directory's file primitives: checks, temp names, lock files and tokens.

use std::fs::{self, File, OpenOptions};
use std::io::{self};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::fsutil;

use super::*;

pub(super) fn check_root(root: &Path) -> Result<(), String> {
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
pub(super) fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 240
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// A temp name beside `path`, random: two hosts can have the same pid and counter.
pub(super) fn temp_beside(path: &Path) -> PathBuf {
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

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(super) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Open (creating) a lock file; never truncated here, since its holder's token is in it.
pub(super) fn open_lock_file(path: &Path) -> io::Result<File> {
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
pub(super) fn same_file(file: &File, path: &Path) -> io::Result<bool> {
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
pub(super) fn read_token(file: &File) -> io::Result<String> {
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

pub(super) fn write_token(file: &File, token: &str) -> io::Result<()> {
    file.set_len(0)?;
    file.write_all_at(token.as_bytes(), 0)?;
    // Flushed, so another NFS client opening the file reads it for its `HeldBy`.
    file.sync_all()
}

/// Remove temp files a crashed writer left in `dir` (old ones only: a recent one may be
/// another node's write in flight).
pub(super) fn sweep_stale_temps(dir: &Path) {
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
