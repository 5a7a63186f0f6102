//! Crash-safe file primitives shared by `store` and `nginx` (both must never leave a
//! half-written file): write to a temp name in the same directory, fsync, rename, fsync dir.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Prefix of every temp file we create, so a later run can find and remove leftovers.
pub const TEMP_PREFIX: &str = ".certwright-tmp-";

/// A temp path beside `path`, unique per process and call.
pub fn temp_path_for(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new("."));
    dir.join(format!("{TEMP_PREFIX}{}-{n}-{name}", std::process::id()))
}

/// Atomically replace `path` with `contents`, with exactly `mode` (the umask does not apply).
///
/// `O_EXCL` on the temp name refuses a pre-planted file or symlink there.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    write_atomic_via(&temp_path_for(path), path, contents, mode)
}

/// `write_atomic` through the caller's temp name `tmp` (in the same directory as `path`):
/// on a directory several hosts share, a pid and a counter do not make a name unique.
pub fn write_atomic_via(tmp: &Path, path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let result = (|| {
        write_new(tmp, contents, mode)?;
        fs::rename(tmp, path)?;
        sync_parent(path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(tmp);
    }
    result
}

/// Create `path` (refusing any file or symlink already there) with exactly `mode`, write
/// `contents` and fsync it. Not atomic by itself: callers rename or link it into place.
pub fn write_new(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)?;
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Point the symlink `link` at `target` atomically: a new link under a temp name is renamed
/// over the old one, so a reader sees either the old target or the new, never neither.
pub fn swap_symlink(target: &Path, link: &Path) -> io::Result<()> {
    let tmp = temp_path_for(link);
    std::os::unix::fs::symlink(target, &tmp)?;
    crate::crash::crash_point("after-temp-symlink");
    if let Err(e) = fs::rename(&tmp, link) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_parent(link)
}

/// fsync the directory holding `path` so a rename survives a power loss.
pub fn sync_parent(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Create `dir` (and parents) and force its mode, whatever the umask.
pub fn create_dir_with_mode(dir: &Path, mode: u32) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(mode))
}

/// The log file, appended to, created 0600 in `dir` (created 0700).
pub fn open_log_file(dir: &Path, path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    create_dir_with_mode(dir, 0o700)?;
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_sets_mode_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key.pem");
        write_atomic(&p, b"one", 0o600).unwrap();
        write_atomic(&p, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[test]
    fn swap_symlink_replaces_target() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("live");
        swap_symlink(Path::new("v1"), &link).unwrap();
        swap_symlink(Path::new("v2"), &link).unwrap();
        assert_eq!(fs::read_link(&link).unwrap(), Path::new("v2"));
    }
}
