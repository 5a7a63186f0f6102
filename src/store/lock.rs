//! The run lock: `flock` on a file in the config dir. The kernel drops it when the holder
//! dies (even by `kill -9`), so a stale lock never blocks the next run.
//!
//! Nothing is written into the file: the holder's pid comes from the kernel's own record
//! (`/proc/locks`), so a run that changes nothing leaves the config dir byte-identical and a
//! read-only config dir can still be locked (a shared-nothing `--dry-run` check).

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use rustix::fs::{flock, FlockOperation};

use crate::error::{Error, StoreError};

/// Held for the whole run; released on drop.
#[derive(Debug)]
pub(crate) struct StoreLock {
    _file: Option<File>,
}

impl StoreLock {
    pub(super) fn acquire(path: &Path) -> Result<Self, Error> {
        Self::acquire_with(path, false)
    }

    /// `wait`: block until the holder finishes instead of failing with exit 4.
    pub(crate) fn acquire_with(path: &Path, wait: bool) -> Result<Self, Error> {
        let file = open(path).map_err(|source| StoreError::Io {
            action: "cannot open lock file",
            path: path.to_path_buf(),
            source,
        })?;
        Self::lock_file(path, file, wait)
    }

    /// For runs that write nothing into the config dir (`renew --dry-run`): a read-only
    /// config dir without a lock file is run unlocked, since no run could write there either.
    pub(super) fn acquire_read_only(path: &Path) -> Result<Self, Error> {
        match open(path) {
            Err(e) if read_only(&e) => Ok(Self { _file: None }),
            Err(source) => Err(StoreError::Io {
                action: "cannot open lock file",
                path: path.to_path_buf(),
                source,
            }
            .into()),
            Ok(file) => Self::lock_file(path, file, false),
        }
    }

    fn lock_file(path: &Path, file: File, wait: bool) -> Result<Self, Error> {
        let op = if wait {
            FlockOperation::LockExclusive
        } else {
            FlockOperation::NonBlockingLockExclusive
        };
        if let Err(e) = flock(&file, op) {
            if e == rustix::io::Errno::WOULDBLOCK {
                return Err(Error::Locked {
                    path: path.to_path_buf(),
                    pid: holder_pid(&file).unwrap_or_else(|| "unknown".into()),
                });
            }
            return Err(StoreError::Io {
                action: "cannot lock",
                path: path.to_path_buf(),
                source: e.into(),
            }
            .into());
        }
        Ok(Self { _file: Some(file) })
    }
}

/// Opens (creating if needed) without writing; read-only when the directory or file is.
fn open(path: &Path) -> std::io::Result<File> {
    let nofollow = rustix::fs::OFlags::NOFOLLOW.bits() as i32;
    let created = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .custom_flags(nofollow)
        .open(path);
    match created {
        Err(e) if read_only(&e) => OpenOptions::new()
            .read(true)
            .custom_flags(nofollow)
            .open(path)
            .map_err(|e2| {
                if e2.kind() == ErrorKind::NotFound {
                    e
                } else {
                    e2
                }
            }),
        other => other,
    }
}

fn read_only(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(rustix::io::Errno::ROFS.raw_os_error())
        || e.kind() == ErrorKind::PermissionDenied
}

/// The pid holding a flock on `file`, from `/proc/locks`
/// (`1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF`; blocked waiters carry `->`).
fn holder_pid(file: &File) -> Option<String> {
    let meta = file.metadata().ok()?;
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    holder_in(&locks, meta.dev(), meta.ino())
}

/// Matches device and inode; on overlayfs `stat` may report the lower device, so an inode
/// alone is the fallback.
fn holder_in(locks: &str, dev: u64, ino: u64) -> Option<String> {
    let (major, minor) = (rustix::fs::major(dev), rustix::fs::minor(dev));
    let id = format!("{major:02x}:{minor:02x}:{ino}");
    let suffix = format!(":{ino}");
    let holders: Vec<(&str, &str)> = locks
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [_, "FLOCK", _, _, pid, file, ..] if file.ends_with(&suffix) => Some((*pid, *file)),
                _ => None,
            }
        })
        .collect();
    holders
        .iter()
        .find(|(_, file)| *file == id)
        .or(holders.first())
        .map(|(pid, _)| pid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_pid() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("lock");
        let first = StoreLock::acquire(&p).unwrap();
        match StoreLock::acquire(&p) {
            Err(Error::Locked { pid, .. }) => assert_eq!(pid, std::process::id().to_string()),
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(first);
        assert!(StoreLock::acquire(&p).is_ok());
        // Taking the lock writes nothing into the file.
        assert_eq!(std::fs::read(&p).unwrap(), b"");
    }

    #[test]
    fn holder_is_read_from_proc_locks_lines() {
        let locks = "1: POSIX  ADVISORY  WRITE 7 08:01:99 0 EOF\n\
                     2: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF\n\
                     2: -> FLOCK  ADVISORY  WRITE 4243 08:01:1234 0 EOF\n";
        let dev = rustix::fs::makedev(8, 1);
        assert_eq!(holder_in(locks, dev, 1234).as_deref(), Some("4242"));
        assert_eq!(holder_in(locks, dev, 99), None);
    }
}
